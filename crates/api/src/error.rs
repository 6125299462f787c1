//! The one API error type and the v3 error envelope.
//!
//! Every error response, whatever produced it, has the VoiceBase v3 shape:
//! `{"status": 404, "errors": [{"code": 10205, "error": "…"}], "warnings": [], "reference": "<uuid>"}`.
//! The `reference` is the request id (see [`crate::request_id`]): it is logged
//! with the cause and on every log line of the request, so an operator can
//! find what happened from what a customer reports. Internal causes (database errors,
//! panics) are logged only; the client gets a generic sentence and the reference.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sealscribe_domain::codes;
use sealscribe_domain::configuration::InputError;
use sealscribe_store::StoreError;
use serde_json::json;
use uuid::Uuid;

/// An error to render as the v3 envelope.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: u32,
    /// Shown to the client: must say what was wrong in words a person can act on.
    message: String,
    /// Logged with the reference, never shown.
    cause: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            cause: None,
        }
    }

    /// 400 with a v3 code.
    pub fn bad_request(code: u32, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404 / 10205. Used alike for missing resources and other accounts' ones,
    /// so that existence never leaks across tenants.
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, codes::NOT_FOUND, what)
    }

    /// 500 with a generic message; `cause` goes to the log only.
    pub fn internal(cause: impl Into<String>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: codes::INTERNAL,
            message: "Internal error; quote the reference when reporting it.".into(),
            cause: Some(cause.into()),
        }
    }

    /// 503: a dependency is down; `cause` goes to the log only.
    pub fn unavailable(cause: impl Into<String>) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: codes::UNAVAILABLE,
            message: "The service is temporarily unavailable; retry shortly.".into(),
            cause: Some(cause.into()),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> u32 {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(cause) => ApiError::unavailable(cause),
            StoreError::Conflict(msg) => {
                ApiError::new(StatusCode::CONFLICT, codes::INVALID_REQUEST, msg)
            }
            other => ApiError::internal(other.to_string()),
        }
    }
}

/// A stored configuration or transcript this version cannot read: a 500 with
/// the cause logged, never a document rendered from defaults in its place.
impl From<sealscribe_domain::media::Unreadable> for ApiError {
    fn from(e: sealscribe_domain::media::Unreadable) -> Self {
        ApiError::internal(e.to_string())
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::internal(format!("blocking task failed: {e}"))
    }
}

/// A configuration or metadata part that does not validate: 400 with its v3 code, or 413
/// when it is over its size limit.
impl From<InputError> for ApiError {
    fn from(e: InputError) -> Self {
        let status = if e.code == codes::PAYLOAD_TOO_LARGE {
            StatusCode::PAYLOAD_TOO_LARGE
        } else {
            StatusCode::BAD_REQUEST
        };
        ApiError::new(status, e.code, e.message)
    }
}

/// Serializing a record of ours failed: a bug, so a 500. Client input is parsed by
/// `sealscribe_domain::configuration`, whose [`InputError`] says what is wrong with it;
/// never `?` a `serde_json` error from parsing what a client sent.
impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        ApiError::internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // The request's id, so the reference finds every log line of the
        // request; a fresh one for an error rendered outside a request.
        let reference = crate::request_id::current().unwrap_or_else(Uuid::new_v4);
        if self.status.is_server_error() {
            tracing::error!(
                %reference,
                status = self.status.as_u16(),
                code = self.code,
                cause = self.cause.as_deref().unwrap_or(""),
                "request failed"
            );
        } else {
            tracing::info!(
                %reference,
                status = self.status.as_u16(),
                code = self.code,
                error = %self.message,
                "request rejected"
            );
        }
        let body = json!({
            "status": self.status.as_u16(),
            "errors": [{"code": self.code, "error": self.message}],
            "warnings": [],
            "reference": reference,
        });
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_errors_keep_their_code_and_are_413_only_when_too_large() {
        let too_large = ApiError::from(InputError {
            code: codes::PAYLOAD_TOO_LARGE,
            message: "The configuration part is larger than 64 KiB.".into(),
        });
        assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(too_large.code(), codes::PAYLOAD_TOO_LARGE);
        assert_eq!(
            too_large.message(),
            "The configuration part is larger than 64 KiB."
        );

        let invalid = ApiError::from(InputError {
            code: codes::INVALID_REQUEST,
            message: "bad".into(),
        });
        assert_eq!(invalid.status(), StatusCode::BAD_REQUEST);
        assert_eq!(invalid.code(), codes::INVALID_REQUEST);
    }

    #[test]
    fn serialization_errors_are_internal_and_their_text_is_not_shown() {
        let cause = serde_json::from_str::<u8>("\"secret\"").unwrap_err();
        let e = ApiError::from(cause);
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(e.code(), codes::INTERNAL);
        assert!(!e.message().contains("secret"), "{}", e.message());
        assert!(e.cause.as_deref().is_some_and(|c| c.contains("secret")));
    }
}
