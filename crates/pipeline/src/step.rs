//! The vocabulary every step of a job speaks: why a step failed
//! ([`StepError`]), the customer-visible progress ([`Progress`]), the
//! [`step`] wrapper that records both, and scratch files ([`TempFile`],
//! [`working_copy`]).

use std::path::PathBuf;

use sealscribe_asr::AsrError;
use sealscribe_domain::codes;
use sealscribe_domain::configuration::MediaConfig;
use sealscribe_domain::media::{Failure, JobClaim, Task, TaskStatus, Unreadable, initial_tasks};
use sealscribe_store::{BlobStore, Db, StoreError};
use tokio_util::sync::CancellationToken;

/// Why a step failed, and whether trying again could help.
#[derive(Debug)]
pub struct StepError {
    pub permanent: bool,
    /// What the customer sees.
    pub failure: Failure,
    /// What the log gets (may be more detailed; never plaintext media).
    pub cause: String,
}

impl StepError {
    pub fn permanent(code: u32, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            permanent: true,
            cause: message.clone(),
            failure: Failure {
                code,
                error: message,
            },
        }
    }

    pub fn transient(cause: impl Into<String>) -> Self {
        Self {
            permanent: false,
            failure: Failure {
                code: codes::INTERNAL,
                error: "processing failed because of an internal error; it was retried and gave up"
                    .into(),
            },
            cause: cause.into(),
        }
    }

    /// The job is no longer ours (lease lost or media deleted): stop quietly.
    pub fn abandoned() -> Self {
        Self::transient("job abandoned: lease lost or media deleted")
    }
}

impl From<StoreError> for StepError {
    fn from(e: StoreError) -> Self {
        StepError::transient(e.to_string())
    }
}

impl From<AsrError> for StepError {
    fn from(e: AsrError) -> Self {
        if e.is_bad_media() {
            // The customer gets the generic text; the log gets what ffmpeg said.
            let code = match e {
                AsrError::TooLong { .. } => codes::MEDIA_TOO_LONG,
                _ => codes::MEDIA_UNREADABLE,
            };
            StepError {
                permanent: true,
                failure: Failure {
                    code,
                    error: e.customer_message(),
                },
                cause: e.to_string(),
            }
        } else if matches!(e, AsrError::LanguageNotSupported { .. }) {
            // Trying again on this server cannot help; the message says what can.
            StepError::permanent(codes::LANGUAGE_NOT_SUPPORTED, e.to_string())
        } else {
            StepError::transient(format!("speech recognition: {e}"))
        }
    }
}

/// A configuration the worker cannot read fails the job for good: processing
/// it as the default would skip its detectors and store the transcript
/// unredacted.
impl From<Unreadable> for StepError {
    fn from(e: Unreadable) -> Self {
        Self {
            permanent: true,
            failure: Failure {
                code: codes::INTERNAL,
                error: format!(
                    "this media was not processed: its stored {} cannot be read by this \
                     version of sealscribe (it may have been written by a newer one). Reprocess \
                     it with its configuration, or process it with a version that reads it.",
                    e.part
                ),
            },
            cause: e.to_string(),
        }
    }
}

impl From<tokio::task::JoinError> for StepError {
    fn from(e: tokio::task::JoinError) -> Self {
        StepError::transient(format!("blocking task failed: {e}"))
    }
}

/// The progress tasks of the job being run, as the customer sees them.
pub struct Progress {
    pub tasks: Vec<Task>,
}

impl Progress {
    /// The tasks of a job with this configuration.
    pub fn for_config(config: &MediaConfig) -> Self {
        Self {
            tasks: initial_tasks(config),
        }
    }

    pub fn set(&mut self, task: &str, status: TaskStatus) {
        if let Some(t) = self.tasks.iter_mut().find(|t| t.task_id == task) {
            t.status = status;
        }
    }

    /// Marks the task in progress (if any) failed and the rest skipped.
    pub fn fail(&mut self) {
        let mut failed = false;
        for t in &mut self.tasks {
            match t.status {
                TaskStatus::Started if !failed => {
                    t.status = TaskStatus::Failed;
                    failed = true;
                }
                TaskStatus::Pending | TaskStatus::Started => t.status = TaskStatus::Skipped,
                _ => {}
            }
        }
    }
}

/// Removes a temporary working file on every exit path.
pub struct TempFile(pub Option<PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

pub async fn step<T>(
    db: &dyn Db,
    claim: &JobClaim,
    progress: &mut Progress,
    lost: &CancellationToken,
    task: &str,
    work: impl Future<Output = Result<T, StepError>>,
) -> Result<T, StepError> {
    if lost.is_cancelled() {
        return Err(StepError::abandoned());
    }
    progress.set(task, TaskStatus::Started);
    db.set_tasks(claim.media_id, &progress.tasks).await?;
    let started = std::time::Instant::now();
    let out = work.await;
    crate::metrics::stage(task, out.is_ok(), started.elapsed());
    let out = out?;
    progress.set(task, TaskStatus::Completed);
    Ok(out)
}

/// A local file with the media bytes: the blob itself on a local store,
/// else a temporary copy removed when the guard drops.
pub async fn working_copy(
    blobs: &BlobStore,
    key: &sealscribe_store::BlobKey,
    tmp_dir: &std::path::Path,
    claim: &JobClaim,
) -> Result<(PathBuf, TempFile), StepError> {
    if let Some(path) = blobs.local_path(key) {
        return Ok((path, TempFile(None)));
    }
    let path = tmp_dir.join(format!("{}-{}", claim.media_id, claim.job_id));
    let guard = TempFile(Some(path.clone()));
    blobs.download_to(key, &path).await?;
    Ok((path, guard))
}
