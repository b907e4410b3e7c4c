//! RSA-2048 costs that bound handshake speed: key generation, the private operation (what a
//! server pays per RSA key exchange: CRT + blinding + the fault check) and the public operation.
//! Compare with `openssl speed rsa2048` (see reference/performance.md §1 and §2a).

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;
use tls::crypto::rsa::{with_portable_pow, HashAlg, RsaPrivateKey, SecretPow};

fn rsa_2048(c: &mut Criterion) {
    let key = RsaPrivateKey::generate(2048, &mut |_| {}).expect("key generation");
    let public = key.public_key().clone();
    let mut input = vec![0u8; key.size()];
    input[1..].fill(0x5a);
    let signature = key
        .sign_pkcs1v15(HashAlg::Sha256, b"bench")
        .expect("signing");
    let ciphertext = public.encrypt_pkcs1v15(&[7u8; 48]).expect("encryption");

    let mut group = c.benchmark_group("rsa2048");
    group.bench_function("private_op", |b| {
        b.iter(|| key.raw_private(black_box(&input)).expect("private op"))
    });
    // The same without the AVX-512 IFMA kernel (identical where the CPU lacks it).
    group.bench_function("private_op_portable", |b| {
        b.iter(|| with_portable_pow(|| key.raw_private(black_box(&input)).expect("private op")))
    });
    group.bench_function("decrypt_pms_fixed_len", |b| {
        b.iter(|| key.decrypt_pkcs1v15_fixed_len(black_box(&ciphertext), 48))
    });
    group.bench_function("public_op", |b| {
        b.iter(|| public.raw_public(black_box(&input)).expect("public op"))
    });
    group.bench_function("verify_sha256", |b| {
        b.iter(|| public.verify_pkcs1v15(HashAlg::Sha256, b"bench", black_box(&signature)))
    });
    group.finish();

    // One CRT half alone: a 1024-bit secret exponentiation, IFMA kernel against portable Rust.
    let half = SecretPow::new(key.p(), &(key.q() >> 3u32), key.dp()).expect("odd p");
    let mut pow = c.benchmark_group("rsa2048_half");
    pow.bench_function("pow_secret_1024", |b| b.iter(|| black_box(&half).run()));
    pow.bench_function("pow_secret_1024_portable", |b| {
        b.iter(|| with_portable_pow(|| black_box(&half).run()))
    });
    pow.finish();

    // Key generation time is mostly luck (how many candidates fail): few samples, bounded time.
    let mut keygen = c.benchmark_group("rsa2048_keygen");
    keygen.sample_size(10);
    keygen.measurement_time(Duration::from_secs(20));
    keygen.warm_up_time(Duration::from_secs(1));
    keygen.bench_function("generate", |b| {
        b.iter(|| RsaPrivateKey::generate(2048, &mut |_| {}).expect("key generation"))
    });
    keygen.finish();
}

criterion_group!(benches, rsa_2048);
criterion_main!(benches);
