//! A quick check, at upload time, that an upload is media at all.
//!
//! The first bytes of the upload (kept in memory while it streams to the blob
//! store) are piped to `ffprobe`. Nothing is written to disk, so the check
//! works for every blob store and for media that must never exist as
//! plaintext at rest. Containers that keep their index at the end (MP4/MOV
//! written without "faststart") cannot be judged from their head; they are
//! accepted and fully probed by the worker.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How much of an upload the sniff looks at.
pub const HEAD_BYTES: usize = 1024 * 1024;

/// What the head of an upload says.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// ffprobe found an audio stream.
    Audio,
    /// Cannot tell from the head (e.g. MP4 with its index at the end).
    Undecided,
    /// Not media, or media without audio.
    NotMedia(String),
}

/// Blocking: call from `spawn_blocking`.
pub fn sniff(head: &[u8]) -> Verdict {
    if head.is_empty() {
        return Verdict::NotMedia("the media part is empty".into());
    }
    let iso_bmff = head.len() >= 8 && &head[4..8] == b"ftyp";
    let child = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type",
            "-of",
            "csv=p=0",
            "-i",
            "pipe:0",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("cannot run ffprobe: {e}");
            return Verdict::Undecided;
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        // ffprobe may stop reading early; a broken pipe is expected then.
        let _ = stdin.write_all(head);
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Verdict::Undecided;
            }
        }
    }
    let output = child
        .wait_with_output()
        .map(|o| o.stdout)
        .unwrap_or_default();
    let streams = String::from_utf8_lossy(&output);
    if streams.lines().any(|l| l.trim() == "audio") {
        Verdict::Audio
    } else if iso_bmff {
        Verdict::Undecided
    } else if streams.lines().any(|l| l.trim() == "video") {
        Verdict::NotMedia("the media has no audio track".into())
    } else {
        Verdict::NotMedia("the media part is not a readable audio or video file".into())
    }
}
