//! Finding words and phrases in a transcript: what keyword spotting, categories and knowledge
//! keywords count as "said".
//!
//! v3 does not document how a keyword matches (analytics reference §2.3), so the rule is ours
//! and the same everywhere:
//!
//! * Both sides are cut into **normalised tokens**: lower case, `’` read as `'`, every other
//!   character that is not a letter, digit or apostrophe is a separator (so `check-in` is
//!   `check in`, `A.F.F.O.` is `a f f o`… except that the periods of a spelled acronym are
//!   dropped first, giving `affo`), and thousands separators in numerals go (`1,000` is
//!   `1000`).
//! * **Numbers match in digits or words**: a run of number words (`one hundred twenty three`,
//!   `twenty four`, `two thousand and five`) reads as its numeral (`123`, `24`, `2005`), so
//!   `"one hundred"` finds whisper's `100` and `"100"` finds a spoken-out `one hundred`.
//! * A phrase matches consecutive tokens of **one speaker's turn**: punctuation between its
//!   words does not stop it, a turn change does. A phrase token `*` matches any one token.
//! * Every match is reported, earliest first; matches of one phrase do not overlap.
//!
//! An [`Occurrence`] carries the speaker of its turn, its time (`s` of the first word, `e` of
//! the last) and `exact`, the words as the transcript has them.

use crate::{Transcript, Word};

/// A word or phrase to look for, already normalised; see the [module](self) for the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phrase {
    tokens: Vec<String>,
}

/// The token of a [`Phrase`] that matches any one token.
pub const WILDCARD: &str = "*";

impl Phrase {
    /// The phrase of `text`, or `None` when it has no word at all (only punctuation or
    /// spaces). A `*` on its own is a [`WILDCARD`]; a phrase of wildcards only is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut tokens = Vec::new();
        for part in text.split_whitespace() {
            if part == WILDCARD {
                tokens.push(WILDCARD.to_owned());
            } else {
                tokens.extend(normalise(part));
            }
        }
        let tokens = numerals(tokens.iter().map(|t| (t.as_str(), ())))
            .into_iter()
            .map(|(t, _)| t)
            .collect::<Vec<_>>();
        tokens
            .iter()
            .any(|t| t != WILDCARD)
            .then_some(Self { tokens })
    }

    /// The normalised tokens, e.g. `["order", "100"]` for `"Order one hundred"`.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }
}

/// One place where a phrase was said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    /// The speaker of the turn it is in; `None` in a transcript without turn tokens.
    pub speaker: Option<String>,
    /// Index in `words` of its first and last word.
    pub first: usize,
    pub last: usize,
    /// Start of the first word and end of the last, milliseconds.
    pub s: u64,
    pub e: u64,
    /// The words as the transcript has them, separated by spaces.
    pub exact: String,
}

/// A normalised token with the indexes in `words` of the first and last word it came from.
type Token<S> = (S, (usize, usize));

/// A transcript read as normalised tokens, for looking up many phrases in it.
#[derive(Debug)]
pub struct Tokens<'a> {
    words: &'a [Word],
    /// Per turn (the whole transcript when it has no turn tokens): its speaker and tokens,
    /// each with the indexes in `words` of the first and last word it came from.
    turns: Vec<(Option<&'a str>, Vec<Token<String>>)>,
}

impl<'a> Tokens<'a> {
    /// Tokenises `transcript` once.
    pub fn new(transcript: &'a Transcript) -> Self {
        let words = &transcript.words[..];
        let mut turns: Vec<(Option<&str>, Vec<Token<&str>>)> = vec![(None, vec![])];
        let mut owned: Vec<Vec<String>> = Vec::with_capacity(words.len());
        for w in words {
            owned.push(if w.is_turn() || w.is_punctuation() {
                Vec::new()
            } else {
                normalise(&w.w)
            });
        }
        for (i, w) in words.iter().enumerate() {
            if w.is_turn() {
                turns.push((Some(w.w.as_str()), Vec::new()));
                continue;
            }
            let current = &mut turns.last_mut().expect("one turn at least").1;
            current.extend(owned[i].iter().map(|t| (t.as_str(), (i, i))));
        }
        let turns = turns
            .into_iter()
            .filter(|(_, tokens)| !tokens.is_empty())
            .map(|(speaker, tokens)| {
                let merged = numerals(tokens.into_iter());
                (speaker, merged)
            })
            .collect();
        Self { words, turns }
    }

    /// Every occurrence of `phrase`, earliest first, none overlapping another.
    pub fn find(&self, phrase: &Phrase) -> Vec<Occurrence> {
        let want = phrase.tokens();
        let mut out = Vec::new();
        for (speaker, tokens) in &self.turns {
            let mut i = 0;
            while i + want.len() <= tokens.len() {
                let hit = want
                    .iter()
                    .zip(&tokens[i..])
                    .all(|(w, (t, _))| w == WILDCARD || w == t);
                if !hit {
                    i += 1;
                    continue;
                }
                let first = tokens[i].1.0;
                let last = tokens[i + want.len() - 1].1.1;
                let exact = self.words[first..=last]
                    .iter()
                    .filter(|w| !w.is_punctuation() && !w.is_turn())
                    .map(|w| w.w.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                out.push(Occurrence {
                    speaker: speaker.map(str::to_owned),
                    first,
                    last,
                    s: self.words[first].s,
                    e: self.words[last].e.max(self.words[first].s),
                    exact,
                });
                i += want.len();
            }
        }
        out.sort_by_key(|o| (o.s, o.first));
        out
    }

    /// Every occurrence of `phrase` grouped by speaker (`None` without turn tokens), the
    /// speakers in the order they first said it, each speaker's occurrences earliest first:
    /// the v3 `mentions[]` / `categoryMatches[]` shape.
    pub fn mentions(&self, phrase: &Phrase) -> Vec<(Option<String>, Vec<Occurrence>)> {
        let mut out: Vec<(Option<String>, Vec<Occurrence>)> = Vec::new();
        for o in self.find(phrase) {
            match out.iter_mut().find(|(speaker, _)| *speaker == o.speaker) {
                Some((_, list)) => list.push(o),
                None => out.push((o.speaker.clone(), vec![o])),
            }
        }
        out
    }

    /// The number of word tokens (after numbers were read), for rates and relevance.
    pub fn len(&self) -> usize {
        self.turns.iter().map(|(_, t)| t.len()).sum()
    }

    /// True when the transcript has no word at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each turn's speaker (`None` without turn tokens) and its normalised tokens in order.
    pub fn turns(&self) -> impl Iterator<Item = (Option<&'a str>, Vec<&str>)> + '_ {
        self.turns
            .iter()
            .map(|(speaker, t)| (*speaker, t.iter().map(|(s, _)| s.as_str()).collect()))
    }
}

impl Transcript {
    /// Every occurrence of `phrase`; see [`Tokens::find`]. To look up many phrases, build
    /// [`Tokens`] once.
    pub fn find(&self, phrase: &Phrase) -> Vec<Occurrence> {
        Tokens::new(self).find(phrase)
    }
}

/// The normalised tokens of one written word.
fn normalise(word: &str) -> Vec<String> {
    let lower = word.to_lowercase().replace('’', "'");
    // A spelled acronym (`a.f.f.o.`, `u.s.`): single letters each followed by a period.
    let letters: Vec<&str> = lower.split('.').collect();
    let acronym = letters.len() > 2
        && letters.last() == Some(&"")
        && letters[..letters.len() - 1]
            .iter()
            .all(|l| l.chars().count() == 1 && l.chars().all(char::is_alphabetic));
    if acronym {
        return vec![letters.concat()];
    }
    let mut out = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = lower.chars().collect();
    for (k, &c) in chars.iter().enumerate() {
        // `1,000` and `1.5`: a separator between digits stays inside the numeral.
        let between_digits = k > 0
            && k + 1 < chars.len()
            && chars[k - 1].is_ascii_digit()
            && chars[k + 1].is_ascii_digit();
        if c.is_alphanumeric() || (c == '\'' && !current.is_empty()) {
            current.push(c);
        } else if c == ',' && between_digits {
        } else if c == '.' && between_digits {
            current.push(c);
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    for t in &mut out {
        while t.ends_with('\'') {
            t.pop();
        }
    }
    out.retain(|t| !t.is_empty());
    out
}

const UNITS: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 8] = [
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

fn small(word: &str) -> Option<u64> {
    if let Some(n) = UNITS.iter().position(|u| *u == word) {
        return Some(n as u64);
    }
    TENS.iter()
        .position(|t| *t == word)
        .map(|n| 20 + 10 * n as u64)
}

fn scale(word: &str) -> Option<u64> {
    match word {
        "hundred" => Some(100),
        "thousand" => Some(1_000),
        "million" => Some(1_000_000),
        "billion" => Some(1_000_000_000),
        _ => None,
    }
}

/// Reads each run of number words as its numeral; `T` is what each token carries (its word
/// indexes), merged over the run.
fn numerals<'t, T: Spanned>(tokens: impl Iterator<Item = (&'t str, T)>) -> Vec<(String, T)> {
    let tokens: Vec<(&str, T)> = tokens.collect();
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        match number_run(&tokens[i..]) {
            Some((value, used)) => {
                let span = tokens[i..i + used]
                    .iter()
                    .map(|(_, t)| *t)
                    .reduce(T::join)
                    .expect("a run has a token");
                out.push((value.to_string(), span));
                i += used;
            }
            None => {
                out.push((tokens[i].0.to_owned(), tokens[i].1));
                i += 1;
            }
        }
    }
    out
}

/// What a token carries through [`numerals`]: `()` for a phrase, word indexes for a transcript.
trait Spanned: Copy {
    fn join(self, later: Self) -> Self;
}

impl Spanned for () {
    fn join(self, _: Self) {}
}

impl Spanned for (usize, usize) {
    fn join(self, later: Self) -> Self {
        (self.0, later.1)
    }
}

/// The value of the number words at the start of `tokens` and how many tokens they take:
/// `twenty four` (24), `one hundred and five` (105), `three thousand two hundred` (3200).
/// `and` only joins inside a number, and a run never starts with a scale word or `and`.
fn number_run<T>(tokens: &[(&str, T)]) -> Option<(u64, usize)> {
    let (mut total, mut group) = (0u64, 0u64);
    let (mut used, mut last_good) = (0usize, None);
    let mut previous_small: Option<u64> = None;
    while used < tokens.len() {
        let word = tokens[used].0;
        if let Some(n) = small(word) {
            // `twenty four` adds; `four twenty` or `one two` is two numbers.
            match previous_small {
                Some(p) if p >= 20 && p % 10 == 0 && n < 10 && n > 0 => {}
                Some(_) => break,
                None => {}
            }
            group += n;
            previous_small = Some(n);
        } else if let Some(s) = scale(word) {
            if used == 0 || previous_small.is_none() && group == 0 {
                break;
            }
            if s == 100 {
                group = group.max(1) * 100;
            } else {
                total += group.max(1) * s;
                group = 0;
            }
            previous_small = None;
        } else if word == "and" && used > 0 && previous_small.is_none() {
            // Right after a scale word: `two thousand and five`, `one hundred and ten`.
            used += 1;
            continue;
        } else {
            break;
        }
        used += 1;
        last_good = Some((total + group, used));
    }
    last_good
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Transcript {
        let mut words = Vec::new();
        let mut t = 0;
        for (p, w) in text.split_whitespace().enumerate() {
            let (w, m) = if let Some(name) = w.strip_prefix('@') {
                (name, Some("turn".to_owned()))
            } else if [",", ".", "?"].contains(&w) {
                (w, Some(crate::PUNC.to_owned()))
            } else {
                (w, None)
            };
            words.push(Word {
                p: p as u32,
                s: t,
                e: t + 400,
                c: 0.9,
                w: w.to_owned(),
                m,
            });
            t += 500;
        }
        Transcript {
            confidence: 0.9,
            words,
            ..Transcript::default()
        }
    }

    fn found(t: &Transcript, phrase: &str) -> Vec<(Option<String>, String, u64, u64)> {
        t.find(&Phrase::parse(phrase).unwrap())
            .into_iter()
            .map(|o| (o.speaker, o.exact, o.s, o.e))
            .collect()
    }

    #[test]
    fn case_and_punctuation_do_not_matter_but_turns_do() {
        let t = words("@Agent Thanks for calling , Data Science team . @Caller data science ?");
        assert_eq!(
            found(&t, "data science"),
            vec![
                (Some("Agent".into()), "Data Science".into(), 2500, 3400),
                (Some("Caller".into()), "data science".into(), 5000, 5900),
            ]
        );
        // "team data" spans a turn change: not said by anyone.
        assert!(found(&t, "team data").is_empty());
        // Punctuation between words does not stop a phrase.
        assert_eq!(found(&t, "calling data").len(), 1);
    }

    #[test]
    fn numbers_match_in_digits_or_words() {
        let t = words("I paid 1,000 dollars and one hundred twenty five cents");
        assert_eq!(found(&t, "one thousand dollars")[0].1, "1,000 dollars");
        assert_eq!(found(&t, "125 cents")[0].1, "one hundred twenty five cents");
        assert!(found(&t, "100").is_empty(), "125 is not 100");
        let t = words("call twenty four seven or two thousand and five");
        assert_eq!(found(&t, "24 7")[0].1, "twenty four seven");
        assert_eq!(found(&t, "2005")[0].1, "two thousand and five");
        // "and" alone is a word, not a number.
        assert_eq!(found(&t, "seven or").len(), 1);
    }

    #[test]
    fn acronyms_hyphens_apostrophes_and_wildcards() {
        let t = words("the A.F.F.O. figure , don’t check-in late");
        assert_eq!(found(&t, "AFFO")[0].1, "A.F.F.O.");
        assert_eq!(found(&t, "a.f.f.o.")[0].1, "A.F.F.O.");
        assert_eq!(found(&t, "don't")[0].1, "don’t");
        assert_eq!(found(&t, "check in")[0].1, "check-in");
        assert_eq!(found(&t, "the * figure")[0].1, "the A.F.F.O. figure");
        assert!(Phrase::parse(" * ").is_none());
        assert!(Phrase::parse("?!").is_none());
    }

    #[test]
    fn occurrences_do_not_overlap_and_come_in_time_order() {
        let t = words("no no no");
        assert_eq!(found(&t, "no no").len(), 1);
        assert_eq!(found(&t, "no").len(), 3);
        let tokens = Tokens::new(&t);
        assert_eq!(tokens.len(), 3);
        assert!(Tokens::new(&words("")).is_empty());
    }

    #[test]
    fn mentions_group_by_speaker_in_order_of_first_mention() {
        let t = words("@Caller my refund . @Agent the refund @Caller refund now");
        let m = Tokens::new(&t).mentions(&Phrase::parse("refund").unwrap());
        let got: Vec<(Option<&str>, usize)> =
            m.iter().map(|(s, o)| (s.as_deref(), o.len())).collect();
        assert_eq!(got, vec![(Some("Caller"), 2), (Some("Agent"), 1)]);
        let mono = words("refund refund");
        let m = Tokens::new(&mono).mentions(&Phrase::parse("refund").unwrap());
        assert_eq!((m[0].0.as_deref(), m[0].1.len()), (None, 2));
    }

    #[test]
    fn malformed_timings_do_not_panic() {
        let mut t = words("refund please");
        t.words[1].e = 0;
        let o = t.find(&Phrase::parse("refund please").unwrap());
        assert_eq!((o[0].s, o[0].e), (0, 0));
    }
}
