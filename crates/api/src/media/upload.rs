//! `POST /v3/media`: multipart upload, streamed to the blob store.
//!
//! Parts may arrive in any order. The `media` part is written to the blob
//! store as it arrives (memory stays flat whatever its size); the small parts
//! are read into memory with a limit (see [`super::intake`]). When a
//! configuration with a usable `publicKeyId` came first, the media is also
//! encrypted to that key as it arrives, so `original-encrypted` is complete
//! when the upload answers (see [`super::encrypting`]). Only when every
//! part is in and valid are the media row and its job created, in one
//! transaction; any failure before that deletes what was written, so a
//! rejected request leaves nothing behind.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use chrono::Utc;
use sealscribe_domain::configuration::{
    InputError, MediaConfig, Metadata, parse_configuration, parse_metadata,
};
use sealscribe_domain::document;
use sealscribe_domain::media::{
    Encryption, EncryptionInfo, MediaSource, MediaStatus, SealedInput, initial_tasks,
};
use sealscribe_domain::{MediaId, PublicKeyId, PublicKeyRecord, codes};
use sealscribe_ingress::sniff::{self, Verdict};
use sealscribe_openpgp::Recipient;
use sealscribe_seal::Sealer;
use sealscribe_store::{NewMedia, media_prefix};
use serde_json::Value;
use std::sync::Arc;

use super::intake::{
    Keep, SMALL_PART, SmallParts, Upload, check_callback_urls, duplicate, next_part, read_into,
    receive_media, unseal_original,
};
use super::multipart::Multipart;
use crate::auth::Caller;
use crate::schemas::{ErrorEnvelope, MediaDocument, MediaUpload};
use crate::{ApiError, AppState, Result};

/// `POST /v3/media`: accepts a recording for processing.
#[utoipa::path(
    post,
    path = "/v3/media",
    tag = "media",
    operation_id = "uploadMedia",
    request_body(
        description = "`media` (the file) **or** `mediaUrl`; optional `configuration` and `metadata` (JSON). \
            Parts may come in any order; each part at most once.",
        content(
            (MediaUpload = "multipart/form-data", encoding(
                ("configuration" = (content_type = "application/json")),
                ("metadata" = (content_type = "application/json")),
            )),
        ),
    ),
    responses(
        (status = 200, description = "Accepted for processing (`status: accepted`).", body = MediaDocument),
        (status = 400, description = "Not multipart, an unknown or duplicated part, no media or both media and mediaUrl \
            (10202), not media (10201), an unreachable or refused mediaUrl (10203/10204), an invalid \
            configuration (10007/10008/10009/10010/10401/10601, 6000x, 5000x), an unknown category \
            or a malformed `categories` (16101/16102), invalid metadata (10107–10110), an unknown or unusable publicKeyId (95001/95002/95004), searchable with encryption (95005), \
            more callbacks than the server allows (60012), a multipart preamble, part header or part count over \
            the server's caps (10802/10803/10804).", body = ErrorEnvelope),
        (status = 408, description = "The body stalled longer than the server's body idle timeout (10805).", body = ErrorEnvelope),
        (status = 413, description = "The media or a small part is over its limit (10800), or the whole body is over \
            the server's cap (10801).", body = ErrorEnvelope),
    ),
)]
pub async fn upload(
    caller: Caller,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>> {
    let multipart = super::intake::open(&state, &headers, body)?;
    let id = MediaId::new();
    let outcome = accept(&caller, &state, id, multipart).await;
    if outcome.is_err() {
        // Whatever was written for this request goes.
        if let Err(e) = state.blobs().delete_prefix(&media_prefix(id)).await {
            tracing::warn!(media_id = %id, "cleaning up a rejected upload failed: {e}");
        }
    }
    outcome
}

/// Validates the request, then creates the media and its job.
async fn accept(
    caller: &Caller,
    state: &AppState,
    id: MediaId,
    multipart: Multipart,
) -> Result<Json<Value>> {
    let parts = read_parts(state, caller, id, multipart).await?;
    let config = crate::categories::resolve(state, caller.account, parts.configuration?).await?;
    check_callback_urls(state, &config)?;
    let metadata = match &parts.small.metadata {
        Some(bytes) => Some(parse_metadata(bytes)?),
        None => None,
    };
    let source = source(state, parts.upload, parts.small.media_url.as_deref()).await?;
    let new = match (&config.encryption, source) {
        (Some(enc), Source::Upload(u)) => {
            let key = match parts.pinned {
                // The key `original-encrypted` was made with, resolved when the media began.
                Some(key) => key,
                None => resolve_key(state, caller, enc.public_key_id).await?.0,
            };
            encrypted_media(state, caller, id, key, u, metadata.as_ref(), &config)?
        }
        (Some(_), Source::Url(_)) => {
            return Err(ApiError::bad_request(
                codes::UNSUPPORTED_FEATURE,
                "mediaUrl cannot be combined with encryption yet: upload the file itself as the `media` part.",
            ));
        }
        (None, source) => {
            plain_media(state, caller, id, source, metadata.as_ref(), &config).await?
        }
    };
    state.db().create_media(&new).await?;
    tracing::info!(media_id = %id, "media accepted");
    let mut media = state
        .db()
        .get_media(caller.account, id)
        .await?
        .ok_or_else(|| ApiError::internal("media vanished after insert"))?;
    // The answer describes the acceptance (v3: `status: "accepted"`), even if
    // a polling worker has already picked the job up.
    media.status = MediaStatus::Accepted;
    media.tasks = initial_tasks(&config);
    state.job_queued();
    Ok(Json(document::document(&media)?))
}

/// The parts of an upload request, read.
struct Parts {
    /// The configuration as parsed (the default one when no part was sent).
    configuration: std::result::Result<MediaConfig, InputError>,
    /// `metadata` and `mediaUrl` (`configuration` too, as sent).
    small: SmallParts,
    /// The `media` part, already in the blob store.
    upload: Option<Upload>,
    /// The customer's key the media was encrypted to as it streamed in, if it was.
    pinned: Option<PublicKeyRecord>,
}

/// Reads every part: the media into the blob store (sealed unless a configuration
/// without encryption came first, and encrypted to the customer's key too when a
/// configuration with a usable one did), the others into memory.
async fn read_parts(
    state: &AppState,
    caller: &Caller,
    id: MediaId,
    mut multipart: Multipart,
) -> Result<Parts> {
    let mut small = SmallParts::default();
    let mut upload: Option<Upload> = None;
    let mut pinned = None;
    let mut config_seen: Option<std::result::Result<MediaConfig, InputError>> = None;
    while let Some((name, field)) = next_part(&mut multipart).await? {
        match name.as_str() {
            "media" => {
                if upload.is_some() {
                    return Err(duplicate("media"));
                }
                // Plaintext may be stored only once the configuration has said
                // "no encryption"; until then the media is sealed as it streams.
                let keep = match &config_seen {
                    Some(Ok(c)) => match &c.encryption {
                        None => Keep::Plain,
                        // An unknown or unusable key keeps today's path: the
                        // refusal comes once the body is read, like any other.
                        Some(enc) => match resolve_key(state, caller, enc.public_key_id).await {
                            Ok((key, recipient)) => {
                                pinned = Some(key);
                                Keep::SealedAndEncrypted(Arc::new(recipient))
                            }
                            Err(_) => Keep::Sealed,
                        },
                    },
                    _ => Keep::Sealed,
                };
                upload = Some(receive_media(state, id, field, keep).await?);
            }
            "configuration" => {
                read_into(&mut small.configuration, field, "configuration", SMALL_PART).await?;
                if config_seen.is_none() {
                    config_seen = small.configuration.as_deref().map(parse_configuration);
                }
            }
            "metadata" => read_into(&mut small.metadata, field, "metadata", SMALL_PART).await?,
            "mediaUrl" => read_into(&mut small.media_url, field, "mediaUrl", 8 * 1024).await?,
            other => {
                return Err(ApiError::bad_request(
                    codes::INVALID_REQUEST,
                    format!(
                        "Unknown part {other:?}: the parts of POST /v3/media are media (or mediaUrl), configuration and metadata."
                    ),
                ));
            }
        }
    }
    let pinned = pinned.filter(|_| upload.as_ref().is_some_and(|u| u.encrypted));
    Ok(Parts {
        configuration: config_seen.unwrap_or_else(|| parse_configuration(b"")),
        small,
        upload,
        pinned,
    })
}

/// Where the media comes from.
enum Source {
    Upload(Upload),
    Url(String),
}

/// Exactly one of `media` and `mediaUrl`: an upload that looks like media, or a URL
/// the server may fetch and that answers.
async fn source(state: &AppState, upload: Option<Upload>, url: Option<&[u8]>) -> Result<Source> {
    match (upload, url) {
        (None, None) => Err(ApiError::bad_request(
            codes::MEDIA_MISSING,
            "No media: send the recording as a `media` file part, or its address as a `mediaUrl` part.",
        )),
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            codes::MEDIA_MISSING,
            "Both `media` and `mediaUrl` were sent: send exactly one of them.",
        )),
        (Some(mut u), None) => {
            check_is_media(std::mem::take(&mut u.head)).await?;
            Ok(Source::Upload(u))
        }
        (None, Some(url)) => {
            let url = std::str::from_utf8(url).map_err(|_| {
                ApiError::bad_request(codes::MEDIA_URL_MALFORMED, "mediaUrl is not UTF-8 text.")
            })?;
            let checked =
                sealscribe_ingress::check_reachable(state.http(), &state.limits().url_policy, url)
                    .await
                    .map_err(|(code, m)| ApiError::bad_request(code, m))?;
            Ok(Source::Url(checked.to_string()))
        }
    }
}

/// Refuses an upload whose first bytes show it is not audio or video.
async fn check_is_media(head: Vec<u8>) -> Result<()> {
    match tokio::task::spawn_blocking(move || sniff::sniff(&head)).await? {
        Verdict::Audio | Verdict::Undecided => Ok(()),
        Verdict::NotMedia(why) => Err(ApiError::bad_request(
            codes::MEDIA_UNREADABLE,
            format!(
                "The media cannot be processed: {why}. Send an audio or video file (WAV, MP3, FLAC, Ogg, Opus, M4A, MP4…)."
            ),
        )),
    }
}

/// Builds a media item processed in clear: an upload that arrived sealed (before the
/// configuration) is unsealed into its `original` stream.
async fn plain_media(
    state: &AppState,
    caller: &Caller,
    id: MediaId,
    source: Source,
    metadata: Option<&Metadata>,
    config: &MediaConfig,
) -> Result<NewMedia> {
    let source = match source {
        Source::Upload(u) => {
            if let Some(key) = &u.sealed {
                // The media arrived before the configuration: now that it
                // says "no encryption", store the plain original.
                unseal_original(state, id, key).await?;
            }
            MediaSource::Upload {
                file_name: u.file_name,
                content_type: u.content_type,
                size_bytes: u.size,
            }
        }
        Source::Url(url) => MediaSource::Url(url),
    };
    Ok(NewMedia {
        id,
        account_id: caller.account,
        source,
        configuration: serde_json::to_value(config)?,
        external_id: metadata.and_then(|m| m.external_id.clone()),
        metadata: metadata.map(serde_json::to_value).transpose()?,
        searchable: config.searchable,
        tasks: initial_tasks(config),
        encryption: None,
    })
}

/// The caller's key `public_key_id`, if it exists and can be encrypted to now.
async fn resolve_key(
    state: &AppState,
    caller: &Caller,
    public_key_id: uuid::Uuid,
) -> Result<(PublicKeyRecord, Recipient)> {
    let key_id = PublicKeyId(public_key_id);
    let key = state
        .db()
        .get_public_key(caller.account, key_id)
        .await?
        .ok_or_else(|| {
            ApiError::bad_request(
                codes::UNKNOWN_PUBLIC_KEY,
                format!(
                    "No public key with id {key_id} exists in this account: upload your key with \
                 POST /v3/security/public-keys and use the publicKeyId it returns."
                ),
            )
        })?;
    let bytes = key.bytes.clone();
    let recipient = tokio::task::spawn_blocking(move || Recipient::from_bytes(&bytes, Utc::now()))
        .await?
        .map_err(|e| {
            ApiError::bad_request(
                crate::keys::key_error_code(e.kind()),
                format!("The public key {key_id} can no longer be used: {e}"),
            )
        })?;
    Ok((key, recipient))
}

/// Builds an encrypted media item: the customer's key `key` (resolved by
/// [`resolve_key`]) is pinned, the upload stays sealed, and metadata and file
/// name are sealed with it.
fn encrypted_media(
    state: &AppState,
    caller: &Caller,
    id: MediaId,
    key: PublicKeyRecord,
    upload: Upload,
    metadata: Option<&Metadata>,
    config: &MediaConfig,
) -> Result<NewMedia> {
    let seal_key = upload
        .sealed
        .expect("uploads are sealed unless the configuration allowed plaintext");
    let input = SealedInput {
        metadata: metadata.cloned(),
        file_name: upload.file_name,
    }
    .to_json()?;
    let (mut sealer, mut sealed_input) = Sealer::new(&seal_key);
    sealer.push(&input, &mut sealed_input);
    sealer.finish(&mut sealed_input);
    Ok(NewMedia {
        id,
        account_id: caller.account,
        source: MediaSource::Upload {
            file_name: None,
            content_type: upload.content_type,
            size_bytes: upload.size,
        },
        configuration: serde_json::to_value(config)?,
        metadata: None,
        external_id: None,
        searchable: false,
        tasks: initial_tasks(config),
        encryption: Some(Encryption {
            info: EncryptionInfo {
                public_key_id: key.id,
                fingerprint: key.fingerprint,
                public_key_hash: key.sha256,
            },
            pinned_key: key.bytes,
            wrapped_seal_key: Some(state.keys().wrap(&seal_key, &id.to_string())),
            sealed_input: Some(sealed_input),
        }),
    })
}
