//! Private scalars: integers in [1, n−1], n the order of the base point (FIPS 186-4 D.1.2.3).
//!
//! ECDH never does arithmetic modulo n; a scalar is only range-checked and then read four bits
//! at a time by the scalar multiplication. Both happen without branching on its value.

use crate::crypto::ct::ct_eq_u64;

/// n, least significant limb first.
const N: [u64; 4] = [
    0xf3b9_cac2_fc63_2551,
    0xbce6_faad_a717_9e84,
    0xffff_ffff_ffff_ffff,
    0xffff_ffff_0000_0000,
];

/// A validated private scalar, kept as its 32 big-endian bytes.
#[derive(Clone, Copy)]
pub(crate) struct Scalar([u8; 32]);

impl Scalar {
    /// The scalar if 1 ≤ k ≤ n−1 (SEC 1 §3.2.1: a private key is in [1, n−1]). Both tests run
    /// over every limb whatever the value; only the final yes/no is a branch.
    pub(crate) fn from_be_bytes(bytes: &[u8; 32]) -> Option<Scalar> {
        let mut borrow = 0u64;
        let mut any = 0u64;
        for (i, n_limb) in N.iter().enumerate() {
            let start = 32 - 8 * (i + 1);
            let mut word = [0u8; 8];
            word.copy_from_slice(&bytes[start..start + 8]);
            let limb = u64::from_be_bytes(word);
            any |= limb;
            // k − n, limb by limb: a borrow out of the top means k < n.
            let t = (limb as u128).wrapping_sub(*n_limb as u128 + borrow as u128);
            borrow = (t >> 127) as u64;
        }
        let below_n = borrow.wrapping_neg();
        let nonzero = !ct_eq_u64(any, 0);
        if std::hint::black_box(below_n & nonzero) == u64::MAX {
            Some(Scalar(*bytes))
        } else {
            None
        }
    }

    /// The 64 four-bit digits of the scalar, most significant first. The positions are public;
    /// the digits are secret and are only ever compared in constant time.
    pub(crate) fn nibbles_msb_first(&self) -> impl Iterator<Item = u8> + '_ {
        self.0.iter().flat_map(|b| [b >> 4, b & 0x0f])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const N_BE: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";

    fn bytes(hex: &str) -> [u8; 32] {
        hex::decode(hex).unwrap().try_into().unwrap()
    }

    #[test]
    fn range_is_one_to_n_minus_one() {
        let n = bytes(N_BE);
        let mut n_minus_1 = n;
        n_minus_1[31] -= 1;
        let mut n_plus_1 = n;
        n_plus_1[31] += 1;
        let mut one = [0u8; 32];
        one[31] = 1;
        assert!(Scalar::from_be_bytes(&[0; 32]).is_none());
        assert!(Scalar::from_be_bytes(&one).is_some());
        assert!(Scalar::from_be_bytes(&n_minus_1).is_some());
        assert!(Scalar::from_be_bytes(&n).is_none());
        assert!(Scalar::from_be_bytes(&n_plus_1).is_none());
        assert!(Scalar::from_be_bytes(&[0xff; 32]).is_none());
    }

    #[test]
    fn nibbles_read_from_the_top() {
        let mut k = [0u8; 32];
        k[0] = 0xab;
        k[31] = 0x0c;
        let d: Vec<u8> = Scalar(k).nibbles_msb_first().collect();
        assert_eq!(d.len(), 64);
        assert_eq!((d[0], d[1], d[62], d[63]), (0xa, 0xb, 0x0, 0xc));
    }
}
