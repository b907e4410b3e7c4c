//! `--wire` on a plain `http://` connection: a transport wrapper that prints every chunk of
//! bytes written and read, as a packet capture would see them. (For `https://` the records come
//! from the TLS events instead: see [`crate::explain::Narrator`].)

use crate::explain::print_steps;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tls::explain::plain_step;
use tls::trace::Direction;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub struct WireTap<IO> {
    inner: IO,
    color: bool,
}

impl<IO> WireTap<IO> {
    pub fn new(inner: IO, color: bool) -> Self {
        Self { inner, color }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for WireTap<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = result {
            let new = buf.filled().get(before..).unwrap_or_default();
            if !new.is_empty() {
                print_steps(&[plain_step(Direction::Received, new)], this.color);
            }
        }
        result
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for WireTap<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = result {
            let sent = buf.get(..n).unwrap_or_default();
            if !sent.is_empty() {
                print_steps(&[plain_step(Direction::Sent, sent)], this.color);
            }
        }
        result
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
