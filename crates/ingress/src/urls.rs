//! Customer URLs the server is asked to call (`mediaUrl`, callback URLs):
//! what their text shows (scheme, port, literal addresses) checked up front,
//! with a specific message, and the submission-time probe. Where connections
//! may actually go is decided by the connector in [`crate::outbound`].

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use http::{HeaderMap, HeaderValue, Method};
use sealscribe_domain::codes;

use crate::addrs::Destinations;
use crate::outbound::{Outbound, Redirects, body_bytes};

/// What URLs the server may fetch.
#[derive(Clone, Debug)]
pub struct UrlPolicy {
    /// Where connections may go (addresses and ports), checked by the
    /// connector for every connection.
    pub destinations: Destinations,
    pub max_bytes: u64,
    pub timeout: Duration,
}

/// What the customer is told when a `mediaUrl` cannot be fetched, whatever
/// the reason (refused address, closed port, HTTP error): the reasons go to
/// the log, so that the answer cannot be used to map the operator's network.
pub const UNREACHABLE: &str = "Could not fetch the media URL. It must be reachable from the internet \
     over http or https and answer a GET with the media file.";

/// The HTTP client for customer URLs: every connection, redirect hop and IP
/// literal included, goes only where `policy.destinations` allows; no proxy.
pub fn http_client(policy: &UrlPolicy) -> Outbound {
    Outbound::new(policy.destinations.clone())
}

/// Checks a URL the server is asked to call (`what` names it in messages, e.g.
/// "mediaUrl") as far as its text shows: scheme, syntax, port and, for literal
/// IP addresses, the address. These answers depend on the URL alone, so they
/// can be specific; the connector checks again whatever a host name resolves to.
///
/// # Errors
///
/// A message for the customer naming `what` when the URL may not be called.
pub fn check_url(what: &str, url: &str, policy: &UrlPolicy) -> Result<url::Url, String> {
    let parsed =
        url::Url::parse(url.trim()).map_err(|e| format!("{what} is not a valid URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "{what} must be an http or https URL, not {}:",
            parsed.scheme()
        ));
    }
    let Some(host) = parsed.host() else {
        return Err(format!("{what} has no host"));
    };
    let destinations = &policy.destinations;
    if destinations.allow_all {
        return Ok(parsed);
    }
    let port = parsed.port_or_known_default().unwrap_or(80);
    if !destinations.ports.allows(port) {
        return Err(format!(
            "{what} uses port {port}; this server only calls ports {}",
            destinations.ports
        ));
    }
    let ip = match host {
        url::Host::Ipv4(ip) => IpAddr::V4(ip),
        url::Host::Ipv6(ip) => IpAddr::V6(ip),
        url::Host::Domain(d) => {
            let d = d.trim_end_matches('.');
            if d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost")
            {
                return Err(format!(
                    "{what} must not point at this server's own network"
                ));
            }
            return Ok(parsed);
        }
    };
    if destinations.check(SocketAddr::new(ip, port)).is_err() {
        return Err(format!("{what} must point at a public address"));
    }
    Ok(parsed)
}

/// Checks at submission time that a `mediaUrl` is allowed and answers, with a
/// one-byte ranged GET, so that a dead link is a 4xx now rather than a failed
/// job later. Every network outcome gets the same answer ([`UNREACHABLE`]);
/// the reason is logged (in the request's span, with its id).
///
/// # Errors
///
/// The v3 code and a message for the customer when the URL may not be called
/// or does not answer with a success status.
pub async fn check_reachable(
    client: &Outbound,
    policy: &UrlPolicy,
    url: &str,
) -> Result<url::Url, (u32, String)> {
    let parsed = check_url("mediaUrl", url, policy).map_err(|m| (codes::MEDIA_URL_MALFORMED, m))?;
    let mut headers = HeaderMap::new();
    headers.insert(http::header::RANGE, HeaderValue::from_static("bytes=0-0"));
    let outcome = client
        .send(
            Method::GET,
            &parsed,
            headers,
            body_bytes(Vec::new()),
            Redirects::Follow,
            Duration::from_secs(15),
        )
        .await;
    let why = match outcome {
        Ok(r) if r.status.is_success() => return Ok(parsed),
        Ok(r) => format!("answered HTTP {}", r.status),
        Err(e) => e.to_string(),
    };
    tracing::warn!(reason = %why, "mediaUrl refused at submission");
    Err((codes::MEDIA_URL_UNREACHABLE, UNREACHABLE.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_are_refused_unless_allowed() {
        let strict = UrlPolicy {
            destinations: Destinations::default(),
            max_bytes: 1,
            timeout: Duration::from_secs(1),
        };
        let open = UrlPolicy {
            destinations: Destinations {
                allow_all: true,
                ..Destinations::default()
            },
            ..strict.clone()
        };
        for url in [
            "http://127.0.0.1/a.wav",
            "http://10.1.2.3/",
            "http://[::1]/",
            "http://localhost:8080/",
            "http://169.254.169.254/latest",
            "http://[::ffff:127.0.0.1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://0x7f.1/",
            "http://2130706433/",
            "http://example.com:8080/",
            "http://a.localhost./",
        ] {
            assert!(check_url("mediaUrl", url, &strict).is_err(), "{url}");
            assert!(check_url("mediaUrl", url, &open).is_ok(), "{url}");
        }
        assert!(check_url("mediaUrl", "https://example.com/a.mp3", &strict).is_ok());
        assert!(check_url("mediaUrl", "ftp://example.com/a.mp3", &open).is_err());
        assert!(check_url("mediaUrl", "not a url", &open).is_err());
    }
}
