//! `client media download ID STREAM`: a stream to a file (resuming with `Range`) or stdout.

use std::path::Path;

use reqwest::header::{CONTENT_RANGE, RANGE};
use reqwest::{Method, StatusCode};
use tokio::io::AsyncWriteExt as _;

use crate::api::{Api, api_error, check};
use crate::progress::{Progress, human_bytes};
use crate::{Error, Ui};

pub(super) async fn run(
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
