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
//! The same rule decides what a custom vocabulary's `soundsLike` rewrites
//! ([`Transcript::rewrite_phrases`]); [`Tokens::find_any`] looks up many phrases at once.
//!
//! An [`Occurrence`] carries the speaker of its turn, its time (`s` of the first word, `e` of
//! the last) and `exact`, the words as the transcript has them.

use std::collections::HashMap;

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
    /// Every position of each token as `(turn, index in the turn)`, in order: where a phrase
    /// starting with that token can start.
    starts: HashMap<String, Vec<(usize, usize)>>,
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
            .collect::<Vec<_>>();
        let mut starts: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
        for (turn, (_, tokens)) in turns.iter().enumerate() {
            for (i, (t, _)) in tokens.iter().enumerate() {
                starts.entry(t.clone()).or_default().push((turn, i));
            }
        }
        Self {
            words,
            turns,
            starts,
        }
    }

    /// Every occurrence of `phrase`, earliest first, none overlapping another.
    ///
    /// Only the positions where the phrase's first token that is not a [`WILDCARD`] occurs
    /// are tried, so looking up many phrases costs about the number of their candidate
    /// positions, not phrases × tokens.
    pub fn find(&self, phrase: &Phrase) -> Vec<Occurrence> {
        let want = phrase.tokens();
        let mut out = Vec::new();
        // The turn of the last match and the first position after it: matches of one phrase
        // do not overlap.
        let mut free = (usize::MAX, 0);
        let mut visit = |turn: usize, i: usize, out: &mut Vec<Occurrence>| {
            if free.0 == turn && i < free.1 {
                return;
            }
            if let Some(o) = self.match_at(turn, i, want) {
                free = (turn, i + want.len());
                out.push(o);
            }
        };
        // A phrase has a token that is not a wildcard: it can start only `k` tokens before
        // one of that token's positions.
        let k = want.iter().position(|w| w != WILDCARD).unwrap_or(0);
        if let Some(positions) = self.starts.get(want[k].as_str()) {
            for &(turn, p) in positions {
                if p >= k {
                    visit(turn, p - k, &mut out);
                }
            }
        }
        out.sort_by_key(|o| (o.s, o.first));
        out
    }

    /// The occurrence of `want` at token `i` of turn `turn`, if it is there.
    fn match_at(&self, turn: usize, i: usize, want: &[String]) -> Option<Occurrence> {
        let (speaker, tokens) = &self.turns[turn];
        (i + want.len() <= tokens.len() && matches_at(want, tokens, i))
            .then(|| self.occurrence(*speaker, tokens, i, want.len()))
    }

    /// Every occurrence of any of `phrases`, as `(index in phrases, occurrence)`, earliest
    /// first (occurrences of different phrases may overlap). Each position is looked up by its
    /// token, so a thousand phrases cost little more than one.
    pub fn find_any(&self, phrases: &[Phrase]) -> Vec<(usize, Occurrence)> {
        let mut by_first: std::collections::HashMap<&str, Vec<usize>> = Default::default();
        let mut wild_first = Vec::new();
        for (k, p) in phrases.iter().enumerate() {
            match p.tokens().first().map(String::as_str) {
                Some(WILDCARD) | None => wild_first.push(k),
                Some(t) => by_first.entry(t).or_default().push(k),
            }
        }
        let mut out = Vec::new();
        for (speaker, tokens) in &self.turns {
            for (i, (t, _)) in tokens.iter().enumerate() {
                let named = by_first.get(t.as_str()).map(Vec::as_slice).unwrap_or(&[]);
                for &k in named.iter().chain(&wild_first) {
                    let want = phrases[k].tokens();
                    if i + want.len() <= tokens.len() && matches_at(want, tokens, i) {
                        out.push((k, self.occurrence(*speaker, tokens, i, want.len())));
                    }
                }
            }
        }
        out.sort_by_key(|(k, o)| (o.s, o.first, *k));
        out
    }

    /// The occurrence of the `len` tokens of `tokens` from `i`.
    fn occurrence(
        &self,
        speaker: Option<&str>,
        tokens: &[Token<String>],
        i: usize,
        len: usize,
    ) -> Occurrence {
        let first = tokens[i].1.0;
        let last = tokens[i + len - 1].1.1;
        let exact = self.words[first..=last]
            .iter()
            .filter(|w| !w.is_punctuation() && !w.is_turn())
            .map(|w| w.w.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        Occurrence {
            speaker: speaker.map(str::to_owned),
            first,
            last,
            s: self.words[first].s,
            e: self.words[last].e.max(self.words[first].s),
            exact,
        }
    }

    /// Every occurrence of `phrase` grouped by speaker: [`by_speaker`] of [`Tokens::find`].
    pub fn mentions(&self, phrase: &Phrase) -> Vec<(Option<String>, Vec<Occurrence>)> {
        by_speaker(self.find(phrase))
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

/// `occurrences` grouped by speaker, each speaker once, in the order they first said it, each
/// group earliest first: the shape of v3's `mentions[{speakerName, occurrences[]}]` (analytics
/// reference §1.4), where one entry per speaker holds all of their occurrences.
pub fn by_speaker(occurrences: Vec<Occurrence>) -> Vec<(Option<String>, Vec<Occurrence>)> {
    let mut out: Vec<(Option<String>, Vec<Occurrence>)> = Vec::new();
    for o in occurrences {
        match out.iter_mut().find(|(who, _)| *who == o.speaker) {
            Some((_, list)) => list.push(o),
            None => out.push((o.speaker.clone(), vec![o])),
        }
    }
    for (_, list) in &mut out {
        list.sort_by_key(|o| (o.s, o.first));
    }
    out.sort_by_key(|(_, list)| (list[0].s, list[0].first));
    out
}

/// Whether `want` matches `tokens` from `i` (which must leave room for it).
fn matches_at(want: &[String], tokens: &[Token<String>], i: usize) -> bool {
    want.iter()
        .zip(&tokens[i..])
        .all(|(w, (t, _))| w == WILDCARD || w == t)
}

impl Transcript {
    /// Rewrites every occurrence of a rule's phrase as the rule's text (custom vocabulary:
    /// `soundsLike` → term), keeping the timings of the words replaced: word for word when
    /// the counts agree, else the text's words share the span evenly. Where occurrences
    /// overlap, the earliest wins, then the longest, then the first rule. Punctuation inside
    /// a rewritten span goes; around it, it stays. Positions and the overall confidence are
    /// recomputed. Returns the number of rewrites.
    pub fn rewrite_phrases(&mut self, rules: &[(Phrase, String)]) -> usize {
        let phrases: Vec<Phrase> = rules.iter().map(|(p, _)| p.clone()).collect();
        let mut found = Tokens::new(self).find_any(&phrases);
        found.sort_by_key(|(k, o)| (o.first, std::cmp::Reverse(o.last), *k));
        let mut chosen: Vec<(usize, Occurrence)> = Vec::new();
        for (k, o) in found {
            if chosen.last().is_none_or(|(_, c)| o.first > c.last) {
                chosen.push((k, o));
            }
        }
        chosen.retain(|(k, o)| {
            o.exact != rules[*k].1.split_whitespace().collect::<Vec<_>>().join(" ")
        });
        if chosen.is_empty() {
            return 0;
        }
        let old = std::mem::take(&mut self.words);
        let mut words = Vec::with_capacity(old.len());
        let mut next = 0;
        for (k, o) in &chosen {
            words.extend_from_slice(&old[next..o.first]);
            let spoken: Vec<&Word> = old[o.first..=o.last]
                .iter()
                .filter(|w| !w.is_punctuation() && !w.is_turn())
                .collect();
            let text: Vec<&str> = rules[*k].1.split_whitespace().collect();
            let c = spoken.iter().map(|w| w.c).fold(f32::INFINITY, f32::min);
            let c = if c.is_finite() { c } else { 0.0 };
            let n = text.len() as u64;
            for (j, t) in text.iter().enumerate() {
                let (s, e) = if spoken.len() == text.len() {
                    (spoken[j].s, spoken[j].e)
                } else {
                    let span = o.e - o.s;
                    let j = j as u64;
                    (o.s + span * j / n, o.s + span * (j + 1) / n)
                };
                words.push(Word {
                    p: 0,
                    s,
                    e,
                    c: if spoken.len() == text.len() {
                        spoken[j].c
                    } else {
                        c
                    },
                    w: (*t).to_owned(),
                    m: None,
                });
            }
            next = o.last + 1;
        }
        words.extend_from_slice(&old[next..]);
        for (i, w) in words.iter_mut().enumerate() {
            w.p = u32::try_from(i).unwrap_or(u32::MAX);
        }
        let (sum, n) = words
            .iter()
            .filter(|w| !w.is_punctuation() && !w.is_turn())
            .fold((0.0f64, 0usize), |(s, n), w| (s + f64::from(w.c), n + 1));
        self.confidence = if n == 0 { 0.0 } else { (sum / n as f64) as f32 };
        self.words = words;
        chosen.len()
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

    /// The indexed lookup finds exactly what trying every position finds.
    #[test]
    fn indexed_find_equals_trying_every_position() {
        let mut rng = sealscribe_testkit::Rng(18);
        let vocab = ["a", "b", "c", "one", "two", ",", "@X", "@Y"];
        for _ in 0..1000 {
            let n = 1 + rng.index(30);
            let text: Vec<&str> = (0..n).map(|_| vocab[rng.index(vocab.len())]).collect();
            let t = words(&text.join(" "));
            let tokens = Tokens::new(&t);
            let len = 1 + rng.index(3);
            let parts: Vec<&str> = (0..len)
                .map(|_| ["a", "b", "c", "1", "2", "*"][rng.index(6)])
                .collect();
            let Some(phrase) = Phrase::parse(&parts.join(" ")) else {
                continue;
            };
            let want = phrase.tokens();
            let mut naive = Vec::new();
            for turn in 0..tokens.turns.len() {
                let mut i = 0;
                while i < tokens.turns[turn].1.len() {
                    match tokens.match_at(turn, i, want) {
                        Some(o) => {
                            naive.push(o);
                            i += want.len();
                        }
                        None => i += 1,
                    }
                }
            }
            naive.sort_by_key(|o| (o.s, o.first));
            assert_eq!(tokens.find(&phrase), naive, "{text:?} / {parts:?}");
        }
    }

    #[test]
    fn occurrences_grouped_per_speaker_in_order_of_first_mention() {
        let t = words("@Agent your order , please . @Caller my order is late . @Agent the order");
        let found = t.find(&Phrase::parse("order").unwrap());
        assert_eq!(found.len(), 3);
        let grouped = by_speaker(found);
        let shape: Vec<_> = grouped
            .iter()
            .map(|(who, list)| (who.as_deref(), list.iter().map(|o| o.s).collect::<Vec<_>>()))
            .collect();
        assert_eq!(
            shape,
            [
                (Some("Agent"), vec![1000, 7000]),
                (Some("Caller"), vec![4000])
            ]
        );
        let mono = words("order one , order two");
        let grouped = by_speaker(mono.find(&Phrase::parse("order").unwrap()));
        assert_eq!(grouped.len(), 1);
        assert_eq!(grouped[0].0, None);
        assert_eq!(grouped[0].1.len(), 2);
    }

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

    fn rules(pairs: &[(&str, &str)]) -> Vec<(Phrase, String)> {
        pairs
            .iter()
            .map(|(p, t)| (Phrase::parse(p).unwrap(), (*t).to_owned()))
            .collect()
    }

    #[test]
    fn rewrites_keep_the_timings_of_the_words_replaced() {
        let mut t = words("order more tracks you're in , for the capex lab .");
        let n = t.rewrite_phrases(&rules(&[
            ("tracks you're in", "Draxulon"),
            ("CapEx", "CapEx"),
            ("capex lab", "CapEx Lab"),
        ]));
        assert_eq!(n, 2);
        assert_eq!(t.text().trim(), "order more Draxulon, for the CapEx Lab.");
        let d = t.words.iter().find(|w| w.w == "Draxulon").unwrap();
        // "tracks" starts at 1000, "in" ends at 2400.
        assert_eq!((d.s, d.e), (1000, 2400));
        // Same number of words: each keeps its own timing.
        let lab = t.words.iter().find(|w| w.w == "Lab").unwrap();
        assert_eq!((lab.s, lab.e), (4500, 4900));
        assert!(t.words.iter().enumerate().all(|(i, w)| w.p as usize == i));
        // Nothing to rewrite: untouched, and an exact match is not a rewrite.
        let before = t.clone();
        assert_eq!(
            t.rewrite_phrases(&rules(&[("Draxulon", "Draxulon"), ("zebra", "Z")])),
            0
        );
        assert_eq!(t, before);
    }

    #[test]
    fn rewrites_stay_inside_a_turn_and_split_a_span_evenly() {
        let mut t = words("@Agent seal scribe @Caller seal @Agent scribe");
        assert_eq!(
            t.rewrite_phrases(&rules(&[("seal scribe", "Sealscribe")])),
            1
        );
        assert_eq!(t.words[1].w, "Sealscribe");
        assert_eq!((t.words[1].s, t.words[1].e), (500, 1400));
        assert_eq!(t.words.len(), 6);
        let mut t = words("voicebase");
        t.rewrite_phrases(&rules(&[("voicebase", "voice base platform")]));
        let spans: Vec<_> = t.words.iter().map(|w| (w.s, w.e)).collect();
        assert_eq!(spans, [(0, 133), (133, 266), (266, 400)]);
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
