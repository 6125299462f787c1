//! `POST /v3/media`: multipart upload, streamed to the blob store.
//!
//! Parts may arrive in any order. The `media` part is written to the blob
//! store as it arrives (memory stays flat whatever its size); the small parts
//! are read into memory with a limit. Only when every part is in and valid are
//! the media row and its job created, in one transaction; any failure before
//! that deletes what was written, so a rejected request leaves nothing behind.

use axum::Json;
use axum::extract::State;
use axum::extract::multipart::{Field, Multipart, MultipartError};
use axum::http::StatusCode;
use bytes::Bytes;
use sealscribe_domain::configuration::{InputError, parse_configuration, parse_metadata};
use sealscribe_domain::media::{MediaSource, MediaStatus, initial_tasks};
use sealscribe_domain::{MediaId, codes};
use sealscribe_pipeline::sniff::{self, Verdict};
use sealscribe_store::{NewMedia, media_blob, media_prefix};
use serde_json::Value;

use super::document;
use crate::auth::Caller;
use crate::{ApiError, AppState, Result};

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

pub async fn upload(
    caller: Caller,
    State(state): State<AppState>,
    multipart: Multipart,
) -> Result<Json<Value>> {
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
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "media" => {
                if upload.is_some() {
                    return Err(duplicate("media"));
                }
                upload = Some(receive_media(state, id, field).await?);
            }
            "configuration" => store_small(
                &mut small.configuration,
                "configuration",
                read_small(field, "configuration", SMALL_PART).await?,
            )?,
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

    let config = parse_configuration(small.configuration.as_deref().unwrap_or_default())
        .map_err(input_error)?;
    if config.encryption.is_some() {
        return Err(ApiError::bad_request(
            codes::UNSUPPORTED_FEATURE,
            "`encryption` (Client Supplied Encryption) is not available in this build yet; remove it to process the media unencrypted.",
        ));
    }
    let metadata = match &small.metadata {
        Some(bytes) => Some(parse_metadata(bytes).map_err(input_error)?),
        None => None,
    };

    let source = match (upload, &small.media_url) {
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

    let source = match source {
        Either::Upload(u) => {
            let head = u.head;
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
    let new = NewMedia {
        id,
        account_id: caller.account,
        source,
        configuration: serde_json::to_value(&config)
            .map_err(|e| ApiError::internal(e.to_string()))?,
        external_id: metadata.as_ref().and_then(|m| m.external_id.clone()),
        metadata: metadata_json,
        searchable: config.searchable,
        tasks: initial_tasks(),
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
    media.tasks = initial_tasks();
    state.job_queued();
    Ok(Json(document::document(&media)))
}

enum Either {
    Upload(Upload),
    Url(String),
}

/// Streams the media part into the blob store.
async fn receive_media(state: &AppState, id: MediaId, mut field: Field<'_>) -> Result<Upload> {
    let file_name = field.file_name().map(str::to_owned);
    let content_type = field.content_type().map(str::to_owned);
    let limit = state.limits().max_upload_bytes;
    let mut writer = state.blobs().writer(&media_blob(id, "original")).await?;
    let mut head = Vec::new();
    let received: Result<()> = async {
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            if writer.written() + chunk.len() as u64 > limit {
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
            writer.write(&chunk).await?;
        }
        Ok(())
    }
    .await;
    match received {
        Ok(()) => {
            let size = writer.finish().await?;
            Ok(Upload {
                file_name,
                content_type,
                size,
                head,
            })
        }
        Err(e) => {
            writer.abort().await;
            Err(e)
        }
    }
}
