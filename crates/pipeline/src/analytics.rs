//! The call-analytics sections of the media document — `spotting`, `categories` and
//! `knowledge` (analytics reference §2, §4, §6.3) — computed from the transcript as stored
//! (after redaction) and kept as one JSON object whose members the document puts at its top
//! level. For encrypted media they exist only inside the encrypted document.
//!
//! Each feature adds its section here; words and phrases are found with the one matching
//! rule of [`sealscribe_transcript::phrases`].

use sealscribe_domain::configuration::MediaConfig;
use sealscribe_transcript::Transcript;
use serde_json::{Map, Value, json};

/// The sections `config` asks for, by name.
pub fn sections(transcript: &Transcript, config: &MediaConfig) -> Map<String, Value> {
    let mut out = Map::new();
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
