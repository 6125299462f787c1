//! Conversation metrics (`configuration.metrics`, docs/metrics.md) on the real server: a
//! short mono clip padded with known silence, recognised by the default model, all four groups
//! requested. Checks every metric is present, that the silence and talk figures agree with the
//! audio, that agent/caller metrics are 0 on mono, that the unavailable groups are zeros with
//! a warning, that an encrypted media's metrics exist only in its encrypted document, and that
//! an unknown group name is refused.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use reqwest::header::ACCEPT;
use sealscribe_domain::conversation_metrics::MetricGroup;
use sealscribe_openpgp::testing::GpgHome;
use serde_json::{Value, json};

use crate::common::{Env, Server, expect_error};

const SPOKEN: &str = "Thanks for calling the support line. How can I help you today?";
/// Silence put before and after the speech, ms.
const PAD_MS: u64 = 7_000;
const RATE: u64 = sealscribe_testkit::wav::RATE as u64;

/// The clip: espeak-ng's speech at 16 kHz, trimmed to where it is audible, with [`PAD_MS`]
/// of digital silence on each side. Returns the file and the speech's span (ms) and the
/// file's duration (ms).
fn padded_speech(env: &Env) -> (PathBuf, (u64, u64), u64) {
    let raw = env.speech("metrics-raw", SPOKEN);
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&raw)
        .args(["-ac", "1", "-ar", &RATE.to_string(), "-f", "s16le", "-"])
        .stdout(Stdio::piped())
        .output()
        .expect("ffmpeg");
    assert!(out.status.success());
    let samples: Vec<f32> = out
        .stdout
        .chunks_exact(2)
        .map(|c| f32::from(i16::from_le_bytes([c[0], c[1]])) / 32768.0)
        .collect();
    let loud = |x: &&f32| x.abs() > 0.02;
    let first = samples.iter().position(|x| loud(&x)).unwrap();
    let last = samples.iter().rposition(|x| loud(&x)).unwrap();
    let pad = vec![0.0f32; (PAD_MS * RATE / 1000) as usize];
    let all = [&pad[..], &samples[first..=last], &pad[..]].concat();
    let path = raw.with_file_name("metrics-padded.wav");
    sealscribe_testkit::wav::write_samples(&path, &all);
    let ms = |n: usize| n as u64 * 1000 / RATE;
    let speech = (PAD_MS, PAD_MS + ms(last + 1 - first));
    (path, speech, ms(all.len()))
}

fn all_groups() -> Value {
    json!([
        {"metricGroupName": "overtalk"},
        {"metricGroupName": "talk-time-and-rate"},
        {"metricGroupName": "sentiment"},
        {"metricGroupName": "talk-style-tone-and-volume"},
        {"metricGroupName": "overtalk"},
    ])
}

/// `metrics[]` as (group, metric, value), checking the shape on the way.
fn metric_values(metrics: &Value) -> Vec<(String, String, f64)> {
    let groups = metrics
        .as_array()
        .unwrap_or_else(|| panic!("metrics[]: {metrics}"));
    groups
        .iter()
        .flat_map(|g| {
            let group = g["metricGroupName"].as_str().unwrap().to_owned();
            g["metricValues"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |v| {
                    let value = v["metricValue"].as_f64().expect("a JSON number");
                    (
                        group.clone(),
                        v["metricName"].as_str().unwrap().to_owned(),
                        value,
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The checks on the clip's metrics: every metric of the four groups once (the duplicate
/// request collapsed), figures consistent with the audio.
fn check_mono_metrics(doc: &Value, speech: (u64, u64), duration: u64) {
    eprintln!(
        "speech {speech:?} ms in {duration} ms; metrics {}",
        doc["metrics"]
    );
    let values = metric_values(&doc["metrics"]);
    let expected: Vec<(String, String)> = MetricGroup::ALL
        .iter()
        .flat_map(|g| {
            g.metric_names()
                .iter()
                .map(|m| (g.name().to_owned(), (*m).to_owned()))
        })
        .collect();
    let got: Vec<(String, String)> = values
        .iter()
        .map(|(g, m, _)| (g.clone(), m.clone()))
        .collect();
    assert_eq!(
        got, expected,
        "every metric of the four groups, once, in order"
    );
    assert_eq!(got.len(), 44);
    let v = |name: &str| values.iter().find(|(_, m, _)| m == name).unwrap().2;

    // Mono: nothing for agent or caller, no overtalk; sentiment and tone are not available.
    for (group, name, value) in &values {
        if name.starts_with("agent-")
            || name.starts_with("caller-")
            || group == "overtalk"
            || group == "sentiment"
            || group == "talk-style-tone-and-volume"
        {
            assert_eq!(*value, 0.0, "{name} is 0 on mono: {}", doc["metrics"]);
        }
    }
    // Talk time: the recognised words lie within the speech (allowing for timing error) and
    // cover at least half of it.
    let speech_ms = (speech.1 - speech.0) as f64;
    let talk_ms = (1.0 - v("silence-ratio")) * duration as f64;
    assert!(
        talk_ms >= 0.5 * speech_ms && talk_ms <= speech_ms + 800.0,
        "talk {talk_ms:.0} ms for {speech_ms:.0} ms of speech: {}",
        doc["metrics"]
    );
    // The two padded silences are over 4 s; the speech has no pause that long.
    assert_eq!(v("silence-incidents"), 2.0, "{}", doc["metrics"]);
    // One streak: the whole utterance.
    let longest = v("longest-streak") * 1000.0;
    assert!(
        longest >= 0.5 * speech_ms && longest <= speech_ms + 1500.0,
        "streak {longest:.0} ms for {speech_ms:.0} ms of speech"
    );
    assert_eq!(v("average-streak"), v("longest-streak"));
    assert_eq!(v("median-streak"), v("longest-streak"));

    // The unavailable groups say so in v3 `warnings[]`.
    let warnings = doc["warnings"].as_array().expect("warnings[]");
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    for (w, group) in warnings
        .iter()
        .zip(["sentiment", "talk-style-tone-and-volume"])
    {
        assert_eq!(w["code"], 16002);
        assert!(
            w["message"]
                .as_str()
                .unwrap()
                .contains(&format!("`{group}`")),
            "{w}"
        );
    }
}

async fn metrics_task_completed(server: &Server, token: &str, id: &str) {
    let progress = server
        .get_json(token, &format!("/v3/media/{id}/progress"))
        .await;
    assert!(
        progress["progress"]["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["taskId"] == "metrics" && t["status"] == "completed"),
        "{progress}"
    );
}

#[tokio::test]
async fn metrics_of_a_mono_clip_match_its_audio() {
    let env = Env::new();
    let token = env.create_account("contact-centre");
    let server = env.start();
    let (wav, speech, duration) = padded_speech(&env);

    // An unknown group is refused at upload, naming the four.
    let bad = json!({"metrics": [{"metricGroupName": "overtalk"}, {"metricGroupName": "empathy"}]});
    let resp = server
        .upload(
            &token,
            std::fs::read(&wav).unwrap(),
            Some(&bad.to_string()),
            None,
        )
        .await;
    let message = expect_error(resp, 400, 16001).await;
    for name in [
        "empathy",
        "overtalk",
        "talk-time-and-rate",
        "sentiment",
        "talk-style-tone-and-volume",
    ] {
        assert!(message.contains(name), "{message}");
    }

    let config = json!({"metrics": all_groups()}).to_string();
    let id = server
        .upload_ok(&token, std::fs::read(&wav).unwrap(), Some(&config), None)
        .await;
    let doc = server.wait(&token, &id).await;
    assert_eq!(doc["status"], "finished", "{doc}");
    assert!(
        doc["length"].as_u64().unwrap().abs_diff(duration) < 50,
        "length {} for {duration} ms",
        doc["length"]
    );
    check_mono_metrics(&doc, speech, duration);
    metrics_task_completed(&server, &token, &id).await;
}

#[tokio::test]
async fn encrypted_metrics_are_only_in_the_encrypted_document() {
    let env = Env::new();
    let token = env.create_account("contact-centre");
    let server = env.start();
    let (wav, speech, duration) = padded_speech(&env);
    let gpg = GpgHome::new();
    let fpr = gpg.gen_rsa_and_rsa("Centre <sec@centre.example>");
    let key_id = server
        .upload_key(&token, gpg.export_public(&fpr, true))
        .await;
    let config = json!({"encryption": {"publicKeyId": key_id}, "metrics": all_groups()});
    let id = server
        .upload_ok(
            &token,
            std::fs::read(&wav).unwrap(),
            Some(&config.to_string()),
            None,
        )
        .await;
    let doc = server.wait(&token, &id).await;
    assert_eq!(doc["status"], "finished", "{doc}");
    assert!(
        doc.get("metrics").is_none() && doc.get("warnings").is_none(),
        "no metrics in clear: {doc}"
    );
    metrics_task_completed(&server, &token, &id).await;
    // Nor in the database.
    if let Some(stored) = env
        .sql_text(&format!("select metrics from media where id = '{id}'"))
        .await
    {
        panic!("metrics stored in clear: {stored}");
    }

    let armored = server
        .http
        .get(server.url(&format!("/v3/media/{id}")))
        .bearer_auth(&token)
        .header(ACCEPT, "application/pgp-encrypted")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let full: Value = serde_json::from_slice(&gpg.decrypt(&armored)).unwrap();
    check_mono_metrics(&full, speech, duration);
}
