//! Cutting streamed audio into windows whisper can take (≤ 30 s).
//!
//! With voice activity detection (the default) the [`WindowPlanner`] keeps only speech: Silero's
//! segments, padded, joined across short pauses, each window mapped back to media time by its
//! [`TimeMap`]; silence, hold music and noise are never recognised. Without it, and for speech
//! longer than a window, the cut is placed at a pause, as follows.
//!
//! Whisper's encoder sees exactly 30 s; longer media must be cut. A cut inside a word loses or
//! duplicates it, so each cut is placed in the quietest 200 ms stretch of the last 5 s of the
//! window (speech has gaps between words and sentences; music and noise at least have dips).
//! Windows are contiguous and non-overlapping, so every sample is heard exactly once and the
//! words of window *k* simply get the window's start time added.

use std::ops::Range;

use crate::AsrError;
use crate::media::SAMPLE_RATE;

const SR: usize = SAMPLE_RATE as usize;
/// Longest window: whisper's 30 s context.
pub const MAX_WINDOW: usize = 30 * SR;
/// Separate speech segments are packed into a window only up to this length (28 s), leaving
/// whisper's last 2 s free: whisper was trained on 30 s chunks whose last utterance is often
/// cut off, and with a sentence ending at 29.6 s of a 29.8 s window it dropped that sentence's
/// first word ("The children played…" → "children played…") where raw whisper.cpp, seeking
/// from its last timestamp, did not (docs/benchmarks.md, "Pipeline vs raw whisper").
pub const PACK_LIMIT: usize = 28 * SR;
/// How far back from the 30 s limit a cut may be placed.
const SEARCH: usize = 5 * SR;
/// Energy frame: 20 ms.
const FRAME: usize = SR / 50;
/// Frames in the quiet stretch a cut is centred on (200 ms).
const QUIET_FRAMES: usize = 10;

/// Mean square of a frame.
fn energy(frame: &[f32]) -> f64 {
    frame
        .iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum::<f64>()
        / frame.len().max(1) as f64
}

/// Where to cut `pcm` (longer than `limit` samples) so that the piece before the cut is at most
/// `limit` long: the middle of the quietest 200 ms of the last five seconds before `limit`.
pub fn quiet_cut(pcm: &[f32], limit: usize) -> usize {
    let limit = limit.min(pcm.len());
    let region_start = limit.saturating_sub(SEARCH);
    let frames: Vec<f64> = pcm[region_start..limit].chunks(FRAME).map(energy).collect();
    let mut best = (f64::INFINITY, 0);
    for k in 0..=frames.len().saturating_sub(QUIET_FRAMES) {
        let sum: f64 = frames[k..(k + QUIET_FRAMES).min(frames.len())].iter().sum();
        // `<=`: among equally quiet stretches take the latest, for fewer, longer windows.
        if sum <= best.0 {
            best = (sum, k);
        }
    }
    (region_start + (best.1 + QUIET_FRAMES / 2) * FRAME).clamp(1, limit)
}

/// True when a window holds no sound worth recognising: fewer than 100 ms of 20 ms frames rise
/// above -50 dBFS. Whisper invents words ("Thank you.") for digital silence; skipping such
/// windows avoids that and saves the compute.
pub fn is_silent(pcm: &[f32]) -> bool {
    const LOUD: f64 = 0.003 * 0.003; // -50 dBFS RMS
    pcm.chunks(FRAME).filter(|f| energy(f) > LOUD).count() < 5
}

/// Where a token stands in its utterance, which tells which way whisper's timing is off when
/// it places the token in silence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// First of a whisper segment or after sentence-final punctuation: whisper starts segments
    /// where the previous speech ended, so these lead by the length of the pause.
    Opens,
    /// Last before sentence-final punctuation or the end of a segment: these tend to lag.
    Closes,
    /// Anything else.
    Inner,
}

/// Where the signal is loud, in 10 ms frames: used to move token boundaries that whisper
/// placed in silence onto the speech.
///
/// Whisper starts a segment where the previous one ended, so after a pause the segment's first
/// word appears to start early by the length of the pause (up to a second in tests), and a
/// word's end often runs on into the following silence. With the signal at hand this is cheap
/// to correct. "Loud" is above both -50 dBFS and three times the noise floor (the 10th
/// percentile of frame levels), so recordings with background noise work too.
pub struct SpeechMap {
    loud: Vec<bool>,
    /// With VAD, the first frame of each speech segment ([`SpeechMap::restrict`]).
    onsets: Vec<usize>,
}

impl SpeechMap {
    const FRAME: usize = SR / 100;
    /// Measures `pcm` (16 kHz).
    pub fn new(pcm: &[f32]) -> Self {
        let rms: Vec<f64> = pcm.chunks(Self::FRAME).map(|f| energy(f).sqrt()).collect();
        let mut sorted = rms.clone();
        sorted.sort_by(f64::total_cmp);
        let floor = sorted.get(sorted.len() / 10).copied().unwrap_or(0.0);
        let threshold = (floor * 3.0).max(0.003);
        SpeechMap {
            loud: rms.iter().map(|&r| r > threshold).collect(),
            onsets: Vec::new(),
        }
    }

    fn is_loud(&self, k: usize) -> bool {
        self.loud.get(k).copied().unwrap_or(false)
    }

    /// Counts as sound only what also lies inside `speech` (sample ranges of the same signal):
    /// with VAD, the padding around segments may hold music or noise, which must not hold a
    /// word whisper placed there. The segments' onsets are kept for openers (see
    /// [`SpeechMap::snap`]).
    pub fn restrict(&mut self, speech: &[Range<usize>]) {
        for (k, loud) in self.loud.iter_mut().enumerate() {
            let at = k * Self::FRAME;
            *loud &= speech.iter().any(|r| r.start <= at && at < r.end);
        }
        self.onsets = speech
            .iter()
            .filter(|r| !r.is_empty())
            .map(|r| r.start.div_ceil(Self::FRAME))
            .collect();
    }

    /// Adjusts one token span (absolute ms):
    /// * with VAD, a token opening an utterance whose span runs over the onset of a speech
    ///   segment starts at that onset: segments are separated by at least the detector's
    ///   minimum silence (500 ms), which no word spans, and whisper stretches an opener back
    ///   over the pause, sometimes into the last frames of the previous sentence (in the
    ///   3-minute test, "Remember" started 70 ms before the end of the segment before it,
    ///   763 ms before it was spoken), where the energy rule below cannot see the pause;
    /// * a start in silence moves forward to the first loud frame inside the span;
    /// * a span wholly in silence moves, keeping its length, onto sound in the direction its
    ///   `role` says (see [`Role`]): forward by up to 2 s for a token opening an utterance,
    ///   back by up to 1 s for one closing it, to the nearer sound within 1 s otherwise;
    /// * an end in silence moves back to the last loud frame inside the span.
    ///
    /// A span with no sound in reach is left alone.
    pub fn snap(&self, s_ms: u64, e_ms: u64, role: Role) -> (u64, u64) {
        const REACH: usize = 100; // 1 s
        const OPENER_REACH: usize = 200; // 2 s
        if self.loud.is_empty() {
            return (s_ms, e_ms);
        }
        let last = self.loud.len() - 1;
        let to_frame = |ms: u64| usize::try_from(ms / 10).unwrap_or(usize::MAX).min(last);
        let (mut s, mut e) = (to_frame(s_ms), to_frame(e_ms.max(s_ms)));
        if role == Role::Opens
            && let Some(&onset) = self.onsets.iter().rev().find(|&&o| s < o && o < e)
        {
            s = onset;
        }
        let first_loud =
            |r: std::ops::RangeInclusive<usize>| r.into_iter().find(|&k| self.is_loud(k));
        if !self.is_loud(s) {
            if let Some(k) = first_loud(s..=e) {
                s = k;
            } else {
                let len = (e - s).max(1);
                let fwd = match role {
                    Role::Opens => first_loud(e..=(s + OPENER_REACH).min(last)),
                    Role::Closes => None,
                    Role::Inner => first_loud(e..=(e + REACH).min(last)),
                };
                let back = match role {
                    Role::Opens => None,
                    Role::Closes | Role::Inner => (s.saturating_sub(REACH)..s)
                        .rev()
                        .find(|&k| self.is_loud(k)),
                };
                match (back, fwd) {
                    (Some(b), Some(f)) if s - b <= f - e => {
                        (s, e) = ((b + 1).saturating_sub(len), b + 1)
                    }
                    (Some(b), None) => (s, e) = ((b + 1).saturating_sub(len), b + 1),
                    (_, Some(f)) => (s, e) = (f, f + len),
                    (None, None) => {}
                }
            }
        }
        if e > s
            && !self.is_loud(e - 1)
            && let Some(k) = (s..e).rev().find(|&k| self.is_loud(k))
        {
            e = k + 1;
        }
        let (s, e) = (s as u64 * 10, e as u64 * 10);
        (s, e.max(s))
    }
}

/// Voice-activity settings of the [`WindowPlanner`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VadParams {
    /// A frame at or above this speech probability is speech (Silero's default, 0.5).
    pub threshold: f32,
    /// Speech ends after this much audio below `threshold - 0.15` (shorter pauses stay inside
    /// the segment, so words and sentences keep their natural gaps).
    pub min_silence_ms: u64,
    /// Shorter bursts are dropped as clicks and noise.
    pub min_speech_ms: u64,
    /// A segment must also hold this much audio at or above `threshold` (not merely between the
    /// two thresholds): the onset of hold music can briefly look like speech, then hover just
    /// under the threshold for a while.
    pub min_voiced_ms: u64,
    /// Audio kept on each side of a segment, so that soft word onsets and endings are heard.
    pub pad_ms: u64,
}

impl Default for VadParams {
    fn default() -> Self {
        VadParams {
            threshold: 0.5,
            min_silence_ms: 500,
            min_speech_ms: 250,
            min_voiced_ms: 200,
            pad_ms: 200,
        }
    }
}

const fn ms_to_samples(ms: u64) -> u64 {
    ms * SR as u64 / 1000
}

/// Silero's hysteresis over a stream of per-frame speech probabilities: speech starts at a
/// frame ≥ `threshold` and ends after `min_silence_ms` below `threshold - 0.15`.
#[derive(Debug)]
struct Segmenter {
    params: VadParams,
    /// Sample position of the next frame.
    pos: u64,
    start: Option<u64>,
    silence_since: Option<u64>,
    /// Samples at or above the threshold in the open segment.
    voiced: u64,
}

impl Segmenter {
    fn new(params: VadParams) -> Self {
        Segmenter {
            params,
            pos: 0,
            start: None,
            silence_since: None,
            voiced: 0,
        }
    }

    fn keep(&mut self, seg: std::ops::Range<u64>) -> Option<std::ops::Range<u64>> {
        let voiced = std::mem::take(&mut self.voiced);
        (seg.end - seg.start >= ms_to_samples(self.params.min_speech_ms)
            && voiced >= ms_to_samples(self.params.min_voiced_ms))
        .then_some(seg)
    }

    /// Takes the next frame's probability; returns a speech segment (samples) it closes.
    fn push(&mut self, p: f32) -> Option<std::ops::Range<u64>> {
        let at = self.pos;
        self.pos += FRAME_VAD;
        let neg = (self.params.threshold - 0.15).max(0.01);
        if p >= self.params.threshold {
            self.silence_since = None;
            self.start.get_or_insert(at);
            self.voiced += FRAME_VAD;
            return None;
        }
        let start = self.start?;
        if p < neg {
            let since = *self.silence_since.get_or_insert(at);
            if self.pos - since >= ms_to_samples(self.params.min_silence_ms) {
                self.start = None;
                self.silence_since = None;
                return self.keep(start..since);
            }
        }
        None
    }

    /// Closes the open segment at `end` (the end of the audio).
    fn finish(&mut self, end: u64) -> Option<std::ops::Range<u64>> {
        let start = self.start.take()?;
        let end = self.silence_since.take().unwrap_or(end).min(end);
        self.keep(start..end)
    }
}

const FRAME_VAD: u64 = crate::vad::FRAME as u64;

/// One contiguous stretch of media inside a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    /// First sample inside the window.
    pub at: usize,
    /// First sample in the media.
    pub media: u64,
    /// Length in samples.
    pub len: usize,
}

/// Window time → media time, for windows assembled from several stretches of the media.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TimeMap {
    pieces: Vec<Piece>,
}

impl TimeMap {
    /// The stretches, in window order.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// Media time (ms) where the window starts.
    pub fn start_ms(&self) -> u64 {
        self.pieces
            .first()
            .map_or(0, |p| p.media * 1000 / SR as u64)
    }

    /// Maps a span in window time (ms) to media time (ms). The span goes with the piece its
    /// start falls in — or, for a start in the [`PIECE_GAP`] before a piece, that piece — and
    /// an end past that piece is pulled back to its end, so a word never stretches over the
    /// media left out between two pieces.
    pub fn to_media_ms(&self, s_ms: u64, e_ms: u64) -> (u64, u64) {
        if self.pieces.is_empty() {
            return (s_ms, e_ms);
        }
        let to_sample = |ms: u64| usize::try_from(ms * SR as u64 / 1000).unwrap_or(usize::MAX);
        let s = to_sample(s_ms);
        let p = self
            .pieces
            .iter()
            .find(|p| s < p.at + p.len)
            .unwrap_or(&self.pieces[self.pieces.len() - 1]);
        let end = p.at + p.len;
        let local = |x: usize| x.clamp(p.at, end) - p.at;
        let ms = |x: usize| (p.media + local(x) as u64) * 1000 / SR as u64;
        (ms(s), ms(to_sample(e_ms).max(s)))
    }
}

/// A window ready for recognition: ≤ [`MAX_WINDOW`] samples and where they came from.
#[derive(Clone, Debug, Default)]
pub struct PlannedWindow {
    /// 16 kHz mono samples.
    pub audio: Vec<f32>,
    /// Where each stretch of `audio` lies in the media.
    pub map: TimeMap,
    /// With VAD, the sample ranges of `audio` judged speech (without the padding).
    pub speech: Option<Vec<Range<usize>>>,
}

/// Digital silence put between two pieces that are not contiguous in the media (300 ms): whisper
/// then hears a pause there, ends its segment and starts the next on the next piece's speech,
/// instead of running one sentence into the other.
pub const PIECE_GAP: usize = 3 * SR / 10;

impl PlannedWindow {
    fn push(&mut self, media: u64, samples: &[f32]) {
        match self.map.pieces.last_mut() {
            Some(p) if p.media + p.len as u64 == media => p.len += samples.len(),
            last => {
                if last.is_some() {
                    self.audio.extend(std::iter::repeat_n(0.0, PIECE_GAP));
                }
                self.map.pieces.push(Piece {
                    at: self.audio.len(),
                    media,
                    len: samples.len(),
                });
            }
        }
        self.audio.extend_from_slice(samples);
    }
}

/// Speech segments separated by at most this much non-speech (2 s, after padding) share a
/// window, with the pause between them: the pauses of a conversation stay in, so that whisper
/// hears turns in context and its timing stays anchored to real audio. Longer stretches —
/// waiting, hold music, silence — end the window and are never recognised.
const JOIN_GAP: u64 = 2 * SR as u64;

/// Dead audio is dropped from the planner's buffer in steps of this many samples (10 s).
const TRIM_STEP: usize = 10 * SR;

/// Audio processed by the detector in one call, in frames (≈ 10 s).
const VAD_BLOCK: u64 = 320 * FRAME_VAD;
/// Audio before each block the detector is given again, so that its LSTM memory has settled
/// when the block starts (≈ 1 s); its probabilities are discarded.
const VAD_LEAD: u64 = 32 * FRAME_VAD;

/// Turns a stream of 16 kHz samples into recognition windows, holding only a bounded amount of
/// audio whatever the media's length.
///
/// With a [`SpeechDetector`](crate::vad::SpeechDetector) (voice activity detection on):
/// * the detector runs over ≈ 10 s blocks as audio arrives and its probabilities are turned into
///   speech segments (Silero's hysteresis, [`VadParams`]);
/// * each closed segment, padded, is copied into the window being filled; when the next one
///   would not fit in [`PACK_LIMIT`], that window is complete. Segments are never split across
///   windows unless a single stretch of speech is longer than a window: then it is cut at its
///   quietest point as without VAD;
/// * everything else (silence, music, noise) is never copied and never recognised; the window's
///   [`TimeMap`] maps word times back to the media.
///
/// Without a detector: contiguous windows cut at pauses ([`quiet_cut`]) as the audio arrives.
///
/// The planner holds at most the open speech segment (≤ a window), one window being filled and
/// ≈ 1 s of detector lead-in: a few MB for an hour or a day of audio.
pub struct WindowPlanner<'d> {
    detector: Option<&'d mut dyn crate::vad::SpeechDetector>,
    params: VadParams,
    /// Buffered audio; `buf[0]` is media sample `buf_start`.
    buf: Vec<f32>,
    buf_start: u64,
    /// Media samples received so far.
    total: u64,
    /// Media samples the detector has judged.
    judged: u64,
    seg: Segmenter,
    /// End (media samples) of the last audio copied into a window.
    copied_to: u64,
    filling: PlannedWindow,
}

impl std::fmt::Debug for WindowPlanner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WindowPlanner")
            .field("vad", &self.detector.is_some())
            .field("buffered", &self.buf.len())
            .field("total", &self.total)
            .finish_non_exhaustive()
    }
}

impl<'d> WindowPlanner<'d> {
    /// A planner using `detector` for voice activity detection, or none to recognise everything.
    pub fn new(
        detector: Option<&'d mut dyn crate::vad::SpeechDetector>,
        params: VadParams,
    ) -> Self {
        WindowPlanner {
            detector,
            params,
            buf: Vec::new(),
            buf_start: 0,
            total: 0,
            judged: 0,
            seg: Segmenter::new(params),
            copied_to: 0,
            filling: PlannedWindow::default(),
        }
    }

    /// Samples currently held (for memory checks).
    pub fn buffered(&self) -> usize {
        self.buf.len() + self.filling.audio.len()
    }

    fn slice(&self, r: std::ops::Range<u64>) -> &[f32] {
        let a = usize::try_from(r.start.saturating_sub(self.buf_start)).unwrap_or(usize::MAX);
        let b = usize::try_from(r.end.saturating_sub(self.buf_start)).unwrap_or(usize::MAX);
        &self.buf[a.min(self.buf.len())..b.min(self.buf.len())]
    }

    /// Adds the next samples; complete windows are appended to `out`.
    ///
    /// # Errors
    /// The detector's errors.
    pub fn push(&mut self, pcm: &[f32], out: &mut Vec<PlannedWindow>) -> Result<(), AsrError> {
        self.buf.extend_from_slice(pcm);
        self.total += pcm.len() as u64;
        if self.detector.is_none() {
            while self.total - self.copied_to > MAX_WINDOW as u64 {
                let from = self.copied_to;
                let cut = quiet_cut(self.slice(from..self.total), MAX_WINDOW) as u64;
                self.emit_range(from..from + cut, out);
            }
        } else {
            while self.total - self.judged >= VAD_BLOCK {
                self.judge(self.judged + VAD_BLOCK, out)?;
            }
        }
        self.trim();
        Ok(())
    }

    /// Ends the stream: the rest of the audio is judged and the last windows appended to `out`.
    ///
    /// # Errors
    /// The detector's errors.
    pub fn finish(mut self, out: &mut Vec<PlannedWindow>) -> Result<(), AsrError> {
        if self.detector.is_none() {
            self.emit_range(self.copied_to..self.total, out);
        } else {
            if self.total > self.judged {
                self.judge(self.total, out)?;
            }
            if let Some(seg) = self.seg.finish(self.total) {
                self.add_segment(seg, true, out);
            }
        }
        if !self.filling.audio.is_empty() {
            out.push(std::mem::take(&mut self.filling));
        }
        Ok(())
    }

    /// Without VAD: one contiguous window.
    fn emit_range(&mut self, r: std::ops::Range<u64>, out: &mut Vec<PlannedWindow>) {
        if r.is_empty() {
            return;
        }
        let mut w = PlannedWindow::default();
        w.push(r.start, self.slice(r.clone()));
        self.copied_to = r.end;
        out.push(w);
    }

    /// Runs the detector up to `to` (a block, or the end of the audio).
    fn judge(&mut self, to: u64, out: &mut Vec<PlannedWindow>) -> Result<(), AsrError> {
        let from = self.judged;
        let lead = VAD_LEAD.min((from - self.buf_start) / FRAME_VAD * FRAME_VAD);
        let input = self.slice(from - lead..to).to_vec();
        let Some(detector) = self.detector.as_deref_mut() else {
            return Ok(());
        };
        let probs = detector.speech_probabilities(&input)?;
        let skip = usize::try_from(lead / FRAME_VAD).unwrap_or(0);
        let frames = usize::try_from((to - from).div_ceil(FRAME_VAD)).unwrap_or(0);
        for &p in probs.iter().skip(skip).take(frames) {
            if let Some(seg) = self.seg.push(p) {
                self.add_segment(seg, true, out);
            }
            // No segment can join the window being filled any more: it is complete.
            let pad = ms_to_samples(self.params.pad_ms);
            let next_start = self.seg.start.unwrap_or(self.seg.pos).saturating_sub(pad);
            if !self.filling.audio.is_empty() && next_start > self.copied_to + JOIN_GAP {
                out.push(std::mem::take(&mut self.filling));
            }
            // Bound the open segment: speech longer than a window is cut at its quietest point.
            let limit = MAX_WINDOW as u64 - 2 * ms_to_samples(self.params.pad_ms);
            while let Some(start) = self.seg.start
                && self.seg.pos.min(to) - start > limit
            {
                let cut = start
                    + quiet_cut(self.slice(start..self.seg.pos.min(to)), limit as usize) as u64;
                // No padding on either side of the cut: every sample is heard once.
                self.add_segment(start..cut, false, out);
                self.seg.start = Some(cut);
            }
        }
        self.judged = to;
        Ok(())
    }

    /// Copies a speech segment, padded (at its end only when `pad_end`), into the window being
    /// filled.
    fn add_segment(
        &mut self,
        seg: std::ops::Range<u64>,
        pad_end: bool,
        out: &mut Vec<PlannedWindow>,
    ) {
        let pad = ms_to_samples(self.params.pad_ms);
        let start = seg
            .start
            .saturating_sub(pad)
            .max(self.copied_to)
            .max(self.buf_start);
        let end = (seg.end + if pad_end { pad } else { 0 })
            .min(self.total)
            .max(start);
        // Join the window being filled, with the pause in between, when the pause is short
        // and the whole fits; otherwise that window is complete.
        let joins = !self.filling.audio.is_empty()
            && start - self.copied_to <= JOIN_GAP
            && self.filling.audio.len()
                + usize::try_from(end - self.copied_to).unwrap_or(usize::MAX)
                <= PACK_LIMIT;
        if !joins && !self.filling.audio.is_empty() {
            out.push(std::mem::take(&mut self.filling));
        }
        let start = if joins { self.copied_to } else { start };
        let audio = self.slice(start..end).to_vec();
        self.filling.push(start, &audio);
        let at = self.filling.audio.len() - audio.len();
        let local = |x: u64| at + usize::try_from(x.clamp(start, end) - start).unwrap_or(0);
        self.filling
            .speech
            .get_or_insert_with(Vec::new)
            .push(local(seg.start)..local(seg.end));
        self.copied_to = end;
    }

    /// Drops audio nothing will need again: before the open segment's padding, the last copied
    /// sample and the detector's lead-in. Done in large steps so that it costs O(1) per sample.
    fn trim(&mut self) {
        let pad = ms_to_samples(self.params.pad_ms);
        let mut keep = self.copied_to;
        if self.detector.is_some() {
            keep = self.judged.saturating_sub(VAD_LEAD);
            if let Some(s) = self.seg.start {
                keep = keep.min(s.saturating_sub(pad));
            }
            if !self.filling.audio.is_empty() {
                keep = keep.min(self.copied_to); // the pause a next segment may join across
            }
        }
        let drop = usize::try_from(keep.saturating_sub(self.buf_start)).unwrap_or(0);
        if drop >= TRIM_STEP.min(self.buf.len()) && drop > 0 {
            self.buf.drain(..drop);
            self.buf_start += drop as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(secs: f64) -> Vec<f32> {
        (0..(secs * SR as f64) as usize)
            .map(|i| 0.3 * (i as f32 * 0.05).sin())
            .collect()
    }

    /// The media ranges of the windows the planner makes without VAD (each one piece).
    fn plan_windows(pcm: &[f32]) -> Vec<Range<usize>> {
        let (w, _) = plan(pcm, false, 9_999);
        w.iter()
            .map(|w| {
                assert_eq!(
                    w.map.pieces().len(),
                    1,
                    "without VAD a window is contiguous"
                );
                let p = w.map.pieces()[0];
                let m = usize::try_from(p.media).unwrap();
                m..m + p.len
            })
            .collect()
    }

    /// Short audio is one window; empty audio none.
    #[test]
    fn short_audio_is_one_window() {
        assert_eq!(plan_windows(&tone(12.0)), vec![0..12 * SR]);
        assert!(plan_windows(&[]).is_empty());
    }

    /// Long audio: contiguous windows covering everything, none longer than 30 s, and the cut
    /// lands in the pause placed 27 s in.
    #[test]
    fn long_audio_is_cut_in_pauses() {
        let mut pcm = tone(27.0);
        pcm.extend(std::iter::repeat_n(0.0, SR / 2)); // pause 27.0–27.5 s
        pcm.extend(tone(40.0));
        let w = plan_windows(&pcm);
        assert_eq!(w.first().unwrap().start, 0);
        assert_eq!(w.last().unwrap().end, pcm.len());
        assert!(w.windows(2).all(|p| p[0].end == p[1].start));
        assert!(w.iter().all(|r| r.len() <= MAX_WINDOW && !r.is_empty()));
        let cut = w[0].end as f64 / SR as f64;
        assert!((27.0..=27.5).contains(&cut), "cut at {cut}");
    }

    /// Without any pause, windows still never exceed 30 s.
    #[test]
    fn continuous_audio_is_still_bounded() {
        let pcm = tone(95.0);
        let w = plan_windows(&pcm);
        assert!(w.len() >= 4);
        assert!(w.iter().all(|r| r.len() <= MAX_WINDOW));
        assert_eq!(w.iter().map(|r| r.len()).sum::<usize>(), pcm.len());
    }

    /// Spans in the silence before and after a sound move onto it; a start inside the sound
    /// stays; an end in the following silence is pulled back; nothing in reach, no change.
    #[test]
    fn boundaries_snap_onto_speech() {
        let mut pcm = vec![0.0; SR]; // 0–1 s silence
        pcm.extend(tone(0.5)); // 1.0–1.5 s sound
        pcm.extend(vec![0.0; 3 * SR / 2]); // 1.5–3.0 s silence
        let map = SpeechMap::new(&pcm);
        assert_eq!(
            map.snap(400, 600, Role::Opens),
            (1_000, 1_200),
            "opener moved forward"
        );
        assert_eq!(
            map.snap(400, 600, Role::Inner),
            (1_000, 1_200),
            "nearest sound is ahead"
        );
        assert_eq!(
            map.snap(400, 600, Role::Closes),
            (400, 600),
            "closers never move forward"
        );
        assert_eq!(
            map.snap(400, 1_200, Role::Inner),
            (1_000, 1_200),
            "start moved inside the span"
        );
        assert_eq!(
            map.snap(1_100, 1_900, Role::Inner),
            (1_100, 1_500),
            "end pulled back"
        );
        assert_eq!(
            map.snap(1_600, 1_900, Role::Inner),
            (1_200, 1_500),
            "nearest sound is behind"
        );
        assert_eq!(
            map.snap(1_600, 1_900, Role::Closes),
            (1_200, 1_500),
            "closer moved back"
        );
        assert_eq!(
            map.snap(1_600, 1_900, Role::Opens),
            (1_600, 1_900),
            "openers never move back"
        );
        assert_eq!(
            map.snap(2_600, 2_690, Role::Inner),
            (2_600, 2_690),
            "nothing loud within reach"
        );
        assert_eq!(SpeechMap::new(&[]).snap(5, 7, Role::Opens), (5, 7));
    }

    /// With VAD segments, an opener whisper started in the last frames of the previous
    /// segment and stretched over the pause starts at the next segment's onset; other roles,
    /// and spans that do not reach the onset, keep the energy rules.
    #[test]
    fn openers_over_a_pause_start_at_the_speech_onset() {
        let mut pcm = vec![0.0; SR]; // 0–1 s silence
        pcm.extend(tone(1.0)); // 1–2 s: the end of one sentence
        pcm.extend(vec![0.0; 4 * SR / 5]); // 2.0–2.8 s pause
        pcm.extend(tone(0.7)); // 2.8–3.5 s: the next sentence
        pcm.extend(vec![0.0; SR / 2]);
        let speech = [SR..2 * SR + SR / 10, 2 * SR + 4 * SR / 5..3 * SR + SR / 2];
        let mut map = SpeechMap::new(&pcm);
        // Without the segments the start is on sound and stays (the error being fixed).
        assert_eq!(map.snap(1_930, 3_050, Role::Opens), (1_930, 3_050));
        map.restrict(&speech);
        assert_eq!(
            map.snap(1_930, 3_050, Role::Opens),
            (2_800, 3_050),
            "opener moved to the onset"
        );
        assert_eq!(
            map.snap(2_050, 3_050, Role::Opens),
            (2_800, 3_050),
            "from the pause too"
        );
        assert_eq!(
            map.snap(1_930, 3_050, Role::Inner),
            (1_930, 3_050),
            "only openers"
        );
        assert_eq!(
            map.snap(1_500, 1_700, Role::Opens),
            (1_500, 1_700),
            "span within one segment"
        );
        assert_eq!(
            map.snap(2_900, 3_100, Role::Opens),
            (2_900, 3_100),
            "already on the next segment"
        );
    }

    /// Speech where a frame is loud: a stand-in for Silero that needs no model.
    struct Loudness;
    impl crate::vad::SpeechDetector for Loudness {
        fn speech_probabilities(&mut self, pcm: &[f32]) -> Result<Vec<f32>, AsrError> {
            Ok(pcm
                .chunks(crate::vad::FRAME)
                .map(|f| if energy(f).sqrt() > 0.01 { 0.9 } else { 0.05 })
                .collect())
        }
    }

    fn plan(pcm: &[f32], vad: bool, chunk: usize) -> (Vec<PlannedWindow>, usize) {
        let mut det = Loudness;
        let mut p = WindowPlanner::new(
            vad.then_some(&mut det as &mut dyn crate::vad::SpeechDetector),
            VadParams::default(),
        );
        let mut out = Vec::new();
        let mut peak = 0;
        for c in pcm.chunks(chunk) {
            p.push(c, &mut out).unwrap();
            peak = peak.max(p.buffered());
        }
        p.finish(&mut out).unwrap();
        (out, peak)
    }

    #[test]
    fn segmenter_has_hysteresis() {
        let mut s = Segmenter::new(VadParams::default());
        let f = FRAME_VAD;
        let mut got = Vec::new();
        // 20 frames speech, 5 frames of 0.4 (between the thresholds: still speech), 10 of
        // speech, then silence; a 3-frame blip (96 ms < 250 ms) later is dropped.
        let probs: Vec<f32> = [vec![0.1; 10], vec![0.9; 20], vec![0.4; 5], vec![0.9; 10]]
            .concat()
            .into_iter()
            .chain(std::iter::repeat_n(0.1, 30))
            .chain([0.9, 0.9, 0.9])
            .chain(std::iter::repeat_n(0.1, 30))
            .collect();
        for p in probs {
            got.extend(s.push(p));
        }
        got.extend(s.finish(s.pos));
        assert_eq!(got, vec![10 * f..45 * f]);
    }

    /// Silence is skipped; sounds a short pause apart share a window with the pause, sounds
    /// far apart get their own; times map back to the media.
    #[test]
    fn vad_windows_hold_speech_only() {
        let mut pcm = vec![0.0; 60 * SR];
        pcm.extend(tone(3.0)); // 60–63 s
        pcm.extend(vec![0.0; SR]);
        pcm.extend(tone(1.0)); // 64–65 s: joins
        pcm.extend(vec![0.0; 100 * SR]);
        pcm.extend(tone(2.0)); // 165–167 s: its own window
        pcm.extend(vec![0.0; 5 * SR]);
        let (w, _) = plan(&pcm, true, 7_001);
        let pieces: Vec<&[Piece]> = w.iter().map(|w| w.map.pieces()).collect();
        assert_eq!(w.len(), 2, "{pieces:?}");
        assert!(pieces.iter().all(|p| p.len() == 1), "{pieces:?}");
        let secs = |x: u64| x as f64 / SR as f64;
        assert!(
            (59.7..60.0).contains(&secs(pieces[0][0].media)),
            "{pieces:?}"
        );
        assert!((65.0..65.5).contains(&secs(pieces[0][0].media + pieces[0][0].len as u64)));
        assert_eq!(
            w[0].speech.as_ref().map(Vec::len),
            Some(2),
            "two segments in the first"
        );
        assert!(
            (164.7..165.0).contains(&secs(pieces[1][0].media)),
            "{pieces:?}"
        );
        assert!(w[1].audio.len() < 3 * SR);
        let media = pieces[1][0].media * 1000 / SR as u64;
        assert_eq!(
            w[1].map.to_media_ms(1000, 1200),
            (media + 1000, media + 1200)
        );
    }

    /// Separate sentences are packed into windows of at most [`PACK_LIMIT`] (28 s), so that no
    /// sentence runs into whisper's last two seconds, and every one of them is in a window.
    #[test]
    fn packed_windows_leave_the_last_seconds_free() {
        let mut pcm = vec![0.0; SR];
        for _ in 0..20 {
            pcm.extend(tone(3.4));
            pcm.extend(vec![0.0; 7 * SR / 10]); // a pause that ends the segment
        }
        let (w, _) = plan(&pcm, true, 8_000);
        assert!(w.len() >= 3);
        for w in &w {
            assert!(w.audio.len() <= PACK_LIMIT, "{} s", w.audio.len() / SR);
        }
        // Still packed: every window but the last holds several sentences.
        for w in &w[..w.len() - 1] {
            assert!(
                w.audio.len() > PACK_LIMIT - 5 * SR,
                "{} s",
                w.audio.len() / SR
            );
        }
        let segments: usize = w
            .iter()
            .map(|w| w.speech.as_ref().map_or(0, Vec::len))
            .sum();
        assert_eq!(segments, 20, "every sentence is planned once");
    }

    /// Several pieces in one window: a start in the gap before a piece belongs to that piece,
    /// and a span never stretches over the media left out.
    #[test]
    fn time_map_keeps_spans_in_their_piece() {
        let mut w = PlannedWindow::default();
        w.push(16_000, &vec![0.1; 16_000]); // media 1–2 s at window 0–1 s
        w.push(160_000, &vec![0.1; 16_000]); // media 10–11 s at window 1.3–2.3 s
        assert_eq!(w.map.pieces()[1].at, 16_000 + PIECE_GAP);
        assert_eq!(w.map.to_media_ms(500, 700), (1_500, 1_700));
        assert_eq!(
            w.map.to_media_ms(900, 1_500),
            (1_900, 2_000),
            "end pulled back"
        );
        assert_eq!(
            w.map.to_media_ms(1_100, 1_500),
            (10_000, 10_200),
            "gap → next piece"
        );
        assert_eq!(w.map.to_media_ms(2_000, 2_100), (10_700, 10_800));
    }

    #[test]
    fn vad_on_silence_plans_nothing() {
        let (w, _) = plan(&vec![0.0; 200 * SR], true, SR);
        assert!(w.is_empty());
        let (w, _) = plan(&[], true, SR);
        assert!(w.is_empty());
    }

    /// Speech longer than a window is cut at its pauses into windows ≤ 30 s that together hold
    /// every sample of it exactly once.
    #[test]
    fn long_speech_is_cut_without_overlap() {
        let mut pcm = vec![0.0; 5 * SR];
        for _ in 0..10 {
            pcm.extend(tone(9.0));
            pcm.extend(vec![0.0; SR / 4]); // pauses too short to end the segment
        }
        pcm.extend(vec![0.0; 5 * SR]);
        let (w, _) = plan(&pcm, true, 12_345);
        assert!(w.len() >= 3);
        assert!(w.iter().all(|w| w.audio.len() <= MAX_WINDOW));
        let pieces: Vec<Piece> = w.iter().flat_map(|w| w.map.pieces().to_vec()).collect();
        for p in pieces.windows(2) {
            assert_eq!(p[0].media + p[0].len as u64, p[1].media, "{pieces:?}");
        }
        for w in &w {
            for p in w.map.pieces() {
                let m = usize::try_from(p.media).unwrap();
                assert_eq!(&w.audio[p.at..p.at + p.len], &pcm[m..m + p.len]);
            }
        }
    }

    /// The memory held does not grow with the duration.
    #[test]
    fn memory_is_bounded() {
        let mut pcm = Vec::new();
        for _ in 0..15 {
            pcm.extend(vec![0.0; 50 * SR]);
            pcm.extend(tone(40.0));
        }
        for vad in [true, false] {
            let (w, peak) = plan(&pcm, vad, SR);
            assert!(!w.is_empty());
            assert!(peak < 100 * SR, "vad {vad}: {} s held", peak / SR);
        }
    }

    #[test]
    fn silence_detection() {
        assert!(is_silent(&vec![0.0; 10 * SR]));
        assert!(is_silent(&vec![0.001; 10 * SR]));
        assert!(!is_silent(&tone(1.0)));
    }
}
