//! RSA by hand on num-bigint (RFC 8017): key generation (FIPS 186-5 §A.1.3 with the checks of
//! §A.1.1), the private operation with CRT and blinding (RFC 8017 §5.1.2), PKCS#1 v1.5
//! encryption (block type 2, RFC 8017 §7.2) and signatures (block type 1, RFC 8017 §8.2, §9.2).
//!
//! num-bigint is not constant-time. The private operation is therefore blinded: the exponent
//! only ever sees `c·r^e mod n` for a random `r` the attacker does not know. The exponentiations
//! themselves run on our own Montgomery code (`Montgomery`, below): no allocation per step, a
//! fixed window, table reads that touch every entry (≈1.3× faster than num-bigint's `modpow`
//! for RSA-2048's halves, ≈4× for the public operation). The PKCS#1 v1.5
//! decryption padding check is a branch-free scan, so a TLS server can follow RFC 5246 §7.4.7.1
//! (Bleichenbacher) without leaking where the padding went wrong.

use num_bigint::{BigRng010, BigUint};
use num_integer::Integer;
use num_traits::{One, Zero};
use rand::Rng;
use sha2::Digest;
use std::sync::{Mutex, OnceLock};

/// Why an RSA operation failed. Decryption failures deliberately carry no detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RsaError {
    /// The key's numbers are unusable (zero or even modulus, e out of range, p*q != n, ...).
    InvalidKey(&'static str),
    /// Unsupported key size for generation (only 2048, 3072, 4096).
    UnsupportedSize(usize),
    /// Message too long for the modulus.
    MessageTooLong,
    /// Decryption failed (the reason is withheld on purpose).
    Decryption,
    /// The signature does not verify.
    BadSignature,
}

impl std::fmt::Display for RsaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidKey(why) => write!(f, "invalid RSA key: {why}"),
            Self::UnsupportedSize(bits) => {
                write!(
                    f,
                    "unsupported RSA key size {bits} (use 2048, 3072 or 4096)"
                )
            }
            Self::MessageTooLong => f.write_str("message too long for the RSA modulus"),
            Self::Decryption => f.write_str("RSA decryption failed"),
            Self::BadSignature => f.write_str("RSA signature does not verify"),
        }
    }
}
impl std::error::Error for RsaError {}

/// Digest algorithms for PKCS#1 v1.5 signatures (the DigestInfo prefix depends on it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlg {
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    /// Hash `message` with this algorithm.
    pub fn digest(self, message: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => sha2::Sha256::digest(message).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(message).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(message).to_vec(),
        }
    }

    /// Digest length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// DER of `DigestInfo ::= SEQUENCE { AlgorithmIdentifier (with NULL), OCTET STRING }` up to
    /// the digest itself (RFC 8017 §9.2, note 1).
    fn digest_info_prefix(self) -> &'static [u8] {
        match self {
            Self::Sha256 => &[
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x01, 0x05, 0x00, 0x04, 0x20,
            ],
            Self::Sha384 => &[
                0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x02, 0x05, 0x00, 0x04, 0x30,
            ],
            Self::Sha512 => &[
                0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x03, 0x05, 0x00, 0x04, 0x40,
            ],
        }
    }
}

/// What key generation reports as it goes, so a CLI can show a spinner.
#[derive(Clone, Copy, Debug)]
pub enum KeygenEvent {
    /// A candidate failed (trial division or Miller–Rabin).
    CandidateRejected,
    /// A prime was found (first p, then q).
    PrimeFound,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RsaPublicKey {
    n: BigUint,
    e: BigUint,
}

pub struct RsaPrivateKey {
    public: RsaPublicKey,
    d: BigUint,
    p: BigUint,
    q: BigUint,
    dp: BigUint,
    dq: BigUint,
    qinv: BigUint,
    /// Montgomery constants for p and q, computed once per key.
    mont_p: Montgomery,
    mont_q: Montgomery,
    /// The current blinding pair, made on first use and refreshed by squaring (see `Blinding`).
    blinding: Mutex<Option<Blinding>>,
}

/// Smallest and largest moduli we accept (RFC 8017 has no bound; these keep hostile input cheap).
const MIN_MODULUS_BITS: usize = 512;
const MAX_MODULUS_BITS: usize = 16384;

impl RsaPublicKey {
    /// Checks: n odd, n at least 512 bits (and at most 16384), 1 < e < n, e odd; for n over
    /// 3072 bits e must also fit in 64 bits (as OpenSSL requires), so a hostile key cannot make
    /// the public operation arbitrarily slow.
    pub fn new(n: BigUint, e: BigUint) -> Result<Self, RsaError> {
        let bits = n.bits() as usize;
        if n.is_even() {
            return Err(RsaError::InvalidKey("modulus is even"));
        }
        if bits < MIN_MODULUS_BITS {
            return Err(RsaError::InvalidKey("modulus shorter than 512 bits"));
        }
        if bits > MAX_MODULUS_BITS {
            return Err(RsaError::InvalidKey("modulus longer than 16384 bits"));
        }
        if e <= BigUint::one() || e >= n {
            return Err(RsaError::InvalidKey("public exponent out of range"));
        }
        if e.is_even() {
            return Err(RsaError::InvalidKey("public exponent is even"));
        }
        if bits > 3072 && e.bits() > 64 {
            return Err(RsaError::InvalidKey(
                "public exponent longer than 64 bits for a modulus over 3072 bits",
            ));
        }
        Ok(Self { n, e })
    }
    pub fn n(&self) -> &BigUint {
        &self.n
    }
    pub fn e(&self) -> &BigUint {
        &self.e
    }
    /// Modulus length in bits.
    pub fn bits(&self) -> usize {
        self.n.bits() as usize
    }
    /// Modulus length in bytes (k in RFC 8017).
    pub fn size(&self) -> usize {
        self.bits().div_ceil(8)
    }
    /// PKCS#1 v1.5 encryption (EME, block type 2, non-zero random padding). Output is `size()` bytes.
    pub fn encrypt_pkcs1v15(&self, msg: &[u8]) -> Result<Vec<u8>, RsaError> {
        self.raw_public(&self.pkcs1v15_encryption_block(msg)?)
    }
    /// The EME-PKCS1-v1_5 block m = 00 02 || non-zero random padding || 00 || msg that
    /// `encrypt_pkcs1v15` raises to the power e (exposed so the explain view can show m).
    pub fn pkcs1v15_encryption_block(&self, msg: &[u8]) -> Result<Vec<u8>, RsaError> {
        let k = self.size();
        // RFC 8017 §7.2.1 step 1: at least 8 bytes of padding plus the 3 fixed bytes.
        if msg.len() > k.saturating_sub(11) {
            return Err(RsaError::MessageTooLong);
        }
        let ps_len = k - msg.len() - 3;
        let mut em = Vec::with_capacity(k);
        em.extend_from_slice(&[0x00, 0x02]);
        em.extend_from_slice(&nonzero_random_bytes(ps_len));
        em.push(0x00);
        em.extend_from_slice(msg);
        Ok(em)
    }
    /// Raw public operation m = c^e mod n on a big-endian input of `size()` bytes; output `size()` bytes.
    pub fn raw_public(&self, input: &[u8]) -> Result<Vec<u8>, RsaError> {
        let x = self.input_to_int(input)?;
        let y = match Montgomery::new(&self.n) {
            Some(mont) => mont.pow(&x, &self.e),
            None => x.modpow(&self.e, &self.n), // unreachable: n is odd (checked in new)
        };
        i2osp(&y, self.size()).ok_or(RsaError::MessageTooLong)
    }
    /// Verify a PKCS#1 v1.5 signature over `message` (hashed here with `hash`).
    pub fn verify_pkcs1v15(
        &self,
        hash: HashAlg,
        message: &[u8],
        sig: &[u8],
    ) -> Result<(), RsaError> {
        self.verify_pkcs1v15_prehashed(hash, &hash.digest(message), sig)
    }
    /// Verify a PKCS#1 v1.5 signature over an already computed `digest` (RFC 8017 §8.2.2): the
    /// expected encoding is rebuilt and compared whole, never parsed (no BERserk-style leniency).
    pub fn verify_pkcs1v15_prehashed(
        &self,
        hash: HashAlg,
        digest: &[u8],
        sig: &[u8],
    ) -> Result<(), RsaError> {
        let k = self.size();
        if sig.len() != k {
            return Err(RsaError::BadSignature);
        }
        let expected = emsa_pkcs1v15_encode(hash, digest, k).map_err(|_| RsaError::BadSignature)?;
        let em = self.raw_public(sig).map_err(|_| RsaError::BadSignature)?;
        if ct_eq_bytes(&em, &expected) {
            Ok(())
        } else {
            Err(RsaError::BadSignature)
        }
    }

    /// OS2IP with the RFC 8017 range checks: exactly `size()` bytes and less than n.
    fn input_to_int(&self, input: &[u8]) -> Result<BigUint, RsaError> {
        if input.len() != self.size() {
            return Err(RsaError::MessageTooLong);
        }
        let x = BigUint::from_bytes_be(input);
        if x >= self.n {
            return Err(RsaError::MessageTooLong);
        }
        Ok(x)
    }
}

impl RsaPrivateKey {
    /// Generate a key of 2048, 3072 or 4096 bits with e = 65537.
    pub fn generate(bits: usize, progress: &mut dyn FnMut(KeygenEvent)) -> Result<Self, RsaError> {
        let rounds = miller_rabin_rounds(bits).ok_or(RsaError::UnsupportedSize(bits))?;
        let e = BigUint::from(65_537u32);
        let half = bits / 2;
        // FIPS 186-5 §A.1.3 step 5.4 / §A.1.1: |p − q| > 2^(nlen/2 − 100).
        let min_distance = BigUint::one() << (half - 100);
        let mut rng = rand::rng();
        loop {
            let p = generate_prime(half, &e, rounds, &mut rng, progress);
            progress(KeygenEvent::PrimeFound);
            let q = loop {
                let q = generate_prime(half, &e, rounds, &mut rng, progress);
                let distance = if p > q { &p - &q } else { &q - &p };
                if distance > min_distance {
                    break q;
                }
                progress(KeygenEvent::CandidateRejected);
            };
            progress(KeygenEvent::PrimeFound);
            let n = &p * &q;
            let p1 = &p - 1u32;
            let q1 = &q - 1u32;
            let lambda = p1.lcm(&q1);
            let Some(d) = e.modinv(&lambda) else {
                continue; // cannot happen: gcd(p−1, e) = gcd(q−1, e) = 1 was checked
            };
            // FIPS 186-5 §A.1.1: d > 2^(nlen/2), else start over (practically never).
            if d.bits() as usize <= half || n.bits() as usize != bits {
                continue;
            }
            return Self::from_components(n, e, d, p, q);
        }
    }
    /// From the numbers in a key file; checks them and computes the CRT values.
    pub fn from_components(
        n: BigUint,
        e: BigUint,
        d: BigUint,
        p: BigUint,
        q: BigUint,
    ) -> Result<Self, RsaError> {
        let public = RsaPublicKey::new(n, e)?;
        let two = BigUint::from(2u32);
        if p < two || q < two {
            return Err(RsaError::InvalidKey("prime factor below 2"));
        }
        if &p * &q != public.n {
            return Err(RsaError::InvalidKey("p·q differs from the modulus"));
        }
        if d.is_zero() || d >= public.n {
            return Err(RsaError::InvalidKey("private exponent out of range"));
        }
        let p1 = &p - 1u32;
        let q1 = &q - 1u32;
        // e·d ≡ 1 mod (p−1) and mod (q−1) is e·d ≡ 1 mod λ(n): what decryption needs.
        let ed = &public.e * &d;
        if !(&ed % &p1).is_one() || !(&ed % &q1).is_one() {
            return Err(RsaError::InvalidKey("e·d is not 1 modulo λ(n)"));
        }
        let dp = &d % &p1;
        let dq = &d % &q1;
        let qinv = (&q % &p)
            .modinv(&p)
            .ok_or(RsaError::InvalidKey("q has no inverse modulo p"))?;
        let mont_p = Montgomery::new(&p).ok_or(RsaError::InvalidKey("p is even"))?;
        let mont_q = Montgomery::new(&q).ok_or(RsaError::InvalidKey("q is even"))?;
        Ok(Self {
            public,
            d,
            p,
            q,
            dp,
            dq,
            qinv,
            mont_p,
            mont_q,
            blinding: Mutex::new(None),
        })
    }
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public
    }
    pub fn d(&self) -> &BigUint {
        &self.d
    }
    pub fn p(&self) -> &BigUint {
        &self.p
    }
    pub fn q(&self) -> &BigUint {
        &self.q
    }
    pub fn dp(&self) -> &BigUint {
        &self.dp
    }
    pub fn dq(&self) -> &BigUint {
        &self.dq
    }
    pub fn qinv(&self) -> &BigUint {
        &self.qinv
    }
    /// Modulus length in bytes (k in RFC 8017), as `public_key().size()`.
    pub fn size(&self) -> usize {
        self.public.size()
    }
    /// Raw private operation (CRT + blinding) on `size()` big-endian bytes; output `size()` bytes.
    pub fn raw_private(&self, input: &[u8]) -> Result<Vec<u8>, RsaError> {
        let c = self.public.input_to_int(input)?;
        let m = self.private_op(&c)?;
        i2osp(&m, self.size()).ok_or(RsaError::MessageTooLong)
    }
    /// PKCS#1 v1.5 decryption. Any failure is `RsaError::Decryption`, whatever the cause.
    pub fn decrypt_pkcs1v15(&self, ciphertext: &[u8]) -> Result<Vec<u8>, RsaError> {
        let em = self
            .raw_private(ciphertext)
            .map_err(|_| RsaError::Decryption)?;
        let scan = eme_pkcs1v15_scan(&em);
        if scan.valid == 0 {
            return Err(RsaError::Decryption);
        }
        em.get(scan.zero_index + 1..)
            .map(<[u8]>::to_vec)
            .ok_or(RsaError::Decryption)
    }
    /// Decryption for TLS RSA key exchange (RFC 5246 §7.4.7.1): always returns `expected_len`
    /// bytes and a validity flag, computed without branching on secret data, so the caller can
    /// substitute a random pre-master secret without a timing difference.
    pub fn decrypt_pkcs1v15_fixed_len(
        &self,
        ciphertext: &[u8],
        expected_len: usize,
    ) -> (Vec<u8>, bool) {
        let k = self.size();
        let mut out = vec![0u8; expected_len];
        // Length and range of the ciphertext are public: rejecting them early leaks nothing.
        let Ok(em) = self.raw_private(ciphertext) else {
            return (out, false);
        };
        let scan = eme_pkcs1v15_scan(&em);
        // The message is what follows the zero separator: k − zero_index − 1 bytes.
        let msg_len = k.wrapping_sub(scan.zero_index).wrapping_sub(1);
        let valid = scan.valid & ct_eq_usize(msg_len, expected_len);
        // The last `expected_len` bytes of EM, whatever the padding said (public lengths only).
        let take = expected_len.min(k);
        let (dst, src) = (&mut out[expected_len - take..], &em[k - take..]);
        dst.copy_from_slice(src);
        (out, std::hint::black_box(valid) != 0)
    }
    /// PKCS#1 v1.5 signature over `message` (hashed here with `hash`).
    pub fn sign_pkcs1v15(&self, hash: HashAlg, message: &[u8]) -> Result<Vec<u8>, RsaError> {
        self.sign_pkcs1v15_prehashed(hash, &hash.digest(message))
    }
    /// PKCS#1 v1.5 signature over an already computed `digest` (RFC 8017 §8.2.1).
    pub fn sign_pkcs1v15_prehashed(
        &self,
        hash: HashAlg,
        digest: &[u8],
    ) -> Result<Vec<u8>, RsaError> {
        let em = emsa_pkcs1v15_encode(hash, digest, self.size())?;
        self.raw_private(&em)
    }

    /// m = c^d mod n by CRT (RFC 8017 §5.1.2, 2.b), blinded, and checked by re-encrypting.
    fn private_op(&self, c: &BigUint) -> Result<BigUint, RsaError> {
        let n = &self.public.n;
        let (r_e, r_inv) = self.next_blinding();
        // Blind: the exponentiation sees c·r^e, unrelated to the c the attacker chose.
        let blinded = (c * &r_e) % n;
        let m1 = self.mont_p.pow(&blinded, &self.dp);
        let m2 = self.mont_q.pow(&blinded, &self.dq);
        // Garner: h = qInv·(m1 − m2) mod p, kept non-negative by adding p first.
        let h = ((&m1 + &self.p - (&m2 % &self.p)) * &self.qinv) % &self.p;
        let m_blinded = m2 + h * &self.q;
        // A fault in one CRT half would reveal a factor (Boneh–DeMillo–Lipton): check m^e = c,
        // modulo p and modulo q (the same check as modulo n, by the CRT, at half the cost).
        let e = &self.public.e;
        let check_p = self.mont_p.pow(&m_blinded, e) == &blinded % &self.p;
        let check_q = self.mont_q.pow(&m_blinded, e) == &blinded % &self.q;
        if !(check_p && check_q) {
            return Err(RsaError::InvalidKey(
                "private-key operation failed its consistency check",
            ));
        }
        Ok((m_blinded * r_inv) % n)
    }

    /// Hand out the current blinding pair and advance it (under the lock) for the next caller.
    fn next_blinding(&self) -> (BigUint, BigUint) {
        let n = &self.public.n;
        let mut slot = self
            .blinding
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = match slot.take() {
            Some(b) if b.uses < BLINDING_REFRESH => b,
            _ => Blinding::fresh(&self.public),
        };
        let pair = (current.r_e.clone(), current.r_inv.clone());
        // (r^e)² = (r²)^e and (r⁻¹)² = (r²)⁻¹: the next pair costs two squarings, no inverse.
        *slot = Some(Blinding {
            r_e: (&current.r_e * &current.r_e) % n,
            r_inv: (&current.r_inv * &current.r_inv) % n,
            uses: current.uses + 1,
        });
        pair
    }
}

impl Clone for RsaPrivateKey {
    /// The clone gets its own blinding pair (made on its first use).
    fn clone(&self) -> Self {
        Self {
            public: self.public.clone(),
            d: self.d.clone(),
            p: self.p.clone(),
            q: self.q.clone(),
            dp: self.dp.clone(),
            dq: self.dq.clone(),
            qinv: self.qinv.clone(),
            mont_p: self.mont_p.clone(),
            mont_q: self.mont_q.clone(),
            blinding: Mutex::new(None),
        }
    }
}

impl PartialEq for RsaPrivateKey {
    /// Same numbers (the blinding state is not part of the key).
    fn eq(&self, other: &Self) -> bool {
        self.public == other.public
            && self.d == other.d
            && self.p == other.p
            && self.q == other.q
            && self.dp == other.dp
            && self.dq == other.dq
            && self.qinv == other.qinv
    }
}
impl Eq for RsaPrivateKey {}

impl std::fmt::Debug for RsaPrivateKey {
    /// Shows only the public half: a key must not end up in a log by accident.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaPrivateKey")
            .field("bits", &self.public.bits())
            .field("e", &self.public.e)
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A fresh random r is drawn after this many uses of one squaring chain (OpenSSL uses 32 too).
const BLINDING_REFRESH: u32 = 32;

/// Blinding pair (r^e mod n, r⁻¹ mod n) for a secret random r.
struct Blinding {
    r_e: BigUint,
    r_inv: BigUint,
    uses: u32,
}

impl Blinding {
    fn fresh(key: &RsaPublicKey) -> Self {
        let mut rng = rand::rng();
        let two = BigUint::from(2u32);
        loop {
            let r = rng.random_biguint_range(&two, &key.n);
            // gcd(r, n) ≠ 1 would mean r shares a factor with n: draw again.
            if let Some(r_inv) = r.modinv(&key.n) {
                return Self {
                    r_e: match Montgomery::new(&key.n) {
                        Some(mont) => mont.pow(&r, &key.e),
                        None => r.modpow(&key.e, &key.n),
                    },
                    r_inv,
                    uses: 0,
                };
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Montgomery exponentiation
// ---------------------------------------------------------------------------------------------

/// Bits of the exponent consumed per table multiplication (32 precomputed powers).
const WINDOW: u32 = 5;

/// Modular exponentiation with Montgomery multiplication (HAC §14.3.2, in the "CIOS" form of
/// Koç, Acar and Kaliski 1996) on fixed-length little-endian `u64` limbs. num-bigint's `modpow`
/// allocates on every step; here an exponentiation allocates its buffers once. It is also more
/// regular than `modpow`: a fixed 5-bit window (a multiplication for every window, zero or
/// not), table entries read by scanning all of them, and a branch-free final subtraction, so
/// the sequence of operations and the memory touched do not depend on the exponent's bits.
#[derive(Clone)]
struct Montgomery {
    modulus: BigUint,
    m: Vec<u64>,
    /// −m⁻¹ mod 2^64.
    m_inv: u64,
    /// R² mod m with R = 2^(64·limbs): one multiplication by it enters Montgomery form.
    r2: Vec<u64>,
}

impl Montgomery {
    /// `None` unless `modulus` is odd and above 1 (Montgomery needs gcd(m, 2^64) = 1).
    fn new(modulus: &BigUint) -> Option<Self> {
        if modulus.is_even() || modulus.is_one() {
            return None;
        }
        let m = modulus.to_u64_digits();
        let limbs = m.len();
        let m0 = *m.first()?;
        // Newton's iteration doubles the number of correct low bits: 1 (m0 is odd) → … → 64.
        let mut inv: u64 = 1;
        for _ in 0..6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(m0.wrapping_mul(inv)));
        }
        let r2 = (BigUint::one() << (128 * limbs)) % modulus;
        Some(Self {
            modulus: modulus.clone(),
            m_inv: inv.wrapping_neg(),
            r2: limbs_of(&r2, limbs),
            m,
        })
    }

    /// `base^exp mod m`.
    fn pow(&self, base: &BigUint, exp: &BigUint) -> BigUint {
        let n = self.m.len();
        let mut acc = vec![0u64; n];
        let mut tmp = vec![0u64; n];
        let x = {
            let plain = limbs_of(&(base % &self.modulus), n);
            let mut x = vec![0u64; n];
            self.mul(&plain, &self.r2, &mut x);
            x
        };
        let e = exp.to_u64_digits();
        let bits = exp.bits();
        let bit = |i: u64| {
            let limb = e.get((i / 64) as usize).copied().unwrap_or(0);
            (limb >> (i % 64)) & 1
        };
        if bits == 0 {
            return BigUint::one() % &self.modulus;
        }
        if bits <= 64 {
            // A public exponent: plain left-to-right square-and-multiply (e is not secret).
            acc.copy_from_slice(&x);
            for i in (0..bits - 1).rev() {
                self.sqr(&acc, &mut tmp);
                std::mem::swap(&mut acc, &mut tmp);
                if bit(i) == 1 {
                    self.mul(&acc, &x, &mut tmp);
                    std::mem::swap(&mut acc, &mut tmp);
                }
            }
        } else {
            // table[k] = x^k in Montgomery form, k < 2^WINDOW; table[0] = R mod m (that is, 1).
            let size = 1usize << WINDOW;
            let mut table = vec![0u64; size * n];
            let mut one = vec![0u64; n];
            if let Some(first) = one.first_mut() {
                *first = 1;
            }
            self.mul(&one, &self.r2, &mut tmp);
            table[..n].copy_from_slice(&tmp);
            for k in 1..size {
                let (done, rest) = table.split_at_mut(k * n);
                self.mul(&done[(k - 1) * n..k * n], &x, &mut rest[..n]);
            }
            let windows = bits.div_ceil(u64::from(WINDOW));
            let window = |w: u64| {
                (0..u64::from(WINDOW)).fold(0u64, |v, j| v | (bit(w * u64::from(WINDOW) + j) << j))
            };
            select(&table, window(windows - 1), &mut acc);
            let mut entry = vec![0u64; n];
            for w in (0..windows - 1).rev() {
                for _ in 0..WINDOW {
                    self.sqr(&acc, &mut tmp);
                    std::mem::swap(&mut acc, &mut tmp);
                }
                select(&table, window(w), &mut entry);
                self.mul(&acc, &entry, &mut tmp);
                std::mem::swap(&mut acc, &mut tmp);
            }
        }
        // Leave Montgomery form: multiply by plain 1.
        let mut one = vec![0u64; n];
        if let Some(first) = one.first_mut() {
            *first = 1;
        }
        self.mul(&acc, &one, &mut tmp);
        biguint_of(&tmp)
    }

    /// `out = a·b·R⁻¹ mod m` for `a, b < m` (all `limbs` long).
    fn mul(&self, a: &[u64], b: &[u64], out: &mut [u64]) {
        // The common sizes get a copy with the length known at compile time (unrolled, no
        // bounds checks): faster than the general loop.
        macro_rules! fixed {
            ($($n:literal)*) => {
                match self.m.len() {
                    $($n => {
                        if let (Ok(m), Ok(a), Ok(b), Ok(out)) =
                            (self.m[..].try_into(), a.try_into(), b.try_into(), out.try_into())
                        {
                            return mont_mul::<$n>(m, self.m_inv, a, b, out);
                        }
                    })*
                    _ => {}
                }
            };
        }
        fixed!(16 24 32 48 64);
        mont_mul_slices(&self.m, self.m_inv, a, b, out);
    }

    /// `out = a²·R⁻¹ mod m`: most of an exponentiation, and a square needs only about half the
    /// limb products of a multiplication.
    fn sqr(&self, a: &[u64], out: &mut [u64]) {
        macro_rules! fixed {
            ($($n:literal)*) => {
                match self.m.len() {
                    $($n => {
                        if let (Ok(m), Ok(a), Ok(out)) =
                            (self.m[..].try_into(), a.try_into(), out.try_into())
                        {
                            return mont_sqr::<$n>(m, self.m_inv, a, out);
                        }
                    })*
                    _ => {}
                }
            };
        }
        if let (Ok(m), Ok(a), Ok(out)) = (self.m[..].try_into(), a.try_into(), out.try_into()) {
            return mont_sqr_16(m, self.m_inv, a, out);
        }
        fixed!(24 32 48 64);
        mont_mul_slices(&self.m, self.m_inv, a, a, out);
    }
}

/// Montgomery squaring: the 2N-limb square (each cross product once, doubled, plus the
/// diagonal), then the reduction t = (t + q·m·2^(64i)) for each low limb i, as in HAC 14.32.
#[inline(always)]
fn mont_sqr<const N: usize>(m: &[u64; N], m_inv: u64, a: &[u64; N], out: &mut [u64; N]) {
    // 2N limbs; N is at most 64 here (see `Montgomery::sqr`).
    let mut p = [0u64; 128];
    let p = &mut p[..2 * N];
    for i in 0..N {
        let ai = u128::from(a[i]);
        let mut c = 0u128;
        for j in i + 1..N {
            let s = u128::from(p[i + j]) + ai * u128::from(a[j]) + c;
            p[i + j] = s as u64;
            c = s >> 64;
        }
        p[i + N] = c as u64;
    }
    let mut top = 0u64;
    for limb in p.iter_mut() {
        let v = *limb;
        *limb = (v << 1) | top;
        top = v >> 63;
    }
    let mut c = 0u128;
    for i in 0..N {
        let d = u128::from(a[i]) * u128::from(a[i]);
        let s = u128::from(p[2 * i]) + (d & u128::from(u64::MAX)) + c;
        p[2 * i] = s as u64;
        let s = u128::from(p[2 * i + 1]) + (d >> 64) + (s >> 64);
        p[2 * i + 1] = s as u64;
        c = s >> 64;
    }
    // Reduce: clear the low N limbs one at a time; `carry` is the bit above limb i + N.
    let mut carry = 0u64;
    for i in 0..N {
        let q = u128::from(p[i].wrapping_mul(m_inv));
        let mut c = 0u128;
        for j in 0..N {
            let s = u128::from(p[i + j]) + q * u128::from(m[j]) + c;
            p[i + j] = s as u64;
            c = s >> 64;
        }
        let s = u128::from(p[i + N]) + c + u128::from(carry);
        p[i + N] = s as u64;
        carry = (s >> 64) as u64;
    }
    subtract_if_not_below(&p[N..], carry, m, out);
}

/// Montgomery squaring for 16 limbs (the 1024-bit CRT halves of an RSA-2048 key, where a
/// private-key operation spends most of its time), in product-scanning ("Comba") form with
/// the reduction interleaved column by column (the "FIPS" method of Koç, Acar and Kaliski
/// 1996). Column k sums the doubled cross products a_i·a_j (i < j, i + j = k), the square
/// a_(k/2)² and the reduction products q_j·m_(k−j) in registers; for k < N its low limb then
/// fixes q_k (which clears it), for k ≥ N it is output limb k − N. About a quarter faster than
/// [`mont_sqr`]'s rows, whose u128 carries go through memory once per product.
fn mont_sqr_16(m: &[u64; 16], m_inv: u64, a: &[u64; 16], out: &mut [u64; 16]) {
    let mut q = [0u64; 16];
    let mut t = [0u64; 16];
    let mut acc = Column::default();
    // Literal column numbers: after inlining, every loop in `sqr_column` has a fixed trip
    // count and unrolls completely (a loop over k would leave the inner loops rolled).
    macro_rules! columns {
        ($($k:literal)*) => { $( sqr_column($k, m, m_inv, a, &mut q, &mut t, &mut acc); )* };
    }
    columns!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30);
    t[15] = acc.shift();
    subtract_if_not_below(&t, acc.shift(), m, out);
}

/// Column `k` of [`mont_sqr_16`].
#[inline(always)]
fn sqr_column<const N: usize>(
    k: usize,
    m: &[u64; N],
    m_inv: u64,
    a: &[u64; N],
    q: &mut [u64; N],
    t: &mut [u64; N],
    acc: &mut Column,
) {
    let first = (k + 1).saturating_sub(N);
    // Each cross product appears twice in a square: sum it once, then double the sum.
    let mut cross = Column::default();
    for i in first..k.div_ceil(2) {
        cross.mac(a[i], a[k - i]);
    }
    acc.lo += cross.lo << 1;
    acc.hi += cross.hi << 1;
    if k.is_multiple_of(2) {
        acc.mac(a[k / 2], a[k / 2]);
    }
    for j in first..k.min(N) {
        acc.mac(q[j], m[k - j]);
    }
    if k < N {
        let qk = (acc.lo as u64).wrapping_mul(m_inv);
        q[k] = qk;
        acc.mac(qk, m[0]);
        acc.shift();
    } else {
        t[k - N] = acc.shift();
    }
}

/// A column sum of product scanning, kept as two u128 sums of 64-bit halves (the products'
/// low halves in `lo`, their high halves in `hi`): no addition can overflow (a column has at
/// most a few dozen terms), so no carry flag has to be saved; the value is lo + hi·2^64.
#[derive(Clone, Copy, Default)]
struct Column {
    lo: u128,
    hi: u128,
}

impl Column {
    /// self += a·b.
    #[inline(always)]
    fn mac(&mut self, a: u64, b: u64) {
        let p = u128::from(a) * u128::from(b);
        self.lo += u128::from(p as u64);
        self.hi += p >> 64;
    }

    /// Take the column's low limb; the rest carries into the next column.
    #[inline(always)]
    fn shift(&mut self) -> u64 {
        let limb = self.lo as u64;
        self.lo = (self.lo >> 64) + self.hi;
        self.hi = 0;
        limb
    }
}

/// One Montgomery multiplication, CIOS with the multiply and reduce passes merged: for each limb
/// of `a`, t = (t + a_i·b + q·m) / 2^64 with q chosen to clear the low limb; two carry chains run
/// side by side. At the end t < 2m, and m is subtracted without a branch.
#[inline(always)]
fn mont_mul<const N: usize>(
    m: &[u64; N],
    m_inv: u64,
    a: &[u64; N],
    b: &[u64; N],
    out: &mut [u64; N],
) {
    let mut t = [0u64; N];
    let mut t_top = 0u64;
    for &ai in a {
        let ai = u128::from(ai);
        let s = u128::from(t[0]) + ai * u128::from(b[0]);
        let mut c1 = s >> 64;
        let q = u128::from((s as u64).wrapping_mul(m_inv));
        let mut c2 = (u128::from(s as u64) + q * u128::from(m[0])) >> 64;
        for j in 1..N {
            let s = u128::from(t[j]) + ai * u128::from(b[j]) + c1;
            c1 = s >> 64;
            let s = u128::from(s as u64) + q * u128::from(m[j]) + c2;
            c2 = s >> 64;
            t[j - 1] = s as u64;
        }
        let s = u128::from(t_top) + c1 + c2;
        t[N - 1] = s as u64;
        t_top = (s >> 64) as u64;
    }
    subtract_if_not_below(&t, t_top, m, out);
}

/// [`mont_mul`] for any length (moduli of unusual sizes).
fn mont_mul_slices(m: &[u64], m_inv: u64, a: &[u64], b: &[u64], out: &mut [u64]) {
    let n = m.len();
    let mut t = vec![0u64; n];
    let mut t_top = 0u64;
    let (Some(&b0), Some(&m0)) = (b.first(), m.first()) else {
        return;
    };
    for &ai in a {
        let ai = u128::from(ai);
        let s = u128::from(t[0]) + ai * u128::from(b0);
        let mut c1 = s >> 64;
        let q = u128::from((s as u64).wrapping_mul(m_inv));
        let mut c2 = (u128::from(s as u64) + q * u128::from(m0)) >> 64;
        for j in 1..n {
            let s = u128::from(t[j]) + ai * u128::from(b[j]) + c1;
            c1 = s >> 64;
            let s = u128::from(s as u64) + q * u128::from(m[j]) + c2;
            c2 = s >> 64;
            t[j - 1] = s as u64;
        }
        let s = u128::from(t_top) + c1 + c2;
        t[n - 1] = s as u64;
        t_top = (s >> 64) as u64;
    }
    subtract_if_not_below(&t, t_top, m, out);
}

/// `out = t − m` unless that borrows (then `out = t`), where `t_top` is t's limb above `m`'s
/// length; branch-free.
#[inline(always)]
fn subtract_if_not_below(t: &[u64], t_top: u64, m: &[u64], out: &mut [u64]) {
    let mut borrow = 0u64;
    for ((o, &tj), &mj) in out.iter_mut().zip(t).zip(m) {
        let (d, b1) = tj.overflowing_sub(mj);
        let (d, b2) = d.overflowing_sub(borrow);
        *o = d;
        borrow = u64::from(b1 | b2);
    }
    let (_, below) = t_top.overflowing_sub(borrow);
    let keep_t = u64::from(below).wrapping_neg();
    for (o, &tj) in out.iter_mut().zip(t) {
        *o = (tj & keep_t) | (*o & !keep_t);
    }
}

/// `out = table[k]` (entries of `out.len()` limbs), reading every entry so that which one was
/// wanted does not show in the cache.
fn select(table: &[u64], k: u64, out: &mut [u64]) {
    out.fill(0);
    for (i, entry) in table.chunks_exact(out.len().max(1)).enumerate() {
        // All ones when i == k, else zero, without a branch.
        let diff = (i as u64) ^ k;
        let mask = ((diff | diff.wrapping_neg()) >> 63).wrapping_sub(1);
        for (o, &v) in out.iter_mut().zip(entry) {
            *o |= v & mask;
        }
    }
}

/// `x` as exactly `len` little-endian limbs (`x` must fit; the callers reduce it first).
fn limbs_of(x: &BigUint, len: usize) -> Vec<u64> {
    let mut limbs = x.to_u64_digits();
    limbs.resize(len, 0);
    limbs
}

fn biguint_of(limbs: &[u64]) -> BigUint {
    BigUint::new(
        limbs
            .iter()
            .flat_map(|&l| [l as u32, (l >> 32) as u32])
            .collect(),
    )
}

/// I2OSP (RFC 8017 §4.1): `x` as exactly `len` big-endian bytes, or None if it does not fit.
fn i2osp(x: &BigUint, len: usize) -> Option<Vec<u8>> {
    let bytes = if x.is_zero() {
        Vec::new()
    } else {
        x.to_bytes_be()
    };
    let pad = len.checked_sub(bytes.len())?;
    let mut out = vec![0u8; pad];
    out.extend_from_slice(&bytes);
    Some(out)
}

/// EMSA-PKCS1-v1_5 (RFC 8017 §9.2): 00 01 FF…FF 00 DigestInfo, `k` bytes long.
fn emsa_pkcs1v15_encode(hash: HashAlg, digest: &[u8], k: usize) -> Result<Vec<u8>, RsaError> {
    if digest.len() != hash.output_len() {
        return Err(RsaError::InvalidKey(
            "digest length does not match the hash",
        ));
    }
    let prefix = hash.digest_info_prefix();
    let t_len = prefix.len() + digest.len();
    // Step 3: "intended encoded message length too short" when fewer than 8 bytes of FF fit.
    if k < t_len + 11 {
        return Err(RsaError::MessageTooLong);
    }
    let mut em = Vec::with_capacity(k);
    em.extend_from_slice(&[0x00, 0x01]);
    em.resize(k - t_len - 1, 0xff);
    em.push(0x00);
    em.extend_from_slice(prefix);
    em.extend_from_slice(digest);
    Ok(em)
}

/// `len` random bytes, none of them zero (the PS of EME-PKCS1-v1_5).
fn nonzero_random_bytes(len: usize) -> Vec<u8> {
    let mut rng = rand::rng();
    let mut out = vec![0u8; len];
    rng.fill_bytes(&mut out);
    for byte in &mut out {
        while *byte == 0 {
            let mut one = [0u8; 1];
            rng.fill_bytes(&mut one);
            *byte = one[0];
        }
    }
    out
}

/// Result of the branch-free EME-PKCS1-v1_5 scan: `valid` is all-ones or zero.
struct EmeScan {
    valid: u32,
    /// Index of the 00 separator (meaningful only when valid).
    zero_index: usize,
}

/// Check 00 02 PS(≥ 8 non-zero) 00 M over every byte, with masks instead of branches, so the
/// time taken does not depend on where (or whether) the padding is wrong (Bleichenbacher 1998).
fn eme_pkcs1v15_scan(em: &[u8]) -> EmeScan {
    let mut first = [0u8; 2];
    for (dst, src) in first.iter_mut().zip(em) {
        *dst = *src;
    }
    let mut valid = ct_eq_u8(first[0], 0x00) & ct_eq_u8(first[1], 0x02) & ct_ge_usize(em.len(), 11);
    let mut looking = u32::MAX;
    let mut zero_index = 0usize;
    for (i, &byte) in em.iter().enumerate().skip(2) {
        let is_zero = ct_eq_u8(byte, 0);
        let hit = looking & is_zero;
        zero_index = ct_select_usize(hit, i, zero_index);
        looking &= !is_zero;
    }
    // A separator must exist, after at least 8 bytes of PS (index ≥ 2 + 8).
    valid &= !looking & ct_ge_usize(zero_index, 10);
    EmeScan {
        valid: std::hint::black_box(valid),
        zero_index,
    }
}

/// All-ones if a == b, else zero; no branch.
fn ct_eq_u8(a: u8, b: u8) -> u32 {
    let x = u32::from(a ^ b);
    // x | −x has its top bit set exactly when x ≠ 0.
    ((x | x.wrapping_neg()) >> 31).wrapping_sub(1)
}

/// All-ones if a == b, else zero; no branch.
fn ct_eq_usize(a: usize, b: usize) -> u32 {
    let x = (a ^ b) as u64;
    (((x | x.wrapping_neg()) >> 63) as u32).wrapping_sub(1)
}

/// All-ones if a ≥ b, else zero; no branch (both below 2^63).
fn ct_ge_usize(a: usize, b: usize) -> u32 {
    let lt = ((a as u64).wrapping_sub(b as u64) >> 63) as u32;
    lt.wrapping_sub(1)
}

/// `a` if mask is all-ones, `b` if zero.
fn ct_select_usize(mask: u32, a: usize, b: usize) -> usize {
    let m = ((mask & 1) as usize).wrapping_neg();
    (a & m) | (b & !m)
}

/// Equal-length comparison over every byte.
fn ct_eq_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Miller–Rabin rounds per prime. FIPS 186-5 Table B.1 (random candidates, M-R only) asks for
/// 5 rounds for 1024-bit p, q (error 2^-112), 4 for 1536-bit (2^-128) and 4 for 2048-bit
/// (2^-144). We run twice that: the extra rounds only cost time on the two final primes.
fn miller_rabin_rounds(nlen: usize) -> Option<usize> {
    match nlen {
        2048 => Some(10),
        3072 => Some(8),
        4096 => Some(8),
        _ => None,
    }
}

/// Odd primes below 2048, grouped so that each group's product fits in a u64: one big-number
/// remainder per group instead of one per prime.
fn small_prime_groups() -> &'static [(u64, Vec<u64>)] {
    static GROUPS: OnceLock<Vec<(u64, Vec<u64>)>> = OnceLock::new();
    GROUPS.get_or_init(|| {
        const LIMIT: usize = 2048;
        let mut composite = vec![false; LIMIT];
        let mut groups: Vec<(u64, Vec<u64>)> = Vec::new();
        let mut product: u64 = 1;
        let mut members = Vec::new();
        for i in 2..LIMIT {
            if composite[i] {
                continue;
            }
            for multiple in (i * i..LIMIT).step_by(i) {
                composite[multiple] = true;
            }
            if i == 2 {
                continue;
            }
            let prime = i as u64;
            match product.checked_mul(prime) {
                Some(next) => {
                    product = next;
                    members.push(prime);
                }
                None => {
                    groups.push((product, std::mem::take(&mut members)));
                    product = prime;
                    members.push(prime);
                }
            }
        }
        groups.push((product, members));
        groups
    })
}

/// `x mod m` for a u64 modulus, over the 64-bit digits from the most significant down.
fn rem_u64(x: &BigUint, m: u64) -> u64 {
    let digits = x.to_u64_digits();
    let m = u128::from(m);
    let r = digits
        .iter()
        .rev()
        .fold(0u128, |r, &d| ((r << 64) | u128::from(d)) % m);
    r as u64
}

/// True if a small prime divides `candidate` (which is far larger than all of them).
fn has_small_factor(candidate: &BigUint) -> bool {
    small_prime_groups().iter().any(|(product, primes)| {
        let r = rem_u64(candidate, *product);
        primes.iter().any(|p| r.is_multiple_of(*p))
    })
}

/// A random prime of exactly `bits` bits with the top two bits set and gcd(p − 1, e) = 1
/// (FIPS 186-5 §A.1.3): fresh random candidates, trial division, then Miller–Rabin.
fn generate_prime(
    bits: usize,
    e: &BigUint,
    rounds: usize,
    rng: &mut impl Rng,
    progress: &mut dyn FnMut(KeygenEvent),
) -> BigUint {
    let bits64 = bits as u64;
    loop {
        let mut candidate = rng.random_biguint(bits64);
        // Top two bits make p·q exactly 2·bits long (p ≥ 1.5·2^(bits−1) > √2·2^(bits−1)).
        candidate.set_bit(bits64 - 1, true);
        candidate.set_bit(bits64 - 2, true);
        candidate.set_bit(0, true);
        if has_small_factor(&candidate) {
            progress(KeygenEvent::CandidateRejected);
            continue;
        }
        // e is prime, so gcd(p − 1, e) = 1 unless p ≡ 1 (mod e).
        if ((&candidate - 1u32) % e).is_zero() {
            progress(KeygenEvent::CandidateRejected);
            continue;
        }
        if !is_probable_prime(&candidate, rounds, rng) {
            progress(KeygenEvent::CandidateRejected);
            continue;
        }
        return candidate;
    }
}

/// Miller–Rabin with random bases (FIPS 186-5 §B.3.1). `w` must be odd and > 3.
fn is_probable_prime(w: &BigUint, rounds: usize, rng: &mut impl Rng) -> bool {
    let w1 = w - 1u32;
    let Some(a) = w1.trailing_zeros() else {
        return false;
    };
    let m = &w1 >> a;
    let two = BigUint::from(2u32);
    for _ in 0..rounds {
        let b = rng.random_biguint_range(&two, &w1);
        // num-bigint here, not `Montgomery`: key generation is rare, and num-bigint is built
        // optimised even in debug builds, where the tests generate many keys.
        let mut z = b.modpow(&m, w);
        if z.is_one() || z == w1 {
            continue;
        }
        let mut witness = true;
        for _ in 1..a {
            z = (&z * &z) % w;
            if z == w1 {
                witness = false;
                break;
            }
            if z.is_one() {
                return false;
            }
        }
        if witness {
            return false;
        }
    }
    true
}

/// Trial division, for checking the sieve table in tests.
#[cfg(test)]
fn is_small_prime(x: u64) -> bool {
    x >= 2
        && (2..)
            .take_while(|d| d * d <= x)
            .all(|d| !x.is_multiple_of(d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_traits::ToPrimitive;

    /// One 2048-bit key for the tests here, with the progress events its generation reported.
    fn generated() -> &'static (RsaPrivateKey, usize, usize) {
        static KEY: OnceLock<(RsaPrivateKey, usize, usize)> = OnceLock::new();
        KEY.get_or_init(|| {
            let (mut rejected, mut found) = (0, 0);
            let key = RsaPrivateKey::generate(2048, &mut |event| match event {
                KeygenEvent::CandidateRejected => rejected += 1,
                KeygenEvent::PrimeFound => found += 1,
            });
            match key {
                Ok(k) => (k, rejected, found),
                Err(e) => panic!("keygen failed: {e}"),
            }
        })
    }

    fn test_key() -> &'static RsaPrivateKey {
        &generated().0
    }

    #[test]
    fn key_is_send_sync_clone() {
        fn check<T: Send + Sync + Clone>() {}
        check::<RsaPrivateKey>();
        check::<RsaPublicKey>();
    }

    #[test]
    fn generated_key_meets_fips_checks() {
        let key = test_key();
        let n = key.public_key().n();
        assert_eq!(key.public_key().bits(), 2048);
        assert_eq!(key.size(), 256);
        assert_eq!(key.public_key().e(), &BigUint::from(65_537u32));
        assert_eq!(&(key.p() * key.q()), n);
        assert_eq!(key.p().bits(), 1024);
        assert_eq!(key.q().bits(), 1024);
        let dist = if key.p() > key.q() {
            key.p() - key.q()
        } else {
            key.q() - key.p()
        };
        assert!(dist.bits() > 1024 - 100);
        assert!(key.d().bits() > 1024);
        let lambda = (key.p() - 1u32).lcm(&(key.q() - 1u32));
        assert!(((key.d() * key.public_key().e()) % &lambda).is_one());
        assert!(((key.q() * key.qinv()) % key.p()).is_one());
    }

    #[test]
    fn raw_ops_are_inverse() {
        let key = test_key();
        let mut x = vec![0u8; key.size()];
        rand::rng().fill_bytes(&mut x[1..]);
        // Several times, so the squared blinding pairs are exercised too.
        for _ in 0..(BLINDING_REFRESH + 3) {
            let y = key.raw_private(&x).unwrap();
            assert_eq!(y.len(), key.size());
            assert_eq!(key.public_key().raw_public(&y).unwrap(), x);
        }
        // Textbook check against the non-CRT exponentiation.
        let c = BigUint::from_bytes_be(&x);
        let expected = i2osp(&c.modpow(key.d(), key.public_key().n()), key.size()).unwrap();
        assert_eq!(key.raw_private(&x).unwrap(), expected);
    }

    #[test]
    fn raw_ops_reject_out_of_range_input() {
        let key = test_key();
        let n_bytes = i2osp(key.public_key().n(), key.size()).unwrap();
        assert_eq!(key.raw_private(&n_bytes), Err(RsaError::MessageTooLong));
        assert!(key.public_key().raw_public(&[0u8; 10]).is_err());
        assert!(key.raw_private(&vec![0u8; key.size() + 1]).is_err());
    }

    #[test]
    fn encrypt_decrypt_round_trip() {
        let key = test_key();
        for len in [0usize, 1, 48, 245] {
            let msg: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let ct = key.public_key().encrypt_pkcs1v15(&msg).unwrap();
            assert_eq!(ct.len(), 256);
            assert_eq!(key.decrypt_pkcs1v15(&ct).unwrap(), msg);
        }
        assert_eq!(
            key.public_key().encrypt_pkcs1v15(&[1u8; 246]),
            Err(RsaError::MessageTooLong)
        );
    }

    #[test]
    fn fixed_len_decrypt_flags_padding_errors() {
        let key = test_key();
        let pms = [7u8; 48];
        let ct = key.public_key().encrypt_pkcs1v15(&pms).unwrap();
        assert_eq!(
            key.decrypt_pkcs1v15_fixed_len(&ct, 48),
            (pms.to_vec(), true)
        );
        let (out, ok) = key.decrypt_pkcs1v15_fixed_len(&ct, 47);
        assert!(!ok);
        assert_eq!(out.len(), 47);

        // Hand-made encoded blocks with one defect each.
        let k = key.size();
        let good = |ps_len: usize| {
            let mut em = vec![0x00, 0x02];
            em.extend(std::iter::repeat_n(0x55, ps_len));
            em.push(0);
            em.resize(k, 0x33);
            em
        };
        let mut bad_type = good(k - 51);
        bad_type[1] = 0x01;
        let mut bad_first = good(k - 51);
        bad_first[0] = 0x01;
        let short_ps = good(7); // separator too early: PS under 8 bytes
        let mut no_zero = good(k - 51);
        no_zero[k - 49] = 0x44;
        for (em, why) in [
            (bad_type, "block type"),
            (short_ps, "short PS"),
            (no_zero, "no separator"),
        ] {
            let ct = key.public_key().raw_public(&em).unwrap();
            let (out, ok) = key.decrypt_pkcs1v15_fixed_len(&ct, 48);
            assert!(!ok, "{why}");
            assert_eq!(out.len(), 48);
            assert_eq!(
                key.decrypt_pkcs1v15(&ct),
                Err(RsaError::Decryption),
                "{why}"
            );
        }
        // A leading non-zero byte makes EM ≥ n for some keys: must still fail, not panic.
        if let Ok(ct) = key.public_key().raw_public(&bad_first) {
            assert!(!key.decrypt_pkcs1v15_fixed_len(&ct, 48).1);
        }
        // And the good one passes through the same path.
        let ct = key.public_key().raw_public(&good(k - 51)).unwrap();
        assert_eq!(
            key.decrypt_pkcs1v15_fixed_len(&ct, 48),
            (vec![0x33; 48], true)
        );
        // Wrong-length ciphertext: fixed-size output, invalid.
        assert_eq!(
            key.decrypt_pkcs1v15_fixed_len(&[1, 2, 3], 48),
            (vec![0; 48], false)
        );
    }

    #[test]
    fn sign_verify_all_hashes() {
        let key = test_key();
        for hash in [HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512] {
            let sig = key.sign_pkcs1v15(hash, b"hello").unwrap();
            key.public_key()
                .verify_pkcs1v15(hash, b"hello", &sig)
                .unwrap();
            assert_eq!(
                key.public_key().verify_pkcs1v15(hash, b"hellp", &sig),
                Err(RsaError::BadSignature)
            );
            let mut bent = sig.clone();
            bent[100] ^= 1;
            assert!(key
                .public_key()
                .verify_pkcs1v15(hash, b"hello", &bent)
                .is_err());
            assert!(key
                .public_key()
                .verify_pkcs1v15(hash, b"hello", &sig[1..])
                .is_err());
        }
        let sig = key.sign_pkcs1v15(HashAlg::Sha256, b"x").unwrap();
        assert!(key
            .public_key()
            .verify_pkcs1v15(HashAlg::Sha384, b"x", &sig)
            .is_err());
    }

    #[test]
    fn signature_encoding_matches_rfc8017() {
        // EM for SHA-256 of "abc" under a 2048-bit key: 00 01 FF×202 00 DigestInfo.
        let digest = HashAlg::Sha256.digest(b"abc");
        let em = emsa_pkcs1v15_encode(HashAlg::Sha256, &digest, 256).unwrap();
        assert_eq!(em.len(), 256);
        assert_eq!(&em[..2], &[0, 1]);
        assert!(em[2..204].iter().all(|&b| b == 0xff));
        assert_eq!(em[204], 0);
        assert_eq!(
            hex_of(&em[205..224]),
            "3031300d060960864801650304020105000420"
        );
        assert_eq!(
            hex_of(&em[224..]),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn public_key_checks() {
        let n = test_key().public_key().n().clone();
        let e = BigUint::from(65_537u32);
        assert!(RsaPublicKey::new(n.clone(), e.clone()).is_ok());
        assert!(RsaPublicKey::new(BigUint::zero(), e.clone()).is_err());
        assert!(RsaPublicKey::new(&n + 1u32, e.clone()).is_err());
        assert!(RsaPublicKey::new(BigUint::from(3233u32), BigUint::from(17u32)).is_err());
        assert!(RsaPublicKey::new(n.clone(), BigUint::one()).is_err());
        assert!(RsaPublicKey::new(n.clone(), BigUint::from(65_536u32)).is_err());
        assert!(RsaPublicKey::new(n.clone(), n.clone()).is_err());
    }

    #[test]
    fn from_components_rejects_inconsistent_numbers() {
        let k = test_key();
        let (n, e, d, p, q) = (
            k.public_key().n().clone(),
            k.public_key().e().clone(),
            k.d().clone(),
            k.p().clone(),
            k.q().clone(),
        );
        let again =
            RsaPrivateKey::from_components(n.clone(), e.clone(), d.clone(), p.clone(), q.clone());
        assert!(again.as_ref().is_ok_and(|a| a == k));
        // Swapped primes are a different but valid CRT layout.
        let swapped =
            RsaPrivateKey::from_components(n.clone(), e.clone(), d.clone(), q.clone(), p.clone());
        let swapped = swapped.unwrap();
        let x = vec![5u8; 256];
        assert_eq!(swapped.raw_private(&x).unwrap(), k.raw_private(&x).unwrap());
        assert!(RsaPrivateKey::from_components(
            n.clone(),
            e.clone(),
            &d + 2u32,
            p.clone(),
            q.clone()
        )
        .is_err());
        assert!(RsaPrivateKey::from_components(
            n.clone(),
            e.clone(),
            d.clone(),
            &p + 2u32,
            q.clone()
        )
        .is_err());
        assert!(RsaPrivateKey::from_components(n.clone(), e, d, BigUint::one(), n).is_err());
    }

    #[test]
    fn faulty_crt_half_is_caught() {
        // A wrong dP stands in for a fault in the mod-p half (Boneh–DeMillo–Lipton): the
        // result would hand out a factor of n, so nothing may come out.
        let good = test_key();
        let mut faulty = good.clone();
        faulty.dp = &good.dp + 2u32;
        let x = vec![9u8; 256];
        assert!(matches!(
            faulty.raw_private(&x),
            Err(RsaError::InvalidKey(_))
        ));
        assert!(faulty.sign_pkcs1v15(HashAlg::Sha256, b"m").is_err());
        let ct = good.public_key().encrypt_pkcs1v15(&[1u8; 48]).unwrap();
        assert_eq!(faulty.decrypt_pkcs1v15(&ct), Err(RsaError::Decryption));
        assert!(!faulty.decrypt_pkcs1v15_fixed_len(&ct, 48).1);
    }

    #[test]
    fn small_prime_groups_cover_odd_primes_below_2048() {
        let all: Vec<u64> = small_prime_groups()
            .iter()
            .flat_map(|(prod, ps)| {
                assert_eq!(ps.iter().product::<u64>(), *prod);
                ps.clone()
            })
            .collect();
        let expected: Vec<u64> = (3..2048).filter(|&x| is_small_prime(x)).collect();
        assert_eq!(all, expected);
        let x = BigUint::from(3u32).pow(300) * 2047u32 + 12345u32;
        assert_eq!(
            rem_u64(&x, 1_000_003),
            (&x % 1_000_003u64).to_u64().unwrap()
        );
    }

    #[test]
    fn miller_rabin_known_values() {
        let mut rng = rand::rng();
        // 2^127 − 1 is prime; 2^127 + 1 and a Carmichael number are not.
        let m127 = (BigUint::one() << 127u32) - 1u32;
        assert!(is_probable_prime(&m127, 20, &mut rng));
        assert!(!is_probable_prime(
            &((BigUint::one() << 127u32) + 1u32),
            20,
            &mut rng
        ));
        assert!(!is_probable_prime(
            &BigUint::from(561u32 * 1105),
            20,
            &mut rng
        ));
        let carmichael = BigUint::from(41_041u32);
        assert!(!is_probable_prime(&carmichael, 20, &mut rng));
    }

    #[test]
    fn generate_reports_progress_and_rejects_sizes() {
        let (_, rejected, found) = generated();
        // Two primes; a random odd 1024-bit number is prime about once in 355 tries.
        assert_eq!(*found, 2);
        assert!(*rejected > 10, "only {rejected} rejected candidates");
        for bits in [0, 1024, 2047, 8192] {
            assert_eq!(
                RsaPrivateKey::generate(bits, &mut |_| {}).err(),
                Some(RsaError::UnsupportedSize(bits))
            );
        }
    }

    #[test]
    fn generate_3072_and_4096() {
        for bits in [3072, 4096] {
            let key = RsaPrivateKey::generate(bits, &mut |_| {}).unwrap();
            assert_eq!(key.public_key().bits(), bits);
            assert_eq!(key.p().bits() as usize, bits / 2);
            assert_eq!(key.q().bits() as usize, bits / 2);
            assert!(key.d().bits() as usize > bits / 2);
            let sig = key.sign_pkcs1v15(HashAlg::Sha384, b"m").unwrap();
            key.public_key()
                .verify_pkcs1v15(HashAlg::Sha384, b"m", &sig)
                .unwrap();
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        #[test]
        fn random_ciphertexts_fail_quietly(
            ct in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)
        ) {
            let key = test_key();
            // A random block is valid PKCS#1 only with negligible probability.
            proptest::prop_assert_eq!(key.decrypt_pkcs1v15(&ct), Err(RsaError::Decryption));
            let (out, ok) = key.decrypt_pkcs1v15_fixed_len(&ct, 48);
            proptest::prop_assert!(!ok);
            proptest::prop_assert_eq!(out.len(), 48);
        }

        #[test]
        fn random_signatures_are_rejected(
            sig in proptest::collection::vec(proptest::prelude::any::<u8>(), 250..260)
        ) {
            let public = test_key().public_key();
            proptest::prop_assert_eq!(
                public.verify_pkcs1v15(HashAlg::Sha256, b"m", &sig),
                Err(RsaError::BadSignature)
            );
        }

        #[test]
        fn unusable_moduli_are_rejected(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80),
            e in proptest::prelude::any::<u32>(),
        ) {
            let n = BigUint::from_bytes_be(&bytes);
            let even = &n << 1u32;
            // Under 512 bits, or even: never a key.
            proptest::prop_assert!(RsaPublicKey::new(n, BigUint::from(e)).is_err() || bytes.len() >= 64);
            proptest::prop_assert!(RsaPublicKey::new(even, BigUint::from(65_537u32)).is_err());
        }
    }

    /// Our Montgomery exponentiation agrees with num-bigint's `modpow` at the edges: one limb,
    /// the top limb all ones, exponents 0 and 1, short (public) and long (windowed) exponents,
    /// bases of 0, 1, m − 1 and above m.
    #[test]
    fn montgomery_pow_matches_modpow_at_the_edges() {
        let moduli = [
            BigUint::from(3u32),
            BigUint::from(u64::MAX),
            (BigUint::one() << 128u32) - 1u32,
            (BigUint::one() << 1024u32) - 159u32,
            test_key().p().clone(),
            test_key().public_key().n().clone(),
        ];
        for m in &moduli {
            let mont = Montgomery::new(m).unwrap();
            let bases = [
                BigUint::zero(),
                BigUint::one(),
                m - 1u32,
                m + 5u32,
                (m * 3u32) >> 2u32,
            ];
            let exps = [
                BigUint::zero(),
                BigUint::one(),
                BigUint::from(2u32),
                BigUint::from(65_537u32),
                BigUint::from(u64::MAX),
                (BigUint::one() << 64u32) + 1u32,
                test_key().dp().clone(),
                m - 2u32,
            ];
            for b in &bases {
                for e in &exps {
                    assert_eq!(mont.pow(b, e), b.modpow(e, m), "{b}^{e} mod {m}");
                }
            }
        }
    }

    #[test]
    fn montgomery_refuses_even_moduli() {
        assert!(Montgomery::new(&BigUint::from(1024u32)).is_none());
        assert!(Montgomery::new(&BigUint::one()).is_none());
        assert!(Montgomery::new(&BigUint::zero()).is_none());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn montgomery_pow_matches_modpow(
            m in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..80),
            b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..90),
            e in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
        ) {
            let m = BigUint::from_bytes_be(&m) | BigUint::one();
            proptest::prop_assume!(m > BigUint::one());
            let (b, e) = (BigUint::from_bytes_be(&b), BigUint::from_bytes_be(&e));
            let mont = Montgomery::new(&m).unwrap();
            proptest::prop_assert_eq!(mont.pow(&b, &e), b.modpow(&e, &m));
        }
    }

    /// `a²·R⁻¹ mod m` by num-bigint, with R = 2^1024: what [`mont_sqr_16`] must return.
    fn mont_sqr_reference(a: &BigUint, m: &BigUint) -> BigUint {
        let r_inv = (BigUint::one() << 1024u32).modinv(m).unwrap();
        (a * a % m) * r_inv % m
    }

    fn mont_sqr_16_of(a: &BigUint, mont: &Montgomery) -> BigUint {
        let m: [u64; 16] = mont.m[..].try_into().unwrap();
        let a: [u64; 16] = limbs_of(a, 16).try_into().unwrap();
        let mut out = [0u64; 16];
        mont_sqr_16(&m, mont.m_inv, &a, &mut out);
        biguint_of(&out)
    }

    /// The product-scanning square agrees with num-bigint at the edges: 0, 1, m − 1, a
    /// modulus whose limbs are nearly all ones (the largest column sums), and one just
    /// above 2^1023 (the smallest 16-limb modulus shape).
    #[test]
    fn mont_sqr_16_matches_num_bigint_at_the_edges() {
        let moduli = [
            test_key().p().clone(),
            test_key().q().clone(),
            (BigUint::one() << 1024u32) - 159u32,
            (BigUint::one() << 1023u32) + 1u32,
        ];
        for m in &moduli {
            let mont = Montgomery::new(m).unwrap();
            for a in [
                BigUint::zero(),
                BigUint::one(),
                m - 1u32,
                m - 2u32,
                m >> 1u32,
                (m * 3u32) >> 2u32,
            ] {
                assert_eq!(
                    mont_sqr_16_of(&a, &mont),
                    mont_sqr_reference(&a, m),
                    "{a} mod {m}"
                );
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn mont_sqr_16_matches_num_bigint(
            m in proptest::collection::vec(proptest::prelude::any::<u8>(), 128),
            a in proptest::collection::vec(proptest::prelude::any::<u8>(), 128),
        ) {
            // A 16-limb odd modulus (top bit set) and any a below it.
            let m = BigUint::from_bytes_be(&m) | BigUint::one() | (BigUint::one() << 1023u32);
            let a = BigUint::from_bytes_be(&a) % &m;
            let mont = Montgomery::new(&m).unwrap();
            proptest::prop_assert_eq!(mont_sqr_16_of(&a, &mont), mont_sqr_reference(&a, &m));
        }
    }

    fn hex_of(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
