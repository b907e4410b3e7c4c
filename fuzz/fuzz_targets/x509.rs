//! X.509 parsing and path validation on arbitrary chains: the input is split into certificates
//! (2-byte big-endian length prefixes); each is parsed, every accessor the verifier and the
//! explain view use is called, and `verify_chain` runs against the test root. A certificate
//! that parses keeps its exact DER; a chain that verifies starts with the presented leaf and
//! ends at the trusted root.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tls::pki::trust::TrustStore;
use tls::pki::verify::{candidate_path, verify_chain};
use tls::pki::x509::Certificate;

/// More would only repeat the same work (the verifier caps what it looks at too).
const MAX_CERTS: usize = 8;

// Key generation (the test PKI) happens once, before the clock for each input starts.
fuzz_target!(init: { tls::testing::pki(); }, |data: &[u8]| {
    let mut presented = Vec::new();
    let mut rest = data;
    while presented.len() < MAX_CERTS {
        let Some((len, tail)) = rest.split_first_chunk::<2>() else {
            break;
        };
        let len = usize::from(u16::from_be_bytes(*len)).min(tail.len());
        let (der, tail) = tail.split_at(len);
        rest = tail;
        let Ok(cert) = Certificate::from_der(der) else {
            continue;
        };
        assert_eq!(cert.der(), der, "a parsed certificate keeps its bytes");
        touch(&cert);
        presented.push(cert);
    }
    let pki = tls::testing::pki();
    let mut roots = TrustStore::new();
    roots.add(pki.root.clone());
    let _ = candidate_path(&presented, &roots);
    // At the test PKI's issue time, so the dates are inside the validity period.
    let now = pki.leaf.not_before() + 60;
    if let Ok(path) = verify_chain(&presented, &roots, Some("localhost"), now) {
        assert_eq!(path.leaf().der(), presented[0].der());
        assert!(roots.contains(path.anchor()));
    }
});

/// Every accessor a caller may reach on a parsed certificate must be total.
fn touch(cert: &Certificate) {
    let _ = (
        cert.subject(),
        cert.issuer(),
        cert.common_name(),
        cert.serial_hex(),
    );
    let _ = (
        cert.not_before_time(),
        cert.not_after(),
        cert.dns_names(),
        cert.ip_addresses(),
    );
    let _ = (
        cert.public_key(),
        cert.public_key_algorithm_name(),
        cert.key_bits(),
    );
    let _ = (
        cert.key_usage(),
        cert.extended_key_usage(),
        cert.path_len(),
        cert.is_ca(),
    );
    let _ = (
        cert.subject_key_id(),
        cert.authority_key_id(),
        cert.name_constraints(),
    );
    let _ = (
        cert.signature_algorithm_name(),
        cert.signature_hash(),
        cert.extensions(),
    );
    let _ = (
        cert.malformed_extension(),
        cert.unhandled_critical_extensions(),
    );
    let _ = (cert.subject().to_string(), cert.issuer().to_string());
}
