//! Custom vocabulary with the default model: a made-up product name that whisper cannot know
//! is recognised wrong without the vocabulary and as written with it (the terms become the
//! window's prompt), and a long vocabulary is cut to the prompt budget keeping its head.

use sealscribe_asr::engine::PROMPT_TOKENS;
use sealscribe_asr::{RecognitionOptions, SpeechEngine, probe};

use super::common::*;
use super::{engine, serial, tmp};

/// Espeak-ng says it `drax-you-lon`; `base` writes "tracks you're in" without help.
const NAME: &str = "Draxulon";
const SENTENCE: &str = "Please order more Draxulon for the lab.";

#[test]
fn a_vocabulary_term_is_recognised_as_written() {
    let engine = engine();
    let _g = serial();
    let dir = tmp();
    let wav = speak(dir.path(), "product", SENTENCE);
    let info = probe(&wav).expect("probe");
    let plain = engine
        .transcribe(&wav, &info, &RecognitionOptions::default())
        .expect("recognised");
    assert!(
        !plain.words.iter().any(|w| w.w.eq_ignore_ascii_case(NAME)),
        "without a vocabulary the model must not know {NAME} (else this test shows nothing): {:?}",
        plain.text()
    );
    let opts = RecognitionOptions {
        vocabulary: vec!["CapEx".into(), NAME.into()],
        ..RecognitionOptions::default()
    };
    let biased = engine.transcribe(&wav, &info, &opts).expect("recognised");
    assert!(
        biased.words.iter().any(|w| w.w == NAME),
        "with {NAME} in the vocabulary it is recognised as written: {:?}",
        biased.text()
    );
    // The rest of the sentence is not disturbed by the prompt.
    let heard = normalise(&biased.text());
    for w in ["please", "order", "more", "lab"] {
        assert!(heard.iter().any(|h| h == w), "{w} missing: {heard:?}");
    }
}

#[test]
fn a_long_vocabulary_keeps_its_head_within_the_prompt_budget() {
    let engine = engine();
    let head = engine.vocabulary_prompt(&[NAME.to_owned()]);
    assert!(!head.is_empty() && head.len() < 10, "{head:?}");
    let mut many = vec![NAME.to_owned()];
    many.extend((0..1000).map(|i| format!("Term number {i} of the glossary")));
    let prompt = engine.vocabulary_prompt(&many);
    assert!(prompt.len() <= PROMPT_TOKENS, "{} tokens", prompt.len());
    assert!(
        prompt.len() > PROMPT_TOKENS / 2,
        "the budget is used: {}",
        prompt.len()
    );
    // `" Draxulon."` without its closing period begins the long prompt.
    assert_eq!(&prompt[..head.len() - 1], &head[..head.len() - 1]);
    assert!(engine.vocabulary_prompt(&[]).is_empty());
    assert!(engine.vocabulary_prompt(&["  ".to_owned()]).is_empty());
}
