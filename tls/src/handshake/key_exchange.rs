//! Key exchange: how the pre-master secret crosses (RFC 5246 §7.4.7). Today RSA key transport
//! (§7.4.7.1), both sides; ECDHE (RFC 8422) goes here next. Pure: the caller emits the events.

use crate::alert::AlertDescription;
use crate::config::EncryptPremaster;
use crate::crypto::ct::{ct_eq, ct_select};
use crate::crypto::rsa::{RsaPrivateKey, RsaPublicKey};
use crate::msgs::handshake::TLS12;
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

#[cfg(test)]
mod tests {
    use super::*;

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
