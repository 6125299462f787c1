//! `transcript.formatting.enableNumberFormatting: false`: numbers written as English words.
//!
//! Why: the recogniser writes numbers as digits and symbols (`$138.65`, `15%`, `3rd`), which
//! is v3's default ("number formatting" on). A customer who turns it off wants the words that
//! were said — for reading aloud, for matching against scripts, or because the v3 docs
//! recommend it whenever the number detectors run. The detectors read number words as well as
//! digits ([`sealscribe_detect`-style digit runs]), so a card number read out still is one.
//!
//! # What is converted (each recognised word on its own, after recognition)
//! * A plain numeral is a **quantity** and read as a cardinal (`42` → `forty two`, `1,250` →
//!   `one thousand two hundred fifty`), except that it is an **identifier** and read digit by
//!   digit (`4532` → `four five three two`, `0151` → `zero one five one`) when it starts with
//!   `0`, has more than 4 digits without thousands separators, or its neighbouring word in the
//!   same turn (punctuation between is skipped) is a numeral too — card, account and phone
//!   numbers come as runs of digit groups. A 4-digit quantity from 1100 to 1999 is read in
//!   pairs like a year (`1999` → `nineteen ninety nine`, `1500` → `fifteen hundred`, `1905`
//!   → `nineteen oh five`).
//! * Groups joined by `-` or `/` (`536-22-4187`, `24/7`): each group as above, identifiers if
//!   the groups hold 7 digits or more in all; the separator is not spoken.
//! * Decimals: `3.14` → `three point one four`; negatives `-5` → `minus five`.
//! * Money: `$`, `€`, `£` before an amount: `$138.65` → `one hundred thirty eight dollars and
//!   sixty five cents`, `$1` → `one dollar`, `$0.50` → `fifty cents`; before a scale word the
//!   unit moves after it (`$2 million` → `two million dollars`).
//! * Percentages: `15%` → `fifteen percent`; ordinals: `1st` `22nd` `3rd` `100th` → `first`
//!   `twenty second` `third` `one hundredth`; plurals `1990s` → `nineteen nineties`.
//! * Clock times `h:mm`: `3:30` → `three thirty`, `10:05` → `ten oh five`, `3:00` → `three
//!   o'clock`.
//! * Anything else — a word mixing letters and digits (`mp3`, `4G`), a numeral of more than
//!   15 digits read as a quantity — is read digit by digit where it is all digits and kept as
//!   written otherwise.
//!
//! Compound numbers are separate words (`forty two`, not `forty-two`), without "and"
//! (`one hundred five`), so search and the phrase matcher see each word. Each new word gets a
//! share of the numeral's time (`s`..`e`) in proportion to its length, keeps its confidence,
//! and positions (`p`) are renumbered; `turns[]` is rebuilt from the new words.

use crate::{Transcript, Word};

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
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const SCALES: [(u64, &str); 4] = [
    (1_000_000_000_000, "trillion"),
    (1_000_000_000, "billion"),
    (1_000_000, "million"),
    (1_000, "thousand"),
];
/// Largest quantity read as a cardinal (15 digits); longer numerals are read digit by digit.
const MAX_CARDINAL: u64 = 999_999_999_999_999;

/// The cardinal words of `n` (`0` → `zero`, `1205` → `one thousand two hundred five`).
pub fn cardinal(n: u64) -> Vec<&'static str> {
    if n == 0 {
        return vec!["zero"];
    }
    let mut out = Vec::new();
    let mut rest = n;
    for (value, name) in SCALES {
        if rest >= value {
            below_thousand(rest / value, &mut out);
            out.push(name);
            rest %= value;
        }
    }
    below_thousand(rest, &mut out);
    out
}

fn below_thousand(n: u64, out: &mut Vec<&'static str>) {
    let n = n % 1000;
    if n >= 100 {
        out.push(UNITS[(n / 100) as usize]);
        out.push("hundred");
    }
    below_hundred(n % 100, out);
}

fn below_hundred(n: u64, out: &mut Vec<&'static str>) {
    match n {
        0 => {}
        1..=19 => out.push(UNITS[n as usize]),
        _ => {
            out.push(TENS[(n / 10) as usize]);
            if !n.is_multiple_of(10) {
                out.push(UNITS[(n % 10) as usize]);
            }
        }
    }
}

/// The ordinal form of a cardinal's last word (`one` → `first`, `twenty` → `twentieth`).
fn ordinal_word(word: &str) -> String {
    match word {
        "one" => "first".into(),
        "two" => "second".into(),
        "three" => "third".into(),
        "five" => "fifth".into(),
        "eight" => "eighth".into(),
        "nine" => "ninth".into(),
        "twelve" => "twelfth".into(),
        w if w.ends_with('y') => format!("{}ieth", &w[..w.len() - 1]),
        w => format!("{w}th"),
    }
}

/// The plural of a cardinal's last word (`ninety` → `nineties`, `six` → `sixes`).
fn plural_word(word: &str) -> String {
    match word {
        w if w.ends_with('y') => format!("{}ies", &w[..w.len() - 1]),
        w if w.ends_with('x') => format!("{w}es"),
        w => format!("{w}s"),
    }
}

fn digits(s: &str) -> Vec<String> {
    s.chars()
        .filter_map(|c| c.to_digit(10))
        .map(|d| UNITS[d as usize].to_owned())
        .collect()
}

fn owned(words: Vec<&str>) -> Vec<String> {
    words.into_iter().map(str::to_owned).collect()
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `1,250` → 1250 when the commas are thousands separators.
fn grouped(s: &str) -> Option<u64> {
    let parts: Vec<&str> = s.split(',').collect();
    if parts.len() < 2
        || !all_digits(parts[0])
        || parts[0].len() > 3
        || parts[0].starts_with('0')
        || parts[1..].iter().any(|p| p.len() != 3 || !all_digits(p))
    {
        return None;
    }
    parts.concat().parse().ok().filter(|n| *n <= MAX_CARDINAL)
}

/// A plain numeral (digits, or digits with thousands separators) as words.
fn numeral(s: &str, identifier: bool) -> Option<Vec<String>> {
    if let Some(n) = grouped(s) {
        return Some(owned(cardinal(n)));
    }
    if !all_digits(s) {
        return None;
    }
    if identifier || s.len() > 4 || (s.len() > 1 && s.starts_with('0')) {
        return Some(digits(s));
    }
    let n: u64 = s.parse().ok()?;
    if (1100..=1999).contains(&n) {
        // Read in pairs like a year: `nineteen ninety nine`, `fifteen hundred`, `nineteen oh five`.
        let (hi, lo) = (n / 100, n % 100);
        let mut out = owned(cardinal(hi));
        match lo {
            0 => out.push("hundred".into()),
            1..=9 => {
                out.push("oh".into());
                out.push(UNITS[lo as usize].into());
            }
            _ => out.extend(owned(cardinal(lo))),
        }
        return Some(out);
    }
    Some(owned(cardinal(n)))
}

/// `3.14` → `three point one four` (also a plain numeral).
fn decimal(s: &str, identifier: bool) -> Option<Vec<String>> {
    match s.split_once('.') {
        None => numeral(s, identifier),
        Some((whole, fraction)) if all_digits(fraction) => {
            let mut out = if whole.is_empty() {
                vec!["zero".to_owned()]
            } else {
                numeral(whole, false)?
            };
            out.push("point".into());
            out.extend(digits(fraction));
            Some(out)
        }
        Some(_) => None,
    }
}

/// `$138.65`: the amount's words and its unit, or `None` when `s` is no amount.
fn money(s: &str) -> Option<(Vec<String>, &'static str, &'static str)> {
    let (units, cents, rest) = if let Some(r) = s.strip_prefix('$') {
        (("dollar", "dollars"), ("cent", "cents"), r)
    } else if let Some(r) = s.strip_prefix('€') {
        (("euro", "euros"), ("cent", "cents"), r)
    } else if let Some(r) = s.strip_prefix('£') {
        (("pound", "pounds"), ("penny", "pence"), r)
    } else {
        return None;
    };
    let (whole, fraction) = match rest.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (rest, None),
    };
    let whole_value = if whole.is_empty() {
        0
    } else {
        grouped(whole).or_else(|| {
            all_digits(whole)
                .then(|| whole.parse().ok())
                .flatten()
                .filter(|n| *n <= MAX_CARDINAL)
        })?
    };
    match fraction {
        Some(f) if f.len() == 2 && all_digits(f) => {
            let cents_value: u64 = f.parse().ok()?;
            let mut out = Vec::new();
            if whole_value > 0 || cents_value == 0 {
                out.extend(owned(cardinal(whole_value)));
                out.push(if whole_value == 1 { units.0 } else { units.1 }.to_owned());
            }
            if cents_value > 0 {
                if !out.is_empty() {
                    out.push("and".into());
                }
                out.extend(owned(cardinal(cents_value)));
                out.push(if cents_value == 1 { cents.0 } else { cents.1 }.to_owned());
            }
            Some((out, "", ""))
        }
        Some(f) if all_digits(f) => {
            // `$1.5` (million, usually): a decimal amount.
            let mut out = owned(cardinal(whole_value));
            out.push("point".into());
            out.extend(digits(f));
            Some((out, units.0, units.1))
        }
        Some(_) => None,
        None => Some((owned(cardinal(whole_value)), units.0, units.1)),
    }
}

/// `3:30` → `three thirty`.
fn clock(s: &str) -> Option<Vec<String>> {
    let (h, m) = s.split_once(':')?;
    if !all_digits(h) || h.len() > 2 || m.len() != 2 || !all_digits(m) {
        return None;
    }
    let (h, m): (u64, u64) = (h.parse().ok()?, m.parse().ok()?);
    if h > 24 || m > 59 {
        return None;
    }
    let mut out = owned(cardinal(h));
    match m {
        0 => out.push("o'clock".into()),
        1..=9 => {
            out.push("oh".into());
            out.push(UNITS[m as usize].into());
        }
        _ => out.extend(owned(cardinal(m))),
    }
    Some(out)
}

/// The words for one written word, or `None` to keep it as written. `identifier`: a
/// neighbouring word is a numeral too (see the [module](self)).
pub fn spell(word: &str, identifier: bool) -> Option<Vec<String>> {
    if !word.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Some(rest) = word
        .strip_prefix('-')
        .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
    {
        let mut out = vec!["minus".to_owned()];
        out.extend(decimal(rest, false)?);
        return Some(out);
    }
    if let Some((mut out, one, many)) = money(word) {
        if !one.is_empty() {
            let plural = out != ["one"];
            out.push(if plural { many } else { one }.to_owned());
        }
        return Some(out);
    }
    if let Some(n) = word.strip_suffix('%') {
        let mut out = decimal(n, false)?;
        out.push("percent".into());
        return Some(out);
    }
    for suffix in ["st", "nd", "rd", "th"] {
        if let Some(n) = word.to_lowercase().strip_suffix(suffix)
            && all_digits(n)
            && n.len() <= 15
        {
            let mut out = owned(cardinal(n.parse().ok()?));
            let last = out.pop()?;
            out.push(ordinal_word(&last));
            return Some(out);
        }
    }
    for suffix in ["'s", "’s", "s"] {
        if let Some(n) = word.strip_suffix(suffix)
            && all_digits(n)
        {
            let mut out = numeral(n, false)?;
            let last = out.pop()?;
            out.push(plural_word(&last));
            return Some(out);
        }
    }
    if let Some(out) = clock(word) {
        return Some(out);
    }
    if word.contains(['-', '/']) {
        let groups: Vec<&str> = word.split(['-', '/']).collect();
        if groups.iter().all(|g| all_digits(g)) {
            let total: usize = groups.iter().map(|g| g.len()).sum();
            let mut out = Vec::new();
            for g in groups {
                out.extend(numeral(g, identifier || total >= 7)?);
            }
            return Some(out);
        }
        return None;
    }
    decimal(word, identifier)
}

/// True for a word that is a numeral as written (digits with `,` `.` `-` `/` between).
fn is_numeral(word: &str) -> bool {
    word.bytes().any(|b| b.is_ascii_digit())
        && word
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b',' | b'.' | b'-' | b'/'))
}

/// The transcript with its numerals written as words; see the [module](self) for the rules.
pub fn spell_numbers(transcript: &Transcript) -> Transcript {
    let src = &transcript.words;
    // The spoken words' neighbours within a turn, skipping punctuation.
    let neighbour = |i: usize, step: isize| -> Option<&Word> {
        let mut k = i as isize + step;
        while k >= 0 && (k as usize) < src.len() {
            let w = &src[k as usize];
            if w.is_turn() {
                return None;
            }
            if !w.is_punctuation() {
                return Some(w);
            }
            k += step;
        }
        None
    };
    let mut words = Vec::with_capacity(src.len());
    for (i, w) in src.iter().enumerate() {
        if w.is_punctuation() || w.is_turn() {
            words.push(w.clone());
            continue;
        }
        let identifier = is_numeral(&w.w)
            && [neighbour(i, -1), neighbour(i, 1)]
                .into_iter()
                .flatten()
                .any(|n| is_numeral(&n.w));
        // Whisper sometimes glues the currency sign to the word before (`cost$ 75`): the
        // sign goes back to the amount.
        let glued = all_digits(&w.w.replace(',', ""))
            .then(|| {
                words
                    .iter_mut()
                    .rev()
                    .find(|p: &&mut Word| !p.is_punctuation())
            })
            .flatten()
            .filter(|p| !p.is_turn() && p.w.chars().count() > 1)
            .and_then(|p| {
                let sign =
                    p.w.chars()
                        .last()
                        .filter(|c| matches!(c, '$' | '€' | '£'))?;
                p.w.pop();
                Some(sign)
            });
        let mut spelled = match glued {
            Some(sign) => spell(&format!("{sign}{}", w.w), false),
            None => spell(&w.w, identifier),
        };
        // `$2 million`: the unit goes after the scale word that follows.
        if let Some(out) = &mut spelled
            && let Some(next) = neighbour(i, 1)
            && ["thousand", "million", "billion", "trillion"]
                .contains(&next.w.to_lowercase().as_str())
            && out.len() > 1
            && (glued.is_some() || w.w.starts_with(['$', '€', '£']))
            && ["dollars", "dollar", "euros", "euro", "pounds", "pound"]
                .contains(&out.last().map(String::as_str).unwrap_or(""))
        {
            let unit = out.pop().unwrap_or_default();
            let plural = match unit.as_str() {
                "dollar" => "dollars",
                "euro" => "euros",
                "pound" => "pounds",
                u => u,
            };
            pending_unit(&mut words, plural);
        }
        match spelled {
            Some(parts) if !parts.is_empty() => words.extend(split_time(w, &parts)),
            _ => words.push(w.clone()),
        }
    }
    let mut out = Transcript {
        words: after_scale(words),
        ..transcript.clone()
    };
    for (p, w) in out.words.iter_mut().enumerate() {
        w.p = p as u32;
    }
    out.refresh_turns();
    out
}

/// Marker of a unit word to insert after the next word (`$2 million` → `two million dollars`).
const PENDING: &str = "\u{0}unit";

fn pending_unit(words: &mut Vec<Word>, unit: &str) {
    words.push(Word {
        p: 0,
        s: 0,
        e: 0,
        c: 0.0,
        w: unit.to_owned(),
        m: Some(PENDING.to_owned()),
    });
}

/// Moves each pending unit to after the scale word that follows its amount, timed at that
/// word's end.
fn after_scale(words: Vec<Word>) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::with_capacity(words.len());
    let mut pending: Option<Word> = None;
    for w in words {
        if w.m.as_deref() == Some(PENDING) {
            pending = Some(w);
            continue;
        }
        let is_scale =
            ["thousand", "million", "billion", "trillion"].contains(&w.w.to_lowercase().as_str());
        let (s, e, c) = (w.e, w.e, w.c);
        out.push(w);
        if is_scale && let Some(mut unit) = pending.take() {
            (unit.s, unit.e, unit.c, unit.m) = (s, e, c, None);
            out.push(unit);
        }
    }
    out
}

/// The words `parts` in the time of `w`, each a share proportional to its length.
fn split_time(w: &Word, parts: &[String]) -> Vec<Word> {
    let total: u128 = parts.iter().map(|p| p.chars().count() as u128 + 1).sum();
    let span = u128::from(w.e.saturating_sub(w.s));
    // `w.s` plus a share of `span`: never past `w.e`, whatever the timings.
    let offset = |at: u128| w.s + u64::try_from(span * at / total).unwrap_or(0);
    let mut at = 0u128;
    parts
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let s = offset(at);
            at += p.chars().count() as u128 + 1;
            let e = if k + 1 == parts.len() {
                w.e.max(w.s)
            } else {
                offset(at)
            };
            Word {
                p: 0,
                s,
                e,
                c: w.c,
                w: p.clone(),
                m: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn say(word: &str) -> String {
        spell(word, false)
            .map(|w| w.join(" "))
            .unwrap_or_else(|| word.to_owned())
    }

    #[test]
    fn cardinals_and_quantities() {
        assert_eq!(say("0"), "zero");
        assert_eq!(say("7"), "seven");
        assert_eq!(say("42"), "forty two");
        assert_eq!(say("100"), "one hundred");
        assert_eq!(say("105"), "one hundred five");
        assert_eq!(say("1,250"), "one thousand two hundred fifty");
        assert_eq!(say("2005"), "two thousand five");
        assert_eq!(say("1,000,000"), "one million");
        assert_eq!(say("1999"), "nineteen ninety nine");
        assert_eq!(say("1500"), "fifteen hundred");
        assert_eq!(say("1905"), "nineteen oh five");
        assert_eq!(say("3.14"), "three point one four");
        assert_eq!(say("-5"), "minus five");
    }

    #[test]
    fn identifiers_are_read_digit_by_digit() {
        assert_eq!(say("0151"), "zero one five one");
        assert_eq!(say("41111"), "four one one one one");
        assert_eq!(
            say("536-22-4187"),
            "five three six two two four one eight seven"
        );
        assert_eq!(say("24/7"), "twenty four seven");
        assert_eq!(
            spell("4532", true).unwrap().join(" "),
            "four five three two"
        );
    }

    #[test]
    fn money_percent_ordinals_times() {
        assert_eq!(
            say("$138.65"),
            "one hundred thirty eight dollars and sixty five cents"
        );
        assert_eq!(say("$1"), "one dollar");
        assert_eq!(say("$0.50"), "fifty cents");
        assert_eq!(say("$1,200"), "one thousand two hundred dollars");
        assert_eq!(say("£3.01"), "three pounds and one penny");
        assert_eq!(say("15%"), "fifteen percent");
        assert_eq!(say("2.5%"), "two point five percent");
        assert_eq!(say("1st"), "first");
        assert_eq!(say("22nd"), "twenty second");
        assert_eq!(say("3rd"), "third");
        assert_eq!(say("40th"), "fortieth");
        assert_eq!(say("100th"), "one hundredth");
        assert_eq!(say("1990s"), "nineteen nineties");
        assert_eq!(say("3:30"), "three thirty");
        assert_eq!(say("10:05"), "ten oh five");
        assert_eq!(say("3:00"), "three o'clock");
        // Kept as written.
        assert_eq!(say("mp3"), "mp3");
        assert_eq!(say("hello"), "hello");
    }

    fn transcript(text: &str) -> Transcript {
        let words = text
            .split_whitespace()
            .enumerate()
            .map(|(p, w)| {
                let (w, m) = match w {
                    "," | "." => (w, Some(crate::PUNC.to_owned())),
                    _ if w.starts_with('@') => (&w[1..], Some("turn".to_owned())),
                    _ => (w, None),
                };
                Word {
                    p: p as u32,
                    s: 1000 * p as u64,
                    e: 1000 * p as u64 + 900,
                    c: 0.8,
                    w: w.to_owned(),
                    m,
                }
            })
            .collect();
        Transcript {
            confidence: 0.8,
            words,
            ..Transcript::default()
        }
    }

    fn text(t: &Transcript) -> String {
        t.words
            .iter()
            .map(|w| w.w.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn transcripts_keep_times_and_positions() {
        let t = transcript("I paid 42 , then 4532 , 0151 , 1283 .");
        let out = spell_numbers(&t);
        assert_eq!(
            text(&out),
            "I paid forty two , then four five three two , zero one five one , one two eight three ."
        );
        for (p, w) in out.words.iter().enumerate() {
            assert_eq!(w.p as usize, p);
            assert!(w.s <= w.e);
        }
        // `forty two` shares the numeral's 2000..2900.
        assert_eq!((out.words[2].s, out.words[3].e), (2000, 2900));
        assert!(out.words[2].e <= out.words[3].s);
        assert_eq!(out.words[2].c, 0.8);
        // A turn change ends a run: the 7 after it is a quantity.
        let out = spell_numbers(&transcript("@A 4532 @B 7"));
        assert_eq!(
            text(&out),
            "A four thousand five hundred thirty two B seven"
        );
        assert_eq!(out.turns.len(), 2);
        assert_eq!(out.turns[1].text, "seven");
    }

    #[test]
    fn odd_words_never_panic() {
        for w in [
            "",
            "$",
            "%",
            "-",
            "$.",
            "$.5",
            "1.",
            ".5",
            "1..2",
            "1-",
            "-1-",
            "--5",
            "1//2",
            "1,0",
            ",100",
            "1,000,",
            "99999999999999999999999",
            "$99999999999999999999",
            "1st1",
            "12:",
            ":30",
            "25:61",
            "1e5",
            "٣",
            "१२",
            "0th",
            "1'S",
            "$1.234",
            "€",
            "£0.00",
            "-$5",
            "123456789012345678901234567890th",
        ] {
            let _ = spell(w, false);
            let _ = spell(w, true);
        }
        assert_eq!(say("0th"), "zeroth");
        assert_eq!(say("£0.00"), "zero pounds");
        assert_eq!(say(".5"), "zero point five");
    }

    #[test]
    fn hostile_timings_do_not_panic() {
        let mut t = transcript("paid 42 and 1,000,000");
        t.words[1].s = u64::MAX - 5;
        t.words[1].e = u64::MAX;
        t.words[3].s = 10;
        t.words[3].e = 0;
        let out = spell_numbers(&t);
        assert_eq!(text(&out), "paid forty two and one million");
        assert!(out.words[1].s >= u64::MAX - 5 && out.words[2].e == u64::MAX);
        assert_eq!((out.words[5].s, out.words[5].e), (10, 10));
    }

    #[test]
    fn currency_unit_moves_after_the_scale() {
        let out = spell_numbers(&transcript("about $2 million ."));
        assert_eq!(text(&out), "about two million dollars .");
        assert_eq!(out.words[3].s, out.words[2].e);
        let out = spell_numbers(&transcript("$5 only"));
        assert_eq!(text(&out), "five dollars only");
        // Whisper's `cost$ 75`: the sign glued to the word before.
        let out = spell_numbers(&transcript("lessons cost$ 75 ."));
        assert_eq!(text(&out), "lessons cost seventy five dollars .");
        let out = spell_numbers(&transcript("pay$ 2 million"));
        assert_eq!(text(&out), "pay two million dollars");
        // A lone sign is no word to empty.
        let out = spell_numbers(&transcript("$ 75"));
        assert_eq!(text(&out), "$ seventy five");
    }

    #[test]
    fn detectors_still_read_spelled_card_numbers() {
        use crate::phrases::Phrase;
        let out = spell_numbers(&transcript("card 4111 1111 1111 1111 ."));
        assert_eq!(
            text(&out),
            "card four one one one one one one one one one one one one one one one ."
        );
        // The phrase matcher reads the digits back.
        assert_eq!(out.find(&Phrase::parse("4 1 1 1").unwrap()).len(), 1);
    }
}
