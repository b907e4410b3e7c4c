//! The client state machine after its ClientHello, fed an arbitrary stream of bytes as the
//! server's flights: see `tls_fuzz::feed_checked` for the invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tls::Connection;
use tls_fuzz::{client_config, feed_checked};

// Key generation (the test PKI) happens once, before the clock for each input starts.
fuzz_target!(init: { tls_fuzz::client_config(); }, |data: &[u8]| {
    let Some((&chunk, rest)) = data.split_first() else {
        return;
    };
    let mut client = Connection::client(client_config(), "localhost").expect("client");
    let hello = client.outgoing().len();
    client.consume_outgoing(hello);
    feed_checked(&mut client, rest, usize::from(chunk));
});
