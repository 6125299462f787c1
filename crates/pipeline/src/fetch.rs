//! Fetching `mediaUrl`s: bounded in size and time, through the client whose
//! connector refuses addresses the policy does not allow (the server must not
//! become a way into the operator's own network). Whatever goes wrong on the
//! network, the customer reads the same sentence ([`UNREACHABLE`]) and the
//! log the reason; a fetch that fails leaves no blob behind.

use http::{HeaderMap, Method};
use sealscribe_domain::codes;
use sealscribe_ingress::outbound::body_bytes;
use sealscribe_ingress::{Outbound, Redirects, UNREACHABLE, UrlPolicy, check_url};
use sealscribe_store::{BlobKey, BlobStore};

use crate::step::StepError;

/// Downloads `url` into the blob `key`, streaming. Returns the size and the
/// Content-Type the server gave.
pub async fn fetch(
    client: &Outbound,
    policy: &UrlPolicy,
    url: &str,
    blobs: &BlobStore,
    key: &BlobKey,
) -> Result<(u64, Option<String>), StepError> {
    let parsed = check_url("mediaUrl", url, policy)
        .map_err(|m| StepError::permanent(codes::MEDIA_URL_MALFORMED, m))?;
    let unreachable = |why: &dyn std::fmt::Display| {
        tracing::warn!(reason = %why, "fetching the mediaUrl failed");
        StepError::permanent(codes::MEDIA_URL_UNREACHABLE, UNREACHABLE)
    };
    let mut response = client
        .send(
            Method::GET,
            &parsed,
            HeaderMap::new(),
            body_bytes(Vec::new()),
            Redirects::Follow,
            policy.timeout,
        )
        .await
        .map_err(|e| unreachable(&e))?;
    if !response.status.is_success() {
        return Err(unreachable(&format_args!("HTTP {}", response.status)));
    }
    if response
        .content_length()
        .is_some_and(|n| n > policy.max_bytes)
    {
        return Err(too_large(policy));
    }
    let content_type = response
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut writer = blobs.writer(key).await.map_err(StepError::from)?;
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => {
                writer.abort().await;
                return Err(unreachable(&e));
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
