//! One behavioural suite for every [`Db`] backend: the same story runs on
//! SQLite (a temporary file) and on a real PostgreSQL server, so the two
//! cannot drift apart. It is told in areas (accounts and tokens, keys, media,
//! jobs and leases, deliveries, search, …), one test per area and backend
//! (`sqlite::search`, `postgres::deliveries`), so a failure names its area.
//! PostgreSQL also gets the tests only it can fail: concurrent claimers on
//! separate connections, a media deleted while its job ends, concurrent
//! migrations, an unreachable server.
//!
//! The PostgreSQL tests use the server named by `SEALSCRIBE_TEST_POSTGRES`
//! (`scripts/services.sh start` runs one), creating and dropping a database of
//! their own. Without it they are skipped, loudly, unless
//! `SEALSCRIBE_REQUIRE_SERVICES=1` (CI), where they fail.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use futures_util::FutureExt;
use sealscribe_domain::extended::ExtendedFilter;
use sealscribe_domain::media::{
    DeliveryAttempt, DeliveryStatus, Encryption, EncryptionInfo, Failure, IndexEntry, JobClaim,
    JobKind, MediaQuery, MediaRecord, MediaSource, MediaStatus, SearchField, SearchTerm, Task,
    TaskStatus,
};
use sealscribe_domain::scope::Scope;
use sealscribe_domain::{
    AccountId, KeyId, MediaId, PublicKeyId, PublicKeyRecord, TokenHash, TokenRecord,
};
use sealscribe_store::postgres::PgDb;
use sealscribe_store::{
    Db, DeliveryOutcome, Finished, JobQueue, MediaStore, NewMedia, RevokeOutcome, StoreError,
    StoredSealKey, open_db,
};
use sealscribe_transcript::{Transcript, Word};
use serde_json::json;
use sqlx::Connection;
use sqlx::postgres::{PgConnection, PgPoolOptions};

// ---------------------------------------------------------------------------
// The backends under test: the story below, one test per area on each.

/// The areas of the story, in the order it tells them. Each test runs the
/// story up to its area on a database of its own (what comes before is its
/// setup), so a failure names the area where behaviour first differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Area {
    AccountsAndTokens,
    PublicKeys,
    CallbackSecrets,
    Priorities,
    SpeakerSearch,
    Definitions,
    ExtendedSearch,
    MediaRecords,
    JobsAndLeases,
    Deliveries,
    Search,
    MetadataAndTranscripts,
    Reprocessing,
    Deletion,
}

/// `mod sqlite` and `mod postgres`, each with one test per area.
macro_rules! on_every_backend {
    ($($(#[$doc:meta])* $name:ident: $area:ident;)*) => {
        /// The story on SQLite (a temporary file).
        mod sqlite {
            $(
                $(#[$doc])*
                #[tokio::test]
                async fn $name() {
                    super::on_sqlite(super::Area::$area).await;
                }
            )*
        }

        /// The story on PostgreSQL (a database of each test's own).
        mod postgres {
            $(
                $(#[$doc])*
                #[tokio::test]
                async fn $name() {
                    super::on_postgres(super::Area::$area).await;
                }
            )*
        }
    };
}

on_every_backend! {
    /// Accounts, tokens, authentication and revocation.
    accounts_and_tokens: AccountsAndTokens;
    /// Public keys, per account, listed by upload time.
    public_keys: PublicKeys;
    /// The per-account callback signing secret.
    callback_secrets: CallbackSecrets;
    /// The claim order of `low`, `normal` and `high` jobs, and their aging.
    priorities: Priorities;
    /// Search terms restricted to a speaker, on two-speaker transcripts.
    speaker_search: SpeakerSearch;
    /// Saved definitions by kind and name, per account.
    definitions: Definitions;
    /// `extendedFilter`: indexed extended-metadata values, per account, with the other
    /// filters; reindexing, pruning and deletion.
    extended_search: ExtendedSearch;
    /// Media created and read back, per account; listings, filters and cursors.
    media_records: MediaRecords;
    /// Claiming, leases, progress, finishing, retrying and failing jobs.
    jobs_and_leases: JobsAndLeases;
    /// Callback jobs and the delivery state they record.
    deliveries: Deliveries;
    /// Full-text search, per account, alone and with the other filters.
    search: Search;
    /// Replacing metadata and transcripts, with and without the index.
    metadata_and_transcripts: MetadataAndTranscripts;
    /// Requeueing finished and failed media.
    reprocessing: Reprocessing;
    /// Deleting media: jobs, leases, deliveries and index entries go with it.
    deletion: Deletion;
}

async fn on_sqlite(area: Area) {
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(&format!("sqlite://{}/conformance.db", dir.path().display()))
        .await
        .unwrap();
    scenario(db, area).await;
}

async fn on_postgres(area: Area) {
    let Some(server) = postgres_server() else {
        return;
    };
    with_database(&server, |url| async move {
        let db = open_db(&url).await.unwrap();
        scenario(db, area).await;
    })
    .await;
}

/// Workers on many machines: every job is claimed exactly once, whichever
/// claimer gets there first, and each claimer's finish succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_claims() {
    const JOBS: usize = 200;
    const CLAIMERS: usize = 8;
    let Some(server) = postgres_server() else {
        return;
    };
    with_database(&server, |url| async move {
        let setup = open_db(&url).await.unwrap();
        let account = setup
            .create_account("busy", "bsy_1", &TokenHash("h-busy".into()))
            .await
            .unwrap();
        let mut created = BTreeSet::new();
        for i in 0..JOBS {
            let m = new_media(account.id, &format!("c{i}"));
            setup.create_media(&m).await.unwrap();
            created.insert(m.id);
        }

        let now = Utc::now();
        let mut claimers = Vec::new();
        for c in 0..CLAIMERS {
            let url = url.clone();
            claimers.push(tokio::spawn(async move {
                // A pool of its own: a separate machine, as far as the database can tell.
                let db = PgDb::connect_with(&url, PgPoolOptions::new().max_connections(1))
                    .await
                    .unwrap();
                let worker = format!("worker-{c}");
                let mut claimed = Vec::new();
                while let Some(job) = db
                    .claim_job(&worker, now, now + TimeDelta::minutes(10))
                    .await
                    .unwrap()
                {
                    assert_eq!(job.attempt, 1, "{job:?} was claimed before");
                    let finished = db
                        .finish_job(job.job_id, &worker, job.media_id, &Finished::default())
                        .await
                        .unwrap();
                    assert!(finished, "{worker} lost {job:?}");
                    claimed.push((job.job_id, job.media_id));
                }
                claimed
            }));
        }
        let mut jobs = BTreeMap::new();
        let mut per_claimer = Vec::new();
        for claimer in claimers {
            let claimed = claimer.await.unwrap();
            per_claimer.push(claimed.len());
            for (job, media) in claimed {
                assert!(jobs.insert(job, media).is_none(), "job {job} claimed twice");
            }
        }
        assert_eq!(jobs.len(), JOBS, "claims per claimer: {per_claimer:?}");
        let media: BTreeSet<MediaId> = jobs.values().copied().collect();
        assert_eq!(media, created);
        assert_eq!(
            setup
                .claim_job("late", now + TimeDelta::hours(1), now + TimeDelta::hours(2))
                .await
                .unwrap(),
            None
        );
        let listed = setup
            .list_media(
                account.id,
                &MediaQuery {
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(listed.len(), JOBS);
        assert!(listed.iter().all(|m| m.status == MediaStatus::Finished));
    })
    .await;
}

/// `delete_media` locks the media row, then (by cascade) its jobs. A worker
/// ending a job at that moment must not hold the job while waiting for the
/// media row, or the two deadlock and PostgreSQL aborts one of them. Here the
/// delete is replayed step by step on a connection of the test's own so the
/// interleaving is certain: the worker must wait, then find its job gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_delete_while_a_job_ends_does_not_deadlock() {
    let Some(server) = postgres_server() else {
        return;
    };
    with_database(&server, |url| async move {
        let db = Arc::new(PgDb::connect(&url).await.unwrap());
        db.migrate().await.unwrap();
        let account = db
            .create_account("racy", "rcy_1", &TokenHash("h-racy".into()))
            .await
            .unwrap();
        let (processing, delivering) = (new_media(account.id, "p"), new_media(account.id, "d"));
        let lease = Utc::now() + TimeDelta::minutes(10);
        db.create_media(&delivering).await.unwrap();
        let j = db.claim_job("w", Utc::now(), lease).await.unwrap().unwrap();
        let done = Finished {
            callbacks: &[0],
            ..Default::default()
        };
        assert!(
            db.finish_job(j.job_id, "w", delivering.id, &done)
                .await
                .unwrap()
        );
        let callback = db.claim_job("w", Utc::now(), lease).await.unwrap().unwrap();
        assert_eq!(callback.kind, JobKind::Callback { index: 0 });
        db.create_media(&processing).await.unwrap();
        let process = db.claim_job("w", Utc::now(), lease).await.unwrap().unwrap();
        assert_eq!(process.media_id, processing.id);

        for media in [processing.id, delivering.id] {
            let mut customer = PgConnection::connect(&url).await.unwrap();
            let mut delete = customer.begin().await.unwrap();
            sqlx::query("select 1 from media where id = $1 for update")
                .bind(media.to_string())
                .execute(&mut *delete)
                .await
                .unwrap();
            let worker = {
                let db = db.clone();
                tokio::spawn(async move {
                    if media == processing.id {
                        let done = Finished {
                            callbacks: &[0],
                            ..Default::default()
                        };
                        db.finish_job(process.job_id, "w", media, &done).await
                    } else {
                        let attempts = [attempt(1_700_000_000, Some(200), None)];
                        let outcome = DeliveryOutcome::Delivered;
                        db.end_delivery(callback.job_id, "w", media, 0, &attempts, outcome)
                            .await
                    }
                })
            };
            // Let the worker get as far as it can, then cascade to its job.
            tokio::time::sleep(Duration::from_millis(300)).await;
            sqlx::query("delete from media where id = $1")
                .bind(media.to_string())
                .execute(&mut *delete)
                .await
                .unwrap();
            delete.commit().await.unwrap();
            let ended = worker.await.unwrap();
            assert!(matches!(ended, Ok(false)), "{media}: {ended:?}");
            customer.close().await.unwrap();
        }
        assert_eq!(db.claim_job("late", lease, lease).await.unwrap(), None);
    })
    .await;
}

/// Several processes starting at once against a fresh database: each migration
/// is applied exactly once (sqlx's advisory lock), and every process starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_migrations() {
    let Some(server) = postgres_server() else {
        return;
    };
    with_database(&server, |url| async move {
        let starts: Vec<_> = (0..6)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { open_db(&url).await.map(|_| ()) })
            })
            .collect();
        for start in starts {
            start.await.unwrap().unwrap();
        }
        let mut conn = PgConnection::connect(&url).await.unwrap();
        let applied: Vec<(i64, bool)> =
            sqlx::query_as("select version, success from _sqlx_migrations order by version")
                .fetch_all(&mut conn)
                .await
                .unwrap();
        // Each migration once: the versions of the migration files (`0001_….sql`).
        let mut versions: Vec<i64> =
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
                .unwrap()
                .map(|f| {
                    let name = f.unwrap().file_name().into_string().unwrap();
                    name.split('_').next().unwrap().parse().unwrap()
                })
                .collect();
        versions.sort_unstable();
        let expected: Vec<(i64, bool)> = versions.into_iter().map(|v| (v, true)).collect();
        assert_eq!(applied, expected);
        // And migrating again is a no-op.
        open_db(&url).await.unwrap().migrate().await.unwrap();
        conn.close().await.unwrap();
    })
    .await;
}

/// A server that cannot be reached is `Unavailable` (503), quickly, and the
/// password appears nowhere in the error.
#[tokio::test]
async fn postgres_outage_is_unavailable() {
    let started = Instant::now();
    let Err(err) = open_db("postgres://sealscribe:hunter2-secret@127.0.0.1:1/sealscribe").await
    else {
        panic!("connected to a closed port");
    };
    assert!(
        matches!(err, StoreError::Unavailable(_)),
        "not unavailable: {err:?}"
    );
    assert!(!format!("{err} {err:?}").contains("hunter2"), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );

    let Err(err) = open_db("postgres://sealscribe:hunter2-secret@[::1/x").await else {
        panic!("parsed a broken URL");
    };
    assert!(!format!("{err} {err:?}").contains("hunter2"), "{err:?}");
}

// ---------------------------------------------------------------------------
// The story every backend must tell alike, up to `area`.

async fn scenario(db: Arc<dyn Db>, area: Area) {
    let db = &*db;
    db.ping().await.unwrap();
    let (acme, other) = accounts_and_tokens(db).await;
    match area {
        Area::AccountsAndTokens => return,
        Area::PublicKeys => return public_keys(db, acme, other).await,
        Area::CallbackSecrets => return callback_secrets(db, acme).await,
        Area::Priorities => return priorities(db, acme).await,
        Area::SpeakerSearch => return speaker_search(db, acme, other).await,
        Area::Definitions => return definitions(db, acme, other).await,
        Area::ExtendedSearch => return extended_search(db, acme, other).await,
        _ => {}
    }
    let media = media_records(db, acme, other).await;
    if area == Area::MediaRecords {
        return;
    }
    let jobs = jobs_and_leases(db, &media).await;
    if area == Area::JobsAndLeases {
        return;
    }
    callback_deliveries(db, &media, &jobs).await;
    if area == Area::Deliveries {
        return;
    }
    search(db, acme, other, media.n.each_ref()).await;
    if area == Area::Search {
        return;
    }
    metadata_and_transcripts(db, &media, &jobs).await;
    if area == Area::MetadataAndTranscripts {
        return;
    }
    let (rerun3, config) = reprocessing(db, &media).await;
    if area == Area::Reprocessing {
        return;
    }
    deletion(db, &media, &jobs, &rerun3, &config).await;
}

async fn accounts_and_tokens(db: &dyn Db) -> (AccountId, AccountId) {
    let hash = |s: &str| TokenHash(format!("hash-{s}"));
    let acme = db
        .create_account("acme", "acme_aaa", &hash("a1"))
        .await
        .unwrap();
    assert_eq!(acme.name, "acme");
    let other = db
        .create_account("other", "othr_bbb", &hash("o1"))
        .await
        .unwrap();
    assert!(matches!(
        db.create_account("acme", "acme_zzz", &hash("dup")).await,
        Err(StoreError::Conflict(_))
    ));
    // The failed creation left no token behind.
    assert_eq!(account_of(db, &hash("dup")).await, None);

    assert_eq!(db.find_account("acme").await.unwrap().unwrap().id, acme.id);
    let by_id = db
        .find_account(&acme.id.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((by_id.id, by_id.name.as_str()), (acme.id, "acme"));
    assert_eq!(db.find_account("nobody").await.unwrap(), None);

    assert_eq!(account_of(db, &hash("a1")).await, Some(acme.id));
    assert_eq!(account_of(db, &hash("o1")).await, Some(other.id));
    assert_eq!(account_of(db, &hash("nope")).await, None);

    db.insert_token(&user_token(acme.id, "acme_ccc"), &hash("a2"))
        .await
        .unwrap();
    // Two tokens sharing a prefix make the prefix ambiguous.
    db.insert_token(&user_token(acme.id, "acme_ddd"), &hash("a3"))
        .await
        .unwrap();
    db.insert_token(&user_token(acme.id, "acme_ddd"), &hash("a4"))
        .await
        .unwrap();
    assert!(matches!(
        db.insert_token(&user_token(other.id, "othr_x"), &hash("a2"))
            .await,
        Err(StoreError::Conflict(_))
    ));
    let tokens = db.list_tokens(acme.id).await.unwrap();
    let prefixes: Vec<&str> = tokens.iter().map(|t| t.prefix.as_str()).collect();
    assert_eq!(prefixes, ["acme_aaa", "acme_ccc", "acme_ddd", "acme_ddd"]);
    assert!(
        tokens
            .iter()
            .all(|t| t.account_id == acme.id && t.revoked_at.is_none())
    );
    assert_eq!(db.list_tokens(other.id).await.unwrap().len(), 1);

    assert_eq!(
        db.revoke_token("acme_ddd", None).await.unwrap(),
        RevokeOutcome::Ambiguous
    );
    assert_eq!(
        db.revoke_token("acme_ddd", Some(&hash("a3")))
            .await
            .unwrap(),
        RevokeOutcome::Revoked
    );
    assert_eq!(account_of(db, &hash("a3")).await, None);
    assert_eq!(account_of(db, &hash("a4")).await, Some(acme.id));
    assert_eq!(
        db.revoke_token("acme_ddd", Some(&hash("a3")))
            .await
            .unwrap(),
        RevokeOutcome::AlreadyRevoked
    );
    assert_eq!(
        db.revoke_token("acme_ccc", None).await.unwrap(),
        RevokeOutcome::Revoked
    );
    assert_eq!(
        db.revoke_token("acme_ccc", None).await.unwrap(),
        RevokeOutcome::AlreadyRevoked
    );
    assert_eq!(account_of(db, &hash("a2")).await, None);
    assert_eq!(
        db.revoke_token("missing", None).await.unwrap(),
        RevokeOutcome::NotFound
    );
    assert_eq!(
        db.revoke_token("acme_aaa", Some(&hash("missing")))
            .await
            .unwrap(),
        RevokeOutcome::NotFound
    );
    let revoked: Vec<bool> = db
        .list_tokens(acme.id)
        .await
        .unwrap()
        .iter()
        .map(|t| t.revoked_at.is_some())
        .collect();
    assert_eq!(revoked.iter().filter(|r| **r).count(), 2);
    api_keys(db, acme.id, other.id).await;
    (acme.id, other.id)
}

/// Who a token authenticates as.
async fn account_of(db: &dyn Db, hash: &TokenHash) -> Option<AccountId> {
    db.authenticate(hash).await.unwrap().map(|t| t.account_id)
}

/// An operator token: scope `user`, no expiry.
fn user_token(account: AccountId, prefix: &str) -> TokenRecord {
    TokenRecord {
        id: KeyId::new(),
        prefix: prefix.to_owned(),
        last_six: None,
        account_id: account,
        scope: Scope::User,
        created_at: Utc::now(),
        expires_at: None,
        revoked_at: None,
    }
}

/// Keys managed over `/v3/profile/keys`: id, scope, expiry and last six are
/// kept exactly; lookups and revocation by id stay inside the account.
async fn api_keys(db: &dyn Db, acme: AccountId, other: AccountId) {
    let hash = |s: &str| TokenHash(format!("hash-{s}"));
    // An account's first token is a user token with an id of its own.
    let first = db.authenticate(&hash("a1")).await.unwrap().unwrap();
    assert_eq!(
        (&first.scope, first.expires_at, first.last_six.as_deref()),
        (&Scope::User, None, None)
    );
    assert_eq!(db.get_token(acme, first.id).await.unwrap(), Some(first));

    let key = TokenRecord {
        id: KeyId::new(),
        prefix: "sst_key1".into(),
        last_six: Some("abc123".into()),
        account_id: acme,
        scope: "media:get profile:get".parse().unwrap(),
        created_at: at(1_800_000_000, 123_456),
        expires_at: Some(at(1_800_003_600, 654_321)),
        revoked_at: None,
    };
    db.insert_token(&key, &hash("k1")).await.unwrap();
    assert_eq!(
        db.authenticate(&hash("k1")).await.unwrap(),
        Some(key.clone())
    );
    assert_eq!(db.get_token(acme, key.id).await.unwrap(), Some(key.clone()));
    assert!(db.list_tokens(acme).await.unwrap().contains(&key));
    // An id is unique.
    assert!(matches!(
        db.insert_token(&key, &hash("k1-again")).await,
        Err(StoreError::Conflict(_))
    ));

    // Another account's key is invisible and cannot be revoked through it.
    assert_eq!(db.get_token(other, key.id).await.unwrap(), None);
    assert!(!db.list_tokens(other).await.unwrap().contains(&key));
    assert_eq!(
        db.revoke_token_by_id(other, key.id).await.unwrap(),
        RevokeOutcome::NotFound
    );
    assert_eq!(
        db.revoke_token_by_id(acme, KeyId::new()).await.unwrap(),
        RevokeOutcome::NotFound
    );
    assert_eq!(account_of(db, &hash("k1")).await, Some(acme));

    // Revoked at once, once; the record stays, marked.
    assert_eq!(
        db.revoke_token_by_id(acme, key.id).await.unwrap(),
        RevokeOutcome::Revoked
    );
    assert_eq!(db.authenticate(&hash("k1")).await.unwrap(), None);
    assert_eq!(
        db.revoke_token_by_id(acme, key.id).await.unwrap(),
        RevokeOutcome::AlreadyRevoked
    );
    let revoked = db.get_token(acme, key.id).await.unwrap().unwrap();
    assert!(revoked.revoked_at.is_some());

    // An expired key is still found: expiry is checked by the caller, in Rust,
    // the same way whatever the backend.
    let expired = TokenRecord {
        id: KeyId::new(),
        prefix: "sst_key2".into(),
        last_six: Some("fedcba".into()),
        scope: Scope::default_for_keys(),
        created_at: at(999_000_000, 2),
        expires_at: Some(at(1_000_000_000, 1)),
        ..user_token(acme, "sst_key2")
    };
    db.insert_token(&expired, &hash("k2")).await.unwrap();
    let found = db.authenticate(&hash("k2")).await.unwrap().unwrap();
    assert!(found.is_expired(Utc::now()));
    assert_eq!(found, expired);
}

/// A time with microsecond precision, which every backend keeps exactly.
fn at(seconds: i64, micros: u32) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, micros * 1000).unwrap()
}

fn key(account: AccountId, uploaded: DateTime<Utc>, n: u8) -> PublicKeyRecord {
    PublicKeyRecord {
        id: PublicKeyId::new(),
        account_id: account,
        fingerprint: format!("ABCDEF{n:02}"),
        algorithm: "EdDSA".into(),
        bits: 255,
        created: at(1_600_000_000, 123_456),
        expires: (n == 1).then(|| at(1_900_000_000, 1)),
        user_ids: vec![format!("user {n} <u{n}@example.com>"), "second".into()],
        sha256: format!("{n:064}"),
        bytes: vec![n, 0, 255, n],
        uploaded_at: uploaded,
    }
}

async fn public_keys(db: &dyn Db, acme: AccountId, other: AccountId) {
    let k1 = key(acme, at(1_700_000_000, 5), 1);
    let k2 = key(acme, at(1_700_000_100, 0), 2);
    let k3 = key(other, at(1_700_000_050, 0), 3);
    // Inserted out of order: listing is by upload time.
    for k in [&k2, &k1, &k3] {
        db.insert_public_key(k).await.unwrap();
    }
    assert_eq!(db.list_public_keys(acme).await.unwrap(), vec![k1.id, k2.id]);
    assert_eq!(db.list_public_keys(other).await.unwrap(), vec![k3.id]);
    assert_eq!(
        db.get_public_key(acme, k1.id).await.unwrap(),
        Some(k1.clone())
    );
    assert_eq!(
        db.get_public_key(acme, k2.id).await.unwrap(),
        Some(k2.clone())
    );
    assert_eq!(db.get_public_key(other, k1.id).await.unwrap(), None);
    assert_eq!(db.get_public_key(acme, k3.id).await.unwrap(), None);
    assert!(!db.delete_public_key(other, k1.id).await.unwrap());
    assert!(db.delete_public_key(acme, k1.id).await.unwrap());
    assert!(!db.delete_public_key(acme, k1.id).await.unwrap());
    assert_eq!(db.list_public_keys(acme).await.unwrap(), vec![k2.id]);
}

async fn callback_secrets(db: &dyn Db, acme: AccountId) {
    let first = db.callback_secret(acme, false).await.unwrap();
    assert!(first.starts_with("whsec_"), "{first}");
    assert_eq!(db.callback_secret(acme, false).await.unwrap(), first);
    let rotated = db.callback_secret(acme, true).await.unwrap();
    assert_ne!(rotated, first);
    assert_eq!(db.callback_secret(acme, false).await.unwrap(), rotated);
    assert!(matches!(
        db.callback_secret(AccountId::new(), false).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        db.callback_secret(AccountId::new(), true).await,
        Err(StoreError::NotFound)
    ));
}

async fn definitions(db: &dyn Db, acme: AccountId, other: AccountId) {
    use sealscribe_domain::definitions::DefinitionKind::{Category, SpottingGroup, Vocabulary};
    let group = |k: &str| serde_json::json!({"groupName": "Sales", "keywords": [k]});
    assert!(
        db.put_definition(acme, SpottingGroup, "Sales", &group("refund"))
            .await
            .unwrap()
    );
    // Replacing is not creating; the body is the new one.
    assert!(
        !db.put_definition(acme, SpottingGroup, "Sales", &group("upgrade"))
            .await
            .unwrap()
    );
    assert_eq!(
        db.get_definition(acme, SpottingGroup, "Sales")
            .await
            .unwrap(),
        Some(group("upgrade"))
    );
    // Names are per kind, case-sensitive, and per account.
    let vocabulary = serde_json::json!({"vocabularyName": "Sales", "terms": [{"term": "Zyntex"}]});
    assert!(
        db.put_definition(acme, Vocabulary, "Sales", &vocabulary)
            .await
            .unwrap()
    );
    assert_eq!(
        db.get_definition(acme, SpottingGroup, "sales")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        db.get_definition(acme, Category, "Sales").await.unwrap(),
        None
    );
    assert_eq!(
        db.get_definition(other, SpottingGroup, "Sales")
            .await
            .unwrap(),
        None
    );
    assert!(
        db.list_definitions(other, SpottingGroup)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !db.delete_definition(other, SpottingGroup, "Sales")
            .await
            .unwrap()
    );
    let b = serde_json::json!({"groupName": "Billing", "keywords": ["invoice"]});
    assert!(
        db.put_definition(acme, SpottingGroup, "Billing", &b)
            .await
            .unwrap()
    );
    let names: Vec<String> = db
        .list_definitions(acme, SpottingGroup)
        .await
        .unwrap()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(names, ["Billing", "Sales"]);
    assert!(
        db.delete_definition(acme, SpottingGroup, "Sales")
            .await
            .unwrap()
    );
    assert!(
        !db.delete_definition(acme, SpottingGroup, "Sales")
            .await
            .unwrap()
    );
    assert_eq!(
        db.get_definition(acme, SpottingGroup, "Sales")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        db.get_definition(acme, Vocabulary, "Sales").await.unwrap(),
        Some(vocabulary)
    );
}

/// Claims every due job with this aging window, in the order the queue gives them.
async fn claim_all(db: &dyn Db, window: TimeDelta) -> Vec<JobClaim> {
    let now = Utc::now();
    let mut claimed = Vec::new();
    while let Some(job) = db
        .claim_job_aging("w", now, now + TimeDelta::minutes(10), window)
        .await
        .unwrap()
    {
        claimed.push(job);
    }
    claimed
}

/// `high` before `normal` before `low`, but a job that has waited long enough
/// goes first whatever its priority. No clock is waited on: how long a job
/// has waited is set through the time a retry makes it due.
async fn priorities(db: &dyn Db, acme: AccountId) {
    let with = |name: &str, priority: &str| NewMedia {
        configuration: json!({"priority": priority}),
        ..new_media(acme, name)
    };
    // Queued oldest first, so first-come-first-served would give the reverse.
    let (low, normal, high) = (
        with("low", "low"),
        with("normal", "normal"),
        with("high", "high"),
    );
    let unset = new_media(acme, "unset");
    for m in [&low, &normal, &high, &unset] {
        db.create_media(m).await.unwrap();
    }
    let media = |claims: &[JobClaim]| claims.iter().map(|c| c.media_id).collect::<Vec<_>>();

    // Fresh jobs, the default window: by priority; no priority is `normal`
    // (then the older first).
    let now = Utc::now();
    let mut claims = Vec::new();
    while let Some(job) = db
        .claim_job("w", now, now + TimeDelta::minutes(10))
        .await
        .unwrap()
    {
        claims.push(job);
    }
    assert_eq!(media(&claims), [high.id, normal.id, unset.id, low.id]);

    // Put them back as if `low` had waited an hour, `normal` 15 minutes and
    // `high` just arrived (the unset one is done with).
    let by_media =
        |claims: &[JobClaim], id: MediaId| claims.iter().find(|c| c.media_id == id).unwrap().job_id;
    let requeue = async |claims: Vec<JobClaim>| {
        let now = Utc::now();
        for (id, waited) in [(low.id, 60), (normal.id, 15), (high.id, 0)] {
            let job = by_media(&claims, id);
            let due = now - TimeDelta::minutes(waited);
            assert!(db.retry_job(job, "w", "again", due).await.unwrap());
        }
    };
    let done = Finished::default();
    assert!(
        db.finish_job(by_media(&claims, unset.id), "w", unset.id, &done)
            .await
            .unwrap()
    );
    requeue(claims).await;

    // A 10-minute window: `low` has waited more than two windows longer than
    // the fresh `high`, `normal` more than one: both go first.
    let claims = claim_all(db, TimeDelta::minutes(10)).await;
    assert_eq!(media(&claims), [low.id, normal.id, high.id]);
    requeue(claims).await;

    // A 40-minute window: `high` is 80 minutes ahead, `normal` 55 minutes
    // (40 + 15), `low` 60 minutes.
    let claims = claim_all(db, TimeDelta::minutes(40)).await;
    assert_eq!(media(&claims), [high.id, low.id, normal.id]);
    requeue(claims).await;

    // No window: first come, first served.
    let claims = claim_all(db, TimeDelta::zero()).await;
    assert_eq!(media(&claims), [low.id, normal.id, high.id]);
    for c in claims {
        assert!(
            db.finish_job(c.job_id, "w", c.media_id, &done)
                .await
                .unwrap()
        );
    }
}

fn tasks(status: TaskStatus) -> Vec<Task> {
    ["fetch", "transcribe"]
        .into_iter()
        .map(|id| Task {
            task_id: id.into(),
            display: format!("Task {id}"),
            phase: "ingest".into(),
            status,
        })
        .collect()
}

fn new_media(account: AccountId, name: &str) -> NewMedia {
    NewMedia {
        id: MediaId::new(),
        account_id: account,
        source: MediaSource::Upload {
            file_name: Some(format!("{name}.wav")),
            content_type: Some("audio/wav".into()),
            size_bytes: 1000,
        },
        configuration: json!({"name": name, "callbacks": [{"url": "https://example.com/a"}, {"url": "https://example.com/b"}]}),
        metadata: Some(json!({"title": name, "extended": {"nested": [1, 2.5, null, "x"]}})),
        external_id: None,
        searchable: true,
        tasks: tasks(TaskStatus::Pending),
        encryption: None,
    }
}

fn entry(title: &str, description: &str, transcript: &str) -> IndexEntry {
    IndexEntry {
        title: title.into(),
        description: description.into(),
        transcript: transcript.into(),
        speakers: Vec::new(),
        extended: Vec::new(),
    }
}

fn attempt(seconds: i64, status: Option<u16>, error: Option<&str>) -> DeliveryAttempt {
    DeliveryAttempt {
        at: at(seconds, 250_000),
        http_status: status,
        error: error.map(Into::into),
    }
}

/// Creates media one by one, a little apart, so their creation times differ.
async fn create_in_order(db: &dyn Db, media: &[&NewMedia]) -> Vec<MediaRecord> {
    let mut created = Vec::new();
    for m in media {
        db.create_media(m).await.unwrap();
        tokio::time::sleep(Duration::from_millis(3)).await;
        created.push(db.get_media(m.account_id, m.id).await.unwrap().unwrap());
    }
    created
}

/// The five media of the story: m1 plain upload; m2 by URL, with an external
/// id, not searchable; m3 encrypted; m4 plain; m5 another account's, with
/// m2's external id.
struct Media {
    acme: AccountId,
    other: AccountId,
    n: [NewMedia; 5],
    m: [MediaRecord; 5],
}

async fn media_records(db: &dyn Db, acme: AccountId, other: AccountId) -> Media {
    // m1: plain upload; m2: by URL, with an external id, not searchable;
    // m3: encrypted; m4: plain; m5: another account's, same external id.
    let n1 = new_media(acme, "one");
    let mut n2 = new_media(acme, "two");
    n2.source = MediaSource::Url("https://example.com/two.mp3".into());
    n2.external_id = Some("ext-2".into());
    n2.searchable = false;
    // JSON the customer controls round-trips exactly, NUL included.
    n2.metadata = Some(json!({"note": "nul \u{0} here", "emoji": "🎙", "big": 12345678901234i64}));
    let mut n3 = new_media(acme, "three");
    n3.metadata = None;
    n3.source = MediaSource::Upload {
        file_name: None,
        content_type: None,
        size_bytes: 77,
    };
    n3.encryption = Some(Encryption {
        info: EncryptionInfo {
            public_key_id: PublicKeyId::new(),
            fingerprint: "ABCDEF".into(),
            public_key_hash: "00ff".into(),
        },
        pinned_key: vec![1, 2, 3],
        wrapped_seal_key: Some("sskw1:0011223344556677:aa".into()),
        sealed_input: Some(vec![9; 40]),
    });
    let n4 = new_media(acme, "four");
    let mut n5 = new_media(other, "five");
    n5.external_id = Some("ext-2".into());

    let created = create_in_order(db, &[&n1, &n2, &n3, &n4, &n5]).await;
    let [m1, m2, m3, m4, m5] = created.as_slice() else {
        unreachable!()
    };
    assert!(m1.created_at < m2.created_at && m2.created_at < m3.created_at);

    // What was created reads back, for its own account only.
    assert_eq!(m1.status, MediaStatus::Accepted);
    assert_eq!(m1.account_id, acme);
    assert_eq!(m1.file_name.as_deref(), Some("one.wav"));
    assert_eq!(m1.content_type.as_deref(), Some("audio/wav"));
    assert_eq!(m1.size_bytes, Some(1000));
    assert_eq!((m1.media_url.as_deref(), m1.length_ms), (None, None));
    assert_eq!(m1.configuration, n1.configuration);
    assert_eq!(m1.metadata, n1.metadata);
    assert_eq!(m1.tasks, n1.tasks);
    assert!(m1.searchable && m1.encryption.is_none() && m1.finished_at.is_none());
    assert_eq!(
        (&m1.transcript, &m1.prediction, &m1.failure),
        (&None, &None, &None)
    );
    assert!(m1.deliveries.is_empty());
    assert_eq!(m2.media_url.as_deref(), Some("https://example.com/two.mp3"));
    assert_eq!((m2.file_name.as_deref(), m2.size_bytes), (None, None));
    assert_eq!(m2.metadata, n2.metadata);
    assert!(!m2.searchable);
    assert_eq!(m3.encryption, n3.encryption);
    assert_eq!((m3.metadata.as_ref(), m3.size_bytes), (None, Some(77)));
    assert_eq!(db.get_media(other, n1.id).await.unwrap(), None);
    assert_eq!(db.get_media(acme, n5.id).await.unwrap(), None);
    assert_eq!(db.get_media(acme, MediaId::new()).await.unwrap(), None);
    assert_eq!(db.load_media(n5.id).await.unwrap().as_ref(), Some(m5));
    assert_eq!(db.load_media(MediaId::new()).await.unwrap(), None);
    assert!(matches!(
        db.create_media(&n1).await,
        Err(StoreError::Conflict(_))
    ));

    // The stored seal keys (m3's only); replacing one is a compare-and-swap,
    // so a rotation never overwrites a key another process replaced first.
    let wrapped = StoredSealKey::Wrapped("sskw1:0011223344556677:aa".into());
    assert_eq!(
        db.stored_seal_keys().await.unwrap(),
        vec![(n3.id, wrapped.clone())]
    );
    let rewrapped = "sskw1:8899aabbccddeeff:bb";
    assert!(
        db.replace_seal_key(n3.id, &wrapped, rewrapped)
            .await
            .unwrap()
    );
    assert!(
        !db.replace_seal_key(n3.id, &wrapped, "sskw1:x:cc")
            .await
            .unwrap()
    );
    assert!(
        !db.replace_seal_key(n1.id, &StoredSealKey::Clear("aa".repeat(32)), "sskw1:x:cc")
            .await
            .unwrap()
    );
    let rewrapped = StoredSealKey::Wrapped(rewrapped.into());
    assert_eq!(
        db.stored_seal_keys().await.unwrap(),
        vec![(n3.id, rewrapped.clone())]
    );
    let StoredSealKey::Wrapped(original) = &wrapped else {
        unreachable!()
    };
    assert!(
        db.replace_seal_key(n3.id, &rewrapped, original)
            .await
            .unwrap()
    );
    assert_eq!(db.load_media(n3.id).await.unwrap().as_ref(), Some(m3));

    listing(db, acme, other, [m1, m2, m3, m4, m5]).await;
    Media {
        acme,
        other,
        n: [n1, n2, n3, n4, n5],
        m: created.try_into().unwrap(),
    }
}

/// What the job stage leaves for the stages after it.
struct Jobs {
    t2: DateTime<Utc>,
    lease2: DateTime<Utc>,
    /// m2's job, retried in an hour.
    j2: JobClaim,
    failure: Failure,
    transcript: serde_json::Value,
    index4: IndexEntry,
}

async fn jobs_and_leases(db: &dyn Db, s: &Media) -> Jobs {
    let (acme, [n1, n2, n3, n4, n5], [m1, ..]) = (s.acme, &s.n, &s.m);
    // --- The job queue. ---------------------------------------------------
    let t0 = Utc::now();
    let lease = t0 + TimeDelta::minutes(1);
    // Nothing is due before the media existed.
    assert_eq!(
        db.claim_job("w1", m1.created_at - TimeDelta::seconds(1), lease)
            .await
            .unwrap(),
        None
    );
    let counts = |now| async move {
        let mut c = db.job_counts(now).await.unwrap();
        c.sort_by(|a, b| (&a.kind, &a.state).cmp(&(&b.kind, &b.state)));
        c.into_iter()
            .map(|c| (c.kind, c.state, c.count))
            .collect::<Vec<_>>()
    };
    let p = |state: &str, n| ("process".to_owned(), state.to_owned(), n);
    // Every media has its processing job: not yet due before it existed, queued after.
    assert_eq!(
        counts(m1.created_at - TimeDelta::seconds(1)).await,
        [p("scheduled", 5)]
    );
    assert_eq!(counts(t0).await, [p("queued", 5)]);
    let j1 = db.claim_job("w1", t0, lease).await.unwrap().unwrap();
    assert_eq!(counts(t0).await, [p("queued", 4), p("running", 1)]);
    assert_eq!(
        (j1.media_id, j1.kind, j1.attempt),
        (n1.id, JobKind::Process, 1)
    );
    assert!(
        db.renew_lease(j1.job_id, "w1", lease + TimeDelta::minutes(1))
            .await
            .unwrap()
    );
    assert!(!db.renew_lease(j1.job_id, "w2", lease).await.unwrap());

    // Pipeline progress.
    db.set_running(n1.id, &tasks(TaskStatus::Started))
        .await
        .unwrap();
    db.set_probed(n1.id, 61_500, Some("audio/x-other"), Some(2048))
        .await
        .unwrap();
    let running = db.get_media(acme, n1.id).await.unwrap().unwrap();
    assert_eq!(running.status, MediaStatus::Running);
    assert_eq!(running.tasks, tasks(TaskStatus::Started));
    assert_eq!(running.length_ms, Some(61_500));
    // A known content type is kept; a measured size replaces the declared one.
    assert_eq!(running.content_type.as_deref(), Some("audio/wav"));
    assert_eq!(running.size_bytes, Some(2048));
    db.set_probed(n3.id, 10, Some("audio/ogg"), None)
        .await
        .unwrap();
    let probed = db.get_media(acme, n3.id).await.unwrap().unwrap();
    assert_eq!(probed.content_type.as_deref(), Some("audio/ogg"));
    assert_eq!(probed.size_bytes, Some(77));
    db.set_tasks(n1.id, &tasks(TaskStatus::Completed))
        .await
        .unwrap();
    assert_eq!(
        db.get_media(acme, n1.id).await.unwrap().unwrap().tasks,
        tasks(TaskStatus::Completed)
    );

    // Finishing m1: transcript, prediction, index entry and two callbacks.
    let transcript = json!({"words": [{"w": "we", "s": 0}], "text": "we don't agree"});
    let prediction = json!({"detectors": [{"name": "pci", "detections": []}]});
    let metrics = json!([{"metricGroupName": "overtalk", "metricValues": []}]);
    let analytics = json!({"spotting": {"groups": []}, "categories": []});
    let index1 = entry(
        "Weekly meetings",
        "Budget review with the e-mail team",
        "we don't agree on the quarterly numbers",
    );
    let finished1 = Finished {
        transcript: Some(&transcript),
        prediction: Some(&prediction),
        metrics: Some(&metrics),
        analytics: Some(&analytics),
        tasks: &tasks(TaskStatus::Completed),
        index: Some(&index1),
        callbacks: &[0, 1],
    };
    assert!(
        !db.finish_job(j1.job_id, "w2", n1.id, &finished1)
            .await
            .unwrap()
    );
    assert!(
        db.finish_job(j1.job_id, "w1", n1.id, &finished1)
            .await
            .unwrap()
    );
    assert!(
        !db.finish_job(j1.job_id, "w1", n1.id, &finished1)
            .await
            .unwrap()
    );
    assert!(!db.renew_lease(j1.job_id, "w1", lease).await.unwrap());
    let done1 = db.get_media(acme, n1.id).await.unwrap().unwrap();
    assert_eq!(done1.status, MediaStatus::Finished);
    assert!(done1.finished_at.is_some());
    assert_eq!(done1.transcript.as_ref(), Some(&transcript));
    assert_eq!(done1.recognised.as_ref(), Some(&transcript));
    assert_eq!(done1.prediction.as_ref(), Some(&prediction));
    assert_eq!(done1.metrics.as_ref(), Some(&metrics));
    assert_eq!(done1.analytics.as_ref(), Some(&analytics));
    assert_eq!(done1.tasks, tasks(TaskStatus::Completed));
    let pending = |i| (i, DeliveryStatus::Pending, 0);
    assert_eq!(deliveries(&done1), vec![pending(0), pending(1)]);

    // m2: a lease that expires is taken over by another worker; the first
    // worker can no longer touch the job.
    let t1 = Utc::now();
    let j2 = db
        .claim_job("w1", t1, t1 + TimeDelta::seconds(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((j2.media_id, j2.attempt), (n2.id, 1));
    let later = t1 + TimeDelta::seconds(2);
    let j2b = db
        .claim_job("w2", later, later + TimeDelta::minutes(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (j2b.job_id, j2b.media_id, j2b.attempt),
        (j2.job_id, n2.id, 2)
    );
    let failure = Failure {
        code: 422,
        error: "unreadable".into(),
    };
    assert!(!db.renew_lease(j2.job_id, "w1", later).await.unwrap());
    assert!(
        !db.finish_job(j2.job_id, "w1", n2.id, &Finished::default())
            .await
            .unwrap()
    );
    assert!(!db.retry_job(j2.job_id, "w1", "lost", later).await.unwrap());
    assert!(
        !db.fail_job(j2.job_id, "w1", n2.id, &failure, &[], &[0])
            .await
            .unwrap()
    );
    // Retried in an hour: not claimable before.
    let retry_at = t1 + TimeDelta::hours(1);
    assert!(
        db.retry_job(j2.job_id, "w2", "transient", retry_at)
            .await
            .unwrap()
    );
    assert!(!db.renew_lease(j2.job_id, "w2", later).await.unwrap());

    // m3 (encrypted) fails: its seal key and sealed input are destroyed, the
    // pinned key stays, and its callback is owed.
    let j3 = db
        .claim_job("w3", later, later + TimeDelta::minutes(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(j3.media_id, n3.id);
    assert!(
        db.fail_job(
            j3.job_id,
            "w3",
            n3.id,
            &failure,
            &tasks(TaskStatus::Failed),
            &[0]
        )
        .await
        .unwrap()
    );
    let failed3 = db.get_media(acme, n3.id).await.unwrap().unwrap();
    assert_eq!(failed3.status, MediaStatus::Failed);
    assert_eq!(failed3.failure.as_ref(), Some(&failure));
    assert_eq!(failed3.tasks, tasks(TaskStatus::Failed));
    assert!(failed3.finished_at.is_some());
    let enc = failed3.encryption.as_ref().unwrap();
    assert_eq!(
        (enc.wrapped_seal_key.as_ref(), enc.sealed_input.as_ref()),
        (None, None)
    );
    assert_eq!(db.stored_seal_keys().await.unwrap(), vec![]);
    assert_eq!(enc.pinned_key, vec![1, 2, 3]);
    assert_eq!(enc.info, n3.encryption.as_ref().unwrap().info);
    assert_eq!(deliveries(&failed3), vec![pending(0)]);

    // m4 and m5 finish with index entries (m5 in the other account).
    let t2 = t1 + TimeDelta::hours(2);
    let lease2 = t2 + TimeDelta::minutes(1);
    let index4 = entry(
        "Frost poem",
        "Stopping by woods",
        "the woods are lovely dark and deep, a meeting on covid-19 at 3.5% (bob@example.com)",
    );
    let index5 = entry("Weekly meetings", "woods", "frost meeting");
    for (n, index) in [(&n4, &index4), (&n5, &index5)] {
        let j = db.claim_job("w1", t2, lease2).await.unwrap().unwrap();
        assert_eq!((j.media_id, j.kind), (n.id, JobKind::Process));
        let done = Finished {
            tasks: &[],
            index: Some(index),
            ..Default::default()
        };
        assert!(db.finish_job(j.job_id, "w1", n.id, &done).await.unwrap());
    }
    Jobs {
        t2,
        lease2,
        j2,
        failure,
        transcript,
        index4,
    }
}

async fn callback_deliveries(db: &dyn Db, s: &Media, j: &Jobs) {
    let (acme, [n1, n2, n3, ..]) = (s.acme, &s.n);
    let (t2, lease2, j2) = (j.t2, j.lease2, &j.j2);
    // The callbacks, in the order they were queued.
    let cb = db.claim_job("cb", t2, lease2).await.unwrap().unwrap();
    assert_eq!(
        (cb.media_id, cb.kind),
        (n1.id, JobKind::Callback { index: 0 })
    );
    let a1 = attempt(1_700_000_001, Some(500), None);
    let t3 = t2 + TimeDelta::hours(1);
    assert!(
        !db.end_delivery(
            cb.job_id,
            "other",
            n1.id,
            0,
            std::slice::from_ref(&a1),
            DeliveryOutcome::Delivered
        )
        .await
        .unwrap()
    );
    assert!(
        db.end_delivery(
            cb.job_id,
            "cb",
            n1.id,
            0,
            std::slice::from_ref(&a1),
            DeliveryOutcome::RetryAt(t3)
        )
        .await
        .unwrap()
    );
    let cb1 = db.claim_job("cb", t2, lease2).await.unwrap().unwrap();
    assert_eq!(
        (cb1.media_id, cb1.kind),
        (n1.id, JobKind::Callback { index: 1 })
    );
    let a2 = attempt(1_700_000_002, Some(204), None);
    assert!(
        db.end_delivery(
            cb1.job_id,
            "cb",
            n1.id,
            1,
            std::slice::from_ref(&a2),
            DeliveryOutcome::Delivered
        )
        .await
        .unwrap()
    );
    let cb3 = db.claim_job("cb", t2, lease2).await.unwrap().unwrap();
    assert_eq!(
        (cb3.media_id, cb3.kind),
        (n3.id, JobKind::Callback { index: 0 })
    );
    let a3 = attempt(1_700_000_003, None, Some("connection refused"));
    assert!(
        db.end_delivery(
            cb3.job_id,
            "cb",
            n3.id,
            0,
            &[a3.clone(), a3.clone()],
            DeliveryOutcome::Failed
        )
        .await
        .unwrap()
    );
    // Then m2's retry (due at t1 + 1h), its third attempt; it finishes unindexed.
    let j2c = db.claim_job("w2", t2, lease2).await.unwrap().unwrap();
    assert_eq!((j2c.job_id, j2c.attempt), (j2.job_id, 3));
    assert!(
        db.finish_job(j2c.job_id, "w2", n2.id, &Finished::default())
            .await
            .unwrap()
    );
    let done2 = db.get_media(acme, n2.id).await.unwrap().unwrap();
    assert_eq!(
        (done2.status, &done2.transcript),
        (MediaStatus::Finished, &None)
    );
    // m1's first callback is not due again until t3.
    assert_eq!(db.claim_job("cb", t2, lease2).await.unwrap(), None);
    let cb0 = db
        .claim_job("cb", t3, t3 + TimeDelta::minutes(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((cb0.job_id, cb0.attempt), (cb.job_id, 2));
    let a4 = attempt(1_700_000_004, Some(200), None);
    assert!(
        db.end_delivery(
            cb0.job_id,
            "cb",
            n1.id,
            0,
            std::slice::from_ref(&a4),
            DeliveryOutcome::Delivered
        )
        .await
        .unwrap()
    );
    assert_eq!(
        db.claim_job("cb", t3 + TimeDelta::days(1), t3)
            .await
            .unwrap(),
        None
    );

    let d1 = db.get_media(acme, n1.id).await.unwrap().unwrap().deliveries;
    assert_eq!(d1.len(), 2);
    assert_eq!((d1[0].index, d1[0].status), (0, DeliveryStatus::Delivered));
    assert_eq!(d1[0].attempts, vec![a1.clone(), a4]);
    assert_eq!((d1[1].index, d1[1].status), (1, DeliveryStatus::Delivered));
    assert_eq!(d1[1].attempts, vec![a2]);
    let d3 = db.get_media(acme, n3.id).await.unwrap().unwrap().deliveries;
    assert_eq!(
        (d3[0].status, d3[0].attempts.len()),
        (DeliveryStatus::Failed, 2)
    );
}

async fn metadata_and_transcripts(db: &dyn Db, s: &Media, j: &Jobs) {
    let (acme, other, [_, _, n3, n4, _]) = (s.acme, s.other, &s.n);
    let (transcript, index4) = (&j.transcript, &j.index4);
    // --- Metadata, transcripts, reprocessing, deletion. ---------------------
    let meta = json!({"title": "Renamed", "externalId": "ext-4"});
    let renamed = entry("Renamed recital", "Stopping by woods", &index4.transcript);
    assert!(
        !db.set_metadata(other, n4.id, &meta, Some("ext-4"), Some(&renamed))
            .await
            .unwrap()
    );
    assert!(
        db.set_metadata(acme, n4.id, &meta, Some("ext-4"), Some(&renamed))
            .await
            .unwrap()
    );
    let m4b = db.get_media(acme, n4.id).await.unwrap().unwrap();
    assert_eq!(m4b.metadata.as_ref(), Some(&meta));
    assert_eq!(found(db, acme, &[title("recital")]).await, [n4.id]);
    assert_eq!(found(db, acme, &[title("frost")]).await, []);
    assert_eq!(listed_ids(db, acme, ext("ext-4")).await, [n4.id]);
    // Without an index entry, the index is left as it was.
    assert!(
        db.set_metadata(acme, n4.id, &json!({}), None, None)
            .await
            .unwrap()
    );
    assert_eq!(found(db, acme, &[title("recital")]).await, [n4.id]);
    assert_eq!(listed_ids(db, acme, ext("ext-4")).await, []);

    let aligned = json!({"text": "aligned by hand"});
    let realigned = entry("Renamed recital", "", "aligned by hand");
    assert!(
        !db.set_transcript(other, n4.id, &aligned, Some(&realigned))
            .await
            .unwrap()
    );
    // Only finished media have a transcript to replace.
    assert!(
        !db.set_transcript(acme, n3.id, &aligned, None)
            .await
            .unwrap()
    );
    assert!(
        db.set_transcript(acme, n4.id, &aligned, Some(&realigned))
            .await
            .unwrap()
    );
    let m4c = db.get_media(acme, n4.id).await.unwrap().unwrap();
    assert_eq!(m4c.transcript.as_ref(), Some(&aligned));
    assert_eq!(m4c.recognised, None, "alignment keeps what was recognised");
    assert_eq!(found(db, acme, &[any("lovely")]).await, []);
    assert_eq!(found(db, acme, &[any("hand")]).await, [n4.id]);
    assert!(
        db.set_transcript(acme, n4.id, transcript, None)
            .await
            .unwrap()
    );
    assert_eq!(found(db, acme, &[any("hand")]).await, [n4.id]);
}

/// Returns m3's new job (claimed) and the configuration both reruns got.
async fn reprocessing(db: &dyn Db, s: &Media) -> (JobClaim, serde_json::Value) {
    let (acme, other, [n1, _, n3, ..]) = (s.acme, s.other, &s.n);
    // Reprocessing m1: only when nothing is owed, and only for its account.
    let config = json!({"reprocessed": true});
    assert!(
        !db.requeue_media(other, n1.id, &config, false, &[])
            .await
            .unwrap()
    );
    assert!(
        db.requeue_media(acme, n1.id, &config, false, &tasks(TaskStatus::Pending))
            .await
            .unwrap()
    );
    assert!(
        !db.requeue_media(acme, n1.id, &config, false, &[])
            .await
            .unwrap()
    );
    let re1 = db.get_media(acme, n1.id).await.unwrap().unwrap();
    assert_eq!(re1.status, MediaStatus::Accepted);
    assert_eq!(
        (re1.configuration.clone(), re1.searchable),
        (config.clone(), false)
    );
    assert_eq!((re1.finished_at, re1.failure.as_ref()), (None, None));
    assert!(
        re1.deliveries.is_empty(),
        "the new run owes its own callbacks"
    );
    // Still searchable until the new run finishes, which replaces the entry.
    assert_eq!(found(db, acme, &[title("weekly")]).await, [n1.id]);
    let now = Utc::now();
    let jr = db
        .claim_job("w1", now, now + TimeDelta::minutes(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((jr.media_id, jr.attempt), (n1.id, 1));
    assert!(
        db.finish_job(jr.job_id, "w1", n1.id, &Finished::default())
            .await
            .unwrap()
    );
    assert_eq!(found(db, acme, &[title("weekly")]).await, []);
    // A failed media can be reprocessed too; a running one cannot.
    assert!(
        db.requeue_media(acme, n3.id, &config, true, &[])
            .await
            .unwrap()
    );
    let re3 = db.get_media(acme, n3.id).await.unwrap().unwrap();
    assert_eq!(
        (re3.status, re3.failure.as_ref()),
        (MediaStatus::Accepted, None)
    );
    assert!(re3.deliveries.is_empty());
    let now = Utc::now();
    let j3r = db
        .claim_job("w1", now, now + TimeDelta::minutes(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(j3r.media_id, n3.id);
    (j3r, config)
}

async fn deletion(db: &dyn Db, s: &Media, j: &Jobs, j3r: &JobClaim, config: &serde_json::Value) {
    let (acme, other, [n1, n2, n3, n4, n5]) = (s.acme, s.other, &s.n);
    let failure = &j.failure;
    let now = Utc::now();
    // Deleting m3 while its job runs: the job goes with it, and so does the lease.
    assert!(!db.delete_media(other, n3.id).await.unwrap());
    assert!(db.delete_media(acme, n3.id).await.unwrap());
    assert!(!db.delete_media(acme, n3.id).await.unwrap());
    assert_eq!(db.get_media(acme, n3.id).await.unwrap(), None);
    assert!(!db.renew_lease(j3r.job_id, "w1", now).await.unwrap());
    assert!(
        !db.finish_job(j3r.job_id, "w1", n3.id, &Finished::default())
            .await
            .unwrap()
    );
    assert!(
        !db.fail_job(j3r.job_id, "w1", n3.id, failure, &[], &[0])
            .await
            .unwrap()
    );
    assert!(
        !db.end_delivery(j3r.job_id, "w1", n3.id, 0, &[], DeliveryOutcome::Delivered)
            .await
            .unwrap()
    );
    // Deleting m4 drops its index entry; m5's in the other account is untouched.
    assert!(db.delete_media(acme, n4.id).await.unwrap());
    assert_eq!(found(db, acme, &[any("woods")]).await, []);
    assert_eq!(found(db, other, &[any("woods")]).await, [n5.id]);
    // And a media with queued callbacks takes them with it.
    assert!(
        db.requeue_media(other, n5.id, config, true, &[])
            .await
            .unwrap()
    );
    let now = Utc::now();
    let j5 = db
        .claim_job("w1", now, now + TimeDelta::minutes(1))
        .await
        .unwrap()
        .unwrap();
    let index5b = entry("x", "y", "z");
    let done5 = Finished {
        index: Some(&index5b),
        callbacks: &[0],
        ..Default::default()
    };
    assert!(db.finish_job(j5.job_id, "w1", n5.id, &done5).await.unwrap());
    assert!(db.delete_media(other, n5.id).await.unwrap());
    assert_eq!(
        db.claim_job("w1", now + TimeDelta::days(9), now)
            .await
            .unwrap(),
        None
    );
    assert_eq!(found(db, other, &[any("x")]).await, []);
    let left = listed_ids(
        db,
        acme,
        MediaQuery {
            limit: 10,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(left, [n2.id, n1.id]);
}
fn deliveries(m: &MediaRecord) -> Vec<(u32, DeliveryStatus, usize)> {
    m.deliveries
        .iter()
        .map(|d| (d.index, d.status, d.attempts.len()))
        .collect()
}

fn ext(id: &str) -> MediaQuery {
    MediaQuery {
        external_id: Some(id.into()),
        limit: 100,
        ..Default::default()
    }
}

async fn listed_ids(db: &dyn Db, account: AccountId, q: MediaQuery) -> Vec<MediaId> {
    db.list_media(account, &q)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect()
}

async fn listing(
    db: &dyn Db,
    acme: AccountId,
    other: AccountId,
    [m1, m2, m3, m4, m5]: [&MediaRecord; 5],
) {
    let q = |f: &dyn Fn(&mut MediaQuery)| {
        let mut q = MediaQuery {
            limit: 100,
            ..Default::default()
        };
        f(&mut q);
        q
    };
    let ids = |ms: &[&MediaRecord]| ms.iter().map(|m| m.id).collect::<Vec<_>>();

    // Newest first by default; summaries leave out transcripts and secrets.
    let all = db.list_media(acme, &q(&|_| {})).await.unwrap();
    assert_eq!(
        all.iter().map(|m| m.id).collect::<Vec<_>>(),
        ids(&[m4, m3, m2, m1])
    );
    let summary3 = &all[1];
    assert_eq!(summary3.status, MediaStatus::Accepted);
    let enc = summary3.encryption.as_ref().unwrap();
    assert_eq!(enc.info, m3.encryption.as_ref().unwrap().info);
    assert!(
        enc.pinned_key.is_empty() && enc.wrapped_seal_key.is_none() && enc.sealed_input.is_none()
    );
    let summary2 = &all[2];
    assert_eq!(summary2.metadata, m2.metadata);
    assert_eq!(summary2.created_at, m2.created_at);
    assert_eq!(summary2.configuration, m2.configuration);
    assert_eq!(summary2.tasks, m2.tasks);
    assert_eq!(db.list_media(other, &q(&|_| {})).await.unwrap().len(), 1);

    let asc = |q: &mut MediaQuery| q.ascending = true;
    assert_eq!(listed_ids(db, acme, q(&asc)).await, ids(&[m1, m2, m3, m4]));
    assert_eq!(
        listed_ids(db, acme, q(&|q| q.limit = 2)).await,
        ids(&[m4, m3])
    );
    let after = |id: MediaId| move |q: &mut MediaQuery| q.after = Some(id);
    let before = |id: MediaId| move |q: &mut MediaQuery| q.before = Some(id);
    assert_eq!(listed_ids(db, acme, q(&after(m3.id))).await, ids(&[m2, m1]));
    assert_eq!(
        listed_ids(db, acme, q(&before(m2.id))).await,
        ids(&[m4, m3])
    );
    let asc_after = |q: &mut MediaQuery| {
        q.ascending = true;
        q.after = Some(m2.id);
    };
    assert_eq!(listed_ids(db, acme, q(&asc_after)).await, ids(&[m3, m4]));
    let asc_before_limited = |q: &mut MediaQuery| {
        q.ascending = true;
        q.before = Some(m4.id);
        q.limit = 2;
    };
    assert_eq!(
        listed_ids(db, acme, q(&asc_before_limited)).await,
        ids(&[m1, m2])
    );
    let between = |q: &mut MediaQuery| {
        q.after = Some(m4.id);
        q.before = Some(m1.id);
    };
    assert_eq!(listed_ids(db, acme, q(&between)).await, ids(&[m3, m2]));
    // A cursor from another account (or none at all) matches nothing.
    assert_eq!(listed_ids(db, acme, q(&after(m5.id))).await, []);
    assert_eq!(listed_ids(db, acme, q(&before(MediaId::new()))).await, []);

    let from = m2.created_at;
    let on_or_after = move |q: &mut MediaQuery| q.on_or_after = Some(from);
    let on_or_before = move |q: &mut MediaQuery| q.on_or_before = Some(from);
    assert_eq!(
        listed_ids(db, acme, q(&on_or_after)).await,
        ids(&[m4, m3, m2])
    );
    assert_eq!(listed_ids(db, acme, q(&on_or_before)).await, ids(&[m2, m1]));
    let day_before = |q: &mut MediaQuery| q.on_or_before = Some(m1.created_at - TimeDelta::days(1));
    assert_eq!(listed_ids(db, acme, q(&day_before)).await, []);

    assert_eq!(listed_ids(db, acme, ext("ext-2")).await, ids(&[m2]));
    assert_eq!(listed_ids(db, other, ext("ext-2")).await, ids(&[m5]));
    assert_eq!(listed_ids(db, acme, ext("ext-9")).await, []);
}

fn any(term: &str) -> SearchTerm {
    SearchTerm {
        field: None,
        speaker: None,
        term: term.into(),
    }
}

fn title(term: &str) -> SearchTerm {
    SearchTerm {
        field: Some(SearchField::Title),
        speaker: None,
        term: term.into(),
    }
}

fn in_field(field: SearchField, term: &str) -> SearchTerm {
    SearchTerm {
        field: Some(field),
        speaker: None,
        term: term.into(),
    }
}

/// `term` said by `speaker` (a search key: lower case).
fn said(speaker: &str, term: &str) -> SearchTerm {
    SearchTerm {
        field: None,
        speaker: Some(speaker.into()),
        term: term.into(),
    }
}

/// A transcript of these turns (`(speaker, words)`; `None`: no turn token, as
/// in mono media), words 300 ms apart, the speaker's punctuation included.
fn turns(turns: &[(Option<&str>, &str)]) -> Transcript {
    let mut words = Vec::new();
    let mut push = |w: &str, m: Option<&str>| {
        let t = words.len() as u64 * 300;
        words.push(Word {
            p: words.len() as u32,
            s: t,
            e: t + 250,
            c: 0.9,
            w: w.into(),
            m: m.map(Into::into),
        });
    };
    for (speaker, text) in turns {
        if let Some(speaker) = speaker {
            push(speaker, Some("turn"));
        }
        for w in text.split(' ') {
            let punc = w.chars().all(|c| c.is_ascii_punctuation());
            push(w, punc.then_some("punc"));
        }
    }
    Transcript {
        confidence: 0.9,
        words,
        ..Default::default()
    }
}

/// Terms restricted to a speaker find only what that speaker said, on hand-built
/// two-speaker transcripts indexed as the pipeline indexes them
/// ([`IndexEntry::new`]); mono media have no speakers.
async fn speaker_search(db: &dyn Db, acme: AccountId, other: AccountId) {
    let call = turns(&[
        (Some("Agent"), "thank you for calling , how can I help ?"),
        (Some("Caller"), "I want a refund for my card ."),
        (Some("Agent"), "sorry to hear that , a refund it is ."),
        (Some("Caller"), "thank you"),
    ]);
    let other_call = turns(&[
        (Some("agent"), "your refund was sent"),
        (Some("Customer"), "great , my card works"),
    ]);
    let mono = turns(&[(None, "a refund for my card please")]);
    let (n1, n2, n3) = (
        new_media(acme, "call"),
        new_media(acme, "other-call"),
        new_media(acme, "mono"),
    );
    let theirs = new_media(other, "theirs");
    for (m, t) in [
        (&n1, &call),
        (&n2, &other_call),
        (&n3, &mono),
        (&theirs, &call),
    ] {
        db.create_media(m).await.unwrap();
        // Creation times apart, so that the listing order is certain.
        tokio::time::sleep(Duration::from_millis(3)).await;
        let metadata = json!({"title": "Support call"});
        let entry = IndexEntry::new(Some(&metadata), t);
        assert!(
            db.set_metadata(m.account_id, m.id, &metadata, None, Some(&entry))
                .await
                .unwrap()
        );
    }
    let (c1, c2, c3) = (n1.id, n2.id, n3.id);
    let cases: Vec<(Vec<SearchTerm>, Vec<MediaId>)> = vec![
        // Unrestricted, the words of every speaker (and of mono media) count.
        (vec![any("refund")], vec![c1, c2, c3]),
        // Restricted: only that speaker's words; mono media have no speaker.
        (vec![said("caller", "refund")], vec![c1]),
        (vec![said("agent", "refund")], vec![c1, c2]),
        (vec![said("customer", "refund")], vec![]),
        (vec![said("customer", "card")], vec![c2]),
        (vec![said("agent", "card")], vec![]),
        (vec![said("caller", "thank")], vec![c1]),
        // Stemmed as everywhere else; a phrase within one speaker's words.
        (vec![said("caller", "refunds")], vec![c1]),
        (vec![said("caller", "my-card")], vec![c1]),
        (vec![said("agent", "my-card")], vec![]),
        // A speaker nobody has, a turn token's name is no word said.
        (vec![said("nobody", "refund")], vec![]),
        (vec![said("caller", "agent")], vec![]),
        // Terms combine: each restricted term with its speaker, the rest anywhere.
        (
            vec![said("caller", "refund"), said("agent", "sorry")],
            vec![c1],
        ),
        (vec![said("agent", "refund"), any("card")], vec![c1, c2]),
        (
            vec![said("agent", "refund"), title("support")],
            vec![c1, c2],
        ),
        (vec![said("agent", "refund"), title("meeting")], vec![]),
        (vec![said("caller", "refund"), any("great")], vec![]),
    ];
    for (terms, expected) in cases {
        assert_eq!(
            found(db, acme, &terms).await,
            expected,
            "searching {terms:?}"
        );
    }
    // Per account.
    assert_eq!(
        found(db, other, &[said("caller", "refund")]).await,
        [theirs.id]
    );
    // A new entry replaces the speakers' words; no entry removes them.
    let swapped = turns(&[(Some("Caller"), "hello"), (Some("Agent"), "a refund")]);
    let entry = IndexEntry::new(None, &swapped);
    assert!(
        db.set_metadata(acme, c1, &json!({}), None, Some(&entry))
            .await
            .unwrap()
    );
    assert_eq!(found(db, acme, &[said("caller", "refund")]).await, []);
    assert_eq!(found(db, acme, &[said("caller", "hello")]).await, [c1]);
    assert!(db.delete_media(acme, c1).await.unwrap());
    assert_eq!(found(db, acme, &[said("agent", "refund")]).await, [c2]);
}

fn filter(field: &str, value: &str) -> ExtendedFilter {
    ExtendedFilter {
        field: field.into(),
        value: value.into(),
    }
}

/// The account's media whose index holds every `(field, value)`, oldest first.
async fn with_values(db: &dyn Db, account: AccountId, filters: &[(&str, &str)]) -> Vec<MediaId> {
    let q = MediaQuery {
        extended: filters.iter().map(|(f, v)| filter(f, v)).collect(),
        ascending: true,
        limit: 100,
        ..Default::default()
    };
    listed_ids(db, account, q).await
}

/// Media indexed with the values of their searchable extended fields
/// ([`IndexEntry::with_extended`]), as the pipeline and the API index them: exact,
/// case-sensitive matches of the string form, AND across filters, any element of an array,
/// per account; combined with full-text terms, `externalId` and cursors; replaced by a new
/// entry, removed with the entry, pruned when a field stops being searchable (in the same
/// transaction that stores the new list), and gone with the media.
async fn extended_search(db: &dyn Db, acme: AccountId, other: AccountId) {
    use sealscribe_domain::definitions::DefinitionKind::SearchableFields;
    // The account's searchable fields are a definition of their own, per account.
    let fields = vec![
        "extended.customerId".to_owned(),
        "extended.agent.name".to_owned(),
        "extended.tags".to_owned(),
    ];
    let body = json!({ "fields": fields });
    assert_eq!(db.set_searchable_fields(acme, &fields).await.unwrap(), 0);
    assert_eq!(
        db.get_definition(acme, SearchableFields, "media")
            .await
            .unwrap(),
        Some(body)
    );
    assert_eq!(
        db.get_definition(other, SearchableFields, "media")
            .await
            .unwrap(),
        None
    );

    let metas = [
        json!({"title": "one", "extended": {"customerId": 10101, "agent": {"name": "Ada"}, "tags": ["vip", "renewal", 7]}}),
        json!({"title": "two", "extended": {"customerId": "10101", "agent": {"name": "ada"}, "tags": "vip"}}),
        json!({"title": "three", "extended": {"customerId": "Zürich \"50%\" _x_", "agent": {"name": ""}}}),
        // Not indexed for its extended fields: indexed before they were searchable.
        json!({"title": "four", "extended": {"customerId": 10101}}),
    ];
    let n: Vec<NewMedia> = ["e1", "e2", "e3", "e4"]
        .iter()
        .map(|name| new_media(acme, name))
        .collect();
    let theirs = new_media(other, "theirs");
    for (i, m) in n.iter().chain([&theirs]).enumerate() {
        db.create_media(m).await.unwrap();
        tokio::time::sleep(Duration::from_millis(3)).await;
        let metadata = metas[if i < 4 { i } else { 0 }].clone();
        let indexed_fields: &[String] = if i == 3 { &[] } else { &fields };
        let entry = IndexEntry::new(Some(&metadata), &Transcript::default())
            .with_extended(indexed_fields, Some(&metadata));
        let external = (i == 1).then_some("crm-2");
        assert!(
            db.set_metadata(m.account_id, m.id, &metadata, external, Some(&entry))
                .await
                .unwrap()
        );
    }
    let [e1, e2, e3] = [n[0].id, n[1].id, n[2].id];
    type Case<'a> = (Vec<(&'a str, &'a str)>, Vec<MediaId>);
    let cases: Vec<Case> = vec![
        // A number and a string with the same string form are the same value.
        (vec![("extended.customerId", "10101")], vec![e1, e2]),
        (vec![("extended.customerId", "1010")], vec![]),
        (vec![("extended.customerId", "10101 ")], vec![]),
        // Exact and case-sensitive; nested paths.
        (vec![("extended.agent.name", "Ada")], vec![e1]),
        (vec![("extended.agent.name", "ada")], vec![e2]),
        (vec![("extended.agent.name", "ADA")], vec![]),
        (vec![("extended.agent.name", "")], vec![e3]),
        // No pattern syntax: quotes, %, _ and non-ASCII are plain characters.
        (
            vec![("extended.customerId", "Zürich \"50%\" _x_")],
            vec![e3],
        ),
        (vec![("extended.customerId", "Zürich%")], vec![]),
        (vec![("extended.customerId", "zürich \"50%\" _x_")], vec![]),
        // Any element of an array; a scalar matches as a one-element array would.
        (vec![("extended.tags", "vip")], vec![e1, e2]),
        (vec![("extended.tags", "renewal")], vec![e1]),
        (vec![("extended.tags", "7")], vec![e1]),
        // AND across filters, the same field twice included.
        (
            vec![("extended.tags", "vip"), ("extended.agent.name", "ada")],
            vec![e2],
        ),
        (
            vec![("extended.tags", "vip"), ("extended.tags", "renewal")],
            vec![e1],
        ),
        (
            vec![("extended.customerId", "10101"), ("extended.tags", "none")],
            vec![],
        ),
        // A field nobody indexed, or indexed under another name.
        (vec![("extended.title", "one")], vec![]),
        (vec![("customerId", "10101")], vec![]),
    ];
    for (filters, expected) in cases {
        assert_eq!(
            with_values(db, acme, &filters).await,
            expected,
            "filtering {filters:?}"
        );
    }
    // Per account.
    assert_eq!(
        with_values(db, other, &[("extended.customerId", "10101")]).await,
        [theirs.id]
    );
    // With the other filters, the cursors and the order.
    let mut q = MediaQuery {
        extended: vec![filter("extended.customerId", "10101")],
        limit: 100,
        ..Default::default()
    };
    assert_eq!(listed_ids(db, acme, q.clone()).await, [e2, e1]);
    q.limit = 1;
    assert_eq!(listed_ids(db, acme, q.clone()).await, [e2]);
    q.after = Some(e2);
    assert_eq!(listed_ids(db, acme, q.clone()).await, [e1]);
    q.after = Some(e1);
    assert_eq!(listed_ids(db, acme, q.clone()).await, []);
    q.after = None;
    q.limit = 100;
    q.external_id = Some("crm-2".into());
    assert_eq!(listed_ids(db, acme, q.clone()).await, [e2]);
    q.external_id = None;
    q.text = Some(vec![title("one")]);
    assert_eq!(listed_ids(db, acme, q.clone()).await, [e1]);
    q.text = Some(vec![title("three")]);
    assert_eq!(listed_ids(db, acme, q).await, []);

    // A new entry replaces the values (metadata replaced); no entry removes them.
    let changed = json!({"extended": {"customerId": 20202}});
    let entry = IndexEntry::default().with_extended(&fields, Some(&changed));
    assert!(
        db.set_metadata(acme, e1, &changed, None, Some(&entry))
            .await
            .unwrap()
    );
    assert_eq!(
        with_values(db, acme, &[("extended.customerId", "10101")]).await,
        [e2]
    );
    assert_eq!(
        with_values(db, acme, &[("extended.customerId", "20202")]).await,
        [e1]
    );
    assert_eq!(
        with_values(db, acme, &[("extended.tags", "vip")]).await,
        [e2]
    );

    // A field no longer searchable leaves the index, in this account only.
    assert_eq!(
        db.set_searchable_fields(acme, &["extended.agent.name".to_owned()])
            .await
            .unwrap(),
        4
    );
    assert_eq!(
        with_values(db, acme, &[("extended.customerId", "10101")]).await,
        []
    );
    assert_eq!(with_values(db, acme, &[("extended.tags", "vip")]).await, []);
    assert_eq!(
        with_values(db, acme, &[("extended.agent.name", "ada")]).await,
        [e2]
    );
    assert_eq!(
        with_values(db, other, &[("extended.customerId", "10101")]).await,
        [theirs.id]
    );
    assert_eq!(db.set_searchable_fields(acme, &[]).await.unwrap(), 2);
    assert_eq!(
        db.get_definition(acme, SearchableFields, "media")
            .await
            .unwrap(),
        Some(json!({"fields": []}))
    );
    assert_eq!(
        with_values(db, acme, &[("extended.agent.name", "ada")]).await,
        []
    );

    // Finishing a job indexes; finishing it unsearchable (or deleting) removes.
    let meta = json!({"extended": {"customerId": "fin"}});
    let entry = IndexEntry::default().with_extended(&fields, Some(&meta));
    let their_entry = IndexEntry::default().with_extended(&fields, Some(&metas[0]));
    let now = Utc::now();
    let mut finished = Vec::new();
    while let Some(claim) = db
        .claim_job("w", now, now + TimeDelta::minutes(1))
        .await
        .unwrap()
    {
        let index = if claim.media_id == e3 {
            Some(&entry)
        } else if claim.media_id == theirs.id {
            Some(&their_entry)
        } else {
            None
        };
        assert!(
            db.finish_job(
                claim.job_id,
                "w",
                claim.media_id,
                &Finished {
                    tasks: &tasks(TaskStatus::Completed),
                    index,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
        );
        finished.push(claim.media_id);
    }
    assert!(finished.contains(&e3));
    assert_eq!(
        with_values(db, acme, &[("extended.customerId", "fin")]).await,
        [e3]
    );
    assert!(db.delete_media(acme, e3).await.unwrap());
    assert_eq!(
        with_values(db, acme, &[("extended.customerId", "fin")]).await,
        []
    );
    assert_eq!(
        with_values(db, other, &[("extended.customerId", "10101")]).await,
        [theirs.id]
    );
}

/// The account's media matching `terms`, oldest first.
async fn found(db: &dyn Db, account: AccountId, terms: &[SearchTerm]) -> Vec<MediaId> {
    let q = MediaQuery {
        text: Some(terms.to_vec()),
        ascending: true,
        limit: 100,
        ..Default::default()
    };
    listed_ids(db, account, q).await
}

/// Indexed so far: m1 "Weekly meetings" / "Budget review with the e-mail team" /
/// "we don't agree on the quarterly numbers"; m4 "Frost poem" / "Stopping by
/// woods" / "the woods are lovely dark and deep, a meeting on covid-19 at 3.5%
/// (bob@example.com)"; and in the other
/// account m5 "Weekly meetings" / "woods" / "frost meeting". m2 and m3 are not
/// indexed.
async fn search(db: &dyn Db, acme: AccountId, other: AccountId, n: [&NewMedia; 5]) {
    use SearchField::{Description, Transcript};
    let [n1, _, _, n4, n5] = n.map(|m| m.id);
    let cases: Vec<(Vec<SearchTerm>, Vec<MediaId>)> = vec![
        // Stemming both ways, case-insensitively.
        (vec![any("meetings")], vec![n1, n4]),
        (vec![any("Meeting")], vec![n1, n4]),
        (vec![any("MEET")], vec![n1, n4]),
        (vec![any("numbered")], vec![n1]),
        // Field restrictions.
        (vec![title("meetings")], vec![n1]),
        (vec![in_field(Transcript, "meeting")], vec![n4]),
        (vec![in_field(Description, "meeting")], vec![]),
        (vec![title("woods")], vec![]),
        (vec![in_field(Description, "woods")], vec![n4]),
        // Every term must match, each in any field (or its own).
        (vec![any("frost"), any("woods")], vec![n4]),
        (
            vec![title("frost"), in_field(Description, "stopping")],
            vec![n4],
        ),
        (
            vec![title("frost"), in_field(Description, "lovely")],
            vec![],
        ),
        (vec![any("weekly"), any("woods")], vec![]),
        (
            vec![any("meeting"), any("budget"), title("weekly")],
            vec![n1],
        ),
        // Words separated by ' or - are a phrase; no word is a stop word.
        (vec![any("e-mail")], vec![n1]),
        (vec![any("e-team")], vec![]),
        (vec![any("don't")], vec![n1]),
        (vec![any("don't"), any("the")], vec![n1]),
        (vec![any("the")], vec![n1, n4]),
        (vec![any("woods-are")], vec![n4]),
        (vec![any("are-woods")], vec![]),
        // Text splits into words at anything but letters and digits, whatever
        // it looks like (hyphenated words, numbers, addresses).
        (vec![any("covid-19")], vec![n4]),
        (vec![any("covid"), any("19")], vec![n4]),
        (vec![any("19-covid")], vec![]),
        (vec![any("5")], vec![n4]),
        (vec![any("example")], vec![n4]),
        (vec![any("bob-example-com")], vec![n4]),
        (vec![any("nowhere")], vec![]),
        // No terms match nothing.
        (vec![], vec![]),
    ];
    for (terms, expected) in cases {
        assert_eq!(
            found(db, acme, &terms).await,
            expected,
            "searching {terms:?}"
        );
    }
    assert_eq!(found(db, other, &[title("weekly")]).await, [n5]);
    assert_eq!(found(db, other, &[any("lovely")]).await, []);
    // Search combines with the other filters.
    let q = MediaQuery {
        text: Some(vec![any("meeting")]),
        limit: 1,
        ..Default::default()
    };
    assert_eq!(listed_ids(db, acme, q.clone()).await, [n4]);
    let q = MediaQuery {
        after: Some(n4),
        ..q
    };
    assert_eq!(listed_ids(db, acme, q).await, [n1]);
}

// ---------------------------------------------------------------------------
// PostgreSQL test databases.

/// The test server's URL, or `None` (after saying so) when there is none.
fn postgres_server() -> Option<String> {
    match std::env::var("SEALSCRIBE_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("SEALSCRIBE_REQUIRE_SERVICES").as_deref() == Ok("1") => {
            panic!(
                "SEALSCRIBE_REQUIRE_SERVICES=1 but SEALSCRIBE_TEST_POSTGRES is not set \
                 (scripts/services.sh start; source target/services.env)"
            )
        }
        _ => {
            eprintln!(
                "\n*** skipped: set SEALSCRIBE_TEST_POSTGRES (scripts/services.sh start) ***\n"
            );
            None
        }
    }
}

/// Runs `test` against a new, empty database on `server`, dropped afterwards
/// whether the test passes or not.
async fn with_database<F, Fut>(server: &str, test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let name = format!("sealscribe_test_{}", MediaId::new().0.simple());
    let mut admin = PgConnection::connect(server).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let mut url = url::Url::parse(server).unwrap();
    url.set_path(&name);
    let outcome = AssertUnwindSafe(test(url.to_string())).catch_unwind().await;
    let dropped = sqlx::query(sqlx::AssertSqlSafe(format!(
        "drop database {name} with (force)"
    )))
    .execute(&mut admin)
    .await;
    let _ = admin.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    dropped.unwrap();
}
