use super::*;

/// A detector that only finds (the pipeline adds the redactors).
const fn finder(name: DetectorName, detection_level: DetectionLevel) -> Detector {
    Detector {
        name,
        detection_level,
        replacement: None,
        audio: None,
    }
}

const CARD: Detector = finder(DetectorName::Pci, DetectionLevel::NumbersOnly);
const PROBABLE: Detector = finder(DetectorName::Pci, DetectionLevel::ProbableNumbers);
const REGION: Detector = finder(DetectorName::Pci, DetectionLevel::EntireRegion);
const SSN: Detector = finder(DetectorName::Ssn, DetectionLevel::EntireRegion);
const NUMBER: Detector = finder(DetectorName::Number, DetectionLevel::EntireRegion);

/// Words from `w@s-e` / `w@t` / `w` tokens (untimed tokens get 1 s slots); tokens without a
/// letter or digit are punctuation.
fn ws(spec: &str) -> Vec<Word> {
    spec.split_whitespace()
        .enumerate()
        .map(|(i, tok)| {
            let at = i as u64 * 1000;
            let (w, s, e) = match tok.rsplit_once('@') {
                Some((w, t)) => {
                    let (s, e) = t.split_once('-').unwrap_or((t, t));
                    (w, s.parse().unwrap(), e.parse().unwrap())
                }
                None => (tok, at, at + 500),
            };
            let punc = !w.chars().any(char::is_alphanumeric);
            Word {
                p: i as u32,
                s,
                e,
                c: if punc { 1.0 } else { 0.9 },
                w: w.to_string(),
                m: punc.then(|| "punc".to_string()),
            }
        })
        .collect()
}

/// The text of each detection.
fn found(spec: &str, detector: Detector) -> Vec<String> {
    let words = ws(spec);
    detect(&words, &detector)
        .iter()
        .map(|d| {
            assert_eq!((d.s, d.e), (words[d.first].s, words[d.last].e));
            let text: Vec<&str> = words[d.first..=d.last]
                .iter()
                .map(|w| w.w.as_str())
                .collect();
            text.join(" ")
        })
        .collect()
}

/// The digits of each run.
fn digits(spec: &str) -> Vec<String> {
    runs(&ws(spec))
        .iter()
        .map(|r| {
            r.digits
                .iter()
                .map(|&(d, _)| char::from(b'0' + d))
                .collect()
        })
        .collect()
}

const WHISPER: &str = "My@0-500 card@600-900 number@1000-1200 is@1300-1500 4532@3290-4020 ,@4020 \
    0151@4240-5520 ,@5520 1283@5860-6940 ,@6940 0366@7200-8630 .@8630 And@9000-9200 my@9300-9400 \
    social@9500-9800 security@9900-10300 number@10400-10800 is@10900-11000 53622@11040-12940 \
    ,@12940 4187@13300-14500 .@14500";

#[test]
fn whisper_card_and_ssn() {
    let words = ws(WHISPER);
    for level in [
        DetectionLevel::NumbersOnly,
        DetectionLevel::ProbableNumbers,
        DetectionLevel::EntireRegion,
    ] {
        let d = detect(&words, &finder(DetectorName::Pci, level));
        assert_eq!(d.len(), 1, "{level:?}");
        assert_eq!((d[0].first, d[0].last, d[0].s, d[0].e), (4, 10, 3290, 8630));
        assert_eq!((d[0].detector, d[0].label), ("PCI", "Credit card number"));
    }
    let d = detect(&words, &SSN);
    assert_eq!(d.len(), 1);
    assert_eq!(
        (d[0].first, d[0].last, d[0].s, d[0].e),
        (18, 20, 11040, 14500)
    );
    assert_eq!(
        found(WHISPER, NUMBER),
        ["4532 , 0151 , 1283 , 0366", "53622 , 4187"]
    );
}

#[test]
fn whisper_shapes() {
    assert_eq!(found("it is 536-22-4187 .", SSN), ["536-22-4187"]);
    assert_eq!(found("219 , 09 , 9999", SSN), ["219 , 09 , 9999"]);
    assert_eq!(found("123456789", SSN), ["123456789"]);
    // Eight digits: not an SSN, still a number.
    assert!(found("219 , 09 , 999 ,", SSN).is_empty());
    assert_eq!(found("219 , 09 , 999 ,", NUMBER), ["219 , 09 , 999"]);
    // A repeated trailing digit inside one word: 4111 1111 1111 1111 + "111".
    assert_eq!(
        found("card 4111111111111111111 ok", CARD),
        ["4111111111111111111"]
    );
    assert_eq!(
        found("4242 , 4242 , 4242 , 4242", CARD),
        ["4242 , 4242 , 4242 , 4242"]
    );
    // 601100000901394424 fails Luhn: only a probable card number.
    let garbled = "is 6-011-0-0-0-0-0-9-013-94424 .";
    assert!(found(garbled, CARD).is_empty());
    assert_eq!(found(garbled, PROBABLE), ["6-011-0-0-0-0-0-9-013-94424"]);
    assert_eq!(found("4-1-1-1", NUMBER), ["4-1-1-1"]);
    assert!(found("4-1-1-1", CARD).is_empty());
}

#[test]
fn spoken_digits() {
    let spoken =
        "card four five three two zero one five one one two eight three zero three six six";
    assert_eq!(found(spoken, CARD), [spoken.strip_prefix("card ").unwrap()]);
    let glued = "Four, five, three, two, oh one five one. One two eight three, zero three six six.";
    assert_eq!(found(glued, CARD), [glued]);
    let doubled = "four five three two oh one five one one two eight three oh three double six";
    assert_eq!(found(doubled, CARD), [doubled]);
}

#[test]
fn number_words_to_digits() {
    let cases: [(&str, &[&str]); 21] = [
        ("twenty twenty", &["2020"]),
        ("thirty one", &["31"]),
        ("nineteen eighty four", &["1984"]),
        ("a hundred or four hundred", &["100", "400"]),
        ("four hundred and twenty three", &["423"]),
        ("nineteen hundred", &["1900"]),
        ("forty-two", &["42"]),
        ("expires oh nine twenty eight or 09/28", &["0928", "0928"]),
        ("double five triple one double oh seven", &["55111007"]),
        ("oh, I see, double trouble", &[]),
        ("oh, 4532 and zero", &["4532", "0"]),
        ("Four, five. Six!", &["45", "6"]),
        ("I am forty. Two three", &["40", "23"]),
        ("two thousand five", &["2005"]),
        ("one thousand two hundred fifty", &["1250"]),
        ("two thousand and fifteen", &["2015"]),
        ("twenty four thousand", &["24000"]),
        ("four hundred thousand three hundred", &["400300"]),
        ("twelve thousand seven", &["12007"]),
        // Alone, or before `million`, it ends a run as before.
        ("a thousand times, five", &["5"]),
        ("two million five", &["2", "5"]),
    ];
    for (spec, want) in cases {
        assert_eq!(digits(spec), want, "{spec}");
    }
    // Each digit keeps its word: the first copy of `double` belongs to `double`.
    let r = &runs(&ws("double five twenty one"))[0];
    assert_eq!(r.digits, [(5, 0), (5, 1), (2, 2), (1, 3)]);
}

#[test]
fn luhn_decides_card_numbers() {
    let invalid = "my card is 4532 0151 1283 0367 thanks";
    assert!(found(invalid, CARD).is_empty());
    assert_eq!(found(invalid, PROBABLE), ["4532 0151 1283 0367"]);
    // At the default level a misrecognised card is still redacted.
    assert_eq!(found(invalid, REGION), ["4532 0151 1283 0367"]);
    // Probable numbers are still only 13–19 digits.
    assert!(found("4532 0151 1283", PROBABLE).is_empty());
    assert!(found("4532 0151 1283 0367 1234", PROBABLE).is_empty());
    // Read in two sentences, the blocks still make one card.
    assert_eq!(
        found("4532 0151. 1283 0366.", CARD),
        ["4532 0151. 1283 0366."]
    );
    // A card number starts where a word starts: "94532" does not hide 4532 0151 1283 0366.
    assert!(found("94532 0151 1283 0366", CARD).is_empty());
    // A card followed by more digits in the same run.
    assert_eq!(
        found("4532 0151 1283 0366 , 0928", CARD),
        ["4532 0151 1283 0366"]
    );
}

#[test]
fn entire_region_covers_expiry_and_code() {
    let spec = "card 4532 0151 1283 0366 expiry oh nine twenty eight security code seven three \
                seven . Thank you for calling";
    assert_eq!(
        found(spec, REGION),
        ["4532 0151 1283 0366 expiry oh nine twenty eight security code seven three seven"]
    );
    assert_eq!(found(spec, CARD), ["4532 0151 1283 0366"]);
    assert_eq!(
        found("4532 0151 1283 0366 , 0928", REGION),
        ["4532 0151 1283 0366 , 0928"]
    );
    // More than 15 words later: not part of the region.
    let far = format!("4532 0151 1283 0366 {} 737", "la ".repeat(16));
    assert_eq!(found(&far, REGION), ["4532 0151 1283 0366"]);
    // More than 20 s later: not part of the region; 18 s is.
    let timed = |at: u64| {
        format!("4532@0-500 0151@600-900 1283@1000-1500 0366@1600-2000 code@2100 737@{at}")
    };
    assert_eq!(found(&timed(23_000), REGION), ["4532 0151 1283 0366"]);
    assert_eq!(
        found(&timed(20_000), REGION),
        ["4532 0151 1283 0366 code 737"]
    );
}

#[test]
fn ssn_rules() {
    assert_eq!(found("123-45-6789", SSN), ["123-45-6789"]);
    for bad in [
        "000-12-3456",
        "666-12-3456",
        "912-34-5678",
        "123-00-4567",
        "123-45-0000",
    ] {
        assert!(found(bad, SSN).is_empty(), "{bad}");
    }
    // Ten digits is a phone number, not an SSN.
    assert!(found("call 555-123-4567 now", SSN).is_empty());
    assert!(found("536 22 4187 1", SSN).is_empty());
    assert_eq!(
        found("five three six two two four one eight seven", SSN).len(),
        1
    );
}

#[test]
fn number_detector() {
    assert_eq!(found("room 123 or 4532 , not 12", NUMBER), ["123", "4532"]);
    assert!(found("one of them , two of them", NUMBER).is_empty());
    assert!(found("I am forty. Two three of them", NUMBER).is_empty());
    assert_eq!(found("I am forty two three", NUMBER), ["forty two three"]);
    assert_eq!(found("triple one", NUMBER), ["triple one"]);
}

#[test]
fn odd_input_never_panics() {
    for d in [CARD, PROBABLE, REGION, SSN, NUMBER] {
        assert!(detect(&[], &d).is_empty());
        for spec in [
            "double",
            "and hundred and",
            ", - …",
            "123-and-456 789",
            "o oh double oh",
        ] {
            detect(&ws(spec), &d);
        }
    }
    let mut turn = ws("Agent 123");
    turn[0].m = Some("turn".into());
    turn[1].m = Some("turn".into());
    assert!(detect(&turn, &NUMBER).is_empty());
    assert_eq!(
        DetectionLevel::from_v3("probableNumbers"),
        Some(DetectionLevel::ProbableNumbers)
    );
    assert_eq!(DetectionLevel::from_v3("bogus"), None);
    assert_eq!(DetectionLevel::default(), DetectionLevel::EntireRegion);
}

fn transcript(spec: &str) -> Transcript {
    let mut words = ws(spec);
    for (i, w) in words.iter_mut().enumerate() {
        if !w.is_punctuation() {
            w.c = 0.5 + 0.1 * i as f32;
        }
    }
    Transcript {
        confidence: 0.0,
        words,
        ..Default::default()
    }
}

#[test]
fn redact_merges_and_renumbers() {
    // a(0.5) b(0.6) ,(p) c(0.8) d(0.9) e(1.0)
    let t = transcript("a b , c d e");
    let r = redact(&t, &[(3, 4), (1, 3), (9, 12), (4, 1)], "[x]");
    let w: Vec<&str> = r.words.iter().map(|w| w.w.as_str()).collect();
    assert_eq!(w, ["a", "[x]", "e"]);
    assert_eq!(r.words.iter().map(|w| w.p).collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!((r.words[1].s, r.words[1].e), (1000, 4500));
    assert!(r.words[1].m.is_none());
    assert!((r.words[1].c - (0.6 + 0.8 + 0.9) / 3.0).abs() < 1e-5);
    assert!((r.confidence - (0.5 + (0.6 + 0.8 + 0.9) / 3.0 + 1.0) / 3.0).abs() < 1e-5);
    // Touching spans merge; spans past the end are clamped.
    let r = redact(&t, &[(0, 0), (1, 1), (5, 99)], "#");
    assert_eq!(
        r.words.iter().map(|w| w.w.as_str()).collect::<Vec<_>>(),
        ["#", ",", "c", "d", "#"]
    );
    // Nothing to do, or nothing at all.
    assert_eq!(redact(&t, &[], "#").words, t.words);
    let empty = redact(&Transcript::default(), &[(0, 3)], "#");
    assert!(empty.words.is_empty());
    assert_eq!(empty.confidence, 0.0);
}

#[test]
fn redacted_transcript_has_no_card_or_ssn_digits() {
    let t = Transcript {
        confidence: 0.9,
        words: ws(WHISPER),
        ..Default::default()
    };
    let spans: Vec<(usize, usize)> = [REGION, SSN]
        .iter()
        .flat_map(|d| detect(&t.words, d))
        .map(|d| d.span())
        .collect();
    let r = redact(&t, &spans, "[redacted]");
    assert_eq!(
        r.text(),
        "My card number is [redacted].\nAnd my social security number is [redacted].\n"
    );
    assert!(
        !r.words
            .iter()
            .any(|w| w.w.chars().any(|c| c.is_ascii_digit()))
    );
    assert_eq!((r.words[4].s, r.words[4].e), (3290, 8630));
}

/// How a recogniser may write a spoken card number: a digit too many or too few, blocks split
/// oddly, words and numerals mixed, "oh", "double", hesitations, a decoder loop. Each must be
/// redacted whole at the default level (`entireRegion`), with its expiry, so that no block of
/// the card is left in the transcript.
#[test]
fn misrecognised_card_numbers_are_still_redacted_whole() {
    let cases: &[&str] = &[
        // Luhn-valid, as spoken.
        "4111 1111 1111 1111",
        // One digit too many (17, Luhn fails) and too few (15).
        "41111111111111111",
        "4111 1111 1111 11111",
        "4111 1111 1111 111",
        "411111111111111",
        // A digit misheard (Luhn fails), 16 digits.
        "4111 1111 1711 1111",
        // Split oddly.
        "4111 11 111111 1111",
        "41 , 11 , 11 , 11 , 11 , 11 , 11 , 11",
        "41, 11, 11, 11, 11, 11, 11, 11",
        "4111-11-111111-1111",
        "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1",
        "4111 1111. 1111 1111.",
        "4111, 1111... 1111, 1111",
        // Partly or wholly as words, "oh" for zero, "double".
        "four one one one 1111 1111 1111",
        "four one one one , one one one one , one one one one , one one one one",
        "four five three two oh one five one one two eight three oh three six six",
        "Four, five, three, two, oh one five one. One two eight three, zero three six six.",
        "five five double five four four four four three three three three 1111",
        "forty-one eleven eleven eleven eleven eleven eleven eleven",
        // Hesitations between the blocks.
        "4532 , um , 0151 , uh , 1283 , 0366",
        "four five three two, um, zero one five one, er, one two eight three 0366",
        // A digit heard as a word, an "and", a filler of the recogniser's own spelling.
        "4111 1111 for 1111 1111",
        "4111 1111 , to 1111 1111",
        "4111 1111 and 1111 1111",
        "4111 hmmm 1111 1111 1111",
        "four one one one , one one one one , won one one one , one one one one",
        // A decoder loop.
        "41, 41, 41, 41, 41, 41, 41, 41, 41, 41, 41, 41, 41, 41, 41, 41, 41, 41, 41, 41",
        // Twenty digits (a card and a repeated block).
        "4532 0151 1283 0366 0366",
    ];
    for card in cases {
        let spec = format!("My card number is {card} expiry 09/28 . Thank you for calling");
        let words = ws(&spec);
        let d = detect(&words, &REGION);
        let t = Transcript {
            confidence: 0.9,
            words: words.clone(),
            ..Default::default()
        };
        let spans: Vec<(usize, usize)> = d.iter().map(Detection::span).collect();
        let text = redact(&t, &spans, "[redacted]").text();
        assert_eq!(
            text, "My card number is [redacted].\nThank you for calling\n",
            "{card}: {d:?}"
        );
        // The audio range runs from the first digit's word to the expiry.
        assert_eq!(d.len(), 1, "{card}");
        assert_eq!(d[0].s, words[4].s, "{card}");
    }
}

/// What is not a card number stays: short numbers, a phone number, an SSN.
#[test]
fn entire_region_leaves_shorter_numbers() {
    for spec in [
        "call 555 123 4567 now",
        "room 12 , floor 3",
        "order 4532 0151 1283 please",
        "my social is 536-22-4187 .",
        "um , uh , 12",
        // Blocks too far apart, or too few digits in all.
        "4111 1111 is what I said and then 1111 1111",
        "4111 1111 and 1111",
        "4532@0-900 0151@1000-1900 and@2000-2100 1283@6000-6900 0366@7000-7900",
    ] {
        assert!(found(spec, REGION).is_empty(), "{spec}");
    }
}

/// SSNs read and recognised in any grouping.
#[test]
fn ssn_in_odd_groupings() {
    for ssn in [
        "536-22-4187",
        "536 22 4187",
        "536 224 187",
        "53 62 24 187",
        "53622 , 4187",
        "536224187",
        "5 3 6 2 2 4 1 8 7",
        "five three six , two two , four one eight seven",
        "five three six 22 4187",
        "five three six, um, two two, four one eight seven",
        "536-22. 4187.",
        "536, 22... 4187",
        "fifty three, sixty two, twenty four, one eighty seven",
    ] {
        let spec = format!("my social is {ssn} thanks");
        assert_eq!(found(&spec, SSN).len(), 1, "{ssn}: {:?}", digits(&spec));
        let words = ws(&spec);
        let d = detect(&words, &SSN);
        let t = Transcript {
            confidence: 0.9,
            words,
            ..Default::default()
        };
        let text = redact(&t, &[d[0].span()], "[redacted]").text();
        assert!(
            text.starts_with("my social is [redacted]") && text.ends_with("thanks\n"),
            "{ssn}: {text}"
        );
    }
    // A digit dropped or doubled right after "social" / "SSN": still redacted.
    for near in [
        "My social is 536-24187.",
        "My social security number is 536 22 41877 thanks",
        "SSN: 5362 24187",
    ] {
        assert_eq!(found(near, SSN).len(), 1, "{near}");
    }
    assert!(found("My social is great. 536-24187.", SSN).len() == 1);
    // Ten digits, or nine in two sentences with words between: not an SSN.
    assert!(found("it is 536 22 41877 .", SSN).is_empty());
    // Deliberately over-redacted: a phone number just after "social" is taken for an SSN.
    assert!(found("my social worker called 555 123 4567 at noon", SSN).len() == 1);
    assert!(
        found(
            "the social club, founded in the year of 1885, has 555 123 4567",
            SSN
        )
        .is_empty()
    );
    assert!(found("it is 536. Then 22 4187", SSN).is_empty());
}

/// `enableNumberFormatting: false` writes whisper's digits as words before the detectors run:
/// a card number, an SSN and a plain number are found just the same.
#[test]
fn numbers_written_as_words_are_still_detected() {
    use sealscribe_transcript::Transcript;
    use sealscribe_transcript::numbers::spell_numbers;
    for (spec, detector, want) in [
        (
            "My card is 4532 , 0151 , 1283 , 0366 . Thanks",
            CARD,
            "4532015112830366",
        ),
        ("card 4111111111111111 expires", CARD, "4111111111111111"),
        ("My social is 536-22-4187 .", SSN, "536224187"),
        ("order 0042 please", NUMBER, "0042"),
        // A quantity: its words, `thousand` included, are one number.
        (
            "paid $1,250 today",
            NUMBER,
            "=one thousand two hundred fifty",
        ),
    ] {
        let t = Transcript {
            confidence: 0.9,
            words: ws(spec),
            ..Transcript::default()
        };
        let spelled = spell_numbers(&t);
        assert!(
            spelled
                .words
                .iter()
                .all(|w| !w.w.chars().any(|c| c.is_ascii_digit())),
            "{spec}: {:?}",
            spelled.words
        );
        let spans = detect(&spelled.words, &detector);
        assert_eq!(spans.len(), 1, "{spec}: {spans:?}");
        let d = &spans[0];
        let covered: String = spelled.words[d.first..=d.last]
            .iter()
            .map(|w| w.w.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(words) = want.strip_prefix('=') {
            assert_eq!(covered, words, "{spec}");
            continue;
        }
        let digits: String = covered
            .split_whitespace()
            .filter_map(|w| {
                [
                    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                ]
                .iter()
                .position(|d| *d == w)
            })
            .map(|d| char::from(b'0' + d as u8))
            .collect();
        assert_eq!(digits, want, "{spec}: {covered}");
    }
}
