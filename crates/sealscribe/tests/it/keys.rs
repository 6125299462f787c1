//! `/v3/security/public-keys` with keys made by GnuPG and sq.

use reqwest::header::CONTENT_TYPE;
use sealscribe_openpgp::testing::{self, GpgHome};
use serde_json::Value;

use crate::common::{Env, Server, contains, expect_error, uuid_like};

/// The seed's call: `curl --header "Content-Type: application/octet-stream" --data-binary @key.asc`.
async fn upload(server: &Server, token: &str, body: Vec<u8>) -> reqwest::Response {
    server
        .http
        .post(server.url("/v3/security/public-keys"))
        .bearer_auth(token)
        .header(CONTENT_TYPE, "application/octet-stream")
        .body(body)
        .send()
        .await
        .expect("request")
}

async fn list_hrefs(server: &Server, token: &str) -> Vec<String> {
    let resp = server
        .http
        .get(server.url("/v3/security/public-keys"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["_links"]["self"]["href"], "/v3/security/public-keys");
    body["publicKeys"]
        .as_array()
        .expect("publicKeys array")
        .iter()
        .map(|k| {
            k["_links"]["self"]["href"]
                .as_str()
                .expect("href")
                .to_owned()
        })
        .collect()
}

/// Uploads `key`, checks the response against what gpg says, and that GET
/// returns the upload byte-for-byte. Returns the key id.
async fn round_trip(
    server: &Server,
    token: &str,
    key: &[u8],
    fingerprint: &str,
    algorithm: &str,
    bits: u64,
    uid: &str,
) -> String {
    let resp = upload(server, token, key.to_vec()).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let id = body["publicKeyId"]
        .as_str()
        .expect("publicKeyId")
        .to_owned();
    assert!(uuid_like(&id));
    assert_eq!(
        body["_links"]["self"]["href"],
        format!("/v3/security/public-keys/{id}")
    );
    assert_eq!(body["fingerprint"], fingerprint);
    assert_eq!(body["algorithm"], algorithm);
    assert_eq!(body["bits"], bits);
    assert!(body["created"].is_string());
    assert!(
        body.get("expires").is_some(),
        "expires is always present (null if never)"
    );
    assert_eq!(body["userIds"][0], uid);
    assert_eq!(body["publicKeyHash"].as_str().unwrap().len(), 64);

    let got = server
        .http
        .get(server.url(&format!("/v3/security/public-keys/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()[CONTENT_TYPE], "application/pgp-keys");
    assert_eq!(
        got.bytes().await.unwrap().as_ref(),
        key,
        "GET returns the upload byte-for-byte"
    );
    assert!(
        list_hrefs(server, token)
            .await
            .contains(&format!("/v3/security/public-keys/{id}"))
    );
    id
}

/// GnuPG "RSA and RSA" (2048, armored), GnuPG future-default (binary) and a key
/// exported by sq are accepted and round-trip unchanged; DELETE removes them.
#[tokio::test]
async fn keys_from_gpg_and_sq_round_trip_byte_for_byte() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start();
    let gpg = GpgHome::new();

    let rsa = gpg.gen_rsa_and_rsa("Alice <alice@example.com>");
    let rsa_id = round_trip(
        &server,
        &token,
        &gpg.export_public(&rsa, true),
        &rsa,
        "RSA",
        2048,
        "Alice <alice@example.com>",
    )
    .await;

    let ed = gpg.gen_future_default("Bob <bob@example.com>");
    round_trip(
        &server,
        &token,
        &gpg.export_public(&ed, false),
        &ed,
        "EdDSA",
        255,
        "Bob <bob@example.com>",
    )
    .await;

    let sq_key = testing::sq_export_public_key();
    let resp = upload(&server, &token, sq_key.clone()).await;
    assert_eq!(resp.status(), 200, "a key exported by sq is accepted");
    let body: Value = resp.json().await.unwrap();
    let sq_id = body["publicKeyId"].as_str().unwrap();
    let got = server
        .http
        .get(server.url(&format!("/v3/security/public-keys/{sq_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(got.bytes().await.unwrap().as_ref(), sq_key.as_slice());
    assert_eq!(list_hrefs(&server, &token).await.len(), 3);

    let url = server.url(&format!("/v3/security/public-keys/{rsa_id}"));
    let del = server
        .http
        .delete(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    expect_error(
        server
            .http
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        404,
        10205,
    )
    .await;
    expect_error(
        server
            .http
            .delete(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        404,
        10205,
    )
    .await;
    assert_eq!(list_hrefs(&server, &token).await.len(), 2);
}

/// A key that expires within 30 days is accepted, with a warning.
#[tokio::test]
async fn key_expiring_soon_is_accepted_with_a_warning() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start();
    let gpg = GpgHome::new();
    let fpr = gpg.gen_expiring_in_days("Soon <soon@example.com>", 10);
    let resp = upload(&server, &token, gpg.export_public(&fpr, true)).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(body["expires"].is_string());
    let warning = &body["warnings"][0];
    assert_eq!(warning["code"], 95007);
    assert!(
        warning["message"].as_str().unwrap().contains("expire"),
        "{warning}"
    );
}

/// Every kind of unusable upload is refused with a precise message and its
/// code, and nothing is stored; a secret key is not stored or logged anywhere.
#[tokio::test]
async fn every_rejection_is_clear_and_stores_nothing() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start();
    let gpg = GpgHome::new();

    let good = gpg.gen_rsa_and_rsa("Carol <carol@example.com>");
    let other = gpg.gen_future_default("Dave <dave@example.com>");
    let secret = gpg.export_secret(&good);
    let sign_only = gpg.gen_sign_only("Sign Only <sign@example.com>");
    let small = gpg.gen_rsa1024("Small <small@example.com>");
    let expired = gpg.gen_expired("Expired <expired@example.com>");
    let revoked = gpg.gen_rsa_and_rsa("Revoked <revoked@example.com>");
    gpg.revoke(&revoked);
    let mut truncated = gpg.export_public(&good, false);
    truncated.truncate(truncated.len() / 2);
    let mut huge = gpg.export_public(&good, true);
    huge.resize(1024 * 1024 + 1, b'\n');

    // (what, body, status, code, words the message must contain)
    type Case<'a> = (&'a str, Vec<u8>, u16, u64, &'a [&'a str]);
    let cases: Vec<Case> = vec![
        (
            "garbage",
            b"hello, this is not a key at all".to_vec(),
            400,
            95002,
            &["gpg --armor --export"],
        ),
        (
            "X.509 SPKI PEM",
            testing::openssl_spki_pem(),
            400,
            95002,
            &["OpenPGP", "gpg --armor --export"],
        ),
        (
            "X.509 certificate",
            testing::openssl_certificate_pem(),
            400,
            95002,
            &["OpenPGP"],
        ),
        (
            "secret key",
            secret.clone(),
            400,
            95006,
            &["private", "not stored"],
        ),
        (
            "secret key, binary",
            gpg.export_secret_binary(&good),
            400,
            95006,
            &["private"],
        ),
        (
            "sign-only key",
            gpg.export_public(&sign_only, true),
            400,
            95002,
            &["encrypt"],
        ),
        (
            "RSA 1024",
            gpg.export_public(&small, true),
            400,
            95002,
            &["1024", "2048"],
        ),
        (
            "expired",
            gpg.export_public(&expired, true),
            400,
            95004,
            &["expired"],
        ),
        (
            "revoked",
            gpg.export_public(&revoked, true),
            400,
            95004,
            &["revoked"],
        ),
        (
            "two certificates",
            gpg.export_public_many(&[&good, &other], true),
            400,
            95002,
            &["one"],
        ),
        ("truncated binary key", truncated, 400, 95002, &[]),
        ("empty body", Vec::new(), 400, 95002, &["empty"]),
        ("over 1 MiB", huge, 400, 10800, &["1 MiB"]),
    ];
    for (what, body, status, code, words) in cases {
        let message = expect_error(upload(&server, &token, body).await, status, code).await;
        for w in words {
            assert!(
                message.to_lowercase().contains(&w.to_lowercase()),
                "{what}: message {message:?} should mention {w:?}"
            );
        }
    }
    assert!(
        list_hrefs(&server, &token).await.is_empty(),
        "nothing was stored"
    );

    // The secret key never reached the disk or the log, in any form.
    assert!(server.stop());
    let armor_lines: Vec<&[u8]> = secret
        .split(|&b| b == b'\n')
        .filter(|l| l.len() >= 40 && !l.starts_with(b"-----"))
        .collect();
    assert!(armor_lines.len() > 10);
    let log = env.log();
    let mut stored: Vec<Vec<u8>> = env.stored().await.into_iter().map(|(_, b)| b).collect();
    stored.push(log.into_bytes());
    let binary = gpg.export_secret_binary(&good);
    for haystack in &stored {
        for line in &armor_lines {
            assert!(
                !contains(haystack, line),
                "a line of the secret key was stored or logged"
            );
        }
        for chunk in binary.chunks(64).filter(|c| c.len() == 64) {
            assert!(!contains(haystack, chunk), "secret key bytes were stored");
        }
    }
}

/// Account B can neither see, read nor delete account A's keys: 404, exactly
/// as for an id that does not exist.
#[tokio::test]
async fn accounts_are_isolated() {
    let env = Env::new();
    let alice = env.create_account("alice");
    let bob = env.create_account("bob");
    let server = env.start();
    let gpg = GpgHome::new();
    let fpr = gpg.gen_future_default("Alice <alice@example.com>");
    let resp = upload(&server, &alice, gpg.export_public(&fpr, true)).await;
    let id = resp.json::<Value>().await.unwrap()["publicKeyId"]
        .as_str()
        .unwrap()
        .to_owned();

    assert!(list_hrefs(&server, &bob).await.is_empty());
    let url = server.url(&format!("/v3/security/public-keys/{id}"));
    let missing = server.url(&format!(
        "/v3/security/public-keys/{}",
        "00000000-0000-4000-8000-000000000000"
    ));
    let as_bob = expect_error(
        server
            .http
            .get(&url)
            .bearer_auth(&bob)
            .send()
            .await
            .unwrap(),
        404,
        10205,
    )
    .await;
    let never = expect_error(
        server
            .http
            .get(&missing)
            .bearer_auth(&bob)
            .send()
            .await
            .unwrap(),
        404,
        10205,
    )
    .await;
    assert_eq!(
        as_bob.replace(&id, "ID"),
        never.replace("00000000-0000-4000-8000-000000000000", "ID"),
        "another account's key looks exactly like a missing one"
    );
    expect_error(
        server
            .http
            .delete(&url)
            .bearer_auth(&bob)
            .send()
            .await
            .unwrap(),
        404,
        10205,
    )
    .await;
    expect_error(
        server
            .http
            .get(server.url("/v3/security/public-keys/not-a-uuid"))
            .bearer_auth(&bob)
            .send()
            .await
            .unwrap(),
        404,
        10205,
    )
    .await;

    let still = server
        .http
        .get(&url)
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(
        still.status(),
        200,
        "bob's DELETE did not touch alice's key"
    );
}
