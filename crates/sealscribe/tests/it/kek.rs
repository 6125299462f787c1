//! The key-encryption key: the database holds a media item's seal key only
//! wrapped, so a copy of every database file taken during processing,
//! together with the blob store, opens nothing; after processing even the
//! wrapped key is gone from every database file (SQLite's WAL included); and
//! `sealscribe kek rotate` rewraps in-flight keys under a new KEK while the
//! server runs, without losing a media item.

use sealscribe_openpgp::testing::GpgHome;
use sealscribe_seal::kek::Keyring;
use sealscribe_seal::{OpenReader, SealKey};
use serde_json::json;

use crate::common::{Env, Server, contains};

const SPOKEN: &str = "The vault code changed on Monday.";

fn config(key_id: &str) -> String {
    json!({"encryption": {"publicKeyId": key_id}, "searchability": {"searchable": false}})
        .to_string()
}

/// Every file of the database as an operator (or a backup job) would copy
/// it: SQLite's db, -wal and -shm files, or PostgreSQL's dump with its bytea
/// values decoded.
async fn database_files(env: &Env) -> Vec<(String, Vec<u8>)> {
    let db = env.data_dir().join("sealscribe.db").display().to_string();
    let files: Vec<_> = env
        .stored()
        .await
        .into_iter()
        .filter(|(place, _)| place.starts_with(&db) || place.starts_with("postgres"))
        .collect();
    assert!(!files.is_empty(), "no database file found");
    files
}

/// Whether the sealed working copy of media `id` opens with `key`.
async fn opens(env: &Env, id: &str, key: &SealKey) -> bool {
    let sealed = env
        .blob_store()
        .get_bytes(&format!("media/{id}/work.sealed"))
        .await
        .unwrap();
    let mut plain = Vec::new();
    std::io::Read::read_to_end(&mut OpenReader::new(&sealed[..], key), &mut plain).is_ok()
}

/// Every run of exactly 64 hex digits in `bytes`: what a seal key in clear
/// would look like.
fn hex_runs(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, b) in bytes.iter().chain(std::iter::once(&b' ')).enumerate() {
        match (b.is_ascii_hexdigit(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if i - s == 64 {
                    out.push(String::from_utf8_lossy(&bytes[s..i]).into_owned());
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Uploads the customer's key; its id.
async fn customer_key(server: &Server, token: &str) -> String {
    let gpg = GpgHome::new();
    let fpr = gpg.gen_future_default("Customer <customer@example.com>");
    server
        .upload_key(token, gpg.export_public(&fpr, true))
        .await
}

async fn upload_encrypted(server: &Server, token: &str, key_id: &str, audio: &[u8]) -> String {
    server
        .upload_ok(token, audio.to_vec(), Some(&config(key_id)), None)
        .await
}

#[tokio::test]
async fn a_database_copy_opens_nothing_and_keeps_no_key_after_processing() {
    let env = Env::new();
    let token = env.create_account("acme");
    let audio = std::fs::read(env.speech("vault", SPOKEN)).unwrap();

    // In processing: no worker takes the job.
    let server = env.start_with(&["--workers", "0"]);
    let key_id = customer_key(&server, &token).await;
    let id = upload_encrypted(&server, &token, &key_id, &audio).await;
    let files = database_files(&env).await;
    let wrapped = env.wrapped_seal_key(&id).await;

    // Only the KEK (a file outside the database) unwraps it, and the key it
    // gives is the one that opens the sealed copy (the positive control).
    let key = env.seal_key(&id).await;
    assert!(opens(&env, &id, &key).await);
    let hex = key.to_hex();
    let raw: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    // The scan sees the database: the wrapped key is in it (embedded: the WAL).
    assert!(
        files
            .iter()
            .any(|(_, bytes)| contains(bytes, wrapped.as_bytes())),
        "the scan must find the wrapped key in the database files"
    );
    for (place, bytes) in &files {
        for needle in [hex.as_bytes(), hex.to_uppercase().as_bytes(), &raw] {
            assert!(!contains(bytes, needle), "the seal key is in {place}");
        }
        // Nothing that looks like a key in clear opens the sealed copy.
        for candidate in hex_runs(bytes) {
            let candidate = SealKey::from_hex(&candidate).unwrap();
            assert!(
                !opens(&env, &id, &candidate).await,
                "a key in {place} opens it"
            );
        }
    }
    assert!(server.stop());

    // Processing ends: the wrapped key goes from every database file, read
    // while the server still runs (a clean stop would checkpoint anyway).
    let server = env.start_with(&["--workers", "1"]);
    let doc = server.wait(&token, &id).await;
    assert_eq!(doc["status"], "finished", "{doc}");
    if !env.is_scaled() {
        let body = wrapped.rsplit(':').next().unwrap();
        for (place, bytes) in database_files(&env).await {
            assert!(
                !contains(&bytes, body.as_bytes()),
                "the wrapped key is still in {place}"
            );
        }
    }
    assert!(server.stop());
}

#[tokio::test]
async fn kek_rotate_rewraps_in_flight_keys_while_the_server_runs() {
    let env = Env::new();
    let token = env.create_account("acme");
    let audio = std::fs::read(env.speech("vault", SPOKEN)).unwrap();

    let server = env.start_with(&["--workers", "0"]);
    let key_id = customer_key(&server, &token).await;
    let first = upload_encrypted(&server, &token, &key_id, &audio).await;
    let before = env.wrapped_seal_key(&first).await;
    let old_kek = Keyring::kek_id_of(&before).unwrap().to_owned();

    let out = env.cli(&["kek", "rotate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new_kek = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_ne!(new_kek, old_kek);
    let after = env.wrapped_seal_key(&first).await;
    assert_eq!(Keyring::kek_id_of(&after).unwrap(), new_kek);
    // Both KEKs stay in the file until retired; the old wrap is gone from
    // the database files.
    assert_eq!(
        Keyring::open(&env.kek_path()).unwrap().ids(),
        vec![new_kek.clone(), old_kek.clone()]
    );
    if !env.is_scaled() {
        for (place, bytes) in database_files(&env).await {
            assert!(!contains(&bytes, before.as_bytes()), "old wrap in {place}");
        }
    }

    // The running server wraps the next upload under the new KEK unasked.
    let second = upload_encrypted(&server, &token, &key_id, &audio).await;
    assert_eq!(
        Keyring::kek_id_of(&env.wrapped_seal_key(&second).await).unwrap(),
        new_kek
    );

    // No stored key needs the old KEK any more: retiring removes it.
    let out = env.cli(&["kek", "retire"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), old_kek);
    assert!(server.stop());

    let server = env.start_with(&["--workers", "1"]);
    for id in [&first, &second] {
        let doc = server.wait(&token, id).await;
        assert_eq!(doc["status"], "finished", "{doc}");
    }
    assert!(server.stop());
}

/// A media in processing when upgrading from a version that stored its seal
/// key in clear: the first start wraps it (and clears the old column), and
/// the media still finishes.
#[tokio::test]
async fn a_clear_seal_key_left_by_an_earlier_version_is_wrapped_at_start() {
    let env = Env::new();
    let token = env.create_account("acme");
    let audio = std::fs::read(env.speech("vault", SPOKEN)).unwrap();
    let server = env.start_with(&["--workers", "0"]);
    let key_id = customer_key(&server, &token).await;
    let id = upload_encrypted(&server, &token, &key_id, &audio).await;
    let hex = env.seal_key(&id).await.to_hex();
    assert!(server.stop());
    // The row as the earlier version wrote it.
    env.sql(&format!(
        "update media set seal_key = '{}', wrapped_seal_key = null where id = '{id}'",
        hex.as_str()
    ))
    .await;

    let server = env.start_with(&["--workers", "1"]);
    let doc = server.wait(&token, &id).await;
    assert_eq!(doc["status"], "finished", "{doc}");
    assert!(
        env.log()
            .contains("wrapped seal keys stored in clear by an earlier version"),
        "{}",
        env.log()
    );
    for (place, bytes) in database_files(&env).await {
        assert!(
            !contains(&bytes, hex.as_bytes()),
            "the clear key is in {place}"
        );
    }
    assert!(server.stop());
}

/// Without usable keys nothing starts: on PostgreSQL no KEK setting at all
/// (every machine must share one), and on any backend a key file others
/// can read.
#[tokio::test]
async fn serve_refuses_to_start_without_a_usable_kek() {
    use std::os::unix::fs::PermissionsExt as _;
    let env = Env::new();
    let serve = |adjust: &dyn Fn(&mut std::process::Command)| {
        let mut cmd = std::process::Command::new(crate::common::BIN);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--workers", "0"]);
        env.configure(&mut cmd);
        adjust(&mut cmd);
        let out = cmd.output().unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    if env.is_scaled() {
        let err = serve(&|cmd| {
            cmd.env_remove("SEALSCRIBE_KEK_FILE");
        });
        assert!(
            err.contains("kek init") && err.contains("SEALSCRIBE_KEK_FILE"),
            "{err}"
        );
    } else {
        std::fs::create_dir_all(env.data_dir()).unwrap();
        Keyring::create(&env.kek_path()).unwrap();
    }
    std::fs::set_permissions(env.kek_path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = serve(&|_| {});
    assert!(err.contains("chmod 600"), "{err}");
}
