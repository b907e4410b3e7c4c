//! Fuzz-style property tests: random and mutated bytes fed into both state machines must end
//! in a clean error or in waiting for more — never a panic, never unbounded output — and a
//! live conversation tampered with in flight must never deliver altered plaintext.

mod common;

use common::{arc, client_config, pki, server_config};
use proptest::prelude::*;
use std::sync::{Arc, OnceLock};
use tls::{ClientConfig, Connection, ServerConfig};

fn server_cfg() -> Arc<ServerConfig> {
    static CFG: OnceLock<Arc<ServerConfig>> = OnceLock::new();
    CFG.get_or_init(|| arc(server_config(pki()))).clone()
}

fn client_cfg() -> Arc<ClientConfig> {
    static CFG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    CFG.get_or_init(|| arc(client_config(pki()))).clone()
}

/// A full conversation recorded once: (client→server bytes, server→client bytes).
fn recorded() -> &'static (Vec<u8>, Vec<u8>) {
    static REC: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    REC.get_or_init(|| {
        let mut c = Connection::client(client_cfg(), "localhost").expect("client");
        let mut s = Connection::server(server_cfg());
        let (mut to_server, mut to_client) = (Vec::new(), Vec::new());
        for _ in 0..6 {
            let out = c.outgoing().to_vec();
            c.consume_outgoing(out.len());
            s.read_tls(&out);
            s.process_new_packets().expect("server");
            to_server.extend_from_slice(&out);
            let out = s.outgoing().to_vec();
            s.consume_outgoing(out.len());
            c.read_tls(&out);
            c.process_new_packets().expect("client");
            to_client.extend_from_slice(&out);
            if !c.is_handshaking() && !s.is_handshaking() {
                break;
            }
        }
        assert!(!c.is_handshaking());
        c.write_plaintext(b"GET / HTTP/1.1\r\n\r\n").expect("write");
        to_server.extend_from_slice(c.outgoing());
        s.write_plaintext(b"HTTP/1.1 200 OK\r\n\r\n")
            .expect("write");
        s.send_close_notify();
        to_client.extend_from_slice(s.outgoing());
        (to_server, to_client)
    })
}

/// Feed `bytes` in `chunk`-sized reads; stop at the first error. Output stays small: a
/// connection answers garbage with at most a flight and an alert.
fn feed(conn: &mut Connection, bytes: &[u8], chunk: usize) {
    for piece in bytes.chunks(chunk.max(1)) {
        conn.read_tls(piece);
        let result = conn.process_new_packets();
        assert!(
            conn.outgoing().len() < 64 * 1024,
            "output grew to {}",
            conn.outgoing().len()
        );
        let mut buf = [0u8; 1024];
        while let Ok(n) = conn.read_plaintext(&mut buf) {
            if n == 0 {
                break;
            }
        }
        if result.is_err() {
            assert!(conn.process_new_packets().is_err(), "errors are sticky");
            break;
        }
    }
}

fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    for &(pos, x) in edits {
        if !bytes.is_empty() {
            let i = pos % bytes.len();
            bytes[i] ^= x.max(1);
        }
    }
    if let Some(cut) = cut {
        bytes.truncate(cut % (bytes.len() + 1));
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn server_survives_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096), chunk in 1usize..600) {
        let mut s = Connection::server(server_cfg());
        feed(&mut s, &bytes, chunk);
    }

    #[test]
    fn client_survives_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096), chunk in 1usize..600) {
        let mut c = Connection::client(client_cfg(), "localhost").expect("client");
        feed(&mut c, &bytes, chunk);
    }

    #[test]
    fn server_survives_mutated_client_stream(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        cut in proptest::option::of(any::<usize>()),
        chunk in 1usize..2000,
    ) {
        let bytes = mutate(recorded().0.clone(), &edits, cut);
        let mut s = Connection::server(server_cfg());
        feed(&mut s, &bytes, chunk);
    }

    #[test]
    fn client_survives_mutated_server_stream(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        cut in proptest::option::of(any::<usize>()),
        chunk in 1usize..2000,
    ) {
        let bytes = mutate(recorded().1.clone(), &edits, cut);
        let mut c = Connection::client(client_cfg(), "localhost").expect("client");
        feed(&mut c, &bytes, chunk);
    }
}

/// What each side sends in the live conversation: a request and a response of several records.
fn request() -> Vec<u8> {
    (0..40_000u32).map(|i| (i % 253) as u8).collect()
}

fn response() -> Vec<u8> {
    (0..50_000u32).map(|i| (i % 241) as u8 ^ 0x5a).collect()
}

/// Flips bytes at absolute offsets of one direction's byte stream as it passes, and may cut it
/// there (the rest never arrives).
struct Tamper {
    edits: Vec<(usize, u8)>,
    cut: Option<usize>,
    passed: usize,
}

impl Tamper {
    fn pass(&mut self, mut bytes: Vec<u8>) -> Vec<u8> {
        let start = self.passed;
        self.passed += bytes.len();
        for &(at, x) in &self.edits {
            if (start..self.passed).contains(&at) {
                bytes[at - start] ^= x.max(1);
            }
        }
        if let Some(cut) = self.cut {
            bytes.truncate(cut.saturating_sub(start));
        }
        bytes
    }
}

/// Move `from`'s output through `tamper` into `to`; collect what `to` delivers. False once
/// `to` has failed.
fn live_transfer(
    from: &mut Connection,
    to: &mut Connection,
    tamper: &mut Tamper,
    got: &mut Vec<u8>,
) -> bool {
    let out = from.outgoing().to_vec();
    from.consume_outgoing(out.len());
    to.read_tls(&tamper.pass(out));
    let ok = to.process_new_packets().is_ok();
    let mut buf = [0u8; 4096];
    while let Ok(n) = to.read_plaintext(&mut buf) {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    ok
}

/// Run the conversation with the two directions tampered with; returns what the server and
/// the client delivered to their applications.
fn live_conversation(to_server: &mut Tamper, to_client: &mut Tamper) -> (Vec<u8>, Vec<u8>) {
    let mut c = Connection::client(client_cfg(), "localhost").expect("client");
    let mut s = Connection::server(server_cfg());
    let (mut at_server, mut at_client) = (Vec::new(), Vec::new());
    let (mut c_sent, mut s_sent) = (false, false);
    for _ in 0..12 {
        if !c_sent && !c.is_handshaking() && c.error().is_none() {
            c.write_plaintext(&request()).expect("client write");
            c.send_close_notify();
            c_sent = true;
        }
        let server_ok = live_transfer(&mut c, &mut s, to_server, &mut at_server);
        if server_ok && !s_sent && !s.is_handshaking() {
            s.write_plaintext(&response()).expect("server write");
            s.send_close_notify();
            s_sent = true;
        }
        let client_ok = live_transfer(&mut s, &mut c, to_client, &mut at_client);
        if !server_ok && !client_ok {
            break;
        }
    }
    (at_server, at_client)
}

fn untampered() -> Tamper {
    Tamper {
        edits: Vec::new(),
        cut: None,
        passed: 0,
    }
}

/// The stream lengths of an untampered run (record sizes do not depend on the randoms).
fn live_lengths() -> (usize, usize) {
    static LEN: OnceLock<(usize, usize)> = OnceLock::new();
    *LEN.get_or_init(|| {
        let (mut a, mut b) = (untampered(), untampered());
        let (at_server, at_client) = live_conversation(&mut a, &mut b);
        assert_eq!(at_server, request(), "untampered request arrives whole");
        assert_eq!(at_client, response(), "untampered response arrives whole");
        (a.passed, b.passed)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever an attacker flips or cuts, each side delivers a prefix of what its peer wrote
    /// (possibly nothing) — never a changed byte.
    #[test]
    fn tampered_conversation_never_delivers_altered_plaintext(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<bool>()), 1..4),
        cut in proptest::option::of((any::<usize>(), any::<bool>())),
    ) {
        let (len_cs, len_sc) = live_lengths();
        let mut to_server = untampered();
        let mut to_client = untampered();
        for (at, x, toward_server) in edits {
            if toward_server {
                to_server.edits.push((at % len_cs, x));
            } else {
                to_client.edits.push((at % len_sc, x));
            }
        }
        if let Some((at, toward_server)) = cut {
            if toward_server {
                to_server.cut = Some(at % len_cs);
            } else {
                to_client.cut = Some(at % len_sc);
            }
        }
        let (at_server, at_client) = live_conversation(&mut to_server, &mut to_client);
        let (req, resp) = (request(), response());
        prop_assert!(req.starts_with(&at_server), "server delivered altered bytes ({} bytes)", at_server.len());
        prop_assert!(resp.starts_with(&at_client), "client delivered altered bytes ({} bytes)", at_client.len());
    }
}

#[test]
fn replayed_server_stream_is_refused_at_finished() {
    // The same server bytes replayed to a new client: a fresh client random means the old
    // ServerKeyExchange signature (over both randoms, ECDHE — the default) no longer verifies;
    // with RSA key transport it would be new keys and a Finished that cannot verify. Replay buys
    // an attacker nothing.
    let mut c = Connection::client(client_cfg(), "localhost").expect("client");
    c.read_tls(&recorded().1);
    let err = c.process_new_packets().expect_err("replay must fail");
    assert_eq!(
        err.alert(),
        Some(tls::alert::AlertDescription::DecryptError),
        "{err}"
    );
    let mut buf = [0u8; 64];
    assert!(
        c.read_plaintext(&mut buf).is_err(),
        "no replayed byte is delivered"
    );
}

#[test]
fn a_huge_declared_handshake_message_is_refused_without_buffering_it() {
    // A record whose handshake header claims a 16 MiB ClientHello: refused at the header.
    let mut s = Connection::server(server_cfg());
    s.read_tls(&[22u8, 3, 3, 0, 4, 1, 0xff, 0xff, 0xff]);
    let err = s
        .process_new_packets()
        .expect_err("declared length over the limit");
    assert_eq!(err.alert(), Some(tls::alert::AlertDescription::DecodeError));
}
