//! An HTTPS stack you can read: TLS 1.2 (RFC 5246) by hand.
//!
//! ```text
//!  crypto (rsa, prf, cipher) <- pki (pem, keys, x509, verify) <- handshake <- conn <- stream (tokio)
//!  crypto <- record <- conn
//! ```
//! The protocol core (`record`, `handshake`, `conn`) is synchronous and does no I/O: bytes in,
//! bytes out. Only `stream` knows tokio.

#![deny(unsafe_code)]

pub mod alert;
pub mod codec;
pub(crate) mod common_state;
pub mod config;
pub mod conn;
pub mod crypto;
pub mod error;
pub mod explain;
pub mod handshake;
pub mod pki;
pub mod record;
pub mod session;
pub mod stream;
pub mod suites;
pub mod text;
pub mod trace;

pub use config::{ClientConfig, ServerConfig};
pub use conn::Connection;
pub use session::SessionInfo;

pub use error::Error;
