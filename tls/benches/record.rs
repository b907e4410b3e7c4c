//! Record protection at full size (16 KiB plaintext), per suite: seal one record, open one
//! record, and `RecordLayer::write_records` over 128 KiB (8 records sealed side by side, the
//! bulk-download path). Compare with `openssl speed -evp aes-128-cbc-hmac-sha256` (CBC suites),
//! `openssl speed -evp aes-128-gcm` (AES128-GCM-SHA256) and the anchors in
//! reference/performance.md §1 and §2b (MB/s of plaintext). `send_128k` is the same
//! run through a server `Connection::write_plaintext`, bare and with an observer: observing must
//! not change how records are sealed, so both figures should match.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tls::crypto::cipher::RecordCipher;
use tls::msgs::handshake::TLS12;
use tls::record::{ContentType, RecordLayer, MAX_PLAINTEXT};
use tls::suites::{CipherSuite, ALL_SUITES, TLS_RSA_WITH_AES_128_CBC_SHA256};
use tls::trace::{Event, Observer};
use tls::Connection;

const APPLICATION_DATA: u8 = 23;
const BATCH: usize = 8 * MAX_PLAINTEXT;

fn cipher(suite: &'static CipherSuite, etm: bool) -> RecordCipher {
    let mac_key = vec![0x11; suite.mac_len()];
    let enc_key = vec![0x22; suite.enc_key_len()];
    let fixed_iv = vec![0x33; suite.fixed_iv_len()];
    RecordCipher::with_fixed_iv(suite, &mac_key, &enc_key, &fixed_iv, etm)
}

fn label(suite: &CipherSuite, etm: bool) -> String {
    format!("{}{}", suite.openssl_name, if etm { "+etm" } else { "" })
}

fn record_protection(c: &mut Criterion) {
    let plaintext = vec![0x5au8; MAX_PLAINTEXT];
    let mut group = c.benchmark_group("record_16k");
    group.throughput(Throughput::Bytes(MAX_PLAINTEXT as u64));
    group.measurement_time(Duration::from_secs(2));
    group.warm_up_time(Duration::from_millis(500));
    let cbc = &TLS_RSA_WITH_AES_128_CBC_SHA256;
    let variants = ALL_SUITES.iter().map(|s| (*s, false)).chain([(cbc, true)]);
    for (suite, etm) in variants {
        let c = cipher(suite, etm);
        let name = label(suite, etm);
        let mut out = Vec::with_capacity(MAX_PLAINTEXT + 256);
        group.bench_function(BenchmarkId::new("seal", &name), |b| {
            b.iter(|| {
                out.clear();
                c.seal(7, APPLICATION_DATA, TLS12, black_box(&plaintext), &mut out);
            })
        });
        let mut sealed = Vec::new();
        c.seal(7, APPLICATION_DATA, TLS12, &plaintext, &mut sealed);
        let mut work = sealed.clone();
        group.bench_function(BenchmarkId::new("open", &name), |b| {
            b.iter(|| {
                work.copy_from_slice(&sealed);
                c.open(7, APPLICATION_DATA, TLS12, black_box(&mut work))
                    .expect("open")
            })
        });
    }
    group.finish();

    // The record layer path a server's bulk download takes: 8 records per call.
    let data = vec![0x5au8; BATCH];
    let mut group = c.benchmark_group("write_records_128k");
    group.throughput(Throughput::Bytes(BATCH as u64));
    group.measurement_time(Duration::from_secs(2));
    group.warm_up_time(Duration::from_millis(500));
    // AES-GCM (the first choice), then CBC with and without encrypt-then-MAC.
    for (suite, etm) in [(ALL_SUITES[0], false), (cbc, false), (cbc, true)] {
        let mut layer = RecordLayer::new();
        layer.prepare_encrypter(cipher(suite, etm));
        layer.activate_encrypter().expect("activate");
        let mut out = Vec::with_capacity(BATCH + 8 * 128);
        group.bench_function(BenchmarkId::from_parameter(label(suite, etm)), |b| {
            b.iter(|| {
                out.clear();
                layer
                    .write_records(ContentType::ApplicationData, black_box(&data), &mut out)
                    .expect("write_records");
            })
        });
    }
    group.finish();
}

/// Counts the bytes of the records it sees: about the least an observer can do.
#[derive(Default)]
struct CountBytes(AtomicUsize);

impl Observer for CountBytes {
    fn event(&self, event: &Event<'_>) {
        if let Event::Record { wire, .. } = event {
            self.0.fetch_add(wire.len(), Ordering::Relaxed);
        }
    }
}

/// A server connection after a completed handshake (AES128-SHA256, encrypt-then-MAC off).
fn established_server(observer: Option<Arc<dyn Observer>>) -> Connection {
    // The workspace's shared fixture PKI (tls::testing).
    let pki = tls::testing::pki();
    let mut server = pki.server_config();
    server.common.suites = vec![&TLS_RSA_WITH_AES_128_CBC_SHA256];
    server.common.encrypt_then_mac = false;
    let mut client =
        Connection::client(Arc::new(pki.client_config()), "localhost").expect("client");
    let mut server = Connection::server_observed(Arc::new(server), observer);
    for _ in 0..4 {
        let bytes = client.outgoing().to_vec();
        client.consume_outgoing(bytes.len());
        server.read_tls(&bytes);
        server.process_new_packets().expect("server");
        let bytes = server.outgoing().to_vec();
        server.consume_outgoing(bytes.len());
        client.read_tls(&bytes);
        client.process_new_packets().expect("client");
    }
    assert!(!server.is_handshaking() && !client.is_handshaking());
    server
}

fn observed_send(c: &mut Criterion) {
    let data = vec![0x5au8; BATCH];
    let mut group = c.benchmark_group("send_128k");
    group.throughput(Throughput::Bytes(BATCH as u64));
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_millis(500));
    let variants: [(&str, Option<Arc<dyn Observer>>); 2] = [
        ("bare", None),
        ("observed", Some(Arc::new(CountBytes::default()))),
    ];
    for (name, observer) in variants {
        let mut server = established_server(observer);
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                server.write_plaintext(black_box(&data)).expect("write");
                let n = server.outgoing().len();
                server.consume_outgoing(n);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, record_protection, observed_send);
criterion_main!(benches);
