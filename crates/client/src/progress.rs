//! Progress on stderr: an indicatif bar when stderr is a terminal, otherwise plain lines
//! (`upload: 12.0 MiB / 48.0 MiB (25%), 30.1 MiB/s, ETA 1s`) at each 10 % and at most once a
//! second in between, plus a final line — so that the logs of scripts stay readable and free
//! of escape codes. `--quiet`: nothing.

use std::io::IsTerminal as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The minimum time between two plain lines (10 % steps are always shown).
const LINE_EVERY: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub(crate) struct Progress {
    inner: Arc<Inner>,
}

struct Inner {
    label: String,
    mode: Mode,
    state: Mutex<State>,
}

enum Mode {
    Quiet,
    Bar(ProgressBar),
    Lines,
}

struct State {
    total: Option<u64>,
    pos: u64,
    /// Where this run started (a resumed download), for the rate.
    base: u64,
    start: Instant,
    last_line: Instant,
    last_decile: u64,
    finished: bool,
}

fn use_bars() -> bool {
    std::io::stderr().is_terminal()
}

impl Progress {
    /// A byte counter for `label` (e.g. `upload`) of `total` bytes, if known.
    pub fn bytes(label: &str, total: Option<u64>, quiet: bool) -> Progress {
        let mode = if quiet {
            Mode::Quiet
        } else if use_bars() {
            let bar = match total {
                Some(t) => ProgressBar::with_draw_target(Some(t), ProgressDrawTarget::stderr())
                    .with_style(
                        ProgressStyle::with_template(
                            "{prefix} [{bar:32}] {binary_bytes}/{binary_total_bytes} ({percent}%) \
                             {binary_bytes_per_sec}, ETA {eta}",
                        )
                        .expect("valid template")
                        .progress_chars("=> "),
                    ),
                None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
                    .with_style(
                        ProgressStyle::with_template(
                            "{prefix} {spinner} {binary_bytes} {binary_bytes_per_sec}",
                        )
                        .expect("valid template")
                        .tick_chars("-\\|/ "),
                    ),
            };
            bar.set_prefix(label.to_owned());
            Mode::Bar(bar)
        } else {
            Mode::Lines
        };
        let now = Instant::now();
        Progress {
            inner: Arc::new(Inner {
                label: label.to_owned(),
                mode,
                state: Mutex::new(State {
                    total,
                    pos: 0,
                    base: 0,
                    start: now,
                    last_line: now,
                    last_decile: 0,
                    finished: false,
                }),
            }),
        }
    }

    /// Starts counting at `pos` bytes already done (a resumed download).
    pub fn start_at(&self, pos: u64) {
        let mut s = self.inner.state.lock().expect("progress lock");
        s.pos = pos;
        s.base = pos;
        s.last_decile = decile(pos, s.total);
        if let Mode::Bar(bar) = &self.inner.mode {
            bar.set_position(pos);
            bar.reset_eta();
        }
    }

    /// A line about this transfer (`download: resuming at N bytes`), above the bar.
    pub fn note(&self, text: &str) {
        let line = format!("{}: {text}", self.inner.label);
        match &self.inner.mode {
            Mode::Quiet => {}
            Mode::Bar(bar) => bar.println(line),
            Mode::Lines => eprintln!("{line}"),
        }
    }

    pub fn inc(&self, n: u64) {
        let mut s = self.inner.state.lock().expect("progress lock");
        s.pos += n;
        match &self.inner.mode {
            Mode::Quiet => {}
            Mode::Bar(bar) => bar.set_position(s.pos),
            Mode::Lines => {
                let now = Instant::now();
                let d = decile(s.pos, s.total);
                let complete = s.total.is_some_and(|t| s.pos >= t);
                // The 100 % line is the final one, from `finish`.
                if !complete && (d > s.last_decile || now - s.last_line >= LINE_EVERY) {
                    s.last_decile = d;
                    s.last_line = now;
                    eprintln!("{}", line(&self.inner.label, &s, false));
                }
            }
        }
    }

    /// The final line (or the bar's final state).
    pub fn finish(&self) {
        let mut s = self.inner.state.lock().expect("progress lock");
        if s.finished {
            return;
        }
        s.finished = true;
        match &self.inner.mode {
            Mode::Quiet => {}
            Mode::Bar(bar) => bar.finish(),
            Mode::Lines => eprintln!("{}", line(&self.inner.label, &s, true)),
        }
    }

    /// Stops the bar without claiming completion (on errors).
    pub fn abandon(&self) {
        let mut s = self.inner.state.lock().expect("progress lock");
        if s.finished {
            return;
        }
        s.finished = true;
        if let Mode::Bar(bar) = &self.inner.mode {
            bar.abandon();
        }
    }
}

fn decile(pos: u64, total: Option<u64>) -> u64 {
    match total {
        Some(t) if t > 0 => (pos.min(t) as u128 * 10 / t as u128) as u64,
        _ => 0,
    }
}

fn line(label: &str, s: &State, last: bool) -> String {
    let elapsed = s.start.elapsed();
    let secs = elapsed.as_secs_f64().max(1e-3);
    let rate = (s.pos - s.base) as f64 / secs;
    let mut out = format!("{label}: {}", human_bytes(s.pos));
    if let Some(t) = s.total {
        let pct = if t == 0 {
            100
        } else {
            (s.pos as u128 * 100 / t as u128) as u64
        };
        out.push_str(&format!(" / {} ({pct}%)", human_bytes(t)));
    }
    out.push_str(&format!(", {}/s", human_bytes(rate as u64)));
    if last {
        out.push_str(&format!(", done in {}", human_duration(elapsed)));
    } else if let Some(t) = s.total
        && rate > 0.0
    {
        let eta = Duration::from_secs_f64(t.saturating_sub(s.pos) as f64 / rate);
        out.push_str(&format!(", ETA {}", human_duration(eta)));
    }
    out
}

/// `12.0 MiB`.
pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// `850ms`, `4.2s`, `2m05s`, `1h02m`.
pub(crate) fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        format!("{}ms", d.as_millis())
    } else if secs < 60 {
        format!("{:.1}s", d.as_secs_f64())
    } else if secs < 3600 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{}h{:02}m", secs / 3600, secs % 3600 / 60)
    }
}

/// A status that changes now and then (`media wait`): a spinner with a message on a
/// terminal, otherwise one line per change.
pub(crate) struct Status {
    label: String,
    mode: Mode,
    last: Option<String>,
}

impl Status {
    pub fn new(label: &str, quiet: bool) -> Status {
        let mode = if quiet {
            Mode::Quiet
        } else if use_bars() {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(
                ProgressStyle::with_template("{prefix}: {spinner} {elapsed} {wide_msg}")
                    .expect("valid template")
                    .tick_chars("-\\|/ "),
            );
            bar.set_prefix(label.to_owned());
            bar.enable_steady_tick(Duration::from_millis(200));
            Mode::Bar(bar)
        } else {
            Mode::Lines
        };
        Status {
            label: label.to_owned(),
            mode,
            last: None,
        }
    }

    pub fn set(&mut self, text: String) {
        if self.last.as_deref() == Some(text.as_str()) {
            return;
        }
        match &self.mode {
            Mode::Quiet => {}
            Mode::Bar(bar) => bar.set_message(text.clone()),
            Mode::Lines => eprintln!("{}: {text}", self.label),
        }
        self.last = Some(text);
    }

    pub fn finish(&self) {
        if let Mode::Bar(bar) = &self.mode {
            bar.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(human_bytes(12 << 20), "12.0 MiB");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_duration(Duration::from_millis(850)), "850ms");
        assert_eq!(human_duration(Duration::from_secs(125)), "2m05s");
        assert_eq!(human_duration(Duration::from_secs(3720)), "1h02m");
        assert_eq!(decile(25, Some(100)), 2);
        assert_eq!(decile(100, Some(100)), 10);
        assert_eq!(decile(5, None), 0);
    }
}
