//! Fetching `mediaUrl`s: bounded in size and time, and refusing private
//! addresses unless the operator allows them (the server must not become a
//! way into the operator's own network).

use futures_util::StreamExt;
use sealscribe_domain::codes;
use sealscribe_ingress::{UrlPolicy, check_url, describe_error};
use sealscribe_store::{BlobKey, BlobStore};

use crate::step::StepError;

/// Downloads `url` into the blob `key`, streaming. Returns the size and the
/// Content-Type the server gave.
pub async fn fetch(
    client: &reqwest::Client,
    policy: &UrlPolicy,
    url: &str,
    blobs: &BlobStore,
    key: &BlobKey,
) -> Result<(u64, Option<String>), StepError> {
    let parsed = check_url("mediaUrl", url, policy)
        .map_err(|m| StepError::permanent(codes::MEDIA_URL_MALFORMED, m))?;
    let unreachable = |e: reqwest::Error| {
        StepError::permanent(
            codes::MEDIA_URL_UNREACHABLE,
            format!("mediaUrl could not be fetched: {}", describe_error(&e)),
        )
    };
    let response = client.get(parsed).send().await.map_err(unreachable)?;
    if !response.status().is_success() {
        return Err(StepError::permanent(
            codes::MEDIA_URL_HTTP_ERROR,
            format!("fetching mediaUrl returned HTTP {}", response.status()),
        ));
    }
    if response
        .content_length()
        .is_some_and(|n| n > policy.max_bytes)
    {
        return Err(too_large(policy));
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut writer = blobs.writer(key).await.map_err(StepError::from)?;
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                writer.abort().await;
                return Err(unreachable(e));
            }
        };
        if writer.written() + chunk.len() as u64 > policy.max_bytes {
            writer.abort().await;
            return Err(too_large(policy));
        }
        if let Err(e) = writer.write(&chunk).await {
            writer.abort().await;
            return Err(e.into());
        }
    }
    let size = writer.finish().await?;
    Ok((size, content_type))
}

fn too_large(policy: &UrlPolicy) -> StepError {
    StepError::permanent(
        codes::PAYLOAD_TOO_LARGE,
        format!(
            "the media at mediaUrl is larger than the limit of {} bytes",
            policy.max_bytes
        ),
    )
}
