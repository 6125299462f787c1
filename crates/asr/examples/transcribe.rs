//! Development stand-in for `sealscribe transcribe`: the same arguments, the same code path.
//!
//! `cargo run -p sealscribe-asr --example transcribe -- FILE [--json] [--asr-model base]`

use clap::Parser;

#[derive(Parser)]
#[command(about = "Transcribe a media file (same as `sealscribe transcribe`)")]
struct Cli {
    #[command(flatten)]
    args: sealscribe_asr::cli::TranscribeArgs,
}

fn main() -> anyhow::Result<()> {
    sealscribe_asr::cli::run(Cli::parse().args)
}
