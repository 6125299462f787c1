//! One processing job: fetch → probe → recognise → detect → redact → transcript → index.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sealscribe_asr::{AsrError, MediaInfo, SpeechEngine};
use sealscribe_domain::codes;
use sealscribe_domain::configuration::MediaConfig;
use sealscribe_domain::media::{
    Failure, IndexEntry, JobClaim, Task, TaskStatus, Unreadable, initial_tasks,
};
use sealscribe_store::{BlobStore, Db, Finished, StoreError, media_blob};
use sealscribe_transcript::Transcript;
use tokio_util::sync::CancellationToken;

use crate::fetch;
use crate::redaction::{self, Analysis, AudioPlan};
use crate::worker::Ctx;

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
            StepError::permanent(codes::MEDIA_UNREADABLE, e.to_string())
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

/// Runs a processing job to completion (the media is `finished` when this returns `Ok`).
pub async fn run(
    ctx: &Arc<Ctx>,
    claim: &JobClaim,
    progress: &mut Progress,
    lost: &CancellationToken,
) -> Result<(), StepError> {
    let db = ctx.db.as_ref();
    let media = db
        .load_media(claim.media_id)
        .await?
        .ok_or_else(StepError::abandoned)?;
    let config = media.config()?;
    *progress = Progress::for_config(&config);
    if let Some(enc) = &media.encryption {
        return crate::encrypted::run(ctx, claim, progress, lost, &media, enc).await;
    }
    let key = media_blob(media.id, "original");
    db.set_running(media.id, &progress.tasks).await?;

    // Fetch: uploads are already in the blob store; a mediaUrl is fetched once.
    step(db, claim, progress, lost, "fetch", async {
        if let Some(url) = &media.media_url {
            let present = match ctx.blobs.size(&key).await {
                Ok(_) => true,
                Err(StoreError::NotFound) => false,
                Err(e) => return Err(e.into()),
            };
            if !present {
                let (size, content_type) =
                    fetch::fetch(&ctx.http, &ctx.settings.url_policy, url, &ctx.blobs, &key)
                        .await?;
                db.set_probed(media.id, 0, content_type.as_deref(), Some(size))
                    .await?;
            }
        }
        Ok(())
    })
    .await?;

    let (path, _guard) = working_copy(&ctx.blobs, &key, &ctx.settings.tmp_dir, claim).await?;

    let (info, recognised) = probe_and_recognise(ctx, claim, progress, lost, &path).await?;
    let analysis = detect(db, claim, progress, lost, recognised, &config).await?;
    if let Some(plan) = &analysis.audio {
        step(db, claim, progress, lost, "redact", async {
            let out = ctx
                .settings
                .tmp_dir
                .join(format!("{}-{}.redacted.wav", media.id, claim.job_id));
            let _out_guard = TempFile(Some(out.clone()));
            redact_audio(&path, &info, plan, &out).await?;
            ctx.blobs
                .upload_file(&media_blob(media.id, "redacted"), &out)
                .await?;
            Ok(())
        })
        .await?;
    }
    let transcript = analysis.transcript;

    let document = step(db, claim, progress, lost, "transcript", async {
        serde_json::to_value(&transcript).map_err(|e| StepError::transient(e.to_string()))
    })
    .await?;

    let index = if media.searchable {
        progress.set("index", TaskStatus::Completed);
        Some(IndexEntry::new(media.metadata.as_ref(), &transcript))
    } else {
        progress.set("index", TaskStatus::Skipped);
        None
    };
    let done = Finished {
        transcript: Some(&document),
        prediction: analysis.prediction.as_ref(),
        tasks: &progress.tasks,
        index: index.as_ref(),
        callbacks: &crate::callbacks::due(&config.callbacks, true),
    };
    if lost.is_cancelled()
        || !db
            .finish_job(claim.job_id, &ctx.settings.worker_id, media.id, &done)
            .await?
    {
        return Err(StepError::abandoned());
    }
    Ok(())
}

/// The `detect` step (when detectors are configured): the transcript as it
/// will be stored, with what the detectors found replaced.
pub async fn detect(
    db: &dyn Db,
    claim: &JobClaim,
    progress: &mut Progress,
    lost: &CancellationToken,
    transcript: Transcript,
    config: &MediaConfig,
) -> Result<Analysis, StepError> {
    if config.detectors.is_empty() {
        return Ok(redaction::analyse(transcript, &[]));
    }
    step(db, claim, progress, lost, "detect", async {
        Ok(redaction::analyse(transcript, &config.detectors))
    })
    .await
}

/// Writes the redacted audio of `input` to `out` (a WAV file), off the executor.
pub async fn redact_audio(
    input: &std::path::Path,
    info: &MediaInfo,
    plan: &AudioPlan,
    out: &std::path::Path,
) -> Result<(), StepError> {
    let (input, info, out) = (input.to_owned(), info.clone(), out.to_owned());
    let (ranges, tone) = (plan.ranges.clone(), plan.tone);
    tokio::task::spawn_blocking(move || {
        sealscribe_asr::redact_audio(&input, &info, &ranges, tone.tone, tone.gain, &out)
    })
    .await??;
    Ok(())
}

/// The `probe` and `transcribe` steps on a local media file, for plain and
/// encrypted media alike. Returns what the probe found and the transcript.
pub async fn probe_and_recognise(
    ctx: &Arc<Ctx>,
    claim: &JobClaim,
    progress: &mut Progress,
    lost: &CancellationToken,
    path: &std::path::Path,
) -> Result<(MediaInfo, Transcript), StepError> {
    let db = ctx.db.as_ref();
    let info = step(db, claim, progress, lost, "probe", async {
        let p = path.to_owned();
        let info = tokio::task::spawn_blocking(move || sealscribe_asr::probe(p)).await??;
        db.set_probed(claim.media_id, info.duration_ms, None, None)
            .await?;
        Ok(info)
    })
    .await?;
    let transcript = step(db, claim, progress, lost, "transcribe", async {
        let engine: Arc<dyn SpeechEngine> = ctx.engine.clone();
        let (p, info) = (path.to_owned(), info.clone());
        let audio = Duration::from_millis(info.duration_ms);
        let started = std::time::Instant::now();
        let transcript = tokio::task::spawn_blocking(move || {
            let pcm = sealscribe_asr::media::decode_probed(&p, &info)?;
            engine.recognise(&pcm)
        })
        .await??;
        crate::metrics::recognised(audio, started.elapsed());
        Ok(transcript)
    })
    .await?;
    Ok((info, transcript))
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
