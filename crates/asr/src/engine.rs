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
//!
//! Decoding guards against whisper's hallucinations with the reference implementation's
//! safeguards ([`Safeguards`]): each window is decoded greedily at temperature 0 and decoded
//! again at rising temperatures when its text is too repetitive (zlib compression ratio) or
//! too unlikely (average log-probability); without voice activity detection, windows whisper
//! judges to hold no speech are dropped (with it, the detector has already decided); and a
//! phrase still repeated three times in a row in the result is kept once
//! ([`crate::repetition`]). Sampling is deterministic: see [`Safeguards`].

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
    WhisperTokenId,
};

use crate::media::{AudioSelection, MediaInfo, PcmStream, SAMPLE_RATE};
use crate::vad::SileroVad;
use sealscribe_transcript::{Transcript, Word};

use crate::repetition::{collapse_repeats, loop_ratio};
use crate::tokens::{RawToken, normalised, transcript_from_words, words_from_tokens};
use crate::window::{PlannedWindow, Role, SpeechMap, VadParams, WindowPlanner, is_silent};
use crate::{AsrConfig, AsrError};

/// What one recognition is asked for, beyond the audio.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecognitionOptions {
    /// Whisper's language code ("en", "es", …): the language spoken in the media.
    pub language: String,
    /// The audio to recognise: the first stream mixed to mono, or one speaker's channel or
    /// track (a stereo call is recognised once per channel).
    pub audio: AudioSelection,
    /// Custom vocabulary: words and phrases to bias recognition towards, most important
    /// first. They become whisper's prompt for every window, as far as they fit in
    /// [`PROMPT_TOKENS`] (see [`WhisperEngine::vocabulary_prompt`]). Empty: no prompt.
    pub vocabulary: Vec<String>,
}

/// Whisper's prompt ("previous text") is at most half of its 448-token text context:
/// whisper.cpp keeps the *last* `n_text_ctx / 2` tokens of a longer one, so vocabulary past
/// this budget would silently push out the most important terms. The prompt is cut here
/// instead, at a whole term.
pub const PROMPT_TOKENS: usize = 224;

impl Default for RecognitionOptions {
    /// English, VoiceBase's default (`en-US`), the first audio stream mixed.
    fn default() -> Self {
        RecognitionOptions {
            language: "en".into(),
            audio: AudioSelection::Mixed,
            vocabulary: Vec::new(),
        }
    }
}

/// Media in, words out. Implementations must be usable from several threads at once.
pub trait SpeechEngine: Send + Sync {
    /// Recognises the audio `opts.audio` selects (by default the first audio stream, mixed to
    /// mono) of a media file already probed as `info`.
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

/// What one recognition needs to itself: a whisper decoding state and, with voice activity
/// detection on, a VAD context (it keeps LSTM state).
struct Slot {
    state: WhisperState,
    vad: Option<SileroVad>,
}

/// Slots ready for use; the pool's size is the concurrency bound.
struct StatePool {
    free: Mutex<Vec<Slot>>,
    returned: Condvar,
}

struct StateGuard<'a> {
    pool: &'a StatePool,
    state: Option<Slot>,
}

impl StatePool {
    fn lock(&self) -> MutexGuard<'_, Vec<Slot>> {
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

/// What every window of one recognition is decoded with: the language and the vocabulary
/// prompt, tokenised once.
struct Job<'a> {
    language: &'a str,
    prompt: Vec<WhisperTokenId>,
}

/// Words whisper places this far past the end of its window are hallucinated continuations.
const WINDOW_SLACK_MS: u64 = 300;

/// Windows up to this long are encoded with a reduced audio context (by default).
pub const SHORT_CONTEXT_MAX_SECS: f64 = 10.0;

/// Whisper's shortest useful input; shorter windows are padded with silence.
const MIN_WINDOW: usize = SAMPLE_RATE as usize;

/// The standard Whisper safeguards around greedy decoding (OpenAI's `transcribe()` defaults,
/// which whisper.cpp shares).
///
/// A window is decoded at temperature 0 (greedy). If the result is too repetitive
/// (`compression_ratio` above the threshold: a loop) or too unlikely (`avg_logprob` below the
/// threshold: guessing), it is decoded again at each of `temperature_step`, 2 ×
/// `temperature_step`, … up to 1.0, sampling `best_of` candidates each time and keeping the
/// first result that passes both tests. When none passes, the attempt with the best average
/// log-probability among those that are not loops is kept (the highest overall if all are).
/// Without voice activity detection, a window whose no-speech probability exceeds `no_speech`
/// while its text is unlikely is silence or noise and gives no words (the no-speech
/// probability is measured as the reference does; whisper.cpp's own copy of this rule reads a
/// stale figure and is switched off). With VAD the detector has already decided what is
/// speech and the rule is not applied (see `WhisperEngine::recognise_window`).
///
/// **Determinism.** whisper.cpp samples with `std::mt19937` generators of fixed seeds
/// (candidate *j* uses seed *j*), but candidate 0's generator is seeded only when a decoding
/// state is created and then advances with every sampled token, so results would depend on
/// what the state decoded before. Fallback decoding therefore runs on a state created for the
/// window: the same audio and model give the same words, run after run, whatever came before.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Safeguards {
    /// Temperature increment between fallback decodes (0 turns fallback off).
    pub temperature_step: f32,
    /// A window's text whose zlib compression ratio exceeds this is a loop (digit strings up to
    /// card-number length count as one character: [`crate::repetition::loop_ratio`]).
    pub compression_ratio: f64,
    /// A window whose mean token log-probability is below this is unlikely.
    pub avg_logprob: f64,
    /// No-speech probability above which an unlikely window counts as silence.
    pub no_speech: f32,
    /// Candidates sampled at each temperature above 0.
    pub best_of: u8,
}

impl Default for Safeguards {
    /// 0.2 steps, compression ratio 2.4, log-probability -1.0, no-speech 0.6, best of 5.
    fn default() -> Self {
        Safeguards {
            temperature_step: 0.2,
            compression_ratio: 2.4,
            avg_logprob: -1.0,
            no_speech: 0.6,
            best_of: 5,
        }
    }
}

impl Safeguards {
    /// The fallback temperatures after 0: `step, 2·step, … ≤ 1.0`.
    fn fallback_temperatures(&self) -> Vec<f32> {
        if self.temperature_step.is_nan() || self.temperature_step <= 0.0 {
            return Vec::new();
        }
        (1..)
            .map(|k| k as f32 * self.temperature_step)
            .take_while(|&t| t <= 1.0 + 1e-6)
            .collect()
    }
}

/// One decode of a window and the measures the safeguards look at.
struct Attempt {
    tokens: Vec<RawToken>,
    temperature: f32,
    compression_ratio: f64,
    avg_logprob: f64,
    /// Not measured for windows the voice activity detector judged speech.
    no_speech: Option<f32>,
}

/// How a window is decoded, the same for every attempt at it.
#[derive(Clone, Copy, Debug)]
struct DecodeHow {
    /// The window's length without the padding to [`MIN_WINDOW`]: tokens placed later are cut.
    window_ms: u64,
    /// Encode with an audio context of the window's length rather than whisper's 30 s.
    reduced_context: bool,
    /// Measure the no-speech probability (an extra decoder step) for the no-speech rule.
    measure_no_speech: bool,
}

impl Attempt {
    fn is_loop(&self, g: &Safeguards) -> bool {
        self.compression_ratio > g.compression_ratio
    }

    fn is_silence(&self, g: &Safeguards) -> bool {
        self.no_speech.is_some_and(|p| p > g.no_speech) && self.avg_logprob < g.avg_logprob
    }

    /// When no decode passes, the one kept: not a loop rather than a loop, then the more likely.
    fn better_than(&self, other: &Attempt, g: &Safeguards) -> bool {
        match (self.is_loop(g), other.is_loop(g)) {
            (false, true) => true,
            (true, false) => false,
            _ => self.avg_logprob > other.avg_logprob,
        }
    }

    /// Passes both tests (silence passes: it is dropped, not decoded again).
    fn is_acceptable(&self, g: &Safeguards) -> bool {
        self.is_silence(g) || (!self.is_loop(g) && self.avg_logprob >= g.avg_logprob)
    }
}

/// whisper.cpp through whisper-rs: one model in memory, a bounded pool of decoding states.
pub struct WhisperEngine {
    ctx: WhisperContext,
    pool: StatePool,
    threads_per_job: usize,
    concurrency: usize,
    vad: Option<VadParams>,
    windows_decoded: AtomicU64,
    safeguards: Safeguards,
    short_context_max_secs: f64,
    fallbacks: AtomicU64,
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
        let vad = if cfg.vad {
            Some(crate::vad::ensure_vad_ggml(&cfg.model_dir)?)
        } else {
            None
        };
        Self::load_ggml_with_vad(&ggml, vad.as_deref(), cfg.threads, cfg.concurrency)
    }

    /// Loads a ggml model file directly (no provisioning or checksum).
    ///
    /// `threads` is clamped to the number of cores and `concurrency` to `threads`.
    pub fn load_ggml(path: &Path, threads: usize, concurrency: usize) -> Result<Self, AsrError> {
        Self::load_ggml_with_vad(path, None, threads, concurrency)
    }

    /// As [`WhisperEngine::load_ggml`], with voice activity detection by the converted Silero
    /// model at `vad` ([`crate::vad::ensure_vad_ggml`]) when given.
    pub fn load_ggml_with_vad(
        path: &Path,
        vad: Option<&Path>,
        threads: usize,
        concurrency: usize,
    ) -> Result<Self, AsrError> {
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
        let threads_per_job = (threads / concurrency).max(1);
        let mut slots = Vec::with_capacity(concurrency);
        for _ in 0..concurrency {
            let state = ctx
                .create_state()
                .map_err(|e| AsrError::Engine(format!("cannot allocate a whisper state: {e}")))?;
            // One thread: the detector's graph is tiny and run once per 32 ms frame, so a second
            // thread only adds a spin-waiting barrier per operation (measured: ~30× slower on
            // a loaded machine).
            let vad = vad.map(|v| SileroVad::load(v, 1)).transpose()?;
            slots.push(Slot { state, vad });
        }
        tracing::info!(path = %path.display(), threads, concurrency, multilingual = ctx.is_multilingual(), vad = vad.is_some(), "speech model loaded");
        Ok(WhisperEngine {
            ctx,
            pool: StatePool {
                free: Mutex::new(slots),
                returned: Condvar::new(),
            },
            threads_per_job,
            concurrency,
            vad: vad.map(|_| VadParams::default()),
            windows_decoded: AtomicU64::new(0),
            safeguards: Safeguards::default(),
            short_context_max_secs: SHORT_CONTEXT_MAX_SECS,
            fallbacks: AtomicU64::new(0),
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

    /// Replaces the decoding safeguards (the defaults are the reference implementation's).
    pub fn with_safeguards(mut self, safeguards: Safeguards) -> Self {
        self.safeguards = safeguards;
        self
    }

    /// Windows up to `secs` long are encoded with a reduced audio context (default
    /// [`SHORT_CONTEXT_MAX_SECS`]; 0 encodes every window with whisper's full 30 s context):
    /// the knob the pipeline-vs-raw benchmark turns.
    pub fn with_short_context_up_to(mut self, secs: f64) -> Self {
        self.short_context_max_secs = secs;
        self
    }

    /// The decoding safeguards in force.
    pub fn safeguards(&self) -> Safeguards {
        self.safeguards
    }

    /// How many windows this engine has decoded again at a higher temperature.
    pub fn fallback_windows(&self) -> u64 {
        self.fallbacks.load(Ordering::Relaxed)
    }

    /// Compute threads each recognition uses.
    pub fn threads_per_job(&self) -> usize {
        self.threads_per_job
    }

    /// Maximum number of simultaneous recognitions.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// True when voice activity detection picks the audio that is recognised.
    pub fn vad_enabled(&self) -> bool {
        self.vad.is_some()
    }

    /// Windows whisper has decoded since the engine was loaded (silence and non-speech skipped
    /// before decoding do not count): how tests and benches see what VAD saved.
    pub fn windows_decoded(&self) -> u64 {
        self.windows_decoded.load(Ordering::Relaxed)
    }

    /// The prompt tokens for a custom vocabulary, `vocabulary` most important first: the
    /// entries joined as `" A, B, C."` (a list of names is the kind of "previous text" that
    /// makes whisper spell them as written), taking entries in order and skipping any that
    /// no longer fits in [`PROMPT_TOKENS`], so a long vocabulary keeps its head. An entry
    /// the tokenizer refuses (it cannot: validation keeps control characters out) is skipped.
    pub fn vocabulary_prompt(&self, vocabulary: &[String]) -> Vec<WhisperTokenId> {
        let tokens = |text: &str| {
            // Byte-level BPE: never more tokens than bytes (whisper-rs would misread the
            // "too many" answer of a smaller buffer).
            self.ctx.tokenize(text, text.len() + 8).ok()
        };
        let mut kept: Vec<&str> = Vec::new();
        // The closing "." plus a margin for merges across the joins.
        let mut used = 2;
        for entry in vocabulary {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            let piece = if kept.is_empty() {
                format!(" {entry}")
            } else {
                format!(", {entry}")
            };
            let Some(n) = tokens(&piece).map(|t| t.len()) else {
                continue;
            };
            if used + n <= PROMPT_TOKENS {
                used += n;
                kept.push(entry);
            }
        }
        while !kept.is_empty() {
            let text = format!(" {}.", kept.join(", "));
            match tokens(&text) {
                Some(t) if t.len() <= PROMPT_TOKENS => return t,
                _ => {
                    kept.pop();
                }
            }
        }
        Vec::new()
    }

    /// Recognises one window (≤ 30 s) and returns its tokens in window time, applying the
    /// [`Safeguards`]: temperature fallback and, when `speech_detected` is false, the
    /// no-speech rule.
    ///
    /// A window the voice activity detector judged speech (`speech_detected`) is never dropped
    /// by the no-speech rule: the detector is a model trained for that one decision, whereas
    /// whisper's no-speech token is a side output that, on band-limited or synthetic speech
    /// with the reduced audio context, rose past the threshold for a sentence Silero heard
    /// with p ≥ 0.9 throughout (docs/benchmarks.md, "Telephone audio"): the whole sentence
    /// was deleted. There an unlikely decode is decoded again at higher temperatures like any
    /// other, and the best attempt is kept. Without VAD the rule is whisper's only silence
    /// detector and stays, but a silence verdict reached with the reduced audio context is
    /// confirmed with the full one before the window is dropped (that context inflated the
    /// no-speech probability of the same sentence from 0.31 to 0.66).
    fn recognise_window(
        &self,
        state: &mut WhisperState,
        pcm: &[f32],
        job: &Job<'_>,
        speech_detected: bool,
    ) -> Result<Vec<RawToken>, AsrError> {
        let padded;
        let audio = if pcm.len() < MIN_WINDOW {
            padded = [pcm, &vec![0.0; MIN_WINDOW - pcm.len()]].concat();
            &padded[..]
        } else {
            pcm
        };
        let secs = audio.len() as f64 / f64::from(SAMPLE_RATE);
        let mut how = DecodeHow {
            window_ms: (pcm.len() as u64 * 1000) / u64::from(SAMPLE_RATE),
            reduced_context: secs <= self.short_context_max_secs,
            measure_no_speech: !speech_detected,
        };
        loop {
            let chosen = self.decode_with_fallback(state, audio, job, how)?;
            if !chosen.is_silence(&self.safeguards) {
                return Ok(chosen.tokens);
            }
            if !how.reduced_context {
                return Ok(Vec::new());
            }
            tracing::debug!(
                no_speech = ?chosen.no_speech,
                "silence verdict with the reduced audio context: confirming with the full one"
            );
            how.reduced_context = false;
        }
    }

    /// Decodes at temperature 0 and, when the result is a loop or unlikely (and not silence),
    /// again at the fallback temperatures; returns the attempt kept.
    fn decode_with_fallback(
        &self,
        state: &mut WhisperState,
        audio: &[f32],
        job: &Job<'_>,
        how: DecodeHow,
    ) -> Result<Attempt, AsrError> {
        let g = &self.safeguards;
        let first = self.decode(state, audio, job, how, 0.0)?;
        if first.is_acceptable(g) {
            return Ok(first);
        }
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
        // A state of its own, so that sampling starts from whisper.cpp's fixed seeds.
        let mut fresh = self
            .ctx
            .create_state()
            .map_err(|e| AsrError::Engine(format!("cannot allocate a whisper state: {e}")))?;
        let mut best = first;
        for t in g.fallback_temperatures() {
            let a = self.decode(&mut fresh, audio, job, how, t)?;
            if a.is_acceptable(g) {
                best = a;
                break;
            }
            if a.better_than(&best, g) {
                best = a;
            }
        }
        tracing::debug!(
            temperature = best.temperature,
            compression_ratio = best.compression_ratio,
            avg_logprob = best.avg_logprob,
            "window decoded again at a higher temperature"
        );
        Ok(best)
    }

    /// The probability of whisper's no-speech token right after start-of-transcript, as the
    /// reference implementation measures it: one decoder step over `<|startoftranscript|>`
    /// against the audio `state` last encoded (the window, unless whisper.cpp needed a second
    /// pass to reach its end). whisper.cpp's own figure reads the first row of its logits
    /// buffer, which its prompt decode leaves unwritten: it came out 0 on music and noise, or
    /// the previous window's value.
    fn no_speech_probability(&self, state: &mut WhisperState) -> Result<f32, AsrError> {
        state
            .decode(&[self.ctx.token_sot()], 0, self.threads_per_job)
            .map_err(|e| AsrError::Engine(format!("whisper decode failed: {e}")))?;
        let logits = state
            .get_logits()
            .map_err(|e| AsrError::Engine(format!("whisper logits unavailable: {e}")))?;
        let nosp = usize::try_from(self.ctx.token_nosp()).unwrap_or(usize::MAX);
        let Some(&target) = logits.get(nosp) else {
            return Ok(0.0);
        };
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let sum: f64 = logits.iter().map(|&l| f64::from(l - max).exp()).sum();
        Ok((f64::from(target - max).exp() / sum) as f32)
    }

    /// One whisper.cpp decode of a (padded) window at `temperature`.
    fn decode(
        &self,
        state: &mut WhisperState,
        audio: &[f32],
        job: &Job<'_>,
        how: DecodeHow,
        temperature: f32,
    ) -> Result<Attempt, AsrError> {
        let window_ms = how.window_ms;
        let g = &self.safeguards;
        let best_of = if temperature > 0.0 {
            i32::from(g.best_of.max(1))
        } else {
            1
        };
        let mut p = FullParams::new(SamplingStrategy::Greedy { best_of });
        p.set_n_threads(i32::try_from(self.threads_per_job).unwrap_or(1));
        p.set_language(Some(job.language));
        if !job.prompt.is_empty() {
            p.set_tokens(&job.prompt);
        }
        p.set_translate(false);
        p.set_no_context(true);
        p.set_token_timestamps(true);
        p.set_print_special(false);
        p.set_print_progress(false);
        p.set_print_realtime(false);
        p.set_print_timestamps(false);
        p.set_suppress_blank(true);
        p.set_suppress_nst(true);
        // One temperature per call: the fallback loop is ours (recognise_window), where the
        // compression ratio is measured as the reference implementation does.
        p.set_temperature(temperature);
        p.set_temperature_inc(0.0);
        p.set_logprob_thold(g.avg_logprob as f32);
        // whisper.cpp's own no-speech rule reads a logits row its prompt decode never writes
        // (stale: zeros, or the previous call's), so it is switched off (a probability never
        // exceeds 2) and the rule applied here with the real figure (no_speech_probability).
        p.set_no_speech_thold(2.0);
        // Whisper always encodes 30 s; for short clips a shorter audio context (50 encoder
        // positions per second plus a margin) was ~6× faster at the same accuracy. On longer
        // windows it made timestamps run late (by ~1.4 s at the end of a 27 s window), so it is
        // used only where the saving is large.
        if how.reduced_context {
            let secs = audio.len() as f64 / f64::from(SAMPLE_RATE);
            p.set_audio_ctx((secs * 50.0).ceil() as i32 + 64);
        }
        state
            .full(p, audio)
            .map_err(|e| AsrError::Engine(format!("whisper_full failed: {e}")))?;

        let eot = self.ctx.token_eot();
        let mut out = Vec::new();
        let (mut text, mut logprob, mut n) = (Vec::new(), 0.0f64, 0usize);
        for seg in state.as_iter() {
            let mut first = true;
            for i in 0..seg.n_tokens() {
                let Some(tok) = seg.get_token(i) else {
                    continue;
                };
                let data = tok.token_data();
                // Every sampled token counts, timestamps included, as in the reference.
                logprob += f64::from(data.plog);
                n += 1;
                if tok.token_id() >= eot {
                    continue; // special and timestamp tokens
                }
                let bytes = tok.to_bytes().map(<[u8]>::to_vec).unwrap_or_default();
                text.extend_from_slice(&bytes);
                let t0 = u64::try_from(data.t0).unwrap_or(0) * 10;
                let t1 = (u64::try_from(data.t1).unwrap_or(0) * 10).max(t0);
                if t0 > window_ms + WINDOW_SLACK_MS {
                    continue;
                }
                out.push(RawToken {
                    text: bytes,
                    p: tok.token_probability(),
                    t0: t0.min(window_ms),
                    t1: t1.min(window_ms),
                    segment_start: std::mem::take(&mut first),
                });
            }
        }
        let no_speech = if how.measure_no_speech {
            Some(self.no_speech_probability(state)?)
        } else {
            None
        };
        if std::env::var_os("SEALSCRIBE_DEBUG_DECODE").is_some() {
            eprintln!(
                "DBG t={temperature} ctx={} lp={:.3} ns={no_speech:?} text={:?}",
                if how.reduced_context {
                    "reduced"
                } else {
                    "full"
                },
                if n == 0 { 0.0 } else { logprob / n as f64 },
                String::from_utf8_lossy(&text)
            );
        }
        Ok(Attempt {
            tokens: out,
            temperature,
            compression_ratio: loop_ratio(&String::from_utf8_lossy(&text)),
            // No tokens: nothing was said, which is certain rather than unlikely.
            avg_logprob: if n == 0 { 0.0 } else { logprob / n as f64 },
            no_speech,
        })
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
        let mut pcm = PcmStream::open_selected(media, info, opts.audio)?;
        let transcript = self.recognise_stream(&mut || pcm.next_chunk(), opts)?;
        pcm.finish()?;
        Ok(transcript)
    }
}

/// Samples per chunk when in-memory audio is fed to the streaming driver.
const MEMORY_CHUNK: usize = SAMPLE_RATE as usize;

impl WhisperEngine {
    /// Recognises 16 kHz mono samples in -1..1 held in memory (see [`crate::decode_to_pcm16k`]);
    /// the same driver as [`SpeechEngine::transcribe`], fed from the slice.
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
        let mut chunks = pcm_16k_mono.chunks(MEMORY_CHUNK);
        self.recognise_stream(&mut || Ok(chunks.next().map(<[f32]>::to_vec)), opts)
    }

    /// The windows this engine would recognise in 16 kHz mono `pcm`, planned as
    /// [`SpeechEngine::transcribe`] plans them (its detector, its [`VadParams`]) but not
    /// recognised: how tests see where the seams between windows fall.
    ///
    /// # Errors
    /// The detector's errors.
    pub fn plan(&self, pcm_16k_mono: &[f32]) -> Result<Vec<PlannedWindow>, AsrError> {
        self.with_planner(|_, mut planner| {
            let mut out = Vec::new();
            for chunk in pcm_16k_mono.chunks(MEMORY_CHUNK) {
                planner.push(chunk, &mut out)?;
            }
            planner.finish(&mut out)?;
            Ok(out)
        })
    }

    /// Runs `f` with a slot taken from the pool (blocking until one is free): its whisper state
    /// and a [`WindowPlanner`] using its detector (none with VAD off) and this engine's
    /// [`VadParams`], so that [`WhisperEngine::plan`] plans exactly as recognition does.
    fn with_planner<R>(
        &self,
        f: impl FnOnce(&mut WhisperState, WindowPlanner<'_>) -> Result<R, AsrError>,
    ) -> Result<R, AsrError> {
        let mut guard = self.pool.acquire();
        let Slot { state, vad } = guard
            .state
            .as_mut()
            .ok_or_else(|| AsrError::Engine("state pool returned nothing".into()))?;
        let detector = vad
            .as_mut()
            .map(|v| v as &mut dyn crate::vad::SpeechDetector);
        f(
            state,
            WindowPlanner::new(detector, self.vad.unwrap_or_default()),
        )
    }

    /// The streaming driver: pulls chunks from `next` until it returns `None`, plans windows
    /// as they become complete ([`WindowPlanner`]: speech only with VAD, pauses without) and
    /// recognises each at once, so that only the current window and a bounded look-ahead are
    /// ever held.
    fn recognise_stream(
        &self,
        next: &mut dyn FnMut() -> Result<Option<Vec<f32>>, AsrError>,
        opts: &RecognitionOptions,
    ) -> Result<Transcript, AsrError> {
        let job = Job {
            language: &opts.language,
            prompt: self.vocabulary_prompt(&opts.vocabulary),
        };
        let job = &job;
        let words = self.with_planner(|state, mut planner| {
            let mut words: Vec<Word> = Vec::new();
            let mut ready = Vec::new();
            while let Some(mut chunk) = next()? {
                for x in &mut chunk {
                    *x = if x.is_finite() {
                        x.clamp(-1.0, 1.0)
                    } else {
                        0.0
                    };
                }
                planner.push(&chunk, &mut ready)?;
                for w in ready.drain(..) {
                    self.recognise_planned(state, &w, job, &mut words)?;
                }
            }
            planner.finish(&mut ready)?;
            for w in ready.drain(..) {
                self.recognise_planned(state, &w, job, &mut words)?;
            }
            Ok(words)
        })?;
        Ok(transcript_from_words(collapse_repeats(words)))
    }

    /// Recognises one planned window and appends its words, in media time, to `words`.
    fn recognise_planned(
        &self,
        state: &mut WhisperState,
        w: &PlannedWindow,
        job: &Job<'_>,
        words: &mut Vec<Word>,
    ) -> Result<(), AsrError> {
        if is_silent(&w.audio) {
            return Ok(());
        }
        self.windows_decoded.fetch_add(1, Ordering::Relaxed);
        let mut tokens = self.recognise_window(state, &w.audio, job, w.speech.is_some())?;
        // Timing correction in window time, against the window's own signal.
        let mut speech = SpeechMap::new(&w.audio);
        if let Some(ranges) = &w.speech {
            speech.restrict(ranges);
        }
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
            let (s, e) = speech.snap(t.t0, t.t1, role);
            (t.t0, t.t1) = w.map.to_media_ms(s, e);
        }
        let mut new = words_from_tokens(&tokens);
        drop_seam_duplicate(words, &mut new, w.map.start_ms());
        words.extend(new);
        Ok(())
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
