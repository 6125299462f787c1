//! HTTP: one reqwest client, the bearer token on every request, v3 error envelopes turned
//! into [`Error::Api`].
//!
//! Redirects (a stream served by a pre-signed S3 URL answers 302) are followed by reqwest,
//! which drops `Authorization` when the next URL has another scheme, host or port, so the
//! token never reaches the bucket (tested in `tests/it/client.rs`).

use reqwest::{Method, RequestBuilder, Response, Url};
use serde_json::Value;

use crate::{Error, Token};

pub(crate) struct Api {
    base: Url,
    token: Option<Token>,
    http: reqwest::Client,
}

impl Api {
    pub fn new(url: &str, token: Option<Token>) -> Result<Api, Error> {
        let base = Url::parse(url.trim_end_matches('/'))
            .map_err(|e| Error::local(format!("--url {url:?} is not a URL: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(Error::local(format!(
                "--url {url:?}: the scheme must be http or https"
            )));
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("sealscribe-client/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| Error::local(format!("cannot set up HTTP: {}", chain(&e))))?;
        Ok(Api { base, token, http })
    }

    /// The URL of an API path (`/v3/…`).
    pub fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        let prefix = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{prefix}{path}"));
        url
    }

    pub fn request_url(&self, method: Method, url: Url) -> RequestBuilder {
        let rb = self.http.request(method, url);
        match &self.token {
            Some(t) => rb.bearer_auth(t.expose()),
            None => rb,
        }
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.request_url(method, self.url(path))
    }

    /// Sends, mapping transport failures to [`Error::Unreachable`]; any status comes back.
    pub async fn send_raw(&self, rb: RequestBuilder) -> Result<Response, Error> {
        rb.send().await.map_err(|e| self.unreachable(&e))
    }

    /// Sends and turns a non-2xx answer into [`Error::Api`].
    pub async fn send(&self, rb: RequestBuilder) -> Result<Response, Error> {
        let resp = self.send_raw(rb).await?;
        check(resp).await
    }

    /// Sends and parses a JSON answer.
    pub async fn json(&self, rb: RequestBuilder) -> Result<Value, Error> {
        let resp = self.send(rb).await?;
        let bytes = resp.bytes().await.map_err(|e| self.unreachable(&e))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Api {
            status: 200,
            code: None,
            message: format!("the answer is not JSON: {e}"),
            reference: None,
        })
    }

    pub fn unreachable(&self, e: &reqwest::Error) -> Error {
        Error::Unreachable {
            url: self.base.to_string(),
            reason: chain(e),
        }
    }
}

/// An error and its sources, e.g. `error sending request: … : Connection refused`.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// Passes 2xx through; reads anything else's v3 error envelope into [`Error::Api`].
pub(crate) async fn check(resp: Response) -> Result<Response, Error> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let body = resp.bytes().await.unwrap_or_default();
    Err(api_error(status, &body))
}

pub(crate) fn api_error(status: reqwest::StatusCode, body: &[u8]) -> Error {
    let envelope: Option<Value> = serde_json::from_slice(body).ok();
    let first = envelope
        .as_ref()
        .and_then(|v| v.get("errors"))
        .and_then(|e| e.get(0));
    let code = first.and_then(|e| e.get("code")).and_then(Value::as_u64);
    let message = first
        .and_then(|e| e.get("error"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| {
            status
                .canonical_reason()
                .unwrap_or("unexpected answer")
                .to_owned()
        });
    let reference = envelope
        .as_ref()
        .and_then(|v| v.get("reference"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Error::Api {
        status: status.as_u16(),
        code,
        message,
        reference,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_a_base_path() {
        let api = Api::new("https://example.com/api/", None).unwrap();
        assert_eq!(
            api.url("/v3/media/x").as_str(),
            "https://example.com/api/v3/media/x"
        );
        let api = Api::new("http://127.0.0.1:8080", None).unwrap();
        assert_eq!(
            api.url("/v3/media").as_str(),
            "http://127.0.0.1:8080/v3/media"
        );
        assert!(Api::new("ftp://x", None).is_err());
        assert!(Api::new("not a url", None).is_err());
    }

    #[test]
    fn envelopes_are_read() {
        let e = api_error(
            reqwest::StatusCode::UNAUTHORIZED,
            br#"{"status":401,"errors":[{"code":10002,"error":"No token."}],"warnings":[],"reference":"abc"}"#,
        );
        assert_eq!(e.to_string(), "401 (code 10002): No token. [reference abc]");
        let e = api_error(reqwest::StatusCode::BAD_GATEWAY, b"<html>");
        assert_eq!(e.to_string(), "502: Bad Gateway");
        assert_eq!(e.exit_code(), 4);
    }
}
