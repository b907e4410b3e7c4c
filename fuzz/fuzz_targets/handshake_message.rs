//! Every handshake message decoder (RFC 5246 §7.4), reached through the joiner as records bring
//! them: a message that decodes re-encodes to the very bytes it came from, with one documented
//! exception (below); decoding is deterministic; nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tls::msgs::handshake::{Extension, HandshakeMessage, HandshakePayload};
use tls::msgs::joiner::HandshakeJoiner;

fuzz_target!(|data: &[u8]| {
    // 1. The bytes as one message.
    if let Ok(message) = HandshakeMessage::decode(data.to_vec()) {
        check_round_trip(&message);
    }
    // 2. The bytes as a stream of record fragments of varying sizes (first byte = fragment size).
    let Some((&size, stream)) = data.split_first() else {
        return;
    };
    let mut joiner = HandshakeJoiner::new();
    for fragment in stream.chunks(usize::from(size).max(1)) {
        if joiner.push(fragment).is_err() {
            return;
        }
        // Bounded: each pop takes at least a 4-byte header.
        for _ in 0..=stream.len() / 4 {
            match joiner.pop() {
                Ok(Some(message)) => check_round_trip(&message),
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});

fn check_round_trip(message: &HandshakeMessage) {
    let again = HandshakeMessage::new(message.payload.clone());
    if again.raw != message.raw && !empty_extensions_block(message, &again) {
        // The one lossy decoding: a ClientHello's server_name list keeps only its host_name
        // entry (RFC 6066 defines no other name type), so other entries are not re-encoded.
        let HandshakePayload::ClientHello(hello) = &message.payload else {
            panic!("{:?} does not re-encode to its own bytes", message.typ());
        };
        assert!(
            hello
                .extensions
                .iter()
                .any(|e| matches!(e, Extension::ServerName(_))),
            "a ClientHello without server_name re-encodes differently"
        );
    }
    let decoded = HandshakeMessage::decode(again.raw.clone()).expect("our own encoding decodes");
    assert_eq!(decoded.payload, message.payload, "decode(encode(m)) == m");
}

/// The other documented difference: a hello whose extensions block is there but empty (two
/// zero bytes) means the same as one without the block (RFC 5246 §7.4.1.2: no extensions), and
/// is written without it. The transcript hashes the bytes as received, so nothing depends on it.
fn empty_extensions_block(message: &HandshakeMessage, again: &HandshakeMessage) -> bool {
    let no_extensions = match &message.payload {
        HandshakePayload::ClientHello(h) => h.extensions.is_empty(),
        HandshakePayload::ServerHello(h) => h.extensions.is_empty(),
        _ => false,
    };
    no_extensions
        && message.raw.get(4..)
            == Some(&[again.raw.get(4..).unwrap_or_default(), &[0, 0]].concat()[..])
}
