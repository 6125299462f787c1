//! Authentication, the error envelope, tokens, restarts and shutdown.

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use sealscribe_openpgp::testing::GpgHome;
use serde_json::Value;

use crate::common::{Env, expect_error};

/// Missing, malformed, unknown and revoked credentials are refused with 401 and
/// the v3 codes; revocation takes effect at once, other tokens keep working.
#[tokio::test]
async fn authentication_and_token_revocation() {
    let env = Env::new();
    let first = env.create_account("acme");
    let out = env.cli(&["tokens", "create", "acme"]);
    assert!(out.status.success());
    let second = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_ne!(first, second);
    let server = env.start();
    let keys = server.url("/v3/security/public-keys");

    expect_error(server.http.get(&keys).send().await.unwrap(), 401, 10002).await;
    let basic = server
        .http
        .get(&keys)
        .header(AUTHORIZATION, "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    assert_eq!(basic.headers()["www-authenticate"], "Bearer");
    expect_error(basic, 401, 10003).await;
    expect_error(
        server
            .http
            .get(&keys)
            .bearer_auth("not-a-token")
            .send()
            .await
            .unwrap(),
        401,
        10003,
    )
    .await;
    let forged = format!("sst_{}", "0".repeat(64));
    expect_error(
        server
            .http
            .get(&keys)
            .bearer_auth(&forged)
            .send()
            .await
            .unwrap(),
        401,
        10003,
    )
    .await;
    assert_eq!(
        server
            .http
            .get(&keys)
            .bearer_auth(&first)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // `tokens list` shows prefixes only, never the tokens.
    let list = String::from_utf8(env.cli(&["tokens", "list", "acme"]).stdout).unwrap();
    assert_eq!(list.lines().count(), 2);
    assert!(!list.contains(&first) && !list.contains(&second));
    assert!(list.contains(&first[..12]));

    let out = env.cli(&["tokens", "revoke", &first[..12]]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    expect_error(
        server
            .http
            .get(&keys)
            .bearer_auth(&first)
            .send()
            .await
            .unwrap(),
        401,
        10003,
    )
    .await;
    assert_eq!(
        server
            .http
            .get(&keys)
            .bearer_auth(&second)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(env.cli(&["tokens", "list", "acme"]).status.success());
    assert!(
        !env.cli(&["tokens", "revoke", "sst_zzzzzzzz"])
            .status
            .success(),
        "unknown prefix is an error"
    );
    assert!(
        !env.cli(&["accounts", "create", "acme"]).status.success(),
        "account names are unique"
    );
}

/// Unknown paths, wrong methods and bad requests all get the v3 envelope;
/// `/health` needs no token.
#[tokio::test]
async fn errors_use_the_v3_envelope() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start();

    let msg = expect_error(
        server
            .http
            .get(server.url("/v3/nope"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        404,
        10000,
    )
    .await;
    assert!(msg.contains("/v3/nope"));
    expect_error(
        server.http.get(server.url("/")).send().await.unwrap(),
        404,
        10000,
    )
    .await;
    expect_error(
        server
            .http
            .put(server.url("/v3/security/public-keys"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        405,
        10001,
    )
    .await;

    let health = server.http.get(server.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let body: Value = health.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["blobStore"], "ok");
}

/// Accounts, tokens and keys survive a restart on the same data directory, and
/// SIGTERM stops the server cleanly (exit status 0).
#[tokio::test]
async fn state_survives_a_restart() {
    let env = Env::new();
    let token = env.create_account("acme");
    let gpg = GpgHome::new();
    let fpr = gpg.gen_rsa_and_rsa("Erin <erin@example.com>");
    let key = gpg.export_public(&fpr, true);

    let server = env.start();
    let resp = server
        .http
        .post(server.url("/v3/security/public-keys"))
        .bearer_auth(&token)
        .header(CONTENT_TYPE, "application/octet-stream")
        .body(key.clone())
        .send()
        .await
        .unwrap();
    let id = resp.json::<Value>().await.unwrap()["publicKeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(server.stop(), "graceful shutdown on SIGTERM exits 0");
    assert!(env.log().contains("shutting down"));

    let server = env.start();
    let got = server
        .http
        .get(server.url(&format!("/v3/security/public-keys/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), key.as_slice());
    assert!(server.stop());
}

/// Path parameters that are not UTF-8 (found next to the schemathesis
/// contract run, which only generates UTF-8) name nothing: the 404 envelope,
/// not axum's `text/plain` 400.
#[tokio::test]
async fn unreadable_path_parameters_get_the_404_envelope() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start();
    for path in [
        "/v3/media/%FF",
        "/v3/media/%FF/progress",
        "/v3/media/%C3%28/metadata",
        "/v3/media/abc/streams/%FE",
        "/v3/media/abc/transcript/%FF",
        "/v3/security/public-keys/%FF",
    ] {
        let resp = server
            .http
            .get(server.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.headers()[CONTENT_TYPE], "application/json", "{path}");
        expect_error(resp, 404, 10205).await;
    }
    let resp = server
        .http
        .delete(server.url("/v3/media/%FF"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    expect_error(resp, 404, 10205).await;
}
