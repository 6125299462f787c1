//! Paths and excerpts in messages: where in the part a problem is (`speechModel.colour`,
//! `publish.callbacks[0].url`), and the wording of unknown-property and wrong-type errors.
//!
//! Input is only ever echoed cut to a few dozen characters (see [`excerpt`]), so an error never
//! reflects a large or hostile payload back.

use std::fmt::Write as _;

use serde_json::Value;

use crate::codes::{METADATA_NOT_PARSEABLE, UNKNOWN_PROPERTY};
use crate::input::{InputError, excerpt};

const KEY_CHARS: usize = 32;
const PATH_CHARS: usize = 72;
pub(super) const VALUE_CHARS: usize = 32;

pub(super) fn format_path(path: &serde_path_to_error::Path) -> String {
    format_segments(path.iter())
}

fn format_segments<'p>(segments: impl Iterator<Item = &'p serde_path_to_error::Segment>) -> String {
    let mut out = String::new();
    for seg in segments {
        match seg {
            serde_path_to_error::Segment::Seq { index } => {
                let _ = write!(out, "[{index}]");
            }
            serde_path_to_error::Segment::Map { key } => {
                out = join_path(&out, key);
            }
            serde_path_to_error::Segment::Enum { variant } => {
                out = join_path(&out, variant);
            }
            serde_path_to_error::Segment::Unknown => out = join_path(&out, "?"),
        }
    }
    excerpt(&out, PATH_CHARS)
}

/// `parent.key` (the key excerpted), or `key` at the top level.
pub(super) fn join_path(parent: &str, key: &str) -> String {
    let key = excerpt(key, KEY_CHARS);
    if parent.is_empty() {
        key
    } else {
        format!("{parent}.{key}")
    }
}

/// The value at `path` (as produced by [`format_path`]) in `root`, for describing its type.
fn value_at<'v>(root: &'v Value, path: &serde_path_to_error::Path) -> Option<&'v Value> {
    let mut v = root;
    for seg in path.iter() {
        v = match seg {
            serde_path_to_error::Segment::Seq { index } => v.get(*index)?,
            serde_path_to_error::Segment::Map { key } => v.get(key.as_str())?,
            _ => return None,
        };
    }
    Some(v)
}

pub(super) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// serde's "expected …" text (from our own types, never from the input) in JSON terms.
fn expected_in_json_terms(expected: &str) -> String {
    let e = expected.trim();
    if e.starts_with("struct ") || e.contains("map") {
        "a JSON object".into()
    } else if e.contains("sequence") {
        "an array".into()
    } else if e.contains("boolean") {
        "true or false".into()
    } else if e.contains("string") {
        "a string".into()
    } else if e == "u32" {
        "a whole number from 0 to 4294967295".into()
    } else if e.starts_with('u') || e.starts_with('i') || e.starts_with('f') || e.contains("number")
    {
        "a number".into()
    } else {
        excerpt(e, 60)
    }
}

/// Which part is being parsed, for the wording and codes of shape errors.
#[derive(Clone, Copy)]
pub(super) enum Part {
    Configuration,
    Metadata,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Configuration => "configuration",
            Part::Metadata => "metadata",
        }
    }
}

/// Turns a typed-deserialisation error (unknown property / wrong type) into an [`InputError`].
pub(super) fn shape_error(
    part: Part,
    root: &Value,
    err: serde_path_to_error::Error<serde_json::Error>,
) -> InputError {
    let path = format_path(err.path());
    let segments: Vec<&serde_path_to_error::Segment> = err.path().iter().collect();
    let parent = format_segments(segments[..segments.len().saturating_sub(1)].iter().copied());
    let found = value_at(root, err.path()).map(json_type);
    let text = err.into_inner().to_string();
    let type_code = match part {
        Part::Configuration => UNKNOWN_PROPERTY,
        Part::Metadata => METADATA_NOT_PARSEABLE,
    };
    if let Some(rest) = text.strip_prefix("unknown field `") {
        // "unknown field `K`, expected one of `a`, `b`" / "expected `a`" / "there are no
        // fields"; the path already ends with K.
        let allowed = rest.split_once("`, expected ").map(|(_, a)| a);
        let full = path;
        let place = if parent.is_empty() {
            "at the top level".to_string()
        } else {
            format!("in `{parent}`")
        };
        let allowed = allowed
            .map(|a| a.trim_start_matches("one of ").to_string())
            .unwrap_or_else(|| "none".to_string());
        return InputError::new(
            UNKNOWN_PROPERTY,
            format!(
                "unknown property `{full}` in the {}. The properties allowed {place} are: \
                 {allowed}. Remove it or correct its spelling (names are case-sensitive).",
                part.name()
            ),
        );
    }
    let expected = text
        .split_once(", expected ")
        .map(|(_, e)| e.to_string())
        .unwrap_or_default();
    let expected = expected_in_json_terms(&expected);
    let what = match found {
        Some("a number") if expected.contains("number") => "but the number given is not".into(),
        Some(t) => format!("but it is {t}"),
        None => "but it has the wrong type".to_string(),
    };
    if path.is_empty() {
        return InputError::new(
            type_code,
            format!(
                "the {} part must be a JSON object (for example {}), {what}. Send an object, \
                 or leave the part out.",
                part.name(),
                match part {
                    Part::Configuration => r#"{"priority":"normal"}"#,
                    Part::Metadata => r#"{"title":"Call 42"}"#,
                }
            ),
        );
    }
    InputError::new(
        type_code,
        format!(
            "`{path}` in the {} must be {expected}, {what}. Correct the value.",
            part.name()
        ),
    )
}
