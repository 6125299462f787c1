//! Detection of sensitive numbers in recognised speech, and transcript redaction: the v3
//! `prediction.detectors` named `PCI`, `SSN` and `Number`, and their `redactor.transcript`.
//!
//! Why: call recordings carry card numbers and social security numbers read out loud, and v3
//! clients ask for them to be found and masked. The recogniser writes one spoken number in many
//! shapes — `4532 , 0151 , …`, `536-22-4187`, `53622 , 4187`, `four five three two`,
//! `double five`, a single word with a digit repeated — so detection works on **digit sequences**
//! rebuilt from the words, never on text patterns, and every digit remembers the word it came
//! from so a detection is always a whole-word span `first..=last`.
//!
//! # Digit sequences ("runs")
//! * A word is numeric when, stripped of surrounding punctuation and lower-cased, every part
//!   between `-` `–` `—` `/` `,` `.` is a numeral (ASCII digits) or a number word: `zero`…`nine`,
//!   `oh`/`o` (0), `ten`…`nineteen`, `twenty`…`ninety`, `hundred`; `double`/`triple` only
//!   directly before a digit (`double five` = 55) and `and` only between `hundred` and a number
//!   word. `thousand` right after a number (`two thousand`, `twelve thousand`, `four hundred
//!   thousand`) takes the following group as its last three digits, padding what is not said
//!   (`two thousand five` = 2005, `one thousand two hundred fifty` = 1250, `four thousand` =
//!   4000) — the words `enableNumberFormatting: false` writes for quantities; alone, and
//!   `million` and larger, end a run.
//! * A run is a maximal stretch of numeric words. Between them only a comma, hyphen, dash, slash
//!   or an ellipsis (a pause) may stand, as a token of its own or glued to a word (`Four,`), or
//!   a hesitation (`um`, `uh`, `er`, `hmm` …: a pause written as a word).
//!   Any other word, a sentence end (`.` `?` `!`), other punctuation or a speaker turn ends it.
//! * `oh`/`o` is a zero only inside a run with other numbers, and not at its edge when set off
//!   by a comma: "oh, I see" and "oh, 4532" do not make `oh` a digit.
//! * Digits: numerals and digit words give their digits; a teen two digits; a tens word joined
//!   with a directly following digit word 1–9 (`thirty one` = 31), else the tens and 0
//!   (`twenty twenty` = 2020); `hundred` multiplies the number word just before it (`four
//!   hundred` = 400, `nineteen hundred` = 1900, alone 100) and takes a following teen, tens or
//!   digit word, optionally after `and`, as its last two digits (`four hundred and five` = 405).
//!
//! # PCI (card numbers)
//! * Runs separated by nothing but punctuation are joined into a *group* (Whisper often writes
//!   the pause between digit blocks as a full stop: `4532 0151. 1283 0366.`).
//! * A card number is a window of 13–19 digits of a group that passes the Luhn check, starts with
//!   a non-zero digit at the first digit of a word, and ends at the last digit of a word — or
//!   inside a word whose remaining digits all repeat the card's last digit (Whisper writes
//!   `4111111111111111111` for 4111 1111 1111 1111). Groups are searched left to right, the
//!   earliest start first and there the longest window; the search resumes at the next word.
//!   So a card followed by more digits in the same run (`… 0366 , 0928`) is still found.
//! * `numbersOnly`: the words carrying the card's digits.
//! * `probableNumbers`: as `numbersOnly`, plus any group or run of 13–19 digits failing Luhn
//!   (a misrecognised digit does not make it less of a card number).
//! * `entireRegion` (the v3 default): every card number, and every group of **13 or more digits**
//!   whatever its Luhn check and length — the recogniser adds, drops or mishears digits
//!   (`41111111111111111`, `4111 11 111111 111`, a loop of `41, 41, …`), and a partly leaked card
//!   number is worse than an over-redaction. So are blocks of 2+ digits broken by at most 2
//!   words within 3 s (a digit misheard as a word: `4111 1111 for 1111 1111`) that add up to 13
//!   or more digits. Each is covered from its first word (a group of 13+
//!   digits from the group's first word) to the end of its group, then on
//!   through each following group of 2–8 digits (expiry, security code, or both in one breath)
//!   that starts within 15 words and 20 s of the region so far. A group of 9+ digits (another
//!   card, an SSN, a phone number) ends the region; single digits are passed over. Words in
//!   between ("expiry", "security code") are covered too; words before the card's group are not.
//!   Overlapping regions are merged.
//!
//! # SSN and Number
//! * SSN: a run of exactly 9 digits however grouped (`536 224 187`, `53 62 24 187`, words and
//!   numerals mixed), or a group of exactly 9 digits (an SSN read in two breaths, `536-22.
//!   4187.`), whose area (first 3) is not 000, 666 or 900–999, group (next 2) not 00 and serial
//!   (last 4) not 0000. A longer run or group is an account or card number, not an SSN (at
//!   `entireRegion`, PCI redacts one of 13 digits or more) — except right after the words
//!   "social" or "SSN" (within 6 words): there a group of 8–10 digits is an SSN with a digit
//!   dropped or doubled by the recogniser (`My social is 536-24187.`), and is redacted.
//! * Number: every run of 3 or more digits ("one" or "two of them" is no number to redact).
//!
//! Detections of one detector are sorted and never overlap. [`redact`] replaces spans of words
//! by one replacement word. Everything here is pure and panics on no input.

use sealscribe_domain::detectors::{DetectionLevel, Detector, DetectorName};
use sealscribe_transcript::{Transcript, Word};

/// Words a following expiry / security code may lag behind a card region (`entireRegion`).
const REGION_WORDS: usize = 15;
/// Milliseconds a following expiry / security code may lag behind a card region.
const REGION_MS: u64 = 20_000;

/// One detected span of words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detection {
    /// [`DetectorName::as_str`] of the detector that found it.
    pub detector: &'static str,
    /// [`DetectorName::label`] of the detector that found it.
    pub label: &'static str,
    /// [`DetectorName::class`] of the detector that found it (v3 `detectorClass`).
    pub class: i32,
    /// Index into the words of the first word covered.
    pub first: usize,
    /// Index of the last word covered (inclusive).
    pub last: usize,
    /// Start of `words[first]`, ms.
    pub s: u64,
    /// End of `words[last]`, ms.
    pub e: u64,
}

impl Detection {
    /// The inclusive word span, as [`redact`] takes it.
    pub fn span(&self) -> (usize, usize) {
        (self.first, self.last)
    }
}

/// Finds what `detector` looks for in `words`: sorted by `first`, never overlapping. Only
/// `name` and `detection_level` (PCI only) matter here; redaction is [`redact`]'s business.
pub fn detect(words: &[Word], detector: &Detector) -> Vec<Detection> {
    let runs = runs(words);
    let spans: Vec<(usize, usize)> = match detector.name {
        DetectorName::Pci => pci(words, &runs, detector.detection_level),
        DetectorName::Ssn => ssn(words, &runs),
        DetectorName::Number => runs
            .iter()
            .filter(|r| r.digits.len() >= 3)
            .map(Run::span)
            .collect(),
    };
    spans
        .into_iter()
        .map(|(first, last)| Detection {
            detector: detector.name.as_str(),
            label: detector.name.label(),
            class: detector.name.class(),
            first,
            last,
            s: words[first].s,
            e: words[last].e,
        })
        .collect()
}

/// Replaces each span of words (inclusive indices; overlapping or touching spans are merged,
/// out-of-range ends clamped, inverted or out-of-range spans ignored) by one word
/// `replacement`, timed from the first word's start to the last word's end, with the mean
/// confidence of the words it replaces (1.0 if only punctuation). Punctuation inside a span goes
/// with it. `p` is renumbered from 0 and the transcript confidence recomputed as the mean
/// confidence of the non-punctuation words (0 when there are none). Turn tokens are kept, and
/// `turns[]` / `voiceActivity[]` recomputed from the redacted words.
pub fn redact(transcript: &Transcript, spans: &[(usize, usize)], replacement: &str) -> Transcript {
    let src = &transcript.words;
    let mut sorted: Vec<(usize, usize)> = spans
        .iter()
        .filter(|&&(a, b)| a <= b && a < src.len())
        .map(|&(a, b)| (a, b.min(src.len() - 1)))
        .collect();
    sorted.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (a, b) in sorted {
        match merged.last_mut() {
            Some(m) if a <= m.1 + 1 => m.1 = m.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    let mut words = Vec::with_capacity(src.len());
    let mut pending = merged.into_iter().peekable();
    let mut i = 0;
    while i < src.len() {
        match pending.next_if(|&(a, _)| a == i) {
            Some((a, b)) => {
                let s = src[a].s;
                words.push(Word {
                    p: 0,
                    s,
                    e: src[b].e.max(s),
                    c: mean_confidence(&src[a..=b]).unwrap_or(1.0),
                    w: replacement.to_string(),
                    m: None,
                });
                i = b + 1;
            }
            None => {
                words.push(src[i].clone());
                i += 1;
            }
        }
    }
    for (p, w) in words.iter_mut().enumerate() {
        w.p = u32::try_from(p).unwrap_or(u32::MAX);
    }
    let confidence = mean_confidence(&words).unwrap_or(0.0);
    let mut out = Transcript {
        confidence,
        words,
        ..Default::default()
    };
    // `turns[]` text must not keep what the words no longer say.
    out.refresh_turns();
    out
}

fn mean_confidence(words: &[Word]) -> Option<f32> {
    let cs: Vec<f64> = words
        .iter()
        .filter(|w| !w.is_punctuation() && !w.is_turn())
        .map(|w| f64::from(w.c))
        .collect();
    (!cs.is_empty()).then(|| (cs.iter().sum::<f64>() / cs.len() as f64) as f32)
}

/// A digit sequence: its first and last word and each digit with the word it came from.
#[derive(Clone, Debug)]
struct Run {
    first: usize,
    last: usize,
    digits: Vec<(u8, usize)>,
}

impl Run {
    fn span(&self) -> (usize, usize) {
        (self.first, self.last)
    }
}

/// A token of the number tokenizer; words split into parts, punctuation into `Sep` / `Break`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Part {
    Sep,
    Break,
    Numeral(u8),
    Digit(u8),
    Oh,
    Teen(u8),
    Tens(u8),
    Hundred,
    Thousand,
    Mult(u8),
    And,
}

/// Number words for 0–19 and for the tens 20–90, in order.
const UNITS: &str = "zero one two three four five six seven eight nine ten eleven twelve thirteen \
                     fourteen fifteen sixteen seventeen eighteen nineteen";
const TENS: &str = "twenty thirty forty fifty sixty seventy eighty ninety";

/// A punctuation token, or a "word" with no letter or digit in it.
fn is_punct(w: &Word) -> bool {
    w.is_punctuation() || !w.w.chars().any(char::is_alphanumeric)
}

/// Commas, hyphens, dashes, slashes and ellipses keep a run going; anything else ends it.
fn punct(text: &str) -> Part {
    let t = text.trim();
    let pause = t.contains("..") || t.contains('…');
    if pause || t.chars().all(|c| matches!(c, ',' | '-' | '–' | '—' | '/')) {
        Part::Sep
    } else {
        Part::Break
    }
}

/// Hesitations the recogniser may write between the blocks of a number.
const FILLERS: &str = "um umm uh uhm uhh er erm ah hmm mm";

fn is_filler(text: &str) -> bool {
    let core = text
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    FILLERS.split_whitespace().any(|f| f == core)
}

fn number_word(p: &str) -> Option<Part> {
    let find = |list: &str| {
        list.split_whitespace()
            .position(|x| x == p)
            .map(|i| i as u8)
    };
    if let Some(n) = find(UNITS) {
        return Some(if n < 10 {
            Part::Digit(n)
        } else {
            Part::Teen(n)
        });
    }
    if let Some(t) = find(TENS) {
        return Some(Part::Tens(20 + 10 * t));
    }
    Some(match p {
        "oh" | "o" => Part::Oh,
        "hundred" => Part::Hundred,
        "thousand" => Part::Thousand,
        "double" => Part::Mult(2),
        "triple" => Part::Mult(3),
        "and" => Part::And,
        _ => return None,
    })
}

/// The parts of a word, or `None` if any part of it is not a number.
fn word_parts(text: &str) -> Option<Vec<Part>> {
    let core = text
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    let mut parts = Vec::new();
    for p in core
        .split(['-', '–', '—', '/', ',', '.'])
        .filter(|p| !p.is_empty())
    {
        if p.bytes().all(|b| b.is_ascii_digit()) {
            parts.extend(p.bytes().map(|b| Part::Numeral(b - b'0')));
        } else {
            parts.push(number_word(p)?);
        }
    }
    Some(parts)
}

/// Tokenizes the words into parts, each with the index of its word.
fn items(words: &[Word]) -> Vec<(Part, usize)> {
    let mut out = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        if is_punct(w) {
            out.push((punct(&w.w), i));
            continue;
        }
        match word_parts(&w.w) {
            Some(parts) if !w.is_turn() => out.extend(parts.into_iter().map(|p| (p, i))),
            // A hesitation is a pause: "four five, um, three two" is one number.
            None if !w.is_turn() && is_filler(&w.w) => out.push((Part::Sep, i)),
            _ => out.push((Part::Break, i)),
        }
        let body = w.w.trim_end_matches(|c: char| !c.is_alphanumeric()).len();
        if body < w.w.len() {
            out.push((punct(&w.w[body..]), i));
        }
    }
    // `double`/`triple` and `and` are numbers only in context.
    for k in 0..out.len() {
        let next = out.get(k + 1).map(|x| x.0);
        let ok = match out[k].0 {
            Part::Mult(_) => matches!(next, Some(Part::Digit(_) | Part::Numeral(_) | Part::Oh)),
            Part::And => {
                k > 0
                    && matches!(out[k - 1].0, Part::Hundred | Part::Thousand)
                    && matches!(next, Some(Part::Digit(_) | Part::Teen(_) | Part::Tens(_)))
            }
            // `thousand` only after a number word or numeral (`two thousand`, `twenty
            // thousand`, `four hundred thousand`); alone it ends the run, as it always did.
            Part::Thousand => {
                k > 0
                    && matches!(
                        out[k - 1].0,
                        Part::Numeral(_)
                            | Part::Digit(_)
                            | Part::Teen(_)
                            | Part::Tens(_)
                            | Part::Hundred
                    )
            }
            _ => true,
        };
        if !ok {
            out[k].0 = Part::Break;
        }
    }
    out
}

/// The digit sequences of `words`, in order and never sharing a word.
fn runs(words: &[Word]) -> Vec<Run> {
    let items = items(words);
    let mut out: Vec<Run> = Vec::new();
    for chunk in items.split(|(p, _)| *p == Part::Break) {
        let mut c = chunk;
        while let [(Part::Sep, _), rest @ ..] | [(Part::Oh, _), (Part::Sep, _), rest @ ..] = c {
            c = rest;
        }
        while let [rest @ .., (Part::Sep, _)] | [rest @ .., (Part::Sep, _), (Part::Oh, _)] = c {
            c = rest;
        }
        let numeric = |p: &Part| {
            matches!(
                p,
                Part::Numeral(_) | Part::Digit(_) | Part::Teen(_) | Part::Tens(_) | Part::Hundred
            )
        };
        if !c.iter().any(|(p, _)| numeric(p)) {
            continue;
        }
        let run = Run {
            first: c[0].1,
            last: c[c.len() - 1].1,
            digits: combine(c),
        };
        match out.last_mut() {
            // A word like `123-and-456` splits into two chunks; keep it one run.
            Some(prev) if run.first <= prev.last => {
                prev.last = run.last;
                prev.digits.extend(run.digits);
            }
            _ => out.push(run),
        }
    }
    out
}

/// The digits of one run's parts, each with its word index.
fn combine(items: &[(Part, usize)]) -> Vec<(u8, usize)> {
    let mut d = Vec::new();
    let mut k = 0;
    while k < items.len() {
        let (part, at) = items[k];
        let next = items.get(k + 1).copied();
        k += 1;
        match part {
            Part::Numeral(x) | Part::Digit(x) => d.push((x, at)),
            Part::Oh => d.push((0, at)),
            Part::Teen(n) => d.extend([(n / 10, at), (n % 10, at)]),
            Part::Tens(n) => k += tens(&mut d, n, at, next),
            Part::Mult(times) => {
                if let Some((p, at2)) = next {
                    let x = match p {
                        Part::Numeral(x) | Part::Digit(x) => x,
                        _ => 0,
                    };
                    // The first copy belongs to `double`, so both words carry digits.
                    d.push((x, at));
                    d.extend(std::iter::repeat_n((x, at2), usize::from(times - 1)));
                    k += 1;
                }
            }
            Part::Hundred => {
                let multiplied = k >= 2
                    && matches!(
                        items[k - 2].0,
                        Part::Numeral(_)
                            | Part::Digit(_)
                            | Part::Oh
                            | Part::Teen(_)
                            | Part::Tens(_)
                    );
                if !multiplied {
                    d.push((1, at));
                }
                let j = if matches!(next, Some((Part::And, _))) {
                    k + 1
                } else {
                    k
                };
                match items.get(j).copied() {
                    Some((Part::Teen(n), a)) => {
                        d.extend([(n / 10, a), (n % 10, a)]);
                        k = j + 1;
                    }
                    Some((Part::Tens(n), a)) => {
                        k = j + 1 + tens(&mut d, n, a, items.get(j + 1).copied());
                    }
                    Some((Part::Digit(u), a)) => {
                        d.extend([(0, at), (u, a)]);
                        k = j + 1;
                    }
                    _ => d.extend([(0, at), (0, at)]),
                }
            }
            Part::Thousand => {
                // The group after it takes three digits: pad what it does not say.
                let j = if matches!(next, Some((Part::And, _))) {
                    k + 1
                } else {
                    k
                };
                let pad = match (items.get(j).map(|x| x.0), items.get(j + 1).map(|x| x.0)) {
                    (Some(Part::Digit(_)), Some(Part::Hundred)) => 0,
                    (Some(Part::Teen(_) | Part::Tens(_)), _) => 1,
                    (Some(Part::Digit(_)), _) => 2,
                    _ => 3,
                };
                d.extend(std::iter::repeat_n((0, at), pad));
                k = j;
            }
            Part::Sep | Part::Break | Part::And => {}
        }
    }
    d
}

/// Pushes a tens word, joined with a directly following digit word 1–9; returns how many parts
/// after it were used.
fn tens(d: &mut Vec<(u8, usize)>, n: u8, at: usize, next: Option<(Part, usize)>) -> usize {
    d.push((n / 10, at));
    match next {
        Some((Part::Digit(u @ 1..=9), a)) => {
            d.push((u, a));
            1
        }
        _ => {
            d.push((0, at));
            0
        }
    }
}

fn luhn(d: &[(u8, usize)]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &(x, _))| {
            let x = u32::from(x) * if i % 2 == 1 { 2 } else { 1 };
            if x > 9 { x - 9 } else { x }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn is_ssn(d: &[(u8, usize)]) -> bool {
    let n = |r: std::ops::Range<usize>| d[r].iter().fold(0u32, |a, &(x, _)| a * 10 + u32::from(x));
    d.len() == 9 && {
        let (area, group, serial) = (n(0..3), n(3..5), n(5..9));
        area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
    }
}

/// SSNs: runs of nine digits, and groups of nine digits (an SSN read in two breaths, written
/// `536-22. 4187.`) made of runs that are not SSNs themselves.
fn ssn(words: &[Word], runs: &[Run]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = runs
        .iter()
        .filter(|r| is_ssn(&r.digits))
        .map(Run::span)
        .collect();
    for g in groups(words, runs) {
        let overlaps = out.iter().any(|&(a, b)| a <= g.last && g.first <= b);
        if (is_ssn(&g.digits)
            || (SSN_NEAR_MISS.contains(&g.digits.len()) && announced(words, g.first)))
            && !overlaps
        {
            out.push(g.span());
        }
    }
    out.sort_unstable();
    out
}

/// Digit counts of an SSN with a digit dropped or added by the recogniser.
const SSN_NEAR_MISS: std::ops::RangeInclusive<usize> = 8..=10;
/// Words after "social" / "SSN" within which a near-miss SSN is taken as one.
const SSN_CONTEXT_WORDS: usize = 6;

/// Whether "social" or "SSN" is said within [`SSN_CONTEXT_WORDS`] words before word `first`.
fn announced(words: &[Word], first: usize) -> bool {
    words[..first]
        .iter()
        .rev()
        .filter(|w| !is_punct(w))
        .take(SSN_CONTEXT_WORDS)
        .any(|w| {
            let core =
                w.w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase();
            matches!(core.as_str(), "social" | "ssn" | "s.s.n")
        })
}

/// Runs separated only by punctuation, joined.
fn groups(words: &[Word], runs: &[Run]) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    for r in runs {
        let gap = |g: &Run| words.get(g.last + 1..r.first);
        match out.last_mut() {
            Some(g)
                if gap(g).is_some_and(|gap| gap.iter().all(|w| is_punct(w) && !w.is_turn())) =>
            {
                g.last = r.last;
                g.digits.extend_from_slice(&r.digits);
            }
            _ => out.push(r.clone()),
        }
    }
    out
}

/// The Luhn-valid card numbers in a group's digits, as word spans.
fn cards(d: &[(u8, usize)]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut s = 0;
    while s + 13 <= d.len() {
        let word_start = s == 0 || d[s].1 != d[s - 1].1;
        let hit = (word_start && d[s].0 != 0)
            .then(|| {
                (13..=19)
                    .rev()
                    .map(|len| s + len - 1)
                    .filter(|&t| t < d.len())
                    .find(|&t| {
                        let tail = d[t + 1..].iter().take_while(|x| x.1 == d[t].1);
                        tail.clone().all(|x| x.0 == d[t].0) && luhn(&d[s..=t])
                    })
            })
            .flatten();
        match hit {
            Some(t) => {
                out.push((d[s].1, d[t].1));
                s = t + 1;
                while s < d.len() && d[s].1 == d[t].1 {
                    s += 1;
                }
            }
            None => s += 1,
        }
    }
    out
}

fn pci(words: &[Word], runs: &[Run], level: DetectionLevel) -> Vec<(usize, usize)> {
    let groups = groups(words, runs);
    let mut found: Vec<(usize, usize)> = groups.iter().flat_map(|g| cards(&g.digits)).collect();
    match level {
        DetectionLevel::NumbersOnly => found,
        DetectionLevel::ProbableNumbers => {
            for r in groups.iter().chain(runs) {
                let overlaps = found.iter().any(|&(a, b)| a <= r.last && r.first <= b);
                if (13..=19).contains(&r.digits.len()) && !overlaps {
                    found.push(r.span());
                }
            }
            found.sort_unstable();
            found
        }
        DetectionLevel::EntireRegion => {
            // A card number misrecognised (a digit too many or too few, a digit wrong) is
            // still a card number: any group of 13 or more digits is redacted whole.
            found.extend(
                groups
                    .iter()
                    .filter(|g| g.digits.len() >= 13)
                    .map(Run::span),
            );
            found.extend(bridged(words, &groups));
            found.sort_unstable();
            let mut out: Vec<(usize, usize)> = Vec::new();
            for (first, card_last) in found {
                let last = region_end(words, &groups, card_last);
                match out.last_mut() {
                    Some(prev) if first <= prev.1 => prev.1 = prev.1.max(last),
                    _ => out.push((first, last)),
                }
            }
            out
        }
    }
}

/// Words a misheard digit or a filler may take between two blocks of a card (`entireRegion`).
const BRIDGE_WORDS: usize = 2;
/// Milliseconds between two blocks of a card bridged that way.
const BRIDGE_MS: u64 = 3_000;

/// Card numbers broken by a word the recogniser put between their blocks — a digit misheard
/// as a word (`4111 1111 for 1111 1111`, "to", "won"), an "and", a filler it wrote its own
/// way: consecutive groups of 2+ digits at most [`BRIDGE_WORDS`] words and [`BRIDGE_MS`] apart
/// whose digits add up to 13 or more, as one span.
fn bridged(words: &[Word], groups: &[Run]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut chain: Option<(usize, usize, usize, usize)> = None; // first, last, digits, groups
    for g in groups.iter().filter(|g| g.digits.len() >= 2) {
        let joins = chain.is_some_and(|(_, last, _, _)| {
            let gap = words.get(last + 1..g.first).unwrap_or_default();
            gap.iter().filter(|w| !is_punct(w)).count() <= BRIDGE_WORDS
                && !gap.iter().any(Word::is_turn)
                && words[g.first].s.saturating_sub(words[last].e) <= BRIDGE_MS
        });
        chain = match chain {
            Some((first, _, n, k)) if joins => Some((first, g.last, n + g.digits.len(), k + 1)),
            done => {
                if let Some((first, last, n, k)) = done
                    && n >= 13
                    && k > 1
                {
                    out.push((first, last));
                }
                Some((g.first, g.last, g.digits.len(), 1))
            }
        };
    }
    if let Some((first, last, n, k)) = chain
        && n >= 13
        && k > 1
    {
        out.push((first, last));
    }
    out
}

/// The last word of the `entireRegion` of a card ending at word `card_last`.
fn region_end(words: &[Word], groups: &[Run], card_last: usize) -> usize {
    let mut last = card_last;
    for g in groups.iter().filter(|g| g.last > card_last) {
        if g.first <= last {
            last = g.last; // the rest of the card's own group
            continue;
        }
        if g.digits.len() < 2 {
            continue;
        }
        let between = words
            .get(last + 1..g.first)
            .map_or(0, |gap| gap.iter().filter(|w| !is_punct(w)).count());
        let lag = words[g.first].s.saturating_sub(words[last].e);
        if g.digits.len() > 8 || between > REGION_WORDS || lag > REGION_MS {
            break;
        }
        last = g.last;
    }
    last
}

#[cfg(test)]
mod tests;
