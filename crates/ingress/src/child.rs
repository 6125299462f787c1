//! ffprobe/ffmpeg (or any tool) as a child process under a deadline.
//!
//! Media from customers is hostile input: a decoder fed a malformed file may
//! hang or crash, and that must stay in the child. The deadline starts when
//! the child is spawned and covers its whole life, including the writing of
//! its input (a child that stops reading cannot block the writer past it); the
//! child is killed and reaped when its guard drops, whatever path the caller
//! leaves by (error, timeout, panic).

use std::io::{Read, Write};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Why a child did not run to its end.
#[derive(Debug, thiserror::Error)]
pub enum ChildError {
    /// The program could not be started (not installed, not executable).
    #[error("`{tool}` could not be started ({source})")]
    Spawn {
        /// The program name.
        tool: &'static str,
        /// Why spawning failed.
        #[source]
        source: std::io::Error,
    },
    /// The child did not finish in time and was killed.
    #[error("{tool} did not finish within {seconds} s and was stopped")]
    Timeout {
        /// The program name.
        tool: &'static str,
        /// The limit that was hit.
        seconds: u64,
    },
    /// Waiting for the child failed.
    #[error("waiting for {tool}: {source}")]
    Wait {
        /// The program name.
        tool: &'static str,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The child's output could not be collected (a bug, not bad input).
    #[error("{tool}: {what}")]
    Output {
        /// The program name.
        tool: &'static str,
        /// What went wrong.
        what: &'static str,
    },
}

/// What a finished child produced.
pub struct Finished<T> {
    /// How it exited.
    pub status: ExitStatus,
    /// What the stdout reader returned.
    pub stdout: T,
    /// The tail of what it wrote to stderr (at most 64 KiB).
    pub stderr: String,
}

/// Kills and reaps the child when dropped, whatever path we leave by (error, timeout, panic).
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// Runs `cmd` with no input, feeding its stdout to `read_stdout` on a thread,
/// under a deadline.
///
/// When `read_stdout` returns early it drops the pipe, so the child dies of a
/// broken pipe instead of blocking until the deadline.
///
/// # Errors
///
/// [`ChildError`]: the child could not be started, timed out (it was killed),
/// or its output could not be collected.
pub fn run_with_deadline<T: Send + 'static>(
    cmd: Command,
    tool: &'static str,
    timeout: Duration,
    read_stdout: impl FnOnce(ChildStdout) -> T + Send + 'static,
) -> Result<Finished<T>, ChildError> {
    run(cmd, tool, timeout, None, read_stdout)
}

/// As [`run_with_deadline`], writing `input` to the child's stdin (on a
/// thread, under the same deadline) and closing it. A child that stops
/// reading early is expected: the rest of the input is dropped.
///
/// # Errors
///
/// As [`run_with_deadline`].
pub fn run_with_input<T: Send + 'static>(
    cmd: Command,
    tool: &'static str,
    timeout: Duration,
    input: Vec<u8>,
    read_stdout: impl FnOnce(ChildStdout) -> T + Send + 'static,
) -> Result<Finished<T>, ChildError> {
    run(cmd, tool, timeout, Some(input), read_stdout)
}

fn run<T: Send + 'static>(
    mut cmd: Command,
    tool: &'static str,
    timeout: Duration,
    input: Option<Vec<u8>>,
    read_stdout: impl FnOnce(ChildStdout) -> T + Send + 'static,
) -> Result<Finished<T>, ChildError> {
    let stdin = if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    };
    cmd.stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd
        .spawn()
        .map_err(|source| ChildError::Spawn { tool, source })?;
    let deadline = Instant::now() + timeout;
    let mut guard = ChildGuard(child);
    let writer: Option<JoinHandle<()>> = match (guard.0.stdin.take(), input) {
        (Some(mut pipe), Some(input)) => Some(std::thread::spawn(move || {
            // The child may stop reading early; a broken pipe is expected then.
            let _ = pipe.write_all(&input);
        })),
        _ => None,
    };
    let out = guard
        .0
        .stdout
        .take()
        .map(|o| std::thread::spawn(move || read_stdout(o)));
    let err: Option<JoinHandle<String>> = guard
        .0
        .stderr
        .take()
        .map(|e| std::thread::spawn(move || tail(e)));
    let status = loop {
        match guard.0.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                drop(guard); // kills the child; the pipe threads then see EOF or EPIPE
                if let Some(h) = writer {
                    let _ = h.join();
                }
                if let Some(h) = out {
                    let _ = h.join();
                }
                if let Some(h) = err {
                    let _ = h.join();
                }
                return Err(ChildError::Timeout {
                    tool,
                    seconds: timeout.as_secs(),
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(source) => return Err(ChildError::Wait { tool, source }),
        }
    };
    if let Some(h) = writer {
        let _ = h.join();
    }
    let stdout = out
        .ok_or(ChildError::Output {
            tool,
            what: "no stdout pipe",
        })?
        .join()
        .map_err(|_| ChildError::Output {
            tool,
            what: "stdout reader panicked",
        })?;
    let stderr = err.and_then(|h| h.join().ok()).unwrap_or_default();
    Ok(Finished {
        status,
        stdout,
        stderr,
    })
}

/// A child whose stdout the caller reads at its own pace (streaming), killed and reaped when
/// dropped. Its stderr tail is collected on a thread.
///
/// There is no wall-clock deadline here, because a streaming child legitimately lives as long as
/// its reader takes; the reader bounds the time it *waits* for output instead (see
/// `sealscribe_asr::media::PcmStream`), which catches a hung child just the same.
pub struct Streaming {
    guard: ChildGuard,
    tool: &'static str,
    err: Option<JoinHandle<String>>,
}

impl std::fmt::Debug for Streaming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Streaming")
            .field("tool", &self.tool)
            .finish_non_exhaustive()
    }
}

/// Starts `cmd` with no input, its stdout returned for the caller to read.
///
/// # Errors
/// [`ChildError::Spawn`] when the program cannot be started, [`ChildError::Output`] when it has
/// no stdout pipe.
pub fn spawn_streaming(
    mut cmd: Command,
    tool: &'static str,
) -> Result<(Streaming, ChildStdout), ChildError> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd
        .spawn()
        .map_err(|source| ChildError::Spawn { tool, source })?;
    let mut guard = ChildGuard(child);
    let stdout = guard.0.stdout.take().ok_or(ChildError::Output {
        tool,
        what: "no stdout pipe",
    })?;
    let err = guard
        .0
        .stderr
        .take()
        .map(|e| std::thread::spawn(move || tail(e)));
    Ok((Streaming { guard, tool, err }, stdout))
}

/// The last 16–64 KiB a pipe carries: ffmpeg may repeat a warning for every packet.
fn tail(mut e: impl Read) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    while let Ok(n) = e.read(&mut chunk) {
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > 64 * 1024 {
            buf.drain(..buf.len() - 16 * 1024);
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

impl Streaming {
    /// Waits for the child to exit (it should, its stdout having been read to the end or
    /// closed) for at most `grace`, then kills it; returns its status and stderr tail.
    ///
    /// # Errors
    /// [`ChildError::Timeout`] when it had to be killed, [`ChildError::Wait`] when waiting failed.
    pub fn finish(mut self, grace: Duration) -> Result<Finished<()>, ChildError> {
        let tool = self.tool;
        let deadline = Instant::now() + grace;
        let status = loop {
            match self.guard.0.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() >= deadline => {
                    return Err(ChildError::Timeout {
                        tool,
                        seconds: grace.as_secs(),
                    });
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(source) => return Err(ChildError::Wait { tool, source }),
            }
        };
        let stderr = self
            .err
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        Ok(Finished {
            status,
            stdout: (),
            stderr,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_reaches_the_child_and_output_comes_back() {
        let done = run_with_input(
            Command::new("cat"),
            "cat",
            Duration::from_secs(10),
            b"hello".to_vec(),
            |mut o| {
                let mut s = String::new();
                let _ = o.read_to_string(&mut s);
                s
            },
        )
        .unwrap();
        assert!(done.status.success());
        assert_eq!(done.stdout, "hello");
    }

    #[test]
    fn the_deadline_covers_a_child_that_never_reads_its_input() {
        // `sleep` never reads stdin: writing more than a pipe holds blocks the
        // writer, and the deadline must still end the child.
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let started = Instant::now();
        let e = run_with_input(
            cmd,
            "sleep",
            Duration::from_millis(300),
            vec![0; 4 << 20],
            |_| (),
        )
        .err()
        .expect("the child must be stopped");
        assert!(
            matches!(e, ChildError::Timeout { tool: "sleep", .. }),
            "{e}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_missing_program_is_a_spawn_error() {
        let e = run_with_deadline(
            Command::new("sealscribe-no-such-tool"),
            "sealscribe-no-such-tool",
            Duration::from_secs(1),
            |_| (),
        )
        .err()
        .expect("spawning must fail");
        assert!(matches!(e, ChildError::Spawn { .. }), "{e}");
    }
}
