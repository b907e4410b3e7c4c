//! Differential: our PKCS#1 v1.5 decryption (RFC 8017 §7.2.2) and signature verification
//! (§8.2.2) against the RustCrypto `rsa` crate, on the same key and the same inputs. The fuzzer
//! chooses the padded block EM itself (we raise it to e, or to d, to make the ciphertext or the
//! signature), so it can reach every way a padding can be almost right. Both must give the same
//! verdict, and the same message when they accept.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use sha1_rustcrypto::Sha1;
use sha2_rustcrypto::{Sha256, Sha384, Sha512};
use std::sync::OnceLock;
use tls::crypto::rsa::{HashAlg, RsaPrivateKey};
use tls::pki::keys;

struct Keys {
    ours: RsaPrivateKey,
    theirs: rsa::RsaPrivateKey,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let ours = tls::testing::pki().leaf_private_key();
        let der = keys::private_key_to_pkcs8_der(&ours);
        let theirs = rsa::RsaPrivateKey::from_pkcs8_der(&der).expect("same key in the rsa crate");
        assert_eq!(
            theirs.n().to_bytes_be(),
            ours.public_key().n().to_bytes_be()
        );
        Keys { ours, theirs }
    })
}

// Key generation (the test PKI) happens once, before the clock for each input starts.
fuzz_target!(init: { keys(); }, |data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let keys = keys();
    let k = keys.ours.size();
    // EM: the fuzzer's bytes, zero-filled on the left to k bytes (a padded block starts 00).
    let mut em = vec![0u8; k];
    let take = rest.len().min(k);
    em[k - take..].copy_from_slice(&rest[..take]);
    if mode & 1 == 0 {
        decryption(keys, &em);
    } else {
        let hashes = [HashAlg::Sha1, HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512];
        let hash = hashes[usize::from(mode >> 1) % hashes.len()];
        signature(keys, &em, hash);
    }
});

fn decryption(keys: &Keys, em: &[u8]) {
    let Ok(ciphertext) = keys.ours.public_key().raw_public(em) else {
        return; // EM >= n: not a ciphertext either side would see
    };
    let ours = keys.ours.decrypt_pkcs1v15(&ciphertext).ok();
    let theirs = keys.theirs.decrypt(rsa::Pkcs1v15Encrypt, &ciphertext).ok();
    assert_eq!(
        ours,
        theirs,
        "decryption verdicts differ for EM {}",
        hex(em)
    );
}

fn signature(keys: &Keys, em: &[u8], hash: HashAlg) {
    let Ok(sig) = keys.ours.raw_private(em) else {
        return;
    };
    // The digest is EM's tail, so a well-formed EM is also a signature over that digest.
    let digest = &em[em.len() - hash.output_len()..];
    let public = keys.ours.public_key();
    let ours = public.verify_pkcs1v15_prehashed(hash, digest, &sig).is_ok();
    let scheme = match hash {
        HashAlg::Sha1 => rsa::Pkcs1v15Sign::new::<Sha1>(),
        HashAlg::Sha256 => rsa::Pkcs1v15Sign::new::<Sha256>(),
        HashAlg::Sha384 => rsa::Pkcs1v15Sign::new::<Sha384>(),
        HashAlg::Sha512 => rsa::Pkcs1v15Sign::new::<Sha512>(),
    };
    let theirs = keys
        .theirs
        .to_public_key()
        .verify(scheme, digest, &sig)
        .is_ok();
    assert_eq!(
        ours,
        theirs,
        "{hash:?} signature verdicts differ for EM {}",
        hex(em)
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
