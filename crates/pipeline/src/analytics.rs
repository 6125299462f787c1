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

#[cfg(test)]
mod tests {
    use super::*;
    use sealscribe_transcript::Word;

    fn transcript(text: &str) -> Transcript {
        let words = text
            .split_whitespace()
            .enumerate()
            .map(|(p, w)| Word {
                p: p as u32,
                s: 1000 * p as u64,
                e: 1000 * p as u64 + 900,
                c: 0.9,
                w: w.to_owned(),
                m: (w == ".").then(|| "punc".to_owned()),
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
        assert!(sections(&t, &MediaConfig::default()).is_empty());
        let config = MediaConfig {
            knowledge: true,
            ..MediaConfig::default()
        };
        let out = sections(&t, &config);
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
        let out = sections(&transcript(""), &config);
        assert_eq!(out["knowledge"], json!({"keywords": [], "topics": []}));
    }
}
