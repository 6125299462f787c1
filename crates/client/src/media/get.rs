//! `client media get ID`: the media document, summarised (or as JSON).

use reqwest::Method;
use serde_json::Value;

use crate::api::Api;
use crate::keys::{print_json, str_of};
use crate::{Error, Ui};

pub(super) async fn run(api: &Api, ui: &Ui, id: &str) -> Result<(), Error> {
    let doc = api
        .json(api.request(Method::GET, &format!("/v3/media/{id}")))
        .await?;
    if ui.json {
        print_json(&doc);
    } else {
        print_summary(&doc);
    }
    Ok(())
}

fn print_summary(doc: &Value) {
    let row = |name: &str, value: String| outln!("{name:<12} {value}");
    row("mediaId", str_of(doc, "mediaId").to_owned());
    row("status", str_of(doc, "status").to_owned());
    for (name, field) in [
        ("created", "dateCreated"),
        ("finished", "dateFinished"),
        ("contentType", "mediaContentType"),
    ] {
        if let Some(v) = doc[field].as_str() {
            row(name, v.to_owned());
        }
    }
    if let Some(ms) = doc["length"].as_u64() {
        row("length", format!("{:.1} s", ms as f64 / 1000.0));
    }
    if let Some(e) = doc["encryption"].as_object() {
        row(
            "encryption",
            format!(
                "to key {} (fingerprint {}); results: `sealscribe client media results {} --secret-key FILE`",
                e.get("publicKeyId").and_then(Value::as_str).unwrap_or("?"),
                e.get("fingerprint").and_then(Value::as_str).unwrap_or("?"),
                str_of(doc, "mediaId"),
            ),
        );
    }
    if let Some(title) = doc["metadata"]["title"].as_str() {
        row("title", title.to_owned());
    }
    if let Some(words) = doc["transcript"]["words"].as_array() {
        let text: Vec<&str> = words
            .iter()
            .filter(|w| w.get("m").is_none())
            .filter_map(|w| w["w"].as_str())
            .collect();
        let mut preview = text.iter().take(30).copied().collect::<Vec<_>>().join(" ");
        if text.len() > 30 {
            preview.push_str(" …");
        }
        row("transcript", format!("{} words: {preview}", text.len()));
    }
    if let Some(streams) = doc["streams"].as_array() {
        let names: Vec<&str> = streams
            .iter()
            .filter_map(|s| s["streamName"].as_str())
            .collect();
        row("streams", names.join(", "));
    }
    for e in doc["errors"].as_array().into_iter().flatten() {
        row(
            "error",
            format!("(code {}) {}", e["code"], e["error"].as_str().unwrap_or("")),
        );
    }
}
