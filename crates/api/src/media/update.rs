//! Writes: metadata, deletion, reprocessing and alignment.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use sealscribe_domain::codes;
use sealscribe_domain::configuration::{
    MediaConfig, Metadata, parse_configuration, parse_metadata,
};
use sealscribe_domain::media::{IndexEntry, MediaRecord, MediaStatus, initial_tasks};
use sealscribe_store::media_prefix;
use sealscribe_transcript::Transcript;
use serde_json::Value;

use super::intake::{SMALL_PART, SmallParts, check_callback_urls, next_part, open, read_into};
use super::multipart::Multipart;
use sealscribe_domain::document;

use super::{load, not_found};
use crate::auth::Caller;
use crate::extract::Path;
use crate::schemas;
use crate::schemas::{ErrorEnvelope, MediaDocument, MetadataDocument, Reprocess};
use crate::{ApiError, AppState, Result};

/// What the search index should hold for `m` with this metadata and transcript,
/// or `None` when it must not be indexed (not searchable, or not finished).
/// A stored transcript that cannot be read is an error, not an empty entry.
/// The values of the account's searchable extended fields (`/v3/definition/media/search`)
/// are read now, so a metadata change or an alignment indexes the fields searchable today.
async fn index_entry(
    state: &AppState,
    m: &MediaRecord,
    metadata: Option<&Value>,
    transcript: Option<&Transcript>,
) -> Result<Option<IndexEntry>> {
    if !m.searchable || m.status != MediaStatus::Finished {
        return Ok(None);
    }
    let stored;
    let transcript = match transcript {
        Some(t) => t,
        None => {
            stored = m.read_transcript()?.unwrap_or_default();
            &stored
        }
    };
    let fields = sealscribe_store::searchable_fields(state.db(), m.account_id).await?;
    Ok(Some(
        IndexEntry::new(metadata, transcript).with_extended(&fields, metadata),
    ))
}

/// `PUT /v3/media/{id}/metadata`: replaces the metadata.
#[utoipa::path(
    put,
    path = "/v3/media/{id}/metadata",
    tag = "media",
    operation_id = "putMediaMetadata",
    params(("id" = String, Path, description = super::ID_DESCRIPTION)),
    request_body(description = "The new metadata (replaces the old), at most 64 KiB.", content = schemas::Metadata, content_type = "application/json"),
    responses(
        (status = 200, description = "The metadata now stored.", body = MetadataDocument),
        (status = 400, description = "Invalid metadata (10008, 10107–10110).", body = ErrorEnvelope),
        (status = 404, description = "No such media (10205), or encrypted media (95003).", body = ErrorEnvelope),
        (status = 413, description = "Over 64 KiB (10800).", body = ErrorEnvelope),
    ),
)]
pub async fn put_metadata(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<Value>> {
    let m = load(&state, &caller, &id).await?;
    if m.encryption.is_some() {
        return Err(super::read::encrypted("metadata"));
    }
    let bytes = axum::body::to_bytes(
        body,
        sealscribe_domain::configuration::MAX_METADATA_BYTES + 1,
    )
    .await
    .map_err(|e| {
        // Over the server's body cap, or stalled: their own envelopes.
        if let Some(limit) = crate::limits::BodyError::find(&e) {
            return limit.to_api_error();
        }
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::PAYLOAD_TOO_LARGE,
            "The metadata is larger than 64 KiB.",
        )
    })?;
    let metadata: Metadata = parse_metadata(&bytes)?;
    let value = serde_json::to_value(&metadata)?;
    let index = index_entry(&state, &m, Some(&value), None).await?;
    if !state
        .db()
        .set_metadata(
            caller.account,
            m.id,
            &value,
            metadata.external_id.as_deref(),
            index.as_ref(),
        )
        .await?
    {
        return Err(not_found(&id));
    }
    let m = load(&state, &caller, &id).await?;
    Ok(Json(super::read::metadata_document(&m)))
}

/// `DELETE /v3/media/{id}`: the media, its streams, transcript, index entry and
/// jobs. A job running at the time notices at its next lease renewal, stops,
/// and removes anything it wrote afterwards.
#[utoipa::path(
    delete,
    path = "/v3/media/{id}",
    tag = "media",
    operation_id = "deleteMedia",
    params(("id" = String, Path, description = super::ID_DESCRIPTION)),
    responses(
        (status = 204, description = "The media, its streams, transcript, index entry and jobs are gone."),
        (status = 404, description = "No such media (10205).", body = ErrorEnvelope),
    ),
)]
pub async fn delete(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let m = load(&state, &caller, &id).await?;
    if !state.db().delete_media(caller.account, m.id).await? {
        return Err(not_found(&id));
    }
    state.blobs().delete_prefix(&media_prefix(m.id)).await?;
    tracing::info!(media_id = %m.id, "media deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v3/media/{id}`: with a `transcript` part, aligns that text to the
/// recognised audio; otherwise reprocesses with the given `configuration`.
#[utoipa::path(
    post,
    path = "/v3/media/{id}",
    tag = "media",
    operation_id = "reprocessMedia",
    params(("id" = String, Path, description = super::ID_DESCRIPTION)),
    request_body(
        description = "`configuration` to reprocess with and, to align, `transcript`.",
        content(
            (Reprocess = "multipart/form-data", encoding(
                ("configuration" = (content_type = "application/json")),
                ("transcript" = (content_type = "text/plain")),
            )),
        ),
    ),
    responses(
        (status = 200, description = "Queued for reprocessing, or aligned.", body = MediaDocument),
        (status = 400, description = "Not multipart, an unknown part, an invalid configuration (an unknown category: \
            16101; a keyword group that is not defined or has no keywords: 40005/40006; vocabularies: 20006–20017, 20101), more callbacks than the server allows (60012), or a multipart preamble, part header or part count over the server's caps \
            (10802/10803/10804).", body = ErrorEnvelope),
        (status = 408, description = "The body stalled longer than the server's body idle timeout (10805).", body = ErrorEnvelope),
        (status = 404, description = "No such media (10205).", body = ErrorEnvelope),
        (status = 409, description = "Encrypted media (95003), still processing, or not finished (10301) for alignment.", body = ErrorEnvelope),
        (status = 413, description = "A part is over its limit (10800), or the whole body is over the server's cap (10801).", body = ErrorEnvelope),
    ),
)]
pub async fn reprocess(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>> {
    let m = load(&state, &caller, &id).await?;
    // What the media is decides before what the request carries: encrypted
    // media is a 409 whatever the body.
    if m.encryption.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            codes::ENCRYPTED_MEDIA,
            "This media is encrypted to your OpenPGP key: sealscribe no longer holds its audio or \
             transcript in clear, so it cannot be reprocessed or aligned. Upload it again instead.",
        ));
    }
    let parts = reprocess_parts(open(&state, &headers, body)?).await?;
    let config = parse_configuration(parts.configuration.as_deref().unwrap_or_default())?;
    let mut config = crate::categories::resolve(&state, caller.account, config).await?;
    crate::vocabularies::resolve(&state, caller.account, &mut config).await?;
    check_callback_urls(&state, &config)?;
    crate::spotting::resolve(&state, &caller, &mut config).await?;
    if config.encryption.is_some() {
        return Err(ApiError::bad_request(
            codes::UNSUPPORTED_FEATURE,
            "`encryption` is not available in this build yet.",
        ));
    }
    match parts.transcript {
        Some(text) => align(&state, &caller, &m, &text).await?,
        None => requeue(&state, &caller, &m, &config).await?,
    }
    let m = load(&state, &caller, &id).await?;
    Ok(Json(document::document(&m)?))
}

/// Reads the parts of a reprocessing request: `configuration` and `transcript`.
async fn reprocess_parts(mut multipart: Multipart) -> Result<SmallParts> {
    let mut parts = SmallParts::default();
    while let Some((name, field)) = next_part(&mut multipart).await? {
        match name.as_str() {
            "configuration" => {
                read_into(&mut parts.configuration, field, "configuration", SMALL_PART).await?;
            }
            "transcript" => {
                read_into(&mut parts.transcript, field, "transcript", 4 * 1024 * 1024).await?;
            }
            "media" | "mediaUrl" => {
                return Err(ApiError::bad_request(
                    codes::INVALID_REQUEST,
                    "Reprocessing uses the media already uploaded: send only configuration and, to align, transcript.",
                ));
            }
            "metadata" => {
                return Err(ApiError::bad_request(
                    codes::INVALID_REQUEST,
                    "Change metadata with PUT /v3/media/{id}/metadata.",
                ));
            }
            other => {
                return Err(ApiError::bad_request(
                    codes::INVALID_REQUEST,
                    format!(
                        "Unknown part {other:?}: send configuration and, to align, transcript."
                    ),
                ));
            }
        }
    }
    Ok(parts)
}

/// Aligns a human transcript to the recognised words of finished media and stores it.
async fn align(state: &AppState, caller: &Caller, m: &MediaRecord, text: &[u8]) -> Result<()> {
    let text = String::from_utf8(text.to_vec())
        .ok()
        // NUL is no text (and PostgreSQL cannot store it in the search index).
        .filter(|t| !t.contains('\0'))
        .ok_or_else(|| {
            ApiError::bad_request(
                codes::INVALID_REQUEST,
                "The transcript part must be UTF-8 plain text, without NUL characters.",
            )
        })?;
    if m.status != MediaStatus::Finished {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            codes::TRANSCRIPT_NOT_READY,
            format!(
                "Alignment needs the recognised audio; the media is {}. Retry once it is finished.",
                m.status.as_str()
            ),
        ));
    }
    let recognised: Transcript = match m.read_recognised()? {
        Some(t) => t,
        None => m.read_transcript()?.unwrap_or_default(),
    };
    // The customer's own words, but the media's profanity filter still holds: no rendition
    // or index entry may contain a listed word (docs/knowledge.md).
    let mask = m.config()?.profanity_filtering;
    let aligned = tokio::task::spawn_blocking(move || {
        let aligned = sealscribe_transcript::align(&recognised, &text);
        if mask {
            sealscribe_transcript::profanity::mask_profanity(&aligned)
        } else {
            aligned
        }
    })
    .await?;
    let value = serde_json::to_value(&aligned)?;
    let index = index_entry(state, m, m.metadata.as_ref(), Some(&aligned)).await?;
    if !state
        .db()
        .set_transcript(caller.account, m.id, &value, index.as_ref())
        .await?
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            codes::INVALID_REQUEST,
            "The media changed while aligning; retry.",
        ));
    }
    tracing::info!(media_id = %m.id, "transcript aligned");
    Ok(())
}

/// Queues finished or failed media for processing again with `config`.
async fn requeue(
    state: &AppState,
    caller: &Caller,
    m: &MediaRecord,
    config: &MediaConfig,
) -> Result<()> {
    let value = serde_json::to_value(config)?;
    if !state
        .db()
        .requeue_media(
            caller.account,
            m.id,
            &value,
            config.searchable,
            &initial_tasks(config),
        )
        .await?
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            codes::INVALID_REQUEST,
            "The media is still being processed; reprocess it once it is finished or failed.",
        ));
    }
    state.job_queued();
    tracing::info!(media_id = %m.id, "media queued for reprocessing");
    Ok(())
}
