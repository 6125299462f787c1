//! Encryption throughput and memory, side by side in one run:
//! `sealscribe_openpgp::encrypt` vs `gpg -z 0 --encrypt` vs `openssl enc -aes-256-cfb` (the
//! raw cipher, no OpenPGP framing: the upper bound).
//!
//! `cargo bench -p sealscribe-openpgp` — input: 1 GiB from /dev/urandom in a temp dir
//! (override with `BENCH_BYTES`, e.g. `BENCH_BYTES=200M`), recipient: a GnuPG "RSA and RSA"
//! 2048-bit key. Every contender runs as a child process writing to a file in the same temp
//! dir; its peak RSS is the `VmHWM` of that process, polled from `/proc/PID/status` (ours
//! runs in a re-executed copy of this binary, so the figure is the encryptor's alone). Our
//! output is then decrypted by `gpg` and compared to the input by SHA-256.
//!
//! The machine may be shared, so the contenders run in interleaved rounds (`BENCH_ROUNDS`,
//! default 3), each keeps its best, and CPU time (user + system, from `cutime`/`cstime`) is
//! reported next to wall time: it is far less sensitive to other load.

use std::{
    fs::File,
    io::{BufReader, BufWriter, Read, Write},
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail, ensure};
use chrono::Utc;
use sealscribe_openpgp::{EncryptOptions, Recipient, encrypt, testing::GpgHome};
use sha2::{Digest, Sha256};

/// Builds the command line of one contender (a fresh `Command` per round).
type MakeCommand<'a> = Box<dyn Fn() -> Command + 'a>;

const CHILD_ENV: &str = "SEALSCRIBE_BENCH_CHILD";

fn main() -> Result<()> {
    // Child mode: encrypt KEY INPUT OUTPUT ARMOR.
    if std::env::var_os(CHILD_ENV).is_some() {
        let args: Vec<String> = std::env::args().collect();
        let n = args.len();
        return child(
            &args[n - 4],
            &args[n - 3],
            &args[n - 2],
            &args[n - 1] == "armor",
        );
    }

    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let bytes = parse_size(&std::env::var("BENCH_BYTES").unwrap_or_else(|_| "1G".into()))?;
    let rounds: u32 = std::env::var("BENCH_ROUNDS").map_or(Ok(3), |r| r.parse())?;
    let dir = tempfile::Builder::new().prefix("pgp-bench").tempdir()?;
    let input = dir.path().join("input.bin");
    let output = dir.path().join("output.pgp");
    eprintln!("generating {} from /dev/urandom …", human(bytes));
    make_input(&input, bytes)?;
    sync();
    let input_sha = sha256_file(&input)?;

    let home = GpgHome::new();
    let fpr = home.gen_rsa_and_rsa("Bench <bench@example.com>");
    let key = dir.path().join("key.asc");
    std::fs::write(&key, home.export_public(&fpr, true))?;
    // Fail early if the key is not accepted.
    Recipient::from_bytes(&std::fs::read(&key)?, Utc::now()).map_err(|e| anyhow::anyhow!("{e}"))?;

    let me = std::env::current_exe()?;
    let s = |p: &Path| p.to_string_lossy().into_owned();
    let gpg = |armor: bool| {
        let mut c = home.command();
        c.args([
            "--trust-model",
            "always",
            "-z",
            "0",
            "--cipher-algo",
            "AES256",
        ]);
        if armor {
            c.arg("--armor");
        }
        c.args([
            "--recipient",
            &fpr,
            "--output",
            &s(&output),
            "--encrypt",
            &s(&input),
        ]);
        c
    };
    let ours = |armor: bool| {
        let mut c = Command::new(&me);
        c.env(CHILD_ENV, "1").args([
            s(&key),
            s(&input),
            s(&output),
            (if armor { "armor" } else { "binary" }).to_owned(),
        ]);
        c
    };
    let openssl = || {
        let mut c = Command::new("openssl");
        c.args([
            "enc",
            "-aes-256-cfb",
            "-pbkdf2",
            "-pass",
            "pass:bench",
            "-in",
            &s(&input),
        ]);
        c.args(["-out", &s(&output)]);
        c
    };
    let contenders: Vec<(&str, MakeCommand)> = vec![
        (
            "sealscribe-openpgp (rPGP 0.21), binary",
            Box::new(|| ours(false)),
        ),
        ("gpg 2.2 -z 0, binary", Box::new(|| gpg(false))),
        ("openssl enc -aes-256-cfb (raw cipher)", Box::new(openssl)),
        ("sealscribe-openpgp, armored", Box::new(|| ours(true))),
        ("gpg 2.2 -z 0 --armor", Box::new(|| gpg(true))),
    ];

    // Interleaved rounds; each contender keeps its best round (the machine is shared).
    let mut best: Vec<Option<Measured>> = vec![None; contenders.len()];
    let mut out_len = vec![0; contenders.len()];
    for round in 1..=rounds {
        for (i, (name, make)) in contenders.iter().enumerate() {
            let _ = std::fs::remove_file(&output);
            sync();
            let m = run_measured(make()).with_context(|| name.to_string())?;
            out_len[i] = std::fs::metadata(&output)?.len();
            if round == 1 && i == 0 {
                eprintln!("verifying our output with gpg --decrypt …");
                let sha = gpg_decrypt_sha256(&home, &output)?;
                ensure!(
                    sha == input_sha,
                    "gpg decrypted something else than the input"
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
        "\nOpenPGP encryption of {} ({bytes} bytes, /dev/urandom) to an RSA-2048 key, output to \
         a file on the same disk; best of {rounds} interleaved rounds; {} CPUs, load average \
         before the run: {}",
        human(bytes),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_before.split(' ').take(3).collect::<Vec<_>>().join(" ")
    );
    println!(
        "\n| contender | wall time | MB/s (wall) | CPU time | MB/s (CPU) | vs ours (CPU) | peak RSS | output bytes |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let ours_cpu = mb_per_s(bytes, best[0].cpu);
    for (i, (name, _)) in contenders.iter().enumerate() {
        let m = &best[i];
        println!(
            "| {name} | {:.2} s | {:.0} | {:.2} s | {:.0} | {:.2}× | {:.1} MiB | {} |",
            m.wall.as_secs_f64(),
            mb_per_s(bytes, m.wall),
            m.cpu.as_secs_f64(),
            mb_per_s(bytes, m.cpu),
            mb_per_s(bytes, m.cpu) / ours_cpu,
            m.hwm_kib as f64 / 1024.0,
            out_len[i]
        );
    }
    println!(
        "\nOur output decrypted with `gpg --decrypt` to the input's SHA-256 ({}).",
        &hex::encode(input_sha)[..16]
    );
    Ok(())
}

/// The child: our encryptor alone in its process.
fn child(key: &str, input: &str, output: &str, armor: bool) -> Result<()> {
    let recipient = Recipient::from_bytes(&std::fs::read(key)?, Utc::now())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let input = BufReader::with_capacity(1 << 16, File::open(input)?);
    let output = BufWriter::with_capacity(1 << 16, File::create(output)?);
    let n = encrypt(&recipient, input, output, EncryptOptions { armor })?;
    eprintln!("  encrypted {n} bytes");
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

fn gpg_decrypt_sha256(home: &GpgHome, path: &Path) -> Result<[u8; 32]> {
    let mut child = home
        .command()
        .args(["--decrypt"])
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut h = Sha256::new();
    std::io::copy(child.stdout.as_mut().context("stdout")?, &mut h)?;
    ensure!(child.wait()?.success(), "gpg --decrypt failed");
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
