//! The outbound client against real local listeners: the connector's check
//! (the production one, `Destinations::check` inside `Outbound`) is what
//! refuses, and refused destinations never see a connection.
//!
//! The tests allow exactly one listener (`127.0.0.1` on its own port) the way
//! an operator allows an internal media server, then make it redirect to
//! addresses that are not allowed.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::{HeaderMap, Method, StatusCode};
use sealscribe_ingress::addrs::parse_network;
use sealscribe_ingress::outbound::body_bytes;
use sealscribe_ingress::{
    Destinations, Outbound, OutboundError, PortList, Redirects, Refusal, UrlPolicy, check_reachable,
};

/// A listener that answers every request with `head` (and `body`), counting
/// the connections it accepts.
struct Listener {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
}

impl Listener {
    fn start(ip: &str, respond: impl Fn(SocketAddr) -> String + Send + 'static) -> Self {
        let listener = TcpListener::bind((ip, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let count = connections.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = stream.write_all(respond(addr).as_bytes());
            }
        });
        Self { addr, connections }
    }

    fn serving(ip: &str, body: &'static str) -> Self {
        Self::start(ip, move |_| {
            format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
        })
    }

    fn redirecting(status: u16, location: String) -> Self {
        Self::start("127.0.0.1", move |_| {
            format!(
                "HTTP/1.1 {status} Moved\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            )
        })
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Only `allowed` (its address and its port) may be reached.
fn only(allowed: SocketAddr) -> Destinations {
    Destinations {
        allow_all: false,
        allow_networks: vec![parse_network(&allowed.ip().to_string()).unwrap()],
        ports: PortList(vec![allowed.port()..=allowed.port()]),
    }
}

async fn get(client: &Outbound, url: &str) -> Result<(StatusCode, String), OutboundError> {
    let url = url::Url::parse(url).unwrap();
    let mut r = client
        .send(
            Method::GET,
            &url,
            HeaderMap::new(),
            body_bytes(Vec::new()),
            Redirects::Follow,
            Duration::from_secs(10),
        )
        .await?;
    let mut body = Vec::new();
    while let Some(c) = r.chunk().await? {
        body.extend_from_slice(&c);
    }
    Ok((r.status, String::from_utf8(body).unwrap()))
}

#[tokio::test]
async fn the_allowed_listener_is_reached_and_its_redirects_followed() {
    let target = Listener::serving("127.0.0.1", "media bytes");
    // Positive control: with the target's address and port allowed, the
    // client fetches through a redirect.
    let hop = Listener::redirecting(302, format!("http://{}/a.wav", target.addr));
    let client = Outbound::new(Destinations {
        allow_all: false,
        allow_networks: vec![parse_network("127.0.0.1").unwrap()],
        ports: PortList(vec![
            hop.addr.port()..=hop.addr.port(),
            target.addr.port()..=target.addr.port(),
        ]),
    });
    let (status, body) = get(&client, &format!("http://{}/a.wav", hop.addr))
        .await
        .unwrap();
    assert_eq!((status.as_u16(), body.as_str()), (200, "media bytes"));
    assert_eq!(target.connections(), 1);
}

#[tokio::test]
async fn a_redirect_to_another_loopback_port_is_refused_at_connect_time() {
    let inside = Listener::serving("127.0.0.1", "internal admin page");
    let entry = Listener::redirecting(302, format!("http://{}/admin", inside.addr));
    let client = Outbound::new(only(entry.addr));
    let err = get(&client, &format!("http://{}/a.wav", entry.addr))
        .await
        .unwrap_err();
    assert_eq!(
        err.refusal(),
        Some(&Refusal::Port { addr: inside.addr }),
        "{err}"
    );
    assert_eq!(entry.connections(), 1);
    assert_eq!(
        inside.connections(),
        0,
        "the refused address saw a connection"
    );
}

#[tokio::test]
async fn a_redirect_to_link_local_or_another_loopback_address_is_refused() {
    // Same port as the allowed listener, so only the address can refuse.
    let port = Listener::serving("127.0.0.1", "").addr.port();
    for location in [
        format!("http://169.254.169.254:{port}/latest/meta-data/"),
        format!("http://127.0.0.2:{port}/"),
        format!("http://[::ffff:127.0.0.2]:{port}/"),
        format!("http://[64:ff9b::a9fe:a9fe]:{port}/"),
        format!("http://[::1]:{port}/"),
        format!("http://0x7f000002:{port}/"),
    ] {
        let entry = Listener::start("127.0.0.1", {
            let location = location.clone();
            move |_| {
                format!("HTTP/1.1 307 Moved\r\nlocation: {location}\r\ncontent-length: 0\r\n\r\n")
            }
        });
        let allowed = SocketAddr::new(entry.addr.ip(), entry.addr.port());
        let mut destinations = only(allowed);
        destinations.ports = PortList(vec![entry.addr.port()..=entry.addr.port(), port..=port]);
        let client = Outbound::new(destinations);
        let err = get(&client, &format!("http://{}/a.wav", entry.addr))
            .await
            .unwrap_err();
        assert!(
            matches!(err.refusal(), Some(Refusal::Address { .. })),
            "{location}: {err}"
        );
    }
}

#[tokio::test]
async fn ip_literals_and_local_names_are_refused_without_a_connection() {
    let listener = Listener::serving("127.0.0.1", "secret");
    let client = Outbound::new(Destinations {
        ports: PortList::any(),
        ..Destinations::default()
    });
    let port = listener.addr.port();
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://[::ffff:7f00:1]:{port}/"),
        format!("http://localhost:{port}/"),
        format!("https://127.0.0.1:{port}/"),
    ] {
        let err = get(&client, &url).await.unwrap_err();
        assert!(err.refusal().is_some(), "{url}: {err}");
    }
    assert_eq!(listener.connections(), 0);
    // The default port list refuses the port before the address matters.
    let client = Outbound::new(Destinations::default());
    let err = get(&client, &format!("http://198.51.100.1:{port}/"))
        .await
        .unwrap_err();
    assert!(matches!(err.refusal(), Some(Refusal::Port { .. })), "{err}");
}

#[tokio::test]
async fn redirects_are_not_followed_when_never() {
    let receiver = Listener::serving("127.0.0.1", "");
    let entry = Listener::redirecting(307, format!("http://{}/hook", receiver.addr));
    let client = Outbound::new(Destinations {
        allow_all: true,
        ..Destinations::default()
    });
    let url = url::Url::parse(&format!("http://{}/hook", entry.addr)).unwrap();
    let response = client
        .send(
            Method::POST,
            &url,
            HeaderMap::new(),
            body_bytes(&b"signed body"[..]),
            Redirects::Never,
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert_eq!(response.status.as_u16(), 307);
    assert_eq!(receiver.connections(), 0);
}

#[tokio::test]
async fn the_submission_check_says_the_same_for_refused_closed_and_404() {
    let missing = Listener::start("127.0.0.1", |_| {
        "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into()
    });
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let inside = Listener::serving("127.0.0.1", "x");
    let redirect = Listener::redirecting(302, format!("http://{}/", inside.addr));
    let policy = UrlPolicy {
        destinations: Destinations {
            allow_all: false,
            allow_networks: vec![parse_network("127.0.0.1").unwrap()],
            ports: PortList(
                [missing.addr, redirect.addr, closed]
                    .iter()
                    .map(|a| a.port()..=a.port())
                    .collect(),
            ),
        },
        max_bytes: 1,
        timeout: Duration::from_secs(5),
    };
    let client = sealscribe_ingress::http_client(&policy);
    let mut answers = Vec::new();
    for addr in [missing.addr, closed, redirect.addr] {
        let err = check_reachable(&client, &policy, &format!("http://{addr}/a.wav"))
            .await
            .unwrap_err();
        answers.push(err);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    assert_eq!(answers[0].1, sealscribe_ingress::UNREACHABLE);
    assert_eq!(inside.connections(), 0);
}
