//! `sealscribe client …`: the customer's side of sealscribe, in the same binary as the server.
//!
//! Why a client at all, when `curl` and `gpg` do the job (README)? Because the headline
//! feature, Client Supplied Encryption, is only as good as the customer's handling of their
//! secret key and of partially decrypted output, and because multi-GiB uploads and downloads
//! want progress and resumption. This crate wraps the v3 API (keys, media, progress,
//! transcripts, streams) and decrypts results **locally** with `sealscribe-openpgp`:
//!
//! - The secret key never leaves the machine: it is read from a file (refused when group or
//!   others can read it), used in this process, and zeroized. Nothing here sends it anywhere;
//!   `keys upload` even refuses a secret key before any byte goes on the wire.
//! - Uploads and downloads stream (memory does not grow with file size); downloads to a file
//!   resume with `Range`; decryption streams too (see `sealscribe_openpgp::decrypt` for what
//!   that means when a message was tampered with).
//! - Output fits a terminal and a script: human-readable by default, the API's JSON with
//!   `--json`; progress on stderr (bars on a terminal, throttled plain lines otherwise); and
//!   exit codes that tell local failures, API refusals and server trouble apart
//!   ([`EXIT_CODES`]).
//!
//! # Layout
//! - `error`: [`Error`], each variant with its exit code.
//! - `api`: one HTTP client, the token on every request, v3 error envelopes to [`Error`].
//! - `progress`: progress bars or plain progress lines on stderr.
//! - `secret`: the secret key and passphrase files, and local decryption.
//! - `keys`: `client keys …`, and the output helpers the subcommands share.
//! - [`callback`]: verifying a signed callback request on the receiving side (a library
//!   function for receivers written in Rust; docs/callbacks.md has the same in Python).
//! - `verify_callback`: `client verify-callback`, [`callback`] on a saved request.
//! - `media`: `client media …`, one file per subcommand (`upload`, `wait`, `get`,
//!   `transcript`, `list`, `delete`, `download`, `results`).
//!
//! The binary flattens [`ClientArgs`] as its `client` subcommand and awaits [`run`]; the
//! client never opens the server's database or data directory. See `docs/client.md`.

/// `println!` for results on stdout. When stdout is closed (`sealscribe client media list |
/// head -1`), the command ends quietly with exit 0, as ripgrep does, instead of `println!`'s
/// panic (exit 101, outside the documented exit codes).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            $crate::stdout_failed(e)
        }
    }};
}

/// Ends the process after a failed write of results to stdout: exit 0 for a closed pipe (the
/// reader has all it wanted), else the local-error exit 1.
pub(crate) fn stdout_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("error: writing to stdout: {e}");
    std::process::exit(1);
}

mod api;
pub mod callback;
mod error;
mod keys;
mod media;
mod progress;
mod secret;
mod verify_callback;

use std::path::PathBuf;
use std::str::FromStr;

use clap::{Args, Subcommand, ValueEnum};
use zeroize::Zeroizing;

pub use crate::error::Error;

/// The exit codes, as shown by `sealscribe client --help`.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  local error: a file, the secret key or passphrase, decryption (wrong key, tampered message)
  2  usage error: unknown command, bad flag or argument
  3  the API refused the request (HTTP 4xx: no or bad token, unknown id, invalid input)
  4  the server failed (HTTP 5xx) or could not be reached
  5  media wait: the media failed to process
  6  media wait: --timeout elapsed before the media finished
  7  not encrypted: media results got an answer that is not an encrypted OpenPGP message
     (or decrypt such an input); nothing of it is printed
  8  extra recipients: the message is also encrypted to keys that are not in your
     --secret-key file(s) (or to an anonymous recipient or a password); nothing is
     decrypted. --allow-extra-recipients decrypts it anyway, with a warning
  9  verify-callback: the callback request does not verify (signature, timestamp,
     or only the deprecated v1 signature without --accept-v1)

Errors from the API show its status, v3 error code, message and reference, e.g.
  error: 404 (code 10205): Media … not found [reference 1b4e…]";

const ABOUT: &str = "Talk to a sealscribe (VoiceBase v3) API and decrypt results locally";

const LONG_ABOUT: &str = "\
Talk to a sealscribe (VoiceBase v3) API: manage public keys, upload media (with Client \
Supplied Encryption), wait for processing, read transcripts, download streams (resuming), \
and decrypt results on this machine with your OpenPGP secret key.

The secret key never leaves this machine: it is read from a file that must be private \
(chmod 600), used in this process only, and sent nowhere.

Human-readable output by default; --json prints the API's JSON. Progress goes to stderr \
(bars on a terminal, plain lines otherwise; --quiet for none); stdout carries only results, \
so `ID=$(sealscribe client media upload call.wav)` works.";

/// `sealscribe client …`.
#[derive(Args, Debug)]
#[command(
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_long_help = EXIT_CODES,
    next_help_heading = "Client options"
)]
pub struct ClientArgs {
    /// Base URL of the sealscribe API (http or https).
    #[arg(
        long,
        env = "SEALSCRIBE_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub url: String,
    /// Bearer token of your account (prefer the environment variable: command lines are
    /// visible to other users of the machine).
    #[arg(long, env = "SEALSCRIBE_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<Token>,
    /// Print the API's JSON instead of human-readable output.
    #[arg(long, global = true)]
    pub json: bool,
    /// No progress bars or progress lines, no notes on stderr (errors are still shown).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: ClientCommand,
}

/// A bearer token. Never printed: `Debug` hides it, and it is zeroized when dropped.
#[derive(Clone)]
pub struct Token(Zeroizing<String>);

impl Token {
    fn expose(&self) -> &str {
        &self.0
    }
}

impl FromStr for Token {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Token(Zeroizing::new(s.trim().to_owned())))
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(***)")
    }
}

#[derive(Subcommand, Debug)]
pub enum ClientCommand {
    /// Manage the OpenPGP public keys results are encrypted to.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Upload media, follow processing, read results.
    #[command(subcommand)]
    Media(MediaCommand),
    /// Decrypt an OpenPGP message from stdin to stdout with your secret key (streaming:
    /// constant memory; if the message was tampered with, the error comes at the end and
    /// the output written so far must be discarded). Every recipient of the message is
    /// listed on stderr; one that is not yours fails (exit 8) unless allowed.
    Decrypt(SecretKeyArgs),
    /// Check a callback request you received (`X-Sealscribe-Signature`, docs/callbacks.md):
    /// the raw body from BODY or stdin, the headers as flags. Prints `v2` when it verifies
    /// (exit 0); exit 9 when it does not. Local: nothing is sent.
    VerifyCallback(VerifyCallbackArgs),
}

/// `client verify-callback`.
#[derive(Args, Debug)]
pub struct VerifyCallbackArgs {
    /// A file whose first line is your callback secret (`whsec_…`, from
    /// `GET /v3/security/callback-secret`); it must be private (chmod 600).
    #[arg(long, value_name = "FILE")]
    pub secret_file: PathBuf,
    /// The `X-Sealscribe-Signature` header's value (`t=…,v1=…,v2=…`).
    #[arg(long, value_name = "VALUE")]
    pub signature: String,
    /// The `X-Sealscribe-Media-Id` header's value.
    #[arg(long, value_name = "ID")]
    pub media_id: String,
    /// The `X-Sealscribe-Callback-Type` header's value.
    #[arg(long, value_name = "TYPE")]
    pub callback_type: String,
    /// How far the signature's timestamp may be from now, in seconds (replays).
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub tolerance_secs: u64,
    /// Accept the deprecated v1 signature when there is no v2 (only for a server older than
    /// v2; the media id and callback type are then not authenticated).
    #[arg(long)]
    pub accept_v1: bool,
    /// The raw request body (stdin when absent).
    #[arg(value_name = "BODY")]
    pub body: Option<PathBuf>,
    /// Accept a secret file that group or others may read.
    #[arg(long)]
    pub allow_insecure_key_file: bool,
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Upload an OpenPGP public key (`gpg --armor --export KEYID > key.asc`); prints its id.
    /// A secret key is refused here, before anything is sent.
    Upload { file: PathBuf },
    /// List your keys' ids.
    List,
    /// Print a key exactly as uploaded.
    Show { id: String },
    /// Delete a key (media already accepted stays encrypted to it).
    Delete { id: String },
}

#[derive(Subcommand, Debug)]
pub enum MediaCommand {
    /// Upload a media file (streamed, with progress); prints the media id.
    Upload {
        file: PathBuf,
        /// Encrypt the results to this public key (Client Supplied Encryption).
        #[arg(long)]
        public_key_id: Option<String>,
        /// The v3 `configuration` JSON, inline or `@file`.
        #[arg(long, value_name = "JSON|@FILE")]
        config: Option<String>,
        /// The v3 `metadata` JSON, inline or `@file`.
        #[arg(long, value_name = "JSON|@FILE")]
        metadata: Option<String>,
    },
    /// Follow processing until the media is finished (exit 0) or failed (exit 5).
    Wait {
        id: String,
        /// Give up after this many seconds (exit 6).
        #[arg(long, value_name = "SECS")]
        timeout: Option<u64>,
        /// Seconds between polls.
        #[arg(long, default_value_t = 1.0, hide = true)]
        interval: f64,
    },
    /// Show the media document.
    Get { id: String },
    /// Print the transcript (of media that is not encrypted).
    Transcript {
        id: String,
        #[arg(long, value_enum, default_value_t = TranscriptFormat::Text)]
        format: TranscriptFormat,
    },
    /// List media, newest first, optionally matching a full-text query.
    List {
        #[arg(long)]
        query: Option<String>,
        /// At most this many (the API's default is 100, its maximum 1000).
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Delete media with every stream, transcript and index entry.
    Delete { id: String },
    /// Download a stream (e.g. `original`, `original-encrypted`) with progress; to a file,
    /// an interrupted download resumes where the file ends.
    Download {
        id: String,
        stream: String,
        /// Write to FILE (resuming if it exists and is shorter) instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Fetch the encrypted document of encrypted media and decrypt it here; prints the JSON.
    /// An answer that is not encrypted is refused (exit 7) and not printed; recipients are
    /// listed and checked as by `decrypt`.
    Results {
        id: String,
        #[command(flatten)]
        key: SecretKeyArgs,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TranscriptFormat {
    Text,
    Srt,
    Webvtt,
    /// DFXP (TTML) captions, XML.
    Dfxp,
    Json,
}

/// Where the secret key comes from, and what the message's recipients may be.
#[derive(Args, Debug)]
pub struct SecretKeyArgs {
    /// Your OpenPGP secret key (`gpg --armor --export-secret-keys KEYID`), armored or binary.
    /// It is used on this machine only. Give it more than once for several key files: each
    /// may decrypt, and the recipients in any of them count as yours.
    #[arg(long, value_name = "FILE", required = true)]
    pub secret_key: Vec<PathBuf>,
    /// A file whose first line is the key's passphrase.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Accept key and passphrase files that group or others may read.
    #[arg(long)]
    pub allow_insecure_key_file: bool,
    /// Decrypt even when the message is also encrypted to keys that are not in your
    /// --secret-key file(s), to an anonymous recipient or to a password (whoever holds them
    /// can read it too); a warning names them. Without it, such a message fails (exit 8).
    #[arg(long)]
    pub allow_extra_recipients: bool,
}

/// Shared settings of one run.
pub(crate) struct Ui {
    pub json: bool,
    pub quiet: bool,
}

impl Ui {
    /// A note for the person at the terminal (stderr), unless `--quiet`.
    pub fn note(&self, text: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", text.as_ref());
        }
    }
}

/// Runs one client command. The error's [`Error::exit_code`] is the process exit code.
pub async fn run(args: ClientArgs) -> Result<(), Error> {
    let ui = Ui {
        json: args.json,
        quiet: args.quiet,
    };
    match args.command {
        ClientCommand::Decrypt(key) => secret::decrypt_stdin(&key, &ui).await,
        ClientCommand::VerifyCallback(args) => verify_callback::run(args).await,
        ClientCommand::Keys(cmd) => {
            let api = api::Api::new(&args.url, args.token)?;
            keys::run(&api, &ui, cmd).await
        }
        ClientCommand::Media(cmd) => {
            let api = api::Api::new(&args.url, args.token)?;
            media::run(&api, &ui, cmd).await
        }
    }
}
