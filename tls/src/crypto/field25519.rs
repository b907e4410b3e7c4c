//! Arithmetic modulo p = 2^255 − 19, the field X25519 works in (RFC 7748 §4.1, §5).
//!
//! An element is five 64-bit limbs of 51 bits each (radix 2^51): h = h0 + h1·2^51 + … + h4·2^204.
//! Limbs may run a few bits over 51 between operations ("weakly reduced"); only `to_bytes` gives
//! the canonical value. The ladder's sums and differences are not carried at all
//! ([`Unreduced`]): the product they feed absorbs the extra bits. Multiplication folds the part above 2^255 back in with ×19, because
//! 2^255 ≡ 19 (mod p). Every operation runs the same instructions whatever the values: no
//! branch and no table index depends on a secret.

const MASK51: u64 = (1 << 51) - 1;

/// A field element, weakly reduced (each limb below about 2^52).
#[derive(Clone, Copy, Debug)]
pub struct Fe(pub(crate) [u64; 5]);

impl Fe {
    pub const ZERO: Fe = Fe([0; 5]);
    pub const ONE: Fe = Fe([1, 0, 0, 0, 0]);

    /// decodeUCoordinate (RFC 7748 §5): little-endian, the top bit (bit 255) ignored. A value
    /// ≥ p is accepted as is and reduced by the arithmetic, as the RFC asks.
    pub fn from_bytes(b: &[u8; 32]) -> Fe {
        let load = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[i..i + 8]);
            u64::from_le_bytes(w)
        };
        Fe([
            load(0) & MASK51,
            (load(6) >> 3) & MASK51,
            (load(12) >> 6) & MASK51,
            (load(19) >> 1) & MASK51,
            // Bits 204..254: the mask drops bit 255.
            (load(24) >> 12) & MASK51,
        ])
    }

    /// encodeUCoordinate: the canonical value in [0, p), 32 bytes little-endian.
    pub fn to_bytes(self) -> [u8; 32] {
        let mut h = self.carry().carry().0;
        // Now h < 2p. q = ⌊(h + 19) / 2^255⌋ is 1 exactly when h ≥ p; subtract q·p by adding
        // 19q and dropping bit 255.
        let mut q = (h[0] + 19) >> 51;
        for limb in &h[1..] {
            q = (limb + q) >> 51;
        }
        h[0] += 19 * q;
        for i in 0..4 {
            h[i + 1] += h[i] >> 51;
            h[i] &= MASK51;
        }
        h[4] &= MASK51;
        let mut out = [0u8; 32];
        // Pack the 255 bits: limb i starts at bit 51·i.
        let mut acc: u128 = 0;
        let mut bits = 0;
        let mut pos = 0;
        for limb in h {
            acc |= u128::from(limb) << bits;
            bits += 51;
            while bits >= 8 {
                out[pos] = acc as u8;
                acc >>= 8;
                bits -= 8;
                pos += 1;
            }
        }
        out[31] = acc as u8;
        out
    }

    /// Moves each limb's excess above 51 bits into the next; the top limb's, times 19, into
    /// the first.
    fn carry(self) -> Fe {
        let mut h = self.0;
        for i in 0..4 {
            h[i + 1] += h[i] >> 51;
            h[i] &= MASK51;
        }
        h[0] += 19 * (h[4] >> 51);
        h[4] &= MASK51;
        Fe(h)
    }

    /// a², with the symmetric cross products computed once and doubled: 15 limb products
    /// instead of 25.
    pub fn square(self) -> Fe {
        square_limbs(&self.0)
    }

    /// `self` squared n times.
    fn square_times(self, n: u32) -> Fe {
        let mut x = self;
        for _ in 0..n {
            x = x.square();
        }
        x
    }

    /// Multiplication by a small constant (a24 = 121665 in the ladder).
    pub fn mul_small(self, k: u32) -> Fe {
        mul_small_limbs(&self.0, k)
    }

    /// a + b, not carried: for a multiplication's input (see [`Unreduced`]).
    pub fn plus(self, b: Fe) -> Unreduced {
        let (a, b) = (self.0, b.0);
        Unreduced([
            a[0] + b[0],
            a[1] + b[1],
            a[2] + b[2],
            a[3] + b[3],
            a[4] + b[4],
        ])
    }

    /// a − b computed as a + 4p − b (no limb goes negative: b's limbs are below 2^53), not
    /// carried: for a multiplication's input (see [`Unreduced`]).
    pub fn minus(self, b: Fe) -> Unreduced {
        const FOUR_P0: u64 = 4 * ((1 << 51) - 19);
        const FOUR_PI: u64 = 4 * ((1 << 51) - 1);
        let (a, b) = (self.0, b.0);
        Unreduced([
            a[0] + FOUR_P0 - b[0],
            a[1] + FOUR_PI - b[1],
            a[2] + FOUR_PI - b[2],
            a[3] + FOUR_PI - b[3],
            a[4] + FOUR_PI - b[4],
        ])
    }

    /// 1/z = z^(p−2) (Fermat), by a fixed chain of 254 squarings and 11 multiplications;
    /// 0 maps to 0.
    pub fn invert(self) -> Fe {
        let z = self;
        let z2 = z.square();
        let z9 = z2.square_times(2) * z;
        let z11 = z9 * z2;
        let z_5_0 = z11.square() * z9; // z^(2^5 − 1)
        let z_10_0 = z_5_0.square_times(5) * z_5_0;
        let z_20_0 = z_10_0.square_times(10) * z_10_0;
        let z_40_0 = z_20_0.square_times(20) * z_20_0;
        let z_50_0 = z_40_0.square_times(10) * z_10_0;
        let z_100_0 = z_50_0.square_times(50) * z_50_0;
        let z_200_0 = z_100_0.square_times(100) * z_100_0;
        let z_250_0 = z_200_0.square_times(50) * z_50_0;
        // p − 2 = (2^250 − 1)·2^5 + 11
        z_250_0.square_times(5) * z11
    }
}

impl std::ops::Add for Fe {
    type Output = Fe;
    fn add(self, b: Fe) -> Fe {
        Fe(self.plus(b).0).carry()
    }
}

impl std::ops::Sub for Fe {
    type Output = Fe;
    fn sub(self, b: Fe) -> Fe {
        Fe(self.minus(b).0).carry()
    }
}

impl std::ops::Mul for Fe {
    type Output = Fe;
    fn mul(self, b: Fe) -> Fe {
        mul_limbs(&self.0, &b.0)
    }
}

/// A sum or difference of two weakly reduced elements, not carried: every limb below 2^54.
/// All it can do is be multiplied or squared, which reduce again: the products stay below
/// 2^114 in the 128-bit column sums (2^54 · 19·2^54 · 5 terms). Skipping the carry chain of
/// each addition and subtraction in the ladder (eight per step, each a chain of dependent
/// shifts) made X25519 a third faster.
#[derive(Clone, Copy, Debug)]
pub struct Unreduced([u64; 5]);

impl Unreduced {
    pub fn square(self) -> Fe {
        square_limbs(&self.0)
    }

    pub fn mul_small(self, k: u32) -> Fe {
        mul_small_limbs(&self.0, k)
    }
}

impl std::ops::Mul for Unreduced {
    type Output = Fe;
    fn mul(self, b: Unreduced) -> Fe {
        mul_limbs(&self.0, &b.0)
    }
}

/// Schoolbook 5×5 product in 128-bit accumulators; the terms at 2^255 and above come back
/// multiplied by 19. Limbs up to 2^54 (see [`Unreduced`]).
#[inline(always)]
fn mul_limbs(a: &[u64; 5], b: &[u64; 5]) -> Fe {
    let m = |x: u64, y: u64| u128::from(x) * u128::from(y);
    let b19 = [0, b[1] * 19, b[2] * 19, b[3] * 19, b[4] * 19];
    let r0 = m(a[0], b[0]) + m(a[1], b19[4]) + m(a[2], b19[3]) + m(a[3], b19[2]) + m(a[4], b19[1]);
    let r1 = m(a[0], b[1]) + m(a[1], b[0]) + m(a[2], b19[4]) + m(a[3], b19[3]) + m(a[4], b19[2]);
    let r2 = m(a[0], b[2]) + m(a[1], b[1]) + m(a[2], b[0]) + m(a[3], b19[4]) + m(a[4], b19[3]);
    let r3 = m(a[0], b[3]) + m(a[1], b[2]) + m(a[2], b[1]) + m(a[3], b[0]) + m(a[4], b19[4]);
    let r4 = m(a[0], b[4]) + m(a[1], b[3]) + m(a[2], b[2]) + m(a[3], b[1]) + m(a[4], b[0]);
    reduce_wide([r0, r1, r2, r3, r4])
}

/// a², the symmetric cross products computed once and doubled: 15 limb products instead of
/// 25. Limbs up to 2^54.
#[inline(always)]
fn square_limbs(a: &[u64; 5]) -> Fe {
    let m = |x: u64, y: u64| u128::from(x) * u128::from(y);
    let (a0_2, a1_2) = (2 * a[0], 2 * a[1]);
    let (a1_38, a2_38, a3_38) = (38 * a[1], 38 * a[2], 38 * a[3]);
    let (a3_19, a4_19) = (19 * a[3], 19 * a[4]);
    let r0 = m(a[0], a[0]) + m(a1_38, a[4]) + m(a2_38, a[3]);
    let r1 = m(a0_2, a[1]) + m(a2_38, a[4]) + m(a3_19, a[3]);
    let r2 = m(a0_2, a[2]) + m(a[1], a[1]) + m(a3_38, a[4]);
    let r3 = m(a0_2, a[3]) + m(a1_2, a[2]) + m(a4_19, a[4]);
    let r4 = m(a0_2, a[4]) + m(a1_2, a[3]) + m(a[2], a[2]);
    reduce_wide([r0, r1, r2, r3, r4])
}

/// a·k for a small k (below 2^32). Limbs up to 2^54.
#[inline(always)]
fn mul_small_limbs(a: &[u64; 5], k: u32) -> Fe {
    let k = u128::from(k);
    reduce_wide(a.map(|x| u128::from(x) * k))
}

/// Carries 128-bit column sums back to 51-bit limbs.
fn reduce_wide(r: [u128; 5]) -> Fe {
    let mut h = [0u64; 5];
    let mut c: u128 = 0;
    for i in 0..5 {
        let t = r[i] + c;
        h[i] = (t as u64) & MASK51;
        c = t >> 51;
    }
    // c < 2^77 / 2^51 bounds: c·19 fits in 64 bits, and one more carry settles limb 0.
    let t = u128::from(h[0]) + c * 19;
    h[0] = (t as u64) & MASK51;
    h[1] += (t >> 51) as u64;
    Fe(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigUint;

    fn p() -> BigUint {
        (BigUint::from(1u8) << 255) - 19u8
    }
    fn big(fe: Fe) -> BigUint {
        BigUint::from_bytes_le(&fe.to_bytes())
    }
    fn fe(x: &BigUint) -> Fe {
        let mut b = [0u8; 32];
        let le = (x % p()).to_bytes_le();
        b[..le.len()].copy_from_slice(&le);
        Fe::from_bytes(&b)
    }

    #[test]
    fn matches_bignum_arithmetic() {
        for _ in 0..200 {
            let mut x = [0u8; 32];
            let mut y = [0u8; 32];
            rand::fill(&mut x);
            rand::fill(&mut y);
            let (a, b) = (
                BigUint::from_bytes_le(&x) % p(),
                BigUint::from_bytes_le(&y) % p(),
            );
            let (fa, fb) = (fe(&a), fe(&b));
            assert_eq!(big(fa * fb), (&a * &b) % p());
            assert_eq!(big(fa.square()), (&a * &a) % p());
            // Limbs a few bits over 51, as sums leave them, square right too.
            let wide = Fe(fa.0.map(|l| l + (1 << 51)));
            assert_eq!(big(wide.square()), big(wide * wide));
            assert_eq!(big(fa + fb), (&a + &b) % p());
            assert_eq!(big(fa - fb), (&a + p() - &b) % p());
            assert_eq!(big(fa.mul_small(121665)), (&a * 121665u32) % p());
            if a != BigUint::from(0u8) {
                assert_eq!(big(fa.invert() * fa), BigUint::from(1u8));
            }
        }
    }

    /// Uncarried sums and differences at the largest limbs the ladder can make them (and at
    /// the 2^54 bound itself): products and squares still match the bignum ones, with no
    /// overflow (tests run with overflow checks).
    #[test]
    fn unreduced_inputs_multiply_right_up_to_the_bound() {
        let value = |u: Unreduced| {
            u.0.iter()
                .enumerate()
                .fold(BigUint::from(0u8), |acc, (i, &l)| {
                    acc + (BigUint::from(l) << (51 * i))
                })
        };
        let top = (1u64 << 54) - 1;
        let reduced_max = Fe([
            MASK51 + (1 << 17),
            MASK51 + (1 << 17),
            MASK51,
            MASK51,
            MASK51,
        ]);
        let mut cases = vec![
            Unreduced([top; 5]),
            reduced_max.plus(reduced_max),
            Fe::ZERO.minus(reduced_max),
            Fe::ZERO.minus(Fe::ZERO),
        ];
        for _ in 0..50 {
            let mut x = [0u8; 32];
            let mut y = [0u8; 32];
            rand::fill(&mut x);
            rand::fill(&mut y);
            let (a, b) = (Fe::from_bytes(&x), Fe::from_bytes(&y));
            cases.push(a.plus(b));
            cases.push(a.minus(b));
        }
        for (i, &u) in cases.iter().enumerate() {
            let v = value(u) % p();
            let w = value(cases[(i + 1) % cases.len()]) % p();
            assert_eq!(big(u.square()), (&v * &v) % p(), "{u:?}");
            assert_eq!(big(u * cases[(i + 1) % cases.len()]), (&v * &w) % p());
            assert_eq!(big(u.mul_small(121665)), (&v * 121665u32) % p());
        }
        // minus is a − b mod p.
        let (a, b) = (fe(&BigUint::from(5u8)), fe(&BigUint::from(7u8)));
        assert_eq!(value(a.minus(b)) % p(), p() - 2u8);
    }

    #[test]
    fn canonical_encoding() {
        // p itself and p + 1 (both < 2^255) encode as 0 and 1; all-ones (bit 255 ignored) is
        // 2^255 − 1 = p + 18 → 18.
        let enc = |x: BigUint| {
            let mut b = [0u8; 32];
            let le = x.to_bytes_le();
            b[..le.len()].copy_from_slice(&le);
            Fe::from_bytes(&b).to_bytes()
        };
        assert_eq!(enc(p()), [0u8; 32]);
        let mut one = [0u8; 32];
        one[0] = 1;
        assert_eq!(enc(p() + 1u8), one);
        let mut eighteen = [0u8; 32];
        eighteen[0] = 18;
        assert_eq!(Fe::from_bytes(&[0xff; 32]).to_bytes(), eighteen);
        assert_eq!((Fe::ZERO - Fe::ONE).to_bytes(), enc(p() - 1u8));
    }
}
