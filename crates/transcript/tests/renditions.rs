//! SRT / WebVTT renditions, checked by parsing them back.

use sealscribe_testkit::Rng;
use sealscribe_transcript::{PUNC, Transcript, Word};

/// A parsed cue.
#[derive(Debug)]
struct Cue {
    start: u64,
    end: u64,
    lines: Vec<String>,
}

/// Parses `HH:MM:SS<sep>mmm` strictly (two-digit minutes/seconds, three-digit millis).
fn parse_time(s: &str, sep: char) -> u64 {
    let (hms, ms) = s
        .split_once(sep)
        .unwrap_or_else(|| panic!("no {sep:?} in {s:?}"));
    let parts: Vec<&str> = hms.split(':').collect();
    assert_eq!(parts.len(), 3, "{s}");
    assert!(parts[0].len() >= 2, "{s}");
    assert_eq!(parts[1].len(), 2, "{s}");
    assert_eq!(parts[2].len(), 2, "{s}");
    assert_eq!(ms.len(), 3, "{s}");
    let h: u64 = parts[0].parse().unwrap();
    let m: u64 = parts[1].parse().unwrap();
    let sec: u64 = parts[2].parse().unwrap();
    let f: u64 = ms.parse().unwrap();
    assert!(m < 60 && sec < 60);
    ((h * 60 + m) * 60 + sec) * 1000 + f
}

fn parse_timing(line: &str, sep: char) -> (u64, u64) {
    let (a, b) = line
        .split_once(" --> ")
        .unwrap_or_else(|| panic!("bad timing line {line:?}"));
    (parse_time(a, sep), parse_time(b, sep))
}

fn parse_srt(s: &str) -> Vec<Cue> {
    if s.is_empty() {
        return Vec::new();
    }
    assert!(s.ends_with('\n') && !s.ends_with("\n\n\n"));
    let mut cues = Vec::new();
    for (i, block) in s.trim_end_matches('\n').split("\n\n").enumerate() {
        let mut lines = block.lines();
        let n: usize = lines.next().unwrap().parse().expect("cue number");
        assert_eq!(n, i + 1);
        let (start, end) = parse_timing(lines.next().expect("timing"), ',');
        let text: Vec<String> = lines.map(str::to_string).collect();
        assert!(!text.is_empty(), "cue {n} has no text");
        cues.push(Cue {
            start,
            end,
            lines: text,
        });
    }
    cues
}

fn parse_vtt(s: &str) -> Vec<Cue> {
    let body = s.strip_prefix("WEBVTT\n").expect("WEBVTT header");
    if body.is_empty() {
        return Vec::new();
    }
    let body = body
        .strip_prefix('\n')
        .expect("blank line after the header");
    let mut cues = Vec::new();
    for block in body.trim_end_matches('\n').split("\n\n") {
        let mut lines = block.lines();
        let (start, end) = parse_timing(lines.next().unwrap(), '.');
        let text: Vec<String> = lines
            .map(|l| {
                assert!(
                    !l.contains('<') && !l.contains('>'),
                    "unescaped markup {l:?}"
                );
                l.replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&amp;", "&")
            })
            .collect();
        assert!(!text.is_empty());
        cues.push(Cue {
            start,
            end,
            lines: text,
        });
    }
    cues
}

/// The invariants every caption file must meet.
fn check(t: &Transcript, cues: &[Cue]) {
    for c in cues {
        assert!(c.start <= c.end, "{c:?}");
        assert!(c.lines.len() <= 2, "{c:?}");
        for l in &c.lines {
            let n = l.chars().count();
            assert!(
                n <= 42 || !l.contains(' '),
                "line over 42 chars with a break opportunity: {l:?}"
            );
            assert!(!l.is_empty() && l.trim() == l);
        }
    }
    for w in cues.windows(2) {
        assert!(w[0].end <= w[1].start, "overlap {:?} {:?}", w[0], w[1]);
        assert!(w[0].start <= w[1].start);
    }
    // Every word exactly once, in order: the caption tokens equal the plain text's tokens.
    let caption_tokens: Vec<String> = cues
        .iter()
        .flat_map(|c| c.lines.iter())
        .flat_map(|l| l.split_whitespace())
        .map(str::to_string)
        .collect();
    let text = t.text();
    let text_tokens: Vec<String> = text.split_whitespace().map(str::to_string).collect();
    assert_eq!(caption_tokens, text_tokens);
}

fn w(p: u32, s: u64, e: u64, text: &str) -> Word {
    Word {
        p,
        s,
        e,
        c: 0.9,
        w: text.into(),
        m: None,
    }
}

fn punc(p: u32, at: u64, text: &str) -> Word {
    Word {
        p,
        s: at,
        e: at,
        c: 0.0,
        w: text.into(),
        m: Some(PUNC.into()),
    }
}

/// A realistic transcript: sentences of 5–14 words, 250 ms words, pauses between sentences.
fn speech(sentences: usize, offset: u64) -> Transcript {
    let vocab = [
        "thank",
        "you",
        "for",
        "calling",
        "the",
        "support",
        "line",
        "my",
        "name",
        "is",
        "Alex",
        "how",
        "can",
        "I",
        "help",
        "today",
        "account",
        "number",
        "please",
        "international",
    ];
    let mut words = Vec::new();
    let mut t = offset;
    let mut k = 0usize;
    for snt in 0..sentences {
        let len = 5 + (snt * 7) % 10;
        for i in 0..len {
            let p = words.len() as u32;
            words.push(w(p, t, t + 250, vocab[k % vocab.len()]));
            k += 3;
            t += 300;
            if i == len / 2 {
                let p = words.len() as u32;
                words.push(punc(p, t - 50, ","));
            }
        }
        let p = words.len() as u32;
        words.push(punc(p, t - 50, if snt % 3 == 0 { "?" } else { "." }));
        t += if snt % 4 == 0 { 1_500 } else { 400 };
    }
    Transcript {
        confidence: 0.9,
        words,
        ..Default::default()
    }
}

#[test]
fn empty_transcript_renditions() {
    let t = Transcript::default();
    assert_eq!(t.srt(), "");
    assert_eq!(t.webvtt(), "WEBVTT\n");
    assert_eq!(t.text(), "");
}

#[test]
fn single_word_srt_exact() {
    let t = Transcript {
        confidence: 0.9,
        words: vec![w(0, 1_200, 1_900, "Hello"), punc(1, 1_900, ".")],
        ..Default::default()
    };
    assert_eq!(t.srt(), "1\n00:00:01,200 --> 00:00:01,900\nHello.\n");
    assert_eq!(
        t.webvtt(),
        "WEBVTT\n\n00:00:01.200 --> 00:00:01.900\nHello.\n"
    );
}

#[test]
fn realistic_speech_srt_and_vtt_parse_back() {
    let t = speech(40, 0);
    let srt = parse_srt(&t.srt());
    let vtt = parse_vtt(&t.webvtt());
    assert!(srt.len() > 10);
    check(&t, &srt);
    check(&t, &vtt);
    assert_eq!(srt.len(), vtt.len());
    for (a, b) in srt.iter().zip(&vtt) {
        assert_eq!((a.start, a.end, &a.lines), (b.start, b.end, &b.lines));
    }
    // Duration limit (no cue here is a single over-long word).
    for c in &srt {
        assert!(c.end - c.start <= 7_000, "{c:?}");
    }
    // First cue starts at the first word.
    assert_eq!(srt[0].start, 0);
}

#[test]
fn cues_break_after_sentence_ends_and_pauses() {
    let t = speech(12, 0);
    let cues = parse_srt(&t.srt());
    // Every cue but the last ends with sentence-ending punctuation here (sentences are short
    // enough to fit a cue, and none is under a second).
    for c in &cues[..cues.len() - 1] {
        let last = c.lines.last().unwrap();
        assert!(last.ends_with(['.', '?']), "{c:?}");
    }
}

#[test]
fn times_beyond_one_hour() {
    let t = speech(5, 3 * 3_600_000 + 59 * 60_000 + 58_000);
    let srt = t.srt();
    assert!(srt.contains("\n03:59:58,000 --> "), "{srt}");
    assert!(srt.contains("04:00:0"), "{srt}");
    let cues = parse_srt(&srt);
    check(&t, &cues);
    assert_eq!(cues[0].start, 14_398_000);
    let vtt = t.webvtt();
    assert!(vtt.contains("\n03:59:58.000 --> "), "{vtt}");
    check(&t, &parse_vtt(&vtt));
}

#[test]
fn long_lines_split_at_word_boundaries() {
    // 30 words with no pause and no punctuation within 7 s: the cue must wrap onto two lines.
    let words: Vec<Word> = (0..30)
        .map(|i| w(i, u64::from(i) * 200, u64::from(i) * 200 + 180, "wonderful"))
        .collect();
    let t = Transcript {
        confidence: 0.9,
        words,
        ..Default::default()
    };
    let cues = parse_srt(&t.srt());
    check(&t, &cues);
    assert!(cues.iter().any(|c| c.lines.len() == 2));
    for c in &cues {
        for l in &c.lines {
            assert!(l.chars().count() <= 42);
        }
    }
}

#[test]
fn over_long_word_and_unicode() {
    let long = "Donaudampfschifffahrtsgesellschaftskapitänsmütze";
    let t = Transcript {
        confidence: 0.9,
        words: vec![
            w(0, 0, 300, "Grüße"),
            w(1, 300, 900, long),
            w(2, 900, 1_200, "für"),
            w(3, 1_200, 1_400, "Sie"),
            punc(4, 1_400, "!"),
        ],
        ..Default::default()
    };
    let cues = parse_vtt(&t.webvtt());
    check(&t, &cues);
    assert!(cues.iter().flat_map(|c| &c.lines).any(|l| l == long));
}

#[test]
fn short_cues_are_extended_without_overlap() {
    let t = Transcript {
        confidence: 0.9,
        words: vec![
            w(0, 0, 100, "Hi"),
            w(1, 1_300, 1_400, "there"),
            w(2, 1_600, 1_650, "friend"),
        ],
        ..Default::default()
    };
    let cues = parse_srt(&t.srt());
    check(&t, &cues);
    assert_eq!((cues[0].start, cues[0].end), (0, 500));
    assert_eq!((cues[1].start, cues[1].end), (1_300, 1_800));
}

fn random_token(rng: &mut Rng) -> String {
    const PIECES: &[&str] = &[
        "a",
        "word",
        "Ünïcödé",
        "&",
        "<b>",
        "x",
        "--",
        "\"",
        "(",
        ")",
        ".",
        ",",
        "?",
        " ",
        "\n",
        "-->",
        "supercalifragilisticexpialidocious",
        "日本語",
        "",
    ];
    let n = 1 + rng.below(3);
    (0..n)
        .map(|_| PIECES[rng.below(PIECES.len() as u64) as usize])
        .collect()
}

#[test]
fn property_random_transcripts_give_valid_captions() {
    let mut rng = Rng(42);
    for round in 0..300 {
        let n = rng.below(if round % 10 == 0 { 400 } else { 40 });
        let mut t_ms = rng.below(10_000_000_000);
        let mut words = Vec::new();
        for p in 0..n {
            // Mostly sane, sometimes garbage timings (end before start, going backwards).
            let (s, e) = match rng.below(10) {
                0 => (rng.below(u64::MAX / 4), rng.below(u64::MAX / 4)),
                1 => (t_ms, t_ms.saturating_sub(rng.below(500))),
                _ => {
                    t_ms += rng.below(2_500);
                    let s = t_ms;
                    t_ms += rng.below(1_500);
                    (s, t_ms)
                }
            };
            let m = match rng.below(5) {
                0 => Some(PUNC.to_string()),
                1 if rng.below(4) == 0 => Some("turn".to_string()),
                _ => None,
            };
            words.push(Word {
                p: p as u32,
                s,
                e,
                c: 0.5,
                w: random_token(&mut rng),
                m,
            });
        }
        let t = Transcript {
            confidence: 0.5,
            words,
            ..Default::default()
        };
        let srt = parse_srt(&t.srt());
        let vtt = parse_vtt(&t.webvtt());
        check(&t, &srt);
        check(&t, &vtt);
        let text = t.text();
        assert!(text.is_empty() || text.ends_with('\n'));
    }
}
