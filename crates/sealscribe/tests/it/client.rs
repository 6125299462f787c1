//! `sealscribe client …`, the customer's side, driven as a customer drives it: the real
//! binary against a real server, keys and reference decryptions from the real gpg. Every
//! client runs with stdin/stdout/stderr as pipes (no TTY), in an empty working directory.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sealscribe_openpgp::testing::GpgHome;
use serde_json::Value;

use crate::common::{BIN, Env, contains, uuid_like, words};

/// A client command line for one server and token.
struct Client {
    url: String,
    token: Option<String>,
    /// Working directory: a data directory must never appear in it.
    cwd: tempfile::TempDir,
}

impl Client {
    fn new(url: &str, token: Option<&str>) -> Self {
        Client {
            url: url.to_owned(),
            token: token.map(str::to_owned),
            cwd: tempfile::tempdir().unwrap(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("client")
            .args(args)
            .current_dir(self.cwd.path())
            .env("SEALSCRIBE_URL", &self.url)
            .env_remove("SEALSCRIBE_TOKEN")
            .env_remove("SEALSCRIBE_DATA_DIR")
            .env_remove("SEALSCRIBE_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(t) = &self.token {
            cmd.env("SEALSCRIBE_TOKEN", t);
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = self.command(args).output().expect("run sealscribe client");
        println!(
            "$ sealscribe client {}\n  exit {:?}\n  stderr: {}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
        out
    }

    /// Runs with `stdin` from a file.
    fn run_stdin(&self, args: &[&str], stdin: &Path) -> Output {
        let mut cmd = self.command(args);
        cmd.stdin(std::fs::File::open(stdin).unwrap());
        let out = cmd.output().expect("run sealscribe client");
        println!(
            "$ sealscribe client {} < {}\n  exit {:?}\n  stderr: {}",
            args.join(" "),
            stdin.display(),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
        out
    }

    /// Runs and expects exit 0; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs and expects exit `code`; returns stderr.
    fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        stderr
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // The client never creates the server's data directory (or anything else).
        let left: Vec<_> = std::fs::read_dir(self.cwd.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        if !std::thread::panicking() {
            assert!(left.is_empty(), "the client left {left:?} in its cwd");
        }
    }
}

/// Writes `bytes` to `dir/name` with `mode`.
fn write_file(dir: &Path, name: &str, bytes: &[u8], mode: u32) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const SPOKEN: &str = "Our secret project meeting moved to the library on Thursday afternoon.";

/// The whole Client Supplied Encryption flow with nothing but the client (and gpg as the
/// reference): key upload, encrypted upload, wait, local decryption of the results and of
/// the original.
#[test]
fn encrypted_round_trip_with_the_client_alone() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start();
    let client = Client::new(&server.base, Some(&token));
    let files = tempfile::tempdir().unwrap();

    let gpg = GpgHome::new();
    let fpr = gpg.gen_future_default("Customer <customer@example.com>");
    let public = write_file(
        files.path(),
        "public.asc",
        &gpg.export_public(&fpr, true),
        0o644,
    );
    let secret = write_file(files.path(), "secret.asc", &gpg.export_secret(&fpr), 0o600);

    let key_id = client.ok(&["keys", "upload", s(&public)]).trim().to_owned();
    assert!(uuid_like(&key_id), "the key id alone on stdout: {key_id:?}");
    assert!(client.ok(&["keys", "list"]).lines().any(|l| l == key_id));
    let shown = client.run(&["keys", "show", &key_id]);
    assert_eq!(
        shown.stdout,
        std::fs::read(&public).unwrap(),
        "key as uploaded"
    );

    let audio_path = env.speech("secret", SPOKEN);
    let audio = std::fs::read(&audio_path).unwrap();
    let id = client
        .ok(&[
            "media",
            "upload",
            s(&audio_path),
            "--public-key-id",
            &key_id,
            "--metadata",
            r#"{"title":"Board meeting"}"#,
        ])
        .trim()
        .to_owned();
    assert!(uuid_like(&id), "the media id alone on stdout: {id:?}");

    let out = client.run(&["media", "wait", &id, "--timeout", "600"]);
    assert_eq!(out.status.code(), Some(0), "media wait");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "finished");
    // Task progress was shown as plain lines.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.lines().any(|l| l.starts_with("wait: finished")),
        "{stderr}"
    );

    // The plain document has no transcript; the summary says how to get the results.
    let summary = client.ok(&["media", "get", &id]);
    assert!(summary.contains("encryption"), "{summary}");
    assert!(summary.contains(&fpr), "{summary}");
    assert!(!summary.contains("transcript"), "{summary}");
    // Transcripts are not available in clear: the API's 404 / 95003, exit 3.
    let err = client.fails(&["media", "transcript", &id], 3);
    assert!(err.contains("404 (code 95003)"), "{err}");

    // The results, decrypted here.
    let results = client.ok(&["media", "results", &id, "--secret-key", s(&secret)]);
    let doc: Value = serde_json::from_str(&results).expect("decrypted JSON");
    assert_eq!(doc["mediaId"], id.as_str());
    assert_eq!(doc["metadata"]["title"], "Board meeting");
    let spoken = words(&doc["transcript"]);
    for w in ["project", "meeting", "library", "thursday"] {
        assert!(
            spoken.iter().any(|s| s == w),
            "{w:?} missing from {spoken:?}"
        );
    }
    let compact = client.ok(&[
        "--json",
        "media",
        "results",
        &id,
        "--secret-key",
        s(&secret),
    ]);
    assert_eq!(compact.lines().count(), 1, "--json: one line of JSON");
    assert_eq!(serde_json::from_str::<Value>(&compact).unwrap(), doc);

    // A document modified at rest is refused, and nothing of it is printed (it is decrypted
    // in memory, all or nothing). The embedded backend keeps blobs as files.
    if !env.is_scaled() {
        let blob = crate::common::files_under(&env.data_dir())
            .into_iter()
            .find(|p| p.ends_with(format!("{id}/document.pgp")))
            .expect("the encrypted document's blob");
        let original = std::fs::read(&blob).unwrap();
        let mut modified = original.clone();
        let at = modified.len() / 2;
        // Armored: swap one base64 letter for another.
        modified[at] = if modified[at] == b'A' { b'B' } else { b'A' };
        std::fs::write(&blob, &modified).unwrap();
        let out = client.run(&["media", "results", &id, "--secret-key", s(&secret)]);
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty(), "nothing printed");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("decryption failed"), "{err}");
        std::fs::write(&blob, &original).unwrap();
    }

    // The original, downloaded encrypted and decrypted here: byte for byte, like gpg.
    let pgp = files.path().join("call.wav.pgp");
    client.ok(&[
        "media",
        "download",
        &id,
        "original-encrypted",
        "-o",
        s(&pgp),
    ]);
    let ciphertext = std::fs::read(&pgp).unwrap();
    assert!(
        !contains(&ciphertext, &audio[200..264]),
        "the download is ciphertext"
    );
    let out = client.run_stdin(&["decrypt", "--secret-key", s(&secret)], &pgp);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stdout == audio,
        "client decrypt gives the original back"
    );
    assert!(gpg.decrypt(&ciphertext) == audio, "and so does gpg");

    client.ok(&["media", "delete", &id]);
    let err = client.fails(&["media", "get", &id], 3);
    assert!(err.contains("404 (code 10205)"), "{err}");
    client.ok(&["keys", "delete", &key_id]);
    assert!(client.ok(&["keys", "list"]).trim().is_empty());
}

/// `client decrypt` on messages made by gpg (compressed, armored), with RSA and
/// passphrase-protected keys, and its refusals: key file permissions, wrong key, wrong
/// passphrase, tampering. No server: decryption is local.
#[test]
fn decrypt_gpg_messages_keys_and_refusals() {
    // Nothing listens there: what works here works offline.
    let client = Client::new("http://127.0.0.1:9", None);
    let files = tempfile::tempdir().unwrap();
    let gpg = GpgHome::new();
    let rsa = gpg.gen_rsa_and_rsa("Rsa <rsa@example.com>");
    let locked = gpg.gen_protected("Locked <locked@example.com>", "open sesame");
    let rsa_secret = write_file(files.path(), "rsa.asc", &gpg.export_secret(&rsa), 0o600);
    let locked_secret = write_file(
        files.path(),
        "locked.asc",
        &gpg.export_secret_protected(&locked, "open sesame"),
        0o600,
    );
    let pass = write_file(files.path(), "pass", b"open sesame\n", 0o600);
    let wrong_pass = write_file(files.path(), "wrong", b"closed sesame\n", 0o600);

    let text: Vec<u8> = (0..5000)
        .flat_map(|i| format!("{i}: compressible text\n").into_bytes())
        .collect();
    // gpg's defaults: ZLIB-compressed; armored.
    let to_rsa = write_file(
        files.path(),
        "to-rsa.asc",
        &gpg.encrypt_to(&rsa, &text, true, &[]),
        0o644,
    );
    assert!(
        gpg.list_packets(&std::fs::read(&to_rsa).unwrap())
            .contains("compressed packet")
    );
    let to_locked = write_file(
        files.path(),
        "to-locked.pgp",
        &gpg.encrypt_to(&locked, &text, false, &[]),
        0o644,
    );

    let out = client.run_stdin(&["decrypt", "--secret-key", s(&rsa_secret)], &to_rsa);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout == text, "armored, compressed, RSA");

    let out = client.run_stdin(
        &[
            "decrypt",
            "--secret-key",
            s(&locked_secret),
            "--passphrase-file",
            s(&pass),
        ],
        &to_locked,
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout == text, "passphrase-protected key");

    let decrypt_fails = |args: &[&str], input: &Path| {
        let out = client.run_stdin(args, input);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        (stderr, out.stdout)
    };
    let (err, _) = decrypt_fails(&["decrypt", "--secret-key", s(&locked_secret)], &to_locked);
    assert!(err.contains("--passphrase-file"), "{err}");
    let (err, _) = decrypt_fails(
        &[
            "decrypt",
            "--secret-key",
            s(&locked_secret),
            "--passphrase-file",
            s(&wrong_pass),
        ],
        &to_locked,
    );
    assert!(err.contains("passphrase does not unlock"), "{err}");

    // Wrong key: names the key ids the message is for.
    let (err, out) = decrypt_fails(&["decrypt", "--secret-key", s(&rsa_secret)], &to_locked);
    assert!(err.contains("wrong secret key"), "{err}");
    let locked_sub = &gpg.subkey_fingerprints(&locked)[0];
    assert!(err.contains(&locked_sub[24..]), "{err}");
    assert!(out.is_empty());

    // Key and passphrase files others can read are refused, unless explicitly allowed.
    let open_key = write_file(files.path(), "open.asc", &gpg.export_secret(&rsa), 0o644);
    let (err, _) = decrypt_fails(&["decrypt", "--secret-key", s(&open_key)], &to_rsa);
    assert!(
        err.contains(&format!("chmod 600 {}", open_key.display())),
        "{err}"
    );
    assert!(err.contains("0644"), "{err}");
    let out = client.run_stdin(
        &[
            "decrypt",
            "--secret-key",
            s(&open_key),
            "--allow-insecure-key-file",
        ],
        &to_rsa,
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout == text);
    let open_pass = write_file(files.path(), "open-pass", b"open sesame\n", 0o640);
    let (err, _) = decrypt_fails(
        &[
            "decrypt",
            "--secret-key",
            s(&locked_secret),
            "--passphrase-file",
            s(&open_pass),
        ],
        &to_locked,
    );
    assert!(err.contains("chmod 600"), "{err}");

    // Tampered (uncompressed, so only the integrity check catches it): exit 1, and the
    // message says the partial output must be discarded.
    let big: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
    let mut message = gpg.encrypt_to(&rsa, &big, false, &["-z", "0"]);
    let middle = message.len() / 2;
    message[middle] ^= 1;
    let tampered = write_file(files.path(), "tampered.pgp", &message, 0o644);
    let (err, out) = decrypt_fails(&["decrypt", "--secret-key", s(&rsa_secret)], &tampered);
    assert!(err.contains("INTEGRITY CHECK FAILED"), "{err}");
    assert!(err.contains("must be discarded"), "{err}");
    assert!(err.contains(&format!("{} bytes", out.len())), "{err}");

    // A secret key is never uploaded: refused before any connection (exit 1, not the
    // exit 4 of an unreachable server).
    let err = client.fails(&["keys", "upload", s(&rsa_secret)], 1);
    assert!(err.contains("SECRET key; it was not sent"), "{err}");
}

/// `client decrypt` lists every recipient on stderr and refuses (exit 8, nothing written) a
/// message also encrypted to a key that is not in the `--secret-key` file(s) or to an
/// anonymous recipient, unless `--allow-extra-recipients` (a warning then); an input that
/// is not encrypted exits 7. No server.
#[test]
fn decrypt_reports_recipients_and_refuses_extra_ones() {
    let client = Client::new("http://127.0.0.1:9", None);
    let files = tempfile::tempdir().unwrap();
    let gpg = GpgHome::new();
    let customer = gpg.gen_future_default("Customer <customer@example.com>");
    let operator = gpg.gen_future_default("Operator <operator@example.com>");
    let customer_key = write_file(
        files.path(),
        "customer.asc",
        &gpg.export_secret(&customer),
        0o600,
    );
    let operator_key = write_file(
        files.path(),
        "operator.asc",
        &gpg.export_secret(&operator),
        0o600,
    );
    let customer_sub = gpg.subkey_fingerprints(&customer)[0][24..].to_owned();
    let operator_sub = gpg.subkey_fingerprints(&operator)[0][24..].to_owned();
    let text = b"transcript for the customer's eyes only\n".repeat(100);

    // To the customer alone: decrypted, the one recipient listed as theirs.
    let alone = write_file(
        files.path(),
        "alone.pgp",
        &gpg.encrypt_to(&customer, &text, true, &[]),
        0o644,
    );
    let out = client.run_stdin(&["decrypt", "--secret-key", s(&customer_key)], &alone);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout == text);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "recipient: {customer_sub} (yours: key {customer})"
        )),
        "{err}"
    );
    let quiet = client.run_stdin(&["-q", "decrypt", "--secret-key", s(&customer_key)], &alone);
    assert_eq!(quiet.status.code(), Some(0));
    assert!(quiet.stderr.is_empty(), "--quiet: no recipient lines");

    // To the customer and the operator: both listed, refused, nothing written.
    let both = write_file(
        files.path(),
        "both.pgp",
        &gpg.encrypt_to(&customer, &text, false, &["--recipient", &operator]),
        0o644,
    );
    let out = client.run_stdin(&["decrypt", "--secret-key", s(&customer_key)], &both);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(8), "{err}");
    assert!(out.stdout.is_empty(), "nothing decrypted");
    assert!(
        err.contains(&format!("recipient: {customer_sub} (yours")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "recipient: {operator_sub} (NOT in your secret key file)"
        )),
        "{err}"
    );
    assert!(err.contains("--allow-extra-recipients"), "{err}");
    // Even with --quiet the refusal names the extra recipient.
    let out = client.run_stdin(&["-q", "decrypt", "--secret-key", s(&customer_key)], &both);
    assert_eq!(out.status.code(), Some(8));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&operator_sub));
    // Allowed: decrypted, with a warning that names it.
    let out = client.run_stdin(
        &[
            "decrypt",
            "--secret-key",
            s(&customer_key),
            "--allow-extra-recipients",
        ],
        &both,
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout == text);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.lines()
            .any(|l| l.starts_with("warning:") && l.contains(&operator_sub)),
        "{err}"
    );
    // Both key files given: both recipients are the customer's own.
    let out = client.run_stdin(
        &[
            "decrypt",
            "--secret-key",
            s(&customer_key),
            "--secret-key",
            s(&operator_key),
        ],
        &both,
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout == text);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));

    // An anonymous recipient (key id 0) could be anyone's: refused too.
    let hidden = write_file(
        files.path(),
        "hidden.pgp",
        &gpg.encrypt_to(&customer, &text, false, &["--throw-keyids"]),
        0o644,
    );
    let out = client.run_stdin(&["decrypt", "--secret-key", s(&customer_key)], &hidden);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(8), "{err}");
    assert!(
        err.contains("recipient: 0000000000000000 (anonymous"),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    // Not encrypted at all: exit 7, and the input is not echoed.
    let plain = write_file(files.path(), "plain.json", br#"{"secret":"plain"}"#, 0o644);
    let out = client.run_stdin(&["decrypt", "--secret-key", s(&customer_key)], &plain);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(err.contains("NOT ENCRYPTED"), "{err}");
    assert!(out.stdout.is_empty() && !err.contains("plain\""), "{err}");
}

/// `media results --secret-key` never prints an answer that is not encrypted (exit 7): the
/// plain JSON document of media uploaded without a key, from a real server; and, from a
/// server that lies, plaintext served as `application/pgp-encrypted`. An encrypted answer
/// with an extra recipient exits 8 unless allowed.
#[test]
fn results_refuse_a_plaintext_answer_and_extra_recipients() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start();
    let client = Client::new(&server.base, Some(&token));
    let files = tempfile::tempdir().unwrap();
    let gpg = GpgHome::new();
    let customer = gpg.gen_future_default("Customer <customer@example.com>");
    let operator = gpg.gen_future_default("Operator <operator@example.com>");
    let secret = write_file(
        files.path(),
        "secret.asc",
        &gpg.export_secret(&customer),
        0o600,
    );

    // Media uploaded without --public-key-id: its document is plain JSON; not printed.
    let audio = env.speech("plain", "Nothing secret here.");
    let id = client.ok(&["media", "upload", s(&audio)]).trim().to_owned();
    let out = client.run(&["media", "results", &id, "--secret-key", s(&secret)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(out.stdout.is_empty(), "nothing printed");
    assert!(err.contains("NOT ENCRYPTED"), "{err}");
    assert!(err.contains("application/json"), "{err}");
    assert!(
        err.contains(&format!("sealscribe client media get {id}")),
        "{err}"
    );
    assert!(!err.contains("mediaId"), "no part of the document: {err}");
    drop(server);

    // A server that skips encryption but keeps the content type: still refused.
    let document = format!(r#"{{"mediaId":"{id}","transcript":{{"text":"the vault code"}}}}"#);
    let liar = Recorder::start(Reply::Typed(
        "application/pgp-encrypted",
        document.clone().into_bytes(),
    ));
    let client = Client::new(&liar.base, Some("t"));
    let out = client.run(&["media", "results", &id, "--secret-key", s(&secret)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(out.stdout.is_empty(), "nothing printed");
    assert!(!err.contains("vault"), "no part of the document: {err}");

    // A server that adds its own key: refused, then allowed with a warning.
    let both = gpg.encrypt_to(
        &customer,
        document.as_bytes(),
        true,
        &["--recipient", &operator],
    );
    let spy = Recorder::start(Reply::Typed("application/pgp-encrypted", both));
    let client = Client::new(&spy.base, Some("t"));
    let out = client.run(&["media", "results", &id, "--secret-key", s(&secret)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(8), "{err}");
    assert!(out.stdout.is_empty());
    let operator_sub = &gpg.subkey_fingerprints(&operator)[0][24..];
    assert!(err.contains(operator_sub), "{err}");
    let shown = client.ok(&[
        "media",
        "results",
        &id,
        "--secret-key",
        s(&secret),
        "--allow-extra-recipients",
    ]);
    let doc: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(doc["mediaId"], id.as_str());
}

/// A large upload streams with flat memory and plain progress lines (no TTY); the download
/// resumes with `Range`; `media wait --timeout` gives up with exit 6.
#[test]
fn large_upload_progress_resume_and_wait_timeout() {
    let env = Env::new();
    let token = env.create_account("acme");
    // No workers: nothing spends CPU transcribing 26 minutes of noise.
    let server = env.start_with(&["--workers", "0"]);
    let client = Client::new(&server.base, Some(&token));
    let files = tempfile::tempdir().unwrap();

    // 50 MB of 16 kHz mono noise: a valid WAV, so the API's media sniff accepts it.
    let big = files.path().join("big.wav");
    let status = Command::new("sox")
        .args(["-n", "-r", "16000", "-c", "1", "-b", "16"])
        .arg(&big)
        .args(["synth", "1572", "whitenoise"])
        .status()
        .expect("sox is installed");
    assert!(status.success());
    let size = std::fs::metadata(&big).unwrap().len();
    assert!(size > 45 << 20, "{size}");

    // Upload, sampling the client's peak RSS while it runs.
    let mut child = client
        .command(&["media", "upload", s(&big)])
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stderr_pipe = child.stderr.take().unwrap();
    let stderr_reader = std::thread::spawn(move || {
        let mut s = String::new();
        stderr_pipe.read_to_string(&mut s).unwrap();
        s
    });
    let mut peak_kib = 0u64;
    let status = loop {
        if let Some(v) = sealscribe_testkit::proc::try_status_kib(&pid.to_string(), "VmHWM") {
            peak_kib = peak_kib.max(v);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let stderr = stderr_reader.join().unwrap();
    println!("upload stderr:\n{stderr}\npeak RSS {peak_kib} KiB");
    assert!(status.success(), "{stderr}");
    let id = stdout.trim().to_owned();
    assert!(uuid_like(&id), "{stdout:?}");

    // Plain lines, no escape codes; percentages that rise, and a final 100 % line.
    assert!(
        !stderr.contains('\u{1b}'),
        "ANSI escape codes in {stderr:?}"
    );
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("upload: "))
        .collect();
    let percents: Vec<u64> = lines
        .iter()
        .filter_map(|l| {
            let open = l.find('(')?;
            let close = l[open..].find("%)")?;
            l[open + 1..open + close].parse().ok()
        })
        .collect();
    assert!(percents.len() >= 3, "a few progress lines: {lines:?}");
    assert!(percents.windows(2).all(|w| w[0] <= w[1]), "{percents:?}");
    let last = lines.last().unwrap();
    assert!(last.contains("(100%)") && last.contains("MiB/s"), "{last}");
    assert_eq!(
        percents.iter().filter(|&&p| p == 100).count(),
        1,
        "{lines:?}"
    );
    assert!(
        lines[..lines.len() - 1].iter().all(|l| l.contains("ETA")),
        "{lines:?}"
    );
    // Streaming: the client's peak RSS stays far below the 50 MB file (it idles at ~18 MiB).
    assert!(peak_kib > 0, "RSS was sampled");
    assert!(
        peak_kib < 40 << 10,
        "the upload grew the client to {peak_kib} KiB for a {size}-byte file"
    );

    // Download, then resume a truncated copy with a Range request.
    let copy = files.path().join("copy.wav");
    let out = client.run(&["media", "download", &id, "original", "-o", s(&copy)]);
    assert_eq!(out.status.code(), Some(0));
    assert!(std::fs::read(&copy).unwrap() == std::fs::read(&big).unwrap());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("resuming"), "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("download: ") && l.contains("(100%)")),
        "{err}"
    );

    let half = size / 2 + 12345;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&copy)
        .unwrap()
        .set_len(half)
        .unwrap();
    let out = client.run(&["media", "download", &id, "original", "-o", s(&copy)]);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("download: resuming at {half} bytes")),
        "{err}"
    );
    assert!(
        std::fs::read(&copy).unwrap() == std::fs::read(&big).unwrap(),
        "resumed copy"
    );
    // Already complete: nothing to do.
    let out = client.run(&["media", "download", &id, "original", "-o", s(&copy)]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already complete"));

    // With no worker the media stays accepted: `wait --timeout` ends with exit 6.
    let start = Instant::now();
    let err = client.fails(&["media", "wait", &id, "--timeout", "2"], 6);
    assert!(err.contains("still accepted"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(30));
    client.ok(&["media", "delete", &id]);
}

/// Error messages and exit codes: the API's envelope (status, code, reference), an
/// unreachable server, usage errors, media that fails; `--json` output is JSON.
#[test]
fn errors_exit_codes_and_json() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start();

    let anonymous = Client::new(&server.base, None);
    let err = anonymous.fails(&["media", "list"], 3);
    assert!(err.contains("error: 401 (code 10002)"), "{err}");
    assert!(err.contains("[reference "), "{err}");

    let secret_token = "not-a-valid-token-4f1d2c";
    let bad = Client::new(&server.base, Some(secret_token));
    let out = bad.run(&["media", "list"]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("401 (code 10003)"), "{err}");
    // The token is never printed, not in errors, not in --help.
    assert!(!err.contains(secret_token) && !contains(&out.stdout, secret_token.as_bytes()));
    let help = bad.ok(&["--help"]);
    assert!(!help.contains(secret_token), "{help}");
    assert!(help.contains("Exit codes:"), "{help}");

    let client = Client::new(&server.base, Some(&token));
    let unknown = "0b0e5a3c-55f1-4a0b-9a7e-1d2c3b4a5f60";
    let err = client.fails(&["media", "get", unknown], 3);
    assert!(err.contains("error: 404 (code 10205)"), "{err}");
    let err = client.fails(&["media", "wait", unknown], 3);
    assert!(err.contains("(code 10205)"), "{err}");
    let err = client.fails(&["keys", "show", unknown], 3);
    assert!(err.contains("404"), "{err}");

    // Nothing listens on port 9 (discard) of the loopback.
    let nowhere = Client::new("http://127.0.0.1:9", Some(&token));
    let err = nowhere.fails(&["media", "list"], 4);
    assert!(
        err.contains("cannot reach the sealscribe API at http://127.0.0.1:9/"),
        "{err}"
    );
    // Dependency logs are off for the client (no `--log`): only its one error line.
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains("/v3/media?"), "no empty query string: {err}");

    // Usage errors are clap's exit 2; local input errors exit 1 before any request.
    client.fails(&["media", "frobnicate"], 2);
    let err = client.fails(&["media", "upload", "/nonexistent.wav"], 1);
    assert!(err.contains("/nonexistent.wav"), "{err}");
    let audio = env.speech("json", "Short and sweet.");
    let err = client.fails(&["media", "upload", s(&audio), "--config", "{not json"], 1);
    assert!(err.contains("--config is not valid JSON"), "{err}");
    // A configuration the API refuses: its 400 and code.
    let err = client.fails(
        &[
            "media",
            "upload",
            s(&audio),
            "--config",
            r#"{"colour":"blue"}"#,
        ],
        3,
    );
    assert!(err.contains("400 (code 10008)"), "{err}");

    // --json prints the API's JSON.
    let uploaded: Value =
        serde_json::from_str(&client.ok(&["--json", "media", "upload", s(&audio)])).unwrap();
    assert_eq!(uploaded["status"], "accepted");
    let id = uploaded["mediaId"].as_str().unwrap();
    let listed: Value = serde_json::from_str(&client.ok(&["--json", "media", "list"])).unwrap();
    assert!(
        listed["media"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["mediaId"] == id)
    );
    // stdout closed early (`| head -0`): exit 0 and no panic, not println!'s exit 101.
    let mut child = client.command(&["media", "list"]).spawn().unwrap();
    drop(child.stdout.take());
    let closed = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&closed.stderr);
    assert_eq!(closed.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let keys: Value = serde_json::from_str(&client.ok(&["--json", "keys", "list"])).unwrap();
    assert!(keys["publicKeys"].is_array());
    let waited: Value =
        serde_json::from_str(&client.ok(&["--json", "-q", "media", "wait", id])).unwrap();
    assert_eq!(waited["status"], "finished");
    let text = client.ok(&["media", "transcript", id]);
    assert!(text.to_lowercase().contains("sweet"), "{text}");
    let srt = client.ok(&["media", "transcript", id, "--format", "srt"]);
    assert!(srt.contains("-->"), "{srt}");
    let dfxp = client.ok(&["media", "transcript", id, "--format", "dfxp"]);
    assert!(
        dfxp.contains("<tt xmlns=\"http://www.w3.org/2006/10/ttaf1\"")
            && dfxp.contains("<p begin="),
        "{dfxp}"
    );
    let json: Value =
        serde_json::from_str(&client.ok(&["media", "transcript", id, "--format", "json"])).unwrap();
    assert!(json["words"].is_array());

    // Media that passes the upload sniff (an MP4 head cannot be judged from its first bytes)
    // but fails processing: `media wait` exits 5 with the API's reason.
    let mut junk = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom".to_vec();
    junk.extend(b"not really a movie ".repeat(4000));
    let files = tempfile::tempdir().unwrap();
    let junk_path = write_file(files.path(), "junk.mp4", &junk, 0o644);
    let id = client
        .ok(&["media", "upload", s(&junk_path)])
        .trim()
        .to_owned();
    let err = client.fails(&["media", "wait", &id], 5);
    assert!(err.contains(&format!("media {id} failed: (code ")), "{err}");
    assert!(
        err.lines().any(|l| l.starts_with("wait: failed: ")),
        "{err}"
    );
    let failed: Value = serde_json::from_str(&client.ok(&["--json", "media", "get", &id])).unwrap();
    assert_eq!(failed["status"], "failed");
}

/// A stream answered with a 302 to another origin (a pre-signed bucket URL): the client
/// follows it, keeps `Range` for a resume, and does not send the token there.
#[test]
fn download_redirect_drops_the_token_and_keeps_range() {
    let body: Vec<u8> = (0..300_000u32).map(|i| (i * 13 % 256) as u8).collect();
    let bucket = Recorder::start(Reply::Bytes(body.clone()));
    let api = Recorder::start(Reply::Redirect(format!(
        "{}/bucket/object?X-Amz-Signature=abc",
        bucket.base
    )));
    let client = Client::new(&api.base, Some("token-for-the-api-only"));
    let files = tempfile::tempdir().unwrap();
    let out_path = files.path().join("stream.bin");

    client.ok(&[
        "media",
        "download",
        "m1",
        "original-encrypted",
        "-o",
        s(&out_path),
    ]);
    assert!(std::fs::read(&out_path).unwrap() == body);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&out_path)
        .unwrap()
        .set_len(100_000)
        .unwrap();
    let out = client.run(&[
        "media",
        "download",
        "m1",
        "original-encrypted",
        "-o",
        s(&out_path),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("resuming at 100000 bytes"));
    assert!(std::fs::read(&out_path).unwrap() == body);

    let api_requests = api.requests();
    let bucket_requests = bucket.requests();
    assert_eq!(api_requests.len(), 2);
    assert_eq!(bucket_requests.len(), 2);
    assert!(api_requests[0].starts_with("get /v3/media/m1/streams/original-encrypted "));
    assert!(
        api_requests
            .iter()
            .all(|r| r.contains("authorization: bearer token-for-the-api-only"))
    );
    assert!(
        bucket_requests.iter().all(|r| !r.contains("authorization")),
        "the token went to the bucket: {bucket_requests:?}"
    );
    assert!(
        bucket_requests[1].contains("range: bytes=100000-"),
        "{bucket_requests:?}"
    );
    assert!(
        api_requests[1].contains("range: bytes=100000-"),
        "{api_requests:?}"
    );
}

enum Reply {
    Redirect(String),
    /// 200 with this content type and body.
    Typed(&'static str, Vec<u8>),
    /// The bytes, honouring `Range: bytes=N-`.
    Bytes(Vec<u8>),
}

/// A minimal HTTP/1.1 server on 127.0.0.1 that records each request head (lower-cased).
struct Recorder {
    base: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    fn start(reply: Reply) -> Recorder {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !contains(&head, b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head).to_lowercase();
                log.lock().unwrap().push(head.clone());
                let response = match &reply {
                    Reply::Redirect(to) => format!(
                        "HTTP/1.1 302 Found\r\nlocation: {to}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    )
                    .into_bytes(),
                    Reply::Typed(content_type, body) => {
                        let mut out = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        out.extend_from_slice(body);
                        out
                    }
                    Reply::Bytes(body) => {
                        let start = head
                            .lines()
                            .find_map(|l| l.strip_prefix("range: bytes="))
                            .and_then(|r| r.trim().trim_end_matches('-').parse::<usize>().ok());
                        let mut out = match start {
                            Some(n) => format!(
                                "HTTP/1.1 206 Partial Content\r\ncontent-range: bytes {n}-{}/{}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                                body.len() - 1,
                                body.len(),
                                body.len() - n
                            ),
                            None => format!(
                                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                                body.len()
                            ),
                        }
                        .into_bytes();
                        out.extend_from_slice(&body[start.unwrap_or(0)..]);
                        out
                    }
                };
                let _ = stream.write_all(&response);
            }
        });
        Recorder { base, seen }
    }

    fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}
