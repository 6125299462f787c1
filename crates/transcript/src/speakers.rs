//! Multi-speaker transcripts: the words of each speaker, recognised on their own (one channel of
//! a stereo or multichannel call each), merged into one v3 timeline with turn tokens, and
//! `turns[]` / `voiceActivity[]` derived from it.
//!
//! Why phrases and not words: two people who talk over each other would otherwise produce a
//! turn per word (`Agent: yes Caller: I Agent: see …`), which no reader can follow and no v3
//! client expects. Each speaker's words are first cut into phrases, the phrases of all speakers
//! are ordered by their start, and consecutive phrases of the same speaker make one turn.
//!
//! # Rules
//! * **Phrases.** A speaker's words are cut before a word that follows sentence-ending
//!   punctuation (`.`, `?`, `!`) or that starts [`PHRASE_GAP_MS`] or more after the previous
//!   word ended. Punctuation stays with the word before it.
//! * **Order.** Phrases are ordered by the start of their first token; a tie keeps the order
//!   the speakers were given in (channel order). During overtalk, a phrase that starts while
//!   another speaker's phrase is still going therefore comes after that whole phrase: word
//!   times in `words[]` are then not strictly increasing, as in v3.
//! * **Turn tokens.** Each change of speaker (and the start) emits a turn token:
//!   `{"m":"turn","w":<speaker>,"c":1.0}`, `s` = start of the turn's first token, `e` = the
//!   latest end among its tokens. Turn tokens take a position `p` like a word; positions are
//!   renumbered from 0 over the merged list.
//! * **Confidence.** The mean confidence of the spoken words (not punctuation, not turn tokens).
//! * **`turns[]`** ([`Transcript::refresh_turns`]): one entry per turn token that has words
//!   after it: `speaker`, the turn's text on one line (as [`Transcript::text`] writes it, line
//!   breaks replaced by spaces), `s`/`e` from its first and last spoken token.
//! * **`voiceActivity[]`**: per speaker, in order of first turn, the spans of its words (not
//!   punctuation) with gaps shorter than [`ACTIVITY_GAP_MS`] closed: the speaker is taken to be
//!   talking through a pause under a second, as between words of one sentence.
//!
//! A transcript without turn tokens (mono without a named speaker) has neither `turns[]` nor
//! `voiceActivity[]`.

use crate::{Span, Transcript, Turn, VoiceActivity, Word, units};

/// A pause of this many milliseconds or more between two words of one speaker starts a new
/// phrase (see the module rules).
pub const PHRASE_GAP_MS: u64 = 1_000;

/// Pauses shorter than this (ms) between two words of one speaker are counted as talking in
/// `voiceActivity[]`.
pub const ACTIVITY_GAP_MS: u64 = 1_000;

/// The v3 marker of speaker-turn tokens.
pub const TURN: &str = "turn";

/// One speaker's contiguous stretch of tokens.
struct Phrase {
    speaker: usize,
    start: u64,
    tokens: Vec<Word>,
}

/// Cuts one speaker's tokens into phrases (turn tokens already in them are dropped).
fn phrases(speaker: usize, words: Vec<Word>) -> Vec<Phrase> {
    let mut out: Vec<Phrase> = Vec::new();
    let mut current: Option<Phrase> = None;
    let mut last_end: Option<u64> = None;
    let mut after_sentence = false;
    for w in words {
        if w.is_turn() && !w.is_punctuation() {
            continue;
        }
        if w.is_punctuation() {
            after_sentence |= crate::is_sentence_end(&w.w);
        } else {
            let cut = last_end
                .is_some_and(|end| after_sentence || w.s >= end.saturating_add(PHRASE_GAP_MS));
            if cut {
                out.extend(current.take());
            }
            last_end = Some(w.e);
            after_sentence = false;
        }
        current
            .get_or_insert_with(|| Phrase {
                speaker,
                start: w.s,
                tokens: Vec::new(),
            })
            .tokens
            .push(w);
    }
    out.extend(current);
    out
}

fn turn_token(speaker: &str, s: u64, e: u64) -> Word {
    Word {
        p: 0,
        s,
        e,
        c: 1.0,
        w: speaker.to_owned(),
        m: Some(TURN.to_owned()),
    }
}

/// Merges the transcripts of several speakers (each recognised on its own, e.g. one channel
/// each) into one timeline with turn tokens, `turns[]` and `voiceActivity[]`, following the
/// rules of the [module documentation](self). `parts` are `(speaker name, transcript)` in
/// channel order; a speaker who said nothing gets no turn. One part gives a single-speaker
/// transcript with one turn token at its start.
pub fn merge_speakers(parts: Vec<(String, Transcript)>) -> Transcript {
    let names: Vec<String> = parts.iter().map(|(n, _)| n.clone()).collect();
    let mut all: Vec<Phrase> = parts
        .into_iter()
        .enumerate()
        .flat_map(|(i, (_, t))| phrases(i, t.words))
        .collect();
    // Stable: ties keep channel order, and a speaker's phrases keep theirs.
    all.sort_by_key(|p| p.start);
    let mut words: Vec<Word> = Vec::new();
    let mut current: Option<(usize, usize)> = None; // (speaker, index of its turn token)
    for phrase in all {
        let turn_at = match current {
            Some((speaker, at)) if speaker == phrase.speaker => at,
            _ => {
                words.push(turn_token(
                    &names[phrase.speaker],
                    phrase.start,
                    phrase.start,
                ));
                current = Some((phrase.speaker, words.len() - 1));
                words.len() - 1
            }
        };
        let end = phrase
            .tokens
            .iter()
            .map(|t| t.e)
            .max()
            .unwrap_or(phrase.start);
        let turn = &mut words[turn_at];
        turn.e = turn.e.max(end);
        words.extend(phrase.tokens);
    }
    for (p, w) in words.iter_mut().enumerate() {
        w.p = u32::try_from(p).unwrap_or(u32::MAX);
    }
    let spoken: Vec<f64> = words
        .iter()
        .filter(|w| !w.is_punctuation() && !w.is_turn())
        .map(|w| f64::from(w.c))
        .collect();
    let confidence = if spoken.is_empty() {
        0.0
    } else {
        (spoken.iter().sum::<f64>() / spoken.len() as f64) as f32
    };
    let mut out = Transcript {
        confidence,
        words,
        ..Transcript::default()
    };
    out.refresh_turns();
    out
}

/// Closes gaps shorter than [`ACTIVITY_GAP_MS`] between sorted spans.
fn activity(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_by_key(|s| (s.s, s.e));
    let mut out: Vec<Span> = Vec::new();
    for s in spans {
        match out.last_mut() {
            Some(last) if s.s < last.e.saturating_add(ACTIVITY_GAP_MS) => last.e = last.e.max(s.e),
            _ => out.push(s),
        }
    }
    out
}

impl Transcript {
    /// Recomputes `turns[]` and `voiceActivity[]` from the turn tokens and words (see the
    /// [rules](crate::speakers)): after anything that changes the words of a multi-speaker
    /// transcript, such as redaction, so that no turn text keeps what the words no longer say.
    /// Without turn tokens both are left empty.
    pub fn refresh_turns(&mut self) {
        let mut turns: Vec<(String, Vec<Word>)> = Vec::new();
        for w in &self.words {
            if w.is_turn() && !w.is_punctuation() {
                turns.push((w.w.clone(), Vec::new()));
            } else if let Some((_, words)) = turns.last_mut() {
                words.push(w.clone());
            }
        }
        self.turns = turns
            .into_iter()
            .filter_map(|(speaker, words)| {
                let text = units(&words)
                    .into_iter()
                    .map(|u| u.text)
                    .collect::<Vec<_>>()
                    .join(" ");
                let spoken: Vec<&Word> = words.iter().filter(|w| !w.is_punctuation()).collect();
                let s = spoken.iter().map(|w| w.s).min()?;
                let e = spoken.iter().map(|w| w.e).max()?;
                (!text.is_empty()).then_some(Turn {
                    speaker,
                    text,
                    s,
                    e: e.max(s),
                })
            })
            .collect();
        let mut by_speaker: Vec<(String, Vec<Span>)> = Vec::new();
        for (who, w) in self.spoken() {
            let Some(who) = who else { continue };
            if w.is_punctuation() {
                continue;
            }
            let span = Span {
                s: w.s,
                e: w.e.max(w.s),
            };
            match by_speaker.iter_mut().find(|(n, _)| n == who) {
                Some((_, spans)) => spans.push(span),
                None => by_speaker.push((who.to_owned(), vec![span])),
            }
        }
        self.voice_activity = by_speaker
            .into_iter()
            .map(|(speaker_name, spans)| VoiceActivity {
                speaker_name,
                occurrences: activity(spans),
            })
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(s: u64, e: u64, w: &str) -> Word {
        Word {
            p: 0,
            s,
            e,
            c: 0.8,
            w: w.into(),
            m: None,
        }
    }

    fn punc(at: u64, w: &str) -> Word {
        Word {
            p: 0,
            s: at,
            e: at,
            c: 0.0,
            w: w.into(),
            m: Some(crate::PUNC.into()),
        }
    }

    fn t(words: Vec<Word>) -> Transcript {
        Transcript {
            confidence: 0.8,
            words,
            ..Transcript::default()
        }
    }

    /// (marker, word, s, e) of every token, for compact assertions.
    fn tokens(t: &Transcript) -> Vec<(bool, &str, u64, u64)> {
        t.words
            .iter()
            .map(|w| (w.is_turn(), w.w.as_str(), w.s, w.e))
            .collect()
    }

    #[test]
    fn alternating_speakers_make_turns_in_time_order() {
        let agent = t(vec![
            word(0, 400, "Hello"),
            punc(400, "."),
            word(500, 900, "How"),
            word(900, 1200, "can"),
            word(1200, 1500, "I"),
            word(1500, 1800, "help"),
            punc(1800, "?"),
            word(6000, 6500, "Sure"),
            punc(6500, "."),
        ]);
        let caller = t(vec![
            word(2500, 3000, "My"),
            word(3000, 3500, "card"),
            punc(3500, "."),
        ]);
        let m = merge_speakers(vec![("Agent".into(), agent), ("Caller".into(), caller)]);
        assert_eq!(
            tokens(&m),
            [
                (true, "Agent", 0, 1800),
                (false, "Hello", 0, 400),
                (false, ".", 400, 400),
                (false, "How", 500, 900),
                (false, "can", 900, 1200),
                (false, "I", 1200, 1500),
                (false, "help", 1500, 1800),
                (false, "?", 1800, 1800),
                (true, "Caller", 2500, 3500),
                (false, "My", 2500, 3000),
                (false, "card", 3000, 3500),
                (false, ".", 3500, 3500),
                (true, "Agent", 6000, 6500),
                (false, "Sure", 6000, 6500),
                (false, ".", 6500, 6500),
            ]
        );
        assert!(m.words.iter().enumerate().all(|(i, w)| w.p as usize == i));
        assert!((m.confidence - 0.8).abs() < 1e-6);
        assert_eq!(m.words[0].c, 1.0);
        assert_eq!(
            m.turns,
            [
                Turn {
                    speaker: "Agent".into(),
                    text: "Hello. How can I help?".into(),
                    s: 0,
                    e: 1800
                },
                Turn {
                    speaker: "Caller".into(),
                    text: "My card.".into(),
                    s: 2500,
                    e: 3500
                },
                Turn {
                    speaker: "Agent".into(),
                    text: "Sure.".into(),
                    s: 6000,
                    e: 6500
                },
            ]
        );
        assert_eq!(
            m.voice_activity,
            [
                VoiceActivity {
                    speaker_name: "Agent".into(),
                    occurrences: vec![Span { s: 0, e: 1800 }, Span { s: 6000, e: 6500 }],
                },
                VoiceActivity {
                    speaker_name: "Caller".into(),
                    occurrences: vec![Span { s: 2500, e: 3500 }],
                },
            ]
        );
        assert_eq!(m.speakers(), ["Agent", "Caller"]);
        // The JSON carries both arrays, with v3's keys.
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["turns"][1]["speaker"], "Caller");
        assert_eq!(json["voiceActivity"][0]["speakerName"], "Agent");
        assert_eq!(json["words"][0]["m"], "turn");
    }

    #[test]
    fn overtalk_keeps_phrases_whole() {
        // The caller starts while the agent is mid-sentence: the agent's phrase stays whole
        // and the caller's turn follows it.
        let agent = t(vec![
            word(0, 500, "one"),
            word(500, 1000, "two"),
            word(1000, 1500, "three"),
        ]);
        let caller = t(vec![word(700, 1200, "wait"), punc(1200, "!")]);
        let m = merge_speakers(vec![("A".into(), agent), ("C".into(), caller)]);
        let who: Vec<(Option<&str>, &str)> = m.spoken().map(|(s, w)| (s, w.w.as_str())).collect();
        assert_eq!(
            who,
            [
                (Some("A"), "one"),
                (Some("A"), "two"),
                (Some("A"), "three"),
                (Some("C"), "wait"),
                (Some("C"), "!"),
            ]
        );
        assert_eq!(m.turns.len(), 2);
        // Both talked from 700 to 1200: the activity shows it.
        assert_eq!(m.voice_activity[0].occurrences, [Span { s: 0, e: 1500 }]);
        assert_eq!(m.voice_activity[1].occurrences, [Span { s: 700, e: 1200 }]);
    }

    #[test]
    fn pauses_split_phrases_and_activity() {
        // A pause of a second or more starts a new phrase: the other speaker fits in between.
        let a = t(vec![
            word(0, 300, "a"),
            word(1300, 1600, "b"),
            word(1900, 2000, "c"),
        ]);
        let b = t(vec![word(400, 800, "x")]);
        let m = merge_speakers(vec![("A".into(), a), ("B".into(), b)]);
        let order: Vec<&str> = m.words.iter().map(|w| w.w.as_str()).collect();
        assert_eq!(order, ["A", "a", "B", "x", "A", "b", "c"]);
        // Gap 300→1300 is exactly 1 s: not closed; 1600→1900 is.
        assert_eq!(
            m.voice_activity[0].occurrences,
            [Span { s: 0, e: 300 }, Span { s: 1300, e: 2000 }]
        );
    }

    #[test]
    fn one_named_speaker_and_silent_speakers() {
        let m = merge_speakers(vec![
            ("Solo".into(), t(vec![word(100, 200, "hi"), punc(200, ".")])),
            ("Silent".into(), t(vec![])),
        ]);
        assert_eq!(
            tokens(&m),
            [
                (true, "Solo", 100, 200),
                (false, "hi", 100, 200),
                (false, ".", 200, 200)
            ]
        );
        assert_eq!(m.speakers(), ["Solo"]);
        let empty = merge_speakers(vec![("A".into(), t(vec![])), ("B".into(), t(vec![]))]);
        assert!(empty.words.is_empty() && empty.turns.is_empty());
        assert_eq!(empty.confidence, 0.0);
        assert!(merge_speakers(Vec::new()).is_empty());
    }

    #[test]
    fn refresh_follows_changed_words_and_ignores_mono() {
        let mut m = merge_speakers(vec![(
            "C".into(),
            t(vec![word(0, 100, "card"), word(100, 200, "4532")]),
        )]);
        m.words[2].w = "[redacted]".into();
        m.refresh_turns();
        assert_eq!(m.turns[0].text, "card [redacted]");
        let mut mono = t(vec![word(0, 100, "hi")]);
        mono.refresh_turns();
        assert!(mono.turns.is_empty() && mono.voice_activity.is_empty());
    }

    #[test]
    fn hostile_timings_do_not_panic() {
        let m = merge_speakers(vec![
            (
                "A".into(),
                t(vec![
                    word(u64::MAX, 0, "x"),
                    punc(5, "."),
                    word(u64::MAX - 1, u64::MAX, "y"),
                ]),
            ),
            (
                "B".into(),
                t(vec![
                    punc(0, "("),
                    Word {
                        m: Some("turn".into()),
                        ..word(0, 0, "Z")
                    },
                ]),
            ),
        ]);
        assert!(m.speakers().iter().all(|s| *s == "A" || *s == "B"));
        assert!(m.turns.iter().all(|t| t.s <= t.e));
    }
}
