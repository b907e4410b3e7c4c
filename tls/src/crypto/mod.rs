//! The cryptography the protocol is made of: RSA (by hand on num-bigint), the TLS 1.2 PRF,
//! AES-CBC + HMAC record protection, and X25519 (RFC 7748, by hand on 64-bit limbs) for
//! ephemeral key agreement.

pub mod cipher;
pub mod ct;
pub mod ecdh;
pub mod field25519;
pub mod prf;
pub mod rsa;
pub mod x25519;
