//! `/v3/definition/vocabularies`: an account's saved custom vocabularies, by name
//! (analytics reference §3.1), and their resolution when a media configuration names them.
//!
//! Bodies are validated by [`sealscribe_domain::vocabulary`] (codes 80200–80209) and kept in
//! the account's definitions store as validated; the answer is the stored vocabulary with
//! `_links.self.href`. Another account's names do not exist here (404, as for an unknown
//! name). A media configuration's `vocabularyName`s are looked up at upload and reprocessing
//! (`resolve`) and their content copied into the stored configuration.

use std::collections::HashMap;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use sealscribe_domain::codes;
use sealscribe_domain::configuration::MediaConfig;
use sealscribe_domain::definitions::DefinitionKind;
use sealscribe_domain::ids::AccountId;
use sealscribe_domain::vocabulary::{self, Vocabulary};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::extract::Path;
use crate::schemas::{ErrorEnvelope, SelfLinks};
use crate::{ApiError, AppState, Result};

/// Largest accepted vocabulary body: 1000 terms with a few `soundsLike` each take a few
/// hundred KiB.
pub const MAX_VOCABULARY_BYTES: usize = 1024 * 1024;

const COLLECTION: &str = "/v3/definition/vocabularies";

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get, put, remove))
}

pub fn router() -> axum::Router<AppState> {
    routes().into()
}

/// `VbVocabulary` as answered: the stored vocabulary with its link.
#[derive(Serialize, ToSchema)]
pub struct VocabularyDocument {
    #[serde(rename = "_links")]
    pub links: SelfLinks,
    #[serde(flatten)]
    pub vocabulary: Vocabulary,
}

/// The account's vocabularies.
#[derive(Serialize, ToSchema)]
pub struct VocabularyList {
    #[serde(rename = "_links")]
    pub links: SelfLinks,
    pub vocabularies: Vec<VocabularyDocument>,
}

fn document(v: Vocabulary) -> VocabularyDocument {
    VocabularyDocument {
        links: SelfLinks::to(format!("{COLLECTION}/{}", utf8_percent(&v.vocabulary_name))),
        vocabulary: v,
    }
}

/// Percent-encodes what a path segment cannot hold as is.
fn utf8_percent(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!(
        "No vocabulary named {:?} exists in this account (GET {COLLECTION} lists yours).",
        sealscribe_domain::input::excerpt(name, 60)
    ))
}

/// A stored body that no longer reads as a vocabulary is the server's fault, not the
/// client's.
fn stored(value: serde_json::Value) -> Result<Vocabulary> {
    serde_json::from_value(value)
        .map_err(|e| ApiError::internal(format!("stored vocabulary unreadable: {e}")))
}

/// `GET /v3/definition/vocabularies`: every saved vocabulary of the account, by name.
#[utoipa::path(
    get,
    path = "/v3/definition/vocabularies",
    tag = "definitions",
    operation_id = "listVocabularies",
    responses((status = 200, description = "The account's vocabularies, by name.", body = VocabularyList)),
)]
async fn list(caller: Caller, State(state): State<AppState>) -> Result<Json<VocabularyList>> {
    let rows = state
        .db()
        .list_definitions(caller.account, DefinitionKind::Vocabulary)
        .await?;
    let vocabularies = rows
        .into_iter()
        .map(|(_, body)| stored(body).map(document))
        .collect::<Result<Vec<_>>>()?;
    Ok(Json(VocabularyList {
        links: SelfLinks::to(COLLECTION),
        vocabularies,
    }))
}

/// `GET /v3/definition/vocabularies/{vocabularyId}`.
#[utoipa::path(
    get,
    path = "/v3/definition/vocabularies/{vocabularyId}",
    tag = "definitions",
    operation_id = "getVocabulary",
    params(("vocabularyId" = String, Path, description = "The vocabulary's name.")),
    responses(
        (status = 200, description = "The vocabulary as saved.", body = VocabularyDocument),
        (status = 404, description = "No vocabulary of that name in this account (10205).", body = ErrorEnvelope),
    ),
)]
async fn get(
    caller: Caller,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<VocabularyDocument>> {
    let body = state
        .db()
        .get_definition(caller.account, DefinitionKind::Vocabulary, &name)
        .await?
        .ok_or_else(|| not_found(&name))?;
    Ok(Json(document(stored(body)?)))
}

/// `PUT /v3/definition/vocabularies/{vocabularyId}`: creates or replaces the vocabulary.
/// Media already accepted keep the copy they were accepted with.
#[utoipa::path(
    put,
    path = "/v3/definition/vocabularies/{vocabularyId}",
    tag = "definitions",
    operation_id = "putVocabulary",
    params(("vocabularyId" = String, Path, description = "The vocabulary's name (1–128 characters, no `/`).")),
    request_body(content = Vocabulary, content_type = "application/json",
        description = "`VbVocabulary`: `terms` (at most 1000; each at most 64 characters, at most 100 \
            `soundsLike`, `weight` 0–5) or `scripts` with `vocabularyType: \"scripts\"`. At most 1 MiB."),
    responses(
        (status = 200, description = "Saved; the vocabulary as stored, with its link.", body = VocabularyDocument),
        (status = 400, description = "Not a vocabulary: body missing, not JSON or of the wrong shape (80200), \
            vocabularyName differs from the path or is unusable (80202), an invalid term (80203), terms and \
            scripts together (80204), scripts without vocabularyType scripts (80205), neither (80206), an \
            invalid script (80207), over 1000 terms (80208), a duplicate term (80209), too many scripts \
            (20101) or script words (20013).", body = ErrorEnvelope),
        (status = 413, description = "The body is over 1 MiB (10800).", body = ErrorEnvelope),
    ),
)]
async fn put(
    caller: Caller,
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Body,
) -> Result<Json<VocabularyDocument>> {
    let bytes = axum::body::to_bytes(body, MAX_VOCABULARY_BYTES)
        .await
        .map_err(|e| {
            if let Some(limit) = crate::limits::BodyError::find(&e) {
                return limit.to_api_error();
            }
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                codes::PAYLOAD_TOO_LARGE,
                "The vocabulary is larger than 1 MiB: split it into several vocabularies.",
            )
        })?;
    let value: serde_json::Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::bad_request(
                codes::VOCABULARY_BODY_INVALID,
                format!(
                    "The body is not JSON ({e}). Send a vocabulary such as {{\"vocabularyName\": \
                     \"{}\", \"terms\": [{{\"term\": \"CapEx\"}}]}} with Content-Type: \
                     application/json.",
                    sealscribe_domain::input::excerpt(&name, 40)
                ),
            )
        })?
    };
    let vocabulary = vocabulary::parse_definition(&name, &value)?;
    let json = serde_json::to_value(&vocabulary)?;
    let created = state
        .db()
        .put_definition(caller.account, DefinitionKind::Vocabulary, &name, &json)
        .await?;
    tracing::info!(created, "vocabulary saved");
    Ok(Json(document(vocabulary)))
}

/// `DELETE /v3/definition/vocabularies/{vocabularyId}`: media already accepted keep their copy.
#[utoipa::path(
    delete,
    path = "/v3/definition/vocabularies/{vocabularyId}",
    tag = "definitions",
    operation_id = "deleteVocabulary",
    params(("vocabularyId" = String, Path, description = "The vocabulary's name.")),
    responses(
        (status = 204, description = "Deleted; media accepted with it keep the copy they were accepted with."),
        (status = 404, description = "No vocabulary of that name in this account (10205).", body = ErrorEnvelope),
    ),
)]
async fn remove(
    caller: Caller,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode> {
    if state
        .db()
        .delete_definition(caller.account, DefinitionKind::Vocabulary, &name)
        .await?
    {
        tracing::info!("vocabulary deleted");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&name))
    }
}

/// Fills in the saved vocabularies `config` names from `account`'s store and checks the
/// media's totals (20008, 20009, 20010, 20013, 20017, 20101).
///
/// # Errors
/// The v3 400 for a missing or empty vocabulary or a total over its limit; store errors.
pub(crate) async fn resolve(
    state: &AppState,
    account: AccountId,
    config: &mut MediaConfig,
) -> Result<()> {
    if config.vocabularies.is_empty() {
        return Ok(());
    }
    let mut saved = HashMap::new();
    for name in vocabulary::saved_names(&config.vocabularies) {
        if let Some(body) = state
            .db()
            .get_definition(account, DefinitionKind::Vocabulary, name)
            .await?
        {
            saved.insert(name.to_owned(), stored(body)?);
        }
    }
    vocabulary::resolve(&mut config.vocabularies, &saved)?;
    Ok(())
}
