//! Custom vocabularies (issue 18, part 2): `/v3/definition/vocabularies` per account, across
//! a restart, with the v3 errors; `configuration.vocabularies[]` inline and by saved name; and
//! the point of it all on real speech with the default model — a made-up product name the
//! model gets wrong without the vocabulary and right with it, a `soundsLike` rewrite keeping
//! the words' times, and the same for encrypted media with nothing of it in clear.
//!
//! Speech is one or two short sentences per media (the suite runs twice on two loaded cores).

use reqwest::header::ACCEPT;
use sealscribe_openpgp::testing::GpgHome;
use serde_json::{Value, json};

use crate::common::{Env, Server, contains, expect_error, files_under, words};

/// The default model writes "Drax urine" for espeak-ng's Draxulon.
const PRODUCT: &str = "Please order more Draxulon for the lab. Our capital spending rose.";

async fn put(server: &Server, token: &str, name: &str, body: &Value) -> reqwest::Response {
    server
        .http
        .put(server.url(&format!("/v3/definition/vocabularies/{name}")))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn send(
    server: &Server,
    method: reqwest::Method,
    token: &str,
    name: &str,
) -> reqwest::Response {
    server
        .http
        .request(
            method,
            server.url(&format!("/v3/definition/vocabularies/{name}")),
        )
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

fn earnings_calls() -> Value {
    json!({"vocabularyName": "earningsCalls",
        "terms": [{"term": "AFFO", "soundsLike": ["A.F.F.O."], "weight": 2}, {"term": "CapEx"}]})
}

#[tokio::test]
async fn saved_vocabularies_are_per_account_survive_restarts_and_validate() {
    let env = Env::new();
    let alice = env.create_account("alice");
    let bob = env.create_account("bob");
    let server = env.start();

    // PUT echoes the body with its link; GET and the list give the same.
    let resp = put(&server, &alice, "earningsCalls", &earnings_calls()).await;
    assert_eq!(resp.status(), 200);
    let saved: Value = resp.json().await.unwrap();
    let mut expected = earnings_calls();
    expected["_links"] = json!({"self": {"href": "/v3/definition/vocabularies/earningsCalls"}});
    assert_eq!(saved, expected);
    let got = server
        .get_json(&alice, "/v3/definition/vocabularies/earningsCalls")
        .await;
    assert_eq!(got, expected);
    let list = server.get_json(&alice, "/v3/definition/vocabularies").await;
    assert_eq!(list["vocabularies"], json!([expected]));

    // Another account sees none of it, and its own name does not touch Alice's.
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let resp = send(&server, method, &bob, "earningsCalls").await;
        expect_error(resp, 404, 10205).await;
    }
    let bobs = server.get_json(&bob, "/v3/definition/vocabularies").await;
    assert_eq!(bobs["vocabularies"], json!([]));
    let other = json!({"terms": [{"term": "Bob's term"}]});
    assert_eq!(
        put(&server, &bob, "earningsCalls", &other).await.status(),
        200
    );
    let got = server
        .get_json(&alice, "/v3/definition/vocabularies/earningsCalls")
        .await;
    assert_eq!(got, expected);

    // Definition errors, each with its v3 code; nothing is stored.
    let many: Vec<Value> = (0..1001)
        .map(|i| json!({"term": format!("t{i}")}))
        .collect();
    let cases = [
        (
            json!({"vocabularyName": "other", "terms": [{"term": "a"}]}),
            80202,
        ),
        (json!({}), 80200),
        (json!({"terms": [{"term": "a", "colour": "red"}]}), 80200),
        (json!({"terms": [{"term": "a", "weight": 7}]}), 80203),
        (json!({"terms": [{"term": "x".repeat(65)}]}), 80203),
        (
            json!({"vocabularyType": "scripts", "terms": [{"term": "a"}], "scripts": [{"script": "b"}]}),
            80204,
        ),
        (
            json!({"scripts": [{"script": "Thank you for calling."}]}),
            80205,
        ),
        (json!({"terms": []}), 80206),
        (json!({ "terms": many }), 80208),
        (
            json!({"terms": [{"term": "CapEx"}, {"term": "capex"}]}),
            80209,
        ),
    ];
    for (body, code) in cases {
        let resp = put(&server, &alice, "broken", &body).await;
        expect_error(resp, 400, code).await;
    }
    let resp = server
        .http
        .put(server.url("/v3/definition/vocabularies/broken"))
        .bearer_auth(&alice)
        .body("{not json")
        .send()
        .await
        .unwrap();
    expect_error(resp, 400, 80200).await;
    let resp = send(&server, reqwest::Method::GET, &alice, "broken").await;
    expect_error(resp, 404, 10205).await;

    // Configuration errors at upload, before anything is processed.
    let wav = std::fs::read(env.speech("hello", "Hello.")).unwrap();
    let configs = [
        (json!([{"vocabularyName": "nope"}]), 20008),
        (json!([{}]), 20006),
        (
            json!([{"vocabularyName": "earningsCalls", "terms": [{"term": "a"}]}]),
            20007,
        ),
        (json!([{"terms": [{"term": " "}]}]), 20014),
        (json!([{"terms": [{"term": "a", "weight": 9}]}]), 20015),
        (
            json!([{"vocabularyName": "earningsCalls"}, {"terms": [{"term": "AFFO"}]}]),
            20017,
        ),
    ];
    for (vocabularies, code) in configs {
        let config = json!({ "vocabularies": vocabularies }).to_string();
        let resp = server
            .upload(&alice, wav.clone(), Some(&config), None)
            .await;
        expect_error(resp, 400, code).await;
    }
    // Bob's vocabulary of the same name is not Alice's: his 20017 case passes for him, and
    // Alice's own list is unchanged.
    let config = json!({"vocabularies": [{"vocabularyName": "earningsCalls"},
        {"terms": [{"term": "AFFO"}]}]})
    .to_string();
    server
        .upload_ok(&bob, wav.clone(), Some(&config), None)
        .await;

    // A restart keeps them; DELETE removes one for good.
    assert!(server.stop());
    let server = env.start();
    let got = server
        .get_json(&alice, "/v3/definition/vocabularies/earningsCalls")
        .await;
    assert_eq!(got, expected);
    let resp = send(&server, reqwest::Method::DELETE, &alice, "earningsCalls").await;
    assert_eq!(resp.status(), 204);
    let resp = send(&server, reqwest::Method::GET, &alice, "earningsCalls").await;
    expect_error(resp, 404, 10205).await;
    let bobs = server.get_json(&bob, "/v3/definition/vocabularies").await;
    assert_eq!(bobs["vocabularies"][0]["terms"], other["terms"]);
}

/// The transcript's words (as written, punctuation left out) with their times.
fn timed(doc: &Value) -> Vec<(String, u64, u64)> {
    doc["transcript"]["words"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w.get("m").is_none())
        .map(|w| {
            (
                w["w"].as_str().unwrap().to_owned(),
                w["s"].as_u64().unwrap(),
                w["e"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_vocabulary_gets_a_made_up_product_name_right() {
    let env = Env::new();
    let token = env.create_account("lab");
    let server = env.start();
    let wav = std::fs::read(env.speech("product", PRODUCT)).unwrap();
    let saved = json!({"vocabularyName": "labProducts", "terms": [
        {"term": "Draxulon", "weight": 3},
        {"term": "CapEx", "soundsLike": ["capital spending"]},
    ]});
    assert_eq!(
        put(&server, &token, "labProducts", &saved).await.status(),
        200
    );

    let plain = server.upload_ok(&token, wav.clone(), None, None).await;
    let inline = json!({"vocabularies": [{"terms": [{"term": "Draxulon"}]}]}).to_string();
    let inline = server
        .upload_ok(&token, wav.clone(), Some(&inline), None)
        .await;
    let by_name = json!({"vocabularies": [{"vocabularyName": "labProducts"}]}).to_string();
    let by_name = server
        .upload_ok(&token, wav.clone(), Some(&by_name), None)
        .await;
    // The media keeps the copy it was accepted with.
    let resp = send(&server, reqwest::Method::DELETE, &token, "labProducts").await;
    assert_eq!(resp.status(), 204);

    let plain = server.wait(&token, &plain).await;
    assert_eq!(plain["status"], "finished", "{plain}");
    let heard = words(&plain["transcript"]);
    assert!(
        !heard.iter().any(|w| w == "draxulon"),
        "without a vocabulary the default model must get the name wrong: {heard:?}"
    );
    assert!(
        heard.windows(2).any(|w| w == ["capital", "spending"]),
        "{heard:?}"
    );

    let inline = server.wait(&token, &inline).await;
    assert_eq!(inline["status"], "finished", "{inline}");
    let t = timed(&inline);
    assert!(t.iter().any(|(w, _, _)| w == "Draxulon"), "{t:?}");
    // Inline terms have no soundsLike here: the rest is as recognised.
    assert!(t.iter().any(|(w, _, _)| w == "capital"), "{t:?}");

    let by_name = server.wait(&token, &by_name).await;
    assert_eq!(by_name["status"], "finished", "{by_name}");
    let t = timed(&by_name);
    assert!(t.iter().any(|(w, _, _)| w == "Draxulon"), "{t:?}");
    // "capital spending" became one word, CapEx, over the time the two words took.
    let capex = t
        .iter()
        .find(|(w, _, _)| w == "CapEx")
        .unwrap_or_else(|| panic!("soundsLike rewrote capital spending: {t:?}"));
    let plain_t = timed(&plain);
    let capital = plain_t.iter().find(|(w, _, _)| w == "capital").unwrap();
    let spending = plain_t.iter().find(|(w, _, _)| w == "spending").unwrap();
    assert!(!t.iter().any(|(w, _, _)| w == "capital" || w == "spending"));
    // Same audio: the rewrite spans the words it replaced (those of this media's own
    // recognition, which the prompt may shift by a few hundred milliseconds from the plain
    // one; the exact rule is tested in sealscribe-transcript).
    assert!(
        capex.1.abs_diff(capital.1) <= 500 && capex.2.abs_diff(spending.2) <= 500,
        "{capex:?} vs {capital:?} {spending:?}"
    );
    assert!(capex.1 < capex.2);
    // Search finds the term as written.
    let found = server.get_json(&token, "/v3/media?query=CapEx").await;
    let ids: Vec<&str> = found["media"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mediaId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [by_name["mediaId"].as_str().unwrap()], "{found}");
}

/// An encrypted media with an inline vocabulary: the term is in the customer's decrypted
/// transcript, and neither it nor the sentence is anywhere in clear (database, blobs, log).
/// Quorvex is this test's own name, so the shared PostgreSQL WAL of the scaled run holds it
/// only if this media leaked it.
#[tokio::test]
async fn an_encrypted_media_gets_the_term_with_nothing_in_clear() {
    let env = Env::new();
    let token = env.create_account("vault");
    let server = env.start();
    let gpg = GpgHome::new();
    let fpr = gpg.gen_rsa_and_rsa("Vault <sec@vault.example>");
    let key_id = server
        .upload_key(&token, gpg.export_public(&fpr, true))
        .await;
    // Positive control for the scan: a saved vocabulary is an account setting, in clear.
    let control = json!({"terms": [{"term": "Zelmorith"}]});
    assert_eq!(
        put(&server, &token, "control", &control).await.status(),
        200
    );
    let wav = env.speech("secret", "Please order more Quorvex for the lab.");
    let config = json!({
        "encryption": {"publicKeyId": key_id},
        "vocabularies": [{"terms": [{"term": "Quorvex", "soundsLike": ["warments"]}]}],
    })
    .to_string();
    let id = server
        .upload_ok(&token, std::fs::read(&wav).unwrap(), Some(&config), None)
        .await;
    let doc = server.wait(&token, &id).await;
    assert_eq!(doc["status"], "finished", "{doc}");
    assert!(doc.get("transcript").is_none(), "{doc}");
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
    let t = timed(&full);
    assert!(t.iter().any(|(w, _, _)| w == "Quorvex"), "{t:?}");

    assert!(server.stop());
    let canaries: [&[u8]; 4] = [b"Quorvex", b"quorvex", b"QUORVEX", b"warments"];
    let mut scanned = 0;
    let mut control_seen = false;
    for (place, bytes) in env.stored().await {
        control_seen |= contains(&bytes, b"Zelmorith");
        for c in canaries {
            assert!(
                !contains(&bytes, c),
                "{} in {place}",
                String::from_utf8_lossy(c)
            );
        }
        scanned += 1;
    }
    assert!(scanned >= 3, "the scan saw the database and the blobs");
    assert!(control_seen, "the scan finds what is stored in clear");
    let log = env.log();
    assert!(
        !log.to_lowercase().contains("quorvex"),
        "the term in the log"
    );
    for scratch in env.scratch_dirs() {
        assert!(files_under(&scratch).is_empty(), "{scratch:?}");
    }
}
