//! The server started in-process through its library API (port 0), talked to with our own TLS
//! client: the page reflects this very connection, and shutdown ends idle keep-alive connections
//! with close_notify (a clean end, not a truncation).

use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

type Client = tls::stream::TlsStream<TcpStream>;

async fn start() -> (
    std::net::SocketAddr,
    tempfile::TempDir,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), server::ServerError>>,
) {
    let certs = tempfile::tempdir().expect("tempdir");
    let opts = server::Options {
        listen: "127.0.0.1:0".parse().expect("addr"),
        certs_dir: certs.path().to_path_buf(),
        verbose: true,
        ..server::Options::default()
    };
    let server = server::Server::bind(opts).await.expect("bind");
    assert!(server.local_ca().is_some_and(|ca| ca.created));
    let addr = server.https_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.serve(async {
        let _ = stopped.await;
    }));
    (addr, certs, stop, task)
}

async fn connect(addr: std::net::SocketAddr, certs: &std::path::Path) -> Client {
    let roots = tls::pki::trust::TrustStore::from_pem_file(&certs.join("ca.pem")).expect("roots");
    let config = Arc::new(tls::ClientConfig::new(roots));
    let tcp = TcpStream::connect(addr).await.expect("connect");
    tls::stream::connect(config, "localhost", tcp)
        .await
        .expect("handshake")
}

/// Send one keep-alive GET and read exactly its response (headers + Content-Length body).
async fn get(stream: &mut Client, path: &str) -> (String, String) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    stream.flush().await.expect("flush");
    let mut data = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let text = String::from_utf8_lossy(&data).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .expect("content-length");
            if body.len() >= len {
                return (head.to_string(), body.to_string());
            }
        }
        let n = stream.read(&mut buf).await.expect("read");
        assert!(n > 0, "connection ended mid-response");
        data.extend_from_slice(buf.get(..n).unwrap_or(&[]));
    }
}

#[tokio::test]
async fn the_front_page_shows_this_connection_and_shutdown_sends_close_notify() {
    let (addr, certs, stop, task) = start().await;
    let mut client = connect(addr, certs.path()).await;
    let info = client.info().cloned().expect("session info");

    let (head, page) = get(&mut client, "/").await;
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(
        page.contains(&tls::trace::hex(&info.client_random)),
        "client random shown"
    );
    assert!(
        page.contains(&tls::trace::hex(&info.server_random)),
        "server random shown"
    );
    assert!(page.contains(info.suite.name));
    let leaf = tls::pki::x509::Certificate::from_der(info.server_chain.first().expect("leaf"))
        .expect("leaf parses");
    let fingerprint = tls::pki::x509::hex_colon(&leaf.sha256_fingerprint(), true);
    assert!(page.contains(&fingerprint), "leaf fingerprint shown");

    // Keep-alive: a second request on the same connection, then a 404.
    let (head, _) = get(&mut client, "/missing").await;
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");

    // Shutdown: the idle connection is closed with close_notify, so our read sees a clean EOF
    // (a bare TCP close would be `UnexpectedEof`).
    stop.send(()).expect("stop");
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), client.read(&mut buf))
        .await
        .expect("closed in time");
    assert_eq!(read.expect("clean close_notify, not truncation"), 0);
    let result = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("serve returns")
        .expect("no panic");
    // serve() returned, so its listeners are dropped. (Not probed by connecting: the port is
    // free now and another test's server may already have it.)
    assert!(result.is_ok());
}

#[tokio::test]
async fn a_tampered_record_ends_only_that_connection_with_bad_record_mac() {
    let (addr, certs, stop, task) = start().await;
    let mut victim = connect(addr, certs.path()).await;
    let (head, _) = get(&mut victim, "/").await;
    assert!(head.starts_with("HTTP/1.1 200"));

    // An application-data record of the right shape whose ciphertext is junk, written straight
    // to the socket under the TLS layer: what a man in the middle could inject.
    let mut forged = vec![0x17, 0x03, 0x03, 0x00, 0x40];
    forged.extend((0u8..0x40).map(|i| i.wrapping_mul(37)));
    let written = victim.get_ref().try_write(&forged).expect("raw write");
    assert_eq!(written, forged.len());

    let mut buf = [0u8; 64];
    let err = tokio::time::timeout(Duration::from_secs(5), victim.read(&mut buf))
        .await
        .expect("answered in time")
        .expect_err("the server refuses the forged record");
    assert!(
        matches!(
            tls::stream::tls_error(&err),
            Some(tls::Error::AlertReceived(
                tls::alert::AlertDescription::BadRecordMac
            ))
        ),
        "{err}"
    );

    // Everyone else is still served.
    let mut other = connect(addr, certs.path()).await;
    let (head, _) = get(&mut other, "/").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    drop(other);
    stop.send(()).expect("stop");
    let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
}
