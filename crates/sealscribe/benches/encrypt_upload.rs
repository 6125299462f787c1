//! Time to ciphertext: how long after an encrypted upload starts is `original-encrypted`
//! complete, against `gpg -z 0 --encrypt` of the same file — side by side, in one run.
//!
//! For each size (`BENCH_SIZES_MIB`, default `512,2048`) a WAV file of noise is written and
//! read once (so every contender reads it from the page cache), then, in interleaved rounds
//! (`BENCH_ROUNDS`, default 2; each contender keeps its best):
//!
//! 1. `gpg -z 0 --cipher-algo AES256 --encrypt` of the file to a GnuPG "RSA and RSA" key,
//!    into a file on the same disk;
//! 2. `curl -F configuration=… -F media=@file` to the real release binary (`--workers 0`,
//!    a fresh server per upload) with `{"encryption":{"publicKeyId":…}}` **before** the
//!    media: the upload answers once `original-encrypted` is complete, so its time is the
//!    time to ciphertext (checked: the stream is there when it answers, and in the first
//!    round `gpg --decrypt` of it must give back the file, by SHA-256);
//! 3. the same upload with the media part **first**: today's path for that order (sealed
//!    only; the worker encrypts later), i.e. what receiving and sealing alone cost.
//!
//! Reported: wall time, CPU time (gpg's from `cutime`/`cstime`, the server's from
//! `/proc/PID/stat`), the ratio to gpg's wall time (target ≤ 1.1) and the server's peak RSS
//! above its idle RSS (target ≤ 32 MiB). No contender syncs inside its timing (gpg does
//! not fsync either); `sync` runs between contenders.
//!
//! Run with `cargo bench -p sealscribe --bench encrypt_upload` (needs `curl` and `gpg`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sealscribe_openpgp::testing::GpgHome;
use sealscribe_testkit::{proc, wav};

const BIN: &str = env!("CARGO_BIN_EXE_sealscribe");

/// USER_HZ on Linux.
const TICK: Duration = Duration::from_millis(10);

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(data: &Path) -> Self {
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--workers", "0"])
            .args(["--log", "warn", "--data-dir"])
            .arg(data)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start sealscribe serve");
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

    /// User + system CPU time of the server so far.
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let f: Vec<&str> = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        // utime and stime are fields 14 and 15 (11 and 12 after the name).
        TICK * (f[11].parse::<u32>().unwrap() + f[12].parse::<u32>().unwrap())
    }

    fn curl(&self, token: &str, args: &[&str]) -> std::process::Output {
        Command::new("curl")
            .args(["-sS", "--fail-with-body", "-H"])
            .arg(format!("Authorization: Bearer {token}"))
            .args(args)
            .output()
            .expect("curl")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Our children's CPU time so far (`cutime + cstime`).
fn children_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let f: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    TICK * (f[13].parse::<u32>().unwrap() + f[14].parse::<u32>().unwrap())
}

fn sync() {
    let _ = Command::new("sync").status();
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

#[derive(Clone, Copy)]
struct Measured {
    wall: Duration,
    cpu: Duration,
    /// Server peak RSS above idle, MiB (uploads only).
    rss: f64,
}

fn keep_best(best: &mut Option<Measured>, m: Measured) {
    if best.is_none_or(|b| m.wall < b.wall) {
        *best = Some(m);
    }
}

fn gpg_encrypt(home: &GpgHome, fpr: &str, input: &Path, output: &Path) -> Measured {
    let mut cmd = home.command();
    cmd.args([
        "--trust-model",
        "always",
        "-z",
        "0",
        "--cipher-algo",
        "AES256",
    ])
    .args(["--recipient", fpr, "--yes", "--output"])
    .arg(output)
    .arg("--encrypt")
    .arg(input);
    let cpu = children_cpu();
    let t = Instant::now();
    assert!(cmd.status().unwrap().success(), "gpg --encrypt failed");
    let wall = t.elapsed();
    Measured {
        wall,
        cpu: children_cpu() - cpu,
        rss: 0.0,
    }
}

/// One upload to a fresh server; with `verify`, decrypts `original-encrypted` and compares.
#[allow(clippy::too_many_arguments)]
fn upload(
    data: &Path,
    token: &str,
    cfg: &str,
    file: &Path,
    config_first: bool,
    verify: Option<(&GpgHome, &str)>,
    scratch: &Path,
) -> Measured {
    let server = Server::start(data);
    std::thread::sleep(Duration::from_millis(300));
    let idle = proc::mib(proc::rss_kib(server.child.id()));
    let cfg = format!("configuration={cfg};type=application/json");
    let media = format!("media=@{};type=audio/wav", file.display());
    let (first, second) = if config_first {
        (&cfg, &media)
    } else {
        (&media, &cfg)
    };
    let url = format!("{}/v3/media", server.base);
    let cpu = server.cpu();
    let t = Instant::now();
    let out = server.curl(token, &["-F", first, "-F", second, &url]);
    let wall = t.elapsed();
    let cpu = server.cpu() - cpu;
    let rss = proc::mib(proc::peak_rss_kib(server.child.id())) - idle;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = answer["mediaId"].as_str().unwrap();
    let stream = format!("{}/v3/media/{id}/streams/original-encrypted", server.base);
    let head = server.curl(token, &["-o", "/dev/null", "-w", "%{http_code}", &stream]);
    let code = String::from_utf8_lossy(&head.stdout).into_owned();
    // Configuration first: there on answer. Media first: only once a worker made it.
    assert_eq!(
        code,
        if config_first { "200" } else { "404" },
        "original-encrypted after the upload answered"
    );
    if let Some((home, _)) = verify.filter(|_| config_first) {
        let pgp = scratch.join("stream.pgp");
        let plain = scratch.join("stream.plain");
        assert!(
            server
                .curl(token, &["-o", pgp.to_str().unwrap(), &stream])
                .status
                .success()
        );
        let mut cmd = home.command();
        cmd.args(["--yes", "--output"])
            .arg(&plain)
            .arg("--decrypt")
            .arg(&pgp);
        assert!(
            cmd.status().unwrap().success(),
            "gpg --decrypt of the stream"
        );
        assert_eq!(sha256(&plain), sha256(file), "decrypts to the upload");
        eprintln!("  verified: gpg --decrypt of original-encrypted = the upload (SHA-256)");
        std::fs::remove_file(pgp).unwrap();
        std::fs::remove_file(plain).unwrap();
    }
    let del = server.curl(
        token,
        &["-X", "DELETE", &format!("{}/v3/media/{id}", server.base)],
    );
    assert!(del.status.success());
    Measured { wall, cpu, rss }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken from the command line.
    let sizes: Vec<u64> = std::env::var("BENCH_SIZES_MIB")
        .unwrap_or_else(|_| "512,2048".into())
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .expect("BENCH_SIZES_MIB: sizes in MiB, comma-separated")
        })
        .collect();
    let rounds: u32 = std::env::var("BENCH_ROUNDS").map_or(2, |r| r.parse().unwrap());
    let dir = tempfile::Builder::new()
        .prefix("encrypt-upload")
        .tempdir()
        .unwrap();
    let data = dir.path().join("data");
    let out = Command::new(BIN)
        .args(["accounts", "create", "bench", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();

    let home = GpgHome::new();
    let fpr = home.gen_rsa_and_rsa("Bench <bench@example.com>");
    let key_id = {
        let server = Server::start(&data);
        let key = dir.path().join("key.asc");
        std::fs::write(&key, home.export_public(&fpr, true)).unwrap();
        let url = format!("{}/v3/security/public-keys", server.base);
        let out = server.curl(
            &token,
            &["--data-binary", &format!("@{}", key.display()), &url],
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["publicKeyId"].as_str().unwrap().to_owned()
    };
    let cfg = format!("{{\"encryption\":{{\"publicKeyId\":\"{key_id}\"}}}}");
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    eprintln!("load average before: {}", load.trim());

    let mut rows = Vec::new();
    for &mib in &sizes {
        let file = dir.path().join("upload.wav");
        let gpg_out = dir.path().join("upload.wav.pgp");
        wav::write_noise(&file, u32::try_from((mib << 20) - 44).unwrap(), 7);
        let _ = Command::new("cat")
            .arg(&file)
            .stdout(Stdio::null())
            .status();
        let (mut gpg, mut first, mut media_first) = (None, None, None);
        for round in 0..rounds {
            eprintln!("{mib} MiB, round {}", round + 1);
            sync();
            keep_best(&mut gpg, gpg_encrypt(&home, &fpr, &file, &gpg_out));
            std::fs::remove_file(&gpg_out).unwrap();
            sync();
            let verify = (round == 0).then_some((&home, fpr.as_str()));
            keep_best(
                &mut first,
                upload(&data, &token, &cfg, &file, true, verify, dir.path()),
            );
            sync();
            keep_best(
                &mut media_first,
                upload(&data, &token, &cfg, &file, false, None, dir.path()),
            );
        }
        std::fs::remove_file(&file).unwrap();
        rows.push((mib, gpg.unwrap(), first.unwrap(), media_first.unwrap()));
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    eprintln!("load average after: {}", load.trim());

    println!(
        "| size | `gpg -z 0 --encrypt` wall (CPU) | configuration first: upload start → complete \
         `original-encrypted`, wall (server CPU) | ratio to gpg | server peak RSS above idle | \
         media first (sealed only, not yet encrypted), wall (server CPU) |"
    );
    println!("|---|---|---|---|---|---|");
    for (mib, g, f, m) in rows {
        println!(
            "| {mib} MiB | {:.2} s ({:.2} s) | {:.2} s ({:.2} s) | **{:.2}×** | {:+.1} MiB | {:.2} s ({:.2} s) |",
            g.wall.as_secs_f64(),
            g.cpu.as_secs_f64(),
            f.wall.as_secs_f64(),
            f.cpu.as_secs_f64(),
            f.wall.as_secs_f64() / g.wall.as_secs_f64(),
            f.rss,
            m.wall.as_secs_f64(),
            m.cpu.as_secs_f64(),
        );
    }
}
