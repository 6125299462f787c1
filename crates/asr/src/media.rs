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
    /// Number of audio streams (the first is transcribed, unless `ingest.tracks` picks others).
    pub audio_streams: u32,
    /// Channels of each audio stream, in order (`stream_channels[0] == channels`).
    pub stream_channels: Vec<u32>,
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
        stream_channels: audio.iter().map(|a| a.channels.unwrap_or(0)).collect(),
        format: format.format_name.unwrap_or_default(),
    })
}

/// Which audio of a file a decode reads: what recognition of one speaker's channel needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AudioSelection {
    /// The first audio stream, its channels mixed to one (the default).
    #[default]
    Mixed,
    /// Audio stream `stream` (counted from 0 among the file's audio streams), its channels
    /// mixed to one.
    Stream { stream: u32 },
    /// Channel `channel` (from 0; 0 is left in stereo) of audio stream `stream`, alone.
    Channel { stream: u32, channel: u32 },
}

impl AudioSelection {
    fn stream(self) -> u32 {
        match self {
            AudioSelection::Mixed => 0,
            AudioSelection::Stream { stream } | AudioSelection::Channel { stream, .. } => stream,
        }
    }
}

/// An ffmpeg command reading only the first audio stream of `path`, contained, and stopping
/// one second past the maximum media duration (a header may understate the length); the caller
/// appends the output options (format, rate, channels, `-` for stdout).
pub(crate) fn ffmpeg_first_audio(path: &Path) -> Command {
    ffmpeg_audio(path, 0)
}

/// As [`ffmpeg_first_audio`], reading audio stream `stream` instead.
fn ffmpeg_audio(path: &Path, stream: u32) -> Command {
    let tools = tools::current();
    let mut cmd = tools.command("ffmpeg", Some(path));
    cmd.args(["-nostdin", "-hide_banner", "-v", "error"])
        .args(tools::input_options("file"))
        .arg("-i")
        .arg(file_url(path))
        .arg("-map")
        .arg(format!("0:a:{stream}"))
        .args(["-vn", "-sn", "-dn", "-t"])
        .arg((tools.limits().max_duration.as_secs() + 1).to_string());
    cmd
}

/// The ffmpeg command decoding `selection` of `path` to 16 kHz mono s16le on stdout: one
/// channel is picked with the `pan` filter (no mixing, the speaker's channel as recorded),
/// otherwise ffmpeg mixes the stream's channels.
fn ffmpeg_pcm16k(path: &Path, selection: AudioSelection) -> Command {
    let mut cmd = ffmpeg_audio(path, selection.stream());
    if let AudioSelection::Channel { channel, .. } = selection {
        cmd.arg("-af").arg(format!("pan=mono|c0=c{channel}"));
    }
    cmd.args(["-ac", "1", "-ar", "16000", "-f", "s16le", "-"]);
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
    decode_selected(path, info, AudioSelection::Mixed)
}

/// As [`decode_probed`], decoding `selection` (one channel, or another audio stream).
///
/// # Errors
/// As [`decode_probed`].
pub fn decode_selected(
    path: &Path,
    info: &MediaInfo,
    selection: AudioSelection,
) -> Result<Vec<f32>, AsrError> {
    let cmd = ffmpeg_pcm16k(path, selection);
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

/// Samples per chunk a [`PcmStream`] hands out (1 s).
const STREAM_CHUNK: usize = SAMPLE_RATE as usize;
/// Chunks decoded ahead of the reader: how far ffmpeg may run ahead of recognition (8 s,
/// ≈ 0.5 MB), which bounds the memory decoding takes whatever the media's length.
const STREAM_LOOKAHEAD: usize = 8;

/// The first audio stream of a file (or the [`AudioSelection`] asked for), decoded by ffmpeg to
/// 16 kHz mono and read one chunk at a time, so that memory does not grow with the media's duration.
///
/// The decode deadline of [`decode_probed`] still applies, counted as the time the reader spends
/// *waiting* for ffmpeg: a hung or pathologically slow decoder is killed after the same budget,
/// while time spent recognising (ffmpeg blocked on a full pipe) does not count. ffmpeg is killed
/// when the stream is dropped, whatever path the caller leaves by.
pub struct PcmStream {
    child: Option<child::Streaming>,
    chunks: std::sync::mpsc::Receiver<Vec<f32>>,
    budget: Duration,
    waited: Duration,
    samples: u64,
    codec: String,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for PcmStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcmStream")
            .field("samples", &self.samples)
            .field("waited", &self.waited)
            .finish_non_exhaustive()
    }
}

impl PcmStream {
    /// Starts decoding a file already probed as `info`.
    ///
    /// # Errors
    /// [`AsrError::ToolMissing`] when ffmpeg cannot be started.
    pub fn open(path: &Path, info: &MediaInfo) -> Result<Self, AsrError> {
        Self::open_selected(path, info, AudioSelection::Mixed)
    }

    /// Starts decoding `selection` of a file already probed as `info`: one channel alone, or
    /// another audio stream, still 16 kHz mono and streamed.
    ///
    /// # Errors
    /// [`AsrError::ToolMissing`] when ffmpeg cannot be started.
    pub fn open_selected(
        path: &Path,
        info: &MediaInfo,
        selection: AudioSelection,
    ) -> Result<Self, AsrError> {
        let cmd = ffmpeg_pcm16k(path, selection);
        let (child, mut stdout) = child::spawn_streaming(cmd, "ffmpeg")?;
        let (tx, rx) = std::sync::mpsc::sync_channel(STREAM_LOOKAHEAD);
        let reader = std::thread::spawn(move || {
            let mut buf = vec![0u8; STREAM_CHUNK * 2];
            let mut filled = 0;
            loop {
                let n = match stdout.read(&mut buf[filled..]) {
                    Ok(0) | Err(_) => 0,
                    Ok(n) => n,
                };
                filled += n;
                if filled == buf.len() || (n == 0 && filled >= 2) {
                    let whole = filled / 2 * 2;
                    let chunk: Vec<f32> = buf[..whole]
                        .chunks_exact(2)
                        .map(|c| f32::from(i16::from_le_bytes([c[0], c[1]])) / 32768.0)
                        .collect();
                    buf.copy_within(whole..filled, 0);
                    filled -= whole;
                    // The receiver has gone: recognition stopped. Dropping stdout ends ffmpeg.
                    if tx.send(chunk).is_err() {
                        return;
                    }
                }
                if n == 0 {
                    return;
                }
            }
        });
        Ok(PcmStream {
            child: Some(child),
            chunks: rx,
            budget: decode_timeout(),
            waited: Duration::ZERO,
            samples: 0,
            codec: info.codec.clone(),
            reader: Some(reader),
        })
    }

    /// The next samples (up to 1 s), or `None` at the end of the stream.
    ///
    /// # Errors
    /// [`AsrError::MediaTimeout`] when ffmpeg has kept the reader waiting longer than the decode
    /// budget (it is killed).
    pub fn next_chunk(&mut self) -> Result<Option<Vec<f32>>, AsrError> {
        let left = self.budget.saturating_sub(self.waited);
        let started = std::time::Instant::now();
        let got = self.chunks.recv_timeout(left);
        self.waited += started.elapsed();
        match got {
            Ok(chunk) => {
                self.samples += chunk.len() as u64;
                Ok(Some(chunk))
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Ok(None),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                self.child.take(); // kills ffmpeg
                Err(AsrError::MediaTimeout {
                    tool: "ffmpeg",
                    seconds: self.budget.as_secs(),
                })
            }
        }
    }

    /// Samples handed out so far.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// After the last chunk: checks that ffmpeg succeeded and produced audio.
    ///
    /// # Errors
    /// [`AsrError::UnreadableMedia`] when ffmpeg failed or decoded nothing.
    pub fn finish(mut self) -> Result<(), AsrError> {
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        let Some(child) = self.child.take() else {
            return Ok(());
        };
        let done = child.finish(Duration::from_secs(10))?;
        if !done.status.success() {
            return Err(AsrError::UnreadableMedia {
                detail: format!("ffmpeg: {}", last_line(&done.stderr)),
            });
        }
        if self.samples == 0 {
            return Err(AsrError::UnreadableMedia {
                detail: format!(
                    "no audio could be decoded from the {} stream ({})",
                    self.codec,
                    last_line(&done.stderr)
                ),
            });
        }
        Ok(())
    }
}

impl Drop for PcmStream {
    fn drop(&mut self) {
        // Kill ffmpeg first: the reader thread then sees end of file and ends.
        self.child.take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 16 kHz s16le WAV with the given interleaved channels.
    fn wav(path: &Path, channels: &[Vec<f32>]) {
        let refs: Vec<&[f32]> = channels.iter().map(Vec::as_slice).collect();
        std::fs::write(path, sealscribe_testkit::wav::channels_f32(&refs)).unwrap();
    }

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
    }

    fn sine(amplitude: f32) -> Vec<f32> {
        (0..SAMPLE_RATE)
            .map(|i| amplitude * (i as f32 * 440.0 * std::f32::consts::TAU / 16_000.0).sin())
            .collect()
    }

    #[test]
    fn one_channel_or_one_stream_is_decoded_alone() {
        let dir = tempfile::tempdir().unwrap();
        let stereo = dir.path().join("stereo.wav");
        // Left a loud tone, right a quiet one: each selection must give its own level.
        wav(&stereo, &[sine(0.5), sine(0.1)]);
        let info = probe(&stereo).unwrap();
        assert_eq!((info.channels, info.audio_streams), (2, 1));
        assert_eq!(info.stream_channels, [2]);
        let level = |sel| rms(&decode_selected(&stereo, &info, sel).unwrap());
        let left = level(AudioSelection::Channel {
            stream: 0,
            channel: 0,
        });
        let right = level(AudioSelection::Channel {
            stream: 0,
            channel: 1,
        });
        let mixed = level(AudioSelection::Mixed);
        let half = 0.5 / 2f32.sqrt();
        assert!((left - half).abs() < 0.02, "left {left}");
        assert!((right - half / 5.0).abs() < 0.01, "right {right}");
        assert!(
            (mixed - left).abs() > 0.05,
            "mixed {mixed} is not the left alone"
        );
        // Streaming gives the same samples as decoding whole.
        let sel = AudioSelection::Channel {
            stream: 0,
            channel: 1,
        };
        let mut pcm = PcmStream::open_selected(&stereo, &info, sel).unwrap();
        let mut streamed = Vec::new();
        while let Some(c) = pcm.next_chunk().unwrap() {
            streamed.extend(c);
        }
        pcm.finish().unwrap();
        assert_eq!(streamed, decode_selected(&stereo, &info, sel).unwrap());

        // A container with two audio streams: the second is picked by its index.
        let (a, b) = (dir.path().join("a.wav"), dir.path().join("b.wav"));
        wav(&a, &[sine(0.5)]);
        wav(&b, &[sine(0.05), sine(0.05), sine(0.05)]);
        let mka = dir.path().join("two.mka");
        let o = std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(&a)
            .arg("-i")
            .arg(&b)
            .args(["-map", "0:a", "-map", "1:a", "-c:a", "pcm_s16le"])
            .arg(&mka)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let info = probe(&mka).unwrap();
        assert_eq!(info.stream_channels, [1, 3]);
        let second =
            rms(&decode_selected(&mka, &info, AudioSelection::Stream { stream: 1 }).unwrap());
        assert!(second < 0.1, "stream 1 is the quiet one: {second}");
        let first = rms(&decode_selected(&mka, &info, AudioSelection::Mixed).unwrap());
        assert!(first > 0.3, "stream 0 is the loud one: {first}");
    }

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
