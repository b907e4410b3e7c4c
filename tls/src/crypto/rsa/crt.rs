//! The RSA private-key operation m = c^d mod n (RFC 8017 §5.1.2, 2.b: CRT with Garner's
//! recombination), blinded and checked against faults, on fixed-width limbs only.
//!
//! Nothing here branches, indexes, allocates or normalises by the value of a secret: the key's
//! numbers are converted to limbs once, at load; blinding, the CRT halves, Garner's
//! recombination, unblinding, the fault check and I2OSP all run on vectors whose lengths depend
//! on the key size alone. (num-bigint's `%` and `to_bytes_be` would trim leading zeros: the time
//! of the answer would tell whether m < 2^(8(k−1)) — the Marvin attack, since every well-formed
//! `00 02 …` block is.) `cargo run --release -p tls --example rsa_timing` measures it, in the
//! style of dudect.

use super::montgomery::{biguint_of, limbs_of, Montgomery, PowHalf, Reducer};
use super::RsaError;
use num_bigint::BigUint;
use rand::Rng;

/// A fresh random r is drawn after this many uses of one squaring chain (OpenSSL uses 32 too).
pub(super) const BLINDING_REFRESH: u32 = 32;

/// The private key as limbs, with every constant the operation needs.
#[derive(Clone)]
pub(super) struct CrtKey {
    n: Montgomery,
    p: Montgomery,
    q: Montgomery,
    /// d mod (p − 1), d mod (q − 1), as many limbs as p and q.
    dp: Vec<u64>,
    dq: Vec<u64>,
    /// qInv·R mod p: one Montgomery multiplication by it multiplies by qInv.
    qinv_mont: Vec<u64>,
    /// The public exponent (for the fault check).
    e: Vec<u64>,
    /// k, the modulus length in bytes.
    k: usize,
    /// n-sized numbers into Montgomery form mod p and mod q; q-sized numbers plain mod p.
    n_to_p: Reducer,
    n_to_q: Reducer,
    q_to_p: Reducer,
    /// 2n-sized random numbers plain mod n (blinding values, nearly uniform).
    wide_to_n: Reducer,
}

/// Blinding pair (r^e, r⁻¹) mod n for a secret random r, both in Montgomery form mod n.
#[derive(Clone)]
pub(super) struct Blinding {
    r_e: Vec<u64>,
    r_inv: Vec<u64>,
    pub(super) uses: u32,
}

impl CrtKey {
    /// From checked numbers (p·q = n, p and q odd); `None` if a modulus is unusable.
    pub(super) fn new(
        n: &BigUint,
        e: &BigUint,
        p: &BigUint,
        q: &BigUint,
        dp: &BigUint,
        dq: &BigUint,
        qinv: &BigUint,
    ) -> Option<Self> {
        let mont_n = Montgomery::new(n)?;
        let mont_p = Montgomery::new(p)?;
        let mont_q = Montgomery::new(q)?;
        let (nl, pl, ql) = (mont_n.limbs(), mont_p.limbs(), mont_q.limbs());
        let mut qinv_mont = vec![0u64; pl];
        mont_p.enter_mont(&limbs_of(&(qinv % p), pl), &mut qinv_mont);
        Some(Self {
            dp: limbs_of(dp, pl),
            dq: limbs_of(dq, ql),
            qinv_mont,
            e: e.to_u64_digits(),
            k: (n.bits() as usize).div_ceil(8),
            n_to_p: mont_p.reducer(nl, true),
            n_to_q: mont_q.reducer(nl, true),
            q_to_p: mont_p.reducer(ql, false),
            wide_to_n: mont_n.reducer(2 * nl, false),
            n: mont_n,
            p: mont_p,
            q: mont_q,
        })
    }

    /// A new blinding pair. r⁻¹ needs a modular inverse, which num-bigint computes in
    /// value-dependent time, so it inverts r·b for another secret random b instead (a number
    /// that says nothing about r) and multiplies the inverse by b.
    pub(super) fn fresh_blinding(&self) -> Blinding {
        let nl = self.n.limbs();
        let modulus = biguint_of(self.n.modulus_limbs());
        let mut rng = rand::rng();
        let mut random_below_n = |out: &mut [u64]| {
            let wide: Vec<u64> = (0..2 * nl).map(|_| rng.next_u64()).collect();
            self.n.reduce(&wide, &self.wide_to_n, out);
        };
        let (mut r, mut b_mont, mut rb) = (vec![0u64; nl], vec![0u64; nl], vec![0u64; nl]);
        loop {
            random_below_n(&mut r);
            // A random number read as Montgomery form is the form of another random number b.
            random_below_n(&mut b_mont);
            self.n.mul(&r, &b_mont, &mut rb); // r·b mod n
                                              // No inverse: r or b shares a factor with n (or is 0); draw again.
            let Some(inv) = biguint_of(&rb).modinv(&modulus) else {
                continue;
            };
            let mut inv_mont = vec![0u64; nl];
            self.n.enter_mont(&limbs_of(&inv, nl), &mut inv_mont);
            // (r·b)⁻¹·R · b·R · R⁻¹ = r⁻¹·R.
            let mut r_inv = vec![0u64; nl];
            self.n.mul(&inv_mont, &b_mont, &mut r_inv);
            let (mut r_mont, mut r_e) = (vec![0u64; nl], vec![0u64; nl]);
            self.n.enter_mont(&r, &mut r_mont);
            self.n.pow_public(&r_mont, &self.e, &mut r_e);
            return Blinding {
                r_e,
                r_inv,
                uses: 0,
            };
        }
    }

    /// The pair after this one: (r^e)² = (r²)^e and (r⁻¹)² = (r²)⁻¹, two squarings.
    pub(super) fn next_blinding(&self, b: &Blinding) -> Blinding {
        let nl = self.n.limbs();
        let (mut r_e, mut r_inv) = (vec![0u64; nl], vec![0u64; nl]);
        self.n.sqr(&b.r_e, &mut r_e);
        self.n.sqr(&b.r_inv, &mut r_inv);
        Blinding {
            r_e,
            r_inv,
            uses: b.uses + 1,
        }
    }

    /// `out = input^d mod n`, both exactly k big-endian bytes. The input is public: its length
    /// and range are checked first. A failed fault check zeroes `out` and returns an error.
    pub(super) fn private_op(
        &self,
        input: &[u8],
        blinding: &Blinding,
        out: &mut [u8],
    ) -> Result<(), RsaError> {
        let (nl, pl, ql) = (self.n.limbs(), self.p.limbs(), self.q.limbs());
        if input.len() != self.k || out.len() != self.k {
            return Err(RsaError::MessageTooLong);
        }
        let mut c = vec![0u64; nl];
        for (i, &byte) in input.iter().rev().enumerate() {
            c[i / 8] |= u64::from(byte) << (8 * (i % 8));
        }
        if !below(&c, self.n.modulus_limbs()) {
            return Err(RsaError::MessageTooLong);
        }

        // Blind: the exponentiations see c·r^e, unrelated to the c the attacker chose.
        let mut blinded = vec![0u64; nl];
        self.n.mul(&c, &blinding.r_e, &mut blinded);

        // The halves: m1 = blinded^dP mod p, m2 = blinded^dQ mod q.
        let (mut xp, mut xq) = (vec![0u64; pl], vec![0u64; ql]);
        self.p.reduce(&blinded, &self.n_to_p, &mut xp);
        self.q.reduce(&blinded, &self.n_to_q, &mut xq);
        let (mut m1, mut m2) = (vec![0u64; pl], vec![0u64; ql]);
        let mut tmp = vec![0u64; pl.max(ql)];
        let mut tmp_q = vec![0u64; ql];
        Montgomery::pow_secret_pair(
            PowHalf {
                mont: &self.p,
                x: &xp,
                exp: &self.dp,
                out: &mut tmp[..pl],
            },
            PowHalf {
                mont: &self.q,
                x: &xq,
                exp: &self.dq,
                out: &mut tmp_q,
            },
        );
        self.p.leave_mont(&tmp[..pl], &mut m1);
        self.q.leave_mont(&tmp_q, &mut m2);

        // Garner: h = qInv·(m1 − m2) mod p, then m = m2 + h·q (< p·q = n, so it fits n's limbs).
        let mut m2p = vec![0u64; pl];
        self.p.reduce(&m2, &self.q_to_p, &mut m2p);
        let mut diff = vec![0u64; pl];
        sub_mod(&m1, &m2p, self.p.modulus_limbs(), &mut diff);
        let mut h = vec![0u64; pl];
        self.p.mul(&diff, &self.qinv_mont, &mut h);
        let m_wide = mul_add(&h, self.q.modulus_limbs(), &m2);
        let m_blinded = &m_wide[..nl];

        // A fault in one half would reveal a factor (Boneh–DeMillo–Lipton): check m^e = c
        // modulo p and modulo q (the same as modulo n, by the CRT, at half the cost). Both
        // sides are in Montgomery form and fully reduced, so equal numbers have equal limbs.
        let (mut check_p, mut check_q) = (vec![0u64; pl], vec![0u64; ql]);
        self.p.reduce(m_blinded, &self.n_to_p, &mut tmp[..pl]);
        self.p.pow_public(&tmp[..pl], &self.e, &mut check_p);
        self.q.reduce(m_blinded, &self.n_to_q, &mut tmp[..ql]);
        self.q.pow_public(&tmp[..ql], &self.e, &mut check_q);
        let ok = limbs_eq(&check_p, &xp) & limbs_eq(&check_q, &xq);

        // Unblind: m_blinded·r⁻¹ (r⁻¹ is in Montgomery form, so the product comes out plain).
        let mut m = vec![0u64; nl];
        self.n.mul(m_blinded, &blinding.r_inv, &mut m);
        // I2OSP from the limbs: k bytes whatever the value; zero if the check failed.
        let keep = ok.wrapping_neg();
        for (i, byte) in out.iter_mut().rev().enumerate() {
            *byte = ((m[i / 8] & keep) >> (8 * (i % 8))) as u8;
        }
        if std::hint::black_box(ok) == 1 {
            Ok(())
        } else {
            Err(RsaError::InvalidKey(
                "private-key operation failed its consistency check",
            ))
        }
    }
}

/// 1 if `a < m` (equal lengths), else 0; over every limb.
fn below(a: &[u64], m: &[u64]) -> bool {
    let mut borrow = 0u64;
    for (&x, &y) in a.iter().zip(m) {
        let (d, b1) = x.overflowing_sub(y);
        let (_, b2) = d.overflowing_sub(borrow);
        borrow = u64::from(b1 | b2);
    }
    borrow == 1
}

/// 1 if the limbs are equal, else 0, looking at all of them.
fn limbs_eq(a: &[u64], b: &[u64]) -> u64 {
    let diff = a.iter().zip(b).fold(0u64, |acc, (x, y)| acc | (x ^ y));
    let diff = std::hint::black_box(diff);
    // diff | −diff has its top bit set exactly when diff ≠ 0.
    1 ^ ((diff | diff.wrapping_neg()) >> 63)
}

/// `out = (a − b) mod m` for `a, b < m`: subtract, then add m back under a mask of the borrow.
fn sub_mod(a: &[u64], b: &[u64], m: &[u64], out: &mut [u64]) {
    let mut borrow = 0u64;
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        let (d, b1) = x.overflowing_sub(y);
        let (d, b2) = d.overflowing_sub(borrow);
        *o = d;
        borrow = u64::from(b1 | b2);
    }
    let mask = borrow.wrapping_neg();
    let mut carry = 0u64;
    for (o, &mj) in out.iter_mut().zip(m) {
        let (s, c1) = o.overflowing_add(mj & mask);
        let (s, c2) = s.overflowing_add(carry);
        *o = s;
        carry = u64::from(c1 | c2);
    }
}

/// `h·q + a` in `h.len() + q.len()` limbs (schoolbook; `a` no longer than `q`).
fn mul_add(h: &[u64], q: &[u64], a: &[u64]) -> Vec<u64> {
    let mut t = vec![0u64; h.len() + q.len()];
    for (ti, &x) in t.iter_mut().zip(a) {
        *ti = x;
    }
    for (i, &hi) in h.iter().enumerate() {
        let mut c = 0u128;
        for (j, &qj) in q.iter().enumerate() {
            // At most (2^64 − 1) + (2^64 − 1)² + (2^64 − 1) = 2^128 − 1: no overflow.
            let s = u128::from(t[i + j]) + u128::from(hi) * u128::from(qj) + c;
            t[i + j] = s as u64;
            c = s >> 64;
        }
        // Row i has not touched limb i + q.len() yet: the carry goes there as it is.
        t[i + q.len()] = c as u64;
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_traits::One;

    #[test]
    fn limb_helpers() {
        assert!(below(&[5, 1], &[6, 1]));
        assert!(below(&[u64::MAX, 0], &[0, 1]));
        assert!(!below(&[6, 1], &[6, 1]));
        assert!(!below(&[0, 2], &[u64::MAX, 1]));
        assert_eq!(limbs_eq(&[1, 2], &[1, 2]), 1);
        assert_eq!(limbs_eq(&[1, 2], &[1, 3]), 0);
        let m = [7u64, 1];
        let mut out = [0u64; 2];
        sub_mod(&[5, 1], &[6, 0], &m, &mut out);
        assert_eq!(out, [u64::MAX, 0]);
        sub_mod(&[5, 0], &[6, 0], &m, &mut out);
        // 5 − 6 + (2^64 + 7) = 2^64 + 6.
        assert_eq!(out, [6, 1]);
        let t = mul_add(
            &[u64::MAX, u64::MAX],
            &[u64::MAX, u64::MAX],
            &[u64::MAX, u64::MAX],
        );
        let x = (BigUint::one() << 128u32) - 1u32;
        assert_eq!(biguint_of(&t), &x * &x + &x);
    }

    /// Reduction of every length the key uses, against num-bigint.
    #[test]
    fn reduce_matches_num_bigint() {
        let key = crate::crypto::rsa::test_key();
        let (p, n) = (key.p(), key.public_key().n());
        let mont = Montgomery::new(p).unwrap();
        let r = BigUint::one() << (64 * mont.limbs());
        for len in [1usize, 16, 32, 64] {
            for t in [
                BigUint::ZERO,
                BigUint::one(),
                p - 1u32,
                p.clone(),
                n - 1u32,
                (BigUint::one() << (64 * len)) - 1u32,
            ] {
                if t.bits() > 64 * len as u64 {
                    continue;
                }
                let limbs = limbs_of(&t, len);
                for mont_form in [false, true] {
                    let mut out = vec![0u64; mont.limbs()];
                    mont.reduce(&limbs, &mont.reducer(len, mont_form), &mut out);
                    let want = if mont_form { &t * &r % p } else { &t % p };
                    assert_eq!(biguint_of(&out), want, "len {len}, {t}, {mont_form}");
                }
            }
        }
    }
}
