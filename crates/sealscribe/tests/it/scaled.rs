//! The scaled-out topology (PostgreSQL + S3, API and worker processes): only
//! in the `SEALSCRIBE_IT_BACKEND=scaled` run of the suite.
//!
//! - Outages: the database or the S3 store disappears behind a TCP proxy the
//!   test controls; the API answers 503 with the v3 envelope, quickly, and
//!   recovers by itself when the service is back.
//! - Many processes: one API process and two `sealscribe worker` processes
//!   process 20 media, one worker is killed with SIGKILL mid-job, every media
//!   finishes, each exactly once, and the bucket holds no plaintext of the
//!   encrypted ones.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sealscribe_openpgp::testing::GpgHome;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::common::{BIN, Backend, Env, Server, contains};

/// A TCP forwarder whose service can be "unplugged": while down, open
/// connections are cut and new ones are closed at once, as when a database
/// or S3 endpoint goes away.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    cut: std::sync::Mutex<CancellationToken>,
}

impl Proxy {
    async fn start(target: String) -> Arc<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Arc::new(Proxy {
            port: listener.local_addr().unwrap().port(),
            up: Arc::new(AtomicBool::new(true)),
            cut: std::sync::Mutex::new(CancellationToken::new()),
        });
        let p = proxy.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                if !p.up.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let cut = p.cut.lock().unwrap().clone();
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.cancelled() => {}
                    }
                });
            }
        });
        proxy
    }

    fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        let mut cut = self.cut.lock().unwrap();
        cut.cancel();
        *cut = CancellationToken::new();
    }

    fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

fn host_port(url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    format!("{}:{}", u.host_str().unwrap(), u.port().unwrap())
}

/// Polls `path` until it answers `status`, returning how long that took.
async fn until_status(server: &Server, token: &str, path: &str, status: u16) -> Duration {
    let start = Instant::now();
    loop {
        let sent = server
            .http
            .get(server.url(path))
            .bearer_auth(token)
            .timeout(Duration::from_secs(60))
            .send()
            .await;
        let resp = match sent {
            Ok(resp) => resp,
            // After an upload answered 503 before its body was read, the
            // server closes that connection; a GET racing onto it from the
            // client's pool fails in transport. Clients retry idempotent GETs.
            Err(e) if e.is_request() && start.elapsed() < Duration::from_secs(90) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            Err(e) => panic!("GET {path}: {e}"),
        };
        if resp.status().as_u16() == status {
            if status == 503 && path.starts_with("/v3/") {
                let body: Value = resp.json().await.unwrap();
                assert_eq!(body["status"], 503, "{body}");
                assert_eq!(body["errors"][0]["code"], 90001, "{body}");
                let message = body["errors"][0]["error"].as_str().unwrap();
                for internal in ["sqlx", "postgres", "127.0.0.1", "object_store", "s3://"] {
                    assert!(!message.contains(internal), "internals leaked: {message}");
                }
            }
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "{path} never answered {status} (last {})",
            resp.status()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

// Multi-threaded: the proxies must keep forwarding while the test thread
// blocks on starting the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outages_answer_503_and_recover() {
    let env = Env::new();
    let Backend::Scaled {
        database_url,
        s3_endpoint,
        ..
    } = &env.backend
    else {
        eprintln!(
            "outages_answer_503_and_recover: runs in the scaled run (SEALSCRIBE_IT_BACKEND=scaled)"
        );
        return;
    };
    let token = env.create_account("ops");
    let pg = Proxy::start(host_port(database_url)).await;
    let s3 = Proxy::start(host_port(s3_endpoint)).await;
    let mut db_via_proxy = url::Url::parse(database_url).unwrap();
    db_via_proxy.set_port(Some(pg.port)).unwrap();
    let server = env.start_with(&[
        "--workers",
        "0",
        "--database-url",
        db_via_proxy.as_str(),
        "--s3-endpoint",
        &format!("http://127.0.0.1:{}", s3.port),
    ]);
    let audio = std::fs::read(env.speech("hello", "Hello there.")).unwrap();
    let id = server.upload_ok(&token, audio.clone(), None, None).await;
    until_status(&server, &token, "/v3/media", 200).await;
    let stream = format!("/v3/media/{id}/streams/original");
    until_status(&server, &token, &stream, 200).await;

    // The database goes away: 503 quickly, then back by itself.
    pg.down();
    let took = until_status(&server, &token, "/v3/media", 503).await;
    assert!(took < Duration::from_secs(20), "503 after {took:?}");
    until_status(&server, &token, "/health", 503).await;
    let resp = server.upload(&token, audio.clone(), None, None).await;
    assert_eq!(resp.status(), 503, "uploads too; log:\n{}", env.log());
    pg.up();
    until_status(&server, &token, "/v3/media", 200).await;
    until_status(&server, &token, "/health", 200).await;

    // S3 goes away: reads of streams and uploads answer 503, then recover.
    s3.down();
    let took = until_status(&server, &token, &stream, 503).await;
    assert!(took < Duration::from_secs(30), "503 after {took:?}");
    until_status(&server, &token, "/health", 503).await;
    let resp = server.upload(&token, audio.clone(), None, None).await;
    assert_eq!(resp.status(), 503, "uploads too; log:\n{}", env.log());
    s3.up();
    until_status(&server, &token, &stream, 200).await;
    until_status(&server, &token, "/health", 200).await;
    server.upload_ok(&token, audio, None, None).await;
    assert!(server.stop());
}

/// A `sealscribe worker` process logging to `log`.
fn spawn_worker(env: &Env, log: &std::path::Path) -> Child {
    let mut cmd = Command::new(BIN);
    cmd.args([
        "worker",
        "--workers",
        "1",
        "--job-lease-secs",
        "3",
        "--log-format",
        "json",
    ]);
    env.configure(&mut cmd);
    let mut child = cmd
        .env("SEALSCRIBE_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("spawn sealscribe worker");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    assert!(line.starts_with("sealscribe worker ready"), "{line:?}");
    child
}

/// `media_id` of every event `message` of a processing job in a JSON log.
fn media_with(log: &str, message: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["message"] == message && e["span"]["kind"] == "process")
        .filter_map(|e| e["span"]["media_id"].as_str().map(str::to_owned))
        .collect()
}

fn finished_in(log: &str) -> Vec<String> {
    media_with(log, "job finished")
}

#[tokio::test]
async fn api_and_two_workers_process_each_media_once_despite_a_kill() {
    let env = Env::new();
    if !env.is_scaled() {
        eprintln!("api_and_two_workers…: runs in the scaled run (SEALSCRIBE_IT_BACKEND=scaled)");
        return;
    }
    let token = env.create_account("fleet");
    let api = env.start_with(&["--workers", "0"]);
    let gpg = GpgHome::new();
    let fpr = gpg.gen_rsa_and_rsa("Fleet <fleet@example.com>");
    let key_id = api.upload_key(&token, gpg.export_public(&fpr, true)).await;

    // 20 media: 6 encrypted ones speak and carry canaries; 14 plain ones do not.
    let plain_audio = std::fs::read(env.speech(
        "plain",
        "The quarterly numbers look fine and the team is on track.",
    ))
    .unwrap();
    let secret_audio = std::fs::read(env.speech(
        "secret",
        "The password for the vault is giraffe marmalade, repeat, giraffe marmalade.",
    ))
    .unwrap();
    let mut ids = HashMap::new();
    for i in 0..20 {
        let encrypted = i % 10 < 3;
        let (audio, config, metadata) = if encrypted {
            (
                secret_audio.clone(),
                Some(json!({"encryption": {"publicKeyId": key_id}}).to_string()),
                Some(r#"{"title":"Vault zebracorn"}"#),
            )
        } else {
            (plain_audio.clone(), None, Some(r#"{"title":"Quarterly"}"#))
        };
        let id = api
            .upload_ok(&token, audio, config.as_deref(), metadata)
            .await;
        ids.insert(id, encrypted);
    }

    let logs = [
        env.dir.path().join("worker-a.log"),
        env.dir.path().join("worker-b.log"),
    ];
    let mut a = spawn_worker(&env, &logs[0]);
    let mut b = spawn_worker(&env, &logs[1]);

    // Kill worker A with SIGKILL in the middle of a job.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let log = std::fs::read_to_string(&logs[0]).unwrap_or_default();
        let started = media_with(&log, "job started").len();
        if started > finished_in(&log).len() && started >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "worker A never started a job");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Command::new("kill")
        .args(["-KILL", &a.id().to_string()])
        .status()
        .unwrap();
    a.wait().unwrap();

    // Every media finishes (B takes over A's job once its lease expires).
    for id in ids.keys() {
        let doc = api.wait(&token, id).await;
        assert_eq!(doc["status"], "finished", "{doc}");
    }
    Command::new("kill")
        .args(["-TERM", &b.id().to_string()])
        .status()
        .unwrap();
    assert!(
        b.wait().unwrap().success(),
        "worker B stops cleanly on SIGTERM"
    );

    // Each media was processed to completion exactly once, across both workers.
    let mut finished: Vec<String> = logs
        .iter()
        .flat_map(|l| finished_in(&std::fs::read_to_string(l).unwrap()))
        .collect();
    finished.sort();
    let mut expected: Vec<String> = ids.keys().cloned().collect();
    expected.sort();
    assert_eq!(finished, expected, "each media finished once");
    let by_a = finished_in(&std::fs::read_to_string(&logs[0]).unwrap()).len();
    assert!(
        (1..20).contains(&by_a),
        "both workers worked (A finished {by_a})"
    );

    // The results are right: plain transcripts readable, encrypted ones decrypt.
    for (id, encrypted) in &ids {
        if *encrypted {
            let armored = api
                .http
                .get(api.url(&format!("/v3/media/{id}")))
                .bearer_auth(&token)
                .header("Accept", "application/pgp-encrypted")
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            let doc = String::from_utf8(gpg.decrypt(&armored))
                .unwrap()
                .to_lowercase();
            assert!(
                doc.contains("giraffe") && doc.contains("zebracorn"),
                "{doc}"
            );
        } else {
            let text = api
                .http
                .get(api.url(&format!("/v3/media/{id}/transcript/text")))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert!(
                text.text()
                    .await
                    .unwrap()
                    .to_lowercase()
                    .contains("quarterly")
            );
        }
    }

    // No plaintext of the encrypted media in the bucket, the database or the workers' disks.
    drop(api);
    let mut scanned = 0;
    for (place, bytes) in env.stored().await {
        let bytes = bytes.to_ascii_lowercase();
        for canary in ["giraffe", "marmalade", "zebracorn", "vault"] {
            assert!(!contains(&bytes, canary.as_bytes()), "{canary} in {place}");
        }
        scanned += 1;
    }
    // 14 originals and 6 × (original-encrypted, document.pgp) in the bucket,
    // the database dump, the data directory's files.
    assert!(
        scanned >= 28,
        "the scan saw the bucket's objects ({scanned} places)"
    );
    for log in logs.iter().map(std::fs::read_to_string) {
        assert!(!log.unwrap().to_lowercase().contains("giraffe"));
    }
}

#[tokio::test]
async fn stream_downloads_redirect_to_presigned_urls() {
    let env = Env::new();
    if !env.is_scaled() {
        eprintln!(
            "stream_downloads_redirect…: runs in the scaled run (SEALSCRIBE_IT_BACKEND=scaled)"
        );
        return;
    }
    let token = env.create_account("cdn");
    let server = env.start_with(&["--workers", "0", "--stream-redirect-secs", "60"]);
    let audio = std::fs::read(env.speech("hi", "Hello.")).unwrap();
    let id = server.upload_ok(&token, audio.clone(), None, None).await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = no_redirects
        .get(server.url(&format!("/v3/media/{id}/streams/original")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("X-Amz-Signature="), "{location}");
    // The pre-signed URL needs no token, and gives the original bytes.
    let bytes = reqwest::get(&location)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.as_ref(), audio.as_slice());
    // Without a token, the API still refuses.
    let resp = no_redirects
        .get(server.url(&format!("/v3/media/{id}/streams/original")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}
