//! The client resumes TLS sessions: against `openssl s_server -www` (whose page says `Reused`)
//! by session id and by ticket, and against a server on our own stack (whose replies say how
//! the connection was made) across several URLs, a redirect, and runs (`--session-file`).

mod common;

use common::*;
use std::path::Path;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn two_urls_against_s_server(extra: &[&str]) {
    let server = s_server_with(&certs().good, 0, extra);
    let cfg = tempfile::tempdir().unwrap();
    let url = format!("https://localhost:{}/", server.port);
    let ca = certs().ca.to_str().unwrap();
    let out = client(cfg.path(), &["--cacert", ca, "-v", &url, &url]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let page = text(&out.stdout);
    let new = page.find("New, TLSv1.2").expect("first: a full handshake");
    let reused = page.find("Reused, TLSv1.2").expect("second: resumed");
    assert!(new < reused, "{page}");
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.matches("* SSL re-using session ID").count(),
        1,
        "{stderr}"
    );
}

#[test]
fn resumes_with_openssl_by_ticket() {
    two_urls_against_s_server(&[]);
}

#[test]
fn resumes_with_openssl_by_session_id() {
    two_urls_against_s_server(&["-no_ticket"]);
}

/// A server on our stack: each reply is `<path> full` or `<path> resumed-by-<how>`; `/go`
/// redirects to `/there`. One request per connection (`Connection: close`), so every URL is a
/// new handshake.
fn our_server() -> u16 {
    let pki = tls::testing::pki();
    let config = Arc::new(pki.server_config());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let config = config.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = tls::stream::accept(config, tcp).await else {
                        return;
                    };
                    let how = match tls.info().and_then(|i| i.resumed) {
                        None => "full".to_string(),
                        Some(by) => format!("resumed-by-{}", by.name().replace(' ', "-")),
                    };
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 8192 {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let line = String::from_utf8_lossy(&request).into_owned();
                    let path = line.split(' ').nth(1).unwrap_or("?").to_string();
                    let reply = if path == "/go" {
                        "HTTP/1.1 302 Found\r\nLocation: /there\r\nContent-Length: 0\r\n\
                         Connection: close\r\n\r\n"
                            .to_string()
                    } else {
                        let body = format!("{path} {how}\n");
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                    };
                    let _ = tls.write_all(reply.as_bytes()).await;
                    let _ = tls.flush().await;
                    let _ = tls.shutdown().await;
                });
            }
        });
    });
    port
}

fn run(cfg: &Path, args: &[&str]) -> String {
    let ca = certs().ca.to_str().unwrap();
    let mut all = vec!["--cacert", ca];
    all.extend_from_slice(args);
    let out = client(cfg, &all);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn resumes_with_our_server_across_urls_and_redirects() {
    let port = our_server();
    let cfg = tempfile::tempdir().unwrap();
    let url = |p: &str| format!("https://localhost:{port}{p}");
    let out = run(cfg.path(), &[&url("/a"), &url("/b"), &url("/c")]);
    assert_eq!(
        out, "/a full\n/b resumed-by-ticket\n/c resumed-by-ticket\n",
        "{out}"
    );
    let out = run(cfg.path(), &["-L", &url("/go")]);
    assert_eq!(out, "/there resumed-by-ticket\n");
    // Another host:port (127.0.0.1 is the same server under another name): not offered.
    let other = format!("https://127.0.0.1:{port}/x");
    let out = run(cfg.path(), &[&url("/a"), &other]);
    assert_eq!(out, "/a full\n/x full\n");
}

#[test]
fn session_file_resumes_across_runs_and_is_private() {
    let port = our_server();
    let cfg = tempfile::tempdir().unwrap();
    let file = cfg.path().join("tls-session");
    let file_arg = file.to_str().unwrap();
    let url = format!("https://localhost:{port}/");
    let out = run(cfg.path(), &["--session-file", file_arg, &url]);
    assert_eq!(out, "/ full\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "it holds a master secret");
    }
    let out = run(cfg.path(), &["--session-file", file_arg, &url]);
    assert_eq!(out, "/ resumed-by-ticket\n");
    // A damaged file: a full handshake, silently, and a good file again.
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&file, &bytes).unwrap();
    let out = run(cfg.path(), &["--session-file", file_arg, &url]);
    assert_eq!(out, "/ full\n");
    let out = run(cfg.path(), &["--session-file", file_arg, &url]);
    assert_eq!(out, "/ resumed-by-ticket\n");
}

#[test]
fn help_says_the_session_file_holds_a_master_secret() {
    let cfg = tempfile::tempdir().unwrap();
    let out = client(cfg.path(), &["--help"]);
    assert!(text(&out.stdout).contains("master secret"));
}

#[test]
fn explain_narrates_the_abbreviated_handshake() {
    let port = our_server();
    let cfg = tempfile::tempdir().unwrap();
    let url = |p: &str| format!("https://localhost:{port}{p}");
    let ca = certs().ca.to_str().unwrap();
    let out = client(
        cfg.path(),
        &["--cacert", ca, "--explain", &url("/a"), &url("/b")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let narration = text(&out.stderr);
    let second = narration
        .split("resumption offered: a session ticket")
        .nth(1)
        .expect("the second hello offers the ticket");
    assert!(
        second.contains("the server resumes that session"),
        "{second}"
    );
    assert!(second.contains("abbreviated: a session resumed by ticket"));
    assert!(second.contains("no RSA operation"));
    assert!(second.contains("the master secret of the resumed session"));
    // Nothing of the full handshake in the resumed one.
    assert!(!second.contains("] Certificate ("), "{second}");
    assert!(!second.contains("] ClientKeyExchange ("), "{second}");
}
