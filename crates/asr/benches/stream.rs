//! Streaming and voice-activity benchmark: `cargo bench -p sealscribe-asr --bench stream`.
//!
//! Two questions, answered side by side on audio made on the spot (espeak-ng speech, synthetic
//! hold music, low line noise; set-up as for the tests):
//!
//! * **Memory independent of duration**: the peak RSS (VmHWM) of a fresh process that loads the
//!   engine and transcribes a 3-minute file, and of one that transcribes a 3-hour file (both
//!   mostly silence: a sentence a minute, and a sentence every ten minutes; FLAC). Each runs in its own child process
//!   (this binary re-executed with `--child`), so neither inherits the other's high-water mark.
//! * **What VAD buys on calls**: a 30-minute call-like file (sentences, then long stretches of
//!   line noise and hold music) transcribed with `--asr-vad true` and `false`: time, WER and
//!   windows decoded.
//!
//! Figures go to `docs/benchmarks.md` by hand; nothing here asserts a timing.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use common::*;
use sealscribe_asr::{AsrConfig, WhisperEngine, transcribe_file};
use sealscribe_testkit::proc::own_peak_mib;

/// Child mode: `--child FILE VAD` loads the engine (VAD on or off), transcribes FILE and prints
/// one line: seconds, peak RSS MiB, windows decoded, then the transcript text.
fn child(file: &str, vad: bool) {
    let mut cfg = AsrConfig::from_env().expect("environment");
    cfg.vad = vad;
    let engine = WhisperEngine::load(&cfg).unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    let t = transcribe_file(&engine, file).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "{:.2}\t{:.1}\t{}\t{}",
        started.elapsed().as_secs_f64(),
        own_peak_mib(),
        engine.windows_decoded(),
        t.text()
    );
}

struct Run {
    secs: f64,
    rss_mib: f64,
    windows: u64,
    text: String,
}

fn run_child(file: &Path, vad: bool) -> Run {
    let exe = std::env::current_exe().expect("own path");
    let out = Command::new(exe)
        .args([
            "--child",
            file.to_str().unwrap(),
            if vad { "1" } else { "0" },
        ])
        .output()
        .expect("child runs");
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8_lossy(&out.stdout).into_owned();
    // Each result as it comes, so that a long run can be read before it ends.
    eprintln!(
        "{} (vad {vad}): {}",
        file.display(),
        line.split('\t')
            .take(3)
            .collect::<Vec<_>>()
            .join(" s, MiB, windows: ")
    );
    let mut f = line.trim_end_matches('\n').splitn(4, '\t');
    let mut next = || f.next().unwrap_or_default().to_string();
    Run {
        secs: next().parse().unwrap_or(f64::NAN),
        rss_mib: next().parse().unwrap_or(f64::NAN),
        windows: next().parse().unwrap_or(0),
        text: next(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--child") {
        child(&args[i + 1], args[i + 2] == "1");
        return;
    }
    require_tools();
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let clips: Vec<Vec<f32>> = SENTENCES
        .iter()
        .enumerate()
        .map(|(i, s)| sealscribe_asr::decode_to_pcm16k(speak(d, &format!("s{i}"), s)).unwrap())
        .collect();

    // A minute: one sentence, then silence. Looped by ffmpeg into 3 minutes and (a sentence
    // every ten minutes) 3 hours.
    let mut minute = clips[0].clone();
    minute.resize(60 * 16_000, 0.0);
    let mut ten = clips[1].clone();
    ten.resize(600 * 16_000, 0.0);
    let unit10 = d.join("ten.wav");
    write_wav(&unit10, &ten);
    let unit = d.join("minute.wav");
    write_wav(&unit, &minute);
    let looped = |unit: &Path, times: u32, name: &str| {
        let out = d.join(name);
        let loops = (times - 1).to_string();
        ffmpeg(&[
            "-stream_loop",
            &loops,
            "-i",
            unit.to_str().unwrap(),
            "-c:a",
            "flac",
            out.to_str().unwrap(),
        ]);
        out
    };
    let three_min = looped(&unit, 3, "3min.flac");
    let three_h = looped(&unit10, 18, "3h.flac");
    let short = run_child(&three_min, true);
    let long = run_child(&three_h, true);

    // 30 minutes call-like: per 5 minutes, 6 sentences with pauses (≈ 30 s of speech), 100 s of
    // line noise, 60 s of hold music, then line noise to the 5-minute mark.
    let music = hold_music(d, 60);
    let mut call = Vec::new();
    let mut reference = Vec::new();
    let mut speech = 0;
    for block in 0..6u32 {
        let start = call.len();
        for k in 0..6 {
            let i = (block as usize * 6 + k) % clips.len();
            call.extend(&clips[i]);
            speech += clips[i].len();
            call.extend(std::iter::repeat_n(0.0, 8_000));
            reference.push(SENTENCES[i]);
        }
        call.extend(line_noise(100.0, 7 + block));
        call.extend(&music);
        let rest = (start + 300 * 16_000).saturating_sub(call.len());
        call.extend(line_noise(rest as f64 / 16_000.0, 99 + block));
    }
    let call_path = d.join("call.wav");
    write_wav(&call_path, &call);
    let reference = reference.join(" ");
    let with = run_child(&call_path, true);
    let without = run_child(&call_path, false);

    let cfg = AsrConfig::from_env().expect("environment");
    println!("## Streaming and VAD benchmark (cargo bench -p sealscribe-asr --bench stream)");
    println!();
    println!(
        "model {} | {} cores | each run a fresh process (load + transcribe)",
        cfg.model,
        sealscribe_asr::config::cores()
    );
    println!();
    println!("| file | transcribe time | peak RSS (VmHWM) | windows decoded |");
    println!("|---|---|---|---|");
    for (name, r) in [
        ("3 minutes (a sentence a minute)", &short),
        ("3 hours (a sentence every ten minutes)", &long),
    ] {
        println!(
            "| {name} | {:.1} s | {:.0} MiB | {} |",
            r.secs, r.rss_mib, r.windows
        );
    }
    println!(
        "\n3 h vs 3 min peak RSS: +{:.0} MiB for 60× the audio",
        long.rss_mib - short.rss_mib
    );
    println!();
    println!(
        "30-minute call-like file ({:.0} s of speech in {:.0} s):",
        speech as f64 / 16_000.0,
        call.len() as f64 / 16_000.0
    );
    println!();
    println!("| VAD | time | RTF | WER | windows decoded | peak RSS |");
    println!("|---|---|---|---|---|---|");
    for (name, r) in [("on (default)", &with), ("off", &without)] {
        println!(
            "| {name} | {:.1} s | {:.3} | {:.1} % | {} | {:.0} MiB |",
            r.secs,
            r.secs / (call.len() as f64 / 16_000.0),
            wer(&reference, &r.text) * 100.0,
            r.windows,
            r.rss_mib
        );
    }
}
