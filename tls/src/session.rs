//! What both sides settle on in the handshake (RFC 5246 §7.4): plain data, for the
//! application and the explain view.

use crate::pki::CertError;
use crate::suites::CipherSuite;

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
    /// The chain the client authenticated with, leaf first (DER): on the server side only
    /// after it verified and the client proved it holds the key (CertificateVerify). Empty when
    /// the client sent none or was not asked. A resumed session keeps it (client identity
    /// survives resumption, RFC 5246 §7.4.6).
    pub client_chain: Vec<Vec<u8>>,
    /// Client side: the standard checks' verdict on that chain (`Ok` = length of the verified
    /// path), even when a policy chose to continue anyway. `None` on the server side.
    pub verification: Option<Result<usize, CertError>>,
}
