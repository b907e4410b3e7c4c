//! The key schedule a full handshake pays on each side (RFC 5246 §5, §6.3, §7.4.9, RFC 7627):
//! extended master secret, key block, and the Finished verify_data (twice per handshake).

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;
use tls::crypto::prf;
use tls::suites::PrfHash;

fn key_schedule(c: &mut Criterion) {
    let pre_master = [3u8; 48];
    let (client_random, server_random) = ([1u8; 32], [2u8; 32]);
    let session_hash = [4u8; 32];
    let master = prf::extended_master_secret(PrfHash::Sha256, &pre_master, &session_hash);

    let mut group = c.benchmark_group("prf");
    group.measurement_time(Duration::from_secs(1));
    group.warm_up_time(Duration::from_millis(300));
    group.bench_function("master_secret", |b| {
        b.iter(|| {
            prf::master_secret(
                PrfHash::Sha256,
                black_box(&pre_master),
                &client_random,
                &server_random,
            )
        })
    });
    group.bench_function("extended_master_secret", |b| {
        b.iter(|| {
            prf::extended_master_secret(PrfHash::Sha256, black_box(&pre_master), &session_hash)
        })
    });
    group.bench_function("key_block_aes128_sha256", |b| {
        b.iter(|| {
            prf::key_block(
                black_box(&master),
                &client_random,
                &server_random,
                &tls::suites::TLS_RSA_WITH_AES_128_CBC_SHA256,
            )
        })
    });
    group.bench_function("verify_data", |b| {
        b.iter(|| {
            prf::verify_data(
                PrfHash::Sha256,
                black_box(&master),
                b"client finished",
                &session_hash,
            )
        })
    });
    // Everything one side derives per full handshake.
    group.bench_function("full_schedule", |b| {
        b.iter(|| {
            let master =
                prf::extended_master_secret(PrfHash::Sha256, black_box(&pre_master), &session_hash);
            let keys = prf::key_block(
                &master,
                &client_random,
                &server_random,
                &tls::suites::TLS_RSA_WITH_AES_128_CBC_SHA256,
            );
            let client =
                prf::verify_data(PrfHash::Sha256, &master, b"client finished", &session_hash);
            let server =
                prf::verify_data(PrfHash::Sha256, &master, b"server finished", &session_hash);
            (keys, client, server)
        })
    });
    group.finish();
}

criterion_group!(benches, key_schedule);
criterion_main!(benches);
