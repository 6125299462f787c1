//! HTTP limits against the real binary: what one client can make the server
//! hold (memory, connections, database parameters) is bounded by settings, and
//! each refusal is a v3 envelope with its own code.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{Env, Server, expect_error, files_under, json_part};

/// A short WAV (silence) the upload sniff accepts.
fn wav() -> Vec<u8> {
    let data = vec![0u8; 3200];
    let mut out = sealscribe_testkit::wav::header(data.len() as u32).to_vec();
    out.extend_from_slice(&data);
    out
}

fn host_port(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

/// Reads an HTTP response from `stream` until the server closes it (or `guard`
/// passes, which fails the test: the server must answer, not hang).
async fn read_response(stream: &mut tokio::net::tcp::OwnedReadHalf, guard: Duration) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let read = tokio::time::timeout(guard, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    out.extend_from_slice(&buf[..n]);
                    if let Some(end) = find(&out, b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&out[..end]).to_ascii_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok());
                        if len.is_some_and(|len| out.len() >= end + 4 + len) {
                            break;
                        }
                    }
                }
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer within {guard:?}");
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The JSON body of a raw HTTP response.
fn json_body(response: &[u8]) -> Value {
    let end = find(response, b"\r\n\r\n").expect("a response head");
    serde_json::from_slice(&response[end + 4..]).expect("a JSON body")
}

/// The attack: 400 MB of "multipart" without its boundary, streamed.
/// The server refuses it once the preamble cap is passed, and its memory stays
/// flat (the previous parser buffered and rescanned everything: ~190 MB, a
/// minute of CPU).
#[tokio::test]
async fn a_body_without_its_boundary_is_refused_and_memory_stays_flat() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start_with(&["--workers", "0"]);
    let pid = server.pid();
    let before = sealscribe_testkit::proc::rss_kib(pid);

    let total: u64 = 400 << 20;
    let stream = TcpStream::connect(host_port(&server)).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let head = format!(
        "POST /v3/media HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\n\
         content-type: multipart/form-data; boundary=never-sent\r\ncontent-length: {total}\r\n\r\n"
    );
    let writer = tokio::spawn(async move {
        write.write_all(head.as_bytes()).await?;
        let chunk = vec![b'a'; 64 << 10];
        let mut sent = 0u64;
        while sent < total {
            write.write_all(&chunk).await?;
            sent += chunk.len() as u64;
        }
        std::io::Result::Ok(sent)
    });
    let response = read_response(&mut read, Duration::from_secs(60)).await;
    let status_line = String::from_utf8_lossy(&response[..response.len().min(12)]).into_owned();
    assert!(status_line.starts_with("HTTP/1.1 400"), "{status_line}");
    let body = json_body(&response);
    assert_eq!(body["errors"][0]["code"], 10802, "{body}");
    // The server stopped reading: the client could not send it all.
    let sent = writer.await.unwrap();
    assert!(sent.is_err(), "the server read all 400 MB");

    let peak = sealscribe_testkit::proc::peak_rss_kib(pid);
    let growth_mib = peak.saturating_sub(before) as f64 / 1024.0;
    println!("server RSS {before} KiB before, peak {peak} KiB: growth {growth_mib:.1} MiB");
    assert!(growth_mib < 64.0, "server grew by {growth_mib:.1} MiB");

    // Part headers that never end, and too many parts, are refused too.
    let mut endless = b"--b\r\nx-long: ".to_vec();
    endless.extend(std::iter::repeat_n(b'a', 64 << 10));
    let resp = server
        .http
        .post(server.url("/v3/media"))
        .bearer_auth(&token)
        .header("content-type", "multipart/form-data; boundary=b")
        .body(endless)
        .send()
        .await
        .unwrap();
    expect_error(resp, 400, 10803).await;
    drop(server);

    let server = env.start_with(&["--workers", "0", "--max-parts", "4"]);
    // Four parts the upload knows, then a fifth: refused as it starts.
    let mut raw = Vec::new();
    for name in ["configuration", "metadata", "mediaUrl", "media", "fifth"] {
        raw.extend_from_slice(
            format!("--b\r\ncontent-disposition: form-data; name=\"{name}\"\r\n\r\n{{}}\r\n")
                .as_bytes(),
        );
    }
    raw.extend_from_slice(b"--b--\r\n");
    let resp = server
        .http
        .post(server.url("/v3/media"))
        .bearer_auth(&token)
        .header("content-type", "multipart/form-data; boundary=b")
        .body(raw)
        .send()
        .await
        .unwrap();
    expect_error(resp, 400, 10804).await;

    // A declared body over max upload + overhead is refused before it is read.
    let server = env.start_with(&[
        "--workers",
        "0",
        "--max-upload-bytes",
        "1000",
        "--max-request-overhead-bytes",
        "1000",
    ]);
    let resp = server
        .upload(&token, vec![0u8; 4000], Some("{}"), None)
        .await;
    expect_error(resp, 413, 10801).await;
}

/// 500 connections that send half a request head are closed by the header-read
/// timeout (set short here; the keep-alive timeout is long, so it is not what
/// closes them), and the server still answers afterwards.
#[tokio::test]
async fn half_sent_headers_are_closed_by_the_header_timeout() {
    let env = Env::new();
    let server = env.start_with(&[
        "--workers",
        "0",
        "--header-read-timeout-secs",
        "1",
        "--keep-alive-timeout-secs",
        "3600",
        "--max-connections",
        "2000",
    ]);
    let addr = host_port(&server);
    let mut conns = Vec::new();
    for _ in 0..500 {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"POST /v3/media HTTP/1.1\r\nhost: x\r\nx-slow: ")
            .await
            .unwrap();
        conns.push(s);
    }
    let closed = futures_util::future::join_all(conns.into_iter().map(|mut s| async move {
        let mut buf = [0u8; 1024];
        // Closed: EOF or reset (a 408 first is fine), not a hang past the guard.
        tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await
        .is_ok()
    }))
    .await;
    let open = closed.iter().filter(|c| !**c).count();
    assert_eq!(open, 0, "{open} of 500 half-header connections still open");

    let health = server.http.get(server.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

/// A kept-alive connection with no request in flight is closed after the
/// keep-alive timeout (the header-read timeout is an hour here, so it is not
/// what closes it); one that keeps sending requests is served.
#[tokio::test]
async fn idle_kept_alive_connections_are_closed() {
    let env = Env::new();
    let server = env.start_with(&[
        "--workers",
        "0",
        "--keep-alive-timeout-secs",
        "1",
        "--header-read-timeout-secs",
        "3600",
    ]);
    let stream = TcpStream::connect(host_port(&server)).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    write
        .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let response = read_response(&mut read, Duration::from_secs(60)).await;
    assert!(response.starts_with(b"HTTP/1.1 200"));
    let mut buf = [0u8; 64];
    let closed = tokio::time::timeout(Duration::from_secs(60), read.read(&mut buf)).await;
    assert!(
        matches!(closed, Ok(Ok(0)) | Ok(Err(_))),
        "the idle connection stayed open: {closed:?}"
    );
}

/// An upload whose body stalls is answered 408 (10805) after the body idle
/// timeout, and nothing it wrote is left behind.
#[tokio::test]
async fn a_stalled_body_is_answered_408() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start_with(&["--workers", "0", "--body-idle-timeout-secs", "1"]);
    let stream = TcpStream::connect(host_port(&server)).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let part =
        b"--b\r\ncontent-disposition: form-data; name=\"media\"; filename=\"a.wav\"\r\n\r\nRIFF";
    let head = format!(
        "POST /v3/media HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\n\
         content-type: multipart/form-data; boundary=b\r\ncontent-length: 100000\r\n\r\n"
    );
    write.write_all(head.as_bytes()).await.unwrap();
    write.write_all(part).await.unwrap();
    // ...and nothing more, with the connection open.
    let response = read_response(&mut read, Duration::from_secs(60)).await;
    assert!(
        response.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&response)
    );
    assert_eq!(json_body(&response)["errors"][0]["code"], 10805);
    drop(write);
    let blobs = env.blob_names().await;
    assert!(blobs.is_empty(), "a stalled upload left {blobs:?}");
}

/// Past `--max-connections`, a new connection is answered 503 with the v3
/// envelope (90002) and closed; when a connection closes, the next one is served.
#[tokio::test]
async fn connections_past_the_limit_get_a_503_envelope() {
    let env = Env::new();
    let server = env.start_with(&["--workers", "0", "--max-connections", "3"]);
    let addr = host_port(&server);
    let mut held = Vec::new();
    for _ in 0..3 {
        let s = TcpStream::connect(&addr).await.unwrap();
        let (mut r, mut w) = s.into_split();
        w.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        let n = r.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        held.push((r, w));
    }
    let fresh = reqwest::Client::new();
    let resp = fresh.get(server.url("/health")).send().await.unwrap();
    assert_eq!(resp.headers()["retry-after"], "5");
    let message = expect_error(resp, 503, 90002).await;
    assert!(message.contains("3 connections"), "{message}");

    drop(held.pop());
    let mut served = false;
    for _ in 0..50 {
        let resp = reqwest::Client::new()
            .get(server.url("/health"))
            .send()
            .await
            .unwrap();
        if resp.status() == 200 {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served, "a freed connection slot was not reused");
}

/// Callbacks per media, search terms and their length, and the listing page are
/// capped, each with its own code; the limits themselves are accepted.
#[tokio::test]
async fn callbacks_search_terms_and_pages_are_capped() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start_with(&["--workers", "0", "--max-list-bytes", "655360"]);

    let callbacks = |n: usize| {
        let list: Vec<Value> = (0..n)
            .map(|i| serde_json::json!({"url": format!("https://example.com/cb/{i}")}))
            .collect();
        serde_json::json!({"publish": {"callbacks": list}}).to_string()
    };
    let resp = server
        .upload(&token, wav(), Some(&callbacks(11)), None)
        .await;
    let message = expect_error(resp, 400, 60012).await;
    assert!(message.contains("at most 10"), "{message}");
    let resp = server
        .upload(&token, wav(), Some(&callbacks(10)), None)
        .await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());

    let list = |query: String| {
        let mut url = url::Url::parse(&server.url("/v3/media")).unwrap();
        url.query_pairs_mut()
            .append_pair("query", &query)
            .append_pair("limit", "10");
        server.http.get(url).bearer_auth(&token).send()
    };
    let many: Vec<String> = (0..33).map(|i| format!("w{i}")).collect();
    expect_error(list(many.join(" ")).await.unwrap(), 400, 10806).await;
    assert_eq!(list(many[..32].join(" ")).await.unwrap().status(), 200);
    expect_error(list("a".repeat(101)).await.unwrap(), 400, 10807).await;
    assert_eq!(list("a".repeat(100)).await.unwrap().status(), 200);

    // 655360 bytes / 64 KiB of metadata per item: pages of at most 10.
    let page = |limit: u32| {
        server
            .http
            .get(server.url(&format!("/v3/media?limit={limit}")))
            .bearer_auth(&token)
            .send()
    };
    expect_error(page(11).await.unwrap(), 400, 10808).await;
    assert_eq!(page(10).await.unwrap().status(), 200);
}

/// Streams are downloads that browsers neither render nor sniff, whatever type
/// the client declared; and what the server writes is readable by its owner only.
#[tokio::test]
async fn streams_are_attachments_and_files_are_owner_only() {
    let env = Env::new();
    let token = env.create_account("acme");
    let server = env.start_with(&["--workers", "0"]);
    let form = reqwest::multipart::Form::new()
        .part("configuration", json_part("configuration.json", "{}"))
        .part(
            "media",
            reqwest::multipart::Part::bytes(wav())
                .file_name("page.html")
                .mime_str("text/html")
                .unwrap(),
        );
    let id = server.post_form_ok(&token, form).await;

    let resp = server
        .http
        .get(server.url(&format!("/v3/media/{id}/streams/original")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-disposition"], "attachment");
    assert_eq!(h["content-type"], "application/octet-stream");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), wav().as_slice());

    if env.is_scaled() {
        return; // the blobs are in S3; the umask is checked on the embedded backend
    }
    use std::os::unix::fs::PermissionsExt;
    let blobs = env.data_dir().join("blobs");
    let files = files_under(&env.data_dir());
    let original = files
        .iter()
        .find(|p| p.starts_with(&blobs) && p.ends_with("original"))
        .expect("the original blob is a file");
    for path in &files {
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{} is mode {mode:o}", path.display());
    }
    let mode = std::fs::metadata(original).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the original blob is mode {mode:o}");
    let mut dir = original.parent().unwrap();
    while dir.starts_with(&blobs) {
        let mode = std::fs::metadata(dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{} is mode {mode:o}", dir.display());
        dir = dir.parent().unwrap();
    }
}
