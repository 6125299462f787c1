//! Processing of encrypted media (Client Supplied Encryption).
//!
//! The upload sits in the blob store sealed under a per-media key
//! (`work.sealed`). This job (1) encrypts it to the customer's pinned OpenPGP
//! key as the `original-encrypted` stream — unless that stream exists already,
//! written while the upload streamed in (configuration before media) or by an
//! earlier attempt (a blob is only ever visible complete) — (2) recognises it from a plaintext
//! temporary file that is removed on every exit path (and the whole scratch
//! directory is wiped when workers start, which covers crashes), runs the
//! detectors (and the conversation metrics) and, with an audio redactor, encrypts the redacted audio as
//! `redacted-encrypted` (its plaintext is a scratch file too), (3) encrypts
//! the full result document, and the `analytics`/`transcript` callback bodies,
//! to the customer's key, and (4) finishes the media,
//! which deletes the seal key: the sealed copy is deleted too, and could not
//! be read again anyway. The database never receives the transcript or metadata.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::sync::Arc;

use chrono::Utc;
use sealscribe_domain::media::{
    Encryption, JobClaim, MediaRecord, MediaStatus, SealedInput, TaskStatus,
};
use sealscribe_domain::{codes, document};
use sealscribe_openpgp::{EncryptOptions, Recipient};
use sealscribe_seal::{OpenReader, Opener, SealKey};
use sealscribe_store::{Finished, StoreError, media_blob};
use tokio_util::sync::CancellationToken;
use zeroize::Zeroizing;

use crate::armor::encrypt_armored;
use crate::callbacks;
use crate::ctx::Ctx;
use crate::stages::{
    call_analytics, conversation_metrics, detect, finish, probe_and_recognise, redact_audio,
};
use crate::step::{Progress, StepError, TempFile, step, working_copy};

fn internal(what: &str, e: impl std::fmt::Display) -> StepError {
    StepError::transient(format!("{what}: {e}"))
}

/// Encrypts `input` to the customer's key (binary OpenPGP), streaming into a
/// local file; `what` labels the bytes in the metrics.
fn encrypt_to_file(
    what: &'static str,
    input: impl std::io::Read,
    recipient: &Recipient,
    out: &Path,
) -> Result<(), StepError> {
    let output = File::create(out).map_err(|e| internal("creating encrypted file", e))?;
    let mut writer = BufWriter::with_capacity(1 << 20, output);
    let bytes =
        sealscribe_openpgp::encrypt(recipient, input, &mut writer, EncryptOptions::binary())
            .map_err(|e| internal("encrypting", e))?;
    crate::metrics::encrypted(what, bytes);
    std::io::Write::flush(&mut writer).map_err(|e| internal("writing encrypted file", e))?;
    Ok(())
}

/// Encrypts a plaintext scratch file to the customer's key, into a local file.
fn encrypt_file(input: &Path, recipient: &Recipient, out: &Path) -> Result<(), StepError> {
    let input = File::open(input).map_err(|e| internal("opening scratch file", e))?;
    encrypt_to_file(
        "redacted",
        std::io::BufReader::with_capacity(1 << 20, input),
        recipient,
        out,
    )
}

/// Encrypts the sealed upload to the customer's key, into a local file.
fn encrypt_original(
    sealed: &Path,
    key: &SealKey,
    recipient: &Recipient,
    out: &Path,
) -> Result<(), StepError> {
    let input = File::open(sealed).map_err(|e| internal("opening sealed copy", e))?;
    encrypt_to_file("original", OpenReader::new(input, key), recipient, out)
}

/// Creates (or truncates) a plaintext scratch file readable by its owner
/// only, whatever the process's umask.
fn private_file(path: &Path) -> Result<File, StepError> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| internal("scratch file", e))
}

/// Where this job's plaintext goes: the memory-backed scratch
/// (`Settings::plain_dir`) when it has room for `need` bytes twice over
/// (the opened upload and redacted audio of about its size) plus 8 MiB,
/// else the disk scratch, with a warning: a job that does not fit in memory
/// still runs.
fn plain_dir(ctx: &Ctx, need: u64) -> &Path {
    let s = &ctx.settings;
    if s.plain_dir == s.tmp_dir {
        return &s.plain_dir;
    }
    let free = rustix::fs::statvfs(&s.plain_dir)
        .map(|v| v.f_bavail.saturating_mul(v.f_frsize))
        .unwrap_or(0);
    if free >= need.saturating_mul(2).saturating_add(8 << 20) {
        &s.plain_dir
    } else {
        tracing::warn!(
            need_bytes = need,
            free_bytes = free,
            scratch = %s.plain_dir.display(),
            "the memory-backed scratch has no room for this media: its plaintext goes to the \
             disk scratch while it is processed"
        );
        &s.tmp_dir
    }
}

/// Opens the sealed upload into a plaintext scratch file for ffmpeg.
fn open_to_file(sealed: &Path, key: &SealKey, out: &Path) -> Result<(), StepError> {
    let input = File::open(sealed).map_err(|e| internal("opening sealed copy", e))?;
    let mut reader = OpenReader::new(input, key);
    let mut output = BufWriter::with_capacity(1 << 20, private_file(out)?);
    std::io::copy(&mut reader, &mut output).map_err(|e| internal("opening sealed copy", e))?;
    std::io::Write::flush(&mut output).map_err(|e| internal("scratch file", e))?;
    Ok(())
}

fn open_input(key: &SealKey, sealed: &[u8]) -> Result<SealedInput, StepError> {
    let mut opener = Opener::new(key);
    // The customer's metadata and file name, wiped once parsed.
    let mut plain = Zeroizing::new(Vec::new());
    opener
        .push(sealed, &mut plain)
        .map_err(|e| internal("sealed input", e))?;
    opener
        .finish(&mut plain)
        .map_err(|e| internal("sealed input", e))?;
    SealedInput::from_json(&plain).map_err(|e| internal("sealed input", e))
}

pub async fn run(
    ctx: &Arc<Ctx>,
    claim: &JobClaim,
    progress: &mut Progress,
    lost: &CancellationToken,
    media: &MediaRecord,
    enc: &Encryption,
) -> Result<(), StepError> {
    let db = ctx.db.as_ref();
    let seal_key = match &enc.wrapped_seal_key {
        Some(wrapped) => Arc::new(
            ctx.keys
                .unwrap(wrapped, &media.id.to_string())
                .map_err(|e| internal("seal key", e))?,
        ),
        None => {
            return Err(StepError::permanent(
                codes::INTERNAL,
                "the media's processing key was already destroyed",
            ));
        }
    };
    let pinned = enc.pinned_key.clone();
    let recipient = tokio::task::spawn_blocking(move || Recipient::from_bytes(&pinned, Utc::now()))
        .await?
        .map_err(|e| {
            StepError::permanent(
                codes::KEY_EXPIRED_OR_REVOKED,
                format!("the public key can no longer be used: {e}"),
            )
        })?;
    let recipient = Arc::new(recipient);
    db.set_running(media.id, &progress.tasks).await?;
    progress.set("fetch", TaskStatus::Skipped);

    // A local path to the sealed copy (sealed bytes are safe on disk).
    let (sealed, _sealed_guard) = working_copy(
        &ctx.blobs,
        &media_blob(media.id, "work.sealed"),
        &ctx.settings.tmp_dir,
        claim,
    )
    .await?;

    step(db, claim, progress, lost, "protect", async {
        let target = media_blob(media.id, "original-encrypted");
        match ctx.blobs.size(&target).await {
            // Made by the upload as it streamed in, or by an earlier attempt.
            Ok(_) => return Ok(()),
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
        let out = ctx
            .settings
            .tmp_dir
            .join(format!("{}-{}.pgp", media.id, claim.job_id));
        let _out_guard = TempFile(Some(out.clone()));
        let (s, k, r, o) = (
            sealed.clone(),
            seal_key.clone(),
            recipient.clone(),
            out.clone(),
        );
        tokio::task::spawn_blocking(move || encrypt_original(&s, &k, &r, &o)).await??;
        ctx.blobs.upload_file(&target, &out).await?;
        Ok(())
    })
    .await?;

    // The plaintext exists only here, for ffmpeg, and goes on every exit path
    // (the guard's drop, unwinding included; after a crash, the next worker
    // to start removes the dead process's scratch directory).
    let need = std::fs::metadata(&sealed).map_or(0, |m| m.len());
    let plain_dir = plain_dir(ctx, need);
    let plain = plain_dir.join(format!("{}-{}.plain", media.id, claim.job_id));
    let _plain_guard = TempFile(Some(plain.clone()));
    {
        let (s, k, p) = (sealed.clone(), seal_key.clone(), plain.clone());
        tokio::task::spawn_blocking(move || open_to_file(&s, &k, &p)).await??;
    }

    let config = media.config()?;
    let (info, recognised) =
        probe_and_recognise(ctx, claim, progress, lost, &plain, &config).await?;
    // Metrics too exist only inside the encrypted document.
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
    // VBQL's `metadata.…` conditions read the customer's metadata: opened here, in memory
    // only, when a category may need it.
    let metadata = match &enc.sealed_input {
        Some(sealed) if config.call_analytics() => open_input(&seal_key, sealed)?
            .metadata
            .map(serde_json::to_value)
            .transpose()
            .map_err(|e| internal("metadata", e))?,
        _ => None,
    };
    let analytics = call_analytics(
        db,
        claim,
        progress,
        lost,
        &analysis.transcript,
        &config,
        metadata.as_ref(),
    )
    .await?;
    if let Some(plan) = &analysis.audio {
        step(db, claim, progress, lost, "redact", async {
            // The redacted audio is plaintext too: a scratch file, encrypted
            // to the customer's key, removed on every exit path.
            let name = |ext: &str| format!("{}-{}.{ext}", media.id, claim.job_id);
            let wav = plain_dir.join(name("redacted.wav"));
            let pgp = ctx.settings.tmp_dir.join(name("redacted.pgp"));
            let _guards = (TempFile(Some(wav.clone())), TempFile(Some(pgp.clone())));
            // Owner-only from the start (the redactor truncates, keeping the mode).
            drop(private_file(&wav)?);
            redact_audio(&plain, &info, plan, &wav).await?;
            let (w, r, p) = (wav.clone(), recipient.clone(), pgp.clone());
            tokio::task::spawn_blocking(move || encrypt_file(&w, &r, &p)).await??;
            ctx.blobs
                .upload_file(&media_blob(media.id, "redacted-encrypted"), &pgp)
                .await?;
            Ok(())
        })
        .await?;
    }
    progress.set("transcript", TaskStatus::Completed);
    progress.set("index", TaskStatus::Skipped);

    step(db, claim, progress, lost, "encrypt", async {
        let input = match &enc.sealed_input {
            Some(sealed) => open_input(&seal_key, sealed)?,
            None => SealedInput::default(),
        };
        // The record as the customer's copy describes it: finished, with its content.
        let mut full = media.clone();
        full.status = MediaStatus::Finished;
        full.finished_at = Some(Utc::now());
        full.length_ms = Some(info.duration_ms);
        full.file_name = input.file_name;
        full.metadata = input
            .metadata
            .map(serde_json::to_value)
            .transpose()
            .map_err(|e| internal("metadata", e))?;
        full.transcript = Some(
            serde_json::to_value(&analysis.transcript).map_err(|e| internal("transcript", e))?,
        );
        full.prediction = analysis.prediction.clone();
        full.metrics = metrics.clone();
        full.analytics = analytics.clone();
        full.deliveries.clear();
        // Plaintext results, wiped once encrypted.
        let mut bodies = vec![(
            media_blob(media.id, "document.pgp"),
            Zeroizing::new(
                serde_json::to_vec_pretty(&document::full_document(&full)?)
                    .map_err(|e| internal("document", e))?,
            ),
        )];
        for (i, c) in config.callbacks.iter().enumerate() {
            if let Some((body, _)) = callbacks::clear_body(&full, &c.payload)? {
                bodies.push((callbacks::prepared_blob(media, i), Zeroizing::new(body)));
            }
        }
        for (key, plaintext) in bodies {
            let r = recipient.clone();
            let ciphertext = tokio::task::spawn_blocking(move || encrypt_armored(&r, &plaintext))
                .await?
                .map_err(|e| internal("encrypting the results", e))?;
            ctx.blobs.put_bytes(&key, &ciphertext).await?;
        }
        Ok(())
    })
    .await?;

    let done = Finished {
        tasks: &progress.tasks,
        callbacks: &callbacks::due(&config.callbacks, true),
        ..Finished::default()
    };
    finish(ctx, claim, lost, &done).await
}
