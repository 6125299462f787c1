//! Client Supplied Encryption, driven the way a customer does: keys made with
//! gpg, uploads with curl-like calls, results opened with `gpg --decrypt` and
//! `sq decrypt`; and a scan proving no plaintext is left at rest.

use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use sealscribe_openpgp::testing::{self, GpgHome};
use serde_json::{Value, json};

use crate::common::{Env, Server, contains, expect_error, files_under, json_part, words};

fn config(key_id: &str) -> String {
    json!({"encryption": {"publicKeyId": key_id}, "searchability": {"searchable": false}})
        .to_string()
}

/// Uploads `audio` with the configuration part first or last, and a file name.
async fn upload(
    server: &Server,
    token: &str,
    audio: Vec<u8>,
    config: &str,
    metadata: &str,
    file_name: &str,
    config_first: bool,
) -> reqwest::Response {
    let media = reqwest::multipart::Part::bytes(audio)
        .file_name(file_name.to_owned())
        .mime_str("audio/wav")
        .unwrap();
    let mut form = reqwest::multipart::Form::new();
    if config_first {
        form = form
            .part("configuration", json_part("configuration.json", config))
            .part("media", media);
    } else {
        form = form
            .part("media", media)
            .part("configuration", json_part("configuration.json", config));
    }
    form = form.part("metadata", json_part("metadata.json", metadata));
    server
        .http
        .post(server.url("/v3/media"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn get(server: &Server, token: &str, path: &str, accept: Option<&str>) -> reqwest::Response {
    let mut req = server.http.get(server.url(path)).bearer_auth(token);
    if let Some(a) = accept {
        req = req.header(ACCEPT, a);
    }
    req.send().await.unwrap()
}

const SPOKEN: &str = "Our secret project meeting moved to the library on Thursday afternoon.";

/// The seed's whole flow for both key types, and every row of the contract's
/// §2.3 table.
#[tokio::test]
async fn encrypted_media_end_to_end_with_gpg_and_sq() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start();
    let gpg = GpgHome::new();
    let audio = std::fs::read(env.speech("secret", SPOKEN)).unwrap();

    for (kind, fpr) in [
        (
            "RSA and RSA",
            gpg.gen_rsa_and_rsa("Customer RSA <rsa@example.com>"),
        ),
        (
            "cv25519",
            gpg.gen_future_default("Customer 25519 <ed@example.com>"),
        ),
    ] {
        let key_id = server
            .upload_key(&token, gpg.export_public(&fpr, true))
            .await;
        let config_first = kind == "cv25519";
        let resp = upload(
            &server,
            &token,
            audio.clone(),
            &config(&key_id),
            r#"{"title":"Board meeting","externalId":"enc-1"}"#,
            "meeting.wav",
            config_first,
        )
        .await;
        let status = resp.status();
        let accepted: Value = resp.json().await.unwrap();
        assert_eq!(status, 200, "{kind}: {accepted}");
        assert_eq!(accepted["status"], "accepted");
        let id = accepted["mediaId"].as_str().unwrap().to_owned();
        assert!(
            accepted.get("metadata").is_none(),
            "no metadata in clear: {accepted}"
        );

        let doc = server.wait(&token, &id).await;
        assert_eq!(doc["status"], "finished", "{kind}: {doc}");
        // Bookkeeping and the encryption block; nothing of the content.
        assert_eq!(doc["encryption"]["publicKeyId"], key_id.as_str());
        assert_eq!(doc["encryption"]["fingerprint"], fpr.as_str());
        let key_bytes = gpg.export_public(&fpr, true);
        let hash = Command::new("sha256sum")
            .arg("-")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .map(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(&key_bytes).unwrap();
                String::from_utf8(c.wait_with_output().unwrap().stdout).unwrap()
            })
            .unwrap();
        assert_eq!(
            doc["encryption"]["publicKeyHash"],
            hash.split_whitespace().next().unwrap()
        );
        for absent in ["transcript", "metadata"] {
            assert!(
                doc.get(absent).is_none(),
                "{kind}: {absent} must not be in the document: {doc}"
            );
        }
        assert!(doc["length"].as_u64().unwrap() > 2000);

        // The full document, encrypted to the key; gpg and sq both open it.
        let pgp = get(
            &server,
            &token,
            &format!("/v3/media/{id}"),
            Some("application/pgp-encrypted"),
        )
        .await;
        assert_eq!(pgp.status(), 200);
        assert_eq!(pgp.headers()[CONTENT_TYPE], "application/pgp-encrypted");
        let ciphertext = pgp.bytes().await.unwrap().to_vec();
        let full: Value = serde_json::from_slice(&gpg.decrypt(&ciphertext))
            .expect("the decrypted document is JSON");
        assert_eq!(full["mediaId"], id.as_str());
        assert_eq!(full["metadata"]["title"], "Board meeting");
        let spoken = words(&full["transcript"]);
        for w in ["project", "meeting", "library", "thursday", "afternoon"] {
            assert!(
                spoken.iter().any(|s| s == w),
                "{kind}: {w:?} missing from {spoken:?}"
            );
        }
        let secret = gpg.export_secret(&fpr);
        let via_sq: Value =
            serde_json::from_slice(&testing::sq_decrypt(&secret, &ciphertext)).unwrap();
        assert_eq!(via_sq, full, "sq decrypts the same document");

        // Transcript and metadata are 404 / 95003 in every rendition.
        for path in [
            "transcript",
            "transcript/text",
            "transcript/srt",
            "transcript/webvtt",
            "transcript/dfxp",
            "metadata",
        ] {
            expect_error(
                get(&server, &token, &format!("/v3/media/{id}/{path}"), None).await,
                404,
                95003,
            )
            .await;
        }
        expect_error(
            get(
                &server,
                &token,
                &format!("/v3/media/{id}/transcript"),
                Some("text/plain"),
            )
            .await,
            404,
            95003,
        )
        .await;
        // No rendition in clear either: DFXP by Accept, and no alternateFormats in the document.
        expect_error(
            get(
                &server,
                &token,
                &format!("/v3/media/{id}/transcript"),
                Some("application/ttml+xml"),
            )
            .await,
            404,
            95003,
        )
        .await;
        let with_alternates = get(
            &server,
            &token,
            &format!("/v3/media/{id}?includeAlternateFormat=text,srt,dfxp,webvtt"),
            None,
        )
        .await;
        assert_eq!(with_alternates.status(), 200);
        let with_alternates = with_alternates.text().await.unwrap();
        assert!(
            !with_alternates.contains("alternateFormats") && !with_alternates.contains("words"),
            "{with_alternates}"
        );
        let put = server
            .http
            .put(server.url(&format!("/v3/media/{id}/metadata")))
            .bearer_auth(&token)
            .json(&json!({"title": "x"}))
            .send()
            .await
            .unwrap();
        expect_error(put, 404, 95003).await;

        // Progress works as normal.
        let progress = server
            .get_json(&token, &format!("/v3/media/{id}/progress"))
            .await;
        assert_eq!(progress["progress"]["status"], "finished");
        assert!(
            progress["progress"]["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["taskId"] == "encrypt" && t["status"] == "completed")
        );

        // Streams: only original-encrypted, which gpg and sq turn back into the upload.
        let streams = server
            .get_json(&token, &format!("/v3/media/{id}/streams"))
            .await;
        let names: Vec<&str> = streams["streams"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["streamName"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["original-encrypted"]);
        expect_error(
            get(
                &server,
                &token,
                &format!("/v3/media/{id}/streams/original"),
                None,
            )
            .await,
            404,
            10205,
        )
        .await;
        let stream = get(
            &server,
            &token,
            &format!("/v3/media/{id}/streams/original-encrypted"),
            None,
        )
        .await;
        assert_eq!(stream.headers()[CONTENT_TYPE], "application/pgp-encrypted");
        let ciphertext = stream.bytes().await.unwrap().to_vec();
        assert_eq!(
            gpg.decrypt(&ciphertext),
            audio,
            "{kind}: gpg --decrypt gives back the upload byte for byte"
        );
        assert_eq!(
            testing::sq_decrypt(&secret, &ciphertext),
            audio,
            "{kind}: so does sq decrypt"
        );

        // Search never sees it; reprocessing is refused; delete works.
        let found = server.get_json(&token, "/v3/media?query=library").await;
        assert!(found["media"].as_array().unwrap().is_empty(), "{found}");
        let found = server.get_json(&token, "/v3/media?externalId=enc-1").await;
        assert!(found["media"].as_array().unwrap().is_empty());
        let form = reqwest::multipart::Form::new().part("configuration", json_part("c.json", "{}"));
        let resp = server
            .http
            .post(server.url(&format!("/v3/media/{id}")))
            .bearer_auth(&token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        expect_error(resp, 409, 95003).await;
        // Whatever the body: the media, not the request, is the problem.
        let resp = server
            .http
            .post(server.url(&format!("/v3/media/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        expect_error(resp, 409, 95003).await;
        let del = server
            .http
            .delete(server.url(&format!("/v3/media/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(del.status(), 204);
        expect_error(
            get(&server, &token, &format!("/v3/media/{id}"), None).await,
            404,
            10205,
        )
        .await;
        assert!(env.blob_names().await.iter().all(|n| !n.contains(&id)));
    }
}

/// The seal key of `media_id` in every form a scan looks for: hex (in both
/// cases) and the raw 32 bytes. The database holds it only wrapped under the
/// key-encryption key; the test holds that key (`Env::seal_key` unwraps), so
/// it must be called while the media is in processing (or after a kill -9,
/// which leaves the wrapped key in place).
async fn seal_key_candidates(env: &Env, media_id: &str) -> Vec<Vec<u8>> {
    let hex = env.seal_key(media_id).await.to_hex();
    let raw = hex::decode(hex.as_str()).expect("the seal key is hex");
    assert_eq!(raw.len(), 32);
    vec![
        hex.to_ascii_lowercase().into_bytes(),
        hex.to_ascii_uppercase().into_bytes(),
        raw,
    ]
}

/// What a scan looks for: text matched without regard to case, and exact bytes.
struct Needles<'a> {
    text: &'a [&'a str],
    bytes: &'a [(&'a str, Vec<u8>)],
}

/// Every (needle, place) found in `files`.
fn scan(files: &[(String, Vec<u8>)], needles: &Needles<'_>) -> Vec<String> {
    let mut found = Vec::new();
    for (place, bytes) in files {
        let lower = bytes.to_ascii_lowercase();
        for c in needles.text {
            if contains(&lower, c.as_bytes()) {
                found.push(format!("{c:?} in {place}"));
            }
        }
        for (what, needle) in needles.bytes {
            if contains(bytes, needle) {
                found.push(format!("{what} in {place}"));
            }
        }
    }
    found
}

/// Canary words are spoken, and canary strings put in the metadata and the
/// file name; after processing, and after a kill -9 mid-processing and a
/// restart, no canary, no piece of the audio and no seal key (hex or raw)
/// appears in any file the operator's storage keeps: the data directory
/// (SQLite files included), every scratch directory, the server's log and,
/// on the scaled backend (`SEALSCRIBE_IT_BACKEND=scaled`), the PostgreSQL
/// data directory (this test's database and the WAL) and the S3 server's
/// data directory. Right after the kill, nothing on disk holds a canary or
/// the audio either (only the memory-backed scratch may hold the audio,
/// until the next worker starts).
#[tokio::test]
async fn no_plaintext_at_rest() {
    let env = Env::new();
    let token = env.create_account("acme");
    let gpg = GpgHome::new();
    let fpr = gpg.gen_rsa_and_rsa("Canary <canary@example.com>");
    let spoken = "The giraffe looked through the telescope at the volcano.";
    let audio = std::fs::read(env.speech("canary", spoken)).unwrap();
    // 48 bytes of speech from the middle of the samples: the audio itself
    // is a canary too (the plaintext ffmpeg reads).
    let mid = (audio.len() / 2) & !1;
    let pcm = audio[mid..mid + 48].to_vec();
    assert!(pcm.iter().any(|&b| b != 0), "speech, not silence");
    let metadata = r#"{"title":"CANARY-TITLE-5f1e","description":"canary-description-c0ffee","extended":{"note":"CANARY-EXTENDED-a11ce"}}"#;
    let file_name = "canary-filename-d00d.wav";
    let canaries = [
        "giraffe",
        "telescope",
        "volcano",
        "canary-title-5f1e",
        "canary-description-c0ffee",
        "canary-extended-a11ce",
        "canary-filename-d00d",
    ];

    let mut ids = Vec::new();
    let mut keys = Vec::new();
    let killed_wrapped;
    {
        // Accepted by an API-only node, so that its seal key can be read
        // before any worker could finish the job (and delete the key).
        let api = env.start_with(&["--workers", "0"]);
        let key_id = api.upload_key(&token, gpg.export_public(&fpr, true)).await;
        // One processed normally, media part first…
        let resp = upload(
            &api,
            &token,
            audio.clone(),
            &config(&key_id),
            metadata,
            file_name,
            false,
        )
        .await;
        let id = resp.json::<Value>().await.unwrap()["mediaId"]
            .as_str()
            .unwrap()
            .to_owned();
        keys.extend(seal_key_candidates(&env, &id).await);
        ids.push(id);
        assert!(api.stop());

        let server = env.start_with(&["--job-lease-secs", "3"]);
        assert_eq!(server.wait(&token, &ids[0]).await["status"], "finished");
        // …and one whose server is killed while it processes.
        let resp = upload(
            &server,
            &token,
            audio.clone(),
            &config(&key_id),
            metadata,
            file_name,
            true,
        )
        .await;
        let id = resp.json::<Value>().await.unwrap()["mediaId"]
            .as_str()
            .unwrap()
            .to_owned();
        let deadline = Instant::now() + Duration::from_secs(60);
        while server.get_json(&token, &format!("/v3/media/{id}")).await["status"] != "running" {
            assert!(Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Command::new("kill")
            .args(["-9", &server.pid().to_string()])
            .status()
            .unwrap();
        // The killed job never ended: its wrapped key is still in the database.
        keys.extend(seal_key_candidates(&env, &id).await);
        killed_wrapped = env.wrapped_seal_key(&id).await;
        ids.push(id);
    }
    let forms = ["hex", "HEX", "raw"];
    let key_needles: Vec<(&str, Vec<u8>)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (forms[i % 3], k.clone()))
        .collect();

    // Right after the kill: no canary anywhere, and the audio nowhere but
    // in the memory-backed scratch.
    let files = env.files_at_rest().await;
    let memory = env.scratch.path().display().to_string();
    let on_disk: Vec<_> = files
        .iter()
        .filter(|(place, _)| !place.starts_with(&memory))
        .cloned()
        .collect();
    let text_only = Needles {
        text: &canaries,
        bytes: &[],
    };
    let found = scan(&files, &text_only);
    assert!(found.is_empty(), "after kill -9: {found:?}");
    let audio_needle = [("the audio", pcm.clone())];
    let audio_only = Needles {
        text: &[],
        bytes: &audio_needle,
    };
    let found = scan(&on_disk, &audio_only);
    assert!(found.is_empty(), "after kill -9, on disk: {found:?}");
    // The seal keys (hex and raw) are nowhere: the database holds them only
    // wrapped. Control: the scan does read the database's files (SQLite's, or
    // PostgreSQL's after a checkpoint), where the killed job's *wrapped* key is.
    let key_only = Needles {
        text: &[],
        bytes: &key_needles,
    };
    let found = scan(&files, &key_only);
    assert!(
        found.is_empty(),
        "after kill -9, a clear seal key: {found:?}"
    );
    let wrapped_needle = [("the wrapped key", killed_wrapped.into_bytes())];
    let killed_key = Needles {
        text: &[],
        bytes: &wrapped_needle,
    };
    assert!(
        !scan(&on_disk, &killed_key).is_empty(),
        "the test must be able to fail: the killed job's wrapped key is not in the database files"
    );

    let server = env.start_with(&["--job-lease-secs", "3"]);
    for id in &ids {
        assert_eq!(server.wait(&token, id).await["status"], "finished");
        // The canaries really were captured, in the customer's ciphertext.
        let ciphertext = get(
            &server,
            &token,
            &format!("/v3/media/{id}"),
            Some("application/pgp-encrypted"),
        )
        .await
        .bytes()
        .await
        .unwrap();
        let plain = String::from_utf8(gpg.decrypt(&ciphertext))
            .unwrap()
            .to_lowercase();
        for c in canaries.iter().filter(|c| **c != "volcano") {
            assert!(
                plain.contains(c),
                "the test must be able to fail: {c} not in the decrypted document"
            );
        }
        // And the key really was this media's: the stored original opens
        // to the very audio the scan looks for.
        let original = get(
            &server,
            &token,
            &format!("/v3/media/{id}/streams/original-encrypted"),
            None,
        )
        .await
        .bytes()
        .await
        .unwrap();
        assert!(contains(&gpg.decrypt(&original), &pcm));
    }
    assert!(server.stop());

    let mut places = env.stored().await;
    places.push(("the log".into(), env.log().into_bytes()));
    places.extend(env.files_at_rest().await);
    assert!(places.len() > 3);
    let mut bytes = key_needles.clone();
    bytes.extend(audio_needle);
    let found = scan(
        &places,
        &Needles {
            text: &canaries,
            bytes: &bytes,
        },
    );
    assert!(found.is_empty(), "after processing: {found:?}");
    for scratch in env.scratch_dirs() {
        assert!(
            files_under(&scratch).is_empty(),
            "scratch files left: {:?}",
            files_under(&scratch)
        );
    }
    let leftovers: Vec<_> = env
        .blob_names()
        .await
        .into_iter()
        .filter(|n| n.contains("work.sealed"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "sealed working copies are deleted when processing ends: {leftovers:?}"
    );
}

/// Unknown, deleted, other account's and expired keys are refused before
/// anything is queued; `searchable: true` with encryption too; a key deleted
/// after acceptance does not stop processing (the key was pinned).
#[tokio::test]
async fn key_problems_are_refused_and_pinned_keys_survive_deletion() {
    let env = Env::new();
    let token = env.create_account("acme");
    let other = env.create_account("other");
    let gpg = GpgHome::new();
    let audio =
        std::fs::read(env.speech("pin", "Pinned keys keep working after deletion.")).unwrap();
    let server = env.start_with(&["--workers", "0"]);

    let missing = "00000000-0000-4000-8000-000000000000";
    let msg = expect_error(
        upload(
            &server,
            &token,
            audio.clone(),
            &config(missing),
            "{}",
            "a.wav",
            true,
        )
        .await,
        400,
        95001,
    )
    .await;
    assert!(msg.contains("public-keys"), "{msg}");
    expect_error(
        upload(
            &server,
            &token,
            audio.clone(),
            &config("not-a-uuid"),
            "{}",
            "a.wav",
            true,
        )
        .await,
        400,
        95001,
    )
    .await;

    let theirs = server
        .upload_key(
            &other,
            gpg.export_public(&gpg.gen_future_default("Other <o@example.com>"), true),
        )
        .await;
    expect_error(
        upload(
            &server,
            &token,
            audio.clone(),
            &config(&theirs),
            "{}",
            "a.wav",
            false,
        )
        .await,
        400,
        95001,
    )
    .await;

    let deleted = server
        .upload_key(
            &token,
            gpg.export_public(&gpg.gen_future_default("Gone <g@example.com>"), true),
        )
        .await;
    server
        .http
        .delete(server.url(&format!("/v3/security/public-keys/{deleted}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    expect_error(
        upload(
            &server,
            &token,
            audio.clone(),
            &config(&deleted),
            "{}",
            "a.wav",
            true,
        )
        .await,
        400,
        95001,
    )
    .await;

    let mine = server
        .upload_key(
            &token,
            gpg.export_public(&gpg.gen_future_default("Mine <m@example.com>"), true),
        )
        .await;
    let searchable =
        json!({"encryption": {"publicKeyId": mine}, "searchability": {"searchable": true}})
            .to_string();
    expect_error(
        upload(
            &server,
            &token,
            audio.clone(),
            &searchable,
            "{}",
            "a.wav",
            true,
        )
        .await,
        400,
        95005,
    )
    .await;

    // A key that expires a few seconds after its upload.
    gpg.gpg(
        &[
            "--quick-gen-key",
            "Brief <brief@example.com>",
            "future-default",
            "default",
            "seconds=8",
        ],
        b"",
    );
    let listing =
        String::from_utf8(gpg.gpg(&["--with-colons", "--list-keys", "brief@example.com"], b""))
            .unwrap();
    let brief = listing
        .lines()
        .find(|l| l.starts_with("fpr:"))
        .unwrap()
        .split(':')
        .nth(9)
        .unwrap()
        .to_owned();
    let brief_id = server
        .upload_key(&token, gpg.export_public(&brief, true))
        .await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    expect_error(
        upload(
            &server,
            &token,
            audio.clone(),
            &config(&brief_id),
            "{}",
            "a.wav",
            true,
        )
        .await,
        400,
        95004,
    )
    .await;

    let listed = server.get_json(&token, "/v3/media").await;
    assert!(
        listed["media"].as_array().unwrap().is_empty(),
        "nothing was queued: {listed}"
    );
    assert!(env.blob_names().await.is_empty(), "nothing was stored");

    // Pinning: accept with a key, delete the key, then process.
    let fpr = gpg.gen_rsa_and_rsa("Pinned <pinned@example.com>");
    let pinned = server
        .upload_key(&token, gpg.export_public(&fpr, true))
        .await;
    let resp = upload(
        &server,
        &token,
        audio.clone(),
        &config(&pinned),
        "{}",
        "a.wav",
        true,
    )
    .await;
    let id = resp.json::<Value>().await.unwrap()["mediaId"]
        .as_str()
        .unwrap()
        .to_owned();
    let del = server
        .http
        .delete(server.url(&format!("/v3/security/public-keys/{pinned}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    assert!(server.stop());
    let server = env.start();
    assert_eq!(server.wait(&token, &id).await["status"], "finished");
    let stream = get(
        &server,
        &token,
        &format!("/v3/media/{id}/streams/original-encrypted"),
        None,
    )
    .await
    .bytes()
    .await
    .unwrap();
    assert_eq!(
        gpg.decrypt(&stream),
        audio,
        "still encrypted to the pinned key"
    );
}

/// `configuration` before `media` with a pinned key: `original-encrypted` is
/// written as the upload streams, so it is complete — `gpg --decrypt` gives back
/// the upload — the moment the upload answers, with no worker running. The
/// worker later keeps that very message (it does not encrypt again). The
/// media-first order keeps the sealed-only path; an upload refused mid-stream or
/// after it leaves nothing behind.
#[tokio::test]
async fn original_encrypted_is_complete_when_a_configuration_first_upload_answers() {
    let env = Env::new();
    let token = env.create_account("acme");
    let gpg = GpgHome::new();
    let fpr = gpg.gen_future_default("Streaming <stream@example.com>");
    // Larger than the encryptor's batches and the blob writer's 5 MiB parts.
    let big_path = env.dir.path().join("noise.wav");
    sealscribe_testkit::wav::write_noise(&big_path, 12 << 20, 15);
    let big = std::fs::read(&big_path).unwrap();
    let speech = std::fs::read(env.speech("stream", "Encrypt while the bytes arrive.")).unwrap();
    let stream_of = |id: &str| format!("/v3/media/{id}/streams/original-encrypted");
    let media_id = |v: Value| v["mediaId"].as_str().unwrap().to_owned();

    let server = env.start_with(&["--workers", "0"]);
    let key_id = server
        .upload_key(&token, gpg.export_public(&fpr, true))
        .await;
    let cfg = config(&key_id);

    // Configuration first: complete on answer.
    let mut kept = Vec::new();
    for audio in [&big, &speech] {
        let resp = upload(&server, &token, audio.clone(), &cfg, "{}", "a.wav", true).await;
        assert_eq!(resp.status(), 200);
        let id = media_id(resp.json().await.unwrap());
        let stream = get(&server, &token, &stream_of(&id), None).await;
        assert_eq!(
            stream.status(),
            200,
            "no worker ran, yet the stream is there"
        );
        assert_eq!(stream.headers()[CONTENT_TYPE], "application/pgp-encrypted");
        let ciphertext = stream.bytes().await.unwrap().to_vec();
        assert!(
            gpg.decrypt(&ciphertext) == *audio,
            "gpg --decrypt gives back the upload byte for byte"
        );
        kept.push((id, ciphertext));
    }
    let names = env.blob_names().await;
    for (id, _) in &kept {
        for blob in ["work.sealed", "original-encrypted"] {
            assert!(
                names.contains(&format!("media/{id}/{blob}")),
                "{blob} of {id}: {names:?}"
            );
        }
    }

    // Media first: sealed only, as before; the worker will produce the stream.
    let resp = upload(&server, &token, speech.clone(), &cfg, "{}", "a.wav", false).await;
    assert_eq!(resp.status(), 200);
    let late = media_id(resp.json().await.unwrap());
    let msg = expect_error(
        get(&server, &token, &stream_of(&late), None).await,
        404,
        10205,
    )
    .await;
    assert!(msg.contains("not available yet"), "{msg}");

    // Refused after streaming (not media): nothing of it is left.
    let before = env.blob_names().await;
    let text = b"just some words, not a recording at all\n".repeat(20_000);
    let resp = upload(&server, &token, text, &cfg, "{}", "a.wav", true).await;
    expect_error(resp, 400, 10201).await;
    assert_eq!(env.blob_names().await, before);
    assert!(server.stop());

    // Refused mid-stream (over the size limit, after both writers have sent parts):
    // both writes are aborted. Just over, so the client has sent nearly all of it.
    let limit = (big.len() - (64 << 10)).to_string();
    let server = env.start_with(&["--workers", "0", "--max-upload-bytes", &limit]);
    let resp = upload(&server, &token, big.clone(), &cfg, "{}", "a.wav", true).await;
    expect_error(resp, 413, 10800).await;
    assert_eq!(env.blob_names().await, before);
    let partial: Vec<_> = files_under(&env.data_dir())
        .into_iter()
        .filter(|p| p.to_string_lossy().contains('#'))
        .collect();
    assert!(
        partial.is_empty(),
        "unfinished blob writes left: {partial:?}"
    );
    // Only the short speech is worth a worker's time.
    for id in [&kept[0].0, &late] {
        let del = server
            .http
            .delete(server.url(&format!("/v3/media/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(del.status(), 204);
    }
    assert!(server.stop());

    // The worker finds the stream there and keeps it: same bytes, not a new message.
    let server = env.start();
    let (id, ciphertext) = &kept[1];
    assert_eq!(server.wait(&token, id).await["status"], "finished");
    let after = get(&server, &token, &stream_of(id), None)
        .await
        .bytes()
        .await
        .unwrap();
    assert!(
        after == *ciphertext,
        "the worker did not encrypt the original again"
    );
    let progress = server
        .get_json(&token, &format!("/v3/media/{id}/progress"))
        .await;
    assert!(
        progress["progress"]["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["taskId"] == "protect" && t["status"] == "completed"),
        "{progress}"
    );
}
