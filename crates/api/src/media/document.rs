//! The v3 media document and summary.

use sealscribe_domain::media::{MediaRecord, MediaStatus};
use serde_json::{Value, json};

/// `formatVersion` of the documents sealscribe renders.
pub const FORMAT_VERSION: &str = "3.0.7";

pub fn href(m: &MediaRecord) -> String {
    format!("/v3/media/{}", m.id)
}

/// The stream names a media item has, with their hrefs.
pub fn streams(m: &MediaRecord) -> Vec<Value> {
    vec![
        json!({"streamName": "original", "streamLocation": format!("{}/streams/original", href(m))}),
    ]
}

/// The summary used in listings (v3 `VbMediaSummary`).
pub fn summary(m: &MediaRecord) -> Value {
    json!({
        "_links": {"self": {"href": href(m)}},
        "formatVersion": FORMAT_VERSION,
        "mediaId": m.id,
        "status": m.status.as_str(),
        "dateCreated": m.created_at,
        "metadata": m.metadata.clone().unwrap_or_else(|| json!({})),
    })
}

/// The whole media document (v3 `VbMedia`).
pub fn document(m: &MediaRecord) -> Value {
    let base = href(m);
    let mut doc = json!({
        "_links": {
            "self": {"href": base},
            "progress": {"href": format!("{base}/progress")},
            "metadata": {"href": format!("{base}/metadata")},
            "transcript": {"href": format!("{base}/transcript")},
            "text": {"href": format!("{base}/transcript/text")},
            "srt": {"href": format!("{base}/transcript/srt")},
            "webvtt": {"href": format!("{base}/transcript/webvtt")},
            "streams": {"href": format!("{base}/streams")},
        },
        "formatVersion": FORMAT_VERSION,
        "mediaId": m.id,
        "status": m.status.as_str(),
        "dateCreated": m.created_at,
        "dateFinished": m.finished_at,
        "mediaContentType": m.content_type,
        "length": m.length_ms,
        "metadata": m.metadata.clone().unwrap_or_else(|| json!({})),
        "streams": streams(m),
    });
    if m.status == MediaStatus::Finished {
        doc["transcript"] = m
            .transcript
            .clone()
            .unwrap_or_else(|| json!({"confidence": 0.0, "words": []}));
    }
    if let Some(f) = &m.failure {
        doc["errors"] = json!([{"code": f.code, "error": f.error}]);
    }
    doc
}
