//! `/v3/security/callback-secret`: the secret an account's callbacks are
//! signed with (`X-Sealscribe-Signature`, HMAC-SHA256; docs/callbacks.md).
//!
//! VoiceBase signed nothing; receivers of webhooks today expect to verify
//! them. The secret is per account, created on first use, and can be
//! rotated; it is shown only to the account's own tokens.

use axum::extract::State;
use axum::{Json, Router};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::schemas::{CallbackSecret, SelfLinks};
use crate::{AppState, Result};

const PATH: &str = "/v3/security/callback-secret";

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(show, rotate))
}

pub fn router() -> Router<AppState> {
    routes().into()
}

fn body(secret: String) -> Json<CallbackSecret> {
    Json(CallbackSecret {
        links: SelfLinks::to(PATH),
        secret,
        algorithm: "HMAC-SHA256".into(),
        header: "X-Sealscribe-Signature".into(),
        signed_payload: "v2:<t>.<mediaId>.<callbackType>.<body>".into(),
    })
}

/// `GET`: the current secret (created on first use).
#[utoipa::path(
    get,
    path = "/v3/security/callback-secret",
    tag = "callbacks",
    operation_id = "getCallbackSecret",
    responses((status = 200, description = "The current secret (created on first use).", body = CallbackSecret)),
)]
async fn show(caller: Caller, State(state): State<AppState>) -> Result<Json<CallbackSecret>> {
    Ok(body(
        state.db().callback_secret(caller.account, false).await?,
    ))
}

/// `POST`: replaces the secret; callbacks sent from now on use the new one.
#[utoipa::path(
    post,
    path = "/v3/security/callback-secret",
    tag = "callbacks",
    operation_id = "rotateCallbackSecret",
    responses((status = 200, description = "The new secret; callbacks sent from now on use it.", body = CallbackSecret)),
)]
async fn rotate(caller: Caller, State(state): State<AppState>) -> Result<Json<CallbackSecret>> {
    let secret = state.db().callback_secret(caller.account, true).await?;
    tracing::info!(account = %caller.account, "callback secret rotated");
    Ok(body(secret))
}
