//! Reading a multipart request: the small parts into memory with a limit, the media part
//! streamed into the blob store — sealed while it streams unless the configuration has
//! already allowed plaintext.
//!
//! `POST /v3/media` and `POST /v3/media/{id}` read the same kinds of parts with the same
//! limits and the same errors, so both handlers read them through here and keep only what
//! their own call means. Sealing while streaming is what lets the parts come in any order:
//! no plaintext reaches storage before the configuration has said "no encryption", and
//! memory stays flat whatever the media's size.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use futures_util::StreamExt;
use sealscribe_domain::configuration::MediaConfig;
use sealscribe_domain::{MediaId, codes};
use sealscribe_ingress::sniff;
use sealscribe_openpgp::Recipient;
use sealscribe_seal::{CHUNK_SIZE, Opener, SEALED_CHUNK_SIZE, SealKey, Sealer};
use sealscribe_store::media_blob;

use super::encrypting::Encrypting;
use super::multipart::{self, Multipart, Part};
use crate::{ApiError, AppState, Result};

/// Limit for the JSON parts (configuration, metadata).
pub(super) const SMALL_PART: usize = 64 * 1024;

/// Sealed bytes handed to the blob writer at once: 16 sealed chunks (1 MiB of media),
/// sealed straight into a buffer of this size, which the writer takes without a copy
/// (every buffer has this size, so the allocator reuses them).
const SEALED_OUT: usize = 16 * SEALED_CHUNK_SIZE;

/// The request body as multipart parts, under the configured caps; a body
/// that is not multipart/form-data is refused before it is read.
pub(super) fn open(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Multipart> {
    let boundary = multipart::boundary(headers)?;
    Ok(Multipart::new(body, &boundary, state.limits().multipart))
}

/// The next part of `multipart` and its name (empty when it has none).
pub(super) async fn next_part(multipart: &mut Multipart) -> Result<Option<(String, Part<'_>)>> {
    Ok(multipart.next_part().await?.map(|part| {
        let name = part.name().unwrap_or_default().to_owned();
        (name, part)
    }))
}

/// The small parts of a request, as received (each at most once).
#[derive(Default)]
pub(super) struct SmallParts {
    pub configuration: Option<Bytes>,
    pub metadata: Option<Bytes>,
    pub media_url: Option<Bytes>,
    pub transcript: Option<Bytes>,
}

/// Reads a small part whole, refusing more than `limit` bytes.
pub(super) async fn read_small(mut field: Part<'_>, name: &str, limit: usize) -> Result<Bytes> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.chunk().await? {
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

/// A part was sent more than once.
pub(super) fn duplicate(name: &str) -> ApiError {
    ApiError::bad_request(
        codes::DUPLICATE_PART,
        format!("The {name} part was sent more than once; send each part once."),
    )
}

/// Keeps a small part, refusing a second one of the same name.
pub(super) fn store_small(slot: &mut Option<Bytes>, name: &str, value: Bytes) -> Result<()> {
    if slot.is_some() {
        return Err(duplicate(name));
    }
    *slot = Some(value);
    Ok(())
}

/// Reads a small part whole into its slot: [`read_small`], then [`store_small`].
pub(super) async fn read_into(
    slot: &mut Option<Bytes>,
    field: Part<'_>,
    name: &str,
    limit: usize,
) -> Result<()> {
    let value = read_small(field, name, limit).await?;
    store_small(slot, name, value)
}

/// At most `--max-callbacks-per-media` callbacks (each `media` callback sends the
/// whole original, with retries); their URLs must be addresses the operator lets
/// the server call (the resolver re-checks host names at delivery time).
pub(super) fn check_callback_urls(state: &AppState, config: &MediaConfig) -> Result<()> {
    let max = state.limits().max_callbacks;
    if config.callbacks.len() > max {
        return Err(ApiError::bad_request(
            codes::TOO_MANY_CALLBACKS,
            format!(
                "The configuration asks for {} callbacks; at most {max} are allowed per media. \
                 Send fewer `publish.callbacks`, e.g. one that fans out on your side.",
                config.callbacks.len()
            ),
        ));
    }
    for (i, c) in config.callbacks.iter().enumerate() {
        sealscribe_ingress::check_url(
            &format!("`publish.callbacks[{i}].url`"),
            &c.url,
            &state.limits().url_policy,
        )
        .map_err(|m| ApiError::bad_request(codes::CALLBACK_URL_INVALID, m))?;
    }
    Ok(())
}

/// What the media part was.
pub(super) struct Upload {
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub size: u64,
    /// The first bytes, for the media sniff.
    pub head: Vec<u8>,
    /// The key the upload was sealed with, if it was.
    pub sealed: Option<SealKey>,
    /// Whether `original-encrypted` was written as the upload streamed.
    pub encrypted: bool,
}

/// How the media part is kept, decided by what came before it.
pub(super) enum Keep {
    /// As is (`original`): a configuration without encryption came first.
    Plain,
    /// Sealed (`work.sealed`): the configuration is not known yet, or its key is not usable.
    Sealed,
    /// Sealed, and encrypted to the customer's pinned key as it streams
    /// (`original-encrypted`, see [`super::encrypting`]).
    SealedAndEncrypted(Arc<Recipient>),
}

/// Streams the media part into the blob store: as is, or sealed under a fresh key
/// (`work.sealed`) so that no plaintext reaches storage before the configuration has
/// allowed it, and with a pinned key also into `original-encrypted` — one read, two
/// writers. Any error aborts every write.
pub(super) async fn receive_media(
    state: &AppState,
    id: MediaId,
    mut field: Part<'_>,
    keep: Keep,
) -> Result<Upload> {
    let file_name = field.file_name().map(str::to_owned);
    let content_type = field.content_type().map(str::to_owned);
    let limit = state.limits().max_upload_bytes;
    let plain = matches!(keep, Keep::Plain);
    let blob = media_blob(id, if plain { "original" } else { "work.sealed" });
    let mut writer = state.blobs().writer(&blob).await?;
    let mut encrypting = match keep {
        Keep::SealedAndEncrypted(recipient) => {
            match Encrypting::start(state, id, recipient).await {
                Ok(e) => Some(e),
                Err(e) => {
                    writer.abort().await;
                    return Err(e);
                }
            }
        }
        Keep::Plain | Keep::Sealed => None,
    };
    let seal_key = (!plain).then(SealKey::generate);
    let (mut sealer, header) = match &seal_key {
        Some(key) => {
            let (sealer, header) = Sealer::new(key);
            (Some(sealer), header)
        }
        None => (None, Vec::new()),
    };
    let mut head = Vec::new();
    let mut size = 0u64;
    let mut out = Vec::with_capacity(if plain { 0 } else { SEALED_OUT });
    let received: Result<()> = async {
        writer.write(&header).await?;
        while let Some(chunk) = field.chunk().await? {
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
            if let Some(encrypting) = &mut encrypting {
                // Handed to the encryptor's thread first, so both ciphers run at once.
                encrypting.push(&chunk).await?;
            }
            match &mut sealer {
                Some(sealer) => {
                    let mut rest = &chunk[..];
                    while !rest.is_empty() {
                        // What fills `out` at most: the whole chunks that fit, less
                        // what the sealer holds already.
                        let fit = (SEALED_OUT - out.len()) / SEALED_CHUNK_SIZE * CHUNK_SIZE
                            - sealer.buffered();
                        let (now, later) = rest.split_at(fit.min(rest.len()));
                        rest = later;
                        // AES-GCM over at most a few 64 KiB chunks: let the runtime
                        // move other tasks off this thread meanwhile.
                        tokio::task::block_in_place(|| sealer.push(now, &mut out));
                        if out.len() + SEALED_CHUNK_SIZE > SEALED_OUT {
                            let full = std::mem::replace(&mut out, Vec::with_capacity(SEALED_OUT));
                            writer.put(full.into()).await?;
                        }
                    }
                }
                None => writer.write(&chunk).await?,
            }
        }
        if let Some(sealer) = sealer.take() {
            sealer.finish(&mut out);
            writer.put(std::mem::take(&mut out).into()).await?;
        }
        Ok(())
    }
    .await;
    let finished = match (received, encrypting) {
        (Ok(()), Some(e)) => e.finish().await.map(|_| true),
        (Ok(()), None) => Ok(false),
        (Err(err), Some(e)) => {
            e.abort().await;
            Err(err)
        }
        (Err(err), None) => Err(err),
    };
    let encrypted = match finished {
        Ok(encrypted) => encrypted,
        Err(e) => {
            writer.abort().await;
            return Err(e);
        }
    };
    // `original-encrypted`, if written, is visible now; the caller deletes the media's
    // blobs if this last step fails, as for any rejection.
    writer.finish().await?;
    Ok(Upload {
        file_name,
        content_type,
        size,
        head,
        sealed: seal_key,
        encrypted,
    })
}

/// Turns the sealed copy of a plain upload into its `original` stream.
pub(super) async fn unseal_original(state: &AppState, id: MediaId, key: &SealKey) -> Result<()> {
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
