//! A real browser as the peer: headless Chromium (installed by `.ci/run`) loads the built-in
//! page over our TLS 1.2 and renders it. Of our CBC suites Chromium offers the ECDHE_RSA ones with
//! SHA-1 MACs and their RSA counterparts (not the SHA-256 ones), and x25519 first among its
//! groups, so this also checks that our server's choice — ECDHE, forward secrecy — works with a
//! browser's ClientHello, not just with OpenSSL's.
//!
//! Firefox ESR is the second browser (Debian `firefox-esr`; its profile's trust store is edited
//! with `certutil` from `libnss3-tools`): it trusts our local CA, so unlike Chromium it really
//! verifies our certificate chain, and it takes a screenshot of the page it rendered.

mod common;

use common::{ca_path, output_within, Running};
use std::path::Path;
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

/// Prefs that keep a test Firefox off the network: only our server on loopback is contacted.
const OFFLINE_PREFS: &[(&str, &str)] = &[
    ("app.update.enabled", "false"),
    ("app.update.auto", "false"),
    ("app.normandy.enabled", "false"),
    ("network.captive-portal-service.enabled", "false"),
    ("network.connectivity-service.enabled", "false"),
    ("browser.safebrowsing.malware.enabled", "false"),
    ("browser.safebrowsing.phishing.enabled", "false"),
    ("browser.safebrowsing.downloads.enabled", "false"),
    ("browser.safebrowsing.downloads.remote.enabled", "false"),
    ("browser.safebrowsing.blockedURIs.enabled", "false"),
    ("datareporting.healthreport.uploadEnabled", "false"),
    ("datareporting.policy.dataSubmissionEnabled", "false"),
    ("toolkit.telemetry.enabled", "false"),
    ("toolkit.telemetry.unified", "false"),
    ("services.settings.server", "\"http://127.0.0.1:9/\""),
    ("extensions.update.enabled", "false"),
    ("network.dns.disablePrefetch", "true"),
    ("network.prefetch-next", "false"),
    ("browser.shell.checkDefaultBrowser", "false"),
];

/// A fresh Firefox profile whose NSS database (cert9.db) trusts `ca` to issue server
/// certificates ("C,,"), so the page loads only if our chain really verifies.
fn firefox_profile(ca: &Path) -> tempfile::TempDir {
    let profile = tempfile::tempdir().expect("profile dir");
    let prefs: String = OFFLINE_PREFS
        .iter()
        .map(|(k, v)| format!("user_pref(\"{k}\", {v});\n"))
        .collect();
    std::fs::write(profile.path().join("user.js"), prefs).expect("user.js");
    let db = format!("sql:{}", profile.path().display());
    for args in [
        vec!["-N", "-d", &db, "--empty-password"],
        vec!["-A", "-d", &db, "-n", "ourca", "-t", "C,,", "-i"],
    ] {
        let mut certutil = Command::new("certutil");
        certutil.args(&args);
        if args.first() == Some(&"-A") {
            certutil.arg(ca);
        }
        let out = output_within(&mut certutil, Duration::from_secs(30), "libnss3-tools");
        assert!(
            out.status.success(),
            "certutil {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    profile
}

#[test]
fn firefox_trusts_our_ca_and_renders_the_built_in_page_over_ecdhe_gcm() {
    let server = Running::start(&[]);
    let profile = firefox_profile(&ca_path());
    let shot = profile.path().join("page.png");
    let mut firefox = Command::new("firefox-esr");
    firefox
        .args(["--headless", "-no-remote", "-profile"])
        .arg(profile.path())
        .arg("--screenshot")
        .arg(&shot)
        .arg("--window-size=1280,900")
        .arg(server.url("/"));
    // A fail-safe, not synchronisation: Firefox exits once the screenshot is written (about
    // 2 s here, profile creation included); on an error page it would hang instead.
    let out = output_within(&mut firefox, Duration::from_secs(90), "firefox-esr");
    let png = std::fs::read(&shot).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}); firefox stderr:\n{}\nserver log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            server.stderr()
        )
    });
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "not a PNG: {} bytes",
        png.len()
    );
    // Firefox offers C02B C02F CCA9 CCA8 C02C C030 ... (browsers.md, section 3): of those our
    // first choice is ECDHE_RSA with AES-128-GCM. The access log names the suite per request.
    assert!(
        server.wait_for_line_with(
            &[
                "\"GET / HTTP/1.1\" 200",
                "Firefox/",
                "tls=1.2 cipher=ECDHE-RSA-AES128-GCM-SHA256 sni=localhost",
            ],
            Duration::from_secs(5)
        ),
        "access log: {}",
        server.stderr()
    );
}
