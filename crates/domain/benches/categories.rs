//! Time to evaluate categories on a long call: what the pipeline's `analytics` step does for
//! `configuration.categories[]`.
//!
//! A two-speaker call of `BENCH_MINUTES` (default 60) minutes, ~2.5 words a second in turns of
//! 3–20 words drawn from a 200-word vocabulary, is read into phrase tokens once; then
//! `BENCH_CATEGORIES` (default 50) queries of the usual shapes (a phrase, a speaker-scoped
//! phrase with NOT, a wildcard, HITS over an OR, a metadata condition) are parsed and
//! evaluated. Each phase is timed over a few runs and the best is printed.

use std::time::{Duration, Instant};

use sealscribe_domain::vbql::{Media, Query};
use sealscribe_testkit::Rng;
use sealscribe_transcript::phrases::Tokens;
use sealscribe_transcript::{Transcript, Word};
use serde_json::json;

fn vocabulary() -> Vec<String> {
    (0..200).map(|i| format!("word{i}")).collect()
}

fn call(minutes: u64, vocabulary: &[String]) -> Transcript {
    let mut rng = Rng(17);
    let mut words = Vec::new();
    let (mut ms, mut speaker) = (0, 0);
    let push = |words: &mut Vec<Word>, s: u64, w: &str, m: Option<&str>| {
        words.push(Word {
            p: words.len() as u32,
            s,
            e: s + 300,
            c: 0.9,
            w: w.to_owned(),
            m: m.map(str::to_owned),
        })
    };
    while ms < minutes * 60_000 {
        let n = 3 + rng.below(18);
        push(&mut words, ms, ["Agent", "Caller"][speaker], Some("turn"));
        for _ in 0..n {
            let w = &vocabulary[rng.below(vocabulary.len() as u64) as usize];
            push(&mut words, ms, w, None);
            ms += 400;
        }
        ms += rng.below(1_500);
        speaker = 1 - speaker;
    }
    Transcript {
        confidence: 0.9,
        words,
        ..Transcript::default()
    }
}

fn queries(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let (a, b, c) = (i % 200, (i * 7 + 3) % 200, (i * 13 + 5) % 200);
            match i % 5 {
                0 => format!("SELECT * FROM media MATCH 'word{a} word{b}'"),
                1 => format!(
                    "SELECT * FROM media WHERE 'caller' SAYS 'word{a}' AND NOT 'agent' SAYS 'word{b}'"
                ),
                2 => format!("SELECT * FROM media MATCH 'word{a} * word{c}'"),
                3 => format!(
                    "SELECT * FROM media WHERE HITS('word{a}' OR * SAYS 'word{b}' OR 'word{c}') >= 20"
                ),
                _ => format!(
                    "SELECT * FROM media WHERE metadata.extended.team = 'retention' AND ('word{a}' || 'word{b} word{c}')"
                ),
            }
        })
        .collect()
}

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut out = None;
    let mut fastest = Duration::MAX;
    for _ in 0..runs {
        let t = Instant::now();
        let r = f();
        fastest = fastest.min(t.elapsed());
        out = Some(r);
    }
    (fastest, out.expect("one run"))
}

fn main() {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let minutes = env("BENCH_MINUTES", 60);
    let n = env("BENCH_CATEGORIES", 50) as usize;
    let vocabulary = vocabulary();
    let t = call(minutes, &vocabulary);
    let texts = queries(n);
    let metadata = json!({"extended": {"team": "retention"}});

    let (parse, parsed) = best(5, || {
        texts
            .iter()
            .map(|q| Query::parse(q).expect("valid"))
            .collect::<Vec<_>>()
    });
    let (tokenise, _) = best(5, || Tokens::new(&t).len());
    let tokens = Tokens::new(&t);
    let media = Media {
        tokens: &tokens,
        metadata: Some(&metadata),
        roles: &[],
    };
    let (evaluate, matched) = best(5, || {
        parsed.iter().filter(|q| q.evaluate(&media).matched).count()
    });
    println!(
        "{minutes} min call, {} words; {n} categories ({matched} matched)",
        t.words.len()
    );
    println!(
        "  parse all queries:    {:>9.3} ms",
        parse.as_secs_f64() * 1e3
    );
    println!(
        "  read the transcript:  {:>9.3} ms",
        tokenise.as_secs_f64() * 1e3
    );
    println!(
        "  evaluate all:         {:>9.3} ms",
        evaluate.as_secs_f64() * 1e3
    );
}
