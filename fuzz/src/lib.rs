//! What the state-machine targets share: configurations made once per process from the test PKI,
//! and the invariants every connection must keep whatever it is fed.

use std::sync::{Arc, OnceLock};
use tls::record::{ContentType, Deframer};
use tls::{ClientConfig, Connection, Error, ServerConfig};

/// A flight plus an alert is a few KiB; a connection fed garbage must never queue more.
pub const MAX_OUTGOING: usize = 64 * 1024;

pub fn server_config() -> Arc<ServerConfig> {
    static CFG: OnceLock<Arc<ServerConfig>> = OnceLock::new();
    CFG.get_or_init(|| Arc::new(tls::testing::pki().server_config()))
        .clone()
}

pub fn client_config() -> Arc<ClientConfig> {
    static CFG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    CFG.get_or_init(|| Arc::new(tls::testing::pki().client_config()))
        .clone()
}

/// Feed `bytes` to `conn` in reads of `chunk` bytes (the first input byte picks it), checking
/// after each: no application data before the handshake is over, bounded output, and a failure
/// that owes the peer an alert leaves one queued.
pub fn feed_checked(conn: &mut Connection, bytes: &[u8], chunk: usize) {
    let mut sink = [0u8; 4096];
    for piece in bytes.chunks(chunk.max(1)) {
        let was_handshaking = conn.is_handshaking();
        conn.read_tls(piece);
        let result = conn.process_new_packets();
        assert!(conn.outgoing().len() <= MAX_OUTGOING, "unbounded output");
        if was_handshaking {
            // Nothing may be delivered before Finished was checked.
            if let Ok(n) = conn.read_plaintext(&mut sink) {
                assert!(
                    conn.info().is_some(),
                    "{n} bytes delivered before the handshake ended"
                );
            }
        }
        if let Err(e) = result {
            if let Error::Protocol { .. } = e {
                assert_eq!(
                    last_record_type(conn.outgoing()),
                    Some(ContentType::Alert),
                    "a protocol error owes the peer an alert"
                );
            }
            return;
        }
        let queued = conn.outgoing().len();
        conn.consume_outgoing(queued);
    }
}

/// The content type of the last whole record in `out` (what we queued in this step).
fn last_record_type(out: &[u8]) -> Option<ContentType> {
    let mut deframer = Deframer::new();
    deframer.push(out);
    let mut last = None;
    while let Ok(Some(record)) = deframer.next_record() {
        last = Some(record.content_type);
    }
    last
}
