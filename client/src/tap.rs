//! A transport wrapper that keeps a copy of the request head going out and the response head
//! coming in, so `-v`, `-i` and `-I` show the headers exactly as they crossed the wire (hyper
//! hands back a parsed, lower-cased map).

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tls::text::escape_peer;
use tls::trace::Direction;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A head larger than this is not kept (hyper refuses such heads anyway).
const MAX_HEAD: usize = 256 * 1024;

#[derive(Default, Debug)]
pub struct Captured {
    sent: Vec<u8>,
    received: Vec<u8>,
    /// `-v`: print each head to stderr (`> `, `< `) the moment it is complete on the wire.
    echo: bool,
    sent_echoed: bool,
    received_echoed: bool,
}

impl Captured {
    /// The request head (request line and headers, up to the blank line), once complete.
    pub fn request_head(&self) -> Option<&[u8]> {
        head_end(&self.sent).and_then(|end| self.sent.get(..end))
    }

    /// The response heads received, 1xx interim responses included, up to and including the
    /// blank line of the final one.
    pub fn response_heads(&self) -> Option<&[u8]> {
        let mut pos = 0;
        loop {
            let rest = self.received.get(pos..)?;
            let end = head_end(rest)?;
            let is_interim = rest
                .get(9..10)
                .is_some_and(|c| c == b"1" && rest.starts_with(b"HTTP/"));
            pos += end;
            if !is_interim {
                return self.received.get(..pos);
            }
        }
    }

    /// Forget what was seen, for the next request on the same connection.
    pub fn clear(&mut self) {
        self.sent.clear();
        self.received.clear();
        self.sent_echoed = false;
        self.received_echoed = false;
    }

    fn echo_new_heads(&mut self) {
        if !self.echo {
            return;
        }
        if !self.sent_echoed {
            if let Some(head) = self.request_head() {
                print_head(head, "> ");
                self.sent_echoed = true;
            }
        }
        if !self.received_echoed {
            if let Some(head) = self.response_heads() {
                print_head(head, "< ");
                self.received_echoed = true;
            }
        }
    }
}

/// The end of the first head in `buf` (index after the blank line), CRLF or bare LF.
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < buf.len() {
        if buf.get(i..i + 4) == Some(b"\r\n\r\n") {
            return Some(i + 4);
        }
        if buf.get(i..i + 2) == Some(b"\n\n") {
            return Some(i + 2);
        }
        i += 1;
    }
    None
}

/// A transport wrapper that shows every chunk of bytes read or written to its sink, as a packet
/// capture would see them: the `-v` head recorder here, the `--wire` printer in `wire.rs`.
pub struct ByteTap<IO, S> {
    inner: IO,
    sink: S,
}

/// What a [`ByteTap`] does with the bytes it sees.
pub trait ByteSink: Unpin {
    fn bytes(&mut self, direction: Direction, bytes: &[u8]);
}

/// Keeps the request and response heads (see [`Captured`]).
pub struct HeadSink(Arc<Mutex<Captured>>);

impl ByteSink for HeadSink {
    fn bytes(&mut self, direction: Direction, bytes: &[u8]) {
        if let Ok(mut c) = self.0.lock() {
            match direction {
                Direction::Sent => keep(&mut c.sent, bytes),
                Direction::Received => keep(&mut c.received, bytes),
            }
            c.echo_new_heads();
        }
    }
}

pub type Tap<IO> = ByteTap<IO, HeadSink>;

impl<IO> Tap<IO> {
    /// Wrap `inner`; with `echo` the heads are printed as `-v` does.
    pub fn new(inner: IO, echo: bool) -> (Self, Arc<Mutex<Captured>>) {
        let captured = Arc::new(Mutex::new(Captured {
            echo,
            ..Captured::default()
        }));
        (
            ByteTap::with_sink(inner, HeadSink(captured.clone())),
            captured,
        )
    }
}

impl<IO, S> ByteTap<IO, S> {
    pub fn with_sink(inner: IO, sink: S) -> Self {
        Self { inner, sink }
    }
}

/// `prefix` + each line of a head, as curl's `-v` shows them (the blank line too).
pub fn print_head(head: &[u8], prefix: &str) {
    let text = String::from_utf8_lossy(head);
    let mut out = String::new();
    let body = text
        .strip_suffix("\r\n\r\n")
        .map(|t| format!("{t}\r\n"))
        .or_else(|| text.strip_suffix("\n\n").map(|t| format!("{t}\n")))
        .unwrap_or_else(|| text.to_string());
    for line in body.lines() {
        out.push_str(prefix);
        // The server chose these bytes: no terminal control sequence gets through.
        out.push_str(&escape_peer(line.strip_suffix('\r').unwrap_or(line)));
        out.push('\n');
    }
    out.push_str(prefix.trim_end());
    out.push('\n');
    eprint!("{out}");
}

fn keep(buf: &mut Vec<u8>, bytes: &[u8]) {
    let room = MAX_HEAD.saturating_sub(buf.len());
    buf.extend_from_slice(bytes.get(..bytes.len().min(room)).unwrap_or_default());
}

impl<IO: AsyncRead + Unpin, S: ByteSink> AsyncRead for ByteTap<IO, S> {
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
                this.sink.bytes(Direction::Received, new);
            }
        }
        result
    }
}

impl<IO: AsyncWrite + Unpin, S: ByteSink> AsyncWrite for ByteTap<IO, S> {
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
                this.sink.bytes(Direction::Sent, sent);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_heads() {
        let mut c = Captured {
            sent: b"GET / HTTP/1.1\r\nHost: h\r\n\r\nbody".to_vec(),
            ..Captured::default()
        };
        assert_eq!(
            c.request_head(),
            Some(&b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"[..])
        );
        c.received = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nA: b\r\n\r\nxyz".to_vec();
        assert_eq!(
            c.response_heads(),
            Some(&b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nA: b\r\n\r\n"[..])
        );
        c.received = b"HTTP/1.0 200 OK\nA: b\n\nxyz".to_vec();
        assert_eq!(c.response_heads(), Some(&b"HTTP/1.0 200 OK\nA: b\n\n"[..]));
        c.received = b"HTTP/1.1 200 OK\r\nA: b\r\n".to_vec();
        assert_eq!(c.response_heads(), None);
    }
}
