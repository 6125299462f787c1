//! Knowledge key phrases (`knowledge.keywords[]`, analytics reference §6.3) by a RAKE-style
//! statistical method that needs nothing but the one call.
//!
//! Why RAKE (Rose et al., "Automatic Keyword Extraction from Individual Documents", 2010): it
//! works on a single short document with no corpus, model or external data — exactly the
//! situation of one call, and of `enableExternalDataSources: false` — is deterministic and
//! explainable, and runs in linear time. A term-frequency method against a background list
//! would need a large English frequency table to be meaningful on a few hundred words.
//!
//! # Method
//! 1. **Candidates**: each turn's words are read as normalised tokens (the rules of
//!    [`crate::phrases`]) and cut at punctuation, turn changes, stop words (a built-in list per
//!    language, `data/stopwords-en.txt` / `data/stopwords-es.txt`, with the fillers and
//!    courtesies of phone calls and the number words), numerals, masked words (`...`) and any
//!    token of fewer than 2 characters or that is not letters. What remains between two cuts is
//!    a candidate phrase; one of more than [`MAX_WORDS`] tokens is not a key phrase.
//! 2. **Word scores**: over all candidate occurrences, `freq(w)` counts the candidates that
//!    contain `w` and `deg(w)` adds up their lengths; `score(w) = deg(w) / freq(w)` (RAKE's
//!    degree-to-frequency ratio: words that occur in longer phrases score higher).
//! 3. **Phrase score** = the sum of its words' scores × `n`, the number of times the phrase
//!    was said (its mentions, step 5, which include mentions inside a longer candidate: a
//!    `refund request` inside `refund request number`). RAKE alone does not reward repetition
//!    and favours long phrases said once; a phrase said again and again is what a call is
//!    about.
//! 4. **Relevance** = phrase score / the best phrase score, rounded to 3 decimals (0..1; the top
//!    phrase is 1). Phrases with relevance below [`MIN_RELEVANCE`] are dropped and at most
//!    [`MAX_KEYWORDS`] kept, most relevant first (ties: the phrase said first).
//! 5. **Mentions**: every place the phrase was said, found with the shared matcher
//!    ([`Tokens::mentions`]), grouped per speaker, each occurrence `{s, exact}`.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use crate::phrases::{Phrase, Tokens};
use crate::{Transcript, Word};

/// Longest key phrase, in tokens.
pub const MAX_WORDS: usize = 4;
/// Relevance below which a phrase is not a key phrase.
pub const MIN_RELEVANCE: f64 = 0.2;
/// Most key phrases per call.
pub const MAX_KEYWORDS: usize = 20;

fn list(text: &'static str) -> HashSet<&'static str> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(str::split_whitespace)
        .collect()
}

static ENGLISH: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| list(include_str!("../data/stopwords-en.txt")));
static SPANISH: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| list(include_str!("../data/stopwords-es.txt")));

/// The stop words of a language: Spanish for `es…`, English otherwise.
fn stop_words(language: &str) -> &'static HashSet<&'static str> {
    if language.to_ascii_lowercase().starts_with("es") {
        &SPANISH
    } else {
        &ENGLISH
    }
}

/// One speaker's mentions of a key phrase: the speaker (`None` without turn tokens) and each
/// occurrence's start (ms) and words as said.
pub type Mention = (Option<String>, Vec<(u64, String)>);

/// One key phrase.
#[derive(Clone, Debug, PartialEq)]
pub struct Keyword {
    /// The phrase in normalised tokens, space-separated (`refund request`).
    pub keyword: String,
    /// 0..=1, see the [method](self).
    pub relevance: f64,
    /// Per speaker (`None` without turn tokens), speakers in order of their first mention:
    /// each occurrence's start and the words as said.
    pub mentions: Vec<Mention>,
}

/// True for a token that may be part of a key phrase.
fn content(token: &str, stops: &HashSet<&str>) -> bool {
    token.chars().count() >= 2
        && token.chars().all(|c| c.is_alphabetic() || c == '\'')
        && !stops.contains(token)
}

/// The candidate phrases of `words`, in order, as token lists (step 1).
fn candidates(words: &[Word], stops: &HashSet<&str>) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut flush = |current: &mut Vec<String>| {
        if !current.is_empty() {
            out.push(std::mem::take(current));
        }
    };
    for w in words {
        if w.is_turn() || w.is_punctuation() {
            flush(&mut current);
            continue;
        }
        let tokens = Phrase::parse(&w.w)
            .map(|p| p.tokens().to_vec())
            .unwrap_or_default();
        if tokens.is_empty() {
            flush(&mut current);
        }
        for t in tokens {
            if content(&t, stops) {
                current.push(t);
            } else {
                flush(&mut current);
            }
        }
    }
    flush(&mut current);
    out.retain(|c| c.len() <= MAX_WORDS);
    out
}

/// The key phrases of `transcript` in `language` (a v3 tag such as `en-US`), most relevant
/// first; see the [method](self).
pub fn keywords(transcript: &Transcript, language: &str) -> Vec<Keyword> {
    let candidates = candidates(&transcript.words, stop_words(language));
    // Step 2: word scores.
    let mut freq: HashMap<&str, f64> = HashMap::new();
    let mut degree: HashMap<&str, f64> = HashMap::new();
    for c in &candidates {
        for t in c {
            *freq.entry(t).or_default() += 1.0;
            *degree.entry(t).or_default() += c.len() as f64;
        }
    }
    // Step 3: phrase scores (phrases in the order they were first a candidate), with the
    // mentions the shared matcher finds (step 5): their number is the repetition factor.
    let mut order: Vec<&[String]> = Vec::new();
    let mut seen: HashSet<&[String]> = HashSet::new();
    for c in &candidates {
        if seen.insert(c.as_slice()) {
            order.push(c);
        }
    }
    let tokens = Tokens::new(transcript);
    let scored: Vec<(String, f64, Vec<Mention>)> = order
        .into_iter()
        .filter_map(|c| {
            let keyword = c.join(" ");
            let mentions = tokens.mentions(&Phrase::parse(&keyword)?);
            let said: usize = mentions.iter().map(|(_, o)| o.len()).sum();
            let words: f64 = c
                .iter()
                .map(|t| degree[t.as_str()] / freq[t.as_str()])
                .sum();
            let mentions = mentions
                .into_iter()
                .map(|(speaker, os)| (speaker, os.into_iter().map(|o| (o.s, o.exact)).collect()))
                .collect();
            Some((keyword, words * said.max(1) as f64, mentions))
        })
        .collect();
    let best = scored.iter().map(|(_, s, _)| *s).fold(0.0, f64::max);
    if best <= 0.0 {
        return Vec::new();
    }
    // Step 4: relevance, cut-off and order (a stable sort keeps first-said order on ties).
    let mut ranked: Vec<Keyword> = scored
        .into_iter()
        .map(|(keyword, s, mentions)| Keyword {
            keyword,
            relevance: (s / best * 1000.0).round() / 1000.0,
            mentions,
        })
        .filter(|k| k.relevance >= MIN_RELEVANCE)
        .collect();
    ranked.sort_by(|a, b| b.relevance.total_cmp(&a.relevance));
    ranked.truncate(MAX_KEYWORDS);
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transcript(text: &str) -> Transcript {
        let words = text
            .split_whitespace()
            .enumerate()
            .map(|(p, w)| {
                let (w, m) = match w {
                    "," | "." | "?" => (w, Some(crate::PUNC.to_owned())),
                    _ if w.starts_with('@') => (&w[1..], Some("turn".to_owned())),
                    _ => (w, None),
                };
                Word {
                    p: p as u32,
                    s: 1000 * p as u64,
                    e: 1000 * p as u64 + 900,
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
    fn a_repeated_phrase_ranks_first_with_its_speakers() {
        let t = transcript(
            "@Caller I want a refund request for my order . \
             @Agent Your refund request is open . \
             @Caller Thanks , the refund request number please ?",
        );
        let k = keywords(&t, "en-US");
        assert_eq!(k[0].keyword, "refund request");
        assert_eq!(k[0].relevance, 1.0);
        let speakers: Vec<(Option<&str>, usize)> = k[0]
            .mentions
            .iter()
            .map(|(s, o)| (s.as_deref(), o.len()))
            .collect();
        assert_eq!(speakers, vec![(Some("Caller"), 2), (Some("Agent"), 1)]);
        // `s` of the first mention is the start of "refund" (word 4).
        assert_eq!(k[0].mentions[0].1[0], (4000, "refund request".to_owned()));
        // The matcher counts "refund request number" as a mention too: said 3 times, it
        // outranks the longer phrase said once.
        assert_eq!(k[1].keyword, "refund request number");
        assert!(k.iter().all(|k| (0.0..=1.0).contains(&k.relevance)));
        // Stop words, punctuation and numbers are never part of a key phrase.
        assert!(
            k.iter()
                .all(|k| !k.keyword.contains("please") && !k.keyword.contains("my"))
        );
    }

    #[test]
    fn word_scores_follow_rake() {
        // "deep learning" (2 tokens) once, "learning" alone once: deg(learning) = 2 + 1 = 3,
        // freq = 2 → 1.5; deg(deep) / freq = 2. "deep learning" = 3.5 × 1 said, "learning" =
        // 1.5 × 2 said (alone and inside "deep learning") = 3, "models" = 1 (relevance
        // 0.286 ≥ 0.2, kept).
        let t = transcript("deep learning . learning , models");
        let k = keywords(&t, "en-US");
        let got: Vec<(&str, f64)> = k
            .iter()
            .map(|k| (k.keyword.as_str(), k.relevance))
            .collect();
        assert_eq!(
            got,
            vec![
                ("deep learning", 1.0),
                ("learning", 0.857),
                ("models", 0.286)
            ]
        );
    }

    #[test]
    fn empty_numbers_masks_and_long_runs() {
        assert!(keywords(&transcript(""), "en-US").is_empty());
        assert!(keywords(&transcript("yes , okay , thank you ."), "en-US").is_empty());
        let k = keywords(&transcript("invoice 4532 ... invoice"), "en-US");
        assert_eq!(k.len(), 1);
        assert_eq!(k[0].keyword, "invoice");
        assert_eq!(k[0].mentions[0].0, None);
        assert_eq!(k[0].mentions[0].1.len(), 2);
        // Five content words in a row are no key phrase.
        assert!(keywords(&transcript("alpha bravo charlie delta echo"), "en-US").is_empty());
    }

    #[test]
    fn spanish_uses_its_stop_words() {
        let t = transcript("quiero la factura . la factura por favor");
        let k = keywords(&t, "es-MX");
        assert_eq!(k[0].keyword, "factura");
        assert!(k.iter().all(|k| !k.keyword.contains("la")));
    }
}
