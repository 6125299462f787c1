//! End-to-end recognition tests on real components: espeak-ng speech, ffmpeg decoding, the
//! packaged model converted by our converter, whisper.cpp.
//!
//! Every test that runs recognition holds [`SERIAL`]: the machine has two cores and ggml's
//! threads spin-wait, so two recognitions at once would each crawl. They all live in this one
//! test binary so that the lock covers them and the model is loaded once ([`engine`]).
//!
//! Prerequisites (the tests fail, with these instructions, when missing):
//! `scripts/setup.sh --test` (Debian packages and the tiny.en model), or at least
//! `scripts/fetch-model.sh tiny.en` with ffmpeg and espeak-ng installed.

mod common;
#[path = "recognition/loops.rs"]
mod loops;
#[path = "recognition/vocabulary.rs"]
mod vocabulary;

use std::sync::{Mutex, MutexGuard, OnceLock};

use common::*;
use sealscribe_asr::{AsrConfig, AsrError, Transcript, WhisperEngine, transcribe_file};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn config() -> AsrConfig {
    AsrConfig::from_env().expect("SEALSCRIBE_ASR_* environment is valid")
}

/// The shared engine, loaded once for the whole binary.
fn engine() -> &'static WhisperEngine {
    static ENGINE: OnceLock<WhisperEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        require_tools();
        let cfg = config();
        WhisperEngine::load(&cfg).unwrap_or_else(|e| {
            panic!("the speech model must be installed for these tests: {e}\n(run scripts/fetch-model.sh {})", cfg.model)
        })
    })
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Time order, sane bounds and confidences of a transcript of `duration_ms` of audio.
fn assert_plausible(t: &Transcript, duration_ms: u64) {
    for pair in t.words.windows(2) {
        assert!(
            pair[0].s <= pair[1].s,
            "start times go backwards: {:?} then {:?}",
            pair[0],
            pair[1]
        );
        assert!(pair[0].p + 1 == pair[1].p, "positions are not consecutive");
    }
    for w in &t.words {
        assert!(w.s <= w.e, "word ends before it starts: {w:?}");
        assert!(
            w.e <= duration_ms + 300,
            "word after the end of the audio ({duration_ms} ms): {w:?}"
        );
        assert!((0.0..=1.0).contains(&w.c), "confidence out of range: {w:?}");
        assert!(!w.w.trim().is_empty(), "empty word: {w:?}");
        if !w.is_punctuation() {
            assert!(w.e - w.s <= 3_000, "a single word lasting over 3 s: {w:?}");
        }
    }
    assert!((0.0..=1.0).contains(&t.confidence));
}

/// Accuracy on twelve synthesised sentences: corpus WER ≤ 15 %, words in order with plausible
/// timestamps (first word near the start of speech, last word near its end).
#[test]
fn sentences_are_recognised_accurately() {
    let engine = engine();
    let _g = serial();
    let dir = tmp();
    let (mut errors, mut words) = (0, 0);
    for (i, sentence) in SENTENCES.iter().enumerate() {
        let wav = speak(dir.path(), &format!("s{i}"), sentence);
        let pcm = sealscribe_asr::decode_to_pcm16k(&wav).expect("decode");
        let duration_ms = pcm.len() as u64 / 16;
        let onset_ms = pcm.iter().position(|x| x.abs() > 0.02).unwrap_or(0) as u64 / 16;
        let t = engine
            .recognise(&pcm, &Default::default())
            .expect("recognise");
        let text = t.text();
        sealscribe_testkit::assert_no_repeated_ngrams(&text);
        let reference = normalise(sentence);
        let e = edits(&reference, &normalise(&text));
        eprintln!(
            "[{i}] {:>5.1}% {text}",
            100.0 * e as f64 / reference.len() as f64
        );
        errors += e;
        words += reference.len();
        assert_plausible(&t, duration_ms);
        let first = t
            .words
            .iter()
            .find(|w| !w.is_punctuation())
            .expect("some words");
        let last = t
            .words
            .iter()
            .rev()
            .find(|w| !w.is_punctuation())
            .expect("some words");
        assert!(
            first.s.abs_diff(onset_ms) <= 600,
            "first word at {} ms, speech starts at {onset_ms} ms",
            first.s
        );
        assert!(
            last.e + 1_000 >= duration_ms.saturating_sub(300) && last.e > duration_ms / 2,
            "last word ends at {} ms of {duration_ms}",
            last.e
        );
        assert!(
            t.words.iter().any(|w| w.is_punctuation()),
            "whisper punctuates; expected m=punc entries in {text:?}"
        );
    }
    let wer = errors as f64 / words as f64;
    eprintln!(
        "corpus WER over {} sentences: {:.1}% ({errors}/{words})",
        SENTENCES.len(),
        wer * 100.0
    );
    assert!(wer <= 0.15, "WER {:.1}% exceeds 15%", wer * 100.0);
}

/// A three-minute file of concatenated sentences: several windows, and every sentence —
/// including those at the cuts — is found at its true position, with no words lost or doubled.
#[test]
fn three_minutes_with_correct_offsets_at_the_seams() {
    let engine = engine();
    let _g = serial();
    let dir = tmp();
    let long = long_speech(dir.path(), 180);
    let duration_ms = long.pcm.len() as u64 / 16;
    // The seams of the planner the pipeline really uses (VAD on by default): where one window
    // ends and the next begins, in media time.
    let windows = engine.plan(&long.pcm).expect("planning");
    assert!(
        windows.len() >= 6,
        "3 minutes should need at least 6 windows, got {}",
        windows.len()
    );
    let seams: Vec<u64> = windows.iter().skip(1).map(|w| w.map.start_ms()).collect();

    let started = std::time::Instant::now();
    let t = transcribe_file(engine, &long.path).expect("transcribe");
    eprintln!(
        "{} s of audio in {:.1} s; seams at {seams:?} ms",
        duration_ms / 1000,
        started.elapsed().as_secs_f64()
    );
    assert_plausible(&t, duration_ms);
    sealscribe_testkit::assert_no_repeated_ngrams(&t.text());

    // Align the recognised words with the script; every sentence must be found at its true
    // position. Whisper's own word timing is approximate (most sentence starts land within
    // 60 ms, a few are up to ~450 ms late); a wrong window offset would be off by seconds.
    // One entry per normalised token (a numeral read digit by digit gives several), each with
    // the recognised word it came from.
    let hyp_words: Vec<&sealscribe_asr::Word> = t
        .words
        .iter()
        .filter(|w| !w.is_punctuation())
        .flat_map(|w| std::iter::repeat_n(w, normalise(&w.w).len()))
        .collect();
    let hyp: Vec<String> = t
        .words
        .iter()
        .filter(|w| !w.is_punctuation())
        .flat_map(|w| normalise(&w.w))
        .collect();
    assert_eq!(hyp.len(), hyp_words.len());
    let mut reference = Vec::new();
    let mut owner = Vec::new(); // reference word → clip index
    for (k, clip) in long.clips.iter().enumerate() {
        for w in normalise(clip.text) {
            reference.push(w);
            owner.push(k);
        }
    }
    let (matched, inserted) = align(&reference, &hyp);
    let errors = edits(&reference, &hyp);
    for (k, clip) in long.clips.iter().enumerate() {
        let idx: Vec<usize> = (0..reference.len()).filter(|&i| owner[i] == k).collect();
        let found: Vec<usize> = idx.iter().filter_map(|&i| matched[i]).collect();
        let near_seam = seams
            .iter()
            .any(|&s| s + 2_000 >= clip.start_ms && s <= clip.end_ms + 2_000);
        let heard: Vec<&str> = found.iter().map(|&j| hyp_words[j].w.as_str()).collect();
        eprintln!(
            "{:>7} ms{} {:>2}/{} matched  first at {:?} (onset {})  {}",
            clip.start_ms,
            if near_seam { " seam" } else { "     " },
            found.len(),
            idx.len(),
            matched[idx[0]].map(|j| hyp_words[j].s),
            clip.onset_ms,
            heard.join(" ")
        );
        assert!(
            found.len() * 10 >= idx.len() * 7,
            "sentence at {} ms{}: only {} of {} words recognised: {heard:?}",
            clip.start_ms,
            if near_seam { " (at a window seam)" } else { "" },
            found.len(),
            idx.len()
        );
        if let Some(j) = matched[idx[0]] {
            let s = hyp_words[j].s;
            assert!(
                s.abs_diff(clip.onset_ms) <= 600,
                "sentence {:?} starts at {} ms, its first word was placed at {s} ms",
                clip.text,
                clip.onset_ms
            );
        }
        for &j in &found {
            let w = hyp_words[j];
            assert!(
                w.s + 500 >= clip.start_ms && w.e <= clip.end_ms + 500,
                "{w:?} lies outside its sentence {} – {} ms",
                clip.start_ms,
                clip.end_ms
            );
        }
    }
    // Nothing doubled at the cuts: no inserted word within a second of a seam.
    for &s in &seams {
        let near: Vec<&str> = inserted
            .iter()
            .map(|&j| hyp_words[j])
            .filter(|w| w.s.abs_diff(s) <= 1_000 || w.e.abs_diff(s) <= 1_000)
            .map(|w| w.w.as_str())
            .collect();
        assert!(
            near.is_empty(),
            "words inserted at the seam at {s} ms: {near:?}"
        );
    }
    let wer = errors as f64 / reference.len() as f64;
    eprintln!(
        "3-minute WER: {:.1}% ({errors}/{}), {} insertions",
        wer * 100.0,
        reference.len(),
        inserted.len()
    );
    assert!(
        wer <= 0.15,
        "WER {:.1}% on the long file exceeds 15%",
        wer * 100.0
    );
}

/// Silence and noise give an empty transcript, not invented words.
#[test]
fn silence_and_noise_give_empty_transcripts() {
    let engine = engine();
    let _g = serial();
    let dir = tmp();
    let silence = dir.path().join("silence.wav");
    write_wav(&silence, &vec![0.0; 16_000 * 20]);
    let t = transcribe_file(engine, &silence).expect("silence transcribes");
    assert!(t.is_empty(), "silence produced words: {:?}", t.text());
    assert_eq!(t.confidence, 0.0);

    for (name, kind, vol) in [
        ("white", "whitenoise", "0.1"),
        ("pink", "pinknoise", "0.3"),
        ("brown", "brownnoise", "0.5"),
        ("hum", "sine 50", "0.3"),
    ] {
        let path = dir.path().join(format!("{name}.wav"));
        let mut args: Vec<&str> = vec!["-f", "lavfi", "-i"];
        let src = match kind {
            "sine 50" => "sine=frequency=50:duration=12".to_string(),
            k => format!(
                "anoisesrc=color={}:duration=12:amplitude={vol}:seed=7",
                k.trim_end_matches("noise")
            ),
        };
        args.push(&src);
        let p = path.to_str().unwrap().to_string();
        args.extend(["-ac", "1", "-ar", "16000", &p]);
        ffmpeg(&args);
        let t = transcribe_file(engine, &path).expect("noise transcribes");
        assert!(t.is_empty(), "{name} noise produced words: {:?}", t.text());
    }
}

/// The same speech in compressed formats: Opus (the one pure-Rust decoders lack) and an MP4
/// video with AAC audio both transcribe.
#[test]
fn compressed_and_video_containers_transcribe() {
    let engine = engine();
    let _g = serial();
    let dir = tmp();
    let wav = speak(dir.path(), "s", SENTENCES[0]);
    let opus = dir.path().join("s.opus");
    ffmpeg(&[
        "-i",
        wav.to_str().unwrap(),
        "-c:a",
        "libopus",
        "-b:a",
        "32k",
        opus.to_str().unwrap(),
    ]);
    let mp4 = dir.path().join("s.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=160x120:rate=10:duration=5",
        "-i",
        wav.to_str().unwrap(),
        "-shortest",
        "-c:v",
        "mpeg4",
        "-c:a",
        "aac",
        mp4.to_str().unwrap(),
    ]);
    for f in [&opus, &mp4] {
        let (info, t) = sealscribe_asr::transcribe_file_with_info(engine, f, &Default::default())
            .expect("transcribes");
        sealscribe_testkit::assert_no_repeated_ngrams(&t.text());
        let w = wer(SENTENCES[0], &t.text());
        eprintln!(
            "{} ({}): {:.0}% {}",
            f.display(),
            info.codec,
            w * 100.0,
            t.text()
        );
        assert!(
            w <= 0.2,
            "{}: WER {:.0}%: {}",
            f.display(),
            w * 100.0,
            t.text()
        );
    }
}

/// Bad media fails fast with a clear error flagged as bad media (v3 10201).
#[test]
fn bad_media_is_a_clear_error() {
    let engine = engine();
    let dir = tmp();
    let junk = dir.path().join("junk.mp3");
    std::fs::write(
        &junk,
        b"this is not audio at all, just some text pretending to be an mp3",
    )
    .unwrap();
    let video = dir.path().join("silent.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=160x120:rate=10:duration=2",
        "-an",
        "-c:v",
        "mpeg4",
        video.to_str().unwrap(),
    ]);
    for (f, expect) in [(&junk, "cannot be read"), (&video, "no audio stream")] {
        let e = transcribe_file(engine, f).expect_err("bad media must fail");
        assert!(e.is_bad_media(), "{e:?} should be bad media");
        assert!(e.to_string().contains(expect), "unclear message: {e}");
    }
}

/// Our converter: the converted model loads in whisper.cpp and transcribes correctly.
#[test]
fn converted_model_loads_and_transcribes() {
    require_tools();
    let cfg = config();
    let ct2 = cfg.model_dir.join(cfg.model.as_str());
    assert!(
        ct2.join("model.bin").is_file(),
        "model package missing in {}: run scripts/fetch-model.sh {}",
        ct2.display(),
        cfg.model
    );
    let dir = tmp();
    let out = dir.path().join("converted.bin");
    let started = std::time::Instant::now();
    let summary =
        sealscribe_asr::convert::convert_ct2_to_ggml(&ct2, &out).expect("conversion succeeds");
    eprintln!(
        "converted in {:.2} s: {summary:?}",
        started.elapsed().as_secs_f64()
    );
    let (enc, dec) = summary.n_layers;
    assert_eq!(
        summary.tensors,
        5 + 15 * enc + 2 + 2 + 24 * dec + 2,
        "every whisper.cpp tensor is written once"
    );
    assert!(summary.f16);

    let _g = serial();
    let engine = WhisperEngine::load_ggml(&out, cfg.threads, 1).expect("converted model loads");
    let wav = speak(dir.path(), "s", SENTENCES[3]);
    let t = transcribe_file(&engine, &wav).expect("transcribes");
    let w = wer(SENTENCES[3], &t.text());
    assert!(
        w <= 0.2,
        "converted model transcribed {:?} (WER {:.0}%)",
        t.text(),
        w * 100.0
    );
}

/// A truncated or damaged model.bin is rejected by the converter and by start-up provisioning
/// with messages that say what is wrong and how to fix it; a damaged ggml cache is rebuilt.
#[test]
fn damaged_models_are_rejected_or_repaired() {
    let cfg = config();
    let src = cfg.model_dir.join(cfg.model.as_str());
    assert!(
        src.join("model.bin").is_file(),
        "model package missing in {}: run scripts/fetch-model.sh {}",
        src.display(),
        cfg.model
    );
    let full = std::fs::read(src.join("model.bin")).unwrap();
    let dir = tmp();

    for cut in [10 << 20, full.len() - 64] {
        let ct2 = dir.path().join(format!("cut{cut}"));
        std::fs::create_dir_all(&ct2).unwrap();
        std::fs::write(ct2.join("model.bin"), &full[..cut]).unwrap();
        std::fs::copy(src.join("vocabulary.txt"), ct2.join("vocabulary.txt")).unwrap();
        let e = sealscribe_asr::convert::convert_ct2_to_ggml(&ct2, &dir.path().join("out.bin"))
            .expect_err("truncated model must be rejected");
        let msg = e.to_string();
        assert!(
            matches!(e, AsrError::ModelInvalid { .. }) && msg.contains("truncated"),
            "unclear error: {msg}"
        );
        assert!(!e.is_bad_media());
    }

    // Provisioning: missing package, then a corrupt one.
    let mut c = cfg.clone();
    c.model_dir = dir.path().join("models");
    let e = WhisperEngine::load(&c).expect_err("missing model");
    assert!(
        matches!(e, AsrError::ModelMissing { .. }) && e.to_string().contains("fetch-model.sh"),
        "{e}"
    );
    let m = c.model_dir.join(c.model.as_str());
    std::fs::create_dir_all(&m).unwrap();
    std::fs::copy(src.join("vocabulary.txt"), m.join("vocabulary.txt")).unwrap();
    std::fs::write(m.join("model.bin"), &full[..full.len() / 2]).unwrap();
    let e = WhisperEngine::load(&c).expect_err("corrupt model");
    assert!(
        e.to_string().contains("SHA-256") && e.to_string().contains("fetch-model.sh"),
        "{e}"
    );

    // A good package converts; a damaged conversion is detected and redone.
    std::fs::write(m.join("model.bin"), &full).unwrap();
    let ggml = sealscribe_asr::model::ensure_ggml(&c).expect("converts");
    let good = std::fs::read(&ggml).unwrap();
    std::fs::write(&ggml, &good[..good.len() / 3]).unwrap();
    let again = sealscribe_asr::model::ensure_ggml(&c).expect("repairs");
    assert_eq!(
        std::fs::read(&again).unwrap(),
        good,
        "the cache was rebuilt identically"
    );
}

/// Concurrency is bounded and threads never exceed the cores.
#[test]
fn threads_never_exceed_cores() {
    let engine = engine();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    assert!(engine.threads_per_job() * engine.concurrency() <= cores);
}

/// The converted Silero model loads in whisper.cpp and tells speech from silence and music.
#[test]
fn silero_vad_converts_and_tells_speech_apart() {
    use sealscribe_asr::vad::{SileroVad, SpeechDetector, ensure_vad_ggml};
    require_tools();
    let cfg = config();
    let ggml = ensure_vad_ggml(&cfg.model_dir).unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp();
    let speech = sealscribe_asr::decode_to_pcm16k(speak(dir.path(), "s", SENTENCES[0])).unwrap();
    let music = hold_music(dir.path(), 10);
    let mut vad = SileroVad::load(&ggml, 1).expect("whisper.cpp loads the converted model");
    let share = |p: Vec<f32>| p.iter().filter(|&&x| x >= 0.5).count() as f64 / p.len() as f64;
    let s = share(vad.speech_probabilities(&speech).unwrap());
    let m = share(vad.speech_probabilities(&music).unwrap());
    let n = share(
        vad.speech_probabilities(&line_noise(10.0, 0x1234_5678))
            .unwrap(),
    );
    let z = share(vad.speech_probabilities(&vec![0.0; 16_000 * 5]).unwrap());
    eprintln!("speech frames: speech {s:.2}, music {m:.2}, noise {n:.2}, silence {z:.2}");
    assert!(s >= 0.5, "speech judged speech in only {s:.2} of frames");
    assert!(
        m <= 0.05 && n <= 0.05 && z == 0.0,
        "non-speech judged speech: music {m:.2}, noise {n:.2}, silence {z:.2}"
    );
}

/// A call-like clip — line noise, speech, hold music, speech, line noise — is recognised with
/// VAD: only the speech comes out, at its true media times, in two decoded windows (one per
/// sentence: the music between them is too long to join them).
#[test]
fn vad_recognises_only_the_speech() {
    let engine = engine();
    assert!(engine.vad_enabled(), "VAD is on by default");
    let _g = serial();
    let dir = tmp();
    let say = |i: usize| {
        sealscribe_asr::decode_to_pcm16k(speak(dir.path(), &format!("v{i}"), SENTENCES[i])).unwrap()
    };
    let (a, b) = (say(0), say(1));
    let onset = |p: &[f32]| p.iter().position(|x| x.abs() > 0.02).unwrap_or(0) as u64 / 16;
    let mut pcm = line_noise(40.0, 0x1234_5678);
    let a_at = pcm.len() as u64 / 16;
    pcm.extend(&a);
    let music_at = pcm.len() as u64 / 16;
    pcm.extend(hold_music(dir.path(), 30));
    let b_at = pcm.len() as u64 / 16;
    pcm.extend(&b);
    let b_end = pcm.len() as u64 / 16;
    pcm.extend(line_noise(20.0, 0x1234_5678));
    let path = dir.path().join("call.wav");
    write_wav(&path, &pcm);

    let before = engine.windows_decoded();
    let t = transcribe_file(engine, &path).expect("transcribes");
    let decoded = engine.windows_decoded() - before;
    eprintln!("{decoded} window(s): {}", t.text());
    for w in &t.words {
        eprintln!("  {:>6}–{:<6} {}", w.s, w.e, w.w);
    }
    eprintln!("speech at {a_at} and {b_at} ms, music at {music_at} ms");
    assert_plausible(&t, pcm.len() as u64 / 16);
    let reference = format!("{} {}", SENTENCES[0], SENTENCES[1]);
    let w = wer(&reference, &t.text());
    assert!(w <= 0.2, "WER {:.0}%: {:?}", w * 100.0, t.text());
    assert_eq!(
        decoded, 2,
        "one window per sentence; noise and music are not decoded"
    );
    let spoken: Vec<&sealscribe_asr::Word> =
        t.words.iter().filter(|w| !w.is_punctuation()).collect();
    let first = spoken.first().expect("words");
    assert!(
        first.s.abs_diff(a_at + onset(&a)) <= 600,
        "first word at {} ms, speech starts at {} ms",
        first.s,
        a_at + onset(&a)
    );
    for w in &spoken {
        let in_a = w.s + 500 >= a_at && w.e <= music_at + 500;
        let in_b = w.s + 500 >= b_at && w.e <= b_end + 500;
        assert!(
            in_a || in_b,
            "{w:?} lies outside the speech ({a_at}–{music_at}, {b_at}–{b_end} ms)"
        );
    }
    let second = normalise(SENTENCES[1])[0].clone();
    let w2 = spoken
        .iter()
        .find(|w| w.s >= music_at && normalise(&w.w).first() == Some(&second))
        .expect("second sentence recognised");
    assert!(
        w2.s.abs_diff(b_at + onset(&b)) <= 600,
        "second sentence placed at {} ms, spoken at {} ms",
        w2.s,
        b_at + onset(&b)
    );
}

/// Silence, line noise and music alone: an empty transcript, and whisper is never run.
#[test]
fn vad_non_speech_runs_no_decoder() {
    let engine = engine();
    let _g = serial();
    let dir = tmp();
    let mut pcm = vec![0.0; 16_000 * 30];
    pcm.extend(line_noise(60.0, 0x1234_5678));
    pcm.extend(hold_music(dir.path(), 30));
    let path = dir.path().join("nothing.wav");
    write_wav(&path, &pcm);
    let before = engine.windows_decoded();
    let t = transcribe_file(engine, &path).expect("transcribes");
    assert!(t.is_empty(), "non-speech produced words: {:?}", t.text());
    assert_eq!(
        engine.windows_decoded(),
        before,
        "the decoder ran on non-speech"
    );
}
