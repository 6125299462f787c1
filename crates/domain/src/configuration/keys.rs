//! The body of `POST /v3/profile/keys` (v3 `VbKeyConfiguration`):
//! `{ttlMillis?, expirationDate?, ephemeral?, scope?}`, checked in this order:
//!
//! 1. an empty (or whitespace-only) body → **70000**;
//! 2. not JSON → **10007**; a property twice → **10010**; not an object, an unknown
//!    property or a value of the wrong type (including an `expirationDate` that is not an
//!    RFC 3339 date-time) → **10008**; `null` counts as absent;
//! 3. `expirationDate` together with `ttlMillis` → **70001**;
//! 4. `expirationDate` not after now → **70002**; for an ephemeral key, more than the
//!    ephemeral maximum ahead → **70003**;
//! 5. `ttlMillis` ≤ 0 → **70004**; for an ephemeral key, over the maximum (or, for any key,
//!    beyond the representable dates) → **70005**;
//! 6. `ephemeral: true` with neither → **70006**;
//! 7. a `scope` outside the grammar of [`crate::scope`] → **70008**.
//!
//! Only ephemeral keys are bounded (v3: "ephemeral keys last at most 2 hours"; the bound
//! is the operator's `--max-ephemeral-key-secs`); other keys may be given any future expiry,
//! or none.

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::json::{JsonProblem, is_blank, parse_json};
use crate::codes::{
    CONFIGURATION_NOT_JSON, DUPLICATE_PROPERTY, KEY_BODY_EMPTY, KEY_EPHEMERAL_NEEDS_EXPIRY,
    KEY_EXPIRATION_PAST, KEY_EXPIRATION_TOO_FAR, KEY_EXPIRY_EXCLUSIVE, KEY_SCOPE_INVALID,
    KEY_TTL_NOT_POSITIVE, KEY_TTL_TOO_LONG, UNKNOWN_PROPERTY,
};
use crate::input::{InputError, excerpt};
use crate::scope::Scope;

/// A key request that passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRequest {
    /// `None`: the caller did not ask; the server's default applies.
    pub scope: Option<Scope>,
    /// When the key stops working; `None`: never.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Raw {
    ttl_millis: Option<i64>,
    expiration_date: Option<String>,
    ephemeral: Option<bool>,
    scope: Option<String>,
}

const SHAPE: &str = r#"{"ephemeral": true, "ttlMillis": 3600000, "scope": "media:get"}"#;

/// Parses and checks a `VbKeyConfiguration` at `now` (whole milliseconds are
/// kept); `max_ephemeral` is the longest an ephemeral key may live.
///
/// # Errors
///
/// An [`InputError`] with the v3 code (see the module documentation).
pub fn parse_key_configuration(
    bytes: &[u8],
    now: DateTime<Utc>,
    max_ephemeral: TimeDelta,
) -> Result<KeyRequest, InputError> {
    if is_blank(bytes) {
        return Err(InputError::new(
            KEY_BODY_EMPTY,
            format!(
                "The request body is empty: send a JSON key configuration such as {SHAPE}, or {{}} for a key that does not expire."
            ),
        ));
    }
    let value = parse_json(bytes).map_err(|p| match p {
        JsonProblem::Syntax(msg, line, column) => InputError::new(
            CONFIGURATION_NOT_JSON,
            format!("The key configuration is not valid JSON ({msg} at line {line}, column {column}). Send an object such as {SHAPE}."),
        ),
        JsonProblem::Duplicate(path) => InputError::new(
            DUPLICATE_PROPERTY,
            format!("The key configuration property `{path}` appears more than once. Keep only one."),
        ),
    })?;
    let raw = shape(value)?;
    let now = now.trunc_subsecs(3);
    let ephemeral = raw.ephemeral.unwrap_or(false);
    let limit = |what: &str| {
        format!(
            "An ephemeral key lives at most {} ({} ms); {what}, or leave out `ephemeral` for a longer-lived key.",
            human(max_ephemeral),
            max_ephemeral.num_milliseconds()
        )
    };

    let expires_at = match (raw.expiration_date, raw.ttl_millis) {
        (Some(_), Some(_)) => {
            return Err(InputError::new(
                KEY_EXPIRY_EXCLUSIVE,
                "Give either `expirationDate` or `ttlMillis`, not both.",
            ));
        }
        (Some(date), None) => {
            let at = DateTime::parse_from_rfc3339(&date)
                .map_err(|_| {
                    InputError::new(
                        UNKNOWN_PROPERTY,
                        format!(
                            "`expirationDate` must be an ISO-8601 date-time with a zone, such as \
                             2030-01-01T10:00:00Z, but it is `{}`.",
                            excerpt(&date, 40)
                        ),
                    )
                })?
                .with_timezone(&Utc)
                .trunc_subsecs(3);
            if at <= now {
                return Err(InputError::new(
                    KEY_EXPIRATION_PAST,
                    format!(
                        "`expirationDate` {} is not in the future (the server's time is {}).",
                        at.to_rfc3339(),
                        now.to_rfc3339()
                    ),
                ));
            }
            if ephemeral && at - now > max_ephemeral {
                return Err(InputError::new(
                    KEY_EXPIRATION_TOO_FAR,
                    limit("choose an earlier `expirationDate`"),
                ));
            }
            Some(at)
        }
        (None, Some(ttl)) => {
            if ttl <= 0 {
                return Err(InputError::new(
                    KEY_TTL_NOT_POSITIVE,
                    format!(
                        "`ttlMillis` must be a positive number of milliseconds, but it is {ttl}."
                    ),
                ));
            }
            let delta = TimeDelta::try_milliseconds(ttl);
            if ephemeral && delta.is_none_or(|d| d > max_ephemeral) {
                return Err(InputError::new(
                    KEY_TTL_TOO_LONG,
                    limit("choose a smaller `ttlMillis`"),
                ));
            }
            let at = delta.and_then(|d| now.checked_add_signed(d)).ok_or_else(|| {
                InputError::new(
                    KEY_TTL_TOO_LONG,
                    format!("`ttlMillis` {ttl} reaches past the dates this server can represent; choose a smaller one, or none for a key that does not expire."),
                )
            })?;
            Some(at)
        }
        (None, None) if ephemeral => {
            return Err(InputError::new(
                KEY_EPHEMERAL_NEEDS_EXPIRY,
                format!(
                    "An ephemeral key needs `ttlMillis` or `expirationDate` (at most {} ahead).",
                    human(max_ephemeral)
                ),
            ));
        }
        (None, None) => None,
    };

    let scope = raw
        .scope
        .map(|s| {
            s.parse::<Scope>()
                .map_err(|e| InputError::new(KEY_SCOPE_INVALID, e.0))
        })
        .transpose()?;
    Ok(KeyRequest { scope, expires_at })
}

fn shape(value: Value) -> Result<Raw, InputError> {
    if !value.is_object() {
        return Err(InputError::new(
            UNKNOWN_PROPERTY,
            format!("The key configuration must be a JSON object such as {SHAPE}."),
        ));
    }
    serde_json::from_value(value).map_err(|e| {
        let text = e.to_string();
        let message = if let Some(rest) = text.strip_prefix("unknown field `") {
            let name = rest.split('`').next().unwrap_or_default();
            format!(
                "Unknown property `{}` in the key configuration. The properties allowed are: \
                 ttlMillis, expirationDate, ephemeral, scope (names are case-sensitive).",
                excerpt(name, 40)
            )
        } else {
            "A property of the key configuration has the wrong type: `ttlMillis` is a whole \
             number of milliseconds, `expirationDate` and `scope` are strings, `ephemeral` is \
             true or false."
                .to_owned()
        };
        InputError::new(UNKNOWN_PROPERTY, message)
    })
}

/// `2 h`, `90 min`, `45 s`: a duration as people write it.
fn human(d: TimeDelta) -> String {
    let s = d.num_seconds();
    if s % 3600 == 0 {
        format!("{} h", s / 3600)
    } else if s % 60 == 0 {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap()
    }

    fn parse(body: &str) -> Result<KeyRequest, InputError> {
        parse_key_configuration(body.as_bytes(), now(), TimeDelta::hours(2))
    }

    fn code(body: &str) -> u32 {
        parse(body).unwrap_err().code
    }

    #[test]
    fn accepted_configurations() {
        assert_eq!(
            parse("{}").unwrap(),
            KeyRequest {
                scope: None,
                expires_at: None
            }
        );
        let k =
            parse(r#"{"ephemeral": true, "ttlMillis": 3600000, "scope": "media:get"}"#).unwrap();
        assert_eq!(k.expires_at, Some(now() + TimeDelta::hours(1)));
        assert_eq!(k.scope.unwrap().to_string(), "media:get");
        let k =
            parse(r#"{"ephemeral": true, "expirationDate": "2026-12-07T13:00:00+02:00"}"#).unwrap();
        assert_eq!(k.expires_at, Some(now() + TimeDelta::hours(1)));
        // Exactly the maximum is allowed; non-ephemeral keys may live longer.
        assert!(parse(r#"{"ephemeral": true, "ttlMillis": 7200000}"#).is_ok());
        let year = parse(r#"{"ttlMillis": 31536000000}"#).unwrap();
        assert_eq!(year.expires_at, Some(now() + TimeDelta::days(365)));
        assert!(parse(r#"{"expirationDate": "2031-01-01T00:00:00Z", "ephemeral": false}"#).is_ok());
        assert!(parse(r#"{"scope": null, "ttlMillis": null}"#).is_ok());
    }

    #[test]
    fn every_v3_error() {
        assert_eq!(code(""), 70000);
        assert_eq!(code("  \n"), 70000);
        assert_eq!(
            code(r#"{"ttlMillis": 1000, "expirationDate": "2026-12-07T10:30:00Z"}"#),
            70001
        );
        assert_eq!(code(r#"{"expirationDate": "2026-12-07T10:00:00Z"}"#), 70002);
        assert_eq!(code(r#"{"expirationDate": "2020-01-01T00:00:00Z"}"#), 70002);
        assert_eq!(
            code(r#"{"ephemeral": true, "expirationDate": "2026-12-07T12:00:00.001Z"}"#),
            70003
        );
        assert_eq!(code(r#"{"ttlMillis": 0}"#), 70004);
        assert_eq!(code(r#"{"ttlMillis": -5}"#), 70004);
        assert_eq!(code(r#"{"ephemeral": true, "ttlMillis": 7200001}"#), 70005);
        assert_eq!(code(r#"{"ttlMillis": 9223372036854775807}"#), 70005);
        assert_eq!(code(r#"{"ephemeral": true}"#), 70006);
        assert_eq!(
            code(r#"{"scope": "media:get?extendedFilter=speakers:agent"}"#),
            70008
        );
        assert_eq!(code(r#"{"scope": ""}"#), 70008);
    }

    #[test]
    fn malformed_bodies() {
        assert_eq!(code("{"), 10007);
        assert_eq!(code(r#"{"scope": "media", "scope": "user"}"#), 10010);
        assert_eq!(code("[]"), 10008);
        assert_eq!(code(r#"{"ttl": 5}"#), 10008);
        assert_eq!(code(r#"{"ttlMillis": 1.5}"#), 10008);
        assert_eq!(code(r#"{"ttlMillis": "1000"}"#), 10008);
        assert_eq!(code(r#"{"ttlMillis": 1e30}"#), 10008);
        assert_eq!(code(r#"{"expirationDate": "tomorrow"}"#), 10008);
        assert_eq!(code(r#"{"ephemeral": "yes"}"#), 10008);
    }
}
