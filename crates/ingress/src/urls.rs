//! Customer URLs the server is asked to call (`mediaUrl`, callback URLs):
//! which ones it may call, and an HTTP client that holds to that even when a
//! hostname resolves to the operator's own network (SSRF).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use sealscribe_domain::codes;

/// What URLs the server may fetch.
#[derive(Clone, Copy, Debug)]
pub struct UrlPolicy {
    /// Allow loopback, private, link-local and other non-public addresses.
    pub allow_private: bool,
    pub max_bytes: u64,
    pub timeout: Duration,
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1]) // CGNAT
                || v4.octets()[0] == 0)
        }
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (seg[0] & 0xfe00) == 0xfc00 // unique local
                || (seg[0] & 0xffc0) == 0xfe80 // link local
                || v6.to_ipv4_mapped().is_some_and(|v4| !is_public(IpAddr::V4(v4))))
        }
    }
}

/// A DNS resolver that drops non-public addresses, so a hostname cannot be
/// used to reach the operator's internal network.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<_> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP client for customer URLs: bounded in time, at most 5 redirects,
/// and (unless the policy allows private addresses) a resolver that only
/// answers with public addresses.
pub fn http_client(policy: &UrlPolicy) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(15))
        .timeout(policy.timeout)
        .redirect(reqwest::redirect::Policy::limited(5))
        .user_agent(concat!("sealscribe/", env!("CARGO_PKG_VERSION")));
    if !policy.allow_private {
        builder = builder.dns_resolver(Arc::new(PublicOnly));
    }
    builder.build().expect("HTTP client configuration is valid")
}

/// Checks a URL the server is asked to call (`what` names it in messages, e.g.
/// "mediaUrl"): scheme, syntax and, for literal IP addresses (which never go
/// through the resolver), that the address is allowed.
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
    if !policy.allow_private {
        let ip = match host {
            url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            url::Host::Domain(d) if d.eq_ignore_ascii_case("localhost") => {
                return Err(format!(
                    "{what} must not point at this server's own network"
                ));
            }
            url::Host::Domain(_) => None,
        };
        if ip.is_some_and(|ip| !is_public(ip)) {
            return Err(format!("{what} must point at a public address"));
        }
    }
    Ok(parsed)
}

/// A reqwest error in words, without the URL (which may carry credentials).
pub fn describe_error(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_redirect() {
        "too many redirects"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind} ({detail})")
    }
}

/// Checks at submission time that a `mediaUrl` is allowed and answers, with a
/// one-byte ranged GET, so that a dead link is a 4xx now rather than a failed
/// job later.
///
/// # Errors
///
/// The v3 code and a message for the customer when the URL may not be called
/// or does not answer with a success status.
pub async fn check_reachable(
    client: &reqwest::Client,
    policy: &UrlPolicy,
    url: &str,
) -> Result<url::Url, (u32, String)> {
    let parsed = check_url("mediaUrl", url, policy).map_err(|m| (codes::MEDIA_URL_MALFORMED, m))?;
    let request = client
        .get(parsed.clone())
        .header(reqwest::header::RANGE, "bytes=0-0")
        .timeout(Duration::from_secs(15));
    match request.send().await {
        Ok(r) if r.status().is_success() => Ok(parsed),
        Ok(r) => Err((
            codes::MEDIA_URL_HTTP_ERROR,
            format!(
                "mediaUrl answered HTTP {}; it must return the media file",
                r.status()
            ),
        )),
        Err(e) => Err((
            codes::MEDIA_URL_UNREACHABLE,
            format!("mediaUrl could not be reached: {}", describe_error(&e)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_are_refused_unless_allowed() {
        let strict = UrlPolicy {
            allow_private: false,
            max_bytes: 1,
            timeout: Duration::from_secs(1),
        };
        let open = UrlPolicy {
            allow_private: true,
            ..strict
        };
        for url in [
            "http://127.0.0.1/a.wav",
            "http://10.1.2.3/",
            "http://[::1]/",
            "http://localhost:8080/",
            "http://169.254.169.254/latest",
        ] {
            assert!(check_url("mediaUrl", url, &strict).is_err(), "{url}");
            assert!(check_url("mediaUrl", url, &open).is_ok(), "{url}");
        }
        assert!(check_url("mediaUrl", "https://example.com/a.mp3", &strict).is_ok());
        assert!(check_url("mediaUrl", "ftp://example.com/a.mp3", &open).is_err());
        assert!(check_url("mediaUrl", "not a url", &open).is_err());
    }
}
