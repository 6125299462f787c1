//! The call-analytics sections of the media document — `spotting`, `categories` and
//! `knowledge` (analytics reference §2, §4, §6.3) — computed from the transcript as stored
//! (after redaction) and kept as one JSON object whose members the document puts at its top
//! level. For encrypted media they exist only inside the encrypted document.
//!
//! Each feature adds its section here; words and phrases are found with the one matching
//! rule of [`sealscribe_transcript::phrases`].

use sealscribe_domain::categories::SavedCategory;
use sealscribe_domain::configuration::MediaConfig;
use sealscribe_domain::vbql::Query;
use sealscribe_transcript::Transcript;
use sealscribe_transcript::phrases::Tokens;
use serde_json::{Map, Value, json};

/// The sections `config` asks for, by name. `metadata` is the media's v3 metadata object (for
/// VBQL's `metadata.…` conditions).
pub fn sections(
    transcript: &Transcript,
    config: &MediaConfig,
    metadata: Option<&Value>,
) -> Map<String, Value> {
    let tokens = Tokens::new(transcript);
    let mut out = Map::new();
    if let Some(categories) = &config.categories {
        out.insert(
            "categories".into(),
            categories_section(&tokens, categories, metadata),
        );
    }
    out
}

/// `categories[]` (analytics reference §4.3): per category `categoryValue` 1 or 0, and for a
/// match the occurrences that made it, per speaker.
fn categories_section(
    tokens: &Tokens<'_>,
    categories: &[SavedCategory],
    metadata: Option<&Value>,
) -> Value {
    let items = categories.iter().map(|c| {
        let outcome = match Query::parse(&c.query) {
            Ok(q) => q.evaluate(tokens, metadata),
            // Checked when saved and when the media was accepted: unreachable unless the
            // stored configuration was edited. The category does not match.
            Err(e) => {
                tracing::warn!(category = %c.category_name, "stored category query: {e}");
                return json!({"categoryName": c.category_name, "categoryValue": 0});
            }
        };
        let mut item = json!({
            "categoryName": c.category_name,
            "categoryValue": u8::from(outcome.matched),
        });
        if !outcome.matches.is_empty() {
            item["categoryMatches"] = outcome
                .matches
                .iter()
                .map(|m| {
                    json!({
                        "speakerName": m.speaker_name,
                        "occurrences": m.occurrences.iter()
                            .map(|o| json!({"s": o.s, "e": o.e, "exact": o.exact}))
                            .collect::<Vec<_>>(),
                    })
                })
                .collect();
        }
        item
    });
    Value::Array(items.collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealscribe_transcript::Word;

    fn transcript(text: &str) -> Transcript {
        let words = text
            .split_whitespace()
            .enumerate()
            .map(|(k, w)| {
                let (w, m) = match w.strip_prefix('@') {
                    Some(name) => (name, Some("turn".to_owned())),
                    None => (w, None),
                };
                Word {
                    p: k as u32,
                    s: 1000 * k as u64,
                    e: 1000 * k as u64 + 500,
                    c: 0.9,
                    w: w.to_owned(),
                    m,
                }
            })
            .collect();
        Transcript {
            confidence: 0.9,
            words,
            ..Transcript::default()
        }
    }

    fn category(name: &str, query: &str) -> SavedCategory {
        SavedCategory {
            category_name: name.into(),
            query: query.into(),
        }
    }

    #[test]
    fn categories_in_the_v3_shape() {
        let t = transcript("@agent hello there @caller cancel my plan");
        let config = MediaConfig {
            categories: Some(vec![
                category("churn", "SELECT * FROM media WHERE 'Caller' SAYS 'cancel'"),
                category(
                    "agent-churn",
                    "SELECT * FROM media WHERE 'agent' SAYS 'cancel'",
                ),
                category(
                    "emea",
                    "SELECT * FROM media WHERE metadata.extended.region = 'emea'",
                ),
            ]),
            ..MediaConfig::default()
        };
        let meta = json!({"extended": {"region": "emea"}});
        let out = sections(&t, &config, Some(&meta));
        assert_eq!(
            out["categories"],
            json!([
                {"categoryName": "churn", "categoryValue": 1, "categoryMatches": [
                    {"speakerName": "caller", "occurrences": [{"s": 4000, "e": 4500, "exact": "cancel"}]}]},
                {"categoryName": "agent-churn", "categoryValue": 0},
                {"categoryName": "emea", "categoryValue": 1},
            ])
        );
        // Nothing asked, no section; all asked of an account without categories: `[]`.
        assert!(sections(&t, &MediaConfig::default(), None).is_empty());
        let none = MediaConfig {
            categories: Some(vec![]),
            ..MediaConfig::default()
        };
        assert!(none.call_analytics());
        assert_eq!(sections(&t, &none, None)["categories"], json!([]));
    }
}
