//! Verifying a sealscribe callback on the receiving side (docs/callbacks.md).
//!
//! The server signs every callback request with the account's callback secret:
//!
//! ```text
//! X-Sealscribe-Signature: t=<unix seconds>,v1=<hex>,v2=<hex>
//! X-Sealscribe-Media-Id: <media id>
//! X-Sealscribe-Callback-Type: analytics | transcript | media
//! ```
//!
//! - `v2` is HMAC-SHA256 over `v2:<t>.<media id>.<callback type>.<body>`: it binds the body
//!   to the time, to the media and to the kind of callback, so a receiver that files results
//!   by the `X-Sealscribe-Media-Id` header cannot be fed one media's (genuine, signed) body
//!   under another media's id, nor a transcript as analytics.
//! - `v1` (deprecated, sent for one more release) is HMAC-SHA256 over `<t>.<body>`: it leaves
//!   the two headers unauthenticated.
//!
//! [`verify`] prefers `v2`: when the header has a `v2` field, only `v2` counts (a `v2` that
//! does not match is a failure, never a reason to fall back to `v1`). `v1` alone is accepted
//! only with [`Accept::V2OrLegacyV1`], for servers older than `v2`; with [`Accept::V2Only`]
//! (the choice once the server sends `v2`) a header stripped down to `v1` is refused, so
//! nobody can downgrade a request to the signature that does not cover the headers.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The signature header's name (lower case, as HTTP libraries normalise it).
pub const SIGNATURE_HEADER: &str = "x-sealscribe-signature";
/// The header naming the media the callback is about.
pub const MEDIA_ID_HEADER: &str = "x-sealscribe-media-id";
/// The header naming the callback's type (`analytics`, `transcript`, `media`).
pub const CALLBACK_TYPE_HEADER: &str = "x-sealscribe-callback-type";

/// The headers of one callback request, as received.
#[derive(Debug, Clone, Copy)]
pub struct CallbackHeaders<'a> {
    /// `X-Sealscribe-Signature`.
    pub signature: &'a str,
    /// `X-Sealscribe-Media-Id`.
    pub media_id: &'a str,
    /// `X-Sealscribe-Callback-Type`.
    pub callback_type: &'a str,
}

/// Which signature versions [`verify`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    /// Only `v2`: for a server that sends it (every server that has this client).
    V2Only,
    /// `v2` when the header has it, else the deprecated `v1`: only while receiving from a
    /// server older than `v2`. The media id and callback type are then not authenticated.
    V2OrLegacyV1,
}

/// Which signature verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// `v2`: body, timestamp, media id and callback type are authentic.
    V2,
    /// The deprecated `v1`: body and timestamp are authentic; the media id and callback
    /// type headers are NOT.
    V1,
}

/// Why a callback request does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The signature header cannot be read.
    #[error("the signature header is malformed: {0}")]
    Malformed(String),
    /// The timestamp is too far from now (a replay, or a clock off by that much).
    #[error("the signature is {age} s away from now, more than the {tolerance} s allowed")]
    Stale {
        /// Seconds between the timestamp and now.
        age: u64,
        /// The tolerance given.
        tolerance: u64,
    },
    /// The media id or callback type header is missing or could be confused with the
    /// separators of the signed string.
    #[error("the {0} header is missing or not a plain value")]
    BadHeader(&'static str),
    /// Only a `v1` signature, and `v1` is not accepted.
    #[error(
        "the request has no v2 signature (only the deprecated v1, which does not cover the \
         media id and callback type headers)"
    )]
    V2Missing,
    /// The MAC does not match: wrong secret, or the body, timestamp, media id or callback type
    /// was changed.
    #[error("the signature does not match (wrong secret, or the request was changed)")]
    Mismatch,
}

/// The string `v2` signs, up to the body: `v2:<t>.<media id>.<callback type>.`
pub fn signed_prefix_v2(timestamp: i64, media_id: &str, callback_type: &str) -> String {
    format!("v2:{timestamp}.{media_id}.{callback_type}.")
}

/// Verifies one callback request: `headers` and the raw `body` exactly as received (before
/// any parsing), with the account's `secret`, at `now` (unix seconds), allowing the
/// timestamp to be `tolerance_secs` away. Comparison is in constant time.
pub fn verify(
    secret: &str,
    headers: CallbackHeaders<'_>,
    body: &[u8],
    now: i64,
    tolerance_secs: u64,
    accept: Accept,
) -> Result<Verified, VerifyError> {
    let mut pending = Pending::new(secret, headers, now, tolerance_secs, accept)?;
    pending.update(body);
    pending.finish()
}

/// [`verify`] for a body read in pieces (a `media` callback's body can be gigabytes): the
/// headers are checked by [`Pending::new`], the body fed to [`Pending::update`], and the
/// MAC compared by [`Pending::finish`].
pub struct Pending {
    mac: Hmac<Sha256>,
    version: Verified,
    candidates: Vec<Vec<u8>>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl Pending {
    /// Checks the headers (format, timestamp, which version counts) and starts the MAC.
    pub fn new(
        secret: &str,
        headers: CallbackHeaders<'_>,
        now: i64,
        tolerance_secs: u64,
        accept: Accept,
    ) -> Result<Pending, VerifyError> {
        let fields = parse(headers.signature)?;
        let timestamp = match fields.iter().filter(|(k, _)| *k == "t").collect::<Vec<_>>()[..] {
            [(_, t)] => t
                .parse::<i64>()
                .map_err(|_| VerifyError::Malformed(format!("t={t} is not a unix time")))?,
            [] => return Err(VerifyError::Malformed("no t= field".into())),
            _ => return Err(VerifyError::Malformed("more than one t= field".into())),
        };
        let age = now.abs_diff(timestamp);
        if age > tolerance_secs {
            return Err(VerifyError::Stale {
                age,
                tolerance: tolerance_secs,
            });
        }
        // Undecodable candidates simply cannot match.
        let macs = |version: &str| -> Vec<Vec<u8>> {
            fields
                .iter()
                .filter(|(k, _)| *k == version)
                .filter_map(|(_, v)| hex::decode(v).ok())
                .collect()
        };
        let named = |version: &str| fields.iter().any(|(k, _)| *k == version);
        let (version, prefix, candidates) = if named("v2") {
            // v2 present: only v2 counts, never a fallback to v1.
            plain(MEDIA_ID_HEADER, headers.media_id)?;
            plain(CALLBACK_TYPE_HEADER, headers.callback_type)?;
            let prefix = signed_prefix_v2(timestamp, headers.media_id, headers.callback_type);
            (Verified::V2, prefix, macs("v2"))
        } else if !named("v1") {
            return Err(VerifyError::Malformed("no v2= (or v1=) field".into()));
        } else if accept == Accept::V2Only {
            return Err(VerifyError::V2Missing);
        } else {
            (Verified::V1, format!("{timestamp}."), macs("v1"))
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(prefix.as_bytes());
        Ok(Pending {
            mac,
            version,
            candidates,
        })
    }

    /// Feeds the next piece of the raw body.
    pub fn update(&mut self, piece: &[u8]) {
        self.mac.update(piece);
    }

    /// Compares the MAC with the header's (in constant time, `verify_slice`).
    pub fn finish(self) -> Result<Verified, VerifyError> {
        let Pending {
            mac,
            version,
            candidates,
        } = self;
        if candidates
            .iter()
            .any(|given| mac.clone().verify_slice(given).is_ok())
        {
            Ok(version)
        } else {
            Err(VerifyError::Mismatch)
        }
    }
}

/// `k=v` fields separated by commas (spaces around them ignored); unknown keys are kept
/// and ignored by the caller, so a later version can add fields.
fn parse(header: &str) -> Result<Vec<(&str, &str)>, VerifyError> {
    header
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.split_once('=')
                .map(|(k, v)| (k.trim(), v.trim()))
                .ok_or_else(|| VerifyError::Malformed(format!("{part:?} is not key=value")))
        })
        .collect()
}

/// A header value that can go into the signed string unambiguously: present, printable
/// ASCII, no `.` (the separator).
fn plain(header: &'static str, value: &str) -> Result<(), VerifyError> {
    let ok = !value.is_empty() && value.bytes().all(|b| b.is_ascii_graphic() && b != b'.');
    if ok {
        Ok(())
    } else {
        Err(VerifyError::BadHeader(header))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The worked example of docs/callbacks.md; the MACs were computed with
    // `printf '<signed string>' | openssl dgst -sha256 -hmac whsec_example`.
    const SECRET: &str = "whsec_example";
    const T: i64 = 1_764_295_801;
    const MEDIA: &str = "0b0e5a3c-55f1-4a0b-9a7e-1d2c3b4a5f60";
    const BODY: &[u8] = br#"{"status":"finished"}"#;
    const V1: &str = "d9d93c82a80eae7a2808e82fe49fbba9633cb73eb115a2852b99f829cfcb155b";
    const V2: &str = "4d91f1fab8a9b527ba968c0bd6c83616b8b8cd8d2d730a4df4d8ccb090be363e";

    fn header() -> String {
        format!("t={T},v1={V1},v2={V2}")
    }

    fn check(
        signature: &str,
        media_id: &str,
        callback_type: &str,
        body: &[u8],
        accept: Accept,
    ) -> Result<Verified, VerifyError> {
        let headers = CallbackHeaders {
            signature,
            media_id,
            callback_type,
        };
        verify(SECRET, headers, body, T + 10, 300, accept)
    }

    #[test]
    fn v2_verifies_and_covers_media_id_type_body_and_time() {
        let h = header();
        assert_eq!(
            check(&h, MEDIA, "analytics", BODY, Accept::V2Only),
            Ok(Verified::V2)
        );
        // Preferred even when v1 is accepted too.
        assert_eq!(
            check(&h, MEDIA, "analytics", BODY, Accept::V2OrLegacyV1),
            Ok(Verified::V2)
        );
        // Another media id, another type, another body: refused, with no fallback to v1
        // (whose MAC still matches, since it covers neither header).
        let other_media = "0b0e5a3c-55f1-4a0b-9a7e-1d2c3b4a5f61";
        for accept in [Accept::V2Only, Accept::V2OrLegacyV1] {
            assert_eq!(
                check(&h, other_media, "analytics", BODY, accept),
                Err(VerifyError::Mismatch)
            );
            assert_eq!(
                check(&h, MEDIA, "transcript", BODY, accept),
                Err(VerifyError::Mismatch)
            );
            assert_eq!(
                check(&h, MEDIA, "analytics", br#"{"status":"failed"}"#, accept),
                Err(VerifyError::Mismatch)
            );
        }
        // Another timestamp (within the tolerance): refused.
        let shifted = format!("t={},v1={V1},v2={V2}", T + 1);
        assert_eq!(
            check(&shifted, MEDIA, "analytics", BODY, Accept::V2Only),
            Err(VerifyError::Mismatch)
        );
        // Fields shifted across the separators are refused before any MAC.
        assert_eq!(
            check(&h, MEDIA, "analytics.x", BODY, Accept::V2Only),
            Err(VerifyError::BadHeader(CALLBACK_TYPE_HEADER))
        );
        assert_eq!(
            check(&h, "", "analytics", BODY, Accept::V2Only),
            Err(VerifyError::BadHeader(MEDIA_ID_HEADER))
        );
        // Another secret.
        let headers = CallbackHeaders {
            signature: &h,
            media_id: MEDIA,
            callback_type: "analytics",
        };
        assert_eq!(
            verify("whsec_other", headers, BODY, T, 300, Accept::V2Only),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn a_body_in_pieces_verifies_like_a_whole_one() {
        let h = header();
        let headers = CallbackHeaders {
            signature: &h,
            media_id: MEDIA,
            callback_type: "analytics",
        };
        let mut pending = Pending::new(SECRET, headers, T, 300, Accept::V2Only).unwrap();
        for piece in BODY.chunks(4) {
            pending.update(piece);
        }
        assert_eq!(pending.finish(), Ok(Verified::V2));
        let mut pending = Pending::new(SECRET, headers, T, 300, Accept::V2Only).unwrap();
        pending.update(&BODY[1..]);
        assert_eq!(pending.finish(), Err(VerifyError::Mismatch));
    }

    #[test]
    fn old_timestamps_are_refused() {
        let headers = CallbackHeaders {
            signature: &header(),
            media_id: MEDIA,
            callback_type: "analytics",
        };
        assert_eq!(
            verify(SECRET, headers, BODY, T + 301, 300, Accept::V2Only),
            Err(VerifyError::Stale {
                age: 301,
                tolerance: 300
            })
        );
        assert!(verify(SECRET, headers, BODY, T - 300, 300, Accept::V2Only).is_ok());
    }

    #[test]
    fn v1_alone_only_when_legacy_is_accepted() {
        let v1_only = format!("t={T},v1={V1}");
        assert_eq!(
            check(&v1_only, MEDIA, "analytics", BODY, Accept::V2Only),
            Err(VerifyError::V2Missing)
        );
        assert_eq!(
            check(&v1_only, MEDIA, "analytics", BODY, Accept::V2OrLegacyV1),
            Ok(Verified::V1)
        );
        // v1 covers body and time only.
        assert_eq!(
            check(&v1_only, "anything", "media", BODY, Accept::V2OrLegacyV1),
            Ok(Verified::V1)
        );
        assert_eq!(
            check(&v1_only, MEDIA, "analytics", b"{}", Accept::V2OrLegacyV1),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn malformed_headers_are_refused() {
        for bad in [
            "",
            "v2=00",
            "t=x,v2=00",
            "t=1,t=2,v2=00",
            "t=1764295801",
            "garbage",
        ] {
            let r = check(bad, MEDIA, "analytics", BODY, Accept::V2Only);
            assert!(
                matches!(r, Err(VerifyError::Malformed(_))),
                "{bad:?}: {r:?}"
            );
        }
        // A v2 that is not hex, or too short, is a mismatch.
        for bad in [format!("t={T},v2=zz"), format!("t={T},v2={}", &V2[..32])] {
            assert_eq!(
                check(&bad, MEDIA, "analytics", BODY, Accept::V2Only),
                Err(VerifyError::Mismatch)
            );
        }
        // Spaces and unknown fields (a later version) are fine.
        let spaced = format!(" t={T} , v1={V1}, v3=abc , v2={V2} ");
        assert_eq!(
            check(&spaced, MEDIA, "analytics", BODY, Accept::V2Only),
            Ok(Verified::V2)
        );
    }
}
