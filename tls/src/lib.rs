//! An HTTPS stack you can read: TLS 1.2 (RFC 5246) by hand.
//!
//! Each line imports only from lines above it (`tests/layering.rs` checks the ones that used to
//! point back up):
//!
//! ```text
//!  alert, suites, text                      leaves
//!  crypto (ct, rsa, prf, cipher, gcm,   <- suites
//!          x25519, p256, ecdh)
//!  pki (pem, keys, x509, verify, trust)  <- crypto
//!  error                                 <- alert, pki, crypto::cipher
//!  msgs (codec, handshake, joiner)       <- error
//!  record                                <- crypto, error, msgs (the version number)
//!  session (SessionInfo, StoredSession)  <- suites, pki, msgs::codec
//!  session_cache, ticket (RFC 5077)      <- session, crypto
//!  trace (events, key log)               <- msgs, record, session
//!  config                                <- crypto, pki, trace
//!  common_state (send, CCS, alerts,      <- record, msgs, handshake::keys, session, trace
//!                key switches)
//!  handshake::{keys, key_exchange,       <- common_state, config, crypto, pki
//!             client_auth, client, server}
//!  conn (Connection: API, dispatch)      <- handshake, common_state
//!  stream (tokio)                        <- conn
//!  explain                               <- trace, msgs, pki, config
//! ```
//! The protocol core (`record`, `handshake`, `conn`) is synchronous and does no I/O: bytes in,
//! bytes out. Only `stream` knows tokio.

#![deny(unsafe_code)]

pub mod alert;
pub(crate) mod common_state;
pub mod config;
pub mod conn;
pub mod crypto;
pub mod error;
pub mod explain;
pub mod handshake;
pub mod msgs;
pub mod pki;
pub mod record;
pub mod session;
pub mod session_cache;
pub mod stream;
pub mod suites;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;
pub mod ticket;
pub mod trace;

pub use config::{ClientConfig, ServerConfig};
pub use conn::Connection;
pub use session::SessionInfo;

pub use error::Error;
