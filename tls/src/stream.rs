//! The tokio adapter: [`TlsStream`] implements `AsyncRead`/`AsyncWrite` over any transport by
//! moving bytes between it and the sans-I/O [`Connection`]; hyper sits on top of it.
//!
//! Contract: reads return buffered plaintext first; a clean end (`Ok` with nothing read) only
//! after close_notify, `UnexpectedEof` when the transport ends without it. Writes are buffered
//! like a `BufWriter`: bytes written between two flushes leave in as few records as possible
//! (full 2^14-byte records for bulk, one record for a short response whose head and body came
//! in separate writes — like nginx's `ssl_buffer_size`); call `flush`. `shutdown` sends
//! close_notify.
//!
//! Memory: a stream idle or stalled on its peer holds little — sealed records are queued only
//! up to [`OUTGOING_LIMIT`], socket reads go through a buffer on the stack (the connection
//! keeps only what is unprocessed), and the buffers are released while waiting for the peer.

use crate::config::{ClientConfig, ServerConfig};
use crate::conn::Connection;
use crate::record::{HEADER_LEN, MAX_CIPHERTEXT, MAX_PLAINTEXT};
use crate::session::SessionInfo;
use crate::Error;
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};

/// Encrypted bytes we queue before `poll_write` waits for the transport (back-pressure): a
/// small watermark, since a peer that reads nothing would otherwise pin it all (issue #20).
const OUTGOING_LIMIT: usize = 32 * 1024;
/// The largest slice of application data taken per `poll_write` (so at most about
/// `OUTGOING_LIMIT + MAX_WRITE` of records are ever queued): two full records, which the
/// record layer seals side by side.
const MAX_WRITE: usize = 2 * MAX_PLAINTEXT;
/// One socket read: a whole record and the next header.
const READ_CHUNK: usize = HEADER_LEN + MAX_CIPHERTEXT;

pub struct TlsStream<IO> {
    io: IO,
    conn: Connection,
    /// Application data not yet sealed: less than one full record, waiting for more or a flush
    /// (between the two halves of `take_plaintext`, up to `MAX_WRITE` more).
    pending: Vec<u8>,
    shutdown_started: bool,
}

/// Run the client handshake over `io`.
pub async fn connect<IO>(
    config: Arc<ClientConfig>,
    server_name: &str,
    io: IO,
) -> io::Result<TlsStream<IO>>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    TlsStream::handshake(io, Connection::client(config, server_name)?).await
}

/// Run the server handshake over `io`.
pub async fn accept<IO>(config: Arc<ServerConfig>, io: IO) -> io::Result<TlsStream<IO>>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    TlsStream::handshake(io, Connection::server(config)).await
}

/// The TLS error inside an I/O error from this module, if there is one (to tell a bad
/// certificate or an alert from a network failure).
pub fn tls_error(e: &io::Error) -> Option<&Error> {
    e.get_ref().and_then(|inner| inner.downcast_ref::<Error>())
}

impl<IO> TlsStream<IO>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    /// Drive `conn`'s handshake over `io` to its end: write what the connection has, read what
    /// it needs. [`connect`] and [`accept`] call it; build the [`Connection`] yourself to give it
    /// its own observer ([`Connection::client_observed`], [`Connection::server_observed`]).
    pub async fn handshake(io: IO, conn: Connection) -> io::Result<Self> {
        let mut this = Self {
            io,
            conn,
            pending: Vec::new(),
            shutdown_started: false,
        };
        this.drive_handshake().await?;
        Ok(this)
    }

    async fn drive_handshake(&mut self) -> io::Result<()> {
        loop {
            while self.conn.wants_write() {
                let n = self.io.write(self.conn.outgoing()).await?;
                if n == 0 {
                    return Err(io::ErrorKind::WriteZero.into());
                }
                self.conn.consume_outgoing(n);
            }
            self.io.flush().await?;
            if let Some(e) = self.conn.error() {
                return Err(e.clone().into());
            }
            if !self.conn.is_handshaking() {
                return Ok(());
            }
            let mut limit = self.conn.read_limit().min(READ_CHUNK);
            if limit == 0 {
                // A whole record waits unprocessed; take it before reading more.
                let _ = self.conn.process_new_packets();
                if self.conn.wants_write() || self.conn.error().is_some() {
                    continue;
                }
                limit = self.conn.read_limit().min(READ_CHUNK);
                if limit == 0 {
                    return Err(Error::unexpected("handshake stalled").into());
                }
            }
            // Read straight into the connection: a half-open handshake holds no read buffer.
            let n = std::future::poll_fn(|cx| self.poll_read_tls(cx, limit)).await?;
            if n == 0 {
                return Err(Error::Truncated.into());
            }
            // On failure the alert is queued: the loop writes it, then reports the error.
            let _ = self.conn.process_new_packets();
        }
    }

    pub fn info(&self) -> Option<&SessionInfo> {
        self.conn.info()
    }

    /// Client side: the session to offer next time (see [`Connection::session_to_resume`]).
    pub fn session_to_resume(&self) -> Option<&crate::session::ClientSession> {
        self.conn.session_to_resume()
    }

    /// Bytes written and not yet taken by the transport (sealed records and the unsealed
    /// tail): what a peer that stops reading makes us hold.
    pub fn queued(&self) -> usize {
        self.conn.outgoing().len() + self.pending.len()
    }

    pub fn get_ref(&self) -> &IO {
        &self.io
    }

    /// One socket read of at most `limit` bytes, handed to the connection (EOF is recorded
    /// there); how many bytes came. The buffer is on the stack, uninitialised: nothing is kept
    /// per connection between reads.
    fn poll_read_tls(&mut self, cx: &mut Context<'_>, limit: usize) -> Poll<io::Result<usize>> {
        let mut storage = [MaybeUninit::<u8>::uninit(); READ_CHUNK];
        let mut read_buf = ReadBuf::uninit(&mut storage[..limit.min(READ_CHUNK)]);
        ready!(Pin::new(&mut self.io).poll_read(cx, &mut read_buf))?;
        let filled = read_buf.filled();
        if filled.is_empty() {
            self.conn.read_eof();
        } else {
            self.conn.read_tls(filled);
        }
        Poll::Ready(Ok(filled.len()))
    }

    /// Waiting for the peer with nothing owed to it: give back the buffers' memory.
    fn release_buffers(&mut self) {
        if self.pending.is_empty() && !self.conn.wants_write() {
            self.pending = Vec::new();
            self.conn.release_buffers();
        }
    }

    /// Seal the buffered application data (a short last record).
    fn seal_pending(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            self.conn.write_plaintext(&self.pending)?;
            self.pending.clear();
        }
        Ok(())
    }

    /// Take up to [`MAX_WRITE`] bytes of `bufs` (in order, as one buffer): whole records are
    /// sealed together in one call, so the record layer encrypts them side by side (CBC chains
    /// are serial within a record); the tail waits in `pending` for more or for a flush.
    /// Returns how many bytes were taken.
    fn take_plaintext(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let first = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &b[..]);
        if self.pending.is_empty() && first.len() >= MAX_PLAINTEXT {
            // Records straight from the caller's buffer, no copy.
            let whole = first.len().min(MAX_WRITE) / MAX_PLAINTEXT * MAX_PLAINTEXT;
            return Ok(self.conn.write_plaintext(&first[..whole])?);
        }
        // A head and body chunks, or chunks that do not start on a record boundary: gather.
        let mut n = 0;
        for buf in bufs {
            let take = buf.len().min(MAX_WRITE - n);
            self.pending.extend_from_slice(&buf[..take]);
            n += take;
            if n == MAX_WRITE {
                break;
            }
        }
        let whole = self.pending.len() / MAX_PLAINTEXT * MAX_PLAINTEXT;
        if whole > 0 {
            self.conn.write_plaintext(&self.pending[..whole])?;
            self.pending.drain(..whole);
        }
        Ok(n)
    }

    /// Write queued records to the transport until it is all out or the transport is busy.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.conn.wants_write() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, self.conn.outgoing()))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.conn.consume_outgoing(n);
        }
        Poll::Ready(Ok(()))
    }
}

impl<IO> AsyncRead for TlsStream<IO>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let mut processed_waiting = false;
        loop {
            match this.conn.read_plaintext(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    // Best effort: get the fatal alert out before reporting the error.
                    let _ = this.poll_drain(cx);
                    return Poll::Ready(Err(e));
                }
            }
            // What we owe the peer (alerts) goes out before we read more of its records; above a
            // cap the connection stops reading until it has (read_limit is then 0).
            if this.conn.wants_write() {
                match this.poll_drain(cx) {
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending if this.conn.read_limit() == 0 => return Poll::Pending,
                    _ => {}
                }
            }
            let limit = this.conn.read_limit().min(READ_CHUNK);
            if limit == 0 {
                // A whole record waits unprocessed: take it, and hand out what it held (top of
                // the loop). If that changed nothing, the connection can make no progress.
                if processed_waiting {
                    return Poll::Ready(Err(Error::unexpected("connection stalled").into()));
                }
                processed_waiting = true;
                let _ = this.conn.process_new_packets();
                continue;
            }
            processed_waiting = false;
            if this.poll_read_tls(cx, limit)?.is_pending() {
                this.release_buffers();
                return Poll::Pending;
            }
            // An error is kept by the connection and surfaces from read_plaintext above.
            let _ = this.conn.process_new_packets();
        }
    }
}

impl<IO> AsyncWrite for TlsStream<IO>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[io::IoSlice::new(buf)])
    }

    /// The slices are taken in order, as if they were one buffer: hyper hands over a response
    /// head and a body chunk together this way, without first copying them into one buffer.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(e) = this.conn.error() {
            return Poll::Ready(Err(e.clone().into()));
        }
        if this.shutdown_started {
            return Poll::Ready(Err(Error::config("write after close_notify").into()));
        }
        while this.conn.outgoing().len() >= OUTGOING_LIMIT {
            ready!(this.poll_drain(cx))?;
        }
        let n = this.take_plaintext(bufs)?;
        // Start sending now; what the transport does not take waits for flush.
        if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.seal_pending()?;
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.shutdown_started {
            // What was written before shutdown goes out before close_notify.
            this.seal_pending()?;
            this.conn.send_close_notify();
            this.shutdown_started = true;
        }
        ready!(this.poll_drain(cx))?;
        match ready!(Pin::new(&mut this.io).poll_shutdown(cx)) {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
            other => Poll::Ready(other),
        }
    }
}
