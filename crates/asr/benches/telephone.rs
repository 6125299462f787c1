//! Telephone-audio benchmark: `cargo bench -p sealscribe-asr --bench telephone`.
//!
//! Word error rate of the default pipeline (`AsrConfig::from_env`: the model, threads and
//! windowing a user gets; `SEALSCRIBE_ASR_MODEL=tiny.en` or `base` to compare) on every
//! sentence of the test set spoken by espeak-ng, at full band and through the telephone channel
//! of the tests (300–3400 Hz, 8 kHz, μ-law), plus the same sentences as 8 kHz A-law and GSM
//! 06.10. Prints one line per condition and the worst sentences; figures go to
//! docs/benchmarks.md ("Telephone audio"). Not a test: no bound is asserted here.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::time::Instant;

use common::*;
use sealscribe_asr::{AsrConfig, RecognitionOptions, SpeechEngine, WhisperEngine, probe};

/// Recognised text and seconds of processing.
fn run(engine: &WhisperEngine, path: &Path) -> (String, f64) {
    let t = Instant::now();
    let info = probe(path).expect("probe");
    let text = engine
        .transcribe(path, &info, &RecognitionOptions::default())
        .expect("recognition")
        .text();
    (text, t.elapsed().as_secs_f64())
}

fn main() {
    require_tools();
    let cfg = AsrConfig::from_env().expect("SEALSCRIBE_ASR_* environment is valid");
    let engine = WhisperEngine::load(&cfg).expect("the model is installed");
    let dir = tempfile::tempdir().unwrap();
    let conditions: [(&str, Option<&[&str]>); 4] = [
        ("as recorded", None),
        (
            "telephone channel (300–3400 Hz, 8 kHz μ-law)",
            Some(TELEPHONE_CHANNEL),
        ),
        ("8 kHz A-law", Some(&["-ar", "8000", "-c:a", "pcm_alaw"])),
        (
            "telephone channel + GSM 06.10",
            Some(&[
                "-af",
                "highpass=f=300,highpass=f=300,lowpass=f=3400,lowpass=f=3400",
                "-ar",
                "8000",
                "-c:a",
                "libgsm_ms",
            ]),
        ),
    ];
    println!(
        "model {}, {} threads, {} sentences",
        cfg.model,
        engine.threads_per_job(),
        SENTENCES.len()
    );
    let synthetic: Vec<(std::path::PathBuf, String)> = SENTENCES
        .iter()
        .enumerate()
        .map(|(i, s)| (speak(dir.path(), &format!("s{i}"), s), (*s).to_string()))
        .collect();
    let mut sets = vec![("espeak-ng sentences", synthetic)];
    let librivox = human_set("librivox", "transcription");
    let cards = human_set("cards", "cards.transcription");
    if librivox.is_empty() {
        println!("(real speech: install pocketsphinx-testdata for the LibriVox and CMU sets)");
    } else {
        sets.push((
            "real read speech (LibriVox, pocketsphinx-testdata)",
            librivox,
        ));
        sets.push((
            "real short prompts (CMU cards, pocketsphinx-testdata)",
            cards,
        ));
    }
    // `cargo bench … -- set=WORD cond=WORD`: only the sets / conditions whose names contain
    // WORD (each filter optional).
    let arg = |key: &str| {
        std::env::args()
            .skip(1)
            .find_map(|a| a.strip_prefix(key).map(str::to_owned))
    };
    let (set_filter, cond_filter) = (arg("set="), arg("cond="));
    let wanted = |f: &Option<String>, name: &str| f.as_ref().is_none_or(|w| name.contains(w));
    for (set, clips) in sets.iter().filter(|(set, _)| wanted(&set_filter, set)) {
        println!("{set}:");
        for (name, args) in conditions {
            if wanted(&cond_filter, name) {
                measure(&engine, dir.path(), clips, name, args);
            }
        }
    }
}

/// Recognises every clip of a set under one condition and prints the WER.
fn measure(
    engine: &WhisperEngine,
    dir: &Path,
    clips: &[(std::path::PathBuf, String)],
    name: &str,
    args: Option<&[&str]>,
) {
    let (mut errors, mut words, mut secs) = (0usize, 0usize, 0.0);
    let mut worst = Vec::new();
    for (i, (wav, reference)) in clips.iter().enumerate() {
        let path = match args {
            None => wav.clone(),
            Some(a) => {
                let out = dir.join(format!("c{i}.wav"));
                let mut all = vec!["-i", wav.to_str().unwrap()];
                all.extend_from_slice(a);
                all.push(out.to_str().unwrap());
                ffmpeg(&all);
                out
            }
        };
        let (heard, s) = run(engine, &path);
        let r = normalise(reference);
        let e = edits(&r, &normalise(&heard));
        errors += e;
        words += r.len();
        secs += s;
        if e > 0 {
            worst.push((e, heard));
        }
    }
    println!(
        "  {name}: WER {:.1} % ({errors}/{words} words), {:.1} s",
        100.0 * errors as f64 / words.max(1) as f64,
        secs
    );
    worst.sort_by_key(|w| std::cmp::Reverse(w.0));
    for (e, heard) in worst.iter().take(2) {
        println!("      {e} errors: {heard}");
    }
}
