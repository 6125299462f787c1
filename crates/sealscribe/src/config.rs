//! The one typed configuration: every setting is a flag with a `SEALSCRIBE_…`
//! environment variable, parsed once at start.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "sealscribe",
    version,
    about = "A self-hosted VoiceBase v3 compatible speech-analytics API with Client Supplied Encryption"
)]
pub struct Cli {
    #[command(flatten)]
    pub storage: StorageArgs,
    #[command(flatten)]
    pub log: LogArgs,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses the command line (exiting on usage errors, with clap's code 2). For
    /// `client`, logs are off unless `--log`/`SEALSCRIBE_LOG` asks for them: the client
    /// reports its own errors, and dependency logs (e.g. a TLS verifier's) are noise there.
    pub fn parse_args() -> Cli {
        use clap::{CommandFactory as _, FromArgMatches as _, parser::ValueSource};
        let matches = Cli::command().get_matches();
        let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        if let Command::Client(_) = cli.command
            && matches.value_source("log") == Some(ValueSource::DefaultValue)
        {
            cli.log.log = "off".into();
        }
        cli
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the HTTP API and in-process workers (`--workers 0`: API only).
    Serve(ServeArgs),
    /// Run workers only, no HTTP: any number of them, on any number of
    /// machines sharing the database and blob store.
    Worker(WorkerCommandArgs),
    /// Manage accounts.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Manage bearer tokens (stored hashed; shown once).
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Apply database migrations and exit (serve also applies them at start).
    Migrate,
    /// Manage the key-encryption key that wraps the seal keys of media in processing.
    #[command(subcommand)]
    Kek(KekCommand),
    /// Transcribe a media file locally and print the transcript (no server needed).
    Transcribe(sealscribe_asr::cli::TranscribeArgs),
    // The customer's side; its help text, with the exit codes, is in sealscribe-client.
    // It opens no database or data directory (the storage flags parse and are ignored).
    Client(sealscribe_client::ClientArgs),
}

#[derive(Subcommand, Debug)]
pub enum AccountsCommand {
    /// Create an account and print its first bearer token, alone on stdout.
    Create {
        /// A unique name for the account.
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokensCommand {
    /// Create another token for an account (by name or id) and print it.
    Create {
        account: String,
        /// What the token may do (docs/api-keys.md), e.g. `media:get`; default
        /// `user`: everything, managing API keys included.
        #[arg(long, default_value = "user")]
        scope: String,
        /// Seconds until the token expires; default: never.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=(100 * 366 * 86400)))]
        expires_in_secs: Option<u64>,
    },
    /// List an account's tokens (prefixes only; tokens are never stored).
    List { account: String },
    /// Revoke a token, given its prefix as shown by `tokens list` or the whole token.
    Revoke { token_prefix: String },
}

#[derive(Subcommand, Debug)]
pub enum KekCommand {
    /// Create the key-encryption key file (--kek-file, default DATA_DIR/kek) and print its id.
    /// For PostgreSQL: run once, then copy the file (mode 600) to every API and worker machine.
    Init,
    /// Put a new current KEK in front of the file's keys and rewrap the seal key of every
    /// media item in processing under it. Running processes pick the new file up by
    /// themselves; the old keys stay in the file until `kek retire`.
    Rotate,
    /// Remove from the file every KEK but the current one that no stored seal key is
    /// wrapped under any more (after `rotate`, once every machine has the new file).
    Retire,
}

/// Key-encryption keys given as text (`SEALSCRIBE_KEK`): never printed.
#[derive(Clone)]
pub struct KekText(pub String);

impl std::str::FromStr for KekText {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

impl std::fmt::Debug for KekText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KekText(…)")
    }
}

/// Where sealscribe keeps its state.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Storage options (server side)")]
pub struct StorageArgs {
    /// Directory for the embedded database and blobs.
    #[arg(
        long,
        env = "SEALSCRIBE_DATA_DIR",
        default_value = "./sealscribe-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Metadata database URL [default: sqlite://DATA_DIR/sealscribe.db].
    #[arg(
        long,
        env = "SEALSCRIBE_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Blob store URL: `file:///DIR` or `s3://BUCKET[/PREFIX]` [default: file://DATA_DIR/blobs].
    /// S3 credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
    #[arg(long, env = "SEALSCRIBE_BLOB_STORE", global = true)]
    pub blob_store: Option<String>,
    /// S3-compatible endpoint for a non-AWS store (e.g. http://minio:9000), addressed
    /// path-style [default: AWS, or AWS_ENDPOINT_URL].
    #[arg(long, env = "SEALSCRIBE_S3_ENDPOINT", global = true)]
    pub s3_endpoint: Option<String>,
    /// The bucket's region [default: AWS_REGION / AWS_DEFAULT_REGION, else us-east-1].
    #[arg(long, env = "SEALSCRIBE_S3_REGION", global = true)]
    pub s3_region: Option<String>,
    /// Key-encryption key file (mode 600): the database holds the seal key of a media item
    /// in processing only wrapped under it, so a database copy opens nothing
    /// (docs/encryption.md). Every API and worker process must read the same keys
    /// [default: DATA_DIR/kek, created on first start — with the embedded SQLite database
    /// only; PostgreSQL refuses to start without this or SEALSCRIBE_KEK].
    #[arg(long, env = "SEALSCRIBE_KEK_FILE", global = true)]
    pub kek_file: Option<PathBuf>,
    /// Key-encryption keys instead of --kek-file: 64 hex digits each, current first,
    /// separated by commas. Give it in the environment (a flag shows in `ps`); it cannot be
    /// rotated in place, a file can.
    #[arg(
        long,
        env = "SEALSCRIBE_KEK",
        global = true,
        hide_env_values = true,
        conflicts_with = "kek_file"
    )]
    pub kek: Option<KekText>,
}

impl StorageArgs {
    /// The data directory as an absolute path, created if missing.
    pub fn data_dir(&self) -> anyhow::Result<PathBuf> {
        std::fs::create_dir_all(&self.data_dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot create data directory {}: {e}",
                self.data_dir.display()
            )
        })?;
        Ok(std::path::absolute(&self.data_dir)?)
    }

    pub fn database_url(&self) -> anyhow::Result<String> {
        match &self.database_url {
            Some(url) => Ok(url.clone()),
            None => Ok(sqlite_url(&self.data_dir()?.join("sealscribe.db"))),
        }
    }

    /// Opens the blob store these flags name.
    pub fn blob_store(&self) -> anyhow::Result<sealscribe_store::BlobStore> {
        let settings = sealscribe_store::S3Settings {
            endpoint: self.s3_endpoint.clone(),
            region: self.s3_region.clone(),
        };
        Ok(sealscribe_store::BlobStore::open_with(
            &self.blob_store_url()?,
            &settings,
        )?)
    }

    /// The key file `kek init`, `rotate` and `retire` work on.
    pub fn kek_path(&self) -> anyhow::Result<PathBuf> {
        match &self.kek_file {
            Some(path) => Ok(path.clone()),
            None => Ok(self.data_dir()?.join("kek")),
        }
    }

    /// The key-encryption keys of this process (see `kek_file`). With the
    /// embedded database and no setting, `DATA_DIR/kek` is created on first
    /// start; with PostgreSQL the keys must be given, because API and worker
    /// processes on other machines must hold the same ones, and a key made up
    /// on one machine would leave the others unable to unwrap.
    pub fn keyring(&self) -> anyhow::Result<std::sync::Arc<sealscribe_seal::kek::Keyring>> {
        use sealscribe_seal::kek::Keyring;
        let ring = if let Some(text) = &self.kek {
            Keyring::from_text(&text.0).map_err(|e| anyhow::anyhow!("SEALSCRIBE_KEK: {e}"))?
        } else if let Some(path) = &self.kek_file {
            Keyring::open(path).map_err(|e| {
                anyhow::anyhow!(
                    "{e} (create it with `sealscribe --kek-file {} kek init`)",
                    path.display()
                )
            })?
        } else if self.database_url()?.starts_with("sqlite:") {
            let path = self.data_dir()?.join("kek");
            let (ring, created) = Keyring::open_or_create(&path)?;
            if created {
                tracing::info!(path = %path.display(), kek_id = ring.current_id(), "created the key-encryption key file");
            }
            ring
        } else {
            anyhow::bail!(
                "with PostgreSQL every API and worker process must hold the same key-encryption \
                 key, which wraps the seal keys in the database: create it once with \
                 `sealscribe --kek-file /etc/sealscribe/kek kek init`, copy the file (mode 600) \
                 to every machine, and give it with --kek-file or SEALSCRIBE_KEK_FILE (or the \
                 keys themselves in SEALSCRIBE_KEK); docs/deployment.md"
            );
        };
        tracing::info!(
            kek_id = ring.current_id(),
            keys = ring.ids().len(),
            "key-encryption keys loaded"
        );
        Ok(std::sync::Arc::new(ring))
    }

    pub fn blob_store_url(&self) -> anyhow::Result<String> {
        match &self.blob_store {
            Some(url) => Ok(url.clone()),
            None => Ok(format!(
                "file://{}",
                self.data_dir()?.join("blobs").display()
            )),
        }
    }
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the bound address is printed).
    #[arg(long, env = "SEALSCRIBE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Largest accepted media upload, in bytes.
    #[arg(long, env = "SEALSCRIBE_MAX_UPLOAD_BYTES", default_value_t = 8 << 30)]
    pub max_upload_bytes: u64,
    /// On an S3 blob store, answer stream downloads with a 302 to a pre-signed URL valid
    /// this many seconds, so the bytes go from the bucket to the client directly.
    /// 0: the API serves the bytes itself (works when clients cannot reach the bucket).
    #[arg(long, env = "SEALSCRIBE_STREAM_REDIRECT_SECS", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=604_800))]
    pub stream_redirect_secs: u64,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub metrics: MetricsArgs,
    #[command(flatten)]
    pub workers: WorkerArgs,
}

/// What one client may ask of the HTTP server (docs/security.md says what each
/// protects against).
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "HTTP limits")]
pub struct HttpArgs {
    /// Bytes a request body may have beyond --max-upload-bytes (the other parts and
    /// the multipart framing); larger bodies are refused (413, 10801) as they stream.
    #[arg(long, env = "SEALSCRIBE_MAX_REQUEST_OVERHEAD_BYTES", default_value_t = 1 << 20)]
    pub max_request_overhead_bytes: u64,
    /// Bytes allowed before the first multipart boundary (400, 10802); a body that
    /// never shows its boundary is refused after this many.
    #[arg(long, env = "SEALSCRIBE_MAX_MULTIPART_PREAMBLE_BYTES", default_value_t = 16 << 10, value_parser = clap::value_parser!(u64).range(0..=(16 << 20)))]
    pub max_multipart_preamble_bytes: u64,
    /// Bytes allowed in one multipart part's header block (400, 10803).
    #[arg(long, env = "SEALSCRIBE_MAX_PART_HEADER_BYTES", default_value_t = 8 << 10, value_parser = clap::value_parser!(u64).range(256..=(1 << 20)))]
    pub max_part_header_bytes: u64,
    /// Parts allowed in one multipart request (400, 10804).
    #[arg(long, env = "SEALSCRIBE_MAX_PARTS", default_value_t = 16, value_parser = clap::value_parser!(u64).range(4..=1000))]
    pub max_parts: u64,
    /// Seconds a client has to send a request's headers; a kept-alive connection
    /// waiting for its next request is closed after this too.
    #[arg(long, env = "SEALSCRIBE_HEADER_READ_TIMEOUT_SECS", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_read_timeout_secs: u64,
    /// Seconds a request body may stall (no bytes) before the request is refused (408, 10805).
    #[arg(long, env = "SEALSCRIBE_BODY_IDLE_TIMEOUT_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_idle_timeout_secs: u64,
    /// Seconds a connection stays open with no request in flight (at most
    /// --header-read-timeout-secs, which also runs while it waits).
    #[arg(long, env = "SEALSCRIBE_KEEP_ALIVE_TIMEOUT_SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub keep_alive_timeout_secs: u64,
    /// Connections served at once; more are answered 503 (90002) and closed.
    /// The open-files limit is raised to fit at start where the system allows.
    #[arg(long, env = "SEALSCRIBE_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,
    /// Callbacks one media's configuration may ask for (400, 60012); each `media`
    /// callback sends the whole original, with retries.
    #[arg(long, env = "SEALSCRIBE_MAX_CALLBACKS_PER_MEDIA", default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=100))]
    pub max_callbacks_per_media: u64,
    /// Terms one search `query` may have, `extendedFilter` conditions included (400,
    /// 10806); each is bound as database parameters.
    #[arg(long, env = "SEALSCRIBE_MAX_SEARCH_TERMS", default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub max_search_terms: u64,
    /// Characters one search term may have (400, 10807).
    #[arg(long, env = "SEALSCRIBE_MAX_SEARCH_TERM_CHARS", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub max_search_term_chars: u64,
    /// Bytes of metadata one listing page may carry: `limit` × 64 KiB (the largest
    /// metadata part) must not exceed it (400, 10808). The default allows limit=1000.
    #[arg(long, env = "SEALSCRIBE_MAX_LIST_BYTES", default_value_t = 1000 << 16, value_parser = clap::value_parser!(u64).range((64 << 10)..))]
    pub max_list_bytes: u64,
    /// Characters a category's VBQL query may have (`PUT /v3/definition/categories/{name}`:
    /// 400, 80404). Queries are parsed when saved and again at each upload that selects them.
    #[arg(long, env = "SEALSCRIBE_MAX_CATEGORY_QUERY_CHARS", default_value_t = 4000, value_parser = clap::value_parser!(u64).range(64..=100_000))]
    pub max_category_query_chars: u64,
    /// Seconds an ephemeral API key may live (`POST /v3/profile/keys` with
    /// `ephemeral: true`; 70003/70005 beyond). VoiceBase v3 allowed 2 hours.
    #[arg(long, env = "SEALSCRIBE_MAX_EPHEMERAL_KEY_SECS", default_value_t = 7200, value_parser = clap::value_parser!(u64).range(1..=(366 * 86400)))]
    pub max_ephemeral_key_secs: u64,
}

impl HttpArgs {
    /// The accept loop's limits; `max_upload_bytes` sizes the body cap.
    pub fn server_limits(&self, max_upload_bytes: u64) -> sealscribe_api::ServerLimits {
        use std::time::Duration;
        sealscribe_api::ServerLimits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            body_idle_timeout: Duration::from_secs(self.body_idle_timeout_secs),
            keep_alive_timeout: Duration::from_secs(self.keep_alive_timeout_secs),
            max_connections: self.max_connections as usize,
            max_body_bytes: max_upload_bytes.saturating_add(self.max_request_overhead_bytes),
        }
    }

    pub fn multipart_limits(&self) -> sealscribe_api::media::MultipartLimits {
        sealscribe_api::media::MultipartLimits {
            preamble: self.max_multipart_preamble_bytes as usize,
            part_header: self.max_part_header_bytes as usize,
            parts: self.max_parts as usize,
        }
    }
}

#[derive(Args, Debug)]
pub struct WorkerCommandArgs {
    #[command(flatten)]
    pub metrics: MetricsArgs,
    #[command(flatten)]
    pub workers: WorkerArgs,
}

#[derive(Args, Debug, Clone)]
pub struct MetricsArgs {
    /// Serve Prometheus metrics (`GET /metrics`, unauthenticated) on this address,
    /// apart from the API; keep it on a network only the operator's scraper
    /// reaches. Port 0 picks a free port (printed). Unset: no metrics.
    #[arg(long, env = "SEALSCRIBE_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
}

/// How this process's workers run jobs.
#[derive(Args, Debug, Clone)]
pub struct WorkerArgs {
    /// Jobs processed at once by this process.
    #[arg(long, env = "SEALSCRIBE_WORKERS", default_value_t = 1)]
    pub workers: usize,
    /// Seconds a job stays leased without renewal; a crashed worker's job is
    /// retried this long after its last renewal.
    #[arg(long, env = "SEALSCRIBE_JOB_LEASE_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(3..))]
    pub job_lease_secs: u64,
    /// The aging window of job priorities, in seconds: a job's place in the
    /// queue is the time it became due moved earlier by this much per priority
    /// step (`low` 0, `normal` 1, `high` 2; callback deliveries count as
    /// `normal`). So `high` media go first, yet a `normal` job waiting one window
    /// longer, or a `low` one waiting two windows longer, goes before a fresh
    /// `high` one: low-priority work always finishes. 0 turns priorities off
    /// (first come, first served). Give every process the same value.
    #[arg(long, env = "SEALSCRIBE_PRIORITY_AGING_SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(0..=31_536_000))]
    pub priority_aging_secs: u64,
    /// Attempts before a job that keeps failing is marked failed.
    #[arg(long, env = "SEALSCRIBE_JOB_MAX_ATTEMPTS", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub job_max_attempts: u32,
    /// Where the plaintext of encrypted media is kept while it is processed (the
    /// opened upload ffmpeg reads, redacted audio); sealscribe works in a directory
    /// `sealscribe-<uid>` of its own (owner-only) in it. Use a memory-backed file
    /// system (tmpfs), so that the plaintext never reaches a disk. A media too large
    /// for its free space is processed from the disk scratch instead (logged)
    /// [default: /dev/shm when it is tmpfs or ramfs and writable, else
    /// $XDG_RUNTIME_DIR when it is, else DATA_DIR/tmp on disk, with a warning].
    #[arg(long, env = "SEALSCRIBE_SCRATCH_DIR")]
    pub scratch_dir: Option<PathBuf>,
    /// Seconds a running job may continue after a shutdown signal before it is released.
    #[arg(long, env = "SEALSCRIBE_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,
    /// Lift every destination check on mediaUrls and callback URLs: any address
    /// (loopback, private, link-local, metadata services) and any port. For
    /// development and tests on one machine only; to let the server reach one
    /// internal media server, use --outbound-allow-networks instead.
    #[arg(long, env = "SEALSCRIBE_ALLOW_PRIVATE_URLS")]
    pub allow_private_urls: bool,
    /// Networks mediaUrls and callbacks may reach although they are on the deny
    /// list of special-purpose addresses (loopback, private, link-local…),
    /// comma-separated CIDRs or addresses, e.g. `10.20.0.0/16,fd00:1::/64`. The
    /// port list still applies. Empty: public addresses only.
    #[arg(long, env = "SEALSCRIBE_OUTBOUND_ALLOW_NETWORKS", value_delimiter = ',', value_parser = sealscribe_ingress::addrs::parse_network)]
    pub outbound_allow_networks: Vec<sealscribe_ingress::addrs::IpNet>,
    /// Ports mediaUrls and callbacks may use, comma-separated ports or ranges
    /// (e.g. `80,443,8000-8999`).
    #[arg(long, env = "SEALSCRIBE_OUTBOUND_PORTS", default_value = "80,443")]
    pub outbound_ports: sealscribe_ingress::PortList,
    /// Largest media fetched from a mediaUrl, in bytes.
    #[arg(long, env = "SEALSCRIBE_MEDIA_URL_MAX_BYTES", default_value_t = 8 << 30)]
    pub media_url_max_bytes: u64,
    /// Seconds allowed to fetch a mediaUrl.
    #[arg(long, env = "SEALSCRIBE_MEDIA_URL_TIMEOUT_SECS", default_value_t = 600)]
    pub media_url_timeout_secs: u64,
    /// Callback tries per round, back to back.
    #[arg(long, env = "SEALSCRIBE_CALLBACK_TRIES_PER_ROUND", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub callback_tries_per_round: u32,
    /// Delays before each further round of callback tries, comma-separated
    /// (`s`, `m`, `h` units); VoiceBase's schedule is the default. Empty: one round.
    #[arg(long, env = "SEALSCRIBE_CALLBACK_RETRY_DELAYS", default_value = "15m,30m,1h,2h,4h,8h", value_parser = parse_delays)]
    pub callback_retry_delays: Delays,
    /// Seconds one callback try may take.
    #[arg(long, env = "SEALSCRIBE_CALLBACK_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub callback_timeout_secs: u64,
    #[command(flatten)]
    pub asr: sealscribe_asr::AsrArgs,
    #[command(flatten)]
    pub media: MediaArgs,
}

/// How ffprobe/ffmpeg run on customer media (uploads are sniffed by the API,
/// probed and decoded by workers): the limits that bound them, whatever the
/// file claims. `docs/security.md` says what each protects.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Media tool options (ffprobe/ffmpeg)")]
pub struct MediaArgs {
    /// Longest media accepted, in seconds, as read from its headers before any
    /// decoding; longer media fails with code 10208. Decoding also stops just
    /// past it when a header understates the length.
    #[arg(long, env = "SEALSCRIBE_MAX_MEDIA_DURATION_SECS", default_value_t = 4 * 3600, value_parser = clap::value_parser!(u64).range(1..=30 * 24 * 3600))]
    pub max_media_duration_secs: u64,
    /// Seconds one ffprobe run (upload sniff, worker probe) may take.
    #[arg(long, env = "SEALSCRIBE_MEDIA_PROBE_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub media_probe_timeout_secs: u64,
    /// Seconds one ffmpeg decode may take, whatever the media's length; also
    /// the CPU-time limit of every ffprobe/ffmpeg process.
    #[arg(long, env = "SEALSCRIBE_MEDIA_DECODE_TIMEOUT_SECS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=7 * 24 * 3600))]
    pub media_decode_timeout_secs: u64,
    /// Address-space limit of one ffprobe/ffmpeg process, in bytes.
    #[arg(long, env = "SEALSCRIBE_MEDIA_MEMORY_BYTES", default_value_t = 2 << 30, value_parser = clap::value_parser!(u64).range((256 << 20)..))]
    pub media_memory_bytes: u64,
    /// Open-files limit of one ffprobe/ffmpeg process.
    #[arg(long, env = "SEALSCRIBE_MEDIA_OPEN_FILES", default_value_t = 64, value_parser = clap::value_parser!(u64).range(16..=65_536))]
    pub media_open_files: u64,
    /// Run ffprobe/ffmpeg in a bubblewrap sandbox (no network, only the input
    /// file visible): `auto` uses it when it works here and logs a warning
    /// when it does not, `bwrap` refuses to start without it, `off` never uses it.
    #[arg(long, env = "SEALSCRIBE_MEDIA_SANDBOX", value_enum, default_value_t = MediaSandbox::Auto)]
    pub media_sandbox: MediaSandbox,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaSandbox {
    Auto,
    Bwrap,
    Off,
}

impl MediaArgs {
    pub fn limits(&self) -> sealscribe_ingress::tools::MediaLimits {
        use sealscribe_ingress::tools::{MediaLimits, SandboxSetting};
        use std::time::Duration;
        MediaLimits {
            max_duration: Duration::from_secs(self.max_media_duration_secs),
            probe_timeout: Duration::from_secs(self.media_probe_timeout_secs),
            decode_timeout: Duration::from_secs(self.media_decode_timeout_secs),
            memory_bytes: self.media_memory_bytes,
            open_files: self.media_open_files,
            sandbox: match self.media_sandbox {
                MediaSandbox::Auto => SandboxSetting::Auto,
                MediaSandbox::Bwrap => SandboxSetting::Required,
                MediaSandbox::Off => SandboxSetting::Off,
            },
        }
    }

    /// Decides, once, how ffprobe/ffmpeg run in this process (logged); off
    /// the executor, since it runs a trial child.
    pub async fn install(&self) -> anyhow::Result<()> {
        let limits = self.limits();
        tokio::task::spawn_blocking(move || sealscribe_ingress::tools::install(limits))
            .await?
            .map_err(|e| anyhow::anyhow!(e))?;
        Ok(())
    }
}

/// A list of delays, e.g. `15m,30m,1h`.
#[derive(Clone, Debug, PartialEq)]
pub struct Delays(pub Vec<std::time::Duration>);

fn parse_delays(text: &str) -> Result<Delays, String> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let split = part
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(part.len());
        let (number, unit) = part.split_at(split);
        let n: u64 = number
            .parse()
            .map_err(|_| format!("`{part}` is not a delay like 30s, 15m or 2h"))?;
        let secs = match unit {
            "s" | "" => n,
            "m" => n * 60,
            "h" => n * 3600,
            _ => return Err(format!("`{part}`: the unit must be s, m or h")),
        };
        out.push(std::time::Duration::from_secs(secs));
    }
    Ok(Delays(out))
}

impl WorkerArgs {
    pub fn callback_settings(&self) -> sealscribe_pipeline::CallbackSettings {
        sealscribe_pipeline::CallbackSettings {
            tries_per_round: self.callback_tries_per_round,
            retry_delays: self.callback_retry_delays.0.clone(),
            timeout: std::time::Duration::from_secs(self.callback_timeout_secs),
        }
    }

    pub fn url_policy(&self) -> sealscribe_pipeline::UrlPolicy {
        sealscribe_pipeline::UrlPolicy {
            destinations: sealscribe_ingress::Destinations {
                allow_all: self.allow_private_urls,
                allow_networks: self.outbound_allow_networks.clone(),
                ports: self.outbound_ports.clone(),
            },
            max_bytes: self.media_url_max_bytes,
            timeout: std::time::Duration::from_secs(self.media_url_timeout_secs),
        }
    }
}

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Logging options")]
pub struct LogArgs {
    /// Log format.
    #[arg(long, env = "SEALSCRIBE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,
    /// Log filter, in tracing's `EnvFilter` syntax (e.g. `info`, `sealscribe_api=debug`).
    #[arg(long, env = "SEALSCRIBE_LOG", default_value = "info", global = true)]
    pub log: String,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Logs go to stderr, so that stdout carries only command output (tokens).
pub fn init_logging(args: &LogArgs) {
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match args.log_format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

#[cfg(test)]
mod reference {
    //! Renders the configuration reference (docs/configuration.md).

    use std::fmt::Write;

    use clap::Command;

    pub fn markdown(cli: &Command) -> String {
        let mut out = String::from(
            "# Configuration reference\n\n\
             Generated from the command-line definitions by \
             `SEALSCRIBE_UPDATE_DOCS=1 cargo test -p sealscribe --bin sealscribe configuration_reference`; \
             a test fails when it is out of date. Every option can also be set by the \
             environment variable shown; a flag wins over its variable.\n",
        );
        let globals: Vec<_> = cli.get_arguments().filter(|a| a.is_global_set()).collect();
        section(&mut out, "Global options (every command)", &globals);
        commands(&mut out, cli, "sealscribe");
        out
    }

    fn commands(out: &mut String, cmd: &Command, path: &str) {
        for sub in cmd.get_subcommands() {
            if sub.is_hide_set() {
                continue;
            }
            let path = format!("{path} {}", sub.get_name());
            let own: Vec<_> = sub
                .get_arguments()
                // Unbuilt, a command lists only its own arguments (globals
                // have not been propagated), so a `client`'s `--url` shows once.
                .filter(|a| !a.is_hide_set())
                .filter(|a| !matches!(a.get_id().as_str(), "help" | "version"))
                .collect();
            let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
            if !own.is_empty() || sub.get_subcommands().next().is_none() {
                let _ = write!(out, "\n## `{path}`\n\n{}\n", one_line(&about));
                if !own.is_empty() {
                    section(out, "", &own);
                }
            }
            commands(out, sub, &path);
        }
    }

    fn section(out: &mut String, title: &str, args: &[&clap::Arg]) {
        if !title.is_empty() {
            let _ = write!(out, "\n## {title}\n");
        }
        out.push_str("\n| option | environment | default | meaning |\n|---|---|---|---|\n");
        for arg in args {
            let name = match arg.get_long() {
                Some(long) if arg.get_action().takes_values() => {
                    let value = arg
                        .get_value_names()
                        .and_then(|v| v.first())
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
                    format!("`--{long} {value}`")
                }
                Some(long) => format!("`--{long}`"),
                None => format!("`{}`", arg.get_id().as_str().to_uppercase()),
            };
            let env = arg
                .get_env()
                .map(|e| format!("`{}`", e.to_string_lossy()))
                .unwrap_or_default();
            let default = arg
                .get_default_values()
                .iter()
                .map(|v| format!("`{}`", v.to_string_lossy()))
                .collect::<Vec<_>>()
                .join(", ");
            let mut help = arg
                .get_long_help()
                .or(arg.get_help())
                .map(|h| one_line(&h.to_string()))
                .unwrap_or_default();
            let choices: Vec<_> = arg
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| format!("`{}`", v.get_name()))
                .collect();
            if !choices.is_empty() && arg.get_action().takes_values() {
                let _ = write!(help, " (one of {})", choices.join(", "));
            }
            let _ = writeln!(out, "| {name} | {env} | {default} | {help} |");
        }
    }

    /// Table cells are one line, with pipes escaped.
    fn one_line(text: &str) -> String {
        text.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .replace('|', "\\|")
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn delays_parse() {
        use std::time::Duration;
        assert_eq!(
            super::parse_delays("15m, 1h,30s,2").unwrap().0,
            [900, 3600, 30, 2].map(Duration::from_secs).to_vec()
        );
        assert!(super::parse_delays("").unwrap().0.is_empty());
        assert!(super::parse_delays("5d").is_err());
        assert!(super::parse_delays("soon").is_err());
    }

    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }

    /// docs/configuration.md is generated from the clap definitions, so the
    /// reference cannot drift from what the binary accepts.
    #[test]
    fn configuration_reference_is_up_to_date() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/configuration.md");
        let generated = super::reference::markdown(&super::Cli::command());
        if std::env::var_os("SEALSCRIBE_UPDATE_DOCS").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/configuration.md is out of date with the command-line definitions; \
             regenerate it with `SEALSCRIBE_UPDATE_DOCS=1 cargo test -p sealscribe --bin sealscribe configuration_reference`"
        );
    }
}
