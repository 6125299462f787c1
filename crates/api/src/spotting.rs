//! `/v3/definition/spotting/groups`: the account's keyword spotting groups (analytics reference
//! §2.1), and their resolution when a media configuration names them (§2.2).
//!
//! A group is stored by name in the account's saved definitions (one store for every kind of
//! definition), so another account's groups are invisible: the same 404 as a name never used.
//! The body is validated by [`sealscribe_domain::spotting::parse_group`] (80100–80103) before
//! anything is stored, and stored as validated.
//!
//! At upload (and reprocessing), `resolve` replaces each name of `spotting.groups[]` with
//! the group's keywords as they are now (unknown → 40005, no keywords → 40006): the stored
//! configuration carries them, so the worker needs no lookup and a later change to the group
//! does not change a media already accepted.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use sealscribe_domain::codes;
use sealscribe_domain::configuration::MediaConfig;
use sealscribe_domain::definitions::DefinitionKind;
use sealscribe_domain::spotting::{KeywordGroup, MAX_GROUP_BODY_BYTES, parse_group, stored_group};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::extract::Path;
use crate::schemas::{ErrorEnvelope, KeywordGroupList};
use crate::{ApiError, AppState, Result};

const KIND: DefinitionKind = DefinitionKind::SpottingGroup;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get, put, remove))
}

pub fn router() -> axum::Router<AppState> {
    routes().into()
}

/// `name` for a message: at most 64 characters, quoted and escaped (a path or configuration
/// can carry a long or hostile name).
fn quoted(name: &str) -> String {
    let short: String = name.chars().take(64).collect();
    if short.len() < name.len() {
        format!("{short:?}…")
    } else {
        format!("{short:?}")
    }
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!(
        "No keyword group named {} exists in this account; create it with PUT \
         /v3/definition/spotting/groups/{{groupName}}.",
        quoted(name)
    ))
}

/// A stored body that is not a group: `put` never stores one, so the store is damaged.
fn damaged(name: &str) -> ApiError {
    ApiError::internal(format!("stored keyword group {name:?} is not a group"))
}

/// `GET /v3/definition/spotting/groups`: every group of the account, by name.
#[utoipa::path(
    get,
    path = "/v3/definition/spotting/groups",
    tag = "definitions",
    operation_id = "listKeywordGroups",
    responses((status = 200, description = "The account's keyword groups, by name.", body = KeywordGroupList)),
)]
async fn list(caller: Caller, State(state): State<AppState>) -> Result<Json<KeywordGroupList>> {
    let stored = state.db().list_definitions(caller.account, KIND).await?;
    let groups = stored
        .iter()
        .map(|(name, body)| stored_group(body).ok_or_else(|| damaged(name)))
        .collect::<Result<Vec<_>>>()?;
    Ok(Json(KeywordGroupList { groups }))
}

/// `GET /v3/definition/spotting/groups/{groupId}`.
#[utoipa::path(
    get,
    path = "/v3/definition/spotting/groups/{groupId}",
    tag = "definitions",
    operation_id = "getKeywordGroup",
    params(("groupId" = String, Path, description = "The group's name.")),
    responses(
        (status = 200, description = "The group.", body = KeywordGroup),
        (status = 404, description = "No group of that name in this account (10205).", body = ErrorEnvelope),
    ),
)]
async fn get(
    caller: Caller,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<KeywordGroup>> {
    let body = state
        .db()
        .get_definition(caller.account, KIND, &name)
        .await?;
    let body = body.ok_or_else(|| not_found(&name))?;
    Ok(Json(stored_group(&body).ok_or_else(|| damaged(&name))?))
}

/// `PUT /v3/definition/spotting/groups/{groupId}`: creates or replaces the group.
#[utoipa::path(
    put,
    path = "/v3/definition/spotting/groups/{groupId}",
    tag = "definitions",
    operation_id = "putKeywordGroup",
    params(("groupId" = String, Path, description = "The group's name (1–128 characters), equal to the body's `groupName`.")),
    request_body(
        description = "`VbKeywordGroup`: `groupName` (the path's name) and 1–500 `keywords`, each a word or \
            phrase of at most 100 characters; `*` stands for any one word.",
        content((KeywordGroup = "application/json")),
    ),
    responses(
        (status = 200, description = "The group as stored (created or replaced).", body = KeywordGroup),
        (status = 400, description = "The body is missing, empty, not JSON or not a group (80100); no keywords \
            (80101); `groupName` differs from the path or is not a usable name (80102); a keyword with no word, \
            over 100 characters, matching the same words as another, or more than 500 keywords (80103).", body = ErrorEnvelope),
        (status = 413, description = "The body is over 256 KiB (10800).", body = ErrorEnvelope),
    ),
)]
async fn put(
    caller: Caller,
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Body,
) -> Result<Json<KeywordGroup>> {
    let bytes = axum::body::to_bytes(body, MAX_GROUP_BODY_BYTES)
        .await
        .map_err(|e| {
            if let Some(limit) = crate::limits::BodyError::find(&e) {
                return limit.to_api_error();
            }
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                codes::PAYLOAD_TOO_LARGE,
                "The keyword group is larger than 256 KiB: split it into several groups.",
            )
        })?;
    let group = parse_group(&name, &bytes)?;
    let value = serde_json::to_value(&group)?;
    let created = state
        .db()
        .put_definition(caller.account, KIND, &name, &value)
        .await?;
    tracing::info!(
        keywords = group.keywords.len(),
        created,
        "keyword group stored"
    );
    Ok(Json(group))
}

/// `DELETE /v3/definition/spotting/groups/{groupId}`: media already accepted keep the
/// keywords they were accepted with.
#[utoipa::path(
    delete,
    path = "/v3/definition/spotting/groups/{groupId}",
    tag = "definitions",
    operation_id = "deleteKeywordGroup",
    params(("groupId" = String, Path, description = "The group's name.")),
    responses(
        (status = 204, description = "Deleted; media already accepted keep the keywords they were accepted with."),
        (status = 404, description = "No group of that name in this account (10205).", body = ErrorEnvelope),
    ),
)]
async fn remove(
    caller: Caller,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode> {
    if state
        .db()
        .delete_definition(caller.account, KIND, &name)
        .await?
    {
        tracing::info!("keyword group deleted");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&name))
    }
}

/// Copies the keywords of every group `config.spotting` names from the caller's saved groups:
/// an unknown name is **40005**, a group without keywords **40006**.
pub(crate) async fn resolve(
    state: &AppState,
    caller: &Caller,
    config: &mut MediaConfig,
) -> Result<()> {
    for (i, g) in config.spotting.iter_mut().enumerate() {
        let body = state
            .db()
            .get_definition(caller.account, KIND, &g.group_name)
            .await?;
        let Some(body) = body else {
            return Err(ApiError::bad_request(
                codes::SPOTTING_GROUP_NOT_DEFINED,
                format!(
                    "`spotting.groups[{i}]` names the keyword group {}, which this account has \
                     not defined: create it first with PUT /v3/definition/spotting/groups/{{name}} \
                     (GET /v3/definition/spotting/groups lists yours).",
                    quoted(&g.group_name)
                ),
            ));
        };
        let stored = stored_group(&body).ok_or_else(|| damaged(&g.group_name))?;
        if stored.keywords.is_empty() {
            return Err(ApiError::bad_request(
                codes::SPOTTING_GROUP_EMPTY,
                format!(
                    "The keyword group {} has no keywords: add some with PUT \
                     /v3/definition/spotting/groups/{{name}}, or remove it from \
                     `spotting.groups`.",
                    quoted(&g.group_name)
                ),
            ));
        }
        g.keywords = stored.keywords;
    }
    Ok(())
}
