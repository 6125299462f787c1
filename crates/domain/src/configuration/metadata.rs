//! The `metadata` part of `POST /v3/media` and the body of `PUT …/metadata` (v3 `VbMetadata`):
//! the limits and checks of "Metadata" in [`crate::configuration`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::json::{JsonProblem, is_blank, parse_json};
use super::objects_only::typed;
use super::paths::{Part, json_type, shape_error};
use crate::codes::{
    DUPLICATE_METADATA_FIELD, EXTERNAL_ID_EMPTY, EXTERNAL_ID_TOO_LONG, METADATA_NOT_PARSEABLE,
    PAYLOAD_TOO_LARGE,
};
use crate::input::InputError;

/// Largest accepted `metadata` part, bytes.
pub const MAX_METADATA_BYTES: usize = 64 * 1024;
/// Longest accepted `externalId`, characters.
pub const MAX_EXTERNAL_ID_CHARS: usize = 256;
/// Longest accepted `title` / `description`, characters.
pub const MAX_TEXT_CHARS: usize = 1024;

/// v3 `VbMetadata`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawMetadata {
    title: Option<String>,
    description: Option<String>,
    external_id: Option<String>,
    extended: Option<Value>,
}

/// Parses the `metadata` part of `POST /v3/media` (and the body of `PUT …/metadata`).
///
/// # Errors
///
/// An [`InputError`] with the v3 code and a message for the customer.
pub fn parse_metadata(bytes: &[u8]) -> Result<Metadata, InputError> {
    if bytes.len() > MAX_METADATA_BYTES {
        return Err(InputError::new(
            PAYLOAD_TOO_LARGE,
            format!(
                "the metadata is {} bytes; the limit is {MAX_METADATA_BYTES} bytes (64 KiB). \
                 Keep large data in your own system and reference it by `externalId`.",
                bytes.len()
            ),
        ));
    }
    if is_blank(bytes) {
        return Ok(Metadata::default());
    }
    let value = parse_json(bytes).map_err(|p| match p {
        JsonProblem::Syntax(msg, line, column) => InputError::new(
            METADATA_NOT_PARSEABLE,
            format!(
                "the metadata is not valid JSON ({msg} at line {line}, column {column}). Send \
                 a JSON object such as {{\"title\":\"Call 42\",\"externalId\":\"A-1\"}}."
            ),
        ),
        JsonProblem::Duplicate(path) => InputError::new(
            DUPLICATE_METADATA_FIELD,
            format!("the metadata property `{path}` appears more than once. Keep only one."),
        ),
    })?;
    let raw: RawMetadata = typed(&value).map_err(|e| shape_error(Part::Metadata, &value, e))?;

    for (name, v) in [("title", &raw.title), ("description", &raw.description)] {
        if let Some(s) = v {
            let n = s.chars().count();
            if n > MAX_TEXT_CHARS {
                return Err(InputError::new(
                    METADATA_NOT_PARSEABLE,
                    format!(
                        "the metadata `{name}` is {n} characters long; the limit is \
                         {MAX_TEXT_CHARS}. Shorten it, or move the text into `extended`."
                    ),
                ));
            }
        }
    }
    if let Some(id) = &raw.external_id {
        if id.trim().is_empty() {
            return Err(InputError::new(
                EXTERNAL_ID_EMPTY,
                "the metadata `externalId` is empty; give it a value (your own reference for \
                 this media) or leave it out.",
            ));
        }
        let n = id.chars().count();
        if n > MAX_EXTERNAL_ID_CHARS {
            return Err(InputError::new(
                EXTERNAL_ID_TOO_LONG,
                format!(
                    "the metadata `externalId` is {n} characters long; the limit is \
                     {MAX_EXTERNAL_ID_CHARS}. Use a shorter reference."
                ),
            ));
        }
    }
    let extended = match raw.extended {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => Some(map),
        Some(other) => {
            return Err(InputError::new(
                METADATA_NOT_PARSEABLE,
                format!(
                    "the metadata `extended` must be a JSON object (for example \
                     {{\"agent\":\"Ana\",\"queue\":7}}), but it is {}. Wrap the value in an \
                     object.",
                    json_type(&other)
                ),
            ));
        }
    };
    Ok(Metadata {
        title: raw.title,
        description: raw.description,
        external_id: raw.external_id,
        extended,
    })
}
