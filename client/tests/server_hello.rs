//! The client refuses a ServerHello that picks what it did not offer (RFC 5246 §7.4.1.3,
//! RFC 5246 §7.4.1.4: "MUST NOT" send unrequested extensions; RFC 7301 §3.2 for ALPN, RFC 7627
//! and RFC 7366 for extended master secret and encrypt-then-MAC), each with its alert. A tiny
//! scripted server here answers the ClientHello with hand-made ServerHello bytes and reads the
//! alert the client sends back.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

const ILLEGAL_PARAMETER: u8 = 47;
const PROTOCOL_VERSION: u8 = 70;
const UNSUPPORTED_EXTENSION: u8 = 110;
const UNEXPECTED_MESSAGE: u8 = 10;

/// What the scripted server sends back in its ServerHello.
struct Hello {
    version: [u8; 2],
    suite: [u8; 2],
    compression: u8,
    /// Raw extension blocks (type, length, body), concatenated.
    extensions: Vec<u8>,
}

impl Default for Hello {
    fn default() -> Self {
        Self {
            version: [3, 3],
            // TLS_RSA_WITH_AES_128_CBC_SHA, which the client is told to offer.
            suite: [0x00, 0x2F],
            compression: 0,
            extensions: Vec::new(),
        }
    }
}

fn extension(typ: u16, body: &[u8]) -> Vec<u8> {
    let mut e = typ.to_be_bytes().to_vec();
    e.extend((body.len() as u16).to_be_bytes());
    e.extend(body);
    e
}

fn record(content_type: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![content_type, 3, 3];
    r.extend((body.len() as u16).to_be_bytes());
    r.extend(body);
    r
}

fn handshake(typ: u8, body: &[u8]) -> Vec<u8> {
    let mut h = vec![typ];
    h.extend(&(body.len() as u32).to_be_bytes()[1..]);
    h.extend(body);
    h
}

impl Hello {
    fn bytes(&self) -> Vec<u8> {
        let mut body = self.version.to_vec();
        body.extend([0x5a; 32]); // server random
        body.push(0); // no session id
        body.extend(self.suite);
        body.push(self.compression);
        if !self.extensions.is_empty() {
            body.extend((self.extensions.len() as u16).to_be_bytes());
            body.extend(&self.extensions);
        }
        handshake(2, &body)
    }
}

/// Read one TLS record (header and body), bounded by the socket's read timeout.
fn read_record(tcp: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut header = [0u8; 5];
    tcp.read_exact(&mut header).ok()?;
    let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
    let mut body = vec![0u8; len];
    tcp.read_exact(&mut body).ok()?;
    Some((header[0], body))
}

/// Serve one connection: take the ClientHello, send `flight`, report the alert description
/// the client sent back (`None`: it closed without one).
fn scripted_server(flight: Vec<u8>) -> (u16, mpsc::Receiver<Option<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok((mut tcp, _)) = listener.accept() else {
            return;
        };
        // A fail-safe, not a synchronisation: the client answers at once.
        let _ = tcp.set_read_timeout(Some(Duration::from_secs(30)));
        let alert = (|| {
            let (typ, hello) = read_record(&mut tcp)?;
            assert_eq!((typ, hello.first()), (22, Some(&1)), "a ClientHello");
            tcp.write_all(&flight).ok()?;
            // Records until an alert (the client sends nothing else at this point).
            for _ in 0..4 {
                let (typ, body) = read_record(&mut tcp)?;
                if typ == 21 {
                    assert_eq!(body.first(), Some(&2), "a fatal alert");
                    return body.get(1).copied();
                }
            }
            None
        })();
        let _ = tx.send(alert);
    });
    (port, rx)
}

/// Run the client (offering only AES128-SHA) against a server answering `hello`; returns
/// (exit code, stderr, alert sent).
fn client_against(hello: &Hello, then: &[u8]) -> (Option<i32>, String, Option<u8>) {
    let mut flight = record(22, &hello.bytes());
    flight.extend(then);
    let (port, alert) = scripted_server(flight);
    let cfg = tempfile::tempdir().unwrap();
    let out = client(
        cfg.path(),
        &[
            "--ciphers",
            "AES128-SHA",
            "-k",
            &format!("https://127.0.0.1:{port}/"),
        ],
    );
    let alert = alert
        .recv_timeout(Duration::from_secs(60))
        .expect("the scripted server finished");
    (out.status.code(), text(&out.stderr), alert)
}

fn refused(hello: Hello, alert: u8, says: &str) {
    let (code, stderr, sent) = client_against(&hello, &[]);
    assert_eq!(code, Some(35), "{stderr}");
    assert!(stderr.contains(says), "{stderr}");
    assert_eq!(sent, Some(alert), "{stderr}");
}

#[test]
fn a_well_formed_server_hello_is_taken() {
    // Baseline for the refusals below: the same script with nothing wrong gets past the
    // ServerHello; the client then objects to a ServerHelloDone where a Certificate belongs.
    let (code, stderr, sent) = client_against(&Hello::default(), &record(22, &handshake(14, &[])));
    assert_eq!(code, Some(35), "{stderr}");
    assert_eq!(sent, Some(UNEXPECTED_MESSAGE), "{stderr}");
}

#[test]
fn an_unoffered_suite_is_refused() {
    refused(
        Hello {
            suite: [0x00, 0x35], // AES256-SHA, not offered
            ..Hello::default()
        },
        ILLEGAL_PARAMETER,
        "did not offer",
    );
}

#[test]
fn compression_is_refused() {
    refused(
        Hello {
            compression: 1,
            ..Hello::default()
        },
        ILLEGAL_PARAMETER,
        "compression",
    );
}

#[test]
fn a_wrong_version_is_refused() {
    refused(
        Hello {
            version: [3, 2],
            ..Hello::default()
        },
        PROTOCOL_VERSION,
        "version",
    );
}

#[test]
fn an_unrequested_extension_is_refused() {
    // status_request (5): the client never asks for OCSP stapling.
    refused(
        Hello {
            extensions: extension(5, &[]),
            ..Hello::default()
        },
        UNSUPPORTED_EXTENSION,
        "did not offer",
    );
}

#[test]
fn an_unoffered_alpn_protocol_is_refused() {
    // The client offers http/1.1 only.
    refused(
        Hello {
            extensions: extension(16, &[0, 3, 2, b'h', b'2']),
            ..Hello::default()
        },
        ILLEGAL_PARAMETER,
        "ALPN",
    );
}

/// The library client with extended master secret or encrypt-then-MAC switched off: the
/// server may not turn on what was not asked for.
fn library_client_refuses(configure: fn(&mut tls::ClientConfig), ext: u16) {
    let flight = record(
        22,
        &Hello {
            extensions: extension(ext, &[]),
            ..Hello::default()
        }
        .bytes(),
    );
    let (port, alert) = scripted_server(flight);
    let mut config = tls::ClientConfig::new(tls::pki::trust::TrustStore::new());
    config.common.suites = vec![&tls::suites::TLS_RSA_WITH_AES_128_CBC_SHA];
    configure(&mut config);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let result = runtime.block_on(async {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        tokio::time::timeout(
            Duration::from_secs(60),
            tls::stream::connect(std::sync::Arc::new(config), "localhost", tcp),
        )
        .await
        .expect("the handshake ends")
    });
    let error = result.err().expect("refused");
    assert_eq!(
        alert.recv_timeout(Duration::from_secs(60)).unwrap(),
        Some(UNSUPPORTED_EXTENSION),
        "{error}"
    );
}

#[test]
fn unsolicited_extended_master_secret_is_refused() {
    library_client_refuses(|c| c.common.extended_master_secret = false, 23);
}

#[test]
fn unsolicited_encrypt_then_mac_is_refused() {
    library_client_refuses(|c| c.common.encrypt_then_mac = false, 22);
}
