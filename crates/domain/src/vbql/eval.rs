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

/// What a query is evaluated on: one media's transcript, metadata and speakers' roles.
pub struct Media<'a> {
    /// The transcript, read once.
    pub tokens: &'a Tokens<'a>,
    /// The media's v3 metadata object, `None` when it has none.
    pub metadata: Option<&'a Value>,
    /// `(speakerName, speakerRole)` of the configured speakers that have a role: a quoted
    /// speaker in `SAYS` names a speaker or a role (`'agent' SAYS …` on a call whose agent is
    /// named `Alice`).
    pub roles: &'a [(String, String)],
}

impl Query {
    /// Evaluates the condition over `media`.
    pub fn evaluate(&self, media: &Media<'_>) -> Outcome {
        let (matched, occurrences) = eval(&self.condition, media);
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

/// The occurrences of one `SAYS`, by its speaker (a name or a role, any case).
fn said(s: &Says, media: &Media<'_>) -> Vec<Occurrence> {
    let mut found = media.tokens.find(&s.phrase);
    if let Speaker::Named(wanted) = &s.speaker {
        let wanted = wanted.to_lowercase();
        found.retain(|o| {
            let speaker = speaker_of(o);
            speaker.to_lowercase() == wanted
                || media
                    .roles
                    .iter()
                    .any(|(name, role)| name == speaker && role.to_lowercase() == wanted)
        });
    }
    found
}

fn eval(e: &Expr, media: &Media<'_>) -> (bool, Vec<Occurrence>) {
    match e {
        Expr::Says(s) => {
            let found = said(s, media);
            (!found.is_empty(), found)
        }
        Expr::Not(inner) => (!eval(inner, media).0, Vec::new()),
        Expr::And(items) => {
            let mut all = Vec::new();
            for item in items {
                let (ok, found) = eval(item, media);
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
                let (ok, found) = eval(item, media);
                if ok {
                    any = true;
                    all.extend(found);
                }
            }
            (any, all)
        }
        Expr::Hits { of, cmp, n } => {
            let found: Vec<Occurrence> = of.iter().flat_map(|s| said(s, media)).collect();
            if cmp.holds(found.len() as u64, *n) {
                (true, found)
            } else {
                (false, Vec::new())
            }
        }
        Expr::Metadata { path, equal, value } => {
            let field = media.metadata.and_then(|m| {
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
