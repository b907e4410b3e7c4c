//! Peer-chosen strings never reach the terminal raw (issue #10, item 4): a certificate whose
//! subjectAltName and organization hold `ESC [2J` (erase the screen), and an HTTP server whose
//! header holds it, are shown escaped in the warning (also the "has changed" one), `-v`,
//! `--explain` and `-I` on a terminal.

mod common;

use common::*;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

const ERASE: &str = "\x1b[2J";
const ERASE_ESCAPED: &str = "\\x1b[2J";

/// A self-signed certificate for localhost and 127.0.0.1 whose SAN also lists
/// `evil ESC[2J .example` and whose O is `Org ESC[2J x` (made with `openssl req`: our builder
/// refuses such names, as it should).
fn evil_cert() -> &'static PathBuf {
    static CERT: OnceLock<PathBuf> = OnceLock::new();
    CERT.get_or_init(|| {
        let dir = &certs().dir;
        let config = dir.join("evil.cnf");
        std::fs::write(
            &config,
            format!(
                "[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=localhost\nO=Org{ERASE}x\n\
                 [ext]\nsubjectAltName=DNS:localhost,DNS:evil{ERASE}.example,IP:127.0.0.1\n\
                 basicConstraints=CA:FALSE\n"
            ),
        )
        .unwrap();
        let cert = dir.join("evil.pem");
        let out = output_within(
            Command::new("openssl")
                .args([
                    "req",
                    "-x509",
                    "-new",
                    "-utf8",
                    "-days",
                    "30",
                    "-extensions",
                    "ext",
                ])
                .arg("-key")
                .arg(&certs().leaf_key)
                .arg("-config")
                .arg(&config)
                .arg("-out")
                .arg(&cert),
            PROGRAM_LIMIT,
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let der = tls::pki::pem::parse_certificates(&std::fs::read(&cert).unwrap()).unwrap();
        assert!(
            tls::pki::x509::Certificate::from_der(&der[0])
                .unwrap()
                .dns_names()
                .iter()
                .any(|n| n.contains(ERASE)),
            "the SAN holds a raw ESC"
        );
        cert
    })
}

fn assert_no_escape(output: &[u8], what: &str) {
    assert!(
        !output.contains(&0x1b),
        "{what} has a raw ESC byte:\n{}",
        text(output)
    );
}

#[test]
fn the_warning_escapes_certificate_names() {
    let server = s_server(evil_cert(), 0);
    let cfg = tempfile::tempdir().unwrap();
    let url = format!("https://localhost:{}/", server.port);
    let out = client(cfg.path(), &[&url]);
    assert_eq!(out.status.code(), Some(60));
    assert_no_escape(&out.stderr, "the warning");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("Your connection is not private"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("DNS:evil{ERASE_ESCAPED}.example")),
        "{stderr}"
    );

    // The "has changed" banner, which the sequence would erase before the prompt.
    std::fs::write(
        cfg.path().join("cert_override.txt"),
        format!(
            "localhost:{}:\tOID.2.16.840.1.101.3.4.2.1\t{}\t\n",
            server.port,
            ["AB"; 32].join(":")
        ),
    )
    .unwrap();
    let out = client(cfg.path(), &[&url]);
    assert_eq!(out.status.code(), Some(60));
    assert_no_escape(&out.stderr, "the has-changed warning");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("HAS CHANGED"), "{stderr}");
    assert!(stderr.contains(&format!("evil{ERASE_ESCAPED}.example")));
}

#[test]
fn verbose_and_explain_escape_certificate_names() {
    let server = s_server(evil_cert(), 0);
    let cfg = tempfile::tempdir().unwrap();
    let url = format!("https://localhost:{}/", server.port);
    let out = client(cfg.path(), &["-k", "-v", "-o", "/dev/null", &url]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_no_escape(&out.stderr, "-v");
    assert!(text(&out.stderr).contains("*  subject: "));

    let out = client(cfg.path(), &["-k", "--explain", "-o", "/dev/null", &url]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_no_escape(&out.stderr, "--explain");
    let narration = text(&out.stderr);
    assert!(
        narration.contains(&format!("evil{ERASE_ESCAPED}.example")),
        "{narration}"
    );
}

/// A one-connection HTTP server that answers any request with `head` (then closes); returns
/// its port.
fn raw_http_server(head: &'static [u8]) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let Ok((mut tcp, _)) = listener.accept() else {
            return;
        };
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 65536 {
            match tcp.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => request.extend_from_slice(&buf[..n]),
            }
        }
        let _ = tcp.write_all(head);
        let _ = tcp.write_all(b"ok");
    });
    port
}

#[test]
fn verbose_escapes_response_headers() {
    let port = raw_http_server(
        b"HTTP/1.1 200 OK\r\nX-Evil: a\x1b[2Jb\r\nContent-Length: 2\r\nConnection: close\r\n\r\n",
    );
    let cfg = tempfile::tempdir().unwrap();
    let out = client(cfg.path(), &["-v", &format!("http://127.0.0.1:{port}/")]);
    assert_no_escape(&out.stderr, "-v");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("< X-Evil: a{ERASE_ESCAPED}b")),
        "{stderr}"
    );
}

#[test]
fn head_on_a_terminal_escapes_header_bytes() {
    // 0x9b is CSI in 8-bit terminals; HTTP allows it (obs-text), so hyper takes the response.
    let port = raw_http_server(
        b"HTTP/1.1 200 OK\r\nX-Evil: a\x9b2Jb\r\nContent-Length: 2\r\nConnection: close\r\n\r\n",
    );
    let cfg = tempfile::tempdir().unwrap();
    let (code, screen) = client_on_tty(
        cfg.path(),
        "",
        &["-I", &format!("http://127.0.0.1:{port}/")],
    );
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("X-Evil: a\\x9b2Jb"), "{screen:?}");
}
