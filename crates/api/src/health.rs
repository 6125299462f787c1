//! `GET /health`: unauthenticated readiness for load balancers and operators.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::schemas::{Availability, Health};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health))
}

pub fn router() -> Router<AppState> {
    routes().into()
}

/// 200 when the database and the blob store answer, else 503 naming which does not.
#[utoipa::path(
    get,
    path = "/health",
    tag = "operations",
    operation_id = "health",
    security(()),
    responses(
        (status = 200, description = "The database and the blob store answer.", body = Health),
        (status = 503, description = "The database or the blob store does not answer (named).", body = Health),
    ),
)]
async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let db = state.db().ping().await;
    let blobs = state.blobs().ping().await;
    let word = |ok: bool| {
        if ok {
            Availability::Ok
        } else {
            Availability::Unavailable
        }
    };
    let healthy = db.is_ok() && blobs.is_ok();
    let body = Health {
        status: word(healthy),
        database: word(db.is_ok()),
        blob_store: word(blobs.is_ok()),
    };
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
