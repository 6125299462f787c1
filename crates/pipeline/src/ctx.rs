//! The dependency container every job gets, and the settings it carries.
//!
//! It sits at the bottom of the crate so that the steps (which need it) never
//! reach up into the scheduler (which builds it).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sealscribe_asr::SpeechEngine;
use sealscribe_ingress::UrlPolicy;
use sealscribe_seal::kek::Keyring;
use sealscribe_store::{BlobStore, Db};

/// How the workers behave.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Concurrent jobs in this process.
    pub workers: usize,
    /// How long a claimed job stays this worker's without a renewal. A crashed
    /// worker's job is retried this long after its last renewal.
    pub lease: Duration,
    /// The aging window of job priorities (`--priority-aging-secs`): see
    /// [`sealscribe_store::JobQueue::claim_job_aging`].
    pub priority_aging: Duration,
    /// How often idle workers look for work (they are also woken on upload).
    pub poll: Duration,
    /// Attempts before a job that keeps failing (or keeps crashing its worker) fails.
    pub max_attempts: u32,
    /// How long a shutting-down worker lets its current job run before releasing it.
    pub shutdown_grace: Duration,
    /// Scratch space for working copies. Each process works in a directory
    /// of its own under it (several worker processes may share a data
    /// directory); directories of processes that are gone are removed.
    pub tmp_dir: PathBuf,
    /// Scratch space for the plaintext of encrypted media (the opened upload
    /// ffmpeg reads, redacted audio): memory-backed where the machine has
    /// such a place (`--scratch-dir`), else the same as `tmp_dir`. Each
    /// process works in a directory of its own under it, like `tmp_dir`.
    pub plain_dir: PathBuf,
    pub url_policy: UrlPolicy,
    /// This process's identity in job leases.
    pub worker_id: String,
    pub callbacks: CallbackSettings,
}

/// What every job needs.
pub struct Ctx {
    pub db: Arc<dyn Db>,
    pub blobs: BlobStore,
    pub engine: Arc<dyn SpeechEngine>,
    /// Unwraps the seal keys of encrypted media.
    pub keys: Arc<Keyring>,
    /// The client for customer URLs (fetches and callbacks): connections
    /// only where the URL policy allows, see [`sealscribe_ingress::outbound`].
    pub http: sealscribe_ingress::Outbound,
    pub settings: Settings,
}

/// How callbacks are delivered.
#[derive(Clone, Debug)]
pub struct CallbackSettings {
    /// Tries in one round, back to back.
    pub tries_per_round: u32,
    /// Delay before each further round; its length + 1 is the number of rounds.
    pub retry_delays: Vec<Duration>,
    /// Time limit of one try.
    pub timeout: Duration,
}

impl Default for CallbackSettings {
    /// VoiceBase's schedule: 7 rounds of 3 tries over about 15¾ hours.
    fn default() -> Self {
        let minutes = |m: u64| Duration::from_secs(60 * m);
        Self {
            tries_per_round: 3,
            retry_delays: vec![
                minutes(15),
                minutes(30),
                minutes(60),
                minutes(120),
                minutes(240),
                minutes(480),
            ],
            timeout: Duration::from_secs(30),
        }
    }
}
