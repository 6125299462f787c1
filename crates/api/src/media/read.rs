//! Reads: the media document, progress, transcript renditions, streams, metadata.

use axum::Json;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use sealscribe_domain::codes;
use sealscribe_domain::media::{MediaRecord, MediaStatus};
use sealscribe_store::media_blob;
use sealscribe_transcript::{AlternateFormat, Rendition as Plain, Transcript};
use serde_json::{Value, json};

use sealscribe_domain::document;

use super::load;
use crate::auth::Caller;
use crate::extract::Path;
use crate::schemas;
use crate::schemas::{
    ErrorEnvelope, MediaDocument, MetadataDocument, Progress, ProgressDetail, SelfLinks, StreamList,
};
use crate::{ApiError, AppState, Result};

/// The content type of OpenPGP messages sealscribe serves.
pub const PGP_ENCRYPTED: &str = "application/pgp-encrypted";

/// 404 / 95003: what an encrypted media item does not offer in clear.
pub(crate) fn encrypted(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        codes::ENCRYPTED_MEDIA,
        format!(
            "This media is encrypted to your OpenPGP key, so its {what} is not available in clear. \
             Fetch the whole document encrypted with GET /v3/media/{{id}} and `Accept: {PGP_ENCRYPTED}`, \
             then decrypt it with `gpg --decrypt`."
        ),
    )
}

fn wants_pgp(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| {
            a.split(',').any(|m| {
                m.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .eq_ignore_ascii_case(PGP_ENCRYPTED)
            })
        })
}

/// `GET /v3/media/{id}`: the document; for encrypted media with
/// `Accept: application/pgp-encrypted`, the full document as one OpenPGP
/// message to the customer's key.
#[utoipa::path(
    get,
    path = "/v3/media/{id}",
    tag = "media",
    operation_id = "getMedia",
    params(
        ("id" = String, Path, description = super::ID_DESCRIPTION),
        ("includeAlternateFormat" = Option<Vec<schemas::AlternateFormatName>>, Query, explode, description = INCLUDE_ALTERNATE_FORMAT),
    ),
    responses(
        (status = 200, description = "The media document; with `Accept: application/pgp-encrypted` on finished \
            encrypted media, the full document as one OpenPGP message to the customer's key.",
            content((MediaDocument = "application/json"), (Vec<u8> = "application/pgp-encrypted"))),
        (status = 400, description = "An `includeAlternateFormat` value that is not a format (10001).", body = ErrorEnvelope),
        (status = 404, description = "No such media (10205); the encrypted document before processing finished (10301).", body = ErrorEnvelope),
    ),
)]
pub async fn document(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    let alternates = alternate_formats(query.as_deref())?;
    let media = load(&state, &caller, &id).await?;
    if media.encryption.is_some() && wants_pgp(&headers) {
        if media.status != MediaStatus::Finished {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                codes::TRANSCRIPT_NOT_READY,
                format!(
                    "The encrypted document is available once processing has finished; the media is {}.",
                    media.status.as_str()
                ),
            ));
        }
        return serve_blob(
            &state,
            &media_blob(media.id, "document.pgp"),
            PGP_ENCRYPTED,
            None,
        )
        .await;
    }
    let mut doc = document::document(&media)?;
    // Only a document that shows its transcript (finished, not encrypted) carries renditions of it.
    if !alternates.is_empty()
        && let Some(transcript) = doc.get("transcript").filter(|t| t.is_object()).cloned()
    {
        doc["transcript"]["alternateFormats"] =
            alternate_entries(transcript, alternates, language(&media)?).await?;
    }
    Ok(Json(doc).into_response())
}

/// The description of the `includeAlternateFormat` query parameter.
const INCLUDE_ALTERNATE_FORMAT: &str = "Adds `alternateFormats[]` (`{format, contentType, \
    contentEncoding: \"Base64\", charset: \"utf-8\", data}`, `data` the base64 of the rendition) to the \
    JSON transcript: `text`, `srt`, `dfxp`, `webvtt`, repeated or comma-separated. Only a transcript \
    that is shown gets them (not before `finished`, not in clear for encrypted media).";

/// `GET /v3/media/{id}/progress`.
#[utoipa::path(
    get,
    path = "/v3/media/{id}/progress",
    tag = "media",
    operation_id = "getMediaProgress",
    params(("id" = String, Path, description = super::ID_DESCRIPTION)),
    responses(
        (status = 200, description = "Status and pipeline tasks (also for encrypted media).", body = Progress),
        (status = 404, description = "No such media (10205).", body = ErrorEnvelope),
    ),
)]
pub async fn progress(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Progress>> {
    let m = load(&state, &caller, &id).await?;
    Ok(Json(Progress {
        links: SelfLinks::to(format!("{}/progress", document::href(&m))),
        media_id: m.id,
        status: m.status.as_str(),
        progress: ProgressDetail {
            status: m.status.as_str(),
            tasks: m.tasks,
            errors: m.failure.map(|f| vec![f]),
        },
    }))
}

/// The renditions of a transcript: the stored JSON, or a plain one rendered from it.
#[derive(Clone, Copy)]
enum Rendition {
    Json,
    Plain(Plain),
}

impl Rendition {
    fn from_path(format: &str) -> Option<Self> {
        match format {
            "json" => Some(Self::Json),
            "vtt" => Some(Self::Plain(Plain::WebVtt)),
            other => Plain::from_name(other).map(Self::Plain),
        }
    }

    /// From the `Accept` header; JSON unless a plain rendition is asked for.
    fn from_accept(headers: &HeaderMap) -> Self {
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mut best = Self::Json;
        for item in accept.split(',') {
            let mime = item
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            match mime.as_str() {
                "application/json" => return Self::Json,
                "text/plain" => return Self::Plain(Plain::Text),
                "text/srt" | "application/x-subrip" => return Self::Plain(Plain::Srt),
                "text/vtt" => return Self::Plain(Plain::WebVtt),
                "application/ttml+xml" | "application/ttaf+xml" => {
                    return Self::Plain(Plain::Dfxp);
                }
                _ => best = Self::Json,
            }
        }
        best
    }
}

/// The `Content-Type` a plain rendition is served with. DFXP is served as the registered
/// `application/ttml+xml` (what the v3 spec's DFXP operation produces); `alternateFormats[]`
/// and callbacks label it `application/ttaf+xml` as the v3 documentation does.
fn served_content_type(r: Plain) -> &'static str {
    match r {
        Plain::Text => "text/plain; charset=utf-8",
        Plain::Srt => "text/srt; charset=utf-8",
        Plain::Dfxp => "application/ttml+xml; charset=utf-8",
        Plain::WebVtt => "text/vtt; charset=utf-8",
    }
}

/// The values `includeAlternateFormat` accepts, for messages.
const ALTERNATE_FORMATS: &str = "text, srt, dfxp or webvtt";

/// `includeAlternateFormat` (analytics reference §7): the renditions to add as
/// `alternateFormats[]`, in the order first asked, each once. v3's spec declares a
/// comma-separated list and its documentation repeats the parameter; both are accepted, also
/// mixed. Other query parameters are left alone, as before.
fn alternate_formats(raw: Option<&str>) -> Result<Vec<Plain>> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw.unwrap_or("")).map_err(|e| {
            ApiError::bad_request(
                codes::INVALID_REQUEST,
                format!("The query string cannot be read ({e}); percent-encode its values."),
            )
        })?;
    let mut out = Vec::new();
    for (_, value) in pairs.iter().filter(|(k, _)| k == "includeAlternateFormat") {
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let r = Plain::from_name(&name.to_ascii_lowercase()).ok_or_else(|| {
                let shown: String = name.chars().take(32).collect();
                ApiError::bad_request(
                    codes::INVALID_REQUEST,
                    format!(
                        "includeAlternateFormat {shown:?} is not a transcript format; use \
                         {ALTERNATE_FORMATS} (repeat the parameter, or separate values with commas)."
                    ),
                )
            })?;
            if !out.contains(&r) {
                out.push(r);
            }
        }
    }
    Ok(out)
}

/// The language of the media, for DFXP's `xml:lang`.
fn language(m: &MediaRecord) -> Result<String> {
    Ok(m.config()?.language)
}

/// The `alternateFormats[]` entries of a stored transcript, rendered on the blocking pool (a
/// long call's captions take a while to lay out).
async fn alternate_entries(transcript: Value, formats: Vec<Plain>, lang: String) -> Result<Value> {
    tokio::task::spawn_blocking(move || {
        let t: Transcript = serde_json::from_value(transcript)
            .map_err(|e| ApiError::internal(format!("stored transcript unreadable: {e}")))?;
        let entries: Vec<AlternateFormat> = formats
            .into_iter()
            .map(|r| t.alternate_format(r, Some(&lang)))
            .collect();
        serde_json::to_value(entries)
            .map_err(|e| ApiError::internal(format!("alternateFormats: {e}")))
    })
    .await?
}

/// The stored v3 transcript document of a finished media item.
fn finished_document(m: &MediaRecord) -> Result<Value> {
    if m.encryption.is_some() {
        return Err(encrypted("transcript"));
    }
    if m.status != MediaStatus::Finished {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            codes::TRANSCRIPT_NOT_READY,
            format!(
                "The transcript is available once processing has finished; the media is {}.",
                m.status.as_str()
            ),
        ));
    }
    Ok(m.transcript
        .clone()
        .unwrap_or_else(|| json!({"confidence": 0.0, "words": []})))
}

/// JSON is served as stored (so it is identical to the document's copy), with the
/// `alternateFormats` asked for at its top level; the plain renditions are rendered from it
/// on the blocking pool.
async fn render(m: &MediaRecord, r: Rendition, alternates: Vec<Plain>) -> Result<Response> {
    let mut document = finished_document(m)?;
    let plain = match r {
        Rendition::Json => {
            if !alternates.is_empty() {
                document["alternateFormats"] =
                    alternate_entries(document.clone(), alternates, language(m)?).await?;
            }
            return Ok(Json(document).into_response());
        }
        Rendition::Plain(plain) => plain,
    };
    // Only DFXP needs the language (from the stored configuration).
    let lang = match plain {
        Plain::Dfxp => language(m)?,
        _ => String::new(),
    };
    let body = tokio::task::spawn_blocking(move || {
        let t: Transcript = serde_json::from_value(document)
            .map_err(|e| ApiError::internal(format!("stored transcript unreadable: {e}")))?;
        Ok::<_, ApiError>(t.render(plain, Some(&lang)))
    })
    .await??;
    Ok(([(header::CONTENT_TYPE, served_content_type(plain))], body).into_response())
}

/// The 200 responses of the transcript operations.
const TRANSCRIPT_OK: &str = "The transcript: JSON (with `alternateFormats` when asked for), or the plain \
    text, SubRip, WebVTT or DFXP (TTML) rendition.";

/// `GET /v3/media/{id}/transcript`, rendition chosen by `Accept`.
#[utoipa::path(
    get,
    path = "/v3/media/{id}/transcript",
    tag = "media",
    operation_id = "getTranscript",
    description = "The rendition follows `Accept`: `text/plain`, `text/srt` (or `application/x-subrip`), \
        `text/vtt`, `application/ttml+xml` (or `application/ttaf+xml`) for DFXP; JSON otherwise. \
        Available once the media is finished; multi-speaker transcripts label each turn `Name: `.",
    params(
        ("id" = String, Path, description = super::ID_DESCRIPTION),
        ("includeAlternateFormat" = Option<Vec<schemas::AlternateFormatName>>, Query, explode, description = INCLUDE_ALTERNATE_FORMAT),
    ),
    responses(
        (status = 200, description = TRANSCRIPT_OK,
            content((schemas::TranscriptWithAlternates = "application/json"), (String = "text/plain"), (String = "text/srt"), (String = "text/vtt"), (String = "application/ttml+xml"))),
        (status = 400, description = "An `includeAlternateFormat` value that is not a format (10001).", body = ErrorEnvelope),
        (status = 404, description = "No such media (10205) or format, not finished yet (10301), or encrypted media (95003).", body = ErrorEnvelope),
    ),
)]
pub async fn transcript(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    let alternates = alternate_formats(query.as_deref())?;
    let m = load(&state, &caller, &id).await?;
    render(&m, Rendition::from_accept(&headers), alternates).await
}

/// `GET /v3/media/{id}/transcript/{text|srt|webvtt|dfxp|json}`.
#[utoipa::path(
    get,
    path = "/v3/media/{id}/transcript/{format}",
    tag = "media",
    operation_id = "getTranscriptAs",
    params(
        ("id" = String, Path, description = super::ID_DESCRIPTION),
        ("format" = String, Path, description = "`json`, `text`, `srt`, `webvtt` (or `vtt`), `dfxp`."),
        ("includeAlternateFormat" = Option<Vec<schemas::AlternateFormatName>>, Query, explode, description = INCLUDE_ALTERNATE_FORMAT),
    ),
    responses(
        (status = 200, description = TRANSCRIPT_OK,
            content((schemas::TranscriptWithAlternates = "application/json"), (String = "text/plain"), (String = "text/srt"), (String = "text/vtt"), (String = "application/ttml+xml"))),
        (status = 400, description = "An `includeAlternateFormat` value that is not a format (10001).", body = ErrorEnvelope),
        (status = 404, description = "No such media (10205) or format, not finished yet (10301), or encrypted media (95003).", body = ErrorEnvelope),
    ),
)]
pub async fn transcript_as(
    caller: Caller,
    State(state): State<AppState>,
    Path((id, format)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response> {
    let alternates = alternate_formats(query.as_deref())?;
    let m = load(&state, &caller, &id).await?;
    let rendition = Rendition::from_path(&format).ok_or_else(|| {
        ApiError::not_found(format!(
            "Unknown transcript format {format:?}: use json, text, srt, webvtt or dfxp."
        ))
    })?;
    render(&m, rendition, alternates).await
}

/// `GET /v3/media/{id}/streams`.
#[utoipa::path(
    get,
    path = "/v3/media/{id}/streams",
    tag = "media",
    operation_id = "listStreams",
    params(("id" = String, Path, description = super::ID_DESCRIPTION)),
    responses(
        (status = 200, description = "The media's streams: `original` (and `redacted`), or only `-encrypted` ones for encrypted media.", body = StreamList),
        (status = 404, description = "No such media (10205).", body = ErrorEnvelope),
    ),
)]
pub async fn streams(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<StreamList>> {
    let m = load(&state, &caller, &id).await?;
    Ok(Json(StreamList {
        links: SelfLinks::to(format!("{}/streams", document::href(&m))),
        streams: document::streams(&m)?,
    }))
}

/// A single `bytes=` range, resolved against the object size. `Ok(None)`
/// means "serve everything" (no header, several ranges, or a syntax we ignore
/// as RFC 9110 allows); `Err` means unsatisfiable.
fn parse_range(
    headers: &HeaderMap,
    size: u64,
) -> std::result::Result<Option<std::ops::Range<u64>>, ()> {
    let Some(spec) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Some(spec) = spec.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let range = match (a.parse::<u64>(), b.parse::<u64>()) {
        // `end` may be anything up to u64::MAX (RFC 9110: clamped to the size).
        (Ok(start), Ok(end)) if start <= end => start..end.saturating_add(1).min(size),
        (Ok(start), Err(_)) if b.is_empty() => start..size,
        (Err(_), Ok(suffix)) if a.is_empty() => size.saturating_sub(suffix)..size,
        _ => return Ok(None),
    };
    if range.start >= size || range.is_empty() {
        Err(())
    } else {
        Ok(Some(range))
    }
}

/// `GET /v3/media/{id}/streams/{name}`: the bytes, with `Range` support.
#[utoipa::path(
    get,
    path = "/v3/media/{id}/streams/{name}",
    tag = "media",
    operation_id = "getStream",
    params(
        ("id" = String, Path, description = super::ID_DESCRIPTION),
        ("name" = String, Path, description = "A `streamName` from the streams list (`redacted-audio` is accepted for `redacted`)."),
        ("Range" = Option<String>, Header, description = "One `bytes=` range; several ranges, or other units, get the whole stream."),
    ),
    responses(
        (status = 200, description = "The bytes, with the media's content type (`application/pgp-encrypted` for encrypted media).",
            content((Vec<u8> = "*/*")),
            headers(("Accept-Ranges" = String), ("Content-Length" = u64))),
        (status = 206, description = "The requested range.", content((Vec<u8> = "*/*")),
            headers(("Content-Range" = String, description = "`bytes first-last/total`"))),
        (status = 302, description = "Where the blob store is S3: a short-lived pre-signed URL that serves the bytes (and Range).",
            headers(("Location" = String))),
        (status = 404, description = "No such media (10205) or stream, or not produced yet.", body = ErrorEnvelope),
        (status = 416, description = "The range starts beyond the stream (`Content-Range: bytes */size`).", body = ErrorEnvelope),
    ),
)]
pub async fn stream(
    caller: Caller,
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response> {
    let m = load(&state, &caller, &id).await?;
    let Some(blob) = document::stream_blob(&m, &name)? else {
        return Err(ApiError::not_found(format!(
            "Media {id} has no stream named {name:?}; GET …/streams lists them."
        )));
    };
    let content_type = match blob {
        _ if m.encryption.is_some() => PGP_ENCRYPTED.to_owned(),
        // Redaction writes WAV, whatever the original's format.
        "redacted" => "audio/wav".to_owned(),
        // The client's declared type, only when it says audio or video: anything
        // else (text/html…) is served as bytes.
        _ => m
            .content_type
            .clone()
            .filter(|t| {
                let t = t.to_ascii_lowercase();
                (t.starts_with("audio/") || t.starts_with("video/"))
                    && t.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
            })
            .unwrap_or_else(|| "application/octet-stream".into()),
    };
    if let Some(ttl) = state.limits().stream_redirect
        && let Some(url) = state
            .blobs()
            .presigned_get(&media_blob(m.id, blob), ttl)
            .await?
    {
        // The bucket serves the bytes (and Range) itself.
        let mut response = StatusCode::FOUND.into_response();
        response.headers_mut().insert(
            header::LOCATION,
            HeaderValue::from_str(url.as_str())
                .map_err(|e| ApiError::internal(format!("pre-signed URL: {e}")))?,
        );
        return Ok(response);
    }
    serve_blob(
        &state,
        &media_blob(m.id, blob),
        &content_type,
        Some(&headers),
    )
    .await
}

/// Streams a blob, honouring `Range` when `headers` are given.
async fn serve_blob(
    state: &AppState,
    key: &sealscribe_store::BlobKey,
    content_type: &str,
    headers: Option<&HeaderMap>,
) -> Result<Response> {
    let size = match state.blobs().size(key).await {
        Ok(size) => size,
        Err(sealscribe_store::StoreError::NotFound) => {
            return Err(ApiError::not_found(
                "This stream is not available yet: processing has not produced it.",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let range = match headers.map(|h| parse_range(h, size)).unwrap_or(Ok(None)) {
        Ok(r) => r,
        Err(()) => {
            let mut response = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                codes::INVALID_REQUEST,
                format!("The requested range is outside the stream, which is {size} bytes long."),
            )
            .into_response();
            response.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{size}")).expect("valid header"),
            );
            return Ok(response);
        }
    };
    let partial = range.is_some();
    let (body, served, total) = state.blobs().read(key, range).await?;
    let mut response = Response::new(Body::from_stream(body.map_err(std::io::Error::other)));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    // Customer bytes: never rendered or sniffed by a browser, always a download.
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment"),
    );
    h.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(served.end - served.start),
    );
    if partial {
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        let value = format!("bytes {}-{}/{total}", served.start, served.end - 1);
        response.headers_mut().insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&value).expect("valid header"),
        );
    }
    Ok(response)
}

/// `GET /v3/media/{id}/metadata`.
#[utoipa::path(
    get,
    path = "/v3/media/{id}/metadata",
    tag = "media",
    operation_id = "getMediaMetadata",
    params(("id" = String, Path, description = super::ID_DESCRIPTION)),
    responses(
        (status = 200, description = "The metadata.", body = MetadataDocument),
        (status = 404, description = "No such media (10205), or encrypted media (95003).", body = ErrorEnvelope),
    ),
)]
pub async fn metadata(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let m = load(&state, &caller, &id).await?;
    if m.encryption.is_some() {
        return Err(encrypted("metadata"));
    }
    Ok(Json(metadata_document(&m)))
}

pub(crate) fn metadata_document(m: &MediaRecord) -> Value {
    let mut doc = m.metadata.clone().unwrap_or_else(|| json!({}));
    if let Some(obj) = doc.as_object_mut() {
        obj.insert(
            "_links".into(),
            json!({"self": {"href": format!("{}/metadata", document::href(m))}}),
        );
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(h: &str, size: u64) -> std::result::Result<Option<std::ops::Range<u64>>, ()> {
        let mut headers = HeaderMap::new();
        headers.insert(header::RANGE, HeaderValue::from_str(h).unwrap());
        parse_range(&headers, size)
    }

    #[test]
    fn ranges() {
        assert_eq!(range("bytes=0-9", 100), Ok(Some(0..10)));
        assert_eq!(range("bytes=90-", 100), Ok(Some(90..100)));
        assert_eq!(range("bytes=-10", 100), Ok(Some(90..100)));
        assert_eq!(range("bytes=95-200", 100), Ok(Some(95..100)));
        assert_eq!(range("bytes=100-", 100), Err(()));
        assert_eq!(range("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(range("items=0-1", 100), Ok(None));
        assert_eq!(range("bytes=5-1", 100), Ok(None));
        // The largest last-byte-pos is satisfiable (it used to overflow: a 500).
        assert_eq!(range("bytes=0-18446744073709551615", 100), Ok(Some(0..100)));
        assert_eq!(
            range("bytes=99-18446744073709551615", 100),
            Ok(Some(99..100))
        );
        assert_eq!(range("bytes=-18446744073709551615", 100), Ok(Some(0..100)));
        assert_eq!(range("bytes=18446744073709551615-", 100), Err(()));
    }

    #[test]
    fn include_alternate_format_repeated_comma_separated_or_both() {
        let names = |q: Option<&str>| -> Vec<&str> {
            alternate_formats(q)
                .unwrap_or_else(|e| panic!("{q:?}: {e:?}"))
                .into_iter()
                .map(Plain::name)
                .collect()
        };
        assert!(names(None).is_empty());
        assert!(names(Some("")).is_empty());
        assert!(names(Some("other=1&includeAlternateFormat=")).is_empty());
        assert_eq!(
            names(Some(
                "includeAlternateFormat=srt&includeAlternateFormat=webvtt"
            )),
            ["srt", "webvtt"]
        );
        assert_eq!(
            names(Some("includeAlternateFormat=dfxp%2C%20TEXT,srt")),
            ["dfxp", "text", "srt"]
        );
        assert_eq!(
            names(Some(
                "includeAlternateFormat=srt,webvtt&includeAlternateFormat=srt&includeAlternateFormat=,dfxp,"
            )),
            ["srt", "webvtt", "dfxp"]
        );
        for bad in [
            "includeAlternateFormat=vtt",
            "includeAlternateFormat=srt,json",
            "includeAlternateFormat=srt&includeAlternateFormat=docx",
        ] {
            let e = alternate_formats(Some(bad)).unwrap_err();
            let r = e.into_response();
            assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        }
    }

    use proptest::prelude::*;

    /// A `Range` value: mostly `bytes=` specs built from numbers near the size
    /// and the edges of u64, sometimes arbitrary visible ASCII.
    fn range_value() -> impl Strategy<Value = String> {
        let number = prop_oneof![
            Just(String::new()),
            (0u64..300).prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            Just("18446744073709551616".to_owned()),
            "[ -~]{0,6}",
        ];
        prop_oneof![
            (number.clone(), number, "[ ,]{0,2}")
                .prop_map(|(a, b, sep)| format!("bytes={a}-{b}{sep}")),
            "[ -~]{0,40}",
        ]
    }

    proptest! {
        // Case count stated in docs/security.md ("HTTP limits and property tests").
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Never a panic; a range is always inside the object and non-empty;
        /// unsatisfiable only when the object has bytes the range misses entirely.
        #[test]
        fn ranges_are_inside_the_object(value in range_value(), size in prop_oneof![0u64..300, any::<u64>()]) {
            let Ok(header_value) = HeaderValue::from_str(&value) else { return Ok(()); };
            let mut headers = HeaderMap::new();
            headers.insert(header::RANGE, header_value);
            if let Ok(Some(r)) = parse_range(&headers, size) {
                prop_assert!(r.start < r.end && r.end <= size, "{value:?} on {size}: {r:?}");
            }
        }
    }
}
