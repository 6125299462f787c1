//! Decryption throughput and memory, side by side in one run: `sealscribe_openpgp::decrypt`
//! (what `sealscribe client decrypt` runs) vs `gpg --decrypt`, on the same messages.
//!
//! `cargo bench -p sealscribe-openpgp --bench decrypt` — input: 1 GiB from /dev/urandom in a
//! temp dir (override with `BENCH_BYTES`, e.g. `BENCH_BYTES=256M`), key: a GnuPG
//! `future-default` key (ed25519 + cv25519; the session key is one X25519 operation, so the
//! figures are the symmetric part's). Messages: ours (SEIPD v1, AES-256, uncompressed —
//! what sealscribe produces), binary and armored, and gpg's default (ZLIB-compressed, which
//! random data does not shrink, so it is the decompressor's cost). Every contender runs as a
//! child process writing the plaintext to a file in the temp dir; its peak RSS is the
//! `VmHWM` of that process, polled from `/proc/PID/status` (ours runs in a re-executed copy
//! of this binary). Every output is compared with the input by SHA-256 in the first round.
//!
//! The machine may be shared, so the contenders run in interleaved rounds (`BENCH_ROUNDS`,
//! default 3), each keeps its best, and CPU time (user + system) is reported next to wall
//! time.

use std::{
    fs::File,
    io::{BufReader, BufWriter, Read, Write},
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail, ensure};
use chrono::Utc;
use sealscribe_openpgp::{
    EncryptOptions, Recipient, SecretKey, decrypt, encrypt, testing::GpgHome,
};
use sha2::{Digest, Sha256};

/// Builds the command line of one contender (a fresh `Command` per round).
type MakeCommand<'a> = Box<dyn Fn() -> Command + 'a>;

const CHILD_ENV: &str = "SEALSCRIBE_BENCH_CHILD";

fn main() -> Result<()> {
    // Child mode: decrypt KEY INPUT OUTPUT.
    if std::env::var_os(CHILD_ENV).is_some() {
        let args: Vec<String> = std::env::args().collect();
        let n = args.len();
        return child(&args[n - 3], &args[n - 2], &args[n - 1]);
    }

    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let bytes = parse_size(&std::env::var("BENCH_BYTES").unwrap_or_else(|_| "1G".into()))?;
    let rounds: u32 = std::env::var("BENCH_ROUNDS").map_or(Ok(3), |r| r.parse())?;
    let dir = tempfile::Builder::new().prefix("pgp-bench").tempdir()?;
    let input = dir.path().join("input.bin");
    let output = dir.path().join("output.bin");
    eprintln!("generating {} from /dev/urandom …", human(bytes));
    make_input(&input, bytes)?;
    let input_sha = sha256_file(&input)?;

    let home = GpgHome::new();
    let fpr = home.gen_future_default("Bench <bench@example.com>");
    let key = dir.path().join("secret.asc");
    std::fs::write(&key, home.export_secret(&fpr))?;
    let recipient = Recipient::from_bytes(&home.export_public(&fpr, false), Utc::now())
        .map_err(|e| anyhow::anyhow!("{e}"))?;

    eprintln!("encrypting: ours (binary, armored), gpg (default: ZLIB) …");
    let ours_bin = dir.path().join("ours.pgp");
    let ours_asc = dir.path().join("ours.asc");
    let gpg_zlib = dir.path().join("gpg.pgp");
    for (path, opts) in [
        (&ours_bin, EncryptOptions::binary()),
        (&ours_asc, EncryptOptions::armored()),
    ] {
        encrypt(
            &recipient,
            BufReader::new(File::open(&input)?),
            BufWriter::new(File::create(path)?),
            opts,
        )?;
    }
    home.encrypt_file(&fpr, &input, &gpg_zlib, &[]);
    std::fs::remove_file(&input)?;
    sync();

    let me = std::env::current_exe()?;
    let s = |p: &Path| p.to_string_lossy().into_owned();
    let gpg = |message: &Path| {
        let mut c = home.command();
        c.args(["--yes", "--output", &s(&output), "--decrypt", &s(message)]);
        c
    };
    let ours = |message: &Path| {
        let mut c = Command::new(&me);
        c.env(CHILD_ENV, "1")
            .args([s(&key), s(message), s(&output)]);
        c
    };
    let contenders: Vec<(&str, &Path, MakeCommand)> = vec![
        (
            "sealscribe-openpgp (rPGP 0.21, streaming), our binary message",
            &ours_bin,
            Box::new(|| ours(&ours_bin)),
        ),
        (
            "gpg 2.2 --decrypt, our binary message",
            &ours_bin,
            Box::new(|| gpg(&ours_bin)),
        ),
        (
            "sealscribe-openpgp, our armored message",
            &ours_asc,
            Box::new(|| ours(&ours_asc)),
        ),
        (
            "sealscribe-openpgp, gpg's default message (ZLIB)",
            &gpg_zlib,
            Box::new(|| ours(&gpg_zlib)),
        ),
        (
            "gpg 2.2 --decrypt, gpg's default message (ZLIB)",
            &gpg_zlib,
            Box::new(|| gpg(&gpg_zlib)),
        ),
    ];

    // Interleaved rounds; each contender keeps its best round (the machine is shared).
    let mut best: Vec<Option<Measured>> = vec![None; contenders.len()];
    for round in 1..=rounds {
        for (i, (name, _, make)) in contenders.iter().enumerate() {
            let _ = std::fs::remove_file(&output);
            sync();
            let m = run_measured(make()).with_context(|| name.to_string())?;
            if round == 1 {
                ensure!(
                    sha256_file(&output)? == input_sha,
                    "{name}: the plaintext differs from the input"
                );
            }
            eprintln!(
                "round {round} {name}: {:.0} MB/s wall, {:.0} MB/s CPU, peak RSS {:.1} MiB",
                mb_per_s(bytes, m.wall),
                mb_per_s(bytes, m.cpu),
                m.hwm_kib as f64 / 1024.0
            );
            if best[i].as_ref().is_none_or(|b| m.wall < b.wall) {
                best[i] = Some(m);
            }
        }
    }
    let _ = std::fs::remove_file(&output);
    let best: Vec<Measured> = best.into_iter().map(|m| m.expect("measured")).collect();

    println!(
        "\nOpenPGP decryption of {} ({bytes} bytes of plaintext, /dev/urandom) with an \
         ed25519/cv25519 key, plaintext to a file on the same disk; best of {rounds} \
         interleaved rounds; {} CPUs, load average before the run: {}",
        human(bytes),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_before.split(' ').take(3).collect::<Vec<_>>().join(" ")
    );
    println!(
        "\n| contender | message bytes | wall time | MB/s (wall) | MiB/s (wall) | CPU time | MB/s (CPU) | peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (i, (name, message, _)) in contenders.iter().enumerate() {
        let m = &best[i];
        println!(
            "| {name} | {} | {:.2} s | {:.0} | {:.0} | {:.2} s | {:.0} | {:.1} MiB |",
            std::fs::metadata(message)?.len(),
            m.wall.as_secs_f64(),
            mb_per_s(bytes, m.wall),
            bytes as f64 / f64::from(1 << 20) / m.wall.as_secs_f64().max(1e-9),
            m.cpu.as_secs_f64(),
            mb_per_s(bytes, m.cpu),
            m.hwm_kib as f64 / 1024.0,
        );
    }
    println!(
        "\nEvery plaintext matched the input's SHA-256 ({}).",
        &hex::encode(input_sha)[..16]
    );
    Ok(())
}

/// The child: our decryptor alone in its process.
fn child(key: &str, input: &str, output: &str) -> Result<()> {
    let key = SecretKey::from_bytes(&std::fs::read(key)?).map_err(|e| anyhow::anyhow!("{e}"))?;
    let input = BufReader::with_capacity(1 << 16, File::open(input)?);
    let output = BufWriter::with_capacity(1 << 16, File::create(output)?);
    let n = decrypt(&key, None, input, output)?;
    eprintln!("  decrypted {n} bytes");
    Ok(())
}

#[derive(Debug, Clone)]
struct Measured {
    wall: Duration,
    /// User + system CPU time of the child: robust against other load on the machine.
    cpu: Duration,
    hwm_kib: u64,
}

fn mb_per_s(bytes: u64, t: Duration) -> f64 {
    bytes as f64 / 1e6 / t.as_secs_f64().max(1e-9)
}

/// Our children's accumulated CPU time (`cutime + cstime` in `/proc/self/stat`), which
/// grows by a child's user+system time when it is waited for.
fn children_cpu() -> Result<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after the parenthesised command name; cutime, cstime are fields 16 and 17.
    let rest = stat.rsplit_once(')').context("stat format")?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f[13].parse::<u64>()? + f[14].parse::<u64>()?;
    // USER_HZ is 100 on Linux.
    Ok(Duration::from_millis(ticks * 10))
}

/// Runs `cmd`, polling its VmHWM until it exits.
fn run_measured(mut cmd: Command) -> Result<Measured> {
    let cpu_before = children_cpu()?;
    let start = Instant::now();
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).spawn()?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut hwm = 0;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if let Ok(text) = std::fs::read_to_string(&status_path)
            && let Some(v) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            hwm = hwm.max(v);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let wall = start.elapsed();
    if !status.success() {
        bail!("{cmd:?} failed: {status}");
    }
    Ok(Measured {
        wall,
        cpu: children_cpu()? - cpu_before,
        hwm_kib: hwm,
    })
}

/// Flushes dirty pages so that one contender's write-back does not slow the next one.
fn sync() {
    let _ = Command::new("sync").status();
}

fn make_input(path: &Path, bytes: u64) -> Result<()> {
    let mut src = File::open("/dev/urandom")?.take(bytes);
    let mut dst = BufWriter::new(File::create(path)?);
    let copied = std::io::copy(&mut src, &mut dst)?;
    dst.flush()?;
    ensure!(copied == bytes, "short read from /dev/urandom");
    Ok(())
}

fn sha256_file(path: &Path) -> Result<[u8; 32]> {
    let mut h = Sha256::new();
    std::io::copy(&mut File::open(path)?, &mut h)?;
    Ok(h.finalize().into())
}

fn parse_size(s: &str) -> Result<u64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last() {
        Some('K' | 'k') => (&s[..s.len() - 1], 1 << 10),
        Some('M' | 'm') => (&s[..s.len() - 1], 1 << 20),
        Some('G' | 'g') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    Ok(num
        .parse::<u64>()
        .context("BENCH_BYTES: a number with optional K/M/G")?
        * mult)
}

fn human(bytes: u64) -> String {
    if bytes >= 1 << 30 && bytes.is_multiple_of(1 << 30) {
        format!("{} GiB", bytes >> 30)
    } else if bytes >= 1 << 20 {
        format!("{:.0} MiB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{bytes} bytes")
    }
}
