//! Cutting long audio into windows whisper can take (≤ 30 s), at pauses.
//!
//! Whisper's encoder sees exactly 30 s; longer media must be cut. A cut inside a word loses or
//! duplicates it, so each cut is placed in the quietest 200 ms stretch of the last 5 s of the
//! window (speech has gaps between words and sentences; music and noise at least have dips).
//! Windows are contiguous and non-overlapping, so every sample is heard exactly once and the
//! words of window *k* simply get the window's start time added.

use std::ops::Range;

use crate::media::SAMPLE_RATE;

const SR: usize = SAMPLE_RATE as usize;
/// Longest window: whisper's 30 s context.
pub const MAX_WINDOW: usize = 30 * SR;
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

/// Splits `len` samples of `pcm` into consecutive windows of at most [`MAX_WINDOW`] samples,
/// each cut at the quietest point of its last five seconds.
pub fn plan_windows(pcm: &[f32]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    while pcm.len() - start > MAX_WINDOW {
        let region_start = start + MAX_WINDOW - SEARCH;
        let frames: Vec<f64> = pcm[region_start..start + MAX_WINDOW]
            .chunks(FRAME)
            .map(energy)
            .collect();
        let mut best = (f64::INFINITY, 0);
        for k in 0..=frames.len().saturating_sub(QUIET_FRAMES) {
            let sum: f64 = frames[k..(k + QUIET_FRAMES).min(frames.len())].iter().sum();
            // `<=`: among equally quiet stretches take the latest, for fewer, longer windows.
            if sum <= best.0 {
                best = (sum, k);
            }
        }
        let cut = (region_start + (best.1 + QUIET_FRAMES / 2) * FRAME).min(start + MAX_WINDOW);
        out.push(start..cut);
        start = cut;
    }
    if start < pcm.len() {
        out.push(start..pcm.len());
    }
    out
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
        }
    }

    fn is_loud(&self, k: usize) -> bool {
        self.loud.get(k).copied().unwrap_or(false)
    }

    /// Adjusts one token span (absolute ms):
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

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(secs: f64) -> Vec<f32> {
        (0..(secs * SR as f64) as usize)
            .map(|i| 0.3 * (i as f32 * 0.05).sin())
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

    #[test]
    fn silence_detection() {
        assert!(is_silent(&vec![0.0; 10 * SR]));
        assert!(is_silent(&vec![0.001; 10 * SR]));
        assert!(!is_silent(&tone(1.0)));
    }
}
