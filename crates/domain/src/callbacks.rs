//! `configuration.publish.callbacks[]`: where results are delivered when
//! processing ends (reference §5).
//!
//! The v3 item is checked here and normalised into a [`Callback`], the form
//! stored in the media's configuration and read by the delivery job. Whether
//! the address is one the server may call (SSRF policy) is checked by the HTTP
//! layer, which knows the operator's setting.
//!
//! Codes, as in v3: no `url` → **60001**; not an http(s) URL → **60002**;
//! `method` other than POST/PUT (any case) → **60011**; a bad `type`,
//! `format`, `stream` or `include` value → **60003**; v3's S3-delivery extras
//! (`role`, `prependFolder`, `s3Delivery`) → **10601**.

use serde::{Deserialize, Serialize};

use crate::codes::{
    CALLBACK_INVALID_METHOD, CALLBACK_INVALID_VALUE, CALLBACK_URL_INVALID, CALLBACK_URL_MISSING,
    UNSUPPORTED_FEATURE,
};
use crate::input::{InputError, excerpt};
use sealscribe_transcript::Rendition;

/// Sections of the media document an `analytics` callback may `include`.
pub const INCLUDABLE: &[&str] = &[
    "metadata",
    "transcript",
    "knowledge",
    "prediction",
    "spotting",
    "streams",
    "metrics",
    "speakerSentiments",
    "conversation",
    "categories",
    "messages",
];

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Post,
    Put,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Post => "POST",
            Self::Put => "PUT",
        }
    }
}

/// What a callback carries.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum Payload {
    /// The media document, with only the `include`d sections (all when `None`).
    Analytics {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        include: Option<Vec<String>>,
    },
    Transcript {
        format: TranscriptFormat,
    },
    Media {
        stream: MediaStream,
    },
}

impl Payload {
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Analytics { .. } => "analytics",
            Self::Transcript { .. } => "transcript",
            Self::Media { .. } => "media",
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TranscriptFormat {
    Json,
    Text,
    Srt,
    Webvtt,
    /// TTML (DFXP), sent as `application/ttaf+xml` as v3 callbacks label it.
    Dfxp,
}

impl TranscriptFormat {
    /// The plain rendition this format sends, `None` for the JSON transcript.
    pub fn rendition(self) -> Option<Rendition> {
        match self {
            Self::Json => None,
            Self::Text => Some(Rendition::Text),
            Self::Srt => Some(Rendition::Srt),
            Self::Webvtt => Some(Rendition::WebVtt),
            Self::Dfxp => Some(Rendition::Dfxp),
        }
    }

    /// The Content-Type v3 sends this format with (DFXP: `application/ttaf+xml`).
    pub fn content_type(self) -> &'static str {
        self.rendition()
            .map_or("application/json", Rendition::content_type)
    }
}

/// Which stream a `media` callback sends (its `-encrypted` form for encrypted media).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MediaStream {
    Original,
    Redacted,
}

/// One validated callback.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Callback {
    pub url: String,
    pub method: Method,
    #[serde(flatten)]
    pub payload: Payload,
}

impl Callback {
    /// The URL without user info, query or fragment: safe for logs and listings.
    pub fn display_url(&self) -> String {
        display_url(&self.url)
    }
}

/// `url` without credentials, query or fragment (which may carry secrets).
pub fn display_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => "(invalid URL)".into(),
    }
}

/// One `publish.callbacks[]` item (reference §5) as sent; see [`validate`].
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CallbackConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `POST` | `PUT` (either case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// `analytics` | `transcript` | `media`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<String>>,
    /// For `transcript`: `json` | `text` | `srt` | `dfxp` | `webvtt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// For `media`: `original` | `redacted-audio`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// S3 delivery: IAM role ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// S3 delivery: folder prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prepend_folder: Option<String>,
    /// S3 delivery flag from the v3 prose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_delivery: Option<bool>,
}

fn bad(code: u32, message: String) -> InputError {
    InputError::new(code, message)
}

/// Checks and normalises `publish.callbacks[]`. `redacts_audio` says whether
/// a detector produces a redacted stream (a `media` callback may ask for it).
///
/// # Errors
///
/// An [`InputError`] naming the offending item.
pub fn validate(
    items: &[CallbackConfig],
    redacts_audio: bool,
) -> Result<Vec<Callback>, InputError> {
    items
        .iter()
        .enumerate()
        .map(|(i, c)| validate_one(i, c, redacts_audio))
        .collect()
}

fn validate_one(i: usize, c: &CallbackConfig, redacts_audio: bool) -> Result<Callback, InputError> {
    let at = format!("publish.callbacks[{i}]");
    for (present, name) in [
        (c.role.is_some(), "role"),
        (c.prepend_folder.is_some(), "prependFolder"),
        (c.s3_delivery.is_some(), "s3Delivery"),
    ] {
        if present {
            return Err(bad(
                UNSUPPORTED_FEATURE,
                format!(
                    "`{at}.{name}`: delivery into S3 buckets is not supported; give an https \
                     `url` (a pre-signed S3 URL works) and leave out `{name}`."
                ),
            ));
        }
    }
    let url = match c.url.as_deref().map(str::trim) {
        None | Some("") => {
            return Err(bad(
                CALLBACK_URL_MISSING,
                format!("`{at}` needs a `url`: the https address to deliver the results to."),
            ));
        }
        Some(u) => u,
    };
    let parsed = url::Url::parse(url).map_err(|e| {
        bad(
            CALLBACK_URL_INVALID,
            format!("`{at}.url` is not a valid URL ({e}); give an https URL."),
        )
    })?;
    if !matches!(parsed.scheme(), "https" | "http") || parsed.host().is_none() {
        return Err(bad(
            CALLBACK_URL_INVALID,
            format!(
                "`{at}.url` must be an https (or http) URL with a host, not `{}`.",
                excerpt(&display_url(url), 64)
            ),
        ));
    }
    let method = match c.method.as_deref().map(str::trim) {
        None => Method::Post,
        Some(m) if m.eq_ignore_ascii_case("post") => Method::Post,
        Some(m) if m.eq_ignore_ascii_case("put") => Method::Put,
        Some(m) => {
            return Err(bad(
                CALLBACK_INVALID_METHOD,
                format!(
                    "`{at}.method` `{}` is not allowed; use POST or PUT.",
                    excerpt(m, 16)
                ),
            ));
        }
    };
    let kind = c.kind.as_deref().map(str::trim).unwrap_or("analytics");
    let misplaced = |field: &str, kinds: &str| {
        bad(
            CALLBACK_INVALID_VALUE,
            format!("`{at}.{field}` only applies to `type` {kinds}; remove it."),
        )
    };
    let payload = match kind {
        "analytics" => {
            if c.format.is_some() {
                return Err(misplaced("format", "transcript"));
            }
            if c.stream.is_some() {
                return Err(misplaced("stream", "media"));
            }
            if let Some(inc) = &c.include
                && let Some(x) = inc.iter().find(|x| !INCLUDABLE.contains(&x.as_str()))
            {
                return Err(bad(
                    CALLBACK_INVALID_VALUE,
                    format!(
                        "`{at}.include` has `{}`, which is not a section of the media \
                             document; use any of {}.",
                        excerpt(x, 32),
                        INCLUDABLE.join(", ")
                    ),
                ));
            }
            Payload::Analytics {
                include: c.include.clone(),
            }
        }
        "transcript" => {
            if c.include.is_some() {
                return Err(misplaced("include", "analytics"));
            }
            if c.stream.is_some() {
                return Err(misplaced("stream", "media"));
            }
            let format = match c.format.as_deref().map(str::trim) {
                None => TranscriptFormat::Json,
                Some(f) if f.eq_ignore_ascii_case("json") => TranscriptFormat::Json,
                Some(f) if f.eq_ignore_ascii_case("text") => TranscriptFormat::Text,
                Some(f) if f.eq_ignore_ascii_case("srt") => TranscriptFormat::Srt,
                Some(f) if f.eq_ignore_ascii_case("webvtt") => TranscriptFormat::Webvtt,
                Some(f) if f.eq_ignore_ascii_case("dfxp") => TranscriptFormat::Dfxp,
                Some(f) => {
                    return Err(bad(
                        CALLBACK_INVALID_VALUE,
                        format!(
                            "`{at}.format` `{}` is not a transcript format; use json, text, \
                             srt, dfxp or webvtt.",
                            excerpt(f, 16)
                        ),
                    ));
                }
            };
            Payload::Transcript { format }
        }
        "media" => {
            if c.include.is_some() {
                return Err(misplaced("include", "analytics"));
            }
            if c.format.is_some() {
                return Err(misplaced("format", "transcript"));
            }
            let stream = match c.stream.as_deref().map(str::trim) {
                None | Some("original") => MediaStream::Original,
                Some("redacted-audio" | "redacted") if redacts_audio => MediaStream::Redacted,
                Some("redacted-audio" | "redacted") => {
                    return Err(bad(
                        CALLBACK_INVALID_VALUE,
                        format!(
                            "`{at}.stream` asks for the redacted audio, but no detector has a \
                             `redactor.audio`; add one, or send the `original` stream."
                        ),
                    ));
                }
                Some(s) => {
                    return Err(bad(
                        CALLBACK_INVALID_VALUE,
                        format!(
                            "`{at}.stream` `{}` is not a stream; use original or \
                             redacted-audio.",
                            excerpt(s, 32)
                        ),
                    ));
                }
            };
            Payload::Media { stream }
        }
        other => {
            return Err(bad(
                CALLBACK_INVALID_VALUE,
                format!(
                    "`{at}.type` `{}` is not a callback type; use analytics, transcript or media.",
                    excerpt(other, 16)
                ),
            ));
        }
    };
    Ok(Callback {
        url: parsed.to_string(),
        method,
        payload,
    })
}
