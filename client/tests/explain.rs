//! `--explain` and `--wire` on real connections: the narration carries the values the connection
//! really used (client random = key log, certificate fingerprint = `openssl x509`, suite = what
//! the server chose), `--wire` shows HTTP in the clear and HTTPS only encrypted, and a tshark
//! capture decrypts with the key log and only with it.

mod common;

use common::*;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What our in-process server settled for each connection: (suite name, client random).
type Seen = Arc<Mutex<Vec<(&'static str, [u8; 32])>>>;

/// Our TLS stack + hyper on a random port, offering only `suite`; records each session, and
/// writes the server's key log to `keylog` when given.
fn our_server(suite: &'static tls::suites::CipherSuite, keylog: Option<&Path>) -> (u16, Seen) {
    let chain = tls::pki::pem::parse_certificates(&std::fs::read(&certs().good).unwrap()).unwrap();
    let key = tls::pki::keys::read_private_key(&certs().leaf_key).unwrap();
    let mut config = tls::ServerConfig::new(chain, key).unwrap();
    config.common.suites = vec![suite];
    if let Some(path) = keylog {
        config.common.key_log = Some(Arc::new(tls::trace::KeyLogFile::open(path).unwrap()));
    }
    let config = Arc::new(config);
    let seen: Seen = Arc::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let log = seen.clone();
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
                let log = log.clone();
                tokio::spawn(async move {
                    let Ok(tls) = tls::stream::accept(config, tcp).await else {
                        return;
                    };
                    if let Some(info) = tls.info() {
                        log.lock()
                            .unwrap()
                            .push((info.suite.name, info.client_random));
                    }
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), hyper::service::service_fn(hello))
                        .await;
                });
            }
        });
    });
    (port, seen)
}

async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"hello over TLS\n",
    ))))
}

/// `openssl s_server -www` offering only `cipher` (OpenSSL name), writing its key log to
/// `keylog` when given.
fn s_server_with_cipher(cipher: &str, keylog: Option<&Path>) -> Server {
    let mut extra = vec!["-cipher", cipher];
    let keylog = keylog.map(|k| k.to_str().unwrap().to_string());
    if let Some(k) = &keylog {
        extra.extend(["-keylogfile", k.as_str()]);
    }
    s_server_with(&certs().good, 0, &extra)
}

/// The value after `label: ` on the first narration line that has it.
fn value<'a>(narration: &'a str, label: &str) -> &'a str {
    let key = format!("{label}: ");
    narration
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(&key))
        .unwrap_or_else(|| panic!("no '{label}' in:\n{narration}"))
}

/// `openssl x509 -fingerprint -sha256` of a PEM file: `AB:CD:...`.
fn openssl_fingerprint(pem: &Path) -> String {
    let out = output_within(
        Command::new("openssl")
            .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
            .arg(pem),
        PROGRAM_LIMIT,
    );
    let line = text(&out.stdout);
    line.trim().rsplit('=').next().unwrap().to_string()
}

/// The key log's `CLIENT_RANDOM <random> <master secret>` fields.
fn keylog_fields(path: &Path) -> (String, String) {
    let log = std::fs::read_to_string(path).unwrap();
    let line = log.lines().last().expect("a key log line");
    let parts: Vec<&str> = line.split(' ').collect();
    assert_eq!(parts.len(), 3, "{line}");
    assert_eq!(parts[0], "CLIENT_RANDOM");
    (parts[1].to_string(), parts[2].to_string())
}

/// Checks every narration shares: the randoms and secrets agree with the key log, the
/// fingerprint with openssl, the first request record was taken apart and its MAC checked.
fn check_narration(narration: &str, keylog: &Path) {
    let (random, master) = keylog_fields(keylog);
    assert_eq!(value(narration, "client random"), random);
    assert_eq!(value(narration, "master secret"), master);
    assert!(narration.contains(&format!("key log line: CLIENT_RANDOM {random} {master}")));
    assert_eq!(
        value(narration, "SHA-256 fingerprint"),
        openssl_fingerprint(&certs().good)
    );
    assert!(narration.contains("[TCP] Three-way handshake"));
    assert_eq!(
        value(narration, "socket state (kernel)"),
        "ESTABLISHED (01)"
    );
    assert!(narration.contains("verdict: trusted"), "{narration}");
    assert!(narration.contains("→ ok"));
    assert!(narration.contains("c = m^e mod n: 256 bytes: "));
    assert!(narration.contains("e (public exponent): 65537"));
    assert!(narration.contains("client_write_MAC_key"));
    assert!(narration.contains("The first application record (client → server), taken apart"));
    assert!(narration.contains(
        "plain 0000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a  |GET / HTTP/1.1..|"
    ));
    assert!(narration.contains("MAC recomputed: matches"), "{narration}");
    assert!(narration.contains("close_notify (client → server)"));
    assert!(narration.contains("[TCP] Four-way close"));
    assert!(narration.contains("TIME-WAIT (06)"), "{narration}");
    // The side narrated as sending the first FIN is the one the kernel shows in TIME-WAIT.
    let port = local_port(narration);
    let ours = value(
        narration,
        &format!("our socket 127.0.0.1:{port} afterwards"),
    );
    let first = if ours.starts_with("TIME-WAIT") {
        "client"
    } else {
        "server"
    };
    assert!(
        narration.contains(&format!("FIN  the {first}: \"I will send no more\"")),
        "{narration}"
    );
}

#[test]
fn narration_of_a_connection_to_openssl_s_server() {
    let dir = tempfile::tempdir().unwrap();
    // The values narrated are checked against what the *server* logged, not our own key log.
    let server_keylog = dir.path().join("server-keys.log");
    let server = s_server_with_cipher("AES256-SHA", Some(&server_keylog));
    let keylog = dir.path().join("keys.log");
    let url = format!("https://localhost:{}/", server.port);
    let out = client(
        dir.path(),
        &[
            "--explain",
            "--cacert",
            certs().ca.to_str().unwrap(),
            "--keylog",
            keylog.to_str().unwrap(),
            &url,
        ],
    );
    let narration = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{narration}");
    check_narration(&narration, &server_keylog);
    assert_eq!(keylog_fields(&keylog), keylog_fields(&server_keylog));
    // s_server -www reports the suite it used in the page it sends back.
    assert!(text(&out.stdout).contains("Cipher is AES256-SHA"));
    assert_eq!(
        value(&narration, "cipher suite chosen"),
        "0x0035 TLS_RSA_WITH_AES_256_CBC_SHA"
    );
    assert!(narration.contains("AES with a 256-bit key in CBC mode"));
    assert!(narration.contains("HMAC-SHA1"));
}

#[test]
fn narration_of_a_connection_to_our_server() {
    let dir = tempfile::tempdir().unwrap();
    // Checked against the server's own key log, not only the client's.
    let server_keylog = dir.path().join("server-keys.log");
    let (port, seen) = our_server(
        &tls::suites::TLS_RSA_WITH_AES_128_CBC_SHA,
        Some(&server_keylog),
    );
    let keylog = dir.path().join("keys.log");
    let url = format!("https://localhost:{port}/");
    let out = client(
        dir.path(),
        &[
            "--explain",
            "--cacert",
            certs().ca.to_str().unwrap(),
            "--keylog",
            keylog.to_str().unwrap(),
            &url,
        ],
    );
    let narration = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{narration}");
    assert_eq!(text(&out.stdout), "hello over TLS\n");
    check_narration(&narration, &server_keylog);
    assert_eq!(keylog_fields(&keylog), keylog_fields(&server_keylog));
    let sessions = seen.lock().unwrap().clone();
    assert_eq!(sessions.len(), 1);
    let (suite, client_random) = sessions[0];
    assert_eq!(
        value(&narration, "cipher suite chosen"),
        format!("0x002F {suite}")
    );
    assert_eq!(
        value(&narration, "client random"),
        tls::trace::hex(&client_random)
    );
}

/// The client's port, from the TCP step's first arrow line.
fn local_port(narration: &str) -> u16 {
    let line = narration.lines().find(|l| l.contains("  SYN  ")).unwrap();
    let addr = line.split_whitespace().next().unwrap();
    addr.rsplit(':').next().unwrap().parse().unwrap()
}

/// The ASCII column of the dump rows of one kind (`wire` or `plain`), concatenated.
fn dump_text(output: &str, kind: &str) -> String {
    let prefix = format!("{kind} ");
    output
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix(&prefix))
        .filter_map(|row| {
            let start = row.find('|')?;
            row.get(start + 1..row.len() - 1)
        })
        .collect()
}

#[test]
fn wire_view_http_in_the_clear_https_encrypted() {
    let http = py_server(None);
    let dir = tempfile::tempdir().unwrap();
    let out = client(
        dir.path(),
        &["--wire", &format!("http://127.0.0.1:{}/hello", http.port)],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "hello\n");
    let wire = text(&out.stderr);
    assert!(wire.contains("bytes of plain TCP (no TLS)"));
    assert!(dump_text(&wire, "wire").contains("GET /hello HTTP/1.1.."));
    assert!(dump_text(&wire, "wire").contains("HTTP/1.1 200 OK"));

    let (port, _) = our_server(&tls::suites::TLS_RSA_WITH_AES_128_CBC_SHA256, None);
    let out = client(
        dir.path(),
        &[
            "--wire",
            "--cacert",
            certs().ca.to_str().unwrap(),
            &format!("https://localhost:{port}/hello"),
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let wire = text(&out.stderr);
    assert!(wire.contains(">>> sent: TLS record, application_data (23)"));
    let raw = dump_text(&wire, "wire");
    assert!(raw.contains("localhost"), "the SNI is in the clear");
    assert!(!raw.contains("GET /"), "request line leaked:\n{wire}");
    assert!(!raw.contains("hello over TLS"));
    let plain = dump_text(&wire, "plain");
    assert!(plain.contains("GET /hello HTTP/1.1.."));
    assert!(plain.contains("hello over TLS"));
}

#[test]
fn explain_on_plain_http_says_there_is_no_tls() {
    let http = py_server(None);
    let dir = tempfile::tempdir().unwrap();
    let out = client(
        dir.path(),
        &[
            "--explain",
            &format!("http://127.0.0.1:{}/hello", http.port),
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let narration = text(&out.stderr);
    assert!(narration.contains("[HTTP] No TLS on this connection"));
    assert!(dump_text(&narration, "wire").contains("GET /hello HTTP/1.1"));
    assert!(!narration.contains("[TLS"));
}

/// A running `tshark -P` capture: every packet it takes is summarised on its stdout, which a
/// thread forwards line by line, so the test synchronises on packets being seen.
struct Capture {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Capture {
    /// Connect to `port` from a fresh local port and wait until the capture shows that
    /// connection's packets: everything sent before it has been captured too. `false` when
    /// nothing showed within `patience`.
    fn knock(&self, port: u16, patience: Duration) -> bool {
        let probe = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let ours = probe.local_addr().unwrap().port().to_string();
        let deadline = Instant::now() + patience;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) if line.split_whitespace().any(|w| w == ours) => return true,
                Ok(_) => continue,
                Err(_) => return false,
            }
        }
        false
    }

    /// Stop like Ctrl-C does (SIGTERM), so the file is complete; bounded.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        use wait_timeout::ChildExt;
        if self
            .child
            .wait_timeout(Duration::from_secs(30))
            .unwrap()
            .is_none()
        {
            let _ = self.child.kill();
            let _ = self.child.wait();
            panic!("tshark did not stop within 30 s");
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback capture of one fetch decrypts with the key log (tshark shows the request line)
/// and not without it. Needs tshark (Debian package `tshark`) and the right to capture on `lo`
/// (root, or dumpcap's capabilities): `.ci/run` provides both; missing, the test fails.
#[test]
fn tshark_decrypts_a_capture_with_the_key_log() {
    if let Err(e) = Command::new("tshark").arg("--version").output() {
        panic!("tshark is needed (Debian package tshark; .ci/run installs it): {e}");
    }
    let server = s_server_with_cipher("AES128-SHA256", None);
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("fetch.pcap");
    let keylog = dir.path().join("keys.log");
    let mut child = Command::new("tshark")
        .args(["-i", "lo", "-l", "-P", "-f"])
        .arg(format!("tcp port {}", server.port))
        .arg("-w")
        .arg(&pcap)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let errors = std::thread::spawn(move || {
        use std::io::Read;
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let capture = Capture { child, lines };
    // dumpcap announces the interface a moment before the first packet is taken: knock until
    // a knock shows up (bounded).
    let started = (0..20).any(|_| capture.knock(server.port, Duration::from_secs(1)));
    if !started {
        drop(capture);
        panic!(
            "tshark could not capture on lo: run as root or give dumpcap its capabilities \
             (Debian package tshark; `setcap cap_net_raw,cap_net_admin+eip /usr/bin/dumpcap`, \
             as .ci/run does). tshark said: {}",
            errors.join().unwrap_or_default()
        );
    }
    let out = client(
        dir.path(),
        &[
            "--cacert",
            certs().ca.to_str().unwrap(),
            "--keylog",
            keylog.to_str().unwrap(),
            &format!("https://localhost:{}/", server.port),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // A last knock: once it is captured, so is every packet of the fetch before it.
    assert!(
        capture.knock(server.port, Duration::from_secs(30)),
        "the capture stopped seeing packets"
    );
    capture.stop();

    let decode = format!("tcp.port=={},tls", server.port);
    let read = |with_keys: bool| {
        let mut cmd = Command::new("tshark");
        // "Decode As": TLS on this port, and HTTP inside it (no ALPN answer to go by).
        cmd.arg("-r").arg(&pcap).args([
            "-d",
            &decode,
            "-d",
            &format!("tls.port=={},http", server.port),
        ]);
        if with_keys {
            cmd.arg("-o")
                .arg(format!("tls.keylog_file:{}", keylog.display()));
        }
        let out = output_within(
            cmd.args([
                "-Y",
                "http.request",
                "-T",
                "fields",
                "-e",
                "http.request.method",
                "-e",
                "http.request.uri",
            ]),
            PROGRAM_LIMIT,
        );
        text(&out.stdout)
    };
    let decrypted = read(true);
    assert!(
        decrypted.contains("GET\t/"),
        "tshark with the key log: {decrypted:?}"
    );
    let encrypted = read(false);
    assert!(
        !encrypted.contains("GET"),
        "tshark without the key log: {encrypted:?}"
    );
    // The capture did see the TLS records, only not inside them.
    let mut cmd = Command::new("tshark");
    let records = output_within(
        cmd.arg("-r")
            .arg(&pcap)
            .args(["-d", &decode, "-Y", "tls.record.content_type == 23"]),
        PROGRAM_LIMIT,
    );
    assert!(!text(&records.stdout).trim().is_empty());
}

/// Starts `tshark -P` on `lo` with capture `filter`, writing `pcap`, and waits (bounded) until a
/// knock on `port` shows up: from then on everything is captured.
fn start_capture(filter: &str, pcap: &Path, port: u16) -> Capture {
    if let Err(e) = Command::new("tshark").arg("--version").output() {
        panic!("tshark is needed (Debian package tshark; .ci/run installs it): {e}");
    }
    let mut child = Command::new("tshark")
        .args(["-i", "lo", "-l", "-P", "-f", filter, "-w"])
        .arg(pcap)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let capture = Capture { child, lines };
    assert!(
        (0..20).any(|_| capture.knock(port, Duration::from_secs(1))),
        "tshark could not capture on lo: run as root or give dumpcap its capabilities \
         (Debian package tshark; .ci/run does)"
    );
    capture
}

/// Forward secrecy on a real capture. One fetch with RSA key transport and one with ECDHE are
/// recorded; then tshark gets ONLY the server's private key (its RSA keys table, no key log):
/// the RSA capture decrypts — the key opens the pre-master secret in the ClientKeyExchange — and
/// shows the HTTP request; the ECDHE capture does not, because its pre-master secret never
/// crossed the wire and the ephemeral keys that made it are gone.
#[test]
fn the_server_key_alone_decrypts_rsa_key_transport_but_not_ecdhe() {
    let (rsa_port, _) = our_server(&tls::suites::TLS_RSA_WITH_AES_128_CBC_SHA256, None);
    let (ecdhe_port, _) = our_server(&tls::suites::TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, None);
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("both.pcap");
    let filter = format!("tcp port {rsa_port} or tcp port {ecdhe_port}");
    let capture = start_capture(&filter, &pcap, rsa_port);
    for port in [rsa_port, ecdhe_port] {
        let out = client(
            dir.path(),
            &[
                "--cacert",
                certs().ca.to_str().unwrap(),
                &format!("https://localhost:{port}/"),
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    // Once this knock is captured, so is every packet of both fetches.
    assert!(
        capture.knock(ecdhe_port, Duration::from_secs(30)),
        "the capture stopped seeing packets"
    );
    capture.stop();

    // What tshark decrypts with the server's key alone: (port, method, uri) per request.
    let rsa_key = format!("uat:rsa_keys:\"{}\",\"\"", certs().leaf_key.display());
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(&pcap);
    for port in [rsa_port, ecdhe_port] {
        cmd.args(["-d", &format!("tcp.port=={port},tls")]);
        cmd.args(["-d", &format!("tls.port=={port},http")]);
    }
    let out = output_within(
        cmd.args(["-o", &rsa_key, "-Y", "http.request", "-T", "fields"])
            .args(["-e", "tcp.dstport", "-e", "http.request.method"]),
        PROGRAM_LIMIT,
    );
    let requests = text(&out.stdout);
    assert!(
        requests.contains(&format!("{rsa_port}\tGET")),
        "RSA key transport must decrypt with the private key: {requests:?}"
    );
    assert!(
        !requests.contains(&ecdhe_port.to_string()),
        "ECDHE must not decrypt with the private key: {requests:?}"
    );
    // Both connections were captured and carried application data.
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(&pcap);
    for port in [rsa_port, ecdhe_port] {
        cmd.args(["-d", &format!("tcp.port=={port},tls")]);
    }
    let seen = output_within(
        cmd.args(["-Y", "tls.record.content_type == 23", "-T", "fields"])
            .args(["-e", "tcp.dstport"]),
        PROGRAM_LIMIT,
    );
    let seen = text(&seen.stdout);
    assert!(seen.contains(&ecdhe_port.to_string()), "{seen:?}");
}

/// `--explain` over ECDHE: the server's signed ephemeral key, the client's, the shared secret the
/// client computed, and the verdict on a stolen server key. The public keys shown are the ones
/// on the wire (`--wire` would show the same bytes); the verdict differs from RSA's.
#[test]
fn narration_of_an_ecdhe_connection_ends_with_the_forward_secrecy_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let mut verdicts = Vec::new();
    for suite in [
        &tls::suites::TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
        &tls::suites::TLS_RSA_WITH_AES_128_CBC_SHA,
    ] {
        let (port, _) = our_server(suite, None);
        let out = client(
            dir.path(),
            &[
                "--explain",
                "--cacert",
                certs().ca.to_str().unwrap(),
                &format!("https://localhost:{port}/"),
            ],
        );
        let narration = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{narration}");
        let verdict = narration
            .lines()
            .find(|l| l.contains("Could a recording of this connection be decrypted"))
            .unwrap_or_else(|| panic!("no verdict in:\n{narration}"))
            .trim()
            .to_string();
        if suite.forward_secrecy() {
            assert!(
                narration.contains("ServerKeyExchange (server → client"),
                "{narration}"
            );
            assert_eq!(value(&narration, "group"), "x25519");
            let server_key = value(&narration, "server's ephemeral public key");
            let client_key = value(&narration, "client's ephemeral public key");
            assert!(server_key.starts_with("32 bytes: "), "{server_key}");
            // The agreement step repeats both keys as sent.
            assert_eq!(
                format!("32 bytes: {}", value(&narration, "server's public key")),
                server_key
            );
            assert_eq!(
                format!("32 bytes: {}", value(&narration, "client's public key")),
                client_key
            );
            assert!(value(&narration, "pre-master secret").starts_with("32 bytes: "));
            assert!(value(&narration, "server's signature").starts_with("rsa_pkcs1_sha256"));
            assert_eq!(value(&narration, "forward secrecy"), "yes");
            assert!(verdict.contains("No: ECDHE"), "{verdict}");
        } else {
            assert!(!narration.contains("ServerKeyExchange"), "{narration}");
            assert_eq!(value(&narration, "forward secrecy"), "no");
            assert!(verdict.contains("Yes: RSA key transport"), "{verdict}");
        }
        verdicts.push(verdict);
    }
    assert_ne!(verdicts[0], verdicts[1]);
}
