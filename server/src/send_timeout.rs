//! Dropping a client that stops reading: nginx's `send_timeout`. Once a response is being
//! written nothing else times out, so a client that asks for a large file and never reads
//! would hold its connection slot forever. [`SendTimeout`] wraps the TCP socket (under TLS, so
//! every byte the kernel accepts counts) and fails a write that has made no progress for the
//! limit: the timer runs only between two successive writes, never over a whole response, so a
//! slow reader that keeps reading is never cut.

use crate::shedding::Tracker;
use std::future::Future as _;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
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
    /// Told when the socket stalls and moves again (shedding prefers stalled readers).
    tracker: Option<Arc<Tracker>>,
}

impl<IO> SendTimeout<IO> {
    pub fn new(inner: IO, limit: Duration, peer: SocketAddr) -> Self {
        Self {
            inner,
            limit,
            peer,
            stalled: None,
            tracker: None,
        }
    }

    pub(crate) fn tracked(mut self, tracker: Arc<Tracker>) -> Self {
        self.tracker = Some(tracker);
        self
    }

    /// Progress (or an error) disarms the timer; `Pending` arms it, and past the limit turns
    /// into an error that ends the connection.
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if !polled.is_pending() {
            if self.stalled.take().is_some() {
                if let Some(t) = &self.tracker {
                    t.set_stalled(false);
                }
            }
            return polled;
        }
        let limit = self.limit;
        if self.stalled.is_none() {
            if let Some(t) = &self.tracker {
                t.set_stalled(true);
            }
        }
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

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn peer() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 9))
    }

    #[tokio::test]
    async fn a_write_nobody_reads_fails_after_the_limit() {
        let (ours, _theirs) = tokio::io::duplex(16);
        let mut io = SendTimeout::new(ours, Duration::from_millis(200), peer());
        let started = tokio::time::Instant::now();
        let err = io
            .write_all(&[0u8; 64])
            .await
            .expect_err("the pipe holds 16 bytes and nobody reads");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_millis(200));
    }

    /// The limit is between two writes, not over the whole transfer (nginx's send_timeout): a
    /// reader slower than the limit overall, but never stalled that long, is served.
    #[tokio::test]
    async fn a_slow_reader_that_keeps_reading_is_not_dropped() {
        let (ours, mut theirs) = tokio::io::duplex(16);
        let limit = Duration::from_secs(1);
        let mut io = SendTimeout::new(ours, limit, peer());
        let reader = tokio::spawn(async move {
            let mut got = 0usize;
            let mut buf = [0u8; 16];
            // Pacing, not synchronisation: the slow reader is the behaviour under test.
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            while got < 16 * 15 {
                tick.tick().await;
                match theirs.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got += n,
                }
            }
            got
        });
        let started = tokio::time::Instant::now();
        io.write_all(&[7u8; 16 * 15])
            .await
            .expect("never stalled for the limit");
        assert!(
            started.elapsed() > limit,
            "the transfer outlasted the limit"
        );
        assert_eq!(reader.await.expect("reader"), 16 * 15);
    }
}
