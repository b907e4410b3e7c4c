//! P-256 ECDH (`tls::crypto::p256`): known answers (small multiples of G, keys made by openssl,
//! RFC 5903 §8.1), the Wycheproof `ecdh_secp256r1_ecpoint` vectors, the refusals SEC 1 §3.2.2
//! requires, and a property test against a textbook affine implementation on `BigUint`.

use num_bigint::BigUint;
use proptest::prelude::*;
use tls::crypto::p256::{
    public_key, random_scalar, shared_secret, PointError, POINT_LEN, SCALAR_LEN,
};

const P_HEX: &str = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";
const N_HEX: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
const B_HEX: &str = "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b";
const G_HEX: &str = "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296\
                     4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";

fn bytes<const L: usize>(hex: &str) -> [u8; L] {
    let v = hex::decode(hex).unwrap();
    v.try_into().unwrap()
}

fn scalar_from_int(k: &BigUint) -> [u8; SCALAR_LEN] {
    let b = k.to_bytes_be();
    let mut out = [0u8; SCALAR_LEN];
    out[SCALAR_LEN - b.len()..].copy_from_slice(&b);
    out
}

fn int(hex: &str) -> BigUint {
    BigUint::parse_bytes(hex.as_bytes(), 16).unwrap()
}

/// Small multiples of G: the widely published P-256 "point multiplication" vectors (k = 1, 2, 3)
/// and k = n − 1, which is −G = (Gx, p − Gy).
#[test]
fn small_multiples_of_the_generator() {
    let cases: [(&str, &str); 4] = [
        ("01", G_HEX),
        (
            "02",
            "047cf27b188d034f7e8a52380304b51ac3c08969e277f21b35a60b48fc47669978\
             07775510db8ed040293d9ac69f7430dbba7dade63ce982299e04b79d227873d1",
        ),
        (
            "03",
            "045ecbe4d1a6330a44c8f7ef951d4bf165e6c6b721efada985fb41661bc6e7fd6c\
             8734640c4998ff7e374b06ce1a64a2ecd82ab036384fb83d9a79b127a27d5032",
        ),
        (
            "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632550",
            "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296\
             b01cbd1c01e58065711814b583f061e9d431cca994cea1313449bf97c840ae0a",
        ),
    ];
    for (k, expected) in cases {
        let k = scalar_from_int(&int(k));
        assert_eq!(
            hex::encode(public_key(&k).unwrap()),
            expected.replace(' ', ""),
            "k = {}",
            hex::encode(k)
        );
    }
}

/// Keys generated on the development machine with
/// `openssl ecparam -name prime256v1 -genkey -noout | openssl ec -text -noout`
/// (OpenSSL 3.0), private scalar and uncompressed public key copied from its output.
#[test]
fn keys_generated_by_openssl() {
    let cases = [
        (
            "b82588e0baaff85969ba774d3d327f79bad708252a905f67daf2a9b645101fb7",
            "044ae5dd66b6a26e38eb224d6b4b327406808244e595b65a1f409f28a729cb1449\
             ba2379c4cad8ad47ccfd3424ef6602ff5dadf2cd59d4b90f4a220a7ff1a2c7ae",
        ),
        (
            "177d12f76c818abc3099485cf11ff27ef9419fe503a0ccc93758cc5d642f6985",
            "04ee3cf2240b2e86dc60cd69d7a4654c3cce8e1cf47202695ae138392bd8967432\
             520dfef67d3de49bd34341f9198fb02848cebcfa3a51fe578ed0dcb2a12c7d42",
        ),
        (
            "42490a9bab4f475fc2f23f44c9731a0f434173c100855cc0f3161d48d7e45722",
            "04b5025443489a90cf2e8295943acc0fd84ed975c2b13099b07df8b5a55c734112\
             7675270e80e2840cfe4bb35db862f4023160332e548dd0cbb464d62fba28fb57",
        ),
    ];
    for (d, q) in cases {
        assert_eq!(
            hex::encode(public_key(&bytes(d)).unwrap()),
            q.replace(' ', "")
        );
    }
}

/// RFC 5903 §8.1: the 256-bit random ECP group test vector (i, g^i, r, g^r, g^ir).
#[test]
fn rfc5903_ecdh_vector() {
    let i: [u8; 32] = bytes("c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433");
    let gi = "04dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180\
              5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3";
    let r: [u8; 32] = bytes("c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53");
    let gr = "04d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63\
              56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab";
    let gir = "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de";
    let gi = gi.replace(' ', "");
    let gr = gr.replace(' ', "");
    assert_eq!(hex::encode(public_key(&i).unwrap()), gi);
    assert_eq!(hex::encode(public_key(&r).unwrap()), gr);
    let gr_bytes = hex::decode(&gr).unwrap();
    let gi_bytes = hex::decode(&gi).unwrap();
    assert_eq!(hex::encode(shared_secret(&i, &gr_bytes).unwrap()), gir);
    assert_eq!(hex::encode(shared_secret(&r, &gi_bytes).unwrap()), gir);
}

/// Wycheproof's private keys are minimal big-endian integers (a leading 00 when the top bit is
/// set, or shorter than 32 bytes); ours are exactly 32 bytes.
fn wycheproof_scalar(raw: &[u8]) -> [u8; SCALAR_LEN] {
    let first = raw.iter().position(|&b| b != 0).unwrap_or(raw.len());
    scalar_from_int(&BigUint::from_bytes_be(&raw[first..]))
}

/// Every "valid" case must give Wycheproof's shared secret; every "invalid" one (points off the
/// curve, compressed points, the empty string) must be refused. The one "acceptable" case is a
/// compressed public key, which we refuse: RFC 8422 §5.4 lets TLS peers send only uncompressed
/// points.
#[test]
fn wycheproof_ecdh_secp256r1_ecpoint() {
    use wycheproof::ecdh::{TestName, TestSet};
    use wycheproof::TestResult;
    let set = TestSet::load(TestName::EcdhSecp256r1Ecpoint).unwrap();
    let (mut valid, mut refused) = (0, 0);
    for group in &set.test_groups {
        for test in &group.tests {
            let d = wycheproof_scalar(&test.private_key);
            let outcome = shared_secret(&d, &test.public_key);
            match test.result {
                TestResult::Valid => {
                    assert_eq!(
                        outcome.map(hex::encode),
                        Ok(hex::encode(&*test.shared_secret)),
                        "tc {} ({})",
                        test.tc_id,
                        test.comment
                    );
                    valid += 1;
                }
                TestResult::Invalid | TestResult::Acceptable => {
                    let err = outcome.expect_err(&format!("tc {} must be refused", test.tc_id));
                    // Refused for the point, not because the scalar happened to be bad.
                    assert_ne!(err, PointError::BadScalar, "tc {}", test.tc_id);
                    refused += 1;
                }
            }
        }
    }
    assert_eq!(valid + refused, set.number_of_tests);
    assert!(
        valid > 300 && refused > 20,
        "{valid} valid, {refused} refused"
    );
}

fn generator() -> Vec<u8> {
    hex::decode(G_HEX.replace(' ', "")).unwrap()
}

fn one() -> [u8; 32] {
    scalar_from_int(&BigUint::from(1u8))
}

#[test]
fn refuses_malformed_peer_points() {
    let g = generator();
    assert_eq!(shared_secret(&one(), &g).unwrap(), g[1..33]);

    assert_eq!(shared_secret(&one(), &[]), Err(PointError::Length));
    assert_eq!(shared_secret(&one(), &g[..64]), Err(PointError::Length));
    let mut longer = g.clone();
    longer.push(0);
    assert_eq!(shared_secret(&one(), &longer), Err(PointError::Length));

    // SEC 1's identity encoding, and an all-zero "point".
    assert_eq!(shared_secret(&one(), &[0x00]), Err(PointError::Identity));
    assert_eq!(
        shared_secret(&one(), &[0u8; POINT_LEN]),
        Err(PointError::NotUncompressed)
    );
    let mut zero = [0u8; POINT_LEN];
    zero[0] = 0x04;
    assert_eq!(shared_secret(&one(), &zero), Err(PointError::NotOnCurve));

    // Compressed (33 bytes) and hybrid (0x06/0x07) forms.
    let mut compressed = vec![0x02 | (g[64] & 1)];
    compressed.extend_from_slice(&g[1..33]);
    assert_eq!(
        shared_secret(&one(), &compressed),
        Err(PointError::NotUncompressed)
    );
    for prefix in [0x02, 0x03, 0x06, 0x07] {
        let mut p = g.clone();
        p[0] = prefix;
        assert_eq!(shared_secret(&one(), &p), Err(PointError::NotUncompressed));
    }

    // Off the curve: G with y + 1.
    let mut off = g.clone();
    off[64] ^= 1;
    assert_eq!(shared_secret(&one(), &off), Err(PointError::NotOnCurve));

    // A coordinate ≥ p (SEC 1 §2.3.4 wants field elements in [0, p−1]): p itself and 2^256 − 1,
    // in x and in y.
    let p: [u8; 32] = bytes(P_HEX);
    for (start, value) in [(1, p), (1, [0xff; 32]), (33, p), (33, [0xff; 32])] {
        let mut big = g.clone();
        big[start..start + 32].copy_from_slice(&value);
        assert_eq!(
            shared_secret(&one(), &big),
            Err(PointError::CoordinateTooLarge)
        );
    }
}

/// Zero is a valid coordinate: (0, ±√b) is on the curve (b is a square mod p), so 1·(0, y) has
/// x-coordinate zero and must come back as 32 zero bytes, not be mistaken for the identity.
#[test]
fn accepts_a_point_with_x_zero() {
    let p = int(P_HEX);
    // p ≡ 3 (mod 4): the square root of b is b^((p+1)/4); check it really is one.
    let b = int(B_HEX);
    let y = b.modpow(&((&p + 1u8) >> 2u32), &p);
    assert_eq!((&y * &y) % &p, b);
    for y in [y.clone(), &p - &y] {
        let mut point = vec![0x04];
        point.extend_from_slice(&[0u8; 32]);
        point.extend_from_slice(&scalar_from_int(&y));
        assert_eq!(shared_secret(&one(), &point), Ok([0u8; 32]));
    }
}

#[test]
fn refuses_scalars_outside_one_to_n_minus_one() {
    let g = generator();
    let n = int(N_HEX);
    for k in [BigUint::from(0u8), n.clone(), &n + 1u8] {
        let k = scalar_from_int(&k);
        assert_eq!(public_key(&k), Err(PointError::BadScalar));
        assert_eq!(shared_secret(&k, &g), Err(PointError::BadScalar));
    }
    assert_eq!(public_key(&[0xff; 32]), Err(PointError::BadScalar));
    assert!(public_key(&scalar_from_int(&(&n - 1u8))).is_ok());
}

#[test]
fn random_scalars_are_valid_and_distinct() {
    let mut rng = rand::rng();
    let a = random_scalar(&mut rng);
    let b = random_scalar(&mut rng);
    assert_ne!(a, b);
    assert!(public_key(&a).is_ok() && public_key(&b).is_ok());
}

/// A generator whose first draws are out of range (0, then n, then all-ones) before a good one:
/// rejection sampling must skip them and return the first in-range draw.
#[test]
fn random_scalar_rejects_out_of_range_draws() {
    struct Scripted(Vec<[u8; 32]>);
    impl rand::TryRng for Scripted {
        type Error = std::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            unreachable!()
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            unreachable!()
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            dst.copy_from_slice(&self.0.remove(0));
            Ok(())
        }
    }
    let good: [u8; 32] = bytes("c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433");
    let mut rng = Scripted(vec![[0; 32], bytes(N_HEX), [0xff; 32], good]);
    assert_eq!(random_scalar(&mut rng), good);
}

#[test]
fn error_messages_say_why() {
    assert_eq!(
        PointError::NotOnCurve.to_string(),
        "P-256 point is not on the curve"
    );
    assert!(PointError::BadScalar.to_string().contains("[1, n-1]"));
}

/// The textbook affine group law on `BigUint` (SEC 1 §2.2.1), slow and obviously right:
/// the oracle for the property test.
mod reference {
    use super::*;

    pub type Affine = Option<(BigUint, BigUint)>;

    fn p() -> BigUint {
        int(P_HEX)
    }

    fn inv(a: &BigUint) -> BigUint {
        let p = p();
        a.modpow(&(&p - 2u8), &p)
    }

    pub fn add(a: &Affine, b: &Affine) -> Affine {
        let p = p();
        let (x1, y1) = match a {
            None => return b.clone(),
            Some(pt) => pt,
        };
        let (x2, y2) = match b {
            None => return a.clone(),
            Some(pt) => pt,
        };
        let lambda = if x1 == x2 {
            if (y1 + y2) % &p == BigUint::from(0u8) {
                return None;
            }
            // (3x² − 3) / 2y
            (x1 * x1 * 3u8 + &p * 3u8 - 3u8) * inv(&(y1 * 2u8)) % &p
        } else {
            (y2 + &p - y1) * inv(&((x2 + &p - x1) % &p)) % &p
        };
        let x3 = (&lambda * &lambda + &p * 2u8 - x1 - x2) % &p;
        let y3 = (&lambda * ((x1 + &p - &x3) % &p) + &p - y1) % &p;
        Some((x3, y3))
    }

    pub fn mul(k: &BigUint, point: &Affine) -> Affine {
        let mut acc = None;
        for i in (0..k.bits()).rev() {
            acc = add(&acc, &acc);
            if k.bit(i) {
                acc = add(&acc, point);
            }
        }
        acc
    }

    pub fn decode(bytes: &[u8]) -> Affine {
        Some((
            BigUint::from_bytes_be(&bytes[1..33]),
            BigUint::from_bytes_be(&bytes[33..65]),
        ))
    }

    pub fn encode(point: &Affine) -> Vec<u8> {
        let (x, y) = point.as_ref().unwrap();
        let mut out = vec![0x04];
        out.extend_from_slice(&scalar_from_int(x));
        out.extend_from_slice(&scalar_from_int(y));
        out
    }
}

fn scalar_below_n() -> impl Strategy<Value = [u8; 32]> {
    any::<[u8; 32]>().prop_map(|b| {
        let n = int(N_HEX);
        scalar_from_int(&(BigUint::from_bytes_be(&b) % (&n - 1u8) + 1u8))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Both sides of a Diffie-Hellman exchange agree, and agree with the reference.
    #[test]
    fn ecdh_commutes_and_matches_reference(a in scalar_below_n(), b in scalar_below_n()) {
        let a_pub = public_key(&a).unwrap();
        let b_pub = public_key(&b).unwrap();
        let ab = shared_secret(&a, &b_pub).unwrap();
        let ba = shared_secret(&b, &a_pub).unwrap();
        prop_assert_eq!(ab, ba);

        let g = reference::decode(&generator());
        let a_int = BigUint::from_bytes_be(&a);
        let expected_pub = reference::mul(&a_int, &g);
        prop_assert_eq!(a_pub.to_vec(), reference::encode(&expected_pub));
        let b_int = BigUint::from_bytes_be(&b);
        let expected = reference::mul(&a_int, &reference::decode(&b_pub));
        prop_assert_eq!(ab.to_vec(), reference::encode(&expected)[1..33].to_vec());
        prop_assert_eq!(
            reference::mul(&b_int, &reference::decode(&a_pub)),
            expected
        );
    }
}
