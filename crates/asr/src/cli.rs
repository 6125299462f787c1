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

    /// The language spoken in the media, as the API's `speechModel.language`: English (`en-US`,
    /// `en-UK`, `en-GB`, `en-AU`, … or `en`) or Spanish (`es-US`, `es-ES`, `es-MX`, … or `es`;
    /// needs the multilingual `base` model). Case does not matter.
    #[arg(long, value_name = "TAG", default_value = "en-US", value_parser = parse_language)]
    pub language: String,

    /// A custom vocabulary term (repeat for more, most important first): a word or phrase
    /// recognition is biased towards, as the API's `configuration.vocabularies[].terms`.
    #[arg(long = "vocabulary", value_name = "TERM")]
    pub vocabulary: Vec<String>,

    #[command(flatten)]
    pub asr: AsrArgs,
}

/// The stored form of an accepted language tag, or the API's message (code 10401) for one that
/// is not: the same table, [`sealscribe_domain::language`], decides both.
fn parse_language(tag: &str) -> Result<String, String> {
    use sealscribe_domain::language;
    language::normalise(tag).map(str::to_owned).ok_or_else(|| {
        format!(
            "language `{tag}` is not supported; sealscribe recognises English and Spanish. Use \
             one of {} (or leave out --language for `en-US`).",
            language::accepted()
        )
    })
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
    let language = sealscribe_domain::language::whisper_code(&args.language)
        .with_context(|| format!("language `{}` is not supported", args.language))?;
    let opts = RecognitionOptions {
        language: language.to_owned(),
        vocabulary: args.vocabulary.clone(),
        ..RecognitionOptions::default()
    };
    let engine = WhisperEngine::load(&cfg).context("cannot load the speech model")?;
    if !engine.recognises(language) {
        anyhow::bail!(
            "the `{}` model recognises English only and {} is not English; use --asr-model base \
             (multilingual)",
            cfg.model,
            args.language
        );
    }
    let transcript = engine
        .transcribe(&args.file, &info, &opts)
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        args: TranscribeArgs,
    }

    fn language(extra: &[&str]) -> Result<String, clap::Error> {
        let argv = [&["transcribe", "call.wav"], extra].concat();
        Cli::try_parse_from(argv).map(|c| c.args.language)
    }

    /// `--language` takes what `speechModel.language` takes, stored in the same form.
    #[test]
    fn language_accepts_the_api_tags() {
        assert_eq!(language(&[]).unwrap(), "en-US");
        assert_eq!(language(&["--language", "es-ES"]).unwrap(), "es-ES");
        assert_eq!(language(&["--language", "en-gb"]).unwrap(), "en-GB");
        assert_eq!(language(&["--language", "es"]).unwrap(), "es-US");
        assert_eq!(language(&["--language", "es-419"]).unwrap(), "es-419");
    }

    /// Anything else is refused with the API's words, naming the accepted tags.
    #[test]
    fn unsupported_language_is_a_clear_error() {
        for bad in ["fr-FR", "klingon", "", "en-XX"] {
            let e = language(&["--language", bad]).unwrap_err();
            assert_eq!(e.kind(), clap::error::ErrorKind::ValueValidation, "{bad}");
            let msg = e.to_string();
            assert!(msg.contains("is not supported"), "{msg}");
            assert!(msg.contains("en-US, en-UK"), "{msg}");
            assert!(msg.contains("es-ES"), "{msg}");
        }
    }
}
