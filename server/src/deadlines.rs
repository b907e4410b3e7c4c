//! Deadlines for the phases after the handshake, each logged as one line when it fires: the
//! request head (nginx's `client_header_timeout`: from its first byte to the whole head) and
//! keep-alive idle (`keepalive_timeout`: from the end of a response, or the handshake, to the
//! first byte of the next request). The handshake has its own in `connection`, write progress
//! in `send_timeout`. hyper's own `header_read_timeout` runs over both phases at once (it
//! starts when hyper begins waiting for a head), so it is off and these replace it.
//!
//! The phases are observed, not imposed: [`RequestBytes`] notices the first byte of a request,
//! [`Answering`] wraps each response body and marks the connection idle when it is dropped.

use crate::shedding::{Phase, Tracker};
use hyper::body::{Body, Frame, SizeHint};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadlines {
    pub(crate) header: Duration,
    pub(crate) keepalive: Duration,
}

/// Resolves, after logging its line, when the connection overstays the idle or head phase.
///
/// It is not woken when the phase changes (that cost a task wake-up, often another worker
/// thread's, three times per request): it looks at the phase at least every
/// `min(header, keepalive)`, and otherwise sleeps to the deadline of the phase it saw. A phase
/// entered since is thus seen before its own deadline (which is at least that far off).
pub(crate) async fn watchdog(tracker: &Tracker, limits: Deadlines) {
    // At least a timer tick: a zero limit must not turn the loop into a spin.
    let recheck = limits
        .header
        .min(limits.keepalive)
        .max(Duration::from_millis(1));
    loop {
        let Some(s) = tracker.snapshot() else {
            return std::future::pending().await;
        };
        let next_look = tokio::time::Instant::now() + recheck;
        let (limit, what) = match s.phase {
            Phase::Idle => (limits.keepalive, "keep-alive idle (no request)"),
            Phase::Head => (limits.header, "request head"),
            Phase::Handshake | Phase::Busy => {
                tokio::time::sleep_until(next_look).await;
                continue;
            }
        };
        let deadline = tokio::time::Instant::from_std(s.since + limit);
        tokio::time::sleep_until(deadline.min(next_look)).await;
        let still = tracker
            .snapshot()
            .is_some_and(|now| now.phase == s.phase && now.since == s.since);
        if still && tokio::time::Instant::now() >= deadline {
            crate::log::deadline(tracker.peer, what, limit);
            return;
        }
    }
}

/// The connection's transport as hyper reads it: the first bytes after an idle spell start
/// the request-head clock.
pub(crate) struct RequestBytes<IO> {
    inner: IO,
    tracker: Arc<Tracker>,
}

impl<IO> RequestBytes<IO> {
    pub(crate) fn new(inner: IO, tracker: Arc<Tracker>) -> Self {
        Self { inner, tracker }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for RequestBytes<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.tracker.on_request_bytes();
        }
        polled
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for RequestBytes<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A response body in flight: the connection is busy from the request until hyper drops it.
pub(crate) struct Answering<B> {
    inner: B,
    tracker: Arc<Tracker>,
}

impl<B> Answering<B> {
    /// Call when the request is handed to the site: the connection is busy from now on.
    pub(crate) fn new(inner: B, tracker: Arc<Tracker>) -> Self {
        tracker.enter(Phase::Busy);
        Self { inner, tracker }
    }
}

impl<B> Drop for Answering<B> {
    fn drop(&mut self) {
        self.tracker.enter(Phase::Idle);
    }
}

impl<B: Body + Unpin> Body for Answering<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
