//! Explain mode: the events of one connection ([`crate::trace::Event`]) turned into a short
//! narration for a learner, step by step, with the values that connection really used — the
//! randoms, the suite and what each part of its name does, every check on the certificate chain,
//! the RSA-encrypted pre-master secret or the ECDHE key agreement, the key block, Finished, and one application record
//! taken apart (explicit IV, ciphertext, MAC, padding; RFC 5246 §6.2.3.2, RFC 7366).
//!
//! Pure: events in, [`Step`]s out, no I/O. The programs print the steps (`client --explain`,
//! `server -v`) and add what only they can see (TCP connect and close). [`wire_step`] is the
//! `--wire` view of one record: header, raw bytes, decrypted bytes.
//!
//! `steps` narrates each message, `record` takes a protected record apart, `render` turns
//! steps into text.

use crate::alert::{AlertDescription, AlertLevel};
use crate::crypto::prf::KeyBlock;
use crate::msgs::handshake::{
    ext_type, Extension, HandshakeMessage, HandshakePayload, HandshakeType,
    TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
};
use crate::pki::verify::VerifiedChain;
use crate::pki::x509::Certificate;
use crate::pki::{CertError, CertErrorKind};
use crate::record::ContentType;
use crate::suites::{BulkCipher, CipherSuite, MacAlgorithm, PrfHash};
pub use crate::text::hex_dump;
use crate::text::{escape_peer, escape_peer_bytes, hex, hex_colon, hex_prefix, hex_spaced};
use crate::trace::{Direction, Event, Protection};

/// Hex rows shown of a record taken apart (a page can fill a 16 KiB record).
const SHOWN_ROWS: usize = 8;

/// Which end of the connection the narration speaks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Client,
    Server,
}

pub mod client_auth;
mod record;
mod render;
mod steps;

pub use render::{plain_step, wire_step, Line, Step};

/// Turns a connection's events into [`Step`]s. Feed it every event, in order.
pub struct Explainer {
    role: Role,
    server_name: Option<String>,
    server_key_bits: usize,
    server_modulus: Vec<u8>,
    server_exponent: Vec<u8>,
    /// Per direction (0 = sent, 1 = received): application records and bytes seen.
    app_records: [usize; 2],
    app_bytes: [usize; 2],
    step: usize,
    /// The chosen suite's PRF hash (from ServerHello), which also hashes the transcript.
    prf: PrfHash,
    /// The session id the ClientHello offered back (resumption), and whether the server took it.
    offered_session: Vec<u8>,
    resuming: bool,
}

impl Explainer {
    /// The client's narration; the chain step shows the path the verification built.
    pub fn client(server_name: &str) -> Self {
        let mut e = Self::new(Role::Client);
        e.server_name = Some(server_name.to_string());
        e
    }

    /// The server's narration.
    pub fn server() -> Self {
        Self::new(Role::Server)
    }

    /// The steps this event adds to the narration (often none).
    pub fn event(&mut self, event: &Event<'_>) -> Vec<Step> {
        match event {
            Event::Handshake { direction, message } => self.handshake(*direction, message),
            Event::Record {
                direction,
                content_type,
                wire,
                plaintext,
                protection,
            } => self.record(*direction, *content_type, wire, plaintext, *protection),
            Event::ChangeCipherSpec { direction } => vec![self.change_cipher_spec(*direction)],
            Event::Alert { direction, alert } => {
                vec![self.alert(*direction, alert.level, alert.description)]
            }
            Event::PremasterSecret {
                premaster,
                padded,
                encrypted,
            } => vec![self.premaster(premaster, *padded, encrypted)],
            Event::EcdheSharedSecret {
                group,
                client_public,
                server_public,
                signature_scheme,
                signature,
                shared_secret,
            } => vec![self.ecdhe_shared_secret(
                *group,
                client_public,
                server_public,
                *signature_scheme,
                signature,
                shared_secret,
            )],
            Event::MasterSecret {
                master_secret,
                extended,
                client_random,
            } => vec![self.master_secret(master_secret, *extended, client_random)],
            Event::KeyBlock { key_block } => vec![self.key_block_step(key_block)],
            Event::CertificateChecked {
                presented,
                outcome,
                at_unix,
                accepted,
            } => vec![self.certificate_checked(presented, outcome, *at_unix, *accepted)],
            Event::ClientSignature {
                algorithm,
                transcript_hash,
                key_bits,
                signer,
                verified,
            } => {
                let title = match verified {
                    None => "Signing the handshake for CertificateVerify",
                    Some(_) => "Checking the client's CertificateVerify",
                };
                let s = self.step(title);
                vec![client_auth::certificate_verify_checked(
                    s,
                    *algorithm,
                    transcript_hash,
                    *key_bits,
                    signer,
                    *verified,
                )]
            }
            Event::HandshakeComplete { info } => {
                let mut s = self.step("Handshake complete");
                s.field("protocol", "TLS 1.2");
                s.field("cipher suite", info.suite.name);
                s.field(
                    "protections",
                    format!(
                        "extended master secret: {}, encrypt-then-MAC: {}",
                        yes_no(info.extended_master_secret),
                        yes_no(info.encrypt_then_mac)
                    ),
                );
                if let Some(p) = &info.alpn_protocol {
                    s.field("application protocol", escape_peer_bytes(p));
                }
                s.field("forward secrecy", yes_no(info.suite.forward_secrecy()));
                if let Some(by) = info.resumed {
                    s.field(
                        "handshake",
                        format!("abbreviated: a session resumed by {}", by.name()),
                    );
                    s.text("Skipped: Certificate, ServerHelloDone, ClientKeyExchange — no certificate check and no RSA operation this time.");
                    s.text("Still safe: the master secret comes from the earlier full handshake, whose certificate was checked. Only the two parties of that handshake know it, and each Finished just proved knowledge of it over this handshake's fresh randoms — so both sides are the ones from before, with new keys.");
                }
                s.text("From here on every byte of HTTP travels inside encrypted, MACed records.");
                s.text(recording_verdict(info.suite));
                vec![s]
            }
        }
    }
}

// ---- the narration, one event kind at a time ----

impl Explainer {
    fn new(role: Role) -> Self {
        Self {
            role,
            server_name: None,
            server_key_bits: 0,
            server_modulus: Vec::new(),
            server_exponent: Vec::new(),
            app_records: [0; 2],
            app_bytes: [0; 2],
            step: 0,
            prf: PrfHash::Sha256,
            offered_session: Vec::new(),
            resuming: false,
        }
    }

    fn step(&mut self, title: &str) -> Step {
        self.step += 1;
        Step {
            title: format!("[TLS {}] {title}", self.step),
            lines: Vec::new(),
        }
    }

    /// "client → server" or "server → client", for a message going `direction` from our side.
    fn flow(&self, direction: Direction) -> &'static str {
        match (self.role, direction) {
            (Role::Client, Direction::Sent) | (Role::Server, Direction::Received) => {
                "client → server"
            }
            _ => "server → client",
        }
    }
}

// ---- helpers ----

fn index(direction: Direction) -> usize {
    match direction {
        Direction::Sent => 0,
        Direction::Received => 1,
    }
}

/// The one line that says whether a recording of this connection could be decrypted later by
/// whoever steals the server's private key.
pub fn recording_verdict(suite: &CipherSuite) -> &'static str {
    if suite.forward_secrecy() {
        "Could a recording of this connection be decrypted by whoever later steals the server's private key? No: ECDHE, the keys came from ephemeral keys that no longer exist (forward secrecy)."
    } else {
        "Could a recording of this connection be decrypted by whoever later steals the server's private key? Yes: RSA key transport, the key decrypts the pre-master secret in the recording (no forward secrecy)."
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}
