//! `ca-tool issue --client NAME [--email ADDR]`: a certificate for mutual TLS that OpenSSL
//! accepts for the TLS client purpose and refuses for the server one; `inspect` says so.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const CA_TOOL: &str = env!("CARGO_BIN_EXE_ca-tool");

/// Run to completion within two minutes (key generation included), failing the test when the
/// program is missing (naming what provides it) or hangs.
fn run(mut command: Command, provided_by: &str) -> Output {
    let program = command.get_program().to_string_lossy().into_owned();
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program} ({e}): install {provided_by}"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    rx.recv_timeout(Duration::from_secs(120))
        .unwrap_or_else(|_| panic!("{program} did not finish within 120 s"))
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

fn ca_tool(dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(CA_TOOL);
    command.current_dir(dir).args(args);
    run(command, "ca-tool (built by cargo)")
}

fn openssl(dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new("openssl");
    command.current_dir(dir).args(args);
    run(command, "the Debian package `openssl`")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn client_certificate_is_for_tls_clients_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = ca_tool(d, &["init"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = ca_tool(
        d,
        &[
            "issue",
            "--client",
            "Alice Example",
            "--email",
            "alice@example.test",
            "--ca",
            "certs/ca",
            "--out",
            "alice",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Created a client certificate: CN = Alice Example"),
        "{}",
        text(&out.stdout)
    );

    let ok = openssl(
        d,
        &[
            "verify",
            "-CAfile",
            "certs/ca.pem",
            "-purpose",
            "sslclient",
            "alice.pem",
        ],
    );
    assert!(
        ok.status.success(),
        "{}{}",
        text(&ok.stdout),
        text(&ok.stderr)
    );
    let server = openssl(
        d,
        &[
            "verify",
            "-CAfile",
            "certs/ca.pem",
            "-purpose",
            "sslserver",
            "alice.pem",
        ],
    );
    assert!(!server.status.success(), "not a server certificate");
    let ext = openssl(
        d,
        &[
            "x509",
            "-in",
            "alice.pem",
            "-noout",
            "-ext",
            "extendedKeyUsage,keyUsage,subjectAltName",
        ],
    );
    let ext = text(&ext.stdout);
    for needle in [
        "TLS Web Client Authentication",
        "Digital Signature",
        "email:alice@example.test",
    ] {
        assert!(ext.contains(needle), "{needle} missing in\n{ext}");
    }
    assert!(!ext.contains("Key Encipherment"), "{ext}");

    let out = ca_tool(d, &["inspect", "alice.pem"]);
    let t = text(&out.stdout);
    assert!(t.contains("Purpose:     TLS client (clientAuth)"), "{t}");
    let out = ca_tool(d, &["inspect", "certs/ca.pem"]);
    assert!(
        text(&out.stdout).contains("Purpose:     any (no extendedKeyUsage)"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn email_needs_client_and_client_takes_no_host_names() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = ca_tool(
        d,
        &[
            "issue",
            "localhost",
            "--email",
            "a@b.test",
            "--ca",
            "certs/ca",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let out = ca_tool(
        d,
        &[
            "issue",
            "localhost",
            "--client",
            "Alice",
            "--ca",
            "certs/ca",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}
