//! The accept loop: HTTP/1.1 connections with the timeouts and the connection
//! limit a public server needs, which `axum::serve` does not offer.
//!
//! - **Connection limit** ([`ServerLimits::max_connections`]): past it, a new
//!   connection is answered at once with a 503 v3 envelope
//!   ([`codes::SERVER_BUSY`]) and closed, so clients see why and can retry
//!   instead of waiting in the kernel's backlog.
//! - **Header-read timeout**: a client must send a whole request head within
//!   it (hyper's timer; it also runs while a kept-alive connection waits for
//!   its next request), so half-sent headers cannot pin connections.
//! - **Keep-alive timeout**: a connection with no request in flight is closed
//!   after it.
//! - **Body**: every request body is a [`GuardedBody`] (size cap and idle
//!   timeout).
//!
//! Shutdown: stop accepting, ask every connection to finish its request in
//! flight and close, and wait for them.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use sealscribe_domain::codes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::limits::GuardedBody;

/// The limits of the HTTP server (settings of `sealscribe serve`).
#[derive(Clone, Debug)]
pub struct ServerLimits {
    /// Longest time to receive a request head (and, on a kept-alive
    /// connection, to wait for the next one).
    pub header_read_timeout: Duration,
    /// Longest wait for the next bytes of a request body.
    pub body_idle_timeout: Duration,
    /// Longest time a connection stays open with no request in flight.
    pub keep_alive_timeout: Duration,
    /// Connections served at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// Largest request body, in bytes.
    pub max_body_bytes: u64,
}

/// Serves `app` on `listener` until `shutdown` is cancelled.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    // Turning clients away costs a little too: as many at once as we serve.
    let refusals = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let connections = TaskTracker::new();
    loop {
        let stream = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, most likely: wait for some to close
                    // instead of spinning on the error.
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        match permits.clone().try_acquire_owned() {
            Ok(permit) => {
                connections.spawn(connection(
                    stream,
                    app.clone(),
                    limits.clone(),
                    shutdown.clone(),
                    permit,
                ));
            }
            Err(_) => {
                if let Ok(permit) = refusals.clone().try_acquire_owned() {
                    connections.spawn(busy(stream, limits.max_connections, permit));
                }
                // else: dropped, closing the socket.
            }
        }
    }
    drop(listener);
    connections.close();
    connections.wait().await;
    Ok(())
}

/// Answers 503 and closes: the server is at its connection limit.
async fn busy(mut stream: TcpStream, limit: usize, _permit: OwnedSemaphorePermit) {
    let body = serde_json::json!({
        "status": 503,
        "errors": [{
            "code": codes::SERVER_BUSY,
            "error": format!("The server is at its limit of {limit} connections; retry in a few seconds."),
        }],
        "warnings": [],
        "reference": uuid::Uuid::new_v4(),
    })
    .to_string();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: 5\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    tracing::warn!(limit, "connection refused: at the connection limit");
    // Answer after the request head (clients treat an answer before their
    // request as a broken connection), waiting at most a second for it.
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while head.len() < 16 * 1024 && memchr::memmem::find(&head, b"\r\n\r\n").is_none() {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await?;
        // Read what else the client sent (a little of it) before closing: closing
        // on unread bytes resets the connection, and the client could lose the answer.
        let mut left = 64 * 1024;
        while left > 0 {
            match stream.read(&mut buf).await? {
                0 => break,
                n => left -= n.min(left),
            }
        }
        std::io::Result::Ok(())
    })
    .await;
}

/// Requests in flight on one connection, and when the last one ended.
struct Activity {
    active: AtomicUsize,
    last_done: Mutex<Instant>,
    changed: Notify,
}

impl Activity {
    fn start(self: &Arc<Self>) -> InFlight {
        self.active.fetch_add(1, Ordering::SeqCst);
        self.changed.notify_waiters();
        InFlight(self.clone())
    }

    /// Resolves once the connection has been idle for `timeout`.
    async fn idle_for(&self, timeout: Duration) {
        loop {
            let changed = self.changed.notified();
            if self.active.load(Ordering::SeqCst) == 0 {
                let since = *self.last_done.lock().expect("not poisoned");
                tokio::select! {
                    _ = tokio::time::sleep_until(since + timeout) => {
                        if self.active.load(Ordering::SeqCst) == 0
                            && *self.last_done.lock().expect("not poisoned") == since
                        {
                            return;
                        }
                    }
                    _ = changed => {}
                }
            } else {
                changed.await;
            }
        }
    }
}

/// One request in flight; dropped when its response body has been sent (or dropped).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        *self.0.last_done.lock().expect("not poisoned") = Instant::now();
        self.0.active.fetch_sub(1, Ordering::SeqCst);
        self.0.changed.notify_waiters();
    }
}

/// A response body that keeps its request counted as in flight until sent.
struct Tracked {
    inner: Body,
    _in_flight: InFlight,
}

impl http_body::Body for Tracked {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

async fn connection(
    stream: TcpStream,
    app: Router,
    limits: ServerLimits,
    shutdown: CancellationToken,
    _permit: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity {
        active: AtomicUsize::new(0),
        last_done: Mutex::new(Instant::now()),
        changed: Notify::new(),
    });
    let service = {
        let activity = activity.clone();
        let cap = limits.max_body_bytes;
        let idle = limits.body_idle_timeout;
        hyper::service::service_fn(move |req: Request<Incoming>| {
            let in_flight = activity.start();
            let declared = req
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            let req = req.map(|body| Body::new(GuardedBody::new(body, declared, cap, idle)));
            let app = app.clone();
            async move {
                let response = app
                    .oneshot(req)
                    .await
                    .unwrap_or_else(|e: Infallible| match e {});
                Ok::<_, Infallible>(response.map(|inner| {
                    Body::new(Tracked {
                        inner,
                        _in_flight: in_flight,
                    })
                }))
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!("connection ended: {e}");
                }
                return;
            }
            _ = activity.idle_for(limits.keep_alive_timeout), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            _ = shutdown.cancelled(), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
}
