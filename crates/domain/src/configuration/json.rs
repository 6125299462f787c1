//! Step 1 of parsing a part: bytes to a JSON value, rejecting an object that repeats a key.
//!
//! Why: JSON parsers disagree on which copy of a repeated key wins, so a request with one is
//! ambiguous; serde_json's `Value` would silently keep the last.

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::paths::{format_path, join_path};

/// True for an empty or whitespace-only part (a UTF-8 byte-order mark is skipped).
pub(super) fn is_blank(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// Marker at the start of the error message of a duplicated key (the key follows).
const DUPLICATE_MARKER: &str = "\u{0}duplicate:";

/// A JSON value whose objects may not repeat a key (serde_json's `Value` keeps the last copy).
struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        StrictValue::deserialize(d).map(|v| v.0)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("{DUPLICATE_MARKER}{key}")));
            }
            let StrictValue(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

pub(super) enum JsonProblem {
    /// Not JSON: the message (without position), line, column.
    Syntax(String, usize, usize),
    /// A duplicated key: its path (already excerpted).
    Duplicate(String),
}

pub(super) fn parse_json(bytes: &[u8]) -> Result<Value, JsonProblem> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = match serde_path_to_error::deserialize::<_, StrictValue>(&mut de) {
        Ok(v) => v.0,
        Err(e) => {
            let path = format_path(e.path());
            let inner = e.into_inner();
            let text = inner.to_string();
            if let Some(rest) = text.strip_prefix(DUPLICATE_MARKER) {
                // serde_json appends " at line L column C"; the key is what precedes it.
                let key = rest
                    .rsplit_once(" at line ")
                    .map_or(rest, |(k, _)| k)
                    .to_string();
                return Err(JsonProblem::Duplicate(join_path(&path, &key)));
            }
            return Err(syntax(&inner));
        }
    };
    de.end().map_err(|e| syntax(&e))?;
    Ok(value)
}

fn syntax(e: &serde_json::Error) -> JsonProblem {
    let text = e.to_string();
    let msg = match text.rsplit_once(" at line ") {
        Some((m, _)) => m.to_string(),
        None => text,
    };
    JsonProblem::Syntax(msg, e.line(), e.column())
}
