//! The cryptography the protocol is made of: RSA (by hand on num-bigint), P-256 ECDH (by hand
//! on 64-bit limbs), the TLS 1.2 PRF, and AES-CBC + HMAC record protection.

pub mod cipher;
pub mod ct;
pub mod p256;
pub mod prf;
pub mod rsa;
