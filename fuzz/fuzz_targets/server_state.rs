//! The server state machine after a real ClientHello (from our client), fed an arbitrary stream
//! of bytes as the rest of the client's side: see `tls_fuzz::feed_checked` for the invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tls::Connection;
use tls_fuzz::{client_config, feed_checked, server_config};

// Key generation (the test PKI) happens once, before the clock for each input starts.
fuzz_target!(init: { tls_fuzz::server_config(); tls_fuzz::client_config(); }, |data: &[u8]| {
    let Some((&chunk, rest)) = data.split_first() else {
        return;
    };
    let client = Connection::client(client_config(), "localhost").expect("client");
    let mut server = Connection::server(server_config());
    let hello = client.outgoing().to_vec();
    server.read_tls(&hello);
    server.process_new_packets().expect("our own ClientHello is accepted");
    let flight = server.outgoing().len();
    server.consume_outgoing(flight);
    feed_checked(&mut server, rest, usize::from(chunk));
});
