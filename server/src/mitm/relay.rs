//! The wire between victim and server, with the man in the middle on it: bytes read from one
//! side go through a [`Filter`] (which may print them, hold them until a record is whole, or
//! change them) and on to the other side.
//!
//! Bounded: one fixed buffer per direction, a filter that holds at most a record or a head,
//! and an idle timeout — when neither side sends a byte for that long (or a side stops
//! reading what we write), the connection ends. A side that closes is half-closed towards the
//! other; the relay ends when both have closed or one fails.
//!
//! One task serves both directions, so while a write waits for a slow reader the other
//! direction is not read: fine for HTTP's request-then-response, and a peer that never reads
//! costs at most the idle timeout. In `--impersonate` the byte counts are plaintext (after
//! decryption); in the other modes they are what crossed the wire.

use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Bytes read per turn and direction.
pub const READ_BUF: usize = 16 * 1024;

/// Which way bytes travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Victim (client) to server.
    Up,
    /// Server to victim.
    Down,
}

impl Dir {
    /// `>` for what the client sends, `<` for what it gets (as curl -v marks them).
    pub fn arrow(self) -> &'static str {
        match self {
            Self::Up => ">",
            Self::Down => "<",
        }
    }

    pub fn index(self) -> usize {
        match self {
            Self::Up => 0,
            Self::Down => 1,
        }
    }
}

/// What the man in the middle does with the bytes.
pub trait Filter: Send {
    /// `input` was read going `dir`; append what to send on to `out`.
    fn data(&mut self, dir: Dir, input: &[u8], out: &mut Vec<u8>);
    /// The sender of `dir` closed; append anything still held back to `out`.
    fn end(&mut self, _dir: Dir, _out: &mut Vec<u8>) {}
    /// The connection is over: print what is still pending (a body cut short).
    fn finish(&mut self) {}
    /// A few words for the connection's summary line.
    fn summary(&self) -> String;
}

/// How a relayed connection went.
#[derive(Debug, Default)]
pub struct Totals {
    /// Bytes read from the client and from the server.
    pub up: u64,
    pub down: u64,
    pub ended: String,
}

/// Relay between `client` and `server` through `filter` until both close, one fails, or
/// nothing moves for `idle`.
pub async fn relay<C, S>(client: C, server: S, filter: &mut dyn Filter, idle: Duration) -> Totals
where
    C: AsyncRead + AsyncWrite + Send,
    S: AsyncRead + AsyncWrite + Send,
{
    let (mut cr, mut cw) = tokio::io::split(client);
    let (mut sr, mut sw) = tokio::io::split(server);
    let mut cbuf = vec![0u8; READ_BUF];
    let mut sbuf = vec![0u8; READ_BUF];
    let mut out = Vec::with_capacity(READ_BUF);
    let mut totals = Totals::default();
    let (mut client_open, mut server_open) = (true, true);
    // Every turn reads at least one byte or closes a side; a turn in which nothing happens
    // ends at the idle timeout, so the loop cannot spin.
    loop {
        if !client_open && !server_open {
            totals.ended = "both sides closed".into();
            break;
        }
        let turn = tokio::time::timeout(idle, async {
            tokio::select! {
                r = cr.read(&mut cbuf), if client_open => (Dir::Up, r),
                r = sr.read(&mut sbuf), if server_open => (Dir::Down, r),
            }
        })
        .await;
        let (dir, result) = match turn {
            Ok(t) => t,
            Err(_) => {
                totals.ended = format!("idle for {} s", idle.as_secs_f64());
                break;
            }
        };
        let (from, to_name) = match dir {
            Dir::Up => ("client", "server"),
            Dir::Down => ("server", "client"),
        };
        out.clear();
        let n = match result {
            Ok(0) => {
                filter.end(dir, &mut out);
                match dir {
                    Dir::Up => client_open = false,
                    Dir::Down => server_open = false,
                }
                0
            }
            Ok(n) => {
                let buf = match dir {
                    Dir::Up => &cbuf,
                    Dir::Down => &sbuf,
                };
                filter.data(dir, buf.get(..n).unwrap_or_default(), &mut out);
                n
            }
            Err(e) => {
                totals.ended = format!("{from} failed: {}", tls::text::escape_peer(&e.to_string()));
                break;
            }
        };
        match dir {
            Dir::Up => totals.up += n as u64,
            Dir::Down => totals.down += n as u64,
        }
        let writer: &mut (dyn AsyncWrite + Send + Unpin) = match dir {
            Dir::Up => &mut sw,
            Dir::Down => &mut cw,
        };
        let written = tokio::time::timeout(idle, async {
            writer.write_all(&out).await?;
            writer.flush().await?;
            if n == 0 {
                // Pass the close on (half-close; a TLS stream sends close_notify).
                writer.shutdown().await?;
            }
            Ok::<(), std::io::Error>(())
        })
        .await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(_)) if n == 0 => {
                // The other side is already gone: nothing left to tell it.
                if dir == Dir::Up {
                    server_open = false;
                } else {
                    client_open = false;
                }
            }
            Ok(Err(e)) => {
                totals.ended = format!(
                    "writing to the {to_name} failed: {}",
                    tls::text::escape_peer(&e.to_string())
                );
                break;
            }
            Err(_) => {
                totals.ended =
                    format!("the {to_name} stopped reading for {} s", idle.as_secs_f64());
                break;
            }
        }
    }
    filter.finish();
    totals
}
