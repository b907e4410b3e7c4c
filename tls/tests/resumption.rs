//! Session resumption in memory (RFC 5246 §7.3, RFC 5077): our client and our server, both
//! sides built here, each rule of when a session may be resumed checked on its own.

mod common;

use common::{arc, client_config, pki, server_config};
use std::sync::Arc;
use tls::alert::AlertDescription;
use tls::config::Resumption;
use tls::session::{ClientSession, ResumedBy};
use tls::session_cache::SessionCache;
use tls::suites::{ALL_SUITES, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256};
use tls::ticket::{TicketKey, TicketKeys, DEFAULT_ROTATION};
use tls::{ClientConfig, Connection, Error, ServerConfig};

fn transfer(from: &mut Connection, to: &mut Connection) -> Result<(), Error> {
    let bytes = from.outgoing().to_vec();
    from.consume_outgoing(bytes.len());
    to.read_tls(&bytes);
    to.process_new_packets()
}

/// Runs a handshake to its end (or first error) and checks application data flows both ways.
fn connect(
    cc: &Arc<ClientConfig>,
    sc: &Arc<ServerConfig>,
    name: &str,
    session: Option<ClientSession>,
) -> Result<(Connection, Connection), Error> {
    let mut c = Connection::client_resuming(cc.clone(), name, None, session)?;
    let mut s = Connection::server(sc.clone());
    for _ in 0..10 {
        transfer(&mut c, &mut s)?;
        transfer(&mut s, &mut c)?;
        if !c.is_handshaking() && !s.is_handshaking() {
            c.write_plaintext(b"ping")?;
            s.write_plaintext(b"pong")?;
            transfer(&mut c, &mut s)?;
            transfer(&mut s, &mut c)?;
            let mut buf = [0u8; 4];
            assert_eq!(s.read_plaintext(&mut buf).expect("server reads"), 4);
            assert_eq!(&buf, b"ping");
            assert_eq!(c.read_plaintext(&mut buf).expect("client reads"), 4);
            assert_eq!(&buf, b"pong");
            return Ok((c, s));
        }
    }
    panic!("handshake did not finish in 10 round trips");
}

fn resumed(c: &Connection, s: &Connection) -> Option<ResumedBy> {
    let by = s.info().expect("server info").resumed;
    assert_eq!(
        c.info().expect("client info").resumed,
        by,
        "both sides agree"
    );
    by
}

/// A server remembering by id only, or by ticket only.
fn server_with(cache: bool, tickets: Option<Arc<TicketKeys>>) -> Arc<ServerConfig> {
    let mut sc = server_config(pki());
    sc.resumption = Resumption {
        cache: cache.then(|| Arc::new(SessionCache::new(100, 300))),
        tickets,
        lifetime_secs: 300,
    };
    arc(sc)
}

fn client_ids_only() -> Arc<ClientConfig> {
    let mut cc = client_config(pki());
    cc.session_tickets = false;
    arc(cc)
}

fn first_session(cc: &Arc<ClientConfig>, sc: &Arc<ServerConfig>) -> ClientSession {
    let (c, s) = connect(cc, sc, "localhost", None).expect("full handshake");
    assert_eq!(resumed(&c, &s), None);
    c.session_to_resume().expect("a session to resume").clone()
}

#[test]
fn resumes_by_session_id_with_fresh_randoms_and_keys() {
    let cc = client_ids_only();
    let sc = server_with(true, None);
    let session = first_session(&cc, &sc);
    assert_eq!(session.session_id.len(), 32);
    assert!(session.ticket.is_none());
    let (c, s) = connect(&cc, &sc, "localhost", Some(session.clone())).expect("resumed");
    assert_eq!(resumed(&c, &s), Some(ResumedBy::SessionId));
    let info = s.info().expect("info");
    assert_eq!(info.session_id, session.session_id, "the same id, echoed");
    assert_eq!(info.suite, session.state.suite);
    // And again: a session resumes more than once.
    let (c, s) = connect(&cc, &sc, "localhost", Some(session)).expect("resumed again");
    assert_eq!(resumed(&c, &s), Some(ResumedBy::SessionId));
}

#[test]
fn resumes_by_ticket_on_another_server_sharing_the_key() {
    let cc = arc(client_config(pki()));
    let key = TicketKey::random();
    let a = server_with(false, Some(Arc::new(TicketKeys::fixed(key.clone()))));
    let b = server_with(false, Some(Arc::new(TicketKeys::fixed(key))));
    let session = first_session(&cc, &a);
    assert!(session.ticket.is_some(), "the server sent a ticket");
    let (c, s) = connect(&cc, &b, "localhost", Some(session.clone())).expect("resumed");
    assert_eq!(resumed(&c, &s), Some(ResumedBy::Ticket));
    // A server with another key: a full handshake, silently, and a new ticket.
    let other = server_with(
        false,
        Some(Arc::new(TicketKeys::rotating(DEFAULT_ROTATION))),
    );
    let (c, s) = connect(&cc, &other, "localhost", Some(session.clone())).expect("full");
    assert_eq!(resumed(&c, &s), None);
    let fresh = c.session_to_resume().expect("new session");
    assert_ne!(fresh.ticket, session.ticket);
}

#[test]
fn tampered_and_expired_tickets_give_a_working_full_handshake() {
    let cc = arc(client_config(pki()));
    let key = TicketKey::random();
    let keys = Arc::new(TicketKeys::fixed(key));
    let sc = server_with(false, Some(keys.clone()));
    let session = first_session(&cc, &sc);
    let ticket = session.ticket.clone().expect("ticket");

    // Every region of the ticket: name, iv, length, state, mac.
    for i in [0, 20, 33, 40, ticket.len() - 1] {
        let mut tampered = session.clone();
        let t = tampered.ticket.as_mut().expect("ticket");
        t[i] ^= 0x40;
        let (c, s) = connect(&cc, &sc, "localhost", Some(tampered)).expect("full handshake");
        assert_eq!(resumed(&c, &s), None, "tampered at byte {i}");
    }

    // A ticket sealed under our key but for a session made long ago.
    let mut old = session.clone();
    old.state.created -= 3600;
    let mut state = Vec::new();
    old.state.encode(&mut state);
    old.ticket = Some(keys.seal(&state).expect("seal"));
    let (c, s) = connect(&cc, &sc, "localhost", Some(old)).expect("full handshake");
    assert_eq!(resumed(&c, &s), None, "expired ticket");

    // The untouched ticket still resumes (the checks above are not vacuous).
    let (c, s) = connect(&cc, &sc, "localhost", Some(session)).expect("resumed");
    assert_eq!(resumed(&c, &s), Some(ResumedBy::Ticket));
}

#[test]
fn ticket_under_the_previous_key_resumes_and_is_renewed() {
    let cc = arc(client_config(pki()));
    let keys = Arc::new(TicketKeys::rotating(DEFAULT_ROTATION));
    let sc = server_with(false, Some(keys.clone()));
    let session = first_session(&cc, &sc);
    keys.rotate();
    let (c, s) = connect(&cc, &sc, "localhost", Some(session.clone())).expect("resumed");
    assert_eq!(resumed(&c, &s), Some(ResumedBy::Ticket));
    let renewed = c.session_to_resume().expect("session").clone();
    assert_ne!(
        renewed.ticket, session.ticket,
        "a new ticket under the new key"
    );
    assert_eq!(renewed.state.master_secret, session.state.master_secret);
    keys.rotate();
    let (c, s) = connect(&cc, &sc, "localhost", Some(renewed)).expect("resumed");
    assert_eq!(resumed(&c, &s), Some(ResumedBy::Ticket));
}

#[test]
fn ems_session_offered_without_ems_is_handshake_failure() {
    let cc = client_ids_only();
    let sc = server_with(true, None);
    let session = first_session(&cc, &sc);
    assert!(session.state.extended_master_secret);
    let mut no_ems = client_config(pki());
    no_ems.session_tickets = false;
    no_ems.common.extended_master_secret = false;
    let err = connect(&arc(no_ems), &sc, "localhost", Some(session))
        .err()
        .expect("RFC 7627 §5.3: abort");
    assert_eq!(
        err.alert(),
        Some(AlertDescription::HandshakeFailure),
        "{err}"
    );
}

#[test]
fn session_without_ems_is_not_resumed_when_ems_is_now_offered() {
    let mut no_ems = client_config(pki());
    no_ems.session_tickets = false;
    no_ems.common.extended_master_secret = false;
    let sc = server_with(true, None);
    let session = first_session(&arc(no_ems), &sc);
    assert!(!session.state.extended_master_secret);
    let (c, s) = connect(&client_ids_only(), &sc, "localhost", Some(session)).expect("full");
    assert_eq!(resumed(&c, &s), None);
    assert!(s.info().expect("info").extended_master_secret);
}

/// RFC 5246 §7.4.1.2: the client "MUST include at least the cipher_suite from that session";
/// one that does not is refused with illegal_parameter (tlsfuzzer's resumption-with-wrong-ciphers).
#[test]
fn session_offered_without_its_suite_is_illegal_parameter() {
    let cc = client_ids_only();
    let sc = server_with(true, None);
    let mut session = first_session(&cc, &sc);
    let other = ALL_SUITES
        .iter()
        .copied()
        .find(|s| *s != session.state.suite)
        .expect("two suites");
    let mut only_other = client_config(pki());
    only_other.session_tickets = false;
    only_other.common.suites = vec![other];
    // The client believes the session is for the suite it offers; the server knows better.
    session.state.suite = other;
    // The server's own verdict, on the ClientHello alone.
    let mut c = Connection::client_resuming(arc(only_other), "localhost", None, Some(session))
        .expect("client");
    let mut s = Connection::server(sc);
    let err = transfer(&mut c, &mut s).expect_err("the server refuses");
    assert_eq!(
        err.alert(),
        Some(AlertDescription::IllegalParameter),
        "{err}"
    );
}

#[test]
fn session_is_not_resumed_under_another_server_name() {
    let cc = client_ids_only();
    let sc = server_with(true, None);
    let mut session = first_session(&cc, &sc);
    // The client would not offer it to another host; a client that does gets a full handshake
    // (RFC 6066 §3). "127.0.0.1" sends no SNI at all.
    session.state.server_name = Some("127.0.0.1".into());
    let (c, s) = connect(&cc, &sc, "127.0.0.1", Some(session)).expect("full");
    assert_eq!(resumed(&c, &s), None);
}

#[test]
fn client_does_not_offer_a_session_to_another_host() {
    let cc = client_ids_only();
    let sc = server_with(true, None);
    let session = first_session(&cc, &sc);
    let (c, s) = connect(&cc, &sc, "127.0.0.1", Some(session)).expect("full");
    assert_eq!(resumed(&c, &s), None);
}

#[test]
fn encrypt_then_mac_must_stay_as_it_was() {
    // ETM belongs to CBC suites (an AEAD suite has no MAC to move): make the session with one.
    let cbc = || {
        let mut cc = client_config(pki());
        cc.session_tickets = false;
        cc.common.suites = vec![&TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256];
        cc
    };
    let cc = arc(cbc());
    let sc = server_with(true, None);
    let session = first_session(&cc, &sc);
    assert!(session.state.encrypt_then_mac);
    let mut no_etm = cbc();
    no_etm.common.encrypt_then_mac = false;
    let (c, s) = connect(&arc(no_etm), &sc, "localhost", Some(session)).expect("full");
    assert_eq!(resumed(&c, &s), None);
}

/// An AEAD session stores no ETM (it has none) and resumes whatever the client says of ETM.
#[test]
fn an_aead_session_resumes_whether_or_not_etm_is_offered() {
    let cc = client_ids_only();
    let sc = server_with(true, None);
    let session = first_session(&cc, &sc);
    assert!(session.state.suite.is_aead());
    assert!(!session.state.encrypt_then_mac);
    let (c, s) = connect(&cc, &sc, "localhost", Some(session)).expect("resumed");
    assert_eq!(resumed(&c, &s), Some(ResumedBy::SessionId));
}

#[test]
fn resumption_off_means_full_handshakes() {
    let cc = arc(client_config(pki()));
    let mut sc = server_config(pki());
    sc.resumption = Resumption::off();
    let sc = arc(sc);
    let (c, _) = connect(&cc, &sc, "localhost", None).expect("full");
    let session = c.session_to_resume().cloned();
    let (c, s) = connect(&cc, &sc, "localhost", session).expect("full");
    assert_eq!(resumed(&c, &s), None);
}

#[test]
fn default_server_resumes_both_ways() {
    let sc = arc(server_config(pki()));
    let session = first_session(&client_ids_only(), &sc);
    let (c, s) = connect(&client_ids_only(), &sc, "localhost", Some(session)).expect("id");
    assert_eq!(resumed(&c, &s), Some(ResumedBy::SessionId));
    let cc = arc(client_config(pki()));
    let session = first_session(&cc, &sc);
    let (c, s) = connect(&cc, &sc, "localhost", Some(session)).expect("ticket");
    assert_eq!(resumed(&c, &s), Some(ResumedBy::Ticket));
}

/// The client checks the server's resumption too: a ServerHello resuming "our" session with
/// another suite or another EMS setting than the session had is refused (RFC 7627 §5.3).
#[test]
fn client_refuses_a_resumption_that_changes_the_session() {
    let cc = client_ids_only();
    let sc = server_with(true, None);
    let session = first_session(&cc, &sc);

    let mut other_suite = session.clone();
    other_suite.state.suite = ALL_SUITES
        .iter()
        .copied()
        .find(|s| *s != session.state.suite)
        .expect("two suites");
    let Err(err) = connect(&cc, &sc, "localhost", Some(other_suite)) else {
        panic!("refused");
    };
    assert_eq!(
        err.alert(),
        Some(AlertDescription::IllegalParameter),
        "{err}"
    );

    let mut no_ems = session.clone();
    no_ems.state.extended_master_secret = false;
    let Err(err) = connect(&cc, &sc, "localhost", Some(no_ems)) else {
        panic!("refused");
    };
    assert_eq!(
        err.alert(),
        Some(AlertDescription::HandshakeFailure),
        "{err}"
    );
}

/// A NewSessionTicket that does not parse ends the handshake with decode_error, never a panic.
#[test]
fn malformed_new_session_ticket_is_decode_error() {
    let cc = arc(client_config(pki()));
    let sc = server_with(
        false,
        Some(Arc::new(TicketKeys::rotating(DEFAULT_ROTATION))),
    );
    let mut c = Connection::client(cc, "localhost").expect("client");
    let mut s = Connection::server(sc);
    transfer(&mut c, &mut s).expect("hello");
    transfer(&mut s, &mut c).expect("server flight");
    transfer(&mut c, &mut s).expect("client finished");
    // The server's answer: NewSessionTicket, CCS, Finished. Cut the ticket's length short: the
    // message header (type 4, 3-byte length) is the first record's payload start.
    let mut bytes = s.outgoing().to_vec();
    s.consume_outgoing(bytes.len());
    assert_eq!(bytes[5], 4, "NewSessionTicket first");
    // lifetime (4) then the ticket's 2-byte length: claim one byte more than there is.
    let len_at = 5 + 4 + 4;
    let claimed = u16::from_be_bytes([bytes[len_at], bytes[len_at + 1]]) + 1;
    bytes[len_at..len_at + 2].copy_from_slice(&claimed.to_be_bytes());
    c.read_tls(&bytes);
    let err = c.process_new_packets().expect_err("refused");
    assert_eq!(err.alert(), Some(AlertDescription::DecodeError), "{err}");
}

/// A session made with a client certificate keeps its identity when resumed (no new
/// CertificateRequest), by id and by ticket; a server that requires a certificate does not
/// resume an anonymous session but asks again in a full handshake.
#[test]
fn client_certificate_survives_resumption() {
    use tls::config::ClientIdentity;
    let mut cc = client_config(pki());
    cc.client_identity = Some(Arc::new(ClientIdentity {
        chain: vec![pki().client.der().to_vec()],
        key: pki().leaf_private_key(),
    }));
    let with_cert = arc(cc);
    let mut ids_only = client_config(pki());
    ids_only.session_tickets = false;
    ids_only.client_identity = with_cert.client_identity.clone();
    let ids_only = arc(ids_only);
    let required = arc(pki().server_config_with_client_auth(true));
    for (cc, by) in [
        (&with_cert, ResumedBy::Ticket),
        (&ids_only, ResumedBy::SessionId),
    ] {
        let session = first_session(cc, &required);
        let (c, s) = connect(cc, &required, "localhost", Some(session)).expect("resumed");
        assert_eq!(resumed(&c, &s), Some(by));
        assert_eq!(
            s.info().expect("server info").client_chain,
            vec![pki().client.der().to_vec()],
            "{by:?}"
        );
    }

    // An anonymous session (optional client auth, no certificate) offered to a server that
    // requires one: a full handshake, which this client (it has none) cannot pass.
    let optional = arc(pki().server_config_with_client_auth(false));
    let anonymous = client_ids_only();
    let session = first_session(&anonymous, &optional);
    let mut strict = pki().server_config_with_client_auth(true);
    strict.resumption = optional.resumption.clone();
    let err = connect(&anonymous, &arc(strict), "localhost", Some(session.clone()))
        .err()
        .expect("not resumed: asked for a certificate, refused without one");
    assert_eq!(err.alert(), Some(AlertDescription::HandshakeFailure));
    // The same session still resumes on the optional server, anonymously.
    let (c, s) = connect(&anonymous, &optional, "localhost", Some(session)).expect("resumed");
    assert_eq!(resumed(&c, &s), Some(ResumedBy::SessionId));
    assert!(s.info().expect("server info").client_chain.is_empty());
}
