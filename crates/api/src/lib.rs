//! sealscribe's HTTP layer: the VoiceBase v3 compatible API.
//!
//! # Layout
//! - [`error`]: the one error type, [`ApiError`], rendered as the v3 error
//!   envelope with a `reference` that is logged with the cause.
//! - [`auth`]: the [`auth::Caller`] extractor; every `/v3` route takes one, so a
//!   handler cannot forget authentication and always knows the tenant.
//! - `state`: [`AppState`] (database, blob store, HTTP client, [`Limits`]), shared by
//!   every handler.
//! - `extract`: a `Path` extractor whose rejections are v3 envelopes too (a path
//!   parameter that is not UTF-8 is the 404 of an unknown id).
//! - [`keys`]: `/v3/security/public-keys` (customers' OpenPGP public keys).
//! - [`categories`]: `/v3/definition/categories` (saved VBQL categories) and their resolution
//!   into a media's configuration.
//! - [`signing`]: `/v3/security/callback-secret`, the secret callbacks are signed with.
//! - [`profile_keys`]: `/v3/profile/keys`, the account's API keys (scoped bearer tokens).
//! - [`media`]: `/v3/media` (upload, documents, transcripts, streams, search).
//! - [`search_definitions`]: `/v3/definition/media/search` (searchable extended-metadata
//!   fields) and `/v3/definition/prediction/*` (the built-in detectors; no classifiers).
//! - [`health`]: `GET /health`, unauthenticated, for load balancers.
//! - [`request_id`]: one id per request, in the logs, the `X-Request-Id`
//!   header and the error envelope's `reference`.
//! - [`metrics`]: Prometheus metrics, on a listener of their own.
//! - [`limits`]: every request body capped in size and idle time ([`limits::GuardedBody`]).
//! - [`server`]: the accept loop (header-read and keep-alive timeouts, the
//!   connection limit with its 503), on top of the router it serves.
//! - [`schemas`]: the request and response bodies as typed shapes, shared by the
//!   handlers (which build them) and the document (which describes them).
//! - [`openapi`]: `GET /v3/openapi.json`, unauthenticated, generated from the code;
//!   it assembles the document from every handler module's routes, so it sits on top.
//!
//! Handlers stay thin: extract, call the storage or OpenPGP layer, render.
//! CPU-bound work (OpenPGP parsing) runs on the blocking pool.

pub mod auth;
pub mod categories;
pub mod error;
mod extract;
pub mod health;
pub mod keys;
pub mod limits;
pub mod media;
pub mod metrics;
pub mod openapi;
pub mod profile_keys;
pub mod request_id;
pub mod schemas;
pub mod search_definitions;
pub mod server;
pub mod signing;
mod state;

pub use error::ApiError;
pub use server::ServerLimits;
pub use state::{AppState, Limits};

use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{Method, Uri};
use axum::response::IntoResponse;
use sealscribe_domain::codes;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

/// Result type of every handler.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

/// The whole application: every route, the fallbacks and the middleware.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(keys::router())
        .merge(categories::router())
        .merge(media::router())
        .merge(search_definitions::router())
        .merge(signing::router())
        .merge(profile_keys::router())
        .merge(health::router())
        .merge(openapi::router())
        .route_layer(axum::middleware::from_fn(metrics::tag_route))
        .fallback(unknown_path)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(
            TraceLayer::new_for_http()
                // Path only: query strings may carry search terms, and headers carry tokens.
                .make_span_with(|req: &Request| {
                    let id = req.extensions().get::<request_id::RequestId>().map(|r| r.0);
                    tracing::info_span!(
                        "request",
                        request_id = id.map(tracing::field::display),
                        method = %req.method(),
                        path = %req.uri().path()
                    )
                })
                .on_request(())
                .on_response(
                    |res: &axum::response::Response, latency: Duration, _span: &tracing::Span| {
                        tracing::info!(
                            status = res.status().as_u16(),
                            latency_ms = latency.as_millis() as u64,
                            "response"
                        );
                    },
                ),
        )
        .layer(CatchPanicLayer::custom(
            |_panic: Box<dyn std::any::Any + Send>| {
                ApiError::internal("handler panicked").into_response()
            },
        ))
        // Outermost, so that everything inside (the span, a panic's error
        // envelope) sees the request id.
        .layer(axum::middleware::from_fn(request_id::assign))
}

async fn unknown_path(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        codes::UNKNOWN_PATH,
        format!("Unknown API path: {method} {}", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        codes::INVALID_REQUEST,
        format!("Method {method} is not allowed on {}", uri.path()),
    )
}

/// Serves the API on `listener` under `limits` until `shutdown` is cancelled,
/// then stops accepting connections and lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    limits: ServerLimits,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    server::serve(listener, router(state), limits, shutdown).await
}
