//! One processing job: fetch → probe → recognise → metrics → detect → redact → transcript →
//! index.

use std::sync::Arc;

use sealscribe_domain::media::{IndexEntry, JobClaim, TaskStatus};
use sealscribe_store::{Finished, StoreError, media_blob};
use tokio_util::sync::CancellationToken;

use crate::ctx::Ctx;
use crate::fetch;
use crate::stages::{
    call_analytics, conversation_metrics, detect, finish, probe_and_recognise, redact_audio,
};
use crate::step::{Progress, StepError, TempFile, step, working_copy};

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

    let (info, recognised) =
        probe_and_recognise(ctx, claim, progress, lost, &path, &config).await?;
    let metrics = conversation_metrics(
        db,
        claim,
        progress,
        lost,
        &recognised,
        info.duration_ms,
        &config,
    )
    .await?;
    let analysis = detect(db, claim, progress, lost, recognised, &config).await?;
    let analytics = call_analytics(
        db,
        claim,
        progress,
        lost,
        &analysis.transcript,
        &config,
        media.metadata.as_ref(),
    )
    .await?;
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
        // The account's searchable extended fields as they are now: a field made
        // searchable later does not reach this media until it is indexed again.
        let fields = sealscribe_store::searchable_fields(db, media.account_id).await?;
        progress.set("index", TaskStatus::Completed);
        Some(
            IndexEntry::new(media.metadata.as_ref(), &transcript)
                .with_extended(&fields, media.metadata.as_ref()),
        )
    } else {
        progress.set("index", TaskStatus::Skipped);
        None
    };
    let done = Finished {
        transcript: Some(&document),
        prediction: analysis.prediction.as_ref(),
        metrics: metrics.as_ref(),
        analytics: analytics.as_ref(),
        tasks: &progress.tasks,
        index: index.as_ref(),
        callbacks: &crate::callbacks::due(&config.callbacks, true),
    };
    finish(ctx, claim, lost, &done).await
}
