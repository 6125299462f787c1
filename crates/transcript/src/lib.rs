//! The VoiceBase v3 transcript (`GET /v3/media/{id}/transcript`, CONTRACT §2.2) and its
//! renditions.
//!
//! * [`Transcript`] / [`Word`] are the v3 JSON shape, byte-compatible with what v3 clients parse:
//!   `{"confidence":…, "words":[{"p":0,"s":120,"e":480,"c":0.93,"w":"hello"}, …]}`.
//!   Punctuation is a token of its own with `"m":"punc"`, timed at the end of the word before it.
//! * [`Transcript::text`], [`Transcript::srt`] and [`Transcript::webvtt`] are the plain renditions
//!   served for `Accept: text/plain`, `text/srt` and `text/vtt`. All three are built from the same
//!   "display units" (a word with the punctuation around it glued on), so the words a caption
//!   shows are exactly the words the text shows. The cue rules are in [`captions`].
//! * [`align()`] is the v3 "aligner": it gives a customer-corrected plain text the timings of the
//!   recognised words; its rules are in [`mod@align`].
//!
//! Everything here is pure: no I/O, and no input (however malformed its timings) makes it panic.
//!
//! This is the one v3 transcript model: the recogniser (`sealscribe-asr`) produces it, the
//! detectors read it, the store keeps it and the API serves it.
//!
//! # Layout
//! * the crate root — [`Transcript`], [`Word`] and the display units behind the renditions.
//! * [`captions`] — SRT and WebVTT cues from display units.
//! * [`mod@align`] — the v3 aligner.
//! * [`speakers`] — multi-speaker transcripts: [`merge_speakers`] (one timeline with turn
//!   tokens from per-channel transcripts) and [`Transcript::refresh_turns`].

use serde::{Deserialize, Serialize};

pub mod align;
pub mod captions;
pub mod speakers;

pub use align::align;
pub use speakers::merge_speakers;

/// The v3 marker of punctuation tokens.
pub const PUNC: &str = "punc";

/// One entry of a v3 transcript: a word, or a punctuation mark when `m` is `"punc"`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Word {
    /// Position: index of this entry in `words`.
    pub p: u32,
    /// Start, milliseconds from the beginning of the media.
    pub s: u64,
    /// End, milliseconds from the beginning of the media.
    pub e: u64,
    /// Confidence, 0..=1.
    pub c: f32,
    /// The word (or the punctuation mark).
    pub w: String,
    /// Metadata marker: `"punc"` for punctuation, absent for ordinary words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub m: Option<String>,
}

impl Word {
    /// True for punctuation tokens. v3 also documents a combined `"turn|punc"` marker, so any
    /// `|`-separated part equal to `punc` counts.
    pub fn is_punctuation(&self) -> bool {
        self.has_marker(PUNC)
    }

    /// True for speaker-turn tokens (`"m":"turn"`), whose `w` is a speaker name, not speech.
    pub fn is_turn(&self) -> bool {
        self.has_marker("turn")
    }

    fn has_marker(&self, marker: &str) -> bool {
        self.m
            .as_deref()
            .is_some_and(|m| m.split('|').any(|part| part.trim() == marker))
    }
}

/// A v3 transcript: `{"confidence":…, "words":[…]}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Transcript {
    /// Overall confidence (sealscribe: the mean confidence of the non-punctuation words).
    pub confidence: f32,
    /// Words and punctuation tokens in time order. In a multi-speaker transcript a turn token
    /// (`"m":"turn"`, `w` = the speaker) starts each speaker's turn; see [`Transcript::spoken`].
    pub words: Vec<Word>,
    /// `transcript.turns[]` (v3, 2021): each speaker's block of text. Empty (and absent from
    /// the JSON) for a single-speaker transcript.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub turns: Vec<Turn>,
    /// `transcript.voiceActivity[]`: when each speaker talked, from the word timings. Empty
    /// (and absent from the JSON) for a single-speaker transcript.
    #[serde(
        default,
        rename = "voiceActivity",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub voice_activity: Vec<VoiceActivity>,
}

/// One entry of `transcript.turns[]`: a speaker's block of text. The key is `speaker`, not
/// `speakerName`, as in v3.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Turn {
    pub speaker: String,
    pub text: String,
    /// Start of the turn's first word, milliseconds.
    pub s: u64,
    /// End of the turn's last word, milliseconds.
    pub e: u64,
}

/// One entry of `transcript.voiceActivity[]`: the stretches in which one speaker talked.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VoiceActivity {
    #[serde(rename = "speakerName")]
    pub speaker_name: String,
    pub occurrences: Vec<Span>,
}

/// A time range in milliseconds.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Span {
    pub s: u64,
    pub e: u64,
}

impl Transcript {
    /// True when nothing was recognised (no words, no punctuation).
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The spoken tokens (words and punctuation, not turn tokens), each with the speaker whose
    /// turn it is in: the `w` of the last turn token before it, or `None` before any turn token
    /// (a single-speaker transcript has none).
    pub fn spoken(&self) -> impl Iterator<Item = (Option<&str>, &Word)> {
        let mut speaker: Option<&str> = None;
        self.words.iter().filter_map(move |w| {
            if w.is_turn() {
                speaker = Some(w.w.as_str());
                None
            } else {
                Some((speaker, w))
            }
        })
    }

    /// The distinct speakers of the turn tokens, in order of their first turn.
    pub fn speakers(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for w in self.words.iter().filter(|w| w.is_turn()) {
            if !out.contains(&w.w.as_str()) {
                out.push(&w.w);
            }
        }
        out
    }

    /// Readable plain text: words separated by spaces, punctuation glued to the word before it
    /// (opening brackets and quotes to the word after it), a line break after every
    /// sentence-ending mark, and a final newline when there is any text at all.
    pub fn text(&self) -> String {
        let units = units(&self.words);
        let mut out = String::new();
        for (i, u) in units.iter().enumerate() {
            if i > 0 {
                out.push(if units[i - 1].sentence_end { '\n' } else { ' ' });
            }
            out.push_str(&u.text);
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out
    }

    /// SubRip captions (`text/srt`); see [`captions`] for the cue rules.
    pub fn srt(&self) -> String {
        captions::srt(&units(&self.words))
    }

    /// WebVTT captions (`text/vtt`); see [`captions`] for the cue rules.
    pub fn webvtt(&self) -> String {
        captions::webvtt(&units(&self.words))
    }
}

/// A display unit: one spoken word with the punctuation around it glued on (`"Hello,`), the
/// smallest thing a caption line may be broken between.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Unit {
    pub text: String,
    pub s: u64,
    pub e: u64,
    /// The unit ends with sentence-ending punctuation (`.`, `?`, `!`; not an ellipsis).
    pub sentence_end: bool,
}

/// Opening marks: glued to the word that follows them.
fn is_opening(p: &str) -> bool {
    p.starts_with(['(', '[', '{', '¿', '¡', '“', '‘', '«'])
}

/// Dashes standing alone are spaced like words (`wait — what`).
fn is_dash(p: &str) -> bool {
    !p.is_empty() && p.chars().all(|c| matches!(c, '-' | '—' | '–'))
}

/// `.`, `?`, `!` end a sentence; an ellipsis (`...`, `…`) usually trails off mid-sentence in
/// speech, so it does not.
pub(crate) fn is_sentence_end(p: &str) -> bool {
    p.contains(['?', '!']) || (p.contains('.') && !p.contains("..") && !p.contains('…'))
}

/// Turns tokens into display units. Whitespace inside a token splits it (a caption or text line
/// must never be broken by a stray newline in a word); empty tokens and speaker-turn tokens are
/// skipped.
pub(crate) fn units(words: &[Word]) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    // Opening punctuation waiting for its word, with the time of its first mark.
    let mut prefix = String::new();
    let mut prefix_at: Option<u64> = None;
    let mut in_quote = false;
    for tok in words {
        if tok.is_turn() && !tok.is_punctuation() {
            continue;
        }
        // A token with whitespace inside is treated as several tokens with the same timing, so a
        // caption line can still break between its parts.
        for w in tok.w.split_whitespace() {
            if tok.is_punctuation() && !is_dash(w) {
                let opening = if w == "\"" {
                    in_quote = !in_quote;
                    in_quote
                } else {
                    is_opening(w)
                };
                match out.last_mut() {
                    Some(last) if !opening && prefix.is_empty() => {
                        last.text.push_str(w);
                        last.sentence_end |= is_sentence_end(w);
                    }
                    _ => {
                        prefix.push_str(w);
                        prefix_at.get_or_insert(tok.s);
                    }
                }
            } else {
                let mut text = std::mem::take(&mut prefix);
                prefix_at = None;
                text.push_str(w);
                out.push(Unit {
                    text,
                    s: tok.s,
                    e: tok.e,
                    sentence_end: false,
                });
            }
        }
    }
    if !prefix.is_empty() {
        // Punctuation with no word after it: glue it to the last word, or let it stand alone.
        match out.last_mut() {
            Some(last) => {
                last.sentence_end |= is_sentence_end(&prefix);
                last.text.push_str(&prefix);
            }
            None => {
                let at = prefix_at.unwrap_or(0);
                out.push(Unit {
                    sentence_end: is_sentence_end(&prefix),
                    text: prefix,
                    s: at,
                    e: at,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(p: u32, s: u64, e: u64, w: &str) -> Word {
        Word {
            p,
            s,
            e,
            c: 0.9,
            w: w.to_string(),
            m: None,
        }
    }

    fn punc(p: u32, at: u64, w: &str) -> Word {
        Word {
            p,
            s: at,
            e: at,
            c: 0.0,
            w: w.to_string(),
            m: Some(PUNC.to_string()),
        }
    }

    /// A literal v3 transcript as VoiceBase documents it (plus a punctuation token).
    const V3_SAMPLE: &str = r#"{
        "confidence": 0.958,
        "words": [
            {"p": 0, "c": 0.98, "s": 1260, "e": 1510, "w": "Hello"},
            {"p": 1, "c": 0.0, "s": 1510, "e": 1510, "w": ",", "m": "punc"},
            {"p": 2, "c": 0.93, "s": 1520, "e": 1780, "w": "world"},
            {"p": 3, "c": 0.0, "s": 1780, "e": 1780, "w": ".", "m": "punc"}
        ]
    }"#;

    #[test]
    fn json_round_trips_the_v3_sample() {
        let t: Transcript = serde_json::from_str(V3_SAMPLE).unwrap();
        assert_eq!(t.words.len(), 4);
        assert_eq!(t.words[1].m.as_deref(), Some("punc"));
        assert!(t.words[0].m.is_none());
        assert_eq!(t.words[2].s, 1520);
        // Through the JSON text (f32 widened in a `Value` would print 0.9580000042915344).
        let back: serde_json::Value =
            serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        let original: serde_json::Value = serde_json::from_str(V3_SAMPLE).unwrap();
        assert_eq!(back, original);
        // `m` is omitted, not `null`, on ordinary words; the top level has exactly two keys.
        let s = serde_json::to_string(&t).unwrap();
        assert!(!s.contains("null"), "{s}");
        assert_eq!(back.as_object().unwrap().len(), 2);
        assert!(
            s.starts_with(
                r#"{"confidence":0.958,"words":[{"p":0,"s":1260,"e":1510,"c":0.98,"w":"Hello"}"#
            ),
            "{s}"
        );
    }

    #[test]
    fn json_accepts_extra_v3_word_fields() {
        // Voice features add `v` and `frq`; a transcript carrying them still parses.
        let t: Transcript = serde_json::from_str(
            r#"{"confidence":1,"words":[{"p":0,"s":0,"e":5,"c":1,"w":"a","v":3.5,"frq":[{"e":1,"f":2}]}]}"#,
        )
        .unwrap();
        assert_eq!(t.words[0].w, "a");
    }

    #[test]
    fn text_attaches_punctuation_without_spaces() {
        let t = Transcript {
            confidence: 0.9,
            words: vec![
                word(0, 0, 100, "Hello"),
                punc(1, 100, ","),
                word(2, 120, 300, "world"),
                punc(3, 300, "."),
                word(4, 400, 500, "How"),
                word(5, 500, 600, "are"),
                word(6, 600, 700, "you"),
                punc(7, 700, "?"),
            ],
            ..Default::default()
        };
        assert_eq!(t.text(), "Hello, world.\nHow are you?\n");
    }

    #[test]
    fn text_handles_quotes_brackets_and_dashes() {
        let t = Transcript {
            confidence: 0.9,
            words: vec![
                word(0, 0, 10, "He"),
                word(1, 10, 20, "said"),
                punc(2, 20, "\""),
                word(3, 20, 30, "hi"),
                punc(4, 30, "\""),
                punc(5, 30, "("),
                word(6, 30, 40, "twice"),
                punc(7, 40, ")"),
                punc(8, 40, "—"),
                word(9, 40, 50, "loudly"),
                punc(10, 50, "."),
            ],
            ..Default::default()
        };
        assert_eq!(t.text(), "He said \"hi\" (twice) — loudly.\n");
    }

    #[test]
    fn text_of_empty_transcript_is_empty() {
        assert_eq!(Transcript::default().text(), "");
        // Only empty / whitespace tokens: still nothing.
        let t = Transcript {
            confidence: 0.0,
            words: vec![word(0, 0, 1, " "), word(1, 1, 2, "")],
            ..Default::default()
        };
        assert_eq!(t.text(), "");
    }

    #[test]
    fn text_skips_turn_tokens_and_collapses_whitespace() {
        let mut turn = word(0, 0, 0, "Agent");
        turn.m = Some("turn".into());
        let t = Transcript {
            confidence: 0.9,
            words: vec![turn, word(1, 0, 10, "new\nline"), punc(2, 10, "!")],
            ..Default::default()
        };
        assert_eq!(t.text(), "new line!\n");
    }

    #[test]
    fn leading_punctuation_alone_is_kept() {
        let t = Transcript {
            confidence: 0.0,
            words: vec![punc(0, 5, "...")],
            ..Default::default()
        };
        assert_eq!(t.text(), "...\n");
        let t = Transcript {
            confidence: 0.0,
            words: vec![punc(0, 5, "("), word(1, 5, 9, "x"), punc(2, 9, "(")],
            ..Default::default()
        };
        assert_eq!(t.text(), "(x(\n");
    }

    #[test]
    fn combined_turn_punc_marker_is_punctuation() {
        let mut w = punc(0, 0, ".");
        w.m = Some("turn|punc".into());
        assert!(w.is_punctuation());
        assert!(w.is_turn());
        assert!(!word(0, 0, 0, "x").is_punctuation());
    }

    #[test]
    fn spoken_tags_each_word_with_the_turn_it_is_in() {
        let turn = |p, s, e, who: &str| Word {
            m: Some("turn".into()),
            ..word(p, s, e, who)
        };
        let t = Transcript {
            confidence: 1.0,
            words: vec![
                word(0, 0, 10, "before"),
                turn(1, 20, 60, "Agent"),
                word(2, 20, 40, "hi"),
                punc(3, 40, "."),
                turn(4, 50, 90, "Caller"),
                word(5, 50, 90, "hello"),
                turn(6, 95, 99, "Agent"),
                word(7, 95, 99, "bye"),
            ],
            ..Default::default()
        };
        let spoken: Vec<_> = t.spoken().map(|(who, w)| (who, w.w.as_str())).collect();
        assert_eq!(
            spoken,
            [
                (None, "before"),
                (Some("Agent"), "hi"),
                (Some("Agent"), "."),
                (Some("Caller"), "hello"),
                (Some("Agent"), "bye"),
            ]
        );
        assert_eq!(t.speakers(), ["Agent", "Caller"]);
        let json = serde_json::to_value(&t).unwrap();
        assert!(json.get("turns").is_none() && json.get("voiceActivity").is_none());
    }
}
