//! Key exchange: how the pre-master secret is agreed (RFC 5246 §7.4.7), both sides.
//!
//! - RSA key transport (§7.4.7.1): the client encrypts 48 random bytes under the server's
//!   certificate key. Whoever later obtains that key can decrypt every recorded connection.
//! - ECDHE_RSA (RFC 8422): each side sends a fresh ephemeral public key; the server signs its
//!   own together with both randoms (ServerKeyExchange, §5.4), so the client knows it comes
//!   from the certificate's owner; the pre-master secret is the ECDH shared secret (§5.10).
//!   The ephemeral private keys are dropped after the handshake: forward secrecy.
//!
//! Pure: the caller emits the events.

use crate::alert::AlertDescription;
use crate::config::EncryptPremaster;
use crate::crypto::ct::{ct_eq, ct_select};
use crate::crypto::ecdh::{EcdhError, EphemeralKey, NamedGroup, SUPPORTED_GROUPS};
use crate::crypto::rsa::{HashAlg, RsaPrivateKey, RsaPublicKey};
use crate::msgs::handshake::{ServerKeyExchange, TLS12};
use crate::Error;

/// The client's side of RSA key transport: the secret and what goes on the wire.
pub(crate) struct KeyTransport {
    pub(crate) pre_master_secret: [u8; 48],
    /// The PKCS#1 block m (c = m^e mod n); `None` when a test hook encrypted.
    pub(crate) padded: Option<Vec<u8>>,
    /// The ClientKeyExchange payload c.
    pub(crate) encrypted: Vec<u8>,
}

/// Client: a fresh pre-master secret, encrypted under the server's key (or by the test hook
/// `ClientConfig::testing_encrypt_premaster`).
pub(crate) fn client_encrypt(
    server_key: &RsaPublicKey,
    testing_encrypt: Option<EncryptPremaster>,
) -> Result<KeyTransport, Error> {
    // pre_master_secret = client_version (2 bytes) || 46 random bytes (RFC 5246 §7.4.7.1).
    let mut pre_master_secret = [0u8; 48];
    pre_master_secret[..2].copy_from_slice(&TLS12.to_be_bytes());
    rand::fill(&mut pre_master_secret[2..]);
    let rsa_failed = |e: crate::crypto::rsa::RsaError| {
        Error::protocol(
            AlertDescription::InternalError,
            format!("RSA encryption: {e}"),
        )
    };
    // m = 00 02 || random non-zero padding || 00 || pre-master secret; c = m^e mod n.
    let (padded, encrypted) = match testing_encrypt {
        Some(encrypt) => (None, encrypt(server_key, &pre_master_secret)),
        None => {
            let m = server_key
                .pkcs1v15_encryption_block(&pre_master_secret)
                .map_err(rsa_failed)?;
            let c = server_key.raw_public(&m).map_err(rsa_failed)?;
            (Some(m), c)
        }
    };
    Ok(KeyTransport {
        pre_master_secret,
        padded,
        encrypted,
    })
}

/// Server: the pre-master secret `encrypted` carries. Whatever is wrong with it — bad padding,
/// wrong length, wrong version — the result is a random one, chosen in the same time, so the
/// only symptom is a Finished that fails to verify (Bleichenbacher; RFC 5246 §7.4.7.1). Also
/// returns the padded block the decryption computed, for observers (empty if c was out of range).
pub(crate) fn server_decrypt(
    private_key: &RsaPrivateKey,
    client_version: u16,
    encrypted: &[u8],
) -> ([u8; 48], Vec<u8>) {
    let mut fallback = [0u8; 48];
    fallback[..2].copy_from_slice(&client_version.to_be_bytes());
    rand::fill(&mut fallback[2..]);
    let (decrypted, well_formed, padded) =
        private_key.decrypt_pkcs1v15_fixed_len_with_block(encrypted, 48);
    let version_ok = ct_eq(
        decrypted.get(..2).unwrap_or(&[]),
        &client_version.to_be_bytes(),
    );
    let mut pre_master_secret = [0u8; 48];
    ct_select(
        well_formed & version_ok,
        &decrypted,
        &fallback,
        &mut pre_master_secret,
    );
    (pre_master_secret, padded)
}

/// `SignatureAndHashAlgorithm` code points for RSA PKCS#1 v1.5 (RFC 5246 §7.4.1.4.1): hash
/// in the high byte, rsa (1) in the low one.
pub(crate) const RSA_PKCS1_SHA1: u16 = 0x0201;
pub(crate) const RSA_PKCS1_SHA256: u16 = 0x0401;
pub(crate) const RSA_PKCS1_SHA384: u16 = 0x0501;
pub(crate) const RSA_PKCS1_SHA512: u16 = 0x0601;

/// The signature schemes we sign and verify ServerKeyExchange with, in our order of preference
/// (SHA-1 is only the RFC 5246 default, never chosen from a list).
pub(crate) const SIGNATURE_SCHEMES: [u16; 3] =
    [RSA_PKCS1_SHA256, RSA_PKCS1_SHA384, RSA_PKCS1_SHA512];

/// The hash of an RSA PKCS#1 v1.5 signature scheme we know.
pub(crate) fn scheme_hash(scheme: u16) -> Option<HashAlg> {
    match scheme {
        RSA_PKCS1_SHA1 => Some(HashAlg::Sha1),
        RSA_PKCS1_SHA256 => Some(HashAlg::Sha256),
        RSA_PKCS1_SHA384 => Some(HashAlg::Sha384),
        RSA_PKCS1_SHA512 => Some(HashAlg::Sha512),
        _ => None,
    }
}

/// What the server needs to offer ECDHE to this client: a group and a signature scheme both
/// sides support. `None` means the ECDHE suites are out and only RSA key transport remains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EcdheChoice {
    pub(crate) group: NamedGroup,
    pub(crate) signature_scheme: u16,
}

/// Server: the first group in OUR order that the client offers, and a signature scheme it
/// accepts.
///
/// A client without supported_groups: RFC 8422 §4 leaves the server "free to choose any one of
/// the elliptic curves"; such a client predates x25519 (RFC 8422 added it), so we take P-256,
/// the one curve every ECC client has, as OpenSSL does and tlsfuzzer expects — and no ECDHE
/// when this build has no P-256. A client without signature_algorithms gets SHA-1, the
/// RFC 5246 §7.4.1.4.1 default for RSA; one whose list holds none of ours cannot verify our
/// signature, so no ECDHE.
pub(crate) fn server_choose_ecdhe(
    client_groups: Option<&[u16]>,
    client_signature_algorithms: Option<&[u16]>,
) -> Option<EcdheChoice> {
    let group = match client_groups {
        None => NamedGroup::from_supported(NamedGroup::Secp256r1.id())?,
        Some(offered) => SUPPORTED_GROUPS
            .iter()
            .copied()
            .find(|g| offered.contains(&g.id()))?,
    };
    let signature_scheme = match client_signature_algorithms {
        None => RSA_PKCS1_SHA1,
        Some(offered) => SIGNATURE_SCHEMES
            .iter()
            .copied()
            .find(|s| offered.contains(s))?,
    };
    Some(EcdheChoice {
        group,
        signature_scheme,
    })
}

/// RFC 8422 §5.1.2: a client that lists curves of RFC 8422 in supported_groups and sends
/// ec_point_formats without uncompressed (0) must be refused with illegal_parameter.
pub(crate) fn check_point_formats(
    client_groups: Option<&[u16]>,
    formats: Option<&[u8]>,
) -> Result<(), Error> {
    // secp256r1, secp384r1, secp521r1, x25519, x448.
    const RFC8422_CURVES: [u16; 5] = [23, 24, 25, 29, 30];
    let ecc = client_groups.is_some_and(|g| g.iter().any(|id| RFC8422_CURVES.contains(id)));
    match formats {
        Some(formats) if ecc && !formats.contains(&0) => Err(Error::illegal(
            "ec_point_formats without the uncompressed format",
        )),
        _ => Ok(()),
    }
}

/// The server's half of ECDHE: its ephemeral key and the signed ServerKeyExchange.
pub(crate) struct ServerEcdhe {
    pub(crate) key: EphemeralKey,
    pub(crate) message: ServerKeyExchange,
}

/// Server: a fresh ephemeral key in `choice.group`, signed with our RSA key over both randoms.
pub(crate) fn server_key_exchange(
    private_key: &RsaPrivateKey,
    choice: EcdheChoice,
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> Result<ServerEcdhe, Error> {
    let internal = |what: String| Error::protocol(AlertDescription::InternalError, what);
    let key = EphemeralKey::generate(choice.group).map_err(|e| internal(e.to_string()))?;
    let hash = scheme_hash(choice.signature_scheme)
        .ok_or_else(|| internal("no hash for the signature scheme".into()))?;
    let content = ServerKeyExchange::signed_content(
        client_random,
        server_random,
        choice.group.id(),
        key.public_key(),
    );
    let signature = private_key
        .sign_pkcs1v15(hash, &content)
        .map_err(|e| internal(format!("signing ServerKeyExchange: {e}")))?;
    let message = ServerKeyExchange {
        named_group: choice.group.id(),
        public: key.public_key().to_vec(),
        signature_algorithm: choice.signature_scheme,
        signature,
    };
    Ok(ServerEcdhe { key, message })
}

/// Client: checks the ServerKeyExchange before anything is computed from it — a group we
/// offered (illegal_parameter), a signature scheme we offered (illegal_parameter), and the
/// signature by the certificate's key over both randoms and the params (decrypt_error, the
/// alert RFC 5246 §7.2.2 names for a signature that does not verify).
pub(crate) fn client_check_server_key_exchange(
    message: &ServerKeyExchange,
    server_key: &RsaPublicKey,
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> Result<NamedGroup, Error> {
    let group = NamedGroup::from_supported(message.named_group).ok_or_else(|| {
        Error::illegal(format!(
            "server chose group {}, which we did not offer",
            crate::crypto::ecdh::group_name(message.named_group)
        ))
    })?;
    let hash = SIGNATURE_SCHEMES
        .contains(&message.signature_algorithm)
        .then(|| scheme_hash(message.signature_algorithm))
        .flatten()
        .ok_or_else(|| {
            Error::illegal(format!(
                "server signed with scheme {:#06x}, which we did not offer",
                message.signature_algorithm
            ))
        })?;
    let content = ServerKeyExchange::signed_content(
        client_random,
        server_random,
        message.named_group,
        &message.public,
    );
    server_key
        .verify_pkcs1v15(hash, &content, &message.signature)
        .map_err(|e| {
            Error::protocol(
                AlertDescription::DecryptError,
                format!("ServerKeyExchange signature: {e}"),
            )
        })?;
    Ok(group)
}

/// The shared secret with the peer's point, a bad point refused with illegal_parameter: a wrong
/// length or an off-curve point, or for X25519 a small-order one (all-zero result). OpenSSL
/// sends illegal_parameter for an X25519 point whose result is zero too (its key derivation
/// failure is reported as SSL_R_BAD_ECPOINT... on the server; as a client it also aborts with
/// illegal_parameter), so we do the same on both sides.
pub(crate) fn agree(key: &EphemeralKey, peer: &[u8]) -> Result<[u8; 32], Error> {
    key.agree(peer).map_err(|e| match e {
        EcdhError::Unsupported(_) => {
            Error::protocol(AlertDescription::InternalError, e.to_string())
        }
        _ => Error::illegal(format!("peer's ECDH public key: {e}")),
    })
}

/// Client: our ephemeral key in the server's group (the ClientKeyExchange carries its public
/// half) and the shared secret, the pre-master secret (RFC 8422 §5.10).
pub(crate) fn client_ecdhe(
    group: NamedGroup,
    server_public: &[u8],
) -> Result<(EphemeralKey, [u8; 32]), Error> {
    let key = EphemeralKey::generate(group)
        .map_err(|e| Error::protocol(AlertDescription::InternalError, e.to_string()))?;
    let shared = agree(&key, server_public)?;
    Ok((key, shared))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_choice_follows_our_order_and_the_rfc_defaults() {
        let x25519 = Some(EcdheChoice {
            group: NamedGroup::X25519,
            signature_scheme: RSA_PKCS1_SHA256,
        });
        // Our order wins over the client's.
        assert_eq!(
            server_choose_ecdhe(Some(&[23, 29]), Some(&[0x0601, 0x0401])),
            x25519
        );
        // No common group, no common scheme: no ECDHE.
        assert_eq!(server_choose_ecdhe(Some(&[24]), Some(&[0x0401])), None);
        assert_eq!(server_choose_ecdhe(Some(&[29]), Some(&[0x0403])), None);
        // No supported_groups: P-256 if we have it (else no ECDHE). No signature_algorithms:
        // SHA-1.
        assert_eq!(
            server_choose_ecdhe(None, None),
            SUPPORTED_GROUPS
                .contains(&NamedGroup::Secp256r1)
                .then_some(EcdheChoice {
                    group: NamedGroup::Secp256r1,
                    signature_scheme: RSA_PKCS1_SHA1,
                })
        );
        assert_eq!(
            server_choose_ecdhe(Some(&[29]), None),
            Some(EcdheChoice {
                group: NamedGroup::X25519,
                signature_scheme: RSA_PKCS1_SHA1,
            })
        );
    }

    #[test]
    fn point_formats() {
        assert!(check_point_formats(Some(&[29]), Some(&[0, 1])).is_ok());
        assert!(check_point_formats(Some(&[29]), None).is_ok());
        assert!(check_point_formats(Some(&[29]), Some(&[1])).is_err());
        // Only FFDHE groups: the RFC 8422 rule does not apply.
        assert!(check_point_formats(Some(&[256]), Some(&[1])).is_ok());
    }

    /// What one side signs, the other verifies; a changed point, random or scheme fails.
    #[test]
    fn server_key_exchange_signature_round_trip() {
        let key = crate::crypto::rsa::test_key();
        let choice = EcdheChoice {
            group: NamedGroup::X25519,
            signature_scheme: RSA_PKCS1_SHA384,
        };
        let (cr, sr) = ([1; 32], [2; 32]);
        let server = server_key_exchange(key, choice, &cr, &sr).expect("sign");
        let check = |m: &ServerKeyExchange, cr: &[u8; 32]| {
            client_check_server_key_exchange(m, key.public_key(), cr, &sr)
        };
        assert_eq!(check(&server.message, &cr).ok(), Some(NamedGroup::X25519));
        let alert = |r: Result<NamedGroup, Error>| match r {
            Err(Error::Protocol { alert, .. }) => Some(alert),
            _ => None,
        };
        assert_eq!(
            alert(check(&server.message, &[9; 32])),
            Some(AlertDescription::DecryptError)
        );
        let mut bent = server.message.clone();
        bent.public[0] ^= 1;
        assert_eq!(
            alert(check(&bent, &cr)),
            Some(AlertDescription::DecryptError)
        );
        let mut other_group = server.message.clone();
        other_group.named_group = 24;
        assert_eq!(
            alert(check(&other_group, &cr)),
            Some(AlertDescription::IllegalParameter)
        );
        let mut sha1 = server.message.clone();
        sha1.signature_algorithm = RSA_PKCS1_SHA1;
        assert_eq!(
            alert(check(&sha1, &cr)),
            Some(AlertDescription::IllegalParameter)
        );

        // Both sides reach the same secret; an all-zero point is illegal_parameter.
        let (client, shared) =
            client_ecdhe(NamedGroup::X25519, &server.message.public).expect("agree");
        assert_eq!(agree(&server.key, client.public_key()).ok(), Some(shared));
        assert!(matches!(
            agree(&server.key, &[0; 32]),
            Err(Error::Protocol {
                alert: AlertDescription::IllegalParameter,
                ..
            })
        ));
    }

    /// The block the server's decryption hands back (for observers) is the client's m itself.
    #[test]
    fn server_decrypt_hands_back_the_clients_block() {
        let key = crate::crypto::rsa::test_key();
        let sent = client_encrypt(key.public_key(), None).expect("encrypt");
        let (premaster, padded) = server_decrypt(key, TLS12, &sent.encrypted);
        assert_eq!(premaster, sent.pre_master_secret);
        assert_eq!(Some(padded), sent.padded);
        // A ciphertext out of range gives no block (and a random secret).
        let (_, none) = server_decrypt(key, TLS12, &[0xff; 1024]);
        assert!(none.is_empty());
    }
}
