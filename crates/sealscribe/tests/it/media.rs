//! `/v3/media` end to end, with speech synthesised by espeak-ng and real recognition.

use std::process::Command;

use reqwest::header::{ACCEPT, CONTENT_RANGE, CONTENT_TYPE, RANGE};
use serde_json::{Value, json};

use sealscribe_testkit::proc;
use sha2::Digest;

use crate::common::{Env, Server, expect_error, json_part, serve_file, words};

const SPOKEN: &str =
    "The weather today is sunny and warm. Please call the office tomorrow morning.";

fn read(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

async fn search(server: &Server, token: &str, query: &str) -> Vec<String> {
    let doc = server.get_json(token, &format!("/v3/media?{query}")).await;
    doc["media"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mediaId"].as_str().unwrap().to_owned())
        .collect()
}

/// Parses SRT or WebVTT cues into (start ms, end ms, text).
fn cues(text: &str, vtt: bool) -> Vec<(u64, u64, String)> {
    let ms = |t: &str| -> u64 {
        let t = t.trim().replace(',', ".");
        let (hms, millis) = t.split_once('.').unwrap();
        let parts: Vec<u64> = hms.split(':').map(|p| p.parse().unwrap()).collect();
        ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * 1000 + millis.parse::<u64>().unwrap()
    };
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let lines: Vec<&str> = block.lines().filter(|l| !l.is_empty()).collect();
        let Some(i) = lines.iter().position(|l| l.contains(" --> ")) else {
            continue;
        };
        let (a, b) = lines[i].split_once(" --> ").unwrap();
        out.push((ms(a), ms(b), lines[i + 1..].join("\n")));
    }
    assert!(!vtt || text.starts_with("WEBVTT"));
    out
}

/// Upload → poll → finished → every read works: the document, the transcript
/// in JSON, text, SRT and WebVTT (by path and by Accept), progress, the
/// original stream (whole and by Range), metadata, search, and deletion.
#[tokio::test]
async fn upload_transcribe_read_search_delete() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start();
    let audio = read(&env.speech("weather", SPOKEN));

    let id = server
        .upload_ok(
            &token,
            audio.clone(),
            Some("{}"),
            Some(r#"{"title":"Forecast call","externalId":"call-42","extended":{"agent":"x"}}"#),
        )
        .await;
    let doc = server.wait(&token, &id).await;
    assert_eq!(doc["status"], "finished", "{doc}");
    assert!(doc["length"].as_u64().unwrap() > 3000);
    assert_eq!(doc["metadata"]["externalId"], "call-42");
    assert_eq!(doc["_links"]["self"]["href"], format!("/v3/media/{id}"));

    // The transcript: the spoken words, in order, with plausible timings.
    let transcript = server
        .get_json(&token, &format!("/v3/media/{id}/transcript"))
        .await;
    let got = words(&transcript);
    // Words the models recognise reliably in this espeak voice ("The weather" at
    // the very start of the clip is sometimes misheard).
    for expected in ["sunny", "warm", "office", "tomorrow", "morning"] {
        assert!(
            got.iter().any(|w| w == expected),
            "{expected:?} missing from {got:?}"
        );
    }
    let ws = transcript["words"].as_array().unwrap();
    let mut last = 0;
    for w in ws {
        let (s, e) = (w["s"].as_u64().unwrap(), w["e"].as_u64().unwrap());
        assert!(s >= last && e >= s, "timings are monotonic: {w}");
        assert!((0.0..=1.0).contains(&w["c"].as_f64().unwrap()));
        last = s;
    }
    assert_eq!(
        doc["transcript"], transcript,
        "the document embeds the transcript"
    );

    // Renditions by path and by Accept.
    let text = server
        .http
        .get(server.url(&format!("/v3/media/{id}/transcript/text")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(
        text.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(
        text.text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("tomorrow")
    );
    for (accept, vtt) in [("text/srt", false), ("text/vtt", true)] {
        let resp = server
            .http
            .get(server.url(&format!("/v3/media/{id}/transcript")))
            .bearer_auth(&token)
            .header(ACCEPT, accept)
            .send()
            .await
            .unwrap();
        assert!(
            resp.headers()[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with(accept)
        );
        let body = resp.text().await.unwrap();
        let parsed = cues(&body, vtt);
        assert!(!parsed.is_empty(), "{body}");
        let mut prev_end = 0;
        for (s, e, text) in &parsed {
            assert!(
                s >= &prev_end && e > s,
                "cues are ordered and do not overlap: {body}"
            );
            assert!(text.lines().all(|l| l.chars().count() <= 42));
            prev_end = *e;
        }
        let all: String = parsed
            .iter()
            .map(|c| c.2.to_lowercase().replace('\n', " "))
            .collect::<Vec<_>>()
            .join(" ");
        assert!(all.contains("sunny") && all.contains("morning"), "{all}");
    }
    let srt = server
        .http
        .get(server.url(&format!("/v3/media/{id}/transcript/srt")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(srt.starts_with("1\n"));
    let vtt = server
        .http
        .get(server.url(&format!("/v3/media/{id}/transcript/webvtt")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(vtt.starts_with("WEBVTT"));

    // Progress shows the pipeline's tasks, all done.
    let progress = server
        .get_json(&token, &format!("/v3/media/{id}/progress"))
        .await;
    assert_eq!(progress["progress"]["status"], "finished");
    let tasks = progress["progress"]["tasks"].as_array().unwrap();
    for task in ["probe", "transcribe", "transcript", "index"] {
        let t = tasks.iter().find(|t| t["taskId"] == task).unwrap();
        assert_eq!(t["status"], "completed", "{t}");
    }

    // Streams: the original bytes, whole and by range.
    let streams = server
        .get_json(&token, &format!("/v3/media/{id}/streams"))
        .await;
    assert_eq!(streams["streams"][0]["streamName"], "original");
    let location = streams["streams"][0]["streamLocation"]
        .as_str()
        .unwrap()
        .to_owned();
    let whole = server
        .http
        .get(server.url(&location))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(whole.headers()[CONTENT_TYPE], "audio/wav");
    assert_eq!(whole.bytes().await.unwrap().as_ref(), audio.as_slice());
    let part = server
        .http
        .get(server.url(&location))
        .bearer_auth(&token)
        .header(RANGE, "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()[CONTENT_RANGE],
        format!("bytes 100-199/{}", audio.len())
    );
    assert_eq!(part.bytes().await.unwrap().as_ref(), &audio[100..200]);
    let beyond = server
        .http
        .get(server.url(&location))
        .bearer_auth(&token)
        .header(RANGE, format!("bytes={}-", audio.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.status(), 416);

    // Search: a spoken word and the title match; an unspoken word does not.
    assert_eq!(
        search(&server, &token, "query=sunny").await,
        vec![id.clone()]
    );
    assert_eq!(
        search(&server, &token, "query=title:forecast").await,
        vec![id.clone()]
    );
    assert!(search(&server, &token, "query=elephant").await.is_empty());
    assert_eq!(
        search(&server, &token, "externalId=call-42").await,
        vec![id.clone()]
    );
    assert!(
        search(&server, &token, "externalId=call-43")
            .await
            .is_empty()
    );

    // Metadata: replace, and the index follows.
    let put = server
        .http
        .put(server.url(&format!("/v3/media/{id}/metadata")))
        .bearer_auth(&token)
        .json(&json!({"title": "Quarterly review", "description": "budget"}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let meta = server
        .get_json(&token, &format!("/v3/media/{id}/metadata"))
        .await;
    assert_eq!(meta["title"], "Quarterly review");
    assert_eq!(
        search(&server, &token, "query=quarterly").await,
        vec![id.clone()]
    );
    assert!(search(&server, &token, "query=forecast").await.is_empty());

    // Another account sees none of it.
    let other = env.create_account("other");
    expect_error(
        server
            .http
            .get(server.url(&format!("/v3/media/{id}")))
            .bearer_auth(&other)
            .send()
            .await
            .unwrap(),
        404,
        10205,
    )
    .await;
    assert!(search(&server, &other, "query=sunny").await.is_empty());

    // Delete: everything goes, including the files.
    let del = server
        .http
        .delete(server.url(&format!("/v3/media/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    expect_error(
        server
            .http
            .get(server.url(&format!("/v3/media/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        404,
        10205,
    )
    .await;
    assert!(search(&server, &token, "query=sunny").await.is_empty());
    let leftovers: Vec<_> = env
        .blob_names()
        .await
        .into_iter()
        .filter(|n| n.contains(&id))
        .collect();
    assert!(
        leftovers.is_empty(),
        "files left for deleted media: {leftovers:?}"
    );
}

/// VoiceBase's own Python client pattern (requests, file parts with MIME types).
#[tokio::test]
async fn python_requests_client_uploads() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start();
    let audio = env.speech(
        "hello",
        "Thank you for calling, welcome to the service desk.",
    );
    let script = r#"
import json, sys, requests
url, token, path = sys.argv[1:4]
with open(path, "rb") as f:
    r = requests.post(url + "/v3/media",
        headers={"Authorization": "Bearer " + token},
        files=[("media", ("hello.wav", f, "audio/wav")),
               ("configuration", ("configuration.json", json.dumps({}), "application/json")),
               ("metadata", ("metadata.json", json.dumps({"title": "python"}), "application/json"))])
r.raise_for_status()
print(r.json()["mediaId"])
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&server.base)
        .arg(&token)
        .arg(&audio)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let doc = server.wait(&token, &id).await;
    assert_eq!(doc["status"], "finished");
    assert_eq!(doc["metadata"]["title"], "python");
    assert!(
        words(&doc["transcript"]).contains(&"service".to_owned()),
        "{}",
        doc["transcript"]
    );
}

/// Every malformed upload is a clear 4xx with its v3 code, and nothing is stored.
#[tokio::test]
async fn bad_uploads_are_refused_and_leave_nothing() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start_with(&["--allow-private-urls"]);
    let audio = read(&env.speech("short", "Testing one two three."));
    let post = |form: reqwest::multipart::Form| {
        server
            .http
            .post(server.url("/v3/media"))
            .bearer_auth(&token)
            .multipart(form)
            .send()
    };
    let media = || {
        reqwest::multipart::Part::bytes(audio.clone())
            .file_name("a.wav")
            .mime_str("audio/wav")
            .unwrap()
    };
    use reqwest::multipart::{Form, Part};

    expect_error(
        post(Form::new().part("configuration", json_part("c.json", "{}")))
            .await
            .unwrap(),
        400,
        10202,
    )
    .await;
    expect_error(
        post(
            Form::new()
                .part("media", media())
                .text("mediaUrl", "http://127.0.0.1:9/x.wav"),
        )
        .await
        .unwrap(),
        400,
        10202,
    )
    .await;
    expect_error(
        post(
            Form::new()
                .part("media", media())
                .part("configuration", json_part("c.json", "{}"))
                .part("configuration", json_part("c.json", "{}")),
        )
        .await
        .unwrap(),
        400,
        10206,
    )
    .await;
    expect_error(
        post(Form::new().part("media", media()).part("media", media()))
            .await
            .unwrap(),
        400,
        10206,
    )
    .await;
    expect_error(
        post(
            Form::new()
                .part("media", media())
                .part("configuration", json_part("c.json", "{\"priority\": ")),
        )
        .await
        .unwrap(),
        400,
        10007,
    )
    .await;
    let msg = expect_error(
        post(Form::new().part("media", media()).part(
            "configuration",
            json_part("c.json", r#"{"speechModel":{"colour":"blue"}}"#),
        ))
        .await
        .unwrap(),
        400,
        10008,
    )
    .await;
    assert!(msg.contains("speechModel.colour"), "{msg}");
    let msg = expect_error(
        post(Form::new().part("media", media()).part(
            "configuration",
            json_part("c.json", r#"{"speakerSentiments":true}"#),
        ))
        .await
        .unwrap(),
        400,
        10601,
    )
    .await;
    assert!(msg.contains("speakerSentiments"), "{msg}");
    let huge = format!(
        r#"{{"title":"x","extended":{{"blob":"{}"}}}}"#,
        "a".repeat(100 * 1024)
    );
    expect_error(
        post(
            Form::new()
                .part("media", media())
                .part("metadata", json_part("m.json", &huge)),
        )
        .await
        .unwrap(),
        413,
        10800,
    )
    .await;
    expect_error(
        post(
            Form::new()
                .part("media", media())
                .part("metadata", json_part("m.json", "[1,2]")),
        )
        .await
        .unwrap(),
        400,
        10107,
    )
    .await;
    let not_media = Part::bytes(b"This is a text file, not a recording.\n".repeat(100))
        .file_name("notes.wav")
        .mime_str("audio/wav")
        .unwrap();
    let msg = expect_error(
        post(Form::new().part("media", not_media)).await.unwrap(),
        400,
        10201,
    )
    .await;
    assert!(msg.contains("not a readable audio or video file"), "{msg}");
    expect_error(
        post(Form::new().text("mediaUrl", "http://127.0.0.1:9/nothing-listens-here.wav"))
            .await
            .unwrap(),
        400,
        10203,
    )
    .await;
    // A 404 reads like a closed port (no mapping of internal services).
    expect_error(
        post(Form::new().text("mediaUrl", serve_file(Vec::new(), 404)))
            .await
            .unwrap(),
        400,
        10203,
    )
    .await;
    expect_error(
        post(Form::new().text("mediaUrl", "ftp://example.com/a.wav"))
            .await
            .unwrap(),
        400,
        10204,
    )
    .await;
    expect_error(
        post(Form::new().part("media", media()).text("surprise", "x"))
            .await
            .unwrap(),
        400,
        10001,
    )
    .await;
    let garbage = server
        .http
        .post(server.url("/v3/media"))
        .bearer_auth(&token)
        .header(CONTENT_TYPE, "multipart/form-data; boundary=zzz")
        .body("--zzz\r\nnot a part")
        .send()
        .await
        .unwrap();
    expect_error(garbage, 400, 10001).await;
    let json_body = server
        .http
        .post(server.url("/v3/media"))
        .bearer_auth(&token)
        .json(&json!({"media": "x"}))
        .send()
        .await
        .unwrap();
    let msg = expect_error(json_body, 400, 10001).await;
    assert!(msg.contains("multipart/form-data"), "{msg}");

    assert!(
        search(&server, &token, "").await.is_empty(),
        "no media was created"
    );
    let blobs = env.blob_names().await;
    assert!(blobs.is_empty(), "no blob was left behind: {blobs:?}");
}

/// A mediaUrl is fetched by the worker; one that serves something that is not
/// media ends `failed` with the reason in the document and in progress.
#[tokio::test]
async fn media_url_fetch_and_failure_reason() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start_with(&["--allow-private-urls"]);
    let audio = read(&env.speech("url", "Fetched from a web server."));
    let url = serve_file(audio.clone(), 200);
    let form = reqwest::multipart::Form::new().text("mediaUrl", url);
    let id = server.post_form_ok(&token, form).await;
    let doc = server.wait(&token, &id).await;
    assert_eq!(doc["status"], "finished", "{doc}");
    assert!(
        words(&doc["transcript"]).contains(&"server".to_owned()),
        "{}",
        doc["transcript"]
    );
    let original = server
        .http
        .get(server.url(&format!("/v3/media/{id}/streams/original")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(original.bytes().await.unwrap().as_ref(), audio.as_slice());

    let junk = serve_file(b"<html>not audio</html>".repeat(50), 200);
    let form = reqwest::multipart::Form::new().text("mediaUrl", junk);
    let id = server
        .http
        .post(server.url("/v3/media"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["mediaId"]
        .as_str()
        .unwrap()
        .to_owned();
    let doc = server.wait(&token, &id).await;
    assert_eq!(doc["status"], "failed");
    assert_eq!(doc["errors"][0]["code"], 10201, "{doc}");
    // The decoder's complaint, without the server's file paths.
    let error = doc["errors"][0]["error"].as_str().unwrap();
    assert!(
        !error.contains("blobs") && !error.contains("/tmp"),
        "{error}"
    );
    let progress = server
        .get_json(&token, &format!("/v3/media/{id}/progress"))
        .await;
    assert_eq!(progress["progress"]["status"], "failed");
    assert_eq!(progress["progress"]["errors"][0]["code"], 10201);
    let tasks = progress["progress"]["tasks"].as_array().unwrap();
    assert!(
        tasks
            .iter()
            .any(|t| t["taskId"] == "probe" && t["status"] == "failed"),
        "{progress}"
    );
    expect_error(
        server
            .http
            .get(server.url(&format!("/v3/media/{id}/transcript")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        404,
        10301,
    )
    .await;
}

/// Paging with `after` cursors returns each media exactly once, both orders;
/// limits are enforced.
#[tokio::test]
async fn paging_returns_each_media_once() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start();
    let audio = read(&env.speech("page", "Page."));
    let mut ids = Vec::new();
    for _ in 0..7 {
        ids.push(server.upload_ok(&token, audio.clone(), None, None).await);
    }
    for order in ["asc", "desc"] {
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut q = format!("limit=3&sortOrder={order}");
            if let Some(a) = &after {
                q.push_str(&format!("&after={a}"));
            }
            let page = search(&server, &token, &q).await;
            if page.is_empty() {
                break;
            }
            assert!(page.len() <= 3);
            after = page.last().cloned();
            seen.extend(page);
        }
        let mut expected = ids.clone();
        if order == "desc" {
            expected.reverse();
        }
        assert_eq!(seen, expected, "{order}: each media once, in order");
    }
    assert_eq!(
        search(&server, &token, &format!("before={}&sortOrder=asc", ids[3])).await,
        ids[..3].to_vec()
    );
    assert_eq!(
        search(&server, &token, "onOrAfterDate=2000-01-01")
            .await
            .len(),
        7
    );
    assert!(
        search(&server, &token, "onOrBeforeDate=2000-01-01")
            .await
            .is_empty()
    );
    for bad in [
        "limit=0",
        "limit=1001",
        "limit=ten",
        "sortOrder=sideways",
        "after=nope",
        "onOrAfterDate=yesterday",
        "colour=blue",
    ] {
        expect_error(
            server
                .http
                .get(server.url(&format!("/v3/media?{bad}")))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap(),
            400,
            10001,
        )
        .await;
    }
}

/// Alignment: a corrected text gets timings from the recognised audio;
/// reprocessing runs the pipeline again.
#[tokio::test]
async fn alignment_and_reprocessing() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start();
    let audio = read(&env.speech(
        "align",
        "Please send the invoice to our accounting department before Friday.",
    ));
    let id = server.upload_ok(&token, audio, None, None).await;
    assert_eq!(server.wait(&token, &id).await["status"], "finished");

    let corrected = "Please send the invoice to our accounting department before Friday, Anne.";
    let form = reqwest::multipart::Form::new()
        .part("configuration", json_part("c.json", "{}"))
        .text("transcript", corrected);
    let resp = server
        .http
        .post(server.url(&format!("/v3/media/{id}")))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let transcript = server
        .get_json(&token, &format!("/v3/media/{id}/transcript"))
        .await;
    let expected: Vec<String> = corrected
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .collect();
    assert_eq!(words(&transcript), expected);
    let starts: Vec<u64> = transcript["words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["s"].as_u64().unwrap())
        .collect();
    assert!(starts.windows(2).all(|p| p[0] <= p[1]), "{starts:?}");
    assert!(
        starts[starts.len() - 2] > 1000,
        "aligned words carry the audio's timings: {starts:?}"
    );
    assert_eq!(
        search(&server, &token, "query=anne").await,
        vec![id.clone()],
        "the index follows the aligned text"
    );
    // Speaker search is accepted; mono media have no speakers to match.
    assert!(
        search(&server, &token, "query=Caller:anne")
            .await
            .is_empty()
    );

    // A text naming its speakers: turns in the transcript, speakers in the index.
    let labelled = "Agent: Please send the invoice to our accounting department.\n\
                    Caller: Before Friday, Anne.";
    let form = reqwest::multipart::Form::new()
        .part("configuration", json_part("c.json", "{}"))
        .text("transcript", labelled);
    let resp = server
        .http
        .post(server.url(&format!("/v3/media/{id}")))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let transcript = server
        .get_json(&token, &format!("/v3/media/{id}/transcript"))
        .await;
    let turns: Vec<&str> = transcript["turns"]
        .as_array()
        .unwrap_or_else(|| panic!("no turns: {transcript}"))
        .iter()
        .map(|t| t["speaker"].as_str().unwrap())
        .collect();
    assert_eq!(turns, ["Agent", "Caller"]);
    assert_eq!(transcript["words"][0]["m"], "turn");
    assert_eq!(
        search(&server, &token, "query=caller:anne").await,
        vec![id.clone()]
    );
    assert!(search(&server, &token, "query=Agent:anne").await.is_empty());
    assert_eq!(
        search(&server, &token, "query=Agent:invoice%20Caller:friday").await,
        vec![id.clone()]
    );
    // NUL is no plain text: refused, and the aligned transcript stays.
    let form = reqwest::multipart::Form::new()
        .part("configuration", json_part("c.json", "{}"))
        .text("transcript", "Agent: Please\0 send");
    let resp = server
        .http
        .post(server.url(&format!("/v3/media/{id}")))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    expect_error(resp, 400, 10001).await;
    assert_eq!(
        search(&server, &token, "query=caller:anne").await,
        vec![id.clone()]
    );

    let form = reqwest::multipart::Form::new().part("configuration", json_part("c.json", "{}"));
    let resp = server
        .http
        .post(server.url(&format!("/v3/media/{id}")))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let doc = server.wait(&token, &id).await;
    assert_eq!(doc["status"], "finished");
    assert!(words(&doc["transcript"]).contains(&"invoice".to_owned()));
}

/// kill -9 during processing: after a restart the job is taken up again once
/// its lease expires, and the media finishes; nothing is lost.
#[tokio::test]
async fn crash_during_processing_loses_nothing() {
    let env = Env::new();
    let token = env.create_account("acme");
    // Short on purpose: the kill comes as soon as a worker claims the job, so
    // a few sentences are enough, and the suite runs this twice on 2 cores.
    let long: String = (0..3)
        .map(|i| format!("Sentence number {i} talks about the quarterly budget review. "))
        .collect();
    let audio = read(&env.speech("long", &long));
    let server = env.start_with(&["--job-lease-secs", "3"]);
    let id = server.upload_ok(&token, audio, None, None).await;
    // Wait until a worker has the job, then kill the process outright.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while server.get_json(&token, &format!("/v3/media/{id}")).await["status"] != "running" {
        assert!(std::time::Instant::now() < deadline, "job never started");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Command::new("kill")
        .args(["-9", &server.pid().to_string()])
        .status()
        .unwrap();
    drop(server);

    let server = env.start_with(&["--job-lease-secs", "3"]);
    let doc = server.wait(&token, &id).await;
    assert_eq!(doc["status"], "finished", "{doc}");
    assert!(words(&doc["transcript"]).contains(&"budget".to_owned()));
}

/// A stored configuration the worker cannot read (here: detectors in a shape
/// no version wrote, as a newer version's could be to an older worker) fails
/// the job with a reason a person can act on; it is never processed as the
/// default, which would store and index the transcript without its detectors.
#[tokio::test]
async fn unreadable_stored_configuration_fails_the_job() {
    let env = Env::new();
    let token = env.create_account("acme");
    let audio = read(&env.speech("card", "my card number is 4111 1111 1111 1111, a sunny day"));
    let config = json!({"prediction": {"detectors": [
        {"detectorName": "PCI", "redactor": {"transcript": {"replacement": "[redacted]"}}},
    ]}});
    let server = env.start_with(&["--workers", "0"]);
    let id = server
        .upload_ok(&token, audio, Some(&config.to_string()), None)
        .await;
    assert!(server.stop());
    env.sql(&format!(
        "update media set configuration = '{{\"detectors\": {{\"v9\": [\"PCI\"]}}}}' \
         where id = '{id}'"
    ))
    .await;

    let server = env.start();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let progress = loop {
        let p = server
            .get_json(&token, &format!("/v3/media/{id}/progress"))
            .await;
        if p["status"] != "accepted" && p["status"] != "running" {
            break p;
        }
        assert!(std::time::Instant::now() < deadline, "never ended: {p}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(progress["status"], "failed", "{progress}");
    let error = progress["progress"]["errors"][0]["error"].as_str().unwrap();
    assert!(
        error.contains("configuration cannot be read") && error.contains("Reprocess"),
        "{error}"
    );
    // Nothing was recognised, stored or indexed.
    let tasks = progress["progress"]["tasks"].as_array().unwrap();
    assert!(tasks.iter().all(|t| t["status"] == "skipped"), "{progress}");
    expect_error(
        server
            .http
            .get(server.url(&format!("/v3/media/{id}/transcript")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        404,
        10301,
    )
    .await;
    assert!(search(&server, &token, "query=sunny").await.is_empty());
    // The API does not render the document from a default configuration either.
    expect_error(
        server
            .http
            .get(server.url(&format!("/v3/media/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        500,
        90000,
    )
    .await;
    assert!(env.log().contains("stored configuration of media"));
}

/// A 400 MiB upload streams to the blob store: the server's peak memory grows
/// by a small fraction of the file, and the stored stream is byte-identical.
#[tokio::test]
async fn large_upload_streams_with_flat_memory() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start_with(&["--workers", "0"]);
    let path = env.dir.path().join("big.wav");
    let size: u32 = 400 << 20;
    sealscribe_testkit::wav::write_silence(&path, size);
    let before = proc::peak_rss_kib(server.pid());
    // curl streams the file from disk, as customers upload.
    let out = Command::new("curl")
        .args([
            "-sS",
            "--fail-with-body",
            "-H",
            &format!("Authorization: Bearer {token}"),
            "-F",
        ])
        .arg(format!("media=@{};type=audio/wav", path.display()))
        .arg(server.url("/v3/media"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = body["mediaId"].as_str().unwrap();
    let growth_mib = (proc::peak_rss_kib(server.pid()) - before) / 1024;
    assert!(
        growth_mib < 64,
        "peak RSS grew by {growth_mib} MiB for a 400 MiB upload"
    );
    // The stored blob is the upload, byte for byte (hashed as it streams).
    let blobs = env.blob_store();
    let (mut stream, _, stored_size) = blobs
        .read(
            &sealscribe_store::media_blob(id.parse().unwrap(), "original"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(stored_size, u64::from(size) + 44);
    let mut stored_hash = sha2::Sha256::new();
    while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
        stored_hash.update(chunk.unwrap());
    }
    let mut file_hash = sha2::Sha256::new();
    std::io::copy(&mut std::fs::File::open(&path).unwrap(), &mut file_hash).unwrap();
    assert_eq!(
        stored_hash.finalize(),
        file_hash.finalize(),
        "the stored stream is the upload, byte for byte"
    );
}
