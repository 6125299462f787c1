//! The v3 aligner: give a customer-corrected plain-text transcript the timings of the recognised
//! words (`POST /v3/media/{id}` with a `transcript` part, reference §2.8).
//!
//! The result contains exactly the human's words, in the human's order and spelling, plus the
//! human's punctuation as `"m":"punc"` tokens. Timings come from a global sequence alignment
//! (Needleman–Wunsch) between the human words and the recognised words (punctuation and
//! speaker-turn tokens of the recognised transcript are ignored):
//!
//! * Tokens are compared in a normalised form: lower-case, letters and digits only
//!   (`"Don't,"` ≡ `don't` ≡ `dont`).
//! * Costs: equal tokens 0; an insertion or deletion [`INDEL`]; a substitution between
//!   [`SUB_MIN`] (very similar words) and [`SUB_MAX`] (nothing in common). Similarity is the
//!   Jaccard index of the two words' character-bigram sets (with start/end markers), computed
//!   once per distinct word and compared by a linear merge; a character edit distance would cost
//!   O(len²) per cell, which dominates at thousands × thousands of words. Because
//!   `SUB_MAX < 2 × INDEL`, a corrected word is always paired with the recognised word it
//!   replaces rather than treated as a deletion plus an insertion.
//! * A matched human word takes the recognised word's `s`/`e` with `c = 1.0` (the human confirmed
//!   it); a substituted one takes the recognised word's `s`/`e`/`c`.
//! * A run of human words with no counterpart (insertions) is spread evenly over the gap between
//!   the aligned words around it: from the previous aligned word's end (or the first recognised
//!   word's start) to the next aligned word's start (or the last recognised word's end). Their
//!   `c` is 0.0 — there is no acoustic evidence for their timing. If the gap is empty the words
//!   get zero-length times at its position. In particular an **empty recognised transcript gives
//!   every human word the zero-length time 0–0**, since there is no time span to spread over.
//! * Recognised words with no human counterpart are dropped.
//! * Punctuation tokens are timed at the end of the word before them (`s == e`), or at the start
//!   of the first word when they precede every word; their `c` is 1.0.
//! * **Speakers.** A human text may name who speaks, as the text rendition of a multi-speaker
//!   transcript does: a turn starts with `Name:` at the start of a line (a name of up to
//!   [`MAX_SPEAKER_WORDS`] words of letters, digits, `-`, `_`, `.`, `'`, followed by a colon,
//!   whitespace and text), when the text's first line starts so too, or anywhere in a line
//!   when `Name` is a speaker of the recognised transcript (`… thank you. Caller: I want …`). Each label becomes a turn token (`"m":"turn"`, `w` the
//!   name) spanning its turn's words, and the result carries `turns[]` and `voiceActivity[]`
//!   built from them by the rules of a recognised multi-speaker transcript
//!   ([`Transcript::refresh_turns`]); the labels themselves are not words. A text without labels gives a
//!   transcript without speakers, as before. The timings still come from one alignment over
//!   all the words, whoever said them.
//! * Finally word starts are made non-decreasing, `e >= s`, and no time exceeds the latest
//!   recognised time, whatever the input timings were. `p` is renumbered from 0 and the
//!   transcript confidence is the mean `c` of the (non-punctuation) words, 0 when there are none.
//!
//! Memory: a full DP matrix for 5,000 × 5,000 words would be 25 M cells. Costs therefore live in
//! two rolling `u32` rows (`u32` because totals reach `INDEL × (n + m)`, which overflows `u16`
//! beyond ~3,000 words each side), and only the traceback (one `u8` direction per cell) is kept,
//! restricted to a diagonal band: the band follows the line from (0,0) to (n,m) and is
//! `|n − m| + BAND_SLACK` wide on each side, which contains every path whose insertions and
//! deletions do not both exceed the slack — i.e. every realistic correction — and the whole
//! matrix for small inputs. The band is narrowed so the traceback never exceeds [`MAX_CELLS`]
//! bytes (≈24 MB), bounding memory and time for any input. Any path inside the band is a valid
//! alignment, so a too-narrow band only costs quality, never correctness.

use std::collections::HashMap;

use crate::{PUNC, Transcript, Word};

/// Most words in a speaker label at the start of a line (`Speaker 1:`).
pub const MAX_SPEAKER_WORDS: usize = 4;
/// Most characters in a speaker label.
pub const MAX_SPEAKER_CHARS: usize = 64;
/// The v3 marker of speaker-turn tokens.
const TURN: &str = "turn";

/// Cost of a human word with no recognised counterpart, or vice versa.
pub const INDEL: u32 = 10;
/// Cost of substituting two very similar (but not equal) words.
pub const SUB_MIN: u32 = 6;
/// Cost of substituting two words with nothing in common.
pub const SUB_MAX: u32 = 16;
/// Extra band half-width beyond the length difference.
pub const BAND_SLACK: usize = 512;
/// Upper bound on traceback cells (bytes).
pub const MAX_CELLS: usize = 24 << 20;

const INF: u32 = u32::MAX / 2;
const DIAG: u8 = 0;
const UP: u8 = 1; // human word inserted
const LEFT: u8 = 2; // recognised word dropped

/// A token of the human text.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Punc(String),
    /// A speaker label: the turn of this speaker starts here.
    Turn(String),
}

/// The speaker named by a label `Name:` at the start of `line`, and the rest of the line.
fn line_label(line: &str) -> Option<(String, &str)> {
    let (name, rest) = line.split_once(':')?;
    // Text must follow on the line (`… as follows:` ends a line), after whitespace
    // (`10:30`, `http://…` are no labels).
    if !rest.starts_with(char::is_whitespace) || rest.trim().is_empty() {
        return None;
    }
    let name = name.trim();
    let words = name.split_whitespace().count();
    let chars_ok = name.chars().next().is_some_and(char::is_alphanumeric)
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || matches!(c, '-' | '_' | '.' | '\''));
    (chars_ok
        && (1..=MAX_SPEAKER_WORDS).contains(&words)
        && name.chars().count() <= MAX_SPEAKER_CHARS)
        .then(|| (name.split_whitespace().collect::<Vec<_>>().join(" "), rest))
}

/// Tokenises a human text that may name its speakers (see the module docs): speaker labels
/// become [`Tok::Turn`], the rest is [`tokenize`]d. `known` are the recognised transcript's
/// speakers, recognised as labels anywhere in a line.
fn tokenize_turns(text: &str, known: &[&str]) -> Vec<Tok> {
    let known: Vec<Vec<&str>> = known
        .iter()
        .map(|k| k.split_whitespace().collect::<Vec<_>>())
        .filter(|k| !k.is_empty())
        .collect();
    // Labels at line starts count only in a text that starts with one: a plain text with a
    // line like `He said: stop` is not taken for a conversation.
    let labelled = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| line_label(l).is_some());
    let mut out = Vec::new();
    for line in text.lines() {
        let rest = match line_label(line).filter(|_| labelled) {
            Some((name, rest)) => {
                out.push(Tok::Turn(name));
                rest
            }
            None => line,
        };
        let chunks: Vec<&str> = rest.split_whitespace().collect();
        let mut i = 0;
        let mut plain = String::new();
        while i < chunks.len() {
            // `Name:` of a known speaker: its words, the last one with the colon.
            let label = known.iter().find(|k| {
                chunks.len() >= i + k.len()
                    && k.iter().enumerate().all(|(j, w)| {
                        let chunk = chunks[i + j];
                        if j + 1 == k.len() {
                            chunk.strip_suffix(':') == Some(*w)
                        } else {
                            chunk == *w
                        }
                    })
            });
            match label {
                Some(k) => {
                    out.extend(tokenize(&plain));
                    plain.clear();
                    out.push(Tok::Turn(k.join(" ")));
                    i += k.len();
                }
                None => {
                    plain.push_str(chunks[i]);
                    plain.push(' ');
                    i += 1;
                }
            }
        }
        out.extend(tokenize(&plain));
    }
    out
}

/// Punctuation split off the front of a word (opening marks).
fn is_leading_punc(c: char) -> bool {
    matches!(c, '(' | '[' | '{' | '"' | '“' | '‘' | '«' | '¿' | '¡')
}

/// Punctuation split off the end of a word. Apostrophes count (a closing quote or `dogs'`), but
/// not at the front, so `'cause` and `'90s` stay words.
fn is_trailing_punc(c: char) -> bool {
    matches!(
        c,
        '.' | ',' | ';' | ':' | '!' | '?' | '"' | '\'' | ')' | ']' | '}' | '…' | '”' | '’' | '»'
    )
}

/// Any character that, alone, makes a punctuation-only chunk (`--`, `...`, `?!`).
fn is_punc_char(c: char) -> bool {
    is_leading_punc(c) || is_trailing_punc(c) || matches!(c, '-' | '—' | '–')
}

/// Splits a punctuation string into runs of the same character (`?!` → `?`, `!`; `...` stays).
fn punc_runs(s: &str, out: &mut Vec<Tok>) {
    let mut run = String::new();
    for c in s.chars() {
        if run.chars().next().is_some_and(|r| r != c) {
            out.push(Tok::Punc(std::mem::take(&mut run)));
        }
        run.push(c);
    }
    if !run.is_empty() {
        out.push(Tok::Punc(run));
    }
}

/// Tokenises human text: whitespace-separated chunks, with leading/trailing punctuation split
/// off as punctuation tokens.
fn tokenize(text: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    for chunk in text.split_whitespace() {
        let chars: Vec<char> = chunk.chars().collect();
        if chars.iter().all(|&c| is_punc_char(c)) {
            punc_runs(chunk, &mut out);
            continue;
        }
        let mut a = 0;
        while a < chars.len() && is_leading_punc(chars[a]) {
            a += 1;
        }
        let mut b = chars.len();
        while b > a && is_trailing_punc(chars[b - 1]) {
            b -= 1;
        }
        if a == b {
            // Only punctuation after all (e.g. `("'`): keep it all as punctuation.
            punc_runs(chunk, &mut out);
            continue;
        }
        let lead: String = chars[..a].iter().collect();
        let core: String = chars[a..b].iter().collect();
        let trail: String = chars[b..].iter().collect();
        punc_runs(&lead, &mut out);
        out.push(Tok::Word(core));
        punc_runs(&trail, &mut out);
    }
    out
}

/// Lower-case letters and digits only.
fn normalise(w: &str) -> String {
    w.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Sorted, deduplicated 64-bit hashes of the character bigrams of `^word$`.
fn bigrams(norm: &str) -> Vec<u64> {
    let chars: Vec<char> = std::iter::once('^')
        .chain(norm.chars())
        .chain(std::iter::once('$'))
        .collect();
    let mut out: Vec<u64> = chars
        .windows(2)
        .map(|pair| (u64::from(pair[0]) << 32) | u64::from(pair[1]))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Interned normalised tokens: equal ids = equal normalised text; `grams[id]` = its bigrams.
struct Interner {
    ids: HashMap<String, u32>,
    grams: Vec<Vec<u64>>,
}

impl Interner {
    fn new() -> Self {
        Interner {
            ids: HashMap::new(),
            grams: Vec::new(),
        }
    }

    fn key(&mut self, w: &str) -> u32 {
        let norm = normalise(w);
        if let Some(&id) = self.ids.get(&norm) {
            return id;
        }
        let id = u32::try_from(self.grams.len()).unwrap_or(u32::MAX);
        self.grams.push(bigrams(&norm));
        self.ids.insert(norm, id);
        id
    }

    /// Substitution cost: 0 for equal tokens, else between `SUB_MIN` and `SUB_MAX` by the
    /// Jaccard distance of the bigram sets.
    fn sub_cost(&self, a: u32, b: u32) -> u32 {
        if a == b {
            return 0;
        }
        let empty = Vec::new();
        let ga = self.grams.get(a as usize).unwrap_or(&empty);
        let gb = self.grams.get(b as usize).unwrap_or(&empty);
        let (mut i, mut j, mut inter) = (0, 0, 0u32);
        while i < ga.len() && j < gb.len() {
            match ga[i].cmp(&gb[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    inter += 1;
                    i += 1;
                    j += 1;
                }
            }
        }
        let total = u32::try_from(ga.len() + gb.len()).unwrap_or(u32::MAX);
        let union = total.saturating_sub(inter).max(1);
        let span = SUB_MAX - SUB_MIN;
        // SUB_MIN + span × (1 − inter/union), rounded.
        SUB_MIN + (span * (union - inter) + union / 2) / union
    }
}

/// Needleman–Wunsch over a diagonal band; returns, for each human word, the index of the
/// recognised word it is aligned with (`None` = inserted).
fn align_indices(words: &Interner, human: &[u32], recog: &[u32]) -> Vec<Option<usize>> {
    let n = human.len();
    let m = recog.len();
    if n == 0 || m == 0 {
        return vec![None; n];
    }
    let step = m.div_ceil(n); // max column advance of the band centre per row
    let mut half = n.abs_diff(m).saturating_add(BAND_SLACK).max(step + 1);
    let rows = n + 1;
    if rows.saturating_mul(half.saturating_mul(2).saturating_add(1)) > MAX_CELLS {
        half = (MAX_CELLS / rows / 2).max(step + 1);
    }
    // Band of row i: columns lo[i]..=hi[i]; offsets into the flat traceback.
    let mut lo = Vec::with_capacity(rows);
    let mut hi = Vec::with_capacity(rows);
    let mut offset = Vec::with_capacity(rows);
    let mut total = 0usize;
    for i in 0..rows {
        // centre = i*m/n without overflow (u128).
        let centre = usize::try_from((i as u128 * m as u128) / n as u128).unwrap_or(m);
        let l = centre.saturating_sub(half);
        let h = centre.saturating_add(half).min(m);
        lo.push(l);
        hi.push(h);
        offset.push(total);
        total += h - l + 1;
    }
    let mut dirs = vec![DIAG; total];
    let mut prev: Vec<u32> = Vec::new();
    let mut cur: Vec<u32> = Vec::new();
    for i in 0..rows {
        cur.clear();
        for j in lo[i]..=hi[i] {
            let (cost, dir) = if i == 0 {
                (u32::try_from(j).unwrap_or(INF).saturating_mul(INDEL), LEFT)
            } else {
                let get_prev = |jj: usize| -> u32 {
                    if jj >= lo[i - 1] && jj <= hi[i - 1] {
                        prev[jj - lo[i - 1]]
                    } else {
                        INF
                    }
                };
                let mut best = (INF, UP);
                if j > 0 {
                    let d =
                        get_prev(j - 1).saturating_add(words.sub_cost(human[i - 1], recog[j - 1]));
                    best = (d, DIAG);
                }
                let u = get_prev(j).saturating_add(INDEL);
                if u < best.0 {
                    best = (u, UP);
                }
                if j > lo[i] {
                    let l = cur[j - 1 - lo[i]].saturating_add(INDEL);
                    if l < best.0 {
                        best = (l, LEFT);
                    }
                }
                (best.0.min(INF), best.1)
            };
            dirs[offset[i] + (j - lo[i])] = dir;
            cur.push(cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    // Traceback from (n, m).
    let mut out = vec![None; n];
    let (mut i, mut j) = (n, m);
    while i > 0 || j > 0 {
        let dir = if i == 0 {
            LEFT
        } else if j == 0 {
            UP
        } else if j >= lo[i] && j <= hi[i] {
            dirs[offset[i] + (j - lo[i])]
        } else {
            // Unreachable by construction (the band is connected); degrade gracefully.
            UP
        };
        match dir {
            DIAG => {
                out[i - 1] = Some(j - 1);
                i -= 1;
                j -= 1;
            }
            UP => i -= 1,
            _ => j -= 1,
        }
    }
    out
}

/// Aligns a human transcript to the recognised one; see the module documentation for the rules.
pub fn align(recognised: &Transcript, human_text: &str) -> Transcript {
    let toks = tokenize_turns(human_text, &recognised.speakers());
    let rec: Vec<&Word> = recognised
        .words
        .iter()
        .filter(|w| !w.is_punctuation() && !w.is_turn())
        .collect();
    let mut interner = Interner::new();
    let human_words: Vec<&str> = toks
        .iter()
        .filter_map(|t| match t {
            Tok::Word(w) => Some(w.as_str()),
            Tok::Punc(_) | Tok::Turn(_) => None,
        })
        .collect();
    let hk: Vec<u32> = human_words.iter().map(|w| interner.key(w)).collect();
    let rk: Vec<u32> = rec.iter().map(|w| interner.key(&w.w)).collect();
    let pairs = align_indices(&interner, &hk, &rk);

    let max_time = rec.iter().map(|w| w.s.max(w.e)).max().unwrap_or(0);
    let first_start = rec.iter().map(|w| w.s).min().unwrap_or(0);
    let last_end = rec.iter().map(|w| w.e).max().unwrap_or(0);

    // Timings of the human words (s, e, c).
    let mut times: Vec<(u64, u64, f32)> = vec![(0, 0, 0.0); hk.len()];
    let mut k = 0;
    while k < hk.len() {
        if let Some(j) = pairs[k] {
            let r = rec[j];
            let c = if hk[k] == rk[j] {
                1.0
            } else if r.c.is_finite() {
                r.c.clamp(0.0, 1.0)
            } else {
                0.0
            };
            times[k] = (r.s, r.e, c);
            k += 1;
            continue;
        }
        // A run of insertions k..end.
        let mut end = k;
        while end < hk.len() && pairs[end].is_none() {
            end += 1;
        }
        let left = if k > 0 { times[k - 1].1 } else { first_start };
        let right = match pairs.get(end).copied().flatten() {
            Some(j) => rec[j].s,
            None => last_end,
        };
        let right = right.max(left);
        let span = u128::from(right - left);
        let count = (end - k) as u128;
        for (t, slot) in times[k..end].iter_mut().enumerate() {
            let t = t as u128;
            let s = left + u64::try_from(span * t / count).unwrap_or(0);
            let e = left + u64::try_from(span * (t + 1) / count).unwrap_or(0);
            *slot = (s, e, 0.0);
        }
        k = end;
    }
    // Monotonic starts, e >= s, nothing past the latest recognised time.
    let mut last_s = 0;
    for t in &mut times {
        t.0 = t.0.max(last_s).min(max_time);
        t.1 = t.1.max(t.0).min(max_time);
        last_s = t.0;
    }

    let first_word_start = times.first().map_or(0, |t| t.0);
    let mut words = Vec::with_capacity(toks.len());
    let mut wi = 0;
    for tok in toks {
        let p = u32::try_from(words.len()).unwrap_or(u32::MAX);
        match tok {
            Tok::Word(w) => {
                let (s, e, c) = times[wi];
                wi += 1;
                words.push(Word {
                    p,
                    s,
                    e,
                    c,
                    w,
                    m: None,
                });
            }
            Tok::Punc(w) => {
                let at = if wi > 0 {
                    times[wi - 1].1
                } else {
                    first_word_start
                };
                words.push(Word {
                    p,
                    s: at,
                    e: at,
                    c: 1.0,
                    w,
                    m: Some(PUNC.to_string()),
                });
            }
            // Timed once the turn's words are (below).
            Tok::Turn(w) => words.push(Word {
                p,
                s: 0,
                e: 0,
                c: 1.0,
                w,
                m: Some(TURN.to_string()),
            }),
        }
    }
    time_turn_tokens(&mut words);
    let confidence = if times.is_empty() {
        0.0
    } else {
        (times.iter().map(|t| f64::from(t.2)).sum::<f64>() / times.len() as f64) as f32
    };
    let mut aligned = Transcript {
        confidence,
        words,
        ..Transcript::default()
    };
    // `turns[]` and `voiceActivity[]` by the same rules as a recognised multi-speaker
    // transcript.
    aligned.refresh_turns();
    aligned
}

/// Gives each turn token the span of its turn: its first word's start to its last word's end,
/// or, for a turn without words, zero length where the speech stands.
fn time_turn_tokens(words: &mut [Word]) {
    let mut last_end = 0;
    let mut i = 0;
    while i < words.len() {
        if !words[i].is_turn() {
            last_end = last_end.max(words[i].e);
            i += 1;
            continue;
        }
        let end = words[i + 1..]
            .iter()
            .position(Word::is_turn)
            .map_or(words.len(), |k| i + 1 + k);
        let mut spoken = words[i + 1..end].iter().filter(|w| !w.is_punctuation());
        let (s, e) = match (spoken.next(), spoken.next_back()) {
            (Some(first), Some(last)) => (first.s, last.e.max(first.s)),
            (Some(only), None) => (only.s, only.e.max(only.s)),
            _ => (last_end, last_end),
        };
        words[i].s = s;
        words[i].e = e;
        i = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(words: &[(&str, u64, u64)]) -> Transcript {
        Transcript {
            confidence: 0.8,
            words: words
                .iter()
                .enumerate()
                .map(|(p, &(w, s, e))| Word {
                    p: p as u32,
                    s,
                    e,
                    c: 0.8,
                    w: w.to_string(),
                    m: None,
                })
                .collect(),
            ..Default::default()
        }
    }

    fn plain(t: &Transcript) -> Vec<(&str, u64, u64)> {
        t.words
            .iter()
            .filter(|w| !w.is_punctuation())
            .map(|w| (w.w.as_str(), w.s, w.e))
            .collect()
    }

    #[test]
    fn tokenizer_splits_punctuation() {
        let t = tokenize("\"Hello,\" he said -- 'cause it's (really) 5% done?!");
        let s: Vec<String> = t
            .iter()
            .map(|t| match t {
                Tok::Word(w) => w.clone(),
                Tok::Punc(p) => format!("<{p}>"),
                Tok::Turn(t) => format!("[{t}]"),
            })
            .collect();
        assert_eq!(
            s,
            [
                "<\">", "Hello", "<,>", "<\">", "he", "said", "<-->", "'cause", "it's", "<(>",
                "really", "<)>", "5%", "done", "<?>", "<!>"
            ]
        );
    }

    #[test]
    fn normalisation_ignores_case_and_punctuation() {
        assert_eq!(normalise("Don't"), "dont");
        assert_eq!(normalise("ÉTÉ"), "été");
        let mut i = Interner::new();
        let (hello, hello2) = (i.key("Hello"), i.key("hello"));
        assert_eq!(i.sub_cost(hello, hello2), 0);
        let (colour, color, xyz) = (i.key("colour"), i.key("color"), i.key("xyz"));
        let similar = i.sub_cost(colour, color);
        let different = i.sub_cost(colour, xyz);
        assert!(similar < different, "{similar} {different}");
        assert!((SUB_MIN..=SUB_MAX).contains(&similar));
        assert_eq!(different, SUB_MAX);
    }

    #[test]
    fn similar_word_is_preferred_for_substitution() {
        // Human dropped one word and corrected another: "colour" must pair with "color".
        let r = rec(&[
            ("the", 0, 100),
            ("xyz", 100, 200),
            ("color", 200, 300),
            ("red", 300, 400),
        ]);
        let out = align(&r, "the colour red");
        assert_eq!(
            plain(&out),
            [("the", 0, 100), ("colour", 200, 300), ("red", 300, 400)]
        );
    }

    #[test]
    fn band_is_used_for_unequal_lengths() {
        let mut i = Interner::new();
        let h: Vec<u32> = (0..50).map(|k| i.key(&format!("w{k}"))).collect();
        let r: Vec<u32> = (0..3000).map(|k| i.key(&format!("r{k}"))).collect();
        let out = align_indices(&i, &h, &r);
        assert_eq!(out.len(), 50);
        // Every aligned index strictly increases.
        let idx: Vec<usize> = out.iter().flatten().copied().collect();
        assert!(idx.windows(2).all(|w| w[0] < w[1]));
    }
}
