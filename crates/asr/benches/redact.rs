//! Audio redaction benchmark: `cargo bench -p sealscribe-asr --bench redact`.
//!
//! Makes a 30-minute 44.1 kHz stereo WAV (sox noise, 303 MiB), redacts 60
//! ten-second ranges with a tone, and compares the wall time with ffmpeg
//! decoding the same file to WAV alone (the floor: redaction reads ffmpeg's
//! PCM output). Reports peak RSS, which must stay flat (streaming).

use std::process::Command;
use std::time::Instant;

use sealscribe_testkit::proc::own_peak_mib;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("long.wav");
    let status = Command::new("sox")
        .args(["-n", "-r", "44100", "-c", "2", "-b", "16"])
        .arg(&input)
        .args(["synth", "1800", "pinknoise", "vol", "0.3"])
        .status()
        .expect("sox is installed (scripts/setup.sh --test)");
    assert!(status.success());
    let size = std::fs::metadata(&input).unwrap().len() as f64 / (1 << 20) as f64;
    let info = sealscribe_asr::probe(&input).unwrap();
    let ranges: Vec<(u64, u64)> = (0..60).map(|i| (i * 30_000, i * 30_000 + 10_000)).collect();

    let out = dir.path().join("redacted.wav");
    let t = Instant::now();
    sealscribe_asr::redact_audio(&input, &info, &ranges, 170, 0.25, &out).unwrap();
    let ours = t.elapsed().as_secs_f64();

    let copy = dir.path().join("copy.wav");
    let t = Instant::now();
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&input)
        .args(["-map", "0:a:0", "-c:a", "pcm_s16le"])
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success());
    let ffmpeg = t.elapsed().as_secs_f64();

    println!(
        "redact 30 min stereo 44.1 kHz ({size:.0} MiB, 60 ranges): {ours:.2} s ({:.0} MiB/s, {:.0}× real time); \
         ffmpeg decode-to-WAV alone {ffmpeg:.2} s; ratio {:.2}; peak RSS {:.1} MiB",
        size / ours,
        1800.0 / ours,
        ours / ffmpeg,
        own_peak_mib()
    );
}
