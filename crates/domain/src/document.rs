//! The v3 media document and summary, as the API serves them and as callbacks
//! and the encrypted result document carry them.

use serde_json::{Value, json};

use crate::media::{MediaRecord, MediaStatus, Unreadable};

/// `formatVersion` of the documents sealscribe renders.
pub const FORMAT_VERSION: &str = "3.0.7";

pub fn href(m: &MediaRecord) -> String {
    format!("/v3/media/{}", m.id)
}

/// Stream names: encrypted media only ever has `-encrypted` streams; the
/// redacted audio exists once processing with an audio redactor finished.
pub fn stream_names(m: &MediaRecord) -> Result<Vec<&'static str>, Unreadable> {
    let redacted = m.status == MediaStatus::Finished && m.redacts_audio()?;
    Ok(match (m.encryption.is_some(), redacted) {
        (true, true) => vec!["original-encrypted", "redacted-encrypted"],
        (true, false) => vec!["original-encrypted"],
        (false, true) => vec!["original", "redacted"],
        (false, false) => vec!["original"],
    })
}

/// The blob name behind a requested stream name (`redacted-audio` is v3's
/// name for `redacted`), if the media has that stream.
pub fn stream_blob(m: &MediaRecord, requested: &str) -> Result<Option<&'static str>, Unreadable> {
    let name = match requested {
        "redacted-audio" => "redacted",
        "redacted-audio-encrypted" => "redacted-encrypted",
        other => other,
    };
    Ok(stream_names(m)?.into_iter().find(|n| *n == name))
}

/// The stream names a media item has, with their hrefs.
pub fn streams(m: &MediaRecord) -> Result<Vec<Value>, Unreadable> {
    Ok(stream_names(m)?
        .iter()
        .map(|name| {
            json!({"streamName": name, "streamLocation": format!("{}/streams/{name}", href(m))})
        })
        .collect())
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
pub fn document(m: &MediaRecord) -> Result<Value, Unreadable> {
    render(m, m.encryption.is_none())
}

/// The document with its content (metadata, transcript, prediction, metrics) whether
/// or not the media is encrypted: what the customer's encrypted copy holds.
/// The caller fills the record with the content it decrypted or produced.
pub fn full_document(m: &MediaRecord) -> Result<Value, Unreadable> {
    render(m, true)
}

fn render(m: &MediaRecord, content: bool) -> Result<Value, Unreadable> {
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
        "streams": streams(m)?,
    });
    if let Some(enc) = &m.encryption {
        doc["encryption"] = json!(enc.info);
    }
    if content {
        if m.encryption.is_none() {
            for (name, path) in [
                ("metadata", "metadata"),
                ("transcript", "transcript"),
                ("text", "transcript/text"),
                ("srt", "transcript/srt"),
                ("webvtt", "transcript/webvtt"),
                ("dfxp", "transcript/dfxp"),
            ] {
                links[name] = json!({"href": format!("{base}/{path}")});
            }
        }
        if let Some(name) = &m.file_name {
            doc["fileName"] = json!(name);
        }
        doc["metadata"] = m.metadata.clone().unwrap_or_else(|| json!({}));
        if m.status == MediaStatus::Finished {
            doc["transcript"] = m
                .transcript
                .clone()
                .unwrap_or_else(|| json!({"confidence": 0.0, "words": []}));
            if let Some(p) = &m.prediction {
                doc["prediction"] = p.clone();
            }
            // `spotting`, `categories`, `knowledge`: sections of their own in v3.
            if let Some(Value::Object(sections)) = &m.analytics {
                for (name, section) in sections {
                    doc[name.as_str()] = section.clone();
                }
            }
            if let Some(metrics) = &m.metrics {
                doc["metrics"] = metrics.clone();
                // Requested groups sealscribe cannot compute are all zeros: say so.
                let warnings = crate::conversation_metrics::warnings(&m.config()?.metrics);
                if !warnings.is_empty() {
                    doc["warnings"] = Value::Array(warnings);
                }
            }
        }
    }
    doc["_links"] = links;
    if let Some(f) = &m.failure {
        doc["errors"] = json!([{"code": f.code, "error": f.error}]);
    }
    let callbacks = m.config()?.callbacks;
    if !callbacks.is_empty() {
        doc["callbacks"] = callbacks
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let d = m.deliveries.iter().find(|d| d.index as usize == i);
                json!({
                    "url": c.display_url(),
                    "method": c.method.as_str(),
                    "type": c.payload.type_name(),
                    // Failed processing sends only `analytics` callbacks.
                    "status": match d {
                        Some(d) => d.status.as_str(),
                        None if m.status == MediaStatus::Failed => "skipped",
                        None => "pending",
                    },
                    "attempts": d.map(|d| d.attempts.clone()).unwrap_or_default(),
                })
            })
            .collect();
    }
    Ok(doc)
}

/// An `analytics` callback body: the document with only the `include`d
/// sections (bookkeeping such as ids, status, dates and errors always stays).
pub fn include_only(mut doc: Value, include: Option<&[String]>) -> Value {
    if let (Some(include), Some(map)) = (include, doc.as_object_mut()) {
        for section in crate::callbacks::INCLUDABLE {
            if !include.iter().any(|i| i == section) {
                map.remove(*section);
            }
        }
    }
    doc
}
