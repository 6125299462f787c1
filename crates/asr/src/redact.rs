//! Audio redaction: a copy of the media in which given time ranges are replaced by a tone.
//!
//! The output is always WAV (PCM s16le at the input's own sample rate and channel count), as on
//! VoiceBase's platform, which also transcodes to WAV to redact: the redacted stream must be
//! playable everywhere, and re-encoding to a lossy codec would change every sample, while WAV
//! keeps everything outside the ranges sample-for-sample the decoded input.
//!
//! ffmpeg only decodes (see [`crate::media`] for why a child process); the tone is written here
//! rather than by an ffmpeg filter expression (`volume=enable='between(t,…)'` plus `sine`
//! mixing) because the samples are then exact and phase-continuous, and any number of ranges
//! costs nothing instead of growing one giant filter string. Memory stays flat: the PCM streams
//! through a 64 KiB buffer whatever the length of the media.
//!
//! [`redact_audio`] is blocking, CPU- and disk-bound work: call it from
//! `tokio::task::spawn_blocking` or a worker thread.

use std::f64::consts::TAU;
use std::fs::File;
use std::io::{BufWriter, ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::AsrError;
use crate::media::{MediaInfo, decode_timeout, ffmpeg_first_audio, last_line, run_with_deadline};

/// Bytes read from ffmpeg at a time (rounded down to whole frames).
const CHUNK: usize = 64 * 1024;

/// The RIFF size field (data + 36 header bytes) is a u32: the 4 GiB limit of WAV.
const MAX_DATA_BYTES: u64 = u32::MAX as u64 - 36;

/// Writes a copy of the media's first audio stream as a WAV file (PCM s16le, the input's own
/// sample rate and channel count) in which every range in `ranges` (milliseconds,
/// `[start, end)`) is replaced on all channels by a sine tone of `tone_hz` Hz at amplitude
/// `gain` × full scale; everything else is sample-for-sample the decoded input.
///
/// `info` is the [`crate::probe`] result for `input`. Ranges may be unsorted, overlapping,
/// empty or beyond the end. A frame at time `t` is replaced when `start ≤ t < end`; the tone is
/// `gain·32767·sin(2π·tone_hz·n/rate)` for absolute frame `n`, so it is phase-continuous across
/// adjacent ranges. `gain` is clamped to `0..=1`. Blocking: see the module documentation.
///
/// # Errors
/// [`AsrError::InvalidArgument`] when `tone_hz` is 0 or not below the Nyquist frequency or `gain`
/// is NaN; [`AsrError::UnreadableMedia`] / [`AsrError::MediaTimeout`] when ffmpeg cannot decode
/// the input; [`AsrError::Io`] when `out` cannot be written or would exceed WAV's 4 GiB. On error
/// a partly written `out` is removed.
pub fn redact_audio(
    input: &Path,
    info: &MediaInfo,
    ranges: &[(u64, u64)],
    tone_hz: u32,
    gain: f64,
    out: &Path,
) -> Result<(), AsrError> {
    let format = WavFormat::of(info)?;
    if tone_hz == 0 || u64::from(tone_hz) * 2 >= u64::from(format.rate) {
        return Err(AsrError::InvalidArgument(format!(
            "the redaction tone must be above 0 Hz and below the Nyquist frequency of the \
             {} Hz audio ({} Hz); got {tone_hz} Hz",
            format.rate,
            f64::from(format.rate) / 2.0
        )));
    }
    if gain.is_nan() {
        return Err(AsrError::InvalidArgument(
            "the redaction gain is NaN".into(),
        ));
    }
    let tone = Tone {
        hz: tone_hz,
        rate: format.rate,
        amplitude: gain.clamp(0.0, 1.0) * f64::from(i16::MAX),
    };
    let spans = frame_spans(ranges, format.rate);
    let file = File::create(out)
        .map_err(|e| AsrError::io(format!("cannot create {}", out.display()), e))?;
    let result = write_redacted(input, info, format, spans, tone, file, out);
    if result.is_err() {
        let _ = std::fs::remove_file(out);
    }
    result
}

/// Channel count and rate of the PCM written, as the WAV header states them.
#[derive(Clone, Copy)]
struct WavFormat {
    channels: u16,
    rate: u32,
}

impl WavFormat {
    fn of(info: &MediaInfo) -> Result<Self, AsrError> {
        let channels = u16::try_from(info.channels).unwrap_or(0);
        let byte_rate = u64::from(info.sample_rate) * u64::from(channels) * 2;
        if channels == 0 || channels > u16::MAX / 2 || byte_rate == 0 || byte_rate > MAX_DATA_BYTES
        {
            return Err(AsrError::UnreadableMedia {
                detail: format!(
                    "the audio stream has no usable format for WAV ({} channels at {} Hz)",
                    info.channels, info.sample_rate
                ),
            });
        }
        Ok(Self {
            channels,
            rate: info.sample_rate,
        })
    }

    fn frame_bytes(self) -> usize {
        usize::from(self.channels) * 2
    }

    /// The canonical 44-byte header of a PCM s16le WAV file with `data_len` bytes of samples.
    fn header(self, data_len: u32) -> Vec<u8> {
        let block_align = self.channels * 2;
        let mut h = Vec::with_capacity(44);
        h.extend_from_slice(b"RIFF");
        h.extend_from_slice(&(data_len + 36).to_le_bytes());
        h.extend_from_slice(b"WAVEfmt ");
        h.extend_from_slice(&16u32.to_le_bytes());
        h.extend_from_slice(&1u16.to_le_bytes()); // PCM
        h.extend_from_slice(&self.channels.to_le_bytes());
        h.extend_from_slice(&self.rate.to_le_bytes());
        h.extend_from_slice(&(self.rate * u32::from(block_align)).to_le_bytes());
        h.extend_from_slice(&block_align.to_le_bytes());
        h.extend_from_slice(&16u16.to_le_bytes());
        h.extend_from_slice(b"data");
        h.extend_from_slice(&data_len.to_le_bytes());
        h
    }
}

/// The replacement signal, a function of the absolute frame index.
#[derive(Clone, Copy)]
struct Tone {
    hz: u32,
    rate: u32,
    amplitude: f64,
}

impl Tone {
    fn sample(self, n: u64) -> [u8; 2] {
        // Reduce the phase in integers so it stays exact however long the media is.
        let cycles = (u128::from(self.hz) * u128::from(n)) % u128::from(self.rate);
        let phase = TAU * cycles as f64 / f64::from(self.rate);
        ((self.amplitude * phase.sin()).round() as i16).to_le_bytes()
    }
}

/// Millisecond ranges as sorted, disjoint, non-empty frame ranges `[first, end)`: frame `n`
/// (at `n / rate` s) is inside when `start ≤ n/rate·1000 < end`, i.e. `n ≥ ⌈start·rate/1000⌉`.
fn frame_spans(ranges: &[(u64, u64)], rate: u32) -> Vec<(u64, u64)> {
    let frame = |ms: u64| {
        let n = (u128::from(ms) * u128::from(rate)).div_ceil(1000);
        u64::try_from(n).unwrap_or(u64::MAX)
    };
    let mut spans: Vec<(u64, u64)> = ranges
        .iter()
        .map(|&(s, e)| (frame(s), frame(e)))
        .filter(|(s, e)| s < e)
        .collect();
    spans.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(spans.len());
    for (s, e) in spans {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

fn write_redacted(
    input: &Path,
    info: &MediaInfo,
    format: WavFormat,
    spans: Vec<(u64, u64)>,
    tone: Tone,
    file: File,
    out: &Path,
) -> Result<(), AsrError> {
    let write_err = |e| AsrError::io(format!("cannot write {}", out.display()), e);
    let mut w = BufWriter::new(file);
    w.write_all(&format.header(0)).map_err(write_err)?;
    let mut cmd = ffmpeg_first_audio(input);
    cmd.args(["-f", "s16le", "-acodec", "pcm_s16le", "-ar"])
        .arg(format.rate.to_string())
        .arg("-ac")
        .arg(format.channels.to_string())
        .arg("-");
    let out_path = out.to_path_buf();
    let done = run_with_deadline(cmd, "ffmpeg", decode_timeout(), move |pcm| {
        stream(pcm, w, &spans, tone, format.frame_bytes(), out_path)
    })?;
    // A write failure or the size limit kills ffmpeg through the closed pipe: report the cause.
    let (mut w, data_len) = done.stdout?;
    if !done.status.success() || data_len == 0 {
        return Err(AsrError::UnreadableMedia {
            detail: format!(
                "ffmpeg could not decode the {} stream: {}",
                info.codec,
                last_line(&done.stderr)
            ),
        });
    }
    w.seek(SeekFrom::Start(0)).map_err(write_err)?;
    w.write_all(&format.header(data_len)).map_err(write_err)?;
    w.flush().map_err(write_err)
}

/// Copies s16le PCM from `src` to `dst`, overwriting the frames inside `spans` with the tone.
/// Returns the writer and the number of data bytes written.
fn stream<W: Write>(
    mut src: impl Read,
    mut dst: W,
    spans: &[(u64, u64)],
    tone: Tone,
    frame: usize,
    out: PathBuf,
) -> Result<(W, u32), AsrError> {
    let io_err = |what: &str, e| AsrError::io(format!("{what} {}", out.display()), e);
    let mut buf = vec![0u8; (CHUNK / frame).max(1) * frame];
    let (mut filled, mut data_len, mut first_frame, mut next_span) = (0, 0u64, 0u64, 0);
    loop {
        let n = match src.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_err("cannot read decoded audio for", e)),
        };
        filled += n;
        let whole = filled / frame * frame;
        let block = &mut buf[..whole];
        let end_frame = first_frame + (whole / frame) as u64;
        while spans.get(next_span).is_some_and(|s| s.1 <= first_frame) {
            next_span += 1;
        }
        for &(s, e) in spans[next_span..].iter().take_while(|s| s.0 < end_frame) {
            for n in s.max(first_frame)..e.min(end_frame) {
                let at = (n - first_frame) as usize * frame;
                let v = tone.sample(n);
                for sample in block[at..at + frame].chunks_exact_mut(2) {
                    sample.copy_from_slice(&v);
                }
            }
        }
        data_len += whole as u64;
        if data_len > MAX_DATA_BYTES {
            let e = std::io::Error::new(ErrorKind::FileTooLarge, "WAV data is limited to 4 GiB");
            return Err(io_err("the redacted audio is too long for", e));
        }
        dst.write_all(block)
            .map_err(|e| io_err("cannot write", e))?;
        first_frame = end_frame;
        buf.copy_within(whole..filled, 0);
        filled -= whole;
    }
    Ok((dst, data_len as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    const TEXT: &str = "Please send the quarterly report to the finance team before Friday.";

    fn run(cmd: &mut Command) {
        let o = cmd.output().expect("the tool runs");
        assert!(
            o.status.success(),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    fn speak(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        run(Command::new("espeak-ng").arg("-w").arg(&path).arg(text));
        path
    }

    /// Interleaved s16 samples decoded by ffmpeg alone, independently of the code under test.
    fn decode(path: &Path, info: &MediaInfo) -> Vec<i16> {
        let (rate, ch) = (info.sample_rate.to_string(), info.channels.to_string());
        let o = Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(path)
            .args([
                "-map", "0:a:0", "-f", "s16le", "-ar", &rate, "-ac", &ch, "-",
            ])
            .output()
            .expect("ffmpeg runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o.stdout
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect()
    }

    /// Redacts `ranges` with 440 Hz at `gain`, checks the output is WAV in the input's format
    /// and length, and returns the input's info with the input's and the output's samples.
    fn redact(input: &Path, ranges: &[(u64, u64)], gain: f64) -> (MediaInfo, Vec<i16>, Vec<i16>) {
        let info = crate::probe(input).unwrap();
        let out = input.with_extension("redacted.wav");
        redact_audio(input, &info, ranges, 440, gain, &out).unwrap();
        let got = crate::probe(&out).unwrap();
        assert_eq!(
            (got.format.as_str(), got.codec.as_str()),
            ("wav", "pcm_s16le")
        );
        assert_eq!(
            (got.sample_rate, got.channels),
            (info.sample_rate, info.channels)
        );
        let (before, after) = (decode(input, &info), decode(&out, &info));
        assert_eq!(before.len(), after.len(), "sample count changed");
        (info, before, after)
    }

    /// Share of the energy of `x` at `hz` (Goertzel): 1.0 for a pure tone.
    fn tone_share(x: &[f64], hz: f64, rate: u32) -> f64 {
        let coeff = 2.0 * (TAU * hz / f64::from(rate)).cos();
        let (s1, s2) = x
            .iter()
            .fold((0.0, 0.0), |(s1, s2), v| (v + coeff * s1 - s2, s1));
        let power = (s1 * s1 + s2 * s2 - coeff * s1 * s2) * 2.0 / x.len() as f64;
        power / x.iter().map(|v| v * v).sum::<f64>()
    }

    /// Outside the `ms` ranges the samples are identical; inside, on every channel, sample `n` is
    /// `round(0.5·32767·sin(2π·440·n/rate))`, > 90 % of the energy is at 440 Hz, peak ≈ 0.5.
    fn assert_redacted(info: &MediaInfo, before: &[i16], after: &[i16], ms: &[(u64, u64)]) {
        let (ch, rate) = (info.channels as usize, info.sample_rate);
        let frame =
            |ms: u64| ((ms * u64::from(rate)).div_ceil(1000) as usize).min(after.len() / ch);
        let inside = |i: usize| {
            ms.iter()
                .any(|&(s, e)| (frame(s)..frame(e)).contains(&(i / ch)))
        };
        let diff = (0..before.len()).find(|&i| !inside(i) && before[i] != after[i]);
        assert_eq!(diff, None, "a sample outside the ranges changed");
        for &(s, e) in ms {
            for c in 0..ch {
                let x: Vec<f64> = (frame(s)..frame(e))
                    .map(|n| f64::from(after[n * ch + c]))
                    .collect();
                let want =
                    |n: usize| (16383.5 * (TAU * 440.0 * n as f64 / f64::from(rate)).sin()).round();
                let wrong = (frame(s)..frame(e)).find(|&n| x[n - frame(s)] != want(n));
                assert_eq!(
                    wrong, None,
                    "channel {c}: a frame in {s}..{e} ms is not the tone"
                );
                let share = tone_share(&x, 440.0, rate);
                assert!(
                    share > 0.9,
                    "channel {c} in {s}..{e} ms: 440 Hz share {share}"
                );
                let peak = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                assert!((peak / 16383.5 - 1.0).abs() < 0.02, "peak {peak}");
            }
        }
    }

    /// A reader that hands out 3 bytes at a time, so frames arrive split across reads.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(3).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn redact_stream_handles_split_frames() {
        let pcm: Vec<u8> = (0..100i16)
            .flat_map(|n| [n, -n])
            .flat_map(i16::to_le_bytes)
            .collect();
        let tone = Tone {
            hz: 1000,
            rate: 8000,
            amplitude: 1000.0,
        };
        // 8 frames per ms: frames 8..24 and 88..100 are inside.
        let spans = frame_spans(&[(2, 3), (1, 2), (11, 40), (5, 5)], 8000);
        assert_eq!(spans, [(8, 24), (88, 320)]);
        let (out, len) = stream(Trickle(&pcm), Vec::new(), &spans, tone, 4, "x".into()).unwrap();
        assert_eq!(len, 400);
        for (n, (got, was)) in out.chunks(4).zip(pcm.chunks(4)).enumerate() {
            let inside = (8..24).contains(&n) || n >= 88;
            let want = if inside {
                [tone.sample(n as u64); 2].concat()
            } else {
                was.to_vec()
            };
            assert_eq!(got, want, "frame {n}");
        }
    }

    #[test]
    fn redact_mono_speech() {
        let dir = tempfile::tempdir().unwrap();
        let speech = speak(dir.path(), "speech.wav", TEXT);
        let (info, before, after) = redact(&speech, &[(1000, 2000)], 0.5);
        assert_eq!((info.sample_rate, info.channels), (22_050, 1));
        assert_redacted(&info, &before, &after, &[(1000, 2000)]);
    }

    #[test]
    fn redact_stereo_on_both_channels() {
        let dir = tempfile::tempdir().unwrap();
        let a = speak(dir.path(), "a.wav", TEXT);
        let b = speak(
            dir.path(),
            "b.wav",
            "The train to the city was delayed by snow.",
        );
        let stereo = dir.path().join("stereo.wav");
        run(Command::new("sox").arg("-M").args([&a, &b, &stereo]));
        let (info, before, after) = redact(&stereo, &[(500, 1500)], 0.5);
        assert_eq!(info.channels, 2);
        assert!(
            before.chunks(2).any(|f| f[0] != f[1]),
            "the channels must differ"
        );
        assert_redacted(&info, &before, &after, &[(500, 1500)]);
    }

    #[test]
    fn redact_compressed_inputs_keep_their_rate() {
        let dir = tempfile::tempdir().unwrap();
        let speech = speak(dir.path(), "speech.wav", TEXT);
        let wav_ms = crate::probe(&speech).unwrap().duration_ms;
        for (name, rate) in [("speech.mp3", 22_050), ("speech.opus", 48_000)] {
            let coded = dir.path().join(name);
            run(Command::new("ffmpeg")
                .args(["-v", "error", "-i"])
                .args([&speech, &coded]));
            let (info, before, after) = redact(&coded, &[(1000, 2000)], 0.5);
            assert_eq!(info.sample_rate, rate, "{name}");
            let out_ms = after.len() as u64 * 1000 / u64::from(rate);
            assert!(
                out_ms.abs_diff(wav_ms) <= 50,
                "{name}: {out_ms} ms, source {wav_ms} ms"
            );
            assert_redacted(&info, &before, &after, &[(1000, 2000)]);
        }
    }

    #[test]
    fn redact_edge_cases() {
        let dir = tempfile::tempdir().unwrap();
        let speech = speak(dir.path(), "speech.wav", TEXT);
        let (info, before, after) = redact(&speech, &[], 0.5);
        assert!(before == after, "no ranges must mean an identical copy");
        let end = info.duration_ms;
        let messy = [
            (1000, 1500),
            (500, 1200),
            (3000, 2000),
            (0, 0),
            (end - 300, end + 9),
            (end, u64::MAX),
        ];
        let (_, before, after) = redact(&speech, &messy, 0.5);
        assert_redacted(&info, &before, &after, &[(500, 1500), (end - 300, end + 9)]);
        let (_, _, loud) = redact(&speech, &[(1000, 2000)], 7.0);
        assert_eq!(
            loud.iter().map(|v| v.unsigned_abs()).max(),
            Some(32767),
            "gain clamps to 1"
        );

        let out = dir.path().join("bad.wav");
        for (hz, gain) in [(0, 0.5), (11_025, 0.5), (440, f64::NAN)] {
            let e = redact_audio(&speech, &info, &[(0, 10)], hz, gain, &out).unwrap_err();
            assert!(
                matches!(e, AsrError::InvalidArgument(_)) && !e.is_bad_media(),
                "{e}"
            );
        }
        let text = dir.path().join("notes.wav");
        std::fs::write(&text, "not audio").unwrap();
        let e = redact_audio(&text, &info, &[], 440, 0.5, &out).unwrap_err();
        assert!(e.is_bad_media(), "{e}");
        assert!(
            !out.exists(),
            "a failed redaction must not leave a file behind"
        );
    }
}
