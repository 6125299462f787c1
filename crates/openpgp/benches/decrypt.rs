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
    io::{BufReader, BufWriter},
    path::Path,
    process::Command,
};

use anyhow::{Context, Result, ensure};
use chrono::Utc;
use sealscribe_openpgp::{
    EncryptOptions, Recipient, SecretKey, decrypt, encrypt, testing::GpgHome,
};
mod support;
use support::{
    Measured, human, keep_best, make_input, mb_per_s, parse_size, run_measured, sha256_file, sync,
};

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
            keep_best(round, name, bytes, m, &mut best[i]);
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
