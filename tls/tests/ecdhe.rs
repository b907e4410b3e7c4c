//! ECDHE_RSA (RFC 8422) between our client and our server, in memory: each suite completes with
//! both sides computing the same shared secret from fresh ephemeral keys; the server prefers
//! ECDHE but falls back to RSA key transport (or handshake_failure) without a common group; and
//! the client refuses a tampered ServerKeyExchange or a bad point with the right alert.

mod common;

use common::{arc, client_config, pki, server_config};
use std::sync::{Arc, Mutex};
use tls::alert::AlertDescription;
use tls::crypto::ecdh::{NamedGroup, SUPPORTED_GROUPS};
use tls::crypto::rsa::HashAlg;
use tls::suites::{
    KeyExchange, ALL_SUITES, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_RSA_WITH_AES_128_CBC_SHA256,
};
use tls::trace::{Event, Observer};
use tls::{ClientConfig, Connection, Error};

/// What one side saw of the key agreement.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Agreement {
    group: NamedGroup,
    client_public: Vec<u8>,
    server_public: Vec<u8>,
    signature_scheme: u16,
    shared_secret: Vec<u8>,
}

#[derive(Default)]
struct Seen {
    agreement: Mutex<Option<Agreement>>,
    /// Handshake message types in order.
    messages: Mutex<Vec<u8>>,
}

impl Observer for Seen {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::EcdheSharedSecret {
                group,
                client_public,
                server_public,
                signature_scheme,
                shared_secret,
                ..
            } => {
                *self.agreement.lock().unwrap() = Some(Agreement {
                    group: *group,
                    client_public: client_public.to_vec(),
                    server_public: server_public.to_vec(),
                    signature_scheme: *signature_scheme,
                    shared_secret: shared_secret.to_vec(),
                })
            }
            Event::Handshake { message, .. } => {
                self.messages.lock().unwrap().push(message.raw[0]);
            }
            _ => {}
        }
    }
}

fn observed(cc: ClientConfig) -> (Connection, Connection, Arc<Seen>, Arc<Seen>) {
    let (cs, ss) = (Arc::new(Seen::default()), Arc::new(Seen::default()));
    let c = Connection::client_observed(arc(cc), "localhost", Some(cs.clone())).expect("client");
    let s = Connection::server_observed(arc(server_config(pki())), Some(ss.clone()));
    (c, s, cs, ss)
}

fn transfer(from: &mut Connection, to: &mut Connection) -> Result<(), Error> {
    let bytes = from.outgoing().to_vec();
    from.consume_outgoing(bytes.len());
    to.read_tls(&bytes);
    to.process_new_packets()
}

fn handshake(c: &mut Connection, s: &mut Connection) -> Result<(), Error> {
    for _ in 0..10 {
        transfer(c, s)?;
        transfer(s, c)?;
        if !c.is_handshaking() && !s.is_handshaking() {
            return Ok(());
        }
    }
    panic!("handshake did not finish in 10 round trips");
}

#[test]
fn each_ecdhe_suite_completes_with_one_shared_secret_on_both_sides() {
    let ecdhe: Vec<_> = ALL_SUITES
        .iter()
        .copied()
        .filter(|s| s.key_exchange == KeyExchange::EcdheRsa)
        .collect();
    assert_eq!(ecdhe.len(), 5);
    let mut server_keys = Vec::new();
    for suite in ecdhe {
        let mut cc = client_config(pki());
        cc.common.suites = vec![suite];
        let (mut c, mut s, cs, ss) = observed(cc);
        handshake(&mut c, &mut s).expect("handshake");
        assert_eq!(c.info().expect("client").suite, suite);
        assert_eq!(s.info().expect("server").suite, suite);
        let (ca, sa) = (
            cs.agreement
                .lock()
                .unwrap()
                .clone()
                .expect("client agreement"),
            ss.agreement
                .lock()
                .unwrap()
                .clone()
                .expect("server agreement"),
        );
        // Both sides computed the same secret from the same two public keys.
        assert_eq!(ca, sa);
        assert_eq!(ca.group, NamedGroup::X25519);
        assert_eq!(ca.signature_scheme, 0x0401, "rsa_pkcs1_sha256, our first");
        assert_eq!(ca.shared_secret.len(), 32);
        assert_ne!(ca.client_public, ca.server_public);
        // ServerKeyExchange (12) between Certificate (11) and ServerHelloDone (14); the
        // server's NewSessionTicket (4) before its Finished (the client offers tickets).
        assert_eq!(
            *cs.messages.lock().unwrap(),
            [1, 2, 11, 12, 14, 16, 20, 4, 20]
        );
        server_keys.push(ca.server_public);

        c.write_plaintext(b"ping").expect("write");
        transfer(&mut c, &mut s).expect("data");
        let mut buf = [0u8; 16];
        let n = s.read_plaintext(&mut buf).expect("read");
        assert_eq!(&buf[..n], b"ping");
    }
    // A fresh ephemeral key every handshake.
    server_keys.sort();
    server_keys.dedup();
    assert_eq!(server_keys.len(), 5);
}

#[test]
fn server_prefers_ecdhe_and_an_rsa_only_client_still_gets_rsa() {
    let (mut c, mut s, cs, _) = observed(client_config(pki()));
    handshake(&mut c, &mut s).expect("handshake");
    assert_eq!(
        s.info().expect("info").suite,
        &TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    );
    assert!(s.info().expect("info").suite.forward_secrecy());

    let mut cc = client_config(pki());
    cc.common.suites = vec![&TLS_RSA_WITH_AES_128_CBC_SHA256];
    let (mut c, mut s, cs2, _) = observed(cc);
    handshake(&mut c, &mut s).expect("handshake");
    assert_eq!(
        s.info().expect("info").suite,
        &TLS_RSA_WITH_AES_128_CBC_SHA256
    );
    assert!(
        !cs2.messages.lock().unwrap().contains(&12),
        "no ServerKeyExchange"
    );
    assert!(cs2.agreement.lock().unwrap().is_none());
    assert!(cs.agreement.lock().unwrap().is_some());
}

// ---- taking flights apart ----

/// The records of `bytes`: (content type, payload).
fn records(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while bytes.len() >= 5 {
        let len = usize::from(u16::from_be_bytes([bytes[3], bytes[4]]));
        out.push((bytes[0], bytes[5..5 + len].to_vec()));
        bytes = &bytes[5 + len..];
    }
    assert!(bytes.is_empty(), "trailing bytes");
    out
}

fn frame(typ: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in payload.chunks(1 << 14) {
        out.extend_from_slice(&[typ, 3, 3]);
        out.extend_from_slice(&(piece.len() as u16).to_be_bytes());
        out.extend_from_slice(piece);
    }
    out
}

/// Handshake messages (header + body) of a plaintext handshake stream.
fn messages(mut stream: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !stream.is_empty() {
        let len =
            usize::from(stream[1]) << 16 | usize::from(stream[2]) << 8 | usize::from(stream[3]);
        out.push(stream[..4 + len].to_vec());
        stream = &stream[4 + len..];
    }
    out
}

fn message(typ: u8, body: &[u8]) -> Vec<u8> {
    let len = body.len() as u32;
    let mut out = vec![typ];
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

/// A client (offering `suites`) whose ClientHello has gone to a server; returns both, the
/// hello's random and the server's first flight as handshake messages.
fn first_flight(cc: ClientConfig) -> (Connection, [u8; 32], Vec<Vec<u8>>) {
    let mut c = Connection::client(arc(cc), "localhost").expect("client");
    let mut s = Connection::server(arc(server_config(pki())));
    let hello = c.outgoing().to_vec();
    transfer(&mut c, &mut s).expect("hello");
    let client_random: [u8; 32] = hello[11..43].try_into().expect("random");
    let flight = s.outgoing().to_vec();
    let stream: Vec<u8> = records(&flight)
        .into_iter()
        .flat_map(|(typ, payload)| {
            assert_eq!(typ, 22);
            payload
        })
        .collect();
    (c, client_random, messages(&stream))
}

/// The client's error after receiving `flight` (messages re-framed as plaintext records).
fn client_error_for(mut c: Connection, flight: &[Vec<u8>]) -> Error {
    let stream: Vec<u8> = flight.concat();
    c.read_tls(&frame(22, &stream));
    c.process_new_packets().expect_err("the client must refuse")
}

/// A ServerKeyExchange for `group` and `point`, signed with the server's real key.
fn signed_ske(client_random: &[u8; 32], server_hello: &[u8], group: u16, point: &[u8]) -> Vec<u8> {
    let server_random = &server_hello[6..38];
    let mut params = vec![3];
    params.extend_from_slice(&group.to_be_bytes());
    params.push(point.len() as u8);
    params.extend_from_slice(point);
    let mut content = client_random.to_vec();
    content.extend_from_slice(server_random);
    content.extend_from_slice(&params);
    let signature = pki()
        .leaf_private_key()
        .sign_pkcs1v15(HashAlg::Sha256, &content)
        .expect("sign");
    let mut body = params;
    body.extend_from_slice(&[4, 1]);
    body.extend_from_slice(&(signature.len() as u16).to_be_bytes());
    body.extend_from_slice(&signature);
    message(12, &body)
}

fn ecdhe_client() -> ClientConfig {
    let mut cc = client_config(pki());
    cc.common.suites = vec![&TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256];
    cc
}

#[test]
fn tampered_server_key_exchange_signature_is_decrypt_error() {
    let (c, _, mut flight) = first_flight(ecdhe_client());
    assert_eq!(flight[2][0], 12, "ServerKeyExchange third");
    let last = flight[2].len() - 1;
    flight[2][last] ^= 1;
    let err = client_error_for(c, &flight);
    assert_eq!(err.alert(), Some(AlertDescription::DecryptError), "{err}");
}

#[test]
fn a_changed_server_point_breaks_the_signature() {
    let (c, _, mut flight) = first_flight(ecdhe_client());
    // The point starts after curve_type, group and its length byte (4 + 4 bytes of headers).
    flight[2][8] ^= 0x80;
    let err = client_error_for(c, &flight);
    assert_eq!(err.alert(), Some(AlertDescription::DecryptError), "{err}");
}

/// A validly signed all-zero X25519 point (small order: the shared secret would be zero) is
/// refused before any premaster is computed from it.
#[test]
fn all_zero_x25519_point_from_the_server_is_illegal_parameter() {
    let (c, client_random, mut flight) = first_flight(ecdhe_client());
    flight[2] = signed_ske(&client_random, &flight[0], 29, &[0; 32]);
    let err = client_error_for(c, &flight);
    assert_eq!(
        err.alert(),
        Some(AlertDescription::IllegalParameter),
        "{err}"
    );
}

#[test]
fn short_x25519_point_from_the_server_is_illegal_parameter() {
    let (c, client_random, mut flight) = first_flight(ecdhe_client());
    flight[2] = signed_ske(&client_random, &flight[0], 29, &[9; 31]);
    let err = client_error_for(c, &flight);
    assert_eq!(
        err.alert(),
        Some(AlertDescription::IllegalParameter),
        "{err}"
    );
}

#[test]
fn a_group_we_did_not_offer_is_illegal_parameter() {
    let (c, client_random, mut flight) = first_flight(ecdhe_client());
    // secp384r1, validly signed: still not ours.
    flight[2] = signed_ske(&client_random, &flight[0], 24, &[4; 97]);
    let err = client_error_for(c, &flight);
    assert_eq!(
        err.alert(),
        Some(AlertDescription::IllegalParameter),
        "{err}"
    );
}

#[test]
fn a_missing_server_key_exchange_is_unexpected_message() {
    let (c, _, mut flight) = first_flight(ecdhe_client());
    flight.remove(2);
    let err = client_error_for(c, &flight);
    assert_eq!(
        err.alert(),
        Some(AlertDescription::UnexpectedMessage),
        "{err}"
    );
}

// ---- the server's side ----

/// Our ClientHello with `from` replaced by `to` (same length) — the extension bytes we change.
fn server_answer_to_hello(
    cc: ClientConfig,
    from: &[u8],
    to: &[u8],
) -> (Result<(), Error>, Vec<u8>) {
    let c = Connection::client(arc(cc), "localhost").expect("client");
    let mut hello = c.outgoing().to_vec();
    let at = hello
        .windows(from.len())
        .position(|w| w == from)
        .expect("pattern in our ClientHello");
    hello[at..at + from.len()].copy_from_slice(to);
    let mut s = Connection::server(arc(server_config(pki())));
    s.read_tls(&hello);
    let result = s.process_new_packets();
    (result, s.outgoing().to_vec())
}

/// The supported_groups extension with these group ids, as it is on the wire.
fn groups_extension(ids: &[u16]) -> Vec<u8> {
    let len = 2 * ids.len() as u16;
    let mut out = vec![0, 10];
    out.extend_from_slice(&(len + 2).to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    for id in ids {
        out.extend_from_slice(&id.to_be_bytes());
    }
    out
}

/// Our client's supported_groups, and the same length of groups our server does not have
/// (secp384r1, secp521r1, x448): the bytes the tests below swap.
fn ours_and_foreign_groups() -> (Vec<u8>, Vec<u8>) {
    let ours: Vec<u16> = SUPPORTED_GROUPS.iter().map(|g| g.id()).collect();
    let foreign: Vec<u16> = [24, 25, 30].into_iter().take(ours.len()).collect();
    assert_eq!(foreign.len(), ours.len());
    (groups_extension(&ours), groups_extension(&foreign))
}

#[test]
fn no_common_group_falls_back_to_rsa_key_transport() {
    let (ours, foreign) = ours_and_foreign_groups();
    let (result, out) = server_answer_to_hello(client_config(pki()), &ours, &foreign);
    result.expect("the server answers");
    // The ServerHello chose an RSA suite: the first one of ours after the ECDHE ones.
    let first_rsa = ALL_SUITES
        .iter()
        .find(|s| !s.forward_secrecy())
        .expect("an RSA suite");
    let (typ, payload) = records(&out).remove(0);
    assert_eq!(typ, 22);
    let server_hello = &messages(&payload)[0];
    assert_eq!(server_hello[0], 2);
    // Header, version, random, then the session id and its length byte.
    let at = 39 + usize::from(server_hello[38]);
    let suite = u16::from_be_bytes([server_hello[at], server_hello[at + 1]]);
    assert_eq!(suite, first_rsa.id);
}

#[test]
fn no_common_group_and_only_ecdhe_offered_is_handshake_failure() {
    let (ours, foreign) = ours_and_foreign_groups();
    let (result, _) = server_answer_to_hello(ecdhe_client(), &ours, &foreign);
    let err = result.expect_err("refused");
    assert_eq!(
        err.alert(),
        Some(AlertDescription::HandshakeFailure),
        "{err}"
    );
}

#[test]
fn point_formats_without_uncompressed_is_illegal_parameter() {
    let formats = [0, 11, 0, 2, 1, 0];
    let (result, _) = server_answer_to_hello(ecdhe_client(), &formats, &[0, 11, 0, 2, 1, 1]);
    let err = result.expect_err("refused");
    assert_eq!(
        err.alert(),
        Some(AlertDescription::IllegalParameter),
        "{err}"
    );
}

/// The client's ClientKeyExchange with its point replaced: the server refuses it.
fn server_error_for_client_point(point: &[u8]) -> Error {
    let mut c = Connection::client(arc(ecdhe_client()), "localhost").expect("client");
    let mut s = Connection::server(arc(server_config(pki())));
    transfer(&mut c, &mut s).expect("hello");
    transfer(&mut s, &mut c).expect("server flight");
    let flight = c.outgoing().to_vec();
    let recs = records(&flight);
    assert_eq!(recs[0].0, 22);
    assert_eq!(recs[0].1[0], 16, "ClientKeyExchange first");
    let mut body = vec![point.len() as u8];
    body.extend_from_slice(point);
    s.read_tls(&frame(22, &message(16, &body)));
    s.process_new_packets().expect_err("the server must refuse")
}

#[test]
fn all_zero_x25519_point_from_the_client_is_illegal_parameter() {
    let err = server_error_for_client_point(&[0; 32]);
    assert_eq!(
        err.alert(),
        Some(AlertDescription::IllegalParameter),
        "{err}"
    );
    let err = server_error_for_client_point(&[9; 33]);
    assert_eq!(
        err.alert(),
        Some(AlertDescription::IllegalParameter),
        "{err}"
    );
}
