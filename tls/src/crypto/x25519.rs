//! X25519 (RFC 7748 §5): Diffie-Hellman on Curve25519 with u-coordinates only.
//!
//! A private key is 32 random bytes, "clamped" (§5: low 3 bits cleared so the scalar is a
//! multiple of the cofactor 8, bit 254 set so every scalar takes the same ladder length). The
//! public key is X25519(k, 9); the shared secret X25519(k, peer's u). The Montgomery ladder
//! walks the 255 scalar bits with a constant-time conditional swap, so its running time and
//! memory accesses do not depend on the scalar. Field arithmetic: `crypto::field25519`.

use crate::crypto::ct::ct_swap_u64;
use crate::crypto::field25519::Fe;

/// Private scalars, public keys and shared secrets are all 32 bytes.
pub const KEY_LEN: usize = 32;

/// Why a peer's public value cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum X25519Error {
    /// Not 32 bytes (RFC 8422 §5.11 / RFC 7748 §5: public keys are exactly 32 bytes).
    Length(usize),
    /// The result is all zeros: the peer sent a point of small order, which would let it fix
    /// the shared secret (RFC 7748 §6.1 "MAY check … and abort").
    ZeroSharedSecret,
}

impl std::fmt::Display for X25519Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Length(n) => write!(f, "X25519 public key of {n} bytes (must be 32)"),
            Self::ZeroSharedSecret => {
                f.write_str("X25519 shared secret is all zeros (a small-order public key)")
            }
        }
    }
}

impl std::error::Error for X25519Error {}

/// decodeScalar25519 (§5): clear bits 0, 1, 2 and 255, set bit 254.
pub fn clamp(scalar: &[u8; 32]) -> [u8; 32] {
    let mut k = *scalar;
    k[0] &= 248;
    k[31] &= 127;
    k[31] |= 64;
    k
}

/// The X25519 function of §5: scalar `k` (clamped here) times the point with u-coordinate `u`.
pub fn x25519(k: &[u8; 32], u: &[u8; 32]) -> [u8; 32] {
    let k = clamp(k);
    let x1 = Fe::from_bytes(u);
    let (mut x2, mut z2, mut x3, mut z3) = (Fe::ONE, Fe::ZERO, x1, Fe::ONE);
    let mut swap = 0u64;
    for t in (0..255).rev() {
        // Bit positions are public; only the bit's value is secret, and it only feeds cswap.
        let k_t = u64::from((k[t / 8] >> (t % 8)) & 1);
        swap ^= k_t;
        ct_swap_u64(swap, &mut x2.0, &mut x3.0);
        ct_swap_u64(swap, &mut z2.0, &mut z3.0);
        swap = k_t;

        // Sums and differences stay uncarried (`Unreduced`): each feeds a product.
        let a = x2.plus(z2);
        let aa = a.square();
        let b = x2.minus(z2);
        let bb = b.square();
        let e = aa.minus(bb);
        let c = x3.plus(z3);
        let d = x3.minus(z3);
        let da = d * a;
        let cb = c * b;
        x3 = da.plus(cb).square();
        z3 = x1 * da.minus(cb).square();
        x2 = aa * bb;
        // a24 = (486662 − 2) / 4 = 121665
        z2 = e * aa.plus(e.mul_small(121665));
    }
    ct_swap_u64(swap, &mut x2.0, &mut x3.0);
    ct_swap_u64(swap, &mut z2.0, &mut z3.0);
    (x2 * z2.invert()).to_bytes()
}

/// The base point's u-coordinate, 9.
pub const BASE_POINT: [u8; 32] = {
    let mut u = [0u8; 32];
    u[0] = 9;
    u
};

/// A fresh private key: 32 bytes from a cryptographic generator (clamped when used).
pub fn random_scalar<R: rand::CryptoRng + ?Sized>(rng: &mut R) -> [u8; 32] {
    let mut k = [0u8; 32];
    rng.fill_bytes(&mut k);
    k
}

/// Our public key: X25519(k, 9), computed on the Edwards form with a table of multiples of the
/// base point (`x25519_base`): the same bytes as the ladder, in about a third of the time.
pub fn public_key(scalar: &[u8; 32]) -> [u8; 32] {
    super::x25519_base::public_key(scalar)
}

/// The shared secret with a peer's public key. Refuses a wrong length and the all-zero result
/// (§6.1). The zero check reads every byte whatever their values; the decision itself is public
/// (the handshake aborts).
pub fn shared_secret(scalar: &[u8; 32], peer: &[u8]) -> Result<[u8; 32], X25519Error> {
    let peer: &[u8; 32] = peer
        .try_into()
        .map_err(|_| X25519Error::Length(peer.len()))?;
    let shared = x25519(scalar, peer);
    let any_bit = shared.iter().fold(0u8, |acc, b| acc | b);
    if std::hint::black_box(any_bit) == 0 {
        return Err(X25519Error::ZeroSharedSecret);
    }
    Ok(shared)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h32(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex");
        }
        out
    }

    /// RFC 7748 §5.2, the two single-multiplication vectors.
    #[test]
    fn rfc7748_section_5_2_vectors() {
        let k = h32("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
        let u = h32("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c");
        let out = h32("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
        assert_eq!(x25519(&k, &u), out);

        let k = h32("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d");
        // This u has its top bit set: decodeUCoordinate must ignore it.
        let u = h32("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493");
        let out = h32("95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
        assert_eq!(x25519(&k, &u), out);
    }

    /// §5.2's iterated vector: k, u = X25519(k, u), k; after 1 and after 1,000 iterations.
    #[test]
    fn rfc7748_iterated_ladder() {
        let mut k = BASE_POINT;
        let mut u = BASE_POINT;
        let mut step = || {
            let r = x25519(&k, &u);
            u = k;
            k = r;
            k
        };
        assert_eq!(
            step(),
            h32("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079")
        );
        for _ in 1..999 {
            step();
        }
        assert_eq!(
            step(),
            h32("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51")
        );
    }

    /// §6.1: Alice and Bob's keys and their common secret.
    #[test]
    fn rfc7748_section_6_1_diffie_hellman() {
        let alice = h32("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        let alice_pub = h32("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
        let bob = h32("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
        let bob_pub = h32("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
        let shared = h32("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
        assert_eq!(public_key(&alice), alice_pub);
        assert_eq!(public_key(&bob), bob_pub);
        assert_eq!(shared_secret(&alice, &bob_pub), Ok(shared));
        assert_eq!(shared_secret(&bob, &alice_pub), Ok(shared));
    }

    #[test]
    fn refuses_small_order_points_and_bad_lengths() {
        let k = random_scalar(&mut rand::rng());
        // u = 0 and u = 1 have small order: the result is zero whatever the scalar.
        let mut one = [0u8; 32];
        one[0] = 1;
        for u in [[0u8; 32], one] {
            assert_eq!(shared_secret(&k, &u), Err(X25519Error::ZeroSharedSecret));
        }
        assert_eq!(shared_secret(&k, &[9; 31]), Err(X25519Error::Length(31)));
        assert_eq!(shared_secret(&k, &[9; 33]), Err(X25519Error::Length(33)));
    }

    #[test]
    fn clamping() {
        let k = clamp(&[0xff; 32]);
        assert_eq!(k[0], 0xf8);
        assert_eq!(k[31], 0x7f);
        assert_eq!(clamp(&[0; 32])[31], 0x40);
    }
}
