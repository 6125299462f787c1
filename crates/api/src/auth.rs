//! Bearer-token authentication.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use sealscribe_domain::token::{TokenHash, looks_like_token};
use sealscribe_domain::{AccountId, codes};

use crate::{ApiError, AppState};

/// The authenticated caller. Taking a `Caller` is how a handler requires a
/// valid token; its `account` scopes every lookup the handler makes.
#[derive(Clone, Copy, Debug)]
pub struct Caller {
    pub account: AccountId,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let unauthorized =
            |code, msg: &str| ApiError::new(StatusCode::UNAUTHORIZED, code, msg.to_owned());
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(unauthorized(
                codes::MISSING_AUTHORIZATION,
                "Missing Authorization header: send `Authorization: Bearer <token>`.",
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        let Some(token) = token else {
            return Err(unauthorized(
                codes::INVALID_AUTHORIZATION,
                "The Authorization header must be `Bearer <token>`.",
            ));
        };
        let account = if looks_like_token(token) {
            state.db().authenticate(&TokenHash::of(token)).await?
        } else {
            None
        };
        match account {
            Some(account) => Ok(Caller { account }),
            None => Err(unauthorized(
                codes::INVALID_AUTHORIZATION,
                "The bearer token is invalid or has been revoked.",
            )),
        }
    }
}
