//! The base field GF(p) of P-256, p = 2^256 − 2^224 + 2^192 + 2^96 − 1 (FIPS 186-4 D.1.2.3).
//!
//! An element is four 64-bit limbs, least significant first, in Montgomery form a·R mod p with
//! R = 2^256, always fully reduced to [0, p). Every operation runs the same instructions
//! whatever the values: carries are propagated arithmetically and the final "subtract p if
//! needed" is a mask, never a branch, because coordinates on the private scalar's path are
//! secret.

use crate::crypto::ct::{ct_eq_u64, ct_mask_u64, ct_select_u64};

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
    let keep = ct_mask_u64(underflow);
    [
        ct_select_u64(keep, t[0], r0),
        ct_select_u64(keep, t[1], r1),
        ct_select_u64(keep, t[2], r2),
        ct_select_u64(keep, t[3], r3),
    ]
}

/// The 512-bit product a·b, schoolbook, least significant limb first.
const fn mul_wide(a: &[u64; 4], b: &[u64; 4]) -> [u64; 8] {
    let mut t = [0u64; 8];
    let mut i = 0;
    while i < 4 {
        let mut carry = 0;
        let mut j = 0;
        while j < 4 {
            (t[i + j], carry) = mac(t[i + j], a[i], b[j], carry);
            j += 1;
        }
        t[i + 4] = carry;
        i += 1;
    }
    t
}

/// The 512-bit square a², computing each cross product a_i·a_j (i < j) once and doubling.
fn square_wide(a: &[u64; 4]) -> [u64; 8] {
    // Cross products: the upper triangle.
    let mut t = [0u64; 8];
    let mut i = 0;
    while i < 3 {
        let mut carry = 0;
        let mut j = i + 1;
        while j < 4 {
            (t[i + j], carry) = mac(t[i + j], a[i], a[j], carry);
            j += 1;
        }
        t[i + 4] = carry;
        i += 1;
    }
    // Double them (a shift left by one bit across the limbs)…
    let mut k = 7;
    while k > 0 {
        t[k] = (t[k] << 1) | (t[k - 1] >> 63);
        k -= 1;
    }
    t[0] <<= 1;
    // …and add the squares a_i² on the diagonal.
    let mut carry = 0;
    let mut i = 0;
    while i < 4 {
        let (lo, hi) = mac(0, a[i], a[i], 0);
        (t[2 * i], carry) = adc(t[2 * i], lo, carry);
        (t[2 * i + 1], carry) = adc(t[2 * i + 1], hi, carry);
        i += 1;
    }
    t
}

/// Montgomery reduction t·R⁻¹ mod p of a 512-bit t < p·R, as (four limbs, carry) < 2p.
///
/// Each of the four rounds adds the multiple m·p that clears the lowest limb, then drops that
/// limb. Because p ≡ −1 (mod 2^64), m is just the limb itself, and p's sparse limbs make m·p
/// cheap: m·p₀ + m = m·2^64 and m·p₁ + that carry = m·2^32, p₂ = 0, and only m·p₃ needs a
/// multiplication.
const fn mont_reduce(mut t: [u64; 8]) -> ([u64; 4], u64) {
    // Carry into limb i + 4 left over from the previous round.
    let mut pending = 0;
    let mut i = 0;
    while i < 4 {
        let m = t[i];
        let mut c;
        let hi;
        (t[i + 1], c) = adc(t[i + 1], m << 32, 0);
        (t[i + 2], c) = adc(t[i + 2], m >> 32, c);
        (t[i + 3], hi) = mac(t[i + 3], m, P[3], c);
        (t[i + 4], pending) = adc(t[i + 4], hi, pending);
        i += 1;
    }
    ([t[4], t[5], t[6], t[7]], pending)
}

/// Canonical limbs → Montgomery form (a·R² · R⁻¹ = a·R), at compile time: the final
/// subtraction may branch, constants are public.
const fn to_montgomery_const(a: [u64; 4]) -> Fe {
    let (t, top) = mont_reduce(mul_wide(&a, &R2));
    let (r0, b) = sbb(t[0], P[0], 0);
    let (r1, b) = sbb(t[1], P[1], b);
    let (r2, b) = sbb(t[2], P[2], b);
    let (r3, b) = sbb(t[3], P[3], b);
    let (_, underflow) = sbb(top, 0, b);
    if underflow == 1 {
        Fe(t)
    } else {
        Fe([r0, r1, r2, r3])
    }
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
        let mask = ct_mask_u64(b);
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
        let (t, top) = mont_reduce(mul_wide(&self.0, &other.0));
        Fe(reduce_once(t, top))
    }

    pub(crate) fn square(&self) -> Fe {
        let (t, top) = mont_reduce(square_wide(&self.0));
        Fe(reduce_once(t, top))
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
