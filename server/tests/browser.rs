//! A real browser as the peer: headless Chromium (installed by `.ci/run`) loads the built-in
//! page over our TLS 1.2 and renders it. Of our CBC suites Chromium offers the ECDHE_RSA ones with
//! SHA-1 MACs and their RSA counterparts (not the SHA-256 ones), and x25519 first among its
//! groups, so this also checks that our server's choice — ECDHE, forward secrecy — works with a
//! browser's ClientHello, not just with OpenSSL's.

mod common;

use common::{output_within, Running};
use std::process::Command;
use std::time::Duration;

#[test]
fn chromium_renders_the_built_in_page_over_our_tls() {
    let server = Running::start(&[]);
    let profile = tempfile::tempdir().expect("profile dir");
    let mut chromium = Command::new("chromium");
    chromium
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            // The page is what we test, not Chromium's trust store (which we would have to
            // edit with NSS tools): the certificate check is covered by curl/openssl tests.
            "--ignore-certificate-errors",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(server.url("/"));
    // Bounded: a browser that hangs must not stall CI.
    let out = output_within(&mut chromium, Duration::from_secs(120), "chromium");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("Your connection is HTTPS (TLS 1.2)"),
        "page not rendered; stderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The page reports the suite the browser really negotiated: ECDHE with AES-GCM, our first
    // choice among the suites Chromium offers; forward secrecy, and AEAD for integrity.
    assert!(
        dom.contains("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256</code>"),
        "{dom}"
    );
    assert!(dom.contains("Forward secrecy</th><td>yes"), "{dom}");
    assert!(dom.contains("AEAD (a 16-byte AES-GCM tag)"), "{dom}");
    assert!(
        server.wait_for_log(
            "cipher=ECDHE-RSA-AES128-GCM-SHA256 sni=localhost",
            Duration::from_secs(5)
        ),
        "access log: {}",
        server.stderr()
    );
}
