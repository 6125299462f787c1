//! Worker scale-out on this machine: a batch of short media processed by one
//! `sealscribe worker` process, then by two, on PostgreSQL + S3 (the services
//! of scripts/services.sh; `source target/services.env` first).
//!
//! Run with `cargo bench -p sealscribe --bench workers`. `BENCH_MEDIA`
//! (default 24) sets the batch size. Each run gets a fresh database and
//! bucket prefix; the batch is queued before the workers start, so the time
//! measured is the workers' alone. Each worker process runs one job at a
//! time with `--asr-threads 1`, so two processes use both cores.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_sealscribe");

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: scripts/services.sh start && source target/services.env")
    })
}

fn psql(url: &str, sql: &str) {
    let ok = Command::new("psql")
        .args([url, "-q", "-c", sql])
        .status()
        .unwrap()
        .success();
    assert!(ok, "psql {sql}");
}

struct Storage {
    database_url: String,
    blob_store: String,
    data_dir: tempfile::TempDir,
}

impl Storage {
    fn new(tag: &str) -> Self {
        let admin = var("SEALSCRIBE_TEST_POSTGRES");
        let name = format!("bench_{tag}_{}", std::process::id());
        psql(
            &format!("{admin}/postgres"),
            &format!("drop database if exists {name}"),
        );
        psql(
            &format!("{admin}/postgres"),
            &format!("create database {name}"),
        );
        let data_dir = tempfile::tempdir().unwrap();
        // PostgreSQL needs a key-encryption key shared by every process.
        sealscribe_seal::kek::Keyring::create(&data_dir.path().join("kek")).unwrap();
        Storage {
            database_url: format!("{admin}/{name}"),
            blob_store: format!("s3://{}/bench-{name}", var("SEALSCRIBE_TEST_S3_BUCKET")),
            data_dir,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .arg("--data-dir")
            .arg(self.data_dir.path())
            .env("SEALSCRIBE_DATABASE_URL", &self.database_url)
            .env("SEALSCRIBE_KEK_FILE", self.data_dir.path().join("kek"))
            .env("SEALSCRIBE_BLOB_STORE", &self.blob_store)
            .env("SEALSCRIBE_S3_ENDPOINT", var("SEALSCRIBE_TEST_S3"))
            .env("SEALSCRIBE_LOG", "warn");
        cmd
    }

    fn spawn_until(&self, args: &[&str], ready: &str) -> (Child, String) {
        let mut child = self.command(args).stdout(Stdio::piped()).spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = lines.next().unwrap().unwrap();
        assert!(line.starts_with(ready), "{line}");
        (child, line)
    }
}

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl").arg("-sf").args(args).output().unwrap();
    assert!(out.status.success(), "curl {args:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Queues `n` uploads of `audio`, then times `workers` worker processes until all finished.
fn run(workers: usize, n: usize, audio: &std::path::Path) -> f64 {
    let storage = Storage::new(&format!("w{workers}"));
    let out = storage
        .command(&["accounts", "create", "bench"])
        .output()
        .unwrap();
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let (mut api, line) = storage.spawn_until(
        &["serve", "--listen", "127.0.0.1:0", "--workers", "0"],
        "sealscribe listening on ",
    );
    let base = line
        .trim_start_matches("sealscribe listening on ")
        .to_owned();
    let auth = format!("Authorization: Bearer {token}");
    let mut ids = Vec::new();
    for _ in 0..n {
        let body = curl(&[
            &format!("{base}/v3/media"),
            "-H",
            &auth,
            "-F",
            &format!("media=@{};type=audio/wav", audio.display()),
        ]);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        ids.push(v["mediaId"].as_str().unwrap().to_owned());
    }
    let start = Instant::now();
    let mut procs: Vec<Child> = (0..workers)
        .map(|_| {
            storage
                .spawn_until(
                    &["worker", "--workers", "1", "--asr-threads", "1"],
                    "sealscribe worker ready",
                )
                .0
        })
        .collect();
    for id in &ids {
        loop {
            let doc: serde_json::Value =
                serde_json::from_str(&curl(&[&format!("{base}/v3/media/{id}"), "-H", &auth]))
                    .unwrap();
            match doc["status"].as_str() {
                Some("finished") => break,
                Some("failed") => panic!("{doc}"),
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    for p in procs.iter_mut().chain(std::iter::once(&mut api)) {
        let _ = Command::new("kill")
            .args(["-TERM", &p.id().to_string()])
            .status();
        let _ = p.wait();
    }
    let admin = var("SEALSCRIBE_TEST_POSTGRES");
    let name = storage.database_url.rsplit('/').next().unwrap().to_owned();
    psql(
        &format!("{admin}/postgres"),
        &format!("drop database if exists {name} with (force)"),
    );
    secs
}

fn main() {
    let n: usize = std::env::var("BENCH_MEDIA")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let dir = tempfile::tempdir().unwrap();
    let audio = dir.path().join("short.wav");
    let ok = Command::new("espeak-ng")
        .args(["-v", "en-us", "-w"])
        .arg(&audio)
        .arg("Thanks for calling. Your order has shipped and will arrive on Tuesday.")
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let clip = sealscribe_asr::probe(&audio).unwrap().duration_ms as f64 / 1000.0;
    let one = run(1, n, &audio);
    let two = run(2, n, &audio);
    println!(
        "{n} media of {clip:.1} s on PostgreSQL + S3: 1 worker process {one:.1} s ({:.2} media/s), \
         2 worker processes {two:.1} s ({:.2} media/s); speed-up {:.2}×",
        n as f64 / one,
        n as f64 / two,
        one / two
    );
}
