//! Hallucination tests: speech that sends whisper into loops (digit strings, lists, short
//! telephone prompts) and sounds that make it invent words (silence, noise, music), with the
//! default model. Each clip is a few seconds long.

use sealscribe_asr::{Safeguards, Transcript, WhisperEngine, transcribe_file};
use sealscribe_testkit::assert_no_repeated_ngrams;

use super::common::*;
use super::{config, engine, serial, tmp};

/// Recognised words, normalised.
fn heard(t: &Transcript) -> Vec<String> {
    normalise(&t.text())
}

/// The digits of one word, whether whisper wrote a figure or a number word.
fn digits_of(w: &str) -> String {
    let d = match w {
        "zero" | "oh" | "o" => "0",
        "one" => "1",
        "two" => "2",
        "three" => "3",
        "four" => "4",
        "five" => "5",
        "six" => "6",
        "seven" => "7",
        "eight" => "8",
        "nine" => "9",
        w => return w.chars().filter(char::is_ascii_digit).collect(),
    };
    d.to_string()
}

/// Digits in the order recognised.
fn digits(t: &Transcript) -> String {
    heard(t).iter().map(|w| digits_of(w)).collect()
}

/// One string per character, for an edit distance between digit strings.
fn chars(s: &str) -> Vec<String> {
    s.chars().map(String::from).collect()
}

/// Digit strings read in the ways people read them: no loop, the digits recognised (at most
/// three digits off: redaction must cope with that, not with a loop), and no word that was
/// not said.
#[test]
fn spoken_digit_strings_do_not_loop() {
    let engine = engine();
    let _g = serial();
    let dir = tmp();
    // (what espeak-ng says, the digits in it, the other words allowed in the transcript)
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "My card number is four one one one, one one one one, one one one one, one one one one.",
            "4111111111111111",
            &["my", "card", "number", "is"],
        ),
        (
            "The code is oh four oh, double five, seven.",
            "0400557",
            &["the", "code", "is", "double"],
        ),
        (
            "Call me on five five five, um, two three, um, four five six seven.",
            "555234567",
            &["call", "me", "on", "um"],
        ),
        (
            // Digit by digit, no pauses (a card number never repeats a digit eight times in a
            // row, so the loop check below stays meaningful).
            "Four five three two zero one five one one two eight three zero three six six.",
            "4532015112830366",
            &[],
        ),
    ];
    for (i, (said, want, words)) in cases.iter().enumerate() {
        let wav = speak(dir.path(), &format!("d{i}"), said);
        let t = transcribe_file(engine, &wav).expect("transcribes");
        let text = t.text();
        eprintln!("{said}\n  -> {text:?} (digits {})", digits(&t));
        assert_no_repeated_ngrams(&text);
        let got = digits(&t);
        let off = edits(&chars(want), &chars(&got));
        // A few digits off (a "1" heard once too often) is for redaction to absorb; a loop or
        // digits turned into words is not.
        assert!(off <= 3, "digits {got} for {want} ({off} off): {text:?}");
        for w in heard(&t) {
            let number = w.chars().any(|c| c.is_ascii_digit()) || !digits_of(&w).is_empty();
            assert!(
                number || words.contains(&w.as_str()) || ["um", "uh"].contains(&w.as_str()),
                "{w:?} was not said: {text:?}"
            );
        }
    }
}

/// A long spoken list, where whisper tends to lose its place and start over: no loop and at
/// most a few words wrong.
#[test]
fn a_long_list_does_not_loop() {
    let engine = engine();
    let _g = serial();
    let dir = tmp();
    let said = "We need apples, pears, plums, grapes, lemons, limes, cherries, peaches, melons, \
                figs, dates, onions, carrots, leeks, beans and peas.";
    let wav = speak(dir.path(), "list", said);
    let t = transcribe_file(engine, &wav).expect("transcribes");
    let text = t.text();
    let w = wer(said, &text);
    eprintln!("{:.0}% {text:?}", w * 100.0);
    assert_no_repeated_ngrams(&text);
    // espeak-ng's list is hard to hear ("fairs", "rapes", "bees"): bound the errors loosely,
    // and the length tightly (a loop or a restart adds words).
    assert!(w <= 0.4, "WER {:.0}%: {text:?}", w * 100.0);
    assert!(
        heard(&t).len() <= normalise(said).len() + 2,
        "words added: {text:?}"
    );
}

/// Music (chords and a melody made by ffmpeg) and white noise: whisper's favourite material for
/// invented words ("Thank you.", "♪"). At most one word may come out of each.
#[test]
fn music_and_noise_give_no_words() {
    let engine = engine();
    let _g = serial();
    let dir = tmp();
    let chord = |f: [f64; 3]| {
        format!(
            "0.15*sin(2*PI*{}*t)+0.15*sin(2*PI*{}*t)+0.15*sin(2*PI*{}*t)",
            f[0], f[1], f[2]
        )
    };
    let sources = [
        (
            "chords",
            format!(
                "aevalsrc='if(lt(mod(t,4),2),{},{})':d=8:s=16000",
                chord([261.63, 329.63, 392.0]),
                chord([220.0, 277.18, 329.63])
            ),
        ),
        (
            "melody",
            "aevalsrc='0.3*sin(2*PI*(440+110*floor(mod(t*3,5)))*t)*(0.6+0.4*sin(2*PI*2*t))':d=8:s=16000"
                .to_string(),
        ),
        (
            "white",
            "anoisesrc=color=white:duration=8:amplitude=0.2:seed=11".to_string(),
        ),
    ];
    for (name, src) in sources {
        let path = dir.path().join(format!("{name}.wav"));
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            &src,
            "-ac",
            "1",
            "-ar",
            "16000",
            path.to_str().unwrap(),
        ]);
        let t = transcribe_file(engine, &path).expect("transcribes");
        let text = t.text();
        eprintln!("{name}: {text:?}");
        assert_no_repeated_ngrams(&text);
        assert!(heard(&t).len() <= 1, "{name} produced words: {text:?}");
    }
}

/// Short telephone prompts (1–4 s of speech, 8 kHz, as IVR recordings are): whisper repeated
/// such a prompt twenty times on the old default. Each must come back once.
#[test]
fn short_telephone_prompts_come_back_once() {
    let engine = engine();
    let _g = serial();
    let dir = tmp();
    let prompts = [
        "Change to which folder?",
        "Goodbye.",
        "Please hold.",
        "Press one for sales, two for support.",
        "Please enter your account number followed by the hash key.",
        "Your call is important to us.",
    ];
    for (i, said) in prompts.iter().enumerate() {
        let wav = speak(dir.path(), &format!("p{i}"), said);
        let narrow = dir.path().join(format!("p{i}-8k.wav"));
        ffmpeg(&[
            "-i",
            wav.to_str().unwrap(),
            "-ar",
            "8000",
            "-ac",
            "1",
            narrow.to_str().unwrap(),
        ]);
        let t = transcribe_file(engine, &narrow).expect("transcribes");
        let text = t.text();
        eprintln!("{said} -> {text:?} ({:.0}%)", wer(said, &text) * 100.0);
        assert_no_repeated_ngrams(&text);
        // Accuracy at 8 kHz is for the telephone tests; here: said once, not again and again.
        assert!(
            heard(&t).len() <= normalise(said).len() + 2,
            "{said:?} came back as {text:?}"
        );
    }
}

/// Fallback decoding samples at temperatures above 0, yet gives the same words every time,
/// whatever the engine decoded before. Safeguards that reject every decode force every window
/// through all temperatures.
#[test]
fn fallback_decoding_is_deterministic() {
    require_tools();
    let _g = serial();
    let cfg = config();
    // Two temperatures (0.5, 1.0) and two candidates each keep the test short.
    let forced = Safeguards {
        compression_ratio: 0.0,
        temperature_step: 0.5,
        best_of: 2,
        ..Safeguards::default()
    };
    let engine = WhisperEngine::load(&cfg)
        .expect("model loads")
        .with_safeguards(forced);
    let dir = tmp();
    let a = speak(
        dir.path(),
        "a",
        "Please hold, your call is important to us.",
    );
    let b = speak(dir.path(), "b", "Press one for sales, two for support.");
    let first = transcribe_file(&engine, &a).expect("transcribes");
    assert_eq!(engine.fallback_windows(), 1, "the window was decoded again");
    let other = transcribe_file(&engine, &b).expect("transcribes");
    let again = transcribe_file(&engine, &a).expect("transcribes");
    eprintln!(
        "{:?} / {:?} / {:?}",
        first.text(),
        other.text(),
        again.text()
    );
    assert_eq!(engine.fallback_windows(), 3);
    assert!(!first.is_empty());
    assert_eq!(first, again, "same audio, same words and times");
}
