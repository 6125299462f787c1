//! Measurement helpers shared by the OpenPGP benches: child processes timed
//! by wall and CPU clock with their peak RSS, input files, sizes.

use std::{
    fs::File,
    io::{BufWriter, Read, Write},
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail, ensure};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone)]
pub struct Measured {
    pub wall: Duration,
    /// User + system CPU time of the child: robust against other load on the machine.
    pub cpu: Duration,
    pub hwm_kib: u64,
}

/// Reports one round's measurement and keeps it if it is the fastest so far.
pub fn keep_best(round: u32, name: &str, bytes: u64, m: Measured, best: &mut Option<Measured>) {
    eprintln!(
        "round {round} {name}: {:.0} MB/s wall, {:.0} MB/s CPU, peak RSS {:.1} MiB",
        mb_per_s(bytes, m.wall),
        mb_per_s(bytes, m.cpu),
        m.hwm_kib as f64 / 1024.0
    );
    if best.as_ref().is_none_or(|b| m.wall < b.wall) {
        *best = Some(m);
    }
}

pub fn mb_per_s(bytes: u64, t: Duration) -> f64 {
    bytes as f64 / 1e6 / t.as_secs_f64().max(1e-9)
}

/// Our children's accumulated CPU time (`cutime + cstime` in `/proc/self/stat`), which
/// grows by a child's user+system time when it is waited for.
pub fn children_cpu() -> Result<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after the parenthesised command name; cutime, cstime are fields 16 and 17.
    let rest = stat.rsplit_once(')').context("stat format")?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f[13].parse::<u64>()? + f[14].parse::<u64>()?;
    // USER_HZ is 100 on Linux.
    Ok(Duration::from_millis(ticks * 10))
}

/// Runs `cmd`, polling its VmHWM until it exits.
pub fn run_measured(mut cmd: Command) -> Result<Measured> {
    let cpu_before = children_cpu()?;
    let start = Instant::now();
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).spawn()?;
    let pid = child.id().to_string();
    let mut hwm = 0;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if let Some(v) = sealscribe_testkit::proc::try_status_kib(&pid, "VmHWM") {
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
pub fn sync() {
    let _ = Command::new("sync").status();
}

pub fn make_input(path: &Path, bytes: u64) -> Result<()> {
    let mut src = File::open("/dev/urandom")?.take(bytes);
    let mut dst = BufWriter::new(File::create(path)?);
    let copied = std::io::copy(&mut src, &mut dst)?;
    dst.flush()?;
    ensure!(copied == bytes, "short read from /dev/urandom");
    Ok(())
}

pub fn sha256_file(path: &Path) -> Result<[u8; 32]> {
    let mut h = Sha256::new();
    std::io::copy(&mut File::open(path)?, &mut h)?;
    Ok(h.finalize().into())
}

pub fn parse_size(s: &str) -> Result<u64> {
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

pub fn human(bytes: u64) -> String {
    if bytes >= 1 << 30 && bytes.is_multiple_of(1 << 30) {
        format!("{} GiB", bytes >> 30)
    } else if bytes >= 1 << 20 {
        format!("{:.0} MiB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{bytes} bytes")
    }
}
