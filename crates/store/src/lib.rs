//! sealscribe's storage: the metadata database and the blob store.
//!
//! Handlers and workers only see the [`Db`] trait and the [`BlobStore`]
//! handle, never a driver. The embedded default is SQLite ([`sqlite::SqliteDb`])
//! plus a directory of files; PostgreSQL ([`postgres::PgDb`]) and an S3
//! backend for [`BlobStore`] slot in behind the same interfaces for scale-out,
//! chosen by URL in [`open_db`] and [`BlobStore::open`]. Both databases pass
//! one conformance suite (`tests/conformance.rs`).
//!
//! # Layout
//! - `db`: the [`Db`] trait with [`MediaStore`] and [`JobQueue`], and
//!   the records they take ([`NewMedia`], [`Finished`], …).
//! - [`sqlite`] and [`postgres`]: the two implementations; each keeps its own
//!   SQL text.
//! - `codec`: what both read back from a row (media, deliveries, job claims,
//!   accounts, tokens, keys) and the value conversions, written once.
//! - `blob`: the [`BlobStore`]: a local directory or S3, streaming writers,
//!   the per-media key scheme ([`media_blob`]).

mod blob;
mod codec;
mod db;
pub mod postgres;
pub mod sqlite;

pub use blob::{BlobStore, BlobWriter, S3Settings, media_blob, media_prefix};
pub use db::{
    DEFAULT_PRIORITY_AGING, Db, DeliveryOutcome, Finished, JobCount, JobQueue, MediaStore,
    NewMedia, RevokeOutcome, StoredSealKey, searchable_fields,
};
pub use object_store::path::Path as BlobKey;

use std::sync::Arc;

/// Storage failures, classified by what the caller can do about them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The object does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken (e.g. an account name already taken).
    #[error("{0}")]
    Conflict(String),
    /// The database or blob store cannot be reached right now; retrying later may work.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The configuration names a backend or URL sealscribe cannot use.
    #[error("{0}")]
    Config(String),
    /// Anything else: a bug or corrupted data. Logged, never shown to clients.
    #[error("storage error: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            // No connection could be made or kept: refused, reset, timed out,
            // TLS handshake failed, or the pool gave up waiting.
            // `Protocol` is here too: a connection cut during its start-up
            // (a database going away, a proxy in between closing it) shows
            // as "unexpected response from SSLRequest", and retrying later is
            // exactly right; a server that is not PostgreSQL at all fails
            // every time, which the operator sees in the logs either way.
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_) => StoreError::Unavailable(e.to_string()),
            sqlx::Error::Database(ref d) if d.is_unique_violation() => {
                StoreError::Conflict(d.message().to_owned())
            }
            // SQLite still busy or locked after the busy timeout (SQLITE_BUSY,
            // SQLITE_LOCKED and their extended codes): a retry succeeds.
            sqlx::Error::Database(ref d)
                if d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
                    && matches!(
                        d.code().as_deref(),
                        Some("5" | "6" | "261" | "262" | "517" | "773")
                    ) =>
            {
                StoreError::Unavailable(e.to_string())
            }
            sqlx::Error::Database(ref d)
                if d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .is_some_and(|pg| pg_unavailable(pg.code())) =>
            {
                StoreError::Unavailable(e.to_string())
            }
            other => StoreError::Internal(other.to_string()),
        }
    }
}

/// PostgreSQL errors (by SQLSTATE) that mean "the database cannot serve this
/// now": connection exceptions (08), failed authentication (28, e.g. a rotated
/// password), a missing database (3D000), exhausted resources such as
/// `too_many_connections` (53), a server shutting down or starting up
/// (57P01-57P03), and the serialization failures and deadlocks of concurrent
/// transactions (40001, 40P01), which a retry resolves.
fn pg_unavailable(code: &str) -> bool {
    ["08", "28", "53"]
        .iter()
        .any(|class| code.starts_with(class))
        || matches!(
            code,
            "3D000" | "57P01" | "57P02" | "57P03" | "40001" | "40P01"
        )
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Internal(format!("migration failed: {e}"))
    }
}

/// Opens the metadata database named by `url` and applies pending migrations.
///
/// `sqlite://PATH` (created if missing) is the embedded default;
/// `postgres://` or `postgresql://` URLs open PostgreSQL, which many
/// sealscribe processes can share (migrations then run once, under a lock).
pub async fn open_db(url: &str) -> Result<Arc<dyn Db>, StoreError> {
    let db: Arc<dyn Db> = if url.starts_with("sqlite:") {
        Arc::new(sqlite::SqliteDb::connect(url).await?)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Arc::new(postgres::PgDb::connect(url).await?)
    } else {
        return Err(StoreError::Config(format!(
            "unsupported database URL scheme in {:?}: expected sqlite://PATH or \
             postgres://USER:PASSWORD@HOST/DATABASE",
            redact_url(url)
        )));
    };
    db.migrate().await?;
    Ok(db)
}

/// A URL with any password removed, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "<unparseable URL>".to_owned(),
    }
}
