//! Ephemeral elliptic-curve Diffie-Hellman as TLS 1.2 uses it (RFC 8422): the named groups and
//! one ephemeral key pair per handshake. Each side sends its public key, computes the same
//! shared secret from the peer's, and throws its private key away: a recording of the
//! connection stays undecryptable even to whoever later steals the server's long-term key.
//!
//! The curve arithmetic lives one module per curve: `crypto::x25519` (RFC 7748) and, for
//! secp256r1, `crypto::p256` (SEC 1 uncompressed points).

use crate::crypto::x25519::{self, X25519Error};

/// `NamedGroup` code points (RFC 8422 §5.1.1, IANA "TLS Supported Groups").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum NamedGroup {
    /// NIST P-256 (SEC 2 secp256r1): 65-byte uncompressed points `04 ‖ x ‖ y`.
    Secp256r1 = 23,
    /// Curve25519's X25519 function (RFC 7748): 32-byte u-coordinates.
    X25519 = 29,
}

/// The groups this build can compute with, in our order of preference: the server picks the
/// first of these the client offers; the client offers them in this order.
///
/// LEAD: once `crypto::p256` is merged, add `NamedGroup::Secp256r1` here (after X25519), an
/// `EcdhError::P256(p256::PointError)` variant (and its Display arm), and fill the two
/// `Secp256r1` arms below with `p256::random_scalar`/`public_key` and `p256::shared_secret`
/// mapped to `EcdhError::P256`. Nothing else changes: the client offers, and the server picks
/// from, this list; a client without supported_groups then gets P-256.
pub const SUPPORTED_GROUPS: &[NamedGroup] = &[NamedGroup::X25519];

impl NamedGroup {
    pub fn from_u16(id: u16) -> Option<Self> {
        match id {
            23 => Some(Self::Secp256r1),
            29 => Some(Self::X25519),
            _ => None,
        }
    }

    pub fn id(self) -> u16 {
        self as u16
    }

    /// The IANA name (`x25519`, `secp256r1`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Secp256r1 => "secp256r1",
            Self::X25519 => "x25519",
        }
    }

    /// A group we can compute with (see [`SUPPORTED_GROUPS`]).
    pub fn from_supported(id: u16) -> Option<Self> {
        Self::from_u16(id).filter(|g| SUPPORTED_GROUPS.contains(g))
    }
}

/// Name of a group code point for traces: IANA name or the number.
pub fn group_name(id: u16) -> String {
    match NamedGroup::from_u16(id) {
        Some(g) => g.name().to_string(),
        None => format!("group {id}"),
    }
}

/// Why a key agreement failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EcdhError {
    /// The peer's X25519 key is the wrong length or of small order.
    X25519(X25519Error),
    /// A group this build does not compute with.
    Unsupported(NamedGroup),
}

impl std::fmt::Display for EcdhError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::X25519(e) => e.fmt(f),
            Self::Unsupported(g) => write!(f, "group {} is not supported", g.name()),
        }
    }
}

impl std::error::Error for EcdhError {}

/// One ephemeral key pair, used for one handshake and dropped. The private scalar never leaves
/// this struct (no accessor, no `Debug` of it).
pub struct EphemeralKey {
    group: NamedGroup,
    scalar: [u8; 32],
    public: Vec<u8>,
}

impl EphemeralKey {
    /// A fresh key pair in `group`, from the operating system's generator (via `rand`).
    pub fn generate(group: NamedGroup) -> Result<Self, EcdhError> {
        let mut rng = rand::rng();
        match group {
            NamedGroup::X25519 => {
                let scalar = x25519::random_scalar(&mut rng);
                let public = x25519::public_key(&scalar).to_vec();
                Ok(Self {
                    group,
                    scalar,
                    public,
                })
            }
            // LEAD: p256::random_scalar(&mut rng), p256::public_key(&scalar)?.to_vec().
            NamedGroup::Secp256r1 => Err(EcdhError::Unsupported(group)),
        }
    }

    pub fn group(&self) -> NamedGroup {
        self.group
    }

    /// Our public key as it goes on the wire (the ECPoint).
    pub fn public_key(&self) -> &[u8] {
        &self.public
    }

    /// The shared secret with the peer's public key, after checking it (length, and for X25519
    /// the all-zero result of a small-order point).
    pub fn agree(&self, peer: &[u8]) -> Result<[u8; 32], EcdhError> {
        match self.group {
            NamedGroup::X25519 => {
                x25519::shared_secret(&self.scalar, peer).map_err(EcdhError::X25519)
            }
            // LEAD: p256::shared_secret(&self.scalar, peer) (off-curve/identity refused there).
            NamedGroup::Secp256r1 => Err(EcdhError::Unsupported(self.group)),
        }
    }
}

impl std::fmt::Debug for EphemeralKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EphemeralKey")
            .field("group", &self.group)
            .field("public", &crate::text::hex(&self.public))
            .finish_non_exhaustive()
    }
}

impl Drop for EphemeralKey {
    /// Forget the scalar: the whole point of an ephemeral key is that it does not outlive the
    /// handshake.
    fn drop(&mut self) {
        self.scalar = std::hint::black_box([0u8; 32]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_agree_and_keys_are_fresh() {
        let a = EphemeralKey::generate(NamedGroup::X25519).expect("x25519");
        let b = EphemeralKey::generate(NamedGroup::X25519).expect("x25519");
        assert_ne!(a.public_key(), b.public_key());
        assert_eq!(a.public_key().len(), 32);
        assert_eq!(a.agree(b.public_key()), b.agree(a.public_key()));
        assert_eq!(
            a.agree(&[0; 32]),
            Err(EcdhError::X25519(X25519Error::ZeroSharedSecret))
        );
    }

    #[test]
    fn code_points() {
        assert_eq!(NamedGroup::X25519.id(), 29);
        assert_eq!(NamedGroup::Secp256r1.id(), 23);
        assert_eq!(NamedGroup::from_u16(29), Some(NamedGroup::X25519));
        assert_eq!(NamedGroup::from_u16(24), None);
        assert_eq!(group_name(30), "group 30");
    }
}
