//! Bearer-token authentication and the scope check.
//!
//! Every `/v3` handler takes a [`Caller`], so this is the one place where a
//! request is tied to an account and checked against what its token may do:
//! an unknown, revoked or expired token is a 401 (10003); a token whose scope
//! does not grant the request's method on its resource (the first path segment
//! after `/v3/`, see [`sealscribe_domain::scope`]) is a 403 — 10012 on
//! `/v3/profile/keys` (v3: "needs a user token"), 10006 elsewhere. The check
//! reads the path and method, not the handler, so a route added later is
//! covered without being listed; a path outside the known resources needs the
//! `user` scope.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use chrono::Utc;
use sealscribe_domain::scope::{Action, Resource, Scope};
use sealscribe_domain::token::{TokenHash, looks_like_token};
use sealscribe_domain::{AccountId, KeyId, codes};

use crate::{ApiError, AppState};

/// The authenticated caller. Taking a `Caller` is how a handler requires a
/// valid token; its `account` scopes every lookup the handler makes.
#[derive(Clone, Copy, Debug)]
pub struct Caller {
    pub account: AccountId,
    /// The token (API key) the request came with.
    pub key: KeyId,
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
        let record = if looks_like_token(token) {
            state.db().authenticate(&TokenHash::of(token)).await?
        } else {
            None
        };
        let Some(record) = record else {
            return Err(unauthorized(
                codes::INVALID_AUTHORIZATION,
                "The bearer token is invalid or has been revoked.",
            ));
        };
        if record.is_expired(Utc::now()) {
            return Err(unauthorized(
                codes::INVALID_AUTHORIZATION,
                "The bearer token has expired; create a new key with POST /v3/profile/keys.",
            ));
        }
        check_scope(&record.scope, parts.method.as_str(), parts.uri.path())?;
        Ok(Caller {
            account: record.account_id,
            key: record.id,
        })
    }
}

/// Whether `scope` lets `method` on `path` through; the 403 when it does not.
fn check_scope(scope: &Scope, method: &str, path: &str) -> Result<(), ApiError> {
    let resource = Resource::of_path(path);
    let action = Action::of_method(method);
    let allowed = match (resource, action) {
        _ if *scope == Scope::User => true,
        (Some(resource), Some(action)) => scope.allows(resource, action),
        _ => false,
    };
    if allowed {
        return Ok(());
    }
    let needed = match (resource, action) {
        (Some(r), Some(a)) => format!("`{}:{}`", r.name(), a.name()),
        _ => "`user`".to_owned(),
    };
    let (code, advice) = if resource == Some(Resource::Profile) {
        (
            codes::KEYS_NEED_USER_TOKEN,
            "Managing API keys needs a user token (from `sealscribe tokens create`) or a key \
             whose scope includes it",
        )
    } else {
        (
            codes::SCOPE_NOT_ALLOWED,
            "Use a key whose scope includes it",
        )
    };
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        code,
        format!(
            "This key's scope ({scope}) does not allow {method} {path}, which needs {needed}. \
             {advice}."
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(scope: &str, method: &str, path: &str) -> Option<u32> {
        check_scope(&scope.parse().unwrap(), method, path)
            .err()
            .map(|e| e.code())
    }

    #[test]
    fn scopes_are_enforced_by_path_and_method() {
        assert_eq!(code("user", "DELETE", "/v3/profile/keys/x"), None);
        assert_eq!(code("user", "OPTIONS", "/v3/whatever"), None);
        assert_eq!(code("media:get", "GET", "/v3/media/abc/transcript"), None);
        assert_eq!(code("media:get", "HEAD", "/v3/media"), None);
        assert_eq!(code("media:get", "POST", "/v3/media"), Some(10006));
        assert_eq!(
            code("media:get", "PUT", "/v3/media/abc/metadata"),
            Some(10006)
        );
        assert_eq!(
            code("media", "GET", "/v3/security/public-keys"),
            Some(10006)
        );
        assert_eq!(code("media", "GET", "/v3/profile/keys"), Some(10012));
        assert_eq!(code("media profile:get", "GET", "/v3/profile/keys"), None);
        assert_eq!(
            code("media profile:get", "POST", "/v3/profile/keys"),
            Some(10012)
        );
        // Unknown resources and methods need `user`.
        assert_eq!(code("media", "GET", "/v3/other"), Some(10006));
        assert_eq!(code("media", "OPTIONS", "/v3/media"), Some(10006));
    }
}
