//! `GET /health`: unauthenticated readiness for load balancers and operators.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

/// 200 when the database and the blob store answer, else 503 naming which does not.
async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let db = state.db().ping().await;
    let blobs = state.blobs().ping().await;
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let healthy = db.is_ok() && blobs.is_ok();
    let body = json!({
        "status": word(healthy),
        "database": word(db.is_ok()),
        "blobStore": word(blobs.is_ok()),
    });
    if !healthy {
        tracing::warn!(database = ?db.err(), blob_store = ?blobs.err(), "health check failed");
    }
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}
