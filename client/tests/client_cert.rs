//! `--cert`/`--key` (mutual TLS) against `openssl s_server -Verify 1 -CAfile ca.pem`: the
//! certificate is sent and signed for, `-v` shows the request, the CA names and what was sent;
//! without one, the server refuses; a key that does not match is curl's exit 58.

mod common;

use common::*;

fn client_cert() -> (String, String) {
    let pki = tls::testing::pki();
    (
        pki.client().display().to_string(),
        pki.leaf_key().display().to_string(),
    )
}

fn verifying_server() -> Server {
    let ca = certs().ca.display().to_string();
    s_server_with(
        &certs().good,
        0,
        &["-Verify", "1", "-verify_return_error", "-CAfile", &ca],
    )
}

#[test]
fn client_certificate_is_sent_and_shown_with_v() {
    let server = verifying_server();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = client_cert();
    let url = format!("https://localhost:{}/", server.port);
    let ca = certs().ca.display().to_string();
    let out = client(
        dir.path(),
        &["-v", "--cacert", &ca, "--cert", &cert, "--key", &key, &url],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    for line in [
        "* TLSv1.2 (IN), TLS handshake, Request CERT (13):",
        "*   acceptable CA: CN=Test Root CA",
        "* TLSv1.2 (OUT), TLS handshake, Certificate (11):",
        "*  client certificate sent: subject: CN=Test Client (1 certificate)",
        "* TLSv1.2 (OUT), TLS handshake, CERT verify (15):",
    ] {
        assert!(
            err.lines().any(|l| l == line),
            "missing {line:?} in:\n{err}"
        );
    }
    // s_server -www describes the session; it ran the handshake to the end.
    assert!(
        text(&out.stdout).contains("Cipher"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn without_a_certificate_the_server_refuses() {
    let server = verifying_server();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("https://localhost:{}/", server.port);
    let ca = certs().ca.display().to_string();
    let out = client(dir.path(), &["-v", "--cacert", &ca, &url]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(35), "{err}");
    assert!(err.contains("no client certificate sent"), "{err}");
}

#[test]
fn a_key_that_does_not_match_is_exit_58_and_key_needs_cert() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _) = client_cert();
    let ca_key = tls::testing::pki().ca_key().display().to_string();
    let ca = certs().ca.display().to_string();
    // Refused when the TLS connection is set up, before any handshake byte is sent.
    let server = verifying_server();
    let url = format!("https://localhost:{}/", server.port);
    let out = client(
        dir.path(),
        &["--cacert", &ca, "--cert", &cert, "--key", &ca_key, &url],
    );
    assert_eq!(out.status.code(), Some(58), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("does not match"),
        "{}",
        text(&out.stderr)
    );
    let out = client(dir.path(), &["--key", &ca_key, "https://127.0.0.1:9/"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn explain_narrates_the_request_and_what_we_signed() {
    let server = verifying_server();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = client_cert();
    let url = format!("https://localhost:{}/", server.port);
    let ca = certs().ca.display().to_string();
    let out = client(
        dir.path(),
        &[
            "--explain",
            "--cacert",
            &ca,
            "--cert",
            &cert,
            "--key",
            &key,
            "-o",
            "/dev/null",
            &url,
        ],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    for needle in [
        "CertificateRequest (server → client",
        "acceptable CA: CN=Test Root CA",
        "The client's identity (it was asked for it)",
        "Signing the handshake for CertificateVerify",
        "SHA-256(every handshake message, ClientHello .. ClientKeyExchange) = ",
        "CertificateVerify (client → server",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
}
