//! Media items and the search index on PostgreSQL. JSON columns are `json`
//! (see the migration): written as `$n::json` from serde's text and read back
//! as text, so documents round-trip exactly as on SQLite.

use async_trait::async_trait;
use chrono::Utc;
use sealscribe_domain::media::{IndexEntry, MediaQuery, MediaRecord, MediaSource, Task};
use sealscribe_domain::{AccountId, MediaId};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgPool, Postgres, QueryBuilder, Transaction};

use super::{PgDb, search};
use crate::codec::{delivery_from_row, json, media_from_row, priority_rank, push_listing, to_i64};
use crate::{MediaStore, NewMedia, StoreError, StoredSealKey};

/// What a listing needs: the transcripts (the bulk of a row) are left out.
const SUMMARY_COLUMNS: &str = "id, account_id, status, created_at, finished_at, content_type, \
     file_name, media_url, size_bytes, length_ms, configuration::text as configuration, \
     metadata::text as metadata, null::text as transcript, null::text as recognised, \
     tasks::text as tasks, failure::text as failure, searchable, \
     encryption::text as encryption, null::bytea as pinned_key, null::text as wrapped_seal_key, \
     null::bytea as sealed_input, null::text as prediction, null::text as metrics, \
     null::text as analytics";

const COLUMNS: &str = "id, account_id, status, created_at, finished_at, content_type, file_name, \
     media_url, size_bytes, length_ms, configuration::text as configuration, \
     metadata::text as metadata, transcript::text as transcript, \
     recognised::text as recognised, tasks::text as tasks, failure::text as failure, \
     searchable, encryption::text as encryption, pinned_key, wrapped_seal_key, sealed_input, \
     prediction::text as prediction, metrics::text as metrics, \
     analytics::text as analytics";

/// Loads a single media item with its callback deliveries.
async fn media_with_deliveries(
    pool: &PgPool,
    row: Option<PgRow>,
) -> Result<Option<MediaRecord>, StoreError> {
    let Some(row) = row else { return Ok(None) };
    let mut media = media_from_row(&row)?;
    let rows = sqlx::query(
        "select idx, status, attempts::text as attempts from deliveries \
         where media_id = $1 order by idx",
    )
    .bind(media.id.to_string())
    .fetch_all(pool)
    .await?;
    media.deliveries = rows
        .iter()
        .map(delivery_from_row)
        .collect::<Result<_, _>>()?;
    Ok(Some(media))
}

/// Replaces the media item's index entry (or removes it when `entry` is `None`).
pub(crate) async fn reindex(
    tx: &mut Transaction<'_, Postgres>,
    account: &str,
    id: &str,
    entry: Option<&IndexEntry>,
) -> Result<(), StoreError> {
    // A speaker's row is replaced with the entry (a new transcript may have
    // other speakers).
    for table in ["media_speech", "media_extended"] {
        sqlx::query(AssertSqlSafe(format!(
            "delete from {table} where media_id = $1"
        )))
        .bind(id)
        .execute(&mut **tx)
        .await?;
    }
    match entry {
        None => {
            sqlx::query("delete from media_search where media_id = $1")
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        // `document` is generated from the three texts (see the migration).
        Some(e) => {
            sqlx::query(
                "insert into media_search (media_id, account_id, title, description, transcript) \
                 values ($1, $2, $3, $4, $5) \
                 on conflict (media_id) do update set account_id = excluded.account_id, \
                 title = excluded.title, description = excluded.description, \
                 transcript = excluded.transcript",
            )
            .bind(id)
            .bind(account)
            .bind(&e.title)
            .bind(&e.description)
            .bind(&e.transcript)
            .execute(&mut **tx)
            .await?;
            for s in &e.speakers {
                sqlx::query(
                    "insert into media_speech (media_id, account_id, speaker, words) \
                     values ($1, $2, $3, $4)",
                )
                .bind(id)
                .bind(account)
                .bind(&s.speaker)
                .bind(&s.words)
                .execute(&mut **tx)
                .await?;
            }
            for chunk in e.extended.chunks(crate::codec::EXTENDED_ROWS_PER_INSERT) {
                QueryBuilder::<Postgres>::new(
                    "insert into media_extended (media_id, account_id, field, value) ",
                )
                .push_values(chunk, |mut row, v| {
                    row.push_bind(id)
                        .push_bind(account)
                        .push_bind(&v.field)
                        .push_bind(&v.value);
                })
                .build()
                .execute(&mut **tx)
                .await?;
            }
        }
    }
    Ok(())
}

#[async_trait]
impl MediaStore for PgDb {
    async fn create_media(&self, m: &NewMedia) -> Result<(), StoreError> {
        let now = Utc::now();
        let (file_name, content_type, size, url) = match &m.source {
            MediaSource::Upload {
                file_name,
                content_type,
                size_bytes,
            } => (
                file_name.clone(),
                content_type.clone(),
                Some(to_i64(*size_bytes)),
                None,
            ),
            MediaSource::Url(url) => (None, None, None, Some(url.clone())),
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "insert into media (id, account_id, status, created_at, content_type, file_name, \
             media_url, size_bytes, configuration, metadata, external_id, tasks, searchable, \
             encryption, pinned_key, wrapped_seal_key, sealed_input) \
             values ($1, $2, 'accepted', $3, $4, $5, $6, $7, $8::json, $9::json, $10, $11::json, \
             $12, $13::json, $14, $15, $16)",
        )
        .bind(m.id.to_string())
        .bind(m.account_id.to_string())
        .bind(now)
        .bind(content_type)
        .bind(file_name)
        .bind(url)
        .bind(size)
        .bind(json(&m.configuration)?)
        .bind(m.metadata.as_ref().map(json).transpose()?)
        .bind(&m.external_id)
        .bind(json(&m.tasks)?)
        .bind(m.searchable)
        .bind(m.encryption.as_ref().map(|e| json(&e.info)).transpose()?)
        .bind(m.encryption.as_ref().map(|e| e.pinned_key.clone()))
        .bind(
            m.encryption
                .as_ref()
                .and_then(|e| e.wrapped_seal_key.clone()),
        )
        .bind(m.encryption.as_ref().and_then(|e| e.sealed_input.clone()))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "insert into jobs (media_id, kind, state, run_at, created_at, priority) \
             values ($1, 'process', 'queued', $2, $2, $3)",
        )
        .bind(m.id.to_string())
        .bind(now)
        .bind(priority_rank(&m.configuration))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_media(
        &self,
        account: AccountId,
        id: MediaId,
    ) -> Result<Option<MediaRecord>, StoreError> {
        let sql = format!("select {COLUMNS} from media where account_id = $1 and id = $2");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(account.to_string())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        media_with_deliveries(&self.pool, row).await
    }

    async fn load_media(&self, id: MediaId) -> Result<Option<MediaRecord>, StoreError> {
        let sql = format!("select {COLUMNS} from media where id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        media_with_deliveries(&self.pool, row).await
    }

    async fn list_media(
        &self,
        account: AccountId,
        q: &MediaQuery,
    ) -> Result<Vec<MediaRecord>, StoreError> {
        // Built from fixed fragments only; every value is a bound parameter.
        let account = account.to_string();
        let mut sql = QueryBuilder::<Postgres>::new(format!(
            "select {SUMMARY_COLUMNS} from media where account_id = "
        ));
        sql.push_bind(account.clone());
        if let Some(terms) = &q.text {
            search::push_filter(&mut sql, &account, terms);
        }
        push_listing(&mut sql, &account, q);
        let rows = sql.build().fetch_all(&self.pool).await?;
        rows.iter().map(media_from_row).collect()
    }

    async fn set_metadata(
        &self,
        account: AccountId,
        id: MediaId,
        metadata: &Value,
        external_id: Option<&str>,
        index: Option<&IndexEntry>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "update media set metadata = $1::json, external_id = $2 \
             where account_id = $3 and id = $4",
        )
        .bind(json(metadata)?)
        .bind(external_id)
        .bind(account.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        if index.is_some() {
            reindex(&mut tx, &account.to_string(), &id.to_string(), index).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn set_transcript(
        &self,
        account: AccountId,
        id: MediaId,
        transcript: &Value,
        index: Option<&IndexEntry>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "update media set transcript = $1::json \
             where account_id = $2 and id = $3 and status = 'finished'",
        )
        .bind(json(transcript)?)
        .bind(account.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        if index.is_some() {
            reindex(&mut tx, &account.to_string(), &id.to_string(), index).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_media(&self, account: AccountId, id: MediaId) -> Result<bool, StoreError> {
        // Jobs, deliveries and the index entry go by cascade.
        let done = sqlx::query("delete from media where account_id = $1 and id = $2")
            .bind(account.to_string())
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_searchable_fields(
        &self,
        account: AccountId,
        fields: &[String],
    ) -> Result<u64, StoreError> {
        use sealscribe_domain::definitions::DefinitionKind;
        use sealscribe_domain::extended::{DEFINITION_NAME, SearchableFields};
        let body = json(&SearchableFields {
            fields: fields.to_vec(),
        })?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "insert into definitions (account_id, kind, name, body, updated_at) \
             values ($1, $2, $3, $4::jsonb, $5) on conflict (account_id, kind, name) \
             do update set body = excluded.body, updated_at = excluded.updated_at",
        )
        .bind(account.to_string())
        .bind(DefinitionKind::SearchableFields.as_str())
        .bind(DEFINITION_NAME)
        .bind(body)
        .bind(Utc::now())
        .execute(&mut *tx)
        .await?;
        let mut sql =
            QueryBuilder::<Postgres>::new("delete from media_extended where account_id = ");
        sql.push_bind(account.to_string());
        if !fields.is_empty() {
            sql.push(" and field not in (");
            let mut list = sql.separated(", ");
            for f in fields {
                list.push_bind(f.clone());
            }
            sql.push(")");
        }
        let done = sql.build().execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    async fn requeue_media(
        &self,
        account: AccountId,
        id: MediaId,
        configuration: &Value,
        searchable: bool,
        tasks: &[Task],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "update media set status = 'accepted', configuration = $1::json, searchable = $2, \
             tasks = $3::json, failure = null, finished_at = null \
             where account_id = $4 and id = $5 and status in ('finished', 'failed') \
             and not exists (select 1 from jobs where media_id = media.id)",
        )
        .bind(json(configuration)?)
        .bind(searchable)
        .bind(json(tasks)?)
        .bind(account.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        // The new run owes its own callbacks.
        sqlx::query("delete from deliveries where media_id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "insert into jobs (media_id, kind, state, run_at, created_at, priority) \
             values ($1, 'process', 'queued', $2, $2, $3)",
        )
        .bind(id.to_string())
        .bind(Utc::now())
        .bind(priority_rank(configuration))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn set_tasks(&self, id: MediaId, tasks: &[Task]) -> Result<(), StoreError> {
        sqlx::query("update media set tasks = $1::json where id = $2")
            .bind(json(tasks)?)
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn set_running(&self, id: MediaId, tasks: &[Task]) -> Result<(), StoreError> {
        sqlx::query("update media set status = 'running', tasks = $1::json where id = $2")
            .bind(json(tasks)?)
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn set_probed(
        &self,
        id: MediaId,
        length_ms: u64,
        content_type: Option<&str>,
        size_bytes: Option<u64>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "update media set length_ms = $1, content_type = coalesce(content_type, $2), \
             size_bytes = coalesce($3, size_bytes) where id = $4",
        )
        .bind(to_i64(length_ms))
        .bind(content_type)
        .bind(size_bytes.map(to_i64))
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn stored_seal_keys(&self) -> Result<Vec<(MediaId, StoredSealKey)>, StoreError> {
        let rows = sqlx::query(
            "select id, seal_key, wrapped_seal_key from media \
             where seal_key is not null or wrapped_seal_key is not null order by id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(crate::codec::seal_key_from_row).collect()
    }

    async fn replace_seal_key(
        &self,
        id: MediaId,
        old: &StoredSealKey,
        wrapped: &str,
    ) -> Result<bool, StoreError> {
        let done = match old {
            StoredSealKey::Clear(hex) => sqlx::query(
                "update media set wrapped_seal_key = $1, seal_key = null \
                 where id = $2 and seal_key = $3",
            )
            .bind(wrapped)
            .bind(id.to_string())
            .bind(hex),
            StoredSealKey::Wrapped(w) => sqlx::query(
                "update media set wrapped_seal_key = $1 where id = $2 and wrapped_seal_key = $3",
            )
            .bind(wrapped)
            .bind(id.to_string())
            .bind(w),
        }
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
