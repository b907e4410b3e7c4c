//! The TLS 1.2 handshake (RFC 5246 §7.4): the key schedule, the key exchange, and the client
//! and server state machines (the messages themselves are wire formats, in `msgs`).

pub(crate) mod client;
pub(crate) mod client_auth;
pub(crate) mod key_exchange;
pub(crate) mod keys;
pub(crate) mod resumption;
pub(crate) mod server;
