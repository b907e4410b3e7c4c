//! The record deframer (RFC 5246 §6.2.1) fed arbitrary bytes in arbitrary chunks: every record it
//! hands out has a legal header and a body no longer than the limit, it never holds more than was
//! pushed, and after an error it is not asked again (the connection is over).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tls::record::{Deframer, HEADER_LEN, MAX_CIPHERTEXT};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the chunk size, so short and long reads are both explored.
    let Some((&chunk, bytes)) = data.split_first() else {
        return;
    };
    let mut deframer = Deframer::new();
    let mut pushed = 0usize;
    let mut taken = 0usize;
    for piece in bytes.chunks(usize::from(chunk).max(1)) {
        deframer.push(piece);
        pushed += piece.len();
        loop {
            match deframer.next_record() {
                Ok(Some(record)) => {
                    assert!(record.payload.len() <= MAX_CIPHERTEXT);
                    assert_eq!(record.version >> 8, 3, "only 3.x versions pass the header");
                    taken += HEADER_LEN + record.payload.len();
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
        assert_eq!(
            deframer.buffered(),
            pushed - taken,
            "holds exactly what was not taken"
        );
    }
});
