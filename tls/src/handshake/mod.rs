//! The TLS 1.2 handshake (RFC 5246 §7.4): messages, reassembly, the key schedule, and the client
//! and server state machines.

pub(crate) mod client;
pub mod joiner;
pub(crate) mod key_exchange;
pub(crate) mod keys;
pub mod messages;
pub(crate) mod server;
