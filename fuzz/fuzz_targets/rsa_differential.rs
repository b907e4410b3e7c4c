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

/// A 1024-bit key (made once with `openssl genpkey`): the padding checks do not depend on the
/// size, and a private operation costs an eighth of a 2048-bit one, so the fuzzer runs ~8x more
/// inputs (the SHA-512 DigestInfo, 83 bytes, still fits with room for the padding).
const KEY: &str = "\
-----BEGIN PRIVATE KEY-----
MIICdQIBADANBgkqhkiG9w0BAQEFAASCAl8wggJbAgEAAoGBALFbv214Tr9lhy7f
93shswF27ebQNLQagL+YlPvPxkfQtnFvpWKltWVGJdO/ZaUmbHT+y+8ql5xOfhrJ
Uo/KFE3E6cBPtweEh8Ce+XkKpi0BO1kkNxBB89i6e1CEm384h7VE9R8TUOTOXKbL
dwBsE4OVepmoXY/BcA7LhrwJ5O7JAgMBAAECgYByWABWh1Xdt4ssAWEAlX1e2FoQ
kPMpmlyfKbQDlLT03+5/u8cYjlUgcdU5axARJXCPDSZVj1QnhcNvaZQ897+WP/B4
v8eM3j3DeeQ8wU+OztNvvzJa4qNlrUd4iLd9JLykAVQ8rY0W7jXmkoOr9xaEpwVE
Fmi88xlujwI/CVvWMQJBAOqv3zhvRmqUOvhSSd2pwJz+VZ5nhaF6tnWujbCzVEx3
dAN2y3qELASFv5su3OzhLuiS66lR+B16Rxcu92Q9OhMCQQDBdxHgJIMMK2YZMSQj
oRQ1TgLzBw1xu7T8kiw6G6grhotIkZsa6Ns7O4Y4Pd87nOVgYbw5eN/QnJuFOV1I
788zAkAOSNgoYjWCBTW1qaSPVma/54cklh5/Hq3+abp8F944rUilcVSfR246dD2e
X3LZBDfLti2b575XZPrwwU4Tjtp7AkBx/c17iyfoCL48w7aug5+blN6qAZLLW7VV
SG9kwZ0CIGF7HcgNP/zE1trL0rDwuA5zDsNP/ceqbEw6YEV1z07/AkB5nrLFbxtK
VqG91M7Et0cINHjX96U5anJfoyxZJw2CEIB7PUQdLN6jZTgQrsBE93nIWE5tsvBJ
iGPdQYsl21I5
-----END PRIVATE KEY-----
";

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let ours = keys::private_key_from_pem(KEY).expect("our parser reads the key");
        let der = keys::private_key_to_pkcs8_der(&ours);
        let theirs = rsa::RsaPrivateKey::from_pkcs8_der(&der).expect("same key in the rsa crate");
        assert_eq!(
            theirs.n().to_bytes_be(),
            ours.public_key().n().to_bytes_be()
        );
        Keys { ours, theirs }
    })
}

// The key is parsed once, before the clock for each input starts.
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
