//! The base field GF(p) of P-256, p = 2^256 − 2^224 + 2^192 + 2^96 − 1 (FIPS 186-4 D.1.2.3).
//!
//! An element is four 64-bit limbs, least significant first, in Montgomery form a·R mod p with
//! R = 2^256, always fully reduced to [0, p). Every operation runs the same instructions
//! whatever the values: carries are propagated arithmetically and the final "subtract p if
//! needed" is a mask, never a branch, because coordinates on the private scalar's path are
//! secret.

use crate::crypto::ct::{ct_eq_u64, ct_select_u64};

/// p, least significant limb first.
const P: [u64; 4] = [
    0xffff_ffff_ffff_ffff,
    0x0000_0000_ffff_ffff,
    0x0000_0000_0000_0000,
    0xffff_ffff_0000_0001,
];

/// R² mod p: multiplying by it (Montgomery) turns a canonical value into Montgomery form.
const R2: [u64; 4] = [
    0x0000_0000_0000_0003,
    0xffff_fffb_ffff_ffff,
    0xffff_ffff_ffff_fffe,
    0x0000_0004_ffff_fffd,
];

/// An element of GF(p) in Montgomery form.
#[derive(Clone, Copy)]
pub(crate) struct Fe([u64; 4]);

/// a + b + carry → (sum, carry out); carry is 0 or 1.
const fn adc(a: u64, b: u64, carry: u64) -> (u64, u64) {
    let t = a as u128 + b as u128 + carry as u128;
    (t as u64, (t >> 64) as u64)
}

/// a − b − borrow → (difference, borrow out); borrow is 0 or 1.
const fn sbb(a: u64, b: u64, borrow: u64) -> (u64, u64) {
    let t = (a as u128).wrapping_sub(b as u128 + borrow as u128);
    (t as u64, (t >> 127) as u64)
}

/// a + b·c + carry → (low, high); cannot overflow 128 bits.
const fn mac(a: u64, b: u64, c: u64, carry: u64) -> (u64, u64) {
    let t = a as u128 + (b as u128) * (c as u128) + carry as u128;
    (t as u64, (t >> 64) as u64)
}

/// The 5-limb value (t, top) minus p if it is at least p, else unchanged. Callers guarantee
/// (t, top) < 2p, so one conditional subtraction reduces fully.
fn reduce_once(t: [u64; 4], top: u64) -> [u64; 4] {
    let (r0, b) = sbb(t[0], P[0], 0);
    let (r1, b) = sbb(t[1], P[1], b);
    let (r2, b) = sbb(t[2], P[2], b);
    let (r3, b) = sbb(t[3], P[3], b);
    // The subtraction borrowed out of the fifth limb exactly when (t, top) < p: keep t then.
    let (_, underflow) = sbb(top, 0, b);
    let keep = underflow.wrapping_neg();
    [
        ct_select_u64(keep, t[0], r0),
        ct_select_u64(keep, t[1], r1),
        ct_select_u64(keep, t[2], r2),
        ct_select_u64(keep, t[3], r3),
    ]
}

/// Montgomery product a·b·R⁻¹ mod p (operand scanning, "CIOS"). Since p ≡ −1 (mod 2^64),
/// −p⁻¹ mod 2^64 is 1 and each round's multiple of p is simply the current low limb.
/// A `const fn` (hence the `while` loops) so the curve constants are converted at compile time.
const fn mont_mul(a: &[u64; 4], b: &[u64; 4]) -> ([u64; 4], u64) {
    let mut t = [0u64; 6];
    let mut i = 0;
    while i < 4 {
        // t += a·b[i]
        let mut carry = 0;
        let mut j = 0;
        while j < 4 {
            (t[j], carry) = mac(t[j], a[j], b[i], carry);
            j += 1;
        }
        (t[4], t[5]) = adc(t[4], carry, 0);
        // t = (t + m·p) / 2^64, with m chosen so the low limb cancels.
        let m = t[0];
        let (_, mut carry) = mac(t[0], m, P[0], 0);
        let mut j = 1;
        while j < 4 {
            (t[j - 1], carry) = mac(t[j], m, P[j], carry);
            j += 1;
        }
        let (s, c) = adc(t[4], carry, 0);
        t[3] = s;
        t[4] = t[5] + c;
        i += 1;
    }
    // t < 2p here; the caller reduces once.
    ([t[0], t[1], t[2], t[3]], t[4])
}

/// Canonical limbs → Montgomery form, at compile time (no constant-time need for constants).
const fn to_montgomery_const(a: [u64; 4]) -> Fe {
    let (t, top) = mont_mul(&a, &R2);
    // R² < p and a < p, so the product is already below p: the result t < p and top = 0.
    assert!(top == 0);
    Fe(t)
}

/// Big-endian hex of a canonical value → limbs, at compile time.
const fn limbs_from_be_hex(hex: &str) -> [u64; 4] {
    let s = hex.as_bytes();
    assert!(s.len() == 64);
    let mut limbs = [0u64; 4];
    let mut i = 0;
    while i < 64 {
        let c = s[i];
        let v = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => panic!("not a hex digit"),
        };
        let limb = 3 - i / 16;
        limbs[limb] = (limbs[limb] << 4) | v as u64;
        i += 1;
    }
    limbs
}

impl Fe {
    pub(crate) const ZERO: Fe = Fe([0; 4]);
    pub(crate) const ONE: Fe = to_montgomery_const([1, 0, 0, 0]);

    /// A constant from the curve definition, as big-endian hex; it must be below p.
    pub(crate) const fn from_hex(hex: &str) -> Fe {
        let a = limbs_from_be_hex(hex);
        // Below p: compare limbs from the top (compile time only).
        let mut i = 4;
        let mut below = false;
        while i > 0 {
            i -= 1;
            if a[i] != P[i] {
                below = a[i] < P[i];
                break;
            }
        }
        assert!(below);
        to_montgomery_const(a)
    }

    /// Parses 32 big-endian bytes; `None` if the value is not below p (SEC 1 §2.3.5 requires
    /// field elements in [0, p−1]). The comparison is constant time; only its verdict branches.
    pub(crate) fn from_be_bytes(bytes: &[u8; 32]) -> Option<Fe> {
        let mut a = [0u64; 4];
        for (i, limb) in a.iter_mut().enumerate() {
            let start = 32 - 8 * (i + 1);
            let mut word = [0u8; 8];
            word.copy_from_slice(&bytes[start..start + 8]);
            *limb = u64::from_be_bytes(word);
        }
        // a − p borrows exactly when a < p.
        let (_, b) = sbb(a[0], P[0], 0);
        let (_, b) = sbb(a[1], P[1], b);
        let (_, b) = sbb(a[2], P[2], b);
        let (_, b) = sbb(a[3], P[3], b);
        if b == 0 {
            return None;
        }
        Some(Fe(a).mul(&Fe(R2)))
    }

    /// The canonical value as 32 big-endian bytes (SEC 1 §2.3.5).
    pub(crate) fn to_be_bytes(self) -> [u8; 32] {
        // Montgomery-multiplying by 1 divides by R, leaving the canonical value.
        let canonical = self.mul(&Fe([1, 0, 0, 0]));
        let mut out = [0u8; 32];
        for (i, limb) in canonical.0.iter().enumerate() {
            let start = 32 - 8 * (i + 1);
            out[start..start + 8].copy_from_slice(&limb.to_be_bytes());
        }
        out
    }

    pub(crate) fn add(&self, other: &Fe) -> Fe {
        let (r0, c) = adc(self.0[0], other.0[0], 0);
        let (r1, c) = adc(self.0[1], other.0[1], c);
        let (r2, c) = adc(self.0[2], other.0[2], c);
        let (r3, c) = adc(self.0[3], other.0[3], c);
        // Both below p, so the sum is below 2p.
        Fe(reduce_once([r0, r1, r2, r3], c))
    }

    pub(crate) fn sub(&self, other: &Fe) -> Fe {
        let (r0, b) = sbb(self.0[0], other.0[0], 0);
        let (r1, b) = sbb(self.0[1], other.0[1], b);
        let (r2, b) = sbb(self.0[2], other.0[2], b);
        let (r3, b) = sbb(self.0[3], other.0[3], b);
        // On a borrow the difference wrapped around 2^256: adding p (masked in) brings it back.
        let mask = b.wrapping_neg();
        let (r0, c) = adc(r0, P[0] & mask, 0);
        let (r1, c) = adc(r1, P[1] & mask, c);
        let (r2, c) = adc(r2, P[2] & mask, c);
        let (r3, _) = adc(r3, P[3] & mask, c);
        Fe([r0, r1, r2, r3])
    }

    pub(crate) fn double(&self) -> Fe {
        self.add(self)
    }

    pub(crate) fn mul(&self, other: &Fe) -> Fe {
        let (t, top) = mont_mul(&self.0, &other.0);
        Fe(reduce_once(t, top))
    }

    pub(crate) fn square(&self) -> Fe {
        self.mul(self)
    }

    /// self^(2^k): k squarings in a row.
    fn square_times(&self, k: u32) -> Fe {
        let mut r = *self;
        for _ in 0..k {
            r = r.square();
        }
        r
    }

    /// self^(p−2), which is self⁻¹ when self ≠ 0 (Fermat) and 0 when self = 0. The exponent is
    /// public and fixed, so this addition chain does the same squarings and multiplications for
    /// every input, unlike a (variable-time) extended Euclid.
    pub(crate) fn invert(&self) -> Fe {
        // p − 2 in binary, from the top: 32 ones, 31 zeros, a one, 96 zeros, 94 ones, "01".
        // x_k below is self^(2^k − 1), i.e. k ones.
        let x1 = *self;
        let x2 = x1.square().mul(&x1);
        let x3 = x2.square().mul(&x1);
        let x6 = x3.square_times(3).mul(&x3);
        let x12 = x6.square_times(6).mul(&x6);
        let x15 = x12.square_times(3).mul(&x3);
        let x30 = x15.square_times(15).mul(&x15);
        let x32 = x30.square_times(2).mul(&x2);
        let t = x32.square_times(32).mul(&x1); // 32 ones, 31 zeros, 1
        let t = t.square_times(128).mul(&x32); // 96 zeros, 32 ones
        let t = t.square_times(32).mul(&x32); // 64 ones
        let t = t.square_times(30).mul(&x30); // 94 ones
        t.square_times(2).mul(&x1) // "01"
    }

    /// All-ones if self = 0, else zero.
    pub(crate) fn is_zero(&self) -> u64 {
        let any = self.0[0] | self.0[1] | self.0[2] | self.0[3];
        ct_eq_u64(any, 0)
    }

    /// All-ones if self = other, else zero (both are fully reduced, so limbs decide).
    pub(crate) fn ct_eq(&self, other: &Fe) -> u64 {
        let diff = (self.0[0] ^ other.0[0])
            | (self.0[1] ^ other.0[1])
            | (self.0[2] ^ other.0[2])
            | (self.0[3] ^ other.0[3]);
        ct_eq_u64(diff, 0)
    }

    /// `a` if mask is all-ones, `b` if zero.
    pub(crate) fn select(mask: u64, a: &Fe, b: &Fe) -> Fe {
        Fe([
            ct_select_u64(mask, a.0[0], b.0[0]),
            ct_select_u64(mask, a.0[1], b.0[1]),
            ct_select_u64(mask, a.0[2], b.0[2]),
            ct_select_u64(mask, a.0[3], b.0[3]),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigUint;
    use proptest::prelude::*;

    fn p() -> BigUint {
        BigUint::from_bytes_be(&hex::decode(P_HEX).unwrap())
    }

    const P_HEX: &str = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";

    fn fe(x: &BigUint) -> Fe {
        let mut b = [0u8; 32];
        let bytes = x.to_bytes_be();
        b[32 - bytes.len()..].copy_from_slice(&bytes);
        Fe::from_be_bytes(&b).unwrap()
    }

    fn big(x: Fe) -> BigUint {
        BigUint::from_bytes_be(&x.to_be_bytes())
    }

    fn below_p() -> impl Strategy<Value = BigUint> {
        // Random 256-bit values reduced mod p, plus the edges where carries and borrows live.
        prop_oneof![
            any::<[u8; 32]>().prop_map(|b| BigUint::from_bytes_be(&b) % p()),
            Just(BigUint::from(0u8)),
            Just(BigUint::from(1u8)),
            Just(p() - 1u8),
            Just(p() - 2u8),
            Just(BigUint::from(1u8) << 255u32),
        ]
    }

    #[test]
    fn constants_match_their_definition() {
        assert_eq!(P, limbs_from_be_hex(P_HEX));
        let r = BigUint::from(1u8) << 256u32;
        let r2 = &r * &r % p();
        assert_eq!(BigUint::from_slice(&u64s_to_u32s(&R2)), r2);
        assert_eq!(big(Fe::ONE), BigUint::from(1u8));
        assert_eq!(big(Fe::ZERO), BigUint::from(0u8));
    }

    fn u64s_to_u32s(a: &[u64; 4]) -> Vec<u32> {
        a.iter()
            .flat_map(|l| [*l as u32, (*l >> 32) as u32])
            .collect()
    }

    #[test]
    fn decoding_rejects_p_and_above() {
        let p_bytes: [u8; 32] = hex::decode(P_HEX).unwrap().try_into().unwrap();
        assert!(Fe::from_be_bytes(&p_bytes).is_none());
        assert!(Fe::from_be_bytes(&[0xff; 32]).is_none());
        let mut p_minus_1 = p_bytes;
        p_minus_1[31] -= 1;
        assert_eq!(
            Fe::from_be_bytes(&p_minus_1).unwrap().to_be_bytes(),
            p_minus_1
        );
    }

    #[test]
    fn inverse_of_zero_is_zero() {
        assert_eq!(Fe::ZERO.invert().is_zero(), u64::MAX);
    }

    proptest! {
        #[test]
        fn arithmetic_matches_biguint(a in below_p(), b in below_p()) {
            let (x, y) = (fe(&a), fe(&b));
            let p = p();
            prop_assert_eq!(big(x.add(&y)), (&a + &b) % &p);
            prop_assert_eq!(big(x.sub(&y)), (&a + &p - &b) % &p);
            prop_assert_eq!(big(x.mul(&y)), (&a * &b) % &p);
            prop_assert_eq!(big(x.square()), (&a * &a) % &p);
            prop_assert_eq!(big(x.invert()), a.modpow(&(&p - 2u8), &p));
            prop_assert_eq!(x.ct_eq(&y) == u64::MAX, a == b);
            prop_assert_eq!(x.is_zero() == u64::MAX, a == BigUint::from(0u8));
            prop_assert_eq!(big(Fe::select(u64::MAX, &x, &y)), a.clone());
            prop_assert_eq!(big(Fe::select(0, &x, &y)), b);
        }
    }
}
