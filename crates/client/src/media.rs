//! `client media …`: `/v3/media`.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{ACCEPT, CONTENT_RANGE, CONTENT_TYPE, RANGE};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::api::{Api, api_error, check};
use crate::keys::{print_json, str_of};
use crate::progress::{Progress, Status, human_bytes};
use crate::{Error, MediaCommand, TranscriptFormat, Ui, secret};

/// Bytes read from the file per chunk of an upload.
const UPLOAD_CHUNK: usize = 256 * 1024;

pub(crate) async fn run(api: &Api, ui: &Ui, cmd: MediaCommand) -> Result<(), Error> {
    match cmd {
        MediaCommand::Upload {
            file,
            public_key_id,
            config,
            metadata,
        } => upload(api, ui, &file, public_key_id, config, metadata).await,
        MediaCommand::Wait {
            id,
            timeout,
            interval,
        } => wait(api, ui, &id, timeout, interval).await,
        MediaCommand::Get { id } => {
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
        MediaCommand::Transcript { id, format } => {
            let format = if ui.json {
                TranscriptFormat::Json
            } else {
                format
            };
            let path = match format {
                TranscriptFormat::Json => format!("/v3/media/{id}/transcript"),
                TranscriptFormat::Text => format!("/v3/media/{id}/transcript/text"),
                TranscriptFormat::Srt => format!("/v3/media/{id}/transcript/srt"),
                TranscriptFormat::Webvtt => format!("/v3/media/{id}/transcript/webvtt"),
            };
            let resp = api.send(api.request(Method::GET, &path)).await?;
            let body = resp.bytes().await.map_err(|e| api.unreachable(&e))?;
            if format == TranscriptFormat::Json {
                let v: Value = serde_json::from_slice(&body)
                    .map_err(|e| Error::local(format!("the transcript is not JSON: {e}")))?;
                print_json(&v);
            } else {
                write_stdout(&body)?;
                if !body.ends_with(b"\n") {
                    write_stdout(b"\n")?;
                }
            }
            Ok(())
        }
        MediaCommand::List { query, limit } => {
            let mut url = api.url("/v3/media");
            if query.is_some() || limit.is_some() {
                let mut q = url.query_pairs_mut();
                if let Some(query) = &query {
                    q.append_pair("query", query);
                }
                if let Some(limit) = limit {
                    q.append_pair("limit", &limit.to_string());
                }
            }
            let answer = api.json(api.request_url(Method::GET, url)).await?;
            if ui.json {
                print_json(&answer);
            } else {
                for m in answer["media"].as_array().into_iter().flatten() {
                    let title = m["metadata"]["title"].as_str().unwrap_or("");
                    println!(
                        "{}  {:<8}  {}  {title}",
                        str_of(m, "mediaId"),
                        str_of(m, "status"),
                        str_of(m, "dateCreated"),
                    );
                }
            }
            Ok(())
        }
        MediaCommand::Delete { id } => {
            api.send(api.request(Method::DELETE, &format!("/v3/media/{id}")))
                .await?;
            ui.note(format!("deleted media {id}"));
            Ok(())
        }
        MediaCommand::Download { id, stream, output } => {
            download(api, ui, &id, &stream, output.as_deref()).await
        }
        MediaCommand::Results { id, key } => {
            // The key first: a bad key file fails before any request.
            let (key, passphrase) = secret::load(&key)?;
            let resp = api
                .send(
                    api.request(Method::GET, &format!("/v3/media/{id}"))
                        .header(ACCEPT, "application/pgp-encrypted"),
                )
                .await?;
            let content_type = resp
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let body = resp.bytes().await.map_err(|e| api.unreachable(&e))?;
            let plain = if content_type.starts_with("application/json") {
                ui.note(format!(
                    "media {id} is not encrypted: this is its document as the API serves it"
                ));
                zeroize::Zeroizing::new(body.to_vec())
            } else {
                secret::decrypt_bytes(key, passphrase, body).await?
            };
            match serde_json::from_slice::<Value>(&plain) {
                Ok(v) if !ui.json => print_json(&v),
                Ok(v) => println!("{v}"),
                Err(_) => write_stdout(&plain)?,
            }
            Ok(())
        }
    }
}

fn write_stdout(bytes: &[u8]) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| Error::local(format!("writing to stdout: {e}")))
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

async fn upload(
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
        println!("{}", str_of(&answer, "mediaId"));
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

/// One line about the tasks: `running: probe finished, transcribe running`.
fn describe(progress: &Value) -> String {
    let status = progress["status"].as_str().unwrap_or("?");
    let tasks: Vec<String> = progress["progress"]["tasks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            format!(
                "{} {}",
                t["taskId"].as_str().unwrap_or("?"),
                t["status"].as_str().unwrap_or("?")
            )
        })
        .collect();
    if tasks.is_empty() {
        status.to_owned()
    } else {
        format!("{status}: {}", tasks.join(", "))
    }
}

async fn wait(
    api: &Api,
    ui: &Ui,
    id: &str,
    timeout: Option<u64>,
    interval: f64,
) -> Result<(), Error> {
    let start = Instant::now();
    let interval = Duration::from_secs_f64(interval.clamp(0.05, 60.0));
    let mut status_line = Status::new("wait", ui.quiet);
    loop {
        let progress = api
            .json(api.request(Method::GET, &format!("/v3/media/{id}/progress")))
            .await?;
        status_line.set(describe(&progress));
        let status = progress["status"].as_str().unwrap_or("").to_owned();
        match status.as_str() {
            "finished" => {
                status_line.finish();
                if ui.json {
                    print_json(&progress);
                } else {
                    println!("finished");
                }
                return Ok(());
            }
            "failed" => {
                status_line.finish();
                if ui.json {
                    print_json(&progress);
                }
                let reason = progress["progress"]["errors"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| {
                        format!(
                            "{}{}",
                            e["code"]
                                .as_u64()
                                .map(|c| format!("(code {c}) "))
                                .unwrap_or_default(),
                            e["error"].as_str().unwrap_or("")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                return Err(Error::MediaFailed {
                    id: id.to_owned(),
                    reason: if reason.is_empty() {
                        "no reason given".into()
                    } else {
                        reason
                    },
                });
            }
            _ => {}
        }
        if let Some(secs) = timeout {
            let limit = Duration::from_secs(secs);
            let elapsed = start.elapsed();
            if elapsed >= limit {
                status_line.finish();
                return Err(Error::WaitTimeout {
                    id: id.to_owned(),
                    status,
                    secs,
                });
            }
            tokio::time::sleep(interval.min(limit - elapsed)).await;
        } else {
            tokio::time::sleep(interval).await;
        }
    }
}

fn print_summary(doc: &Value) {
    let row = |name: &str, value: String| println!("{name:<12} {value}");
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

/// `bytes START-END/TOTAL` → (START, TOTAL); `bytes */TOTAL` → (None, TOTAL).
fn content_range(resp: &reqwest::Response) -> Option<(Option<u64>, u64)> {
    let v = resp.headers().get(CONTENT_RANGE)?.to_str().ok()?;
    let rest = v.strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let total = total.trim().parse().ok()?;
    if range == "*" {
        return Some((None, total));
    }
    let start = range.split_once('-')?.0.trim().parse().ok()?;
    Some((Some(start), total))
}

async fn download(
    api: &Api,
    ui: &Ui,
    id: &str,
    stream: &str,
    output: Option<&Path>,
) -> Result<(), Error> {
    let path = format!("/v3/media/{id}/streams/{stream}");
    let existing = match output {
        Some(file) => match tokio::fs::metadata(file).await {
            Ok(m) if m.is_file() => m.len(),
            Ok(_) => {
                return Err(Error::local(format!(
                    "{} exists and is not a file",
                    file.display()
                )));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(Error::local(format!("{}: {e}", file.display()))),
        },
        None => 0,
    };
    let mut rb = api.request(Method::GET, &path);
    if existing > 0 {
        rb = rb.header(RANGE, format!("bytes={existing}-"));
    }
    // Redirects (302 to a pre-signed URL) are followed; `Range` goes along, the token not.
    let resp = api.send_raw(rb).await?;
    let (append, total) = match resp.status() {
        StatusCode::PARTIAL_CONTENT => {
            let Some((Some(start), total)) = content_range(&resp) else {
                return Err(Error::local(
                    "the server answered 206 without a usable Content-Range",
                ));
            };
            if start != existing {
                return Err(Error::local(format!(
                    "asked to resume at byte {existing}, the server sent from byte {start}"
                )));
            }
            (true, Some(total))
        }
        StatusCode::RANGE_NOT_SATISFIABLE if existing > 0 => {
            let file = output.expect("a file").display();
            return match content_range(&resp).map(|(_, t)| t) {
                Some(size) if size == existing => {
                    ui.note(format!(
                        "download: {file} is already complete ({existing} bytes)"
                    ));
                    Ok(())
                }
                Some(size) => Err(Error::local(format!(
                    "{file} is longer ({existing} bytes) than the stream ({size} bytes): it is \
                     not a partial download of it; remove it or choose another file"
                ))),
                None => Err(api_error(
                    resp.status(),
                    &resp.bytes().await.unwrap_or_default(),
                )),
            };
        }
        s if s.is_success() => {
            if existing > 0 {
                ui.note(
                    "download: the server ignored the range request; downloading from the start",
                );
            }
            (false, resp.content_length())
        }
        _ => {
            check(resp).await?;
            unreachable!("check fails on non-2xx");
        }
    };
    let progress = Progress::bytes("download", total, ui.quiet);
    if append {
        progress.start_at(existing);
        progress.note(&format!(
            "resuming at {existing} bytes ({} of {} already there)",
            human_bytes(existing),
            human_bytes(total.unwrap_or(existing))
        ));
    }

    let mut resp = resp;
    let mut written = if append { existing } else { 0 };
    let result: Result<(), Error> = async {
        let mut sink: Box<dyn tokio::io::AsyncWrite + Unpin + Send> = match output {
            Some(file) => {
                let f = tokio::fs::OpenOptions::new()
                    .create(true)
                    .write(true)
                    .append(append)
                    .truncate(!append)
                    .open(file)
                    .await
                    .map_err(|e| Error::local(format!("cannot write {}: {e}", file.display())))?;
                Box::new(tokio::io::BufWriter::with_capacity(256 * 1024, f))
            }
            None => Box::new(tokio::io::stdout()),
        };
        while let Some(chunk) = resp.chunk().await.map_err(|e| api.unreachable(&e))? {
            sink.write_all(&chunk)
                .await
                .map_err(|e| Error::local(format!("writing the download: {e}")))?;
            written += chunk.len() as u64;
            progress.inc(chunk.len() as u64);
        }
        sink.flush()
            .await
            .map_err(|e| Error::local(format!("writing the download: {e}")))?;
        Ok(())
    }
    .await;
    if let Err(e) = result {
        progress.abandon();
        return Err(with_resume_hint(e, output, written));
    }
    if let Some(total) = total
        && written != total
    {
        progress.abandon();
        return Err(with_resume_hint(
            Error::Unreachable {
                url: api.url(&path).to_string(),
                reason: format!("the download ended early, at {written} of {total} bytes"),
            },
            output,
            written,
        ));
    }
    progress.finish();
    if let Some(file) = output {
        ui.note(format!("saved {} ({written} bytes)", file.display()));
    }
    Ok(())
}

fn with_resume_hint(e: Error, output: Option<&Path>, written: u64) -> Error {
    match (e, output) {
        (Error::Unreachable { url, reason }, Some(file)) => Error::Unreachable {
            url,
            reason: format!(
                "{reason}; {written} bytes are in {}: run the same command again to resume",
                file.display()
            ),
        },
        (e, _) => e,
    }
}
