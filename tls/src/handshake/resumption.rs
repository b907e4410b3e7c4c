//! The abbreviated handshake (RFC 5246 §7.3) on both sides, and when a session may be resumed.
//!
//! ```text
//!  Client                                   Server
//!  ClientHello (old session id or ticket) -->
//!                                           ServerHello (the same id)
//!                                           [NewSessionTicket]
//!                                           ChangeCipherSpec
//!                                       <-- Finished
//!  ChangeCipherSpec
//!  Finished                               -->
//! ```
//!
//! No certificate, no key exchange, no RSA: the master secret of the earlier session, with the
//! two new randoms, gives a fresh key block. It is still safe because only the two parties of
//! that earlier (authenticated) handshake know the master secret, and each Finished proves
//! knowledge of it over this handshake's messages. The rules for resuming:
//! - the session's suite must be offered again (RFC 5246 §7.4.1.2: the client "MUST include"
//!   it): a client offering a session without it gets `illegal_parameter`, like OpenSSL;
//! - RFC 7627 §5.3: an extended-master-secret session resumes only when EMS is offered again
//!   (otherwise the server aborts); a session without EMS is not resumed when EMS is offered;
//! - RFC 6066 §3: not under another server name;
//! - RFC 7366 §3.1: encrypt-then-MAC stays as it was in the session;
//! - RFC 5077 §3.4: with a ticket the server does not look the session id up, and echoes the
//!   client's id when it accepts the ticket.

use crate::alert::AlertDescription;
use crate::common_state::{CommonState, Input};
use crate::config::{ClientConfig, Resumption, ServerConfig};
use crate::handshake::client::ClientState;
use crate::handshake::keys::{random32, KeysAgreed, Secrets, Side, Transcript};
use crate::handshake::server::ServerState;
use crate::msgs::codec::{with_u16_len, Reader};
use crate::msgs::handshake::{
    ClientHello, Extension, Finished, HandshakeMessage, HandshakePayload, HandshakeType,
    ServerHello, TLS12,
};
use crate::session::{ClientSession, ResumedBy, SessionInfo, StoredSession};
use crate::text::unix_now;
use crate::Error;

/// The session_ticket extension's code point (RFC 5077 §3.2).
pub(crate) const SESSION_TICKET: u16 = 35;

/// The session_ticket extension in a hello: `Some(ticket)`, empty for "I support tickets but
/// have none" (and always empty in a ServerHello).
pub(crate) fn ticket_in(extensions: &[Extension]) -> Option<&[u8]> {
    extensions.iter().find_map(|e| match e {
        Extension::Unknown {
            typ: SESSION_TICKET,
            data,
        } => Some(&data[..]),
        _ => None,
    })
}

fn ticket_extension(ticket: &[u8]) -> Extension {
    Extension::Unknown {
        typ: SESSION_TICKET,
        data: ticket.to_vec(),
    }
}

/// `NewSessionTicket` (RFC 5077 §3.3): lifetime hint in seconds, then the opaque ticket.
fn new_session_ticket(lifetime: u32, ticket: &[u8]) -> HandshakeMessage {
    let mut body = lifetime.to_be_bytes().to_vec();
    with_u16_len(&mut body, |out| out.extend_from_slice(ticket));
    HandshakeMessage::new(HandshakePayload::Unknown(
        HandshakeType::NewSessionTicket,
        body,
    ))
}

fn read_new_session_ticket(message: &HandshakeMessage) -> Result<(u32, Vec<u8>), Error> {
    let HandshakePayload::Unknown(HandshakeType::NewSessionTicket, body) = &message.payload else {
        return Err(Error::unexpected(format!(
            "expected NewSessionTicket, got {}",
            message.typ().name()
        )));
    };
    let mut r = Reader::new(body);
    let lifetime = u32::from_be_bytes(r.array::<4>()?);
    let ticket = r.vec_u16()?.to_vec();
    r.finish()?;
    Ok((lifetime, ticket))
}

// ---------------------------------------------------------------------------------------------
// Server

/// A session the server agreed to resume.
pub(crate) struct Resume {
    session: StoredSession,
    by: ResumedBy,
    /// Send a new ticket: always after a ticket resumption (as OpenSSL does, and tlsfuzzer
    /// expects), so a client keeps a ticket under the current key.
    renew_ticket: bool,
}

/// What the server negotiated from the new ClientHello, as the rules need it.
pub(crate) struct Offer<'a> {
    pub(crate) hello: &'a ClientHello,
    pub(crate) ems: bool,
    pub(crate) etm: bool,
    pub(crate) server_name: Option<&'a str>,
}

/// What the server must do after a full handshake to let it be resumed: store it in the cache,
/// send a ticket.
pub(crate) struct Remember {
    resumption: Resumption,
    issue_ticket: bool,
}

/// Whether the ClientHello offers a session we can and may resume. `Err` only for the one rule
/// that aborts (RFC 7627 §5.3); anything else we cannot resume is a full handshake.
pub(crate) fn server_find(
    config: &ServerConfig,
    offer: &Offer<'_>,
) -> Result<Option<Resume>, Error> {
    let resumption = &config.resumption;
    let hello = offer.hello;
    let ticket = ticket_in(&hello.extensions).filter(|t| !t.is_empty());
    let found = match ticket {
        // RFC 5077 §3.4: when a ticket is presented the session id is not looked up.
        Some(ticket) => resumption.tickets.as_ref().and_then(|keys| {
            let opened = keys.open(ticket)?;
            let mut r = Reader::new(&opened.plaintext);
            let session = StoredSession::decode(&mut r).ok()?;
            r.finish().ok()?;
            // Under the previous key or not, it is renewed (see `renew_ticket`).
            Some(Resume {
                session,
                by: ResumedBy::Ticket,
                renew_ticket: true,
            })
        }),
        None if hello.session_id.is_empty() => None,
        None => resumption.cache.as_ref().and_then(|cache| {
            Some(Resume {
                session: cache.get(&hello.session_id, unix_now())?,
                by: ResumedBy::SessionId,
                renew_ticket: false,
            })
        }),
    };
    let Some(found) = found else {
        return Ok(None);
    };
    let session = &found.session;
    if session.expired(unix_now(), resumption.lifetime_secs)
        || !config.common.suites.contains(&session.suite)
        || session.server_name.as_deref() != offer.server_name
        // RFC 7366 §3.1: the same ETM as before, for a CBC session (an AEAD one has no MAC).
        || (!session.suite.is_aead() && session.encrypt_then_mac != offer.etm)
        // A server that requires a client certificate does not resume an anonymous session:
        // the full handshake asks for one.
        || (config.client_auth.as_ref().is_some_and(|auth| auth.required)
            && session.peer_chain.is_empty())
    {
        return Ok(None);
    }
    if !hello.cipher_suites.contains(&session.suite.id) {
        return Err(Error::illegal(
            "the client offers a session without offering its cipher suite (RFC 5246 §7.4.1.2)",
        ));
    }
    match (session.extended_master_secret, offer.ems) {
        (true, false) => Err(Error::protocol(
            AlertDescription::HandshakeFailure,
            "resuming a session made with extended master secret without offering it \
             (RFC 7627 §5.3)",
        )),
        // An old-style session is not resumed by a client that now offers EMS: full handshake.
        (false, true) => Ok(None),
        _ => Ok(Some(found)),
    }
}

/// For a full handshake: what to do once it completes, and the ServerHello extension that
/// promises a ticket (RFC 5077 §3.2) when we will send one.
pub(crate) fn server_plan(
    config: &ServerConfig,
    hello: &ClientHello,
    core: &mut CommonState,
) -> Option<Extension> {
    let resumption = config.resumption.clone();
    let issue_ticket = resumption.tickets.is_some() && ticket_in(&hello.extensions).is_some();
    core.remember = Some(Remember {
        resumption,
        issue_ticket,
    });
    issue_ticket.then(|| ticket_extension(&[]))
}

/// After the client's Finished in a full handshake: store the session in the cache and queue
/// the NewSessionTicket (it goes before our ChangeCipherSpec, and into the transcript).
pub(crate) fn server_remember(core: &mut CommonState, keys: &mut KeysAgreed) {
    let Some(remember) = core.remember.take() else {
        return;
    };
    let session = StoredSession {
        master_secret: *keys.secrets.master_secret(),
        suite: keys.info.suite,
        extended_master_secret: keys.info.extended_master_secret,
        encrypt_then_mac: keys.info.encrypt_then_mac,
        alpn_protocol: keys.info.alpn_protocol.clone(),
        server_name: keys.info.server_name.clone(),
        // The client's chain (client authentication): a resumed session keeps its identity.
        peer_chain: keys.info.client_chain.clone(),
        created: unix_now(),
    };
    if remember.issue_ticket {
        send_ticket(core, &mut keys.transcript, &remember.resumption, &session);
    }
    if let Some(cache) = &remember.resumption.cache {
        cache.insert(&keys.info.session_id, session);
    }
}

fn send_ticket(
    core: &mut CommonState,
    transcript: &mut Transcript,
    resumption: &Resumption,
    session: &StoredSession,
) {
    let mut state = Vec::new();
    session.encode(&mut state);
    // A state too large for a ticket (a huge client chain) gets an empty one (RFC 5077 §3.3).
    let ticket = resumption
        .tickets
        .as_ref()
        .and_then(|keys| keys.seal(&state))
        .unwrap_or_default();
    let lifetime = u32::try_from(resumption.lifetime_secs).unwrap_or(u32::MAX);
    let message = new_session_ticket(lifetime, &ticket);
    transcript.add(&message.raw);
    core.queue_handshake(&message);
}

/// The server's abbreviated flight: ServerHello echoing the client's id, maybe a new ticket,
/// ChangeCipherSpec and Finished — the server finishes first.
pub(crate) fn server_resume(
    config: &ServerConfig,
    core: &mut CommonState,
    client_hello: &HandshakeMessage,
    offer: &Offer<'_>,
    resume: Resume,
    alpn: Option<Vec<u8>>,
    secure_renegotiation: bool,
) -> Result<ServerState, Error> {
    let Resume {
        session,
        by,
        renew_ticket,
    } = resume;
    let hello = offer.hello;
    let mut extensions = Vec::new();
    if secure_renegotiation {
        extensions.push(Extension::RenegotiationInfo(Vec::new()));
    }
    if session.extended_master_secret {
        extensions.push(Extension::ExtendedMasterSecret);
    }
    if session.encrypt_then_mac {
        extensions.push(Extension::EncryptThenMac);
    }
    if let Some(protocol) = &alpn {
        extensions.push(Extension::Alpn(vec![protocol.clone()]));
    }
    if renew_ticket {
        extensions.push(ticket_extension(&[]));
    }
    let server_random = random32();
    let server_hello = HandshakeMessage::new(HandshakePayload::ServerHello(ServerHello {
        server_version: TLS12,
        random: server_random,
        session_id: hello.session_id.clone(),
        cipher_suite: session.suite.id,
        compression_method: 0,
        extensions,
    }));
    let mut transcript = Transcript::default();
    transcript.add(&client_hello.raw);
    transcript.add(&server_hello.raw);
    core.queue_handshake(&server_hello);
    if renew_ticket {
        send_ticket(core, &mut transcript, &config.resumption, &session);
    }
    let info = SessionInfo {
        version: TLS12,
        suite: session.suite,
        client_random: hello.random,
        server_random,
        session_id: hello.session_id.clone(),
        extended_master_secret: session.extended_master_secret,
        encrypt_then_mac: session.encrypt_then_mac,
        alpn_protocol: alpn,
        server_name: session.server_name.clone(),
        server_chain: config.cert_chain.clone(),
        // The client authenticated when the session was made; no CertificateRequest now.
        client_chain: session.peer_chain.clone(),
        verification: None,
        resumed: Some(by),
    };
    let secrets = Secrets::resumed(session.master_secret, session.extended_master_secret, &info);
    core.start_encryption(&secrets, Side::Server);
    core.send_change_cipher_spec()?;
    let verify_data = secrets.verify_data(Side::Server, &transcript.current_hash());
    let finished = HandshakeMessage::new(HandshakePayload::Finished(Finished { verify_data }));
    transcript.add(&finished.raw);
    core.queue_handshake(&finished);
    core.flush_flight()?;
    Ok(ServerState::ResumedChangeCipherSpec(Box::new(KeysAgreed {
        secrets,
        transcript,
        info,
    })))
}

/// The client's Finished ends an abbreviated handshake on the server.
pub(crate) fn server_resumed_finished(
    keys: Box<KeysAgreed>,
    core: &mut CommonState,
    message: HandshakeMessage,
) -> Result<ServerState, Error> {
    keys.check_peer_finished(Side::Client, &message)?;
    core.complete(keys.info);
    Ok(ServerState::Traffic)
}

// ---------------------------------------------------------------------------------------------
// Client

/// A session the client offers in its hello, and the id that tells us the server took it.
pub(crate) struct ClientOffer {
    session: ClientSession,
    offered_id: Vec<u8>,
}

/// What to put in the ClientHello: (session id, session_ticket extension, the offer kept for
/// the ServerHello). A session is offered only to the host it was made with and with a suite we
/// still offer.
pub(crate) fn client_offer(
    config: &ClientConfig,
    server_name: &str,
    resume: Option<ClientSession>,
) -> (Vec<u8>, Option<Extension>, Option<ClientOffer>) {
    let session = resume.filter(|s| {
        s.state.server_name.as_deref().unwrap_or_default() == server_name
            && config.common.suites.contains(&s.state.suite)
            && (s.ticket.is_some() || !s.session_id.is_empty())
            && (s.ticket.is_none() || config.session_tickets)
    });
    let ticket = session.as_ref().and_then(|s| s.ticket.clone());
    let extension = config
        .session_tickets
        .then(|| ticket_extension(ticket.as_deref().unwrap_or_default()));
    let Some(session) = session else {
        return (Vec::new(), extension, None);
    };
    // RFC 5077 §3.4: with a ticket the client may make up an id; its echo means "resumed".
    let offered_id = match (&session.ticket, session.session_id.is_empty()) {
        (Some(_), true) => random32().to_vec(),
        _ => session.session_id.clone(),
    };
    (
        offered_id.clone(),
        extension,
        Some(ClientOffer {
            session,
            offered_id,
        }),
    )
}

/// The client side of an abbreviated handshake, between the ServerHello and our Finished.
pub(crate) struct ClientResumed {
    keys: KeysAgreed,
    session: ClientSession,
}

/// Whether the ServerHello accepts the offered session: it echoes the id we offered. Then the
/// session must be the one we offered: same suite, same EMS (RFC 7627 §5.3), same ETM.
pub(crate) fn client_accepts(
    offer: Option<ClientOffer>,
    hello: &ServerHello,
    hello_raw: &[u8],
    client_random: [u8; 32],
    transcript: &mut Transcript,
    ticket_promised: bool,
) -> Result<Option<ClientState>, Error> {
    let Some(ClientOffer {
        session,
        offered_id,
    }) = offer
    else {
        return Ok(None);
    };
    if offered_id.is_empty() || hello.session_id != offered_id {
        return Ok(None);
    }
    let state = &session.state;
    if hello.cipher_suite != state.suite.id {
        return Err(Error::illegal(
            "server resumed the session with another cipher suite",
        ));
    }
    if hello.has_ems() != state.extended_master_secret {
        return Err(Error::protocol(
            AlertDescription::HandshakeFailure,
            "server resumed the session with a different extended_master_secret (RFC 7627 §5.3)",
        ));
    }
    if hello.has_etm() != state.encrypt_then_mac {
        return Err(Error::illegal(
            "server resumed the session with a different encrypt_then_mac",
        ));
    }
    transcript.add(hello_raw);
    let info = SessionInfo {
        version: TLS12,
        suite: state.suite,
        client_random,
        server_random: hello.random,
        session_id: hello.session_id.clone(),
        extended_master_secret: state.extended_master_secret,
        encrypt_then_mac: state.encrypt_then_mac,
        alpn_protocol: hello.alpn_protocols().and_then(|p| p.first().cloned()),
        server_name: state.server_name.clone(),
        server_chain: state.peer_chain.clone(),
        // Our own chain is not kept in the client's session.
        client_chain: Vec::new(),
        // The chain was checked when the session was made; nothing new was presented.
        verification: None,
        resumed: Some(if session.ticket.is_some() {
            ResumedBy::Ticket
        } else {
            ResumedBy::SessionId
        }),
    };
    let secrets = Secrets::resumed(state.master_secret, state.extended_master_secret, &info);
    let resumed = Box::new(ClientResumed {
        keys: KeysAgreed {
            secrets,
            transcript: std::mem::take(transcript),
            info,
        },
        session,
    });
    Ok(Some(if ticket_promised {
        ClientState::ResumedTicket(resumed)
    } else {
        ClientState::ResumedChangeCipherSpec(resumed)
    }))
}

impl ClientResumed {
    pub(crate) fn handle(
        mut self: Box<Self>,
        core: &mut CommonState,
        input: Input,
        expecting_ticket: bool,
    ) -> Result<ClientState, Error> {
        match input {
            Input::Handshake(m) if expecting_ticket => {
                let (lifetime, ticket) = read_new_session_ticket(&m)?;
                self.keys.transcript.add(&m.raw);
                if !ticket.is_empty() {
                    self.session.ticket = Some(ticket);
                    self.session.ticket_lifetime = lifetime;
                }
                Ok(ClientState::ResumedChangeCipherSpec(self))
            }
            Input::ChangeCipherSpec if !expecting_ticket => {
                // Keys come from the remembered master secret and the two new randoms.
                core.start_encryption(&self.keys.secrets, Side::Client);
                core.peer_changed_cipher_spec()?;
                Ok(ClientState::ResumedFinished(self))
            }
            Input::ChangeCipherSpec => Err(Error::unexpected(
                "ChangeCipherSpec before the promised NewSessionTicket",
            )),
            Input::Handshake(m) => Err(Error::unexpected(format!(
                "unexpected {} in an abbreviated handshake",
                m.typ().name()
            ))),
        }
    }

    /// The server's Finished comes first; then ours.
    pub(crate) fn finished(
        mut self: Box<Self>,
        core: &mut CommonState,
        message: HandshakeMessage,
    ) -> Result<ClientState, Error> {
        self.keys.check_peer_finished(Side::Server, &message)?;
        self.keys.transcript.add(&message.raw);
        core.send_change_cipher_spec()?;
        let verify_data = self
            .keys
            .secrets
            .verify_data(Side::Client, &self.keys.transcript.current_hash());
        core.queue_handshake(&HandshakeMessage::new(HandshakePayload::Finished(
            Finished { verify_data },
        )));
        core.flush_flight()?;
        core.resumable = Some(self.session);
        core.complete(self.keys.info);
        Ok(ClientState::Traffic)
    }
}

/// Full handshake, client side: the server's NewSessionTicket comes after our Finished, before
/// its ChangeCipherSpec.
pub(crate) fn client_ticket(
    mut keys: Box<KeysAgreed>,
    core: &mut CommonState,
    message: HandshakeMessage,
) -> Result<ClientState, Error> {
    let (lifetime, ticket) = read_new_session_ticket(&message)?;
    keys.transcript.add(&message.raw);
    if !ticket.is_empty() {
        core.new_ticket = Some((lifetime, ticket));
    }
    Ok(ClientState::ChangeCipherSpec(keys))
}

/// Full handshake, client side, at its end: keep what resuming it needs (if the server gave an
/// id or a ticket).
pub(crate) fn client_remember(core: &mut CommonState, keys: &KeysAgreed) {
    let ticket = core.new_ticket.take();
    if keys.info.session_id.is_empty() && ticket.is_none() {
        return;
    }
    let (ticket_lifetime, ticket) = match ticket {
        Some((lifetime, ticket)) => (lifetime, Some(ticket)),
        None => (0, None),
    };
    core.resumable = Some(ClientSession {
        session_id: keys.info.session_id.clone(),
        ticket,
        ticket_lifetime,
        state: StoredSession {
            master_secret: *keys.secrets.master_secret(),
            suite: keys.info.suite,
            extended_master_secret: keys.info.extended_master_secret,
            encrypt_then_mac: keys.info.encrypt_then_mac,
            alpn_protocol: keys.info.alpn_protocol.clone(),
            server_name: keys.info.server_name.clone(),
            peer_chain: keys.info.server_chain.clone(),
            created: unix_now(),
        },
    });
}
