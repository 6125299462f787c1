//! The leased job queue on SQLite. SQLite has one writer at a time, so the
//! claiming `update … returning` is atomic without `skip locked`.

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use sealscribe_domain::MediaId;
use sealscribe_domain::media::{DeliveryAttempt, DeliveryStatus, Failure, JobClaim, Task};
use sqlx::{Row, Sqlite, Transaction};

use super::SqliteDb;
use super::media::reindex;
use crate::codec::{
    CALLBACK_PRIORITY, aging_secs, claim_from_row, from_json, job_count_from_row, json,
};
use crate::{DeliveryOutcome, Finished, JobCount, JobQueue, StoreError};

#[async_trait]
impl JobQueue for SqliteDb {
    async fn job_counts(&self, now: DateTime<Utc>) -> Result<Vec<JobCount>, StoreError> {
        let rows = sqlx::query(
            "select kind, case when state = 'running' then 'running' \
                               when run_at <= ? then 'queued' else 'scheduled' end as s, \
                    count(*) as n \
             from jobs group by kind, s order by kind, s",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(job_count_from_row).collect()
    }

    async fn claim_job_aging(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        aging: TimeDelta,
    ) -> Result<Option<JobClaim>, StoreError> {
        // The effective time: `run_at` moved earlier by `priority` aging windows
        // (`unixepoch(…, 'subsec')` reads the RFC 3339 text sqlx writes, to the ms).
        // The oldest due job of each priority comes from the `jobs_by_priority`
        // index, and the earliest effective time of the three wins: no sort of
        // the whole backlog under the write lock.
        let row = sqlx::query(
            "update jobs set state = 'running', locked_by = ?3, locked_until = ?4, \
             attempts = attempts + 1 \
             where id = (select id from ( \
                   select * from (select id, unixepoch(run_at, 'subsec') - 2 * ?2 as k from jobs \
                   where priority = 2 and ((state = 'queued' and run_at <= ?1) or (state = 'running' and locked_until < ?1)) \
                   order by run_at, id limit 1) \
                   union all \
                   select * from (select id, unixepoch(run_at, 'subsec') - 1 * ?2 as k from jobs \
                   where priority = 1 and ((state = 'queued' and run_at <= ?1) or (state = 'running' and locked_until < ?1)) \
                   order by run_at, id limit 1) \
                   union all \
                   select * from (select id, unixepoch(run_at, 'subsec') - 0 * ?2 as k from jobs \
                   where priority = 0 and ((state = 'queued' and run_at <= ?1) or (state = 'running' and locked_until < ?1)) \
                   order by run_at, id limit 1)) \
                 order by k, id limit 1) \
             returning id, media_id, kind, arg, attempts",
        )
        .bind(now)
        .bind(aging_secs(aging))
        .bind(worker)
        .bind(lease_until)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(claim_from_row).transpose()
    }

    async fn renew_lease(
        &self,
        job_id: i64,
        worker: &str,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "update jobs set locked_until = ? where id = ? and locked_by = ? and state = 'running'",
        )
        .bind(lease_until)
        .bind(job_id)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn finish_job(
        &self,
        job_id: i64,
        worker: &str,
        media: MediaId,
        done: &Finished<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let owned = sqlx::query("delete from jobs where id = ? and locked_by = ?")
            .bind(job_id)
            .bind(worker)
            .execute(&mut *tx)
            .await?;
        if owned.rows_affected() == 0 {
            return Ok(false);
        }
        let transcript = done.transcript.map(json).transpose()?;
        let row = sqlx::query(
            "update media set status = 'finished', finished_at = ?, transcript = ?, \
             recognised = ?, prediction = ?, metrics = ?, analytics = ?, tasks = ?, failure = null, seal_key = null, \
             wrapped_seal_key = null, sealed_input = null where id = ? returning account_id",
        )
        .bind(Utc::now())
        .bind(&transcript)
        .bind(&transcript)
        .bind(done.prediction.map(json).transpose()?)
        .bind(done.metrics.map(json).transpose()?)
        .bind(done.analytics.map(json).transpose()?)
        .bind(json(done.tasks)?)
        .bind(media.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(false) };
        let account: String = row.try_get("account_id")?;
        reindex(&mut tx, &account, &media.to_string(), done.index).await?;
        queue_callbacks(&mut tx, media, done.callbacks).await?;
        tx.commit().await?;
        self.truncate_wal().await;
        Ok(true)
    }

    async fn retry_job(
        &self,
        job_id: i64,
        worker: &str,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "update jobs set state = 'queued', locked_by = null, locked_until = null, \
             run_at = ?, last_error = ? where id = ? and locked_by = ?",
        )
        .bind(retry_at)
        .bind(error)
        .bind(job_id)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn fail_job(
        &self,
        job_id: i64,
        worker: &str,
        media: MediaId,
        failure: &Failure,
        tasks: &[Task],
        callbacks: &[u32],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let owned = sqlx::query("delete from jobs where id = ? and locked_by = ?")
            .bind(job_id)
            .bind(worker)
            .execute(&mut *tx)
            .await?;
        if owned.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "update media set status = 'failed', finished_at = ?, failure = ?, tasks = ?, \
             seal_key = null, wrapped_seal_key = null, sealed_input = null where id = ?",
        )
        .bind(Utc::now())
        .bind(json(failure)?)
        .bind(json(tasks)?)
        .bind(media.to_string())
        .execute(&mut *tx)
        .await?;
        queue_callbacks(&mut tx, media, callbacks).await?;
        tx.commit().await?;
        self.truncate_wal().await;
        Ok(true)
    }

    async fn end_delivery(
        &self,
        job_id: i64,
        worker: &str,
        media: MediaId,
        index: u32,
        attempts: &[DeliveryAttempt],
        outcome: DeliveryOutcome,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let owned = match outcome {
            DeliveryOutcome::RetryAt(at) => sqlx::query(
                "update jobs set state = 'queued', locked_by = null, locked_until = null, \
                 run_at = ? where id = ? and locked_by = ?",
            )
            .bind(at),
            DeliveryOutcome::Delivered | DeliveryOutcome::Failed => {
                sqlx::query("delete from jobs where id = ? and locked_by = ?")
            }
        }
        .bind(job_id)
        .bind(worker)
        .execute(&mut *tx)
        .await?;
        if owned.rows_affected() == 0 {
            return Ok(false);
        }
        let previous: Option<String> =
            sqlx::query_scalar("select attempts from deliveries where media_id = ? and idx = ?")
                .bind(media.to_string())
                .bind(index)
                .fetch_optional(&mut *tx)
                .await?;
        let mut all: Vec<DeliveryAttempt> = match previous {
            Some(text) => from_json(&text, "delivery attempts")?,
            None => Vec::new(),
        };
        all.extend_from_slice(attempts);
        let status = match outcome {
            DeliveryOutcome::Delivered => DeliveryStatus::Delivered,
            DeliveryOutcome::RetryAt(_) => DeliveryStatus::Pending,
            DeliveryOutcome::Failed => DeliveryStatus::Failed,
        };
        sqlx::query(
            "insert into deliveries (media_id, idx, status, attempts) values (?, ?, ?, ?) \
             on conflict (media_id, idx) do update set status = excluded.status, \
             attempts = excluded.attempts",
        )
        .bind(media.to_string())
        .bind(index)
        .bind(status.as_str())
        .bind(json(&all)?)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// Queues one delivery job per callback, and its pending delivery row.
async fn queue_callbacks(
    tx: &mut Transaction<'_, Sqlite>,
    media: MediaId,
    callbacks: &[u32],
) -> Result<(), StoreError> {
    let now = Utc::now();
    for &index in callbacks {
        sqlx::query(
            "insert into jobs (media_id, kind, arg, state, run_at, created_at, priority) \
             values (?, 'callback', ?, 'queued', ?, ?, ?)",
        )
        .bind(media.to_string())
        .bind(index)
        .bind(now)
        .bind(now)
        .bind(CALLBACK_PRIORITY)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "insert into deliveries (media_id, idx, status, attempts) values (?, ?, 'pending', '[]') \
             on conflict (media_id, idx) do update set status = 'pending', attempts = '[]'",
        )
        .bind(media.to_string())
        .bind(index)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
