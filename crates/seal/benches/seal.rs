//! Throughput of sealing and opening, in memory.
//!
//! `BENCH_BYTES` (default 1 GiB) of plaintext are pushed through [`Sealer`] in
//! 1 MiB pieces; each sealed piece is then pushed through [`Opener`]. Sealing
//! and opening are timed separately; memory stays constant.

use std::time::{Duration, Instant};

use sealscribe_seal::{Opener, SealKey, Sealer};

const PIECE: usize = 1 << 20;

fn main() {
    let total: u64 = std::env::var("BENCH_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1 << 30);
    let key = SealKey::generate();
    let mut piece = vec![0u8; PIECE];
    sealscribe_testkit::Rng(0x9E37_79B9_7F4A_7C15).fill(&mut piece);

    let (mut sealer, header) = Sealer::new(&key);
    let mut opener = Opener::new(&key);
    let mut sealed = Vec::with_capacity(PIECE + PIECE / 64);
    let mut plain = Vec::with_capacity(PIECE + PIECE / 64);
    opener.push(&header, &mut plain).expect("header");

    let (mut seal_time, mut open_time) = (Duration::ZERO, Duration::ZERO);
    let (mut left, mut opened) = (total, 0u64);
    while left > 0 {
        let n = (left.min(PIECE as u64)) as usize;
        left -= n as u64;
        sealed.clear();
        let t = Instant::now();
        sealer.push(&piece[..n], &mut sealed);
        seal_time += t.elapsed();

        plain.clear();
        let t = Instant::now();
        opener.push(&sealed, &mut plain).expect("open");
        open_time += t.elapsed();
        opened += plain.len() as u64;
    }
    sealed.clear();
    let t = Instant::now();
    sealer.finish(&mut sealed);
    seal_time += t.elapsed();
    plain.clear();
    let t = Instant::now();
    opener.push(&sealed, &mut plain).expect("open");
    opener.finish(&mut plain).expect("finish");
    open_time += t.elapsed();
    opened += plain.len() as u64;
    assert_eq!(opened, total);

    let mbps = |d: Duration| total as f64 / 1e6 / d.as_secs_f64();
    println!("bytes: {total}");
    println!(
        "seal: {:8.1} MB/s ({:.3} s)",
        mbps(seal_time),
        seal_time.as_secs_f64()
    );
    println!(
        "open: {:8.1} MB/s ({:.3} s)",
        mbps(open_time),
        open_time.as_secs_f64()
    );
}
