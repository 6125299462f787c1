//! Media items and the FTS5 search index on SQLite.

use async_trait::async_trait;
use chrono::Utc;
use sealscribe_domain::media::{
    IndexEntry, MediaQuery, MediaRecord, MediaSource, SearchTerm, Task,
};
use sealscribe_domain::{AccountId, MediaId};
use serde_json::Value;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, QueryBuilder, Sqlite, Transaction};

use super::SqliteDb;
use crate::codec::{delivery_from_row, json, media_from_row, priority_rank, push_listing, to_i64};
use crate::{MediaStore, NewMedia, StoreError, StoredSealKey};

/// What a listing needs: the transcripts (the bulk of a row) are left out.
const SUMMARY_COLUMNS: &str = "id, account_id, status, created_at, finished_at, content_type, \
     file_name, media_url, size_bytes, length_ms, configuration, metadata, null as transcript, \
     null as recognised, tasks, failure, searchable, encryption, null as pinned_key, \
     null as wrapped_seal_key, null as sealed_input, null as prediction, null as metrics, null as analytics";

const COLUMNS: &str = "id, account_id, status, created_at, finished_at, content_type, file_name, \
     media_url, size_bytes, length_ms, configuration, metadata, transcript, recognised, tasks, \
     failure, searchable, encryption, pinned_key, wrapped_seal_key, sealed_input, prediction, \
     metrics, analytics";

/// The FTS5 query for these terms: each term a quoted string (FTS5 reads a
/// quoted string as a phrase of the tokens the tokenizer finds in it, so
/// `e-mail` is the phrase `e mail`), with `field : ` when restricted, joined by
/// spaces (implicit AND). `None` for no terms, which must match nothing.
pub(crate) fn fts5_query(terms: &[&SearchTerm]) -> Option<String> {
    let parts: Vec<String> = terms
        .iter()
        .map(|t| {
            let quoted = format!("\"{}\"", t.term.replace('"', "\"\""));
            match t.field {
                Some(f) => format!("{} : {quoted}", f.as_str()),
                None => quoted,
            }
        })
        .collect();
    if parts.is_empty() {
        None
    } else {
        Some(parts.join(" "))
    }
}

/// Loads a single media item with its callback deliveries.
async fn media_with_deliveries(
    pool: &sqlx::SqlitePool,
    row: Option<SqliteRow>,
) -> Result<Option<MediaRecord>, StoreError> {
    let Some(row) = row else { return Ok(None) };
    let mut media = media_from_row(&row)?;
    let rows =
        sqlx::query("select idx, status, attempts from deliveries where media_id = ? order by idx")
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
    tx: &mut Transaction<'_, Sqlite>,
    account: &str,
    id: &str,
    entry: Option<&IndexEntry>,
) -> Result<(), StoreError> {
    for table in ["media_fts", "media_speech_fts", "media_extended"] {
        sqlx::query(AssertSqlSafe(format!(
            "delete from {table} where media_id = ?"
        )))
        .bind(id)
        .execute(&mut **tx)
        .await?;
    }
    if let Some(e) = entry {
        sqlx::query(
            "insert into media_fts (media_id, account_id, title, description, transcript) \
             values (?, ?, ?, ?, ?)",
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
                "insert into media_speech_fts (media_id, account_id, speaker, words) \
                 values (?, ?, ?, ?)",
            )
            .bind(id)
            .bind(account)
            .bind(&s.speaker)
            .bind(&s.words)
            .execute(&mut **tx)
            .await?;
        }
        for chunk in e.extended.chunks(crate::codec::EXTENDED_ROWS_PER_INSERT) {
            QueryBuilder::<Sqlite>::new(
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
    Ok(())
}

#[async_trait]
impl MediaStore for SqliteDb {
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
             values (?, ?, 'accepted', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
             values (?, 'process', 'queued', ?, ?, ?)",
        )
        .bind(m.id.to_string())
        .bind(now)
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
        let sql = format!("select {COLUMNS} from media where account_id = ? and id = ?");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(account.to_string())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        media_with_deliveries(&self.pool, row).await
    }

    async fn load_media(&self, id: MediaId) -> Result<Option<MediaRecord>, StoreError> {
        let sql = format!("select {COLUMNS} from media where id = ?");
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
        let mut sql = QueryBuilder::<Sqlite>::new(format!(
            "select {SUMMARY_COLUMNS} from media where account_id = "
        ));
        sql.push_bind(account.clone());
        match q.text.as_deref() {
            None => {}
            Some([]) => {
                sql.push(" and 0");
            }
            Some(terms) => {
                // Terms for any speaker search the whole entry, all at once;
                // each term restricted to a speaker searches that speaker's words.
                let general: Vec<&SearchTerm> =
                    terms.iter().filter(|t| t.speaker.is_none()).collect();
                if let Some(text) = fts5_query(&general) {
                    sql.push(" and id in (select media_id from media_fts where media_fts match ")
                        .push_bind(text)
                        .push(" and account_id = ")
                        .push_bind(account.clone())
                        .push(")");
                }
                for t in terms {
                    let Some(speaker) = &t.speaker else { continue };
                    let text = fts5_query(&[t]).expect("one term");
                    sql.push(
                        " and id in (select media_id from media_speech_fts \
                         where media_speech_fts match ",
                    )
                    .push_bind(text)
                    .push(" and speaker = ")
                    .push_bind(speaker.clone())
                    .push(" and account_id = ")
                    .push_bind(account.clone())
                    .push(")");
                }
            }
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
            "update media set metadata = ?, external_id = ? where account_id = ? and id = ?",
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
            "update media set transcript = ? where account_id = ? and id = ? and status = 'finished'",
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
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("delete from media where account_id = ? and id = ?")
            .bind(account.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        // Jobs go by cascade; the index is a virtual table, so by hand.
        reindex(&mut tx, &account.to_string(), &id.to_string(), None).await?;
        tx.commit().await?;
        // A media deleted in processing took its wrapped seal key with it.
        self.truncate_wal().await;
        Ok(true)
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
             values (?, ?, ?, ?, ?) on conflict (account_id, kind, name) \
             do update set body = excluded.body, updated_at = excluded.updated_at",
        )
        .bind(account.to_string())
        .bind(DefinitionKind::SearchableFields.as_str())
        .bind(DEFINITION_NAME)
        .bind(body)
        .bind(Utc::now())
        .execute(&mut *tx)
        .await?;
        let mut sql = QueryBuilder::<Sqlite>::new("delete from media_extended where account_id = ");
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
            "update media set status = 'accepted', configuration = ?, searchable = ?, tasks = ?, \
             failure = null, finished_at = null \
             where account_id = ? and id = ? and status in ('finished', 'failed') \
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
        sqlx::query("delete from deliveries where media_id = ?")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        let now = Utc::now();
        sqlx::query(
            "insert into jobs (media_id, kind, state, run_at, created_at, priority) \
             values (?, 'process', 'queued', ?, ?, ?)",
        )
        .bind(id.to_string())
        .bind(now)
        .bind(now)
        .bind(priority_rank(configuration))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn set_tasks(&self, id: MediaId, tasks: &[Task]) -> Result<(), StoreError> {
        sqlx::query("update media set tasks = ? where id = ?")
            .bind(json(tasks)?)
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn set_running(&self, id: MediaId, tasks: &[Task]) -> Result<(), StoreError> {
        sqlx::query("update media set status = 'running', tasks = ? where id = ?")
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
            "update media set length_ms = ?, content_type = coalesce(content_type, ?), \
             size_bytes = coalesce(?, size_bytes) where id = ?",
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
                "update media set wrapped_seal_key = ?, seal_key = null \
                 where id = ? and seal_key = ?",
            )
            .bind(wrapped)
            .bind(id.to_string())
            .bind(hex),
            StoredSealKey::Wrapped(w) => sqlx::query(
                "update media set wrapped_seal_key = ? where id = ? and wrapped_seal_key = ?",
            )
            .bind(wrapped)
            .bind(id.to_string())
            .bind(w),
        }
        .execute(&self.pool)
        .await?;
        self.truncate_wal().await;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use sealscribe_domain::media::{SearchField, SearchTerm};

    use super::fts5_query;

    fn term(field: Option<SearchField>, term: &str) -> SearchTerm {
        SearchTerm {
            field,
            speaker: None,
            term: term.into(),
        }
    }

    #[test]
    fn terms_become_quoted_fts5_strings() {
        assert_eq!(
            fts5_query(&[&term(None, "hello"), &term(None, "world")]).as_deref(),
            Some("\"hello\" \"world\"")
        );
        assert_eq!(
            fts5_query(&[&term(Some(SearchField::Title), "Frost")]).as_deref(),
            Some("title : \"Frost\"")
        );
        // Even a quote (which the API never lets through) cannot end the string.
        assert_eq!(
            fts5_query(&[&term(None, "a\" OR b")]).as_deref(),
            Some("\"a\"\" OR b\"")
        );
        assert_eq!(fts5_query(&[]), None);
    }
}
