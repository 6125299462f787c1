//! `POST /v3/media`: multipart upload, streamed to the blob store.
//!
//! Parts may arrive in any order. The `media` part is written to the blob
//! store as it arrives (memory stays flat whatever its size); the small parts
//! are read into memory with a limit. Only when every part is in and valid are
//! the media row and its job created, in one transaction; any failure before
//! that deletes what was written, so a rejected request leaves nothing behind.

use axum::Json;
use axum::extract::State;
use axum::extract::multipart::{Field, Multipart, MultipartError, MultipartRejection};
use axum::http::StatusCode;
use bytes::Bytes;
use chrono::Utc;
use futures_util::StreamExt;
use sealscribe_domain::configuration::{
    InputError, MediaConfig, Metadata, parse_configuration, parse_metadata,
};
use sealscribe_domain::media::{
    Encryption, EncryptionInfo, MediaSource, MediaStatus, initial_tasks,
};
use sealscribe_domain::{MediaId, PublicKeyId, codes};
use sealscribe_openpgp::Recipient;
use sealscribe_pipeline::sniff::{self, Verdict};
use sealscribe_seal::{Opener, SealKey, Sealer};
use sealscribe_store::{NewMedia, media_blob, media_prefix};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::openapi::schemas::{ErrorEnvelope, MediaDocument, MediaUpload};
use crate::{ApiError, AppState, Result};
use sealscribe_domain::document;

/// Limit for each of the small parts (configuration, metadata, mediaUrl).
const SMALL_PART: usize = 64 * 1024;

pub(crate) fn input_error(e: InputError) -> ApiError {
    let status = if e.code == codes::PAYLOAD_TOO_LARGE {
        StatusCode::PAYLOAD_TOO_LARGE
    } else {
        StatusCode::BAD_REQUEST
    };
    ApiError::new(status, e.code, e.message)
}

/// Callback URLs must be addresses the operator lets the server call (the
/// resolver re-checks host names at delivery time).
pub(crate) fn check_callback_urls(state: &AppState, config: &MediaConfig) -> Result<()> {
    for (i, c) in config.callbacks.iter().enumerate() {
        sealscribe_pipeline::check_url(
            &format!("`publish.callbacks[{i}].url`"),
            &c.url,
            &state.limits().url_policy,
        )
        .map_err(|m| ApiError::bad_request(codes::CALLBACK_URL_INVALID, m))?;
    }
    Ok(())
}

/// The request is not `multipart/form-data` at all.
pub(crate) fn not_multipart(e: MultipartRejection) -> ApiError {
    ApiError::bad_request(
        codes::INVALID_REQUEST,
        format!(
            "This call takes a multipart/form-data body (e.g. `curl -F media=@file.wav`): {}",
            e.body_text()
        ),
    )
}

fn multipart_error(e: MultipartError) -> ApiError {
    ApiError::bad_request(
        codes::INVALID_REQUEST,
        format!("Invalid multipart/form-data request: {}", e.body_text()),
    )
}

/// What the media part was.
struct Upload {
    file_name: Option<String>,
    content_type: Option<String>,
    size: u64,
    /// The first bytes, for the media sniff.
    head: Vec<u8>,
    /// The key the upload was sealed with, if it was.
    sealed: Option<SealKey>,
}

#[derive(Default)]
pub(crate) struct SmallParts {
    pub configuration: Option<Bytes>,
    pub metadata: Option<Bytes>,
    pub media_url: Option<Bytes>,
    pub transcript: Option<Bytes>,
}

/// Reads a small part whole, refusing more than `limit` bytes.
pub(crate) async fn read_small(mut field: Field<'_>, name: &str, limit: usize) -> Result<Bytes> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        if buf.len() + chunk.len() > limit {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                codes::PAYLOAD_TOO_LARGE,
                format!("The {name} part is larger than {} KiB.", limit / 1024),
            ));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.into())
}

pub(crate) fn duplicate(name: &str) -> ApiError {
    ApiError::bad_request(
        codes::DUPLICATE_PART,
        format!("The {name} part was sent more than once; send each part once."),
    )
}

pub(crate) fn store_small(slot: &mut Option<Bytes>, name: &str, value: Bytes) -> Result<()> {
    if slot.is_some() {
        return Err(duplicate(name));
    }
    *slot = Some(value);
    Ok(())
}

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
            (10202), not media (10201), an unreachable or refused mediaUrl (10203/10204/10207), an invalid \
            configuration (10007/10008/10009/10010/10401/10601, 6000x, 5000x) or metadata (10107–10110), \
            an unknown or unusable publicKeyId (95001/95002/95004), searchable with encryption (95005).", body = ErrorEnvelope),
        (status = 413, description = "The media or a small part is over its limit (10800).", body = ErrorEnvelope),
    ),
)]
pub async fn upload(
    caller: Caller,
    State(state): State<AppState>,
    multipart: std::result::Result<Multipart, MultipartRejection>,
) -> Result<Json<Value>> {
    let multipart = multipart.map_err(not_multipart)?;
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

async fn accept(
    caller: &Caller,
    state: &AppState,
    id: MediaId,
    mut multipart: Multipart,
) -> Result<Json<Value>> {
    let mut small = SmallParts::default();
    let mut upload: Option<Upload> = None;
    let mut config_seen: Option<std::result::Result<MediaConfig, InputError>> = None;
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "media" => {
                if upload.is_some() {
                    return Err(duplicate("media"));
                }
                // Plaintext may be stored only once the configuration has said
                // "no encryption"; until then the media is sealed as it streams.
                let plain = matches!(&config_seen, Some(Ok(c)) if c.encryption.is_none());
                upload = Some(receive_media(state, id, field, plain).await?);
            }
            "configuration" => {
                let bytes = read_small(field, "configuration", SMALL_PART).await?;
                config_seen = Some(parse_configuration(&bytes));
                store_small(&mut small.configuration, "configuration", bytes)?;
            }
            "metadata" => store_small(
                &mut small.metadata,
                "metadata",
                read_small(field, "metadata", SMALL_PART).await?,
            )?,
            "mediaUrl" => store_small(
                &mut small.media_url,
                "mediaUrl",
                read_small(field, "mediaUrl", 8 * 1024).await?,
            )?,
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

    let config = match config_seen {
        Some(parsed) => parsed.map_err(input_error)?,
        None => parse_configuration(b"").map_err(input_error)?,
    };
    check_callback_urls(state, &config)?;
    let metadata = match &small.metadata {
        Some(bytes) => Some(parse_metadata(bytes).map_err(input_error)?),
        None => None,
    };

    let mut source = match (upload, &small.media_url) {
        (None, None) => {
            return Err(ApiError::bad_request(
                codes::MEDIA_MISSING,
                "No media: send the recording as a `media` file part, or its address as a `mediaUrl` part.",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                codes::MEDIA_MISSING,
                "Both `media` and `mediaUrl` were sent: send exactly one of them.",
            ));
        }
        (Some(u), None) => Either::Upload(u),
        (None, Some(url)) => {
            let url = std::str::from_utf8(url).map_err(|_| {
                ApiError::bad_request(codes::MEDIA_URL_MALFORMED, "mediaUrl is not UTF-8 text.")
            })?;
            let checked =
                sealscribe_pipeline::check_reachable(state.http(), &state.limits().url_policy, url)
                    .await
                    .map_err(|(code, m)| ApiError::bad_request(code, m))?;
            Either::Url(checked.to_string())
        }
    };

    if let Either::Upload(u) = &mut source {
        let head = std::mem::take(&mut u.head);
        match tokio::task::spawn_blocking(move || sniff::sniff(&head)).await? {
            Verdict::Audio | Verdict::Undecided => {}
            Verdict::NotMedia(why) => {
                return Err(ApiError::bad_request(
                    codes::MEDIA_UNREADABLE,
                    format!(
                        "The media cannot be processed: {why}. Send an audio or video file (WAV, MP3, FLAC, Ogg, Opus, M4A, MP4…)."
                    ),
                ));
            }
        }
    }

    let new = match (&config.encryption, source) {
        (Some(enc), Either::Upload(u)) => {
            encrypted_media(
                state,
                caller,
                id,
                enc.public_key_id,
                u,
                metadata.as_ref(),
                &config,
            )
            .await?
        }
        (Some(_), Either::Url(_)) => {
            return Err(ApiError::bad_request(
                codes::UNSUPPORTED_FEATURE,
                "mediaUrl cannot be combined with encryption yet: upload the file itself as the `media` part.",
            ));
        }
        (None, source) => {
            let source = match source {
                Either::Upload(u) => {
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
                Either::Url(url) => MediaSource::Url(url),
            };
            let metadata_json = metadata
                .as_ref()
                .map(|m| serde_json::to_value(m).map_err(|e| ApiError::internal(e.to_string())))
                .transpose()?;
            NewMedia {
                id,
                account_id: caller.account,
                source,
                configuration: serde_json::to_value(&config)
                    .map_err(|e| ApiError::internal(e.to_string()))?,
                external_id: metadata.as_ref().and_then(|m| m.external_id.clone()),
                metadata: metadata_json,
                searchable: config.searchable,
                tasks: initial_tasks(&config),
                encryption: None,
            }
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
    Ok(Json(document::document(&media)))
}

enum Either {
    Upload(Upload),
    Url(String),
}

/// Streams the media part into the blob store: as is when `plain`, else
/// sealed under a fresh key (`work.sealed`), so that no plaintext reaches
/// storage before the configuration has allowed it.
async fn receive_media(
    state: &AppState,
    id: MediaId,
    mut field: Field<'_>,
    plain: bool,
) -> Result<Upload> {
    let file_name = field.file_name().map(str::to_owned);
    let content_type = field.content_type().map(str::to_owned);
    let limit = state.limits().max_upload_bytes;
    let blob = media_blob(id, if plain { "original" } else { "work.sealed" });
    let mut writer = state.blobs().writer(&blob).await?;
    let mut sealing = if plain {
        None
    } else {
        let key = SealKey::generate();
        let (sealer, header) = Sealer::new(&key);
        writer.write(&header).await?;
        Some((key, sealer))
    };
    let mut head = Vec::new();
    let mut size = 0u64;
    let mut out = Vec::new();
    let received: Result<()> = async {
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            size += chunk.len() as u64;
            if size > limit {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    codes::PAYLOAD_TOO_LARGE,
                    format!("The media is larger than the limit of {limit} bytes."),
                ));
            }
            if head.len() < sniff::HEAD_BYTES {
                let take = (sniff::HEAD_BYTES - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            match &mut sealing {
                Some((_, sealer)) => {
                    out.clear();
                    // AES-GCM over at most a few 64 KiB chunks: let the runtime
                    // move other tasks off this thread meanwhile.
                    tokio::task::block_in_place(|| sealer.push(&chunk, &mut out));
                    writer.write(&out).await?;
                }
                None => writer.write(&chunk).await?,
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = received {
        writer.abort().await;
        return Err(e);
    }
    let sealed = match sealing {
        Some((key, sealer)) => {
            out.clear();
            sealer.finish(&mut out);
            writer.write(&out).await?;
            Some(key)
        }
        None => None,
    };
    writer.finish().await?;
    Ok(Upload {
        file_name,
        content_type,
        size,
        head,
        sealed,
    })
}

/// Turns the sealed copy of a plain upload into its `original` stream.
async fn unseal_original(state: &AppState, id: MediaId, key: &SealKey) -> Result<()> {
    let sealed = media_blob(id, "work.sealed");
    let (mut stream, _, _) = state.blobs().read(&sealed, None).await?;
    let mut writer = state.blobs().writer(&media_blob(id, "original")).await?;
    let mut opener = Opener::new(key);
    let mut out = Vec::new();
    // The local store reads in small pieces: batch them so each trip to the
    // blocking-capable path opens about 1 MiB.
    let mut batch = Vec::with_capacity(1 << 20);
    let copied: Result<()> = async {
        loop {
            // A store outage mid-read is a 503, like any other.
            let next = stream.next().await.transpose()?;
            if let Some(chunk) = &next {
                batch.extend_from_slice(chunk);
            }
            if batch.len() >= 1 << 20 || (next.is_none() && !batch.is_empty()) {
                out.clear();
                tokio::task::block_in_place(|| opener.push(&batch, &mut out))
                    .map_err(|e| ApiError::internal(format!("sealed upload unreadable: {e}")))?;
                batch.clear();
                writer.write(&out).await?;
            }
            if next.is_none() {
                return Ok(());
            }
        }
    }
    .await;
    out.clear();
    let finished = copied.and_then(|()| {
        opener
            .finish(&mut out)
            .map_err(|e| ApiError::internal(format!("sealed upload unreadable: {e}")))
    });
    match finished {
        Ok(()) => {
            writer.write(&out).await?;
            writer.finish().await?;
            state.blobs().delete(&sealed).await?;
            Ok(())
        }
        Err(e) => {
            writer.abort().await;
            Err(e)
        }
    }
}

/// Builds an encrypted media item: the customer's key is resolved and pinned,
/// the upload stays sealed, and metadata and file name are sealed with it.
async fn encrypted_media(
    state: &AppState,
    caller: &Caller,
    id: MediaId,
    public_key_id: uuid::Uuid,
    upload: Upload,
    metadata: Option<&Metadata>,
    config: &MediaConfig,
) -> Result<NewMedia> {
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
    tokio::task::spawn_blocking(move || Recipient::from_bytes(&bytes, Utc::now()))
        .await?
        .map_err(|e| {
            ApiError::bad_request(
                crate::keys::key_error_code(e.kind()),
                format!("The public key {key_id} can no longer be used: {e}"),
            )
        })?;
    let seal_key = upload
        .sealed
        .expect("uploads are sealed unless the configuration allowed plaintext");
    let input = json!({"metadata": metadata, "fileName": upload.file_name});
    let input = serde_json::to_vec(&input).map_err(|e| ApiError::internal(e.to_string()))?;
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
        configuration: serde_json::to_value(config)
            .map_err(|e| ApiError::internal(e.to_string()))?,
        metadata: None,
        external_id: None,
        searchable: false,
        tasks: initial_tasks(config),
        encryption: Some(Encryption {
            info: EncryptionInfo {
                public_key_id: key_id,
                fingerprint: key.fingerprint,
                public_key_hash: key.sha256,
            },
            pinned_key: key.bytes,
            seal_key: Some(seal_key.to_hex()),
            sealed_input: Some(sealed_input),
        }),
    })
}
