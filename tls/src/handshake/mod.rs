//! The TLS 1.2 handshake (RFC 5246 §7.4): messages, reassembly, and the client and server state
//! machines.

pub mod joiner;
pub mod messages;
