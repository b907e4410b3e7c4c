//! Mutual TLS with real peers: `openssl s_client -cert/-key` against our server asking for a
//! client certificate (each refusal with its alert), and our client with a certificate against
//! `openssl s_server -Verify 1`.
//!
//! A CertificateVerify made with the wrong key cannot be produced with openssl (s_client
//! refuses a key that does not match its certificate: "key values mismatch"); that case is
//! `tls/tests/client_auth.rs::signature_with_another_key_is_decrypt_error`, in memory.

mod common;

use common::{arc, one_handshake, pki, s_client, sent_alert};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tls::alert::AlertDescription;
use tls::config::ClientIdentity;
use tls::pki::pem;
use tls::pki::x509::{Certificate, CertificateBuilder};
use tls::SessionInfo;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::Command;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(30);

/// A certificate written as PEM next to the fixture's, for openssl to read.
fn write_cert(dir: &Path, name: &str, cert: &Certificate) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, pem::encode_certificate(cert.der())).expect("write cert");
    path
}

/// Our server asking for a client certificate; s_client with `cert` (key: the fixture leaf's).
async fn against_our_server(
    required: bool,
    cert: Option<&Path>,
) -> (Result<SessionInfo, std::io::Error>, String) {
    let (addr, task) = one_handshake(arc(pki().server_config_with_client_auth(required))).await;
    let key = pki().leaf_key();
    let key = key.to_str().expect("utf8 path");
    let identity = cert.map(|c| ["-cert", c.to_str().expect("utf8 path"), "-key", key]);
    let out = s_client(addr, identity.as_ref().map_or(&[][..], |a| &a[..]), &[])
        .await
        .all();
    let result = timeout(LIMIT, task)
        .await
        .expect("server done")
        .expect("task");
    (result, out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s_client_with_a_client_certificate_is_known_to_our_server() {
    for required in [true, false] {
        let (result, out) = against_our_server(required, Some(&pki().client())).await;
        let info = result.unwrap_or_else(|e| panic!("handshake: {e}\n{out}"));
        // s_client also sends the root it found in -CAfile; the leaf comes first.
        assert_eq!(
            info.client_chain.first(),
            Some(&pki().client.der().to_vec())
        );
        // s_client shows the CA names we sent in CertificateRequest.
        assert!(
            out.contains("Acceptable client certificate CA names") && out.contains("Test Root CA"),
            "{out}"
        );
        assert!(out.contains("pong"), "{out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s_client_without_a_certificate_is_refused_or_anonymous() {
    let (result, out) = against_our_server(true, None).await;
    let err = result.expect_err("required: refused");
    assert_eq!(
        sent_alert(&err),
        Some(AlertDescription::HandshakeFailure),
        "{err}"
    );
    assert!(out.contains("alert handshake failure"), "{out}");

    let (result, out) = against_our_server(false, None).await;
    let info = result.unwrap_or_else(|e| panic!("optional: {e}\n{out}"));
    assert!(info.client_chain.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s_client_with_a_bad_certificate_gets_the_matching_alert() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = pki();
    let other_root = CertificateBuilder::root_ca("Other Root CA")
        .self_signed(&p.root_key)
        .expect("other root");
    let stranger = CertificateBuilder::client("Stranger", None)
        .expect("name")
        .sign(p.leaf_private_key().public_key(), &other_root, &p.root_key)
        .expect("stranger");
    let now = tls::text::unix_now();
    let expired = p.client_cert_with(|b| b.validity(now - 100 * 86400, now - 86400));
    let cases = [
        (
            write_cert(dir.path(), "stranger.pem", &stranger),
            AlertDescription::UnknownCa,
            "alert unknown ca",
        ),
        (
            write_cert(dir.path(), "expired.pem", &expired),
            AlertDescription::CertificateExpired,
            "alert certificate expired",
        ),
        // The server certificate: EKU serverAuth only, no clientAuth.
        (
            p.leaf(),
            AlertDescription::UnsupportedCertificate,
            "alert unsupported certificate",
        ),
    ];
    for (cert, alert, openssl_says) in cases {
        for required in [true, false] {
            let (result, out) = against_our_server(required, Some(&cert)).await;
            let err = result.expect_err("refused");
            assert_eq!(sent_alert(&err), Some(alert), "{}: {err}", cert.display());
            assert!(out.contains(openssl_says), "{out}");
        }
    }
}

/// `openssl s_server -Verify 1 -CAfile ca.pem -rev`; its port and its output (stdout, then
/// stderr).
async fn s_server_verifying() -> (
    tokio::process::Child,
    SocketAddr,
    tokio::task::JoinHandle<String>,
) {
    let p = pki();
    let mut child = Command::new("openssl")
        .args(["s_server", "-accept", "127.0.0.1:0", "-tls1_2", "-rev"])
        .args(["-naccept", "1", "-Verify", "1", "-verify_return_error"])
        .arg("-CAfile")
        .arg(p.ca())
        .arg("-cert")
        .arg(p.leaf())
        .arg("-key")
        .arg(p.leaf_key())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("cannot run openssl s_server: install the Debian package `openssl`");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let addr = timeout(LIMIT, async {
        while let Some(line) = lines.next_line().await.expect("line") {
            if let Some(addr) = line.strip_prefix("ACCEPT ") {
                return addr.parse::<SocketAddr>().expect("address");
            }
        }
        panic!("s_server exited before ACCEPT");
    })
    .await
    .expect("s_server ready");
    // Its verify callback reports each certificate of the client's chain on stderr.
    let stderr = child.stderr.take().expect("stderr");
    let rest = tokio::spawn(async move {
        let mut text = String::new();
        while let Ok(Some(line)) = lines.next_line().await {
            text.push_str(&line);
            text.push('\n');
        }
        let mut errors = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = errors.next_line().await {
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    (child, addr, rest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_with_a_certificate_is_verified_by_s_server() {
    let (mut child, addr, output) = s_server_verifying().await;
    let mut config = pki().client_config();
    config.client_identity = Some(Arc::new(
        ClientIdentity::new(vec![pki().client.der().to_vec()], pki().leaf_private_key())
            .expect("identity"),
    ));
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let mut tls = tls::stream::connect(arc(config), "localhost", tcp)
        .await
        .expect("handshake with s_server -Verify 1");
    tls.write_all(b"hello world\n").await.expect("write");
    tls.flush().await.expect("flush");
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&got).contains("dlrow olleh") {
        let n = timeout(LIMIT, tls.read(&mut buf))
            .await
            .expect("reply in time")
            .expect("read");
        assert!(
            n > 0,
            "s_server closed: {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    tls.shutdown().await.expect("close_notify");
    let _ = timeout(LIMIT, child.wait()).await;
    let text = timeout(LIMIT, output).await.expect("output").expect("task");
    // s_server's verify callback went through the client's chain, and it verified.
    assert!(text.contains("depth=0 CN = Test Client"), "{text}");
    assert!(text.contains("verify return:1"), "{text}");
    assert!(!text.contains("verify error"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_without_a_certificate_is_refused_by_s_server() {
    let (_child, addr, _output) = s_server_verifying().await;
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let err = tls::stream::connect(arc(pki().client_config()), "localhost", tcp)
        .await
        .err()
        .expect("s_server -Verify 1 refuses an empty Certificate");
    assert!(err.to_string().contains("alert"), "{err}");
}
