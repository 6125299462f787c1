use proptest::prelude::*;
use sealscribe_transcript::phrases::Tokens;
use sealscribe_transcript::{PUNC, Transcript, Word};
use serde_json::json;

use super::*;

fn ok(q: &str) -> Query {
    Query::parse(q).unwrap_or_else(|e| panic!("{q:?} should parse: {e}"))
}

fn err(q: &str) -> SyntaxError {
    match Query::parse(q) {
        Ok(parsed) => panic!("{q:?} should not parse, got {parsed:?}"),
        Err(e) => e,
    }
}

#[test]
fn the_documented_forms_parse() {
    for q in [
        "SELECT * FROM media MATCH 'hello'",
        "select * from media match \"hello\"",
        "SELECT * FROM media WHERE * SAYS 'hello'",
        "SELECT mediaId FROM media WHERE \"agent\" SAYS \"thank you for calling\"",
        "SELECT mediaId, HITS() FROM media WHERE 'Caller' SAYS 'cancel' ;",
        "SELECT * FROM media WHERE * SAYS 'cancel' AND NOT 'agent' SAYS 'sorry'",
        "SELECT * FROM media WHERE (* SAYS 'refund' || * SAYS 'money back') && !'agent' SAYS 'no'",
        "SELECT * FROM media MATCH 'the * figure'",
        "SELECT * FROM media WHERE metadata.extended.region = 'emea'",
        "SELECT * FROM media WHERE metadata.extended.'call type' != \"sales\" OR metadata.externalId = 7",
        "SELECT * FROM media WHERE HITS(* SAYS 'sorry' OR 'agent' SAYS 'apologise') >= 2",
        "SELECT * FROM media WHERE HITS('sorry') = 0",
        "SELECT * FROM media WHERE metadata.extended.vip = true and 'hello'",
        "SELECT * FROM media MATCH 'don''t' OR \"say \"\"hi\"\"\"",
    ] {
        ok(q);
    }
}

#[test]
fn the_tree_is_what_was_written() {
    let q = ok("SELECT * FROM media WHERE 'a' OR 'b' AND NOT 'Agent' SAYS 'c'");
    let says = |speaker: Speaker, p: &str| {
        Expr::Says(Says {
            speaker,
            phrase: Phrase::parse(p).unwrap(),
        })
    };
    assert_eq!(
        q.condition,
        Expr::Or(vec![
            says(Speaker::Anyone, "a"),
            Expr::And(vec![
                says(Speaker::Anyone, "b"),
                Expr::Not(Box::new(says(Speaker::Named("Agent".into()), "c"))),
            ]),
        ])
    );
    assert_eq!(q.fields, vec![Field::All]);
    let q = ok("SELECT mediaId, HITS() FROM media WHERE HITS('x' || * SAYS 'y') < 3");
    assert_eq!(q.fields, vec![Field::MediaId, Field::Hits]);
    assert!(matches!(q.condition, Expr::Hits { ref of, cmp: Cmp::Lt, n: 3 } if of.len() == 2));
    let q = ok("SELECT * FROM media WHERE metadata.extended.\"call type\" = 'x'");
    assert_eq!(
        q.condition,
        Expr::Metadata {
            path: vec!["extended".into(), "call type".into()],
            equal: true,
            value: Literal::Str("x".into()),
        }
    );
    let q = ok("SELECT * FROM media MATCH 'it''s'");
    assert!(
        matches!(q.condition, Expr::Says(Says { ref phrase, .. }) if phrase.tokens() == ["it's"])
    );
}

#[test]
fn errors_say_where_and_what() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 0, "`SELECT`"),
        ("SELEC * FROM media MATCH 'x'", 0, "`SELECT`"),
        ("SELECT * FORM media MATCH 'x'", 9, "`FROM`"),
        ("SELECT * FROM calls MATCH 'x'", 14, "`media`"),
        ("SELECT * FROM media", 19, "`MATCH` or `WHERE`"),
        ("SELECT * FROM media MATCH hello", 26, "a condition"),
        ("SELECT * FROM media MATCH 'hello", 26, "a closing '"),
        ("SELECT * FROM media MATCH 'a' AND", 33, "a condition"),
        ("SELECT * FROM media MATCH ('a' OR 'b'", 37, "`)`"),
        ("SELECT * FROM media MATCH 'a' 'b'", 30, "`AND`, `OR`"),
        ("SELECT * FROM media MATCH ' * '", 26, "at least one word"),
        (
            "SELECT * FROM media WHERE agent SAYS 'x'",
            26,
            "quoted speaker",
        ),
        ("SELECT * FROM media WHERE * 'x'", 28, "`SAYS`"),
        (
            "SELECT * FROM media WHERE '' SAYS 'x'",
            26,
            "a speaker name",
        ),
        (
            "SELECT * FROM media WHERE 'a' SAYS * ",
            35,
            "a quoted phrase",
        ),
        ("SELECT name FROM media MATCH 'x'", 7, "`mediaId`"),
        ("SELECT * FROM media WHERE HITS('x') 2", 36, "a comparison"),
        (
            "SELECT * FROM media WHERE HITS('x') > 'two'",
            38,
            "a whole number",
        ),
        (
            "SELECT * FROM media WHERE HITS('x' AND 'y') > 1",
            35,
            "`)` or `OR`",
        ),
        (
            "SELECT * FROM media WHERE metadata = 'x'",
            35,
            "`.` and a metadata field",
        ),
        (
            "SELECT * FROM media WHERE metadata.extended.r > 'x'",
            46,
            "`=` or `!=`",
        ),
        (
            "SELECT * FROM media WHERE metadata.extended. = 'x'",
            45,
            "a metadata field name",
        ),
        (
            "SELECT * FROM media WHERE metadata.x = maybe",
            39,
            "a quoted string",
        ),
        ("SELECT * FROM media MATCH 'x' # comment", 30, "a keyword"),
        ("SELECT * FROM media MATCH 'x' & 'y'", 30, "a keyword"),
        (
            "SELECT * FROM media MATCH 'x' AND 99999999999999999999",
            34,
            "a number below",
        ),
    ];
    for (q, offset, expected) in cases {
        let e = err(q);
        assert_eq!(e.offset, *offset, "{q:?}: {e}");
        assert!(e.expected.contains(expected), "{q:?}: {e}");
        assert!(e.to_string().contains(&format!("offset {offset}")), "{e}");
    }
}

#[test]
fn offsets_count_characters_not_bytes() {
    let e = err("SELECT * FROM media MATCH 'café' ç");
    assert_eq!(e.offset, 33);
    assert!(e.found.contains('ç'));
}

#[test]
fn nesting_is_bounded() {
    let deep = |n: usize| {
        format!(
            "SELECT * FROM media MATCH {}'x'{}",
            "(".repeat(n),
            ")".repeat(n)
        )
    };
    ok(&deep(MAX_DEPTH - 1));
    let e = err(&deep(10_000));
    assert!(e.expected.contains("nested at most"), "{e}");
    let e = err(&format!(
        "SELECT * FROM media MATCH {}'x'",
        "NOT ".repeat(10_000)
    ));
    assert!(e.expected.contains("NOTs"), "{e}");
}

/// A transcript of `text`: `@Name` starts a turn of that speaker, `,` `.` `?` are punctuation;
/// word `k` spans `[1000k, 1000k + 800]`.
fn transcript(text: &str) -> Transcript {
    let words = text
        .split_whitespace()
        .enumerate()
        .map(|(k, w)| {
            let (w, m) = match w.strip_prefix('@') {
                Some(name) => (name, Some("turn".to_owned())),
                None if [",", ".", "?"].contains(&w) => (w, Some(PUNC.to_owned())),
                None => (w, None),
            };
            Word {
                p: k as u32,
                s: 1000 * k as u64,
                e: 1000 * k as u64 + 800,
                c: 0.9,
                w: w.to_owned(),
                m,
            }
        })
        .collect();
    Transcript {
        confidence: 0.9,
        words,
        ..Transcript::default()
    }
}

fn run(q: &str, t: &Transcript, metadata: Option<&serde_json::Value>) -> Outcome {
    let tokens = Tokens::new(t);
    ok(q).evaluate(&Media {
        tokens: &tokens,
        metadata,
        roles: &[],
    })
}

#[test]
fn phrases_speakers_and_logic() {
    let t = transcript(
        "@Agent Thank you for calling , how can I help ? @Caller I want a refund . \
         @Agent Sorry to hear that . Sorry again",
    );
    let yes = |q: &str| assert!(run(q, &t, None).matched, "{q}");
    let no = |q: &str| assert!(!run(q, &t, None).matched, "{q}");
    yes("SELECT * FROM media MATCH 'thank you'");
    yes("SELECT * FROM media MATCH 'THANK YOU FOR CALLING'");
    no("SELECT * FROM media MATCH 'goodbye'");
    yes("SELECT * FROM media WHERE 'caller' SAYS 'refund'");
    no("SELECT * FROM media WHERE 'agent' SAYS 'refund'");
    no("SELECT * FROM media WHERE 'someone' SAYS 'refund'");
    no("SELECT * FROM media MATCH 'help I'"); // across a turn change
    yes("SELECT * FROM media MATCH 'a refund' AND NOT 'caller' SAYS 'sorry'");
    no("SELECT * FROM media MATCH 'a refund' AND NOT 'agent' SAYS 'sorry'");
    yes("SELECT * FROM media MATCH 'goodbye' OR 'want a *'");
    yes("SELECT * FROM media WHERE HITS('agent' SAYS 'sorry') >= 2");
    no("SELECT * FROM media WHERE HITS('agent' SAYS 'sorry') > 2");
    yes("SELECT * FROM media WHERE HITS('sorry' OR 'refund') = 3");
    yes("SELECT * FROM media WHERE HITS('goodbye') = 0");

    let out = run(
        "SELECT * FROM media WHERE 'caller' SAYS 'refund' OR * SAYS 'sorry'",
        &t,
        None,
    );
    type Spans<'a> = Vec<(u64, u64, &'a str)>;
    let per: Vec<(&str, Spans)> = out
        .matches
        .iter()
        .map(|m| {
            (
                m.speaker_name.as_str(),
                m.occurrences
                    .iter()
                    .map(|o| (o.s, o.e, o.exact.as_str()))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        per,
        vec![
            ("Caller", vec![(15000, 15800, "refund")]),
            (
                "Agent",
                vec![(18000, 18800, "Sorry"), (23000, 23800, "Sorry")]
            ),
        ]
    );
    // Matched through NOT only: a match without occurrences.
    let out = run("SELECT * FROM media MATCH NOT 'goodbye'", &t, None);
    assert!(out.matched && out.matches.is_empty());
    // No match: no occurrences, even of the parts that were said.
    let out = run("SELECT * FROM media MATCH 'refund' AND 'goodbye'", &t, None);
    assert!(!out.matched && out.matches.is_empty());
}

#[test]
fn a_quoted_speaker_is_a_name_or_a_role() {
    let t = transcript("@Alice thank you for calling @Bob cancel it");
    let tokens = Tokens::new(&t);
    let roles = [("Alice".to_owned(), "Agent".to_owned())];
    let run = |q: &str| {
        ok(q).evaluate(&Media {
            tokens: &tokens,
            metadata: None,
            roles: &roles,
        })
    };
    let out = run("SELECT * FROM media WHERE 'agent' SAYS 'thank you'");
    assert!(out.matched);
    assert_eq!(out.matches[0].speaker_name, "Alice");
    assert!(run("SELECT * FROM media WHERE 'ALICE' SAYS 'thank you'").matched);
    assert!(!run("SELECT * FROM media WHERE 'agent' SAYS 'cancel'").matched);
    assert!(run("SELECT * FROM media WHERE 'bob' SAYS 'cancel'").matched);
}

#[test]
fn a_transcript_without_turns_is_said_by_unknown() {
    let t = transcript("hello there");
    let out = run("SELECT * FROM media WHERE 'Unknown' SAYS 'hello'", &t, None);
    assert!(out.matched);
    assert_eq!(out.matches[0].speaker_name, "unknown");
    assert!(!run("SELECT * FROM media WHERE 'agent' SAYS 'hello'", &t, None).matched);
}

#[test]
fn metadata_conditions() {
    let t = transcript("hello");
    let m = json!({"externalId": "42", "extended": {"region": "emea", "calls": 3, "vip": true,
                   "call type": "sales", "nested": {"a": "b"}}});
    let yes = |q: &str| assert!(run(q, &t, Some(&m)).matched, "{q}");
    let no = |q: &str| assert!(!run(q, &t, Some(&m)).matched, "{q}");
    yes("SELECT * FROM media WHERE metadata.extended.region = 'emea'");
    no("SELECT * FROM media WHERE metadata.extended.region = 'EMEA'");
    yes("SELECT * FROM media WHERE metadata.extended.region != 'apac'");
    yes("SELECT * FROM media WHERE metadata.extended.calls = 3");
    yes("SELECT * FROM media WHERE metadata.extended.calls = '3'");
    yes("SELECT * FROM media WHERE metadata.externalId = 42");
    yes("SELECT * FROM media WHERE metadata.extended.vip = TRUE AND 'hello'");
    yes("SELECT * FROM media WHERE metadata.extended.'call type' = 'sales'");
    no("SELECT * FROM media WHERE metadata.extended.nested = 'b'");
    yes("SELECT * FROM media WHERE metadata.extended.nested.a = 'b'");
    no("SELECT * FROM media WHERE metadata.extended.missing = 'x'");
    yes("SELECT * FROM media WHERE metadata.extended.missing != 'x'");
    // No metadata at all: no field equals anything.
    assert!(
        !run(
            "SELECT * FROM media WHERE metadata.externalId = '42'",
            &t,
            None
        )
        .matched
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// No input panics: random text, and random sequences of VBQL's own tokens.
    #[test]
    fn no_input_panics(s in "\\PC{0,200}") {
        let _ = Query::parse(&s);
    }

    #[test]
    fn no_token_soup_panics(parts in proptest::collection::vec(prop_oneof![
        Just("SELECT"), Just("*"), Just("FROM"), Just("media"), Just("MATCH"), Just("WHERE"),
        Just("SAYS"), Just("AND"), Just("OR"), Just("NOT"), Just("HITS"), Just("("), Just(")"),
        Just("'a b'"), Just("\"agent\""), Just("'*'"), Just("&&"), Just("||"), Just("!"),
        Just(">="), Just("="), Just("!="), Just("2"), Just("metadata"), Just("."), Just("x"),
        Just(","), Just("mediaId"), Just(";"), Just("'"), Just("true"),
    ], 0..40)) {
        let q = parts.join(" ");
        let t = transcript("@Agent a b c @Caller a b");
        match Query::parse(&q) {
            Ok(parsed) => {
                let (tokens, metadata) = (Tokens::new(&t), json!({"x": 1}));
                let roles = [("Agent".to_owned(), "agent".to_owned())];
                let media = Media { tokens: &tokens, metadata: Some(&metadata), roles: &roles };
                let _ = parsed.evaluate(&media);
            }
            Err(e) => prop_assert!(e.offset <= q.chars().count()),
        }
    }
}
