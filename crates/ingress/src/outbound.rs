//! The HTTP client for customer URLs (`mediaUrl`s, callbacks), with the
//! destination check where the socket is opened.
//!
//! # Why a connector of our own
//!
//! A check in a DNS resolver (what this crate had before) is skipped for IP
//! literals — hyper connects to `http://127.0.0.1/` without asking the
//! resolver — so a public URL answering `302 Location: http://169.254.169.254/`
//! reached the cloud metadata service. reqwest offers no hook that sees the
//! address it is about to connect to (its `connector_layer` gets an opaque
//! request and must return reqwest's own sealed connection type), and an
//! environment proxy (`HTTP_PROXY`) would bypass any address check anyway.
//!
//! So this client is hyper with a connector of ours (`Guarded`): it takes
//! the URI hyper wants a connection for, resolves the host (or parses the
//! literal), checks **every socket address** against [`Destinations`] and
//! opens TCP connections only to addresses that passed. Every connection goes
//! through it — the first request, each redirect hop (followed here, one
//! request at a time, so each hop is a new connector call for a new host) and
//! IP literals alike — and nothing else opens sockets: there is no proxy
//! support, so the environment is never read. TLS (hyper-rustls, the
//! platform's roots) runs on top of the checked TCP stream.
//!
//! # What the customer sees
//!
//! [`OutboundError`] carries the detail (refused address, connection refused,
//! HTTP status) for the log. Callers show the customer one generic sentence
//! for every network outcome, so that a `mediaUrl` cannot be used to tell a
//! closed port from a refused address from a 404 (a port scanner).

use std::error::Error as _;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, TryStreamExt};
use http::header::{HeaderMap, HeaderValue, LOCATION, USER_AGENT};
use http::{Method, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::{Frame, Incoming};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::addrs::{Destinations, Refusal};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Redirects a `mediaUrl` fetch follows.
pub const MAX_REDIRECTS: usize = 5;

/// Time allowed to open one TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// A request body.
pub type Body = UnsyncBoxBody<Bytes, BoxError>;

/// A body of bytes in memory.
pub fn body_bytes(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|e| match e {})
        .boxed_unsync()
}

/// A body streamed from `stream`.
pub fn body_stream<S, E>(stream: S) -> Body
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<BoxError> + 'static,
{
    BodyExt::boxed_unsync(StreamBody::new(
        stream.map_ok(Frame::data).map_err(Into::into),
    ))
}

/// Why a request to a customer URL failed: detail for the log, never for
/// the customer.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// The destination check refused every address of the host.
    #[error("refused: {0}")]
    Refused(Refusal),
    #[error("{host} has no address: {detail}")]
    NoAddress { host: String, detail: String },
    #[error("timed out")]
    Timeout,
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    #[error("redirect to an unusable location: {0}")]
    BadRedirect(String),
    #[error("connection failed: {0}")]
    Transport(String),
}

impl OutboundError {
    /// The connector's refusal, if that is why the request failed.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            OutboundError::Refused(r) => Some(r),
            _ => None,
        }
    }

    /// From hyper's error: the refusal or lookup failure the connector
    /// reported, or the innermost cause in words.
    fn from_client(e: &hyper_util::client::legacy::Error) -> Self {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
        let mut detail = e.to_string();
        while let Some(s) = source {
            if let Some(ConnectError(inner)) = s.downcast_ref::<ConnectError>() {
                return match inner {
                    Connect::Refused(r) => OutboundError::Refused(r.clone()),
                    Connect::NoAddress { host, detail } => OutboundError::NoAddress {
                        host: host.clone(),
                        detail: detail.clone(),
                    },
                    Connect::Io(m) => OutboundError::Transport(m.clone()),
                };
            }
            detail = s.to_string();
            source = s.source();
        }
        OutboundError::Transport(detail)
    }
}

#[derive(Debug)]
enum Connect {
    Refused(Refusal),
    NoAddress { host: String, detail: String },
    Io(String),
}

/// What [`Guarded`] fails with (found again in hyper's error chain).
#[derive(Debug)]
struct ConnectError(Connect);

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Connect::Refused(r) => write!(f, "refused: {r}"),
            Connect::NoAddress { host, detail } => write!(f, "{host} has no address: {detail}"),
            Connect::Io(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ConnectError {}

/// The connector: resolve, check every address, connect only to those that
/// passed (in the resolver's order, the first that answers).
#[derive(Clone)]
struct Guarded {
    destinations: Arc<Destinations>,
}

impl Guarded {
    async fn connect(self, uri: Uri) -> Result<TokioIo<TcpStream>, ConnectError> {
        let host = uri
            .host()
            .ok_or_else(|| ConnectError(Connect::Io("no host in the URL".into())))?;
        let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
            Some("https") => 443,
            _ => 80,
        });
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let candidates: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((bare, port))
                .await
                .map_err(|e| {
                    ConnectError(Connect::NoAddress {
                        host: bare.to_owned(),
                        detail: e.to_string(),
                    })
                })?
                .collect(),
        };
        let mut first_refusal = None;
        let mut last_error = None;
        for addr in candidates {
            if let Err(refusal) = self.destinations.check(addr) {
                tracing::debug!(%refusal, "outbound connection refused");
                first_refusal.get_or_insert(refusal);
                continue;
            }
            match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    return Ok(TokioIo::new(stream));
                }
                Ok(Err(e)) => last_error = Some(format!("{addr}: {e}")),
                Err(_) => last_error = Some(format!("{addr}: connection timed out")),
            }
        }
        Err(ConnectError(match (last_error, first_refusal) {
            (Some(e), _) => Connect::Io(e),
            (None, Some(r)) => Connect::Refused(r),
            (None, None) => Connect::NoAddress {
                host: bare.to_owned(),
                detail: "the lookup returned nothing".into(),
            },
        }))
    }
}

impl tower_service::Service<Uri> for Guarded {
    type Response = TokioIo<TcpStream>;
    type Error = ConnectError;
    type Future = Pin<Box<dyn Future<Output = Result<TokioIo<TcpStream>, ConnectError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), ConnectError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        Box::pin(self.clone().connect(uri))
    }
}

/// Whether a request follows redirects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Redirects {
    /// Up to [`MAX_REDIRECTS`] (`mediaUrl` fetches; GET only).
    Follow,
    /// A 3xx is the answer (callbacks: a redirect must not re-send the body
    /// somewhere else).
    Never,
}

/// The client for customer URLs. Cheap to clone.
#[derive(Clone)]
pub struct Outbound {
    client: Client<HttpsConnector<Guarded>, Body>,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Outbound")
    }
}

/// A response whose body is still to be read, under the request's deadline.
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    body: Incoming,
    deadline: Instant,
}

impl Response {
    /// The `Content-Length` the server declared.
    pub fn content_length(&self) -> Option<u64> {
        self.headers
            .get(http::header::CONTENT_LENGTH)?
            .to_str()
            .ok()?
            .parse()
            .ok()
    }

    /// The next piece of the body; `None` at its end.
    ///
    /// # Errors
    ///
    /// The transfer broke or the request's time ran out.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, OutboundError> {
        loop {
            let frame = tokio::time::timeout_at(self.deadline, self.body.frame())
                .await
                .map_err(|_| OutboundError::Timeout)?;
            match frame {
                None => return Ok(None),
                Some(Err(e)) => {
                    let mut detail = e.to_string();
                    let mut s = e.source();
                    while let Some(inner) = s {
                        detail = inner.to_string();
                        s = inner.source();
                    }
                    return Err(OutboundError::Transport(detail));
                }
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        return Ok(Some(data));
                    }
                }
            }
        }
    }
}

impl Outbound {
    /// A client whose connections go only where `destinations` allows.
    pub fn new(destinations: Destinations) -> Self {
        let tls = tls_config();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(Guarded {
                destinations: Arc::new(destinations),
            });
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Self { client }
    }

    /// Sends a request; with [`Redirects::Follow`] (GET without a body
    /// only) follows redirects, each hop through the same checked connector.
    /// `timeout` covers everything up to the end of the body.
    ///
    /// # Errors
    ///
    /// Why no response came (see [`OutboundError`]).
    pub async fn send(
        &self,
        method: Method,
        url: &url::Url,
        headers: HeaderMap,
        body: Body,
        redirects: Redirects,
        timeout: Duration,
    ) -> Result<Response, OutboundError> {
        let deadline = Instant::now() + timeout;
        let mut url = url.clone();
        let mut body = Some(body);
        for _hop in 0..=MAX_REDIRECTS {
            let mut request = http::Request::builder()
                .method(method.clone())
                .uri(url.as_str())
                .body(
                    body.take()
                        .unwrap_or_else(|| Empty::new().map_err(|e| match e {}).boxed_unsync()),
                )
                .map_err(|e| OutboundError::BadRedirect(e.to_string()))?;
            *request.headers_mut() = headers.clone();
            request.headers_mut().insert(
                USER_AGENT,
                HeaderValue::from_static(concat!("sealscribe/", env!("CARGO_PKG_VERSION"))),
            );
            let response = tokio::time::timeout_at(deadline, self.client.request(request))
                .await
                .map_err(|_| OutboundError::Timeout)?
                .map_err(|e| OutboundError::from_client(&e))?;
            let (parts, incoming) = response.into_parts();
            let follow = redirects == Redirects::Follow
                && method == Method::GET
                && matches!(parts.status.as_u16(), 301 | 302 | 303 | 307 | 308);
            if !follow {
                return Ok(Response {
                    status: parts.status,
                    headers: parts.headers,
                    body: incoming,
                    deadline,
                });
            }
            url = next_hop(&url, parts.headers.get(LOCATION))?;
        }
        Err(OutboundError::TooManyRedirects)
    }
}

/// Where a redirect points: an http(s) URL, relative ones resolved against
/// the current one. Its address is checked when the connector opens it.
fn next_hop(current: &url::Url, location: Option<&HeaderValue>) -> Result<url::Url, OutboundError> {
    let location = location
        .and_then(|l| l.to_str().ok())
        .ok_or_else(|| OutboundError::BadRedirect("no Location".into()))?;
    let next = current
        .join(location)
        .map_err(|e| OutboundError::BadRedirect(e.to_string()))?;
    if !matches!(next.scheme(), "http" | "https") || next.host().is_none() {
        return Err(OutboundError::BadRedirect(format!("{} URL", next.scheme())));
    }
    Ok(next)
}

/// rustls on aws-lc-rs (the provider the rest of the workspace uses) with the
/// platform's trust roots.
fn tls_config() -> rustls::ClientConfig {
    use rustls_platform_verifier::BuilderVerifierExt;
    rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .and_then(BuilderVerifierExt::with_platform_verifier)
    .expect("the TLS configuration is valid")
    .with_no_client_auth()
}
