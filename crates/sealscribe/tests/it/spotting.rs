//! Keyword spotting (`/v3/definition/spotting/groups`, `configuration.spotting`): groups are
//! per account and survive a restart; a phrase the caller says on their channel of a stereo
//! call is spotted as the caller's, at the time they said it (in the document and in its
//! `analytics` callback), with the keywords the media was accepted with; and for encrypted
//! media the results exist only inside the customer's document.
//!
//! Speech is kept short (three sentences in all): the suite runs twice on two loaded cores.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Env, Server, contains, expect_error, json_part};
use crate::conversations::{at, ms, speak, stereo_config};

const GROUPS: &str = "/v3/definition/spotting/groups";

async fn put(server: &Server, token: &str, name: &str, body: &str) -> reqwest::Response {
    server
        .http
        .put(server.url(&format!("{GROUPS}/{name}")))
        .bearer_auth(token)
        .header("Content-Type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

async fn put_ok(server: &Server, token: &str, group: &Value) {
    let name = group["groupName"].as_str().unwrap();
    let resp = put(server, token, name, &group.to_string()).await;
    assert_eq!(resp.status(), 200, "PUT {name}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(&body, group);
}

async fn get(server: &Server, token: &str, name: &str) -> reqwest::Response {
    server
        .http
        .get(server.url(&format!("{GROUPS}/{name}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn delete(server: &Server, token: &str, name: &str) -> reqwest::Response {
    server
        .http
        .delete(server.url(&format!("{GROUPS}/{name}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

fn spotting(names: &[&str]) -> Value {
    let groups: Vec<Value> = names.iter().map(|n| json!({"groupName": n})).collect();
    json!({"spotting": {"groups": groups}})
}

/// The one group of `doc` named `name`.
fn group<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["spotting"]["groups"]
        .as_array()
        .unwrap_or_else(|| panic!("no spotting groups: {doc}"))
        .iter()
        .find(|g| g["groupName"] == name)
        .unwrap_or_else(|| panic!("no group {name}: {}", doc["spotting"]))
}

#[tokio::test]
async fn keyword_groups_are_per_account_validated_and_survive_a_restart() {
    let env = Env::new();
    let acme = env.create_account("acme");
    let other = env.create_account("globex");
    let server = env.start();

    let empty = server.get_json(&acme, GROUPS).await;
    assert_eq!(empty, json!({"groups": []}));
    let competitors = json!({"groupName": "competitors", "keywords": ["globex", "initech"]});
    put_ok(&server, &acme, &competitors).await;
    // PUT replaces.
    let competitors = json!({"groupName": "competitors",
        "keywords": ["globex", "initech", "umbrella corporation"]});
    put_ok(&server, &acme, &competitors).await;
    let churn = json!({"groupName": "churn", "keywords": ["cancel my account", "*  refund"]});
    put_ok(&server, &acme, &churn).await;
    let got: Value = get(&server, &acme, "competitors")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got, competitors);
    let list = server.get_json(&acme, GROUPS).await;
    assert_eq!(list, json!({"groups": [churn, competitors]}));

    // Validation, with the v3 codes; nothing is stored.
    let cases: [(&str, &str, u64); 7] = [
        ("g", "", 80100),
        ("g", "not json", 80100),
        ("g", r#"{"groupName":"g","keywords":[]}"#, 80101),
        ("g", r#"{"groupName":"other","keywords":["a"]}"#, 80102),
        ("g", r#"{"groupName":"g","keywords":["?!"]}"#, 80103),
        (
            "g",
            r#"{"groupName":"g","keywords":["Refund","refund."]}"#,
            80103,
        ),
        (
            "g",
            r#"{"groupName":"g","keywords":["a"],"revision":"1"}"#,
            80100,
        ),
    ];
    for (name, body, code) in cases {
        let message = expect_error(put(&server, &acme, name, body).await, 400, code).await;
        assert!(message.len() > 20, "{body}: {message}");
    }
    let huge = json!({"groupName": "g", "keywords": ["x".repeat(300 * 1024)]}).to_string();
    expect_error(put(&server, &acme, "g", &huge).await, 413, 10800).await;
    expect_error(get(&server, &acme, "g").await, 404, 10205).await;

    // Another account sees none of it, and its own group of the same name is its own.
    expect_error(get(&server, &other, "competitors").await, 404, 10205).await;
    expect_error(delete(&server, &other, "competitors").await, 404, 10205).await;
    assert_eq!(server.get_json(&other, GROUPS).await, json!({"groups": []}));
    let theirs = json!({"groupName": "competitors", "keywords": ["acme"]});
    put_ok(&server, &other, &theirs).await;

    // A configuration naming a group: unknown (or another account's) → 40005.
    let audio = std::fs::read(env.speech("hello", "Hello.")).unwrap();
    for (token, names) in [
        (&other, &["churn"][..]),
        (&acme, &["competitors", "nope"][..]),
    ] {
        let config = spotting(names).to_string();
        let resp = server
            .upload(token, audio.clone(), Some(&config), None)
            .await;
        let message = expect_error(resp, 400, 40005).await;
        assert!(message.contains("spotting.groups"), "{message}");
    }
    for token in [&acme, &other] {
        let list = server.get_json(token, "/v3/media").await;
        assert!(list["media"].as_array().unwrap().is_empty(), "{list}");
    }

    // A restart keeps every group, per account.
    assert!(server.stop(), "clean shutdown");
    let server = env.start();
    let list = server.get_json(&acme, GROUPS).await;
    assert_eq!(list, json!({"groups": [churn, competitors]}));
    let got: Value = get(&server, &other, "competitors")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got, theirs);

    let resp = delete(&server, &acme, "competitors").await;
    assert_eq!(resp.status(), 204);
    assert!(resp.bytes().await.unwrap().is_empty());
    expect_error(get(&server, &acme, "competitors").await, 404, 10205).await;
    expect_error(delete(&server, &acme, "competitors").await, 404, 10205).await;
    let got: Value = get(&server, &other, "competitors")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got, theirs, "the other account's group is untouched");
}

/// A webhook receiver on 127.0.0.1 that keeps every body it is sent.
async fn receiver() -> (Arc<Mutex<Vec<Vec<u8>>>>, String) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let keep = got.clone();
    let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
        let keep = keep.clone();
        async move {
            keep.lock().unwrap().push(body.to_vec());
            axum::http::StatusCode::OK
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (got, base)
}

const AGENT: &str = "Thank you for calling. How can I help?";
const CALLER: &str = "I would like to close my account, please.";

/// The agent (left) asks, the caller (right) answers after a pause; the caller's sentence,
/// in ms.
fn call(dir: &std::path::Path) -> (Vec<u8>, (u64, u64)) {
    let a = speak(dir, "en-gb", AGENT);
    let c = speak(dir, "en-us", CALLER);
    let caller_start = ms(a.len()) + 700;
    let total = at(caller_start) + c.len() + at(500);
    let mut left = vec![0i16; total];
    let mut right = vec![0i16; total];
    left[..a.len()].copy_from_slice(&a);
    right[at(caller_start)..at(caller_start) + c.len()].copy_from_slice(&c);
    (
        sealscribe_testkit::wav::channels_i16(&[&left, &right]),
        (caller_start, caller_start + ms(c.len())),
    )
}

#[tokio::test]
async fn a_phrase_said_on_the_caller_channel_is_spotted_as_the_callers_with_its_time() {
    let env = Env::new();
    let token = env.create_account("contact-centre");
    let server = env.start_with(&["--allow-private-urls"]);
    let (received, base) = receiver().await;
    put_ok(
        &server,
        &token,
        &json!({"groupName": "churn", "keywords": ["close my account", "refund"]}),
    )
    .await;
    put_ok(
        &server,
        &token,
        &json!({"groupName": "praise", "keywords": ["excellent service"]}),
    )
    .await;
    let (audio, (start, end)) = call(env.dir.path());
    let mut config = stereo_config(spotting(&["churn", "praise"]));
    config["publish"] = json!({"callbacks": [
        {"url": format!("{base}/analytics"), "include": ["spotting"]},
    ]});
    let id = server
        .upload_ok(&token, audio, Some(&config.to_string()), None)
        .await;
    // The media keeps the keywords it was accepted with: changing or deleting the groups now
    // changes nothing for it.
    put_ok(
        &server,
        &token,
        &json!({"groupName": "churn", "keywords": ["something else"]}),
    )
    .await;
    assert_eq!(delete(&server, &token, "praise").await.status(), 204);

    let doc = server.wait(&token, &id).await;
    assert_eq!(doc["status"], "finished", "{doc}");
    let churn = group(&doc, "churn");
    let heard = crate::common::words(&doc["transcript"]).join(" ");
    assert_eq!(churn["spotted"], true, "{churn} in {heard}");
    assert_eq!(churn["score"], 0.5, "one keyword of two: {churn}");
    let keywords = churn["spottedKeywords"].as_array().unwrap();
    assert_eq!(keywords.len(), 1, "{churn}");
    assert_eq!(keywords[0]["keyword"], "close my account");
    let mentions = keywords[0]["mentions"].as_array().unwrap();
    assert_eq!(mentions.len(), 1, "only the caller said it: {churn}");
    assert_eq!(mentions[0]["speakerName"], "Caller");
    let occurrences = mentions[0]["occurrences"].as_array().unwrap();
    assert_eq!(occurrences.len(), 1, "{churn}");
    let o = &occurrences[0];
    assert_eq!(
        o["exact"].as_str().unwrap().to_lowercase().replace(',', ""),
        "close my account"
    );
    let (s, e) = (o["s"].as_u64().unwrap(), o["e"].as_u64().unwrap());
    // Within the caller's sentence (whisper's word times are good to a few hundred ms), and
    // not at its very start: "I would like to" comes first.
    assert!(
        s >= start + 300 && s < e && e <= end + 500,
        "{s}–{e} ms in the caller's sentence at {start}–{end} ms"
    );
    assert_eq!(
        group(&doc, "praise"),
        &json!({"groupName": "praise", "spotted": false, "score": 0.0, "spottedKeywords": []})
    );

    // The `analytics` callback carries the same section, and only what it included.
    let deadline = Instant::now() + Duration::from_secs(60);
    while received.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "no analytics callback");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let body: Value = serde_json::from_slice(&received.lock().unwrap()[0]).unwrap();
    assert_eq!(body["spotting"], doc["spotting"]);
    assert!(body.get("transcript").is_none(), "{body}");
}

/// Said in the encrypted media; no other test says it (the scaled backend's WAL is shared).
const CANARY: &str = "lighthouse";
const SENTENCE: &str = "Please send the parcel to the lighthouse office.";

#[tokio::test]
async fn encrypted_media_keeps_spotting_results_inside_the_ciphertext() {
    let env = Env::new();
    let token = env.create_account("bank");
    let server = env.start();
    let gpg = sealscribe_openpgp::testing::GpgHome::new();
    let fpr = gpg.gen_future_default("Bank <calls@example.com>");
    let key_id = server
        .upload_key(&token, gpg.export_public(&fpr, true))
        .await;
    // The wildcard keeps the canary out of the group itself: what was said is found only
    // in the result.
    put_ok(
        &server,
        &token,
        &json!({"groupName": "deliveries", "keywords": ["to the * office", "courier"]}),
    )
    .await;
    let audio = std::fs::read(env.speech("parcel", SENTENCE)).unwrap();
    let mut config = spotting(&["deliveries"]);
    config["encryption"] = json!({"publicKeyId": key_id});
    let form = reqwest::multipart::Form::new()
        .part(
            "configuration",
            json_part("configuration.json", &config.to_string()),
        )
        .part(
            "media",
            reqwest::multipart::Part::bytes(audio)
                .file_name("parcel.wav")
                .mime_str("audio/wav")
                .unwrap(),
        );
    let id = server.post_form_ok(&token, form).await;
    let doc = server.wait(&token, &id).await;
    assert_eq!(doc["status"], "finished", "{doc}");
    let clear = doc.to_string();
    for absent in ["spotting", "spottedKeywords", "deliveries", CANARY, "exact"] {
        assert!(
            !clear.contains(absent),
            "{absent} in the clear document: {clear}"
        );
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
    let g = group(&full, "deliveries");
    assert_eq!(g["spotted"], true, "{g}");
    let kw = &g["spottedKeywords"][0];
    assert_eq!(kw["keyword"], "to the * office", "{g}");
    // Mono without `ingest.speakerName`: the speaker is "unknown".
    assert_eq!(kw["mentions"][0]["speakerName"], "unknown", "{g}");
    let exact = kw["mentions"][0]["occurrences"][0]["exact"]
        .as_str()
        .unwrap()
        .to_lowercase();
    assert_eq!(exact, format!("to the {CANARY} office"), "{g}");

    // Nothing of the result at rest: not the spotted words anywhere; not the result's shape in
    // this test's own files (the PostgreSQL WAL is shared with tests of plain media).
    assert!(server.stop(), "clean shutdown");
    let mut found = Vec::new();
    let files = env.files_at_rest().await;
    for (place, bytes) in &files {
        let lower = bytes.to_ascii_lowercase();
        let shared = place.contains("pg_wal");
        for c in [CANARY, "spottedkeywords", "\"spotted\""] {
            if (c == CANARY || !shared) && contains(&lower, c.as_bytes()) {
                found.push(format!("{c} in {place}"));
            }
        }
    }
    assert!(found.is_empty(), "{found:?}");
    // Control: the scan reads the database, where the group and the configuration (the
    // keywords to look for, not what was found) are kept in clear.
    assert!(
        files
            .iter()
            .any(|(_, bytes)| contains(&bytes.to_ascii_lowercase(), b"to the * office")),
        "the scan sees the stored group"
    );
}
