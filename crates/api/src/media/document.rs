//! The v3 media document and summary.

use sealscribe_domain::media::{MediaRecord, MediaStatus};
use serde_json::{Value, json};

/// `formatVersion` of the documents sealscribe renders.
pub const FORMAT_VERSION: &str = "3.0.7";

pub fn href(m: &MediaRecord) -> String {
    format!("/v3/media/{}", m.id)
}

/// Stream names: encrypted media only ever has `-encrypted` streams.
pub fn stream_names(m: &MediaRecord) -> &'static [&'static str] {
    if m.encryption.is_some() {
        &["original-encrypted"]
    } else {
        &["original"]
    }
}

/// The stream names a media item has, with their hrefs.
pub fn streams(m: &MediaRecord) -> Vec<Value> {
    stream_names(m)
        .iter()
        .map(|name| {
            json!({"streamName": name, "streamLocation": format!("{}/streams/{name}", href(m))})
        })
        .collect()
}

/// The summary used in listings (v3 `VbMediaSummary`). Encrypted media never
/// show their metadata in clear.
pub fn summary(m: &MediaRecord) -> Value {
    let mut doc = json!({
        "_links": {"self": {"href": href(m)}},
        "formatVersion": FORMAT_VERSION,
        "mediaId": m.id,
        "status": m.status.as_str(),
        "dateCreated": m.created_at,
    });
    if m.encryption.is_none() {
        doc["metadata"] = m.metadata.clone().unwrap_or_else(|| json!({}));
    }
    doc
}

/// The whole media document (v3 `VbMedia`). For encrypted media this is the
/// bookkeeping only (status, dates, sizes, the `encryption` block): the full
/// document exists only encrypted to the customer's key.
pub fn document(m: &MediaRecord) -> Value {
    let base = href(m);
    let mut links = json!({
        "self": {"href": base},
        "progress": {"href": format!("{base}/progress")},
        "streams": {"href": format!("{base}/streams")},
    });
    let mut doc = json!({
        "formatVersion": FORMAT_VERSION,
        "mediaId": m.id,
        "status": m.status.as_str(),
        "dateCreated": m.created_at,
        "dateFinished": m.finished_at,
        "mediaContentType": m.content_type,
        "length": m.length_ms,
        "streams": streams(m),
    });
    match &m.encryption {
        Some(enc) => doc["encryption"] = json!(enc.info),
        None => {
            for (name, path) in [
                ("metadata", "metadata"),
                ("transcript", "transcript"),
                ("text", "transcript/text"),
                ("srt", "transcript/srt"),
                ("webvtt", "transcript/webvtt"),
            ] {
                links[name] = json!({"href": format!("{base}/{path}")});
            }
            doc["metadata"] = m.metadata.clone().unwrap_or_else(|| json!({}));
            if m.status == MediaStatus::Finished {
                doc["transcript"] = m
                    .transcript
                    .clone()
                    .unwrap_or_else(|| json!({"confidence": 0.0, "words": []}));
            }
        }
    }
    doc["_links"] = links;
    if let Some(f) = &m.failure {
        doc["errors"] = json!([{"code": f.code, "error": f.error}]);
    }
    doc
}
