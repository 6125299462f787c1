//! One id per request, so that a customer's error report leads to the log.
//!
//! The outermost middleware gives every request a fresh UUID. It is
//! - the `request_id` field of the request's tracing span, so every log line
//!   written while handling the request carries it;
//! - the `X-Request-Id` header of every response;
//! - the `reference` of the v3 error envelope ([`crate::ApiError`] reads it
//!   from a task-local, since errors are rendered far from the middleware).
//!
//! An `X-Request-Id` sent by the client is not adopted: the reference must be
//! unique to find the right log lines, and a client-chosen value is neither.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use uuid::Uuid;

tokio::task_local! {
    static CURRENT: Uuid;
}

/// The id of the request being handled, in its extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestId(pub Uuid);

/// The id of the request this task is handling, if any.
pub fn current() -> Option<Uuid> {
    CURRENT.try_with(|id| *id).ok()
}

/// The middleware: assigns the id and returns it in `X-Request-Id`.
pub async fn assign(mut req: Request, next: Next) -> Response {
    let id = Uuid::new_v4();
    req.extensions_mut().insert(RequestId(id));
    let mut response = CURRENT.scope(id, next.run(req)).await;
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
