//! The tokio adapter over an in-process pipe: how writes become records, and that a peer
//! cannot make it read (and buffer) without bound.

mod common;

use common::{arc, client_config, pki, server_config};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tls::alert::AlertDescription;
use tls::record::ContentType;
use tls::stream::{accept, connect, tls_error, TlsStream};
use tls::trace::{Direction, Event, Observer};
use tls::{Connection, Error};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A fail-safe only: every test synchronises on data, not on time.
const DEADLINE: Duration = Duration::from_secs(20);

/// Plaintext sizes of the application-data records a connection received.
#[derive(Default)]
struct AppRecords(Mutex<Vec<usize>>);

impl Observer for AppRecords {
    fn event(&self, event: &Event<'_>) {
        if let Event::Record {
            direction: Direction::Received,
            content_type: ContentType::ApplicationData,
            plaintext,
            ..
        } = event
        {
            if let Ok(mut v) = self.0.lock() {
                v.push(plaintext.len());
            }
        }
    }
}

/// The server writes `writes` one after the other, then flushes once; returns the sizes of
/// the application-data records the client received.
async fn records_for(writes: Vec<Vec<u8>>) -> Vec<usize> {
    let total: usize = writes.iter().map(Vec::len).sum();
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let server = tokio::spawn(async move {
        let mut s = accept(arc(server_config(pki())), server_io)
            .await
            .expect("server handshake");
        for w in &writes {
            s.write_all(w).await.expect("write");
        }
        s.flush().await.expect("flush");
        s.shutdown().await.expect("close_notify");
    });
    let (got, sizes) = read_all_as_client(client_io).await;
    assert_eq!(got.len(), total);
    server.await.expect("server task");
    sizes
}

/// Our client over `io` reads to close_notify: the bytes, and the plaintext size of each
/// application-data record they came in.
async fn read_all_as_client(io: tokio::io::DuplexStream) -> (Vec<u8>, Vec<usize>) {
    let records = Arc::new(AppRecords::default());
    let conn = Connection::client_observed(
        arc(client_config(pki())),
        "localhost",
        Some(records.clone()),
    )
    .expect("client");
    let mut c = TlsStream::handshake(io, conn)
        .await
        .expect("client handshake");
    let mut got = Vec::new();
    c.read_to_end(&mut got).await.expect("read to close_notify");
    let sizes = records.0.lock().expect("lock").clone();
    (got, sizes)
}

#[tokio::test]
async fn a_short_response_written_in_two_writes_leaves_in_one_record() {
    // hyper writes a response head and a small body separately, then flushes.
    let head = b"HTTP/1.1 200 OK\r\ncontent-length: 12\r\n\r\n".to_vec();
    let body = b"hello world\n".to_vec();
    let total = head.len() + body.len();
    let records = tokio::time::timeout(DEADLINE, records_for(vec![head, body]))
        .await
        .expect("deadline");
    assert_eq!(records, [total], "one record for head and body");
}

#[tokio::test]
async fn bulk_writes_of_any_size_leave_in_full_records() {
    // 100 000 bytes in writes of 10 000: every record full (2^14) but the last.
    let writes = (0..10).map(|i| vec![i as u8; 10_000]).collect();
    let records = tokio::time::timeout(DEADLINE, records_for(writes))
        .await
        .expect("deadline");
    assert_eq!(records, [16384, 16384, 16384, 16384, 16384, 16384, 1696]);
}

#[tokio::test]
async fn close_notify_during_the_handshake_ends_it_without_reading_on() {
    // A client sends its hello, close_notify, then record after record and never stops. The
    // server must end the handshake at close_notify and stop reading, not buffer the rest.
    let (mut client_io, server_io) = tokio::io::duplex(16 * 1024);
    let client = Connection::client(arc(client_config(pki())), "localhost").expect("client");
    let mut opening = client.outgoing().to_vec();
    opening.extend_from_slice(&[21, 3, 3, 0, 2, 1, 0]); // warning close_notify
    let junk = [23u8, 3, 3, 0x40, 0]
        .into_iter()
        .chain(std::iter::repeat_n(0u8, 1 << 14))
        .collect::<Vec<u8>>();
    let written = Arc::new(AtomicUsize::new(0));
    let counter = written.clone();
    const JUNK_RECORDS: usize = 512; // 8 MiB
    let flood = tokio::spawn(async move {
        client_io.write_all(&opening).await?;
        for _ in 0..JUNK_RECORDS {
            client_io.write_all(&junk).await?;
            counter.fetch_add(junk.len(), Ordering::SeqCst);
        }
        Ok::<_, std::io::Error>(client_io)
    });
    let result = tokio::time::timeout(DEADLINE, accept(arc(server_config(pki())), server_io))
        .await
        .expect("the handshake ends promptly");
    let err = result.err().expect("no handshake after close_notify");
    assert!(
        matches!(
            tls_error(&err),
            Some(Error::AlertReceived(AlertDescription::CloseNotify))
        ),
        "{err}"
    );
    // The pipe holds 16 KiB: had the server kept reading, the flood would be far along.
    let sent = written.load(Ordering::SeqCst);
    assert!(
        sent < 4 * (1 << 14),
        "server read {sent} bytes after close_notify"
    );
    flood.abort();
}

#[tokio::test]
async fn a_write_after_shutdown_fails_at_once() {
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let server = tokio::spawn(async move {
        let mut s = accept(arc(server_config(pki())), server_io)
            .await
            .expect("server handshake");
        s.shutdown().await.expect("close_notify");
        // Buffered writes must not hide this until a flush that never comes.
        let err = s
            .write(b"late")
            .await
            .expect_err("nothing after close_notify");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    });
    let mut c = connect(arc(client_config(pki())), "localhost", client_io)
        .await
        .expect("client handshake");
    let mut got = Vec::new();
    tokio::time::timeout(DEADLINE, c.read_to_end(&mut got))
        .await
        .expect("deadline")
        .expect("clean close_notify");
    assert!(got.is_empty());
    server.await.expect("server task");
}

/// A peer that reads nothing pins little (issue #20): writes wait once a small watermark of
/// sealed records is queued, instead of sealing far ahead of the transport.
#[tokio::test]
async fn a_peer_that_reads_nothing_pins_only_a_small_watermark() {
    use std::pin::Pin;
    use std::task::Poll;
    use tokio::io::AsyncWrite;
    let (client_io, server_io) = tokio::io::duplex(16 * 1024);
    let (server, client) = tokio::join!(
        accept(arc(server_config(pki())), server_io),
        connect(arc(client_config(pki())), "localhost", client_io)
    );
    let mut server = server.expect("server handshake");
    let _client = client.expect("client handshake"); // Never reads from now on.
    let big = vec![7u8; 4 * 1024 * 1024];
    let mut written = 0usize;
    // Write until a write blocks (the pipe is full and nobody reads); bounded.
    for _ in 0..big.len() {
        let rest = big.get(written..).unwrap_or_default();
        let polled =
            std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut server).poll_write(cx, rest)))
                .await;
        match polled {
            Poll::Ready(Ok(n)) if n > 0 => written += n,
            Poll::Ready(r) => panic!("write ended: {r:?}"),
            Poll::Pending => break,
        }
    }
    assert!(written < big.len(), "the pipe cannot take 4 MiB");
    let queued = server.queued();
    assert!(
        queued <= 64 * 1024 + 1024,
        "{queued} bytes queued for a peer that reads nothing"
    );
}

#[tokio::test]
async fn vectored_writes_arrive_in_order_in_full_records() {
    // What hyper does with a response head and body chunks: several slices per write call.
    let head = b"HTTP/1.1 200 OK\r\ncontent-length: 40000\r\n\r\n".to_vec();
    let chunks: Vec<Vec<u8>> = (0..4u8).map(|i| vec![i; 10_000]).collect();
    let mut expected = head.clone();
    chunks.iter().for_each(|c| expected.extend_from_slice(c));
    let want = expected.clone();
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let server = tokio::spawn(async move {
        let mut s = accept(arc(server_config(pki())), server_io)
            .await
            .expect("server handshake");
        let mut parts: Vec<&[u8]> = vec![&head];
        parts.extend(chunks.iter().map(Vec::as_slice));
        let (mut part, mut offset) = (0, 0);
        while part < parts.len() {
            let slices: Vec<std::io::IoSlice<'_>> = std::iter::once(&parts[part][offset..])
                .chain(parts[part + 1..].iter().copied())
                .map(std::io::IoSlice::new)
                .collect();
            let mut n = s.write_vectored(&slices).await.expect("write");
            assert!(n > 0);
            // Advance over what was taken, across slice boundaries.
            while part < parts.len() && n >= parts[part].len() - offset {
                n -= parts[part].len() - offset;
                part += 1;
                offset = 0;
            }
            offset += n;
        }
        s.flush().await.expect("flush");
        s.shutdown().await.expect("close_notify");
    });
    let (got, sizes) = tokio::time::timeout(DEADLINE, read_all_as_client(client_io))
        .await
        .expect("deadline");
    server.await.expect("server task");
    assert_eq!(got, want);
    let total = want.len();
    assert_eq!(
        sizes,
        [16384, 16384, total - 2 * 16384],
        "full records but the last"
    );
}
