//! Real peers: `openssl s_client` and `curl` against our server side, our client side against
//! `openssl s_server`, for each of our suites (AES-GCM and AES-CBC).

mod common;

use common::{arc, client_config, one_handshake, pki, s_client, sent_alert, server_config};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tls::suites::{CipherSuite, ALL_SUITES};
use tls::{ServerConfig, SessionInfo};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::Command;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(30);

/// Accepts one connection, answers the first line with "pong <line>", then closes with
/// close_notify. Reports what was negotiated.
async fn one_shot_echo_server(
    config: Arc<ServerConfig>,
) -> (SocketAddr, tokio::task::JoinHandle<SessionInfo>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let tls = tls::stream::accept(config, tcp)
            .await
            .expect("server handshake");
        let info = tls.info().cloned().expect("info");
        let mut reader = BufReader::new(tls);
        let mut line = String::new();
        reader.read_line(&mut line).await.expect("read line");
        let mut tls = reader.into_inner();
        tls.write_all(format!("pong {line}").as_bytes())
            .await
            .expect("write");
        tls.shutdown().await.expect("close_notify");
        info
    });
    (addr, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_s_client_talks_to_our_server_for_each_suite() {
    for suite in ALL_SUITES {
        for (no_etm, group) in variants(suite) {
            let (addr, server) = one_shot_echo_server(arc(server_config(pki()))).await;
            let mut extra = vec!["-cipher", suite.openssl_name];
            if no_etm {
                extra.push("-no_etm");
            }
            if let Some((group, _)) = group {
                extra.extend(["-groups", group]);
            }
            let out = s_client(addr, &extra, &[]).await.stdout;
            if let Some((group, temp_key)) = group {
                assert!(out.contains(temp_key), "{group}: {out}");
            }
            let info = timeout(LIMIT, server)
                .await
                .expect("server done")
                .expect("server task");
            assert!(
                out.contains(&format!("Cipher is {}", suite.openssl_name)),
                "{out}"
            );
            assert!(out.contains("Verify return code: 0 (ok)"), "{out}");
            assert!(
                out.contains("pong ping"),
                "data from our server must reach s_client: {out}"
            );
            assert_eq!(info.suite.id, suite.id);
            assert!(info.extended_master_secret, "openssl offers EMS by default");
            // Never with an AEAD suite (RFC 7366 §3), whatever the client offers.
            assert_eq!(info.encrypt_then_mac, !no_etm && !suite.is_aead());
            assert_eq!(info.server_name.as_deref(), Some("localhost"));
        }
    }
}

/// The ways each suite is tried: with and without encrypt_then_mac, and for ECDHE suites once
/// per group we speak, with what s_client then says of the server's ephemeral key.
fn variants(suite: &CipherSuite) -> Vec<(bool, Option<(&'static str, &'static str)>)> {
    let groups: &[Option<(&str, &str)>] = if suite.forward_secrecy() {
        &[
            Some(("X25519", "Server Temp Key: X25519")),
            Some(("P-256", "Server Temp Key: ECDH, prime256v1")),
        ]
    } else {
        &[None]
    };
    let mut out = Vec::new();
    for &group in groups {
        for no_etm in [false, true] {
            out.push((no_etm, group));
        }
    }
    out
}

/// Start `openssl s_server -rev` (echoes text reversed) and return it with its port.
async fn s_server(extra: &[&str]) -> (tokio::process::Child, SocketAddr) {
    let p = pki();
    let mut child = Command::new("openssl")
        .args([
            "s_server",
            "-accept",
            "127.0.0.1:0",
            "-tls1_2",
            "-rev",
            "-naccept",
            "1",
        ])
        .arg("-cert")
        .arg(p.leaf())
        .arg("-key")
        .arg(p.leaf_key())
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("cannot run openssl s_server: install the Debian package `openssl`");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let addr = timeout(LIMIT, async {
        while let Some(line) = lines.next_line().await.expect("line") {
            if let Some(addr) = line.strip_prefix("ACCEPT ") {
                return addr.parse::<SocketAddr>().expect("address");
            }
        }
        panic!("s_server exited before ACCEPT");
    })
    .await
    .expect("s_server ready");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_talks_to_openssl_s_server_for_each_suite() {
    for suite in ALL_SUITES {
        for (no_etm, group) in variants(suite) {
            let mut extra = vec!["-cipher", suite.openssl_name];
            if no_etm {
                extra.push("-no_etm");
            }
            if let Some((group, _)) = group {
                extra.extend(["-groups", group]);
            }
            let (_child, addr) = s_server(&extra).await;
            let tcp = TcpStream::connect(addr).await.expect("connect");
            let mut tls = tls::stream::connect(arc(client_config(pki())), "localhost", tcp)
                .await
                .expect("client handshake with s_server");
            let info = tls.info().cloned().expect("info");
            assert_eq!(info.suite.id, suite.id);
            assert_eq!(info.encrypt_then_mac, !no_etm && !suite.is_aead());
            assert!(info.extended_master_secret);
            assert!(matches!(info.verification, Some(Ok(2))));
            tls.write_all(b"hello world\n").await.expect("write");
            tls.flush().await.expect("flush");
            let mut got = Vec::new();
            let mut buf = [0u8; 256];
            while !String::from_utf8_lossy(&got).contains("dlrow olleh") {
                let n = timeout(LIMIT, tls.read(&mut buf))
                    .await
                    .expect("reply in time")
                    .expect("read");
                assert!(
                    n > 0,
                    "s_server closed early: {:?}",
                    String::from_utf8_lossy(&got)
                );
                got.extend_from_slice(&buf[..n]);
            }
            tls.shutdown().await.expect("close_notify");
        }
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// A minimal hyper service on our stream: `/` says hello, `/big` is 64 MiB.
async fn hyper_server() -> SocketAddr {
    hyper_server_with(arc(server_config(pki()))).await
}

async fn hyper_server_with(config: Arc<ServerConfig>) -> SocketAddr {
    use http_body_util::Full;
    use hyper::body::Bytes;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let big = Bytes::from(pattern(64 << 20));
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (config, big) = (config.clone(), big.clone());
            tokio::spawn(async move {
                let Ok(tls) = tls::stream::accept(config, tcp).await else {
                    return;
                };
                let service = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let body = if req.uri().path() == "/big" {
                            big.clone()
                        } else {
                            Bytes::from_static(b"hello over TLS 1.2\n")
                        };
                        async move {
                            Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(body)))
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .writev(false)
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_fetches_exact_bodies_through_hyper_on_our_stream() {
    let addr = hyper_server().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let out_file = dir.path().join("big");
    let ca = pki().ca();
    let small = Command::new("curl")
        .args(["-sS", "--tlsv1.2", "--tls-max", "1.2", "--cacert"])
        .arg(&ca)
        .arg(format!("https://127.0.0.1:{}/", addr.port()))
        .output();
    let small = timeout(LIMIT, small)
        .await
        .expect("curl in time")
        .expect("cannot run curl: install the Debian package `curl`");
    assert!(
        small.status.success(),
        "{}",
        String::from_utf8_lossy(&small.stderr)
    );
    assert_eq!(small.stdout, b"hello over TLS 1.2\n");

    let big = Command::new("curl")
        .args(["-sS", "--cacert"])
        .arg(&ca)
        .arg("-o")
        .arg(&out_file)
        .arg(format!("https://localhost:{}/big", addr.port()))
        .arg("--resolve")
        .arg(format!("localhost:{}:127.0.0.1", addr.port()))
        .output();
    let big = timeout(Duration::from_secs(120), big)
        .await
        .expect("curl in time")
        .expect("cannot run curl: install the Debian package `curl`");
    assert!(
        big.status.success(),
        "{}",
        String::from_utf8_lossy(&big.stderr)
    );
    let got = std::fs::read(&out_file).expect("downloaded");
    assert_eq!(got.len(), 64 << 20);
    assert_eq!(Sha256::digest(&got), Sha256::digest(pattern(64 << 20)));
}

/// `curl --ciphers NAME` negotiates each of our suites by its OpenSSL name, and plain curl gets
/// the server's first choice, AES-GCM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_negotiates_each_suite_by_name() {
    let addr = hyper_server().await;
    let ca = pki().ca();
    let names = ALL_SUITES.iter().map(|s| Some(s.openssl_name));
    for name in names.chain([None]) {
        let mut curl = Command::new("curl");
        curl.args(["-sS", "-v", "--tlsv1.2", "--tls-max", "1.2", "--cacert"])
            .arg(&ca);
        if let Some(name) = name {
            curl.args(["--ciphers", name]);
        }
        let out = curl
            .arg(format!("https://127.0.0.1:{}/", addr.port()))
            .output();
        let out = timeout(LIMIT, out)
            .await
            .expect("curl in time")
            .expect("cannot run curl: install the Debian package `curl`");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name:?}: {err}");
        assert_eq!(out.stdout, b"hello over TLS 1.2\n");
        let expected = name.unwrap_or(ALL_SUITES[0].openssl_name);
        assert!(
            err.contains(&format!("TLSv1.2 / {expected}")),
            "{name:?}: {err}"
        );
    }
    assert_eq!(ALL_SUITES[0].openssl_name, "ECDHE-RSA-AES128-GCM-SHA256");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_log_matches_openssl_and_recomputes_finished() {
    // s_client writes its own key log; ours must hold the very same line.
    let dir = tempfile::tempdir().expect("tempdir");
    let ours = dir.path().join("ours.log");
    let theirs = dir.path().join("theirs.log");
    let mut config = server_config(pki());
    config.common.key_log = Some(Arc::new(
        tls::trace::KeyLogFile::open(&ours).expect("key log"),
    ));
    let (addr, server) = one_shot_echo_server(arc(config)).await;
    let out = s_client(addr, &["-keylogfile", theirs.to_str().expect("utf8")], &[])
        .await
        .stdout;
    assert!(out.contains("pong ping"), "{out}");
    let info = timeout(LIMIT, server)
        .await
        .expect("server done")
        .expect("server task");
    let ours = std::fs::read_to_string(&ours).expect("our key log");
    let theirs = std::fs::read_to_string(&theirs).expect("openssl key log");
    let line = ours.lines().next().expect("one line");
    assert!(
        line.starts_with(&format!(
            "CLIENT_RANDOM {}",
            hex::encode(info.client_random)
        )),
        "{line}"
    );
    assert!(
        theirs.lines().any(|l| l == line),
        "openssl logged:\n{theirs}\nwe logged:\n{ours}"
    );
}

/// Keeps the raw bytes of every handshake message, in order.
#[derive(Default)]
struct Transcript(std::sync::Mutex<Vec<Vec<u8>>>);

impl tls::trace::Observer for Transcript {
    fn event(&self, event: &tls::trace::Event<'_>) {
        if let tls::trace::Event::Handshake { message, .. } = event {
            if let Ok(mut v) = self.0.lock() {
                v.push(message.raw.clone());
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_log_line_lets_openssl_recompute_the_servers_finished() {
    // Our client logs the master secret; from that line alone, `openssl kdf` (TLS1-PRF) must
    // reproduce the verify_data that OpenSSL's s_server put in its Finished message.
    for ems in [true, false] {
        let dir = tempfile::tempdir().expect("tempdir");
        let log_path = dir.path().join("keys.log");
        let transcript = Arc::new(Transcript::default());
        let mut config = client_config(pki());
        config.common.extended_master_secret = ems;
        config.common.key_log = Some(Arc::new(
            tls::trace::KeyLogFile::open(&log_path).expect("key log"),
        ));
        config.common.observer = Some(transcript.clone());
        // No ticket: the transcript below is the seven messages of a ticketless handshake.
        config.session_tickets = false;
        let (_child, addr) = s_server(&["-cipher", "AES128-SHA256"]).await;
        let tcp = TcpStream::connect(addr).await.expect("connect");
        let mut tls = tls::stream::connect(arc(config), "localhost", tcp)
            .await
            .expect("handshake");
        tls.shutdown().await.expect("close");

        let log = std::fs::read_to_string(&log_path).expect("key log");
        let fields: Vec<&str> = log.trim().split(' ').collect();
        assert_eq!(fields.len(), 3, "{log}");
        assert_eq!(fields[0], "CLIENT_RANDOM");
        let master_secret = fields[2];
        let messages = transcript.0.lock().expect("lock").clone();
        // ClientHello, ServerHello, Certificate, ServerHelloDone, ClientKeyExchange, Finished, Finished.
        assert_eq!(messages.len(), 7);
        assert_eq!(messages[0][0], 1, "ClientHello first");
        assert_eq!(
            hex::encode(&messages[0][6..38]),
            fields[1],
            "client random in the key log"
        );
        let server_finished = &messages[6];
        assert_eq!(server_finished[0], 20);
        let hash = Sha256::digest(messages[..6].concat());
        let mut seed = b"server finished".to_vec();
        seed.extend_from_slice(&hash);
        let out = common::openssl(
            dir.path(),
            &[
                "kdf",
                "-keylen",
                "12",
                "-kdfopt",
                "digest:SHA256",
                "-kdfopt",
                &format!("hexsecret:{master_secret}"),
                "-kdfopt",
                &format!("hexseed:{}", hex::encode(&seed)),
                "TLS1-PRF",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let recomputed = String::from_utf8_lossy(&out.stdout)
            .trim()
            .replace(':', "")
            .to_lowercase();
        assert_eq!(recomputed, hex::encode(&server_finished[4..]));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_without_ems_or_etm_gets_a_session_without_them() {
    // OpenSSL 3 has -no_etm but no -no_ems: switch EMS off in an OPENSSL_CONF.
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("no-ems.cnf");
    std::fs::write(
        &conf,
        "openssl_conf = openssl_init\n[openssl_init]\nssl_conf = ssl_sect\n\
         [ssl_sect]\nsystem_default = system_default_sect\n\
         [system_default_sect]\nOptions = -ExtendedMasterSecret\n",
    )
    .expect("write conf");
    for (no_ems, no_etm) in [(true, false), (true, true), (false, false)] {
        let (addr, server) = one_handshake(arc(server_config(pki()))).await;
        // A CBC suite: encrypt-then-MAC means nothing to an AEAD one.
        let extra: &[&str] = if no_etm {
            &["-cipher", "AES128-SHA256", "-no_etm"]
        } else {
            &["-cipher", "AES128-SHA256"]
        };
        let env: &[(&str, &Path)] = if no_ems {
            &[("OPENSSL_CONF", conf.as_path())]
        } else {
            &[]
        };
        let out = s_client(addr, extra, env).await.all();
        let info = timeout(LIMIT, server)
            .await
            .expect("server done")
            .expect("server task")
            .unwrap_or_else(|e| panic!("handshake: {e}\n{out}"));
        assert!(out.contains("Verify return code: 0 (ok)"), "{out}");
        let ems_line = if no_ems {
            "Extended master secret: no"
        } else {
            "Extended master secret: yes"
        };
        assert!(out.contains(ems_line), "{out}");
        assert_eq!(info.extended_master_secret, !no_ems, "{out}");
        assert_eq!(info.encrypt_then_mac, !no_etm, "{out}");
        assert!(out.contains("pong"), "{out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_common_suite_is_a_handshake_failure() {
    let (addr, server) = one_handshake(arc(server_config(pki()))).await;
    // Only suites we do not implement (DHE, and ECDHE with an ECDSA certificate).
    let out = s_client(
        addr,
        &[
            "-cipher",
            "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256",
        ],
        &[],
    )
    .await
    .all();
    let e = timeout(LIMIT, server)
        .await
        .expect("server done")
        .expect("server task")
        .expect_err("no suite in common, yet the handshake succeeded");
    assert_eq!(
        sent_alert(&e),
        Some(tls::alert::AlertDescription::HandshakeFailure),
        "{e}"
    );
    assert!(out.contains("alert handshake failure"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_common_alpn_protocol_is_refused_with_no_application_protocol() {
    // RFC 7301 §3.2: no protocol in common is a fatal no_application_protocol alert.
    let (addr, server) = one_handshake(arc(server_config(pki()))).await;
    let out = s_client(addr, &["-alpn", "h2,spdy/3"], &[]).await.all();
    let e = timeout(LIMIT, server)
        .await
        .expect("server done")
        .expect("server task")
        .expect_err("no ALPN protocol in common, yet the handshake succeeded");
    assert_eq!(
        sent_alert(&e),
        Some(tls::alert::AlertDescription::NoApplicationProtocol),
        "{e}"
    );
    assert!(out.contains("no application protocol"), "{out}");

    // With one in common, it is chosen and s_client says so.
    let (addr, server) = one_handshake(arc(server_config(pki()))).await;
    let out = s_client(addr, &["-alpn", "h2,http/1.1"], &[]).await.all();
    let info = timeout(LIMIT, server)
        .await
        .expect("server done")
        .expect("server task")
        .unwrap_or_else(|e| panic!("handshake: {e}\n{out}"));
    assert_eq!(info.alpn_protocol.as_deref(), Some(&b"http/1.1"[..]));
    assert!(out.contains("ALPN protocol: http/1.1"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_refuses_a_leaf_whose_key_usage_forbids_key_transport() {
    // A leaf from the same CA whose keyUsage is digitalSignature only: fine for ECDHE
    // signing, useless for RSA key transport (RFC 5246 §7.4.2).
    let p = pki();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(
        d.join("sign-only.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost\n",
    )
    .expect("ext");
    let ca = p.ca();
    let ca_key = p.dir.join("ca-key.pem");
    for args in [
        vec![
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "k.pem",
            "-out",
            "k.csr",
            "-subj",
            "/CN=localhost",
        ],
        vec![
            "x509",
            "-req",
            "-in",
            "k.csr",
            "-CA",
            ca.to_str().expect("utf-8 path"),
            "-CAkey",
            ca_key.to_str().expect("utf-8 path"),
            "-set_serial",
            "7",
            "-days",
            "5",
            "-extfile",
            "sign-only.ext",
            "-out",
            "c.pem",
        ],
    ] {
        let out = common::openssl(d, &args);
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let cert = d.join("c.pem");
    let key = d.join("k.pem");
    let sign_only = [
        "-cert",
        cert.to_str().expect("utf-8 path"),
        "-key",
        key.to_str().expect("utf-8 path"),
    ];
    // With ECDHE the key only signs: accepted.
    let (_child, addr) = s_server(&sign_only).await;
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let tls = tls::stream::connect(arc(client_config(p)), "localhost", tcp)
        .await
        .expect("ECDHE with a sign-only key");
    assert!(tls.info().expect("info").suite.forward_secrecy());
    drop(tls);
    // RSA key transport would encrypt to it: refused.
    let mut rsa_only = client_config(p);
    rsa_only.common.suites = ALL_SUITES
        .iter()
        .copied()
        .filter(|s| !s.forward_secrecy())
        .collect();
    let (_child, addr) = s_server(&sign_only).await;
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let Err(e) = tls::stream::connect(arc(rsa_only), "localhost", tcp).await else {
        panic!("the client accepted a sign-only key for RSA key transport");
    };
    let reason = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<tls::Error>())
        .unwrap_or_else(|| panic!("not a TLS error: {e}"));
    match reason {
        tls::Error::Certificate(c) => {
            assert_eq!(c.kind, tls::pki::CertErrorKind::NoKeyEncipherment, "{c}");
            assert!(c.to_string().contains("keyEncipherment"), "{c}");
        }
        other => panic!("wrong reason: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chain_with_an_intermediate_from_ca_tool_verifies_in_curl_and_s_client() {
    // The README's flow: a root, an intermediate, a server certificate from the intermediate.
    // Our server sends leaf + intermediate; clients trust only the root.
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let at = |name: &str| d.join(name).to_str().expect("utf-8 path").to_string();
    for args in [
        vec!["init", "--out", &at("ca")],
        vec![
            "intermediate",
            "Test Issuing CA",
            "--ca",
            &at("ca"),
            "--out",
            &at("issuing"),
        ],
        vec![
            "issue",
            "localhost",
            "127.0.0.1",
            "--ca",
            &at("issuing"),
            "--out",
            &at("server"),
        ],
    ] {
        let code = ca_tool::run(std::iter::once("ca-tool").chain(args.iter().copied()));
        assert_eq!(code, 0, "ca-tool {args:?}");
    }
    let chain =
        tls::pki::pem::parse_certificates(&std::fs::read(d.join("server.pem")).expect("chain"))
            .expect("chain pem");
    assert_eq!(chain.len(), 2, "leaf and intermediate, no root");
    let key = tls::pki::keys::read_private_key(&d.join("server-key.pem")).expect("key");
    let config = arc(ServerConfig::new(chain, key).expect("server config"));

    let addr = hyper_server_with(config.clone()).await;
    let curl = Command::new("curl")
        .args([
            "-sS",
            "--tlsv1.2",
            "--tls-max",
            "1.2",
            "--cacert",
            &at("ca.pem"),
        ])
        .arg(format!("https://localhost:{}/", addr.port()))
        .arg("--resolve")
        .arg(format!("localhost:{}:127.0.0.1", addr.port()))
        .kill_on_drop(true)
        .output();
    let curl = timeout(LIMIT, curl)
        .await
        .expect("curl in time")
        .expect("cannot run curl: install the Debian package `curl`");
    assert!(
        curl.status.success(),
        "{}",
        String::from_utf8_lossy(&curl.stderr)
    );
    assert_eq!(curl.stdout, b"hello over TLS 1.2\n");

    let s_client = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &addr.to_string(),
            "-servername",
            "localhost",
        ])
        .args([
            "-tls1_2",
            "-verify_return_error",
            "-verify_hostname",
            "localhost",
        ])
        .args(["-CAfile", &at("ca.pem"), "-showcerts"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let out = timeout(LIMIT, s_client)
        .await
        .expect("s_client in time")
        .expect("cannot run openssl: install the Debian package `openssl`");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Verify return code: 0 (ok)"), "{text}");
    assert!(text.contains("depth=2 CN = ca-tool Root CA"), "{text}");
    assert!(text.contains("depth=1 CN = Test Issuing CA"), "{text}");
}
