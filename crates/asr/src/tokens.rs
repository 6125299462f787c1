//! Whisper tokens to v3 words: the step between the recogniser and the transcript.
//!
//! Whisper emits BPE tokens with probabilities and (approximate) timestamps; VoiceBase v3 clients
//! expect words. A token that starts with a space starts a new word; punctuation becomes its own
//! entry with `"m":"punc"` placed at the word boundary, so `text()` and search indexing both see
//! clean words. A word's confidence is the lowest probability of its tokens: one doubtful piece
//! makes the whole word doubtful.
//!
//! The result is the one v3 transcript type, [`sealscribe_transcript::Transcript`]: what the
//! recogniser returns is what the pipeline stores and what `sealscribe transcribe` prints.

use sealscribe_transcript::{PUNC, Transcript, Word};

/// Builds the transcript from recognised words in time order: renumbers `p`, makes times
/// monotonic, clamps confidences to 0..=1 and computes the overall confidence (the mean of the
/// non-punctuation words; 0 for an empty transcript).
pub(crate) fn transcript_from_words(mut words: Vec<Word>) -> Transcript {
    let mut last_s = 0;
    for (i, w) in words.iter_mut().enumerate() {
        w.p = u32::try_from(i).unwrap_or(u32::MAX);
        w.s = w.s.max(last_s);
        w.e = w.e.max(w.s);
        w.c = if w.c.is_finite() {
            w.c.clamp(0.0, 1.0)
        } else {
            0.0
        };
        last_s = w.s;
    }
    let (sum, n) = words
        .iter()
        .filter(|w| !w.is_punctuation())
        .fold((0.0f64, 0usize), |(s, n), w| (s + f64::from(w.c), n + 1));
    let confidence = if n == 0 { 0.0 } else { (sum / n as f64) as f32 };
    Transcript {
        confidence,
        words,
        ..Default::default()
    }
}

/// A decoded whisper token with absolute timing, as handed from the engine to [`words_from_tokens`].
#[derive(Clone, Debug)]
pub(crate) struct RawToken {
    /// Raw token bytes (a multi-byte character may be split over tokens).
    pub text: Vec<u8>,
    /// Token probability.
    pub p: f32,
    /// Start and end in absolute milliseconds.
    pub t0: u64,
    pub t1: u64,
    /// First token of a whisper segment: always starts a new word.
    pub segment_start: bool,
}

/// Characters split off words as punctuation.
fn is_punct(c: char) -> bool {
    matches!(
        c,
        '.' | ','
            | '?'
            | '!'
            | ';'
            | ':'
            | '"'
            | '('
            | ')'
            | '['
            | ']'
            | '{'
            | '}'
            | '…'
            | '—'
            | '–'
            | '«'
            | '»'
            | '¿'
            | '¡'
            | '“'
            | '”'
    )
}

/// A token (or word) with no letter or digit at all is punctuation as a whole (`-`, `...`, `'`).
fn is_all_punct(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(char::is_alphanumeric)
}

/// Groups tokens into words and punctuation entries (`p` left at 0; [`transcript_from_words`]
/// numbers them).
pub(crate) fn words_from_tokens(tokens: &[RawToken]) -> Vec<Word> {
    let mut groups: Vec<Vec<&RawToken>> = Vec::new();
    for t in tokens {
        let starts_word = t.segment_start || t.text.first() == Some(&b' ');
        match groups.last_mut() {
            Some(g) if !starts_word => g.push(t),
            _ => groups.push(vec![t]),
        }
    }
    let mut out = Vec::new();
    for g in groups {
        emit_group(&g, &mut out);
    }
    out
}

fn token_str(t: &RawToken) -> String {
    String::from_utf8_lossy(&t.text).trim().to_string()
}

fn punc(w: String, at: u64, c: f32) -> Word {
    Word {
        p: 0,
        s: at,
        e: at,
        c,
        w,
        m: Some(PUNC.to_string()),
    }
}

fn min_p(ts: &[&RawToken]) -> f32 {
    ts.iter().map(|t| t.p).fold(1.0f32, f32::min)
}

fn emit_group(g: &[&RawToken], out: &mut Vec<Word>) {
    let whole: Vec<u8> = g.iter().flat_map(|t| t.text.iter().copied()).collect();
    let whole = String::from_utf8_lossy(&whole).trim().to_string();
    if whole.is_empty() {
        return;
    }
    let (s, e) = (g[0].t0, g.iter().map(|t| t.t1).max().unwrap_or(g[0].t1));
    if is_all_punct(&whole) {
        out.push(Word {
            s,
            e,
            ..punc(whole, s, min_p(g))
        });
        return;
    }
    // Whole punctuation tokens at either end are split off with their own probabilities.
    let mut lo = 0;
    let mut hi = g.len();
    while lo < hi && is_all_punct(&token_str(g[lo])) {
        lo += 1;
    }
    while hi > lo && is_all_punct(&token_str(g[hi - 1])) {
        hi -= 1;
    }
    let core_tokens = &g[lo..hi];
    let core_bytes: Vec<u8> = core_tokens
        .iter()
        .flat_map(|t| t.text.iter().copied())
        .collect();
    let core_full = String::from_utf8_lossy(&core_bytes).trim().to_string();
    let c = min_p(core_tokens);
    // Punctuation glued inside a token at the ends ("(hello", "end.\"") is split by character.
    let core = core_full.trim_matches(is_punct);
    let lead_chars = &core_full[..core_full.len() - core_full.trim_start_matches(is_punct).len()];
    let trail_chars = &core_full[core_full.trim_end_matches(is_punct).len()..];
    let cs = core_tokens.first().map_or(s, |t| t.t0);
    let ce = core_tokens.iter().map(|t| t.t1).max().unwrap_or(e).max(cs);

    let lead: String = g[..lo].iter().map(|t| token_str(t)).collect::<String>() + lead_chars;
    if !lead.is_empty() {
        out.push(punc(lead, cs, min_p(&g[..lo])));
    }
    if core.is_empty() {
        // Only possible when the core was punctuation plus non-alphanumerics; keep it as punc.
        if !core_full.is_empty() {
            out.push(punc(core_full.clone(), cs, c));
        }
    } else {
        out.push(Word {
            p: 0,
            s: cs,
            e: ce,
            c,
            w: core.to_string(),
            m: None,
        });
    }
    let trail: String =
        trail_chars.to_string() + &g[hi..].iter().map(|t| token_str(t)).collect::<String>();
    if !trail.is_empty() {
        out.push(punc(
            trail,
            ce,
            min_p(&g[hi..]).min(if trail_chars.is_empty() { 1.0 } else { c }),
        ));
    }
}

/// Lower-case letters, digits and apostrophes only: how two words are compared at a seam.
pub(crate) fn normalised(w: &str) -> String {
    w.chars()
        .filter(|c| c.is_alphanumeric() || *c == '\'')
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(text: &str, p: f32, t0: u64, t1: u64) -> RawToken {
        RawToken {
            text: text.as_bytes().to_vec(),
            p,
            t0,
            t1,
            segment_start: false,
        }
    }

    /// Tokens group into words at leading spaces; punctuation tokens become `punc` entries at the
    /// word boundary; a word's confidence is its weakest token.
    #[test]
    fn tokens_become_words_and_punctuation() {
        let toks = vec![
            RawToken {
                segment_start: true,
                ..tok(" Hel", 0.9, 100, 200)
            },
            tok("lo", 0.5, 200, 300),
            tok(",", 0.8, 300, 310),
            tok(" world", 0.95, 400, 700),
            tok(".", 0.99, 700, 710),
        ];
        let t = transcript_from_words(words_from_tokens(&toks));
        let ws: Vec<(&str, bool)> = t
            .words
            .iter()
            .map(|w| (w.w.as_str(), w.is_punctuation()))
            .collect();
        assert_eq!(
            ws,
            vec![("Hello", false), (",", true), ("world", false), (".", true)]
        );
        assert_eq!((t.words[0].s, t.words[0].e, t.words[0].c), (100, 300, 0.5));
        assert_eq!((t.words[1].s, t.words[1].e), (300, 300));
        assert_eq!(
            t.words.iter().map(|w| w.p).collect::<Vec<_>>(),
            vec![0, 1, 2, 3]
        );
        assert!((t.confidence - 0.725).abs() < 1e-6);
        assert_eq!(t.text(), "Hello, world.\n");
    }

    /// Punctuation glued inside a token is split by character; quotes and brackets render back
    /// (in the one plain-text rendition, which breaks the line after a sentence end).
    #[test]
    fn glued_punctuation_is_split() {
        let toks = vec![
            tok(" (see", 0.9, 0, 100),
            tok(" \"this\"", 0.9, 100, 200),
            tok(" Mr.", 0.9, 200, 300),
            tok(" -", 0.9, 300, 300),
            tok(" ok?", 0.9, 300, 400),
        ];
        let t = transcript_from_words(words_from_tokens(&toks));
        let ws: Vec<&str> = t.words.iter().map(|w| w.w.as_str()).collect();
        assert_eq!(
            ws,
            vec!["(", "see", "\"", "this", "\"", "Mr", ".", "-", "ok", "?"]
        );
        assert_eq!(t.text(), "(see \"this\" Mr.\n- ok?\n");
    }

    /// The v3 JSON shape: `m` only on punctuation, nothing else added.
    #[test]
    fn json_shape_matches_v3() {
        let t = transcript_from_words(words_from_tokens(&[
            tok(" hi", 1.0, 10, 20),
            tok("!", 1.0, 20, 30),
        ]));
        let v = serde_json::to_value(&t).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"confidence": 1.0, "words": [
                {"p":0,"s":10,"e":20,"c":1.0,"w":"hi"},
                {"p":1,"s":20,"e":20,"c":1.0,"w":"!","m":"punc"}]})
        );
        let back: Transcript = serde_json::from_value(v).unwrap();
        assert_eq!(back, t);
    }

    /// Empty input gives an empty transcript with confidence 0, and times are made monotonic.
    #[test]
    fn empty_and_monotonic() {
        assert_eq!(transcript_from_words(vec![]), Transcript::default());
        let t = transcript_from_words(words_from_tokens(&[
            tok(" a", 0.5, 500, 400),
            tok(" b", 0.5, 300, 600),
        ]));
        assert!(t.words.windows(2).all(|w| w[0].s <= w[1].s));
        assert!(t.words.iter().all(|w| w.e >= w.s));
    }
}
