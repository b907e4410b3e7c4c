//! X25519 (RFC 7748): one key generation (k·9) and one shared secret (k·u) — what each side of
//! an ECDHE handshake computes. Compare with `openssl speed ecdhx25519` (one op = both).

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;
use tls::crypto::x25519;

fn x25519_ops(c: &mut Criterion) {
    let mut rng = rand::rng();
    let ours = x25519::random_scalar(&mut rng);
    let peer = x25519::public_key(&x25519::random_scalar(&mut rng));
    let mut group = c.benchmark_group("x25519");
    group.measurement_time(Duration::from_secs(2));
    group.warm_up_time(Duration::from_millis(300));
    group.bench_function("keygen", |b| {
        b.iter(|| x25519::public_key(&x25519::random_scalar(&mut rng)))
    });
    group.bench_function("shared_secret", |b| {
        b.iter(|| x25519::shared_secret(black_box(&ours), black_box(&peer)))
    });
    group.finish();
}

criterion_group!(benches, x25519_ops);
criterion_main!(benches);
