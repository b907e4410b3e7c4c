//! RSA by hand on num-bigint (RFC 8017): key generation, the private operation with CRT and
//! blinding, PKCS#1 v1.5 encryption (block type 2) and signatures (block type 1).
//!
//! API CONTRACT (stub — to be implemented; signatures are fixed, other modules code against them).

use num_bigint::BigUint;

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

/// Digest algorithms for PKCS#1 v1.5 signatures (the DigestInfo prefix depends on it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlg {
    Sha256,
    Sha384,
    Sha512,
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

#[derive(Clone)]
pub struct RsaPrivateKey {
    public: RsaPublicKey,
    d: BigUint,
    p: BigUint,
    q: BigUint,
    dp: BigUint,
    dq: BigUint,
    qinv: BigUint,
}

impl RsaPublicKey {
    /// Checks: n odd, n at least 512 bits (and at most 16384), 1 < e < n, e odd.
    pub fn new(_n: BigUint, _e: BigUint) -> Result<Self, RsaError> {
        todo!()
    }
    pub fn n(&self) -> &BigUint {
        &self.n
    }
    pub fn e(&self) -> &BigUint {
        &self.e
    }
    /// Modulus length in bits.
    pub fn bits(&self) -> usize {
        todo!()
    }
    /// Modulus length in bytes (k in RFC 8017).
    pub fn size(&self) -> usize {
        todo!()
    }
    /// PKCS#1 v1.5 encryption (EME, block type 2, non-zero random padding). Output is `size()` bytes.
    pub fn encrypt_pkcs1v15(&self, _msg: &[u8]) -> Result<Vec<u8>, RsaError> {
        todo!()
    }
    /// Raw public operation m = c^e mod n on a big-endian input of `size()` bytes; output `size()` bytes.
    pub fn raw_public(&self, _input: &[u8]) -> Result<Vec<u8>, RsaError> {
        todo!()
    }
    /// Verify a PKCS#1 v1.5 signature over `message` (hashed here with `hash`).
    pub fn verify_pkcs1v15(
        &self,
        _hash: HashAlg,
        _message: &[u8],
        _sig: &[u8],
    ) -> Result<(), RsaError> {
        todo!()
    }
}

impl RsaPrivateKey {
    /// Generate a key of 2048, 3072 or 4096 bits with e = 65537.
    pub fn generate(
        _bits: usize,
        _progress: &mut dyn FnMut(KeygenEvent),
    ) -> Result<Self, RsaError> {
        todo!()
    }
    /// From the numbers in a key file; checks them and computes the CRT values.
    pub fn from_components(
        _n: BigUint,
        _e: BigUint,
        _d: BigUint,
        _p: BigUint,
        _q: BigUint,
    ) -> Result<Self, RsaError> {
        todo!()
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
    /// Raw private operation (CRT + blinding) on `size()` big-endian bytes; output `size()` bytes.
    pub fn raw_private(&self, _input: &[u8]) -> Result<Vec<u8>, RsaError> {
        todo!()
    }
    /// PKCS#1 v1.5 decryption. Any failure is `RsaError::Decryption`, whatever the cause.
    pub fn decrypt_pkcs1v15(&self, _ciphertext: &[u8]) -> Result<Vec<u8>, RsaError> {
        todo!()
    }
    /// Decryption for TLS RSA key exchange (RFC 5246 §7.4.7.1): always returns `expected_len`
    /// bytes and a validity flag, computed without branching on secret data, so the caller can
    /// substitute a random pre-master secret without a timing difference.
    pub fn decrypt_pkcs1v15_fixed_len(
        &self,
        _ciphertext: &[u8],
        _expected_len: usize,
    ) -> (Vec<u8>, bool) {
        todo!()
    }
    /// PKCS#1 v1.5 signature over `message` (hashed here with `hash`).
    pub fn sign_pkcs1v15(&self, _hash: HashAlg, _message: &[u8]) -> Result<Vec<u8>, RsaError> {
        todo!()
    }
}
