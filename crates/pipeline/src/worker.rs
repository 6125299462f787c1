//! The worker pool: each worker leases one job at a time (processing or a
//! callback delivery), renews the lease while it works, and retries or fails
//! the job on error.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sealscribe_asr::SpeechEngine;
use sealscribe_domain::callbacks::Callback;
use sealscribe_domain::codes;
use sealscribe_domain::media::{Failure, JobClaim, JobKind};
use sealscribe_store::{BlobStore, Db, media_blob, media_prefix};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::ctx::{Ctx, Settings};
use crate::process;
use crate::step::Progress;

/// The worker pool of one process.
pub struct Workers {
    ctx: Arc<Ctx>,
    wake: Arc<Notify>,
    /// The working-copy directory and, when it is elsewhere, the plaintext one.
    _scratch: (Scratch, Option<Scratch>),
}

/// This process's scratch directory, `<tmp_dir>/<worker id>/`, marked as in
/// use by an exclusive lock on its `.lock` file for as long as the process
/// lives (the OS releases it if the process dies). Removed on drop.
struct Scratch {
    dir: PathBuf,
    _lock: Option<std::fs::File>,
}

impl Scratch {
    /// Removes scratch directories whose process is gone (their lock can be
    /// taken: the leftovers of a crash, which may hold plaintext), then
    /// creates and locks this process's own.
    fn create(root: &std::path::Path, id: &str) -> std::io::Result<Self> {
        std::fs::create_dir_all(root)?;
        for entry in std::fs::read_dir(root)?.flatten() {
            let path = entry.path();
            if !path.is_dir() {
                let _ = std::fs::remove_file(&path); // files of an older layout
                continue;
            }
            // No lock file: a process is creating it right now (or crashed
            // before it could put anything in it). Several processes share
            // the root (a machine-wide /dev/shm), so this happens.
            let abandoned = match std::fs::File::open(path.join(".lock")) {
                Ok(f) => f.try_lock().is_ok(),
                Err(_) => false,
            };
            if abandoned {
                let _ = std::fs::remove_dir_all(&path);
            }
        }
        let dir = root.join(id);
        std::fs::create_dir_all(&dir)?;
        let lock = std::fs::File::create(dir.join(".lock"))?;
        lock.lock()?;
        Ok(Self {
            dir,
            _lock: Some(lock),
        })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Workers {
    /// # Errors
    ///
    /// The scratch directory cannot be prepared.
    pub fn new(
        db: Arc<dyn Db>,
        blobs: BlobStore,
        engine: Arc<dyn SpeechEngine>,
        keys: Arc<sealscribe_seal::kek::Keyring>,
        mut settings: Settings,
    ) -> std::io::Result<Self> {
        let scratch = Scratch::create(&settings.tmp_dir, &settings.worker_id)?;
        let plain = if settings.plain_dir == settings.tmp_dir {
            None
        } else {
            Some(Scratch::create(&settings.plain_dir, &settings.worker_id)?)
        };
        settings.tmp_dir = scratch.dir.clone();
        settings.plain_dir = plain.as_ref().unwrap_or(&scratch).dir.clone();
        let http = sealscribe_ingress::http_client(&settings.url_policy);
        Ok(Self {
            ctx: Arc::new(Ctx {
                db,
                blobs,
                engine,
                keys,
                http,
                settings,
            }),
            wake: Arc::new(Notify::new()),
            _scratch: (scratch, plain),
        })
    }

    /// Notify this after queueing a job so an idle worker starts at once.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Starts the workers; they stop when `shutdown` is cancelled (after at
    /// most the shutdown grace period) and `tracker` sees them finish.
    pub fn spawn(
        &self,
        shutdown: &CancellationToken,
        tracker: &TaskTracker,
    ) -> std::io::Result<()> {
        for n in 0..self.ctx.settings.workers {
            let (ctx, wake, shutdown) = (self.ctx.clone(), self.wake.clone(), shutdown.clone());
            tracker.spawn(async move {
                tracing::info!(worker = n, "worker started");
                run_worker(ctx, wake, shutdown).await;
                tracing::info!(worker = n, "worker stopped");
            });
        }
        Ok(())
    }
}

async fn run_worker(ctx: Arc<Ctx>, wake: Arc<Notify>, shutdown: CancellationToken) {
    let s = &ctx.settings;
    while !shutdown.is_cancelled() {
        let now = Utc::now();
        let lease_until = now + s.lease;
        let aging =
            chrono::TimeDelta::from_std(s.priority_aging).unwrap_or(chrono::TimeDelta::days(365));
        match ctx
            .db
            .claim_job_aging(&s.worker_id, now, lease_until, aging)
            .await
        {
            Ok(Some(claim)) => run_job(&ctx, claim, &shutdown).await,
            Ok(None) => {
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(s.poll) => {}
                    _ = shutdown.cancelled() => {}
                }
            }
            Err(e) => {
                tracing::warn!("cannot claim jobs: {e}");
                tokio::select! {
                    _ = tokio::time::sleep(s.poll * 4) => {}
                    _ = shutdown.cancelled() => {}
                }
            }
        }
    }
}

/// Renews the job's lease until dropped; cancels `lost` when the job is no
/// longer this worker's (lease lost, or the media was deleted).
struct Heartbeat(tokio::task::JoinHandle<()>);

impl Heartbeat {
    fn start(ctx: &Arc<Ctx>, job: i64, lost: &CancellationToken) -> Self {
        let (ctx, lost) = (ctx.clone(), lost.clone());
        Self(tokio::spawn(async move {
            let every = ctx.settings.lease / 3;
            loop {
                tokio::time::sleep(every).await;
                let until = Utc::now() + ctx.settings.lease;
                match ctx
                    .db
                    .renew_lease(job, &ctx.settings.worker_id, until)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => {
                        lost.cancel();
                        return;
                    }
                    Err(e) => tracing::warn!("cannot renew job lease: {e}"),
                }
            }
        }))
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[tracing::instrument(skip_all, fields(media_id = %claim.media_id, job_id = claim.job_id, attempt = claim.attempt, kind = claim.kind.as_str()))]
async fn run_job(ctx: &Arc<Ctx>, claim: JobClaim, shutdown: &CancellationToken) {
    match claim.kind {
        JobKind::Process => run_processing(ctx, claim, shutdown).await,
        JobKind::Callback { index } => {
            let lost = CancellationToken::new();
            let _heartbeat = Heartbeat::start(ctx, claim.job_id, &lost);
            if let Err(e) = crate::callbacks::run(ctx, &claim, index).await {
                // The round is not recorded; the lease expires and it runs again.
                tracing::warn!("callback delivery interrupted: {e}");
            }
        }
    }
}

/// Gives the job up: the media becomes `failed` with `failure` (the task in
/// progress failed, the rest skipped) and its `analytics` callbacks are queued.
async fn fail(
    ctx: &Ctx,
    claim: &JobClaim,
    progress: &mut Progress,
    failure: &Failure,
    callbacks: &[Callback],
) {
    progress.fail();
    let _ = ctx
        .db
        .fail_job(
            claim.job_id,
            &ctx.settings.worker_id,
            claim.media_id,
            failure,
            &progress.tasks,
            &crate::callbacks::due(callbacks, false),
        )
        .await;
}

/// How long a processing job that failed transiently on `attempt` (1, 2, …)
/// waits before it runs again: 5 s, then four times longer each time, at
/// most 5 × 4⁴ s (about 21 minutes).
fn retry_backoff(attempt: u32) -> Duration {
    Duration::from_secs(5 * 4u64.pow(attempt.clamp(1, 5) - 1))
}

async fn run_processing(ctx: &Arc<Ctx>, claim: JobClaim, shutdown: &CancellationToken) {
    let s = &ctx.settings;
    let db = ctx.db.as_ref();
    let media = match db.load_media(claim.media_id).await {
        Ok(Some(m)) => m,
        Ok(None) => return, // deleted; its job goes with it
        Err(e) => {
            tracing::warn!("cannot load the media: {e}");
            return;
        }
    };
    let (callbacks, mut progress) = match media.config() {
        Ok(config) => (config.callbacks.clone(), Progress::for_config(&config)),
        // `process::run` fails it for good; the tasks stay as accepted, none
        // is due a callback (which ones is written in what cannot be read).
        Err(_) => (
            Vec::new(),
            Progress {
                tasks: media.tasks.clone(),
            },
        ),
    };
    if claim.attempt > s.max_attempts {
        // It was claimed this often without finishing: its workers died mid-job.
        let failure = Failure {
            code: codes::INTERNAL,
            error: format!(
                "processing was interrupted {} times and was abandoned",
                claim.attempt - 1
            ),
        };
        fail(ctx, &claim, &mut progress, &failure, &callbacks).await;
        tracing::warn!("job abandoned after repeated interruptions");
        crate::metrics::job_ended("process", "failed");
        return;
    }
    tracing::info!("job started");

    let lost = CancellationToken::new();
    let heartbeat = Heartbeat::start(ctx, claim.job_id, &lost);
    let grace = async {
        shutdown.cancelled().await;
        tokio::time::sleep(s.shutdown_grace).await;
    };
    let result = tokio::select! {
        r = process::run(ctx, &claim, &mut progress, &lost) => Some(r),
        _ = grace => None,
    };
    drop(heartbeat);
    match result {
        Some(Ok(())) => {
            tracing::info!("job finished");
            crate::metrics::job_ended("process", "finished");
        }
        None => {
            // Shutting down: hand the job back so another worker (or the next start) takes it.
            let _ = db
                .retry_job(claim.job_id, &s.worker_id, "worker shut down", Utc::now())
                .await;
            tracing::info!("job released at shutdown");
            crate::metrics::job_ended("process", "released");
        }
        Some(Err(_)) if lost.is_cancelled() => {
            tracing::info!("job abandoned: media deleted or lease lost");
            crate::metrics::job_ended("process", "abandoned");
        }
        Some(Err(e)) => {
            if !e.permanent && claim.attempt < s.max_attempts {
                let backoff = retry_backoff(claim.attempt);
                let retry_at = Utc::now() + backoff;
                tracing::warn!(cause = %e.cause, retry_in_s = backoff.as_secs(), "job failed; will retry");
                let _ = db
                    .retry_job(claim.job_id, &s.worker_id, &e.cause, retry_at)
                    .await;
                crate::metrics::job_ended("process", "retried");
            } else {
                tracing::warn!(cause = %e.cause, code = e.failure.code, "job failed");
                crate::metrics::job_ended("process", "failed");
                fail(ctx, &claim, &mut progress, &e.failure, &callbacks).await;
            }
        }
    }
    match db.load_media(claim.media_id).await {
        // A media deleted while its job ran may have had blobs written after
        // the deletion removed them: leave nothing behind.
        Ok(None) => {
            let _ = ctx.blobs.delete_prefix(&media_prefix(claim.media_id)).await;
        }
        // Once the job has ended for good (the seal key is gone with it), the
        // sealed working copy of an encrypted media goes too.
        Ok(Some(m))
            if m.encryption
                .as_ref()
                .is_none_or(|e| e.wrapped_seal_key.is_none()) =>
        {
            let _ = ctx
                .blobs
                .delete(&media_blob(claim.media_id, "work.sealed"))
                .await;
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;
