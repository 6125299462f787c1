//! `knowledge.enableDiscovery` (key phrases with per-speaker mentions) and the `transcript`
//! options `formatting.enableNumberFormatting: false` (numbers as words) and
//! `contentFiltering.enableProfanityFiltering` (listed words masked in every rendition and
//! the search index), plain and encrypted (docs/knowledge.md).
//!
//! Speech is one or two short sentences per media: the suite runs twice on two loaded cores.

use std::path::Path;
use std::process::{Command, Stdio};

use sealscribe_openpgp::testing::GpgHome;
use sealscribe_testkit::wav::RATE;
use serde_json::{Value, json};

use crate::common::{Env, Server, contains, json_part, words};

const AGENT: &str = "Let me check that for you.";
const CALLER: &str = "I need a refund request form. The refund request form is missing.";

/// `text` spoken by espeak-ng `voice`, as 16 kHz mono samples.
fn speak(dir: &Path, voice: &str, text: &str) -> Vec<i16> {
    let wav = dir.join(format!("{voice}-{}.wav", text.len()));
    let ok = Command::new("espeak-ng")
        .args(["-v", voice, "-s", "150", "-w"])
        .arg(&wav)
        .arg(text)
        .status()
        .expect("espeak-ng is installed (scripts/setup.sh --test)")
        .success();
    assert!(ok);
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&wav)
        .args(["-ac", "1", "-ar", &RATE.to_string(), "-f", "s16le", "-"])
        .stdout(Stdio::piped())
        .output()
        .expect("ffmpeg");
    assert!(out.status.success());
    out.stdout
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect()
}

/// A 16 kHz stereo PCM WAV: `left` first, then `right` after a pause. Returns the WAV and
/// when the right channel's speech starts and ends, in ms.
fn stereo(left: &[i16], right: &[i16]) -> (Vec<u8>, (u64, u64)) {
    let gap = RATE as usize / 2;
    let start = left.len() + gap;
    let n = start + right.len() + gap;
    let mut l = vec![0i16; n];
    let mut r = vec![0i16; n];
    l[..left.len()].copy_from_slice(left);
    r[start..start + right.len()].copy_from_slice(right);
    let ms = |samples: usize| samples as u64 * 1000 / u64::from(RATE);
    let wav = sealscribe_testkit::wav::channels_i16(&[&l, &r]);
    (wav, (ms(start), ms(start + right.len())))
}

/// The keyword `keyword` of a document's `knowledge`, with the shape checked.
fn keyword<'a>(doc: &'a Value, keyword: &str) -> &'a Value {
    let knowledge = &doc["knowledge"];
    assert_eq!(knowledge["topics"], json!([]), "{knowledge}");
    let keywords = knowledge["keywords"]
        .as_array()
        .unwrap_or_else(|| panic!("no knowledge.keywords: {doc}"));
    for k in keywords {
        let r = k["relevance"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&r), "{k}");
    }
    keywords
        .iter()
        .find(|k| k["keyword"] == keyword)
        .unwrap_or_else(|| panic!("no {keyword:?} in {knowledge}"))
}

async fn text_of(server: &Server, token: &str, path: &str) -> String {
    let resp = server
        .http
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "GET {path}");
    resp.text().await.unwrap()
}

async fn search(server: &Server, token: &str, word: &str) -> usize {
    let doc = server
        .get_json(token, &format!("/v3/media?query={word}"))
        .await;
    doc["media"].as_array().unwrap().len()
}

/// A stereo call where only the caller says a phrase, twice: it is the top key phrase, all
/// its mentions are the caller's, at times inside the caller's speech, with what was said.
#[tokio::test]
async fn key_phrase_of_a_call_is_found_with_its_speaker() {
    let env = Env::new();
    let token = env.create_account("support");
    let server = env.start();
    let agent = speak(env.dir.path(), "en-gb", AGENT);
    let caller = speak(env.dir.path(), "en-us", CALLER);
    let (wav, (start, end)) = stereo(&agent, &caller);
    let config = json!({
        "ingest": {"stereo": {"left": {"speakerName": "Agent"}, "right": {"speakerName": "Caller"}}},
        "knowledge": {"enableDiscovery": true, "enableExternalDataSources": true},
    })
    .to_string();
    let id = server.upload_ok(&token, wav, Some(&config), None).await;
    let doc = server.wait(&token, &id).await;
    assert_eq!(doc["status"], "finished", "{doc}");
    let k = keyword(&doc, "refund request form");
    assert_eq!(k["relevance"], 1.0, "the top phrase: {}", doc["knowledge"]);
    let mentions = k["mentions"].as_array().unwrap();
    assert_eq!(mentions.len(), 1, "only the caller said it: {k}");
    assert_eq!(mentions[0]["speakerName"], "Caller", "{k}");
    let occurrences = mentions[0]["occurrences"].as_array().unwrap();
    assert_eq!(occurrences.len(), 2, "{k}");
    for o in occurrences {
        let s = o["s"].as_u64().unwrap();
        assert!(s + 300 >= start && s <= end, "{s} in {start}..{end}: {k}");
        assert_eq!(
            o["exact"].as_str().unwrap().to_lowercase(),
            "refund request form"
        );
        assert!(o.get("e").is_none(), "occurrences carry s and exact only");
    }
    assert!(occurrences[0]["s"].as_u64() < occurrences[1]["s"].as_u64());
    // Whatever the agent's words give, each mention is named by who said it.
    for k in doc["knowledge"]["keywords"].as_array().unwrap() {
        for m in k["mentions"].as_array().unwrap() {
            assert!(
                ["Agent", "Caller"].contains(&m["speakerName"].as_str().unwrap()),
                "{k}"
            );
        }
    }
}

/// `enableNumberFormatting: false`: the numbers whisper writes as digits come out as words,
/// each word timed, and the PCI detector still finds the card number read out digit by digit.
#[tokio::test]
async fn numbers_are_words_when_formatting_is_off() {
    let env = Env::new();
    let token = env.create_account("numbers");
    let server = env.start();
    let audio = std::fs::read(env.speech(
        "numbers",
        "It costs 42 dollars. My card number is four five three two, zero one five one, \
         one two eight three, zero three six six.",
    ))
    .unwrap();
    let config = json!({
        "transcript": {"formatting": {"enableNumberFormatting": false}},
        "prediction": {"detectors": [{"detectorName": "PCI",
            "redactor": {"transcript": {"replacement": "[redacted]"}}}]},
    })
    .to_string();
    let id = server.upload_ok(&token, audio, Some(&config), None).await;
    let doc = server.wait(&token, &id).await;
    assert_eq!(doc["status"], "finished", "{doc}");
    let w = words(&doc["transcript"]);
    let text = w.join(" ");
    assert!(text.contains("forty two"), "{text}");
    assert!(
        !text.chars().any(|c| c.is_ascii_digit()),
        "no digits: {text}"
    );
    for (p, word) in doc["transcript"]["words"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        assert_eq!(word["p"], p as u64);
        assert!(word["s"].as_u64() <= word["e"].as_u64(), "{word}");
    }
    let forty = doc["transcript"]["words"]
        .as_array()
        .unwrap()
        .iter()
        .position(|x| x["w"] == "forty")
        .unwrap();
    let (a, b) = (
        &doc["transcript"]["words"][forty],
        &doc["transcript"]["words"][forty + 1],
    );
    assert_eq!(b["w"], "two");
    assert!(a["e"].as_u64() <= b["s"].as_u64() && a["s"].as_u64() < b["e"].as_u64());
    // The card number, now in words, is still detected and redacted.
    let detections = doc["prediction"]["detectors"][0]["detections"]
        .as_array()
        .unwrap_or_else(|| panic!("no detections: {doc}"));
    assert_eq!(detections.len(), 1, "{}", doc["prediction"]);
    assert!(text.contains("redacted"), "{text}");
    let plain = text_of(&server, &token, &format!("/v3/media/{id}/transcript/text")).await;
    assert!(plain.contains("forty two"), "{plain}");
    assert!(!plain.chars().any(|c| c.is_ascii_digit()), "{plain}");
}

/// `enableProfanityFiltering`: the listed words become `...` in words[], turns[], every
/// rendition, and a search for them finds nothing (a clean word of the same call does).
#[tokio::test]
async fn profanity_is_masked_everywhere_and_unsearchable() {
    let env = Env::new();
    let token = env.create_account("printers");
    let server = env.start();
    let audio = std::fs::read(env.speech(
        "profanity",
        "That is total bullshit. This damn printer is crap.",
    ))
    .unwrap();
    let config = json!({
        "ingest": {"speakerName": "Caller"},
        "transcript": {"contentFiltering": {"enableProfanityFiltering": true}},
    })
    .to_string();
    let id = server.upload_ok(&token, audio, Some(&config), None).await;
    let doc = server.wait(&token, &id).await;
    assert_eq!(doc["status"], "finished", "{doc}");
    let masked = doc["transcript"]["words"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["w"] == "...")
        .count();
    assert!(masked >= 2, "two words masked: {}", doc["transcript"]);
    let listed = ["bullshit", "damn", "crap"];
    let mut renditions = vec![doc["transcript"].to_string()];
    for format in ["text", "srt", "webvtt", "dfxp"] {
        renditions.push(
            text_of(
                &server,
                &token,
                &format!("/v3/media/{id}/transcript/{format}"),
            )
            .await,
        );
    }
    let alternates = server
        .get_json(
            &token,
            &format!("/v3/media/{id}/transcript?includeAlternateFormat=srt"),
        )
        .await;
    renditions.push(alternates.to_string());
    for r in &renditions {
        let lower = r.to_lowercase();
        for word in listed {
            assert!(!lower.contains(word), "{word} in {r}");
        }
    }
    assert!(
        doc["transcript"]["turns"][0]["text"]
            .as_str()
            .unwrap()
            .contains("..."),
        "{}",
        doc["transcript"]["turns"]
    );
    assert!(renditions[1].contains("..."), "{}", renditions[1]);
    // The index: the call is found by a clean word, never by a masked one.
    assert_eq!(search(&server, &token, "printer").await, 1);
    for word in listed {
        assert_eq!(search(&server, &token, word).await, 0, "{word}");
    }

    // A corrected transcript aligned to the call is the customer's text, still filtered.
    let form = reqwest::multipart::Form::new()
        .part("configuration", json_part("c.json", "{}"))
        .text(
            "transcript",
            "That is total bullshit. This damn printer is broken.",
        );
    let resp = server
        .http
        .post(server.url(&format!("/v3/media/{id}")))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = text_of(&server, &token, &format!("/v3/media/{id}/transcript/text")).await;
    assert!(text.contains("broken") && text.contains("..."), "{text}");
    for word in listed {
        assert!(!text.to_lowercase().contains(word), "{word} in {text}");
        assert_eq!(search(&server, &token, word).await, 0, "{word}");
    }
    assert_eq!(search(&server, &token, "broken").await, 1);
}

/// Encrypted media with knowledge (and numbers as words): the key phrases exist only inside
/// the customer's document; the clear document, the database and the blob store never hold
/// them.
#[tokio::test]
async fn encrypted_knowledge_only_inside_the_encrypted_document() {
    const CANARY: &str = "saxophone";
    let env = Env::new();
    let token = env.create_account("music");
    let server = env.start();
    let gpg = GpgHome::new();
    let fpr = gpg.gen_future_default("Music <calls@example.com>");
    let key_id = server
        .upload_key(&token, gpg.export_public(&fpr, true))
        .await;
    let audio = std::fs::read(env.speech(
        "knowledge",
        "I want saxophone lessons. The saxophone lessons cost 75 dollars.",
    ))
    .unwrap();
    let config = json!({
        "knowledge": {"enableDiscovery": true, "enableExternalDataSources": false},
        "transcript": {"formatting": {"enableNumberFormatting": false}},
        "encryption": {"publicKeyId": key_id},
    })
    .to_string();
    let form = reqwest::multipart::Form::new()
        .part("configuration", json_part("configuration.json", &config))
        .part(
            "media",
            reqwest::multipart::Part::bytes(audio)
                .file_name("call.wav")
                .mime_str("audio/wav")
                .unwrap(),
        );
    let id = server.post_form_ok(&token, form).await;
    let doc = server.wait(&token, &id).await;
    assert_eq!(doc["status"], "finished", "{doc}");
    let clear = doc.to_string();
    for absent in ["knowledge", "keywords", "relevance", CANARY] {
        assert!(!clear.contains(absent), "{absent} in the clear: {clear}");
    }
    let resp = server
        .http
        .get(server.url(&format!("/v3/media/{id}")))
        .bearer_auth(&token)
        .header("Accept", "application/pgp-encrypted")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let full: Value =
        serde_json::from_slice(&gpg.decrypt(&resp.bytes().await.unwrap())).expect("JSON inside");
    let keywords = full["knowledge"]["keywords"]
        .as_array()
        .unwrap_or_else(|| panic!("no keywords inside: {full}"));
    let top = &keywords[0];
    assert!(
        top["keyword"].as_str().unwrap().contains(CANARY),
        "{}",
        full["knowledge"]
    );
    assert_eq!(top["mentions"][0]["speakerName"], "unknown", "{top}");
    assert_eq!(
        top["mentions"][0]["occurrences"].as_array().unwrap().len(),
        2,
        "{top}"
    );
    assert_eq!(full["knowledge"]["topics"], json!([]));
    // The transcript option applied inside too: the price in words.
    let text = words(&full["transcript"]).join(" ");
    assert!(text.contains("seventy five"), "{text}");
    assert!(!text.chars().any(|c| c.is_ascii_digit()), "{text}");

    assert!(server.stop(), "clean shutdown");
    let mut found = Vec::new();
    for (place, bytes) in env.files_at_rest().await {
        if contains(&bytes.to_ascii_lowercase(), CANARY.as_bytes()) {
            found.push(place);
        }
    }
    assert!(found.is_empty(), "{CANARY} at rest in {found:?}");
}
