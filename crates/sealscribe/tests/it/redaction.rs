//! PCI / SSN detection and redaction on real speech: espeak-ng reads a card
//! number and an SSN inside ordinary sentences, the server recognises them
//! (with the default model, Whisper base: what a user gets is what is tested), finds them, replaces
//! them in the transcript and overwrites them with a tone in the redacted
//! stream — in clear for plain media, and encrypted for encrypted media.

use std::process::{Command, Stdio};

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use sealscribe_openpgp::testing::GpgHome;
use serde_json::{Value, json};

use crate::common::{Env, Server, contains, files_under, words};

const SPOKEN: &str = "Thanks for calling. My card number is four five three two, zero one five one, \
     one two eight three, zero three six six. And my social security number is five three six, \
     two two, four one eight seven. Please send the receipt by email.";
/// 4532 0151 1283 0366 passes the Luhn check; 536-22-4187 follows the SSA rules.
const CARD_GROUPS: [&str; 4] = ["4532", "0151", "1283", "0366"];
const SSN_GROUPS: [&str; 2] = ["53622", "4187"];
/// What the numbers look like in recognised text, long enough that a hex id
/// or a hash never matches by chance: the at-rest scans look for these.
const AT_REST: [&str; 7] = [
    "4532015112830366",
    "4532-0151",
    "4532, 0151",
    "4532 0151",
    "536-22-4187",
    "536224187",
    "22-4187",
];
const TONE_HZ: f64 = 440.0;

fn detectors() -> Value {
    let redactor =
        json!({"transcript": {"replacement": "[redacted]"}, "audio": {"tone": 440, "gain": 0.5}});
    json!([
        {"detectorName": "PCI", "redactor": redactor},
        {"detectorName": "SSN", "redactor": redactor},
    ])
}

/// Mono s16 samples of a media file at `rate` Hz, decoded by ffmpeg.
fn samples(path_or_bytes: Source, rate: u32) -> Vec<i16> {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-v", "error", "-i"]);
    let stdin = match &path_or_bytes {
        Source::Path(p) => {
            cmd.arg(p);
            None
        }
        Source::Bytes(b) => {
            cmd.arg("pipe:0");
            Some(b.clone())
        }
    };
    cmd.args(["-ac", "1", "-ar", &rate.to_string(), "-f", "s16le", "-"]);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = cmd.spawn().expect("ffmpeg");
    let mut input = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        if let Some(b) = stdin {
            let _ = input.write_all(&b);
        }
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success(), "ffmpeg could not decode the stream");
    out.stdout
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect()
}

enum Source {
    Path(std::path::PathBuf),
    Bytes(Vec<u8>),
}

/// Share of the energy of `x` at `freq` (Goertzel), 0..=1.
fn tone_share(x: &[i16], rate: f64, freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / rate;
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    let mut energy = 0.0;
    for &v in x {
        let v = f64::from(v);
        let s0 = v + 2.0 * w.cos() * s1 - s2;
        s2 = s1;
        s1 = s0;
        energy += v * v;
    }
    let power = s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2;
    // |X(f)|² = (N/2)² A² for a sine of amplitude A; energy = N A²/2.
    2.0 * power / (x.len() as f64 * energy.max(1.0))
}

/// The occurrences `{s, e}` (ms) a detector reported.
fn occurrences(prediction: &Value, detector: &str) -> Vec<(u64, u64)> {
    let d = prediction["detectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["detectorName"] == detector)
        .unwrap_or_else(|| panic!("no {detector} in {prediction}"));
    d["detections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|x| x["detectedSegments"].as_array().unwrap().clone())
        .flat_map(|seg| seg["occurrences"].as_array().unwrap().clone())
        .map(|o| (o["s"].as_u64().unwrap(), o["e"].as_u64().unwrap()))
        .collect()
}

/// The redacted audio has the original's length; the reported ranges are the
/// tone; everything else is the original, sample for sample.
fn check_redacted_audio(original: &[i16], redacted: &[i16], rate: u32, ranges: &[(u64, u64)]) {
    assert!(
        original.len().abs_diff(redacted.len()) <= 1,
        "same duration: {} vs {} samples",
        original.len(),
        redacted.len()
    );
    let frame = |ms: u64| (ms * u64::from(rate) / 1000) as usize;
    let inside = |i: usize| {
        ranges
            .iter()
            .any(|&(s, e)| i + 1 >= frame(s) && i <= frame(e) + 1)
    };
    let n = original.len().min(redacted.len());
    let differing_outside = (0..n)
        .filter(|&i| !inside(i) && original[i] != redacted[i])
        .count();
    assert_eq!(
        differing_outside, 0,
        "audio outside the ranges is untouched"
    );
    for &(s, e) in ranges {
        let (a, b) = (frame(s) + 2, frame(e).min(n) - 2);
        let share = tone_share(&redacted[a..b], f64::from(rate), TONE_HZ);
        assert!(
            share > 0.9,
            "range {s}–{e} ms is the tone (share {share:.3})"
        );
        let before = tone_share(&original[a..b], f64::from(rate), TONE_HZ);
        assert!(
            before < 0.2,
            "the original there is speech (share {before:.3})"
        );
        let peak = redacted[a..b]
            .iter()
            .map(|v| v.unsigned_abs())
            .max()
            .unwrap();
        assert!(
            (15_500..=17_000).contains(&peak),
            "gain 0.5 of full scale: peak {peak}"
        );
    }
}

fn assert_plausible(ranges: &[(u64, u64)], what: &str, start: (u64, u64), end: (u64, u64)) {
    assert_eq!(ranges.len(), 1, "one {what}: {ranges:?}");
    let (s, e) = ranges[0];
    assert!(
        (start.0..=start.1).contains(&s) && (end.0..=end.1).contains(&e),
        "{what} spoken from about {}–{} ms to {}–{} ms, reported {s}–{e}",
        start.0,
        start.1,
        end.0,
        end.1
    );
}

async fn get(server: &Server, token: &str, path: &str, accept: Option<&str>) -> reqwest::Response {
    let mut req = server.http.get(server.url(path)).bearer_auth(token);
    if let Some(a) = accept {
        req = req.header(ACCEPT, a);
    }
    req.send().await.unwrap()
}

fn no_digits_of_the_numbers(text: &str) {
    for g in CARD_GROUPS.iter().chain(&SSN_GROUPS) {
        assert!(!text.contains(g), "{g} must not appear in {text}");
    }
}

#[tokio::test]
async fn card_number_and_ssn_are_detected_and_redacted() {
    let env = Env::new();
    let token = env.create_account("bank");
    let server = env.start();
    let wav = env.speech("call", SPOKEN);
    let audio = std::fs::read(&wav).unwrap();
    let config = json!({"prediction": {"detectors": detectors()}}).to_string();
    let id = server
        .upload_ok(
            &token,
            audio,
            Some(&config),
            Some(r#"{"title":"Billing call"}"#),
        )
        .await;
    let doc = server.wait(&token, &id).await;
    assert_eq!(doc["status"], "finished", "{doc}");

    // Detections, at the time the numbers were spoken (espeak at 150 wpm:
    // the card from ~3.2 s to ~8.7 s, the SSN from ~11.2 s to ~14.6 s).
    let card = occurrences(&doc["prediction"], "PCI");
    let ssn = occurrences(&doc["prediction"], "SSN");
    assert_plausible(&card, "card number", (2_600, 3_700), (8_000, 9_300));
    assert_plausible(&ssn, "SSN", (10_600, 11_800), (13_800, 15_300));
    let progress = server
        .get_json(&token, &format!("/v3/media/{id}/progress"))
        .await;
    for task in ["detect", "redact"] {
        assert!(
            progress["progress"]["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["taskId"] == task && t["status"] == "completed"),
            "{progress}"
        );
    }

    // The transcript in every rendition shows the replacement, never the digits.
    let w = words(&doc["transcript"]);
    assert_eq!(w.iter().filter(|w| *w == "redacted").count(), 2, "{w:?}");
    assert!(w.iter().any(|w| w == "receipt"), "{w:?}");
    for rendition in ["text", "srt", "webvtt"] {
        let text = get(
            &server,
            &token,
            &format!("/v3/media/{id}/transcript/{rendition}"),
            None,
        )
        .await
        .text()
        .await
        .unwrap();
        assert!(text.contains("[redacted]"), "{rendition}: {text}");
        no_digits_of_the_numbers(&text);
        if rendition == "text" {
            sealscribe_testkit::assert_no_repeated_ngrams(&text);
        }
    }
    // …nor in the search index.
    for (query, hits) in [("receipt", 1), ("4532", 0), ("0366", 0), ("4187", 0)] {
        let list = server
            .get_json(&token, &format!("/v3/media?query={query}"))
            .await;
        assert_eq!(list["media"].as_array().unwrap().len(), hits, "{query}");
    }
    // …nor in the database files.
    for (place, bytes) in env.stored().await {
        if place.contains("sealscribe.db") || place.starts_with("postgres") {
            for g in AT_REST {
                assert!(!contains(&bytes, g.as_bytes()), "{g} in {place}");
            }
        }
    }

    // The redacted stream: listed, WAV, the tone over the detections.
    let streams = server
        .get_json(&token, &format!("/v3/media/{id}/streams"))
        .await;
    let names: Vec<&str> = streams["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["streamName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["original", "redacted"]);
    let resp = get(
        &server,
        &token,
        &format!("/v3/media/{id}/streams/redacted-audio"),
        None,
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()[CONTENT_TYPE], "audio/wav");
    let redacted = resp.bytes().await.unwrap().to_vec();
    let rate = 22_050; // espeak-ng's rate: compare without resampling
    let ranges: Vec<_> = card.iter().chain(&ssn).copied().collect();
    check_redacted_audio(
        &samples(Source::Path(wav), rate),
        &samples(Source::Bytes(redacted), rate),
        rate,
        &ranges,
    );
}

#[tokio::test]
async fn encrypted_redaction_keeps_no_digit_at_rest() {
    let env = Env::new();
    let token = env.create_account("bank");
    let server = env.start();
    let gpg = GpgHome::new();
    let fpr = gpg.gen_rsa_and_rsa("Bank <sec@bank.example>");
    let key_id = server
        .upload_key(&token, gpg.export_public(&fpr, true))
        .await;
    let wav = env.speech("call", SPOKEN);
    let config = json!({
        "encryption": {"publicKeyId": key_id},
        "prediction": {"detectors": detectors()},
    })
    .to_string();
    let id = server
        .upload_ok(&token, std::fs::read(&wav).unwrap(), Some(&config), None)
        .await;
    let doc = server.wait(&token, &id).await;
    assert_eq!(doc["status"], "finished", "{doc}");
    assert!(
        doc.get("prediction").is_none(),
        "no detections in clear: {doc}"
    );
    let names: Vec<&str> = doc["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["streamName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["original-encrypted", "redacted-encrypted"]);
    for plain in ["redacted", "redacted-audio", "original"] {
        let resp = get(
            &server,
            &token,
            &format!("/v3/media/{id}/streams/{plain}"),
            None,
        )
        .await;
        assert_eq!(resp.status(), 404, "{plain}");
    }

    // The customer's copy of the document has the detections and the redacted transcript.
    let armored = get(
        &server,
        &token,
        &format!("/v3/media/{id}"),
        Some("application/pgp-encrypted"),
    )
    .await
    .bytes()
    .await
    .unwrap();
    let full: Value = serde_json::from_slice(&gpg.decrypt(&armored)).unwrap();
    let card = occurrences(&full["prediction"], "PCI");
    let ssn = occurrences(&full["prediction"], "SSN");
    assert_plausible(&card, "card number", (2_600, 3_700), (8_000, 9_300));
    assert_plausible(&ssn, "SSN", (10_600, 11_800), (13_800, 15_300));
    let w = words(&full["transcript"]);
    assert_eq!(w.iter().filter(|w| *w == "redacted").count(), 2, "{w:?}");
    no_digits_of_the_numbers(&w.join(" "));

    // redacted-encrypted decrypts with gpg to the redacted audio.
    let resp = get(
        &server,
        &token,
        &format!("/v3/media/{id}/streams/redacted-encrypted"),
        None,
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()[CONTENT_TYPE], "application/pgp-encrypted");
    let redacted = gpg.decrypt(&resp.bytes().await.unwrap());
    assert_eq!(&redacted[..4], b"RIFF");
    let rate = 22_050;
    let ranges: Vec<_> = card.iter().chain(&ssn).copied().collect();
    check_redacted_audio(
        &samples(Source::Path(wav), rate),
        &samples(Source::Bytes(redacted), rate),
        rate,
        &ranges,
    );

    // No digit group of either number anywhere at rest, nor in the log;
    // every scratch directory (the memory-backed one too) is empty.
    assert!(server.stop());
    let mut scanned = 0;
    for (place, bytes) in env.stored().await {
        for g in AT_REST.iter().chain(&["receipt"]) {
            assert!(!contains(&bytes, g.as_bytes()), "{g} in {place}");
        }
        scanned += 1;
    }
    assert!(scanned >= 3, "the scan saw the database and the blobs");
    let log = env.log();
    for g in AT_REST.iter().chain(&["receipt"]) {
        assert!(!log.contains(g), "{g} in the log");
    }
    for scratch in env.scratch_dirs() {
        assert!(files_under(&scratch).is_empty(), "{scratch:?}");
    }
}

/// A card number and an SSN read so that the recogniser gets them wrong: blocks split oddly
/// (Whisper base writes `41111111111111`, two digits short, failing Luhn) and the SSN in pairs
/// (written with a digit dropped, `536-24187`). At the default level (`entireRegion`) both are
/// still redacted in every rendition, the search index and the audio: no digit of either is
/// left anywhere the customer reads.
#[tokio::test]
async fn misrecognised_card_and_ssn_are_still_redacted() {
    const ODD: &str = "Thanks for calling. My card number is four one one one, one one, one one \
         one one one one, one one one one. And my social is five three, six two, two four, one \
         eight seven. Please send the receipt by email.";
    let env = Env::new();
    let token = env.create_account("bank");
    let server = env.start();
    let wav = env.speech("odd", ODD);
    let config = json!({"prediction": {"detectors": detectors()}}).to_string();
    let id = server
        .upload_ok(&token, std::fs::read(&wav).unwrap(), Some(&config), None)
        .await;
    let doc = server.wait(&token, &id).await;
    assert_eq!(doc["status"], "finished", "{doc}");
    let card = occurrences(&doc["prediction"], "PCI");
    let ssn = occurrences(&doc["prediction"], "SSN");
    // espeak-ng at 150 wpm: the card from ~3.2 s to ~8.7 s, the SSN from ~9.6 s to ~14 s
    // (Whisper base's word times). The card's region may run on over the SSN when that is
    // recognised with 8 digits (as an expiry or security code would be): over-redaction,
    // never a leak.
    assert_plausible(&card, "card number", (2_300, 3_800), (8_000, 16_500));
    assert_plausible(&ssn, "SSN", (8_500, 12_900), (13_300, 16_500));

    let w = words(&doc["transcript"]);
    assert!(w.iter().any(|w| w == "receipt"), "{w:?}");
    assert!(
        !w.iter().any(|w| w.chars().any(|c| c.is_ascii_digit())),
        "no digit is left in the transcript: {w:?}"
    );
    for rendition in ["text", "srt", "webvtt"] {
        let text = get(
            &server,
            &token,
            &format!("/v3/media/{id}/transcript/{rendition}"),
            None,
        )
        .await
        .text()
        .await
        .unwrap();
        assert!(text.contains("[redacted]"), "{rendition}: {text}");
        // Caption numbers and timings are digits of their own; the words are not.
        let spoken: Vec<&str> = text
            .lines()
            .filter(|l| !l.contains("-->") && !l.trim().chars().all(|c| c.is_ascii_digit()))
            .collect();
        assert!(
            !spoken.iter().any(|l| l.chars().any(|c| c.is_ascii_digit())),
            "{rendition}: {text}"
        );
    }
    for (query, hits) in [("receipt", 1), ("4111", 0), ("1111", 0), ("4187", 0)] {
        let list = server
            .get_json(&token, &format!("/v3/media?query={query}"))
            .await;
        assert_eq!(list["media"].as_array().unwrap().len(), hits, "{query}");
    }
    let redacted = get(
        &server,
        &token,
        &format!("/v3/media/{id}/streams/redacted-audio"),
        None,
    )
    .await
    .bytes()
    .await
    .unwrap()
    .to_vec();
    let rate = 22_050;
    let ranges: Vec<_> = card.iter().chain(&ssn).copied().collect();
    check_redacted_audio(
        &samples(Source::Path(wav), rate),
        &samples(Source::Bytes(redacted), rate),
        rate,
        &ranges,
    );
}
