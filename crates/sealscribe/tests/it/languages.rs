//! Spanish end to end: media uploaded with `{"speechModel":{"language":"es-ES"}}` is recognised
//! as Spanish by the default (multilingual) model, through the real server.

use std::process::Command;

use crate::common::{Env, words};

/// One short sentence (recognition is the slow part of the suite). With `base`, espeak-ng's
/// Spanish voice at 140 words a minute gives this one back word for word
/// (`crates/asr/tests/languages.rs` measures three).
const FRASE: &str = "Buenos días, gracias por llamar a nuestra empresa.";

/// An upload in Spanish comes back with its Spanish words, not an English translation.
#[tokio::test]
async fn spanish_speech_is_transcribed_in_spanish() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start();
    let path = env.data_dir().with_file_name("frase.wav");
    let ok = Command::new("espeak-ng")
        .args(["-v", "es", "-s", "140", "-w"])
        .arg(&path)
        .arg(FRASE)
        .status()
        .expect("espeak-ng is installed (scripts/setup.sh --test)")
        .success();
    assert!(ok, "espeak-ng failed");
    let audio = std::fs::read(&path).unwrap();
    let id = server
        .upload_ok(
            &token,
            audio,
            Some(r#"{"speechModel":{"language":"es-ES"}}"#),
            None,
        )
        .await;
    let doc = server.wait(&token, &id).await;
    assert_eq!(doc["status"], "finished", "{doc}");
    let got = words(&doc["transcript"]);
    // Words espeak's Spanish voice carries reliably; an English decode would translate them
    // ("good morning, thank you for calling").
    let expected = ["buenos", "gracias", "llamar", "nuestra", "empresa"];
    let heard = expected
        .iter()
        .filter(|w| got.contains(&w.to_string()))
        .count();
    assert!(
        heard >= 4,
        "Spanish words missing: {got:?} (expected most of {expected:?})"
    );
    assert!(
        !got.iter().any(|w| w == "thank" || w == "morning"),
        "translated into English: {got:?}"
    );
}

/// `sealscribe transcribe --language` takes the API's tags and refuses others with the API's
/// words, before any model is loaded (usage error, exit code 2).
#[test]
fn transcribe_refuses_an_unsupported_language() {
    let env = Env::new();
    let out = env.cli(&["transcribe", "call.wav", "--language", "fr-FR"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("language `fr-FR` is not supported") && err.contains("es-ES"),
        "{err}"
    );
}
