//! Wire formats only: the byte reader and writer (`codec`), the handshake messages and their
//! extensions (RFC 5246 §7.4, RFC 6066, 7301, 7366, 7627, 5746), and the joiner that reassembles
//! handshake messages from records (§6.2.1). No state machine lives here.

pub mod codec;
pub mod extensions;
pub mod handshake;
pub mod joiner;
