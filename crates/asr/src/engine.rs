//! The engine interface and its whisper.cpp implementation.
//!
//! Why whisper.cpp (through `whisper-rs`): it is the only offline recogniser we measured that is
//! both accurate (≈ 8–13 % WER with tiny.en on synthetic speech, vs. 75–90 % for PocketSphinx)
//! and fast on two CPU cores (real-time factor ≈ 0.05), with no Python or GPU at run time.
//!
//! Recognition is CPU-bound and **blocking**: call [`SpeechEngine::transcribe`] from
//! `tokio::task::spawn_blocking` or a dedicated worker thread, never on an async executor thread.
//!
//! Resource rules, from measurements (ggml's worker threads spin-wait, so oversubscribing the
//! CPU made recognition ten times slower):
//! * the model is loaded once per process ([`WhisperEngine`] is `Sync`; share it in an `Arc`);
//! * at most `concurrency` recognitions run at once: each takes a pre-allocated whisper state
//!   from a pool and further callers block until one is returned;
//! * each job uses `threads / concurrency` compute threads, and `threads` is clamped to the
//!   number of cores, so the engine never runs more compute threads than there are cores.

use std::path::Path;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

use crate::media::{MediaInfo, SAMPLE_RATE};
use sealscribe_transcript::{Transcript, Word};

use crate::tokens::{RawToken, normalised, transcript_from_words, words_from_tokens};
use crate::window::{Role, SpeechMap, is_silent, plan_windows};
use crate::{AsrConfig, AsrError};

/// What one recognition is asked for, beyond the audio.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecognitionOptions {
    /// Whisper's language code ("en", "es", …): the language spoken in the media.
    pub language: String,
}

impl Default for RecognitionOptions {
    /// English, VoiceBase's default (`en-US`).
    fn default() -> Self {
        RecognitionOptions {
            language: "en".into(),
        }
    }
}

/// Media in, words out. Implementations must be usable from several threads at once.
pub trait SpeechEngine: Send + Sync {
    /// Recognises the first audio stream of a media file already probed as `info`.
    ///
    /// Blocking and CPU-heavy: call from `spawn_blocking` or a worker thread.
    ///
    /// # Errors
    /// The media errors of decoding (check [`AsrError::is_bad_media`]) and engine errors.
    fn transcribe(
        &self,
        media: &Path,
        info: &MediaInfo,
        opts: &RecognitionOptions,
    ) -> Result<Transcript, AsrError>;
}

/// Probes, decodes and recognises a media file with the default options (English).
///
/// # Errors
/// The media errors of [`crate::probe`] / [`crate::decode_to_pcm16k`] (check
/// [`AsrError::is_bad_media`]) and engine errors.
pub fn transcribe_file<E: SpeechEngine + ?Sized>(
    engine: &E,
    path: impl AsRef<Path>,
) -> Result<Transcript, AsrError> {
    transcribe_file_with_info(engine, path, &RecognitionOptions::default()).map(|(_, t)| t)
}

/// As [`transcribe_file`] with `opts`, also returning what ffprobe said about the media
/// (duration, codec…).
pub fn transcribe_file_with_info<E: SpeechEngine + ?Sized>(
    engine: &E,
    path: impl AsRef<Path>,
    opts: &RecognitionOptions,
) -> Result<(MediaInfo, Transcript), AsrError> {
    let path = path.as_ref();
    let info = crate::probe(path)?;
    let transcript = engine.transcribe(path, &info, opts)?;
    Ok((info, transcript))
}

/// Whisper states ready for use; the pool's size is the concurrency bound.
struct StatePool {
    free: Mutex<Vec<WhisperState>>,
    returned: Condvar,
}

struct StateGuard<'a> {
    pool: &'a StatePool,
    state: Option<WhisperState>,
}

impl StatePool {
    fn lock(&self) -> MutexGuard<'_, Vec<WhisperState>> {
        // A panic while holding the lock cannot leave the Vec inconsistent; keep going.
        self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn acquire(&self) -> StateGuard<'_> {
        let mut free = self.lock();
        loop {
            if let Some(state) = free.pop() {
                return StateGuard {
                    pool: self,
                    state: Some(state),
                };
            }
            free = self
                .returned
                .wait(free)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl Drop for StateGuard<'_> {
    fn drop(&mut self) {
        if let Some(s) = self.state.take() {
            self.pool.lock().push(s);
            self.pool.returned.notify_one();
        }
    }
}

/// Words whisper places this far past the end of its window are hallucinated continuations.
const WINDOW_SLACK_MS: u64 = 300;

/// Windows up to this long are encoded with a reduced audio context.
const SHORT_CONTEXT_MAX_SECS: f64 = 10.0;

/// Whisper's shortest useful input; shorter windows are padded with silence.
const MIN_WINDOW: usize = SAMPLE_RATE as usize;

/// whisper.cpp through whisper-rs: one model in memory, a bounded pool of decoding states.
pub struct WhisperEngine {
    ctx: WhisperContext,
    pool: StatePool,
    threads_per_job: usize,
    concurrency: usize,
}

impl std::fmt::Debug for WhisperEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhisperEngine")
            .field("threads_per_job", &self.threads_per_job)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl WhisperEngine {
    /// Provisions the configured model (verify, convert once, cache; see [`crate::model`]) and
    /// loads it. Call once at start-up: every failure here names the file and the fix.
    ///
    /// # Errors
    /// [`AsrError::ModelMissing`] / [`AsrError::ModelInvalid`] / [`AsrError::Io`] from
    /// provisioning, [`AsrError::Engine`] when whisper.cpp cannot allocate its state.
    pub fn load(cfg: &AsrConfig) -> Result<Self, AsrError> {
        let ggml = crate::model::ensure_ggml(cfg)?;
        Self::load_ggml(&ggml, cfg.threads, cfg.concurrency)
    }

    /// Loads a ggml model file directly (no provisioning or checksum).
    ///
    /// `threads` is clamped to the number of cores and `concurrency` to `threads`.
    pub fn load_ggml(path: &Path, threads: usize, concurrency: usize) -> Result<Self, AsrError> {
        whisper_rs::install_logging_hooks();
        if !path.is_file() {
            return Err(AsrError::invalid(path, "file does not exist"));
        }
        let threads = threads.clamp(1, crate::config::cores());
        let concurrency = concurrency.clamp(1, threads);
        let mut params = WhisperContextParameters::default();
        params.use_gpu(false);
        let ctx = WhisperContext::new_with_params(path, params).map_err(|e| {
            AsrError::invalid(
                path,
                format!("whisper.cpp cannot load it ({e}); delete it to have it converted again"),
            )
        })?;
        let states = (0..concurrency)
            .map(|_| ctx.create_state())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| AsrError::Engine(format!("cannot allocate a whisper state: {e}")))?;
        tracing::info!(path = %path.display(), threads, concurrency, multilingual = ctx.is_multilingual(), "speech model loaded");
        Ok(WhisperEngine {
            ctx,
            pool: StatePool {
                free: Mutex::new(states),
                returned: Condvar::new(),
            },
            threads_per_job: (threads / concurrency).max(1),
            concurrency,
        })
    }

    /// Whether the model can recognise `language` (Whisper's code): English always, any
    /// other language only with a multilingual model.
    pub fn recognises(&self, language: &str) -> bool {
        language == "en" || self.ctx.is_multilingual()
    }

    /// [`AsrError::LanguageNotSupported`] unless [`Self::recognises`] the requested language.
    fn check_language(&self, opts: &RecognitionOptions) -> Result<(), AsrError> {
        if self.recognises(&opts.language) {
            Ok(())
        } else {
            Err(AsrError::LanguageNotSupported {
                language: opts.language.clone(),
            })
        }
    }

    /// Compute threads each recognition uses.
    pub fn threads_per_job(&self) -> usize {
        self.threads_per_job
    }

    /// Maximum number of simultaneous recognitions.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Recognises one window (≤ 30 s) and returns its tokens with absolute times.
    fn recognise_window(
        &self,
        state: &mut WhisperState,
        pcm: &[f32],
        offset_ms: u64,
        opts: &RecognitionOptions,
    ) -> Result<Vec<RawToken>, AsrError> {
        let padded;
        let audio = if pcm.len() < MIN_WINDOW {
            padded = [pcm, &vec![0.0; MIN_WINDOW - pcm.len()]].concat();
            &padded[..]
        } else {
            pcm
        };
        let window_ms = (pcm.len() as u64 * 1000) / u64::from(SAMPLE_RATE);
        let mut p = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        p.set_n_threads(i32::try_from(self.threads_per_job).unwrap_or(1));
        p.set_language(Some(&opts.language));
        p.set_translate(false);
        p.set_no_context(true);
        p.set_token_timestamps(true);
        p.set_print_special(false);
        p.set_print_progress(false);
        p.set_print_realtime(false);
        p.set_print_timestamps(false);
        p.set_suppress_blank(true);
        p.set_suppress_nst(true);
        // No temperature fallback: re-decoding at random temperatures made results vary from run
        // to run and, on noise, occasionally invented a word ("you") that greedy decoding at
        // temperature 0 rejects; it also took 3-7x longer on noise.
        p.set_temperature(0.0);
        p.set_temperature_inc(0.0);
        // Whisper always encodes 30 s; for short clips a shorter audio context (50 encoder
        // positions per second plus a margin) was ~6× faster at the same accuracy. On longer
        // windows it made timestamps run late (by ~1.4 s at the end of a 27 s window), so it is
        // used only where the saving is large.
        let secs = audio.len() as f64 / f64::from(SAMPLE_RATE);
        if secs <= SHORT_CONTEXT_MAX_SECS {
            p.set_audio_ctx((secs * 50.0).ceil() as i32 + 64);
        }
        state
            .full(p, audio)
            .map_err(|e| AsrError::Engine(format!("whisper_full failed: {e}")))?;

        let eot = self.ctx.token_eot();
        let mut out = Vec::new();
        for seg in state.as_iter() {
            let mut first = true;
            for i in 0..seg.n_tokens() {
                let Some(tok) = seg.get_token(i) else {
                    continue;
                };
                if tok.token_id() >= eot {
                    continue; // special and timestamp tokens
                }
                let data = tok.token_data();
                let t0 = u64::try_from(data.t0).unwrap_or(0) * 10;
                let t1 = (u64::try_from(data.t1).unwrap_or(0) * 10).max(t0);
                if t0 > window_ms + WINDOW_SLACK_MS {
                    continue;
                }
                let text = tok.to_bytes().map(<[u8]>::to_vec).unwrap_or_default();
                out.push(RawToken {
                    text,
                    p: tok.token_probability(),
                    t0: offset_ms + t0.min(window_ms),
                    t1: offset_ms + t1.min(window_ms),
                    segment_start: std::mem::take(&mut first),
                });
            }
        }
        Ok(out)
    }
}

impl SpeechEngine for WhisperEngine {
    fn transcribe(
        &self,
        media: &Path,
        info: &MediaInfo,
        opts: &RecognitionOptions,
    ) -> Result<Transcript, AsrError> {
        self.check_language(opts)?;
        let pcm = crate::media::decode_probed(media, info)?;
        self.recognise(&pcm, opts)
    }
}

impl WhisperEngine {
    /// Recognises 16 kHz mono samples in -1..1 held in memory (see [`crate::decode_to_pcm16k`]).
    ///
    /// Blocking and CPU-heavy: call from `spawn_blocking` or a worker thread.
    ///
    /// # Errors
    /// [`AsrError::Engine`] when whisper.cpp fails.
    pub fn recognise(
        &self,
        pcm_16k_mono: &[f32],
        opts: &RecognitionOptions,
    ) -> Result<Transcript, AsrError> {
        self.check_language(opts)?;
        let cleaned: Vec<f32>;
        let pcm = if pcm_16k_mono.iter().all(|x| x.is_finite()) {
            pcm_16k_mono
        } else {
            cleaned = pcm_16k_mono
                .iter()
                .map(|&x| {
                    if x.is_finite() {
                        x.clamp(-1.0, 1.0)
                    } else {
                        0.0
                    }
                })
                .collect();
            &cleaned
        };
        let windows = plan_windows(pcm);
        let speech = SpeechMap::new(pcm);
        let mut guard = self.pool.acquire();
        let state = guard
            .state
            .as_mut()
            .ok_or_else(|| AsrError::Engine("state pool returned nothing".into()))?;
        let mut words: Vec<Word> = Vec::new();
        for w in windows {
            let chunk = &pcm[w.clone()];
            if is_silent(chunk) {
                continue;
            }
            let offset_ms = w.start as u64 * 1000 / u64::from(SAMPLE_RATE);
            let tokens = self.recognise_window(state, chunk, offset_ms, opts)?;
            let mut tokens = tokens;
            let ends_sentence = |t: &RawToken| {
                String::from_utf8_lossy(&t.text)
                    .trim_end()
                    .ends_with(['.', '?', '!'])
            };
            for i in 0..tokens.len() {
                let opens = i == 0 || tokens[i].segment_start || ends_sentence(&tokens[i - 1]);
                let closes = ends_sentence(&tokens[i])
                    || tokens
                        .get(i + 1)
                        .is_none_or(|n| n.segment_start || ends_sentence(n));
                let role = match (opens, closes) {
                    (true, false) => Role::Opens,
                    (false, true) => Role::Closes,
                    _ => Role::Inner,
                };
                let t = &mut tokens[i];
                (t.t0, t.t1) = speech.snap(t.t0, t.t1, role);
            }
            let mut new = words_from_tokens(&tokens);
            drop_seam_duplicate(&words, &mut new, offset_ms);
            words.extend(new);
        }
        drop(guard);
        Ok(transcript_from_words(words))
    }
}

/// A word heard on both sides of a cut (possible only when no pause was found near the limit)
/// is kept once: if the previous window ends with the word the next one starts with, and both
/// lie within 400 ms of the cut, the second copy is dropped.
fn drop_seam_duplicate(before: &[Word], after: &mut Vec<Word>, cut_ms: u64) {
    let last = before.iter().rev().find(|w| !w.is_punctuation());
    let Some(first_idx) = after.iter().position(|w| !w.is_punctuation()) else {
        return;
    };
    if let Some(last) = last {
        let first = &after[first_idx];
        if normalised(&last.w) == normalised(&first.w)
            && last.e + 400 >= cut_ms
            && first.s <= cut_ms + 400
        {
            after.drain(..=first_idx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(text: &str, s: u64, e: u64) -> Word {
        Word {
            p: 0,
            s,
            e,
            c: 0.9,
            w: text.into(),
            m: None,
        }
    }

    #[test]
    fn seam_duplicates_are_dropped_once() {
        let before = vec![w("the", 29_000, 29_200), w("Weather", 29_600, 29_990)];
        let mut after = vec![w("weather.", 30_000, 30_300), w("is", 30_400, 30_500)];
        drop_seam_duplicate(&before, &mut after, 30_000);
        assert_eq!(after.len(), 1);
        assert_eq!(after[0].w, "is");
        // Same word far from the seam is a real repetition and stays.
        let mut after = vec![w("weather", 31_000, 31_300)];
        drop_seam_duplicate(&before, &mut after, 30_000);
        assert_eq!(after.len(), 1);
    }
}
