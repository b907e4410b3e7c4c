//! Session resumption against the real `server` binary, with the clients people use: `openssl
//! s_client -sess_out`/`-sess_in` (by session id and by ticket) and curl fetching two URLs in
//! one command. The server's access log says which connections were resumed, and how.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// One `openssl s_client` handshake (stdin closed: it connects, handshakes and quits). Returns
/// its stdout, where `New, TLSv1.2` or `Reused, TLSv1.2` says what happened.
fn s_client(port: u16, sess: (&str, &Path), extra: &[&str]) -> String {
    let out = output_within(
        Command::new("openssl")
            .args(["s_client", "-connect"])
            .arg(format!("127.0.0.1:{port}"))
            .args([
                "-servername",
                "localhost",
                "-verify_return_error",
                "-CAfile",
            ])
            .arg(ca_path())
            .arg(sess.0)
            .arg(sess.1)
            .args(extra),
        Duration::from_secs(60),
        "openssl",
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn sess_out_then_in(extra: &[&str]) -> (Running, String, String) {
    // -v: the server logs each handshake, resumed ones with how.
    let s = Running::start(&["-v"]);
    let dir = temp_root();
    let file = dir.path().join("session.pem");
    let first = s_client(s.port, ("-sess_out", &file), extra);
    assert!(first.contains("New, TLSv1.2"), "{first}");
    let second = s_client(s.port, ("-sess_in", &file), extra);
    (s, first, second)
}

#[test]
fn openssl_resumes_by_session_id() {
    let (s, first, second) = sess_out_then_in(&["-no_ticket"]);
    assert!(second.contains("Reused, TLSv1.2"), "{second}");
    assert!(
        s.wait_for_log("resumed=id", Duration::from_secs(30)),
        "{}",
        s.stderr()
    );
    // Same id both times: the abbreviated handshake echoed it.
    let id = |out: &str| {
        out.lines()
            .find(|l| l.trim_start().starts_with("Session-ID:"))
            .map(|l| l.trim().to_string())
    };
    assert!(id(&first).is_some_and(|i| i.len() > "Session-ID: ".len()));
    assert_eq!(id(&first), id(&second));
    assert!(
        !second.contains("TLS session ticket:"),
        "no ticket with -no_ticket"
    );
}

#[test]
fn openssl_resumes_by_ticket() {
    let (s, first, second) = sess_out_then_in(&[]);
    assert!(
        first.contains("TLS session ticket lifetime hint: 300"),
        "{first}"
    );
    assert!(second.contains("Reused, TLSv1.2"), "{second}");
    // s_client sent its ticket: the server found the session in it (no cache lookup).
    assert!(
        s.wait_for_log("resumed=ticket", Duration::from_secs(30)),
        "{}",
        s.stderr()
    );
}

#[test]
fn without_cache_and_tickets_nothing_resumes() {
    let s = Running::start(&["--session-cache", "0", "--no-tickets"]);
    let dir = temp_root();
    let file = dir.path().join("session.pem");
    let first = s_client(s.port, ("-sess_out", &file), &[]);
    assert!(first.contains("New, TLSv1.2"), "{first}");
    let second = s_client(s.port, ("-sess_in", &file), &[]);
    assert!(second.contains("New, TLSv1.2"), "{second}");
}

#[test]
fn curl_fetching_two_urls_resumes_the_second_connection() {
    let s = Running::start(&[]);
    // Connection: close makes curl open a second connection, where it offers its session.
    let out = curl(&[
        "-H",
        "Connection: close",
        "-o",
        "/dev/null",
        "-o",
        "/dev/null",
        &s.url("/?first"),
        &s.url("/?second"),
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        s.wait_for_log("GET /?second", Duration::from_secs(30)),
        "{}",
        s.stderr()
    );
    let log = s.stderr();
    let line = |needle: &str| {
        log.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_default()
            .to_string()
    };
    assert!(!line("GET /?first").contains("resumed="), "{log}");
    assert!(line("GET /?second").contains("resumed="), "{log}");
}

#[test]
fn the_page_says_the_connection_was_resumed() {
    let s = Running::start(&[]);
    let dir = temp_root();
    let (a, b) = (dir.path().join("a.html"), dir.path().join("b.html"));
    let out = curl(&[
        "-H",
        "Connection: close",
        "-o",
        a.to_str().unwrap(),
        "-o",
        b.to_str().unwrap(),
        &s.url("/"),
        &s.url("/"),
    ]);
    assert!(out.status.success(), "{out:?}");
    let first = std::fs::read_to_string(&a).expect("first page");
    let second = std::fs::read_to_string(&b).expect("second page");
    assert!(
        first.contains("full: certificate, RSA key exchange"),
        "{first}"
    );
    // curl 7.88 (OpenSSL) resumes by session id; by ticket the page says "resumed (ticket)".
    assert!(second.contains("<td>resumed ("), "{second}");
}
