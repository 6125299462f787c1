//! `transcript.contentFiltering.enableProfanityFiltering: true`: words of a fixed English list
//! replaced by `...`.
//!
//! Why in `words[]`: v3 replaces listed words "after transcription" and does not say whether
//! the JSON changes too (analytics reference §8). Masking the words themselves is the only way
//! to make sure no rendition (text, SRT, WebVTT, DFXP), `turns[]`, analytics `exact` or the
//! search index ever contains them: all are built from `words[]`.
//!
//! The list is `crates/transcript/data/profanity-en.txt` (sealscribe's own, ~90 entries, every
//! inflection spelled out; VoiceBase's `SwearList.xlsx` is not public). A word matches when,
//! lower-cased, with `’` read as `'` and surrounding punctuation stripped, it equals an entry:
//! no stemming and no substrings, so `assess`, `class` or `Scunthorpe` never match. The masked
//! word keeps its time and confidence; its `w` becomes `...`.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::Transcript;

/// What a listed word becomes (v3's replacement).
pub const MASK: &str = "...";

static LIST: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../data/profanity-en.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

/// True when `word` is on the list (see the [module](self) for the rule).
pub fn is_profane(word: &str) -> bool {
    let lower = word.to_lowercase().replace('’', "'");
    let core = lower.trim_matches(|c: char| !c.is_alphanumeric());
    LIST.contains(core)
}

/// The transcript with every listed word replaced by [`MASK`]; `turns[]` is rebuilt.
pub fn mask_profanity(transcript: &Transcript) -> Transcript {
    let mut out = transcript.clone();
    let mut changed = false;
    for w in &mut out.words {
        if !w.is_punctuation() && !w.is_turn() && is_profane(&w.w) {
            w.w = MASK.to_owned();
            changed = true;
        }
    }
    if changed {
        out.refresh_turns();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Word;

    #[test]
    fn whole_words_only() {
        assert!(is_profane("shit"));
        assert!(is_profane("Shit,"));
        assert!(is_profane("FUCKING"));
        assert!(is_profane("\"damn\""));
        for clean in [
            "assess",
            "class",
            "Scunthorpe",
            "cockpit",
            "hello",
            "",
            "...",
        ] {
            assert!(!is_profane(clean), "{clean}");
        }
        // Every entry of the list is lower case and one word.
        for w in LIST.iter() {
            assert_eq!(*w, w.to_lowercase());
            assert!(!w.contains(' '), "{w}");
        }
    }

    #[test]
    fn masks_words_and_turns() {
        let word = |p: u32, w: &str, m: Option<&str>| Word {
            p,
            s: 100 * u64::from(p),
            e: 100 * u64::from(p) + 90,
            c: 0.9,
            w: w.into(),
            m: m.map(Into::into),
        };
        let t = Transcript {
            confidence: 0.9,
            words: vec![
                word(0, "Agent", Some("turn")),
                word(1, "oh", None),
                word(2, "shit", None),
                word(3, ",", Some("punc")),
                word(4, "sorry", None),
            ],
            ..Transcript::default()
        };
        let mut t = t;
        t.refresh_turns();
        assert!(t.turns[0].text.contains("shit"));
        let out = mask_profanity(&t);
        assert_eq!(out.words[2].w, MASK);
        assert_eq!((out.words[2].s, out.words[2].e), (200, 290));
        assert!(!out.turns[0].text.contains("shit"), "{}", out.turns[0].text);
        assert!(out.text().contains("..."));
        assert!(!out.text().contains("shit"));
    }
}
