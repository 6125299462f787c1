//! sealscribe's storage: the metadata database and the blob store.
//!
//! Handlers and workers only see the [`Db`] trait and the [`BlobStore`]
//! handle, never a driver. The embedded default is SQLite ([`sqlite::SqliteDb`])
//! plus a directory of files; a PostgreSQL implementation of [`Db`] and an S3
//! backend for [`BlobStore`] slot in behind the same interfaces for scale-out,
//! chosen by URL in [`open_db`] and [`BlobStore::open`].

mod blob;
mod db;
pub mod sqlite;

pub use blob::{BlobStore, BlobWriter, media_blob, media_prefix};
pub use db::{Db, DeliveryOutcome, Finished, JobQueue, MediaStore, NewMedia, RevokeOutcome};
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
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(e.to_string())
            }
            sqlx::Error::Database(ref d) if d.is_unique_violation() => {
                StoreError::Conflict(d.message().to_owned())
            }
            other => StoreError::Internal(other.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Internal(format!("migration failed: {e}"))
    }
}

/// Opens the metadata database named by `url` and applies pending migrations.
///
/// `sqlite://PATH` (created if missing) is the embedded default.
pub async fn open_db(url: &str) -> Result<Arc<dyn Db>, StoreError> {
    let db: Arc<dyn Db> = if url.starts_with("sqlite:") {
        Arc::new(sqlite::SqliteDb::connect(url).await?)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        return Err(StoreError::Config(
            "PostgreSQL is not supported by this build yet; use the embedded SQLite default \
             (omit --database-url)"
                .into(),
        ));
    } else {
        return Err(StoreError::Config(format!(
            "unsupported database URL scheme in {:?}: expected sqlite://PATH",
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
