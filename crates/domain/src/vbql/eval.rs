//! Evaluating a [`Query`] over one media: its transcript's words, read once as
//! [`Tokens`], and its metadata.

use sealscribe_transcript::phrases::{Occurrence, Tokens};
use serde_json::Value;

use super::{Expr, Literal, Query, Says, Speaker};

/// The speaker of a transcript without turn tokens, as v3 analytics name it (§1.4).
pub const UNKNOWN_SPEAKER: &str = "unknown";

/// Whether a media matched a query, and the occurrences that made it match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub matched: bool,
    /// Per speaker (in order of their first occurrence), the phrases that made the condition
    /// true; empty when it did not match, or matched without a phrase being said (e.g. `NOT`).
    pub matches: Vec<SpeakerMatches>,
}

/// The occurrences of one speaker, earliest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpeakerMatches {
    pub speaker_name: String,
    pub occurrences: Vec<Occurrence>,
}

impl Query {
    /// Evaluates the condition over `tokens` (the transcript) and `metadata` (the media's
    /// v3 metadata object, `None` when it has none).
    pub fn evaluate(&self, tokens: &Tokens<'_>, metadata: Option<&Value>) -> Outcome {
        let (matched, occurrences) = eval(&self.condition, tokens, metadata);
        let mut matches: Vec<SpeakerMatches> = Vec::new();
        if matched {
            let mut occurrences = occurrences;
            occurrences.sort_by_key(|o| (o.s, o.first, o.last));
            occurrences.dedup_by_key(|o| (o.first, o.last));
            for o in occurrences {
                let name = speaker_of(&o).to_owned();
                match matches.iter_mut().find(|m| m.speaker_name == name) {
                    Some(m) => m.occurrences.push(o),
                    None => matches.push(SpeakerMatches {
                        speaker_name: name,
                        occurrences: vec![o],
                    }),
                }
            }
        }
        Outcome { matched, matches }
    }
}

fn speaker_of(o: &Occurrence) -> &str {
    o.speaker.as_deref().unwrap_or(UNKNOWN_SPEAKER)
}

/// The occurrences of one `SAYS`, by its speaker.
fn said(s: &Says, tokens: &Tokens<'_>) -> Vec<Occurrence> {
    let mut found = tokens.find(&s.phrase);
    if let Speaker::Named(name) = &s.speaker {
        let name = name.to_lowercase();
        found.retain(|o| speaker_of(o).to_lowercase() == name);
    }
    found
}

fn eval(e: &Expr, tokens: &Tokens<'_>, metadata: Option<&Value>) -> (bool, Vec<Occurrence>) {
    match e {
        Expr::Says(s) => {
            let found = said(s, tokens);
            (!found.is_empty(), found)
        }
        Expr::Not(inner) => (!eval(inner, tokens, metadata).0, Vec::new()),
        Expr::And(items) => {
            let mut all = Vec::new();
            for item in items {
                let (ok, found) = eval(item, tokens, metadata);
                if !ok {
                    return (false, Vec::new());
                }
                all.extend(found);
            }
            (true, all)
        }
        Expr::Or(items) => {
            let (mut any, mut all) = (false, Vec::new());
            for item in items {
                let (ok, found) = eval(item, tokens, metadata);
                if ok {
                    any = true;
                    all.extend(found);
                }
            }
            (any, all)
        }
        Expr::Hits { of, cmp, n } => {
            let found: Vec<Occurrence> = of.iter().flat_map(|s| said(s, tokens)).collect();
            if cmp.holds(found.len() as u64, *n) {
                (true, found)
            } else {
                (false, Vec::new())
            }
        }
        Expr::Metadata { path, equal, value } => {
            let field = metadata.and_then(|m| {
                path.iter()
                    .try_fold(m, |v, key| v.as_object()?.get(key.as_str()))
            });
            let same = field.and_then(text).is_some_and(|t| t == literal(value));
            (same == *equal, Vec::new())
        }
    }
}

/// A scalar metadata value as text (`42`, `true`, `emea`); objects, arrays and null have none.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn literal(l: &Literal) -> String {
    match l {
        Literal::Str(s) => s.clone(),
        Literal::Number(n) => n.to_string(),
        Literal::Bool(b) => b.to_string(),
    }
}
