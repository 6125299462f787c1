//! The VoiceBase v3 transcript (`GET /v3/media/{id}/transcript`, CONTRACT §2.2) and its
//! renditions.
//!
//! * [`Transcript`] / [`Word`] are the v3 JSON shape, byte-compatible with what v3 clients parse:
//!   `{"confidence":…, "words":[{"p":0,"s":120,"e":480,"c":0.93,"w":"hello"}, …]}`.
//!   Punctuation is a token of its own with `"m":"punc"`, timed at the end of the word before it.
//! * [`Transcript::text`], [`Transcript::srt`], [`Transcript::webvtt`] and [`Transcript::dfxp`]
//!   are the plain renditions served for `Accept: text/plain`, `text/srt`, `text/vtt` and
//!   `application/ttml+xml`. All four are built from the same "display units" (a word with the
//!   punctuation around it glued on), so the words a caption shows are exactly the words the
//!   text shows. The cue rules are in [`captions`]. [`AlternateFormat`] carries a rendition
//!   inside JSON (v3 `includeAlternateFormat`).
//! * Speakers: in a multi-speaker transcript each turn (started by a turn token) is labelled
//!   `Name: ` once — a paragraph of its own in the text, and at the head of the turn's first cue
//!   in the captions; a turn change always ends a cue, so no cue mixes two speakers. A
//!   transcript without turn tokens renders with no labels at all.
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
//! * [`captions`] — SRT, WebVTT and DFXP cues from display units.
//! * [`mod@align`] — the v3 aligner.
//! * [`phrases`] — finding words and phrases (keywords, category terms) per speaker, with
//!   the one matching rule they all share.
//! * [`keywords`] — knowledge key phrases (`knowledge.keywords[]`) by a RAKE-style method.
//! * [`numbers`] — numerals written as words (`enableNumberFormatting: false`).
//! * [`profanity`] — listed words masked as `...` (`enableProfanityFiltering`).
//! * [`speakers`] — multi-speaker transcripts: [`merge_speakers`] (one timeline with turn
//!   tokens from per-channel transcripts) and [`Transcript::refresh_turns`].

use serde::{Deserialize, Serialize};

pub mod align;
pub mod captions;
pub mod keywords;
pub mod numbers;
pub mod phrases;
pub mod profanity;
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

/// The plain renditions of a transcript: the values of v3's `includeAlternateFormat` and of a
/// `transcript` callback's `format` other than `json`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rendition {
    Text,
    Srt,
    Dfxp,
    WebVtt,
}

impl Rendition {
    /// Every rendition, in v3's order (`text | srt | dfxp | webvtt`).
    pub const ALL: [Rendition; 4] = [Self::Text, Self::Srt, Self::Dfxp, Self::WebVtt];

    /// The v3 name: `text`, `srt`, `dfxp` or `webvtt`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Srt => "srt",
            Self::Dfxp => "dfxp",
            Self::WebVtt => "webvtt",
        }
    }

    /// The rendition named `name` (v3's names, exactly).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }

    /// The content type v3 labels the rendition with in `alternateFormats[]` and callbacks:
    /// `text/plain`, `text/srt`, `application/ttaf+xml` (the W3C TTML 2006 namespace the
    /// document uses; `…/transcript/dfxp` serves the registered `application/ttml+xml`), `text/vtt`.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Text => "text/plain",
            Self::Srt => "text/srt",
            Self::Dfxp => "application/ttaf+xml",
            Self::WebVtt => "text/vtt",
        }
    }
}

/// One entry of v3's `alternateFormats[]` (`VbTranscriptFormat`): a rendition carried inside a
/// JSON document, as standard base64 of its UTF-8 text.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AlternateFormat {
    /// `text`, `srt`, `dfxp` or `webvtt`.
    pub format: String,
    /// `text/plain`, `text/srt`, `application/ttaf+xml` or `text/vtt`.
    pub content_type: String,
    /// Always `Base64` (compare case-insensitively: some v3 documents write `base64`).
    pub content_encoding: String,
    /// Always `utf-8`.
    pub charset: String,
    /// The rendition, standard base64 (with padding).
    pub data: String,
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
    ///
    /// A multi-speaker transcript gives one paragraph per turn, paragraphs separated by a blank
    /// line, each starting `Name: ` (v3 shows `Agent: Hi … Customer: …`; its separator is not
    /// specified, and a paragraph per turn keeps who said what readable):
    ///
    /// ```text
    /// Agent: Thank you for calling.
    /// How can I help?
    ///
    /// Caller: My card was declined.
    /// ```
    pub fn text(&self) -> String {
        let units = units(&self.words);
        let mut out = String::new();
        for (i, u) in units.iter().enumerate() {
            if i > 0 {
                if u.turn_start {
                    out.push_str("\n\n");
                } else {
                    out.push(if units[i - 1].sentence_end { '\n' } else { ' ' });
                }
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

    /// DFXP / TTML captions (`application/ttaf+xml`): the cues of [`Transcript::srt`] as `<p>`
    /// elements of a minimal TTML document; `language` (a BCP 47 tag such as `en-US`) becomes
    /// its `xml:lang`. See [`captions`] for the document's form.
    pub fn dfxp(&self, language: Option<&str>) -> String {
        captions::dfxp(&units(&self.words), language)
    }

    /// One rendition of the transcript; `language` is used by [`Rendition::Dfxp`] only.
    pub fn render(&self, rendition: Rendition, language: Option<&str>) -> String {
        match rendition {
            Rendition::Text => self.text(),
            Rendition::Srt => self.srt(),
            Rendition::Dfxp => self.dfxp(language),
            Rendition::WebVtt => self.webvtt(),
        }
    }

    /// The v3 `alternateFormats[]` entry of one rendition: the rendition, base64-encoded.
    pub fn alternate_format(
        &self,
        rendition: Rendition,
        language: Option<&str>,
    ) -> AlternateFormat {
        use base64::Engine as _;
        AlternateFormat {
            format: rendition.name().to_owned(),
            content_type: rendition.content_type().to_owned(),
            content_encoding: "Base64".to_owned(),
            charset: "utf-8".to_owned(),
            data: base64::engine::general_purpose::STANDARD
                .encode(self.render(rendition, language)),
        }
    }
}

/// A display unit: one spoken word with the punctuation around it glued on (`"Hello,`), the
/// smallest thing a caption line may be broken between; or the `Name:` label that opens a
/// speaker's turn.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Unit {
    pub text: String,
    pub s: u64,
    pub e: u64,
    /// The unit ends with sentence-ending punctuation (`.`, `?`, `!`; not an ellipsis).
    pub sentence_end: bool,
    /// The first unit of a speaker's turn: a paragraph and a cue always start here.
    pub turn_start: bool,
    /// Part of the `Name:` label of a turn (timed at its first word): never separated from the
    /// turn's first word by a cue break.
    pub label: bool,
}

impl Unit {
    fn new(text: String, s: u64, e: u64) -> Self {
        Unit {
            text,
            s,
            e,
            sentence_end: false,
            turn_start: false,
            label: false,
        }
    }
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

/// The label a turn token's speaker gets in the renditions: the words of its name followed by
/// `:` (`["Mary", "Jane:"]`; a caption line may break between them like between words, and a line
/// break in a name cannot break a caption), or nothing for a name with no visible character (the
/// turn still starts a new paragraph and cue, unlabelled).
fn speaker_label(name: &str) -> Vec<String> {
    let mut parts: Vec<String> = name.split_whitespace().map(str::to_owned).collect();
    if let Some(last) = parts.last_mut() {
        last.push(':');
    }
    parts
}

/// Builds the display units, turn by turn.
#[derive(Default)]
struct UnitBuilder {
    out: Vec<Unit>,
    /// Opening punctuation waiting for its word, with the time of its first mark.
    prefix: String,
    prefix_at: Option<u64>,
    in_quote: bool,
    /// A turn token was read and no unit of that turn exists yet: the turn's label.
    pending_turn: Option<Vec<String>>,
}

impl UnitBuilder {
    /// Starts a unit, opening the pending turn (its label first) if there is one.
    fn push(&mut self, mut unit: Unit) {
        if let Some(label) = self.pending_turn.take() {
            unit.turn_start = true;
            for (i, part) in label.into_iter().enumerate() {
                let mut l = Unit::new(part, unit.s, unit.s);
                l.turn_start = i == 0;
                l.label = true;
                unit.turn_start = false;
                self.out.push(l);
            }
        }
        self.out.push(unit);
    }

    fn punctuation(&mut self, w: &str, at: u64) {
        let opening = if w == "\"" {
            self.in_quote = !self.in_quote;
            self.in_quote
        } else {
            is_opening(w)
        };
        match self.out.last_mut() {
            // Closing marks glue to the word before them, but never across a turn.
            Some(last) if !opening && self.prefix.is_empty() && self.pending_turn.is_none() => {
                last.text.push_str(w);
                last.sentence_end |= is_sentence_end(w);
            }
            _ => {
                self.prefix.push_str(w);
                self.prefix_at.get_or_insert(at);
            }
        }
    }

    fn word(&mut self, w: &str, s: u64, e: u64) {
        let mut text = std::mem::take(&mut self.prefix);
        self.prefix_at = None;
        text.push_str(w);
        self.push(Unit::new(text, s, e));
    }

    /// Punctuation with no word after it in its turn: glued to the turn's last word, or left
    /// standing alone.
    fn flush_prefix(&mut self) {
        if self.prefix.is_empty() {
            return;
        }
        let prefix = std::mem::take(&mut self.prefix);
        let at = self.prefix_at.take().unwrap_or(0);
        match self.out.last_mut() {
            Some(last) if self.pending_turn.is_none() => {
                last.sentence_end |= is_sentence_end(&prefix);
                last.text.push_str(&prefix);
            }
            _ => {
                let mut unit = Unit::new(String::new(), at, at);
                unit.sentence_end = is_sentence_end(&prefix);
                unit.text = prefix;
                self.push(unit);
            }
        }
    }

    fn turn(&mut self, speaker: &str) {
        self.flush_prefix();
        self.in_quote = false;
        self.pending_turn = Some(speaker_label(speaker));
    }
}

/// Turns tokens into display units. Whitespace inside a token splits it (a caption or text line
/// must never be broken by a stray newline in a word); empty tokens are skipped. A turn token
/// (any token [`Word::is_turn`], as in [`Transcript::spoken`]) is never shown as a word: it
/// starts a turn, whose first unit is the `Name:` label.
pub(crate) fn units(words: &[Word]) -> Vec<Unit> {
    let mut b = UnitBuilder::default();
    for tok in words {
        if tok.is_turn() {
            b.turn(&tok.w);
            continue;
        }
        // A token with whitespace inside is treated as several tokens with the same timing, so a
        // caption line can still break between its parts.
        for w in tok.w.split_whitespace() {
            if tok.is_punctuation() && !is_dash(w) {
                b.punctuation(w, tok.s);
            } else {
                b.word(w, tok.s, tok.e);
            }
        }
    }
    b.flush_prefix();
    b.out
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
    fn text_labels_turns_and_collapses_whitespace() {
        let mut turn = word(0, 0, 0, "The\nAgent");
        turn.m = Some("turn".into());
        let t = Transcript {
            confidence: 0.9,
            words: vec![turn, word(1, 0, 10, "new\nline"), punc(2, 10, "!")],
            ..Default::default()
        };
        assert_eq!(t.text(), "The Agent: new line!\n");
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
