//! Keyword spotting groups (analytics reference §2): the `VbKeywordGroup` an account saves under
//! `/v3/definition/spotting/groups/{groupName}` and a media configuration names in
//! `spotting.groups[]`.
//!
//! The body is checked here, with the v3 codes, before it is stored: **80100** when it is
//! missing, empty, not JSON or not `{groupName, keywords[]}`; **80101** when `keywords` is
//! missing or empty; **80102** when `groupName` is not the name in the path (or the name is not
//! usable); **80103** for a keyword that cannot be spotted (no word in it, too long, the same as
//! another after normalisation, or more keywords than [`MAX_KEYWORDS`]).
//!
//! v3 documents no limits on keywords; sealscribe's are constants because they bound work the
//! operator cannot otherwise bound: every keyword of every named group is matched against every
//! token of the transcript (off the executor, but still CPU), and a configuration may name
//! [`MAX_GROUPS_PER_MEDIA`] groups (v3's own limit).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codes::{
    INVALID_KEYWORD, KEYWORD_GROUP_BODY, KEYWORD_GROUP_NAME, KEYWORD_GROUP_NO_KEYWORDS,
};
use crate::input::{InputError, excerpt};
use sealscribe_transcript::phrases::Phrase;

/// Most keywords in one group: 100 groups of 500 keywords are 50,000 phrases per media, a
/// fraction of a second against an hour-long call (each phrase is one linear pass over the
/// tokens, most positions rejected on the first token).
pub const MAX_KEYWORDS: usize = 500;
/// Longest keyword, in characters: a phrase, not a paragraph (v3 spots "words or phrases").
pub const MAX_KEYWORD_CHARS: usize = 100;
/// Longest group name, in characters: it is a path segment and a label in every result.
pub const MAX_GROUP_NAME_CHARS: usize = 128;
/// Most groups in one configuration's `spotting.groups[]` (v3's limit).
pub const MAX_GROUPS_PER_MEDIA: usize = 100;
/// Largest `PUT` body: [`MAX_KEYWORDS`] keywords of [`MAX_KEYWORD_CHARS`] characters (up to 4
/// bytes each, quoted and escaped) fit with room to spare.
pub const MAX_GROUP_BODY_BYTES: usize = 256 * 1024;

/// v3 `VbKeywordGroup`: a named list of words and phrases to spot.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct KeywordGroup {
    /// The group's name, unique in the account (the `{groupId}` of its path).
    pub group_name: String,
    /// Words or phrases, each spotted on its own; see `docs/spotting.md` for what matches.
    pub keywords: Vec<String>,
}

/// Whether `name` can name a group: 1 to [`MAX_GROUP_NAME_CHARS`] characters, not only
/// spaces, no control characters.
pub fn valid_group_name(name: &str) -> bool {
    !name.trim().is_empty()
        && name.chars().count() <= MAX_GROUP_NAME_CHARS
        && !name.chars().any(char::is_control)
}

fn bad(code: u32, message: impl Into<String>) -> InputError {
    InputError::new(code, message)
}

/// The group `PUT /v3/definition/spotting/groups/{name}` may store, from its body.
///
/// # Errors
///
/// An [`InputError`] with the code of the module documentation.
pub fn parse_group(name: &str, body: &[u8]) -> Result<KeywordGroup, InputError> {
    const EXAMPLE: &str = "{\"groupName\": \"complaints\", \"keywords\": [\"cancel my account\", \
                           \"speak to a manager\"]}";
    if !valid_group_name(name) {
        return Err(bad(
            KEYWORD_GROUP_NAME,
            format!(
                "`{}` cannot name a keyword group: use 1 to {MAX_GROUP_NAME_CHARS} characters \
                 without control characters.",
                excerpt(name, 40)
            ),
        ));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(bad(
            KEYWORD_GROUP_BODY,
            format!("The request body is empty: send the group as JSON, e.g. {EXAMPLE}."),
        ));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        bad(
            KEYWORD_GROUP_BODY,
            format!("The body is not JSON ({e}): send the group as {EXAMPLE}."),
        )
    })?;
    let Value::Object(map) = value else {
        return Err(bad(
            KEYWORD_GROUP_BODY,
            format!("The body must be a JSON object such as {EXAMPLE}."),
        ));
    };
    if let Some(other) = map
        .keys()
        .find(|k| !["groupName", "keywords"].contains(&k.as_str()))
    {
        return Err(bad(
            KEYWORD_GROUP_BODY,
            format!(
                "A keyword group has only `groupName` and `keywords`; remove `{}`.",
                excerpt(other, 40)
            ),
        ));
    }
    match map.get("groupName") {
        Some(Value::String(n)) if n == name => {}
        Some(Value::String(n)) => {
            return Err(bad(
                KEYWORD_GROUP_NAME,
                format!(
                    "`groupName` is `{}` but the path names `{}`: they must be the same.",
                    excerpt(n, 40),
                    excerpt(name, 40)
                ),
            ));
        }
        _ => {
            return Err(bad(
                KEYWORD_GROUP_NAME,
                format!(
                    "The body needs `groupName` as a string equal to the name in the path (`{}`).",
                    excerpt(name, 40)
                ),
            ));
        }
    }
    let items = match map.get("keywords") {
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(Value::Array(_)) | None | Some(Value::Null) => {
            return Err(bad(
                KEYWORD_GROUP_NO_KEYWORDS,
                format!("A keyword group needs at least one keyword, e.g. {EXAMPLE}."),
            ));
        }
        Some(_) => {
            return Err(bad(
                KEYWORD_GROUP_BODY,
                "`keywords` must be an array of strings (words or phrases).",
            ));
        }
    };
    if items.len() > MAX_KEYWORDS {
        return Err(bad(
            INVALID_KEYWORD,
            format!(
                "The group has {} keywords; at most {MAX_KEYWORDS} are allowed. Split it into \
                 several groups.",
                items.len()
            ),
        ));
    }
    let mut keywords = Vec::with_capacity(items.len());
    let mut seen: Vec<Phrase> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Value::String(k) = item else {
            return Err(bad(
                INVALID_KEYWORD,
                format!("`keywords[{i}]` is not a string: give each word or phrase as a string."),
            ));
        };
        if k.chars().count() > MAX_KEYWORD_CHARS {
            return Err(bad(
                INVALID_KEYWORD,
                format!(
                    "`keywords[{i}]` (`{}`) is longer than {MAX_KEYWORD_CHARS} characters: \
                     spot a shorter phrase.",
                    excerpt(k, 40)
                ),
            ));
        }
        let Some(phrase) = Phrase::parse(k) else {
            return Err(bad(
                INVALID_KEYWORD,
                format!(
                    "`keywords[{i}]` (`{}`) has no word in it: give a word or phrase (`*` \
                     stands for any one word, but not for all of them).",
                    excerpt(k, 40)
                ),
            ));
        };
        if let Some(j) = seen.iter().position(|p| *p == phrase) {
            return Err(bad(
                INVALID_KEYWORD,
                format!(
                    "`keywords[{i}]` (`{}`) matches the same words as `keywords[{j}]`: keep \
                     one of them.",
                    excerpt(k, 40)
                ),
            ));
        }
        seen.push(phrase);
        keywords.push(k.clone());
    }
    Ok(KeywordGroup {
        group_name: name.to_owned(),
        keywords,
    })
}

/// A stored group body read back: `None` if it is not a group (which `put` never stores).
pub fn stored_group(body: &Value) -> Option<KeywordGroup> {
    serde_json::from_value(body.clone()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(name: &str, body: &str) -> u32 {
        parse_group(name, body.as_bytes()).unwrap_err().code
    }

    #[test]
    fn a_group_is_its_name_and_keywords() {
        let g = parse_group(
            "sales",
            br#"{"groupName":"sales","keywords":["upgrade","new plan","order 100"]}"#,
        )
        .unwrap();
        assert_eq!(g.group_name, "sales");
        assert_eq!(g.keywords, ["upgrade", "new plan", "order 100"]);
    }

    #[test]
    fn every_v3_error() {
        assert_eq!(code("g", ""), KEYWORD_GROUP_BODY);
        assert_eq!(code("g", "  \n"), KEYWORD_GROUP_BODY);
        assert_eq!(code("g", "{"), KEYWORD_GROUP_BODY);
        assert_eq!(code("g", "[]"), KEYWORD_GROUP_BODY);
        assert_eq!(
            code("g", r#"{"groupName":"g","keywords":["a"],"revision":1}"#),
            KEYWORD_GROUP_BODY
        );
        assert_eq!(
            code("g", r#"{"groupName":"g","keywords":"a"}"#),
            KEYWORD_GROUP_BODY
        );
        assert_eq!(
            code("g", r#"{"groupName":"g","keywords":[]}"#),
            KEYWORD_GROUP_NO_KEYWORDS
        );
        assert_eq!(code("g", r#"{"groupName":"g"}"#), KEYWORD_GROUP_NO_KEYWORDS);
        assert_eq!(
            code("g", r#"{"groupName":"h","keywords":["a"]}"#),
            KEYWORD_GROUP_NAME
        );
        assert_eq!(code("g", r#"{"keywords":["a"]}"#), KEYWORD_GROUP_NAME);
        assert_eq!(
            code(&"n".repeat(129), r#"{"keywords":["a"]}"#),
            KEYWORD_GROUP_NAME
        );
        assert_eq!(code(" ", r#"{"keywords":["a"]}"#), KEYWORD_GROUP_NAME);
        for bad in [
            r#"["a", 1]"#,
            r#"["a", "?!"]"#,
            r#"["*"]"#,
            r#"["Hello", "hello!"]"#,
        ] {
            let body = format!(r#"{{"groupName":"g","keywords":{bad}}}"#);
            assert_eq!(code("g", &body), INVALID_KEYWORD, "{bad}");
        }
        let long = format!(
            r#"{{"groupName":"g","keywords":["{}"]}}"#,
            "word ".repeat(21)
        );
        assert_eq!(code("g", &long), INVALID_KEYWORD);
        let many: Vec<String> = (0..=MAX_KEYWORDS).map(|i| format!("w{i}")).collect();
        let body = serde_json::json!({"groupName": "g", "keywords": many}).to_string();
        assert_eq!(code("g", &body), INVALID_KEYWORD);
        let limit = &many[..MAX_KEYWORDS];
        let body = serde_json::json!({"groupName": "g", "keywords": limit}).to_string();
        assert!(body.len() < MAX_GROUP_BODY_BYTES);
        assert!(parse_group("g", body.as_bytes()).is_ok());
    }
}
