//! Custom vocabularies (analytics reference §3): saved ones (`/v3/definition/vocabularies`)
//! and the `configuration.vocabularies[]` of a media, with the v3 limits and codes.
//!
//! Saved vocabularies are validated here ([`parse_definition`], codes 80200–80209) and stored
//! as their [`Vocabulary`] JSON in the account's definitions store. A media's configuration is
//! parsed into [`MediaVocabulary`] elements ([`parse_items`], codes 20006–20015); an element
//! naming a saved vocabulary is filled in at upload by [`resolve`] (20008/20009), which also
//! checks the media's totals (20010, 20013, 20017, 20101). The content is copied into the
//! stored configuration, so a later change to the saved vocabulary never changes a media
//! already accepted, and the worker needs no lookups.
//!
//! What recognition does with it: [`prompt_entries`] (terms by `weight`, then scripts) become
//! whisper's prompt, and [`sounds_like`] lists the phrases rewritten as their term in the
//! transcript. `docs/vocabularies.md` has the rules where v3 is silent.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codes::{
    DUPLICATE_VOCABULARY_TERM, INVALID_VOCABULARY_TERM, INVALID_VOCABULARY_WEIGHT,
    TOO_MANY_SCRIPT_WORDS, TOO_MANY_SCRIPTS, TOO_MANY_VOCABULARY_TERMS, VOCABULARY_BODY_INVALID,
    VOCABULARY_DUPLICATE_TERMS, VOCABULARY_ELEMENT_EMPTY, VOCABULARY_ELEMENT_MIXED,
    VOCABULARY_EMPTY, VOCABULARY_NAME_MISMATCH, VOCABULARY_NOT_FOUND, VOCABULARY_SCRIPT_INVALID,
    VOCABULARY_TERM_INVALID, VOCABULARY_TERMS_AND_SCRIPTS, VOCABULARY_TOO_MANY_TERMS,
    VOCABULARY_TYPE_MISMATCH, VOCABULARY_WITHOUT_CONTENT,
};
use crate::input::{InputError, excerpt};

/// Terms per saved vocabulary, and per media across all its vocabularies (v3: 1000).
pub const MAX_TERMS: usize = 1000;
/// Characters in a term or a `soundsLike` entry (v3: 64).
pub const MAX_TERM_CHARS: usize = 64;
/// `soundsLike` entries per term (v3: 100).
pub const MAX_SOUNDS_LIKE: usize = 100;
/// The largest `weight` (v3: an integer from 0 to 5).
pub const MAX_WEIGHT: u8 = 5;
/// Scripts per saved vocabulary and per media (v3 has a limit, 20101, but does not say it).
pub const MAX_SCRIPTS: usize = 100;
/// Words in all the scripts of a saved vocabulary or of a media (v3: 20013, value not
/// documented). Far more than the prompt holds (about 150 words), enough for any real script.
pub const MAX_SCRIPT_WORDS: usize = 10_000;
/// Characters in a vocabulary name (v3 does not document a syntax).
pub const MAX_NAME_CHARS: usize = 128;

/// `VbVocabularyTerm`: a word or phrase, what it may be heard as, and how much it matters.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Term {
    /// The word or phrase as it should be written (at most 64 characters).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub term: String,
    /// Phrases recognition may produce for it; each is rewritten as `term` in the transcript
    /// (at most 100, each at most 64 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
    pub sounds_like: Option<Vec<String>>,
    /// 0 (default) to 5: terms with a higher weight go first into the prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 5))]
    pub weight: Option<u8>,
}

/// One sample text of a scripts vocabulary.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Script {
    pub script: String,
}

/// `vocabularyType`: what a saved vocabulary holds.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum VocabularyType {
    Terms,
    Scripts,
}

/// `VbVocabulary`: a saved vocabulary as validated and stored (and answered, with `_links`).
/// Optional fields the client left out stay out.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Vocabulary {
    /// The name, equal to the one in the path (taken from the path when omitted on `PUT`).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 128))]
    pub vocabulary_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vocabulary_type: Option<VocabularyType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub terms: Option<Vec<Term>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
    pub scripts: Option<Vec<Script>>,
}

/// One element of a media's vocabularies as stored in its [`crate::configuration::MediaConfig`]:
/// ad hoc terms or scripts, or a saved vocabulary's name with (once [`resolve`]d) a copy of
/// its content.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct MediaVocabulary {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vocabulary_name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<Term>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scripts: Vec<String>,
}

/// A term as sent (types checked, values not yet).
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TermInput {
    pub term: Option<String>,
    pub sounds_like: Option<Vec<String>>,
    pub weight: Option<serde_json::Number>,
}

/// A script as sent.
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct ScriptInput {
    pub script: Option<String>,
}

/// One `configuration.vocabularies[]` element as sent (`VbVocabularyConfiguration`).
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VocabularyItem {
    pub vocabulary_name: Option<String>,
    pub terms: Option<Vec<TermInput>>,
    pub scripts: Option<Vec<ScriptInput>>,
}

/// A saved vocabulary as sent to `PUT` (a `_links` copied from a `GET` answer is ignored).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DefinitionInput {
    vocabulary_name: Option<String>,
    vocabulary_type: Option<String>,
    terms: Option<Vec<TermInput>>,
    scripts: Option<Vec<ScriptInput>>,
    #[serde(rename = "_links")]
    _links: Option<Value>,
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// Why a vocabulary name cannot be used, if it cannot: 1 to 128 characters, not blank, no
/// control characters and no `/` (the name is a path segment).
pub fn name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        Some("a vocabulary name cannot be empty".into())
    } else if name.chars().count() > MAX_NAME_CHARS {
        Some(format!(
            "a vocabulary name is at most {MAX_NAME_CHARS} characters"
        ))
    } else if has_control(name) || name.contains('/') {
        Some("a vocabulary name cannot contain control characters or `/`".into())
    } else {
        None
    }
}

/// Why a term or `soundsLike` entry is unusable, if it is.
fn text_problem(what: &str, text: &str) -> Option<String> {
    if text.trim().is_empty() {
        Some(format!("{what} is empty"))
    } else if text.chars().count() > MAX_TERM_CHARS {
        Some(format!(
            "{what} `{}` is longer than {MAX_TERM_CHARS} characters",
            excerpt(text, 40)
        ))
    } else if has_control(text) {
        Some(format!(
            "{what} `{}` contains control characters",
            excerpt(text, 40)
        ))
    } else {
        None
    }
}

/// A term checked against the v3 rules; `Err((is_weight, reason))`.
fn term(at: &str, t: &TermInput) -> Result<Term, (bool, String)> {
    let text = t.term.as_deref().unwrap_or("");
    if let Some(p) = text_problem(&format!("`{at}.term`"), text) {
        return Err((false, p));
    }
    if let Some(sl) = &t.sounds_like {
        if sl.len() > MAX_SOUNDS_LIKE {
            return Err((
                false,
                format!(
                    "`{at}.soundsLike` has {} entries; a term takes at most {MAX_SOUNDS_LIKE}",
                    sl.len()
                ),
            ));
        }
        for (k, s) in sl.iter().enumerate() {
            if let Some(p) = text_problem(&format!("`{at}.soundsLike[{k}]`"), s) {
                return Err((false, p));
            }
        }
    }
    let weight = match &t.weight {
        None => None,
        Some(n) => match n.as_u64().and_then(|w| u8::try_from(w).ok()) {
            Some(w) if w <= MAX_WEIGHT => Some(w),
            _ => {
                return Err((
                    true,
                    format!("`{at}.weight` is {n}; use an integer from 0 to {MAX_WEIGHT}"),
                ));
            }
        },
    };
    Ok(Term {
        term: text.to_owned(),
        sounds_like: t.sounds_like.clone(),
        weight,
    })
}

fn script(at: &str, s: &ScriptInput) -> Result<String, String> {
    let text = s.script.as_deref().unwrap_or("");
    if text.trim().is_empty() {
        return Err(format!("`{at}.script` is empty"));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(format!("`{at}.script` contains control characters"));
    }
    Ok(text.to_owned())
}

/// The key two terms are duplicates by: trimmed, case-folded.
fn term_key(t: &str) -> String {
    t.trim().to_lowercase()
}

fn first_duplicate<'a>(terms: impl Iterator<Item = &'a Term>) -> Option<&'a str> {
    let mut seen = HashSet::new();
    terms
        .into_iter()
        .find(|t| !seen.insert(term_key(&t.term)))
        .map(|t| t.term.as_str())
}

fn script_words<'a>(scripts: impl Iterator<Item = &'a str>) -> usize {
    scripts.map(|s| s.split_whitespace().count()).sum()
}

/// Checks the script limits shared by saved vocabularies and media (20101, 20013).
fn script_limits<'a>(
    count: usize,
    scripts: impl Iterator<Item = &'a str>,
    whose: &str,
) -> Result<(), InputError> {
    if count > MAX_SCRIPTS {
        return Err(InputError::new(
            TOO_MANY_SCRIPTS,
            format!("{whose} has {count} scripts; at most {MAX_SCRIPTS} are allowed."),
        ));
    }
    let words = script_words(scripts);
    if words > MAX_SCRIPT_WORDS {
        return Err(InputError::new(
            TOO_MANY_SCRIPT_WORDS,
            format!(
                "{whose} has {words} words in its scripts; at most {MAX_SCRIPT_WORDS} are \
                 allowed (only about the first 150 words can guide recognition anyway)."
            ),
        ));
    }
    Ok(())
}

/// Validates the body of `PUT /v3/definition/vocabularies/{path_name}` (codes 80200–80209,
/// 20101, 20013). A body without `vocabularyName` takes the path's.
///
/// # Errors
/// An [`InputError`] with the v3 code and a message for the customer.
pub fn parse_definition(path_name: &str, body: &Value) -> Result<Vocabulary, InputError> {
    if let Some(p) = name_problem(path_name) {
        return Err(InputError::new(
            VOCABULARY_NAME_MISMATCH,
            format!("{p}; use a name such as `earningsCalls` in the path."),
        ));
    }
    let example = "Send {\"vocabularyName\": \"<name>\", \"terms\": [{\"term\": \"AFFO\", \
                   \"soundsLike\": [\"A.F.F.O.\"], \"weight\": 2}]}.";
    if body.as_object().is_none_or(serde_json::Map::is_empty) {
        return Err(InputError::new(
            VOCABULARY_BODY_INVALID,
            format!("the request body must be a vocabulary (a non-empty JSON object). {example}"),
        ));
    }
    let input: DefinitionInput = serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        let text = e.into_inner().to_string();
        InputError::new(
            VOCABULARY_BODY_INVALID,
            format!(
                "the vocabulary is not valid at `{path}`: {}. {example}",
                excerpt(&text, 160)
            ),
        )
    })?;
    let name = input
        .vocabulary_name
        .clone()
        .unwrap_or_else(|| path_name.to_owned());
    if name != path_name {
        return Err(InputError::new(
            VOCABULARY_NAME_MISMATCH,
            format!(
                "the body's vocabularyName `{}` differs from the name in the path `{}`; \
                 make them equal (the path names the vocabulary).",
                excerpt(&name, 60),
                excerpt(path_name, 60)
            ),
        ));
    }
    let vocabulary_type = match input.vocabulary_type.as_deref() {
        None => None,
        Some("terms") => Some(VocabularyType::Terms),
        Some("scripts") => Some(VocabularyType::Scripts),
        Some(other) => {
            return Err(InputError::new(
                VOCABULARY_BODY_INVALID,
                format!(
                    "vocabularyType `{}` is not valid; use `terms` or `scripts` (or omit it \
                     for terms).",
                    excerpt(other, 40)
                ),
            ));
        }
    };
    let has_terms = input.terms.as_ref().is_some_and(|t| !t.is_empty());
    let has_scripts = input.scripts.as_ref().is_some_and(|s| !s.is_empty());
    match (has_terms, has_scripts) {
        (true, true) => {
            return Err(InputError::new(
                VOCABULARY_TERMS_AND_SCRIPTS,
                "a saved vocabulary holds either terms or scripts, not both: save them as two \
                 vocabularies and name both in the configuration.",
            ));
        }
        (false, false) => {
            return Err(InputError::new(
                VOCABULARY_WITHOUT_CONTENT,
                format!("the vocabulary has neither terms nor scripts. {example}"),
            ));
        }
        _ => {}
    }
    if has_scripts && vocabulary_type != Some(VocabularyType::Scripts) {
        return Err(InputError::new(
            VOCABULARY_TYPE_MISMATCH,
            "a vocabulary of scripts must say so: add \"vocabularyType\": \"scripts\".",
        ));
    }
    if has_terms && vocabulary_type == Some(VocabularyType::Scripts) {
        return Err(InputError::new(
            VOCABULARY_TYPE_MISMATCH,
            "this vocabulary has terms but says \"vocabularyType\": \"scripts\"; use \"terms\" \
             or omit vocabularyType.",
        ));
    }
    let mut out = Vocabulary {
        vocabulary_name: name,
        vocabulary_type,
        terms: None,
        scripts: None,
    };
    if let Some(items) = input.terms.filter(|t| !t.is_empty()) {
        if items.len() > MAX_TERMS {
            return Err(InputError::new(
                VOCABULARY_TOO_MANY_TERMS,
                format!(
                    "the vocabulary has {} terms; at most {MAX_TERMS} are allowed. Split it.",
                    items.len()
                ),
            ));
        }
        let terms = items
            .iter()
            .enumerate()
            .map(|(i, t)| {
                term(&format!("terms[{i}]"), t).map_err(|(_, reason)| {
                    InputError::new(VOCABULARY_TERM_INVALID, format!("{reason}."))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(d) = first_duplicate(terms.iter()) {
            return Err(InputError::new(
                VOCABULARY_DUPLICATE_TERMS,
                format!(
                    "the term `{}` appears more than once (terms are compared without case); \
                     keep one.",
                    excerpt(d, 64)
                ),
            ));
        }
        out.terms = Some(terms);
    }
    if let Some(items) = input.scripts.filter(|s| !s.is_empty()) {
        script_limits(
            items.len(),
            items.iter().filter_map(|s| s.script.as_deref()),
            "the vocabulary",
        )?;
        let scripts = items
            .iter()
            .enumerate()
            .map(|(i, s)| {
                script(&format!("scripts[{i}]"), s)
                    .map(|script| Script { script })
                    .map_err(|r| InputError::new(VOCABULARY_SCRIPT_INVALID, format!("{r}.")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.scripts = Some(scripts);
    }
    Ok(out)
}

/// Parses `configuration.vocabularies[]` (codes 20006, 20007, 20014, 20015 and the totals of
/// the ad hoc content); saved names stay to be [`resolve`]d.
///
/// # Errors
/// An [`InputError`] with the v3 code and a message for the customer.
pub fn parse_items(items: &[VocabularyItem]) -> Result<Vec<MediaVocabulary>, InputError> {
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("vocabularies[{i}]");
        let terms = item.terms.as_ref().filter(|t| !t.is_empty());
        let scripts = item.scripts.as_ref().filter(|s| !s.is_empty());
        let name = item.vocabulary_name.as_deref();
        let given = [name.is_some(), terms.is_some(), scripts.is_some()];
        match given.iter().filter(|g| **g).count() {
            0 => {
                return Err(InputError::new(
                    VOCABULARY_ELEMENT_EMPTY,
                    format!(
                        "`{at}` has neither a vocabularyName nor terms nor scripts: use \
                         {{\"vocabularyName\": \"<saved name>\"}} or {{\"terms\": [{{\"term\": \
                         \"VoiceBase\"}}]}}."
                    ),
                ));
            }
            1 => {}
            _ => {
                return Err(InputError::new(
                    VOCABULARY_ELEMENT_MIXED,
                    format!(
                        "`{at}` combines a vocabularyName, terms and scripts; each element is \
                         one of them: split it into separate elements of `vocabularies`."
                    ),
                ));
            }
        }
        let mut v = MediaVocabulary::default();
        if let Some(name) = name {
            if let Some(p) = name_problem(name) {
                return Err(InputError::new(
                    VOCABULARY_NOT_FOUND,
                    format!("`{at}.vocabularyName`: {p}."),
                ));
            }
            v.vocabulary_name = Some(name.to_owned());
        }
        for (k, t) in terms.into_iter().flatten().enumerate() {
            let t = term(&format!("{at}.terms[{k}]"), t).map_err(|(w, reason)| {
                let code = if w {
                    INVALID_VOCABULARY_WEIGHT
                } else {
                    INVALID_VOCABULARY_TERM
                };
                InputError::new(code, format!("{reason}."))
            })?;
            v.terms.push(t);
        }
        for (k, s) in scripts.into_iter().flatten().enumerate() {
            let s = script(&format!("{at}.scripts[{k}]"), s)
                .map_err(|r| InputError::new(TOO_MANY_SCRIPT_WORDS, format!("{r}.")))?;
            v.scripts.push(s);
        }
        out.push(v);
    }
    totals(&out)?;
    Ok(out)
}

/// The media-wide limits: terms (20010), duplicates (20017), scripts (20101, 20013).
fn totals(vocabularies: &[MediaVocabulary]) -> Result<(), InputError> {
    let terms = vocabularies.iter().map(|v| v.terms.len()).sum::<usize>();
    if terms > MAX_TERMS {
        return Err(InputError::new(
            TOO_MANY_VOCABULARY_TERMS,
            format!(
                "the vocabularies of this media have {terms} terms together; at most \
                 {MAX_TERMS} are allowed per media. Keep the ones that matter for it."
            ),
        ));
    }
    if let Some(d) = first_duplicate(vocabularies.iter().flat_map(|v| &v.terms)) {
        return Err(InputError::new(
            DUPLICATE_VOCABULARY_TERM,
            format!(
                "the term `{}` is given more than once across this media's vocabularies \
                 (terms are compared without case); keep it in one of them.",
                excerpt(d, 64)
            ),
        ));
    }
    let scripts = vocabularies.iter().flat_map(|v| &v.scripts);
    script_limits(
        scripts.clone().count(),
        scripts.map(String::as_str),
        "this media's configuration",
    )
}

/// The saved vocabularies `vocabularies` name (each once), to look up before [`resolve`].
pub fn saved_names(vocabularies: &[MediaVocabulary]) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for n in vocabularies
        .iter()
        .filter_map(|v| v.vocabulary_name.as_deref())
    {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    names
}

/// Copies the content of each named saved vocabulary (`saved`, by name, as the account's
/// store has them) into `vocabularies`, then checks the media's totals.
///
/// # Errors
/// 20008 for a name not in `saved`, 20009 for an empty one, and the codes of the totals.
pub fn resolve(
    vocabularies: &mut [MediaVocabulary],
    saved: &HashMap<String, Vocabulary>,
) -> Result<(), InputError> {
    for (i, v) in vocabularies.iter_mut().enumerate() {
        let Some(name) = v.vocabulary_name.as_deref() else {
            continue;
        };
        let Some(found) = saved.get(name) else {
            return Err(InputError::new(
                VOCABULARY_NOT_FOUND,
                format!(
                    "`vocabularies[{i}]` names the vocabulary `{}`, which this account has \
                     not saved; create it with PUT /v3/definition/vocabularies/{{name}} first \
                     (GET /v3/definition/vocabularies lists yours).",
                    excerpt(name, 60)
                ),
            ));
        };
        v.terms = found.terms.clone().unwrap_or_default();
        v.scripts = found
            .scripts
            .iter()
            .flatten()
            .map(|s| s.script.clone())
            .collect();
        if v.terms.is_empty() && v.scripts.is_empty() {
            return Err(InputError::new(
                VOCABULARY_EMPTY,
                format!(
                    "the saved vocabulary `{}` has no terms and no scripts; add some or \
                     leave it out.",
                    excerpt(name, 60)
                ),
            ));
        }
    }
    totals(vocabularies)
}

/// What goes into the recogniser's prompt, most important first: every term by descending
/// `weight` (ties in the order given), then every script. The recogniser keeps as many as
/// fit in its prompt.
pub fn prompt_entries(vocabularies: &[MediaVocabulary]) -> Vec<String> {
    let mut terms: Vec<&Term> = vocabularies.iter().flat_map(|v| &v.terms).collect();
    terms.sort_by_key(|t| std::cmp::Reverse(t.weight.unwrap_or(0)));
    terms
        .into_iter()
        .map(|t| t.term.trim().to_owned())
        .chain(
            vocabularies
                .iter()
                .flat_map(|v| &v.scripts)
                .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" ")),
        )
        .collect()
}

/// `(phrase, term)`: each term itself (so it is written as given, e.g. `CapEx` for a
/// recognised `capex`) and each of its `soundsLike` entries, for the transcript rewrite.
pub fn sounds_like(vocabularies: &[MediaVocabulary]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for t in vocabularies.iter().flat_map(|v| &v.terms) {
        let term = t.term.trim().to_owned();
        out.push((term.clone(), term.clone()));
        for s in t.sounds_like.iter().flatten() {
            out.push((s.trim().to_owned(), term.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn items(v: Value) -> Vec<VocabularyItem> {
        serde_json::from_value(v).unwrap()
    }

    fn code<T: std::fmt::Debug>(r: Result<T, InputError>) -> u32 {
        r.unwrap_err().code
    }

    #[test]
    fn definition_round_trips_and_keeps_omitted_fields_out() {
        let body = json!({"vocabularyName": "earningsCalls",
            "terms": [{"term": "AFFO", "soundsLike": ["A.F.F.O."], "weight": 2}, {"term": "CapEx"}]});
        let v = parse_definition("earningsCalls", &body).unwrap();
        assert_eq!(serde_json::to_value(&v).unwrap(), body);
        // Without a name, the path's; `_links` from a GET is ignored.
        let v = parse_definition("x", &json!({"terms": [{"term": "a"}], "_links": {}})).unwrap();
        assert_eq!(v.vocabulary_name, "x");
        let s = json!({"vocabularyName": "s", "vocabularyType": "scripts", "scripts": [{"script": "Hello there."}]});
        assert_eq!(
            serde_json::to_value(parse_definition("s", &s).unwrap()).unwrap(),
            s
        );
    }

    #[test]
    fn definition_errors_have_their_codes() {
        let t = |v: Value| code(parse_definition("n", &v));
        assert_eq!(t(json!(null)), 80200);
        assert_eq!(t(json!({})), 80200);
        assert_eq!(t(json!({"terms": "x"})), 80200);
        assert_eq!(t(json!({"colour": 1})), 80200);
        assert_eq!(
            t(json!({"vocabularyName": "m", "terms": [{"term": "a"}]})),
            80202
        );
        assert_eq!(t(json!({"terms": [{"term": ""}]})), 80203);
        assert_eq!(t(json!({"terms": [{"term": "x".repeat(65)}]})), 80203);
        assert_eq!(t(json!({"terms": [{"term": "a", "weight": 6}]})), 80203);
        assert_eq!(t(json!({"terms": [{"term": "a", "weight": 1.5}]})), 80203);
        assert_eq!(
            t(json!({"terms": [{"term": "a", "soundsLike": vec!["b"; 101]}]})),
            80203
        );
        assert_eq!(
            t(
                json!({"vocabularyType": "scripts", "terms": [{"term": "a"}], "scripts": [{"script": "b"}]})
            ),
            80204
        );
        assert_eq!(t(json!({"scripts": [{"script": "b"}]})), 80205);
        assert_eq!(
            t(json!({"vocabularyType": "scripts", "terms": [{"term": "a"}]})),
            80205
        );
        assert_eq!(t(json!({"terms": []})), 80206);
        assert_eq!(
            t(json!({"vocabularyType": "scripts", "scripts": [{"script": " "}]})),
            80207
        );
        let many: Vec<Value> = (0..1001)
            .map(|i| json!({"term": format!("t{i}")}))
            .collect();
        assert_eq!(t(json!({ "terms": many })), 80208);
        assert_eq!(
            t(json!({"terms": [{"term": "Zed"}, {"term": "zed "}]})),
            80209
        );
        let scripts: Vec<Value> = (0..101).map(|_| json!({"script": "a"})).collect();
        assert_eq!(
            t(json!({"vocabularyType": "scripts", "scripts": scripts})),
            20101
        );
        assert_eq!(
            code(parse_definition("a/b", &json!({"terms": [{"term": "a"}]}))),
            80202
        );
    }

    #[test]
    fn configuration_errors_have_their_codes() {
        let t = |v: Value| code(parse_items(&items(v)));
        assert_eq!(t(json!([{}])), 20006);
        assert_eq!(t(json!([{"terms": []}])), 20006);
        assert_eq!(
            t(json!([{"vocabularyName": "a", "terms": [{"term": "b"}]}])),
            20007
        );
        assert_eq!(
            t(json!([{"terms": [{"term": "b"}], "scripts": [{"script": "c"}]}])),
            20007
        );
        assert_eq!(t(json!([{"terms": [{"term": " "}]}])), 20014);
        assert_eq!(
            t(json!([{"terms": [{"term": "b", "soundsLike": [""]}]}])),
            20014
        );
        assert_eq!(t(json!([{"terms": [{"term": "b", "weight": -1}]}])), 20015);
        assert_eq!(
            t(json!([{"terms": [{"term": "b"}]}, {"terms": [{"term": "B"}]}])),
            20017
        );
        let many: Vec<Value> = (0..1001)
            .map(|i| json!({"term": format!("t{i}")}))
            .collect();
        assert_eq!(t(json!([{ "terms": many }])), 20010);
        let words = "word ".repeat(MAX_SCRIPT_WORDS + 1);
        assert_eq!(t(json!([{"scripts": [{"script": words}]}])), 20013);
    }

    #[test]
    fn saved_vocabularies_are_resolved_and_checked_with_the_rest() {
        let mut v = parse_items(&items(json!([
            {"vocabularyName": "products"},
            {"terms": [{"term": "CapEx"}]},
        ])))
        .unwrap();
        assert_eq!(saved_names(&v), ["products"]);
        let mut saved = HashMap::new();
        assert_eq!(code(resolve(&mut v.clone(), &saved)), 20008);
        let products = parse_definition(
            "products",
            &json!({"terms": [{"term": "Draxulon", "soundsLike": ["tracks you're in"], "weight": 3}]}),
        )
        .unwrap();
        saved.insert("products".to_owned(), products);
        resolve(&mut v, &saved).unwrap();
        assert_eq!(v[0].terms[0].term, "Draxulon");
        assert_eq!(prompt_entries(&v), ["Draxulon", "CapEx"]);
        assert_eq!(
            sounds_like(&v),
            [
                ("Draxulon".to_owned(), "Draxulon".to_owned()),
                ("tracks you're in".to_owned(), "Draxulon".to_owned()),
                ("CapEx".to_owned(), "CapEx".to_owned()),
            ]
        );
        // A saved term repeated ad hoc.
        let mut dup = parse_items(&items(json!([
            {"vocabularyName": "products"},
            {"terms": [{"term": "draxulon"}]},
        ])))
        .unwrap();
        assert_eq!(code(resolve(&mut dup, &saved)), 20017);
    }

    #[test]
    fn prompt_order_is_weight_then_given_order_then_scripts() {
        let v = parse_items(&items(json!([
            {"terms": [{"term": "a"}, {"term": "b", "weight": 5}, {"term": "c", "weight": 0}, {"term": "d", "weight": 5}]},
            {"scripts": [{"script": "Thank you for  calling\nAcme."}]},
        ])))
        .unwrap();
        assert_eq!(
            prompt_entries(&v),
            ["b", "d", "a", "c", "Thank you for calling Acme."]
        );
    }
}
