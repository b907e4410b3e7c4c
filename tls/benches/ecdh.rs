//! The ephemeral key exchange a full ECDHE handshake pays on each side (RFC 8422 §5.4, §5.10):
//! one key pair generated, one shared secret computed.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;
use tls::crypto::p256;

fn p256_ecdh(c: &mut Criterion) {
    let mut rng = rand::rng();
    let ours = p256::random_scalar(&mut rng);
    let theirs = p256::public_key(&p256::random_scalar(&mut rng)).unwrap();

    let mut group = c.benchmark_group("ecdh");
    group.measurement_time(Duration::from_secs(2));
    group.warm_up_time(Duration::from_millis(300));
    group.bench_function("p256 keygen", |b| {
        b.iter(|| p256::public_key(&p256::random_scalar(&mut rng)).unwrap())
    });
    group.bench_function("p256 shared secret", |b| {
        b.iter(|| p256::shared_secret(black_box(&ours), black_box(&theirs)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, p256_ecdh);
criterion_main!(benches);
