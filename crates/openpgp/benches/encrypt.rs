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
    io::{BufReader, BufWriter},
    path::Path,
    process::{Command, Stdio},
};

use anyhow::{Context, Result, ensure};
use chrono::Utc;
use sealscribe_openpgp::{EncryptOptions, Recipient, encrypt, testing::GpgHome};
use sha2::{Digest, Sha256};

mod support;
use support::{
    Measured, human, keep_best, make_input, mb_per_s, parse_size, run_measured, sha256_file, sync,
};

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
            "sealscribe-openpgp (own SEIPD writer), binary",
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
            keep_best(round, name, bytes, m, &mut best[i]);
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
