//! Extended-metadata search: which `metadata.extended` fields an account made searchable
//! (`/v3/definition/media/search`), the values of a media item the index keeps for them, and
//! the `extendedFilter` conditions of `GET /v3/media`.
//!
//! One module decides the whole rule, so the API (which validates definitions and filters,
//! and reindexes after a metadata change), the pipeline (which indexes a media when its
//! processing finishes) and both database backends (which only compare stored strings with
//! `=`) agree on it:
//!
//! - A field is `extended.` followed by a dot-separated path into the `extended` object
//!   (`extended.customer.id` is `{"extended":{"customer":{"id":…}}}`); each path segment is
//!   letters, digits, `_` and `-`, so a field name can never hold the `:`/`;` of a filter.
//! - A value is indexed by its *string form*: a string as it is, a number as JSON writes it
//!   (`10101`, `2.5`), `true`/`false`; an array indexes each of its scalar elements; objects
//!   and `null` are not indexed. A filter matches when the string form is exactly equal
//!   (case-sensitive), so `customerId:10101` finds both `10101` and `"10101"`.
//! - Values over [`MAX_VALUE_CHARS`] or holding a NUL are not indexed (no filter can ask for
//!   them); at most [`MAX_VALUES_PER_FIELD`] elements of one array are.
//!
//! These bounds are constants of the data model rather than server settings: a definition or
//! an index entry valid on one server must stay valid on another, and [`MAX_VALUE_CHARS`]
//! keeps every indexed value well inside PostgreSQL's B-tree entry limit.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codes::{INVALID_REQUEST, INVALID_SEARCHABLE_FIELDS, TOO_MANY_SEARCHABLE_FIELDS};
use crate::input::{InputError, excerpt};

/// Fields one account may make searchable.
pub const MAX_SEARCHABLE_FIELDS: usize = 100;
/// Characters of one field name, `extended.` included.
pub const MAX_FIELD_CHARS: usize = 128;
/// Characters of an indexed value (and of a filter's value).
pub const MAX_VALUE_CHARS: usize = 256;
/// Elements of one array value that are indexed.
pub const MAX_VALUES_PER_FIELD: usize = 100;
/// What every searchable field starts with.
pub const PREFIX: &str = "extended.";
/// The name the account's one list of searchable fields is stored under
/// ([`DefinitionKind::SearchableFields`](crate::definitions::DefinitionKind::SearchableFields)).
pub const DEFINITION_NAME: &str = "media";

/// v3 `VbSearchableFields`: the body of `GET/PUT /v3/definition/media/search`, and what is
/// stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchableFields {
    /// `extended.<path>` names, in the order given.
    pub fields: Vec<String>,
}

/// One value the index keeps for a media item.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExtendedValue {
    /// The searchable field, `extended.` included.
    pub field: String,
    /// The value's string form.
    pub value: String,
}

/// One `extendedFilter` condition: the media's `field` has the string form `value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtendedFilter {
    /// The searchable field, `extended.` included.
    pub field: String,
    pub value: String,
}

fn bad(code: u32, message: String) -> InputError {
    InputError::new(code, message)
}

/// Whether `path` (what follows `extended.`) is a valid dot-separated path.
fn valid_path(path: &str) -> bool {
    !path.is_empty()
        && path.split('.').all(|s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
}

/// Checks a `PUT /v3/definition/media/search` body.
///
/// # Errors
///
/// 80301 when it is not `{"fields":[…]}` with each field `extended.<path>` (segments of
/// letters, digits, `_`, `-`; at most [`MAX_FIELD_CHARS`] characters), or a field is listed
/// twice; 80302 over [`MAX_SEARCHABLE_FIELDS`] fields.
pub fn parse_fields(body: &[u8]) -> Result<SearchableFields, InputError> {
    let fields: SearchableFields = serde_json::from_slice(body).map_err(|e| {
        bad(
            INVALID_SEARCHABLE_FIELDS,
            format!(
                "The body must be JSON like {{\"fields\":[\"extended.customerId\"]}}: {}.",
                excerpt(&e.to_string(), 200)
            ),
        )
    })?;
    if fields.fields.len() > MAX_SEARCHABLE_FIELDS {
        return Err(bad(
            TOO_MANY_SEARCHABLE_FIELDS,
            format!(
                "{} fields were given; an account may make at most {MAX_SEARCHABLE_FIELDS} \
                 extended fields searchable.",
                fields.fields.len()
            ),
        ));
    }
    for (i, f) in fields.fields.iter().enumerate() {
        let ok =
            f.chars().count() <= MAX_FIELD_CHARS && f.strip_prefix(PREFIX).is_some_and(valid_path);
        if !ok {
            return Err(bad(
                INVALID_SEARCHABLE_FIELDS,
                format!(
                    "fields[{i}] is {:?}: a searchable field is `extended.` and a dot-separated \
                     path of letters, digits, `_` and `-` (e.g. \"extended.customerId\" or \
                     \"extended.customer.id\"), at most {MAX_FIELD_CHARS} characters.",
                    excerpt(f, 60)
                ),
            ));
        }
        if fields.fields[..i].contains(f) {
            return Err(bad(
                INVALID_SEARCHABLE_FIELDS,
                format!("fields[{i}] ({f:?}) is listed twice; list each field once."),
            ));
        }
    }
    Ok(fields)
}

/// The string form of a scalar, `None` for what is not indexed.
fn string_form(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null | Value::Array(_) | Value::Object(_) => return None,
    };
    (s.chars().count() <= MAX_VALUE_CHARS && !s.contains('\0')).then_some(s)
}

/// The values the index keeps for a media with this `metadata`, for the account's
/// searchable `fields` (names as [`parse_fields`] accepts them). Each `(field, value)` pair
/// once, in the order of `fields`.
pub fn extended_values(fields: &[String], metadata: Option<&Value>) -> Vec<ExtendedValue> {
    let Some(extended) = metadata.and_then(|m| m.get("extended")) else {
        return Vec::new();
    };
    let mut out: Vec<ExtendedValue> = Vec::new();
    for field in fields {
        let Some(path) = field.strip_prefix(PREFIX) else {
            continue;
        };
        let Some(v) = path
            .split('.')
            .try_fold(extended, |at, segment| at.as_object()?.get(segment))
        else {
            continue;
        };
        let values: Vec<String> = match v {
            Value::Array(items) => items
                .iter()
                .take(MAX_VALUES_PER_FIELD)
                .filter_map(string_form)
                .collect(),
            v => string_form(v).into_iter().collect(),
        };
        for value in values {
            let ev = ExtendedValue {
                field: field.clone(),
                value,
            };
            if !out.contains(&ev) {
                out.push(ev);
            }
        }
    }
    out
}

/// Reads one `extendedFilter` value: `Name:Value` or `Name;Value` (v3's documents show
/// both), split at the first `:` or `;`. `Name` is the field with or without its `extended.`
/// prefix (`customerId` and `extended.customerId` are the same field); `Value` is compared
/// with the indexed string form as it is (it may hold `:` and `;`, and may be empty).
///
/// # Errors
///
/// 10001 for a filter without a separator, an invalid field name, or a value over
/// [`MAX_VALUE_CHARS`] characters or holding a NUL (no indexed value can).
pub fn parse_filter(raw: &str) -> Result<ExtendedFilter, InputError> {
    let Some(at) = raw.find([':', ';']) else {
        return Err(bad(
            INVALID_REQUEST,
            format!(
                "extendedFilter {:?} must be Name:Value (or Name;Value), e.g. \
                 extendedFilter=customerId%3A10101.",
                excerpt(raw, 60)
            ),
        ));
    };
    let (name, value) = (&raw[..at], &raw[at + 1..]);
    let path = name.strip_prefix(PREFIX).unwrap_or(name);
    let field = format!("{PREFIX}{path}");
    if !valid_path(path) || field.chars().count() > MAX_FIELD_CHARS {
        return Err(bad(
            INVALID_REQUEST,
            format!(
                "extendedFilter names the field {:?}: a field is a dot-separated path of letters, \
                 digits, `_` and `-` into metadata.extended (e.g. customerId or customer.id).",
                excerpt(name, 60)
            ),
        ));
    }
    if value.chars().count() > MAX_VALUE_CHARS || value.contains('\0') {
        return Err(bad(
            INVALID_REQUEST,
            format!(
                "The value of extendedFilter {field:?} is over {MAX_VALUE_CHARS} characters or holds \
                 a NUL; no such value is indexed."
            ),
        ));
    }
    Ok(ExtendedFilter {
        field,
        value: value.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    fn ev(field: &str, value: &str) -> ExtendedValue {
        ExtendedValue {
            field: field.into(),
            value: value.into(),
        }
    }

    #[test]
    fn fields_are_extended_paths() {
        let ok = parse_fields(br#"{"fields":["extended.customerId","extended.a.b-c_1"]}"#).unwrap();
        assert_eq!(
            ok.fields,
            fields(&["extended.customerId", "extended.a.b-c_1"])
        );
        assert_eq!(parse_fields(br#"{"fields":[]}"#).unwrap().fields.len(), 0);
        for bad in [
            &br#"{"fields":["customerId"]}"#[..],
            br#"{"fields":["extended."]}"#,
            br#"{"fields":["extended.a..b"]}"#,
            br#"{"fields":["extended.a:b"]}"#,
            br#"{"fields":["extended.a b"]}"#,
            br#"{"fields":["extended.x","extended.x"]}"#,
            br#"{"fields":"extended.x"}"#,
            br#"{"fields":["extended.x"],"other":1}"#,
            br#"{}"#,
            b"not json",
        ] {
            let e = parse_fields(bad).unwrap_err();
            assert_eq!(
                e.code,
                INVALID_SEARCHABLE_FIELDS,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let long = format!(
            r#"{{"fields":["extended.{}"]}}"#,
            "a".repeat(MAX_FIELD_CHARS)
        );
        assert_eq!(
            parse_fields(long.as_bytes()).unwrap_err().code,
            INVALID_SEARCHABLE_FIELDS
        );
        let many: Vec<String> = (0..=MAX_SEARCHABLE_FIELDS)
            .map(|i| format!("extended.f{i}"))
            .collect();
        let body = serde_json::to_vec(&json!({ "fields": many })).unwrap();
        assert_eq!(
            parse_fields(&body).unwrap_err().code,
            TOO_MANY_SEARCHABLE_FIELDS
        );
    }

    #[test]
    fn values_are_indexed_by_string_form() {
        let metadata = json!({
            "title": "t",
            "extended": {
                "customerId": 10101,
                "name": "Ada",
                "vip": true,
                "ratio": 2.5,
                "tags": ["a", 1, "a", {"x": 1}, null, ["nested"]],
                "customer": {"id": "c-1", "deep": {"x": "y"}},
                "nothing": null,
                "nul": "a\u{0}b",
                "long": "x".repeat(MAX_VALUE_CHARS + 1),
            }
        });
        let got = extended_values(
            &fields(&[
                "extended.customerId",
                "extended.name",
                "extended.vip",
                "extended.ratio",
                "extended.tags",
                "extended.customer.id",
                "extended.customer.deep",
                "extended.nothing",
                "extended.nul",
                "extended.long",
                "extended.missing",
                "extended.name.below",
            ]),
            Some(&metadata),
        );
        assert_eq!(
            got,
            vec![
                ev("extended.customerId", "10101"),
                ev("extended.name", "Ada"),
                ev("extended.vip", "true"),
                ev("extended.ratio", "2.5"),
                ev("extended.tags", "a"),
                ev("extended.tags", "1"),
                ev("extended.customer.id", "c-1"),
            ]
        );
        assert!(extended_values(&fields(&["extended.name"]), None).is_empty());
        assert!(extended_values(&fields(&["extended.name"]), Some(&json!({}))).is_empty());
        // Only fields made searchable.
        assert!(extended_values(&[], Some(&metadata)).is_empty());
        let many: Vec<u32> = (0..500).collect();
        let got = extended_values(
            &fields(&["extended.many"]),
            Some(&json!({"extended": {"many": many}})),
        );
        assert_eq!(got.len(), MAX_VALUES_PER_FIELD);
    }

    #[test]
    fn filters_accept_both_separators() {
        let f = |field: &str, value: &str| ExtendedFilter {
            field: field.into(),
            value: value.into(),
        };
        assert_eq!(
            parse_filter("customerId:10101").unwrap(),
            f("extended.customerId", "10101")
        );
        assert_eq!(
            parse_filter("customerId;10101").unwrap(),
            f("extended.customerId", "10101")
        );
        assert_eq!(
            parse_filter("extended.customer.id:a:b;c").unwrap(),
            f("extended.customer.id", "a:b;c")
        );
        assert_eq!(parse_filter("name:").unwrap(), f("extended.name", ""));
        for bad in [
            "customerId",
            ":x",
            "extended.:x",
            "a b:x",
            "a..b:x",
            "name:a\u{0}",
        ] {
            assert_eq!(
                parse_filter(bad).unwrap_err().code,
                INVALID_REQUEST,
                "{bad:?}"
            );
        }
        let long = format!("name:{}", "v".repeat(MAX_VALUE_CHARS + 1));
        assert_eq!(parse_filter(&long).unwrap_err().code, INVALID_REQUEST);
        assert!(parse_filter(&format!("name:{}", "v".repeat(MAX_VALUE_CHARS))).is_ok());
    }
}
