//! Time to render a long call's transcript in every rendition, and its `alternateFormats[]`.
//!
//! A two-speaker call of `BENCH_MINUTES` (default 60) minutes, ~2.5 words a second in turns of
//! 3–20 words with punctuation, is rendered as text, SRT, WebVTT and DFXP, then as the four
//! `alternateFormats[]` entries (rendition + base64); each is timed over a few runs and the best
//! is printed. These are what `GET …/transcript/{format}` and `includeAlternateFormat` compute
//! per request (on the blocking pool).

use std::time::{Duration, Instant};

use sealscribe_testkit::Rng;
use sealscribe_transcript::{PUNC, Rendition, Transcript, Word};

fn call(minutes: u64) -> Transcript {
    let mut rng = Rng(17);
    let mut words = Vec::new();
    let mut ms = 0;
    let end = minutes * 60_000;
    let mut speaker = 0;
    let word = |p: usize, s: u64, e: u64, w: &str, m: Option<&str>| Word {
        p: p as u32,
        s,
        e,
        c: 0.9,
        w: w.to_owned(),
        m: m.map(str::to_owned),
    };
    while ms < end {
        let n = 3 + rng.below(18);
        let name = ["Agent", "Caller"][speaker];
        words.push(word(words.len(), ms, ms + n * 400, name, Some("turn")));
        for k in 0..n {
            words.push(word(words.len(), ms, ms + 300, "something", None));
            ms += 400;
            if k + 1 == n || rng.below(8) == 0 {
                words.push(word(words.len(), ms - 100, ms - 100, ".", Some(PUNC)));
            }
        }
        ms += rng.below(1_500);
        speaker = 1 - speaker;
    }
    Transcript {
        confidence: 0.9,
        words,
        ..Default::default()
    }
}

fn best(runs: u32, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut size = 0;
    for _ in 0..runs {
        let t = Instant::now();
        size = std::hint::black_box(f());
        best = best.min(t.elapsed());
    }
    (best, size)
}

fn main() {
    let minutes: u64 = std::env::var("BENCH_MINUTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let t = call(minutes);
    println!(
        "renditions of a {minutes}-minute two-speaker call ({} tokens):",
        t.words.len()
    );
    for r in Rendition::ALL {
        let (time, size) = best(5, || t.render(r, Some("en-US")).len());
        println!("  {:<7} {:>8.1} ms  {:>9} bytes", r.name(), ms(time), size);
    }
    let (time, size) = best(5, || {
        Rendition::ALL
            .iter()
            .map(|&r| t.alternate_format(r, Some("en-US")).data.len())
            .sum()
    });
    println!(
        "  all four alternateFormats {:>8.1} ms  {:>9} bytes of base64",
        ms(time),
        size
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
