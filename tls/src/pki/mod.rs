//! Public-key infrastructure: PEM, key files, X.509 certificates (build, sign, parse) and chain
//! verification (RFC 5280, with the host-name rules of RFC 6125).

mod error;
pub mod keys;
pub mod local_ca;
mod name_constraints;
pub mod pem;
pub mod profile;
pub mod trust;
pub mod verify;
pub mod x509;

pub use error::{CertError, CertErrorKind};
