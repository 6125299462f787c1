//! Extractors whose rejections are v3 errors, not axum's plain-text ones.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// Path parameters, like [`axum::extract::Path`]. A parameter that cannot be
/// read (percent-escapes that are not UTF-8, e.g. `/v3/media/%FF`) names
/// nothing that can exist: the same 404 / 10205 envelope as an unknown id,
/// instead of axum's `text/plain` 400.
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(e) => Err(ApiError::not_found(format!(
                "Nothing exists at this path ({}).",
                e.body_text()
            ))),
        }
    }
}
