//! What both sides settle on in the handshake (RFC 5246 §7.4): plain data, for the
//! application and the explain view.

use crate::pki::CertError;
use crate::suites::CipherSuite;

/// What the hello extensions settled (RFC 5246 §7.4.1.4), on either side.
#[derive(Clone, Debug, Default)]
pub(crate) struct Negotiated {
    /// RFC 5746: the client signalled it (server side; the client always asks for it).
    pub secure_renegotiation: bool,
    /// RFC 7627.
    pub ems: bool,
    /// RFC 7366.
    pub etm: bool,
    /// RFC 7301: the one protocol chosen.
    pub alpn: Option<Vec<u8>>,
    /// RFC 6066 §3, server side: the host name the client asked for.
    pub server_name: Option<String>,
}

/// What the handshake settled, for the application and the explain view.
#[derive(Clone, Debug)]
pub struct SessionInfo {
    /// Always 0x0303 (TLS 1.2).
    pub version: u16,
    pub suite: &'static CipherSuite,
    pub client_random: [u8; 32],
    pub server_random: [u8; 32],
    pub session_id: Vec<u8>,
    pub extended_master_secret: bool,
    pub encrypt_then_mac: bool,
    pub alpn_protocol: Option<Vec<u8>>,
    /// The host name the client asked for (SNI).
    pub server_name: Option<String>,
    /// The chain the server sent, leaf first (DER).
    pub server_chain: Vec<Vec<u8>>,
    /// Client side: the standard checks' verdict on that chain (`Ok` = length of the verified
    /// path), even when a policy chose to continue anyway. `None` on the server side.
    pub verification: Option<Result<usize, CertError>>,
}
