//! The server's side of the full handshake (RFC 5246 §7.3):
//!
//! 1. ClientHello: pick TLS 1.2, a suite by our preference, the extensions we both support;
//!    answer with ServerHello, Certificate, for ECDHE a signed ServerKeyExchange, and
//!    ServerHelloDone in one flight
//! 2. ClientKeyExchange: decrypt the pre-master secret with our RSA key — never revealing
//!    whether it was well formed (Bleichenbacher, RFC 5246 §7.4.7.1) — or, for ECDHE, compute
//!    the shared secret with the client's ephemeral key; and derive the keys
//! 3. the client's ChangeCipherSpec and Finished; then ours.

use crate::alert::AlertDescription;
use crate::common_state::{CommonState, Input};
use crate::config::ServerConfig;
use crate::handshake::client_auth;
use crate::handshake::key_exchange::{
    agree, check_point_formats, server_choose_ecdhe, server_decrypt, server_key_exchange,
    ServerEcdhe,
};
use crate::handshake::keys::{random32, KeysAgreed, Secrets, Side, Transcript};
use crate::handshake::resumption;
use crate::msgs::handshake::{
    CertificateMsg, ClientHello, Extension, Finished, HandshakeMessage, HandshakePayload,
    HandshakeType, ServerHello, TLS12,
};
use crate::session::{Negotiated, SessionInfo};
use crate::suites::KeyExchange;
use crate::trace::Event;
use crate::Error;
use std::sync::Arc;

pub(crate) enum ServerState {
    ClientHello(Box<ExpectClientHello>),
    /// Client authentication (`client_auth`): we asked for the client's Certificate.
    ClientCertificate(Box<ExpectClientKeyExchange>),
    ClientKeyExchange(Box<ExpectClientKeyExchange>),
    /// Client authentication: it sent a certificate, so it must prove it holds the key.
    CertificateVerify(Box<KeysAgreed>),
    ChangeCipherSpec(Box<KeysAgreed>),
    Finished(Box<KeysAgreed>),
    /// Abbreviated handshake (`resumption`): our Finished is sent; the client's CCS, Finished.
    ResumedChangeCipherSpec(Box<KeysAgreed>),
    ResumedFinished(Box<KeysAgreed>),
    Traffic,
}

pub(crate) fn start(config: Arc<ServerConfig>) -> ServerState {
    ServerState::ClientHello(Box::new(ExpectClientHello { config }))
}

impl ServerState {
    /// Whether a handshake message of type `typ` can come now; any other is `unexpected_message`
    /// without its body being decoded (a TLS 1.3-sized Finished is out of order, not malformed).
    pub(crate) fn expects(&self, typ: HandshakeType) -> bool {
        match self {
            Self::ClientHello(_) => typ == HandshakeType::ClientHello,
            Self::ClientCertificate(_) => typ == HandshakeType::Certificate,
            Self::ClientKeyExchange(_) => typ == HandshakeType::ClientKeyExchange,
            Self::CertificateVerify(_) => typ == HandshakeType::CertificateVerify,
            Self::ChangeCipherSpec(_) => false,
            Self::Finished(_) | Self::ResumedFinished(_) => typ == HandshakeType::Finished,
            Self::ResumedChangeCipherSpec(_) => false,
            Self::Traffic => true,
        }
    }

    pub(crate) fn handle(self, core: &mut CommonState, input: Input) -> Result<Self, Error> {
        match (self, input) {
            (Self::ClientHello(s), Input::Handshake(m)) => {
                // Client authentication: when we asked (CertificateRequest), the client's
                // Certificate comes before its key exchange.
                let asked = s.config.client_auth.is_some();
                match (*s).handle(core, m)? {
                    Self::ClientKeyExchange(next) if asked => Ok(Self::ClientCertificate(next)),
                    other => Ok(other),
                }
            }
            (Self::ClientCertificate(mut s), Input::Handshake(m)) => {
                s.info.client_chain = client_auth::check_client_certificate(&s.config, core, &m)?;
                s.transcript.add(&m.raw);
                Ok(Self::ClientKeyExchange(s))
            }
            (Self::ClientKeyExchange(s), Input::Handshake(m)) => s.handle(core, m),
            (Self::CertificateVerify(s), Input::Handshake(m)) => Ok(Self::ChangeCipherSpec(
                client_auth::check_certificate_verify(s, core, &m)?,
            )),
            (Self::ChangeCipherSpec(s), Input::ChangeCipherSpec) => {
                Ok(Self::Finished(s.peer_change_cipher_spec(core)?))
            }
            (Self::Finished(s), Input::Handshake(m)) => finish(s, core, m),
            (Self::ResumedChangeCipherSpec(s), Input::ChangeCipherSpec) => {
                Ok(Self::ResumedFinished(s.peer_change_cipher_spec(core)?))
            }
            (Self::ResumedFinished(s), Input::Handshake(m)) => {
                resumption::server_resumed_finished(s, core, m)
            }
            (Self::Traffic, Input::Handshake(m)) => match m.payload {
                // Renegotiation is refused (DESIGN.md); a warning lets the client carry on.
                HandshakePayload::ClientHello(_) => {
                    core.send_warning(AlertDescription::NoRenegotiation);
                    Ok(Self::Traffic)
                }
                _ => Err(Error::unexpected(format!(
                    "{} after the handshake",
                    m.typ().name()
                ))),
            },
            (_, Input::ChangeCipherSpec) => Err(Error::unexpected("ChangeCipherSpec out of order")),
            (_, Input::Handshake(m)) => {
                Err(Error::unexpected(format!("unexpected {}", m.typ().name())))
            }
        }
    }
}

pub(crate) struct ExpectClientHello {
    config: Arc<ServerConfig>,
}

impl ExpectClientHello {
    /// Step 1: negotiate, then send our hello, our certificate chain and "done".
    fn handle(
        self,
        core: &mut CommonState,
        message: HandshakeMessage,
    ) -> Result<ServerState, Error> {
        let HandshakePayload::ClientHello(hello) = &message.payload else {
            return Err(Error::unexpected(format!(
                "expected ClientHello, got {}",
                message.typ().name()
            )));
        };
        // A TLS 1.3 client still says 0x0303 here (RFC 8446 §4.1.2), so this only refuses
        // clients whose best is TLS 1.1 or older.
        if hello.client_version < TLS12 {
            return Err(Error::protocol(
                AlertDescription::ProtocolVersion,
                format!(
                    "client offers at most {:#06x}; we speak only TLS 1.2",
                    hello.client_version
                ),
            ));
        }
        if !hello.compression_methods.contains(&0) {
            return Err(Error::illegal(
                "client does not offer the null compression method",
            ));
        }
        let common = &self.config.common;
        // ECDHE suites need a group and a signature scheme in common (else RSA suites only).
        check_point_formats(hello.supported_groups(), hello.ec_point_formats())?;
        let ecdhe = server_choose_ecdhe(hello.supported_groups(), hello.signature_algorithms());
        // No suite in common is an error only after an offered session is judged: a client
        // offering a session without its suite gets illegal_parameter (resumption.rs).
        let suite = common
            .suites
            .iter()
            .copied()
            .filter(|s| s.key_exchange == KeyExchange::Rsa || ecdhe.is_some())
            .find(|s| hello.cipher_suites.contains(&s.id))
            .ok_or_else(|| {
                Error::protocol(
                    AlertDescription::HandshakeFailure,
                    "no cipher suite in common",
                )
            });
        let mut negotiated = negotiate_extensions(hello, common)?;

        if let Some(name) = &negotiated.server_name {
            if !self.config.leaf_covers(name) {
                // RFC 6066 §3 allows a fatal or a warning alert here; like most servers we
                // carry on with our one certificate and let the client judge it.
                core.send_warning(AlertDescription::UnrecognizedName);
            }
        }
        // An offered session we may resume: the abbreviated handshake instead (resumption.rs).
        let offer = resumption::Offer {
            hello,
            ems: negotiated.ems,
            etm: negotiated.etm,
            server_name: negotiated.server_name.as_deref(),
        };
        if let Some(resume) = resumption::server_find(&self.config, &offer)? {
            return resumption::server_resume(
                &self.config,
                core,
                &message,
                &offer,
                resume,
                negotiated.alpn,
                negotiated.secure_renegotiation,
            );
        }
        let suite = suite?;
        // RFC 7366 §3: no encrypt_then_mac answer with an AEAD suite (it has no MAC to move).
        negotiated.etm &= !suite.is_aead();
        let server_random = random32();
        let session_id = random32().to_vec();
        let mut extensions = Vec::new();
        extensions.extend(resumption::server_plan(&self.config, hello, core));
        if negotiated.secure_renegotiation {
            extensions.push(Extension::RenegotiationInfo(Vec::new()));
        }
        if negotiated.ems {
            extensions.push(Extension::ExtendedMasterSecret);
        }
        if negotiated.etm {
            extensions.push(Extension::EncryptThenMac);
        }
        if let Some(protocol) = &negotiated.alpn {
            extensions.push(Extension::Alpn(vec![protocol.clone()]));
        }
        let ecdhe = ecdhe.filter(|_| suite.key_exchange == KeyExchange::EcdheRsa);
        // RFC 8422 §5.2: answer ec_point_formats (uncompressed only) when an ECC suite is chosen.
        if ecdhe.is_some() && hello.ec_point_formats().is_some() {
            extensions.push(Extension::EcPointFormats(vec![0]));
        }
        let server_hello = HandshakeMessage::new(HandshakePayload::ServerHello(ServerHello {
            server_version: TLS12,
            random: server_random,
            // A fresh random id, kept in the session cache (if on) once the handshake completes.
            session_id: session_id.clone(),
            cipher_suite: suite.id,
            compression_method: 0,
            extensions,
        }));
        let certificate = HandshakeMessage::new(HandshakePayload::Certificate(CertificateMsg {
            chain: self.config.cert_chain.clone(),
        }));
        // ECDHE: a fresh ephemeral key for this handshake, signed with our certificate's key.
        let ecdhe = ecdhe
            .map(|choice| {
                server_key_exchange(
                    &self.config.private_key,
                    choice,
                    &hello.random,
                    &server_random,
                )
            })
            .transpose()?;
        let key_exchange = ecdhe
            .as_ref()
            .map(|e| HandshakeMessage::new(HandshakePayload::ServerKeyExchange(e.message.clone())));
        let certificate_request = client_auth::certificate_request(&self.config);
        let done = HandshakeMessage::new(HandshakePayload::ServerHelloDone);
        // RFC 5246 §7.3: ServerKeyExchange before CertificateRequest.
        let flight = [
            Some(&server_hello),
            Some(&certificate),
            key_exchange.as_ref(),
            certificate_request.as_ref(),
            Some(&done),
        ];

        let mut transcript = Transcript::default();
        transcript.add(&message.raw);
        for m in flight.into_iter().flatten() {
            transcript.add(&m.raw);
            core.queue_handshake(m);
        }
        core.flush_flight()?;
        Ok(ServerState::ClientKeyExchange(Box::new(
            ExpectClientKeyExchange {
                info: SessionInfo {
                    version: TLS12,
                    suite,
                    client_random: hello.random,
                    server_random,
                    session_id,
                    extended_master_secret: negotiated.ems,
                    encrypt_then_mac: negotiated.etm,
                    alpn_protocol: negotiated.alpn,
                    server_name: negotiated.server_name,
                    server_chain: self.config.cert_chain.clone(),
                    client_chain: Vec::new(),
                    verification: None,
                    resumed: None,
                },
                client_version: hello.client_version,
                config: self.config,
                transcript,
                ecdhe,
            },
        )))
    }
}

fn negotiate_extensions(
    hello: &ClientHello,
    common: &crate::config::Common,
) -> Result<Negotiated, Error> {
    let mut negotiated = Negotiated {
        // OpenSSL 3 clients refuse servers that don't confirm secure renegotiation.
        secure_renegotiation: hello.offers_secure_renegotiation(),
        ..Negotiated::default()
    };
    for extension in &hello.extensions {
        match extension {
            // Secure renegotiation was read off the hello above; in an initial handshake the
            // extension must be empty (RFC 5746 §3.6).
            Extension::RenegotiationInfo(data) if !data.is_empty() => {
                return Err(Error::protocol(
                    AlertDescription::HandshakeFailure,
                    "non-empty renegotiation_info in an initial handshake",
                ));
            }
            Extension::ExtendedMasterSecret => negotiated.ems = common.extended_master_secret,
            Extension::EncryptThenMac => negotiated.etm = common.encrypt_then_mac,
            // Empty: the list held no host_name (only other name types).
            Extension::ServerName(name) if name.is_empty() => {}
            Extension::ServerName(name) => negotiated.server_name = host_name(name)?,
            Extension::Alpn(offered) if !common.alpn_protocols.is_empty() => {
                let chosen = common
                    .alpn_protocols
                    .iter()
                    .find(|p| offered.contains(p))
                    .ok_or_else(|| {
                        Error::protocol(
                            AlertDescription::NoApplicationProtocol,
                            "no ALPN protocol in common",
                        )
                    })?;
                negotiated.alpn = Some(chosen.clone());
            }
            _ => {}
        }
    }
    Ok(negotiated)
}

/// RFC 6066 §3: a `host_name` is an ASCII DNS host name — dot-separated LDH labels (letters,
/// digits, hyphens; 1 to 63 bytes, no hyphen at either end), no trailing dot. Anything else
/// (NUL, control bytes, escapes, UTF-8) is `illegal_parameter`: such a name can only be an
/// attack on whatever prints or looks it up. An IP literal is not allowed either, but clients
/// such as wrk send the URL's address there: like OpenSSL, nginx and rustls we ignore it
/// (`None`: no name asked for) rather than refuse the connection.
fn host_name(name: &[u8]) -> Result<Option<String>, Error> {
    let refuse = |why: &str| Err(Error::illegal(format!("server_name: {why}")));
    if name.len() > 253 {
        return refuse("longer than 253 bytes");
    }
    let Ok(text) = std::str::from_utf8(name) else {
        return refuse("not ASCII");
    };
    if text.parse::<std::net::IpAddr>().is_ok() {
        return Ok(None);
    }
    for label in text.split('.') {
        if label.is_empty() {
            return refuse("empty label (or a trailing dot)");
        }
        if label.len() > 63 {
            return refuse("label longer than 63 bytes");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return refuse("not a host name (letters, digits, '-' and '.' only)");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return refuse("label starts or ends with '-'");
        }
    }
    Ok(Some(text.to_ascii_lowercase()))
}

pub(crate) struct ExpectClientKeyExchange {
    config: Arc<ServerConfig>,
    client_version: u16,
    transcript: Transcript,
    info: SessionInfo,
    /// ECDHE suites: our ephemeral key and the ServerKeyExchange we sent.
    ecdhe: Option<ServerEcdhe>,
}

impl ExpectClientKeyExchange {
    /// Step 2: recover the pre-master secret. Whatever is wrong with it — bad padding, wrong
    /// length, wrong version — we go on with a random one, in the same time, so the only
    /// symptom is a Finished that fails to verify (RFC 5246 §7.4.7.1).
    fn handle(
        mut self: Box<Self>,
        core: &mut CommonState,
        message: HandshakeMessage,
    ) -> Result<ServerState, Error> {
        let pre_master_secret = match (&self.ecdhe, &message.payload) {
            (None, HandshakePayload::ClientKeyExchange(key_exchange)) => {
                let (pre_master_secret, padded) = server_decrypt(
                    &self.config.private_key,
                    self.client_version,
                    &key_exchange.encrypted_pre_master_secret,
                );
                // The padded block m = c^d mod n the decryption computed, for an observer.
                core.observe(&Event::PremasterSecret {
                    premaster: &pre_master_secret,
                    padded: (!padded.is_empty()).then_some(&padded[..]),
                    encrypted: &key_exchange.encrypted_pre_master_secret,
                });
                pre_master_secret.to_vec()
            }
            (Some(ecdhe), HandshakePayload::EcdhClientKeyExchange(key_exchange)) => {
                let shared = agree(&ecdhe.key, &key_exchange.public)?;
                core.observe(&Event::EcdheSharedSecret {
                    group: ecdhe.key.group(),
                    client_public: &key_exchange.public,
                    server_public: ecdhe.key.public_key(),
                    signature_scheme: ecdhe.message.signature_algorithm,
                    signature: &ecdhe.message.signature,
                    shared_secret: &shared,
                });
                shared.to_vec()
            }
            // The other key exchange's framing: malformed for this suite.
            (_, HandshakePayload::ClientKeyExchange(_))
            | (_, HandshakePayload::EcdhClientKeyExchange(_)) => {
                return Err(Error::decode(format!(
                    "ClientKeyExchange is not the {} form",
                    if self.ecdhe.is_some() { "ECDHE" } else { "RSA" }
                )));
            }
            _ => {
                return Err(Error::unexpected(format!(
                    "expected ClientKeyExchange, got {}",
                    message.typ().name()
                )))
            }
        };
        // The ephemeral private key has done its work: forget it now.
        self.ecdhe = None;

        self.transcript.add(&message.raw);
        let session_hash = self.transcript.current_hash();
        let secrets = Secrets::derive(
            &pre_master_secret,
            &self.info,
            self.info.extended_master_secret.then_some(&session_hash),
        );
        core.start_encryption(&secrets, Side::Server);
        let keys = Box::new(KeysAgreed {
            secrets,
            transcript: self.transcript,
            info: self.info,
        });
        // A client that sent a certificate must now prove it holds its key.
        if !keys.info.client_chain.is_empty() {
            return Ok(ServerState::CertificateVerify(keys));
        }
        Ok(ServerState::ChangeCipherSpec(keys))
    }
}

/// Step 3: the client's Finished proves it holds the keys (and that nobody altered the hellos);
/// ours proves the same to it.
fn finish(
    mut keys: Box<KeysAgreed>,
    core: &mut CommonState,
    message: HandshakeMessage,
) -> Result<ServerState, Error> {
    keys.check_peer_finished(Side::Client, &message)?;
    keys.transcript.add(&message.raw);
    // Cache the session; a NewSessionTicket goes before our ChangeCipherSpec (RFC 5077 §3.3).
    resumption::server_remember(core, &mut keys);
    core.send_change_cipher_spec()?;
    let verify_data = keys
        .secrets
        .verify_data(Side::Server, &keys.transcript.current_hash());
    core.queue_handshake(&HandshakeMessage::new(HandshakePayload::Finished(
        Finished { verify_data },
    )));
    core.flush_flight()?;
    core.complete(keys.info);
    Ok(ServerState::Traffic)
}
