//! `client media transcript ID`: the transcript in one of its renditions, on stdout.

use reqwest::Method;
use serde_json::Value;

use super::write_stdout;
use crate::api::Api;
use crate::keys::print_json;
use crate::{Error, TranscriptFormat, Ui};

pub(super) async fn run(
    api: &Api,
    ui: &Ui,
    id: &str,
    format: TranscriptFormat,
) -> Result<(), Error> {
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
        TranscriptFormat::Dfxp => format!("/v3/media/{id}/transcript/dfxp"),
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
