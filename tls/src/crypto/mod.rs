//! The cryptography the protocol is made of: RSA (by hand on num-bigint), the TLS 1.2 PRF,
//! record protection (AES-CBC + HMAC, AES-GCM), and X25519 (RFC 7748) and P-256 ECDH, by hand on
//! 64-bit limbs, for ephemeral key agreement (`ecdh` puts the two behind one interface).

pub mod cbc;
pub mod cipher;
pub mod ct;
pub mod ecdh;
pub mod field25519;
pub mod gcm;
#[cfg(target_arch = "x86_64")]
mod gcm_mode;
#[cfg(target_arch = "x86_64")]
mod ghash_avx512;
pub mod p256;
pub mod prf;
pub mod rsa;
pub mod x25519;
mod x25519_base;
