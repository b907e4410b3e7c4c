//! Client certificates (RFC 5246 §7.4.4, §7.4.6, §7.4.8), our client ↔ our server in memory:
//! each refusal with its alert, and the identity the application sees.

mod common;

use common::{arc, pki};
use std::sync::{Arc, Mutex};
use tls::alert::AlertDescription;
use tls::config::ClientIdentity;
use tls::crypto::rsa::HashAlg;
use tls::msgs::handshake::HandshakePayload;
use tls::pki::x509::{Certificate, CertificateBuilder, ID_KP_SERVER_AUTH};
use tls::trace::{Direction, Event, Observer};
use tls::{ClientConfig, Connection, Error, ServerConfig};

fn transfer(from: &mut Connection, to: &mut Connection) -> Result<(), Error> {
    let bytes = from.outgoing().to_vec();
    from.consume_outgoing(bytes.len());
    to.read_tls(&bytes);
    to.process_new_packets()
}

/// Runs the handshake; the error is the server's (or the client's, if it failed first).
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

fn client_with(cert: Option<&Certificate>) -> ClientConfig {
    let mut config = pki().client_config();
    config.client_identity = cert.map(|cert| {
        Arc::new(ClientIdentity {
            chain: vec![cert.der().to_vec()],
            key: pki().leaf_private_key(),
        })
    });
    config
}

fn pair(client: ClientConfig, server: ServerConfig) -> (Connection, Connection) {
    (
        Connection::client(arc(client), "localhost").expect("client"),
        Connection::server(arc(server)),
    )
}

fn server_alert(result: Result<(), Error>) -> AlertDescription {
    result
        .expect_err("the server must refuse")
        .alert()
        .expect("an alert")
}

#[test]
fn required_certificate_is_verified_and_the_application_sees_it() {
    let (mut c, mut s) = pair(
        client_with(Some(&pki().client)),
        pki().server_config_with_client_auth(true),
    );
    handshake(&mut c, &mut s).expect("handshake");
    let seen = &s.info().expect("server info").client_chain;
    assert_eq!(seen, &vec![pki().client.der().to_vec()]);
    assert_eq!(
        c.info().expect("client info").client_chain,
        vec![pki().client.der().to_vec()]
    );
}

#[test]
fn no_certificate_required_is_handshake_failure_optional_is_anonymous() {
    let (mut c, mut s) = pair(
        client_with(None),
        pki().server_config_with_client_auth(true),
    );
    assert_eq!(
        server_alert(handshake(&mut c, &mut s)),
        AlertDescription::HandshakeFailure
    );

    let (mut c, mut s) = pair(
        client_with(None),
        pki().server_config_with_client_auth(false),
    );
    handshake(&mut c, &mut s).expect("anonymous handshake");
    assert!(s.info().expect("server info").client_chain.is_empty());
}

#[test]
fn server_without_client_auth_never_asks() {
    let (mut c, mut s) = pair(client_with(Some(&pki().client)), pki().server_config());
    handshake(&mut c, &mut s).expect("handshake");
    assert!(s.info().expect("server info").client_chain.is_empty());
    assert!(c.info().expect("client info").client_chain.is_empty());
}

#[test]
fn certificate_from_another_ca_is_unknown_ca() {
    // Same key, but issued under a name the server does not trust.
    let other_root = CertificateBuilder::root_ca("Other Root CA")
        .self_signed(&pki().root_key)
        .expect("other root");
    let cert = CertificateBuilder::client("Stranger", None)
        .expect("name")
        .sign(
            pki().leaf_private_key().public_key(),
            &other_root,
            &pki().root_key,
        )
        .expect("cert");
    let (mut c, mut s) = pair(
        client_with(Some(&cert)),
        pki().server_config_with_client_auth(true),
    );
    assert_eq!(
        server_alert(handshake(&mut c, &mut s)),
        AlertDescription::UnknownCa
    );
}

#[test]
fn expired_certificate_is_certificate_expired() {
    let now = tls::text::unix_now();
    let cert = pki().client_cert_with(|b| b.validity(now - 100 * 86400, now - 86400));
    let (mut c, mut s) = pair(
        client_with(Some(&cert)),
        pki().server_config_with_client_auth(false),
    );
    assert_eq!(
        server_alert(handshake(&mut c, &mut s)),
        AlertDescription::CertificateExpired
    );
}

#[test]
fn server_only_certificate_is_unsupported_certificate() {
    // EKU serverAuth only: not for authenticating a client.
    let cert = pki().client_cert_with(|b| b.extended_key_usage(&[ID_KP_SERVER_AUTH]));
    let (mut c, mut s) = pair(
        client_with(Some(&cert)),
        pki().server_config_with_client_auth(true),
    );
    assert_eq!(
        server_alert(handshake(&mut c, &mut s)),
        AlertDescription::UnsupportedCertificate
    );
    // The fixture's server certificate too (EKU serverAuth).
    let (mut c, mut s) = pair(
        client_with(Some(&pki().leaf)),
        pki().server_config_with_client_auth(true),
    );
    assert_eq!(
        server_alert(handshake(&mut c, &mut s)),
        AlertDescription::UnsupportedCertificate
    );
}

#[test]
fn signature_with_another_key_is_decrypt_error() {
    // The certificate is good; the key that signs CertificateVerify is not its key.
    let mut config = pki().client_config();
    config.client_identity = Some(Arc::new(ClientIdentity {
        chain: vec![pki().client.der().to_vec()],
        key: tls::pki::keys::private_key_from_pem(&tls::pki::keys::private_key_to_pem(
            &pki().root_key,
        ))
        .expect("key"),
    }));
    let (mut c, mut s) = pair(config, pki().server_config_with_client_auth(true));
    assert_eq!(
        server_alert(handshake(&mut c, &mut s)),
        AlertDescription::DecryptError
    );
}

#[test]
fn identity_with_mismatched_key_is_refused_at_setup() {
    let err = ClientIdentity::new(
        vec![pki().client.der().to_vec()],
        tls::pki::keys::private_key_from_pem(&tls::pki::keys::private_key_to_pem(&pki().root_key))
            .expect("key"),
    )
    .err()
    .expect("mismatch refused");
    assert!(err.to_string().contains("does not match"), "{err}");
    assert!(
        ClientIdentity::new(vec![pki().client.der().to_vec()], pki().leaf_private_key()).is_ok()
    );
}

/// Records the messages and the CertificateVerify values a side saw.
#[derive(Default)]
struct Seen {
    sent: Mutex<Vec<Vec<u8>>>,
    received: Mutex<Vec<Vec<u8>>>,
    signature: Mutex<Vec<(Vec<u8>, Option<bool>)>>,
}

impl Observer for Seen {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::Handshake { direction, message } => {
                let list = match direction {
                    Direction::Sent => &self.sent,
                    Direction::Received => &self.received,
                };
                list.lock().expect("lock").push(message.raw.clone());
            }
            Event::ClientSignature {
                transcript_hash,
                verified,
                ..
            } => self
                .signature
                .lock()
                .expect("lock")
                .push((transcript_hash.to_vec(), *verified)),
            _ => {}
        }
    }
}

#[test]
fn certificate_verify_signs_the_transcript_up_to_client_key_exchange() {
    let (client_seen, server_seen) = (Arc::new(Seen::default()), Arc::new(Seen::default()));
    let mut c = Connection::client_observed(
        arc(client_with(Some(&pki().client))),
        "localhost",
        Some(client_seen.clone()),
    )
    .expect("client");
    let mut s = Connection::server_observed(
        arc(pki().server_config_with_client_auth(true)),
        Some(server_seen.clone()),
    );
    handshake(&mut c, &mut s).expect("handshake");

    // Everything the server received before CertificateVerify, and everything it sent.
    let received = server_seen.received.lock().expect("lock").clone();
    let sent = server_seen.sent.lock().expect("lock").clone();
    let types = received.iter().map(|m| m[0]).collect::<Vec<_>>();
    // ClientHello, Certificate, ClientKeyExchange, CertificateVerify, Finished.
    assert_eq!(types, [1, 11, 16, 15, 20]);
    let sent_types = sent.iter().map(|m| m[0]).collect::<Vec<_>>();
    // ECDHE (the default first suite): ServerKeyExchange goes before CertificateRequest.
    assert_eq!(&sent_types[..5], [2, 11, 12, 13, 14]);
    let transcript = [
        &received[0][..],
        &sent[0],
        &sent[1],
        &sent[2],
        &sent[3],
        &sent[4],
        &received[1],
        &received[2],
    ]
    .concat();
    let expected = HashAlg::Sha256.digest(&transcript);
    let client_sig = client_seen.signature.lock().expect("lock").clone();
    let server_sig = server_seen.signature.lock().expect("lock").clone();
    assert_eq!(client_sig, vec![(expected.clone(), None)]);
    assert_eq!(server_sig, vec![(expected, Some(true))]);

    // And the signature in the message opens to it under the client certificate's key.
    let verify = tls::msgs::handshake::HandshakeMessage::decode(received[3].clone()).expect("cv");
    let HandshakePayload::CertificateVerify(cv) = verify.payload else {
        panic!("not CertificateVerify")
    };
    assert_eq!(cv.algorithm, 0x0401);
    pki()
        .client
        .public_key()
        .expect("key")
        .verify_pkcs1v15(HashAlg::Sha256, &transcript, &cv.signature)
        .expect("signature over the transcript");
}

#[test]
fn replayed_certificate_verify_is_decrypt_error() {
    // Record a good CertificateVerify from one handshake, put it in the next: the randoms
    // differ, so the transcript does, and the old signature does not verify.
    let seen = Arc::new(Seen::default());
    let mut c =
        Connection::client(arc(client_with(Some(&pki().client))), "localhost").expect("client");
    let mut s = Connection::server_observed(
        arc(pki().server_config_with_client_auth(true)),
        Some(seen.clone()),
    );
    handshake(&mut c, &mut s).expect("first handshake");
    let old_cv = seen.received.lock().expect("lock")[3].clone();
    assert_eq!(old_cv[0], 15);

    let (mut c, mut s) = pair(
        client_with(Some(&pki().client)),
        pki().server_config_with_client_auth(true),
    );
    transfer(&mut c, &mut s).expect("hello");
    transfer(&mut s, &mut c).expect("server flight");
    // The client's flight: Certificate, ClientKeyExchange, CertificateVerify in one record
    // (plaintext before ChangeCipherSpec), then CCS and Finished. Swap in the old signature.
    let flight = c.outgoing().to_vec();
    c.consume_outgoing(flight.len());
    let at = flight
        .windows(4)
        .position(|w| w[0] == 15 && w[1..4] == old_cv[1..4])
        .expect("CertificateVerify in the flight");
    let mut forged = flight.clone();
    forged[at..at + old_cv.len()].copy_from_slice(&old_cv);
    assert_ne!(forged, flight, "the signature differs between connections");
    s.read_tls(&forged);
    let err = s.process_new_packets().expect_err("replay refused");
    assert_eq!(err.alert(), Some(AlertDescription::DecryptError));
    // Refused at the signature itself, not only later at Finished (whose transcript would
    // differ too).
    assert!(err.to_string().contains("CertificateVerify"), "{err}");
}

#[test]
fn missing_certificate_verify_is_unexpected_message() {
    // Cut the CertificateVerify out of the client's flight: the server then sees CCS.
    let (mut c, mut s) = pair(
        client_with(Some(&pki().client)),
        pki().server_config_with_client_auth(true),
    );
    transfer(&mut c, &mut s).expect("hello");
    transfer(&mut s, &mut c).expect("server flight");
    let flight = c.outgoing().to_vec();
    c.consume_outgoing(flight.len());
    // First record: the handshake messages; rewrite it without the last one (CertificateVerify).
    assert_eq!(flight[0], 22);
    let len = usize::from(u16::from_be_bytes([flight[3], flight[4]]));
    let body = &flight[5..5 + len];
    let mut messages = Vec::new();
    let mut at = 0;
    while at < body.len() {
        let n = 4
            + (usize::from(body[at + 1]) << 16
                | usize::from(body[at + 2]) << 8
                | usize::from(body[at + 3]));
        messages.push(&body[at..at + n]);
        at += n;
    }
    assert_eq!(messages.last().map(|m| m[0]), Some(15));
    let kept = messages[..messages.len() - 1].concat();
    let mut rewritten = vec![22, flight[1], flight[2]];
    rewritten.extend_from_slice(&(kept.len() as u16).to_be_bytes());
    rewritten.extend_from_slice(&kept);
    rewritten.extend_from_slice(&flight[5 + len..]);
    s.read_tls(&rewritten);
    assert_eq!(
        s.process_new_packets()
            .expect_err("CCS without CertificateVerify")
            .alert(),
        Some(AlertDescription::UnexpectedMessage)
    );
}

/// The server's narration (`server -v`), rendered as text.
#[derive(Default)]
struct Narration(Mutex<(Option<tls::explain::Explainer>, String)>);

impl Observer for Narration {
    fn event(&self, event: &Event<'_>) {
        let mut guard = self.0.lock().expect("lock");
        let (explainer, text) = &mut *guard;
        let explainer = explainer.get_or_insert_with(tls::explain::Explainer::server);
        for step in explainer.event(event) {
            text.push_str(&step.render(false));
        }
    }
}

#[test]
fn server_narration_shows_the_request_the_chain_and_what_was_signed() {
    let (seen, narration) = (Arc::new(Seen::default()), Arc::new(Narration::default()));
    let mut c =
        Connection::client(arc(client_with(Some(&pki().client))), "localhost").expect("client");
    let both: Arc<dyn Observer> = Arc::new(Both(seen.clone(), narration.clone()));
    let mut s =
        Connection::server_observed(arc(pki().server_config_with_client_auth(true)), Some(both));
    handshake(&mut c, &mut s).expect("handshake");
    let text = narration.0.lock().expect("lock").1.clone();
    assert!(
        text.contains("CertificateRequest (server → client"),
        "{text}"
    );
    assert!(text.contains("acceptable CA: CN=Test Root CA"), "{text}");
    assert!(text.contains("The client's identity"), "{text}");
    assert!(
        text.contains("Checking the client's CertificateVerify"),
        "{text}"
    );
    // The hash shown is the one the check used (from the event, not recomputed).
    let (hash, verified) = seen.signature.lock().expect("lock")[0].clone();
    assert_eq!(verified, Some(true));
    assert!(
        text.contains(&format!(
            "SHA-256(every handshake message, ClientHello .. ClientKeyExchange) = {}",
            tls::text::hex(&hash)
        )),
        "{text}"
    );
    assert!(
        text.contains("the client holds the certificate's key"),
        "{text}"
    );

    // A forged signature (another key): the narration says why it fails.
    let narration = Arc::new(Narration::default());
    let mut config = pki().client_config();
    config.client_identity = Some(Arc::new(ClientIdentity {
        chain: vec![pki().client.der().to_vec()],
        key: tls::pki::keys::private_key_from_pem(&tls::pki::keys::private_key_to_pem(
            &pki().root_key,
        ))
        .expect("key"),
    }));
    let mut c = Connection::client(arc(config), "localhost").expect("client");
    let mut s = Connection::server_observed(
        arc(pki().server_config_with_client_auth(true)),
        Some(narration.clone()),
    );
    assert!(handshake(&mut c, &mut s).is_err());
    let text = narration.0.lock().expect("lock").1.clone();
    assert!(text.contains("does not open to this hash"), "{text}");
}

/// Two observers of one connection.
struct Both(Arc<Seen>, Arc<Narration>);

impl Observer for Both {
    fn event(&self, event: &Event<'_>) {
        self.0.event(event);
        self.1.event(event);
    }
}

/// Client authentication over each key exchange and PRF hash: the CertificateRequest comes
/// after ServerKeyExchange (ECDHE), and CertificateVerify signs the raw transcript whatever
/// hash the suite's PRF runs (SHA-384 for the AES-256-GCM suites).
#[test]
fn client_certificate_over_ecdhe_and_sha384_suites() {
    use tls::suites::{
        TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TLS_RSA_WITH_AES_256_GCM_SHA384,
    };
    for suite in [
        &TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
        &TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        &TLS_RSA_WITH_AES_256_GCM_SHA384,
    ] {
        let mut client = client_with(Some(&pki().client));
        client.common.suites = vec![suite];
        let (mut c, mut s) = pair(client, pki().server_config_with_client_auth(true));
        handshake(&mut c, &mut s).unwrap_or_else(|e| panic!("{}: {e}", suite.name));
        let info = s.info().expect("server info");
        assert_eq!(info.suite.id, suite.id);
        assert_eq!(
            info.client_chain,
            vec![pki().client.der().to_vec()],
            "{}",
            suite.name
        );
        // Application data flows: the Finished on both sides covered the same transcript.
        c.write_plaintext(b"ping").expect("write");
        transfer(&mut c, &mut s).expect("transfer");
        let mut buf = [0u8; 4];
        assert_eq!(s.read_plaintext(&mut buf).expect("read"), 4);
        assert_eq!(&buf, b"ping");
    }
}
