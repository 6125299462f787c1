//! Conversions shared by the database backends. Both keep identifiers as
//! text and JSON documents as JSON text, so one set of parsers serves both and
//! a corrupt value is reported the same way whichever database holds it.

use std::str::FromStr;

use crate::StoreError;

pub(crate) fn parse_id<T: FromStr>(text: &str) -> Result<T, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Internal(format!("corrupt identifier in database: {text:?}")))
}

pub(crate) fn json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Internal(e.to_string()))
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    text: &str,
    what: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Internal(format!("corrupt {what}: {e}")))
}

pub(crate) fn opt_json<T: serde::de::DeserializeOwned>(
    text: Option<String>,
    what: &str,
) -> Result<Option<T>, StoreError> {
    text.map(|t| from_json(&t, what)).transpose()
}

/// A stored size or duration; negative values (never written) read as unknown.
pub(crate) fn to_u64(v: Option<i64>) -> Option<u64> {
    v.and_then(|v| u64::try_from(v).ok())
}

/// A size or duration for a signed 64-bit column.
pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
