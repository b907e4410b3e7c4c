//! Mutual TLS as users run it: `server --client-ca ca.pem [--client-auth optional]` fetched
//! with `curl --cert/--key`; the page greets the certificate, the access log names it.

mod common;

use common::{curl, output_within, path_str, Running};
use std::process::Command;
use std::time::Duration;

fn client_cert_args() -> Vec<String> {
    let pki = tls::testing::pki();
    vec![
        "--cert".into(),
        path_str(&pki.client()),
        "--key".into(),
        path_str(&pki.leaf_key()),
    ]
}

#[test]
fn curl_with_a_client_certificate_is_greeted_and_logged() {
    let ca = path_str(&tls::testing::pki().ca());
    let s = Running::start(&["--client-ca", &ca]);
    assert!(
        s.banner
            .contains("Client certificates: required (mutual TLS), issued by: CN = Test Root CA"),
        "{}",
        s.banner
    );
    let mut args = client_cert_args();
    args.push(s.url("/"));
    let args = args.iter().map(String::as_str).collect::<Vec<_>>();
    let out = curl(&args);
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(page.contains("Hello, <b>Test Client</b>"), "{page}");
    assert!(
        page.contains(&tls::testing::pki().client.serial_hex()),
        "{page}"
    );
    assert!(
        s.wait_for_log("client=\"CN = Test Client\"", Duration::from_secs(30)),
        "{}",
        s.stderr()
    );

    // Without a certificate: refused in the handshake (required is the default).
    let out = curl(&[&s.url("/")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("alert") || err.contains("handshake"), "{err}");
}

#[test]
fn optional_client_auth_serves_anonymous_visitors() {
    let ca = path_str(&tls::testing::pki().ca());
    let s = Running::start(&["--client-ca", &ca, "--client-auth", "optional"]);
    assert!(
        s.banner.contains("Client certificates: optional"),
        "{}",
        s.banner
    );
    let out = curl(&[&s.url("/")]);
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(page.contains("<b>anonymous</b>"), "{page}");
}

#[test]
fn file_server_requires_the_certificate() {
    let root = common::temp_root();
    std::fs::write(root.path().join("secret.txt"), "for certificate holders\n").expect("file");
    let ca = path_str(&tls::testing::pki().ca());
    let s = Running::start(&["--root", &path_str(root.path()), "--client-ca", &ca]);
    let url = s.url("/secret.txt");
    assert!(!curl(&[&url]).status.success());
    let mut args = client_cert_args();
    args.push(url);
    let args = args.iter().map(String::as_str).collect::<Vec<_>>();
    let out = curl(&args);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "for certificate holders\n"
    );
}

#[test]
fn client_auth_without_client_ca_is_a_usage_error() {
    let out = output_within(
        Command::new(env!("CARGO_BIN_EXE_server")).args(["--client-auth", "optional"]),
        Duration::from_secs(60),
        "(the server under test)",
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--client-ca"), "{err}");
    let out = output_within(
        Command::new(env!("CARGO_BIN_EXE_server")).args(["--client-auth", "sometimes"]),
        Duration::from_secs(60),
        "(the server under test)",
    );
    assert_eq!(out.status.code(), Some(2));
}
