//! Hostile media against the real binary: files an attacker with an ordinary
//! account would send. Each gets a v3 4xx envelope or a `failed` media with a
//! generic reason — never a 5xx, a hang, a local file read, or a memory spike.
//! The corpus is built here (no binary fixtures in git).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;

/// What a hostile request may get: refused with a v3 envelope, or accepted and
/// then processed to an end.
enum Outcome {
    Refused {
        status: u16,
        code: u64,
        message: String,
    },
    Accepted(String),
}

/// POSTs a hand-made multipart body (so file names need not be UTF-8).
async fn post_raw(server: &Server, token: &str, parts: &[(&str, &[u8], &[u8])]) -> Outcome {
    let boundary = "hostile-boundary-7f3a";
    let mut body = Vec::new();
    for (name, file_name, data) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        body.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"").as_bytes(),
        );
        body.extend_from_slice(file_name);
        body.extend_from_slice(b"\"\r\nContent-Type: application/octet-stream\r\n\r\n");
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let resp = server
        .http
        .post(server.url("/v3/media"))
        .bearer_auth(token)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("the server answers");
    outcome(resp).await
}

async fn outcome(resp: reqwest::Response) -> Outcome {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.expect("every answer is JSON");
    assert!(status < 500, "a 5xx for hostile input: {status} {body}");
    if status == 200 {
        return Outcome::Accepted(body["mediaId"].as_str().unwrap().to_owned());
    }
    assert!((400..500).contains(&status), "{status} {body}");
    assert_eq!(body["status"], status, "a v3 envelope: {body}");
    let message = body["errors"][0]["error"].as_str().unwrap_or("").to_owned();
    assert!(message.len() > 10, "a message a person can act on: {body}");
    Outcome::Refused {
        status,
        code: body["errors"][0]["code"].as_u64().unwrap(),
        message,
    }
}

/// The reason of a failed media names no server path and no tool's complaint.
fn assert_generic(doc: &Value, env: &Env) {
    let error = doc["errors"][0]["error"].as_str().unwrap();
    let data = env.data_dir();
    for leak in [
        data.to_str().unwrap(),
        "/tmp",
        "file:",
        "ffprobe:",
        "whitelist",
    ] {
        assert!(!error.contains(leak), "{leak:?} in the reason: {error}");
    }
}

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg is installed");
    assert!(out.status.success(), "{out:?}");
}

/// An HLS playlist naming a file on the worker's disk, as an upload and as a
/// `mediaUrl`: refused or `failed` with a generic reason, and the victim's
/// words appear in no transcript, stream, search result or log line — while
/// the victim itself, uploaded, is transcribed with those words (the control).
#[tokio::test]
async fn an_hls_playlist_cannot_read_a_local_file() {
    let env = Env::new();
    let token = env.create_account("attacker");
    let server = env.start_with(&["--allow-private-urls"]);
    let dir = env.data_dir().parent().unwrap().join("victim");
    std::fs::create_dir_all(&dir).unwrap();
    let speech = env.speech("victim", "Seven purple elephants guard the treasure.");
    let victim = dir.join("victim.mp3");
    ffmpeg(&["-i", speech.to_str().unwrap(), victim.to_str().unwrap()]);

    let control = server
        .upload_ok(&token, std::fs::read(&victim).unwrap(), None, None)
        .await;
    let doc = server.wait(&token, &control).await;
    assert_eq!(doc["status"], "finished", "{doc}");
    let secret: Vec<String> = words(&doc["transcript"])
        .into_iter()
        .filter(|w| ["purple", "elephants", "treasure", "guard"].contains(&w.as_str()))
        .collect();
    assert!(!secret.is_empty(), "control: {}", doc["transcript"]);
    // From here on the words may only appear through the control media.
    let log_before = env.log().len();

    let playlist = format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nfile:{}\n#EXT-X-ENDLIST\n",
        victim.display()
    );
    match post_raw(
        &server,
        &token,
        &[("media", b"call.m3u8", playlist.as_bytes())],
    )
    .await
    {
        Outcome::Refused { code, .. } => assert_eq!(code, 10201),
        Outcome::Accepted(id) => panic!("the playlist upload was accepted as {id}"),
    }

    let url = serve_file(playlist.clone().into_bytes(), 200);
    let form = reqwest::multipart::Form::new().text("mediaUrl", url);
    let resp = server
        .http
        .post(server.url("/v3/media"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let Outcome::Accepted(id) = outcome(resp).await else {
        panic!("a mediaUrl is fetched by the worker, not refused at submission");
    };
    let doc = server.wait(&token, &id).await;
    assert_eq!(doc["status"], "failed", "{doc}");
    assert_eq!(doc["errors"][0]["code"], 10201, "{doc}");
    assert_generic(&doc, &env);
    let stored = server
        .http
        .get(server.url(&format!("/v3/media/{id}/streams/original")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        stored.as_ref(),
        playlist.as_bytes(),
        "the stream is the playlist"
    );
    let transcript = server
        .http
        .get(server.url(&format!("/v3/media/{id}/transcript")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(transcript.status(), 404);
    for word in &secret {
        let found = server
            .get_json(&token, &format!("/v3/media?query={word}"))
            .await;
        let ids: Vec<&str> = found["media"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["mediaId"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [control.as_str()], "search for {word}");
        let log = env.log();
        assert!(
            !log[log_before..].contains(word.as_str()),
            "{word} in the log"
        );
        assert!(!doc.to_string().contains(word.as_str()));
    }
}

/// A FLAC of 100 hours of silence (2.7 MB; about 23 GB once decoded to f32)
/// fails at probe time with the duration error, and the server's memory does
/// not move.
#[tokio::test]
async fn a_hundred_hour_flac_is_refused_at_probe_time_without_a_memory_spike() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start();
    let pid = server.pid();
    let flac = sealscribe_testkit::flac::silence(8000, 100 * 3600);
    let (rss_before, hwm_before) = (
        sealscribe_testkit::proc::rss_kib(pid),
        sealscribe_testkit::proc::peak_rss_kib(pid),
    );
    let id = server.upload_ok(&token, flac, None, None).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut rss_max = rss_before;
    let doc = loop {
        rss_max = rss_max.max(sealscribe_testkit::proc::rss_kib(pid));
        let doc = server.get_json(&token, &format!("/v3/media/{id}")).await;
        if doc["status"] == "failed" || doc["status"] == "finished" {
            break doc;
        }
        assert!(Instant::now() < deadline, "not refused in time: {doc}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(doc["status"], "failed", "{doc}");
    assert_eq!(doc["errors"][0]["code"], 10208, "{doc}");
    let error = doc["errors"][0]["error"].as_str().unwrap();
    assert!(
        error.contains("100:00:00") && error.contains("4:00:00"),
        "{error}"
    );
    let progress = server
        .get_json(&token, &format!("/v3/media/{id}/progress"))
        .await;
    let tasks = progress["progress"]["tasks"].as_array().unwrap();
    let status = |task: &str| {
        tasks
            .iter()
            .find(|t| t["taskId"] == task)
            .map(|t| t["status"].clone())
    };
    assert_eq!(status("probe"), Some("failed".into()), "{progress}");
    assert_ne!(status("transcribe"), Some("completed".into()));
    let hwm_after = sealscribe_testkit::proc::peak_rss_kib(pid);
    let grew = (rss_max - rss_before).max(hwm_after - hwm_before);
    eprintln!(
        "server RSS {rss_before} KiB, max while processing {rss_max} KiB, peak grew {} KiB",
        hwm_after - hwm_before
    );
    assert!(grew < 64 * 1024, "server memory grew by {grew} KiB");
}

/// Files no customer should send: each is refused with a 4xx envelope, or
/// accepted and then ends `failed` with a generic reason (or `finished`, when
/// it is in fact media).
#[tokio::test]
async fn hostile_media_and_parts_end_in_a_4xx_or_a_failed_media() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start();
    let dir = env.data_dir().parent().unwrap().join("corpus");
    std::fs::create_dir_all(&dir).unwrap();
    let corpus = build_corpus(&dir, &env);

    let mut accepted = Vec::new();
    for (name, file_name, bytes, must_refuse) in &corpus {
        let started = Instant::now();
        match post_raw(&server, &token, &[("media", file_name, bytes)]).await {
            Outcome::Refused {
                status,
                code,
                message,
            } => {
                eprintln!("{name}: {status} {code} {message}");
                assert_eq!(status, 400, "{name}");
            }
            Outcome::Accepted(id) => {
                assert!(!must_refuse, "{name} was accepted");
                accepted.push((name, id));
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{name} took too long"
        );
    }
    for (name, id) in accepted {
        let doc = server.wait(&token, &id).await;
        eprintln!("{name}: {} {}", doc["status"], doc["errors"]);
        if doc["status"] == "failed" {
            let code = doc["errors"][0]["code"].as_u64().unwrap();
            assert!([10201, 10208].contains(&code), "{name}: {doc}");
            assert_generic(&doc, &env);
        }
    }

    // Configuration parts an attacker would try: over the size cap (200 KiB:
    // a server that answers before reading the rest may close the socket, and
    // a body far larger than the socket buffers then ends in a broken pipe on
    // our side; the multipart caps themselves are the HTTP-limits suite's),
    // deep (under the size cap, so that the parser's depth limit answers),
    // not UTF-8.
    let silence = {
        let data_len = sealscribe_testkit::wav::RATE * 2;
        let mut wav = sealscribe_testkit::wav::header(data_len).to_vec();
        wav.resize(wav.len() + data_len as usize, 0);
        wav
    };
    let huge = format!(
        "{{\"speechModel\":{{\"language\":\"{}\"}}}}",
        "x".repeat(200 << 10)
    );
    let deep = format!("{}{}", "[".repeat(30_000), "]".repeat(30_000));
    let deep_object = format!("{}1{}", "{\"a\":".repeat(6_000), "}".repeat(6_000));
    let configs: [(&str, &[u8]); 4] = [
        ("huge", huge.as_bytes()),
        ("deep array", deep.as_bytes()),
        ("deep object", deep_object.as_bytes()),
        ("not UTF-8", b"{\"a\":\"\xff\xfe\"}"),
    ];
    for (name, config) in configs {
        let parts: [(&str, &[u8], &[u8]); 2] = [
            ("configuration", b"configuration.json", config),
            ("media", b"call.wav", &silence),
        ];
        match post_raw(&server, &token, &parts).await {
            Outcome::Refused {
                status,
                code,
                message,
            } => {
                eprintln!("configuration {name}: {status} {code} {message}");
            }
            Outcome::Accepted(id) => panic!("configuration {name} was accepted as {id}"),
        }
    }
    // The server is still well.
    let resp = server
        .http
        .get(server.url("/v3/media"))
        .bearer_auth(&token)
        .send()
        .await;
    assert_eq!(resp.unwrap().status(), 200);
}

/// (what, file name, bytes, must be refused at upload)
type Case = (&'static str, Vec<u8>, Vec<u8>, bool);

fn build_corpus(dir: &Path, env: &Env) -> Vec<Case> {
    // Silence, not speech: the cases that are media after all are then
    // processed in moments (silent windows are not recognised).
    let speech = dir.join("silence.wav");
    let data_len = sealscribe_testkit::wav::RATE * 4;
    let mut silence = sealscribe_testkit::wav::header(data_len).to_vec();
    silence.resize(silence.len() + data_len as usize, 0);
    std::fs::write(&speech, &silence).unwrap();
    let s = speech.to_str().unwrap();
    let file = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    ffmpeg(&["-i", s, &file("speech.mp3")]);
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=64x48:rate=5:duration=2",
        "-c:v",
        "mpeg4",
        &file("mute.mkv"),
    ]);
    let wav = std::fs::read(&speech).unwrap();
    let mp3 = std::fs::read(file("speech.mp3")).unwrap();
    let mkv = std::fs::read(file("mute.mkv")).unwrap();
    let text = |t: String| t.into_bytes();
    let victim = env.data_dir().join("sealscribe.db");
    vec![
        ("zero-length", b"call.wav".to_vec(), Vec::new(), true),
        (
            "ffconcat list",
            b"list.ffconcat".to_vec(),
            text(format!("ffconcat version 1.0\nfile '{}'\n", speech.display())),
            true,
        ),
        (
            "concat list without header",
            b"list.txt".to_vec(),
            text(format!("file '{}'\n", speech.display())),
            true,
        ),
        (
            "HLS playlist naming the database",
            b"x.m3u8".to_vec(),
            text(format!("#EXTM3U\n#EXTINF:1,\n{}\n", victim.display())),
            true,
        ),
        (
            "SDP session",
            b"s.sdp".to_vec(),
            b"v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 5004 RTP/AVP 0\n"
                .to_vec(),
            true,
        ),
        ("video without audio", b"mute.mkv".to_vec(), mkv, true),
        ("truncated MP3", b"cut.mp3".to_vec(), mp3[..mp3.len().min(40)].to_vec(), false),
        ("truncated WAV (header only)", b"cut.wav".to_vec(), wav[..44].to_vec(), false),
        (
            "truncated WAV (half the data)",
            b"half.wav".to_vec(),
            wav[..wav.len() / 2].to_vec(),
            false,
        ),
        ("image-sequence pattern name", b"img%03d.png".to_vec(), wav.clone(), false),
        ("non-UTF-8 name", b"r\xe9union\xff.wav".to_vec(), wav.clone(), false),
        (
            "WAV header declaring 4 GiB",
            b"liar.wav".to_vec(),
            {
                let mut w = wav.clone();
                w[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
                w
            },
            false,
        ),
    ]
}
