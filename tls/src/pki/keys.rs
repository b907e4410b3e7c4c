//! Key files: PKCS#8 `PRIVATE KEY` (written, mode 0600), PKCS#1 `RSA PRIVATE KEY` (read), and
//! SubjectPublicKeyInfo for public keys. The DER structures come from the pkcs1/pkcs8/spki crates.
//!
//! API CONTRACT (stub — to be implemented; signatures are fixed).

use crate::crypto::rsa::{RsaPrivateKey, RsaPublicKey};
use std::path::Path;

#[derive(Debug)]
pub enum KeyError {
    Io(std::io::Error),
    /// The file exists and `force` was not given.
    Exists(std::path::PathBuf),
    /// Not PEM, wrong label, bad DER, not RSA, or unusable numbers — with a readable reason.
    Malformed(String),
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::Exists(p) => write!(
                f,
                "{} already exists (use --force to overwrite)",
                p.display()
            ),
            Self::Malformed(m) => write!(f, "not a usable RSA key: {m}"),
        }
    }
}
impl std::error::Error for KeyError {}

/// Parse `PRIVATE KEY` (PKCS#8) or `RSA PRIVATE KEY` (PKCS#1) PEM.
pub fn private_key_from_pem(_pem: &str) -> Result<RsaPrivateKey, KeyError> {
    todo!()
}
/// PKCS#8 DER of the key.
pub fn private_key_to_pkcs8_der(_key: &RsaPrivateKey) -> Vec<u8> {
    todo!()
}
/// PKCS#8 `PRIVATE KEY` PEM.
pub fn private_key_to_pem(_key: &RsaPrivateKey) -> String {
    todo!()
}
/// Read a key file (either PEM form).
pub fn read_private_key(_path: &Path) -> Result<RsaPrivateKey, KeyError> {
    todo!()
}
/// Write PKCS#8 PEM with mode 0600; refuse to replace an existing file unless `force`.
pub fn write_private_key(_path: &Path, _key: &RsaPrivateKey, _force: bool) -> Result<(), KeyError> {
    todo!()
}
/// SubjectPublicKeyInfo DER (rsaEncryption, NULL params) of a public key.
pub fn public_key_to_spki_der(_key: &RsaPublicKey) -> Vec<u8> {
    todo!()
}
/// Parse SubjectPublicKeyInfo DER; only rsaEncryption keys are accepted.
pub fn public_key_from_spki_der(_der: &[u8]) -> Result<RsaPublicKey, KeyError> {
    todo!()
}
/// Parse a PEM `PUBLIC KEY` (SPKI).
pub fn public_key_from_pem(_pem: &str) -> Result<RsaPublicKey, KeyError> {
    todo!()
}
