//! A full TLS 1.2 handshake between our client and our server state machines, in memory (no
//! sockets): RSA-2048 key transport, AES128-SHA256, extended master secret, a CA-signed leaf.
//! `full` is both sides together; `server_side` counts only the time inside the server's
//! `process_new_packets` (what a server pays per new connection, the figure to set against
//! `openssl s_time -new`); `client_side` the rest.

use criterion::{criterion_group, criterion_main, Criterion};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tls::suites::ALL_SUITES;
use tls::{ClientConfig, Connection, ServerConfig};

struct Pair {
    client: Arc<ClientConfig>,
    server: Arc<ServerConfig>,
}

fn configs() -> Pair {
    // The workspace's shared fixture PKI (tls::testing).
    let pki = tls::testing::pki();
    let mut server = pki.server_config();
    server.common.suites = vec![ALL_SUITES[0]];
    let client = pki.client_config();
    Pair {
        client: Arc::new(client),
        server: Arc::new(server),
    }
}

/// Time spent in the client and in the server for one handshake.
fn handshake(pair: &Pair) -> (Duration, Duration) {
    let t = Instant::now();
    let mut client = Connection::client(pair.client.clone(), "localhost").expect("client");
    let mut client_time = t.elapsed();
    let mut server_time = Duration::ZERO;
    let mut server = Connection::server(pair.server.clone());
    for _ in 0..4 {
        let bytes = client.outgoing().to_vec();
        client.consume_outgoing(bytes.len());
        let t = Instant::now();
        server.read_tls(&bytes);
        server.process_new_packets().expect("server");
        server_time += t.elapsed();

        let bytes = server.outgoing().to_vec();
        server.consume_outgoing(bytes.len());
        let t = Instant::now();
        client.read_tls(&bytes);
        client.process_new_packets().expect("client");
        client_time += t.elapsed();
        if !client.is_handshaking() && !server.is_handshaking() {
            return (client_time, server_time);
        }
    }
    panic!("handshake did not finish");
}

fn full_handshake(c: &mut Criterion) {
    let pair = configs();
    let mut group = c.benchmark_group("handshake_rsa2048_aes128_sha256");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_millis(500));
    group.bench_function("full", |b| b.iter(|| handshake(&pair)));
    group.bench_function("server_side", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| handshake(&pair).1).sum())
    });
    group.bench_function("client_side", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| handshake(&pair).0).sum())
    });
    group.finish();
}

criterion_group!(benches, full_handshake);
criterion_main!(benches);
