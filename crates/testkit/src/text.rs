//! Checks on recognised text: [`assert_no_repeated_ngrams`], the test every recognition test
//! runs to catch a decoder loop ("41, 41, 41, …", a sentence transcribed twenty times).

/// Lower-case words with punctuation stripped (apostrophes and digits kept).
fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// The most-repeated run of `text`: for phrases of 1 to `max_n` words (case and punctuation
/// ignored), the phrase repeated the most times in a row and how many times. `None` for text
/// without words.
pub fn longest_repeat(text: &str, max_n: usize) -> Option<(String, usize)> {
    let w = words(text);
    let mut best: Option<(String, usize)> = None;
    for n in 1..=max_n.min(w.len()) {
        for i in 0..=w.len() - n {
            let mut reps = 1;
            while i + (reps + 1) * n <= w.len()
                && w[i + reps * n..i + (reps + 1) * n] == w[i..i + n]
            {
                reps += 1;
            }
            if best.as_ref().is_none_or(|(_, r)| reps > *r) {
                best = Some((w[i..i + n].join(" "), reps));
            }
        }
    }
    best
}

/// Fails when any phrase of 1 to 8 words occurs 8 or more times in a row in `text`: the mark
/// of a decoder loop in the test suite's speech, which never says anything eight times in a
/// row. (Real speech can: "1 1 1 1 1 1 1 1" is a card number read digit by digit, so this is
/// a test check, not a production filter.)
///
/// # Panics
/// On such a repetition, quoting the phrase, the count and the text.
#[track_caller]
pub fn assert_no_repeated_ngrams(text: &str) {
    if let Some((phrase, reps)) = longest_repeat(text, 8)
        && reps >= 8
    {
        panic!("{phrase:?} is repeated {reps} times in a row (a decoder loop) in: {text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loops_are_caught_and_speech_is_not() {
        assert_eq!(longest_repeat("", 8), None);
        assert_eq!(
            longest_repeat("41, 41, 41, 41, 41, 41, 41, 41, 41.", 8),
            Some(("41".into(), 9))
        );
        let lp = "Change to which folder ".repeat(8);
        assert_eq!(
            longest_repeat(&lp, 8),
            Some(("change to which folder".into(), 8))
        );
        assert!(std::panic::catch_unwind(|| assert_no_repeated_ngrams(&lp)).is_err());
        assert!(
            std::panic::catch_unwind(|| assert_no_repeated_ngrams(&"41, ".repeat(100))).is_err()
        );
        let lp7 = "Change to which folder ".repeat(7);
        assert_no_repeated_ngrams(&lp7);
        assert_no_repeated_ngrams("My card number is 4111 1111 1111 1111, thanks. No, no, no.");
        assert_no_repeated_ngrams("");
    }
}
