//! Points of P-256, y² = x³ − 3x + b over GF(p), in projective coordinates (X : Y : Z) with
//! x = X/Z, y = Y/Z and the identity (0 : 1 : 0).
//!
//! Addition and doubling are the complete formulas of Renes, Costello and Batina, "Complete
//! addition formulas for prime order elliptic curves" (EUROCRYPT 2016, ePrint 2015/1060),
//! Algorithms 4 and 6 for a = −3: one straight-line sequence valid for every pair of inputs,
//! identity and P + P included. So the scalar multiplication has no special case to branch on,
//! and a secret-dependent exception cannot leak through timing.

use super::field::Fe;
use super::scalar::Scalar;
use crate::crypto::ct::ct_eq_u64;
use std::sync::OnceLock;

/// The coefficient b (FIPS 186-4 D.1.2.3); a is −3, built into the formulas.
const B: Fe = Fe::from_hex("5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b");
const GX: Fe = Fe::from_hex("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296");
const GY: Fe = Fe::from_hex("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");

/// Width of the fixed window: the scalar is consumed four bits at a time.
const WINDOW_BITS: u32 = 4;
const TABLE_LEN: usize = 1 << WINDOW_BITS;
/// Number of four-bit digits in a 256-bit scalar.
const DIGITS: usize = 64;

#[derive(Clone, Copy)]
pub(crate) struct Point {
    x: Fe,
    y: Fe,
    z: Fe,
}

impl Point {
    pub(crate) const IDENTITY: Point = Point {
        x: Fe::ZERO,
        y: Fe::ONE,
        z: Fe::ZERO,
    };

    /// The base point G.
    pub(crate) const GENERATOR: Point = Point {
        x: GX,
        y: GY,
        z: Fe::ONE,
    };

    /// The point with affine coordinates (x, y) if it satisfies the curve equation, else
    /// `None` (SEC 1 §3.2.2.1 step 3). The coordinates are public: they come from the peer.
    pub(crate) fn from_affine(x: Fe, y: Fe) -> Option<Point> {
        let three_x = x.double().add(&x);
        let rhs = x.square().mul(&x).sub(&three_x).add(&B);
        if y.square().ct_eq(&rhs) == u64::MAX {
            Some(Point { x, y, z: Fe::ONE })
        } else {
            None
        }
    }

    /// Affine (x, y), or `None` for the identity, which has no affine form. The inverse is
    /// Fermat's, so the conversion takes the same time for every point.
    pub(crate) fn to_affine(self) -> Option<(Fe, Fe)> {
        let z_inv = self.z.invert();
        let (x, y) = (self.x.mul(&z_inv), self.y.mul(&z_inv));
        // The identity is the only point with Z = 0; this verdict is the one thing revealed.
        if self.z.is_zero() == u64::MAX {
            None
        } else {
            Some((x, y))
        }
    }

    /// self + other: RCB16 Algorithm 4 (complete, a = −3), 12M + 2m_b + 29a.
    pub(crate) fn add(&self, other: &Point) -> Point {
        let (x1, y1, z1) = (&self.x, &self.y, &self.z);
        let (x2, y2, z2) = (&other.x, &other.y, &other.z);
        let t0 = x1.mul(x2);
        let t1 = y1.mul(y2);
        let t2 = z1.mul(z2);
        let t3 = x1.add(y1);
        let t4 = x2.add(y2);
        let t3 = t3.mul(&t4);
        let t4 = t0.add(&t1);
        let t3 = t3.sub(&t4);
        let t4 = y1.add(z1);
        let x3 = y2.add(z2);
        let t4 = t4.mul(&x3);
        let x3 = t1.add(&t2);
        let t4 = t4.sub(&x3);
        let x3 = x1.add(z1);
        let y3 = x2.add(z2);
        let x3 = x3.mul(&y3);
        let y3 = t0.add(&t2);
        let y3 = x3.sub(&y3);
        let z3 = B.mul(&t2);
        let x3 = y3.sub(&z3);
        let z3 = x3.double();
        let x3 = x3.add(&z3);
        let z3 = t1.sub(&x3);
        let x3 = t1.add(&x3);
        let y3 = B.mul(&y3);
        let t1 = t2.double();
        let t2 = t1.add(&t2);
        let y3 = y3.sub(&t2);
        let y3 = y3.sub(&t0);
        let t1 = y3.double();
        let y3 = t1.add(&y3);
        let t1 = t0.double();
        let t0 = t1.add(&t0);
        let t0 = t0.sub(&t2);
        let t1 = t4.mul(&y3);
        let t2 = t0.mul(&y3);
        let y3 = x3.mul(&z3);
        let y3 = y3.add(&t2);
        let x3 = t3.mul(&x3);
        let x3 = x3.sub(&t1);
        let z3 = t4.mul(&z3);
        let t1 = t3.mul(&t0);
        let z3 = z3.add(&t1);
        Point {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// 2·self: RCB16 Algorithm 6 (exception-free doubling, a = −3), 8M + 3S + 2m_b + 21a.
    pub(crate) fn double(&self) -> Point {
        let (x, y, z) = (&self.x, &self.y, &self.z);
        let t0 = x.square();
        let t1 = y.square();
        let t2 = z.square();
        let t3 = x.mul(y);
        let t3 = t3.double();
        let z3 = x.mul(z);
        let z3 = z3.double();
        let y3 = B.mul(&t2);
        let y3 = y3.sub(&z3);
        let x3 = y3.double();
        let y3 = x3.add(&y3);
        let x3 = t1.sub(&y3);
        let y3 = t1.add(&y3);
        let y3 = x3.mul(&y3);
        let x3 = x3.mul(&t3);
        let t3 = t2.double();
        let t2 = t2.add(&t3);
        let z3 = B.mul(&z3);
        let z3 = z3.sub(&t2);
        let z3 = z3.sub(&t0);
        let t3 = z3.double();
        let z3 = z3.add(&t3);
        let t3 = t0.double();
        let t0 = t3.add(&t0);
        let t0 = t0.sub(&t2);
        let t0 = t0.mul(&z3);
        let y3 = y3.add(&t0);
        let t0 = y.mul(z);
        let t0 = t0.double();
        let z3 = t0.mul(&z3);
        let x3 = x3.sub(&z3);
        let z3 = t0.mul(&t1);
        let z3 = z3.double();
        let z3 = z3.double();
        Point {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// `a` if mask is all-ones, `b` if zero.
    fn select(mask: u64, a: &Point, b: &Point) -> Point {
        Point {
            x: Fe::select(mask, &a.x, &b.x),
            y: Fe::select(mask, &a.y, &b.y),
            z: Fe::select(mask, &a.z, &b.z),
        }
    }

    /// table[digit], reading every entry so neither a branch nor a memory address depends on
    /// the (secret) digit.
    fn lookup(table: &[Point; TABLE_LEN], digit: u8) -> Point {
        let mut r = Point::IDENTITY;
        for (j, entry) in table.iter().enumerate() {
            r = Point::select(ct_eq_u64(j as u64, u64::from(digit)), entry, &r);
        }
        r
    }

    /// [0·P, 1·P, …, 15·P], every entry by the same complete formulas.
    fn window_table(&self) -> [Point; TABLE_LEN] {
        let mut table = [Point::IDENTITY; TABLE_LEN];
        table[1] = *self;
        for j in 2..TABLE_LEN {
            table[j] = table[j - 1].add(self);
        }
        table
    }

    /// k·self by a fixed 4-bit window, most significant digit first: for each of the 64 digits,
    /// four doublings and one addition of a table entry (the identity when the digit is 0). The
    /// count of operations is fixed, and every addition is the complete formula, so the time
    /// does not depend on k.
    pub(crate) fn mul(&self, k: &Scalar) -> Point {
        let table = self.window_table();
        let mut acc = Point::IDENTITY;
        for digit in k.nibbles_msb_first() {
            for _ in 0..WINDOW_BITS {
                acc = acc.double();
            }
            acc = acc.add(&Point::lookup(&table, digit));
        }
        acc
    }

    /// k·G with a precomputed table instead of doublings: writing k = Σ dᵢ·16^i, k·G is
    /// Σ dᵢ·(16^i·G), one table lookup and one complete addition per digit. Same constant-time
    /// discipline as `mul` (full-row scans, fixed count), about four times fewer field
    /// multiplications, so generating an ephemeral key costs a fraction of a shared secret.
    pub(crate) fn mul_base(k: &Scalar) -> Point {
        let mut acc = Point::IDENTITY;
        // Rows are indexed by i (least significant digit first); digits come most significant
        // first.
        for (row, digit) in base_table().iter().rev().zip(k.nibbles_msb_first()) {
            acc = acc.add(&Point::lookup(row, digit));
        }
        acc
    }
}

/// Row i holds [0, 1, …, 15]·(16^i·G): 64 rows of 16 projective points (96 KiB), computed once
/// on first use (about 1,000 point additions) from public data only.
fn base_table() -> &'static [[Point; TABLE_LEN]] {
    static TABLE: OnceLock<Box<[[Point; TABLE_LEN]]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut rows = Vec::with_capacity(DIGITS);
        let mut base = Point::GENERATOR; // 16^i·G
        for _ in 0..DIGITS {
            rows.push(base.window_table());
            for _ in 0..WINDOW_BITS {
                base = base.double();
            }
        }
        rows.into_boxed_slice()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn affine_bytes(p: Point) -> Option<([u8; 32], [u8; 32])> {
        p.to_affine()
            .map(|(x, y)| (x.to_be_bytes(), y.to_be_bytes()))
    }

    /// The table path (public keys) and the generic window (shared secrets) must agree.
    #[test]
    fn base_table_agrees_with_the_generic_window() {
        let n_minus_1: [u8; 32] =
            hex::decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632550")
                .unwrap()
                .try_into()
                .unwrap();
        let mut one = [0u8; 32];
        one[31] = 1;
        let mut scalars = vec![one, n_minus_1];
        for seed in 1..=8u8 {
            // Arbitrary byte patterns, so every digit value shows up in some row.
            let mut k: [u8; 32] = std::array::from_fn(|i| {
                (i as u8)
                    .wrapping_mul(0x9d)
                    .wrapping_add(seed.wrapping_mul(0x3b))
            });
            k[0] &= 0x7f; // below n
            scalars.push(k);
        }
        for bytes in scalars {
            let k = Scalar::from_be_bytes(&bytes).unwrap();
            assert!(
                affine_bytes(Point::mul_base(&k)) == affine_bytes(Point::GENERATOR.mul(&k)),
                "k = {bytes:02x?}"
            );
        }
    }

    /// The complete formulas need no special case for P + P, P + (−P) or the identity.
    #[test]
    fn addition_is_complete() {
        let g = Point::GENERATOR;
        let minus_g = Point {
            y: Fe::ZERO.sub(&g.y),
            ..g
        };
        assert!(affine_bytes(g.add(&g)) == affine_bytes(g.double()));
        assert!(g.add(&minus_g).to_affine().is_none());
        assert!(affine_bytes(g.add(&Point::IDENTITY)) == affine_bytes(g));
        assert!(affine_bytes(Point::IDENTITY.add(&g)) == affine_bytes(g));
        assert!(Point::IDENTITY.double().to_affine().is_none());
        assert!(Point::IDENTITY.add(&Point::IDENTITY).to_affine().is_none());
    }
}
