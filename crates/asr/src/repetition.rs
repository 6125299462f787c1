//! Measures and guards against whisper's repetition loops.
//!
//! Whisper's decoder can lock onto its own output and repeat a phrase until the window runs
//! out ("Change to which folder Change to which folder …", "41, 41, 41, …"). Two defences live
//! here, both pure functions so that they are tested without a model:
//!
//! * [`compression_ratio`]: how much zlib shrinks a window's text, OpenAI's test for a
//!   repetitive decode. Ordinary text compresses to about its own size (ratio ≈ 1–1.5, below
//!   1 for a short sentence), a loop to a fraction of it; above
//!   [`Safeguards::compression_ratio`](crate::engine::Safeguards::compression_ratio) (2.4, the
//!   reference implementation's threshold) the engine decodes the window again at a higher
//!   temperature.
//! * [`collapse_repeats`]: the last guard, on the finished words. A phrase of one to
//!   [`MAX_PHRASE`] words said [`MIN_REPEATS`] or more times in a row is kept once. People do
//!   repeat themselves ("no, no, no" becomes "no,"), but a transcript that lost two words of a
//!   stutter is far better than one that buries a call under a hallucinated loop. Numbers are
//!   left alone: "1111 1111 1111" is a card number read in groups, and collapsing a digit loop
//!   would hide a spoken card number from redaction (an over-redaction is preferred to a leak).

use std::io::Write;

use sealscribe_transcript::Word;

use crate::tokens::normalised;

/// Longest phrase, in words, that [`collapse_repeats`] looks for.
pub const MAX_PHRASE: usize = 32;
/// A phrase repeated this many times in a row is kept once.
pub const MIN_REPEATS: usize = 3;

/// UTF-8 length of `text` divided by the length of its zlib compression (level 6), as OpenAI's
/// reference decoder computes it. 0 for empty text.
pub fn compression_ratio(text: &str) -> f64 {
    if text.is_empty() {
        return 0.0;
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
    // Writing to a Vec cannot fail.
    let compressed = z
        .write_all(text.as_bytes())
        .and_then(|()| z.finish())
        .map_or(text.len(), |v| v.len());
    text.len() as f64 / compressed.max(1) as f64
}

/// Digit strings up to this many digits are plausible speech (a card number has at most 19).
pub const MAX_SPOKEN_DIGITS: usize = 24;

/// [`compression_ratio`] of `text` with every run of up to [`MAX_SPOKEN_DIGITS`] digits (and
/// the spaces, hyphens, commas and full stops between them) counted as one character: a card
/// number read digit by digit ("4 1 1 1 1 1 1 1 …") compresses like a loop but is speech,
/// and decoding it again at a higher temperature turned it into words ("for Wah."), hiding
/// it from redaction. Longer digit runs are loops and are measured as they are.
pub fn loop_ratio(text: &str) -> f64 {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let mut digits = 0;
    let flush = |run: &mut String, digits: &mut usize, out: &mut String| {
        if *digits == 0 {
            out.push_str(run);
        } else if *digits <= MAX_SPOKEN_DIGITS {
            // Keep the run's leading separator, if any, so words stay apart.
            out.push('#');
            if run.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push_str(run);
        }
        run.clear();
        *digits = 0;
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits += 1;
            run.push(c);
        } else if digits > 0 && matches!(c, ' ' | '-' | ',' | '.') {
            run.push(c);
        } else {
            flush(&mut run, &mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut digits, &mut out);
    compression_ratio(&out)
}

/// True for a word that is a number: digits (with separators), or a number word.
fn is_number(w: &str) -> bool {
    const WORDS: &[&str] = &[
        "zero", "oh", "o", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        "ten", "double", "triple", "hundred", "thousand",
    ];
    w.chars().any(|c| c.is_ascii_digit()) || WORDS.contains(&w)
}

/// Keeps once every phrase (1 to [`MAX_PHRASE`] words, punctuation ignored, compared
/// case-insensitively) that occurs [`MIN_REPEATS`] or more times in a row, dropping the later
/// copies and the punctuation between them. Phrases made only of numbers are never collapsed
/// (see the module documentation). The shortest repeating phrase at a position wins.
pub fn collapse_repeats(words: Vec<Word>) -> Vec<Word> {
    // Indices of the real words, and their comparison keys.
    let idx: Vec<usize> = (0..words.len())
        .filter(|&i| !words[i].is_punctuation())
        .collect();
    let keys: Vec<String> = idx.iter().map(|&i| normalised(&words[i].w)).collect();
    let mut drop = vec![false; words.len()];
    let mut i = 0;
    while i < keys.len() {
        let mut next = i + 1;
        for n in 1..=MAX_PHRASE.min((keys.len() - i) / MIN_REPEATS) {
            let phrase = &keys[i..i + n];
            if phrase.iter().all(|k| is_number(k)) {
                continue;
            }
            let mut reps = 1;
            while i + (reps + 1) * n <= keys.len()
                && keys[i + reps * n..i + (reps + 1) * n] == *phrase
            {
                reps += 1;
            }
            if reps >= MIN_REPEATS {
                // Drop everything from the first repeat's first word through the last
                // repeat's last word (punctuation in between included); what follows stays.
                let (from, to) = (idx[i + n], idx[i + reps * n - 1]);
                drop[from..=to].iter_mut().for_each(|d| *d = true);
                // Punctuation right before the first dropped copy belongs to the copies
                // ("folder, Change…"); the final copy's trailing punctuation is kept.
                let mut k = from;
                while k > idx[i + n - 1] + 1 {
                    k -= 1;
                    drop[k] = true;
                }
                tracing::debug!(phrase = %phrase.join(" "), repeats = reps, "repetition collapsed");
                next = i + reps * n;
                break;
            }
        }
        i = next;
    }
    words
        .into_iter()
        .zip(drop)
        .filter_map(|(w, d)| (!d).then_some(w))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<Word> {
        let mut out = Vec::new();
        for (k, raw) in text.split_whitespace().enumerate() {
            let s = k as u64 * 100;
            let w = raw.trim_end_matches([',', '.', '?']);
            out.push(Word {
                p: 0,
                s,
                e: s + 80,
                c: 0.9,
                w: w.into(),
                m: None,
            });
            if w.len() < raw.len() {
                out.push(Word {
                    p: 0,
                    s: s + 80,
                    e: s + 80,
                    c: 0.9,
                    w: raw[w.len()..].into(),
                    m: Some(sealscribe_transcript::PUNC.into()),
                });
            }
        }
        out
    }

    fn text(w: &[Word]) -> String {
        sealscribe_transcript::Transcript {
            confidence: 0.0,
            words: w.to_vec(),
            ..Default::default()
        }
        .text()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
    }

    #[test]
    fn ratio_separates_loops_from_speech() {
        assert_eq!(compression_ratio(""), 0.0);
        let speech = "Please send the quarterly report to the finance team before Friday.";
        assert!(
            compression_ratio(speech) < 1.5,
            "{}",
            compression_ratio(speech)
        );
        let lp = "Change to which folder ".repeat(25);
        assert!(compression_ratio(&lp) > 2.4, "{}", compression_ratio(&lp));
        let digits = "41, ".repeat(100);
        assert!(compression_ratio(&digits) > 2.4);
        assert!(loop_ratio(&digits) > 2.4, "a digit loop stays a loop");
        let card = " 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1...";
        assert!(compression_ratio(card) > 2.4 || loop_ratio(card) < compression_ratio(card));
        assert!(loop_ratio(card) < 2.4, "{}", loop_ratio(card));
        assert!(loop_ratio(&lp) > 2.4);
        assert_eq!(loop_ratio(speech), compression_ratio(speech));
    }

    #[test]
    fn sentence_loops_are_kept_once() {
        let w =
            words("Change to which folder Change to which folder Change to which folder? Thanks.");
        assert_eq!(
            text(&collapse_repeats(w)),
            "Change to which folder? Thanks."
        );
        let w = words(
            "Hello. Change to which folder, change to which folder, change to which folder, change to which folder.",
        );
        assert_eq!(text(&collapse_repeats(w)), "Hello. Change to which folder.");
        let w = words("you you you you you you");
        assert_eq!(text(&collapse_repeats(w)), "you");
    }

    #[test]
    fn ordinary_repetition_and_numbers_stay() {
        for t in [
            "I had had enough, really, really enough.",
            "my card is 4111 1111 1111 1111 thanks",
            "four one one one one one one one",
            "41, 41, 41, 41, 41",
            "the the cat",
        ] {
            let w = words(t);
            assert_eq!(collapse_repeats(w.clone()), w, "{t}");
        }
        assert!(collapse_repeats(Vec::new()).is_empty());
    }
}
