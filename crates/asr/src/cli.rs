//! `sealscribe transcribe FILE`: transcribe one media file on the command line.
//!
//! The binary crate adds `Transcribe(sealscribe_asr::cli::TranscribeArgs)` to its subcommands
//! and calls [`run`]; `examples/transcribe.rs` does the same for development.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use crate::{AsrArgs, RecognitionOptions, SpeechEngine, WhisperEngine};

/// Arguments of `sealscribe transcribe`.
#[derive(clap::Args, Clone, Debug)]
pub struct TranscribeArgs {
    /// Media file to transcribe (any format ffmpeg reads: WAV, MP3, FLAC, Ogg/Opus, M4A, MP4…).
    pub file: PathBuf,

    /// Print the VoiceBase v3 transcript JSON instead of plain text.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub asr: AsrArgs,
}

/// Loads the model, transcribes `args.file` and prints the transcript to stdout.
///
/// # Errors
/// A missing/corrupt model, unreadable media or an engine failure, with a message saying which.
pub fn run(args: TranscribeArgs) -> anyhow::Result<()> {
    let cfg = args.asr.to_config();
    // Probe first: a bad file is reported before the model is loaded.
    let info = crate::probe(&args.file)
        .with_context(|| format!("cannot transcribe {}", args.file.display()))?;
    let engine = WhisperEngine::load(&cfg).context("cannot load the speech model")?;
    let transcript = engine
        .transcribe(&args.file, &info, &RecognitionOptions::default())
        .with_context(|| format!("cannot transcribe {}", args.file.display()))?;
    // Plain text is the rendition `GET …/transcript/text` serves (it ends with its own newline).
    let rendered = if args.json {
        serde_json::to_string_pretty(&transcript)? + "\n"
    } else {
        transcript.text()
    };
    match std::io::stdout().lock().write_all(rendered.as_bytes()) {
        // `sealscribe transcribe f --json | head` is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}
