//! Text, SRT, WebVTT and DFXP renditions, checked by parsing them back (DFXP with an XML
//! parser), for single- and multi-speaker transcripts.

use base64::Engine as _;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::reader::NsReader;
use sealscribe_testkit::Rng;
use sealscribe_transcript::captions::TTAF_NAMESPACE;
use sealscribe_transcript::{PUNC, Rendition, Transcript, Word};

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

/// A parsed DFXP document.
#[derive(Debug)]
struct Dfxp {
    lang: String,
    cues: Vec<Cue>,
}

fn attr(e: &BytesStart, name: &str) -> Option<String> {
    e.try_get_attribute(name)
        .expect("well-formed attributes")
        .map(|a| {
            a.normalized_value(XmlVersion::Explicit1_0)
                .expect("attribute value")
                .into_owned()
        })
}

/// Parses a DFXP document with an XML parser, strictly: well-formed, every element in the TTML
/// 2006/10 namespace, the `tt > head, body > div > p` structure, only `<br/>` inside a `<p>`, only
/// whitespace between elements and no character XML 1.0 forbids.
fn parse_dfxp(s: &str) -> Dfxp {
    assert!(
        s.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"),
        "{s}"
    );
    for c in s.chars() {
        assert!(
            matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}'),
            "character {c:?} is not allowed in XML 1.0"
        );
    }
    let mut reader = NsReader::from_str(s);
    let mut path: Vec<String> = Vec::new();
    let mut lang = None;
    let mut cues = Vec::new();
    let mut line = String::new();
    let mut cue: Option<Cue> = None;
    let mut roots = 0;
    loop {
        let (ns, event) = reader.read_resolved_event().expect("well-formed XML");
        let in_ttaf =
            matches!(ns, ResolveResult::Bound(Namespace(n)) if n == TTAF_NAMESPACE.as_bytes());
        match event {
            Event::Decl(_) => assert!(path.is_empty() && roots == 0),
            Event::Start(e) | Event::Empty(e) if !in_ttaf => {
                panic!("element {:?} outside the TTML namespace", e.name())
            }
            Event::Start(e) => {
                let name = String::from_utf8(e.local_name().as_ref().to_vec()).unwrap();
                let parent = path.last().map(String::as_str);
                match (parent, name.as_str()) {
                    (None, "tt") => {
                        roots += 1;
                        lang = attr(&e, "xml:lang");
                    }
                    (Some("tt"), "body") | (Some("body"), "div") => {}
                    (Some("div"), "p") => {
                        let begin = attr(&e, "begin").expect("begin");
                        let end = attr(&e, "end").expect("end");
                        cue = Some(Cue {
                            start: parse_time(&begin, '.'),
                            end: parse_time(&end, '.'),
                            lines: Vec::new(),
                        });
                    }
                    other => panic!("unexpected element {other:?}"),
                }
                path.push(name);
            }
            Event::Empty(e) => {
                let name = e.local_name();
                match (path.last().map(String::as_str), name.as_ref()) {
                    (Some("p"), b"br") => {
                        cue.as_mut().unwrap().lines.push(std::mem::take(&mut line))
                    }
                    (Some("tt"), b"head") => {}
                    other => panic!("unexpected empty element {other:?}"),
                }
            }
            Event::Text(t) => {
                let text = t.xml10_content().unwrap();
                if path.last().map(String::as_str) == Some("p") {
                    line.push_str(&text);
                } else {
                    assert!(text.trim().is_empty(), "stray text {text:?}");
                }
            }
            Event::GeneralRef(r) => {
                assert_eq!(path.last().map(String::as_str), Some("p"));
                let c = match r.resolve_char_ref().expect("character reference") {
                    Some(c) => c,
                    None => match r.as_ref() {
                        b"amp" => '&',
                        b"lt" => '<',
                        b"gt" => '>',
                        b"quot" => '"',
                        b"apos" => '\'',
                        other => panic!("unknown entity {:?}", String::from_utf8_lossy(other)),
                    },
                };
                line.push(c);
            }
            Event::End(_) => {
                if path.pop().as_deref() == Some("p") {
                    let mut c = cue.take().unwrap();
                    c.lines.push(std::mem::take(&mut line));
                    for l in &c.lines {
                        assert!(!l.is_empty() && l.trim() == l, "line {l:?}");
                    }
                    cues.push(c);
                }
            }
            Event::Eof => break,
            other => panic!("unexpected XML event {other:?}"),
        }
    }
    assert!(path.is_empty() && roots == 1);
    Dfxp {
        lang: lang.expect("xml:lang on <tt>"),
        cues,
    }
}

/// Cues of two renditions are the same; `dfxp` lines have XML-forbidden characters replaced.
fn same_cues(srt: &[Cue], other: &[Cue]) {
    assert_eq!(srt.len(), other.len());
    for (a, b) in srt.iter().zip(other) {
        let lines: Vec<String> = a
            .lines
            .iter()
            .map(|l| {
                l.chars()
                    .map(|c| if c < ' ' { '\u{FFFD}' } else { c })
                    .collect()
            })
            .collect();
        assert_eq!((a.start, a.end, &lines), (b.start, b.end, &b.lines));
    }
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
    let dfxp = parse_dfxp(&t.dfxp(None));
    assert!(dfxp.cues.is_empty());
    assert_eq!(dfxp.lang, "");
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
    assert_eq!(
        t.dfxp(Some("en-US")),
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <tt xmlns=\"http://www.w3.org/2006/10/ttaf1\" xml:lang=\"en-US\">\n  <head/>\n  <body>\n    <div>\n\
         \x20     <p begin=\"00:00:01.200\" end=\"00:00:01.900\">Hello.</p>\n    </div>\n  </body>\n</tt>\n"
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
    same_cues(&srt, &vtt);
    let dfxp = parse_dfxp(&t.dfxp(Some("en-GB")));
    assert_eq!(dfxp.lang, "en-GB");
    assert!(dfxp.cues.iter().any(|c| c.lines.len() == 2));
    same_cues(&srt, &dfxp.cues);
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
        "'",
        "\u{1}",
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
        let dfxp = parse_dfxp(&t.dfxp(Some("en-US")));
        same_cues(&srt, &dfxp.cues);
        let text = t.text();
        assert!(text.is_empty() || text.ends_with('\n'));
    }
}

fn turn(p: u32, s: u64, e: u64, speaker: &str) -> Word {
    Word {
        m: Some("turn".into()),
        c: 1.0,
        ..w(p, s, e, speaker)
    }
}

/// Agent, Caller, Agent: the words and punctuation numbered in order.
fn conversation() -> Transcript {
    let words = vec![
        turn(0, 0, 2_400, "Agent"),
        w(0, 0, 300, "Thank"),
        w(0, 300, 500, "you"),
        w(0, 500, 700, "for"),
        w(0, 700, 1_200, "calling"),
        punc(0, 1_200, "."),
        w(0, 1_500, 1_700, "How"),
        w(0, 1_700, 1_900, "can"),
        w(0, 1_900, 2_000, "I"),
        w(0, 2_000, 2_400, "help"),
        punc(0, 2_400, "?"),
        turn(0, 2_500, 2_700, "Caller"),
        w(0, 2_500, 2_700, "Hi"),
        turn(0, 2_800, 3_400, "Agent"),
        w(0, 2_800, 3_100, "sorry"),
        w(0, 3_100, 3_400, "what"),
        punc(0, 3_400, "?"),
    ];
    let words = words
        .into_iter()
        .enumerate()
        .map(|(p, w)| Word { p: p as u32, ..w })
        .collect();
    Transcript {
        confidence: 0.9,
        words,
        ..Default::default()
    }
}

#[test]
fn speakers_prefix_each_turn_in_text_srt_webvtt_and_dfxp() {
    let t = conversation();
    assert_eq!(
        t.text(),
        "Agent: Thank you for calling.\nHow can I help?\n\nCaller: Hi\n\nAgent: sorry what?\n"
    );
    // The second cue continues the Agent's turn: no prefix. "Hi" follows the Agent's words
    // without a pause, yet the turn change ends the cue; its minimum length stops at the next.
    assert_eq!(
        t.srt(),
        "1\n00:00:00,000 --> 00:00:01,200\nAgent: Thank you for calling.\n\n\
         2\n00:00:01,500 --> 00:00:02,400\nHow can I help?\n\n\
         3\n00:00:02,500 --> 00:00:02,800\nCaller: Hi\n\n\
         4\n00:00:02,800 --> 00:00:03,400\nAgent: sorry what?\n"
    );
    assert_eq!(
        t.webvtt(),
        "WEBVTT\n\n00:00:00.000 --> 00:00:01.200\nAgent: Thank you for calling.\n\n\
         00:00:01.500 --> 00:00:02.400\nHow can I help?\n\n\
         00:00:02.500 --> 00:00:02.800\nCaller: Hi\n\n\
         00:00:02.800 --> 00:00:03.400\nAgent: sorry what?\n"
    );
    let dfxp = parse_dfxp(&t.dfxp(Some("en-US")));
    assert_eq!(dfxp.lang, "en-US");
    same_cues(&parse_srt(&t.srt()), &dfxp.cues);
    assert_eq!(dfxp.cues[2].lines, ["Caller: Hi"]);
    // Turn tokens are never words.
    for r in Rendition::ALL {
        let out = t.render(r, None);
        assert_eq!(out.matches("Agent").count(), 2, "{out}");
        assert_eq!(out.matches("Caller").count(), 1, "{out}");
    }
}

#[test]
fn a_long_turn_labels_only_its_first_cue() {
    // One speaker for 20 s in sentences of ~2 s: many cues, only the first labelled.
    let mut t = speech(8, 0);
    t.words.insert(0, turn(0, 0, 0, "Mary Jane"));
    let cues = parse_srt(&t.srt());
    check(&t, &cues);
    assert!(cues.len() > 3);
    assert!(cues[0].lines[0].starts_with("Mary Jane: "), "{cues:?}");
    for c in &cues[1..] {
        assert!(!c.lines.concat().contains("Mary"), "{c:?}");
    }
    assert!(t.text().starts_with("Mary Jane: "));
    assert_eq!(t.text().matches("Mary").count(), 1);
}

#[test]
fn an_over_long_speaker_name_still_gives_two_line_cues() {
    let name = "Representative of the Department of Customer Satisfaction and Retention Services";
    let t = Transcript {
        confidence: 0.9,
        words: vec![
            turn(0, 0, 900, name),
            w(1, 0, 400, "hello"),
            w(2, 400, 900, "there"),
        ],
        ..Default::default()
    };
    let cues = parse_srt(&t.srt());
    check(&t, &cues);
    let last = cues.last().unwrap().lines.join(" ");
    assert!(last.contains("Services: hello"), "{cues:?}");
    assert_eq!(
        t.text(),
        format!("{name}: hello there\n"),
        "the text keeps the whole name"
    );
}

#[test]
fn speaker_names_are_escaped_and_odd_turns_handled() {
    let t = Transcript {
        confidence: 0.9,
        words: vec![
            w(0, 0, 200, "before"),
            turn(1, 300, 600, "R&D <\"Bob's\">"),
            w(2, 300, 600, "hello"),
            // A turn with no words, then one whose name is blank: a paragraph without a label.
            turn(3, 700, 700, "Nobody"),
            turn(4, 700, 900, " \n"),
            punc(5, 700, "("),
            w(6, 700, 900, "aside"),
            punc(7, 900, ")"),
            // The combined marker is a turn token too (as `Transcript::spoken` reads it).
            Word {
                m: Some("turn|punc".into()),
                ..w(8, 1_000, 1_200, "Agent")
            },
            w(9, 1_000, 1_200, "bye"),
        ],
        ..Default::default()
    };
    assert_eq!(
        t.text(),
        "before\n\nR&D <\"Bob's\">: hello\n\n(aside)\n\nAgent: bye\n"
    );
    let srt = parse_srt(&t.srt());
    assert_eq!(srt.len(), 4);
    check(&t, &srt);
    let vtt = t.webvtt();
    assert!(
        vtt.contains("\nR&amp;D &lt;\"Bob's\"&gt;: hello\n"),
        "{vtt}"
    );
    same_cues(&srt, &parse_vtt(&vtt));
    let dfxp = t.dfxp(Some("x\"<&"));
    assert!(
        dfxp.contains(">R&amp;D &lt;&quot;Bob&apos;s&quot;&gt;: hello</p>"),
        "{dfxp}"
    );
    let parsed = parse_dfxp(&dfxp);
    assert_eq!(parsed.lang, "x\"<&");
    same_cues(&srt, &parsed.cues);
}

#[test]
fn alternate_formats_are_base64_of_the_renditions() {
    let t = conversation();
    for (r, name, content_type) in [
        (Rendition::Text, "text", "text/plain"),
        (Rendition::Srt, "srt", "text/srt"),
        (Rendition::Dfxp, "dfxp", "application/ttaf+xml"),
        (Rendition::WebVtt, "webvtt", "text/vtt"),
    ] {
        assert_eq!(Rendition::from_name(name), Some(r));
        let a = t.alternate_format(r, Some("en-US"));
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["format"], name);
        assert_eq!(json["contentType"], content_type);
        assert_eq!(json["contentEncoding"], "Base64");
        assert_eq!(json["charset"], "utf-8");
        let data = base64::engine::general_purpose::STANDARD
            .decode(json["data"].as_str().unwrap())
            .unwrap();
        assert_eq!(String::from_utf8(data).unwrap(), t.render(r, Some("en-US")));
    }
    assert_eq!(Rendition::from_name("vtt"), None);
    assert_eq!(Rendition::from_name("SRT"), None);
}

/// The turn number a caption token belongs to: words are `t<turn>w<k>`, maybe with punctuation.
fn turn_of(token: &str) -> usize {
    let t = token.trim_matches(|c: char| !c.is_alphanumeric());
    let (turn, _) = t
        .strip_prefix('t')
        .and_then(|t| t.split_once('w'))
        .unwrap_or_else(|| panic!("not a word: {token:?}"));
    turn.parse().unwrap()
}

/// No cue mixes two turns, the first cue of every turn (and only it) starts with the
/// speaker's label, and the text has one labelled paragraph per turn.
fn check_speakers(t: &Transcript, labels: &[&str], cues: &[Cue]) {
    let mut seen: Vec<usize> = Vec::new();
    for c in cues {
        let text = c.lines.join(" ");
        let mut tokens: Vec<&str> = text.split_whitespace().collect();
        let first_word = tokens
            .iter()
            .position(|t| t.starts_with(['t', '(', ',', '.']) && t.contains('w'))
            .expect("a word");
        let label = tokens.drain(..first_word).collect::<Vec<_>>().join(" ");
        let turn = turn_of(tokens[0]);
        for tok in &tokens {
            assert_eq!(turn_of(tok), turn, "cue mixes turns: {c:?}");
        }
        if seen.last() == Some(&turn) {
            assert_eq!(label, "", "a continuing cue is labelled: {c:?}");
        } else {
            assert!(!seen.contains(&turn), "turn {turn} split: {cues:?}");
            seen.push(turn);
            assert_eq!(label, format!("{}:", labels[turn]), "{c:?}");
        }
    }
    let text = t.text();
    let paragraphs: Vec<&str> = match text.trim_end() {
        "" => Vec::new(),
        text => text.split("\n\n").collect(),
    };
    assert_eq!(paragraphs.len(), seen.len(), "{text}");
    for (p, turn) in paragraphs.iter().zip(&seen) {
        assert!(p.starts_with(&format!("{}: ", labels[*turn])), "{p:?}");
    }
}

#[test]
fn property_multi_speaker_cues_never_mix_speakers() {
    let names = ["Agent", "Caller", "Mary  Jane"];
    let mut rng = Rng(7);
    for _ in 0..300 {
        let mut words = Vec::new();
        let mut labels: Vec<&str> = Vec::new();
        let mut ms = rng.below(100_000);
        for turn_no in 0..rng.below(12) as usize {
            let name = names[turn_no % names.len()];
            let n = rng.below(25);
            let p = words.len() as u32;
            words.push(turn(p, ms, ms + n * 300, name));
            if n == 0 {
                // A turn token with no words: the next one takes over.
                labels.push(name);
                continue;
            }
            labels.push(if name == "Mary  Jane" {
                "Mary Jane"
            } else {
                name
            });
            for k in 0..n {
                // Overlapping speech (a turn starting before the last ended) and long pauses.
                ms = match rng.below(12) {
                    0 => ms.saturating_sub(rng.below(800)),
                    1 => ms + 1_000 + rng.below(3_000),
                    _ => ms + rng.below(400),
                };
                let p = words.len() as u32;
                words.push(w(p, ms, ms + 250, &format!("t{turn_no}w{k}")));
                ms += 250;
                if rng.below(5) == 0 {
                    let p = words.len() as u32;
                    words.push(punc(p, ms, [".", ",", "?"][rng.below(3) as usize]));
                }
            }
        }
        let t = Transcript {
            confidence: 0.9,
            words,
            ..Default::default()
        };
        let srt = parse_srt(&t.srt());
        check(&t, &srt);
        check_speakers(&t, &labels, &srt);
        let vtt = parse_vtt(&t.webvtt());
        same_cues(&srt, &vtt);
        same_cues(&srt, &parse_dfxp(&t.dfxp(None)).cues);
    }
}
