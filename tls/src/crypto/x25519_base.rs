//! X25519(k, 9) — a public key — without the ladder: the same point computed on the twisted
//! Edwards curve that Curve25519 is birationally equivalent to (RFC 7748 §4.1: the u = 9 point
//! is Ed25519's base point B), where a table of multiples of B made once turns the 255
//! doublings of the ladder into 64 additions and 4 doublings.
//!
//! The scalar is written in 64 signed base-16 digits, k = Σ eᵢ·16ⁱ with eᵢ in [−8, 8]; the
//! table holds j·256ⁱ·B for j = 1..8 and i = 0..31 (Bernstein et al., "High-speed high-security
//! signatures", §4, the method of ref10's `ge_scalarmult_base`). Odd digits are added first,
//! the sum multiplied by 16, then the even digits added. Every digit reads all eight entries of
//! its row with masks and negates the result with a mask: no branch or index depends on the
//! scalar. The result's u-coordinate is u = (1 + y)/(1 − y) = (Z + Y)/(Z − Y).
//!
//! Point arithmetic: extended coordinates (X : Y : Z : T), x = X/Z, y = Y/Z, xy = T/Z, on
//! −x² + y² = 1 + d·x²·y² (Hisil, Wong, Carter, Dawson 2008: "add-2008-hwcd-3" and
//! "dbl-2008-hwcd" of the Explicit-Formulas Database).

use crate::crypto::ct::{ct_eq_u64, ct_select_u64};
use crate::crypto::field25519::Fe;
use num_bigint::BigUint;
use std::sync::OnceLock;

/// A point in extended coordinates.
#[derive(Clone, Copy)]
struct Point {
    x: Fe,
    y: Fe,
    z: Fe,
    t: Fe,
}

/// An affine point as an addition wants it: y + x, y − x, 2d·x·y.
#[derive(Clone, Copy)]
struct Niels {
    y_plus_x: Fe,
    y_minus_x: Fe,
    xy2d: Fe,
}

const IDENTITY: Point = Point {
    x: Fe::ZERO,
    y: Fe::ONE,
    z: Fe::ONE,
    t: Fe::ZERO,
};

const NIELS_IDENTITY: Niels = Niels {
    y_plus_x: Fe::ONE,
    y_minus_x: Fe::ONE,
    xy2d: Fe::ZERO,
};

impl Point {
    /// self + q, q affine (add-2008-hwcd-3 with Z₂ = 1).
    fn add_niels(&self, q: &Niels) -> Point {
        let a = (self.y - self.x) * q.y_minus_x;
        let b = (self.y + self.x) * q.y_plus_x;
        let c = self.t * q.xy2d;
        let d = self.z + self.z;
        Point::from_terms(a, b, c, d)
    }

    /// self + q, both extended (add-2008-hwcd-3; unified: also right for q = self).
    fn add(&self, q: &Point, d2: Fe) -> Point {
        let a = (self.y - self.x) * (q.y - q.x);
        let b = (self.y + self.x) * (q.y + q.x);
        let c = self.t * d2 * q.t;
        let zz = self.z * q.z;
        Point::from_terms(a, b, c, zz + zz)
    }

    /// The common end of both additions, from A = (Y₁−X₁)(Y₂−X₂), B = (Y₁+X₁)(Y₂+X₂),
    /// C = 2d·T₁·T₂ and D = 2·Z₁·Z₂.
    fn from_terms(a: Fe, b: Fe, c: Fe, d: Fe) -> Point {
        let (e, f, g, h) = (b - a, d - c, d + c, b + a);
        Point {
            x: e * f,
            y: g * h,
            z: f * g,
            t: e * h,
        }
    }

    /// 2·self (dbl-2008-hwcd with a = −1).
    fn double(&self) -> Point {
        let a = self.x.square();
        let b = self.y.square();
        let zz = self.z.square();
        let c = zz + zz;
        let e = (self.x + self.y).square() - a - b;
        let g = b - a;
        let f = g - c;
        let h = Fe::ZERO - a - b;
        Point {
            x: e * f,
            y: g * h,
            z: f * g,
            t: e * h,
        }
    }

    fn to_niels(self, d2: Fe) -> Niels {
        let zinv = self.z.invert();
        let (x, y) = (self.x * zinv, self.y * zinv);
        Niels {
            y_plus_x: y + x,
            y_minus_x: y - x,
            xy2d: x * y * d2,
        }
    }
}

/// Rows of the table: 256ⁱ·B for i = 0..32 covers 16⁶⁴.
const ROWS: usize = 32;
/// Entries per row: j·256ⁱ·B for j = 1..8 (digits are at most 8 in absolute value).
const PER_ROW: usize = 8;

type Table = [[Niels; PER_ROW]; ROWS];

/// The table, computed on first use (public values: a few milliseconds once per process).
fn table() -> &'static Table {
    static TABLE: OnceLock<Box<Table>> = OnceLock::new();
    TABLE.get_or_init(make_table)
}

fn fe(x: &BigUint) -> Fe {
    let mut bytes = [0u8; 32];
    for (b, v) in bytes.iter_mut().zip(x.to_bytes_le()) {
        *b = v;
    }
    Fe::from_bytes(&bytes)
}

/// d = −121665/121666 and B = (x, 4/5) with x from the curve equation (either root: the two
/// points ±B share their y, and u depends on y alone).
fn constants() -> (Fe, Point) {
    let p = (BigUint::from(1u8) << 255u32) - 19u32;
    let inv = |v: &BigUint| v.modpow(&(&p - 2u32), &p);
    let d = (&p - 121_665u32) * inv(&BigUint::from(121_666u32)) % &p;
    let y = BigUint::from(4u8) * inv(&BigUint::from(5u8)) % &p;
    // x² = (y² − 1)/(d·y² + 1); p ≡ 5 (mod 8): x = (x²)^((p+3)/8), times √−1 if that squares
    // to −x² instead.
    let yy = &y * &y % &p;
    let xx = (&yy + &p - 1u32) * inv(&((&d * &yy + 1u32) % &p)) % &p;
    let mut x = xx.modpow(&((&p + 3u32) >> 3u32), &p);
    if &x * &x % &p != xx {
        let sqrt_m1 = BigUint::from(2u8).modpow(&((&p - 1u32) >> 2u32), &p);
        x = x * sqrt_m1 % &p;
    }
    let t = &x * &y % &p;
    let base = Point {
        x: fe(&x),
        y: fe(&y),
        z: Fe::ONE,
        t: fe(&t),
    };
    (fe(&d), base)
}

fn make_table() -> Box<Table> {
    let (d, base) = constants();
    let d2 = d + d;
    let mut table = Box::new([[NIELS_IDENTITY; PER_ROW]; ROWS]);
    let mut row_base = base;
    for row in table.iter_mut() {
        let mut multiple = row_base;
        for entry in row.iter_mut() {
            *entry = multiple.to_niels(d2);
            multiple = multiple.add(&row_base, d2);
        }
        for _ in 0..8 {
            row_base = row_base.double();
        }
    }
    table
}

/// `digit`·256^row·B from the table: every entry read, the one wanted kept by mask, negated by
/// mask when the digit is negative.
fn select(row: &[Niels; PER_ROW], digit: i8) -> Niels {
    let d = i64::from(digit);
    let negative = (d >> 63) as u64 & 1;
    let magnitude = ((d ^ (d >> 63)) - (d >> 63)) as u64;
    let mut out = NIELS_IDENTITY;
    for (j, entry) in row.iter().enumerate() {
        let take = ct_eq_u64(magnitude, j as u64 + 1);
        cmov(&mut out.y_plus_x, &entry.y_plus_x, take);
        cmov(&mut out.y_minus_x, &entry.y_minus_x, take);
        cmov(&mut out.xy2d, &entry.xy2d, take);
    }
    // −(x, y) = (−x, y): y + x and y − x trade places, 2d·x·y changes sign.
    let neg_mask = 0u64.wrapping_sub(negative);
    let negated = Niels {
        y_plus_x: out.y_minus_x,
        y_minus_x: out.y_plus_x,
        xy2d: Fe::ZERO - out.xy2d,
    };
    cmov(&mut out.y_plus_x, &negated.y_plus_x, neg_mask);
    cmov(&mut out.y_minus_x, &negated.y_minus_x, neg_mask);
    cmov(&mut out.xy2d, &negated.xy2d, neg_mask);
    out
}

fn cmov(dst: &mut Fe, src: &Fe, mask: u64) {
    for (d, s) in dst.0.iter_mut().zip(src.0) {
        *d = ct_select_u64(mask, s, *d);
    }
}

/// The clamped scalar as 64 signed base-16 digits in [−8, 8] (the top one at most 8: k < 2²⁵⁵).
fn signed_digits(k: &[u8; 32]) -> [i8; 64] {
    let mut e = [0i8; 64];
    for (i, &byte) in k.iter().enumerate() {
        e[2 * i] = (byte & 15) as i8;
        e[2 * i + 1] = (byte >> 4) as i8;
    }
    let mut carry = 0i8;
    for digit in e.iter_mut().take(63) {
        *digit += carry;
        carry = (*digit + 8) >> 4;
        *digit -= carry << 4;
    }
    e[63] += carry;
    e
}

/// X25519(k, 9): the u-coordinate of clamp(k)·B, as the ladder would give it.
pub fn public_key(scalar: &[u8; 32]) -> [u8; 32] {
    let k = super::x25519::clamp(scalar);
    let e = signed_digits(&k);
    let table = table();
    let mut h = IDENTITY;
    for (row, pair) in table.iter().zip(e.chunks_exact(2)) {
        h = h.add_niels(&select(row, pair[1]));
    }
    for _ in 0..4 {
        h = h.double();
    }
    for (row, pair) in table.iter().zip(e.chunks_exact(2)) {
        h = h.add_niels(&select(row, pair[0]));
    }
    ((h.z + h.y) * (h.z - h.y).invert()).to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::x25519::{x25519, BASE_POINT};

    #[test]
    fn base_point_is_on_the_curve_and_maps_to_u_9() {
        let (d, b) = constants();
        let (xx, yy) = (b.x.square(), b.y.square());
        // −x² + y² = 1 + d·x²·y²
        assert_eq!((yy - xx).to_bytes(), (Fe::ONE + d * xx * yy).to_bytes());
        let u = (Fe::ONE + b.y) * (Fe::ONE - b.y).invert();
        assert_eq!(u.to_bytes(), BASE_POINT);
    }

    #[test]
    fn digits_recompose_the_scalar() {
        for _ in 0..100 {
            let mut k = [0u8; 32];
            rand::fill(&mut k);
            let k = crate::crypto::x25519::clamp(&k);
            let e = signed_digits(&k);
            assert!(e.iter().all(|&d| (-8..=8).contains(&d)), "{e:?}");
            let value = e.iter().rev().fold(num_bigint::BigInt::from(0), |acc, &d| {
                acc * 16 + num_bigint::BigInt::from(d)
            });
            assert_eq!(
                value,
                num_bigint::BigInt::from_bytes_le(num_bigint::Sign::Plus, &k)
            );
        }
    }

    /// The same public key as the ladder, on random scalars and at the clamping's edges.
    #[test]
    fn matches_the_ladder() {
        let mut scalars = vec![[0u8; 32], [0xff; 32], [0x80; 32], [0x08; 32]];
        for _ in 0..200 {
            let mut k = [0u8; 32];
            rand::fill(&mut k);
            scalars.push(k);
        }
        for k in &scalars {
            assert_eq!(public_key(k), x25519(k, &BASE_POINT), "{k:?}");
        }
    }
}
