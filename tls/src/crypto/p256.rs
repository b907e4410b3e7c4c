//! Elliptic-curve Diffie-Hellman on NIST P-256 (secp256r1), written out by hand.
//!
//! - Curve and domain parameters: FIPS 186-4 Appendix D.1.2.3.
//! - Point encoding: SEC 1 v2 §2.3.3 (point → octets) and §2.3.4 (octets → point), uncompressed
//!   form only (`0x04 ‖ X ‖ Y`, 65 bytes): RFC 8422 §5.4 says TLS peers use it and no other.
//! - Public key validation: SEC 1 v2 §3.2.2 (coordinates in [0, p−1], on the curve, not the
//!   identity; the cofactor is 1, so any such point has order n).
//! - The shared secret is the x-coordinate of d·Q, 32 bytes big-endian (SEC 1 §3.3.1,
//!   RFC 8422 §5.10), and it is an error if d·Q is the identity.
//! - Point arithmetic: the complete formulas of Renes–Costello–Batina 2016 (see `point`).
//!
//! Constant time: the private scalar is range-checked without branching on its value, then
//! read four bits at a time with every table entry scanned; field arithmetic is branch-free on
//! fixed 64-bit limbs; inversion is Fermat's with a fixed exponent. Only public facts branch:
//! the encoding of the peer's point, and the final yes/no verdicts.

mod field;
mod point;
mod scalar;

use field::Fe;
use point::Point;
use scalar::Scalar;

/// Length of a private scalar, big-endian.
pub const SCALAR_LEN: usize = 32;
/// Length of an SEC 1 uncompressed point: `0x04 ‖ X ‖ Y`.
pub const POINT_LEN: usize = 65;

/// Length of a field element (one coordinate).
const FIELD_LEN: usize = 32;

/// SEC 1 §2.3.3: the leading octet of an uncompressed point.
const UNCOMPRESSED: u8 = 0x04;

/// Why a peer's point or our scalar was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PointError {
    /// The encoding is not 65 bytes long.
    Length,
    /// The leading byte is not 0x04 (compressed and hybrid forms are refused, RFC 8422 §5.4).
    NotUncompressed,
    /// A coordinate is not below p.
    CoordinateTooLarge,
    /// The coordinates do not satisfy the curve equation.
    NotOnCurve,
    /// The point at infinity: as the peer's point, or as the result of the multiplication.
    Identity,
    /// The private scalar is 0 or not below n.
    BadScalar,
}

impl std::fmt::Display for PointError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PointError::Length => "P-256 point is not 65 bytes",
            PointError::NotUncompressed => "P-256 point is not in uncompressed form",
            PointError::CoordinateTooLarge => "P-256 point coordinate is not below p",
            PointError::NotOnCurve => "P-256 point is not on the curve",
            PointError::Identity => "P-256 point is the point at infinity",
            PointError::BadScalar => "P-256 private scalar is not in [1, n-1]",
        })
    }
}

impl std::error::Error for PointError {}

/// How many 32-byte candidates `random_scalar` draws before concluding the generator is
/// broken. A good one is rejected with probability below 2^-32 per draw.
const MAX_DRAWS: usize = 64;

/// A random private scalar in [1, n−1], by rejection sampling (FIPS 186-4 B.4.2: draw, keep it
/// if in range). A rejected draw is discarded, so the test's branch reveals nothing about the
/// scalar kept.
///
/// # Panics
/// If `MAX_DRAWS` draws in a row are all out of range, which a working generator does with
/// probability below 2^-2000: the generator is broken (e.g. returns zeros), and carrying on
/// would hand out a predictable key.
pub fn random_scalar<R: rand::Rng + ?Sized>(rng: &mut R) -> [u8; SCALAR_LEN] {
    let mut candidate = [0u8; SCALAR_LEN];
    for _ in 0..MAX_DRAWS {
        rng.fill_bytes(&mut candidate);
        if Scalar::from_be_bytes(&candidate).is_some() {
            return candidate;
        }
    }
    panic!("random number generator produced {MAX_DRAWS} out-of-range P-256 scalars in a row");
}

/// The public key scalar·G, SEC 1 uncompressed (§2.3.3).
pub fn public_key(scalar: &[u8; SCALAR_LEN]) -> Result<[u8; POINT_LEN], PointError> {
    let k = Scalar::from_be_bytes(scalar).ok_or(PointError::BadScalar)?;
    // k in [1, n−1] and G of order n: k·G is never the identity, but say so rather than panic.
    let (x, y) = Point::mul_base(&k)
        .to_affine()
        .ok_or(PointError::Identity)?;
    Ok(encode_uncompressed(&x, &y))
}

/// ECDH (SEC 1 §3.3.1): the x-coordinate of scalar·Peer, 32 bytes big-endian, after
/// validating the peer's point (SEC 1 §3.2.2).
pub fn shared_secret(
    scalar: &[u8; SCALAR_LEN],
    peer: &[u8],
) -> Result<[u8; FIELD_LEN], PointError> {
    let k = Scalar::from_be_bytes(scalar).ok_or(PointError::BadScalar)?;
    let q = decode_uncompressed(peer)?;
    let (x, _) = q.mul(&k).to_affine().ok_or(PointError::Identity)?;
    Ok(x.to_be_bytes())
}

/// SEC 1 §2.3.3 step 3: `0x04 ‖ X ‖ Y`.
fn encode_uncompressed(x: &Fe, y: &Fe) -> [u8; POINT_LEN] {
    let mut out = [0u8; POINT_LEN];
    out[0] = UNCOMPRESSED;
    out[1..1 + FIELD_LEN].copy_from_slice(&x.to_be_bytes());
    out[1 + FIELD_LEN..].copy_from_slice(&y.to_be_bytes());
    out
}

/// SEC 1 §2.3.4 for the uncompressed form, plus the checks of §3.2.2.1: coordinates below p
/// and on the curve. The single octet 0x00 is SEC 1's encoding of the identity, refused as
/// such; a 33-byte 0x02/0x03 string is a compressed point, refused as not uncompressed.
fn decode_uncompressed(bytes: &[u8]) -> Result<Point, PointError> {
    match bytes {
        [0x00] => return Err(PointError::Identity),
        [0x02 | 0x03, rest @ ..] if rest.len() == FIELD_LEN => {
            return Err(PointError::NotUncompressed)
        }
        _ => {}
    }
    let (prefix, coordinates) = match bytes.split_first() {
        Some((prefix, rest)) if rest.len() == 2 * FIELD_LEN => (*prefix, rest),
        _ => return Err(PointError::Length),
    };
    if prefix != UNCOMPRESSED {
        return Err(PointError::NotUncompressed);
    }
    let (x_bytes, y_bytes) = coordinates.split_at(FIELD_LEN);
    let x = coordinate(x_bytes)?;
    let y = coordinate(y_bytes)?;
    Point::from_affine(x, y).ok_or(PointError::NotOnCurve)
}

/// One coordinate: 32 big-endian bytes of a value in [0, p−1].
fn coordinate(bytes: &[u8]) -> Result<Fe, PointError> {
    let array: &[u8; FIELD_LEN] = bytes.try_into().map_err(|_| PointError::Length)?;
    Fe::from_be_bytes(array).ok_or(PointError::CoordinateTooLarge)
}
