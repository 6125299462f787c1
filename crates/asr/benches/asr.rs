//! Speech-recognition benchmark: `cargo bench -p sealscribe-asr`.
//!
//! Reports, for espeak-ng speech made on the spot: model load time, real-time factor (processing
//! time ÷ audio duration) of the sealscribe pipeline (ffmpeg decode + windowing + whisper) for a
//! short clip and a three-minute file, peak RSS, and the same audio through whisper.cpp's raw API
//! (whisper-rs calls only, default 30 s audio context, whole file in one `full` call) so the
//! pipeline's overhead — or gain — shows as a ratio. Needs the same set-up as the tests.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use common::*;
use sealscribe_asr::{AsrConfig, WhisperEngine, transcribe_file};
use sealscribe_testkit::proc::own_peak_mib;
use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let t = Instant::now();
    let r = f();
    (t.elapsed().as_secs_f64(), r)
}

/// whisper.cpp as its own examples use it: one `full` call on the whole signal.
fn raw_whisper(
    ctx: &WhisperContext,
    pcm: &[f32],
    threads: i32,
    audio_ctx: Option<i32>,
) -> (f64, usize) {
    let mut state = ctx.create_state().expect("state");
    let mut p = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
    p.set_n_threads(threads);
    p.set_language(Some("en"));
    p.set_token_timestamps(true);
    p.set_print_progress(false);
    p.set_print_realtime(false);
    p.set_print_special(false);
    p.set_print_timestamps(false);
    if let Some(a) = audio_ctx {
        p.set_audio_ctx(a);
    }
    let (secs, r) = time(|| state.full(p, pcm));
    r.expect("whisper full");
    let words = state
        .as_iter()
        .map(|s| {
            s.to_str_lossy()
                .map(|t| t.split_whitespace().count())
                .unwrap_or(0)
        })
        .sum();
    (secs, words)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().next().unwrap_or("?").to_string())
        .unwrap_or_else(|_| "?".into())
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` probing; nothing to list
    }
    require_tools();
    whisper_rs::install_logging_hooks();
    let cfg = AsrConfig::from_env().expect("environment");
    let (load_s, engine) = time(|| WhisperEngine::load(&cfg));
    let engine = engine.unwrap_or_else(|e| panic!("{e}"));
    let threads = engine.threads_per_job();
    let dir = tempfile::tempdir().expect("tmp");

    let load_before = load_average();
    let rss_ours = {
        // Our engine alone: one recognition, before the raw context exists.
        let wav = speak(dir.path(), "rss", SENTENCES[0]);
        transcribe_file(&engine, &wav).expect("transcribe");
        own_peak_mib()
    };

    // Short clip: sealscribe and raw runs interleaved, so a burst of load elsewhere on the
    // machine hits both alike.
    let wav = speak(dir.path(), "short", SENTENCES[1]);
    let short_pcm = sealscribe_asr::decode_to_pcm16k(&wav).expect("decode");
    let short_s = short_pcm.len() as f64 / 16_000.0;
    let ggml = sealscribe_asr::model::ensure_ggml(&cfg).expect("model");
    let mut cp = WhisperContextParameters::default();
    cp.use_gpu(false);
    let ctx = WhisperContext::new_with_params(&ggml, cp).expect("raw load");
    let n = threads as i32;
    let short_ctx = (short_s * 50.0).ceil() as i32 + 64;
    let _ = engine.recognise(&short_pcm, &Default::default()); // warm-up
    let _ = raw_whisper(&ctx, &short_pcm, n, Some(short_ctx));
    let (mut ours, mut raw, mut raw_ctx, mut dec) = (vec![], vec![], vec![], vec![]);
    for _ in 0..5 {
        ours.push(time(|| transcribe_file(&engine, &wav).expect("transcribe")).0);
        raw.push(raw_whisper(&ctx, &short_pcm, n, None).0);
        raw_ctx.push(raw_whisper(&ctx, &short_pcm, n, Some(short_ctx)).0);
        dec.push(time(|| sealscribe_asr::decode_to_pcm16k(&wav).expect("decode")).0);
    }
    let (ours_short, raw_short, raw_short_ctx, decode_short) =
        (median(ours), median(raw), median(raw_ctx), median(dec));

    // Three minutes: ours, raw, ours again (the faster of ours is reported).
    let long = long_speech(dir.path(), 180);
    let long_s = long.pcm.len() as f64 / 16_000.0;
    let (ours_long_1, t) = time(|| transcribe_file(&engine, &long.path).expect("transcribe"));
    let ours_long_words = t.words.iter().filter(|w| !w.is_punctuation()).count();
    let (raw_long, raw_long_words) = raw_whisper(&ctx, &long.pcm, n, None);
    let (ours_long_2, _) = time(|| transcribe_file(&engine, &long.path).expect("transcribe"));
    let ours_long = ours_long_1.min(ours_long_2);
    let (decode_long, _) = time(|| sealscribe_asr::decode_to_pcm16k(&long.path).expect("decode"));
    let rss = own_peak_mib();
    let load_after = load_average();

    println!("## Speech recognition benchmark (cargo bench -p sealscribe-asr)");
    println!();
    println!(
        "model {} | {} compute threads | {} cores | whisper.cpp {}",
        cfg.model,
        threads,
        sealscribe_asr::config::cores(),
        whisper_rs::WHISPER_CPP_VERSION
    );
    println!("model load (verify checksums + load ggml): {load_s:.2} s");
    println!();
    println!(
        "| audio | sealscribe pipeline (decode + recognise) | RTF | raw whisper-rs `full` | RTF | ratio ours/raw |"
    );
    println!("|---|---|---|---|---|---|");
    println!(
        "| short clip {short_s:.1} s | {ours_short:.2} s | {:.3} | {raw_short:.2} s (audio_ctx 1500); {raw_short_ctx:.2} s (audio_ctx {short_ctx}) | {:.3}; {:.3} | {:.2}; {:.2} |",
        ours_short / short_s,
        raw_short / short_s,
        raw_short_ctx / short_s,
        ours_short / raw_short,
        ours_short / raw_short_ctx
    );
    println!(
        "| 3-minute file {long_s:.0} s | {ours_long:.2} s ({ours_long_words} words) | {:.3} | {raw_long:.2} s ({raw_long_words} words) | {:.3} | {:.2} |",
        ours_long / long_s,
        raw_long / long_s,
        ours_long / raw_long
    );
    println!();
    println!(
        "ffmpeg decode alone: short {:.0} ms, 3-minute {:.0} ms",
        decode_short * 1000.0,
        decode_long * 1000.0
    );
    println!("3-minute file, our two runs: {ours_long_1:.2} s, {ours_long_2:.2} s");
    println!(
        "peak RSS: sealscribe engine alone {rss_ours:.0} MB; with a second, raw whisper context loaded {rss:.0} MB"
    );
    println!(
        "load average before / after: {load_before} / {load_after} (ggml threads spin-wait: other load on the machine inflates every figure)"
    );
}
