//! The `spotting` section (analytics reference §2.3): for each keyword group of the
//! configuration, which of its keywords were said, by whom and when.
//!
//! Shape: `{"groups": [VbGroup]}` in the configuration's group order, every group present —
//! one with no hit is `{"spotted": false, "score": 0, "spottedKeywords": []}`.
//! `spottedKeywords` lists the keywords said at least once, in the group's order, each with
//! `mentions[{speakerName, occurrences[{s, e, exact}]}]`: one entry per speaker (the turn's
//! speaker; `"unknown"` in a transcript without speakers), speakers in the order they first said
//! it. Matching is [`sealscribe_transcript::phrases`]'s one rule.
//!
//! `score`, which v3 leaves undefined: the share of the group's keywords that were said at
//! least once, 0 to 1 (4 decimals); `spotted` is `score > 0`.

use sealscribe_domain::spotting::KeywordGroup;
use sealscribe_transcript::phrases::{Phrase, Tokens, by_speaker};
use serde_json::{Value, json};

use crate::redaction::UNKNOWN_SPEAKER;

/// The `spotting` section for `groups` (at least one).
pub fn section(tokens: &Tokens<'_>, groups: &[KeywordGroup]) -> Value {
    let groups: Vec<Value> = groups.iter().map(|g| group(tokens, g)).collect();
    json!({ "groups": groups })
}

fn group(tokens: &Tokens<'_>, g: &KeywordGroup) -> Value {
    let mut spotted = Vec::new();
    for keyword in &g.keywords {
        // Stored groups were validated; a keyword without a word (never stored) spots nothing.
        let Some(phrase) = Phrase::parse(keyword) else {
            continue;
        };
        let found = tokens.find(&phrase);
        if found.is_empty() {
            continue;
        }
        let mentions: Vec<Value> = by_speaker(found)
            .into_iter()
            .map(|(speaker, occurrences)| {
                let occurrences: Vec<Value> = occurrences
                    .iter()
                    .map(|o| json!({"s": o.s, "e": o.e, "exact": o.exact}))
                    .collect();
                json!({
                    "speakerName": speaker.as_deref().unwrap_or(UNKNOWN_SPEAKER),
                    "occurrences": occurrences,
                })
            })
            .collect();
        spotted.push(json!({"keyword": keyword, "mentions": mentions}));
    }
    let score = if g.keywords.is_empty() {
        0.0
    } else {
        let share = spotted.len() as f64 / g.keywords.len() as f64;
        (share * 10_000.0).round() / 10_000.0
    };
    json!({
        "groupName": g.group_name,
        "spotted": !spotted.is_empty(),
        "score": score,
        "spottedKeywords": spotted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealscribe_transcript::{PUNC, Transcript, Word};

    /// Words 500 ms apart; `@Name` is a turn token, `,`/`.` punctuation.
    fn transcript(text: &str) -> Transcript {
        let words = text
            .split_whitespace()
            .enumerate()
            .map(|(p, w)| {
                let (w, m) = match w.strip_prefix('@') {
                    Some(name) => (name, Some("turn".to_owned())),
                    None if [",", "."].contains(&w) => (w, Some(PUNC.to_owned())),
                    None => (w, None),
                };
                Word {
                    p: p as u32,
                    s: p as u64 * 500,
                    e: p as u64 * 500 + 400,
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

    fn groups(spec: &[(&str, &[&str])]) -> Vec<KeywordGroup> {
        spec.iter()
            .map(|(name, kws)| KeywordGroup {
                group_name: (*name).to_owned(),
                keywords: kws.iter().map(|k| (*k).to_owned()).collect(),
            })
            .collect()
    }

    #[test]
    fn mentions_per_speaker_with_times_and_exact_words() {
        let t = transcript(
            "@Agent I can cancel the order . @Caller Please cancel my order , \
             cancel it now . @Agent Sure",
        );
        let tokens = Tokens::new(&t);
        let g = groups(&[
            ("churn", &["cancel", "close my account", "cancel my order"]),
            ("praise", &["thank you"]),
        ]);
        let out = section(&tokens, &g);
        let churn = &out["groups"][0];
        assert_eq!(churn["groupName"], "churn");
        assert_eq!(churn["spotted"], true);
        assert_eq!(churn["score"], 0.6667);
        let kws = churn["spottedKeywords"].as_array().unwrap();
        assert_eq!(kws.len(), 2, "{churn}");
        assert_eq!(kws[0]["keyword"], "cancel");
        let mentions = kws[0]["mentions"].as_array().unwrap();
        assert_eq!(mentions.len(), 2);
        assert_eq!(mentions[0]["speakerName"], "Agent");
        assert_eq!(
            mentions[0]["occurrences"],
            json!([{"s": 1500, "e": 1900, "exact": "cancel"}])
        );
        assert_eq!(mentions[1]["speakerName"], "Caller");
        assert_eq!(mentions[1]["occurrences"].as_array().unwrap().len(), 2);
        assert_eq!(kws[1]["keyword"], "cancel my order");
        assert_eq!(
            kws[1]["mentions"],
            json!([{"speakerName": "Caller", "occurrences": [
                {"s": 4500, "e": 5900, "exact": "cancel my order"}]}])
        );
        // A group with no hit is there, not spotted.
        assert_eq!(
            out["groups"][1],
            json!({"groupName": "praise", "spotted": false, "score": 0.0, "spottedKeywords": []})
        );
    }

    #[test]
    fn a_transcript_without_speakers_names_the_speaker_unknown() {
        let t = transcript("we ship one hundred units");
        let out = section(&Tokens::new(&t), &groups(&[("qty", &["100 units"])]));
        let kw = &out["groups"][0]["spottedKeywords"][0];
        assert_eq!(kw["mentions"][0]["speakerName"], "unknown");
        assert_eq!(
            kw["mentions"][0]["occurrences"][0]["exact"],
            "one hundred units"
        );
        assert_eq!(out["groups"][0]["score"], 1.0);
    }
}
