//! The steps plain and encrypted jobs share once the media is a local file:
//! probe and recognise, detect, redact the audio.

use std::sync::Arc;
use std::time::Duration;

use sealscribe_asr::{MediaInfo, RecognitionOptions, SpeechEngine};
use sealscribe_domain::codes;
use sealscribe_domain::configuration::MediaConfig;
use sealscribe_domain::conversation_metrics::for_media;
use sealscribe_domain::media::JobClaim;
use sealscribe_store::{Db, Finished};
use sealscribe_transcript::Transcript;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::ctx::Ctx;
use crate::redaction::{self, Analysis, AudioPlan};
use crate::step::{Progress, StepError, step};

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

/// The `metrics` step (when `configuration.metrics` asks for groups): the v3 conversation
/// metrics of the transcript as recognised, before redaction replaces any words, as the
/// media document's `metrics[]`.
pub async fn conversation_metrics(
    db: &dyn Db,
    claim: &JobClaim,
    progress: &mut Progress,
    lost: &CancellationToken,
    transcript: &Transcript,
    duration_ms: u64,
    config: &MediaConfig,
) -> Result<Option<Value>, StepError> {
    if config.metrics.is_empty() {
        return Ok(None);
    }
    step(db, claim, progress, lost, "metrics", async {
        let (t, c) = (transcript.clone(), config.clone());
        // Linear in the words, but a long call has many: off the executor.
        let metrics = tokio::task::spawn_blocking(move || for_media(&t, duration_ms, &c)).await?;
        serde_json::to_value(metrics)
            .map(Some)
            .map_err(|e| StepError::transient(e.to_string()))
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

/// The recognition options of a media's configuration: its language as Whisper's code. A
/// stored tag this version does not know fails the job (guessing English would transcribe
/// another language as gibberish).
fn recognition_options(config: &MediaConfig) -> Result<RecognitionOptions, StepError> {
    match sealscribe_domain::language::whisper_code(&config.language) {
        Some(code) => Ok(RecognitionOptions {
            language: code.into(),
        }),
        None => Err(StepError::permanent(
            codes::LANGUAGE_NOT_SUPPORTED,
            format!(
                "this media was not processed: its language `{}` is not one this version of \
                 sealscribe recognises. Reprocess it with one of {}.",
                config.language,
                sealscribe_domain::language::accepted()
            ),
        )),
    }
}

/// The `probe` and `transcribe` steps on a local media file, for plain and
/// encrypted media alike, in the configured language. Returns what the probe
/// found and the transcript.
pub async fn probe_and_recognise(
    ctx: &Arc<Ctx>,
    claim: &JobClaim,
    progress: &mut Progress,
    lost: &CancellationToken,
    path: &std::path::Path,
    config: &MediaConfig,
) -> Result<(MediaInfo, Transcript), StepError> {
    let opts = recognition_options(config)?;
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
        let transcript =
            tokio::task::spawn_blocking(move || engine.transcribe(&p, &info, &opts)).await??;
        crate::metrics::recognised(audio, started.elapsed());
        Ok(transcript)
    })
    .await?;
    Ok((info, transcript))
}

/// Ends the job with what it produced: the media is `finished` (atomically
/// with its transcript, index entry and callbacks) unless the job stopped
/// being this worker's.
pub async fn finish(
    ctx: &Ctx,
    claim: &JobClaim,
    lost: &CancellationToken,
    done: &Finished<'_>,
) -> Result<(), StepError> {
    let worker = &ctx.settings.worker_id;
    if lost.is_cancelled()
        || !ctx
            .db
            .finish_job(claim.job_id, worker, claim.media_id, done)
            .await?
    {
        return Err(StepError::abandoned());
    }
    Ok(())
}
