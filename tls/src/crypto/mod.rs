//! The cryptography the protocol is made of: RSA (by hand on num-bigint), the TLS 1.2 PRF, and
//! AES-CBC + HMAC record protection.

pub mod cipher;
pub mod ct;
pub mod prf;
pub mod rsa;
