//! PKCS#1 v1.5 (RFC 8017): encryption with block type 2 (§7.2), signatures with block type 1
//! (§8.2, §9.2). The decryption padding check is a branch-free scan, so a TLS server can follow
//! RFC 5246 §7.4.7.1 (Bleichenbacher) without leaking where the padding went wrong.

use super::{HashAlg, RsaError, RsaPrivateKey, RsaPublicKey};
use crate::crypto::ct::{ct_eq, ct_eq_u8, ct_eq_usize, ct_ge_usize, ct_select_usize};
use rand::Rng;

impl RsaPublicKey {
    /// PKCS#1 v1.5 encryption (EME, block type 2, non-zero random padding). Output is `size()` bytes.
    pub fn encrypt_pkcs1v15(&self, msg: &[u8]) -> Result<Vec<u8>, RsaError> {
        self.raw_public(&self.pkcs1v15_encryption_block(msg)?)
    }
    /// The EME-PKCS1-v1_5 block m = 00 02 || non-zero random padding || 00 || msg that
    /// `encrypt_pkcs1v15` raises to the power e (exposed so the explain view can show m).
    pub fn pkcs1v15_encryption_block(&self, msg: &[u8]) -> Result<Vec<u8>, RsaError> {
        let k = self.size();
        // RFC 8017 §7.2.1 step 1: at least 8 bytes of padding plus the 3 fixed bytes.
        if msg.len() > k.saturating_sub(11) {
            return Err(RsaError::MessageTooLong);
        }
        let ps_len = k - msg.len() - 3;
        let mut em = Vec::with_capacity(k);
        em.extend_from_slice(&[0x00, 0x02]);
        em.extend_from_slice(&nonzero_random_bytes(ps_len));
        em.push(0x00);
        em.extend_from_slice(msg);
        Ok(em)
    }
    /// Verify a PKCS#1 v1.5 signature over `message` (hashed here with `hash`).
    pub fn verify_pkcs1v15(
        &self,
        hash: HashAlg,
        message: &[u8],
        sig: &[u8],
    ) -> Result<(), RsaError> {
        self.verify_pkcs1v15_prehashed(hash, &hash.digest(message), sig)
    }
    /// Verify a PKCS#1 v1.5 signature over an already computed `digest` (RFC 8017 §8.2.2): the
    /// expected encoding is rebuilt and compared whole, never parsed (no BERserk-style leniency).
    pub fn verify_pkcs1v15_prehashed(
        &self,
        hash: HashAlg,
        digest: &[u8],
        sig: &[u8],
    ) -> Result<(), RsaError> {
        let k = self.size();
        if sig.len() != k {
            return Err(RsaError::BadSignature);
        }
        let expected = emsa_pkcs1v15_encode(hash, digest, k).map_err(|_| RsaError::BadSignature)?;
        let em = self.raw_public(sig).map_err(|_| RsaError::BadSignature)?;
        if ct_eq(&em, &expected) {
            Ok(())
        } else {
            Err(RsaError::BadSignature)
        }
    }
}

impl RsaPrivateKey {
    /// PKCS#1 v1.5 decryption. Any failure is `RsaError::Decryption`, whatever the cause.
    pub fn decrypt_pkcs1v15(&self, ciphertext: &[u8]) -> Result<Vec<u8>, RsaError> {
        let em = self
            .raw_private(ciphertext)
            .map_err(|_| RsaError::Decryption)?;
        let scan = eme_pkcs1v15_scan(&em);
        if scan.valid == 0 {
            return Err(RsaError::Decryption);
        }
        em.get(scan.zero_index + 1..)
            .map(<[u8]>::to_vec)
            .ok_or(RsaError::Decryption)
    }
    /// Decryption for TLS RSA key exchange (RFC 5246 §7.4.7.1): always returns `expected_len`
    /// bytes and a validity flag, computed without branching on secret data, so the caller can
    /// substitute a random pre-master secret without a timing difference.
    pub fn decrypt_pkcs1v15_fixed_len(
        &self,
        ciphertext: &[u8],
        expected_len: usize,
    ) -> (Vec<u8>, bool) {
        let (out, valid, _) = self.decrypt_pkcs1v15_fixed_len_with_block(ciphertext, expected_len);
        (out, valid)
    }
    /// [`decrypt_pkcs1v15_fixed_len`](Self::decrypt_pkcs1v15_fixed_len), also handing back the
    /// padded block EM = c^d mod n it computed (empty if the ciphertext was out of range), so an
    /// observer can be shown it without a second private-key operation.
    pub fn decrypt_pkcs1v15_fixed_len_with_block(
        &self,
        ciphertext: &[u8],
        expected_len: usize,
    ) -> (Vec<u8>, bool, Vec<u8>) {
        let k = self.size();
        let mut out = vec![0u8; expected_len];
        // Length and range of the ciphertext are public: rejecting them early leaks nothing.
        let Ok(em) = self.raw_private(ciphertext) else {
            return (out, false, Vec::new());
        };
        let scan = eme_pkcs1v15_scan(&em);
        // The message is what follows the zero separator: k − zero_index − 1 bytes.
        let msg_len = k.wrapping_sub(scan.zero_index).wrapping_sub(1);
        let valid = scan.valid & ct_eq_usize(msg_len, expected_len);
        // The last `expected_len` bytes of EM, whatever the padding said (public lengths only).
        let take = expected_len.min(k);
        let (dst, src) = (&mut out[expected_len - take..], &em[k - take..]);
        dst.copy_from_slice(src);
        (out, std::hint::black_box(valid) != 0, em)
    }
    /// PKCS#1 v1.5 signature over `message` (hashed here with `hash`).
    pub fn sign_pkcs1v15(&self, hash: HashAlg, message: &[u8]) -> Result<Vec<u8>, RsaError> {
        self.sign_pkcs1v15_prehashed(hash, &hash.digest(message))
    }
    /// PKCS#1 v1.5 signature over an already computed `digest` (RFC 8017 §8.2.1).
    pub fn sign_pkcs1v15_prehashed(
        &self,
        hash: HashAlg,
        digest: &[u8],
    ) -> Result<Vec<u8>, RsaError> {
        let em = emsa_pkcs1v15_encode(hash, digest, self.size())?;
        self.raw_private(&em)
    }
}

/// EMSA-PKCS1-v1_5 (RFC 8017 §9.2): 00 01 FF…FF 00 DigestInfo, `k` bytes long.
fn emsa_pkcs1v15_encode(hash: HashAlg, digest: &[u8], k: usize) -> Result<Vec<u8>, RsaError> {
    if digest.len() != hash.output_len() {
        return Err(RsaError::InvalidKey(
            "digest length does not match the hash",
        ));
    }
    let prefix = hash.digest_info_prefix();
    let t_len = prefix.len() + digest.len();
    // Step 3: "intended encoded message length too short" when fewer than 8 bytes of FF fit.
    if k < t_len + 11 {
        return Err(RsaError::MessageTooLong);
    }
    let mut em = Vec::with_capacity(k);
    em.extend_from_slice(&[0x00, 0x01]);
    em.resize(k - t_len - 1, 0xff);
    em.push(0x00);
    em.extend_from_slice(prefix);
    em.extend_from_slice(digest);
    Ok(em)
}

/// `len` random bytes, none of them zero (the PS of EME-PKCS1-v1_5).
fn nonzero_random_bytes(len: usize) -> Vec<u8> {
    let mut rng = rand::rng();
    let mut out = vec![0u8; len];
    rng.fill_bytes(&mut out);
    for byte in &mut out {
        while *byte == 0 {
            let mut one = [0u8; 1];
            rng.fill_bytes(&mut one);
            *byte = one[0];
        }
    }
    out
}

/// Result of the branch-free EME-PKCS1-v1_5 scan: `valid` is all-ones or zero.
struct EmeScan {
    valid: u32,
    /// Index of the 00 separator (meaningful only when valid).
    zero_index: usize,
}

/// Check 00 02 PS(≥ 8 non-zero) 00 M over every byte, with masks instead of branches, so the
/// time taken does not depend on where (or whether) the padding is wrong (Bleichenbacher 1998).
fn eme_pkcs1v15_scan(em: &[u8]) -> EmeScan {
    let mut first = [0u8; 2];
    for (dst, src) in first.iter_mut().zip(em) {
        *dst = *src;
    }
    let mut valid = ct_eq_u8(first[0], 0x00) & ct_eq_u8(first[1], 0x02) & ct_ge_usize(em.len(), 11);
    let mut looking = u32::MAX;
    let mut zero_index = 0usize;
    for (i, &byte) in em.iter().enumerate().skip(2) {
        let is_zero = ct_eq_u8(byte, 0);
        let hit = looking & is_zero;
        zero_index = ct_select_usize(hit, i, zero_index);
        looking &= !is_zero;
    }
    // A separator must exist, after at least 8 bytes of PS (index ≥ 2 + 8).
    valid &= !looking & ct_ge_usize(zero_index, 10);
    EmeScan {
        valid: std::hint::black_box(valid),
        zero_index,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::rsa::test_key;

    #[test]
    fn encrypt_decrypt_round_trip() {
        let key = test_key();
        for len in [0usize, 1, 48, 245] {
            let msg: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let ct = key.public_key().encrypt_pkcs1v15(&msg).unwrap();
            assert_eq!(ct.len(), 256);
            assert_eq!(key.decrypt_pkcs1v15(&ct).unwrap(), msg);
        }
        assert_eq!(
            key.public_key().encrypt_pkcs1v15(&[1u8; 246]),
            Err(RsaError::MessageTooLong)
        );
    }

    #[test]
    fn fixed_len_decrypt_flags_padding_errors() {
        let key = test_key();
        let pms = [7u8; 48];
        let ct = key.public_key().encrypt_pkcs1v15(&pms).unwrap();
        assert_eq!(
            key.decrypt_pkcs1v15_fixed_len(&ct, 48),
            (pms.to_vec(), true)
        );
        let (out, ok) = key.decrypt_pkcs1v15_fixed_len(&ct, 47);
        assert!(!ok);
        assert_eq!(out.len(), 47);

        // Hand-made encoded blocks with one defect each.
        let k = key.size();
        let good = |ps_len: usize| {
            let mut em = vec![0x00, 0x02];
            em.extend(std::iter::repeat_n(0x55, ps_len));
            em.push(0);
            em.resize(k, 0x33);
            em
        };
        let mut bad_type = good(k - 51);
        bad_type[1] = 0x01;
        let mut bad_first = good(k - 51);
        bad_first[0] = 0x01;
        let short_ps = good(7); // separator too early: PS under 8 bytes
        let mut no_zero = good(k - 51);
        no_zero[k - 49] = 0x44;
        for (em, why) in [
            (bad_type, "block type"),
            (short_ps, "short PS"),
            (no_zero, "no separator"),
        ] {
            let ct = key.public_key().raw_public(&em).unwrap();
            let (out, ok) = key.decrypt_pkcs1v15_fixed_len(&ct, 48);
            assert!(!ok, "{why}");
            assert_eq!(out.len(), 48);
            assert_eq!(
                key.decrypt_pkcs1v15(&ct),
                Err(RsaError::Decryption),
                "{why}"
            );
        }
        // A leading non-zero byte makes EM ≥ n for some keys: must still fail, not panic.
        if let Ok(ct) = key.public_key().raw_public(&bad_first) {
            assert!(!key.decrypt_pkcs1v15_fixed_len(&ct, 48).1);
        }
        // And the good one passes through the same path.
        let ct = key.public_key().raw_public(&good(k - 51)).unwrap();
        assert_eq!(
            key.decrypt_pkcs1v15_fixed_len(&ct, 48),
            (vec![0x33; 48], true)
        );
        // Wrong-length ciphertext: fixed-size output, invalid.
        assert_eq!(
            key.decrypt_pkcs1v15_fixed_len(&[1, 2, 3], 48),
            (vec![0; 48], false)
        );
    }

    #[test]
    fn sign_verify_all_hashes() {
        let key = test_key();
        let all = [
            HashAlg::Sha1,
            HashAlg::Sha256,
            HashAlg::Sha384,
            HashAlg::Sha512,
        ];
        for hash in all {
            let sig = key.sign_pkcs1v15(hash, b"hello").unwrap();
            key.public_key()
                .verify_pkcs1v15(hash, b"hello", &sig)
                .unwrap();
            assert_eq!(
                key.public_key().verify_pkcs1v15(hash, b"hellp", &sig),
                Err(RsaError::BadSignature)
            );
            let mut bent = sig.clone();
            bent[100] ^= 1;
            assert!(key
                .public_key()
                .verify_pkcs1v15(hash, b"hello", &bent)
                .is_err());
            assert!(key
                .public_key()
                .verify_pkcs1v15(hash, b"hello", &sig[1..])
                .is_err());
        }
        let sig = key.sign_pkcs1v15(HashAlg::Sha256, b"x").unwrap();
        assert!(key
            .public_key()
            .verify_pkcs1v15(HashAlg::Sha384, b"x", &sig)
            .is_err());
    }

    #[test]
    fn signature_encoding_matches_rfc8017() {
        // EM for SHA-256 of "abc" under a 2048-bit key: 00 01 FF×202 00 DigestInfo.
        let digest = HashAlg::Sha256.digest(b"abc");
        let em = emsa_pkcs1v15_encode(HashAlg::Sha256, &digest, 256).unwrap();
        assert_eq!(em.len(), 256);
        assert_eq!(&em[..2], &[0, 1]);
        assert!(em[2..204].iter().all(|&b| b == 0xff));
        assert_eq!(em[204], 0);
        assert_eq!(
            hex_of(&em[205..224]),
            "3031300d060960864801650304020105000420"
        );
        assert_eq!(
            hex_of(&em[224..]),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        #[test]
        fn random_ciphertexts_fail_quietly(
            ct in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)
        ) {
            let key = test_key();
            // A random block is valid PKCS#1 only with negligible probability.
            proptest::prop_assert_eq!(key.decrypt_pkcs1v15(&ct), Err(RsaError::Decryption));
            let (out, ok) = key.decrypt_pkcs1v15_fixed_len(&ct, 48);
            proptest::prop_assert!(!ok);
            proptest::prop_assert_eq!(out.len(), 48);
        }

        #[test]
        fn random_signatures_are_rejected(
            sig in proptest::collection::vec(proptest::prelude::any::<u8>(), 250..260)
        ) {
            let public = test_key().public_key();
            proptest::prop_assert_eq!(
                public.verify_pkcs1v15(HashAlg::Sha256, b"m", &sig),
                Err(RsaError::BadSignature)
            );
        }

    }

    fn hex_of(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
