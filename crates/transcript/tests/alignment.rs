//! The aligner: human text in, recognised timings out.

use sealscribe_testkit::Rng;
use sealscribe_transcript::{PUNC, Transcript, Word, align};

fn recognised(words: &[(&str, u64, u64)]) -> Transcript {
    let mut out = Vec::new();
    for &(w, s, e) in words {
        let p = out.len() as u32;
        let m = if w.chars().all(|c| !c.is_alphanumeric()) {
            Some(PUNC.to_string())
        } else {
            None
        };
        out.push(Word {
            p,
            s,
            e,
            c: 0.7,
            w: w.to_string(),
            m,
        });
    }
    Transcript {
        confidence: 0.7,
        words: out,
        ..Default::default()
    }
}

fn words_only(t: &Transcript) -> Vec<(String, u64, u64)> {
    t.words
        .iter()
        .filter(|w| !w.is_punctuation())
        .map(|w| (w.w.clone(), w.s, w.e))
        .collect()
}

/// Invariants every alignment result meets.
fn check_shape(t: &Transcript, human: &str, max_time: u64) {
    for (i, w) in t.words.iter().enumerate() {
        assert_eq!(w.p as usize, i);
        assert!(w.s <= w.e, "{w:?}");
        assert!(w.e <= max_time, "{w:?} beyond {max_time}");
        assert!((0.0..=1.0).contains(&w.c));
        assert!(!w.w.is_empty() && !w.w.contains(char::is_whitespace));
        if w.is_punctuation() {
            assert_eq!(w.s, w.e);
            assert!(!w.w.chars().any(char::is_alphanumeric), "{w:?}");
        }
    }
    let starts: Vec<u64> = t
        .words
        .iter()
        .filter(|w| !w.is_punctuation())
        .map(|w| w.s)
        .collect();
    assert!(starts.windows(2).all(|p| p[0] <= p[1]), "{starts:?}");
    // Re-joining every token gives back the human text without its whitespace.
    let joined: String = t.words.iter().map(|w| w.w.as_str()).collect();
    let expected: String = human.split_whitespace().collect();
    assert_eq!(joined, expected);
    let n = t.words.iter().filter(|w| !w.is_punctuation()).count();
    if n == 0 {
        assert_eq!(t.confidence, 0.0);
    } else {
        let mean = t
            .words
            .iter()
            .filter(|w| !w.is_punctuation())
            .map(|w| f64::from(w.c))
            .sum::<f64>()
            / n as f64;
        assert!((f64::from(t.confidence) - mean).abs() < 1e-4);
    }
}

fn sample() -> Transcript {
    recognised(&[
        ("hello", 100, 400),
        ("world", 450, 800),
        (".", 800, 800),
        ("this", 1_000, 1_200),
        ("is", 1_200, 1_300),
        ("a", 1_300, 1_350),
        ("test", 1_350, 1_700),
    ])
}

#[test]
fn identical_text_keeps_identical_timings() {
    let r = sample();
    let out = align(&r, "hello world. this is a test");
    check_shape(&out, "hello world. this is a test", 1_700);
    let expected: Vec<(String, u64, u64)> = r
        .words
        .iter()
        .filter(|w| !w.is_punctuation())
        .map(|w| (w.w.clone(), w.s, w.e))
        .collect();
    assert_eq!(words_only(&out), expected);
    // Exact matches are confirmed by the human: confidence 1.
    assert!(out.words.iter().all(|w| w.c == 1.0));
    assert_eq!(out.confidence, 1.0);
}

#[test]
fn case_and_punctuation_differences_still_match() {
    let out = align(&sample(), "Hello, World! This is a TEST.");
    assert_eq!(
        words_only(&out),
        [
            ("Hello".to_string(), 100, 400),
            ("World".to_string(), 450, 800),
            ("This".to_string(), 1_000, 1_200),
            ("is".to_string(), 1_200, 1_300),
            ("a".to_string(), 1_300, 1_350),
            ("TEST".to_string(), 1_350, 1_700),
        ]
    );
    check_shape(&out, "Hello, World! This is a TEST.", 1_700);
}

#[test]
fn substitution_keeps_the_recognised_timing() {
    let r = sample();
    let out = align(&r, "hello world this is the best");
    let w = words_only(&out);
    assert_eq!(w[4], ("the".to_string(), 1_300, 1_350));
    assert_eq!(w[5], ("best".to_string(), 1_350, 1_700));
    let best = out.words.iter().find(|x| x.w == "best").unwrap();
    assert_eq!(
        best.c, 0.7,
        "a substituted word keeps the recognised confidence"
    );
    check_shape(&out, "hello world this is the best", 1_700);
}

#[test]
fn inserted_words_are_interpolated_monotonically() {
    let r = sample();
    // "really truly" are not in the recognised words: between "is" (ends 1300) and "a" (1300)
    // there is no gap; between "world" (800) and "this" (1000) there is.
    let human = "hello world and so this is a test";
    let out = align(&r, human);
    check_shape(&out, human, 1_700);
    let w = words_only(&out);
    assert_eq!(w[2], ("and".to_string(), 800, 900));
    assert_eq!(w[3], ("so".to_string(), 900, 1_000));
    let and = out.words.iter().find(|x| x.w == "and").unwrap();
    assert_eq!(and.c, 0.0, "inserted words have no acoustic evidence");
    // Words before the first recognised word start at the first recognised start.
    let out = align(&r, "well hello world this is a test");
    assert_eq!(words_only(&out)[0], ("well".to_string(), 100, 100));
    // And after the last one, they end at the last recognised end.
    let out = align(&r, "hello world this is a test indeed");
    assert_eq!(words_only(&out)[6], ("indeed".to_string(), 1_700, 1_700));
}

#[test]
fn deleted_words_vanish() {
    let r = sample();
    let out = align(&r, "hello this test");
    assert_eq!(
        words_only(&out),
        [
            ("hello".to_string(), 100, 400),
            ("this".to_string(), 1_000, 1_200),
            ("test".to_string(), 1_350, 1_700),
        ]
    );
}

#[test]
fn human_punctuation_becomes_punc_tokens() {
    let out = align(&sample(), "\"Hello,\" world... (this) is a test?!");
    let tokens: Vec<(&str, bool)> = out
        .words
        .iter()
        .map(|w| (w.w.as_str(), w.is_punctuation()))
        .collect();
    assert_eq!(
        tokens,
        [
            ("\"", true),
            ("Hello", false),
            (",", true),
            ("\"", true),
            ("world", false),
            ("...", true),
            ("(", true),
            ("this", false),
            (")", true),
            ("is", false),
            ("a", false),
            ("test", false),
            ("?", true),
            ("!", true),
        ]
    );
    // Punctuation sits at the end of the word before it (or the start of the first word).
    assert_eq!((out.words[0].s, out.words[0].e), (100, 100));
    assert_eq!((out.words[2].s, out.words[2].e), (400, 400));
    assert_eq!(out.words[12].s, 1_700);
    assert_eq!(out.words[2].m.as_deref(), Some("punc"));
    // The JSON of a punctuation token carries "m":"punc".
    let json = serde_json::to_string(&out.words[2]).unwrap();
    assert!(json.contains(r#""m":"punc""#), "{json}");
    assert_eq!(out.text(), "\"Hello,\" world... (this) is a test?!\n");
}

#[test]
fn empty_human_text_gives_empty_transcript() {
    for human in ["", "   \n\t "] {
        let out = align(&sample(), human);
        assert!(out.words.is_empty());
        assert_eq!(out.confidence, 0.0);
    }
}

#[test]
fn empty_recognised_gives_zero_length_words_at_zero() {
    let out = align(&Transcript::default(), "nobody heard this.");
    check_shape(&out, "nobody heard this.", 0);
    assert_eq!(out.words.len(), 4);
    assert!(out.words.iter().all(|w| w.s == 0 && w.e == 0));
    assert_eq!(out.confidence, 0.0);
    // Recognised punctuation only counts as empty too.
    let out = align(&recognised(&[(".", 500, 500)]), "hi");
    assert_eq!(words_only(&out), [("hi".to_string(), 0, 0)]);
}

#[test]
fn nothing_matches_spreads_over_the_speech() {
    let r = recognised(&[("aaa", 1_000, 1_500), ("bbb", 1_500, 2_000)]);
    let out = align(&r, "xxx yyy zzz qqq");
    check_shape(&out, "xxx yyy zzz qqq", 2_000);
    // Substitutions first (xxx/aaa, yyy/bbb or similar pairing), the rest interpolated.
    assert_eq!(out.words.len(), 4);
}

const VOCAB: &[&str] = &[
    "the", "a", "account", "number", "is", "four", "five", "two", "please", "hold", "thank", "you",
    "calling", "we", "they", "their", "there", "cancel", "policy", "today",
];

#[test]
fn few_thousand_words_realistic_correction() {
    // 4,000 recognised words; the human fixes ~10% of them, deletes ~3%, inserts ~3%.
    let mut rng = Rng(7);
    let mut rec = Vec::new();
    let mut t = 0u64;
    for _ in 0..4_000 {
        let w = VOCAB[rng.below(VOCAB.len() as u64) as usize];
        let s = t + rng.below(200);
        let e = s + 100 + rng.below(400);
        rec.push((w.to_string(), s, e));
        t = e;
    }
    let mut human = Vec::new();
    let mut expected: Vec<Option<(u64, u64)>> = Vec::new();
    for (w, s, e) in &rec {
        match rng.below(100) {
            0..=2 => {} // deleted
            3..=5 => {
                human.push("inserted".to_string());
                expected.push(None);
                human.push(w.clone());
                expected.push(Some((*s, *e)));
            }
            _ => {
                human.push(w.clone());
                expected.push(Some((*s, *e)));
            }
        }
    }
    let r = Transcript {
        confidence: 0.7,
        words: rec
            .iter()
            .enumerate()
            .map(|(p, (w, s, e))| Word {
                p: p as u32,
                s: *s,
                e: *e,
                c: 0.7,
                w: w.clone(),
                m: None,
            })
            .collect(),
        ..Default::default()
    };
    let text = human.join(" ");
    let out = align(&r, &text);
    check_shape(&out, &text, t);
    // Nearly every kept word got exactly its own timing back (a few repeated vocabulary words
    // next to deletions may legitimately shift to an equal neighbour).
    let got = words_only(&out);
    let mut same = 0;
    let mut kept = 0;
    for (g, exp) in got.iter().zip(&expected) {
        if let Some((s, e)) = exp {
            kept += 1;
            if (g.1, g.2) == (*s, *e) {
                same += 1;
            }
        }
    }
    assert!(same * 100 >= kept * 95, "{same} of {kept}");
}

#[test]
fn large_unequal_inputs_complete() {
    // 6,000 recognised words, a 1,000-word human text covering the middle of them.
    let rec: Vec<(String, u64, u64)> = (0..6_000u64)
        .map(|i| {
            (
                VOCAB[(i * 7 % 20) as usize].to_string(),
                i * 300,
                i * 300 + 250,
            )
        })
        .collect();
    let r = Transcript {
        confidence: 0.7,
        words: rec
            .iter()
            .enumerate()
            .map(|(p, (w, s, e))| Word {
                p: p as u32,
                s: *s,
                e: *e,
                c: 0.7,
                w: w.clone(),
                m: None,
            })
            .collect(),
        ..Default::default()
    };
    let text: Vec<&str> = rec[2_500..3_500].iter().map(|x| x.0.as_str()).collect();
    let text = text.join(" ");
    let out = align(&r, &text);
    check_shape(&out, &text, 6_000 * 300);
    assert_eq!(words_only(&out).len(), 1_000);
}

#[test]
fn property_random_inputs_never_panic() {
    const PIECES: &[&str] = &[
        "the",
        "The",
        "a",
        "account",
        "ünïcödé",
        "日本語",
        ",",
        ".",
        "?!",
        "\"",
        "(",
        ")",
        "--",
        "'",
        "'cause",
        "it's",
        "&",
        "%",
        "5%",
        "—",
        "…",
        "x-y",
        "",
        "...",
        "Dogs'",
    ];
    let mut rng = Rng(2024);
    for round in 0..400 {
        let m = rng.below(if round % 20 == 0 { 600 } else { 30 });
        let mut t = rng.below(1_000_000);
        let mut words = Vec::new();
        for p in 0..m {
            let (s, e) = if rng.below(8) == 0 {
                (rng.below(u64::MAX / 2), rng.below(u64::MAX / 2))
            } else {
                t += rng.below(400);
                let s = t;
                t += rng.below(600);
                (s, t)
            };
            let mut w = PIECES[rng.below(PIECES.len() as u64) as usize].to_string();
            if rng.below(10) == 0 {
                w.push_str(PIECES[rng.below(PIECES.len() as u64) as usize]);
            }
            let m = match rng.below(6) {
                0 => Some("punc".to_string()),
                1 if rng.below(3) == 0 => Some("turn".to_string()),
                _ => None,
            };
            words.push(Word {
                p: p as u32,
                s,
                e,
                c: [0.0f32, 0.5, 1.0, f32::NAN, -3.0, 7.0][rng.below(6) as usize],
                w,
                m,
            });
        }
        let rec = Transcript {
            confidence: 0.5,
            words,
            ..Default::default()
        };
        let n = rng.below(if round % 20 == 0 { 600 } else { 30 });
        let mut human = String::new();
        for _ in 0..n {
            human.push_str(PIECES[rng.below(PIECES.len() as u64) as usize]);
            human.push_str([" ", " ", "  ", "\n", "\t", ""][rng.below(6) as usize]);
        }
        let out = align(&rec, &human);
        let max_time = rec
            .words
            .iter()
            .filter(|w| !w.is_punctuation() && !w.is_turn())
            .map(|w| w.s.max(w.e))
            .max()
            .unwrap_or(0);
        check_shape(&out, &human, max_time);
        assert!(out.confidence.is_finite());
        // The renditions of an aligned transcript work too.
        let _ = (out.text(), out.srt(), out.webvtt());
    }
}

/// A recognised call with turn tokens (`(speaker, words)`), words 500 ms apart.
fn recognised_call(turns: &[(&str, &str)]) -> Transcript {
    let mut words = Vec::new();
    let mut t = 1000;
    for (speaker, text) in turns {
        let p = words.len() as u32;
        words.push(Word {
            p,
            s: t,
            e: t,
            c: 1.0,
            w: speaker.to_string(),
            m: Some("turn".into()),
        });
        for w in text.split(' ') {
            let p = words.len() as u32;
            words.push(Word {
                p,
                s: t,
                e: t + 400,
                c: 0.7,
                w: w.to_string(),
                m: None,
            });
            t += 500;
        }
    }
    Transcript {
        confidence: 0.7,
        words,
        ..Default::default()
    }
}

/// `(speaker, word)` of every spoken word.
fn said(t: &Transcript) -> Vec<(Option<String>, String)> {
    t.spoken()
        .filter(|(_, w)| !w.is_punctuation())
        .map(|(s, w)| (s.map(str::to_owned), w.w.clone()))
        .collect()
}

#[test]
fn speaker_labels_at_line_starts_become_turns() {
    // The recognised transcript has no speakers (mono): the human names them.
    let rec = recognised(&[
        ("hello", 1000, 1400),
        ("thanks", 1500, 1900),
        ("for", 2000, 2400),
        ("calling", 2500, 2900),
        ("i", 3500, 3700),
        ("want", 3800, 4100),
        ("a", 4200, 4300),
        ("refund", 4400, 4900),
    ]);
    let out = align(
        &rec,
        "Agent: Hello, thanks for calling.\nThe Caller:  I want a refund.\n",
    );
    let agent = Some("Agent".to_string());
    let caller = Some("The Caller".to_string());
    assert_eq!(
        said(&out),
        [
            (agent.clone(), "Hello".into()),
            (agent.clone(), "thanks".into()),
            (agent.clone(), "for".into()),
            (agent, "calling".into()),
            (caller.clone(), "I".into()),
            (caller.clone(), "want".into()),
            (caller.clone(), "a".into()),
            (caller, "refund".into()),
        ]
    );
    // Turn tokens span their turn and use up a position, like v3's.
    let turn_tokens: Vec<(u32, &str, u64, u64)> = out
        .words
        .iter()
        .filter(|w| w.is_turn())
        .map(|w| (w.p, w.w.as_str(), w.s, w.e))
        .collect();
    assert_eq!(
        turn_tokens,
        [(0, "Agent", 1000, 2900), (7, "The Caller", 3500, 4900)]
    );
    assert!(out.words.iter().enumerate().all(|(i, w)| w.p as usize == i));
    assert_eq!(out.speakers(), ["Agent", "The Caller"]);
    let turns: Vec<(&str, &str, u64, u64)> = out
        .turns
        .iter()
        .map(|t| (t.speaker.as_str(), t.text.as_str(), t.s, t.e))
        .collect();
    assert_eq!(
        turns,
        [
            ("Agent", "Hello, thanks for calling.", 1000, 2900),
            ("The Caller", "I want a refund.", 3500, 4900),
        ]
    );
    let activity: Vec<(&str, Vec<(u64, u64)>)> = out
        .voice_activity
        .iter()
        .map(|a| {
            (
                a.speaker_name.as_str(),
                a.occurrences.iter().map(|o| (o.s, o.e)).collect(),
            )
        })
        .collect();
    assert_eq!(
        activity,
        [
            ("Agent", vec![(1000, 2900)]),
            ("The Caller", vec![(3500, 4900)])
        ]
    );
    // The labels are not words: the confidence counts the eight words only.
    assert_eq!(out.confidence, 1.0);
    // And the JSON carries the v3 shape.
    let json = serde_json::to_value(&out).unwrap();
    assert_eq!(json["words"][0]["m"], "turn");
    assert_eq!(json["turns"][1]["speaker"], "The Caller");
    assert_eq!(json["voiceActivity"][0]["speakerName"], "Agent");
}

#[test]
fn known_speakers_are_labels_anywhere_in_a_line() {
    // The text rendition of a stereo call may join the turns on one line.
    let rec = recognised_call(&[
        ("Agent", "how can i help"),
        ("Caller", "my card was charged twice"),
        ("Agent", "let me check"),
    ]);
    let out = align(
        &rec,
        "Agent: How can I help? Caller: My card was charged twice. Agent: Let me check.",
    );
    let speakers: Vec<(&str, &str)> = out
        .turns
        .iter()
        .map(|t| (t.speaker.as_str(), t.text.as_str()))
        .collect();
    assert_eq!(
        speakers,
        [
            ("Agent", "How can I help?"),
            ("Caller", "My card was charged twice."),
            ("Agent", "Let me check."),
        ]
    );
    // Timings from the recognised words: "My" is the 5th word (t = 1000 + 4 × 500).
    assert_eq!((out.turns[1].s, out.turns[1].e), (3000, 5400));
    // Each speaker's voice activity: the agent's two turns apart.
    assert_eq!(out.voice_activity[0].occurrences.len(), 2);
    // A human may also correct who spoke: a speaker of the text, not of the recognition.
    let fixed = align(
        &rec,
        "Agent: How can I help?\nSupervisor: My card was charged twice.",
    );
    assert_eq!(fixed.speakers(), ["Agent", "Supervisor"]);
}

#[test]
fn colons_that_are_not_labels_stay_text() {
    let rec = recognised(&[
        ("he", 0, 100),
        ("said", 200, 300),
        ("stop", 400, 500),
        ("at", 600, 700),
        ("ten", 800, 900),
    ]);
    for human in [
        // Not labelled from its first line: a plain text.
        "I told him this:\nHe said: stop",
        "He said stop at 10:30",
        "See http://example.com now",
        // More than four words before the colon.
        "He said it to me loudly: stop",
        // Nothing after the colon.
        "He said:",
        // A name the recognition does not know, in mid-line.
        "he said at ten\nand then Caller: stop",
    ] {
        let out = align(&rec, human);
        assert!(out.speakers().is_empty(), "{human:?}: {:?}", out.words);
        assert!(out.turns.is_empty() && out.voice_activity.is_empty());
        check_shape(&out, human, 900);
    }
    // And a text without labels aligned to a multi-speaker recognition has no speakers
    // (the human text decides).
    let rec = recognised_call(&[("Agent", "hello"), ("Caller", "hi")]);
    let out = align(&rec, "hello hi");
    assert!(out.speakers().is_empty());
}

#[test]
fn the_text_rendition_of_a_conversation_aligns_back_with_its_speakers() {
    let rec = recognised_call(&[
        ("Agent", "how can i help"),
        ("Caller", "my card was charged twice"),
        ("Agent", "let me check"),
    ]);
    // What `GET …/transcript/text` gives, corrected by a person and sent back.
    let text = rec.text().replace("charged", "billed");
    let out = align(&rec, &text);
    let turns: Vec<(&str, u64)> = out
        .turns
        .iter()
        .map(|t| (t.speaker.as_str(), t.s))
        .collect();
    assert_eq!(turns, [("Agent", 1000), ("Caller", 3000), ("Agent", 5500)]);
    assert!(out.turns[1].text.contains("billed"), "{:?}", out.turns);
}
