//! What a connection is set up with: for a server its certificate chain and key, for a client its
//! trust anchors and the policy that decides about a chain the standard checks refuse.

use crate::crypto::rsa::{RsaPrivateKey, RsaPublicKey};
use crate::pki::trust::TrustStore;
use crate::pki::verify::VerifiedChain;
use crate::pki::x509::Certificate;
use crate::pki::CertError;
use crate::session_cache::SessionCache;
use crate::suites::{CipherSuite, ALL_SUITES};
use crate::ticket::{TicketKeys, DEFAULT_ROTATION};
use crate::trace::{KeyLog, Observer};
use crate::Error;
use std::sync::Arc;

/// Settings both sides share.
#[derive(Clone)]
pub struct Common {
    /// Suites in order of preference.
    pub suites: Vec<&'static CipherSuite>,
    /// ALPN protocols (e.g. `http/1.1`); empty = don't negotiate.
    pub alpn_protocols: Vec<Vec<u8>>,
    /// Offer/accept RFC 7627 extended master secret.
    pub extended_master_secret: bool,
    /// Offer/accept RFC 7366 encrypt-then-MAC.
    pub encrypt_then_mac: bool,
    /// Largest plaintext per handshake record we send (2^14 normally; 1 in tests that split
    /// every message one byte per record).
    pub max_handshake_fragment: usize,
    pub observer: Option<Arc<dyn Observer>>,
    pub key_log: Option<Arc<dyn KeyLog>>,
}

impl Default for Common {
    fn default() -> Self {
        Self {
            suites: ALL_SUITES.to_vec(),
            alpn_protocols: vec![b"http/1.1".to_vec()],
            extended_master_secret: true,
            encrypt_then_mac: true,
            max_handshake_fragment: crate::record::MAX_PLAINTEXT,
            observer: None,
            key_log: None,
        }
    }
}

pub struct ServerConfig {
    pub common: Common,
    /// The chain we send: leaf first, then intermediates (DER).
    pub cert_chain: Vec<Vec<u8>>,
    pub private_key: RsaPrivateKey,
    /// How sessions are remembered for the abbreviated handshake.
    pub resumption: Resumption,
    /// Ask clients for a certificate (RFC 5246 §7.4.4); `None` = never ask.
    pub client_auth: Option<ClientAuth>,
    /// `cert_chain[0]` parsed once by [`ServerConfig::new`]: every ClientHello's server name is
    /// checked against it, and parsing it each time cost as much as the rest of a resumed
    /// handshake's own work.
    leaf: Certificate,
}

/// How a server remembers sessions so a client can resume them (RFC 5246 §7.3, RFC 5077).
#[derive(Clone)]
pub struct Resumption {
    /// Sessions by id (`None`: ids are random and never stored).
    pub cache: Option<Arc<SessionCache>>,
    /// Keys for RFC 5077 tickets (`None`: no tickets).
    pub tickets: Option<Arc<TicketKeys>>,
    /// Seconds a session stays resumable after its full handshake, by id or by ticket.
    pub lifetime_secs: u64,
}

/// Like nginx's `ssl_session_timeout` (5 minutes) and OpenSSL's default cache size.
pub const DEFAULT_SESSION_LIFETIME: u64 = 300;
pub const DEFAULT_SESSION_CACHE: usize = 20_000;

impl Default for Resumption {
    fn default() -> Self {
        Self {
            cache: Some(Arc::new(SessionCache::new(
                DEFAULT_SESSION_CACHE,
                DEFAULT_SESSION_LIFETIME,
            ))),
            tickets: Some(Arc::new(TicketKeys::rotating(DEFAULT_ROTATION))),
            lifetime_secs: DEFAULT_SESSION_LIFETIME,
        }
    }
}

impl Resumption {
    /// Nothing remembered: every handshake is a full one.
    pub fn off() -> Self {
        Self {
            cache: None,
            tickets: None,
            lifetime_secs: 0,
        }
    }
}

/// How a server authenticates its clients by certificate.
pub struct ClientAuth {
    /// The CAs whose client certificates we accept; their subjects are named in
    /// CertificateRequest.
    pub roots: TrustStore,
    /// Refuse a client that sends no certificate (`handshake_failure`); otherwise it is served
    /// anonymously. A certificate that is sent must verify either way.
    pub required: bool,
    /// Check validity at this Unix time instead of now (tests).
    pub verify_time: Option<i64>,
}

/// A client's certificate chain (leaf first) and the private key of its leaf.
pub struct ClientIdentity {
    pub chain: Vec<Vec<u8>>,
    pub key: RsaPrivateKey,
}

impl ClientIdentity {
    /// Checks that the key matches the leaf, so a mix-up fails at startup rather than as a
    /// `decrypt_error` from every server.
    pub fn new(chain: Vec<Vec<u8>>, key: RsaPrivateKey) -> Result<Self, Error> {
        let leaf = chain
            .first()
            .ok_or_else(|| Error::config("empty client certificate chain"))?;
        let leaf = Certificate::from_der(leaf)
            .map_err(|e| Error::config(format!("client certificate: {e}")))?;
        let leaf_key = leaf
            .public_key()
            .map_err(|e| Error::config(format!("client certificate key: {e}")))?;
        if &leaf_key != key.public_key() {
            return Err(Error::config(
                "the private key does not match the client certificate",
            ));
        }
        Ok(Self { chain, key })
    }
}

impl ServerConfig {
    /// Checks that the key matches the leaf certificate, so a misconfiguration fails at startup
    /// rather than as `decrypt_error` on every connection.
    pub fn new(cert_chain: Vec<Vec<u8>>, private_key: RsaPrivateKey) -> Result<Self, Error> {
        let leaf = cert_chain
            .first()
            .ok_or_else(|| Error::config("empty certificate chain"))?;
        let leaf = Certificate::from_der(leaf)
            .map_err(|e| Error::config(format!("leaf certificate: {e}")))?;
        let leaf_key = leaf
            .public_key()
            .map_err(|e| Error::config(format!("leaf certificate key: {e}")))?;
        if &leaf_key != private_key.public_key() {
            return Err(Error::config(
                "the private key does not match the certificate",
            ));
        }
        let bits = private_key.public_key().bits();
        if bits < crate::pki::verify::MIN_RSA_BITS {
            return Err(Error::config(format!(
                "the server key is RSA {bits} bits; at least {} are required",
                crate::pki::verify::MIN_RSA_BITS
            )));
        }
        Ok(Self {
            common: Common::default(),
            cert_chain,
            private_key,
            resumption: Resumption::default(),
            client_auth: None,
            leaf,
        })
    }

    /// Whether our leaf certificate names `host` (its DNS subjectAltNames, a left-most
    /// wildcard included). `cert_chain` is public: should it have been replaced since `new`,
    /// the new leaf is parsed.
    pub(crate) fn leaf_covers(&self, host: &str) -> bool {
        use crate::pki::verify::matches_host;
        match self.cert_chain.first() {
            Some(der) if der.as_slice() == self.leaf.der() => matches_host(&self.leaf, host),
            Some(der) => Certificate::from_der(der).is_ok_and(|leaf| matches_host(&leaf, host)),
            None => false,
        }
    }
}

/// What the client's standard checks concluded about the server's chain, for a policy to judge.
pub struct CertCheck<'a> {
    pub presented: &'a [Certificate],
    pub server_name: &'a str,
    pub outcome: &'a Result<VerifiedChain, CertError>,
}

/// Decides whether to go on with a server whose chain was checked. The default accepts exactly
/// the chains that verified; the client program plugs in a browser-like decision (an exception
/// the user remembered, a prompt, `-k`).
pub trait VerifyPolicy: Send + Sync {
    fn decide(&self, check: &CertCheck<'_>) -> Result<(), CertError>;
}

/// Accept what verified, refuse the rest with its reason.
pub struct StrictPolicy;

impl VerifyPolicy for StrictPolicy {
    fn decide(&self, check: &CertCheck<'_>) -> Result<(), CertError> {
        check.outcome.as_ref().map(|_| ()).map_err(Clone::clone)
    }
}

/// Encrypts the 48-byte pre-master secret for the server's key (see `testing_encrypt_premaster`).
pub type EncryptPremaster = fn(&RsaPublicKey, &[u8; 48]) -> Vec<u8>;

pub struct ClientConfig {
    pub common: Common,
    pub roots: TrustStore,
    pub policy: Arc<dyn VerifyPolicy>,
    /// Check validity at this Unix time instead of now (tests, `--at`).
    pub verify_time: Option<i64>,
    /// Offer the RFC 5077 session_ticket extension (accept a ticket from the server).
    pub session_tickets: bool,
    /// What we answer a CertificateRequest with; `None` = an empty Certificate.
    pub client_identity: Option<Arc<ClientIdentity>>,
    /// Test hook: replaces the PKCS#1 encryption of the pre-master secret, so a test can send
    /// a malformed one and watch the server fail only at Finished. Only with the `testing`
    /// feature, which nothing but this workspace's test builds enables.
    #[cfg(feature = "testing")]
    pub testing_encrypt_premaster: Option<EncryptPremaster>,
}

impl ClientConfig {
    pub fn new(roots: TrustStore) -> Self {
        Self {
            common: Common::default(),
            roots,
            policy: Arc::new(StrictPolicy),
            verify_time: None,
            session_tickets: true,
            client_identity: None,
            #[cfg(feature = "testing")]
            testing_encrypt_premaster: None,
        }
    }

    /// The test hook in force, if any (always none without the `testing` feature).
    pub(crate) fn encrypt_premaster_hook(&self) -> Option<EncryptPremaster> {
        #[cfg(feature = "testing")]
        return self.testing_encrypt_premaster;
        #[cfg(not(feature = "testing"))]
        None
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_leaf_checked_against_server_names_is_the_chain_s_first() {
        let pki = crate::testing::pki();
        let mut config = pki.server_config();
        assert!(config.leaf_covers("localhost"));
        assert!(!config.leaf_covers("www.localhost"));
        // The chain replaced after `new` (its fields are public): the new leaf is the one read.
        config.cert_chain = vec![pki.client.der().to_vec()];
        assert!(!config.leaf_covers("localhost"));
        config.cert_chain.clear();
        assert!(!config.leaf_covers("localhost"));
    }
}
