//! The call-analytics sections of the media document — `spotting`, `categories` and
//! `knowledge` (analytics reference §2, §4, §6.3) — computed from the transcript as stored
//! (after redaction) and kept as one JSON object whose members the document puts at its top
//! level. For encrypted media they exist only inside the encrypted document.
//!
//! Each feature adds its section here; words and phrases are found with the one matching
//! rule of [`sealscribe_transcript::phrases`].

use sealscribe_domain::categories::SavedCategory;
use sealscribe_domain::configuration::{Ingest, MediaConfig, Speaker};
use sealscribe_domain::vbql::{Media, Query};
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
    if !config.spotting.is_empty() {
        out.insert(
            "spotting".to_owned(),
            crate::spotting::section(&tokens, &config.spotting),
        );
    }
    if let Some(categories) = &config.categories {
        let roles = roles(&config.ingest);
        let media = Media {
            tokens: &tokens,
            metadata,
            roles: &roles,
        };
        out.insert("categories".into(), categories_section(&media, categories));
    }
    if config.knowledge {
        out.insert("knowledge".into(), knowledge(transcript, config));
    }
    out
}

/// `knowledge` (analytics reference §6.3): key phrases by the method of
/// [`sealscribe_transcript::keywords`], mentions per speaker (`"unknown"` without speakers,
/// as v3 reports mono), occurrences `{s, exact}`. `topics` is always `[]`: topic detection
/// needs a taxonomy sealscribe does not have, and the documented empty shape is better for
/// clients than a refusal.
fn knowledge(transcript: &Transcript, config: &MediaConfig) -> Value {
    let keywords: Vec<Value> =
        sealscribe_transcript::keywords::keywords(transcript, &config.language)
            .into_iter()
            .map(|k| {
                let mentions: Vec<Value> = k
                    .mentions
                    .into_iter()
                    .map(|(speaker, occurrences)| {
                        let occurrences: Vec<Value> = occurrences
                            .into_iter()
                            .map(|(s, exact)| json!({"s": s, "exact": exact}))
                            .collect();
                        json!({
                            "speakerName": speaker.unwrap_or_else(|| "unknown".into()),
                            "occurrences": occurrences,
                        })
                    })
                    .collect();
                json!({"keyword": k.keyword, "relevance": k.relevance, "mentions": mentions})
            })
            .collect();
    json!({"keywords": keywords, "topics": []})
}

/// `(speakerName, speakerRole)` of every configured speaker with a role.
fn roles(ingest: &Ingest) -> Vec<(String, String)> {
    let speakers: Vec<&Speaker> = match ingest {
        Ingest::Mono => vec![],
        Ingest::NamedMono { speaker } => vec![speaker],
        Ingest::Channels { channels } => channels.iter().map(|c| &c.speaker).collect(),
        Ingest::Tracks { tracks } => tracks
            .iter()
            .flat_map(|t| {
                t.speaker
                    .iter()
                    .chain(t.channels.iter().map(|c| &c.speaker))
            })
            .collect(),
    };
    speakers
        .into_iter()
        .filter_map(|s| Some((s.name.clone(), s.role.clone()?)))
        .collect()
}

/// `categories[]` (analytics reference §4.3): per category `categoryValue` 1 or 0, and for a
/// match the occurrences that made it, per speaker.
fn categories_section(media: &Media<'_>, categories: &[SavedCategory]) -> Value {
    let items = categories.iter().map(|c| {
        let outcome = match Query::parse(&c.query) {
            Ok(q) => q.evaluate(media),
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

    #[test]
    fn knowledge_only_when_asked_in_the_v3_shape() {
        let t = transcript("my invoice is late . the invoice again");
        assert!(sections(&t, &MediaConfig::default(), None).is_empty());
        let config = MediaConfig {
            knowledge: true,
            ..MediaConfig::default()
        };
        assert!(config.call_analytics());
        let out = sections(&t, &config, None);
        let k = &out["knowledge"];
        assert_eq!(k["topics"], json!([]));
        assert_eq!(k["keywords"][0]["keyword"], "invoice");
        assert_eq!(k["keywords"][0]["relevance"], 1.0);
        assert_eq!(
            k["keywords"][0]["mentions"],
            json!([{"speakerName": "unknown", "occurrences": [
                {"s": 1000, "exact": "invoice"}, {"s": 6000, "exact": "invoice"}]}])
        );
        // Nothing said: the documented empty shape.
        let out = sections(&transcript(""), &config, None);
        assert_eq!(out["knowledge"], json!({"keywords": [], "topics": []}));
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

    #[test]
    fn a_quoted_speaker_may_be_the_configured_role() {
        use sealscribe_domain::configuration::Channel;
        let t = transcript("@Alice hello there @Bob cancel my plan");
        let speaker = |name: &str, role: Option<&str>| Channel {
            speaker: Speaker {
                name: name.into(),
                role: role.map(Into::into),
            },
            ignore: false,
        };
        let config = MediaConfig {
            ingest: Ingest::Channels {
                channels: vec![speaker("Alice", Some("agent")), speaker("Bob", None)],
            },
            categories: Some(vec![
                category(
                    "agent-greets",
                    "SELECT * FROM media WHERE 'Agent' SAYS 'hello'",
                ),
                category(
                    "agent-cancels",
                    "SELECT * FROM media WHERE 'agent' SAYS 'cancel'",
                ),
            ]),
            ..MediaConfig::default()
        };
        let out = sections(&t, &config, None);
        assert_eq!(out["categories"][0]["categoryValue"], 1);
        assert_eq!(
            out["categories"][0]["categoryMatches"][0]["speakerName"],
            "Alice"
        );
        assert_eq!(out["categories"][1]["categoryValue"], 0);
    }
}
