//! A quick check, at upload time, that an upload is media at all.
//!
//! The first bytes of the upload (kept in memory while it streams to the blob
//! store) are piped to `ffprobe`. Nothing is written to disk, so the check
//! works for every blob store and for media that must never exist as
//! plaintext at rest. Containers that keep their index at the end (MP4/MOV
//! written without "faststart") cannot be judged from their head; they are
//! accepted and fully probed by the worker.
//!
//! ffprobe reads the head as it reads any customer media ([`crate::tools`]):
//! contained, from `pipe:` only, with the allow-listed demuxers only — an HLS
//! playlist or concat list uploaded as "media" is not media here either.

use std::io::Read;

use crate::child::{self, ChildError};
use crate::tools;

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
    let tools = tools::current();
    let mut cmd = tools.command("ffprobe", None);
    cmd.args(["-v", "error"])
        .args(tools::input_options("pipe"))
        .args([
            "-show_entries",
            "stream=codec_type",
            "-of",
            "csv=p=0",
            "-i",
            "pipe:0",
        ]);
    let read = |mut o: std::process::ChildStdout| {
        let mut v = Vec::new();
        let _ = o.read_to_end(&mut v);
        v
    };
    let timeout = tools.limits().probe_timeout;
    let output = match child::run_with_input(cmd, "ffprobe", timeout, head.to_vec(), read) {
        Ok(done) => done.stdout,
        Err(e @ ChildError::Spawn { .. }) => {
            tracing::error!("cannot run ffprobe: {e}");
            return Verdict::Undecided;
        }
        Err(_) => return Verdict::Undecided,
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_is_recognised_and_other_bytes_are_not() {
        // A positive control: 0.3 s of silence as WAV.
        let data_len = 3 * sealscribe_testkit::wav::RATE / 10 * 2;
        let mut wav = sealscribe_testkit::wav::header(data_len).to_vec();
        wav.resize(wav.len() + data_len as usize, 0);
        assert_eq!(sniff(&wav), Verdict::Audio);
        assert!(matches!(
            sniff(b"hello, this is not media"),
            Verdict::NotMedia(_)
        ));
        assert!(matches!(sniff(b""), Verdict::NotMedia(_)));
    }

    /// An HLS playlist naming a local audio file is not media: the sniff
    /// must not follow it to the file (which is audio, the control).
    #[test]
    fn a_playlist_pointing_at_local_audio_is_not_media() {
        let data_len = 3 * sealscribe_testkit::wav::RATE / 10 * 2;
        let mut wav = sealscribe_testkit::wav::header(data_len).to_vec();
        wav.resize(wav.len() + data_len as usize, 0);
        let victim = std::env::temp_dir().join(format!("sniff-victim-{}.wav", std::process::id()));
        std::fs::write(&victim, &wav).unwrap();
        assert_eq!(sniff(&wav), Verdict::Audio);
        let playlist = format!(
            "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nfile:{}\n#EXT-X-ENDLIST\n",
            victim.display()
        );
        let verdict = sniff(playlist.as_bytes());
        std::fs::remove_file(&victim).unwrap();
        assert!(matches!(verdict, Verdict::NotMedia(_)), "{verdict:?}");
    }
}
