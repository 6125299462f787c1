//! Stereo-call benchmark: `cargo bench -p sealscribe-asr --bench conversation`.
//!
//! A call of `SEALSCRIBE_BENCH_SECS` seconds (default 600) in which two speakers alternate,
//! one per channel (espeak-ng sentences with pauses), recognised the two ways sealscribe can:
//! mixed to mono (no `ingest`) and one recognition per channel merged by time
//! (`ingest.stereo`), with the engine of `AsrConfig::from_env` (`SEALSCRIBE_ASR_CONCURRENCY=2`
//! lets both channels run at once). Prints wall time, real-time factor and word error rate of
//! each, and each channel's error rate against its own sentences; figures go to
//! docs/benchmarks.md ("Stereo calls"). Not a test: no bound is asserted.
//!
//! `SEALSCRIBE_BENCH_SKIP_MONO=1` skips the mono pass; `SEALSCRIBE_BENCH_DUMP=DIR` writes each
//! channel's reference sentences (`Left.ref`), its timed words (`Left.hyp`, `s e word` per
//! line) and the sentences' times (`clips`, `onset end text`), to diff by sentence.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::time::Instant;

use common::*;
use sealscribe_asr::{
    AsrConfig, AudioSelection, MediaInfo, RecognitionOptions, SpeechEngine, WhisperEngine, probe,
};

fn recognise(
    engine: &WhisperEngine,
    path: &Path,
    info: &MediaInfo,
    audio: AudioSelection,
) -> sealscribe_asr::Transcript {
    let opts = RecognitionOptions {
        audio,
        ..RecognitionOptions::default()
    };
    engine.transcribe(path, info, &opts).expect("recognition")
}

fn main() {
    require_tools();
    let secs: u64 = std::env::var("SEALSCRIBE_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let cfg = AsrConfig::from_env().expect("SEALSCRIBE_ASR_* environment is valid");
    let engine = WhisperEngine::load(&cfg).expect("the model is installed");
    let dir = tempfile::tempdir().unwrap();
    // Sentence k goes to the left channel when k is even, else to the right.
    let speech = long_speech(dir.path(), secs);
    let mut left = vec![0.0f32; speech.pcm.len()];
    let mut right = vec![0.0f32; speech.pcm.len()];
    for (k, c) in speech.clips.iter().enumerate() {
        let (a, b) = ((c.start_ms * 16) as usize, (c.end_ms * 16) as usize);
        let side = if k % 2 == 0 { &mut left } else { &mut right };
        side[a..b].copy_from_slice(&speech.pcm[a..b]);
    }
    let path = dir.path().join("call.wav");
    std::fs::write(
        &path,
        sealscribe_testkit::wav::channels_f32(&[&left, &right]),
    )
    .unwrap();
    let info = probe(&path).expect("probe");
    let audio_secs = info.duration_ms as f64 / 1000.0;
    let reference: String = speech
        .clips
        .iter()
        .map(|c| c.text)
        .collect::<Vec<_>>()
        .join(" ");
    println!(
        "model {}, {} threads per recognition, concurrency {}, {audio_secs:.0} s stereo call, {} sentences",
        cfg.model,
        engine.threads_per_job(),
        cfg.concurrency,
        speech.clips.len()
    );

    let t = Instant::now();
    let mono_secs = if std::env::var_os("SEALSCRIBE_BENCH_SKIP_MONO").is_some() {
        println!("mixed to mono:      skipped");
        f64::NAN
    } else {
        let mono = recognise(&engine, &path, &info, AudioSelection::Mixed);
        let mono_secs = t.elapsed().as_secs_f64();
        println!(
            "mixed to mono:      {mono_secs:7.1} s  RTF {:.3}  WER {:.1} %",
            mono_secs / audio_secs,
            100.0 * wer(&reference, &mono.text())
        );
        mono_secs
    };

    let t = Instant::now();
    let parts: Vec<(String, sealscribe_asr::Transcript)> = std::thread::scope(|s| {
        let running: Vec<_> = ["Left", "Right"]
            .into_iter()
            .zip(0u32..)
            .map(|(name, channel)| {
                let (engine, path, info) = (&engine, &path, &info);
                s.spawn(move || {
                    let audio = AudioSelection::Channel { stream: 0, channel };
                    (name.to_owned(), recognise(engine, path, info, audio))
                })
            })
            .collect();
        running.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Each channel against its own sentences, to tell recognition errors from merge order.
    for (k, (name, t)) in parts.iter().enumerate() {
        let own: Vec<&str> = speech
            .clips
            .iter()
            .skip(k)
            .step_by(2)
            .map(|c| c.text)
            .collect();
        println!(
            "  {name} alone: WER {:.1} %",
            100.0 * wer(&own.join(" "), &t.text())
        );
        if let Ok(dir) = std::env::var("SEALSCRIBE_BENCH_DUMP") {
            let dir = Path::new(&dir);
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join(format!("{name}.ref")), own.join("\n")).unwrap();
            let timed: Vec<String> = t
                .words
                .iter()
                .map(|w| format!("{} {} {}", w.s, w.e, w.w))
                .collect();
            std::fs::write(dir.join(format!("{name}.hyp")), timed.join("\n")).unwrap();
        }
    }
    if let Ok(dir) = std::env::var("SEALSCRIBE_BENCH_DUMP") {
        let clips: Vec<String> = speech
            .clips
            .iter()
            .map(|c| format!("{} {} {}", c.onset_ms, c.end_ms, c.text))
            .collect();
        std::fs::write(Path::new(&dir).join("clips"), clips.join("\n")).unwrap();
    }
    let merged = sealscribe_transcript::merge_speakers(parts);
    let stereo_secs = t.elapsed().as_secs_f64();
    // The words only: `text()` starts every turn with `Name: `, which is not speech.
    let spoken: Vec<&str> = merged.spoken().map(|(_, w)| w.w.as_str()).collect();
    println!(
        "per channel, merged: {stereo_secs:6.1} s  RTF {:.3}  WER {:.1} %  ({} turns; {:.2}× the mono time)",
        stereo_secs / audio_secs,
        100.0 * wer(&reference, &spoken.join(" ")),
        merged.turns.len(),
        stereo_secs / mono_secs
    );
}
