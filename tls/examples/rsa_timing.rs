//! Does the time of an RSA decryption tell whether the plaintext was below 2^(8(k−1))? (The
//! Marvin attack: every well-formed `00 02 …` block is, and a server whose private-key path
//! trims or pads by value answers measurably faster or slower for it.)
//!
//! A test in the style of dudect (Reparaz, Balasch and Verbauwhede, 2017): two classes of
//! ciphertexts made with the public key, interleaved at random, each decryption timed, and
//! Welch's t-test between the classes — on all samples and on samples cropped at several
//! percentiles (cropping drops the long tail a shared machine adds). |t| < 4.5 everywhere passes.
//!
//! - class 0: EM = 00 02 PS 00 PMS, a well-formed TLS pre-master block (leading zero byte);
//! - class 1: a random full-length m with a non-zero top byte (and m < n).
//!
//! Run: `cargo run --release -p tls --example rsa_timing -- [samples] [raw|tls]`
//! (default 100000 samples of the `tls` path, `decrypt_pkcs1v15_fixed_len`, which a server runs
//! for every RSA key exchange; `raw` times `raw_private`). Exits 1 if |t| ≥ 4.5.

use rand::{Rng, RngExt};
use std::hint::black_box;
use std::time::Instant;
use tls::crypto::rsa::RsaPrivateKey;

/// Distinct ciphertexts per class; each is used many times (cheap to make, and the blinding
/// makes every decryption of the same ciphertext different anyway).
const POOL: usize = 256;
const THRESHOLD: f64 = 4.5;

/// Running mean and variance (Welford), one per class.
#[derive(Default, Clone, Copy)]
struct Stats {
    n: f64,
    mean: f64,
    m2: f64,
}

impl Stats {
    fn push(&mut self, x: f64) {
        self.n += 1.0;
        let delta = x - self.mean;
        self.mean += delta / self.n;
        self.m2 += delta * (x - self.mean);
    }
    fn var(&self) -> f64 {
        if self.n < 2.0 {
            0.0
        } else {
            self.m2 / (self.n - 1.0)
        }
    }
}

/// Welch's t statistic between two classes.
fn welch_t(a: &Stats, b: &Stats) -> f64 {
    let se = (a.var() / a.n + b.var() / b.n).sqrt();
    if se == 0.0 {
        0.0
    } else {
        (a.mean - b.mean) / se
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let samples: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let raw = args.get(2).is_some_and(|s| s == "raw");

    let key = RsaPrivateKey::generate(2048, &mut |_| {}).expect("key generation");
    let public = key.public_key().clone();
    let k = key.size();
    let mut rng = rand::rng();

    // Class 0: what a real client sends (00 02, non-zero padding, 00, 48 bytes).
    let well_formed: Vec<Vec<u8>> = (0..POOL)
        .map(|_| {
            let pms: [u8; 48] = rng.random();
            public.encrypt_pkcs1v15(&pms).expect("encryption")
        })
        .collect();
    // Class 1: m with a non-zero top byte, below n (drawn again until it is).
    let full_length: Vec<Vec<u8>> = (0..POOL)
        .map(|_| loop {
            let mut m = vec![0u8; k];
            rng.fill_bytes(&mut m);
            if m[0] == 0 {
                continue;
            }
            if let Ok(c) = public.raw_public(&m) {
                break c;
            }
        })
        .collect();

    // Warm up caches, the blinding pair and the CPU clock before measuring.
    for ct in well_formed.iter().chain(&full_length).take(200) {
        black_box(key.decrypt_pkcs1v15_fixed_len(ct, 48));
    }

    let classes: Vec<(usize, usize)> = (0..samples)
        .map(|_| (rng.random_range(0..2usize), rng.random_range(0..POOL)))
        .collect();
    let mut times = Vec::with_capacity(samples);
    for &(class, i) in &classes {
        let ct = if class == 0 {
            &well_formed[i]
        } else {
            &full_length[i]
        };
        let start = Instant::now();
        if raw {
            let _ = black_box(key.raw_private(black_box(ct)));
        } else {
            black_box(key.decrypt_pkcs1v15_fixed_len(black_box(ct), 48));
        }
        times.push(start.elapsed().as_nanos() as f64);
    }

    // dudect crops at percentiles 1 − 0.5^(10·(i+1)/100): mostly the upper tail.
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let mut cuts = vec![f64::INFINITY];
    for i in 0..10 {
        let p = 1.0 - 0.5f64.powf(10.0 * (i as f64 + 1.0) / 100.0);
        let idx = ((sorted.len() as f64 - 1.0) * p) as usize;
        cuts.push(sorted[idx]);
    }
    println!(
        "{} decryptions ({}), median {:.1} µs",
        samples,
        if raw {
            "raw_private"
        } else {
            "decrypt_pkcs1v15_fixed_len"
        },
        sorted[sorted.len() / 2] / 1000.0
    );
    let mut worst = 0.0f64;
    for cut in &cuts {
        let mut s = [Stats::default(); 2];
        for (&(class, _), &t) in classes.iter().zip(&times) {
            if t <= *cut {
                s[class].push(t);
            }
        }
        let t = welch_t(&s[0], &s[1]);
        worst = worst.max(t.abs());
        println!(
            "  crop ≤ {:>9.1} µs: n = {:>6} + {:>6}, means {:.3} / {:.3} µs, t = {:+.2}",
            cut / 1000.0,
            s[0].n,
            s[1].n,
            s[0].mean / 1000.0,
            s[1].mean / 1000.0,
            t
        );
    }
    if worst < THRESHOLD {
        println!("max |t| = {worst:.2} < {THRESHOLD}: no timing difference found");
    } else {
        println!("max |t| = {worst:.2} ≥ {THRESHOLD}: the classes take different times");
        std::process::exit(1);
    }
}
