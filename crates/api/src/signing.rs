//! `/v3/security/callback-secret`: the secret an account's callbacks are
//! signed with (`X-Sealscribe-Signature`, HMAC-SHA256; docs/callbacks.md).
//!
//! VoiceBase signed nothing; receivers of webhooks today expect to verify
//! them. The secret is per account, created on first use, and can be
//! rotated; it is shown only to the account's own tokens.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::{AppState, Result};

const PATH: &str = "/v3/security/callback-secret";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(show).post(rotate))
}

fn body(secret: String) -> Json<Value> {
    Json(json!({
        "_links": {"self": {"href": PATH}},
        "secret": secret,
        "algorithm": "HMAC-SHA256",
        "header": "X-Sealscribe-Signature",
        "signedPayload": "<t>.<body>",
    }))
}

/// `GET`: the current secret (created on first use).
async fn show(caller: Caller, State(state): State<AppState>) -> Result<Json<Value>> {
    Ok(body(
        state.db().callback_secret(caller.account, false).await?,
    ))
}

/// `POST`: replaces the secret; callbacks sent from now on use the new one.
async fn rotate(caller: Caller, State(state): State<AppState>) -> Result<Json<Value>> {
    let secret = state.db().callback_secret(caller.account, true).await?;
    tracing::info!(account = %caller.account, "callback secret rotated");
    Ok(body(secret))
}
