//! The client's side of the full handshake (RFC 5246 §7.3), one state per message we wait for:
//!
//! 1. send ClientHello (our random, the suites we offer)
//! 2. ServerHello: the suite the server chose and its random
//! 3. Certificate: the server's chain — checked against our trust anchors and the host name
//!    (ECDHE suites) ServerKeyExchange: the server's ephemeral key, its signature checked
//! 4. ServerHelloDone: send ClientKeyExchange (a random pre-master secret encrypted with the
//!    server's RSA key, or our ephemeral ECDH key), derive the keys, send ChangeCipherSpec and
//!    Finished
//! 5. the server's ChangeCipherSpec, then its Finished: proof it derived the same keys.

use crate::alert::AlertDescription;
use crate::common_state::{CommonState, Input};
use crate::config::{CertCheck, ClientConfig};
use crate::crypto::ecdh::{NamedGroup, SUPPORTED_GROUPS};
use crate::crypto::rsa::RsaPublicKey;
use crate::handshake::client_auth;
use crate::handshake::key_exchange::{
    client_check_server_key_exchange, client_ecdhe, client_encrypt, KeyTransport,
};
use crate::handshake::keys::{random32, KeysAgreed, Secrets, Side, Transcript};
use crate::handshake::resumption::{self, ClientOffer, ClientResumed};
use crate::msgs::handshake::{
    CertificateRequest, ClientHello, ClientKeyExchange, EcdhClientKeyExchange, Extension, Finished,
    HandshakeMessage, HandshakePayload, HandshakeType, ServerHello, TLS12,
};
use crate::pki::verify::{check_key_transport_usage, verify_chain};
use crate::pki::x509::Certificate;
use crate::pki::{CertError, CertErrorKind};
use crate::session::{ClientSession, Negotiated, SessionInfo};
use crate::suites::{CipherSuite, KeyExchange};
use crate::trace::Event;
use crate::Error;
use std::sync::Arc;

/// signature_algorithms we offer: rsa_pkcs1_sha256, rsa_pkcs1_sha384, rsa_pkcs1_sha512 (also
/// what we accept on a ServerKeyExchange).
const SIGNATURE_ALGORITHMS: [u16; 3] = crate::handshake::key_exchange::SIGNATURE_SCHEMES;

pub(crate) enum ClientState {
    ServerHello(Box<ExpectServerHello>),
    Certificate(Box<ExpectCertificate>),
    ServerKeyExchange(Box<ExpectServerHelloDone>),
    ServerHelloDone(Box<ExpectServerHelloDone>),
    /// After our Finished, when the server promised a ticket (RFC 5077 §3.3).
    NewSessionTicket(Box<KeysAgreed>),
    ChangeCipherSpec(Box<KeysAgreed>),
    Finished(Box<KeysAgreed>),
    /// Abbreviated handshake (`resumption`): [NewSessionTicket], CCS, then the server's
    /// Finished — before ours.
    ResumedTicket(Box<ClientResumed>),
    ResumedChangeCipherSpec(Box<ClientResumed>),
    ResumedFinished(Box<ClientResumed>),
    Traffic,
}

/// Step 1: queue the ClientHello.
pub(crate) fn start(
    config: Arc<ClientConfig>,
    server_name: &str,
    core: &mut CommonState,
    resume: Option<ClientSession>,
) -> Result<ClientState, Error> {
    if config.common.suites.is_empty() {
        return Err(Error::config("no cipher suites enabled"));
    }
    let client_random = random32();
    // A remembered session for this host: its id or ticket (resumption.rs).
    let (session_id, ticket_extension, offer) =
        resumption::client_offer(&config, server_name, resume);
    let mut extensions = Vec::new();
    // SNI carries host names only, never IP literals (RFC 6066 §3).
    if server_name.parse::<std::net::IpAddr>().is_err() && !server_name.is_empty() {
        extensions.push(Extension::ServerName(server_name.as_bytes().to_vec()));
    }
    extensions.push(Extension::SignatureAlgorithms(
        SIGNATURE_ALGORITHMS.to_vec(),
    ));
    if config.common.extended_master_secret {
        extensions.push(Extension::ExtendedMasterSecret);
    }
    if config.common.encrypt_then_mac {
        extensions.push(Extension::EncryptThenMac);
    }
    // ECDHE suites offered: our groups and the one point format (RFC 8422 §5.1).
    if config
        .common
        .suites
        .iter()
        .any(|s| s.key_exchange == KeyExchange::EcdheRsa)
    {
        let groups = SUPPORTED_GROUPS.iter().map(|g| g.id()).collect();
        extensions.push(Extension::SupportedGroups(groups));
        extensions.push(Extension::EcPointFormats(vec![0]));
    }
    // An empty renegotiation_info says "I am a secure-renegotiation client" (RFC 5746 §3.4).
    extensions.push(Extension::RenegotiationInfo(Vec::new()));
    if !config.common.alpn_protocols.is_empty() {
        extensions.push(Extension::Alpn(config.common.alpn_protocols.clone()));
    }
    extensions.extend(ticket_extension);
    let hello = ClientHello {
        client_version: TLS12,
        random: client_random,
        session_id,
        cipher_suites: config.common.suites.iter().map(|s| s.id).collect(),
        compression_methods: vec![0],
        extensions,
    };
    let message = HandshakeMessage::new(HandshakePayload::ClientHello(hello));
    let mut transcript = Transcript::default();
    transcript.add(&message.raw);
    core.queue_handshake(&message);
    core.flush_flight()?;
    Ok(ClientState::ServerHello(Box::new(ExpectServerHello {
        config,
        server_name: server_name.to_string(),
        client_random,
        transcript,
        offer,
    })))
}

impl ClientState {
    /// Whether a handshake message of type `typ` can come now (see `ServerState::expects`).
    pub(crate) fn expects(&self, typ: HandshakeType) -> bool {
        match self {
            Self::ServerHello(_) => typ == HandshakeType::ServerHello,
            Self::Certificate(_) => typ == HandshakeType::Certificate,
            Self::ServerKeyExchange(_) => typ == HandshakeType::ServerKeyExchange,
            Self::ChangeCipherSpec(_) | Self::ResumedChangeCipherSpec(_) => false,
            Self::Finished(_) | Self::ResumedFinished(_) => typ == HandshakeType::Finished,
            Self::NewSessionTicket(_) | Self::ResumedTicket(_) => {
                typ == HandshakeType::NewSessionTicket
            }
            Self::ServerHelloDone(_) | Self::Traffic => true,
        }
    }

    pub(crate) fn handle(self, core: &mut CommonState, input: Input) -> Result<Self, Error> {
        match (self, input) {
            (Self::ServerHello(s), Input::Handshake(m)) => (*s).handle(m),
            (Self::Certificate(s), Input::Handshake(m)) => s.handle(core, m),
            (Self::ServerKeyExchange(s), Input::Handshake(m)) => s.server_key_exchange(m),
            (Self::ServerHelloDone(s), Input::Handshake(m)) => s.handle(core, m),
            (Self::ChangeCipherSpec(s), Input::ChangeCipherSpec) => {
                Ok(Self::Finished(s.peer_change_cipher_spec(core)?))
            }
            // Step 5: the server proves it holds the same keys and saw the same messages.
            (Self::Finished(s), Input::Handshake(m)) => {
                s.check_peer_finished(Side::Server, &m)?;
                resumption::client_remember(core, &s);
                core.complete(s.info);
                Ok(Self::Traffic)
            }
            (Self::NewSessionTicket(s), Input::Handshake(m)) => {
                resumption::client_ticket(s, core, m)
            }
            (Self::ResumedTicket(s), input) => s.handle(core, input, true),
            (Self::ResumedChangeCipherSpec(s), input) => s.handle(core, input, false),
            (Self::ResumedFinished(s), Input::Handshake(m)) => s.finished(core, m),
            (Self::Traffic, Input::Handshake(m)) => match m.payload {
                // We never renegotiate: say so politely and carry on (RFC 5746 §4.2).
                HandshakePayload::HelloRequest => {
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

pub(crate) struct ExpectServerHello {
    config: Arc<ClientConfig>,
    server_name: String,
    client_random: [u8; 32],
    transcript: Transcript,
    offer: Option<ClientOffer>,
}

impl ExpectServerHello {
    /// Step 2: accept only what we offered.
    fn handle(mut self, message: HandshakeMessage) -> Result<ClientState, Error> {
        let HandshakePayload::ServerHello(hello) = &message.payload else {
            return Err(Error::unexpected(format!(
                "expected ServerHello, got {}",
                message.typ().name()
            )));
        };
        if hello.server_version != TLS12 {
            return Err(Error::protocol(
                AlertDescription::ProtocolVersion,
                format!(
                    "server chose version {:#06x}; we speak only TLS 1.2",
                    hello.server_version
                ),
            ));
        }
        let suite = CipherSuite::from_id(hello.cipher_suite)
            .filter(|s| self.config.common.suites.contains(s))
            .ok_or_else(|| {
                Error::illegal(format!(
                    "server chose suite {:#06x}, which we did not offer",
                    hello.cipher_suite
                ))
            })?;
        if hello.compression_method != 0 {
            return Err(Error::illegal("server chose compression; we offered none"));
        }
        let mut negotiated = self.check_extensions(hello)?;
        // The server took the session we offered: the abbreviated handshake.
        if let Some(state) = resumption::client_accepts(
            self.offer.take(),
            hello,
            &message.raw,
            self.client_random,
            &mut self.transcript,
            negotiated.ticket,
        )? {
            return Ok(state);
        }
        // An AEAD suite has no MAC to move: like OpenSSL, ignore encrypt_then_mac with one.
        negotiated.etm &= !suite.is_aead();
        self.transcript.add(&message.raw);
        Ok(ClientState::Certificate(Box::new(ExpectCertificate {
            config: self.config,
            server_name: self.server_name,
            client_random: self.client_random,
            server_random: hello.random,
            session_id: hello.session_id.clone(),
            suite,
            negotiated,
            transcript: self.transcript,
        })))
    }

    fn check_extensions(&self, hello: &ServerHello) -> Result<Negotiated, Error> {
        let common = &self.config.common;
        let mut negotiated = Negotiated::default();
        for extension in &hello.extensions {
            match extension {
                Extension::ServerName(_) => {}
                Extension::ExtendedMasterSecret if common.extended_master_secret => {
                    negotiated.ems = true
                }
                Extension::EncryptThenMac if common.encrypt_then_mac => negotiated.etm = true,
                // RFC 8422 §5.2: the server's formats must include uncompressed, the only one we
                // can read.
                Extension::EcPointFormats(formats) => {
                    if !formats.contains(&0) {
                        return Err(Error::illegal(
                            "server's ec_point_formats lacks uncompressed",
                        ));
                    }
                }
                Extension::Unknown {
                    typ: resumption::SESSION_TICKET,
                    data,
                } if self.config.session_tickets && data.is_empty() => negotiated.ticket = true,
                Extension::RenegotiationInfo(data) => {
                    if !data.is_empty() {
                        return Err(Error::protocol(
                            AlertDescription::HandshakeFailure,
                            "non-empty renegotiation_info in an initial handshake",
                        ));
                    }
                }
                Extension::Alpn(protocols) => match protocols.as_slice() {
                    [chosen] if common.alpn_protocols.contains(chosen) => {
                        negotiated.alpn = Some(chosen.clone())
                    }
                    _ => {
                        return Err(Error::illegal(
                            "server chose an ALPN protocol we did not offer",
                        ))
                    }
                },
                other => {
                    return Err(Error::protocol(
                        AlertDescription::UnsupportedExtension,
                        format!("server sent extension {} we did not offer", other.typ()),
                    ))
                }
            }
        }
        Ok(negotiated)
    }
}

pub(crate) struct ExpectCertificate {
    config: Arc<ClientConfig>,
    server_name: String,
    client_random: [u8; 32],
    server_random: [u8; 32],
    session_id: Vec<u8>,
    suite: &'static CipherSuite,
    negotiated: Negotiated,
    transcript: Transcript,
}

impl ExpectCertificate {
    /// Step 3: authentication. The chain must lead to a root we trust and name the host we
    /// asked for — or the policy (a user's informed decision) must accept it.
    fn handle(
        mut self: Box<Self>,
        core: &mut CommonState,
        message: HandshakeMessage,
    ) -> Result<ClientState, Error> {
        let HandshakePayload::Certificate(certificate) = &message.payload else {
            return Err(Error::unexpected(format!(
                "expected Certificate, got {}",
                message.typ().name()
            )));
        };
        if certificate.chain.is_empty() {
            return Err(Error::protocol(
                AlertDescription::BadCertificate,
                "server sent no certificate",
            ));
        }
        let presented = certificate
            .chain
            .iter()
            .enumerate()
            .map(|(depth, der)| {
                Certificate::from_der(der)
                    .map_err(|e| CertError::new(CertErrorKind::Malformed(e.to_string()), depth))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let now = self
            .config
            .verify_time
            .unwrap_or_else(crate::text::unix_now);
        let outcome = verify_chain(&presented, &self.config.roots, Some(&self.server_name), now);
        let decision = self.config.policy.decide(&CertCheck {
            presented: &presented,
            server_name: &self.server_name,
            outcome: &outcome,
        });
        core.observe(&Event::CertificateChecked {
            presented: &presented,
            outcome: &outcome,
            at_unix: now,
            accepted: decision.is_ok(),
        });
        decision?;
        let verification = outcome
            .as_ref()
            .map(|path| path.len())
            .map_err(Clone::clone);
        // RSA key transport: the leaf's key must be allowed to encipher. ECDHE_RSA: to sign.
        match self.suite.key_exchange {
            KeyExchange::Rsa => check_key_transport_usage(&presented[0])?,
            KeyExchange::EcdheRsa => check_signature_usage(&presented[0])?,
        }
        let server_key = presented[0].public_key().map_err(|e| {
            Error::protocol(
                AlertDescription::UnsupportedCertificate,
                format!("server key: {e}"),
            )
        })?;
        self.transcript.add(&message.raw);
        let key_exchange = self.suite.key_exchange;
        let next = Box::new(ExpectServerHelloDone {
            server_chain: certificate.chain.clone(),
            verification,
            server_key,
            server_share: None,
            certificate_request: None,
            prev: *self,
        });
        Ok(match key_exchange {
            KeyExchange::Rsa => ClientState::ServerHelloDone(next),
            KeyExchange::EcdheRsa => ClientState::ServerKeyExchange(next),
        })
    }
}

/// ECDHE_RSA needs a certificate key allowed to sign (RFC 5246 §7.4.2, keyUsage
/// digitalSignature when the extension is present).
fn check_signature_usage(leaf: &Certificate) -> Result<(), Error> {
    match leaf.key_usage() {
        Some(ku) if !ku.digital_signature => Err(Error::protocol(
            AlertDescription::UnsupportedCertificate,
            "the server certificate's key usage does not allow signatures (ECDHE_RSA)",
        )),
        _ => Ok(()),
    }
}

/// The server's ECDHE share, its signature checked.
struct ServerShare {
    group: NamedGroup,
    public: Vec<u8>,
    signature_scheme: u16,
    signature: Vec<u8>,
}

pub(crate) struct ExpectServerHelloDone {
    prev: ExpectCertificate,
    server_chain: Vec<Vec<u8>>,
    verification: Result<usize, CertError>,
    server_key: RsaPublicKey,
    /// ECDHE suites: the server's ephemeral key from its ServerKeyExchange.
    server_share: Option<ServerShare>,
    /// Client authentication: the server asked for our certificate (`client_auth`).
    certificate_request: Option<CertificateRequest>,
}

impl ExpectServerHelloDone {
    /// (ECDHE) The server's ephemeral key: checked — signature by the certificate's key, a
    /// group we offered — before anything is computed with it.
    fn server_key_exchange(
        mut self: Box<Self>,
        message: HandshakeMessage,
    ) -> Result<ClientState, Error> {
        let HandshakePayload::ServerKeyExchange(ske) = &message.payload else {
            return Err(Error::unexpected(format!(
                "expected ServerKeyExchange, got {}",
                message.typ().name()
            )));
        };
        let group = client_check_server_key_exchange(
            ske,
            &self.server_key,
            &self.prev.client_random,
            &self.prev.server_random,
        )?;
        self.prev.transcript.add(&message.raw);
        self.server_share = Some(ServerShare {
            group,
            public: ske.public.clone(),
            signature_scheme: ske.signature_algorithm,
            signature: ske.signature.clone(),
        });
        Ok(ClientState::ServerHelloDone(self))
    }

    /// Step 4: key delivery. RSA carries 48 random bytes to the server; everything after is
    /// symmetric, keyed from them.
    fn handle(
        mut self: Box<Self>,
        core: &mut CommonState,
        message: HandshakeMessage,
    ) -> Result<ClientState, Error> {
        // Client authentication: the server asks for a certificate before it is done.
        if let HandshakePayload::CertificateRequest(request) = message.payload {
            if self.certificate_request.is_some() {
                return Err(Error::unexpected("a second CertificateRequest"));
            }
            self.prev.transcript.add(&message.raw);
            self.certificate_request = Some(request);
            return Ok(ClientState::ServerHelloDone(self));
        }
        if !matches!(message.payload, HandshakePayload::ServerHelloDone) {
            return Err(Error::unexpected(format!(
                "expected ServerHelloDone, got {}",
                message.typ().name()
            )));
        }
        let Self {
            prev,
            server_chain,
            verification,
            server_key,
            server_share,
            certificate_request,
        } = *self;
        let mut transcript = prev.transcript;
        transcript.add(&message.raw);

        // Client authentication: our chain (or an empty one) before the key exchange.
        let mut signer = None;
        if let Some(request) = &certificate_request {
            let (certificate, identity) = client_auth::answer_request(&prev.config, request);
            transcript.add(&certificate.raw);
            core.queue_handshake(&certificate);
            signer = identity;
        }

        let (pre_master_secret, key_exchange) = match server_share {
            None => {
                let KeyTransport {
                    pre_master_secret,
                    padded,
                    encrypted,
                } = client_encrypt(&server_key, prev.config.encrypt_premaster_hook())?;
                core.observe(&Event::PremasterSecret {
                    premaster: &pre_master_secret,
                    padded: padded.as_deref(),
                    encrypted: &encrypted,
                });
                let payload = HandshakePayload::ClientKeyExchange(ClientKeyExchange {
                    encrypted_pre_master_secret: encrypted,
                });
                (pre_master_secret.to_vec(), payload)
            }
            // ECDHE: our ephemeral key in the server's group; the shared secret is the
            // pre-master secret (RFC 8422 §5.10). The key is dropped at the end of this block.
            Some(share) => {
                let (key, shared) = client_ecdhe(share.group, &share.public)?;
                core.observe(&Event::EcdheSharedSecret {
                    group: share.group,
                    client_public: key.public_key(),
                    server_public: &share.public,
                    signature_scheme: share.signature_scheme,
                    signature: &share.signature,
                    shared_secret: &shared,
                });
                let payload = HandshakePayload::EcdhClientKeyExchange(EcdhClientKeyExchange {
                    public: key.public_key().to_vec(),
                });
                (shared.to_vec(), payload)
            }
        };
        let key_exchange = HandshakeMessage::new(key_exchange);
        transcript.add(&key_exchange.raw);
        core.queue_handshake(&key_exchange);

        let session_hash = transcript.current_hash();
        // Client authentication: sign everything so far (ClientKeyExchange included).
        let mut client_chain = Vec::new();
        if let Some((identity, algorithm)) = signer {
            let verify =
                client_auth::sign_certificate_verify(identity, algorithm, &transcript, core)?;
            transcript.add(&verify.raw);
            core.queue_handshake(&verify);
            client_chain = identity.chain.clone();
        }
        let info = SessionInfo {
            version: TLS12,
            suite: prev.suite,
            client_random: prev.client_random,
            server_random: prev.server_random,
            session_id: prev.session_id,
            extended_master_secret: prev.negotiated.ems,
            encrypt_then_mac: prev.negotiated.etm,
            alpn_protocol: prev.negotiated.alpn,
            server_name: Some(prev.server_name),
            server_chain,
            client_chain,
            verification: Some(verification),
            resumed: None,
        };
        let secrets = Secrets::derive(
            &pre_master_secret,
            &info,
            info.extended_master_secret.then_some(&session_hash),
        );
        core.start_encryption(&secrets, Side::Client);
        core.send_change_cipher_spec()?;
        let verify_data = secrets.verify_data(Side::Client, &transcript.current_hash());
        let finished = HandshakeMessage::new(HandshakePayload::Finished(Finished { verify_data }));
        transcript.add(&finished.raw);
        core.queue_handshake(&finished);
        core.flush_flight()?;

        let keys = Box::new(KeysAgreed {
            secrets,
            transcript,
            info,
        });
        Ok(if prev.negotiated.ticket {
            ClientState::NewSessionTicket(keys)
        } else {
            ClientState::ChangeCipherSpec(keys)
        })
    }
}
