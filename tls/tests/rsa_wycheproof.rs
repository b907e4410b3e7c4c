//! Wycheproof vectors for PKCS#1 v1.5 (RFC 8017 §7.2 decryption, §8.2 signatures): every
//! "valid" case must pass, every "invalid" case must fail, "acceptable" may go either way.
//! The groups' key encodings (SPKI DER, PKCS#8 DER, PEM) also go through our key-file parsers.

use num_bigint::BigUint;
use tls::crypto::rsa::{HashAlg, RsaPrivateKey, RsaPublicKey};
use tls::pki::keys;
use wycheproof::TestResult;

fn big(bytes: &[u8]) -> BigUint {
    BigUint::from_bytes_be(bytes)
}

fn check_signature_set(name: wycheproof::rsa_pkcs1_verify::TestName, hash: HashAlg) {
    let set = wycheproof::rsa_pkcs1_verify::TestSet::load(name).unwrap();
    let mut checked = 0;
    for group in &set.test_groups {
        let key = RsaPublicKey::new(big(&group.key.n), big(&group.key.e)).unwrap();
        // The same key from its SPKI DER and PEM forms.
        assert_eq!(keys::public_key_from_spki_der(&group.der).unwrap(), key);
        assert_eq!(keys::public_key_from_pem(&group.pem).unwrap(), key);
        assert_eq!(keys::public_key_to_spki_der(&key), group.der.to_vec());
        for test in &group.tests {
            let outcome = key.verify_pkcs1v15(hash, &test.msg, &test.sig);
            match test.result {
                TestResult::Valid => assert!(
                    outcome.is_ok(),
                    "{name:?} tc {} ({}) should verify: {outcome:?}",
                    test.tc_id,
                    test.comment
                ),
                TestResult::Invalid => assert!(
                    outcome.is_err(),
                    "{name:?} tc {} ({}) should be rejected",
                    test.tc_id,
                    test.comment
                ),
                TestResult::Acceptable => {}
            }
            checked += 1;
        }
    }
    assert_eq!(checked, set.number_of_tests);
}

#[test]
fn pkcs1v15_signatures_2048() {
    use wycheproof::rsa_pkcs1_verify::TestName::*;
    check_signature_set(Rsa2048Sha256, HashAlg::Sha256);
    check_signature_set(Rsa2048Sha384, HashAlg::Sha384);
    check_signature_set(Rsa2048Sha512, HashAlg::Sha512);
}

#[test]
fn pkcs1v15_signatures_3072() {
    use wycheproof::rsa_pkcs1_verify::TestName::*;
    check_signature_set(Rsa3072Sha256, HashAlg::Sha256);
    check_signature_set(Rsa3072Sha384, HashAlg::Sha384);
    check_signature_set(Rsa3072Sha512, HashAlg::Sha512);
}

#[test]
fn pkcs1v15_signatures_4096() {
    use wycheproof::rsa_pkcs1_verify::TestName::*;
    check_signature_set(Rsa4096Sha256, HashAlg::Sha256);
    check_signature_set(Rsa4096Sha384, HashAlg::Sha384);
    check_signature_set(Rsa4096Sha512, HashAlg::Sha512);
}

fn check_decryption_set(name: wycheproof::rsa_pkcs1_decrypt::TestName) {
    let set = wycheproof::rsa_pkcs1_decrypt::TestSet::load(name).unwrap();
    let mut checked = 0;
    for group in &set.test_groups {
        let k = &group.key;
        let key =
            RsaPrivateKey::from_components(big(&k.n), big(&k.e), big(&k.d), big(&k.p), big(&k.q))
                .unwrap();
        // Our CRT values agree with the file's, and the PKCS#8 and PEM forms parse the same.
        assert_eq!(key.dp(), &big(&k.d1));
        assert_eq!(key.dq(), &big(&k.d2));
        assert_eq!(keys::private_key_from_pkcs8_der(&group.pkcs8).unwrap(), key);
        assert_eq!(keys::private_key_from_pem(&group.pem).unwrap(), key);
        for test in &group.tests {
            let outcome = key.decrypt_pkcs1v15(&test.ct);
            let (fixed, fixed_ok) = key.decrypt_pkcs1v15_fixed_len(&test.ct, test.pt.len());
            assert_eq!(fixed.len(), test.pt.len());
            match test.result {
                TestResult::Valid => {
                    assert_eq!(
                        outcome.as_deref(),
                        Ok(&test.pt[..]),
                        "{name:?} tc {} ({})",
                        test.tc_id,
                        test.comment
                    );
                    assert!(fixed_ok, "{name:?} tc {} fixed-length", test.tc_id);
                    assert_eq!(fixed, test.pt.to_vec());
                }
                TestResult::Invalid => {
                    assert_eq!(
                        outcome,
                        Err(tls::crypto::rsa::RsaError::Decryption),
                        "{name:?} tc {} ({}) should be rejected",
                        test.tc_id,
                        test.comment
                    );
                    assert!(!fixed_ok, "{name:?} tc {} fixed-length", test.tc_id);
                    // And with the TLS pre-master secret length too.
                    assert!(!key.decrypt_pkcs1v15_fixed_len(&test.ct, 48).1);
                }
                TestResult::Acceptable => {}
            }
            checked += 1;
        }
    }
    assert_eq!(checked, set.number_of_tests);
}

#[test]
fn pkcs1v15_decryption_2048() {
    check_decryption_set(wycheproof::rsa_pkcs1_decrypt::TestName::Rsa2048);
}

#[test]
fn pkcs1v15_decryption_3072() {
    check_decryption_set(wycheproof::rsa_pkcs1_decrypt::TestName::Rsa3072);
}

#[test]
fn pkcs1v15_decryption_4096() {
    check_decryption_set(wycheproof::rsa_pkcs1_decrypt::TestName::Rsa4096);
}
