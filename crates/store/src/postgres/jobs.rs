//! The leased job queue on PostgreSQL, shared by workers on many machines.
//!
//! A claim is one statement: for each priority, the subquery takes the oldest
//! runnable job *that no other transaction has locked* (`for update skip
//! locked`, walking the `jobs_by_priority` index), and the one with the
//! earliest effective time (`run_at` moved earlier by `priority` aging
//! windows, see [`JobQueue::claim_job_aging`]) is taken. So concurrent
//! claimers each take a different job instead of queueing behind one another,
//! and a job another claimer just took is re-checked against its new state
//! (running, lease in the future) and skipped. Everything else is guarded by
//! `locked_by`, exactly as on SQLite.
//!
//! Transactions that end a job lock its media row first (see the module docs
//! of [`super`]): `delete_media` locks the media row and then, by cascade, its
//! jobs and deliveries, so taking them in the other order could deadlock.

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use sealscribe_domain::MediaId;
use sealscribe_domain::media::{DeliveryAttempt, DeliveryStatus, Failure, JobClaim, Task};
use sqlx::{Postgres, Transaction};

use super::PgDb;
use super::media::reindex;
use crate::codec::{
    CALLBACK_PRIORITY, aging_secs, claim_from_row, from_json, job_count_from_row, json,
};
use crate::{DeliveryOutcome, Finished, JobCount, JobQueue, StoreError};

/// How a transaction ending a job holds the media row.
#[derive(Clone, Copy)]
enum MediaLock {
    /// The media row will be updated.
    Update,
    /// Only rows referencing it will be written (what a foreign key check takes).
    KeyShare,
}

/// Locks the media row, returning its account; `None` if it is gone (and with
/// it, by cascade, all its jobs).
async fn lock_media(
    tx: &mut Transaction<'_, Postgres>,
    media: MediaId,
    lock: MediaLock,
) -> Result<Option<String>, StoreError> {
    let sql = match lock {
        MediaLock::Update => "select account_id from media where id = $1 for no key update",
        MediaLock::KeyShare => "select account_id from media where id = $1 for key share",
    };
    Ok(sqlx::query_scalar(sql)
        .bind(media.to_string())
        .fetch_optional(&mut **tx)
        .await?)
}

/// Deletes the job if `worker` holds it; whether it did.
async fn delete_owned(
    tx: &mut Transaction<'_, Postgres>,
    job_id: i64,
    worker: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query("delete from jobs where id = $1 and locked_by = $2")
        .bind(job_id)
        .bind(worker)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() > 0)
}

#[async_trait]
impl JobQueue for PgDb {
    async fn job_counts(&self, now: DateTime<Utc>) -> Result<Vec<JobCount>, StoreError> {
        let rows = sqlx::query(
            "select kind, case when state = 'running' then 'running' \
                               when run_at <= $1 then 'queued' else 'scheduled' end as s, \
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
        // The effective time: `run_at` moved earlier by `priority` aging windows.
        // The oldest unlocked due job of each priority comes from the
        // `jobs_by_priority` index, and the earliest effective time of the three
        // wins (the other two stay locked only until this statement ends).
        let row = sqlx::query(
            "update jobs set state = 'running', locked_by = $1, locked_until = $2, \
             attempts = attempts + 1 \
             where id = (select c.id from (values (2), (1), (0)) as p (rank) \
                 cross join lateral ( \
                     select id, run_at - p.rank * make_interval(secs => $4) as k from jobs \
                     where priority = p.rank \
                       and ((state = 'queued' and run_at <= $3) \
                            or (state = 'running' and locked_until < $3)) \
                     order by run_at, id for update skip locked limit 1) c \
                 order by c.k, c.id limit 1) \
             returning id, media_id, kind, arg, attempts",
        )
        .bind(worker)
        .bind(lease_until)
        .bind(now)
        .bind(aging_secs(aging))
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
            "update jobs set locked_until = $1 \
             where id = $2 and locked_by = $3 and state = 'running'",
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
        let Some(account) = lock_media(&mut tx, media, MediaLock::Update).await? else {
            return Ok(false);
        };
        if !delete_owned(&mut tx, job_id, worker).await? {
            return Ok(false);
        }
        let transcript = done.transcript.map(json).transpose()?;
        sqlx::query(
            "update media set status = 'finished', finished_at = $1, transcript = $2::json, \
             recognised = $2::json, prediction = $3::json, tasks = $4::json, failure = null, \
             seal_key = null, wrapped_seal_key = null, sealed_input = null, metrics = $6::json, \
             analytics = $7::json where id = $5",
        )
        .bind(Utc::now())
        .bind(&transcript)
        .bind(done.prediction.map(json).transpose()?)
        .bind(json(done.tasks)?)
        .bind(media.to_string())
        .bind(done.metrics.map(json).transpose()?)
        .bind(done.analytics.map(json).transpose()?)
        .execute(&mut *tx)
        .await?;
        reindex(&mut tx, &account, &media.to_string(), done.index).await?;
        queue_callbacks(&mut tx, media, done.callbacks).await?;
        tx.commit().await?;
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
             run_at = $1, last_error = $2 where id = $3 and locked_by = $4",
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
        if lock_media(&mut tx, media, MediaLock::Update)
            .await?
            .is_none()
        {
            return Ok(false);
        }
        if !delete_owned(&mut tx, job_id, worker).await? {
            return Ok(false);
        }
        sqlx::query(
            "update media set status = 'failed', finished_at = $1, failure = $2::json, \
             tasks = $3::json, seal_key = null, wrapped_seal_key = null, sealed_input = null where id = $4",
        )
        .bind(Utc::now())
        .bind(json(failure)?)
        .bind(json(tasks)?)
        .bind(media.to_string())
        .execute(&mut *tx)
        .await?;
        queue_callbacks(&mut tx, media, callbacks).await?;
        tx.commit().await?;
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
        if lock_media(&mut tx, media, MediaLock::KeyShare)
            .await?
            .is_none()
        {
            return Ok(false);
        }
        let owned = match outcome {
            DeliveryOutcome::RetryAt(at) => {
                let done = sqlx::query(
                    "update jobs set state = 'queued', locked_by = null, locked_until = null, \
                     run_at = $1 where id = $2 and locked_by = $3",
                )
                .bind(at)
                .bind(job_id)
                .bind(worker)
                .execute(&mut *tx)
                .await?;
                done.rows_affected() > 0
            }
            DeliveryOutcome::Delivered | DeliveryOutcome::Failed => {
                delete_owned(&mut tx, job_id, worker).await?
            }
        };
        if !owned {
            return Ok(false);
        }
        let previous: Option<String> = sqlx::query_scalar(
            "select attempts::text from deliveries where media_id = $1 and idx = $2 for update",
        )
        .bind(media.to_string())
        .bind(i64::from(index))
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
            "insert into deliveries (media_id, idx, status, attempts) values ($1, $2, $3, $4::json) \
             on conflict (media_id, idx) do update set status = excluded.status, \
             attempts = excluded.attempts",
        )
        .bind(media.to_string())
        .bind(i64::from(index))
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
    tx: &mut Transaction<'_, Postgres>,
    media: MediaId,
    callbacks: &[u32],
) -> Result<(), StoreError> {
    let now = Utc::now();
    for &index in callbacks {
        sqlx::query(
            "insert into jobs (media_id, kind, arg, state, run_at, created_at, priority) \
             values ($1, 'callback', $2, 'queued', $3, $3, $4)",
        )
        .bind(media.to_string())
        .bind(i64::from(index))
        .bind(now)
        .bind(CALLBACK_PRIORITY)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "insert into deliveries (media_id, idx, status, attempts) \
             values ($1, $2, 'pending', '[]') \
             on conflict (media_id, idx) do update set status = 'pending', attempts = '[]'",
        )
        .bind(media.to_string())
        .bind(i64::from(index))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
