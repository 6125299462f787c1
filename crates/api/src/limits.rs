//! The request body as the handlers see it: capped in size and in how long the
//! client may leave it idle, so that neither a huge nor a trickling upload can
//! hold memory, a blob writer or a connection without end; and the caps of the
//! multipart intake ([`MultipartLimits`]), which the state carries.
//!
//! [`GuardedBody`] wraps every request body the server hands to the router (see
//! [`crate::server`]). Its failures are [`BodyError`]s, which the readers of
//! bodies (the multipart intake) turn into their own v3 envelopes: 413 with
//! [`codes::REQUEST_BODY_TOO_LARGE`], 408 with [`codes::REQUEST_BODY_TIMEOUT`].

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http::StatusCode;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use sealscribe_domain::codes;
use tokio::time::{Instant, Sleep};

use crate::ApiError;

/// Caps of the multipart intake ([`crate::media::multipart`]), checked before
/// anything is buffered (settings, see `docs/configuration.md`).
#[derive(Clone, Copy, Debug)]
pub struct MultipartLimits {
    /// Bytes allowed before the first boundary.
    pub preamble: usize,
    /// Bytes allowed in one part's header block.
    pub part_header: usize,
    /// Parts allowed in one request.
    pub parts: usize,
}

/// Why a request body stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// More bytes than the cap (declared in `Content-Length` or counted).
    TooLarge(u64),
    /// No byte came for this long while the server was waiting for one.
    Idle(Duration),
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::TooLarge(n) => write!(f, "request body over {n} bytes"),
            BodyError::Idle(d) => write!(f, "no request body bytes for {} s", d.as_secs()),
        }
    }
}

impl std::error::Error for BodyError {}

impl BodyError {
    /// The [`BodyError`] behind `e` (anywhere in its chain of sources), if any.
    pub fn find(e: &(dyn std::error::Error + 'static)) -> Option<BodyError> {
        let mut at = Some(e);
        while let Some(err) = at {
            if let Some(found) = err.downcast_ref::<BodyError>() {
                return Some(*found);
            }
            at = err.source();
        }
        None
    }

    pub fn to_api_error(self) -> ApiError {
        match self {
            BodyError::TooLarge(n) => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                codes::REQUEST_BODY_TOO_LARGE,
                format!(
                    "The request body is larger than this server accepts ({n} bytes: the largest \
                     upload plus room for the other parts). Send a smaller file, or ask the \
                     operator to raise --max-upload-bytes."
                ),
            ),
            BodyError::Idle(d) => ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                codes::REQUEST_BODY_TIMEOUT,
                format!(
                    "The request body stalled: no bytes arrived for {} seconds. Retry the upload \
                     over a steadier connection.",
                    d.as_secs()
                ),
            ),
        }
    }
}

/// A request body with a size cap and an idle timeout.
pub struct GuardedBody<B> {
    inner: B,
    cap: u64,
    read: u64,
    idle: Duration,
    sleep: Pin<Box<Sleep>>,
    /// The timer runs only while the reader waits for the client: a handler
    /// busy elsewhere between two reads is not the client's delay.
    waiting: bool,
    /// `Content-Length` already says it is too large.
    declared_too_large: bool,
    failed: bool,
}

impl<B> GuardedBody<B> {
    pub fn new(inner: B, declared: Option<u64>, cap: u64, idle: Duration) -> Self {
        Self {
            inner,
            cap,
            read: 0,
            idle,
            sleep: Box::pin(tokio::time::sleep(idle)),
            waiting: false,
            declared_too_large: declared.is_some_and(|n| n > cap),
            failed: false,
        }
    }
}

impl<B> Body for GuardedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if this.failed {
            return Poll::Ready(None);
        }
        if this.declared_too_large {
            this.failed = true;
            return Poll::Ready(Some(Err(BodyError::TooLarge(this.cap).into())));
        }
        if !this.waiting {
            this.waiting = true;
            let deadline = Instant::now() + this.idle;
            this.sleep.as_mut().reset(deadline);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                this.waiting = false;
                if let Some(data) = frame.data_ref() {
                    this.read += data.len() as u64;
                    if this.read > this.cap {
                        this.failed = true;
                        return Poll::Ready(Some(Err(BodyError::TooLarge(this.cap).into())));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.waiting = false;
                Poll::Ready(Some(Err(e.into())))
            }
            Poll::Ready(None) => {
                this.waiting = false;
                Poll::Ready(None)
            }
            Poll::Pending => {
                if this.sleep.as_mut().poll(cx).is_ready() {
                    this.failed = true;
                    return Poll::Ready(Some(Err(BodyError::Idle(this.idle).into())));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.failed || (!self.declared_too_large && self.inner.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        if self.declared_too_large || self.failed {
            return SizeHint::default();
        }
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn counts_bytes_and_refuses_past_the_cap() {
        let body = http_body_util::Full::new(Bytes::from(vec![0u8; 100]));
        let guarded = GuardedBody::new(body, None, 99, Duration::from_secs(5));
        let err = guarded.collect().await.unwrap_err();
        assert_eq!(
            err.downcast_ref::<BodyError>(),
            Some(&BodyError::TooLarge(99))
        );

        let body = http_body_util::Full::new(Bytes::from(vec![0u8; 100]));
        let guarded = GuardedBody::new(body, None, 100, Duration::from_secs(5));
        assert_eq!(guarded.collect().await.unwrap().to_bytes().len(), 100);
    }

    #[tokio::test]
    async fn a_declared_length_over_the_cap_is_refused_before_reading() {
        let body = http_body_util::Full::new(Bytes::from_static(b"x"));
        let guarded = GuardedBody::new(body, Some(1000), 10, Duration::from_secs(5));
        let err = guarded.collect().await.unwrap_err();
        assert_eq!(
            err.downcast_ref::<BodyError>(),
            Some(&BodyError::TooLarge(10))
        );
    }

    #[tokio::test]
    async fn a_stalled_body_fails_after_the_idle_timeout() {
        let (_tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(1);
        let stream = http_body_util::StreamBody::new(tokio_stream_from(rx));
        let guarded = GuardedBody::new(stream, None, 10, Duration::from_millis(50));
        let err = guarded.collect().await.unwrap_err();
        assert_eq!(
            err.downcast_ref::<BodyError>(),
            Some(&BodyError::Idle(Duration::from_millis(50)))
        );
    }

    fn tokio_stream_from<T: Send + 'static>(
        mut rx: tokio::sync::mpsc::Receiver<T>,
    ) -> impl futures_util::Stream<Item = T> + Unpin {
        Box::pin(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)))
    }
}
