//! The metadata database interface.

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use sealscribe_domain::definitions::DefinitionKind;
use sealscribe_domain::media::{
    DeliveryAttempt, Encryption, Failure, IndexEntry, JobClaim, MediaQuery, MediaRecord,
    MediaSource, Task,
};
use sealscribe_domain::{
    Account, AccountId, KeyId, MediaId, PublicKeyId, PublicKeyRecord, TokenHash, TokenRecord,
};
use serde_json::Value;

use crate::StoreError;

/// Result of revoking a token by prefix.
#[derive(Debug, PartialEq, Eq)]
pub enum RevokeOutcome {
    Revoked,
    AlreadyRevoked,
    NotFound,
    /// More than one token has this prefix; a longer one (or the whole token) is needed.
    Ambiguous,
}

/// Everything sealscribe keeps in its metadata database. Implementations must
/// scope every read and write of a tenant's resource by its `AccountId`, so that
/// another account's resource is indistinguishable from a missing one.
#[async_trait]
pub trait Db: MediaStore + JobQueue + Send + Sync + 'static {
    /// Applies pending migrations.
    async fn migrate(&self) -> Result<(), StoreError>;
    /// Cheap liveness check.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Creates an account together with its first token (scope `user`, no
    /// expiry, last six unknown), atomically.
    async fn create_account(
        &self,
        name: &str,
        token_prefix: &str,
        token_hash: &TokenHash,
    ) -> Result<Account, StoreError>;
    /// Finds an account by name or by id.
    async fn find_account(&self, name_or_id: &str) -> Result<Option<Account>, StoreError>;

    /// Stores a token: `token` says whose it is and what it may do
    /// (`revoked_at` is ignored), `hash` is what authenticates it.
    async fn insert_token(&self, token: &TokenRecord, hash: &TokenHash) -> Result<(), StoreError>;
    /// The account's tokens, revoked ones included, oldest first.
    async fn list_tokens(&self, account: AccountId) -> Result<Vec<TokenRecord>, StoreError>;
    /// One of the account's tokens, revoked or not; another account's is `None`.
    async fn get_token(
        &self,
        account: AccountId,
        id: KeyId,
    ) -> Result<Option<TokenRecord>, StoreError>;
    /// Revokes the account's token `id` (`/v3/profile/keys/{id}`); never
    /// `Ambiguous`, and another account's token is `NotFound`.
    async fn revoke_token_by_id(
        &self,
        account: AccountId,
        id: KeyId,
    ) -> Result<RevokeOutcome, StoreError>;
    /// Revokes the token whose hash is `hash` when given (a whole token was
    /// presented), else the single token with this `prefix`.
    async fn revoke_token(
        &self,
        prefix: &str,
        hash: Option<&TokenHash>,
    ) -> Result<RevokeOutcome, StoreError>;
    /// The unrevoked token with this hash, if any. Expiry is the caller's
    /// check ([`TokenRecord::is_expired`]): the store returns expired tokens so
    /// both backends compare times the same way, in Rust.
    async fn authenticate(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError>;

    async fn insert_public_key(&self, key: &PublicKeyRecord) -> Result<(), StoreError>;
    /// The account's keys, oldest first.
    async fn list_public_keys(&self, account: AccountId) -> Result<Vec<PublicKeyId>, StoreError>;
    async fn get_public_key(
        &self,
        account: AccountId,
        id: PublicKeyId,
    ) -> Result<Option<PublicKeyRecord>, StoreError>;
    /// Whether a key was deleted.
    async fn delete_public_key(
        &self,
        account: AccountId,
        id: PublicKeyId,
    ) -> Result<bool, StoreError>;

    /// The secret the account's callbacks are signed with, created on first
    /// use; `rotate` replaces it with a new one.
    async fn callback_secret(&self, account: AccountId, rotate: bool)
    -> Result<String, StoreError>;

    /// Creates or replaces the account's definition `name` of `kind`; whether it was new.
    async fn put_definition(
        &self,
        account: AccountId,
        kind: DefinitionKind,
        name: &str,
        body: &Value,
    ) -> Result<bool, StoreError>;
    async fn get_definition(
        &self,
        account: AccountId,
        kind: DefinitionKind,
        name: &str,
    ) -> Result<Option<Value>, StoreError>;
    /// The account's definitions of `kind` as `(name, body)`, by name.
    async fn list_definitions(
        &self,
        account: AccountId,
        kind: DefinitionKind,
    ) -> Result<Vec<(String, Value)>, StoreError>;
    /// Whether a definition was deleted.
    async fn delete_definition(
        &self,
        account: AccountId,
        kind: DefinitionKind,
        name: &str,
    ) -> Result<bool, StoreError>;
}

/// The account's searchable extended-metadata fields (`/v3/definition/media/search`), none
/// when it never set any: what the pipeline and the API read when they index a media item.
/// A stored list this version cannot read is an error, never "no fields".
pub async fn searchable_fields(db: &dyn Db, account: AccountId) -> Result<Vec<String>, StoreError> {
    use sealscribe_domain::extended::{DEFINITION_NAME, SearchableFields};
    let Some(body) = db
        .get_definition(account, DefinitionKind::SearchableFields, DEFINITION_NAME)
        .await?
    else {
        return Ok(Vec::new());
    };
    serde_json::from_value::<SearchableFields>(body)
        .map(|f| f.fields)
        .map_err(|e| StoreError::Internal(format!("stored searchable fields unreadable: {e}")))
}

/// What a finished processing job leaves behind.
#[derive(Clone, Copy, Debug, Default)]
pub struct Finished<'a> {
    /// The transcript (none for encrypted media).
    pub transcript: Option<&'a Value>,
    /// v3 `prediction` (none for encrypted media, or without detectors).
    pub prediction: Option<&'a Value>,
    /// v3 conversation `metrics[]` (none for encrypted media, or without `metrics`).
    pub metrics: Option<&'a Value>,
    /// The call-analytics sections (`spotting`, `categories`, `knowledge`) as one object;
    /// none for encrypted media, or when none was asked for.
    pub analytics: Option<&'a Value>,
    pub tasks: &'a [Task],
    /// The search index entry, when the media is searchable.
    pub index: Option<&'a IndexEntry>,
    /// Indexes of the configured callbacks to deliver now.
    pub callbacks: &'a [u32],
}

/// How a callback delivery job ends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DeliveryOutcome {
    Delivered,
    /// Try again at this time.
    RetryAt(DateTime<Utc>),
    /// Out of tries.
    Failed,
}

/// A media item to create.
#[derive(Clone, Debug)]
pub struct NewMedia {
    pub id: MediaId,
    pub account_id: AccountId,
    pub source: MediaSource,
    pub configuration: Value,
    pub metadata: Option<Value>,
    pub external_id: Option<String>,
    pub searchable: bool,
    pub tasks: Vec<Task>,
    pub encryption: Option<Encryption>,
}

/// A seal key as a media row holds it while the media is processed.
#[derive(Clone, PartialEq, Eq)]
pub enum StoredSealKey {
    /// In clear hex, as versions before the key-encryption key wrote it; the
    /// first process to start wraps it ([`MediaStore::replace_seal_key`]).
    Clear(String),
    /// Wrapped under the key-encryption key (`sskw1:…`).
    Wrapped(String),
}

impl std::fmt::Debug for StoredSealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key, not even wrapped.
        f.write_str(match self {
            Self::Clear(_) => "Clear(…)",
            Self::Wrapped(_) => "Wrapped(…)",
        })
    }
}

/// Media items and the search index. Every method taking an `AccountId`
/// ignores other accounts' media.
#[async_trait]
pub trait MediaStore: Send + Sync {
    /// Creates the media item and queues its processing job, atomically.
    async fn create_media(&self, media: &NewMedia) -> Result<(), StoreError>;
    async fn get_media(
        &self,
        account: AccountId,
        id: MediaId,
    ) -> Result<Option<MediaRecord>, StoreError>;
    /// A media item whatever its account (for workers).
    async fn load_media(&self, id: MediaId) -> Result<Option<MediaRecord>, StoreError>;
    /// Summaries: `transcript`, `recognised` and the encryption secrets are not loaded.
    async fn list_media(
        &self,
        account: AccountId,
        query: &MediaQuery,
    ) -> Result<Vec<MediaRecord>, StoreError>;
    /// Replaces the metadata (and the index entry's title/description if indexed).
    async fn set_metadata(
        &self,
        account: AccountId,
        id: MediaId,
        metadata: &Value,
        external_id: Option<&str>,
        index: Option<&IndexEntry>,
    ) -> Result<bool, StoreError>;
    /// Replaces the transcript (alignment) and its index entry.
    async fn set_transcript(
        &self,
        account: AccountId,
        id: MediaId,
        transcript: &Value,
        index: Option<&IndexEntry>,
    ) -> Result<bool, StoreError>;
    /// Deletes the media item, its jobs and its index entry. Blobs are the caller's.
    async fn delete_media(&self, account: AccountId, id: MediaId) -> Result<bool, StoreError>;
    /// Replaces the account's searchable extended-metadata fields (the
    /// [`DefinitionKind::SearchableFields`] definition, body `{"fields":[…]}`) and removes
    /// from its index every value of a field no longer searchable, atomically: a field made
    /// searchable again later finds only media indexed after that. The number of values
    /// removed.
    async fn set_searchable_fields(
        &self,
        account: AccountId,
        fields: &[String],
    ) -> Result<u64, StoreError>;
    /// Queues processing again with a new configuration (reprocessing).
    async fn requeue_media(
        &self,
        account: AccountId,
        id: MediaId,
        configuration: &Value,
        searchable: bool,
        tasks: &[Task],
    ) -> Result<bool, StoreError>;

    // Pipeline progress, written by the worker holding the job's lease.
    async fn set_tasks(&self, id: MediaId, tasks: &[Task]) -> Result<(), StoreError>;
    async fn set_running(&self, id: MediaId, tasks: &[Task]) -> Result<(), StoreError>;
    async fn set_probed(
        &self,
        id: MediaId,
        length_ms: u64,
        content_type: Option<&str>,
        size_bytes: Option<u64>,
    ) -> Result<(), StoreError>;

    /// Every seal key stored (media in processing), whatever its account:
    /// what a KEK rotation rewraps and what the start-up wraps (legacy keys).
    async fn stored_seal_keys(&self) -> Result<Vec<(MediaId, StoredSealKey)>, StoreError>;
    /// Replaces the stored key `old` of media `id` by `wrapped`, clearing the
    /// legacy clear-hex column. `false` (nothing written) if the row no longer
    /// holds `old`: processing ended, the media was deleted, or another
    /// process rewrapped it first. On SQLite the write-ahead log is then
    /// checkpointed and truncated, so the replaced value is gone from every file.
    async fn replace_seal_key(
        &self,
        id: MediaId,
        old: &StoredSealKey,
        wrapped: &str,
    ) -> Result<bool, StoreError>;
}

/// How many jobs of one kind are in one state, for metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobCount {
    /// `process` or `callback`.
    pub kind: String,
    /// `queued` (runnable now), `scheduled` (waiting for a retry or the next
    /// round of deliveries) or `running` (leased, possibly to a dead worker
    /// whose lease has not yet expired).
    pub state: String,
    pub count: u64,
}

/// The aging window [`JobQueue::claim_job`] uses: ten minutes (the `serve` and
/// `worker` default of `--priority-aging-secs`).
pub const DEFAULT_PRIORITY_AGING: TimeDelta = TimeDelta::minutes(10);

/// The durable job queue with leases.
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// The queue's size by kind and state at `now` (only pairs with jobs).
    async fn job_counts(&self, now: DateTime<Utc>) -> Result<Vec<JobCount>, StoreError>;
    /// [`claim_job_aging`](Self::claim_job_aging) with the default aging window,
    /// [`DEFAULT_PRIORITY_AGING`].
    async fn claim_job(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<JobClaim>, StoreError> {
        self.claim_job_aging(worker, now, lease_until, DEFAULT_PRIORITY_AGING)
            .await
    }
    /// Leases the next runnable job (queued and due, or running with an expired
    /// lease) to `worker` until `lease_until`.
    ///
    /// Jobs are taken in order of their *effective time*: when they became due
    /// (`run_at`: queued, or retried) moved earlier by one `aging` window per
    /// priority step — `low` 0, `normal` 1, `high` 2 windows; callback
    /// deliveries count as `normal`. So a high job goes before a normal one
    /// that has waited less than one window longer, and before a low one that
    /// has waited less than two; a job that has waited longer than that goes
    /// first whatever its priority, so low-priority work always finishes (it
    /// waits at most two windows behind a stream of new high-priority work).
    /// Ties go to the older job.
    async fn claim_job_aging(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        aging: TimeDelta,
    ) -> Result<Option<JobClaim>, StoreError>;
    /// Extends the lease; `false` if the job is no longer this worker's
    /// (lease lost, or the media was deleted).
    async fn renew_lease(
        &self,
        job_id: i64,
        worker: &str,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Completes a processing job: stores the transcript and prediction
    /// (none for encrypted media), marks the media finished, indexes it (when
    /// an index entry is given), destroys its seal key, removes the job and
    /// queues its callbacks, atomically.
    /// `false` if the job was no longer this worker's.
    async fn finish_job(
        &self,
        job_id: i64,
        worker: &str,
        media: MediaId,
        done: &Finished<'_>,
    ) -> Result<bool, StoreError>;
    /// Puts a failed attempt back in the queue to run at `retry_at`.
    async fn retry_job(
        &self,
        job_id: i64,
        worker: &str,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Gives up: the media becomes `failed` with `failure`, its seal key is
    /// destroyed, the job is removed and the given callbacks are queued.
    async fn fail_job(
        &self,
        job_id: i64,
        worker: &str,
        media: MediaId,
        failure: &Failure,
        tasks: &[Task],
        callbacks: &[u32],
    ) -> Result<bool, StoreError>;
    /// Records the attempts of one run of a callback job and ends or
    /// reschedules it, atomically. `false` if the job was no longer this worker's.
    async fn end_delivery(
        &self,
        job_id: i64,
        worker: &str,
        media: MediaId,
        index: u32,
        attempts: &[DeliveryAttempt],
        outcome: DeliveryOutcome,
    ) -> Result<bool, StoreError>;
}
