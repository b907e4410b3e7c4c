//! Wycheproof `x25519` vectors (RFC 7748): every valid and acceptable case gives the expected
//! shared secret from the raw X25519 function; our key-agreement entry point refuses exactly
//! the all-zero results (small-order points, RFC 7748 §6.1) and wrong-length keys.

use tls::crypto::x25519::{shared_secret, x25519, X25519Error};
use wycheproof::xdh::{TestName, TestSet};
use wycheproof::TestResult;

#[test]
fn wycheproof_x25519() {
    let set = TestSet::load(TestName::X25519).unwrap();
    let (mut checked, mut zero_refused) = (0, 0);
    for group in &set.test_groups {
        for test in &group.tests {
            let id = format!("tc {} ({})", test.tc_id, test.comment);
            let scalar: [u8; 32] = test.private_key[..]
                .try_into()
                .expect("32-byte private key");
            let Ok(public) = <[u8; 32]>::try_from(&test.public_key[..]) else {
                assert_eq!(test.result, TestResult::Invalid, "{id}");
                assert_eq!(
                    shared_secret(&scalar, &test.public_key),
                    Err(X25519Error::Length(test.public_key.len())),
                    "{id}"
                );
                checked += 1;
                continue;
            };
            let raw = x25519(&scalar, &public);
            if test.result == TestResult::Invalid {
                assert!(shared_secret(&scalar, &public).is_err(), "{id}");
            } else {
                assert_eq!(&raw[..], &test.shared_secret[..], "{id}");
                if test.shared_secret.iter().all(|&b| b == 0) {
                    assert_eq!(
                        shared_secret(&scalar, &public),
                        Err(X25519Error::ZeroSharedSecret),
                        "{id}"
                    );
                    zero_refused += 1;
                } else {
                    assert_eq!(shared_secret(&scalar, &public), Ok(raw), "{id}");
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, set.number_of_tests);
    // The set has a family of small-order public keys; make sure we met them.
    assert!(zero_refused > 5, "only {zero_refused} all-zero cases");
}
