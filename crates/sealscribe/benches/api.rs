//! HTTP API benchmarks on this machine, against the real binary:
//!
//! 1. a 1 GiB upload over loopback (curl → `POST /v3/media`), its throughput
//!    against `cp` of the same file on the same disk, and the server's peak RSS;
//! 2. latency of `GET /v3/media/{id}` and of a search over 10,000 finished media
//!    at 32 concurrent connections (`wrk`).
//!
//! Run with `cargo bench -p sealscribe --bench api` (needs `curl` and `wrk`).
//! `BENCH_UPLOAD_MIB` (default 1024) and `BENCH_MEDIA` (default 10000) scale it down.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use sealscribe_domain::media::{IndexEntry, MediaSource, initial_tasks};
use sealscribe_domain::{AccountId, MediaId};
use sealscribe_store::{Finished, NewMedia, open_db};
use sealscribe_testkit::{Rng, proc, wav};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_sealscribe");

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(data: &Path) -> Self {
        let mut child = Command::new(BIN)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--workers",
                "0",
                "--log",
                "warn",
                "--data-dir",
            ])
            .arg(data)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("sealscribe listening on ")
            .expect("listening line")
            .to_owned();
        Server { child, base }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn token(data: &Path, name: &str) -> String {
    let out = Command::new(BIN)
        .args(["accounts", "create", name, "--data-dir"])
        .arg(data)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn drop_caches_hint(path: &Path) {
    // Warm the page cache for both runs alike: read the file once.
    let _ = Command::new("cat").arg(path).stdout(Stdio::null()).status();
}

/// Uploads `file` with curl (`parts` before the media part); returns seconds
/// and the server's peak RSS growth over idle, in MiB.
fn timed_upload(data: &Path, token: &str, file: &Path, parts: &[String]) -> (f64, f64) {
    let server = Server::start(data);
    std::thread::sleep(Duration::from_millis(300));
    let idle = proc::mib(proc::rss_kib(server.child.id()));
    let mut cmd = Command::new("curl");
    cmd.args([
        "-sS",
        "--fail-with-body",
        "-H",
        &format!("Authorization: Bearer {token}"),
    ]);
    for p in parts {
        cmd.args(["-F", p]);
    }
    cmd.args(["-F", &format!("media=@{};type=audio/wav", file.display())]);
    let t = Instant::now();
    let out = cmd
        .arg(format!("{}/v3/media", server.base))
        .output()
        .unwrap();
    let _ = Command::new("sync").status();
    let secs = t.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    (
        secs,
        proc::mib(proc::peak_rss_kib(server.child.id())) - idle,
    )
}

fn upload_bench(dir: &Path) {
    let mib = env_or("BENCH_UPLOAD_MIB", 1024);
    let file = dir.join("upload.wav");
    wav::write_noise(&file, u32::try_from(mib << 20).unwrap() - 44, 1);
    drop_caches_hint(&file);

    let copy = dir.join("copy.wav");
    let t = Instant::now();
    assert!(
        Command::new("cp")
            .arg(&file)
            .arg(&copy)
            .status()
            .unwrap()
            .success()
    );
    let _ = Command::new("sync").status();
    let cp_s = t.elapsed().as_secs_f64();
    std::fs::remove_file(&copy).unwrap();

    let data = dir.join("upload-data");
    let token = token(&data, "bench");
    // An OpenPGP key made by gpg, uploaded like a customer's.
    let gpg = sealscribe_openpgp::testing::GpgHome::new();
    let fpr = gpg.gen_rsa_and_rsa("Bench <bench@example.com>");
    let key_file = dir.join("key.asc");
    std::fs::write(&key_file, gpg.export_public(&fpr, true)).unwrap();
    let key_id = {
        let server = Server::start(&data);
        let out = Command::new("curl")
            .args([
                "-sS",
                "-H",
                &format!("Authorization: Bearer {token}"),
                "--data-binary",
            ])
            .arg(format!("@{}", key_file.display()))
            .arg(format!("{}/v3/security/public-keys", server.base))
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["publicKeyId"].as_str().unwrap().to_owned()
    };
    let plain_cfg = "configuration={};type=application/json".to_owned();
    let enc_cfg = format!(
        "configuration={{\"encryption\":{{\"publicKeyId\":\"{key_id}\"}}}};type=application/json"
    );
    let runs = [
        (
            "plain, configuration part first (written as is)",
            vec![plain_cfg],
        ),
        (
            "plain, media part only (sealed while unknown, then unsealed)",
            vec![],
        ),
        ("encrypted (sealed as it streams)", vec![enc_cfg]),
    ];
    let mb = (mib << 20) as f64 / 1e6;
    println!("## Upload of {mib} MiB over loopback (curl -F → POST /v3/media, --workers 0)");
    println!("| | time | throughput | vs cp | server peak RSS above idle |");
    println!("|---|---|---|---|---|");
    println!(
        "| `cp` same file, same disk (+ sync) | {cp_s:.2} s | {:.0} MB/s | 1.00× | – |",
        mb / cp_s
    );
    for (what, parts) in runs {
        let (secs, rss) = timed_upload(&data, &token, &file, &parts);
        println!(
            "| {what} (+ sync) | {secs:.2} s | {:.0} MB/s | {:.2}× | {rss:+.1} MiB |",
            mb / secs,
            cp_s / secs
        );
    }
    println!();
}

/// A deterministic pseudo-transcript of about 120 words.
fn transcript(seed: u64) -> (String, serde_json::Value) {
    const VOCAB: &[&str] = &[
        "account", "balance", "payment", "invoice", "order", "delivery", "refund", "support",
        "agent", "customer", "thank", "you", "for", "calling", "please", "hold", "the", "line",
        "today", "tomorrow", "morning", "problem", "service", "price", "contract", "renewal",
        "address", "number", "email", "manager", "product", "warranty",
    ];
    let mut rng = Rng(seed);
    let mut words = Vec::new();
    let mut text = Vec::new();
    for p in 0..120u64 {
        let w = VOCAB[rng.index(VOCAB.len())];
        text.push(w);
        words.push(json!({"p": p, "s": p * 400, "e": p * 400 + 350, "c": 0.9, "w": w}));
    }
    if seed % 100 == 7 {
        text.push("zeppelin");
        words.push(json!({"p": 120, "s": 48_000, "e": 48_400, "c": 0.9, "w": "zeppelin"}));
    }
    (text.join(" "), json!({"confidence": 0.9, "words": words}))
}

fn seed(data: &Path, n: u64) -> (String, MediaId) {
    let token = token(data, "bench");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let db = open_db(&format!("sqlite://{}/sealscribe.db", data.display()))
            .await
            .unwrap();
        let account: AccountId = db.find_account("bench").await.unwrap().unwrap().id;
        let mut last = None;
        for i in 0..n {
            let id = MediaId::new();
            let (text, doc) = transcript(i);
            let media = NewMedia {
                id,
                account_id: account,
                source: MediaSource::Upload {
                    file_name: None,
                    content_type: Some("audio/wav".into()),
                    size_bytes: 1000,
                },
                configuration: json!({}),
                metadata: Some(json!({"title": format!("Call {i}")})),
                external_id: None,
                searchable: true,
                tasks: initial_tasks(&Default::default()),
                encryption: None,
            };
            db.create_media(&media).await.unwrap();
            let now = Utc::now();
            let claim = db
                .claim_job("bench", now, now + chrono::Duration::minutes(5))
                .await
                .unwrap()
                .unwrap();
            let entry = IndexEntry {
                title: format!("Call {i}"),
                description: String::new(),
                transcript: text,
                speakers: Vec::new(),
                extended: Vec::new(),
            };
            assert!(
                db.finish_job(
                    claim.job_id,
                    "bench",
                    claim.media_id,
                    &Finished {
                        transcript: Some(&doc),
                        tasks: &initial_tasks(&Default::default()),
                        index: Some(&entry),
                        ..Finished::default()
                    }
                )
                .await
                .unwrap()
            );
            last = Some(id);
        }
        (token, last.unwrap())
    })
}

fn wrk(url: &str, token: &str) -> String {
    let out = Command::new("wrk")
        .args([
            "-t2",
            "-c32",
            "-d10s",
            "--latency",
            "-H",
            &format!("Authorization: Bearer {token}"),
            url,
        ])
        .output()
        .expect("wrk is installed (apt-get install wrk)");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let pick = |prefix: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let lat = pick("Latency");
    let p50 = pick("50%");
    let p99 = pick("99%");
    let rps = pick("Requests/sec:");
    let non2xx = pick("Non-2xx");
    format!(
        "| {} | {} | {} | {} | {} |",
        lat.get(1).unwrap_or(&"?"),
        p50.get(1).unwrap_or(&"?"),
        p99.get(1).unwrap_or(&"?"),
        rps.get(1).unwrap_or(&"?"),
        non2xx.last().unwrap_or(&"0")
    )
}

fn read_bench(dir: &Path) {
    let n = env_or("BENCH_MEDIA", 10_000);
    let data = dir.join("read-data");
    let t = Instant::now();
    let (token, id) = seed(&data, n);
    let seeded = t.elapsed().as_secs_f64();
    let server = Server::start(&data);
    println!(
        "## Reads over {n} finished media (seeded in {seeded:.1} s), wrk -t2 -c32 -d10s, client and server on the same 2 cores"
    );
    println!("| request | mean latency | p50 | p99 | requests/s | non-2xx |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| `GET /v3/media/{{id}}` {}",
        wrk(&format!("{}/v3/media/{id}", server.base), &token)
    );
    println!(
        "| `GET /v3/media?query=zeppelin` (1 % match) {}",
        wrk(&format!("{}/v3/media?query=zeppelin", server.base), &token)
    );
    println!(
        "| `GET /v3/media?query=refund&limit=100` (most match) {}",
        wrk(
            &format!("{}/v3/media?query=refund&limit=100", server.base),
            &token
        )
    );
    println!(
        "Server peak RSS {:.1} MiB.",
        proc::mib(proc::peak_rss_kib(server.child.id()))
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let dir = tempfile::tempdir_in(
        std::env::var("BENCH_DIR").unwrap_or_else(|_| std::env::temp_dir().display().to_string()),
    )
    .unwrap();
    upload_bench(dir.path());
    read_bench(dir.path());
}
