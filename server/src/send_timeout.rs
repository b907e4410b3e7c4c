//! Dropping a client that stops reading: nginx's `send_timeout`. Once a response is being
//! written nothing else times out, so a client that asks for a large file and never reads
//! would hold its connection slot forever. [`SendTimeout`] wraps the TCP socket (under TLS, so
//! every byte the kernel accepts counts) and fails a write that has made no progress for the
//! limit: the timer runs only between two successive writes, never over a whole response, so a
//! slow reader that keeps reading is never cut.

use std::future::Future as _;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// A transport whose writes fail with `TimedOut` after `limit` without progress.
pub struct SendTimeout<IO> {
    inner: IO,
    limit: Duration,
    peer: SocketAddr,
    /// Armed when a write first finds the socket full; cleared by any progress.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<IO> SendTimeout<IO> {
    pub fn new(inner: IO, limit: Duration, peer: SocketAddr) -> Self {
        Self {
            inner,
            limit,
            peer,
            stalled: None,
        }
    }

    /// Progress (or an error) disarms the timer; `Pending` arms it, and past the limit turns
    /// into an error that ends the connection.
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if !polled.is_pending() {
            self.stalled = None;
            return polled;
        }
        let limit = self.limit;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.stalled = None;
        crate::log::send_timed_out(self.peer, limit);
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no write progress for {}s", limit.as_secs_f64()),
        )))
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for SendTimeout<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for SendTimeout<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, polled)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.watch(cx, polled)
    }
}
