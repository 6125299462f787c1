//! `/v3/profile/keys`: the account's API keys (bearer tokens) over the API.
//!
//! A key is a token of the same kind the operator CLI makes (only its hash is
//! stored, see [`sealscribe_domain::token`]), with an id, a scope and an
//! optional expiry. The token itself is in the `POST` answer only; listings
//! and `GET` show `lastSix`. `DELETE` revokes at once: the next request with
//! that key is a 401. Revoked keys are gone from the listing (404 / 70007
//! afterwards); expired keys stay listed with `expired: true` until deleted.
//!
//! Who may manage keys is the scope's business (checked in [`crate::auth`]
//! before a handler runs): `user` tokens may, a key needs `profile:…` grants.
//! A key can only create, or delete, keys whose scope is within its own (403 /
//! 10013), so no key can mint a wider one or lock out the keys above it. docs/api-keys.md has the grammar and the rules.

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use sealscribe_domain::configuration::parse_key_configuration;
use sealscribe_domain::scope::Scope;
use sealscribe_domain::{KeyId, Token, TokenRecord, codes};
use sealscribe_store::RevokeOutcome;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Caller;
use crate::extract::Path;
use crate::schemas::ErrorEnvelope;
use crate::{ApiError, AppState, Result};

/// Largest accepted key configuration; a real one is under 200 bytes.
pub const MAX_KEY_CONFIGURATION_BYTES: usize = 16 * 1024;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, remove))
}

pub fn router() -> Router<AppState> {
    routes().into()
}

/// v3 `VbKey`: one API key.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VbKey {
    /// The key's id (`keyId` in the paths).
    pub id: Uuid,
    /// The token to send as `Authorization: Bearer …`: only in the answer to the
    /// `POST` that created the key, never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<String>,
    /// The token's last six characters, to tell keys apart. Absent for an
    /// account's first operator token and tokens older than this API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_six: Option<String>,
    /// When the key was created.
    pub issued: DateTime<Utc>,
    /// When the key stops working; absent: never.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_date: Option<DateTime<Utc>>,
    /// Whether `expirationDate` has passed (the key is refused with 401).
    pub expired: bool,
    /// What the key may do, in canonical form (see docs/api-keys.md), e.g.
    /// `user`, `media`, `media:get profile:get`.
    #[schema(example = "media:get media:post")]
    pub scope: String,
}

impl VbKey {
    fn of(record: &TokenRecord, now: DateTime<Utc>) -> Self {
        VbKey {
            id: record.id.0,
            bearer_token: None,
            last_six: record.last_six.clone(),
            issued: record.created_at,
            expiration_date: record.expires_at,
            expired: record.is_expired(now),
            scope: record.scope.to_string(),
        }
    }
}

/// v3 `VbKeysResponse`: the account's keys, oldest first.
#[derive(Serialize, ToSchema)]
pub struct VbKeysResponse {
    pub keys: Vec<VbKey>,
}

/// v3 `VbKeyConfiguration` (a description: the body is parsed strictly by
/// `sealscribe_domain::configuration::parse_key_configuration`).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct VbKeyConfiguration {
    /// Lifetime in milliseconds from now (> 0; at most `--max-ephemeral-key-secs`
    /// for an ephemeral key). Not with `expirationDate`.
    #[schema(minimum = 1)]
    ttl_millis: Option<i64>,
    /// When the key stops working (RFC 3339, in the future). Not with `ttlMillis`.
    expiration_date: Option<DateTime<Utc>>,
    /// An ephemeral key must have `ttlMillis` or `expirationDate`, at most
    /// `--max-ephemeral-key-secs` (2 h by default) ahead.
    ephemeral: Option<bool>,
    /// What the key may do (docs/api-keys.md); default `media`.
    #[schema(example = "media:get")]
    scope: Option<String>,
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        codes::KEY_NOT_FOUND,
        format!(
            "No API key with id {:?} exists in this account (or it was deleted).",
            id.chars().take(40).collect::<String>()
        ),
    )
}

/// The scope of the key the request came with (read again: [`Caller`] keeps
/// only ids). Revoked since the request was authenticated: 401.
async fn own_scope(state: &AppState, caller: &Caller) -> Result<Scope> {
    state
        .db()
        .get_token(caller.account, caller.key)
        .await?
        .filter(|t| t.revoked_at.is_none())
        .map(|t| t.scope)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                codes::INVALID_AUTHORIZATION,
                "The bearer token is invalid or has been revoked.",
            )
        })
}

fn parse_id(id: &str) -> Result<KeyId> {
    id.parse().map_err(|_| not_found(id))
}

/// `GET /v3/profile/keys`: the account's keys, without their tokens.
#[utoipa::path(
    get,
    path = "/v3/profile/keys",
    tag = "api keys",
    operation_id = "getKeys",
    responses(
        (status = 200, description = "The account's keys, oldest first, without their tokens; deleted keys are not listed, expired ones are (`expired: true`).", body = VbKeysResponse),
        (status = 403, description = "The key's scope does not include `profile:get` (10012).", body = ErrorEnvelope),
    ),
)]
async fn list(caller: Caller, State(state): State<AppState>) -> Result<Json<VbKeysResponse>> {
    let now = Utc::now();
    let keys = state
        .db()
        .list_tokens(caller.account)
        .await?
        .iter()
        .filter(|t| t.revoked_at.is_none())
        .map(|t| VbKey::of(t, now))
        .collect();
    Ok(Json(VbKeysResponse { keys }))
}

/// `POST /v3/profile/keys`: a new key; its token is in this answer only.
#[utoipa::path(
    post,
    path = "/v3/profile/keys",
    tag = "api keys",
    operation_id = "createKey",
    request_body(content = VbKeyConfiguration, content_type = "application/json",
        description = "The key's expiry and scope; `{}` for a non-expiring key with the default scope (`media`)."),
    responses(
        (status = 200, description = "The new key, with its `bearerToken` (shown only here).", body = VbKey),
        (status = 400, description = "Empty body (70000); not JSON (10007), a property twice (10010), unknown property or wrong type (10008); \
            `expirationDate` with `ttlMillis` (70001); `expirationDate` not in the future (70002) or, for an ephemeral key, too far ahead (70003); \
            `ttlMillis` not positive (70004) or, for an ephemeral key, too long (70005); ephemeral without an expiry (70006); invalid scope (70008).", body = ErrorEnvelope),
        (status = 403, description = "The key's scope does not include `profile:post` (10012), or the scope asked for is wider than the creating key's own (10013).", body = ErrorEnvelope),
        (status = 413, description = "The body is over 16 KiB (10800).", body = ErrorEnvelope),
    ),
)]
async fn create(caller: Caller, State(state): State<AppState>, body: Body) -> Result<Json<VbKey>> {
    let bytes = axum::body::to_bytes(body, MAX_KEY_CONFIGURATION_BYTES)
        .await
        .map_err(|e| {
            if let Some(limit) = crate::limits::BodyError::find(&e) {
                return limit.to_api_error();
            }
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                codes::PAYLOAD_TOO_LARGE,
                "The key configuration is larger than 16 KiB; it needs a few dozen bytes.",
            )
        })?;
    let now = Utc::now().trunc_subsecs(3);
    let max_ephemeral =
        TimeDelta::from_std(state.limits().max_ephemeral_key_ttl).unwrap_or(TimeDelta::MAX);
    let request = parse_key_configuration(&bytes, now, max_ephemeral)?;
    let scope = request.scope.unwrap_or_else(Scope::default_for_keys);

    let own = own_scope(&state, &caller).await?;
    if !own.contains(&scope) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            codes::KEY_SCOPE_EXCEEDS_CALLER,
            format!(
                "A key can only create keys within its own scope ({own}); `{scope}` asks for more. \
                 Ask for less, or create the key with a user token."
            ),
        ));
    }

    let token = Token::generate();
    let record = TokenRecord {
        id: KeyId::new(),
        prefix: token.prefix().to_owned(),
        last_six: Some(token.last_six().to_owned()),
        account_id: caller.account,
        scope,
        created_at: now,
        expires_at: request.expires_at,
        revoked_at: None,
    };
    state.db().insert_token(&record, &token.hash()).await?;
    tracing::info!(key_id = %record.id, token_prefix = token.prefix(), scope = %record.scope,
        expires_at = ?record.expires_at, "api key created");
    Ok(Json(VbKey {
        bearer_token: Some(token.expose().to_owned()),
        ..VbKey::of(&record, now)
    }))
}

/// `GET /v3/profile/keys/{keyId}`: one key, without its token.
#[utoipa::path(
    get,
    path = "/v3/profile/keys/{keyId}",
    tag = "api keys",
    operation_id = "getKey",
    params(("keyId" = String, Path, description = "The key's `id`.")),
    responses(
        (status = 200, description = "The key, without its token.", body = VbKey),
        (status = 403, description = "The key's scope does not include `profile:get` (10012).", body = ErrorEnvelope),
        (status = 404, description = "No such key in this account, or it was deleted (70007).", body = ErrorEnvelope),
    ),
)]
async fn show(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<VbKey>> {
    let key = parse_id(&id)?;
    let record = state
        .db()
        .get_token(caller.account, key)
        .await?
        .filter(|t| t.revoked_at.is_none())
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(VbKey::of(&record, Utc::now())))
}

/// `DELETE /v3/profile/keys/{keyId}`: deletes and revokes the key at once.
#[utoipa::path(
    delete,
    path = "/v3/profile/keys/{keyId}",
    tag = "api keys",
    operation_id = "deleteKey",
    params(("keyId" = String, Path, description = "The key's `id`.")),
    responses(
        (status = 204, description = "Deleted: the next request with this key is refused (401)."),
        (status = 403, description = "The key's scope does not include `profile:delete` (10012), or the key to delete has a wider scope than the deleting key (10013).", body = ErrorEnvelope),
        (status = 404, description = "No such key in this account, or it was already deleted (70007).", body = ErrorEnvelope),
    ),
)]
async fn remove(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let key = parse_id(&id)?;
    let target = state
        .db()
        .get_token(caller.account, key)
        .await?
        .filter(|t| t.revoked_at.is_none())
        .ok_or_else(|| not_found(&id))?;
    let own = own_scope(&state, &caller).await?;
    if !own.contains(&target.scope) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            codes::KEY_SCOPE_EXCEEDS_CALLER,
            format!(
                "A key can only delete keys within its own scope ({own}); this one is `{}`. \
                 Delete it with a user token.",
                target.scope
            ),
        ));
    }
    match state.db().revoke_token_by_id(caller.account, key).await? {
        RevokeOutcome::Revoked => {
            tracing::info!(key_id = %key, "api key revoked");
            Ok(StatusCode::NO_CONTENT)
        }
        RevokeOutcome::AlreadyRevoked | RevokeOutcome::NotFound | RevokeOutcome::Ambiguous => {
            Err(not_found(&id))
        }
    }
}
