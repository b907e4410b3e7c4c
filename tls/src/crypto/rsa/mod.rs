//! RSA by hand (RFC 8017): the key types and the raw operations. See the submodules for the
//! rest: `crt` (the private operation, RFC 8017 §5.1.2), `pkcs1` (PKCS#1 v1.5 paddings, RFC 8017
//! §7.2, §8.2, §9.2), `keygen` (FIPS 186-5 §A.1.3 key generation), `montgomery` (fixed-limb
//! modular arithmetic), `ifma` (the same exponentiation for 1024-bit moduli with AVX-512 IFMA,
//! both CRT halves at once; one of the crate's two CPU-specific kernels with `unsafe` code, the
//! other being GHASH; used when the CPU has it).
//!
//! num-bigint is not constant-time, so it only handles public numbers and key generation. The
//! private operation runs on our own fixed-width limbs from start to end (`crt`): blinded
//! (the exponentiations only see `c·r^e mod n` for a random `r`), with exponentiations that do
//! the same operations and touch the same memory whatever the exponent, and an output written
//! as exactly k bytes whatever its value.

mod crt;
#[cfg(target_arch = "x86_64")]
mod ifma;
mod keygen;
mod montgomery;
mod pkcs1;

use crt::{Blinding, CrtKey, BLINDING_REFRESH};
use montgomery::Montgomery;
/// Benchmark hooks: the portable exponentiation on demand, one exponentiation on its own.
#[cfg(feature = "testing")]
#[doc(hidden)]
pub use montgomery::{with_portable_pow, SecretPow};
use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::{One, Zero};
use sha2::Digest;
use std::sync::Mutex;
#[cfg(test)]
use std::sync::OnceLock;

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
    /// Only in TLS 1.2 signatures: ServerKeyExchange to a client that sent no
    /// signature_algorithms (RFC 5246 §7.4.1.4.1), a client's CertificateVerify where it may
    /// still be used (§7.4.8); never accepted in certificates.
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    /// Hash `message` with this algorithm.
    pub fn digest(self, message: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha1 => sha1::Sha1::digest(message).to_vec(),
            Self::Sha256 => sha2::Sha256::digest(message).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(message).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(message).to_vec(),
        }
    }

    /// Digest length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// DER of `DigestInfo ::= SEQUENCE { AlgorithmIdentifier (with NULL), OCTET STRING }` up to
    /// the digest itself (RFC 8017 §9.2, note 1).
    fn digest_info_prefix(self) -> &'static [u8] {
        match self {
            Self::Sha1 => &[
                0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
                0x14,
            ],
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
    /// The same numbers as limbs, for the constant-time private operation.
    crt: CrtKey,
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
    /// Raw public operation m = c^e mod n on a big-endian input of `size()` bytes; output `size()` bytes.
    pub fn raw_public(&self, input: &[u8]) -> Result<Vec<u8>, RsaError> {
        let x = self.input_to_int(input)?;
        let y = match Montgomery::new(&self.n) {
            Some(mont) => mont.pow(&x, &self.e),
            None => x.modpow(&self.e, &self.n), // unreachable: n is odd (checked in new)
        };
        i2osp(&y, self.size()).ok_or(RsaError::MessageTooLong)
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
        let crt = CrtKey::new(&public.n, &public.e, &p, &q, &dp, &dq, &qinv)
            .ok_or(RsaError::InvalidKey("p or q is even"))?;
        Ok(Self {
            public,
            d,
            p,
            q,
            dp,
            dq,
            qinv,
            crt,
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
    /// Raw private operation (CRT + blinding, constant-time: see `crt`) on `size()` big-endian
    /// bytes; output `size()` bytes.
    pub fn raw_private(&self, input: &[u8]) -> Result<Vec<u8>, RsaError> {
        let mut out = vec![0u8; self.size()];
        self.crt
            .private_op(input, &self.next_blinding(), &mut out)?;
        Ok(out)
    }

    /// Hand out the current blinding pair and advance it (under the lock) for the next caller.
    fn next_blinding(&self) -> Blinding {
        let mut slot = self
            .blinding
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = match slot.take() {
            Some(b) if b.uses < BLINDING_REFRESH => b,
            _ => self.crt.fresh_blinding(),
        };
        *slot = Some(self.crt.next_blinding(&current));
        current
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
            crt: self.crt.clone(),
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

#[cfg(test)]
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

#[cfg(test)]
pub(crate) fn test_key() -> &'static RsaPrivateKey {
    &generated().0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

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

    /// The output is k bytes whatever its value: results with leading zero bytes (as every
    /// PKCS#1 block has) and the extremes 0, 1 and n − 1 come back exactly.
    #[test]
    fn raw_private_keeps_leading_zeros() {
        let key = test_key();
        let (n, k) = (key.public_key().n(), key.size());
        let mut x = vec![0u8; k];
        x[k - 1] = 1;
        let n1 = i2osp(&(n - 1u32), k).unwrap();
        let mut short = vec![0u8; k];
        short[9..].fill(0xa5);
        for m in [vec![0u8; k], x, n1, short] {
            let c = key.public_key().raw_public(&m).unwrap();
            for _ in 0..3 {
                assert_eq!(key.raw_private(&c).unwrap(), m);
            }
        }
    }

    /// Primes of different limb counts (10 and 22 limbs for a 32-limb n, and q > p): every
    /// reduction in the private operation crosses lengths.
    #[test]
    fn unbalanced_primes() {
        let mut rng = rand::rng();
        let e = BigUint::from(65_537u32);
        let (n, p, q) = loop {
            let p = keygen::generate_prime(640, &e, 10, &mut rng, &mut |_| {});
            let q = keygen::generate_prime(1408, &e, 10, &mut rng, &mut |_| {});
            let n = &p * &q;
            if n.bits() == 2048 {
                break (n, p, q);
            }
        };
        let lambda = (&p - 1u32).lcm(&(&q - 1u32));
        let d = e.modinv(&lambda).unwrap();
        let key = RsaPrivateKey::from_components(n.clone(), e, d.clone(), p, q).unwrap();
        let mut x = vec![0u8; key.size()];
        rng.fill_bytes(&mut x[1..]);
        for _ in 0..3 {
            let expected = i2osp(&BigUint::from_bytes_be(&x).modpow(&d, &n), key.size());
            assert_eq!(key.raw_private(&x).ok(), expected);
        }
        let sig = key.sign_pkcs1v15(HashAlg::Sha256, b"m").unwrap();
        key.public_key()
            .verify_pkcs1v15(HashAlg::Sha256, b"m", &sig)
            .unwrap();
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
        let public = &good.public;
        faulty.crt = CrtKey::new(
            &public.n, &public.e, &good.p, &good.q, &faulty.dp, &good.dq, &good.qinv,
        )
        .unwrap();
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

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

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
}
