//! Closed captions (SRT and WebVTT) built from display units.
//!
//! Cue rules — chosen to follow common broadcast caption guidance (two lines, ~42 characters a
//! line, a few seconds on screen) so captions stay readable without a caption editor:
//!
//! 1. A cue holds at most [`MAX_LINES`] lines of at most [`MAX_LINE_CHARS`] characters (counted
//!    as Unicode scalar values). Lines break only between words; a single word longer than the
//!    limit gets a line of its own rather than being cut. When a cue needs two lines the break is
//!    placed where the longer line is shortest (balanced lines read faster).
//! 2. A cue spans at most [`MAX_CUE_MS`] from its first word's start to its last word's end (a
//!    single word longer than that is a cue of its own).
//! 3. A new cue starts before a word that follows a pause longer than [`PAUSE_BREAK_MS`], and
//!    after sentence-ending punctuation (`.?!`, not an ellipsis) unless the cue so far is tiny (under
//!    [`SHORT_SENTENCE_MS`] — so "Yes. I think so." stays one cue). When a cue overflows (rule 1
//!    or 2) and it contains an earlier sentence end, it is cut after that sentence end instead of
//!    mid-sentence.
//! 4. Speakers: a turn change always ends a cue (no cue mixes two speakers), and the first cue of
//!    a turn starts with the speaker's `Name:` label, which is never separated from the turn's
//!    first word (only a name too long for a two-line cue is broken, between its own words);
//!    cues that continue the turn carry no label.
//! 5. Timing: start = the first word's `s`, end = the last word's `e`. Starts are made
//!    non-decreasing, an end is clamped to `[start, next cue's start]` so cues never overlap and
//!    never end before they start, and a cue shorter than [`MIN_CUE_MS`] is extended up to that
//!    length, but never past the next cue's start (the last cue may always be extended).
//!
//! Formats: SRT cues are numbered from 1 with `HH:MM:SS,mmm --> HH:MM:SS,mmm`, a blank line
//! between cues; WebVTT starts with `WEBVTT` and a blank line and uses `HH:MM:SS.mmm`, with `&`,
//! `<` and `>` escaped as the WebVTT spec requires. Hours are at least two digits and grow past 99.
//! An empty transcript gives an empty SRT and a WebVTT of just `WEBVTT\n`.
//!
//! DFXP (TTML) has no VoiceBase sample anywhere; this is the minimal document of the W3C 2006/10
//! namespace that `application/ttaf+xml` names, with the same cues: one `<p begin end>` per cue
//! (`HH:MM:SS.mmm`), `<br/>` between its lines, text escaped for XML (`&`, `<`, `>`, quotes) and
//! characters XML 1.0 cannot carry at all (control characters) replaced by U+FFFD, so the
//! document is always well-formed:
//!
//! ```xml
//! <?xml version="1.0" encoding="utf-8"?>
//! <tt xmlns="http://www.w3.org/2006/10/ttaf1" xml:lang="en-US">
//!   <head/>
//!   <body>
//!     <div>
//!       <p begin="00:00:02.760" end="00:00:05.080">Agent: Well this is Taneisha<br/>thank you for calling.</p>
//!     </div>
//!   </body>
//! </tt>
//! ```

use crate::Unit;

/// Maximum lines per cue.
pub const MAX_LINES: usize = 2;
/// Maximum characters per caption line.
pub const MAX_LINE_CHARS: usize = 42;
/// Maximum cue duration, ms.
pub const MAX_CUE_MS: u64 = 7_000;
/// A pause between words longer than this starts a new cue, ms.
pub const PAUSE_BREAK_MS: u64 = 1_000;
/// A sentence shorter than this does not end its cue by itself, ms.
pub const SHORT_SENTENCE_MS: u64 = 1_000;
/// Cues shorter than this are extended (space permitting), ms.
pub const MIN_CUE_MS: u64 = 500;

/// One cue: text lines and a time span.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Cue {
    pub start: u64,
    pub end: u64,
    pub lines: Vec<String>,
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Number of lines a greedy fill needs (greedy is optimal for "fewest lines").
fn lines_needed(units: &[Unit]) -> usize {
    let mut lines = 0;
    let mut len = 0; // current line length; 0 = no line open
    for u in units {
        let n = chars(&u.text);
        if len > 0 && len + 1 + n <= MAX_LINE_CHARS {
            len += 1 + n;
        } else {
            lines += 1;
            len = n.max(1);
        }
    }
    lines
}

fn join(units: &[Unit]) -> String {
    units
        .iter()
        .map(|u| u.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Lays a cue's units out in lines: one line when it fits, otherwise the balanced two-line split
/// (or, for input that needs more — never produced by [`build_cues`] — the greedy fill).
fn layout(units: &[Unit]) -> Vec<String> {
    let whole = join(units);
    if chars(&whole) <= MAX_LINE_CHARS || units.len() < 2 {
        return vec![whole];
    }
    let mut best: Option<(usize, usize)> = None; // (longest line, split index)
    for k in 1..units.len() {
        let a = chars(&join(&units[..k]));
        let b = chars(&join(&units[k..]));
        let ok = |len: usize, n: usize| len <= MAX_LINE_CHARS || n == 1;
        if ok(a, k) && ok(b, units.len() - k) {
            let longest = a.max(b);
            if best.is_none_or(|(l, _)| longest < l) {
                best = Some((longest, k));
            }
        }
    }
    match best {
        Some((_, k)) => vec![join(&units[..k]), join(&units[k..])],
        None => {
            // Greedy fill (more than two lines).
            let mut lines: Vec<String> = Vec::new();
            for u in units {
                match lines.last_mut() {
                    Some(l) if chars(l) + 1 + chars(&u.text) <= MAX_LINE_CHARS => {
                        l.push(' ');
                        l.push_str(&u.text);
                    }
                    _ => lines.push(u.text.clone()),
                }
            }
            lines
        }
    }
}

fn fits(units: &[Unit]) -> bool {
    match (units.first(), units.last()) {
        (Some(first), Some(last)) => {
            units.len() == 1
                || (last.e.saturating_sub(first.s) <= MAX_CUE_MS
                    && lines_needed(units) <= MAX_LINES)
        }
        _ => true,
    }
}

/// Groups units into cue ranges (rules 1–4).
fn group(units: &[Unit]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < units.len() {
        if i > start {
            let prev = &units[i - 1];
            let pause = units[i].s.saturating_sub(prev.e) > PAUSE_BREAK_MS;
            let sentence_done =
                prev.sentence_end && prev.e.saturating_sub(units[start].s) >= SHORT_SENTENCE_MS;
            if pause || sentence_done || units[i].turn_start {
                out.push(start..i);
                start = i;
            } else if prev.label && !units[i].label {
                // A turn's label stays with its first word, whatever the limits say (only a
                // name too long for two lines is broken, between its own words).
            } else if !fits(&units[start..=i]) {
                // Prefer cutting after the last sentence end inside the cue.
                match (start..i - 1).rev().find(|&k| units[k].sentence_end) {
                    Some(k) => {
                        out.push(start..k + 1);
                        start = k + 1;
                        continue; // re-check unit i against the shortened cue
                    }
                    None => {
                        out.push(start..i);
                        start = i;
                    }
                }
            }
        }
        i += 1;
    }
    if start < units.len() {
        out.push(start..units.len());
    }
    out
}

/// Builds the cues with their final, non-overlapping times (rule 5).
pub(crate) fn build_cues(units: &[Unit]) -> Vec<Cue> {
    let ranges = group(units);
    let mut cues: Vec<Cue> = Vec::with_capacity(ranges.len());
    let mut last_start = 0u64;
    for r in ranges {
        let part = &units[r];
        let start = part.first().map_or(0, |u| u.s).max(last_start);
        last_start = start;
        let end = part.iter().map(|u| u.e).max().unwrap_or(start);
        cues.push(Cue {
            start,
            end,
            lines: layout(part),
        });
    }
    for i in 0..cues.len() {
        let next_start = cues.get(i + 1).map(|c| c.start);
        let start = cues[i].start;
        let mut end = cues[i].end.max(start);
        if end - start < MIN_CUE_MS {
            end = start.saturating_add(MIN_CUE_MS);
        }
        if let Some(n) = next_start {
            end = end.min(n);
        }
        cues[i].end = end.max(start);
    }
    cues
}

fn timestamp(ms: u64, sep: char) -> String {
    let h = ms / 3_600_000;
    let m = ms / 60_000 % 60;
    let s = ms / 1_000 % 60;
    let f = ms % 1_000;
    format!("{h:02}:{m:02}:{s:02}{sep}{f:03}")
}

pub(crate) fn srt(units: &[Unit]) -> String {
    let mut out = String::new();
    for (i, cue) in build_cues(units).iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!(
            "{}\n{} --> {}\n",
            i + 1,
            timestamp(cue.start, ','),
            timestamp(cue.end, ',')
        ));
        for line in &cue.lines {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn vtt_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub(crate) fn webvtt(units: &[Unit]) -> String {
    let mut out = String::from("WEBVTT\n");
    for cue in build_cues(units) {
        out.push('\n');
        out.push_str(&format!(
            "{} --> {}\n",
            timestamp(cue.start, '.'),
            timestamp(cue.end, '.')
        ));
        for line in &cue.lines {
            out.push_str(&vtt_escape(line));
            out.push('\n');
        }
    }
    out
}

/// Text for XML character data or a quoted attribute value.
fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 `Char`: no C0 controls but tab, LF, CR; no U+FFFE/U+FFFF.
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The TTML namespace of DFXP (`application/ttaf+xml`).
pub const TTAF_NAMESPACE: &str = "http://www.w3.org/2006/10/ttaf1";

pub(crate) fn dfxp(units: &[Unit], language: Option<&str>) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<tt xmlns=\"{TTAF_NAMESPACE}\" xml:lang=\"{}\">\n  <head/>\n  <body>\n    <div>\n",
        xml_escape(language.unwrap_or("").trim())
    );
    for cue in build_cues(units) {
        let lines: Vec<String> = cue.lines.iter().map(|l| xml_escape(l)).collect();
        out.push_str(&format!(
            "      <p begin=\"{}\" end=\"{}\">{}</p>\n",
            timestamp(cue.start, '.'),
            timestamp(cue.end, '.'),
            lines.join("<br/>")
        ));
    }
    out.push_str("    </div>\n  </body>\n</tt>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(text: &str, s: u64, e: u64) -> Unit {
        Unit {
            text: text.into(),
            s,
            e,
            sentence_end: text.ends_with(['.', '?', '!']),
            turn_start: false,
            label: false,
        }
    }

    #[test]
    fn timestamps_are_formatted_including_long_media() {
        assert_eq!(timestamp(0, ','), "00:00:00,000");
        assert_eq!(timestamp(3_723_456, ','), "01:02:03,456");
        assert_eq!(timestamp(3_723_456, '.'), "01:02:03.456");
        assert_eq!(timestamp(100 * 3_600_000 + 1, '.'), "100:00:00.001");
    }

    #[test]
    fn pause_starts_a_new_cue() {
        let u = [unit("a", 0, 100), unit("b", 1_200, 1_300)];
        assert_eq!(group(&u), vec![0..1, 1..2]);
        let u = [unit("a", 0, 100), unit("b", 1_100, 1_300)];
        assert_eq!(group(&u), vec![0..2]);
    }

    #[test]
    fn long_sentence_end_breaks_but_short_one_does_not() {
        let u = [
            unit("Yes.", 0, 300),
            unit("I", 400, 500),
            unit("think", 500, 900),
            unit("so.", 900, 1_200),
            unit("Then", 1_300, 1_500),
        ];
        assert_eq!(group(&u), vec![0..4, 4..5]);
    }

    #[test]
    fn overflow_cuts_after_an_earlier_sentence_end() {
        // "Ok." is short so it does not end the cue by itself; when the line overflows later,
        // the cue is cut after "Ok." rather than mid-sentence.
        let mut u = vec![unit("Ok.", 0, 200)];
        for k in 0..20u64 {
            u.push(unit("word", 300 + k * 100, 350 + k * 100));
        }
        let g = group(&u);
        assert_eq!(g[0], 0..1);
        assert!(g.iter().all(|r| fits(&u[r.clone()])));
    }

    #[test]
    fn duration_limit_splits_cues() {
        let u: Vec<Unit> = (0..10u64)
            .map(|k| unit("w", k * 900, k * 900 + 800))
            .collect();
        for r in group(&u) {
            let part = &u[r];
            assert!(part.last().unwrap().e - part[0].s <= MAX_CUE_MS);
        }
    }

    #[test]
    fn balanced_two_line_layout() {
        let u: Vec<Unit> = "one two three four five six seven eight nine ten"
            .split(' ')
            .map(|w| unit(w, 0, 1))
            .collect();
        let lines = layout(&u);
        assert_eq!(
            lines,
            vec!["one two three four five", "six seven eight nine ten"]
        );
    }

    #[test]
    fn over_long_word_gets_its_own_line() {
        let long = "x".repeat(60);
        let u = [unit("a", 0, 10), unit(&long, 10, 20), unit("b", 20, 30)];
        let cues = build_cues(&u);
        for c in &cues {
            assert!(c.lines.len() <= MAX_LINES);
            for l in &c.lines {
                assert!(chars(l) <= MAX_LINE_CHARS || l == &long, "{l}");
            }
        }
        let all: Vec<String> = cues.iter().flat_map(|c| c.lines.clone()).collect();
        assert_eq!(all.join(" "), format!("a {long} b"));
    }

    #[test]
    fn short_cue_is_extended_but_not_into_the_next() {
        let u = [
            unit("a", 0, 100),
            unit("b", 1_200, 1_300),
            unit("c", 1_400, 1_500),
        ];
        let cues = build_cues(&u);
        assert_eq!((cues[0].start, cues[0].end), (0, 500));
        // b and c are one cue (1200..1500), extended to 1700 (last cue).
        assert_eq!((cues[1].start, cues[1].end), (1_200, 1_700));
        let u = [unit("a.", 0, 100), unit("b", 1_150, 1_300)];
        let cues = build_cues(&u);
        assert_eq!(cues[0].end, 500);
    }

    #[test]
    fn nonsense_timings_still_give_ordered_cues() {
        let u = [
            unit("a", 5_000, 100),
            unit("b", 0, 0),
            unit("c", 9_000, 8_000),
        ];
        let cues = build_cues(&u);
        for w in cues.windows(2) {
            assert!(w[0].start <= w[0].end && w[0].end <= w[1].start);
        }
        for c in &cues {
            assert!(c.start <= c.end);
        }
    }

    #[test]
    fn webvtt_escapes_markup() {
        let out = webvtt(&[unit("AT&T", 0, 10), unit("<b>", 10, 20)]);
        assert!(out.contains("AT&amp;T &lt;b&gt;"), "{out}");
        assert_eq!(webvtt(&[]), "WEBVTT\n");
        assert_eq!(srt(&[]), "");
    }
}
