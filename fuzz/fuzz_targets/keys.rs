//! PEM and key-file parsing (RFC 7468 PEM; PKCS#8, PKCS#1 and SPKI DER): arbitrary text and
//! bytes never panic, and a key that parses has a consistent shape (a private key's public half
//! re-encodes and parses back to the same modulus).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tls::pki::{keys, pem};

fuzz_target!(|data: &[u8]| {
    if let Ok(blocks) = pem::parse_blocks(data) {
        for block in blocks {
            // What we write for a block reads back as the same block.
            let again = pem::encode(&block.label, &block.der);
            let reread = pem::parse_blocks(again.as_bytes()).expect("our own PEM parses");
            assert_eq!(reread, vec![block]);
        }
    }
    let _ = pem::parse_certificates(data);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(key) = keys::private_key_from_pem(text) {
            check_private(&key);
        }
        let _ = keys::public_key_from_pem(text);
    }
    for parse in [
        keys::private_key_from_pkcs8_der,
        keys::private_key_from_pkcs1_der,
    ] {
        if let Ok(key) = parse(data) {
            check_private(&key);
        }
    }
    if let Ok(public) = keys::public_key_from_spki_der(data) {
        let der = keys::public_key_to_spki_der(&public);
        let again = keys::public_key_from_spki_der(&der).expect("our own SPKI parses");
        assert_eq!(again.n(), public.n());
    }
    let _ = keys::public_key_from_pkcs1_der(data);
});

fn check_private(key: &tls::crypto::rsa::RsaPrivateKey) {
    let der = keys::private_key_to_pkcs8_der(key);
    let again = keys::private_key_from_pkcs8_der(&der).expect("our own PKCS#8 parses");
    assert_eq!(again.public_key().n(), key.public_key().n());
}
