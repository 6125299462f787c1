//! Media probing and decoding through Debian's `ffprobe`/`ffmpeg`, run as child processes.
//!
//! Why a subprocess rather than a Rust decoder: ffmpeg reads every container and codec clients
//! upload (WAV, MP3, FLAC, Ogg/Vorbis/Opus, M4A/AAC, MP4/MKV video), the pure-Rust decoders do
//! not (no Opus), and a crash or hang in a decoder fed hostile input stays in the child. Every
//! child runs under a deadline and is killed when its guard drops ([`sealscribe_ingress::child`]),
//! so a malformed file can never hang a worker. Every child is contained as
//! [`sealscribe_ingress::tools`] describes: only allow-listed audio/video demuxers (an HLS
//! playlist or concat list cannot make ffmpeg open other files), only the `file` protocol, input
//! paths as absolute `file:` URLs (a name like `http:x` is not a protocol), rlimits, an empty
//! environment and, where bubblewrap works, a sandbox that sees only the input.
//!
//! Limits come from the operator's configuration, never from the file: media longer than the
//! maximum duration is refused by [`probe`] before anything is decoded, decoding stops just past
//! that maximum even when a header understates the length, and the decode deadline is absolute.

use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use sealscribe_ingress::child::{self, Finished};
use sealscribe_ingress::tools;
use serde::Deserialize;

use crate::AsrError;

/// Sample rate whisper expects.
pub const SAMPLE_RATE: u32 = 16_000;

/// What ffprobe reports about a file, known before any recognition starts.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct MediaInfo {
    /// Container duration in milliseconds (0 when the container does not say).
    pub duration_ms: u64,
    /// Channels of the first audio stream.
    pub channels: u32,
    /// Codec of the first audio stream, e.g. `mp3`, `opus`, `aac`, `pcm_s16le`.
    pub codec: String,
    /// Sample rate of the first audio stream in Hz.
    pub sample_rate: u32,
    /// True when the file also has a (non-cover-art) video stream.
    pub has_video: bool,
    /// Number of audio streams (only the first is transcribed).
    pub audio_streams: u32,
    /// Container format as ffprobe names it, e.g. `wav`, `mov,mp4,m4a,3gp,3g2,mj2`.
    pub format: String,
}

#[derive(Deserialize)]
struct ProbeOut {
    #[serde(default)]
    streams: Vec<ProbeStream>,
    format: Option<ProbeFormat>,
}

#[derive(Deserialize)]
struct ProbeStream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    sample_rate: Option<String>,
    channels: Option<u32>,
    duration: Option<String>,
    #[serde(default)]
    disposition: Option<ProbeDisposition>,
}

#[derive(Deserialize)]
struct ProbeDisposition {
    #[serde(default)]
    attached_pic: u8,
}

#[derive(Deserialize)]
struct ProbeFormat {
    duration: Option<String>,
    format_name: Option<String>,
}

/// Runs `cmd` under a deadline, feeding stdout to `read_stdout` on a thread
/// ([`sealscribe_ingress::child`], shared with the upload sniff).
pub(crate) fn run_with_deadline<T: Send + 'static>(
    cmd: Command,
    tool: &'static str,
    timeout: Duration,
    read_stdout: impl FnOnce(std::process::ChildStdout) -> T + Send + 'static,
) -> Result<Finished<T>, AsrError> {
    Ok(child::run_with_deadline(cmd, tool, timeout, read_stdout)?)
}

/// The last meaningful line ffmpeg printed, for error messages.
/// The last diagnostic line, without the `file:/…: ` prefix ffmpeg puts before
/// errors about a file: that path is the server's, and the message reaches
/// the customer in the media document.
pub(crate) fn last_line(stderr: &str) -> String {
    let line = stderr
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("no diagnostic");
    match line
        .strip_prefix("file:")
        .and_then(|rest| rest.split_once(": "))
    {
        Some((_path, message)) => message.to_string(),
        None => line.to_string(),
    }
}

/// Absolute `file:` URL for ffmpeg: the path can then not be read as another protocol or an
/// option, and it is the path the sandbox makes visible.
pub(crate) fn file_url(path: &Path) -> std::ffi::OsString {
    let mut s = std::ffi::OsString::from("file:");
    s.push(tools::absolute(path).as_os_str());
    s
}

fn parse_ms(secs: Option<&str>) -> Option<u64> {
    let v: f64 = secs?.trim().parse().ok()?;
    (v.is_finite() && v >= 0.0).then(|| (v * 1000.0).round() as u64)
}

/// Reads the container and stream headers with ffprobe.
///
/// # Errors
/// [`AsrError::UnreadableMedia`] when ffprobe cannot read the file (or its container is not an
/// allow-listed one), [`AsrError::Io`] when it does not exist or is not a regular file,
/// [`AsrError::NoAudio`] when it has no audio stream, [`AsrError::TooLong`] when it lasts longer
/// than the configured maximum, [`AsrError::MediaTimeout`] after the configured probe deadline,
/// [`AsrError::ToolMissing`] when ffprobe is not installed.
pub fn probe(path: impl AsRef<Path>) -> Result<MediaInfo, AsrError> {
    let path = path.as_ref();
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {}
        // A missing file is the caller's bug (or storage trouble), not bad media from a client.
        Ok(_) => {
            return Err(AsrError::io(
                format!("{} is not a regular file", path.display()),
                std::io::Error::from(std::io::ErrorKind::InvalidInput),
            ));
        }
        Err(e) => {
            return Err(AsrError::io(
                format!("cannot open media file {}", path.display()),
                e,
            ));
        }
    }
    let tools = tools::current();
    let mut cmd = tools.command("ffprobe", Some(path));
    cmd.args(["-v", "error"])
        .args(tools::input_options("file"))
        .arg("-show_entries")
        .arg("format=duration,format_name:stream=codec_type,codec_name,sample_rate,channels,duration:stream_disposition=attached_pic")
        .args(["-of", "json"])
        .arg(file_url(path));
    let done = run_with_deadline(cmd, "ffprobe", tools.limits().probe_timeout, |mut o| {
        let mut v = Vec::new();
        let _ = o.read_to_end(&mut v);
        v
    })?;
    if !done.status.success() {
        return Err(AsrError::UnreadableMedia {
            detail: format!("ffprobe: {}", last_line(&done.stderr)),
        });
    }
    let parsed: ProbeOut =
        serde_json::from_slice(&done.stdout).map_err(|e| AsrError::UnreadableMedia {
            detail: format!("unexpected ffprobe output: {e}"),
        })?;
    let format = parsed.format.ok_or_else(|| AsrError::UnreadableMedia {
        detail: "ffprobe found no container format".into(),
    })?;
    let is_type = |s: &ProbeStream, t: &str| s.codec_type.as_deref() == Some(t);
    let audio: Vec<&ProbeStream> = parsed
        .streams
        .iter()
        .filter(|s| is_type(s, "audio"))
        .collect();
    let has_video = parsed
        .streams
        .iter()
        .any(|s| is_type(s, "video") && s.disposition.as_ref().is_none_or(|d| d.attached_pic == 0));
    let Some(first) = audio.first() else {
        let mut kinds: Vec<&str> = parsed
            .streams
            .iter()
            .map(|s| s.codec_type.as_deref().unwrap_or("unknown"))
            .collect();
        kinds.dedup();
        return Err(AsrError::NoAudio {
            streams: if kinds.is_empty() {
                "none".into()
            } else {
                kinds.join(", ")
            },
        });
    };
    let duration_ms = parse_ms(format.duration.as_deref())
        .or_else(|| parse_ms(first.duration.as_deref()))
        .unwrap_or(0);
    let max_ms = u64::try_from(tools.limits().max_duration.as_millis()).unwrap_or(u64::MAX);
    if duration_ms > max_ms {
        return Err(AsrError::TooLong {
            duration_ms,
            max_ms,
        });
    }
    Ok(MediaInfo {
        duration_ms,
        channels: first.channels.unwrap_or(0),
        codec: first.codec_name.clone().unwrap_or_else(|| "unknown".into()),
        sample_rate: first
            .sample_rate
            .as_deref()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        has_video,
        audio_streams: u32::try_from(audio.len()).unwrap_or(u32::MAX),
        format: format.format_name.unwrap_or_default(),
    })
}

/// An ffmpeg command reading only the first audio stream of `path`, contained, and stopping
/// one second past the maximum media duration (a header may understate the length); the caller
/// appends the output options (format, rate, channels, `-` for stdout).
pub(crate) fn ffmpeg_first_audio(path: &Path) -> Command {
    let tools = tools::current();
    let mut cmd = tools.command("ffmpeg", Some(path));
    cmd.args(["-nostdin", "-hide_banner", "-v", "error"])
        .args(tools::input_options("file"))
        .arg("-i")
        .arg(file_url(path))
        .args(["-map", "0:a:0", "-vn", "-sn", "-dn", "-t"])
        .arg((tools.limits().max_duration.as_secs() + 1).to_string());
    cmd
}

/// Deadline for one decode: the configured absolute limit, deliberately not derived from the
/// duration the file declares (an attacker writes that).
pub(crate) fn decode_timeout() -> Duration {
    tools::current().limits().decode_timeout
}

/// Decodes the first audio stream to 16 kHz mono f32 samples in -1..1 (channels are mixed).
///
/// Probes first, so an audio-less or unreadable file fails before ffmpeg is asked to decode.
/// The whole signal is returned in memory: 16 kHz mono f32 is 3.84 MB per minute.
///
/// # Errors
/// As [`probe`]; also [`AsrError::UnreadableMedia`] when ffmpeg fails or yields no samples.
pub fn decode_to_pcm16k(path: impl AsRef<Path>) -> Result<Vec<f32>, AsrError> {
    let info = probe(&path)?;
    decode_probed(path.as_ref(), &info)
}

/// Decodes a file already probed as `info` (saves a second ffprobe run).
pub fn decode_probed(path: &Path, info: &MediaInfo) -> Result<Vec<f32>, AsrError> {
    let mut cmd = ffmpeg_first_audio(path);
    cmd.args(["-ac", "1", "-ar", "16000", "-f", "s16le", "-"]);
    let done = run_with_deadline(cmd, "ffmpeg", decode_timeout(), |mut o| {
        let mut pcm = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut carry: Option<u8> = None;
        loop {
            let n = match o.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let mut bytes = &buf[..n];
            if let Some(lo) = carry.take() {
                pcm.push(f32::from(i16::from_le_bytes([lo, bytes[0]])) / 32768.0);
                bytes = &bytes[1..];
            }
            let mut chunks = bytes.chunks_exact(2);
            pcm.extend(
                chunks
                    .by_ref()
                    .map(|c| f32::from(i16::from_le_bytes([c[0], c[1]])) / 32768.0),
            );
            carry = chunks.remainder().first().copied();
        }
        pcm
    })?;
    if !done.status.success() {
        return Err(AsrError::UnreadableMedia {
            detail: format!("ffmpeg: {}", last_line(&done.stderr)),
        });
    }
    if done.stdout.is_empty() {
        return Err(AsrError::UnreadableMedia {
            detail: format!(
                "no audio could be decoded from the {} stream ({})",
                info.codec,
                last_line(&done.stderr)
            ),
        });
    }
    Ok(done.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_ms(Some("3.0005")), Some(3001));
        assert_eq!(parse_ms(Some("N/A")), None);
        assert_eq!(parse_ms(Some("-1")), None);
        assert_eq!(parse_ms(None), None);
    }

    #[test]
    fn last_line_skips_blanks() {
        assert_eq!(last_line("a\nInvalid data\n\n"), "Invalid data");
        assert_eq!(last_line(""), "no diagnostic");
        assert_eq!(
            last_line("x\nfile:/srv/data/blobs/media/1/original: Invalid data found\n"),
            "Invalid data found"
        );
    }
}
