//! Pipeline vs raw whisper.cpp, side by side on the same audio: word error rate and time.
//!
//! `cargo run -p sealscribe-asr --example pipeline_vs_raw [-- --quick | --long-only | --plan-only]`
//! (`--quick`: one voice; `--long-only`: only the one-file run; `--plan-only`: only print the
//! windows the one-file run is cut into)
//!
//! An example rather than a `cargo bench` target so that it runs in the dev profile, whose
//! dependencies (whisper.cpp included) are already built optimised: a release build of
//! whisper.cpp costs minutes on a 2-core machine and changes nothing measured here.
//!
//! The audio: the test suite's twelve sentences, spoken by espeak-ng in three voices (US
//! English at 150 and 185 words a minute, British English at 150), one file per sentence;
//! then all twelve at 150 wpm in one file of about 55 s with pauses (two windows).
//! Transcribed by:
//! * **raw whisper.cpp**: one `WhisperState::full` call over the whole file with whisper.cpp's
//!   default parameters (greedy best-of-5, temperature fallback, full 30 s audio context),
//!   English;
//! * **pipeline**: `WhisperEngine::recognise`, as shipped (VAD speech packed into windows ≤ 28 s,
//!   reduced audio context for windows ≤ 10 s, our safeguards, timing correction);
//! * **pipeline, full context**: the same with every window encoded with the full context.
//!
//! WER is corpus-level (edits ÷ reference words) after normalisation (lower case, no
//! punctuation). Times are wall clock; the machine is usually shared, so compare columns of
//! one run, not runs. Prints a Markdown table for `docs/benchmarks.md`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use common::*;
use sealscribe_asr::{AsrConfig, WhisperEngine};
use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters};

/// One recording and what was said.
struct Item {
    pcm: Vec<f32>,
    reference: Vec<String>,
}

/// Errors, reference words, seconds of compute, seconds of audio.
#[derive(Default, Clone, Copy)]
struct Score {
    edits: usize,
    words: usize,
    secs: f64,
    audio: f64,
}

impl Score {
    fn add(&mut self, item: &Item, hyp: &str, secs: f64) {
        self.edits += edits(&item.reference, &normalise(hyp));
        self.words += item.reference.len();
        self.secs += secs;
        self.audio += item.pcm.len() as f64 / 16_000.0;
    }
    fn cell(&self) -> String {
        format!(
            "{:.1} % ({}/{}) · {:.1} s · RTF {:.3}",
            100.0 * self.edits as f64 / self.words.max(1) as f64,
            self.edits,
            self.words,
            self.secs,
            self.secs / self.audio.max(1e-9)
        )
    }
}

/// whisper.cpp as its own examples call it: default parameters, one call, the whole signal.
fn raw(ctx: &WhisperContext, pcm: &[f32], threads: i32) -> String {
    let mut state = ctx.create_state().expect("state");
    let mut p = FullParams::new(SamplingStrategy::Greedy { best_of: 5 });
    p.set_n_threads(threads);
    p.set_language(Some("en"));
    p.set_print_progress(false);
    p.set_print_realtime(false);
    p.set_print_special(false);
    p.set_print_timestamps(false);
    state.full(p, pcm).expect("whisper full");
    state
        .as_iter()
        .map(|s| s.to_str_lossy().map(|t| t.into_owned()).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ")
}

fn speak_with(dir: &std::path::Path, name: &str, voice: &str, wpm: &str, text: &str) -> Vec<f32> {
    let out = dir.join(format!("{name}.wav"));
    let ok = std::process::Command::new("espeak-ng")
        .args(["-v", voice, "-s", wpm, "-w"])
        .arg(&out)
        .arg(text)
        .status()
        .expect("espeak-ng runs")
        .success();
    assert!(ok, "espeak-ng failed");
    sealscribe_asr::decode_to_pcm16k(&out).expect("decode")
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let long_only = std::env::args().any(|a| a == "--long-only");
    let plan_only = std::env::args().any(|a| a == "--plan-only");
    require_tools();
    whisper_rs::install_logging_hooks();
    let cfg = AsrConfig::from_env().expect("environment");
    let mut engine = WhisperEngine::load(&cfg).unwrap_or_else(|e| panic!("{e}"));
    let threads = engine.threads_per_job() as i32;
    let dir = tempfile::tempdir().expect("tmp");
    // Memory of the engine alone, after one recognition, before the raw context exists.
    let warm = speak_with(dir.path(), "warm", "en-us", "150", SENTENCES[0]);
    engine
        .recognise(&warm, &Default::default())
        .expect("recognise");
    let engine_rss = sealscribe_testkit::proc::own_peak_mib();
    let ggml = sealscribe_asr::model::ensure_ggml(&cfg).expect("model");
    let mut cp = WhisperContextParameters::default();
    cp.use_gpu(false);
    let ctx = WhisperContext::new_with_params(&ggml, cp).expect("raw load");

    let voices: &[(&str, &str)] = if long_only || plan_only {
        &[]
    } else if quick {
        &[("en-us", "150")]
    } else {
        &[("en-us", "150"), ("en-us", "185"), ("en-gb", "150")]
    };
    let mut short = Vec::new();
    for (v, (voice, wpm)) in voices.iter().enumerate() {
        for (i, s) in SENTENCES.iter().enumerate() {
            short.push(Item {
                pcm: speak_with(dir.path(), &format!("v{v}s{i}"), voice, wpm, s),
                reference: normalise(s),
            });
        }
    }
    // The twelve sentences in one file, with pauses: whisper's own 30 s seeking against our cuts.
    let mut long = Item {
        pcm: Vec::new(),
        reference: Vec::new(),
    };
    for (i, s) in SENTENCES.iter().enumerate() {
        long.pcm
            .extend(speak_with(dir.path(), &format!("l{i}"), "en-us", "150", s));
        long.pcm.extend(std::iter::repeat_n(
            0.0,
            16_000 * (300 + 200 * (i % 4)) / 1000,
        ));
        long.reference.extend(normalise(s));
    }

    // Where the pipeline cuts the one-file run (media time): the seams are what is compared.
    let windows: Vec<String> = engine
        .plan(&long.pcm)
        .expect("planning")
        .iter()
        .map(|w| {
            let end = w.map.pieces().last().map_or(0, |p| p.media + p.len as u64);
            format!(
                "{:.1}–{:.1} s",
                w.map.start_ms() as f64 / 1000.0,
                end as f64 / 16_000.0
            )
        })
        .collect();
    if plan_only {
        println!("{} windows: {}", windows.len(), windows.join(", "));
        return;
    }

    let pipeline = |engine: &WhisperEngine, item: &Item| {
        let t = Instant::now();
        let text = engine
            .recognise(&item.pcm, &Default::default())
            .expect("recognise")
            .text();
        (text, t.elapsed().as_secs_f64())
    };
    let raw_run = |item: &Item| {
        let t = Instant::now();
        let text = raw(&ctx, &item.pcm, threads);
        (text, t.elapsed().as_secs_f64())
    };

    // Interleaved per item, so a burst of load elsewhere hits every column alike.
    let (mut s_raw, mut s_ours, mut s_full) =
        (Score::default(), Score::default(), Score::default());
    let (mut l_raw, mut l_ours, mut l_full) =
        (Score::default(), Score::default(), Score::default());
    for (k, item) in short.iter().chain(std::iter::once(&long)).enumerate() {
        let is_long = k == short.len();
        let (r, rs) = raw_run(item);
        let (o, os) = pipeline(&engine, item);
        engine = engine.with_short_context_up_to(0.0);
        let (f, fs) = pipeline(&engine, item);
        engine = engine.with_short_context_up_to(sealscribe_asr::engine::SHORT_CONTEXT_MAX_SECS);
        let (a, b, c) = if is_long {
            (&mut l_raw, &mut l_ours, &mut l_full)
        } else {
            (&mut s_raw, &mut s_ours, &mut s_full)
        };
        a.add(item, &r, rs);
        b.add(item, &o, os);
        c.add(item, &f, fs);
        let reference = item.reference.join(" ");
        for (name, hyp) in [("raw", &r), ("ours", &o), ("full", &f)] {
            let e = edits(&item.reference, &normalise(hyp));
            if e > 0 {
                eprintln!("[{k}] {name}: {e} edits: {hyp:?}\n      ref: {reference}");
            }
        }
    }

    println!("## Pipeline vs raw whisper (cargo run -p sealscribe-asr --example pipeline_vs_raw)");
    println!();
    println!(
        "model {} | {threads} compute threads | {} cores | load average {}",
        cfg.model,
        sealscribe_asr::config::cores(),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    println!(
        "peak RSS of the engine after a recognition (before the raw context is loaded): {engine_rss:.0} MB"
    );
    println!();
    println!(
        "| audio | raw whisper.cpp `full()` | pipeline as shipped | pipeline, full audio context |"
    );
    println!("|---|---|---|---|");
    if !short.is_empty() {
        println!(
            "| {} sentences, one file each ({:.0} s) | {} | {} | {} |",
            short.len(),
            s_raw.audio,
            s_raw.cell(),
            s_ours.cell(),
            s_full.cell()
        );
    }
    println!(
        "| 12 sentences in one file ({:.0} s) | {} | {} | {} |",
        l_raw.audio,
        l_raw.cell(),
        l_ours.cell(),
        l_full.cell()
    );
    println!();
    println!(
        "the one-file run is planned as {} windows: {}",
        windows.len(),
        windows.join(", ")
    );
}
