//! Categories (analytics reference §4): the definition an account saves under
//! `/v3/definition/categories/{categoryName}`, the `configuration.categories[]` selection, and
//! what is copied into the stored configuration when a media is accepted.
//!
//! The query is VBQL ([`crate::vbql`]); it is parsed when the definition is saved, so a
//! category that is stored always parses, and again when a media selects it (a stored query
//! that a later version no longer accepts is refused then, not at processing time).
//! Limits the reference gives (`notes` 4,000 characters, at most 32 `tags` of 64) are these
//! constants; the ones it leaves open are ours and documented in `docs/categories.md`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codes::{
    CATEGORY_BODY_INVALID, CATEGORY_FIELD_TOO_LONG, CATEGORY_NAME_INVALID, CATEGORY_NAME_MISMATCH,
    CATEGORY_NOT_DEFINED, CATEGORY_QUERY_INVALID, CATEGORY_SELECTION_INVALID,
};
use crate::input::{InputError, excerpt};
use crate::vbql::Query;

/// Longest category name, in characters (not documented by v3).
pub const MAX_NAME_CHARS: usize = 128;
/// Longest `notes` (v3: 4,000).
pub const MAX_NOTES_CHARS: usize = 4000;
/// Longest `categoryDescription` (v3 prints "?"; we take the `notes` limit).
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
/// Most `tags` (v3: 32), each at most [`MAX_TAG_CHARS`] (v3: 64).
pub const MAX_TAGS: usize = 32;
pub const MAX_TAG_CHARS: usize = 64;
/// Longest `version` (a free string in v3; not documented).
pub const MAX_VERSION_CHARS: usize = 64;

/// A saved category as `PUT` accepts and `GET` returns it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CategoryDefinition {
    /// The name, from the path (in a `PUT` body optional, and then equal to the path's).
    #[serde(default)]
    pub category_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_description: Option<String>,
    /// The VBQL query, e.g. `SELECT * FROM media MATCH 'hello'` (grammar: docs/categories.md).
    pub query: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// Checks a category name (the path parameter): 1 to [`MAX_NAME_CHARS`] characters, no
/// whitespace (v3: "no spaces"), `/` or control characters.
///
/// # Errors
///
/// [`CATEGORY_NAME_INVALID`] saying what is wrong.
pub fn check_name(name: &str) -> Result<(), InputError> {
    let len = name.chars().count();
    let bad = name
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || *c == '/');
    if len == 0 || len > MAX_NAME_CHARS || bad.is_some() {
        return Err(InputError::new(
            CATEGORY_NAME_INVALID,
            format!(
                "`{}` is not a usable category name: use 1 to {MAX_NAME_CHARS} characters \
                 without spaces, `/` or control characters (e.g. `cancellation-risk`).",
                excerpt(name, 40)
            ),
        ));
    }
    Ok(())
}

/// Parses and validates the body of `PUT /v3/definition/categories/{name}`; the result has
/// `categoryName` set to `name`.
///
/// # Errors
///
/// An [`InputError`] with one of the 804xx codes and what to change.
pub fn parse_definition(
    name: &str,
    body: &[u8],
    max_query_chars: usize,
) -> Result<CategoryDefinition, InputError> {
    check_name(name)?;
    let example =
        "{\"query\": \"SELECT * FROM media MATCH 'hello'\", \"categoryDescription\": \"…\"}";
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(InputError::new(
            CATEGORY_BODY_INVALID,
            format!("the body is empty: send the category as JSON, e.g. {example}."),
        ));
    }
    let mut def: CategoryDefinition = serde_json::from_slice(body).map_err(|e| {
        InputError::new(
            CATEGORY_BODY_INVALID,
            format!(
                "the body is not a category definition ({}). Send a JSON object such as \
                 {example}; the fields are categoryName, categoryDescription, query, notes, \
                 tags and version.",
                excerpt(&e.to_string(), 200)
            ),
        )
    })?;
    if !def.category_name.is_empty() && def.category_name != name {
        return Err(InputError::new(
            CATEGORY_NAME_MISMATCH,
            format!(
                "the body's categoryName `{}` differs from the name in the path `{}`: make \
                 them equal, or leave categoryName out of the body.",
                excerpt(&def.category_name, 40),
                excerpt(name, 40)
            ),
        ));
    }
    def.category_name = name.to_owned();
    let too_long = |what: &str, max: usize| {
        InputError::new(
            CATEGORY_FIELD_TOO_LONG,
            format!("`{what}` is longer than {max} characters; shorten it."),
        )
    };
    let chars = |s: &Option<String>| s.as_deref().map_or(0, |s| s.chars().count());
    if chars(&def.category_description) > MAX_DESCRIPTION_CHARS {
        return Err(too_long("categoryDescription", MAX_DESCRIPTION_CHARS));
    }
    if chars(&def.notes) > MAX_NOTES_CHARS {
        return Err(too_long("notes", MAX_NOTES_CHARS));
    }
    if chars(&def.version) > MAX_VERSION_CHARS {
        return Err(too_long("version", MAX_VERSION_CHARS));
    }
    if let Some(tags) = &def.tags {
        if tags.len() > MAX_TAGS {
            return Err(InputError::new(
                CATEGORY_FIELD_TOO_LONG,
                format!(
                    "{} tags given; a category has at most {MAX_TAGS}.",
                    tags.len()
                ),
            ));
        }
        if tags.iter().any(|t| t.chars().count() > MAX_TAG_CHARS) {
            return Err(too_long("tags[]", MAX_TAG_CHARS));
        }
    }
    if def.query.chars().count() > max_query_chars {
        return Err(InputError::new(
            CATEGORY_FIELD_TOO_LONG,
            format!(
                "the query is longer than {max_query_chars} characters \
                 (--max-category-query-chars); split it into several categories."
            ),
        ));
    }
    check_query(&def.query)?;
    Ok(def)
}

/// Parses a category's query, as [`CATEGORY_QUERY_INVALID`] when it is not VBQL.
fn check_query(query: &str) -> Result<Query, InputError> {
    if query.trim().is_empty() {
        return Err(InputError::new(
            CATEGORY_QUERY_INVALID,
            "the category has no `query`: give one in VBQL, e.g. \
             \"SELECT * FROM media MATCH 'hello'\".",
        ));
    }
    Query::parse(query).map_err(|e| {
        InputError::new(
            CATEGORY_QUERY_INVALID,
            format!("{e}. The grammar sealscribe accepts is in docs/categories.md."),
        )
    })
}

/// `configuration.categories[]` as sent: all of the account's categories, or some by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CategorySelection {
    All,
    Names(Vec<String>),
}

/// A category as copied into a media's stored configuration when it is accepted: later
/// changes to the definition do not change what that media is evaluated with.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SavedCategory {
    pub category_name: String,
    pub query: String,
}

/// Reads `configuration.categories[]` items as `(allCategories, categoryName)` pairs; `None`
/// for an empty array (nothing asked).
///
/// # Errors
///
/// [`CATEGORY_SELECTION_INVALID`] for an item with neither or both, `allCategories: false`,
/// or both forms in one array.
pub fn selection(
    items: &[(Option<bool>, Option<String>)],
) -> Result<Option<CategorySelection>, InputError> {
    let invalid = |i: usize, what: &str| {
        InputError::new(
            CATEGORY_SELECTION_INVALID,
            format!(
                "`categories[{i}]` {what}. Use [{{\"allCategories\": true}}] for every category \
                 of the account, or [{{\"categoryName\": \"a\"}}, {{\"categoryName\": \"b\"}}]."
            ),
        )
    };
    let (mut all, mut names) = (false, Vec::<String>::new());
    for (i, item) in items.iter().enumerate() {
        match item {
            (Some(true), None) => all = true,
            (Some(false), None) => return Err(invalid(i, "has `allCategories: false`")),
            (None, Some(name)) => {
                if !names.contains(name) {
                    names.push(name.clone());
                }
            }
            (Some(_), Some(_)) => {
                return Err(invalid(i, "has both `allCategories` and `categoryName`"));
            }
            (None, None) => {
                return Err(invalid(i, "has neither `allCategories` nor `categoryName`"));
            }
        }
    }
    match (all, names.is_empty()) {
        (true, false) => Err(invalid(0, "mixes `allCategories` with named categories")),
        (true, true) => Ok(Some(CategorySelection::All)),
        (false, false) => Ok(Some(CategorySelection::Names(names))),
        (false, true) => Ok(None),
    }
}

/// The categories `selection` picks from the account's definitions (`(name, body)` as the
/// store lists them), in name order for `All` and request order otherwise.
///
/// # Errors
///
/// [`CATEGORY_NOT_DEFINED`] for a name the account has not defined; [`CATEGORY_QUERY_INVALID`]
/// for a stored query this version does not accept.
pub fn resolve(
    selection: &CategorySelection,
    defined: &[(String, Value)],
) -> Result<Vec<SavedCategory>, InputError> {
    let saved = |name: &str, body: &Value| -> Result<SavedCategory, InputError> {
        let query = body
            .get("query")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        check_query(&query).map_err(|e| {
            InputError::new(
                e.code,
                format!(
                    "the saved category `{}` cannot be used: {} Save it again with a valid query.",
                    excerpt(name, 40),
                    e.message
                ),
            )
        })?;
        Ok(SavedCategory {
            category_name: name.to_owned(),
            query,
        })
    };
    match selection {
        CategorySelection::All => defined.iter().map(|(n, b)| saved(n, b)).collect(),
        CategorySelection::Names(names) => names
            .iter()
            .map(|name| match defined.iter().find(|(n, _)| n == name) {
                Some((n, b)) => saved(n, b),
                None => Err(InputError::new(
                    CATEGORY_NOT_DEFINED,
                    format!(
                        "the category `{}` is not defined in this account: create it with \
                         PUT /v3/definition/categories/{{categoryName}} first, or remove it \
                         from `categories`.",
                        excerpt(name, 40)
                    ),
                )),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const Q: usize = 4000;

    #[test]
    fn a_definition_is_validated_and_named_by_its_path() {
        let d = parse_definition(
            "hello",
            br#"{"categoryDescription":"greets","query":"SELECT * FROM media MATCH 'hello'","tags":["a"],"version":"0.0.1","notes":"n"}"#,
            Q,
        )
        .unwrap();
        assert_eq!(d.category_name, "hello");
        let d = parse_definition(
            "hello",
            br#"{"categoryName":"hello","query":"SELECT * FROM media MATCH 'x'"}"#,
            Q,
        )
        .unwrap();
        assert_eq!(d.tags, None);
        let code =
            |name: &str, body: &str| parse_definition(name, body.as_bytes(), Q).unwrap_err().code;
        assert_eq!(code("a b", r#"{"query":"x"}"#), CATEGORY_NAME_INVALID);
        assert_eq!(code("", r#"{"query":"x"}"#), CATEGORY_NAME_INVALID);
        assert_eq!(
            code(&"n".repeat(129), r#"{"query":"x"}"#),
            CATEGORY_NAME_INVALID
        );
        assert_eq!(code("a", ""), CATEGORY_BODY_INVALID);
        assert_eq!(code("a", "[1]"), CATEGORY_BODY_INVALID);
        assert_eq!(
            code(
                "a",
                r#"{"query":"SELECT * FROM media MATCH 'x'","colour":1}"#
            ),
            CATEGORY_BODY_INVALID
        );
        assert_eq!(
            code(
                "a",
                r#"{"categoryName":"b","query":"SELECT * FROM media MATCH 'x'"}"#
            ),
            CATEGORY_NAME_MISMATCH
        );
        assert_eq!(
            code("a", r#"{"categoryDescription":"x"}"#),
            CATEGORY_BODY_INVALID
        );
        assert_eq!(code("a", r#"{"query":"  "}"#), CATEGORY_QUERY_INVALID);
        let e =
            parse_definition("a", br#"{"query":"SELECT * FORM media MATCH 'x'"}"#, Q).unwrap_err();
        assert_eq!(e.code, CATEGORY_QUERY_INVALID);
        assert!(
            e.message.contains("offset 9") && e.message.contains("`FROM`"),
            "{}",
            e.message
        );
        let tags: Vec<String> = (0..33).map(|i| i.to_string()).collect();
        let body = json!({"query": "SELECT * FROM media MATCH 'x'", "tags": tags}).to_string();
        assert_eq!(code("a", &body), CATEGORY_FIELD_TOO_LONG);
        let body = json!({"query": "SELECT * FROM media MATCH 'x'", "notes": "n".repeat(4001)})
            .to_string();
        assert_eq!(code("a", &body), CATEGORY_FIELD_TOO_LONG);
        let e = parse_definition("a", br#"{"query":"SELECT * FROM media MATCH 'xyz'"}"#, 20)
            .unwrap_err();
        assert_eq!(e.code, CATEGORY_FIELD_TOO_LONG);
    }

    #[test]
    fn selections_and_resolution() {
        let all = selection(&[(Some(true), None)]).unwrap();
        assert_eq!(all, Some(CategorySelection::All));
        assert_eq!(selection(&[]).unwrap(), None);
        let named = selection(&[
            (None, Some("b".into())),
            (None, Some("a".into())),
            (None, Some("b".into())),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            named,
            CategorySelection::Names(vec!["b".into(), "a".into()])
        );
        for bad in [
            vec![(Some(false), None)],
            vec![(None, None)],
            vec![(Some(true), Some("a".to_owned()))],
            vec![(Some(true), None), (None, Some("a".to_owned()))],
        ] {
            assert_eq!(
                selection(&bad).unwrap_err().code,
                CATEGORY_SELECTION_INVALID
            );
        }
        let defined = vec![
            (
                "a".to_owned(),
                json!({"query": "SELECT * FROM media MATCH 'x'"}),
            ),
            (
                "b".to_owned(),
                json!({"query": "SELECT * FROM media MATCH 'y'"}),
            ),
        ];
        let got = resolve(&named, &defined).unwrap();
        assert_eq!(
            got.iter()
                .map(|c| c.category_name.as_str())
                .collect::<Vec<_>>(),
            ["b", "a"]
        );
        assert_eq!(resolve(&CategorySelection::All, &defined).unwrap().len(), 2);
        let missing = CategorySelection::Names(vec!["zz".into()]);
        assert_eq!(
            resolve(&missing, &defined).unwrap_err().code,
            CATEGORY_NOT_DEFINED
        );
        let broken = vec![("c".to_owned(), json!({"query": "SELECT"}))];
        assert_eq!(
            resolve(&CategorySelection::All, &broken).unwrap_err().code,
            CATEGORY_QUERY_INVALID
        );
    }
}
