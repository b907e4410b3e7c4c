//! Session tickets (RFC 5077 §4) and the session state they carry, plus the client's session
//! file: the same state from a file, as hostile as the network.
//! - Arbitrary bytes offered as a ticket never open (the MAC is checked first) and never panic.
//! - Arbitrary bytes sealed as a ticket's plaintext open to the same bytes, and the state
//!   decoder the server runs on them (a forged ticket, should the key ever leak) either refuses
//!   them or re-encodes exactly what it read.
//! - A session file that parses writes back to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tls::msgs::codec::Reader;
use tls::session::{ClientSession, StoredSession};
use tls::ticket::{TicketKey, TicketKeys};

fn keys() -> &'static TicketKeys {
    static KEYS: OnceLock<TicketKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let file: Vec<u8> = (0..80u8).collect();
        TicketKeys::fixed(TicketKey::from_key_file(&file).expect("80 bytes"))
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            // The fuzzer cannot forge HMAC-SHA-256: nothing it writes may open.
            assert!(keys().open(rest).is_none(), "a forged ticket opened");
        }
        1 => {
            let Some(ticket) = keys().seal(rest) else {
                return; // too large for a ticket
            };
            let opened = keys().open(&ticket).expect("our own ticket opens");
            assert_eq!(opened.plaintext, rest);
            // What the server does with an opened ticket (handshake/resumption.rs).
            let mut r = Reader::new(&opened.plaintext);
            if let Ok(state) = StoredSession::decode(&mut r) {
                if r.finish().is_ok() {
                    let mut again = Vec::new();
                    state.encode(&mut again);
                    assert_eq!(again, rest, "session state re-encodes differently");
                }
            }
        }
        _ => {
            if let Ok(session) = ClientSession::from_bytes(rest) {
                assert_eq!(
                    session.to_bytes(),
                    rest,
                    "session file re-encodes differently"
                );
            }
        }
    }
});
