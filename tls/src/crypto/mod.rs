//! The cryptography the protocol is made of: RSA (by hand on num-bigint), the TLS 1.2 PRF, and
//! record protection (AES-CBC + HMAC, AES-GCM).

pub mod cipher;
pub mod ct;
pub mod gcm;
pub mod prf;
pub mod rsa;
