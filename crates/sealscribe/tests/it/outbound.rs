//! Outbound requests of the real server (issue 14): a `mediaUrl` on an
//! allowed address that redirects inside is refused at connect time, at
//! submission and in the worker, with one generic answer and nothing stored;
//! callbacks never follow a redirect and no request goes through a proxy
//! named in the environment.
//!
//! The server allows exactly one network (`127.0.0.1`) and the ports of the
//! test's entry listeners — the way an operator allows an internal media
//! server — so the production check decides everything else.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use crate::common::{Env, Server, expect_error, serve_file};

/// A listener that answers its n-th request (from 0) with `respond(n)` and
/// closes the connection; counts the connections it accepted.
struct Scripted {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
}

impl Scripted {
    fn start(respond: impl Fn(usize) -> Vec<u8> + Send + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let count = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let n = count.fetch_add(1, Ordering::SeqCst);
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = stream.write_all(&respond(n));
            }
        });
        Self { addr, hits }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn url(&self) -> String {
        format!("http://{}/recording.wav", self.addr)
    }
}

fn ok(body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: audio/wav\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn redirect(location: &str) -> Vec<u8> {
    format!("HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        .into_bytes()
}

async fn submit(server: &Server, token: &str, url: &str) -> reqwest::Response {
    server
        .http
        .post(server.url("/v3/media"))
        .bearer_auth(token)
        .multipart(reqwest::multipart::Form::new().text("mediaUrl", url.to_owned()))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn media_urls_redirecting_inside_are_refused_at_connect_time() {
    let env = Env::new();
    let token = env.create_account("acme");
    let audio = std::fs::read(env.speech("inside", "Internal only.")).unwrap();

    // Inside: on 127.0.0.1 like the entries, but on a port that is not allowed.
    let inside = Scripted::start({
        let audio = audio.clone();
        move |_| ok(&audio)
    });
    let to_inside = format!("http://{}/secret.wav", inside.addr);
    // Redirects inside from the first request (the submission probe).
    let always = Scripted::start({
        let to = to_inside.clone();
        move |_| redirect(&to)
    });
    // Answers the submission probe, then redirects the worker's fetch: one
    // inside, one to the cloud metadata address on an allowed port.
    let flip = Scripted::start({
        let (audio, to) = (audio.clone(), to_inside.clone());
        move |n| if n == 0 { ok(&audio) } else { redirect(&to) }
    });
    let metadata_port = flip.addr.port();
    let to_metadata = Scripted::start({
        let audio = audio.clone();
        move |n| {
            if n == 0 {
                ok(&audio)
            } else {
                redirect(&format!(
                    "http://169.254.169.254:{metadata_port}/latest/meta-data/"
                ))
            }
        }
    });
    let missing = serve_file(Vec::new(), 404);
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let missing_port = url::Url::parse(&missing).unwrap().port().unwrap();
    let ports = [
        always.addr.port(),
        flip.addr.port(),
        to_metadata.addr.port(),
        missing_port,
        closed.port(),
    ]
    .map(|p| p.to_string())
    .join(",");
    let server = env.start_with(&[
        "--outbound-allow-networks",
        "127.0.0.1",
        "--outbound-ports",
        &ports,
    ]);

    // Submission: refused, closed and 404 read the same.
    let mut messages = Vec::new();
    for url in [
        always.url(),
        format!("http://{closed}/a.wav"),
        missing.clone(),
    ] {
        messages.push(expect_error(submit(&server, &token, &url).await, 400, 10203).await);
    }
    assert!(messages.iter().all(|m| *m == messages[0]), "{messages:?}");
    assert!(
        messages[0].contains("Could not fetch the media URL"),
        "{messages:?}"
    );
    // A literal inside address is refused from its text alone.
    expect_error(submit(&server, &token, &to_inside).await, 400, 10204).await;

    // In the worker: accepted (the probe was answered), then refused.
    for entry in [&flip, &to_metadata] {
        let resp = submit(&server, &token, &entry.url()).await;
        assert_eq!(resp.status(), 200);
        let id = resp.json::<Value>().await.unwrap()["mediaId"]
            .as_str()
            .unwrap()
            .to_owned();
        let doc = server.wait(&token, &id).await;
        assert_eq!(doc["status"], "failed", "{doc}");
        assert_eq!(doc["errors"][0]["code"], 10203, "{doc}");
        assert_eq!(doc["errors"][0]["error"], messages[0].as_str(), "{doc}");
        let original = server
            .http
            .get(server.url(&format!("/v3/media/{id}/streams/original")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            original.status(),
            404,
            "a failed fetch leaves nothing servable"
        );
    }
    assert_eq!(inside.hits(), 0, "the inside listener was connected to");
    // The reasons are in the log, for the operator.
    let log = env.log();
    assert!(log.contains(&format!("{}: port", inside.addr)), "{log}");
    assert!(log.contains("169.254.169.254"), "{log}");
    assert!(log.contains("link-local"), "{log}");
}
