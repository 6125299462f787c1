//! Languages other than English: Spanish speech (espeak-ng `-v es`) recognised by the
//! multilingual `base` model when [`RecognitionOptions::language`] says `es`, and refused
//! clearly by the English-only `tiny.en`.
//!
//! Recognition tests hold [`SERIAL`] (two cores; ggml threads spin-wait).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

use common::*;
use sealscribe_asr::{
    AsrConfig, AsrError, ModelName, RecognitionOptions, SpeechEngine, WhisperEngine, probe,
};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `model` from the configured model directory.
fn load(model: ModelName) -> WhisperEngine {
    require_tools();
    let cfg = AsrConfig {
        model,
        ..AsrConfig::from_env().expect("SEALSCRIBE_ASR_* environment is valid")
    };
    WhisperEngine::load(&cfg).unwrap_or_else(|e| {
        panic!("the speech model must be installed: {e}\n(run scripts/fetch-model.sh {model})")
    })
}

/// Everyday Spanish, no numbers. espeak-ng's Spanish voice is far from natural and `base` is
/// a small model: a long sentence ("Nuestro equipo de atención al cliente le llamará mañana por
/// la mañana.") came back 92 % wrong, so the set is short sentences.
const FRASES: &[&str] = &[
    "Buenos días, gracias por llamar a nuestra empresa.",
    "Necesitamos comprar pan, leche y huevos en el mercado.",
    "Por favor, envíe el informe a la oficina antes del viernes.",
];

/// `text` spoken by espeak-ng's Spanish voice into `dir/name.wav`.
fn habla(dir: &Path, name: &str, text: &str) -> PathBuf {
    let out = dir.join(format!("{name}.wav"));
    let status = Command::new("espeak-ng")
        .args(["-v", "es", "-s", "140", "-w"])
        .arg(&out)
        .arg(text)
        .status()
        .expect("espeak-ng runs");
    assert!(status.success(), "espeak-ng failed for {text:?}");
    out
}

fn recognise(engine: &WhisperEngine, path: &Path, language: &str) -> Result<String, AsrError> {
    let info = probe(path).unwrap();
    let opts = RecognitionOptions {
        language: language.into(),
        ..RecognitionOptions::default()
    };
    let text = engine.transcribe(path, &info, &opts)?.text();
    sealscribe_testkit::text::assert_no_repeated_ngrams(&text);
    Ok(text)
}

/// Spanish with `base` and `es`: within the bound. Measured: 0 %, 22 % and 36 % on these
/// sentences, 21 % over all (espeak-ng at 140 words/min); the bound is 40 % over all. Told the
/// same audio is English, whisper translates it ("We need to buy bread, and there is egg in
/// the market.", 100 % wrong), so the language really reaches the decoder.
#[test]
fn spanish_is_recognised_by_the_multilingual_model() {
    let dir = tempfile::tempdir().unwrap();
    let engine = load(ModelName::Base);
    let _serial = serial();
    let (mut errors, mut words) = (0.0, 0.0);
    for (i, frase) in FRASES.iter().enumerate() {
        let wav = habla(dir.path(), &format!("f{i}"), frase);
        let heard = recognise(&engine, &wav, "es").unwrap();
        let w = wer(frase, &heard);
        eprintln!("es {i}: WER {:.1} % — {heard}", 100.0 * w);
        let n = normalise(frase).len() as f64;
        errors += w * n;
        words += n;
        if i == 1 {
            let english = recognise(&engine, &wav, "en").unwrap();
            let e = wer(frase, &english);
            eprintln!("   told English: WER {:.1} % — {english}", 100.0 * e);
            assert!(e > w + 0.3, "the language changes the result: {english}");
        }
    }
    let overall = errors / words;
    eprintln!("Spanish WER {:.1} %", 100.0 * overall);
    assert!(overall <= 0.40, "overall WER {:.1} %", 100.0 * overall);
}

/// The English-only model refuses Spanish with an error that says what to do, before any
/// decoding; English still works.
#[test]
fn an_english_only_model_refuses_spanish() {
    let dir = tempfile::tempdir().unwrap();
    let engine = load(ModelName::TinyEn);
    assert!(engine.recognises("en") && !engine.recognises("es"));
    let wav = habla(dir.path(), "f", FRASES[0]);
    let _serial = serial();
    let e = recognise(&engine, &wav, "es").unwrap_err();
    assert!(matches!(e, AsrError::LanguageNotSupported { .. }), "{e:?}");
    assert!(!e.is_bad_media());
    let msg = e.to_string();
    assert!(
        msg.contains("English only") && msg.contains("--asr-model base") && msg.contains("`es`"),
        "{msg}"
    );
    let english = speak(dir.path(), "e", SENTENCES[0]);
    assert!(recognise(&engine, &english, "en").is_ok());
}
