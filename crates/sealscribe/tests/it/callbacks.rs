//! Callbacks to a local receiver: one delivery per configured callback, the
//! v3 content types, a valid `X-Sealscribe-Signature` (v2 covering media id,
//! callback type and body; the deprecated v1), retries recorded in the
//! media document, encrypted bodies for encrypted media, and the SSRF guard.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use hmac::{Hmac, Mac};
use sealscribe_openpgp::testing::GpgHome;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::common::{Env, Server, expect_error, json_part, serve_file};

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    method: Method,
    path: String,
    content_type: String,
    signature: String,
    media_id: String,
    callback_type: String,
    body: Vec<u8>,
}

/// A webhook receiver on 127.0.0.1: records every request; a path answers
/// 500 as often as `failures` says, then 200; `/moved` answers 307 to
/// `/followed`.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    failures: Arc<Mutex<HashMap<String, u32>>>,
}

impl Receiver {
    async fn start(failures: &[(&str, u32)]) -> (Self, String) {
        let receiver = Receiver::default();
        *receiver.failures.lock().unwrap() = failures
            .iter()
            .map(|(p, n)| ((*p).to_owned(), *n))
            .collect();
        let state = receiver.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = state.clone();
                async move {
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    let path = uri.path().to_owned();
                    state.got.lock().unwrap().push(Received {
                        method,
                        path: path.clone(),
                        content_type: header("content-type"),
                        signature: header("x-sealscribe-signature"),
                        media_id: header("x-sealscribe-media-id"),
                        callback_type: header("x-sealscribe-callback-type"),
                        body: body.to_vec(),
                    });
                    if path == "/moved" {
                        return (
                            StatusCode::TEMPORARY_REDIRECT,
                            [(axum::http::header::LOCATION, "/followed")],
                        )
                            .into_response();
                    }
                    let mut failures = state.failures.lock().unwrap();
                    match failures.get_mut(&path) {
                        Some(n) if *n > 0 => {
                            *n -= 1;
                            StatusCode::INTERNAL_SERVER_ERROR.into_response()
                        }
                        _ => StatusCode::OK.into_response(),
                    }
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, base)
    }

    fn to(&self, path: &str) -> Vec<Received> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }
}

/// Checks `X-Sealscribe-Signature: t=<unix>,v1=<hex>,v2=<hex>` for `media_id` and
/// `callback_type`: `v2` verifies with the client's verifier and covers the media id and type
/// headers and the body; the deprecated `v1` (HMAC-SHA256 of `"<t>." + body`) still verifies
/// the way receivers written for it check it.
fn assert_signed(r: &Received, secret: &str, media_id: &str, callback_type: &str) {
    use sealscribe_client::callback::{Accept, CallbackHeaders, Verified, VerifyError, verify};
    assert_eq!(r.media_id, media_id, "X-Sealscribe-Media-Id of {}", r.path);
    assert_eq!(r.callback_type, callback_type, "X-Sealscribe-Callback-Type");
    let now = chrono_now();
    let check = |media_id: &str, callback_type: &str, body: &[u8], accept| {
        let headers = CallbackHeaders {
            signature: &r.signature,
            media_id,
            callback_type,
        };
        verify(secret, headers, body, now, 600, accept)
    };
    assert_eq!(
        check(&r.media_id, &r.callback_type, &r.body, Accept::V2Only),
        Ok(Verified::V2),
        "v2 signature of {}: {:?}",
        r.path,
        r.signature
    );
    // A changed media id header, callback type header or body does not verify.
    let other_id = "0b0e5a3c-55f1-4a0b-9a7e-1d2c3b4a5f60";
    assert_ne!(other_id, r.media_id);
    let other_type = if r.callback_type == "media" {
        "analytics"
    } else {
        "media"
    };
    for accept in [Accept::V2Only, Accept::V2OrLegacyV1] {
        assert_eq!(
            check(other_id, &r.callback_type, &r.body, accept),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            check(&r.media_id, other_type, &r.body, accept),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            check(&r.media_id, &r.callback_type, b"tampered", accept),
            Err(VerifyError::Mismatch)
        );
    }

    // The deprecated v1, checked as the receivers written for it do (fields by name).
    let fields: HashMap<&str, &str> = r
        .signature
        .split(',')
        .filter_map(|part| part.split_once('='))
        .collect();
    let (t, v1) = (fields["t"], fields["v1"]);
    let age = now - t.parse::<i64>().unwrap();
    assert!((0..600).contains(&age), "recent timestamp: {age} s");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(&r.body);
    mac.verify_slice(&hex::decode(v1).unwrap())
        .unwrap_or_else(|_| panic!("v1 signature of {} does not verify", r.path));
    // Stripped down to v1, the request is refused unless v1 is explicitly accepted.
    let v1_only = format!("t={t},v1={v1}");
    let legacy = |accept| {
        let headers = CallbackHeaders {
            signature: &v1_only,
            media_id: &r.media_id,
            callback_type: &r.callback_type,
        };
        verify(secret, headers, &r.body, now, 600, accept)
    };
    assert_eq!(legacy(Accept::V2Only), Err(VerifyError::V2Missing));
    assert_eq!(legacy(Accept::V2OrLegacyV1), Ok(Verified::V1));
}

/// `sealscribe client verify-callback` on a received request: `v2` and exit 0; another media
/// id or callback type, exit 9.
fn verify_with_the_binary(r: &Received, secret: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, format!("{secret}\n")).unwrap();
    std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let body = dir.path().join("body");
    std::fs::write(&body, &r.body).unwrap();
    let run = |media_id: &str, callback_type: &str| {
        let out = std::process::Command::new(crate::common::BIN)
            .args(["client", "verify-callback", "--secret-file"])
            .arg(&secret_file)
            .args(["--signature", &r.signature, "--media-id", media_id])
            .args(["--callback-type", callback_type])
            .arg(&body)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) = run(&r.media_id, &r.callback_type);
    assert_eq!((code, stdout.trim()), (Some(0), "v2"), "{stderr}");
    let (code, _, stderr) = run("0b0e5a3c-55f1-4a0b-9a7e-1d2c3b4a5f60", &r.callback_type);
    assert_eq!(code, Some(9), "{stderr}");
    assert!(stderr.contains("does not match"), "{stderr}");
    let (code, _, _) = run(&r.media_id, "analytics");
    assert_eq!(code, Some(9));
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Polls the media document until no callback is pending any more.
async fn wait_delivered(server: &Server, token: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let doc = server.get_json(token, &format!("/v3/media/{id}")).await;
        let callbacks = doc["callbacks"].as_array().cloned().unwrap_or_default();
        if doc["status"] != "accepted"
            && doc["status"] != "running"
            && !callbacks.is_empty()
            && callbacks.iter().all(|c| c["status"] != "pending")
        {
            return doc;
        }
        assert!(Instant::now() < deadline, "callbacks still pending: {doc}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

const FLAGS: &[&str] = &[
    "--allow-private-urls",
    "--callback-retry-delays",
    "1s",
    "--callback-tries-per-round",
    "3",
];

/// A 307 from a receiver is its answer (a failed try), never followed, and
/// no request goes through a proxy named in the environment.
#[tokio::test]
async fn callbacks_never_follow_redirects_nor_environment_proxies() {
    let env = Env::new();
    let token = env.create_account("hooks");
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    proxy.set_nonblocking(true).unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    // On the scaled backend the S3 client (the operator's own store, through object_store)
    // honours the environment's proxy, as an operator who sets one expects; the property under
    // test is the outbound client's, which the embedded run checks with every variable set.
    let names: &[&str] = if env.is_scaled() {
        &[]
    } else {
        &[
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
        ]
    };
    let vars: Vec<(&str, String)> = names.iter().map(|&k| (k, proxy_url.clone())).collect();
    let server = env.start_with_env(FLAGS, &vars);
    let (receiver, base) = Receiver::start(&[]).await;
    let audio = std::fs::read(env.speech("moved", "Hello there, this callback is moved.")).unwrap();
    let config = json!({"publish": {"callbacks": [
        {"url": format!("{base}/analytics")},
        {"url": format!("{base}/moved")},
    ]}})
    .to_string();
    // The mediaUrl probe and fetch ignore the proxy too.
    let form = reqwest::multipart::Form::new()
        .text("mediaUrl", serve_file(audio, 200))
        .part("configuration", json_part("c.json", &config));
    let id = server.post_form_ok(&token, form).await;
    let doc = wait_delivered(&server, &token, &id).await;
    assert_eq!(doc["status"], "finished", "{doc}");
    assert_eq!(receiver.to("/analytics").len(), 1);
    assert_eq!(doc["callbacks"][0]["status"], "delivered", "{doc}");
    assert_eq!(doc["callbacks"][1]["status"], "failed", "{doc}");
    let attempts = doc["callbacks"][1]["attempts"].as_array().unwrap();
    assert!(
        attempts.iter().all(|a| a["httpStatus"] == 307),
        "{attempts:?}"
    );
    assert_eq!(receiver.to("/moved").len(), attempts.len());
    assert!(
        receiver.to("/followed").is_empty(),
        "the redirect was followed"
    );
    assert!(
        proxy.accept().is_err(),
        "a request went to the proxy named in the environment"
    );
}

#[tokio::test]
async fn callbacks_are_delivered_signed_and_retried() {
    let env = Env::new();
    let token = env.create_account("hooks");
    let server = env.start_with(FLAGS);
    let (receiver, base) = Receiver::start(&[("/analytics", 2), ("/never", u32::MAX)]).await;
    let audio =
        std::fs::read(env.speech("hello", "Hello there, this is a callback test.")).unwrap();
    let config = json!({"publish": {"callbacks": [
        {"url": format!("{base}/analytics"), "include": ["transcript", "metadata"]},
        {"url": format!("{base}/srt?sig=s3cret"), "method": "put", "type": "transcript", "format": "srt"},
        {"url": format!("{base}/media"), "type": "media", "stream": "original"},
        {"url": format!("{base}/never"), "type": "transcript", "format": "text"},
        {"url": format!("{base}/dfxp"), "type": "transcript", "format": "dfxp"},
    ]}})
    .to_string();
    let id = server
        .upload_ok(
            &token,
            audio.clone(),
            Some(&config),
            Some(r#"{"title":"Hook"}"#),
        )
        .await;
    let doc = wait_delivered(&server, &token, &id).await;
    assert_eq!(doc["status"], "finished");
    let described = server
        .get_json(&token, "/v3/security/callback-secret")
        .await;
    assert_eq!(
        described["signedPayload"],
        "v2:<t>.<mediaId>.<callbackType>.<body>"
    );
    let secret = described["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));

    // analytics: failed twice, then delivered: three attempts, same body.
    let analytics = receiver.to("/analytics");
    assert_eq!(analytics.len(), 3, "{analytics:?}");
    for r in &analytics {
        assert_eq!(r.method, Method::POST);
        assert_eq!(r.content_type, "application/json");
        assert_eq!(r.body, analytics[0].body);
        assert_signed(r, &secret, &id, "analytics");
    }
    let body: Value = serde_json::from_slice(&analytics[0].body).unwrap();
    assert_eq!(body["mediaId"], id.as_str());
    assert_eq!(body["status"], "finished");
    assert_eq!(body["metadata"]["title"], "Hook");
    assert!(body["transcript"]["words"].as_array().unwrap().len() > 3);
    assert!(
        body.get("streams").is_none(),
        "only the included sections: {body}"
    );

    // transcript (PUT, srt) and media: once each, with their content types.
    let srt = receiver.to("/srt");
    assert_eq!(srt.len(), 1);
    assert_eq!(srt[0].method, Method::PUT);
    assert_eq!(srt[0].content_type, "text/srt");
    assert!(String::from_utf8_lossy(&srt[0].body).contains(" --> "));
    assert_signed(&srt[0], &secret, &id, "transcript");
    let media = receiver.to("/media");
    assert_eq!(media.len(), 1);
    assert_eq!(media[0].content_type, "application/octet-stream");
    assert_eq!(media[0].body, audio, "the original stream, byte for byte");
    assert_signed(&media[0], &secret, &id, "media");
    verify_with_the_binary(&media[0], &secret);
    // dfxp: the TTML rendition, exactly what GET …/transcript/dfxp serves.
    let dfxp = receiver.to("/dfxp");
    assert_eq!(dfxp.len(), 1);
    assert_eq!(dfxp[0].content_type, "application/ttaf+xml");
    assert_signed(&dfxp[0], &secret, &id, "transcript");
    let served = server
        .http
        .get(server.url(&format!("/v3/media/{id}/transcript/dfxp")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(String::from_utf8(dfxp[0].body.clone()).unwrap(), served);
    assert!(served.contains("<tt xmlns=\"http://www.w3.org/2006/10/ttaf1\""));
    assert!(served.contains("<p begin=\"00:00:0"), "{served}");
    // never: two rounds of three tries, then given up.
    assert_eq!(receiver.to("/never").len(), 6);

    // The customer sees every attempt, and no secret from the URL.
    let callbacks = doc["callbacks"].as_array().unwrap();
    let statuses: Vec<_> = callbacks
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["delivered", "delivered", "delivered", "failed", "delivered"]
    );
    let codes: Vec<_> = callbacks[0]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["httpStatus"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, [500, 500, 200]);
    assert_eq!(callbacks[3]["attempts"].as_array().unwrap().len(), 6);
    assert!(!doc.to_string().contains("s3cret"), "{doc}");
    assert!(!env.log().contains("s3cret"), "no URL secrets in the log");
    assert!(!env.log().contains(&secret), "no signing secret in the log");

    // Rotation: a new secret from now on.
    let rotated: Value = server
        .http
        .post(server.url("/v3/security/callback-secret"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(rotated["secret"], secret.as_str());
}

#[tokio::test]
async fn encrypted_media_callbacks_carry_ciphertext() {
    let env = Env::new();
    let token = env.create_account("hooks");
    let server = env.start_with(FLAGS);
    let (receiver, base) = Receiver::start(&[]).await;
    let gpg = GpgHome::new();
    let fpr = gpg.gen_rsa_and_rsa("Hooks <hooks@example.com>");
    let key_id = server
        .upload_key(&token, gpg.export_public(&fpr, true))
        .await;
    let audio = std::fs::read(env.speech("secret", "The launch code word is pineapple.")).unwrap();
    let config = json!({
        "encryption": {"publicKeyId": key_id},
        "publish": {"callbacks": [
            {"url": format!("{base}/analytics")},
            {"url": format!("{base}/text"), "type": "transcript", "format": "text"},
            {"url": format!("{base}/media"), "type": "media"},
        ]},
    })
    .to_string();
    let id = server
        .upload_ok(
            &token,
            audio.clone(),
            Some(&config),
            Some(r#"{"title":"Launch"}"#),
        )
        .await;
    let doc = wait_delivered(&server, &token, &id).await;
    assert_eq!(doc["status"], "finished", "{doc}");
    let secret = server
        .get_json(&token, "/v3/security/callback-secret")
        .await["secret"]
        .as_str()
        .unwrap()
        .to_owned();

    let analytics = receiver.to("/analytics");
    assert_eq!(analytics.len(), 1);
    assert_eq!(analytics[0].content_type, "application/pgp-encrypted");
    assert!(
        analytics[0]
            .body
            .starts_with(b"-----BEGIN PGP MESSAGE-----")
    );
    assert_signed(&analytics[0], &secret, &id, "analytics");
    let body: Value = serde_json::from_slice(&gpg.decrypt(&analytics[0].body)).unwrap();
    assert_eq!(body["mediaId"], id.as_str());
    assert_eq!(body["metadata"]["title"], "Launch");
    assert!(
        body["transcript"]
            .to_string()
            .to_lowercase()
            .contains("pineapple"),
        "{body}"
    );
    let text = receiver.to("/text");
    assert_eq!(text[0].content_type, "application/pgp-encrypted");
    let plain = String::from_utf8(gpg.decrypt(&text[0].body)).unwrap();
    assert!(plain.to_lowercase().contains("pineapple"), "{plain}");
    let media = receiver.to("/media");
    assert_eq!(media[0].content_type, "application/pgp-encrypted");
    assert_eq!(gpg.decrypt(&media[0].body), audio);
    assert_signed(&media[0], &secret, &id, "media");
    // Nothing readable went out.
    for r in receiver.got.lock().unwrap().iter() {
        assert!(
            !String::from_utf8_lossy(&r.body)
                .to_lowercase()
                .contains("pineapple")
        );
    }
}

#[tokio::test]
async fn failed_processing_sends_only_analytics_and_private_urls_are_refused() {
    let env = Env::new();
    let token = env.create_account("hooks");
    let server = env.start_with(FLAGS);
    let (receiver, base) = Receiver::start(&[]).await;
    // A mediaUrl that serves something that is not audio: processing fails.
    let junk = serve_file(b"<html>not audio</html>".repeat(50), 200);
    let config = json!({"publish": {"callbacks": [
        {"url": format!("{base}/analytics")},
        {"url": format!("{base}/text"), "type": "transcript", "format": "text"},
    ]}})
    .to_string();
    let form = reqwest::multipart::Form::new()
        .text("mediaUrl", junk)
        .part("configuration", json_part("configuration.json", &config));
    let accepted: Value = server
        .http
        .post(server.url("/v3/media"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = accepted["mediaId"]
        .as_str()
        .unwrap_or_else(|| panic!("{accepted}"))
        .to_owned();
    let doc = wait_delivered(&server, &token, &id).await;
    assert_eq!(doc["status"], "failed", "{doc}");
    let analytics = receiver.to("/analytics");
    assert_eq!(analytics.len(), 1);
    let body: Value = serde_json::from_slice(&analytics[0].body).unwrap();
    assert_eq!(body["status"], "failed");
    assert!(body["errors"][0]["code"].is_u64(), "{body}");
    assert!(
        receiver.to("/text").is_empty(),
        "no transcript callback on failure"
    );
    assert_eq!(doc["callbacks"][0]["status"], "delivered");
    assert_eq!(doc["callbacks"][1]["status"], "skipped");
    drop(server);

    // Without --allow-private-urls a loopback receiver is refused at upload.
    let server = env.start();
    let audio = std::fs::read(env.speech("x", "Hello.")).unwrap();
    for url in [
        format!("{base}/analytics"),
        "http://10.1.2.3/x".into(),
        "http://localhost/x".into(),
    ] {
        let config = json!({"publish": {"callbacks": [{"url": url}]}}).to_string();
        let message = expect_error(
            server
                .upload(&token, audio.clone(), Some(&config), None)
                .await,
            400,
            60002,
        )
        .await;
        assert!(message.contains("publish.callbacks[0].url"), "{message}");
    }
}
