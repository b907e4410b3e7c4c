//! Our client ↔ our server with no sockets: the sans-I/O connections pass bytes through
//! buffers, so a test can split, coalesce, tamper with and truncate them at will.

mod common;

use common::{arc, client_config, pki, server_config};
use std::sync::{Arc, Mutex};
use tls::alert::{Alert, AlertDescription, AlertLevel};
use tls::crypto::rsa::RsaPublicKey;
use tls::record::ContentType;
use tls::suites::ALL_SUITES;
use tls::trace::{Direction, Event, Observer};
use tls::{ClientConfig, Connection, Error, ServerConfig};

fn client(config: ClientConfig) -> Connection {
    Connection::client(arc(config), "localhost").expect("client")
}

fn server(config: ServerConfig) -> Connection {
    Connection::server(arc(config))
}

/// Move everything `from` has to send into `to`, `chunk` bytes per read (like TCP segments).
fn transfer(from: &mut Connection, to: &mut Connection, chunk: usize) -> Result<(), Error> {
    let bytes = from.outgoing().to_vec();
    from.consume_outgoing(bytes.len());
    for piece in bytes.chunks(chunk.max(1)) {
        to.read_tls(piece);
        to.process_new_packets()?;
    }
    Ok(())
}

fn handshake(c: &mut Connection, s: &mut Connection, chunk: usize) -> Result<(), Error> {
    for _ in 0..10 {
        transfer(c, s, chunk)?;
        transfer(s, c, chunk)?;
        if !c.is_handshaking() && !s.is_handshaking() {
            return Ok(());
        }
    }
    panic!("handshake did not finish in 10 round trips");
}

fn read_all(conn: &mut Connection) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = conn.read_plaintext(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    out
}

/// The alert a connection queued (the last record of its output, unencrypted or not we can't
/// read, so we check the error it reports instead where encrypted).
fn alert_of(err: &Error) -> Option<AlertDescription> {
    err.alert()
}

#[test]
fn every_suite_with_and_without_ems_and_etm() {
    for suite in ALL_SUITES {
        for (ems, etm) in [(true, true), (false, false), (true, false), (false, true)] {
            let mut cc = client_config(pki());
            cc.common.suites = vec![suite];
            cc.common.extended_master_secret = ems;
            cc.common.encrypt_then_mac = etm;
            let (mut c, mut s) = (client(cc), server(server_config(pki())));
            handshake(&mut c, &mut s, usize::MAX).expect("handshake");
            let (ci, si) = (
                c.info().expect("client info"),
                s.info().expect("server info"),
            );
            assert_eq!(ci.suite.id, suite.id);
            assert_eq!(si.suite.id, suite.id);
            assert_eq!(ci.client_random, si.client_random);
            assert_eq!(ci.server_random, si.server_random);
            // RFC 7366 §3: encrypt_then_mac is not taken up with an AEAD suite.
            let etm = etm && !suite.is_aead();
            assert_eq!((ci.extended_master_secret, ci.encrypt_then_mac), (ems, etm));
            assert_eq!((si.extended_master_secret, si.encrypt_then_mac), (ems, etm));
            assert!(
                matches!(ci.verification, Some(Ok(2))),
                "{:?}",
                ci.verification
            );

            c.write_plaintext(b"GET / HTTP/1.1\r\n\r\n").expect("write");
            transfer(&mut c, &mut s, usize::MAX).expect("to server");
            assert_eq!(read_all(&mut s), b"GET / HTTP/1.1\r\n\r\n");
            let big = vec![0x5a; 40_000];
            s.write_plaintext(&big).expect("write");
            transfer(&mut s, &mut c, usize::MAX).expect("to client");
            assert_eq!(read_all(&mut c), big);
        }
    }
}

#[derive(Default)]
struct Recorder(Mutex<Vec<(Direction, ContentType, usize)>>);

impl Observer for Recorder {
    fn event(&self, event: &Event<'_>) {
        if let Event::Record {
            direction,
            content_type,
            plaintext,
            ..
        } = event
        {
            if let Ok(mut v) = self.0.lock() {
                v.push((*direction, *content_type, plaintext.len()));
            }
        }
    }
}

#[test]
fn handshake_one_byte_per_record_and_per_segment() {
    let recorder = Arc::new(Recorder::default());
    let mut cc = client_config(pki());
    cc.common.max_handshake_fragment = 1;
    cc.common.observer = Some(recorder.clone());
    let mut sc = server_config(pki());
    sc.common.max_handshake_fragment = 1;
    let (mut c, mut s) = (client(cc), server(sc));
    handshake(&mut c, &mut s, 1).expect("handshake with 1-byte records and 1-byte reads");
    let records = recorder.0.lock().expect("lock");
    let handshake_records = records
        .iter()
        .filter(|r| r.1 == ContentType::Handshake)
        .collect::<Vec<_>>();
    assert!(
        handshake_records.len() > 500,
        "only {} handshake records",
        handshake_records.len()
    );
    assert!(handshake_records.iter().all(|r| r.2 == 1));
}

#[test]
fn server_flight_is_coalesced_into_one_record() {
    let recorder = Arc::new(Recorder::default());
    let mut cc = client_config(pki());
    cc.common.observer = Some(recorder.clone());
    // No ticket: its NewSessionTicket would be one more record before the CCS.
    cc.session_tickets = false;
    let (mut c, mut s) = (client(cc), server(server_config(pki())));
    handshake(&mut c, &mut s, usize::MAX).expect("handshake");
    let records = recorder.0.lock().expect("lock");
    // ServerHello + Certificate + ServerHelloDone arrive in one record, then CCS, then Finished.
    let received: Vec<_> = records
        .iter()
        .filter(|r| r.0 == Direction::Received)
        .map(|r| r.1)
        .collect();
    assert_eq!(
        received,
        [
            ContentType::Handshake,
            ContentType::ChangeCipherSpec,
            ContentType::Handshake
        ]
    );
}

#[test]
fn flipped_bit_in_application_data_is_bad_record_mac_and_nothing_is_delivered() {
    for etm in [false, true] {
        let mut cc = client_config(pki());
        cc.common.encrypt_then_mac = etm;
        // CBC here; AES-GCM below.
        cc.common.suites = vec![&tls::suites::TLS_RSA_WITH_AES_128_CBC_SHA256];
        let (mut c, mut s) = (client(cc), server(server_config(pki())));
        handshake(&mut c, &mut s, usize::MAX).expect("handshake");
        c.write_plaintext(b"secret request").expect("write");
        let mut wire = c.outgoing().to_vec();
        c.consume_outgoing(wire.len());
        let last = wire.len() - 1;
        wire[last - 20] ^= 0x01;
        s.read_tls(&wire);
        let err = s
            .process_new_packets()
            .expect_err("tampered record must fail");
        assert_eq!(alert_of(&err), Some(AlertDescription::BadRecordMac));
        assert!(
            read_all(&mut s).is_empty(),
            "no tampered byte may be delivered"
        );
        // The client learns why.
        transfer(&mut s, &mut c, usize::MAX).expect_err("client receives the alert");
        assert!(matches!(
            c.error(),
            Some(Error::AlertReceived(AlertDescription::BadRecordMac))
        ));
    }
}

/// RFC 7366 §3: a server that picks an AEAD suite must not answer encrypt_then_mac, which the
/// client offered; with a CBC suite it does.
#[test]
fn server_answers_encrypt_then_mac_only_with_a_cbc_suite() {
    for (suite, expect_etm) in [
        (&tls::suites::TLS_RSA_WITH_AES_128_GCM_SHA256, false),
        (&tls::suites::TLS_RSA_WITH_AES_128_CBC_SHA, true),
    ] {
        let mut cc = client_config(pki());
        cc.common.suites = vec![suite];
        assert!(cc.common.encrypt_then_mac);
        let (mut c, mut s) = (client(cc), server(server_config(pki())));
        let hello = c.outgoing().to_vec();
        c.consume_outgoing(hello.len());
        s.read_tls(&hello);
        s.process_new_packets().expect("server reads the hello");
        let flight = s.outgoing().to_vec();
        // Record header (5), then the ServerHello's handshake header (type 2, uint24 length).
        assert_eq!((flight[0], flight[5]), (22, 2));
        let len = usize::from(u16::from_be_bytes([flight[7], flight[8]]));
        let hello =
            tls::msgs::handshake::ServerHello::decode(&flight[9..9 + len]).expect("ServerHello");
        assert_eq!(hello.cipher_suite, suite.id);
        assert_eq!(hello.has_etm(), expect_etm, "{}", suite.name);
    }
}

/// AES-GCM: a bit flipped in the explicit nonce, the ciphertext or the tag, or in the header
/// fields the additional data covers (type, length), is one bad_record_mac, and not one byte
/// of the record reaches the application.
#[test]
fn tampered_gcm_record_is_bad_record_mac_and_nothing_is_delivered() {
    const HEADER: usize = 5;
    let request = b"secret request";
    // (what is changed, its offset in the record, the XOR mask)
    let places = [
        ("content type", 0, 0x01),
        ("length", 4, 0x02),
        ("explicit nonce", HEADER, 0x80),
        ("explicit nonce, last byte", HEADER + 7, 0x01),
        ("ciphertext", HEADER + 8, 0x01),
        (
            "ciphertext, last byte",
            HEADER + 8 + request.len() - 1,
            0x40,
        ),
        ("tag", HEADER + 8 + request.len(), 0x01),
        ("tag, last byte", HEADER + 8 + request.len() + 15, 0x80),
    ];
    for (what, at, mask) in places {
        let mut cc = client_config(pki());
        cc.common.suites = vec![&tls::suites::TLS_RSA_WITH_AES_128_GCM_SHA256];
        let (mut c, mut s) = (client(cc), server(server_config(pki())));
        handshake(&mut c, &mut s, usize::MAX).expect("handshake");
        assert!(c.info().is_some_and(|i| i.suite.is_aead()));
        c.write_plaintext(request).expect("write");
        let mut wire = c.outgoing().to_vec();
        c.consume_outgoing(wire.len());
        assert_eq!(
            wire.len(),
            HEADER + 8 + request.len() + 16,
            "one GCM record"
        );
        wire[at] ^= mask;
        // (A shortened length leaves bytes behind: the start of a record that never comes.)
        s.read_tls(&wire);
        let err = s
            .process_new_packets()
            .expect_err("tampered record must fail");
        assert_eq!(
            alert_of(&err),
            Some(AlertDescription::BadRecordMac),
            "{what}: {err}"
        );
        assert!(read_all(&mut s).is_empty(), "{what}: nothing delivered");
    }
}

#[test]
fn altered_client_hello_fails_at_finished_with_decrypt_error() {
    // Without EMS the keys depend only on the randoms and the pre-master secret, so an
    // attacker who edits a hello field leaves the records decryptable: only Finished, which
    // hashes every handshake byte, can notice.
    let mut cc = client_config(pki());
    cc.common.extended_master_secret = false;
    let (mut c, mut s) = (client(cc), server(server_config(pki())));
    let mut hello = c.outgoing().to_vec();
    c.consume_outgoing(hello.len());
    // The signature_algorithms list holds 04 01 (rsa_pkcs1_sha256): make it 04 02. Found by
    // walking the message (the same two bytes can occur in the client random).
    let pos = rsa_pkcs1_sha256_offset(&hello);
    assert_eq!(hello[pos..pos + 2], [0x04, 0x01]);
    hello[pos + 1] = 0x02;
    s.read_tls(&hello);
    s.process_new_packets()
        .expect("server accepts the altered hello");
    transfer(&mut s, &mut c, usize::MAX).expect("client gets the server flight");
    let err = transfer(&mut c, &mut s, usize::MAX).expect_err("server must refuse the Finished");
    assert_eq!(alert_of(&err), Some(AlertDescription::DecryptError));
}

/// Where, in a record holding one ClientHello, the signature_algorithms extension lists
/// rsa_pkcs1_sha256 (04 01): RFC 5246 §7.4.1.2 and §7.4.1.4.1, field by field.
fn rsa_pkcs1_sha256_offset(record: &[u8]) -> usize {
    let u16_at = |i: usize| usize::from(u16::from_be_bytes([record[i], record[i + 1]]));
    assert_eq!(record[0], 22, "a handshake record");
    assert_eq!(record[5], 1, "a ClientHello");
    // Record header 5, handshake header 4, version 2, random 32.
    let mut i = 5 + 4 + 2 + 32;
    i += 1 + usize::from(record[i]); // session_id
    i += 2 + u16_at(i); // cipher_suites
    i += 1 + usize::from(record[i]); // compression_methods
    let end = i + 2 + u16_at(i);
    i += 2;
    while i < end {
        let (typ, len) = (u16_at(i), u16_at(i + 2));
        let body = i + 4;
        if typ == 13 {
            let list_end = body + 2 + u16_at(body);
            return (body + 2..list_end)
                .step_by(2)
                .find(|&j| record[j..j + 2] == [0x04, 0x01])
                .expect("rsa_pkcs1_sha256 offered");
        }
        i = body + len;
    }
    panic!("no signature_algorithms extension in the ClientHello");
}

/// A plaintext handshake record holding `body` as one message of type `typ`.
fn handshake_record(typ: u8, body: &[u8]) -> Vec<u8> {
    let len = body.len() + 4;
    let mut r = vec![
        22,
        3,
        3,
        (len >> 8) as u8,
        len as u8,
        typ,
        0,
        (body.len() >> 8) as u8,
        body.len() as u8,
    ];
    r.extend_from_slice(body);
    r
}

fn server_error_for(bytes: &[u8]) -> Error {
    let mut s = server(server_config(pki()));
    s.read_tls(bytes);
    let err = s.process_new_packets().expect_err("must be refused");
    // The alert goes out in clear (no keys yet): 21, version, length 2, fatal, description.
    let out = s.outgoing();
    assert_eq!(out.len(), 7, "exactly one alert record: {out:?}");
    assert_eq!(out[0], 21);
    let alert = Alert::decode(&out[5..]).expect("alert body");
    assert_eq!(alert.level, AlertLevel::Fatal);
    assert_eq!(Some(alert.description), err.alert());
    err
}

#[test]
fn message_out_of_order_is_unexpected_message() {
    let finished = handshake_record(20, &[0u8; 12]);
    assert_eq!(
        server_error_for(&finished).alert(),
        Some(AlertDescription::UnexpectedMessage)
    );
}

#[test]
fn oversized_record_is_record_overflow() {
    let len = (1 << 14) + 2048 + 1;
    let header = [22u8, 3, 3, (len >> 8) as u8, len as u8];
    assert_eq!(
        server_error_for(&header).alert(),
        Some(AlertDescription::RecordOverflow)
    );
    let len = (1 << 14) + 1;
    let mut plain = vec![23u8, 3, 3, (len >> 8) as u8, len as u8];
    plain.resize(5 + len, 0);
    assert_eq!(
        server_error_for(&plain).alert(),
        Some(AlertDescription::RecordOverflow)
    );
}

#[test]
fn garbage_instead_of_client_hello_is_decode_error() {
    // 'G' is no record content type: not TLS at all, so decode_error (not protocol_version).
    let err = server_error_for(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(err.alert(), Some(AlertDescription::DecodeError));
}

#[test]
fn tls10_only_client_hello_is_protocol_version() {
    // client_version 3.1, random, empty session id, one suite (0x002f), null compression.
    let mut body = vec![3, 1];
    body.extend_from_slice(&[7u8; 32]);
    body.extend_from_slice(&[0, 0, 2, 0x00, 0x2f, 1, 0]);
    let err = server_error_for(&handshake_record(1, &body));
    assert_eq!(err.alert(), Some(AlertDescription::ProtocolVersion));
}

#[test]
fn cut_before_close_notify_is_truncation_and_close_notify_is_clean_eof() {
    let (mut c, mut s) = (client(client_config(pki())), server(server_config(pki())));
    handshake(&mut c, &mut s, usize::MAX).expect("handshake");
    s.write_plaintext(b"partial body").expect("write");
    transfer(&mut s, &mut c, usize::MAX).expect("data");
    c.read_eof();
    c.process_new_packets().expect("no error yet");
    let mut buf = [0u8; 64];
    assert_eq!(c.read_plaintext(&mut buf).expect("data first"), 12);
    let err = c.read_plaintext(&mut buf).expect_err("then truncation");
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);

    let (mut c, mut s) = (client(client_config(pki())), server(server_config(pki())));
    handshake(&mut c, &mut s, usize::MAX).expect("handshake");
    s.write_plaintext(b"whole body").expect("write");
    s.send_close_notify();
    transfer(&mut s, &mut c, usize::MAX).expect("data and close_notify");
    c.read_eof();
    assert_eq!(read_all(&mut c), b"whole body");
    assert_eq!(c.read_plaintext(&mut buf).expect("clean EOF"), 0);
}

fn malformed_premaster(key: &RsaPublicKey, pre_master_secret: &[u8; 48]) -> Vec<u8> {
    // Block type 1 instead of 2: a PKCS#1 v1.5 encryption block that is plainly wrong.
    let k = key.size();
    let mut block = vec![0xffu8; k];
    block[0] = 0;
    block[1] = 1;
    block[k - 49] = 0;
    block[k - 48..].copy_from_slice(pre_master_secret);
    key.raw_public(&block).expect("raw public")
}

fn well_formed_wrong_premaster(key: &RsaPublicKey, _pre_master_secret: &[u8; 48]) -> Vec<u8> {
    let mut other = [0x11u8; 48];
    other[..2].copy_from_slice(&[3, 3]);
    key.encrypt_pkcs1v15(&other).expect("encrypt")
}

/// The client's secret with version 3.1 instead of the 3.3 its ClientHello offered (a
/// version-rollback attempt, RFC 5246 §7.4.7.1): well-formed PKCS#1, wrong content.
fn wrong_version_premaster(key: &RsaPublicKey, pre_master_secret: &[u8; 48]) -> Vec<u8> {
    let mut rolled_back = *pre_master_secret;
    rolled_back[..2].copy_from_slice(&[3, 1]);
    key.encrypt_pkcs1v15(&rolled_back).expect("encrypt")
}

/// 49 bytes: one extra in front of the client's real secret. A server that took the last 48
/// bytes without checking the length would agree with the client.
fn wrong_length_premaster(key: &RsaPublicKey, pre_master_secret: &[u8; 48]) -> Vec<u8> {
    let mut longer = vec![0x01u8];
    longer.extend_from_slice(pre_master_secret);
    key.encrypt_pkcs1v15(&longer).expect("encrypt")
}

/// k + 1 bytes: a correct ciphertext of the real secret behind a zero byte. A server that read
/// the ciphertext as a number (leading zeros ignored) would agree with the client.
fn overlong_ciphertext_premaster(key: &RsaPublicKey, pre_master_secret: &[u8; 48]) -> Vec<u8> {
    let mut c = vec![0u8];
    c.extend(key.encrypt_pkcs1v15(pre_master_secret).expect("encrypt"));
    c
}

/// Keeps the pre-master secret a connection reports (the client: what it sent; the server:
/// what decryption gave, or the random stand-in).
#[derive(Default)]
struct PremasterLog(Mutex<Vec<Vec<u8>>>);

impl Observer for PremasterLog {
    fn event(&self, event: &Event<'_>) {
        if let Event::PremasterSecret { premaster, .. } = event {
            if let Ok(mut v) = self.0.lock() {
                v.push(premaster.to_vec());
            }
        }
    }
}

impl PremasterLog {
    fn only(&self) -> Vec<u8> {
        let v = self.0.lock().expect("lock");
        assert_eq!(v.len(), 1, "one pre-master secret per handshake");
        v[0].clone()
    }
}

/// What the server did with one encrypted pre-master secret.
struct PremasterOutcome {
    /// The alert the server raised on the client's Finished.
    alert: Option<AlertDescription>,
    /// The secret the client meant, and the one the server went on with.
    client_secret: Vec<u8>,
    server_secret: Vec<u8>,
}

/// Runs a handshake with the given pre-master secret encryption; checks that the server
/// accepts ClientKeyExchange and ChangeCipherSpec and fails only on Finished.
fn premaster_outcome(encrypt: fn(&RsaPublicKey, &[u8; 48]) -> Vec<u8>) -> PremasterOutcome {
    let (client_log, server_log) = (
        Arc::new(PremasterLog::default()),
        Arc::new(PremasterLog::default()),
    );
    let mut cc = client_config(pki());
    // The hook replaces RSA key transport's encryption: offer only RSA suites.
    cc.common.suites = ALL_SUITES
        .iter()
        .copied()
        .filter(|s| !s.forward_secrecy())
        .collect();
    cc.testing_encrypt_premaster = Some(encrypt);
    cc.common.observer = Some(client_log.clone());
    let mut sc = server_config(pki());
    sc.common.observer = Some(server_log.clone());
    let (mut c, mut s) = (client(cc), server(sc));
    transfer(&mut c, &mut s, usize::MAX).expect("hello");
    transfer(&mut s, &mut c, usize::MAX).expect("server flight");
    // Feed the client's flight record by record: ClientKeyExchange and CCS must be accepted.
    let flight = c.outgoing().to_vec();
    c.consume_outgoing(flight.len());
    let mut rest = &flight[..];
    let mut outcomes = Vec::new();
    while rest.len() >= 5 {
        let len = 5 + usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        s.read_tls(&rest[..len]);
        outcomes.push((
            rest[0],
            s.process_new_packets().err().and_then(|e| e.alert()),
        ));
        rest = &rest[len..];
    }
    // Handshake (CKE), ChangeCipherSpec: fine. The encrypted Finished: the failure.
    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    assert_eq!(outcomes[0], (22, None));
    assert_eq!(outcomes[1], (20, None));
    assert_eq!(outcomes[2].0, 22);
    PremasterOutcome {
        alert: outcomes[2].1,
        client_secret: client_log.only(),
        server_secret: server_log.only(),
    }
}

/// Every malformation fails where a well-formed wrong secret fails (Finished), with the same
/// alert, and the server goes on with a stand-in: client_version || 46 bytes that are not the
/// client's (RFC 5246 §7.4.7.1).
fn assert_fails_like_a_wrong_secret(encrypt: fn(&RsaPublicKey, &[u8; 48]) -> Vec<u8>) {
    let wrong = premaster_outcome(well_formed_wrong_premaster);
    assert!(wrong.alert.is_some());
    let outcome = premaster_outcome(encrypt);
    assert_eq!(outcome.alert, wrong.alert);
    assert_eq!(outcome.server_secret.len(), 48);
    assert_eq!(
        outcome.server_secret[..2],
        [3, 3],
        "stand-in starts with client_version"
    );
    assert_ne!(outcome.server_secret[2..], outcome.client_secret[2..]);
}

#[test]
fn malformed_premaster_fails_only_at_finished_like_a_wrong_one() {
    assert_fails_like_a_wrong_secret(malformed_premaster);
}

#[test]
fn wrong_version_premaster_fails_only_at_finished_like_a_wrong_one() {
    assert_fails_like_a_wrong_secret(wrong_version_premaster);
}

#[test]
fn wrong_length_premaster_fails_only_at_finished_like_a_wrong_one() {
    assert_fails_like_a_wrong_secret(wrong_length_premaster);
}

#[test]
fn overlong_ciphertext_fails_only_at_finished_like_a_wrong_one() {
    assert_fails_like_a_wrong_secret(overlong_ciphertext_premaster);
}

#[test]
fn premaster_stand_in_is_fresh_each_time() {
    // The same malformed message twice: a fixed stand-in would be a secret an attacker
    // could learn once and then use to finish handshakes.
    let first = premaster_outcome(malformed_premaster).server_secret;
    let second = premaster_outcome(malformed_premaster).server_secret;
    assert_ne!(first, second);
}

#[test]
fn more_than_the_plaintext_buffer_arrives_in_one_read() {
    // 1 MiB of records handed over at once: decryption pauses at the buffer limit and resumes
    // as the application reads, so every byte arrives, in order.
    let (mut c, mut s) = (client(client_config(pki())), server(server_config(pki())));
    handshake(&mut c, &mut s, usize::MAX).expect("handshake");
    let body: Vec<u8> = (0..1u32 << 20).map(|i| (i % 251) as u8).collect();
    s.write_plaintext(&body).expect("write");
    s.send_close_notify();
    transfer(&mut s, &mut c, usize::MAX).expect("all records in one read");
    let got = read_all(&mut c);
    assert_eq!(got.len(), body.len(), "bytes delivered");
    assert!(got == body, "bytes delivered in order");
    let mut buf = [0u8; 16];
    assert_eq!(c.read_plaintext(&mut buf).expect("clean end"), 0);
}

/// Alerts a connection sent and received, in order.
#[derive(Default)]
struct Alerts(Mutex<Vec<(Direction, Alert)>>);

impl Observer for Alerts {
    fn event(&self, event: &Event<'_>) {
        if let Event::Alert { direction, alert } = event {
            if let Ok(mut v) = self.0.lock() {
                v.push((*direction, *alert));
            }
        }
    }
}

impl Alerts {
    fn received(&self) -> Vec<Alert> {
        self.of(Direction::Received)
    }
    fn sent(&self) -> Vec<Alert> {
        self.of(Direction::Sent)
    }
    fn of(&self, direction: Direction) -> Vec<Alert> {
        let v = self.0.lock().expect("lock");
        v.iter()
            .filter(|(d, _)| *d == direction)
            .map(|(_, a)| *a)
            .collect()
    }
}

fn warning(description: AlertDescription) -> Alert {
    Alert {
        level: AlertLevel::Warning,
        description,
    }
}

/// A connected pair whose client and server alerts are observed.
fn observed_pair() -> (Connection, Connection, Arc<Alerts>, Arc<Alerts>) {
    let (ca, sa) = (Arc::new(Alerts::default()), Arc::new(Alerts::default()));
    let mut cc = client_config(pki());
    cc.common.observer = Some(ca.clone());
    let mut sc = server_config(pki());
    sc.common.observer = Some(sa.clone());
    let (mut c, mut s) = (client(cc), server(sc));
    handshake(&mut c, &mut s, usize::MAX).expect("handshake");
    (c, s, ca, sa)
}

/// The bytes of one ClientHello handshake message (header included).
fn client_hello_message() -> Vec<u8> {
    let c = client(client_config(pki()));
    c.outgoing()[5..].to_vec()
}

#[test]
fn server_refuses_renegotiation_with_one_warning_and_goes_on() {
    let (mut c, mut s, ca, sa) = observed_pair();
    c.testing_send_record(ContentType::Handshake, &client_hello_message())
        .expect("send hello");
    transfer(&mut c, &mut s, usize::MAX).expect("server refuses politely, not fatally");
    assert_eq!(sa.sent(), [warning(AlertDescription::NoRenegotiation)]);
    transfer(&mut s, &mut c, usize::MAX).expect("client takes the warning");
    assert_eq!(ca.received(), [warning(AlertDescription::NoRenegotiation)]);
    // The connection goes on, both ways.
    c.write_plaintext(b"still here").expect("write");
    transfer(&mut c, &mut s, usize::MAX).expect("data");
    assert_eq!(read_all(&mut s), b"still here");
    s.write_plaintext(b"so am I").expect("write");
    transfer(&mut s, &mut c, usize::MAX).expect("data");
    assert_eq!(read_all(&mut c), b"so am I");
}

#[test]
fn client_refuses_hello_request_with_one_warning_and_goes_on() {
    let (mut c, mut s, ca, sa) = observed_pair();
    s.testing_send_record(ContentType::Handshake, &[0, 0, 0, 0])
        .expect("send HelloRequest");
    transfer(&mut s, &mut c, usize::MAX).expect("client refuses politely");
    assert_eq!(ca.sent(), [warning(AlertDescription::NoRenegotiation)]);
    transfer(&mut c, &mut s, usize::MAX).expect("server takes the warning");
    assert_eq!(sa.received(), [warning(AlertDescription::NoRenegotiation)]);
    s.write_plaintext(b"response").expect("write");
    transfer(&mut s, &mut c, usize::MAX).expect("data");
    assert_eq!(read_all(&mut c), b"response");
}

#[test]
fn renegotiation_flood_ends_the_connection_and_what_is_queued_stays_bounded() {
    // A client that sends ClientHellos forever and never reads: each refusal used to queue
    // a warning and reset the flood counter, so the server's output grew without bound.
    let (mut c, mut s, _, sa) = observed_pair();
    let hello = client_hello_message();
    let mut refused = 0;
    for _ in 0..1000 {
        c.testing_send_record(ContentType::Handshake, &hello)
            .expect("send hello");
        let wire = c.outgoing().to_vec();
        c.consume_outgoing(wire.len());
        s.read_tls(&wire);
        match s.process_new_packets() {
            Ok(()) => refused += 1,
            Err(e) => {
                assert_eq!(e.alert(), Some(AlertDescription::UnexpectedMessage));
                break;
            }
        }
    }
    assert_eq!(refused, 32, "refusals before the flood is called an attack");
    let sent = sa.sent();
    assert_eq!(sent.len(), 33, "32 warnings, then one fatal alert");
    assert_eq!(sent[32], Alert::fatal(AlertDescription::UnexpectedMessage));
    assert!(
        s.outgoing().len() < 8 * 1024,
        "{} bytes queued",
        s.outgoing().len()
    );
    assert!(s.read_limit() == 0);
}

#[test]
fn nothing_is_sent_after_close_notify() {
    let (mut c, mut s, _, sa) = observed_pair();
    s.send_close_notify();
    c.testing_send_record(ContentType::Handshake, &client_hello_message())
        .expect("send hello");
    transfer(&mut c, &mut s, usize::MAX).expect("refused silently");
    assert_eq!(sa.sent(), [Alert::close_notify()]);
}

#[test]
fn empty_records_after_the_handshake_are_tolerated_up_to_32_in_a_row() {
    for (count, ok) in [(32, true), (33, false)] {
        let (mut c, mut s, _, _) = observed_pair();
        for _ in 0..count {
            c.testing_send_record(ContentType::ApplicationData, &[])
                .expect("send empty");
        }
        let result = transfer(&mut c, &mut s, usize::MAX);
        if ok {
            result.expect("32 empty records are fine");
            // Real data resets the count.
            c.write_plaintext(b"x").expect("write");
            for _ in 0..32 {
                c.testing_send_record(ContentType::ApplicationData, &[])
                    .expect("send empty");
            }
            transfer(&mut c, &mut s, usize::MAX).expect("data resets the count");
            assert_eq!(read_all(&mut s), b"x");
        } else {
            let err = result.expect_err("the 33rd is a flood");
            assert_eq!(err.alert(), Some(AlertDescription::UnexpectedMessage));
        }
    }
}

#[test]
fn four_warning_alerts_in_a_row_are_tolerated_the_fifth_is_fatal() {
    // CVE-2016-8610 ("SSL Death Alert"): OpenSSL's limit, which tlsfuzzer expects.
    let alert = warning(AlertDescription::UnsupportedCertificate).encode();
    for (count, ok) in [(4, true), (5, false)] {
        let mut c = client(client_config(pki()));
        let mut s = server(server_config(pki()));
        transfer(&mut c, &mut s, usize::MAX).expect("hello");
        for _ in 0..count {
            c.testing_send_record(ContentType::Alert, &alert)
                .expect("send warning");
        }
        let result = transfer(&mut c, &mut s, usize::MAX);
        if ok {
            result.expect("four warnings are fine");
            handshake(&mut c, &mut s, usize::MAX).expect("the handshake goes on");
        } else {
            let err = result.expect_err("the fifth warning is fatal");
            assert_eq!(err.alert(), Some(AlertDescription::UnexpectedMessage));
        }
    }
}

#[test]
fn close_notify_during_the_handshake_ends_it_and_stops_reading() {
    let alerts = Arc::new(Alerts::default());
    let mut sc = server_config(pki());
    sc.common.observer = Some(alerts.clone());
    let mut c = client(client_config(pki()));
    let mut s = server(sc);
    transfer(&mut c, &mut s, usize::MAX).expect("hello");
    s.read_tls(&[21, 3, 3, 0, 2, 1, 0]);
    let err = s
        .process_new_packets()
        .expect_err("no handshake after close_notify");
    assert!(
        matches!(err, Error::AlertReceived(AlertDescription::CloseNotify)),
        "{err:?}"
    );
    assert!(s.info().is_none());
    assert!(s.read_limit() == 0, "nothing more is read");
    assert_eq!(s.read_limit(), 0);
    assert_eq!(
        alerts.sent(),
        [Alert::close_notify()],
        "answered in kind, once"
    );
}

#[test]
fn the_deframer_is_offered_one_record_and_a_header_at_most() {
    let mut s = server(server_config(pki()));
    let limit = s.read_limit();
    assert_eq!(limit, 5 + (1 << 14) + 2048 + 5);
    // Half a record held: the limit shrinks by what is held.
    s.read_tls(&[22, 3, 3, 0x40, 0]);
    s.process_new_packets().expect("incomplete, no error");
    assert_eq!(s.read_limit(), limit - 5);
}

/// A ClientHello record from our client whose server_name list holds `host_names`.
fn hello_with_sni(host_names: &[&[u8]]) -> Vec<u8> {
    use tls::msgs::handshake::{Extension, HandshakeMessage, HandshakePayload};
    let raw = client_hello_message();
    let mut message = HandshakeMessage::decode(raw).expect("our hello decodes");
    let HandshakePayload::ClientHello(hello) = &mut message.payload else {
        panic!("not a ClientHello");
    };
    hello
        .extensions
        .retain(|e| !matches!(e, Extension::ServerName(_)));
    let mut list = Vec::new();
    for name in host_names {
        list.push(0u8);
        list.extend_from_slice(&(name.len() as u16).to_be_bytes());
        list.extend_from_slice(name);
    }
    let mut body = (list.len() as u16).to_be_bytes().to_vec();
    body.extend_from_slice(&list);
    hello
        .extensions
        .push(Extension::Unknown { typ: 0, data: body });
    let raw = HandshakeMessage::new(message.payload).raw;
    let mut record = vec![22, 3, 3];
    record.extend_from_slice(&(raw.len() as u16).to_be_bytes());
    record.extend_from_slice(&raw);
    record
}

#[test]
fn bad_server_names_are_illegal_parameter() {
    let bad: &[&[&[u8]]] = &[
        &[b"local\0host"],
        &[b"local\x07host"],
        &[b"\x1b[31mred\x1b[0m.example"],
        &["bücher.example".as_bytes()],
        &[b"localhost."],
        &[b"-bad.example"],
        &[b"a..b"],
        &[b"localhost", b"www.localhost"],
    ];
    for names in bad {
        let err = server_error_for(&hello_with_sni(names));
        assert_eq!(
            err.alert(),
            Some(AlertDescription::IllegalParameter),
            "{names:?}: {err}"
        );
    }
}

#[test]
fn a_server_name_the_certificate_does_not_cover_gets_a_warning_and_the_handshake_goes_on() {
    for (name, warned) in [
        (&b"www.localhost"[..], true),
        (b"localhost", false),
        (b"LocalHost", false),
        // wrk (and some Java clients) send the URL's address, which RFC 6066 does not allow;
        // OpenSSL, nginx and rustls carry on as if no name had been sent, and so do we.
        (b"127.0.0.1", false),
        (b"::1", false),
    ] {
        let alerts = Arc::new(Alerts::default());
        let mut sc = server_config(pki());
        sc.common.observer = Some(alerts.clone());
        let mut s = server(sc);
        s.read_tls(&hello_with_sni(&[name]));
        s.process_new_packets().expect("the handshake goes on");
        let expected = if warned {
            vec![warning(AlertDescription::UnrecognizedName)]
        } else {
            vec![]
        };
        assert_eq!(alerts.sent(), expected, "{}", String::from_utf8_lossy(name));
        // The warning, in clear, comes before the ServerHello flight.
        let out = s.outgoing();
        assert_eq!(out[0] == 21, warned);
    }
}

#[test]
fn reading_stops_while_the_network_has_not_taken_what_we_queued() {
    let (mut c, mut s, _, _) = observed_pair();
    assert!(s.read_limit() > 0);
    // 600 KiB the peer has not taken (it sends and never reads): stop reading its records.
    s.write_plaintext(&vec![7u8; 600 * 1024]).expect("write");
    assert!(s.read_limit() == 0, "no reading above the output cap");
    assert_eq!(s.read_limit(), 0);
    // Records that do arrive wait unprocessed until the output drains.
    c.write_plaintext(b"request").expect("write");
    let wire = c.outgoing().to_vec();
    c.consume_outgoing(wire.len());
    s.read_tls(&wire);
    s.process_new_packets().expect("no error");
    let mut buf = [0u8; 64];
    assert!(s.read_plaintext(&mut buf).is_err(), "held back");
    let queued = s.outgoing().len();
    s.consume_outgoing(queued);
    assert!(s.read_limit() > 0);
    assert_eq!(read_all(&mut s), b"request");
}
