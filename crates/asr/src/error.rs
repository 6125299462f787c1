//! The one error type of the crate.
//!
//! Callers branch on it in two ways only: [`AsrError::is_bad_media`] tells the API to answer with
//! v3 code 10201 (the client sent something we cannot listen to), everything else is a server-side
//! failure (missing tools, missing model, engine failure) that must be logged and fixed by an
//! operator. The `Display` texts are written for those two audiences: a client reading an error
//! body, and an operator reading a log line at start-up.

use std::path::PathBuf;

/// Everything that can go wrong between a media file and a transcript.
#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    /// ffprobe/ffmpeg could not read the file: not media, truncated, or an unknown container.
    #[error("the media file cannot be read ({detail})")]
    UnreadableMedia {
        /// What ffprobe/ffmpeg said, or what was missing from their answer.
        detail: String,
    },

    /// The file is readable media but carries no audio stream (e.g. a silent video).
    #[error("the media file has no audio stream (streams found: {streams})")]
    NoAudio {
        /// The stream types that were found, e.g. `video` — so the client sees why.
        streams: String,
    },

    /// The media lasts longer than the operator allows (decided from its headers, before any
    /// decoding).
    #[error(
        "the media lasts {}, longer than the {} this service accepts; split it into shorter parts",
        hms(*duration_ms),
        hms(*max_ms)
    )]
    TooLong {
        /// The duration ffprobe read from the headers, in milliseconds.
        duration_ms: u64,
        /// The configured maximum, in milliseconds.
        max_ms: u64,
    },

    /// ffprobe/ffmpeg did not finish in time; the child was killed.
    #[error(
        "{tool} did not finish within {seconds} s and was stopped; the media file is probably malformed"
    )]
    MediaTimeout {
        /// `ffprobe` or `ffmpeg`.
        tool: &'static str,
        /// The limit that was hit.
        seconds: u64,
    },

    /// A required external program is not installed (an operator problem, not the client's).
    #[error(
        "`{tool}` could not be started ({source}); install it with scripts/setup.sh (Debian package `ffmpeg`)"
    )]
    ToolMissing {
        /// The program name.
        tool: &'static str,
        /// Why spawning failed.
        #[source]
        source: std::io::Error,
    },

    /// The model package has not been fetched into the model directory.
    #[error("speech model `{model}` is not installed: {missing} does not exist; run `scripts/fetch-model.sh {model}` (model directory: {dir}, set with --model-dir / SEALSCRIBE_MODEL_DIR)", missing = missing.display(), dir = dir.display())]
    ModelMissing {
        /// The model name as given on the command line.
        model: String,
        /// The model directory that was searched.
        dir: PathBuf,
        /// The first file found missing.
        missing: PathBuf,
    },

    /// A model file exists but is damaged, truncated, of the wrong version or unsupported.
    #[error("speech model file {path} is unusable: {reason}", path = path.display())]
    ModelInvalid {
        /// The offending file.
        path: PathBuf,
        /// What exactly is wrong with it.
        reason: String,
    },

    /// A caller passed a parameter outside its documented domain (a bug in the caller, not bad
    /// media and not an operator problem), e.g. a redaction tone above the Nyquist frequency.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// The media's language needs a multilingual model and the loaded one is English-only
    /// (`tiny.en`): this server's configuration cannot serve the request.
    #[error(
        "this server's speech model recognises English only, so media in language \
         `{language}` cannot be transcribed; the operator can run the multilingual model \
         (--asr-model base), or the media can be sent again as English"
    )]
    LanguageNotSupported {
        /// Whisper's code for the requested language, e.g. `es`.
        language: String,
    },

    /// whisper.cpp refused to load the model or failed while recognising.
    #[error("speech recognition engine failed: {0}")]
    Engine(String),

    /// A file-system operation failed (model cache, temporary files).
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl AsrError {
    /// True when the *input media* is at fault (unreadable, no audio, decoder hang): the API maps
    /// this to v3 error code 10201. False for operator-side failures (tools, model, engine, I/O).
    pub fn is_bad_media(&self) -> bool {
        matches!(
            self,
            AsrError::UnreadableMedia { .. }
                | AsrError::NoAudio { .. }
                | AsrError::MediaTimeout { .. }
                | AsrError::TooLong { .. }
        )
    }

    /// What a customer may be told about bad media: the `Display` text, except that what
    /// ffprobe/ffmpeg said about an unreadable file stays in the operator's log (it can quote
    /// server paths, or names a hostile file made ffmpeg look for).
    pub fn customer_message(&self) -> String {
        match self {
            AsrError::UnreadableMedia { .. } => "the media file cannot be read: it is damaged, \
                 or not an audio or video file in a format this service accepts"
                .into(),
            other => other.to_string(),
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        AsrError::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn invalid(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        AsrError::ModelInvalid {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

/// `h:mm:ss` for durations in messages.
fn hms(ms: u64) -> String {
    let s = ms.div_ceil(1000);
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

impl From<sealscribe_ingress::child::ChildError> for AsrError {
    fn from(e: sealscribe_ingress::child::ChildError) -> Self {
        use sealscribe_ingress::child::ChildError;
        match e {
            ChildError::Spawn { tool, source } => AsrError::ToolMissing { tool, source },
            ChildError::Timeout { tool, seconds } => AsrError::MediaTimeout { tool, seconds },
            ChildError::Wait { tool, source } => {
                AsrError::io(format!("waiting for {tool}"), source)
            }
            ChildError::Output { tool, what } => AsrError::Engine(format!("{tool}: {what}")),
        }
    }
}
