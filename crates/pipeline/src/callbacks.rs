//! Callback delivery: one durable job per configured callback, queued in the
//! same transaction that ends processing.
//!
//! A run of the job is one *round* of up to `tries_per_round` back-to-back
//! tries; a failed round is rescheduled after the next delay of the schedule
//! (VoiceBase: 3 tries per round, rounds after 15 min, 30 min, 1 h, 2 h, 4 h
//! and 8 h). Any 2xx answer is success. Every try is recorded and shown to the
//! customer in the media document.
//!
//! Every request is signed with the account's callback secret:
//! `X-Sealscribe-Signature: t=<unix seconds>,v1=<hex>,v2=<hex>`, where `v2` is
//! HMAC-SHA256 over `"v2:<t>.<media id>.<callback type>." + body` and the
//! deprecated `v1` (kept for one release, so that receivers can move) over
//! `"<t>." + body`. A receiver can tell the body came from this server,
//! unchanged, recently, and — with `v2` — for the media and the kind of
//! callback the `X-Sealscribe-Media-Id` and `X-Sealscribe-Callback-Type`
//! headers name (v1 left them open to being swapped). docs/callbacks.md has
//! the verification example; `sealscribe_client::callback` verifies.
//!
//! Bodies (reference §5): `analytics` is the media document filtered by
//! `include`, `transcript` a rendition, `media` a stream. For encrypted media
//! the `analytics` and `transcript` bodies are OpenPGP messages prepared while
//! the plaintext existed (`callback-<index>.pgp`), and `media` sends the
//! `-encrypted` stream: nothing readable leaves the server.

use std::sync::Arc;

use chrono::Utc;
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use sealscribe_domain::callbacks::{Callback, MediaStream, Payload};
use sealscribe_domain::document;
use sealscribe_domain::media::{DeliveryAttempt, JobClaim, MediaRecord, MediaStatus, Unreadable};
use sealscribe_ingress::Redirects;
use sealscribe_ingress::outbound::{body_bytes, body_stream};
use sealscribe_openpgp::Recipient;
use sealscribe_store::{DeliveryOutcome, StoreError, media_blob};
use sealscribe_transcript::{Rendition, Transcript};
use sha2::Sha256;

use crate::armor::encrypt_armored;
use crate::ctx::Ctx;

/// The content type of what an encrypted body holds.
const PGP: &str = "application/pgp-encrypted";

/// The blob holding a prepared (encrypted) body of `callbacks[index]`.
pub fn prepared_blob(media: &MediaRecord, index: usize) -> sealscribe_store::BlobKey {
    media_blob(media.id, &format!("callback-{index}.pgp"))
}

/// The callbacks to deliver when processing ends: all of them when it
/// finished, only `analytics` ones when it failed (reference §5).
pub fn due(callbacks: &[Callback], finished: bool) -> Vec<u32> {
    (0u32..)
        .zip(callbacks)
        .filter(|(_, c)| finished || matches!(c.payload, Payload::Analytics { .. }))
        .map(|(i, _)| i)
        .collect()
}

/// The body of an `analytics` or `transcript` callback in clear, from a
/// media record holding the content (for encrypted media: the record the
/// pipeline filled in before encrypting). `Ok(None)` for `media` callbacks,
/// whose body is a stream; an error when the stored record cannot be read.
pub fn clear_body(
    media: &MediaRecord,
    payload: &Payload,
) -> Result<Option<(Vec<u8>, &'static str)>, Unreadable> {
    Ok(match payload {
        Payload::Analytics { include } => {
            let doc = document::include_only(document::full_document(media)?, include.as_deref());
            serde_json::to_vec(&doc)
                .ok()
                .map(|body| (body, "application/json"))
        }
        Payload::Transcript { format } => {
            let t: Transcript = media.read_transcript()?.unwrap_or_default();
            let body = match format.rendition() {
                None => serde_json::to_string(&t).ok(),
                // The language is only read (from the stored configuration) for DFXP.
                Some(r @ Rendition::Dfxp) => Some(t.render(r, Some(&media.config()?.language))),
                Some(r) => Some(t.render(r, None)),
            };
            body.map(|body| (body.into_bytes(), format.content_type()))
        }
        Payload::Media { .. } => None,
    })
}

enum Body {
    Bytes(Vec<u8>),
    Blob(sealscribe_store::BlobKey),
}

/// Why a body cannot be produced; permanent for this callback.
struct NoBody(String);

impl From<StoreError> for NoBody {
    fn from(e: StoreError) -> Self {
        NoBody(e.to_string())
    }
}

impl From<Unreadable> for NoBody {
    fn from(e: Unreadable) -> Self {
        NoBody(e.to_string())
    }
}

async fn body(
    media: &MediaRecord,
    index: usize,
    callback: &Callback,
) -> Result<(Body, &'static str), NoBody> {
    let encrypted = media.encryption.as_ref();
    if let Payload::Media { stream } = callback.payload {
        let name = match (stream, encrypted.is_some()) {
            (MediaStream::Original, false) => "original",
            (MediaStream::Redacted, false) => "redacted",
            (MediaStream::Original, true) => "original-encrypted",
            (MediaStream::Redacted, true) => "redacted-encrypted",
        };
        let kind = if encrypted.is_some() {
            PGP
        } else {
            "application/octet-stream"
        };
        return Ok((Body::Blob(media_blob(media.id, name)), kind));
    }
    let Some(enc) = encrypted else {
        let (bytes, kind) = clear_body(media, &callback.payload)?
            .ok_or_else(|| NoBody("the body could not be rendered".into()))?;
        return Ok((Body::Bytes(bytes), kind));
    };
    if media.status == MediaStatus::Finished {
        // Prepared, encrypted, while the plaintext existed.
        return Ok((Body::Blob(prepared_blob(media, index)), PGP));
    }
    // Failed: the document holds only bookkeeping and the error; it is
    // encrypted all the same, so every body of encrypted media is ciphertext.
    let doc = serde_json::to_vec(&document::document(media)?)
        .map_err(|e| NoBody(format!("document: {e}")))?;
    let key = enc.pinned_key.clone();
    let ciphertext = tokio::task::spawn_blocking(move || {
        let recipient = Recipient::from_bytes(&key, Utc::now()).map_err(|e| e.to_string())?;
        encrypt_armored(&recipient, &doc).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| NoBody(e.to_string()))?
    .map_err(|e| NoBody(format!("the customer's key cannot be used: {e}")))?;
    Ok((Body::Bytes(ciphertext), PGP))
}

/// What the `v2` MAC covers before the body: `v2:<t>.<media id>.<callback type>.`. The
/// `v2:` prefix keeps it apart from anything `v1` signs (which starts with a digit); neither
/// a media id (a UUID) nor a callback type contains a `.`, so the fields cannot be shifted
/// into one another.
fn signed_prefix_v2(timestamp: i64, media_id: &str, callback_type: &str) -> String {
    format!("v2:{timestamp}.{media_id}.{callback_type}.")
}

/// `t=<unix>,v1=<hex>,v2=<hex>`: HMAC-SHA256 of the body, after `"<t>."` for `v1`
/// (deprecated) and after [`signed_prefix_v2`] for `v2`; one read of the body for both.
async fn signature(
    ctx: &Ctx,
    secret: &str,
    timestamp: i64,
    signed: (&str, &str),
    body: &Body,
) -> Result<String, StoreError> {
    let key = secret.as_bytes();
    let mut v1 = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    let mut v2 = v1.clone();
    v1.update(format!("{timestamp}.").as_bytes());
    v2.update(signed_prefix_v2(timestamp, signed.0, signed.1).as_bytes());
    match body {
        Body::Bytes(b) => {
            v1.update(b);
            v2.update(b);
        }
        Body::Blob(key) => {
            let (mut stream, _, _) = ctx.blobs.read(key, None).await?;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk?;
                v1.update(&chunk);
                v2.update(&chunk);
            }
        }
    }
    Ok(format!(
        "t={timestamp},v1={},v2={}",
        hex::encode(v1.finalize().into_bytes()),
        hex::encode(v2.finalize().into_bytes())
    ))
}

/// One try: `Ok(status)` when the receiver answered, `Err(reason)` otherwise.
async fn send(
    ctx: &Ctx,
    media: &MediaRecord,
    callback: &Callback,
    body: &Body,
    content_type: &str,
    secret: &str,
) -> Result<u16, String> {
    let url =
        sealscribe_ingress::check_url("the callback url", &callback.url, &ctx.settings.url_policy)?;
    let timestamp = Utc::now().timestamp();
    // The very values the headers carry are the ones signed.
    let media_id = media.id.to_string();
    let callback_type = callback.payload.type_name();
    let signature = signature(ctx, secret, timestamp, (&media_id, callback_type), body)
        .await
        .map_err(|e| format!("reading the body: {e}"))?;
    let request_body = match body {
        Body::Bytes(b) => body_bytes(b.clone()),
        Body::Blob(key) => {
            let (stream, _, _) = ctx
                .blobs
                .read(key, None)
                .await
                .map_err(|e| format!("reading the body: {e}"))?;
            body_stream(stream)
        }
    };
    let method = match callback.method {
        sealscribe_domain::callbacks::Method::Post => http::Method::POST,
        sealscribe_domain::callbacks::Method::Put => http::Method::PUT,
    };
    let mut headers = http::HeaderMap::new();
    let header = |v: &str| {
        http::HeaderValue::from_str(v).map_err(|_| "a header value is not valid".to_owned())
    };
    headers.insert(http::header::CONTENT_TYPE, header(content_type)?);
    headers.insert("x-sealscribe-signature", header(&signature)?);
    headers.insert("x-sealscribe-media-id", header(&media_id)?);
    headers.insert("x-sealscribe-callback-type", header(callback_type)?);
    // Never follows a redirect: a 3xx is the receiver's answer (a failed
    // try), so the signed body cannot be re-sent to another address.
    let response = ctx
        .http
        .send(
            method,
            &url,
            headers,
            request_body,
            Redirects::Never,
            ctx.settings.callbacks.timeout,
        )
        .await
        .map_err(|e| {
            // One sentence for the customer whatever happened (refused
            // address, closed port, timeout): the reason is the operator's.
            tracing::warn!(reason = %e, "callback try failed");
            "the receiver could not be reached".to_owned()
        })?;
    Ok(response.status.as_u16())
}

/// Runs one round of a callback job and records it.
pub async fn run(ctx: &Arc<Ctx>, claim: &JobClaim, index: u32) -> Result<(), StoreError> {
    let s = &ctx.settings;
    let db = ctx.db.as_ref();
    let Some(media) = db.load_media(claim.media_id).await? else {
        return Ok(()); // deleted: its jobs went with it
    };
    // Unreadable, nothing can be delivered: the round fails (no retry could
    // read it either) and says why, without guessing a default.
    let config = media.config();
    let configured = config.as_ref().map(|c| c.callbacks.get(index as usize));
    let mut attempts = Vec::new();
    let mut record = |http_status: Option<u16>, error: Option<String>| {
        crate::metrics::callback_attempt(http_status);
        attempts.push(DeliveryAttempt {
            at: Utc::now(),
            http_status,
            error,
        });
    };
    let outcome = match configured {
        Err(e) => {
            tracing::warn!(callback = index, "{e}");
            record(
                None,
                Some("the media's stored configuration cannot be read".into()),
            );
            DeliveryOutcome::Failed
        }
        Ok(None) => {
            record(None, Some("the callback is no longer configured".into()));
            DeliveryOutcome::Failed
        }
        Ok(Some(callback)) => {
            // Wiped from memory when the delivery is done.
            let secret =
                zeroize::Zeroizing::new(db.callback_secret(media.account_id, false).await?);
            match body(&media, index as usize, callback).await {
                Err(NoBody(why)) => {
                    tracing::warn!(callback = index, "callback has no body: {why}");
                    record(None, Some(format!("the body could not be produced: {why}")));
                    DeliveryOutcome::Failed
                }
                Ok((body, content_type)) => {
                    let mut delivered = false;
                    for _ in 0..s.callbacks.tries_per_round.max(1) {
                        match send(ctx, &media, callback, &body, content_type, &secret).await {
                            Ok(status) if (200..300).contains(&status) => {
                                record(Some(status), None);
                                delivered = true;
                                break;
                            }
                            Ok(status) => record(
                                Some(status),
                                Some(format!("the receiver answered HTTP {status}")),
                            ),
                            Err(e) => record(None, Some(e)),
                        }
                    }
                    let round = (claim.attempt as usize).saturating_sub(1);
                    match (delivered, s.callbacks.retry_delays.get(round)) {
                        (true, _) => DeliveryOutcome::Delivered,
                        (false, Some(delay)) => DeliveryOutcome::RetryAt(Utc::now() + *delay),
                        (false, None) => DeliveryOutcome::Failed,
                    }
                }
            }
        }
    };
    tracing::info!(
        callback = index,
        tries = attempts.len(),
        outcome = ?outcome,
        url = %configured.ok().flatten().map(Callback::display_url).unwrap_or_default(),
        "callback round ended"
    );
    crate::metrics::job_ended(
        "callback",
        match outcome {
            DeliveryOutcome::Delivered => "delivered",
            DeliveryOutcome::RetryAt(_) => "rescheduled",
            DeliveryOutcome::Failed => "failed",
        },
    );
    db.end_delivery(
        claim.job_id,
        &s.worker_id,
        media.id,
        index,
        &attempts,
        outcome,
    )
    .await?;
    Ok(())
}
