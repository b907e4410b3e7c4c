//! Issue #20: every phase of a connection has a deadline, logged as one line when it fires
//! (the handshake's is in cli.rs, write progress in security.rs), and at the connection limit
//! stalled readers do not lock a new client out: one of them is shed instead.

mod common;

use common::*;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The server closed the connection: a read ends (EOF or error) within the fail-safe.
async fn closed_by_server(client: &mut tls::stream::TlsStream<tokio::net::TcpStream>) -> bool {
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match client.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    });
    read.await.is_ok()
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_keepalive_timeout() {
    let s = Running::start(&["--keepalive-timeout", "0.5", "--header-timeout", "60"]);
    assert!(
        s.banner.contains("0.5s idle between requests"),
        "{}",
        s.banner
    );
    let mut client = tls_connect(s.port).await;
    // One request, answered; then silence.
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("request");
    client.flush().await.expect("flush");
    let mut head = [0u8; 12];
    client.read_exact(&mut head).await.expect("response");
    assert_eq!(&head, b"HTTP/1.1 200");
    // (Blocking this single-threaded runtime is fine: the client must stay still meanwhile.)
    assert!(
        s.wait_for_log(
            "keep-alive idle (no request) timed out after 0.5s: connection dropped",
            Duration::from_secs(30)
        ),
        "{}",
        s.stderr()
    );
    assert!(closed_by_server(&mut client).await);
}

#[tokio::test]
async fn a_request_head_that_never_ends_is_cut_after_the_header_timeout() {
    let s = Running::start(&["--header-timeout", "0.5", "--keepalive-timeout", "60"]);
    let mut client = tls_connect(s.port).await;
    // Slowloris: a head begun and never finished.
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .await
        .expect("request");
    client.flush().await.expect("flush");
    assert!(
        s.wait_for_log(
            "request head timed out after 0.5s: connection dropped",
            Duration::from_secs(30)
        ),
        "{}",
        s.stderr()
    );
    assert!(closed_by_server(&mut client).await);
    assert!(!s.stderr().contains("keep-alive idle"), "{}", s.stderr());
}

#[tokio::test]
async fn at_the_limit_stalled_readers_are_shed_and_a_new_client_is_served() {
    let root = temp_root();
    // Far more than the loopback socket buffers hold: each response stays blocked.
    std::fs::write(root.path().join("big.bin"), vec![0x5au8; 16 * 1024 * 1024]).expect("write");
    std::fs::write(root.path().join("small.txt"), b"hello\n").expect("write");
    let s = Running::start(&[
        "--root",
        &path_str(root.path()),
        "--max-connections",
        "4",
        "--send-timeout",
        "600",
    ]);
    let mut stalled = Vec::new();
    for _ in 0..4 {
        let mut c = tls_connect(s.port).await;
        c.write_all(b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .expect("request");
        c.flush().await.expect("flush");
        // Read nothing from now on.
        stalled.push(c);
    }
    // A fifth client: with the slots all held for 600 s it would wait (curl's --max-time 60
    // fails the test); instead one stalled reader makes room.
    let started = std::time::Instant::now();
    let out = curl(&["-o", "-", "-w", " %{http_code}", &s.url("/small.txt")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text, "hello\n 200", "{}", s.stderr());
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(
        s.wait_for_log(
            "(at the limit of 4 connections, a new client came): connection dropped",
            Duration::from_secs(30)
        ),
        "{}",
        s.stderr()
    );
    let log = s.stderr();
    assert_eq!(log.matches(" shed: ").count(), 1, "{log}");
    drop(stalled);
}

#[test]
fn over_the_memory_cap_new_connections_are_refused_with_a_clean_close() {
    // 1 MiB: below any process's resident size, so every connection is over the cap.
    let s = Running::start(&["--max-memory", "1"]);
    assert!(
        s.banner
            .contains("new connections refused above 1 MiB resident"),
        "{}",
        s.banner
    );
    assert!(s.banner.contains("Open files: "), "{}", s.banner);
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", s.port)).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("fail-safe");
    let mut buf = [0u8; 16];
    let n = std::io::Read::read(&mut tcp, &mut buf).expect("a clean close (FIN), not a reset");
    assert_eq!(n, 0);
    assert!(
        s.wait_for_log(
            "resident memory over --max-memory 1 MiB",
            Duration::from_secs(30)
        ),
        "{}",
        s.stderr()
    );
}
