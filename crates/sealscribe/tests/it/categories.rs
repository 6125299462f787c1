//! Categories (`/v3/definition/categories`, `configuration.categories[]`): definitions per
//! account that survive a restart, VBQL errors with their position, a category that matches
//! one call and not another, speaker scoping on a stereo call, and an encrypted media whose
//! category results exist only inside the customer's document.
//!
//! Speech is one short sentence per media (two on the stereo call): the suite runs twice on two
//! loaded cores.

use reqwest::Response;
use serde_json::{Value, json};

use crate::common::{Env, Server, contains, expect_error, json_part};
use crate::conversations::{RATE, speak, stereo_config};
use sealscribe_testkit::wav::channels_i16;

const CATEGORIES: &str = "/v3/definition/categories";

async fn put(server: &Server, token: &str, name: &str, body: &Value) -> Response {
    server
        .http
        .put(server.url(&format!("{CATEGORIES}/{name}")))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn put_ok(server: &Server, token: &str, name: &str, query: &str) {
    let resp = put(server, token, name, &json!({ "query": query })).await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "PUT {name}: {body}");
    assert_eq!(body["categoryName"], name);
    assert_eq!(body["query"], query);
}

async fn status_of(server: &Server, token: &str, method: reqwest::Method, name: &str) -> u16 {
    server
        .http
        .request(method, server.url(&format!("{CATEGORIES}/{name}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The category results of a document, by name: `(categoryValue, categoryMatches)`.
fn results(doc: &Value) -> Vec<(String, u64, Value)> {
    doc["categories"]
        .as_array()
        .unwrap_or_else(|| panic!("no categories: {doc}"))
        .iter()
        .map(|c| {
            (
                c["categoryName"].as_str().unwrap().to_owned(),
                c["categoryValue"].as_u64().unwrap(),
                c.get("categoryMatches").cloned().unwrap_or(Value::Null),
            )
        })
        .collect()
}

#[tokio::test]
async fn definitions_are_per_account_validated_and_survive_a_restart() {
    let env = Env::new();
    let token = env.create_account("acme");
    let other = env.create_account("globex");
    let server = env.start();

    let full = json!({
        "categoryName": "greeting",
        "categoryDescription": "Participants saying hello",
        "query": "SELECT * FROM media MATCH 'hello'",
        "notes": "free text",
        "tags": ["hello", "greeting"],
        "version": "0.0.1",
    });
    let resp = put(&server, &token, "greeting", &full).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["tags"], full["tags"]);
    assert_eq!(
        body["_links"]["self"]["href"],
        "/v3/definition/categories/greeting"
    );
    put_ok(
        &server,
        &token,
        "churn",
        "SELECT * FROM media WHERE * SAYS 'cancel'",
    )
    .await;

    // Errors: a syntax error says where and what was expected; the other codes.
    let resp = put(
        &server,
        &token,
        "broken",
        &json!({"query": "SELECT * FROM media WHERE 'agent' SAYS 'x' AND"}),
    )
    .await;
    let message = expect_error(resp, 400, 80403).await;
    assert!(
        message.contains("offset 46") && message.contains("expected a condition"),
        "{message}"
    );
    let resp = put(
        &server,
        &token,
        "a",
        &json!({"categoryName": "b", "query": "SELECT * FROM media MATCH 'x'"}),
    )
    .await;
    expect_error(resp, 400, 80401).await;
    let resp = put(
        &server,
        &token,
        "two%20words",
        &json!({"query": "SELECT * FROM media MATCH 'x'"}),
    )
    .await;
    expect_error(resp, 400, 80402).await;
    let resp = put(
        &server,
        &token,
        "a",
        &json!({"query": "SELECT * FROM media MATCH 'x'", "colour": 1}),
    )
    .await;
    expect_error(resp, 400, 80400).await;
    let resp = put(
        &server,
        &token,
        "a",
        &json!({"query": "SELECT * FROM media MATCH 'x'", "notes": "n".repeat(4001)}),
    )
    .await;
    expect_error(resp, 400, 80404).await;
    let list = server.get_json(&token, CATEGORIES).await;
    let names: Vec<&str> = list["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["categoryName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["churn", "greeting"],
        "nothing refused was stored: {list}"
    );

    // Another account sees nothing of them, and cannot delete them.
    let theirs = server.get_json(&other, CATEGORIES).await;
    assert_eq!(theirs["categories"], json!([]));
    assert_eq!(
        status_of(&server, &other, reqwest::Method::GET, "greeting").await,
        404
    );
    assert_eq!(
        status_of(&server, &other, reqwest::Method::DELETE, "greeting").await,
        404
    );
    // Nor use them: an unknown name is a 400 at upload (nothing is processed).
    let audio = std::fs::read(env.speech("hello", "Hello.")).unwrap();
    let config = json!({"categories": [{"categoryName": "greeting"}]}).to_string();
    let resp = server
        .upload(&other, audio.clone(), Some(&config), None)
        .await;
    let message = expect_error(resp, 400, 16101).await;
    assert!(message.contains("greeting"), "{message}");
    let config = json!({"categories": [{"allCategories": true}, {"categoryName": "greeting"}]});
    let resp = server
        .upload(&token, audio, Some(&config.to_string()), None)
        .await;
    expect_error(resp, 400, 16102).await;

    // A restart keeps them.
    assert!(server.stop(), "clean shutdown");
    let server = env.start();
    let got = server
        .get_json(&token, &format!("{CATEGORIES}/greeting"))
        .await;
    assert_eq!(got["categoryDescription"], full["categoryDescription"]);
    assert_eq!(got["query"], full["query"]);
    assert_eq!(
        status_of(&server, &token, reqwest::Method::DELETE, "greeting").await,
        204
    );
    assert_eq!(
        status_of(&server, &token, reqwest::Method::GET, "greeting").await,
        404
    );
    assert_eq!(
        status_of(&server, &token, reqwest::Method::DELETE, "greeting").await,
        404
    );
}

/// Two short calls: the churn category matches the one where the caller cancels, not the other;
/// a metadata condition selects by an extended field; `allCategories` evaluates every one.
#[tokio::test]
async fn a_category_matches_one_call_and_not_another() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start();
    put_ok(
        &server,
        &token,
        "churn",
        "SELECT * FROM media MATCH 'cancel' OR 'close my account'",
    )
    .await;
    put_ok(
        &server,
        &token,
        "retention-team",
        "SELECT mediaId FROM media WHERE metadata.extended.team = 'retention' AND NOT 'goodbye'",
    )
    .await;
    put_ok(
        &server,
        &token,
        "polite",
        "SELECT * FROM media WHERE HITS('thank you' || 'please') >= 1",
    )
    .await;

    let cancel =
        std::fs::read(env.speech("cancel", "Please cancel my subscription today.")).unwrap();
    let thanks = std::fs::read(env.speech("thanks", "Thank you, the weather is lovely.")).unwrap();
    let config = json!({"categories": [{"allCategories": true}]}).to_string();
    let meta = json!({"extended": {"team": "retention"}}).to_string();
    let first = server
        .upload_ok(&token, cancel, Some(&config), Some(&meta))
        .await;
    let config =
        json!({"categories": [{"categoryName": "churn"}, {"categoryName": "polite"}]}).to_string();
    let second = server.upload_ok(&token, thanks, Some(&config), None).await;

    // Changing a definition after upload does not change a media already accepted.
    put_ok(
        &server,
        &token,
        "churn",
        "SELECT * FROM media MATCH 'weather'",
    )
    .await;

    let doc = server.wait(&token, &first).await;
    assert_eq!(doc["status"], "finished", "{doc}");
    let got = results(&doc);
    assert_eq!(
        got.iter()
            .map(|(n, v, _)| (n.as_str(), *v))
            .collect::<Vec<_>>(),
        [("churn", 1), ("polite", 1), ("retention-team", 1)],
        "{doc}"
    );
    let churn = &got[0].2;
    assert_eq!(churn[0]["speakerName"], "unknown", "{churn}");
    let occ = &churn[0]["occurrences"][0];
    assert_eq!(
        occ["exact"].as_str().unwrap().to_lowercase(),
        "cancel",
        "{churn}"
    );
    assert!(
        occ["s"].as_u64().unwrap() < occ["e"].as_u64().unwrap(),
        "{occ}"
    );
    // Matched on metadata alone: no occurrences.
    assert_eq!(got[2].2, Value::Null, "{doc}");

    let doc = server.wait(&token, &second).await;
    assert_eq!(doc["status"], "finished", "{doc}");
    let got = results(&doc);
    assert_eq!(
        got.iter()
            .map(|(n, v, _)| (n.as_str(), *v))
            .collect::<Vec<_>>(),
        [("churn", 0), ("polite", 1)],
        "{doc}"
    );
    assert_eq!(got[0].2, Value::Null, "no matches without a match: {doc}");
    assert!(
        got[1].2.to_string().to_lowercase().contains("thank you"),
        "{doc}"
    );
}

/// A stereo call: the agent (left) greets, the caller (right) cancels; categories scoped to a
/// speaker see only that speaker's words.
#[tokio::test]
async fn speaker_scoping_on_a_stereo_call() {
    let env = Env::new();
    let token = env.create_account("contact-centre");
    let server = env.start();
    put_ok(
        &server,
        &token,
        "caller-cancels",
        "SELECT * FROM media WHERE 'caller' SAYS 'cancel'",
    )
    .await;
    put_ok(
        &server,
        &token,
        "agent-cancels",
        "SELECT * FROM media WHERE \"Agent\" SAYS \"cancel\"",
    )
    .await;
    put_ok(
        &server,
        &token,
        "agent-greets",
        "SELECT * FROM media WHERE 'Agent' SAYS 'thank you' AND NOT 'Caller' SAYS 'thank you'",
    )
    .await;

    let agent = speak(
        env.dir.path(),
        "en-gb",
        "Thank you for calling. How can I help?",
    );
    let caller = speak(env.dir.path(), "en-us", "I want to cancel my plan.");
    let gap = RATE as usize / 2;
    let total = agent.len() + gap + caller.len() + gap;
    let (mut left, mut right) = (vec![0i16; total], vec![0i16; total]);
    left[..agent.len()].copy_from_slice(&agent);
    let start = agent.len() + gap;
    right[start..start + caller.len()].copy_from_slice(&caller);
    let caller_start_ms = start as u64 * 1000 / u64::from(RATE);

    let config = stereo_config(json!({"categories": [{"allCategories": true}]})).to_string();
    let id = server
        .upload_ok(&token, channels_i16(&[&left, &right]), Some(&config), None)
        .await;
    let doc = server.wait(&token, &id).await;
    assert_eq!(doc["status"], "finished", "{doc}");
    let got = results(&doc);
    assert_eq!(
        got.iter()
            .map(|(n, v, _)| (n.as_str(), *v))
            .collect::<Vec<_>>(),
        [
            ("agent-cancels", 0),
            ("agent-greets", 1),
            ("caller-cancels", 1)
        ],
        "{doc}"
    );
    let matches = got[2].2.as_array().unwrap();
    assert_eq!(matches.len(), 1, "{doc}");
    assert_eq!(matches[0]["speakerName"], "Caller");
    let s = matches[0]["occurrences"][0]["s"].as_u64().unwrap();
    assert!(
        s >= caller_start_ms,
        "said on the caller's channel, after {caller_start_ms} ms: {s}"
    );
    assert_eq!(got[1].2[0]["speakerName"], "Agent", "{doc}");
}

/// An encrypted media: the category results exist only inside the customer's document. The
/// category matches a wildcard (`the * tour`), so the canary word it matched is nowhere in a
/// definition: finding it at rest would be a leak of the result.
#[tokio::test]
async fn encrypted_media_keeps_category_results_inside_the_ciphertext() {
    const CANARY: &str = "volcano";
    let env = Env::new();
    let token = env.create_account("travel");
    let server = env.start();
    let gpg = sealscribe_openpgp::testing::GpgHome::new();
    let fpr = gpg.gen_future_default("Travel <calls@example.com>");
    let key_id = server
        .upload_key(&token, gpg.export_public(&fpr, true))
        .await;
    put_ok(
        &server,
        &token,
        "tours",
        "SELECT * FROM media WHERE * SAYS 'the * tour'",
    )
    .await;
    put_ok(
        &server,
        &token,
        "refunds",
        "SELECT * FROM media MATCH 'refund'",
    )
    .await;

    let audio =
        std::fs::read(env.speech("tour", "Please book the volcano tour for Friday.")).unwrap();
    let config = json!({
        "categories": [{"allCategories": true}],
        "encryption": {"publicKeyId": key_id},
    });
    let form = reqwest::multipart::Form::new()
        .part(
            "configuration",
            json_part("configuration.json", &config.to_string()),
        )
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
    for absent in ["categories", "categoryValue", "categoryMatches", CANARY] {
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
    let got = results(&full);
    assert_eq!(
        got.iter()
            .map(|(n, v, _)| (n.as_str(), *v))
            .collect::<Vec<_>>(),
        [("refunds", 0), ("tours", 1)],
        "{full}"
    );
    let exact = got[1].2[0]["occurrences"][0]["exact"]
        .as_str()
        .unwrap()
        .to_lowercase();
    assert!(
        exact.contains(CANARY),
        "the canary was recognised and matched: {exact}"
    );

    // Nothing of the result at rest: not the matched words anywhere; not the result's shape in
    // this test's own files (the PostgreSQL WAL is shared with tests of plain media).
    assert!(server.stop(), "clean shutdown");
    let mut found = Vec::new();
    let files = env.files_at_rest().await;
    for (place, bytes) in &files {
        let lower = bytes.to_ascii_lowercase();
        let shared = place.contains("pg_wal");
        for c in [CANARY, "categoryvalue", "categorymatches"] {
            if (c == CANARY || !shared) && contains(&lower, c.as_bytes()) {
                found.push(format!("{c} in {place}"));
            }
        }
    }
    assert!(found.is_empty(), "{found:?}");
    // Control: the scan reads the database, where the definitions are kept in clear.
    assert!(
        files.iter().any(|(_, b)| contains(b, b"the * tour")),
        "the scan sees the stored definitions"
    );
}
