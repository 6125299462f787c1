//! Conversions shared by the database backends. Both keep identifiers as
//! text and JSON documents as JSON text (PostgreSQL's selects cast `::text`),
//! so one set of row decoders serves both and a corrupt value is reported the
//! same way whichever database holds it. The SQL stays with each backend; only
//! what is read back from a row lives here.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use sealscribe_domain::media::{
    Delivery, DeliveryStatus, Encryption, EncryptionInfo, Failure, JobClaim, JobKind, MediaQuery,
    MediaRecord, MediaStatus,
};
use sealscribe_domain::{Account, PublicKeyRecord, TokenRecord};
use sqlx::{ColumnIndex, Database, Decode, Encode, QueryBuilder, Row, Type};

use crate::{JobCount, StoreError};

pub(crate) fn parse_id<T: FromStr>(text: &str) -> Result<T, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Internal(format!("corrupt identifier in database: {text:?}")))
}

pub(crate) fn json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Internal(e.to_string()))
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    text: &str,
    what: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Internal(format!("corrupt {what}: {e}")))
}

pub(crate) fn opt_json<T: serde::de::DeserializeOwned>(
    text: Option<String>,
    what: &str,
) -> Result<Option<T>, StoreError> {
    text.map(|t| from_json(&t, what)).transpose()
}

/// The `jobs.priority` of a processing job for a media item with this stored configuration:
/// 0 `low`, 1 `normal` (also when absent), 2 `high`. See [`crate::JobQueue::claim_job_aging`].
pub(crate) fn priority_rank(configuration: &serde_json::Value) -> i64 {
    use sealscribe_domain::configuration::Priority;
    match configuration
        .get("priority")
        .and_then(|p| serde_json::from_value::<Priority>(p.clone()).ok())
        .unwrap_or_default()
    {
        Priority::Low => 0,
        Priority::Normal => 1,
        Priority::High => 2,
    }
}

/// The `jobs.priority` of callback deliveries: `normal`, whatever the media's priority. A
/// delivery is a short HTTP call; at `normal` it neither jumps the queue of recognition work
/// nor waits behind it for more than one aging window.
pub(crate) const CALLBACK_PRIORITY: i64 = 1;

/// An aging window in seconds (fractional), as the claim queries bind it.
pub(crate) fn aging_secs(aging: chrono::TimeDelta) -> f64 {
    aging.num_milliseconds().max(0) as f64 / 1000.0
}

/// A stored size or duration; negative values (never written) read as unknown.
pub(crate) fn to_u64(v: Option<i64>) -> Option<u64> {
    v.and_then(|v| u64::try_from(v).ok())
}

/// A size or duration for a signed 64-bit column.
pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A row of either database, read by column name through the few column
/// types both backends share. One generic implementation covers `SqliteRow`
/// and `PgRow`, so the decoders below are written once.
pub(crate) trait Columns {
    fn text(&self, column: &str) -> Result<String, StoreError>;
    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError>;
    fn int(&self, column: &str) -> Result<i64, StoreError>;
    fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError>;
    fn flag(&self, column: &str) -> Result<bool, StoreError>;
    fn time(&self, column: &str) -> Result<DateTime<Utc>, StoreError>;
    fn opt_time(&self, column: &str) -> Result<Option<DateTime<Utc>>, StoreError>;
    fn bytes(&self, column: &str) -> Result<Vec<u8>, StoreError>;
    fn opt_bytes(&self, column: &str) -> Result<Option<Vec<u8>>, StoreError>;
}

impl<R> Columns for R
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> DateTime<Utc>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
{
    fn text(&self, column: &str) -> Result<String, StoreError> {
        Ok(self.try_get(column)?)
    }
    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(column)?)
    }
    fn int(&self, column: &str) -> Result<i64, StoreError> {
        Ok(self.try_get(column)?)
    }
    fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.try_get(column)?)
    }
    fn flag(&self, column: &str) -> Result<bool, StoreError> {
        Ok(self.try_get(column)?)
    }
    fn time(&self, column: &str) -> Result<DateTime<Utc>, StoreError> {
        Ok(self.try_get(column)?)
    }
    fn opt_time(&self, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self.try_get(column)?)
    }
    fn bytes(&self, column: &str) -> Result<Vec<u8>, StoreError> {
        Ok(self.try_get(column)?)
    }
    fn opt_bytes(&self, column: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.try_get(column)?)
    }
}

/// A `(id, seal_key, wrapped_seal_key)` row selected because one of the keys is set: the key
/// as stored (a clear key from before key wrapping wins, so it gets wrapped).
pub(crate) fn seal_key_from_row(
    row: &impl Columns,
) -> Result<(sealscribe_domain::MediaId, crate::StoredSealKey), StoreError> {
    let id = parse_id(&row.text("id")?)?;
    let key = match (row.opt_text("seal_key")?, row.opt_text("wrapped_seal_key")?) {
        (Some(hex), _) => crate::StoredSealKey::Clear(hex),
        (None, Some(w)) => crate::StoredSealKey::Wrapped(w),
        (None, None) => {
            return Err(StoreError::Internal(format!(
                "media {id} was selected for its seal key but has none"
            )));
        }
    };
    Ok((id, key))
}

/// A media row as selected by the backends' `COLUMNS` / `SUMMARY_COLUMNS`
/// (deliveries are loaded separately). The configuration, transcripts and
/// prediction stay JSON values here: a row this version cannot type must not
/// break a listing, so their typed readers ([`MediaRecord::config`] and the
/// like) report it to whoever needs them.
pub(crate) fn media_from_row(row: &impl Columns) -> Result<MediaRecord, StoreError> {
    let status = row.text("status")?;
    Ok(MediaRecord {
        id: parse_id(&row.text("id")?)?,
        account_id: parse_id(&row.text("account_id")?)?,
        status: MediaStatus::parse(&status)
            .ok_or_else(|| StoreError::Internal(format!("corrupt media status {status:?}")))?,
        created_at: row.time("created_at")?,
        finished_at: row.opt_time("finished_at")?,
        content_type: row.opt_text("content_type")?,
        file_name: row.opt_text("file_name")?,
        media_url: row.opt_text("media_url")?,
        size_bytes: to_u64(row.opt_int("size_bytes")?),
        length_ms: to_u64(row.opt_int("length_ms")?),
        configuration: from_json(&row.text("configuration")?, "configuration")?,
        metadata: opt_json(row.opt_text("metadata")?, "metadata")?,
        transcript: opt_json(row.opt_text("transcript")?, "transcript")?,
        recognised: opt_json(row.opt_text("recognised")?, "transcript")?,
        tasks: from_json(&row.text("tasks")?, "tasks")?,
        failure: opt_json::<Failure>(row.opt_text("failure")?, "failure")?,
        searchable: row.flag("searchable")?,
        encryption: match opt_json::<EncryptionInfo>(row.opt_text("encryption")?, "encryption")? {
            None => None,
            Some(info) => Some(Encryption {
                info,
                pinned_key: row.opt_bytes("pinned_key")?.unwrap_or_default(),
                wrapped_seal_key: row.opt_text("wrapped_seal_key")?,
                sealed_input: row.opt_bytes("sealed_input")?,
            }),
        },
        prediction: opt_json(row.opt_text("prediction")?, "prediction")?,
        metrics: opt_json(row.opt_text("metrics")?, "metrics")?,
        analytics: opt_json(row.opt_text("analytics")?, "analytics")?,
        deliveries: Vec::new(),
    })
}

/// A `deliveries` row: `idx`, `status`, `attempts` (JSON text).
pub(crate) fn delivery_from_row(row: &impl Columns) -> Result<Delivery, StoreError> {
    let status = row.text("status")?;
    Ok(Delivery {
        index: u32::try_from(row.int("idx")?).unwrap_or(u32::MAX),
        status: DeliveryStatus::parse(&status)
            .ok_or_else(|| StoreError::Internal(format!("corrupt delivery status {status:?}")))?,
        attempts: from_json(&row.text("attempts")?, "delivery attempts")?,
    })
}

/// What a claiming `update … returning id, media_id, kind, arg, attempts` gives back.
pub(crate) fn claim_from_row(row: &impl Columns) -> Result<JobClaim, StoreError> {
    let kind = row.text("kind")?;
    Ok(JobClaim {
        job_id: row.int("id")?,
        media_id: parse_id(&row.text("media_id")?)?,
        kind: JobKind::parse(&kind, row.opt_int("arg")?)
            .ok_or_else(|| StoreError::Internal(format!("unknown job kind {kind:?}")))?,
        attempt: u32::try_from(row.int("attempts")?).unwrap_or(u32::MAX),
    })
}

/// A row of the job-count query: `kind`, `s` (the state), `n`.
pub(crate) fn job_count_from_row(row: &impl Columns) -> Result<JobCount, StoreError> {
    Ok(JobCount {
        kind: row.text("kind")?,
        state: row.text("s")?,
        count: u64::try_from(row.int("n")?).unwrap_or(0),
    })
}

/// An `accounts` row: `id`, `name`, `created_at`.
pub(crate) fn account_from_row(row: &impl Columns) -> Result<Account, StoreError> {
    Ok(Account {
        id: parse_id(&row.text("id")?)?,
        name: row.text("name")?,
        created_at: row.time("created_at")?,
    })
}

/// A `tokens` row: `prefix`, `account_id`, `created_at`, `revoked_at`.
/// The columns [`token_from_row`] reads, as a literal for both backends'
/// selects (`concat!`, so the SQL stays a static string).
macro_rules! token_columns {
    () => {
        "id, prefix, last_six, account_id, scope, created_at, expires_at, revoked_at"
    };
}
pub(crate) use token_columns;

/// A `tokens` row. A scope that does not parse is corruption and fails the
/// read (so the request fails closed rather than running with a guessed scope).
pub(crate) fn token_from_row(row: &impl Columns) -> Result<TokenRecord, StoreError> {
    let scope = row.text("scope")?;
    Ok(TokenRecord {
        id: parse_id(&row.text("id")?)?,
        prefix: row.text("prefix")?,
        last_six: row.opt_text("last_six")?,
        account_id: parse_id(&row.text("account_id")?)?,
        scope: scope
            .parse()
            .map_err(|_| StoreError::Internal(format!("corrupt token scope: {scope:?}")))?,
        created_at: row.time("created_at")?,
        expires_at: row.opt_time("expires_at")?,
        revoked_at: row.opt_time("revoked_at")?,
    })
}

/// A `public_keys` row. The user ids are stored differently (a JSON array on
/// SQLite, `text[]` on PostgreSQL), so the backend reads them.
pub(crate) fn public_key_from_row(
    row: &impl Columns,
    user_ids: Vec<String>,
) -> Result<PublicKeyRecord, StoreError> {
    Ok(PublicKeyRecord {
        id: parse_id(&row.text("id")?)?,
        account_id: parse_id(&row.text("account_id")?)?,
        fingerprint: row.text("fingerprint")?,
        algorithm: row.text("algorithm")?,
        bits: u32::try_from(row.int("bits")?)
            .map_err(|_| StoreError::Internal("corrupt key size".into()))?,
        created: row.time("key_created")?,
        expires: row.opt_time("key_expires")?,
        user_ids,
        sha256: row.text("sha256")?,
        bytes: row.bytes("bytes")?,
        uploaded_at: row.time("uploaded_at")?,
    })
}

/// Rows of `media_extended` written by one `insert` (4 parameters each, far below
/// either database's parameter limit).
pub(crate) const EXTENDED_ROWS_PER_INSERT: usize = 500;

/// The rest of a media listing after `… where account_id = ?` and the
/// backend's own full-text filter: the external id, `extendedFilter` and date
/// filters, the cursors (all within `account`), the order and the page size.
/// Built from fixed fragments only; every value is a bound parameter.
pub(crate) fn push_listing<DB>(sql: &mut QueryBuilder<DB>, account: &str, q: &MediaQuery)
where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> DateTime<Utc>: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    if let Some(ext) = &q.external_id {
        sql.push(" and external_id = ").push_bind(ext.clone());
    }
    // `extendedFilter`: every condition must hold (AND); exact comparison of
    // the indexed string form on both backends (see the migrations).
    for f in &q.extended {
        sql.push(" and id in (select media_id from media_extended where account_id = ")
            .push_bind(account.to_owned())
            .push(" and field = ")
            .push_bind(f.field.clone())
            .push(" and value = ")
            .push_bind(f.value.clone())
            .push(")");
    }
    if let Some(t) = q.on_or_after {
        sql.push(" and created_at >= ").push_bind(t);
    }
    if let Some(t) = q.on_or_before {
        sql.push(" and created_at <= ").push_bind(t);
    }
    let (forward, backward) = if q.ascending { (">", "<") } else { ("<", ">") };
    for (cursor, op) in [(q.after, forward), (q.before, backward)] {
        if let Some(cursor) = cursor {
            sql.push(format!(
                " and (created_at, id) {op} (select created_at, id from media where id = "
            ))
            .push_bind(cursor.to_string())
            .push(" and account_id = ")
            .push_bind(account.to_owned())
            .push(")");
        }
    }
    let order = if q.ascending { "asc" } else { "desc" };
    sql.push(format!(" order by created_at {order}, id {order} limit "))
        .push_bind(i64::from(q.limit));
}
