//! `/v3/profile/keys`: API keys created, used, listed without their tokens,
//! revoked and refused at once, expired, scoped; per account; across a restart.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Env, Server, expect_error, uuid_like};

const KEYS: &str = "/v3/profile/keys";

async fn call(server: &Server, token: &str, method: Method, path: &str) -> reqwest::Response {
    server
        .http
        .request(method, server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn post_keys(server: &Server, token: &str, body: &str) -> reqwest::Response {
    server
        .http
        .post(server.url(KEYS))
        .bearer_auth(token)
        .header("Content-Type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

/// Creates a key and returns its `VbKey` (with the token).
async fn create(server: &Server, token: &str, body: Value) -> Value {
    let resp = post_keys(server, token, &body.to_string()).await;
    let status = resp.status();
    let key: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "key refused: {key}");
    key
}

fn token_of(key: &Value) -> String {
    key["bearerToken"].as_str().expect("bearerToken").to_owned()
}

async fn listed(server: &Server, token: &str) -> (String, Vec<Value>) {
    let resp = call(server, token, Method::GET, KEYS).await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    (text, body["keys"].as_array().unwrap().clone())
}

#[tokio::test]
async fn a_key_is_created_used_listed_revoked_and_refused_at_once() {
    let env = Env::new();
    let user = env.create_account("acme");
    let other = env.create_account("other");
    let server = env.start();

    // `{}`: a key that does not expire, with the default scope.
    let media_key = create(&server, &user, json!({})).await;
    let media_token = token_of(&media_key);
    assert!(uuid_like(media_key["id"].as_str().unwrap()));
    assert!(media_token.starts_with("sst_"));
    assert_eq!(media_key["lastSix"], media_token[media_token.len() - 6..]);
    assert_eq!(media_key["scope"], "media");
    assert_eq!(media_key["expired"], false);
    assert!(media_key.get("expirationDate").is_none());
    assert!(media_key["issued"].as_str().unwrap().ends_with('Z'));
    let reader = create(&server, &user, json!({"scope": "media:get"})).await;
    let reader_token = token_of(&reader);
    assert_eq!(reader["scope"], "media:get");

    // Listed and shown without the tokens; the operator's token is listed too.
    let (text, keys) = listed(&server, &user).await;
    assert!(!text.contains(&media_token) && !text.contains(&reader_token));
    assert!(
        !text.contains(&media_token[12..18]),
        "no more of a token than its last six"
    );
    assert_eq!(keys.len(), 3);
    assert_eq!(keys[0]["scope"], "user");
    assert!(keys.iter().all(|k| k.get("bearerToken").is_none()));
    let shown = server
        .get_json(
            &user,
            &format!("{KEYS}/{}", media_key["id"].as_str().unwrap()),
        )
        .await;
    let mut expected = media_key.clone();
    expected.as_object_mut().unwrap().remove("bearerToken");
    assert_eq!(shown, expected);

    // Scopes: a read-only key reads media but cannot write, nor reach other resources;
    // neither key may manage keys (v3: that needs a user token).
    assert_eq!(
        call(&server, &reader_token, Method::GET, "/v3/media")
            .await
            .status(),
        200
    );
    expect_error(
        call(&server, &reader_token, Method::POST, "/v3/media").await,
        403,
        10006,
    )
    .await;
    expect_error(
        call(
            &server,
            &reader_token,
            Method::GET,
            "/v3/security/public-keys",
        )
        .await,
        403,
        10006,
    )
    .await;
    for method in [Method::GET, Method::POST] {
        expect_error(call(&server, &media_token, method, KEYS).await, 403, 10012).await;
    }
    let reader_path = format!("{KEYS}/{}", reader["id"].as_str().unwrap());
    expect_error(
        call(&server, &media_token, Method::DELETE, &reader_path).await,
        403,
        10012,
    )
    .await;

    // Another account cannot see or delete the key, and the key keeps working.
    expect_error(
        call(&server, &other, Method::GET, &reader_path).await,
        404,
        70007,
    )
    .await;
    expect_error(
        call(&server, &other, Method::DELETE, &reader_path).await,
        404,
        70007,
    )
    .await;
    assert_eq!(listed(&server, &other).await.1.len(), 1);
    assert_eq!(
        call(&server, &reader_token, Method::GET, "/v3/media")
            .await
            .status(),
        200
    );

    // Deleted: refused at once, gone from the listing, a second delete is a 404.
    assert_eq!(
        call(&server, &user, Method::DELETE, &reader_path)
            .await
            .status(),
        204
    );
    expect_error(
        call(&server, &reader_token, Method::GET, "/v3/media").await,
        401,
        10003,
    )
    .await;
    expect_error(
        call(&server, &user, Method::GET, &reader_path).await,
        404,
        70007,
    )
    .await;
    expect_error(
        call(&server, &user, Method::DELETE, &reader_path).await,
        404,
        70007,
    )
    .await;
    assert_eq!(listed(&server, &user).await.1.len(), 2);

    // A key allowed to manage keys may create keys within its own scope only.
    let manager = create(&server, &user, json!({"scope": "media:get profile"})).await;
    let manager_token = token_of(&manager);
    assert_eq!(manager["scope"], "media:get profile");
    assert_eq!(listed(&server, &manager_token).await.1.len(), 3);
    let narrow = create(&server, &manager_token, json!({"scope": "media:get"})).await;
    for wider in ["media", "user", "media:get security:get"] {
        let body = json!({ "scope": wider }).to_string();
        expect_error(post_keys(&server, &manager_token, &body).await, 403, 10013).await;
    }
    // Without a scope, a key gets the default (`media`), which is wider here.
    expect_error(post_keys(&server, &manager_token, "{}").await, 403, 10013).await;
    // Nor may it delete a wider key (the operator's token): it can delete its own kind.
    let (_, keys) = listed(&server, &user).await;
    let operator = format!("{KEYS}/{}", keys[0]["id"].as_str().unwrap());
    expect_error(
        call(&server, &manager_token, Method::DELETE, &operator).await,
        403,
        10013,
    )
    .await;
    let spare = create(&server, &manager_token, json!({"scope": "media:get"})).await;
    let spare_path = format!("{KEYS}/{}", spare["id"].as_str().unwrap());
    assert_eq!(
        call(&server, &manager_token, Method::DELETE, &spare_path)
            .await
            .status(),
        204
    );
    assert_eq!(
        call(&server, &user, Method::GET, "/v3/media")
            .await
            .status(),
        200
    );

    // Keys, scopes and revocations survive a restart.
    assert!(server.stop());
    let server = env.start();
    let narrow_token = token_of(&narrow);
    assert_eq!(
        call(&server, &narrow_token, Method::GET, "/v3/media")
            .await
            .status(),
        200
    );
    expect_error(
        call(&server, &narrow_token, Method::POST, "/v3/media").await,
        403,
        10006,
    )
    .await;
    expect_error(
        call(&server, &reader_token, Method::GET, "/v3/media").await,
        401,
        10003,
    )
    .await;

    // Used for real: the media key uploads, the read-only key reads it back.
    let wav = env.speech("hello", "Hello, this is a short call.");
    let id = server
        .upload_ok(&media_token, std::fs::read(&wav).unwrap(), None, None)
        .await;
    let doc = server
        .get_json(&narrow_token, &format!("/v3/media/{id}"))
        .await;
    assert_eq!(doc["mediaId"], id.as_str());
    let list = server.get_json(&narrow_token, "/v3/media").await;
    assert_eq!(list["media"][0]["mediaId"], id.as_str());
    // The other account's token sees nothing of it.
    expect_error(
        call(&server, &other, Method::GET, &format!("/v3/media/{id}")).await,
        404,
        10205,
    )
    .await;
}

#[tokio::test]
async fn expiry_and_every_key_error() {
    let env = Env::new();
    let user = env.create_account("acme");
    // A shorter ephemeral maximum than v3's 2 h, to see the setting applied.
    let server = env.start_with(&["--max-ephemeral-key-secs", "600"]);

    // An expired key is refused; it stays listed as expired until deleted.
    let brief = create(&server, &user, json!({"ephemeral": true, "ttlMillis": 1})).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let message = expect_error(
        call(&server, &token_of(&brief), Method::GET, "/v3/media").await,
        401,
        10003,
    )
    .await;
    assert!(message.contains("expired"), "{message}");
    let (_, keys) = listed(&server, &user).await;
    let listed_brief = keys.iter().find(|k| k["id"] == brief["id"]).unwrap();
    assert_eq!(listed_brief["expired"], true);
    assert_eq!(listed_brief["expirationDate"], brief["expirationDate"]);

    // An ephemeral key within the maximum works until its expiry.
    let hour = (chrono::Utc::now() + chrono::TimeDelta::minutes(9)).to_rfc3339();
    let ephemeral = create(
        &server,
        &user,
        json!({"ephemeral": true, "expirationDate": hour}),
    )
    .await;
    assert_eq!(ephemeral["expired"], false);
    assert!(ephemeral["expirationDate"].is_string());
    assert_eq!(
        call(&server, &token_of(&ephemeral), Method::GET, "/v3/media")
            .await
            .status(),
        200
    );
    // Non-ephemeral keys may expire later than the ephemeral maximum.
    create(&server, &user, json!({"ttlMillis": 86_400_000})).await;

    let past = (chrono::Utc::now() - chrono::TimeDelta::minutes(1)).to_rfc3339();
    let too_far = (chrono::Utc::now() + chrono::TimeDelta::minutes(11)).to_rfc3339();
    let cases: [(String, u64); 13] = [
        (String::new(), 70000),
        (
            json!({"ttlMillis": 1000, "expirationDate": hour}).to_string(),
            70001,
        ),
        (json!({"expirationDate": past}).to_string(), 70002),
        (
            json!({"ephemeral": true, "expirationDate": too_far}).to_string(),
            70003,
        ),
        (json!({"ttlMillis": 0}).to_string(), 70004),
        (
            json!({"ephemeral": true, "ttlMillis": 600_001}).to_string(),
            70005,
        ),
        (json!({"ephemeral": true}).to_string(), 70006),
        (
            json!({"scope": "media:get?extendedFilter=speakers:agent"}).to_string(),
            70008,
        ),
        (json!({"scope": "media:fetch"}).to_string(), 70008),
        (json!({"scope": "keys"}).to_string(), 70008),
        ("{".to_owned(), 10007),
        (r#"{"scope": "media", "scope": "user"}"#.to_owned(), 10010),
        (json!({"ttl": 5}).to_string(), 10008),
    ];
    for (body, code) in cases {
        expect_error(post_keys(&server, &user, &body).await, 400, code).await;
    }
    // 70007: an unknown id, and one that is not an id at all.
    let unknown = format!("{KEYS}/{}", uuid::Uuid::new_v4());
    expect_error(
        call(&server, &user, Method::GET, &unknown).await,
        404,
        70007,
    )
    .await;
    expect_error(
        call(&server, &user, Method::DELETE, &unknown).await,
        404,
        70007,
    )
    .await;
    expect_error(
        call(&server, &user, Method::GET, &format!("{KEYS}/nope")).await,
        404,
        70007,
    )
    .await;
    // None of the refused requests made a key.
    assert_eq!(listed(&server, &user).await.1.len(), 4);

    // The operator can make scoped, expiring tokens too; they show up as keys.
    let out = env.cli(&[
        "tokens",
        "create",
        "acme",
        "--scope",
        "media:get",
        "--expires-in-secs",
        "3600",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let scoped = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(
        call(&server, &scoped, Method::GET, "/v3/media")
            .await
            .status(),
        200
    );
    expect_error(
        call(&server, &scoped, Method::POST, "/v3/media").await,
        403,
        10006,
    )
    .await;
    expect_error(call(&server, &scoped, Method::GET, KEYS).await, 403, 10012).await;
    let (_, keys) = listed(&server, &user).await;
    let made = keys.last().unwrap();
    assert_eq!(
        (made["scope"].as_str(), made["expired"].as_bool()),
        (Some("media:get"), Some(false))
    );
    assert!(made["expirationDate"].is_string());
    assert_eq!(made["lastSix"], scoped[scoped.len() - 6..]);
    let refused = env.cli(&["tokens", "create", "acme", "--scope", "media:get?x=y"]);
    assert!(!refused.status.success());
}
