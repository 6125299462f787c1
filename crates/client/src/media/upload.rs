//! `client media upload FILE`: a streaming multipart upload with progress.

use std::path::Path;

use bytes::Bytes;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt as _;

use crate::api::Api;
use crate::keys::{print_json, str_of};
use crate::progress::{Progress, human_bytes};
use crate::{Error, Ui};

/// Bytes read from the file per chunk of an upload.
const UPLOAD_CHUNK: usize = 256 * 1024;

pub(super) async fn run(
    api: &Api,
    ui: &Ui,
    file: &Path,
    public_key_id: Option<String>,
    config: Option<String>,
    metadata: Option<String>,
) -> Result<(), Error> {
    let mut configuration = match &config {
        Some(c) => Some(json_arg("--config", c)?),
        None => None,
    };
    if let Some(key_id) = public_key_id {
        let c = configuration.get_or_insert_with(|| json!({}));
        match c["encryption"]["publicKeyId"].as_str() {
            Some(other) if other != key_id => {
                return Err(Error::local(format!(
                    "--public-key-id {key_id} contradicts the configuration's encryption.publicKeyId {other}"
                )));
            }
            _ => {}
        }
        if !c["encryption"].is_object() {
            c["encryption"] = json!({});
        }
        c["encryption"]["publicKeyId"] = json!(key_id);
    }
    let metadata = match &metadata {
        Some(m) => Some(json_arg("--metadata", m)?),
        None => None,
    };

    let handle = tokio::fs::File::open(file)
        .await
        .map_err(|e| Error::local(format!("cannot open {}: {e}", file.display())))?;
    let size = handle
        .metadata()
        .await
        .map_err(|e| Error::local(format!("cannot read {}: {e}", file.display())))?
        .len();
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "media".into());

    let progress = Progress::bytes("upload", Some(size), ui.quiet);
    // The file is read chunk by chunk as reqwest sends: memory does not grow with its size.
    let counter = progress.clone();
    let body = futures_util::stream::try_unfold(handle, move |mut f| {
        let counter = counter.clone();
        async move {
            let mut buf = vec![0u8; UPLOAD_CHUNK];
            let n = f.read(&mut buf).await?;
            if n == 0 {
                return Ok::<_, std::io::Error>(None);
            }
            buf.truncate(n);
            counter.inc(n as u64);
            Ok(Some((Bytes::from(buf), f)))
        }
    });
    let media = Part::stream_with_length(reqwest::Body::wrap_stream(body), size)
        .file_name(name.clone())
        .mime_str(mime_of(file))
        .expect("valid MIME type");
    let json_part = |v: &Value, file_name: &str| {
        Part::text(v.to_string())
            .file_name(file_name.to_owned())
            .mime_str("application/json")
            .expect("valid MIME type")
    };
    // Configuration first, so the API knows before the first media byte whether to seal it.
    let mut form = Form::new();
    if let Some(c) = &configuration {
        form = form.part("configuration", json_part(c, "configuration.json"));
    }
    form = form.part("media", media);
    if let Some(m) = &metadata {
        form = form.part("metadata", json_part(m, "metadata.json"));
    }
    let answer = api
        .json(api.request(Method::POST, "/v3/media").multipart(form))
        .await;
    let answer = match answer {
        Ok(a) => {
            progress.finish();
            a
        }
        Err(e) => {
            progress.abandon();
            return Err(e);
        }
    };
    if ui.json {
        print_json(&answer);
    } else {
        outln!("{}", str_of(&answer, "mediaId"));
        ui.note(format!(
            "uploaded {name} ({}): media {} is {}{}",
            human_bytes(size),
            str_of(&answer, "mediaId"),
            str_of(&answer, "status"),
            if configuration
                .as_ref()
                .is_some_and(|c| c["encryption"].is_object())
            {
                ", results will be encrypted to your key"
            } else {
                ""
            }
        ));
    }
    Ok(())
}

/// `JSON` or `@file` → a JSON object.
fn json_arg(flag: &str, value: &str) -> Result<Value, Error> {
    let text = match value.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Error::local(format!("{flag} @{path}: cannot read it: {e}")))?,
        None => value.to_owned(),
    };
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| Error::local(format!("{flag} is not valid JSON: {e}")))?;
    if !v.is_object() {
        return Err(Error::local(format!("{flag} must be a JSON object")));
    }
    Ok(v)
}

fn mime_of(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        "flac" => "audio/flac",
        "ogg" | "oga" => "audio/ogg",
        "opus" => "audio/opus",
        "m4a" => "audio/mp4",
        "mp4" => "video/mp4",
        "webm" => "audio/webm",
        _ => "application/octet-stream",
    }
}
