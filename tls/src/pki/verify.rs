//! Certificate path validation (RFC 5280 §6) and server identity (RFC 6125 §6).
//!
//! The path is built leaf → intermediates → a trust anchor by issuer name (narrowed by the
//! authority/subject key ids when both are present), then checked in OpenSSL's order, so the
//! first problem reported is the one `openssl verify` and curl report:
//!
//! 0. the leaf's key size (66, before anything else, as OpenSSL does);
//! 1. building the path: self-signed leaf (18), untrusted self-signed root (19), no issuer (20);
//!    only a byte-identical copy of a trust anchor stands for it. Where several certificates
//!    could be the issuer, each is tried (depth-first, backtracking, bounded by
//!    [`MAX_PATH_WORK`]); every complete path goes through the checks below, the first that
//!    passes wins, else the failure of the most complete path is reported;
//! 2. extensions: unhandled critical (34, the anchor included), issuer not a CA (79), pathLen
//!    (25; self-issued CAs and the leaf do not count), purpose (26); then the web-PKI profile
//!    rules (`profile.rs`: RFC 5280 + CA/Browser Forum, OpenSSL's -x509_strict codes where it
//!    has one) and nameConstraints (`name_constraints.rs`, 47/48/51); then every key's size,
//!    the anchor's included (67; a multiple of 8 bits);
//! 3. from the anchor down: each signature (7, or unsupported algorithm), then each validity
//!    period (9 not yet valid, 10 expired);
//! 4. the host name against subjectAltName (62) — chain errors win over name errors.
//!
//! Everything is bounded: at most [`MAX_PATH_LEN`] certificates in a path and
//! [`MAX_PRESENTED`] certificates considered from the peer, each used at most once.

use super::trust::TrustStore;
use super::x509::Certificate;
use super::{CertError, CertErrorKind};
use std::net::IpAddr;

/// Longest path we follow, leaf and anchor included.
pub const MAX_PATH_LEN: usize = 8;
/// How many certificates from the peer we look at; the rest are ignored.
pub const MAX_PRESENTED: usize = 16;
/// Shortest RSA key we accept anywhere in a path (OpenSSL's security level 2; the CA/Browser
/// Forum's minimum). 1024-bit RSA is within reach of a well-funded attacker.
pub const MIN_RSA_BITS: usize = 2048;

/// A trusted path: leaf first, trust anchor last (one element when the leaf itself is trusted).
#[derive(Clone, Debug)]
pub struct VerifiedChain {
    certificates: Vec<Certificate>,
}

impl VerifiedChain {
    pub fn certificates(&self) -> &[Certificate] {
        &self.certificates
    }

    /// The end-entity certificate.
    pub fn leaf(&self) -> &Certificate {
        // Never empty: built with at least the leaf.
        &self.certificates[0]
    }

    /// The trusted root the path ends in.
    pub fn anchor(&self) -> &Certificate {
        &self.certificates[self.certificates.len() - 1]
    }

    pub fn len(&self) -> usize {
        self.certificates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty()
    }
}

/// What the chain's leaf is to be used for: the extendedKeyUsage purpose each certificate
/// must allow (when it has the extension), and the keyUsage bits the leaf needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// A TLS server (serverAuth; the key signs or decrypts).
    ServerAuth,
    /// A TLS client (clientAuth; the key signs CertificateVerify). No host name applies.
    ClientAuth,
}

/// Verify a client's chain for TLS client authentication (RFC 5246 §7.4.6): every rule of
/// [`verify_chain`] with the clientAuth purpose, and no host name.
pub fn verify_client_chain(
    presented: &[Certificate],
    roots: &TrustStore,
    at_unix: i64,
) -> Result<VerifiedChain, CertError> {
    verify_chain_for(presented, roots, None, at_unix, Purpose::ClientAuth)
}

/// Verify a server's chain. `presented` is what the server sent: the leaf first, then
/// intermediates in any order (extra or missing ones are fine as long as a path exists).
/// `host` is a DNS name or an IP literal (`[::1]` accepted); `None` skips the name check.
/// `at_unix` is the time the validity periods are checked against.
pub fn verify_chain(
    presented: &[Certificate],
    roots: &TrustStore,
    host: Option<&str>,
    at_unix: i64,
) -> Result<VerifiedChain, CertError> {
    verify_chain_for(presented, roots, host, at_unix, Purpose::ServerAuth)
}

fn verify_chain_for(
    presented: &[Certificate],
    roots: &TrustStore,
    host: Option<&str>,
    at_unix: i64,
    purpose: Purpose,
) -> Result<VerifiedChain, CertError> {
    let leaf = presented.first().ok_or_else(|| {
        CertError::new(
            CertErrorKind::Malformed("no certificate presented".into()),
            0,
        )
    })?;
    let intermediates = presented
        .get(1..)
        .unwrap_or(&[])
        .iter()
        .take(MAX_PRESENTED)
        .collect::<Vec<_>>();
    check_key_size(leaf, 0)?;
    let mut check = |path: &[&Certificate]| check_path(path, at_unix, purpose);
    let path = build_path(leaf, &intermediates, roots, &mut check).map_err(|(e, _)| e)?;
    if let Some(host) = host {
        if !matches_host(leaf, host) {
            return Err(CertError::new(
                CertErrorKind::HostMismatch {
                    host: host.to_string(),
                },
                0,
            ));
        }
    }
    Ok(VerifiedChain {
        certificates: path.into_iter().cloned().collect(),
    })
}

/// The path `verify_chain` would check (leaf first), as far as it can be built: on an error,
/// `path[error.depth]` is the certificate the error is about. For showing a failure to people.
pub fn candidate_path(presented: &[Certificate], roots: &TrustStore) -> Vec<Certificate> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    candidate_path_at(presented, roots, now)
}

/// [`candidate_path`] for a verification done at `at_unix` (the path search tries every
/// candidate path, so which one is shown depends on what fails, dates included).
pub fn candidate_path_at(
    presented: &[Certificate],
    roots: &TrustStore,
    at_unix: i64,
) -> Vec<Certificate> {
    let Some(leaf) = presented.first() else {
        return Vec::new();
    };
    let intermediates = presented
        .get(1..)
        .unwrap_or(&[])
        .iter()
        .take(MAX_PRESENTED)
        .collect::<Vec<_>>();
    let mut check = |path: &[&Certificate]| check_path(path, at_unix, Purpose::ServerAuth);
    match build_path(leaf, &intermediates, roots, &mut check) {
        Ok(path) | Err((_, path)) => path.into_iter().cloned().collect(),
    }
}

/// Everything checked on a complete path, in OpenSSL's order.
fn check_path(path: &[&Certificate], at_unix: i64, purpose: Purpose) -> Result<(), CertError> {
    check_extensions(path, purpose)?;
    super::profile::check_profile(path, purpose)?;
    super::name_constraints::check_name_constraints(path)?;
    for (depth, cert) in path.iter().enumerate().skip(1) {
        check_key_size(cert, depth)?;
    }
    check_signatures_and_times(path, at_unix)
}

/// RSA key transport (our only key exchange) encrypts the pre-master secret to the leaf's key:
/// a keyUsage extension, when present, must allow keyEncipherment (RFC 5246 §7.4.2). The TLS
/// client calls this once the chain is accepted, whatever the verification policy decided.
pub fn check_key_transport_usage(leaf: &Certificate) -> Result<(), CertError> {
    match leaf.key_usage() {
        Some(ku) if !ku.key_encipherment => {
            Err(CertError::new(CertErrorKind::NoKeyEncipherment, 0))
        }
        _ => Ok(()),
    }
}

/// RSA keys under [`MIN_RSA_BITS`] are refused; other key types are judged where they are
/// used (we only verify RSA signatures).
fn check_key_size(cert: &Certificate, depth: usize) -> Result<(), CertError> {
    match cert.public_key() {
        Ok(key) if key.bits() < MIN_RSA_BITS => Err(CertError::new(
            CertErrorKind::KeyTooSmall { bits: key.bits() },
            depth,
        )),
        // CABF BR 6.1.5: the modulus size in bits is evenly divisible by 8.
        Ok(key) if key.bits() % 8 != 0 => Err(CertError::new(
            CertErrorKind::Profile {
                code: None,
                reason: format!(
                    "RSA modulus of {} bits is not a multiple of 8 (CABF BR 6.1.5)",
                    key.bits()
                ),
            },
            depth,
        )),
        _ => Ok(()),
    }
}

/// Does the certificate name `host`? IP literals match subjectAltName IP entries exactly; DNS
/// names match DNS entries case-insensitively, with a left-most `*` label matching exactly one
/// label. The subject CN is never consulted (RFC 6125 §6.4.4; browsers stopped long ago).
pub fn matches_host(cert: &Certificate, host: &str) -> bool {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return cert.ip_addresses().contains(&ip);
    }
    cert.dns_names()
        .iter()
        .any(|pattern| dns_name_matches(pattern, host))
}

/// RFC 6125 §6.4.3 with the usual restrictions: the wildcard is the whole left-most label, it
/// matches one non-empty label, and at least two labels must follow it (no `*.com`).
pub fn dns_name_matches(pattern: &str, host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    let pattern = pattern
        .strip_suffix('.')
        .unwrap_or(pattern)
        .to_ascii_lowercase();
    if host.is_empty() || pattern.is_empty() || host.contains('*') {
        return false;
    }
    match pattern.strip_prefix("*.") {
        None => !pattern.contains('*') && pattern == host,
        Some(rest) => {
            if rest.contains('*')
                || rest.split('.').count() < 2
                || rest.split('.').any(str::is_empty)
            {
                return false;
            }
            match host.split_once('.') {
                Some((first, host_rest)) => !first.is_empty() && host_rest == rest,
                None => false,
            }
        }
    }
}

/// Most candidate certificates the path search looks at in total (each step of the
/// depth-first search costs one), so a peer's tangle of cross-signatures cannot make us work
/// more than this.
pub const MAX_PATH_WORK: usize = 64;

/// Depth-first search for a path from the leaf to a trust anchor (RFC 4158's idea, small):
/// at each step every certificate that could have issued the current one (same name, key ids
/// agreeing) is tried, trust anchors first, each presented certificate used at most once per
/// path. Every complete path is handed to `check`; the first one it accepts wins. When none is
/// accepted, the error of the most complete path is kept: one that reached an anchor beats one
/// that did not, and a longer path beats a shorter one.
struct PathSearch<'a, 'c> {
    intermediates: &'c [&'a Certificate],
    roots: &'a TrustStore,
    used: Vec<bool>,
    path: Vec<&'a Certificate>,
    work: usize,
    /// (reached an anchor, path length, error, the path it is about).
    best: Option<(bool, usize, CertError, Vec<&'a Certificate>)>,
}

type PathCheck<'f> = dyn FnMut(&[&Certificate]) -> Result<(), CertError> + 'f;

impl<'a> PathSearch<'a, '_> {
    fn record(&mut self, complete: bool, error: CertError) {
        let better = match &self.best {
            None => true,
            Some((c, len, _, _)) => (complete, self.path.len()) > (*c, *len),
        };
        if better {
            self.best = Some((complete, self.path.len(), error, self.path.clone()));
        }
    }

    /// `path` is complete (ends in an anchor): does it pass?
    fn finish(&mut self, check: &mut PathCheck<'_>) -> bool {
        match check(&self.path) {
            Ok(()) => true,
            Err(e) => {
                self.record(true, e);
                false
            }
        }
    }

    /// Extend `path` from its last certificate; true when a complete path passed `check`
    /// (it is then left in `path`).
    fn extend(&mut self, check: &mut PathCheck<'_>) -> bool {
        let depth = self.path.len() - 1;
        let current = self.path[depth];
        if self.work >= MAX_PATH_WORK {
            self.record(false, CertError::new(CertErrorKind::ChainTooLong, depth));
            return false;
        }
        self.work += 1;
        // One more certificate (an anchor or an intermediate) would be one too many.
        if self.path.len() >= MAX_PATH_LEN {
            self.record(false, CertError::new(CertErrorKind::ChainTooLong, depth));
            return false;
        }
        let roots = self.roots;
        let mut anchors: Vec<&'a Certificate> = roots
            .by_subject(current.issuer().der())
            .filter(|a| key_ids_compatible(current, a))
            .collect();
        // A presented certificate with an anchor's name and key is still not that anchor (a
        // byte-identical one was accepted when it was reached): its signature, dates and
        // extensions are its own and unchecked, so it is a self-signed certificate like any
        // other (18/19).
        let copies_an_anchor =
            current.is_self_issued() && anchors.iter().any(|a| a.spki_der() == current.spki_der());
        if !copies_an_anchor {
            // Anchors whose key really signed `current` first.
            anchors.sort_by_cached_key(|a| {
                !a.public_key()
                    .is_ok_and(|k| current.verify_signature(&k).is_ok())
            });
            for anchor in anchors {
                self.path.push(anchor);
                if self.finish(check) {
                    return true;
                }
                self.path.pop();
            }
        }
        // A self-signed certificate ends the search; a self-issued one with another key (a
        // key rollover) is issued by its older self, and the search goes on if that is here.
        let self_issued_error = || {
            let kind = if depth == 0 {
                CertErrorKind::SelfSigned
            } else {
                CertErrorKind::SelfSignedInChain
            };
            CertError::new(kind, depth)
        };
        if is_self_signed(current) {
            self.record(false, self_issued_error());
            return false;
        }
        let mut tried = false;
        for index in 0..self.intermediates.len() {
            let issuer = self.intermediates[index];
            if self.used[index]
                || issuer.subject().der() != current.issuer().der()
                || !key_ids_compatible(current, issuer)
            {
                continue;
            }
            tried = true;
            self.used[index] = true;
            self.path.push(issuer);
            // The peer may send the root too: if it is trusted as is, it is the anchor.
            let done = if roots.contains(issuer) {
                self.finish(check)
            } else {
                self.extend(check)
            };
            if done {
                return true;
            }
            self.path.pop();
            self.used[index] = false;
        }
        if !tried {
            // Like OpenSSL, a self-issued certificate with no issuer is "self-signed" (18/19)
            // whether or not its signature is its own.
            let error = if current.is_self_issued() {
                self_issued_error()
            } else {
                CertError::new(CertErrorKind::UnknownIssuer, depth)
            };
            self.record(false, error);
        }
        false
    }
}

/// Search for a path from `leaf` that `check` accepts. On success, the path (leaf first); on
/// failure, the error of the most complete path tried and that path, so that
/// `path[error.depth]` is the certificate the error is about.
fn build_path<'a>(
    leaf: &'a Certificate,
    intermediates: &[&'a Certificate],
    roots: &'a TrustStore,
    check: &mut PathCheck<'_>,
) -> Result<Vec<&'a Certificate>, (CertError, Vec<&'a Certificate>)> {
    let mut search = PathSearch {
        intermediates,
        roots,
        used: vec![false; intermediates.len()],
        path: vec![leaf],
        work: 0,
        best: None,
    };
    // A directly trusted leaf (a pinned self-signed certificate) is its own anchor.
    let found = if roots.contains(leaf) {
        search.finish(check)
    } else {
        search.extend(check)
    };
    if found {
        return Ok(search.path);
    }
    Err(match search.best {
        Some((_, _, error, path)) => (error, path),
        None => (CertError::new(CertErrorKind::UnknownIssuer, 0), vec![leaf]),
    })
}

fn is_self_signed(cert: &Certificate) -> bool {
    cert.is_self_issued()
        && cert
            .public_key()
            .is_ok_and(|k| cert.verify_signature(&k).is_ok())
}

/// When the child names its issuer's key and the candidate names its own, they must agree.
fn key_ids_compatible(child: &Certificate, issuer: &Certificate) -> bool {
    match (child.authority_key_id(), issuer.subject_key_id()) {
        (Some(aki), Some(ski)) => aki == ski,
        _ => true,
    }
}

/// RFC 5280 §6.1.4 and OpenSSL's `check_chain_extensions`, leaf (0) to anchor.
fn check_extensions(path: &[&Certificate], purpose: Purpose) -> Result<(), CertError> {
    let allows = |cert: &Certificate| match purpose {
        Purpose::ServerAuth => cert.allows_server_auth(),
        Purpose::ClientAuth => cert.allows_client_auth(),
    };
    let anchor_depth = path.len() - 1;
    // Non-self-issued CAs seen so far below the current certificate.
    let mut cas_below = 0usize;
    for (depth, cert) in path.iter().enumerate() {
        let fail = |kind| Err(CertError::new(kind, depth));
        // RFC 5280 §4.2: the anchor too — a critical extension is a constraint we would be
        // ignoring.
        if let Some(oid) = cert.unhandled_critical_extensions().first() {
            return fail(CertErrorKind::UnhandledCriticalExtension(oid.clone()));
        }
        if depth > 0 {
            // Old v1 roots have no extensions at all; as anchors they are still CAs.
            let v1_anchor =
                depth == anchor_depth && cert.version() < 3 && !cert.has_basic_constraints();
            let can_sign_certs = cert.key_usage().is_none_or(|ku| ku.key_cert_sign);
            if !(cert.is_ca() || v1_anchor) || !can_sign_certs {
                return fail(CertErrorKind::NotACa);
            }
            if depth > 1 {
                if let Some(limit) = cert.path_len() {
                    if cas_below > usize::from(limit) {
                        return fail(CertErrorKind::PathTooLong);
                    }
                }
            }
            if !allows(cert) {
                return fail(CertErrorKind::InvalidPurpose);
            }
            if !cert.is_self_issued() {
                cas_below += 1;
            }
        } else {
            // A TLS server key is used to sign or to decrypt the pre-master secret; a client's
            // signs CertificateVerify (or agrees on a key with fixed DH).
            let usable_for_tls = cert.key_usage().is_none_or(|ku| match purpose {
                Purpose::ServerAuth => {
                    ku.digital_signature || ku.key_encipherment || ku.key_agreement
                }
                Purpose::ClientAuth => ku.digital_signature || ku.key_agreement,
            });
            if !usable_for_tls || !allows(cert) {
                return fail(CertErrorKind::InvalidPurpose);
            }
        }
    }
    Ok(())
}

/// OpenSSL's `internal_verify`: from the anchor down, each signature then each date.
fn check_signatures_and_times(path: &[&Certificate], at_unix: i64) -> Result<(), CertError> {
    for depth in (0..path.len()).rev() {
        let cert = path[depth];
        // The anchor is trusted as configured; its self-signature proves nothing.
        if let Some(issuer) = path.get(depth + 1) {
            let at_depth = |e: CertError| CertError::new(e.kind, depth);
            let key = issuer.public_key().map_err(at_depth)?;
            cert.verify_signature(&key).map_err(at_depth)?;
        }
        if at_unix < cert.not_before() {
            return Err(CertError::new(CertErrorKind::NotYetValid, depth));
        }
        if at_unix > cert.not_after() {
            return Err(CertError::new(CertErrorKind::Expired, depth));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::rsa::RsaPrivateKey;
    use crate::pki::x509::CertificateBuilder;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    const NOW: i64 = 1_780_000_000; // 2026-05-28
    const DAY: i64 = 86_400;

    fn key(i: usize) -> &'static RsaPrivateKey {
        static KEYS: OnceLock<Vec<RsaPrivateKey>> = OnceLock::new();
        &KEYS.get_or_init(|| {
            (0..3)
                .map(|_| RsaPrivateKey::generate(2048, &mut |_| {}).unwrap())
                .collect()
        })[i]
    }

    struct Pki {
        root: Certificate,
        inter: Certificate,
        leaf: Certificate,
        roots: TrustStore,
    }

    fn pki() -> &'static Pki {
        static PKI: OnceLock<Pki> = OnceLock::new();
        PKI.get_or_init(|| {
            let root = CertificateBuilder::root_ca("Test Root CA")
                .organization("Test")
                .validity(NOW - 100 * DAY, NOW + 3650 * DAY)
                .self_signed(key(0))
                .unwrap();
            let inter = CertificateBuilder::intermediate_ca("Test Intermediate CA", Some(0))
                .validity(NOW - 100 * DAY, NOW + 1000 * DAY)
                .sign(key(1).public_key(), &root, key(0))
                .unwrap();
            let leaf = server(
                &["localhost", "127.0.0.1", "::1"],
                &inter,
                1,
                NOW - DAY,
                NOW + 30 * DAY,
            );
            let mut roots = TrustStore::new();
            roots.add(root.clone());
            Pki {
                root,
                inter,
                leaf,
                roots,
            }
        })
    }

    fn server(
        names: &[&str],
        issuer: &Certificate,
        issuer_key: usize,
        nb: i64,
        na: i64,
    ) -> Certificate {
        CertificateBuilder::server(names)
            .unwrap()
            .validity(nb, na)
            .sign(key(2).public_key(), issuer, key(issuer_key))
            .unwrap()
    }

    fn err(
        presented: &[Certificate],
        roots: &TrustStore,
        host: Option<&str>,
        at: i64,
    ) -> (u32, usize) {
        let e = verify_chain(presented, roots, host, at).unwrap_err();
        (e.openssl_code(), e.depth)
    }

    #[test]
    fn builder_extensions_follow_design() {
        let p = pki();
        assert!(p.root.is_ca() && p.root.is_self_issued());
        assert_eq!(p.root.path_len(), None);
        let ku = p.root.key_usage().unwrap();
        assert!(ku.key_cert_sign && ku.crl_sign && !ku.digital_signature);
        assert!(p
            .root
            .extensions()
            .iter()
            .any(|e| e.name == "X509v3 Basic Constraints" && e.critical));
        assert_eq!(p.root.authority_key_id(), p.root.subject_key_id());
        assert_eq!(p.inter.path_len(), Some(0));
        assert_eq!(p.inter.authority_key_id(), p.root.subject_key_id());
        assert_eq!(p.inter.issuer(), p.root.subject());

        let leaf = &p.leaf;
        assert!(!leaf.is_ca());
        assert_eq!(leaf.version(), 3);
        assert_eq!(leaf.common_name(), Some("localhost"));
        assert_eq!(leaf.dns_names(), ["localhost"]);
        assert_eq!(
            leaf.ip_addresses(),
            [
                "127.0.0.1".parse::<IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
        let ku = leaf.key_usage().unwrap();
        assert!(ku.digital_signature && ku.key_encipherment && !ku.key_cert_sign);
        assert_eq!(
            leaf.extended_key_usage().unwrap(),
            [crate::pki::x509::ID_KP_SERVER_AUTH]
        );
        assert_eq!(leaf.serial().len(), 16);
        assert!(leaf.serial()[0] < 0x80 && leaf.serial()[0] != 0);
        assert_eq!(leaf.signature_algorithm_name(), "sha256WithRSAEncryption");
        assert_eq!(leaf.key_bits(), Some(2048));
        assert_eq!(
            leaf.issuer().to_openssl_string(),
            "CN = Test Intermediate CA"
        );
        assert_eq!(
            p.root.subject().to_openssl_string(),
            "CN = Test Root CA, O = Test"
        );
        assert_eq!(p.root.subject().to_curl_string(), "CN=Test Root CA; O=Test");
        assert_eq!(leaf.not_before(), NOW - DAY);
        assert_eq!(leaf.not_after(), NOW + 30 * DAY);
        // The signed bytes are a slice of the certificate itself.
        let tbs = leaf.tbs_der();
        assert!(leaf.der().windows(tbs.len()).any(|w| w == tbs));
        leaf.verify_signature(&p.inter.public_key().unwrap())
            .unwrap();
    }

    #[test]
    fn good_chain_verifies() {
        let p = pki();
        for host in [
            "localhost",
            "LOCALHOST",
            "localhost.",
            "127.0.0.1",
            "::1",
            "[::1]",
        ] {
            let chain = verify_chain(
                &[p.leaf.clone(), p.inter.clone()],
                &p.roots,
                Some(host),
                NOW,
            )
            .unwrap_or_else(|e| panic!("{host}: {e}"));
            assert_eq!(chain.len(), 3);
            assert_eq!(chain.anchor().der(), p.root.der());
        }
        // The root sent along, and duplicates, change nothing.
        let chain = verify_chain(
            &[
                p.leaf.clone(),
                p.inter.clone(),
                p.inter.clone(),
                p.root.clone(),
            ],
            &p.roots,
            None,
            NOW,
        )
        .unwrap();
        assert_eq!(chain.len(), 3);
    }

    #[test]
    fn each_failure_has_its_own_reason() {
        let p = pki();
        let chain = [p.leaf.clone(), p.inter.clone()];
        // Wrong host: 62 at 0. A name not in SAN is refused even though it is close.
        assert_eq!(err(&chain, &p.roots, Some("example.com"), NOW), (62, 0));
        assert_eq!(err(&chain, &p.roots, Some("127.0.0.2"), NOW), (62, 0));
        // Missing intermediate: 20 at 0.
        assert_eq!(err(&chain[..1], &p.roots, None, NOW), (20, 0));
        // No trusted root at all: 19 when the peer sends the root, 20 otherwise.
        let empty = TrustStore::new();
        assert_eq!(err(&chain, &empty, None, NOW), (20, 1));
        let with_root = [p.leaf.clone(), p.inter.clone(), p.root.clone()];
        assert_eq!(err(&with_root, &empty, None, NOW), (19, 2));
        // Time: the leaf expires first; before the leaf starts, it is not yet valid.
        assert_eq!(err(&chain, &p.roots, None, NOW + 31 * DAY), (10, 0));
        assert_eq!(err(&chain, &p.roots, None, NOW - 2 * DAY), (9, 0));
        // The intermediate expires before its leaf would: reported at depth 1 first.
        assert_eq!(err(&chain, &p.roots, None, NOW + 2000 * DAY), (10, 1));
        // Chain errors win over name errors.
        assert_eq!(
            err(&chain, &p.roots, Some("example.com"), NOW + 31 * DAY),
            (10, 0)
        );
        assert_eq!(
            err(&chain[..1], &p.roots, Some("example.com"), NOW),
            (20, 0)
        );
    }

    #[test]
    fn self_signed_leaf() {
        let p = pki();
        let leaf = CertificateBuilder::server(&["localhost"])
            .unwrap()
            .validity(NOW - DAY, NOW + DAY)
            .self_signed(key(2))
            .unwrap();
        assert!(leaf.is_self_issued());
        assert_eq!(
            err(std::slice::from_ref(&leaf), &p.roots, None, NOW),
            (18, 0)
        );
        // Pinned: trusting the very certificate works, name still checked.
        let mut pinned = TrustStore::new();
        pinned.add(leaf.clone());
        let chain =
            verify_chain(std::slice::from_ref(&leaf), &pinned, Some("localhost"), NOW).unwrap();
        assert_eq!(chain.len(), 1);
        assert_eq!(
            err(std::slice::from_ref(&leaf), &pinned, Some("other"), NOW),
            (62, 0)
        );
    }

    #[test]
    fn path_length_and_non_ca_issuers() {
        let p = pki();
        // p.inter has pathLen 0: another CA below it is one too many.
        let sub = CertificateBuilder::intermediate_ca("Sub CA", None)
            .validity(NOW - DAY, NOW + 100 * DAY)
            .sign(key(1).public_key(), &p.inter, key(1))
            .unwrap();
        let leaf = server(&["localhost"], &sub, 1, NOW - DAY, NOW + DAY);
        assert_eq!(
            err(&[leaf, sub, p.inter.clone()], &p.roots, None, NOW),
            (25, 2)
        );

        // A leaf that signs another certificate is not a CA: "invalid CA certificate" (79)
        // at the leaf that signed.
        let below_leaf = CertificateBuilder::server(&["x.test"])
            .unwrap()
            .validity(NOW - DAY, NOW + DAY)
            .sign_with_any_issuer(key(0).public_key(), &p.leaf, key(2))
            .unwrap();
        let e = verify_chain(
            &[below_leaf, p.leaf.clone(), p.inter.clone()],
            &p.roots,
            Some("x.test"),
            NOW,
        )
        .unwrap_err();
        assert_eq!((e.openssl_code(), e.depth), (79, 1));
        assert_eq!(e.kind, CertErrorKind::NotACa);
        assert_eq!(e.to_string(), "invalid CA certificate");

        // The builder refuses to sign with a leaf in the first place.
        assert!(matches!(
            CertificateBuilder::server(&["x.test"]).unwrap().sign(
                key(0).public_key(),
                &p.leaf,
                key(2)
            ),
            Err(crate::pki::x509::BuildError::IssuerNotCa)
        ));
        assert!(matches!(
            CertificateBuilder::server(&["x.test"]).unwrap().sign(
                key(0).public_key(),
                &p.inter,
                key(0)
            ),
            Err(crate::pki::x509::BuildError::KeyMismatch)
        ));
    }

    #[test]
    fn altered_signature_is_reported() {
        let p = pki();
        let mut der = p.leaf.der().to_vec();
        let last = der.len() - 1;
        der[last] ^= 0x01;
        let tampered = Certificate::from_der(&der).unwrap();
        assert_eq!(
            err(&[tampered, p.inter.clone()], &p.roots, None, NOW),
            (7, 0)
        );
        // A flipped bit inside the signed part breaks it as well.
        let mut der = p.leaf.der().to_vec();
        let spki = p.leaf.spki_der();
        let pos = der.windows(spki.len()).position(|w| w == spki).unwrap() + spki.len() / 2;
        der[pos] ^= 0x10;
        let renamed = Certificate::from_der(&der).unwrap();
        assert_eq!(
            err(&[renamed, p.inter.clone()], &p.roots, None, NOW),
            (7, 0)
        );
        // The outer signatureAlgorithm is not signed: its parameters (NULL) changed to an empty
        // SEQUENCE must not go unnoticed (RFC 5280 §4.1.1.2).
        let mut der = p.leaf.der().to_vec();
        let at = 4 + p.leaf.tbs_der().len() + 13;
        assert_eq!(der[at..at + 2], [0x05, 0x00]);
        der[at] = 0x30;
        let reparametrised = Certificate::from_der(&der).unwrap();
        let e = verify_chain(&[reparametrised, p.inter.clone()], &p.roots, None, NOW).unwrap_err();
        assert!(matches!(e.kind, CertErrorKind::Malformed(_)), "{e}");
    }

    #[test]
    fn host_name_rules() {
        assert!(dns_name_matches("*.example.com", "www.example.com"));
        assert!(dns_name_matches("*.Example.COM", "WWW.example.com."));
        assert!(!dns_name_matches("*.example.com", "example.com"));
        assert!(!dns_name_matches("*.example.com", "a.b.example.com"));
        assert!(!dns_name_matches("*.example.com", ".example.com"));
        assert!(!dns_name_matches("*.com", "example.com"));
        assert!(!dns_name_matches("www.*.com", "www.example.com"));
        assert!(!dns_name_matches("w*.example.com", "www.example.com"));
        assert!(!dns_name_matches("example.com", "*.example.com"));
        assert!(!dns_name_matches("", ""));
        assert!(dns_name_matches("localhost", "LocalHost"));
    }

    #[test]
    fn wildcard_and_ip_in_certificates() {
        let p = pki();
        let leaf = server(
            &["*.example.test", "10.0.0.1", "2001:db8::1"],
            &p.inter,
            1,
            NOW - DAY,
            NOW + DAY,
        );
        assert!(matches_host(&leaf, "a.example.test"));
        assert!(!matches_host(&leaf, "example.test"));
        assert!(matches_host(&leaf, "10.0.0.1"));
        assert!(matches_host(&leaf, "2001:DB8:0:0::1"));
        assert!(matches_host(&leaf, "[2001:db8::1]"));
        assert!(!matches_host(&leaf, "10.0.0.2"));
        // A name whose text is the IP does not match an IP entry through DNS, nor the reverse.
        assert!(!matches_host(&p.leaf, "0x7f.0.0.1"));
    }

    #[test]
    fn no_common_name_fallback() {
        let p = pki();
        // CN names the host, SAN does not: the CN is never consulted (RFC 6125 §6.4.4).
        let leaf = CertificateBuilder::server(&["other.test"])
            .unwrap()
            .common_name("host.test")
            .validity(NOW - DAY, NOW + DAY)
            .sign(key(2).public_key(), &p.inter, key(1))
            .unwrap();
        assert_eq!(leaf.common_name(), Some("host.test"));
        assert!(!matches_host(&leaf, "host.test"));
        // Such a CN is refused outright (CABF BR 7.1.4.3), whatever the host asked for.
        let chain = [leaf, p.inter.clone()];
        for host in [Some("host.test"), Some("other.test"), None] {
            let e = verify_chain(&chain, &p.roots, host, NOW).unwrap_err();
            assert!(e.to_string().contains("7.1.4.3"), "{e}");
        }
        // With the CN a copy of one SAN entry, only SAN entries name hosts.
        let leaf = CertificateBuilder::server(&["other.test", "host.test"])
            .unwrap()
            .validity(NOW - DAY, NOW + DAY)
            .sign(key(2).public_key(), &p.inter, key(1))
            .unwrap();
        let chain = [leaf, p.inter.clone()];
        verify_chain(&chain, &p.roots, Some("other.test"), NOW).unwrap();
        verify_chain(&chain, &p.roots, Some("host.test"), NOW).unwrap();
        let e = verify_chain(&chain, &p.roots, Some("third.test"), NOW).unwrap_err();
        assert_eq!((e.openssl_code(), e.depth), (62, 0));
    }

    #[test]
    fn cross_signed_intermediate_backtracks_to_the_trusted_root() {
        let p = pki();
        let untrusted = CertificateBuilder::root_ca("Untrusted Root")
            .validity(NOW - DAY, NOW + 100 * DAY)
            .self_signed(key(2))
            .unwrap();
        let cross = |issuer: &Certificate, issuer_key: usize| {
            CertificateBuilder::intermediate_ca("Cross CA", None)
                .validity(NOW - DAY, NOW + 100 * DAY)
                .sign(key(1).public_key(), issuer, key(issuer_key))
                .unwrap()
        };
        let via_untrusted = cross(&untrusted, 2);
        let via_trusted = cross(&p.root, 0);
        let leaf = server(&["localhost"], &via_trusted, 1, NOW - DAY, NOW + DAY);
        // The first candidate leads to a self-signed root we do not trust.
        let presented = [leaf.clone(), via_untrusted.clone(), untrusted, via_trusted];
        let chain = verify_chain(&presented, &p.roots, Some("localhost"), NOW).unwrap();
        assert_eq!(chain.len(), 3);
        assert_eq!(chain.anchor().der(), p.root.der());
        // Only the untrusted branch: its failure is reported (19 at the root).
        assert_eq!(
            err(&presented[..3], &p.roots, None, NOW),
            (19, 2),
            "the most complete path's failure"
        );
    }

    #[test]
    fn a_loop_of_cas_signing_each_other_terminates() {
        let p = pki();
        let a0 = CertificateBuilder::root_ca("Loop A")
            .validity(NOW - DAY, NOW + 100 * DAY)
            .self_signed(key(1))
            .unwrap();
        let b = CertificateBuilder::intermediate_ca("Loop B", None)
            .validity(NOW - DAY, NOW + 100 * DAY)
            .sign(key(2).public_key(), &a0, key(1))
            .unwrap();
        let a = CertificateBuilder::intermediate_ca("Loop A", None)
            .validity(NOW - DAY, NOW + 100 * DAY)
            .sign(key(1).public_key(), &b, key(2))
            .unwrap();
        let leaf = server(&["localhost"], &a, 1, NOW - DAY, NOW + DAY);
        let mut presented = vec![leaf];
        // Many copies of each: every one is a candidate; the work bound still ends the search.
        for _ in 0..(MAX_PRESENTED / 2) {
            presented.push(a.clone());
            presented.push(b.clone());
        }
        let (code, _) = err(&presented, &p.roots, None, NOW);
        assert!(code == 20 || code == 22, "got {code}");
        assert_eq!(err(&presented[..3], &p.roots, None, NOW), (20, 2));
    }

    /// A DER TLV, for hand-made extension values.
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        match content.len() {
            n if n < 0x80 => out.push(n as u8),
            n if n < 0x100 => out.extend([0x81, n as u8]),
            n => out.extend([0x82, (n >> 8) as u8, n as u8]),
        }
        out.extend_from_slice(content);
        out
    }

    /// `BasicConstraints ::= SEQUENCE { cA TRUE }`.
    const BC_CA: &[u8] = &[0x30, 0x03, 0x01, 0x01, 0xff];
    /// keyUsage digitalSignature + keyEncipherment + keyCertSign.
    const KU_SERVER_AND_CERT_SIGN: &[u8] = &[0x03, 0x02, 0x02, 0xa4];

    fn oid(s: &str) -> const_oid::ObjectIdentifier {
        const_oid::ObjectIdentifier::new_unwrap(s)
    }

    /// The error's code, depth and text, for a chain that must be refused.
    fn refused(presented: &[Certificate], roots: &TrustStore) -> (u32, usize, String) {
        let e = verify_chain(presented, roots, None, NOW).unwrap_err();
        (e.openssl_code(), e.depth, e.to_string())
    }

    fn inter_with(
        f: impl FnOnce(CertificateBuilder) -> CertificateBuilder,
    ) -> (Certificate, Certificate) {
        let p = pki();
        let inter = f(CertificateBuilder::intermediate_ca("Rule CA", None))
            .validity(NOW - DAY, NOW + 100 * DAY)
            .sign_with_any_issuer(key(1).public_key(), &p.root, key(0))
            .unwrap();
        let leaf = server(&["localhost"], &inter, 1, NOW - DAY, NOW + DAY);
        (leaf, inter)
    }

    /// A root built by `f`, trusted alone, with an intermediate and a leaf under it.
    fn root_with(
        f: impl FnOnce(CertificateBuilder) -> CertificateBuilder,
    ) -> (Vec<Certificate>, TrustStore) {
        let root = f(CertificateBuilder::root_ca("Rule Root"))
            .validity(NOW - DAY, NOW + 100 * DAY)
            .self_signed(key(0))
            .unwrap();
        let inter = CertificateBuilder::intermediate_ca("Rule Root Sub CA", None)
            .validity(NOW - DAY, NOW + 100 * DAY)
            .sign_with_any_issuer(key(1).public_key(), &root, key(0))
            .unwrap();
        let leaf = server(&["localhost"], &inter, 1, NOW - DAY, NOW + DAY);
        let mut roots = TrustStore::new();
        roots.add(root);
        (vec![leaf, inter], roots)
    }

    fn leaf_with(f: impl FnOnce(CertificateBuilder) -> CertificateBuilder) -> Vec<Certificate> {
        let p = pki();
        let leaf = f(CertificateBuilder::server(&["localhost"]).unwrap())
            .validity(NOW - DAY, NOW + DAY)
            .sign(key(2).public_key(), &p.inter, key(1))
            .unwrap();
        vec![leaf, p.inter.clone()]
    }

    #[test]
    fn ca_structure_rules() {
        let p = pki();
        // The compliant twins.
        let (leaf, inter) = inter_with(|b| b);
        verify_chain(&[leaf, inter], &p.roots, None, NOW).unwrap();
        let (chain, roots) = root_with(|b| b);
        verify_chain(&chain, &roots, None, NOW).unwrap();

        // Empty subject on an intermediate: 84.
        let (leaf, inter) = inter_with(|b| b.empty_subject());
        let (code, depth, text) = refused(&[leaf, inter], &p.roots);
        assert_eq!((code, depth), (84, 1), "{text}");
        assert!(text.contains("4.1.2.6"), "{text}");
        // ... and on a root.
        let (chain, roots) = root_with(|b| b.empty_subject());
        let (code, depth, _) = refused(&chain, &roots);
        assert_eq!((code, depth), (84, 2));

        // No subjectKeyIdentifier: 86, on an intermediate and on the anchor.
        let ski = oid("2.5.29.14");
        let (leaf, inter) = inter_with(|b| b.override_extension(ski, None));
        let (code, depth, text) = refused(&[leaf, inter], &p.roots);
        assert_eq!((code, depth), (86, 1), "{text}");
        assert!(text.contains("RFC 5280 4.2.1.2"), "{text}");
        let (chain, roots) = root_with(|b| b.override_extension(ski, None));
        assert_eq!(refused(&chain, &roots).0, 86);
        assert_eq!(refused(&chain, &roots).1, 2);

        // basicConstraints not critical: 89.
        let bc = oid("2.5.29.19");
        let (leaf, inter) = inter_with(|b| b.override_extension(bc, Some((false, BC_CA.to_vec()))));
        assert_eq!(refused(&[leaf, inter], &p.roots).0, 89);
        let (chain, roots) = root_with(|b| b.override_extension(bc, Some((false, BC_CA.to_vec()))));
        let (code, depth, text) = refused(&chain, &roots);
        assert_eq!((code, depth), (89, 2), "{text}");

        // An unknown critical extension in the anchor: 34 at the anchor; not critical: fine.
        let private = oid("1.3.6.1.4.1.55555.1");
        let (chain, roots) = root_with(|b| b.extension(private, true, &[0x05, 0x00]));
        assert_eq!(refused(&chain, &roots).0, 34);
        assert_eq!(refused(&chain, &roots).1, 2);
        let (chain, roots) = root_with(|b| b.extension(private, false, &[0x05, 0x00]));
        verify_chain(&chain, &roots, None, NOW).unwrap();

        // A root's AKI: its own key id only (CABF BR 7.1.2.1.3).
        let aki = oid("2.5.29.35");
        let (chain, roots) = root_with(|b| {
            b.override_extension(aki, Some((false, tlv(0x30, &tlv(0x80, &[1, 2, 3])))))
        });
        let (code, depth, text) = refused(&chain, &roots);
        assert_eq!((code, depth), (1, 2), "{text}");
        assert!(text.contains("not its own subjectKeyIdentifier"), "{text}");
        let own = CertificateBuilder::root_ca("x")
            .self_signed(key(0))
            .unwrap();
        let own_id = own.subject_key_id().unwrap().to_vec();
        let with_serial = [tlv(0x80, &own_id), tlv(0x82, &[0x01])].concat();
        let (chain, roots) =
            root_with(|b| b.override_extension(aki, Some((false, tlv(0x30, &with_serial)))));
        let (code, depth, text) = refused(&chain, &roots);
        assert_eq!((code, depth), (1, 2), "{text}");
        assert!(text.contains("authorityCertSerialNumber"), "{text}");
        // Without AKI at all, a root is fine.
        let (chain, roots) = root_with(|b| b.override_extension(aki, None));
        verify_chain(&chain, &roots, None, NOW).unwrap();
    }

    #[test]
    fn non_root_rules() {
        let p = pki();
        let aki = oid("2.5.29.35");
        // No AKI: 85, on the leaf and on an intermediate.
        let chain = leaf_with(|b| b.override_extension(aki, None));
        let (code, depth, text) = refused(&chain, &p.roots);
        assert_eq!((code, depth), (85, 0), "{text}");
        let (leaf, inter) = inter_with(|b| b.override_extension(aki, None));
        assert_eq!(refused(&[leaf, inter], &p.roots).1, 1);
        // AKI without keyIdentifier (only a serial): 85 as well.
        let chain =
            leaf_with(|b| b.override_extension(aki, Some((false, tlv(0x30, &tlv(0x82, &[0x01]))))));
        assert_eq!(refused(&chain, &p.roots).0, 85);
        // AKI critical: 90.
        let id = p.inter.subject_key_id().unwrap().to_vec();
        let chain =
            leaf_with(|b| b.override_extension(aki, Some((true, tlv(0x30, &tlv(0x80, &id))))));
        assert_eq!(refused(&chain, &p.roots).0, 90);
        let chain =
            leaf_with(|b| b.override_extension(aki, Some((false, tlv(0x30, &tlv(0x80, &id))))));
        verify_chain(&chain, &p.roots, None, NOW).unwrap();

        // authorityInfoAccess with no AccessDescription (CABF 7.1.2.7.7); one is fine.
        let aia = oid("1.3.6.1.5.5.7.1.1");
        let chain = leaf_with(|b| b.extension(aia, false, &[0x30, 0x00]));
        let (code, depth, text) = refused(&chain, &p.roots);
        assert_eq!((code, depth), (1, 0), "{text}");
        assert!(
            text.contains("authorityInfoAccess has no AccessDescription"),
            "{text}"
        );
        let (leaf, inter) = inter_with(|b| b.extension(aia, false, &[0x30, 0x00]));
        assert_eq!(refused(&[leaf, inter], &p.roots).1, 1);
        let ca_issuers = [
            vec![0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02],
            tlv(0x86, b"http://ca.test/ca.der"),
        ]
        .concat();
        let good_aia = tlv(0x30, &tlv(0x30, &ca_issuers));
        let chain = leaf_with(|b| b.extension(aia, false, &good_aia));
        verify_chain(&chain, &p.roots, None, NOW).unwrap();
    }

    #[test]
    fn leaf_rules() {
        let p = pki();
        let bc = oid("2.5.29.19");
        let ku = oid("2.5.29.15");
        let san = oid("2.5.29.17");
        // cA=TRUE without keyCertSign.
        let chain = leaf_with(|b| b.override_extension(bc, Some((true, BC_CA.to_vec()))));
        let (code, depth, text) = refused(&chain, &p.roots);
        assert_eq!((code, depth), (1, 0), "{text}");
        assert!(
            text.contains("cA=TRUE without keyUsage keyCertSign"),
            "{text}"
        );
        // keyCertSign with cA=FALSE: 82.
        let chain =
            leaf_with(|b| b.override_extension(ku, Some((true, KU_SERVER_AND_CERT_SIGN.to_vec()))));
        assert_eq!(refused(&chain, &p.roots).0, 82);
        // Both: a consistent CA leaf is accepted.
        let chain = leaf_with(|b| {
            b.override_extension(bc, Some((true, BC_CA.to_vec())))
                .override_extension(ku, Some((true, KU_SERVER_AND_CERT_SIGN.to_vec())))
        });
        verify_chain(&chain, &p.roots, Some("localhost"), NOW).unwrap();

        // subjectAltName critical exactly when the subject is empty.
        let san_value = tlv(0x30, &tlv(0x82, b"localhost"));
        let chain = leaf_with(|b| b.empty_subject());
        assert_eq!(refused(&chain, &p.roots).0, 88);
        let chain = leaf_with(|b| {
            b.empty_subject()
                .override_extension(san, Some((true, san_value.clone())))
        });
        verify_chain(&chain, &p.roots, Some("localhost"), NOW).unwrap();
        let chain = leaf_with(|b| b.override_extension(san, Some((true, san_value.clone()))));
        let (code, _, text) = refused(&chain, &p.roots);
        assert_eq!(code, 1, "{text}");
        assert!(
            text.contains("critical although the subject is not empty"),
            "{text}"
        );

        // dNSName syntax.
        for bad in ["a_b.test", "a..test", "w*.test", "a.*.test", "-a.test"] {
            let value = tlv(0x30, &tlv(0x82, bad.as_bytes()));
            let chain = leaf_with(|b| {
                b.common_name(bad)
                    .override_extension(san, Some((false, value)))
            });
            let (code, depth, text) = refused(&chain, &p.roots);
            assert_eq!((code, depth), (1, 0), "{bad}: {text}");
            assert!(text.contains("preferred name syntax"), "{bad}: {text}");
        }
        let value = tlv(0x30, &tlv(0x82, b"*.a-b.test"));
        let chain = leaf_with(|b| {
            b.common_name("*.a-b.test")
                .override_extension(san, Some((false, value)))
        });
        verify_chain(&chain, &p.roots, Some("x.a-b.test"), NOW).unwrap();

        // The CN is a character-for-character copy of a SAN entry.
        let ip_leaf = |names: &[&str], cn: &str| {
            let leaf = CertificateBuilder::server(names)
                .unwrap()
                .common_name(cn)
                .validity(NOW - DAY, NOW + DAY)
                .sign(key(2).public_key(), &p.inter, key(1))
                .unwrap();
            vec![leaf, p.inter.clone()]
        };
        for (names, cn) in [
            (&["localhost"][..], "LOCALHOST"),
            (&["127.0.0.1"][..], "127.000.000.001"),
            (&["::1"][..], "0:0:0:0:0:0:0:1"),
            (&["2001:db8::1"][..], "2001:DB8::1"),
            (&["xn--bcher-kva.test"][..], "bücher.test"),
        ] {
            let (code, depth, text) = refused(&ip_leaf(names, cn), &p.roots);
            assert_eq!((code, depth), (1, 0), "{cn}: {text}");
            assert!(text.contains("7.1.4.3"), "{cn}: {text}");
        }
        for (names, cn) in [
            (&["localhost"][..], "localhost"),
            (&["127.0.0.1"][..], "127.0.0.1"),
            (&["::1"][..], "::1"),
            (&["2001:db8::1"][..], "2001:db8::1"),
            (&["a.test", "xn--bcher-kva.test"][..], "xn--bcher-kva.test"),
        ] {
            verify_chain(&ip_leaf(names, cn), &p.roots, None, NOW).unwrap();
        }
    }

    /// A 2052-bit RSA key (`openssl genpkey`): long enough, not a multiple of 8.
    const RSA_2052_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIIEwAIBADANBgkqhkiG9w0BAQEFAASCBKowggSmAgEAAoIBAQoMn5EkVr9KRAqQ
SdBGkk/xuFRC2WeTz3MbtcK2iMZYB3PJi2cw4C/qcp3DlwnCiA9Ix2AYMqoaT5eg
ycwQsCNcDK4npuaKXj+WLTgkqIimIgTwF2onBqGhckoSEyLW1u0TxwN3FqqolDSf
wasvCvjT+HcYzknuQLzyCWI6TJwjXgZ+qB7avcxdjsLr0HHGZUPWZKtHcz+spOII
Z7tYmLo3WDxEdsaLvsrnSSiYkZmskwPnudd4JiepycY2x5DOeKnWGjf5GQn5dy84
TThbwGN+cOZOzzGxZI6TkgGAwfmDM5k24oz406q9PlUfJAzmLA7mfQy6RbgRDVpA
5p2tLIl5AgMBAAECggEBAjjT0GEfUCkQ3eAU/hkYkVYiWnk0fl8zm6FJIW5AVFDT
BwJNkUnAjD+zy5fbbdRGRtDiCqiXDT8HkcCC1hzrgUoBYMGSOP/nwnoHchZC8IIB
XCOlHbrWz8a1kVSpSAcGW0HH+4dpqt7e9DrNtPbQH4Ao/FZvCHBGfrCqq/41gcGb
yNZV/nFG2R33mQLCYMW20VzzG0xuAY1I8lvVLcCO0C5v39FjaORMAvpBAYDIVsmS
LHfe/xsxnF+Abm9/ektuZfroTOo4Z3fIAeeD7xQDvYG0Sj7EW+cDOT4ErGE1QDi4
ENLgPQczn6MwlnWWjv+aSyoytMGPC0OszzXOJePIVZ0CgYEDcCbPGeIiIeg3YaO2
46y+EY/iTomSH5FG62Gjs7mJq2xHruPcGr3iZo5a6tQ9l6u8PfFXASFESF+/MHEo
SGX12tNCUQ6N4+eA5gf9Ohrw2n4oTQVIZVh3AaY63o5bqMHJgprmHvA+BKf1lV82
B8JMXp4i+TUPwkRvVFgY5nM5Eq0CgYEC7EVGQmWggQC+UX6qIv3JgNVXy4Xd8h7U
ZrRpk3pbCpWNUSb449+wJDsuPgSZ+XsWRk3PIOf0jsbfGIXF1a33tGME2TzRwhaM
A7lPTFFSvBABgolHSw/sbbgwHhhZa5G9qJ58GRppZ++WvmUnpF6NWFJRaWNJMXWb
1sFw2mEgd30CgYEC7Js1v3AlU+2tXTDgV9oPd+SHugEs9gic54uOr0j6HYHlno1U
IrKrJEukbOPE14JMg+sH84AWEfDOLyev+ZQvfsX9O/BDIzs+2WimK4vKnCx9nrUF
lJ2f6xk2LSGsOGdLO/kADgSM22z4ZuoqjILobfnXCVvmYXfPsU+VLj2Gp6kCgYEC
u2o9NA7eKfbR7kbhLPffg6bm+3vTa19Z1e5IyOsTch88CmDNP+J0OEmA/cM7UTC2
L1zHgNCPjW1iVv+jXgnQgTIU9CGfRzXgBhMOhh11ogesAaHjm8v0iNIjV94Wpy+B
Ab2x7Zz8bYRLeQgAN+mRYL8BDesaHTr7QY9qtxUWTdkCgYEC+1rgbifhI257DP6g
uEIiYcqXK4uBfJR8RSux/cvFPAZ1qPnR3cP/tHORnQ3E/s23rX6kFHHCu0t8chJM
n142AFzn5ZndZIiAJ+WW/t9pe7K0NOi7mXKUVR2gjas0kwjUL8lh6fThFRUbWsnn
I5+H4e8I5ZkUKxaPf1zBlzUw/Pg=
-----END PRIVATE KEY-----";

    #[test]
    fn rsa_modulus_is_a_multiple_of_8_everywhere() {
        let p = pki();
        let odd = crate::pki::keys::private_key_from_pem(RSA_2052_PEM).unwrap();
        assert_eq!(odd.public_key().bits(), 2052);
        // Leaf.
        let leaf = CertificateBuilder::server(&["localhost"])
            .unwrap()
            .validity(NOW - DAY, NOW + DAY)
            .sign(odd.public_key(), &p.inter, key(1))
            .unwrap();
        let (code, depth, text) = refused(&[leaf, p.inter.clone()], &p.roots);
        assert_eq!((code, depth), (1, 0), "{text}");
        assert!(text.contains("not a multiple of 8"), "{text}");
        // Anchor.
        let root = CertificateBuilder::root_ca("Odd Root")
            .validity(NOW - DAY, NOW + DAY)
            .self_signed(&odd)
            .unwrap();
        let leaf = CertificateBuilder::server(&["localhost"])
            .unwrap()
            .validity(NOW - DAY, NOW + DAY)
            .sign(key(2).public_key(), &root, &odd)
            .unwrap();
        let mut roots = TrustStore::new();
        roots.add(root);
        let (code, depth, text) = refused(&[leaf], &roots);
        assert_eq!((code, depth), (1, 1), "{text}");
    }

    #[test]
    fn path_len_skips_the_leaf_and_self_issued_intermediates() {
        let p = pki();
        // Root → "Roll CA" (pathLen 0) → "Roll CA" again under a new key (self-issued) → leaf.
        let old = CertificateBuilder::intermediate_ca("Roll CA", Some(0))
            .validity(NOW - DAY, NOW + 100 * DAY)
            .sign(key(1).public_key(), &p.root, key(0))
            .unwrap();
        let new = CertificateBuilder::intermediate_ca("Roll CA", None)
            .validity(NOW - DAY, NOW + 100 * DAY)
            .sign(key(2).public_key(), &old, key(1))
            .unwrap();
        assert!(new.is_self_issued());
        let leaf = server(&["localhost"], &new, 2, NOW - DAY, NOW + DAY);
        let chain = verify_chain(&[leaf, new, old.clone()], &p.roots, None, NOW).unwrap();
        assert_eq!(chain.len(), 4);
        // A CA that is not self-issued in the same place is one too many.
        let sub = CertificateBuilder::intermediate_ca("Sub of Roll CA", None)
            .validity(NOW - DAY, NOW + 100 * DAY)
            .sign(key(2).public_key(), &old, key(1))
            .unwrap();
        let leaf = server(&["localhost"], &sub, 2, NOW - DAY, NOW + DAY);
        assert_eq!(err(&[leaf, sub, old], &p.roots, None, NOW), (25, 2));
        // A leaf that is itself a CA never counts: p.inter has pathLen 0 and such a leaf
        // under it is accepted (see leaf_rules), as is this one.
        let ca_leaf = CertificateBuilder::intermediate_ca("CA leaf", None)
            .validity(NOW - DAY, NOW + DAY)
            .sign(key(2).public_key(), &p.inter, key(1))
            .unwrap();
        assert_eq!(
            verify_chain(&[ca_leaf, p.inter.clone()], &p.roots, None, NOW)
                .map_err(|e| e.openssl_code())
                .err(),
            // Accepted by pathLen; refused only as a TLS server (no serverAuth-compatible
            // keyUsage): 26, not 25.
            Some(26)
        );
    }

    fn name_constraints(permitted: &[Vec<u8>], excluded: &[Vec<u8>]) -> Vec<u8> {
        let trees = |names: &[Vec<u8>]| names.iter().flat_map(|n| tlv(0x30, n)).collect::<Vec<_>>();
        let mut content = Vec::new();
        if !permitted.is_empty() {
            content.extend(tlv(0xa0, &trees(permitted)));
        }
        if !excluded.is_empty() {
            content.extend(tlv(0xa1, &trees(excluded)));
        }
        tlv(0x30, &content)
    }

    fn dns(name: &str) -> Vec<u8> {
        tlv(0x82, name.as_bytes())
    }

    fn ip(addr: &[u8], mask: &[u8]) -> Vec<u8> {
        tlv(0x87, &[addr, mask].concat())
    }

    /// Verify a leaf for `names` under a CA carrying `nc` (critical or not), on the
    /// intermediate or on the anchor: Ok, or (code, depth).
    fn under_constraints(
        nc: &[u8],
        critical: bool,
        on_anchor: bool,
        names: &[&str],
    ) -> Result<(), (u32, usize, String)> {
        let nc_oid = oid("2.5.29.30");
        let root_builder = CertificateBuilder::root_ca("NC Root");
        let root_builder = if on_anchor {
            root_builder.extension(nc_oid, critical, nc)
        } else {
            root_builder
        };
        let root = root_builder
            .validity(NOW - DAY, NOW + 100 * DAY)
            .self_signed(key(0))
            .unwrap();
        let inter_builder = CertificateBuilder::intermediate_ca("NC CA", None);
        let inter_builder = if on_anchor {
            inter_builder
        } else {
            inter_builder.extension(nc_oid, critical, nc)
        };
        let inter = inter_builder
            .validity(NOW - DAY, NOW + 100 * DAY)
            .sign(key(1).public_key(), &root, key(0))
            .unwrap();
        let leaf = server(names, &inter, 1, NOW - DAY, NOW + DAY);
        let mut roots = TrustStore::new();
        roots.add(root);
        verify_chain(&[leaf, inter], &roots, None, NOW)
            .map(|_| ())
            .map_err(|e| (e.openssl_code(), e.depth, e.to_string()))
    }

    #[test]
    fn name_constraints_dns_and_ip_on_intermediate_and_anchor() {
        let permit_dns = name_constraints(&[dns("good.test")], &[]);
        let exclude_dns = name_constraints(&[], &[dns("evil.test")]);
        let permit_ip = name_constraints(&[ip(&[10, 0, 0, 0], &[255, 0, 0, 0])], &[]);
        let exclude_ip = name_constraints(&[], &[ip(&[10, 1, 0, 0], &[255, 255, 0, 0])]);
        for on_anchor in [false, true] {
            for critical in [true, false] {
                let at =
                    |nc: &[u8], names: &[&str]| under_constraints(nc, critical, on_anchor, names);
                let code = |r: Result<(), (u32, usize, String)>| {
                    r.map_err(|(c, d, t)| {
                        assert_eq!(d, 0, "{t}");
                        c
                    })
                };
                // Permitted DNS.
                at(&permit_dns, &["www.good.test", "good.test", "10.1.2.3"]).unwrap();
                assert_eq!(
                    code(at(&permit_dns, &["www.good.test", "www.evil.test"])),
                    Err(47)
                );
                assert_eq!(code(at(&permit_dns, &["notgood.test"])), Err(47));
                // Excluded DNS (a wildcard that could name an excluded host counts).
                at(&exclude_dns, &["www.good.test"]).unwrap();
                assert_eq!(code(at(&exclude_dns, &["www.evil.test"])), Err(48));
                // Permitted IP.
                at(&permit_ip, &["10.1.2.3", "www.good.test"]).unwrap();
                assert_eq!(code(at(&permit_ip, &["10.1.2.3", "192.168.1.1"])), Err(47));
                // Excluded IP.
                at(&exclude_ip, &["10.2.0.1"]).unwrap();
                assert_eq!(code(at(&exclude_ip, &["10.1.2.3"])), Err(48));
                // A name type we do not enforce: refused, at the CA that carries it.
                let email = name_constraints(&[tlv(0x81, b"example.test")], &[]);
                let (c, d, t) = at(&email, &["www.good.test"]).unwrap_err();
                assert_eq!((c, d), (51, if on_anchor { 2 } else { 1 }), "{t}");
                assert!(t.contains("rfc822Name"), "{t}");
            }
        }
    }

    /// `openssl verify -x509_strict` on the same chains as ours, side by side; run with
    /// `--nocapture` to see the table. Ours must refuse each broken chain and accept each
    /// twin; OpenSSL's verdict is shown, not required (it is less strict on most rules).
    #[test]
    fn side_by_side_with_openssl_x509_strict() {
        let p = pki();
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, certs: &[&Certificate]| {
            let path = dir.path().join(name);
            let pem: String = certs
                .iter()
                .map(|c| crate::pki::pem::encode_certificate(c.der()))
                .collect();
            std::fs::write(&path, pem).unwrap();
            path
        };
        let openssl = |presented: &[Certificate], roots: &TrustStore| -> String {
            let anchors: Vec<&Certificate> = roots.iter().collect();
            let ca = write("ca.pem", &anchors);
            let leaf = write("leaf.pem", &[&presented[0]]);
            let rest: Vec<&Certificate> = presented[1..].iter().collect();
            let mut command = std::process::Command::new("timeout");
            command.args(["60", "openssl", "verify", "-x509_strict", "-attime"]);
            command.arg(NOW.to_string()).arg("-CAfile").arg(&ca);
            if !rest.is_empty() {
                command.arg("-untrusted").arg(write("untrusted.pem", &rest));
            }
            let out = command
                .arg(&leaf)
                .output()
                .expect("cannot run `timeout openssl`: install coreutils and openssl");
            assert_ne!(out.status.code(), Some(124), "openssl verify timed out");
            let text = String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr);
            assert!(!text.contains("command not found") && out.status.code().is_some());
            if out.status.success() {
                return "OK".into();
            }
            text.lines()
                .find(|l| l.starts_with("error "))
                .map(|l| l.replace("error ", "").replace(" depth lookup", ""))
                .unwrap_or_else(|| format!("exit {:?}: {}", out.status.code(), text.trim()))
        };
        let ours = |presented: &[Certificate], roots: &TrustStore| -> Result<(), String> {
            verify_chain(presented, roots, None, NOW)
                .map(|_| ())
                .map_err(|e| {
                    if e.has_openssl_code() {
                        format!("{} at {}: {e}", e.openssl_code(), e.depth)
                    } else {
                        format!("at {}: {e}", e.depth)
                    }
                })
        };
        let mut rows: Vec<(String, String, String)> = Vec::new();
        let mut case =
            |rule: &str, accept: bool, presented: Vec<Certificate>, roots: &TrustStore| {
                let verdict = ours(&presented, roots);
                assert_eq!(verdict.is_ok(), accept, "{rule}: {verdict:?}");
                let ours_text = match verdict {
                    Ok(()) => "OK".to_string(),
                    Err(e) => e,
                };
                rows.push((rule.to_string(), openssl(&presented, roots), ours_text));
            };
        let one_root = |r: &Certificate| {
            let mut t = TrustStore::new();
            t.add(r.clone());
            t
        };
        let with_inter = |(leaf, inter): (Certificate, Certificate)| vec![leaf, inter];

        case(
            "compliant chain (root, intermediate pathLen 0, leaf)",
            true,
            vec![p.leaf.clone(), p.inter.clone()],
            &p.roots,
        );

        // Path building.
        let untrusted = CertificateBuilder::root_ca("Untrusted Root")
            .validity(NOW - DAY, NOW + 100 * DAY)
            .self_signed(key(2))
            .unwrap();
        let cross = |issuer: &Certificate, issuer_key: usize| {
            CertificateBuilder::intermediate_ca("Cross CA", None)
                .validity(NOW - DAY, NOW + 100 * DAY)
                .sign(key(1).public_key(), issuer, key(issuer_key))
                .unwrap()
        };
        let (via_untrusted, via_trusted) = (cross(&untrusted, 2), cross(&p.root, 0));
        let leaf = server(&["localhost"], &via_trusted, 1, NOW - DAY, NOW + DAY);
        case(
            "cross-signed: first candidate to an untrusted root, second to the trusted one",
            true,
            vec![leaf, via_untrusted, untrusted.clone(), via_trusted],
            &p.roots,
        );
        let a0 = CertificateBuilder::root_ca("Loop A")
            .validity(NOW - DAY, NOW + DAY)
            .self_signed(key(1))
            .unwrap();
        let b = CertificateBuilder::intermediate_ca("Loop B", None)
            .validity(NOW - DAY, NOW + DAY)
            .sign(key(2).public_key(), &a0, key(1))
            .unwrap();
        let a = CertificateBuilder::intermediate_ca("Loop A", None)
            .validity(NOW - DAY, NOW + DAY)
            .sign(key(1).public_key(), &b, key(2))
            .unwrap();
        let leaf = server(&["localhost"], &a, 1, NOW - DAY, NOW + DAY);
        case(
            "loop: two CAs signing each other",
            false,
            vec![leaf, a, b],
            &p.roots,
        );

        // CA structure.
        let ski = oid("2.5.29.14");
        let bc = oid("2.5.29.19");
        let aki = oid("2.5.29.35");
        let ku = oid("2.5.29.15");
        let san = oid("2.5.29.17");
        let private = oid("1.3.6.1.4.1.55555.1");
        case(
            "CA subject empty (intermediate)",
            false,
            with_inter(inter_with(|b| b.empty_subject())),
            &p.roots,
        );
        case(
            "CA without SKI (intermediate)",
            false,
            with_inter(inter_with(|b| b.override_extension(ski, None))),
            &p.roots,
        );
        let (chain, roots) = root_with(|b| b.override_extension(ski, None));
        case("CA without SKI (anchor)", false, chain, &roots);
        case(
            "CA basicConstraints not critical (intermediate)",
            false,
            with_inter(inter_with(|b| {
                b.override_extension(bc, Some((false, BC_CA.to_vec())))
            })),
            &p.roots,
        );
        let (chain, roots) = root_with(|b| b.override_extension(bc, Some((false, BC_CA.to_vec()))));
        case(
            "CA basicConstraints not critical (anchor)",
            false,
            chain,
            &roots,
        );
        let (chain, roots) = root_with(|b| b.extension(private, true, &[0x05, 0x00]));
        case(
            "unknown critical extension in the anchor",
            false,
            chain,
            &roots,
        );
        let (chain, roots) = root_with(|b| b.extension(private, false, &[0x05, 0x00]));
        case("twin: the same extension not critical", true, chain, &roots);
        let (chain, roots) = root_with(|b| {
            b.override_extension(aki, Some((false, tlv(0x30, &tlv(0x80, &[1, 2, 3])))))
        });
        case(
            "root AKI keyIdentifier is not its SKI",
            false,
            chain,
            &roots,
        );
        let own = CertificateBuilder::root_ca("x")
            .self_signed(key(0))
            .unwrap();
        let with_serial = [tlv(0x80, own.subject_key_id().unwrap()), tlv(0x82, &[0x01])].concat();
        let (chain, roots) =
            root_with(|b| b.override_extension(aki, Some((false, tlv(0x30, &with_serial)))));
        case(
            "root AKI with authorityCertSerialNumber",
            false,
            chain,
            &roots,
        );
        let (chain, roots) = root_with(|b| b.override_extension(aki, None));
        case("twin: root without AKI", true, chain, &roots);

        // Non-root.
        case(
            "leaf without AKI",
            false,
            leaf_with(|b| b.override_extension(aki, None)),
            &p.roots,
        );
        case(
            "intermediate without AKI",
            false,
            with_inter(inter_with(|b| b.override_extension(aki, None))),
            &p.roots,
        );
        let id = p.inter.subject_key_id().unwrap().to_vec();
        case(
            "leaf AKI critical",
            false,
            leaf_with(|b| b.override_extension(aki, Some((true, tlv(0x30, &tlv(0x80, &id)))))),
            &p.roots,
        );
        let aia = oid("1.3.6.1.5.5.7.1.1");
        case(
            "leaf authorityInfoAccess empty",
            false,
            leaf_with(|b| b.extension(aia, false, &[0x30, 0x00])),
            &p.roots,
        );

        // Leaf.
        case(
            "leaf cA=TRUE without keyCertSign",
            false,
            leaf_with(|b| b.override_extension(bc, Some((true, BC_CA.to_vec())))),
            &p.roots,
        );
        case(
            "leaf keyCertSign with cA=FALSE",
            false,
            leaf_with(|b| b.override_extension(ku, Some((true, KU_SERVER_AND_CERT_SIGN.to_vec())))),
            &p.roots,
        );
        case(
            "twin: leaf cA=TRUE with keyCertSign (under pathLen 0)",
            true,
            leaf_with(|b| {
                b.override_extension(bc, Some((true, BC_CA.to_vec())))
                    .override_extension(ku, Some((true, KU_SERVER_AND_CERT_SIGN.to_vec())))
            }),
            &p.roots,
        );
        let san_value = tlv(0x30, &tlv(0x82, b"localhost"));
        case(
            "leaf subject empty, SAN not critical",
            false,
            leaf_with(|b| b.empty_subject()),
            &p.roots,
        );
        case(
            "twin: leaf subject empty, SAN critical",
            true,
            leaf_with(|b| {
                b.empty_subject()
                    .override_extension(san, Some((true, san_value.clone())))
            }),
            &p.roots,
        );
        case(
            "leaf subject present, SAN critical",
            false,
            leaf_with(|b| b.override_extension(san, Some((true, san_value.clone())))),
            &p.roots,
        );
        case(
            "leaf dNSName with underscore",
            false,
            leaf_with(|b| {
                b.common_name("a_b.test")
                    .override_extension(san, Some((false, tlv(0x30, &tlv(0x82, b"a_b.test")))))
            }),
            &p.roots,
        );
        case(
            "leaf dNSName with a partial wildcard w*.test",
            false,
            leaf_with(|b| {
                b.common_name("w*.test")
                    .override_extension(san, Some((false, tlv(0x30, &tlv(0x82, b"w*.test")))))
            }),
            &p.roots,
        );
        case(
            "leaf CN LOCALHOST, SAN localhost",
            false,
            leaf_with(|b| b.common_name("LOCALHOST")),
            &p.roots,
        );
        let leaf_for = |names: &[&str], cn: &str| {
            let leaf = CertificateBuilder::server(names)
                .unwrap()
                .common_name(cn)
                .validity(NOW - DAY, NOW + DAY)
                .sign(key(2).public_key(), &p.inter, key(1))
                .unwrap();
            vec![leaf, p.inter.clone()]
        };
        case(
            "leaf CN 0:0:0:0:0:0:0:1, SAN ::1",
            false,
            leaf_for(&["::1"], "0:0:0:0:0:0:0:1"),
            &p.roots,
        );
        case(
            "leaf CN 127.000.000.001, SAN 127.0.0.1",
            false,
            leaf_for(&["127.0.0.1"], "127.000.000.001"),
            &p.roots,
        );
        case(
            "leaf CN U-label, SAN A-label",
            false,
            leaf_for(&["xn--bcher-kva.test"], "bücher.test"),
            &p.roots,
        );
        case(
            "twin: leaf CN ::1, SAN ::1",
            true,
            leaf_for(&["::1"], "::1"),
            &p.roots,
        );

        // Keys.
        let odd = crate::pki::keys::private_key_from_pem(RSA_2052_PEM).unwrap();
        let leaf = CertificateBuilder::server(&["localhost"])
            .unwrap()
            .validity(NOW - DAY, NOW + DAY)
            .sign(odd.public_key(), &p.inter, key(1))
            .unwrap();
        case(
            "leaf RSA 2052 bits",
            false,
            vec![leaf, p.inter.clone()],
            &p.roots,
        );
        let odd_root = CertificateBuilder::root_ca("Odd Root")
            .validity(NOW - DAY, NOW + DAY)
            .self_signed(&odd)
            .unwrap();
        let leaf = CertificateBuilder::server(&["localhost"])
            .unwrap()
            .validity(NOW - DAY, NOW + DAY)
            .sign(key(2).public_key(), &odd_root, &odd)
            .unwrap();
        case(
            "anchor RSA 2052 bits",
            false,
            vec![leaf],
            &one_root(&odd_root),
        );

        // pathLen.
        let old = CertificateBuilder::intermediate_ca("Roll CA", Some(0))
            .validity(NOW - DAY, NOW + 100 * DAY)
            .sign(key(1).public_key(), &p.root, key(0))
            .unwrap();
        let new = CertificateBuilder::intermediate_ca("Roll CA", None)
            .validity(NOW - DAY, NOW + 100 * DAY)
            .sign(key(2).public_key(), &old, key(1))
            .unwrap();
        let leaf = server(&["localhost"], &new, 2, NOW - DAY, NOW + DAY);
        case(
            "pathLen 0 then a self-issued intermediate (does not count)",
            true,
            vec![leaf, new, old.clone()],
            &p.roots,
        );
        let sub = CertificateBuilder::intermediate_ca("Sub of Roll CA", None)
            .validity(NOW - DAY, NOW + 100 * DAY)
            .sign(key(2).public_key(), &old, key(1))
            .unwrap();
        let leaf = server(&["localhost"], &sub, 2, NOW - DAY, NOW + DAY);
        case(
            "pathLen 0 then another CA",
            false,
            vec![leaf, sub, old],
            &p.roots,
        );

        // nameConstraints.
        let nc = oid("2.5.29.30");
        let nc_chain = |value: &[u8], on_anchor: bool, names: &[&str]| {
            let rb = CertificateBuilder::root_ca("NC Root");
            let rb = if on_anchor {
                rb.extension(nc, true, value)
            } else {
                rb
            };
            let root = rb
                .validity(NOW - DAY, NOW + 100 * DAY)
                .self_signed(key(0))
                .unwrap();
            let ib = CertificateBuilder::intermediate_ca("NC CA", None);
            let ib = if on_anchor {
                ib
            } else {
                ib.extension(nc, true, value)
            };
            let inter = ib
                .validity(NOW - DAY, NOW + 100 * DAY)
                .sign(key(1).public_key(), &root, key(0))
                .unwrap();
            let leaf = server(names, &inter, 1, NOW - DAY, NOW + DAY);
            (vec![leaf, inter], one_root(&root))
        };
        let permit_dns = name_constraints(&[dns("good.test")], &[]);
        let exclude_dns = name_constraints(&[], &[dns("evil.test")]);
        let permit_ip = name_constraints(&[ip(&[10, 0, 0, 0], &[255, 0, 0, 0])], &[]);
        let exclude_ip = name_constraints(&[], &[ip(&[10, 1, 0, 0], &[255, 255, 0, 0])]);
        let email = name_constraints(&[tlv(0x81, b"example.test")], &[]);
        for on_anchor in [false, true] {
            let at = if on_anchor { "anchor" } else { "intermediate" };
            let (c, r) = nc_chain(&permit_dns, on_anchor, &["www.evil.test"]);
            case(
                &format!("NC permitted DNS good.test on the {at}, leaf www.evil.test"),
                false,
                c,
                &r,
            );
            let (c, r) = nc_chain(&permit_dns, on_anchor, &["www.good.test"]);
            case(
                &format!("twin: NC permitted DNS good.test on the {at}, leaf www.good.test"),
                true,
                c,
                &r,
            );
            let (c, r) = nc_chain(&exclude_dns, on_anchor, &["www.evil.test"]);
            case(
                &format!("NC excluded DNS evil.test on the {at}, leaf www.evil.test"),
                false,
                c,
                &r,
            );
            let (c, r) = nc_chain(&permit_ip, on_anchor, &["192.168.1.1"]);
            case(
                &format!("NC permitted IP 10/8 on the {at}, leaf 192.168.1.1"),
                false,
                c,
                &r,
            );
            let (c, r) = nc_chain(&exclude_ip, on_anchor, &["10.1.2.3"]);
            case(
                &format!("NC excluded IP 10.1/16 on the {at}, leaf 10.1.2.3"),
                false,
                c,
                &r,
            );
            let (c, r) = nc_chain(&email, on_anchor, &["www.good.test"]);
            case(&format!("NC of type rfc822Name on the {at}"), false, c, &r);
        }

        println!("| chain | openssl verify -x509_strict | ours |");
        println!("|---|---|---|");
        for (rule, theirs, ours) in &rows {
            println!("| {rule} | {theirs} | {ours} |");
        }
    }

    #[test]
    fn candidate_path_names_the_certificate_at_the_error_depth() {
        let p = pki();
        let chain = [p.leaf.clone(), p.inter.clone()];
        let e = verify_chain(&chain, &p.roots, None, NOW + 4000 * DAY).unwrap_err();
        let path = candidate_path(&chain, &p.roots);
        assert_eq!(path.len(), 3);
        // The root is the first to expire from the top: depth 2 is the root, not in `chain`.
        assert_eq!((e.openssl_code(), e.depth), (10, 2));
        assert_eq!(path[e.depth].der(), p.root.der());
        assert_eq!(candidate_path(&chain[..1], &p.roots).len(), 1);
        assert!(candidate_path(&[], &p.roots).is_empty());
    }

    #[test]
    fn empty_presentation_is_malformed() {
        let e = verify_chain(&[], &TrustStore::new(), None, NOW).unwrap_err();
        assert!(matches!(e.kind, CertErrorKind::Malformed(_)));
    }

    /// Replace every occurrence of `from` by `to` (same length) in `der`.
    fn replace_bytes(der: &mut [u8], from: &[u8], to: &[u8]) -> usize {
        assert_eq!(from.len(), to.len());
        let mut count = 0;
        let mut i = 0;
        while i + from.len() <= der.len() {
            if &der[i..i + from.len()] == from {
                der[i..i + from.len()].copy_from_slice(to);
                count += 1;
                i += from.len();
            } else {
                i += 1;
            }
        }
        count
    }

    #[test]
    fn forged_copy_of_the_anchor_is_not_the_anchor() {
        let p = pki();
        // What anyone can make without the root's key: the root's name, key and key id in a
        // certificate for "localhost" — signed by some other key.
        let made = CertificateBuilder::server(&["localhost"])
            .unwrap()
            .common_name("Test Root CA")
            .organization("Test")
            .validity(NOW - DAY, NOW + DAY)
            .self_signed(key(2))
            .unwrap();
        assert_eq!(made.subject(), p.root.subject());
        let mut der = made.der().to_vec();
        assert_eq!(
            replace_bytes(&mut der, made.spki_der(), p.root.spki_der()),
            1
        );
        let (made_id, root_id) = (
            made.subject_key_id().unwrap(),
            p.root.subject_key_id().unwrap(),
        );
        assert_eq!(replace_bytes(&mut der, made_id, root_id), 2);
        let forged = Certificate::from_der(&der).unwrap();
        assert!(forged.is_self_issued() && forged.spki_der() == p.root.spki_der());
        assert_eq!(forged.subject_key_id(), p.root.subject_key_id());

        // Like `openssl verify`: a self-signed certificate that is not the trusted one (18).
        let e = verify_chain(
            std::slice::from_ref(&forged),
            &p.roots,
            Some("localhost"),
            NOW,
        )
        .unwrap_err();
        assert_eq!((e.openssl_code(), e.depth), (18, 0));
    }

    /// A 1024-bit RSA key (made with `openssl genpkey`), for the weak-key refusals.
    const RSA_1024_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBAN5Z5mgFw6dYMjHh
gNIxpt25XpQwdeb4XsVF1cB7kX8nntziJ0AYYAY0+g8bDkMF9HeaMUf6hm/zsf24
y5PYyI0djvKvmnIr2rgpJOpqVkZOaK9yYL/+NU2SNoZ1YszyZoNOHydAbKa7CVwv
9eEtHQnjIBbe28ZQbOXcPjwls861AgMBAAECgYB7A73HWzkNwmuy0RHWOIYbMU00
K0Nvj4XPGn3RyguLD76CcdRJT7MAfBrEdLGFPywrZ3FQYzgxg9+7gZuPpmX9NG/V
mDNitph+xEcoOYSpcxy4bPYbDH+ZySRbxFt708/VhdJWA80fDyMFljGf4mDZwpuI
aGsKnZmKJhW5JcBtAQJBAPcKS1ZLsROTqy35WZZm1GwspcarrUU8FWUje6kyyAsl
fp2MbBmpEN+0KM7sj3zbkARdhaIqYdkw8pk2P/ARlyECQQDmal/Pv3KcPnvW/h7o
qKKd8a4Db/427a44+jYEWiesnJypoGpdNOaHQXRTwQwSZETvLHQl62wr2uXyyEbM
6kkVAkA/s0zX1K61cJdsRGbAbIWL2ztn7i7AsoyFxs+FQo3oqeNrNqFNQJYUSP1Y
1hDtziPlrEPgG/OdMIztytpTygVhAkEAu94BrsafMQu1N29NTk+o/3S9eCoJMUoL
4oMIJfZIIPI0vg2Ai+yFBcT1jxB4wkok9ondTcmtEfjRwmlPaOahnQJAHYMSBK0f
ZxUkWmg/wdGYo/X0mVt1+/7X5CWfLtZAjpTIWyXHj7HhRZ2BJtc2Z4md6M8sM2jB
OIm0y3TlOkOCNg==
-----END PRIVATE KEY-----
";

    #[test]
    fn keys_under_2048_bits_are_refused() {
        let p = pki();
        let weak = crate::pki::keys::private_key_from_pem(RSA_1024_PEM).unwrap();
        assert_eq!(weak.public_key().bits(), 1024);
        // A 1024-bit leaf: 66, before the path is even looked at (as OpenSSL does).
        let leaf = CertificateBuilder::server(&["localhost"])
            .unwrap()
            .validity(NOW - DAY, NOW + DAY)
            .sign(weak.public_key(), &p.inter, key(1))
            .unwrap();
        let e = verify_chain(&[leaf.clone(), p.inter.clone()], &p.roots, None, NOW).unwrap_err();
        assert_eq!((e.openssl_code(), e.depth), (66, 0));
        assert_eq!(e.kind, CertErrorKind::KeyTooSmall { bits: 1024 });
        assert!(
            e.to_string().starts_with("EE certificate key too weak"),
            "{e}"
        );
        assert_eq!(err(&[leaf], &TrustStore::new(), None, NOW), (66, 0));

        // A 1024-bit intermediate: 67 at its depth; a 1024-bit root too.
        let inter = CertificateBuilder::intermediate_ca("Weak Intermediate", None)
            .validity(NOW - DAY, NOW + DAY)
            .sign(weak.public_key(), &p.root, key(0))
            .unwrap();
        let signed_by_weak = |issuer: &Certificate| {
            CertificateBuilder::server(&["localhost"])
                .unwrap()
                .validity(NOW - DAY, NOW + DAY)
                .sign(key(2).public_key(), issuer, &weak)
                .unwrap()
        };
        let leaf = signed_by_weak(&inter);
        let e = verify_chain(&[leaf, inter], &p.roots, None, NOW).unwrap_err();
        assert_eq!((e.openssl_code(), e.depth), (67, 1));
        assert!(
            e.to_string().starts_with("CA certificate key too weak"),
            "{e}"
        );

        let weak_root = CertificateBuilder::root_ca("Weak Root")
            .validity(NOW - DAY, NOW + DAY)
            .self_signed(&weak)
            .unwrap();
        let leaf = signed_by_weak(&weak_root);
        let mut roots = TrustStore::new();
        roots.add(weak_root);
        assert_eq!(err(&[leaf], &roots, None, NOW), (67, 1));
    }

    #[test]
    fn server_config_refuses_a_key_under_2048_bits() {
        let weak = crate::pki::keys::private_key_from_pem(RSA_1024_PEM).unwrap();
        let cert = CertificateBuilder::server(&["localhost"])
            .unwrap()
            .self_signed(&weak)
            .unwrap();
        let Err(e) = crate::ServerConfig::new(vec![cert.der().to_vec()], weak) else {
            panic!("a 1024-bit server key was accepted");
        };
        let message = e.to_string();
        assert!(
            message.contains("the server key is RSA 1024 bits; at least 2048 are required"),
            "{message}"
        );
        assert!(!message.contains('\n'), "{message}");
        // A 2048-bit key is fine.
        let cert = CertificateBuilder::server(&["localhost"])
            .unwrap()
            .self_signed(key(2))
            .unwrap();
        assert!(crate::ServerConfig::new(vec![cert.der().to_vec()], key(2).clone()).is_ok());
    }

    #[test]
    fn each_extension_problem_has_its_reason() {
        let p = pki();
        // Wrong purpose: a client-only leaf (EKU clientAuth) is not a TLS server certificate.
        let client_only = CertificateBuilder::server(&["localhost"])
            .unwrap()
            .extended_key_usage(&[crate::pki::x509::ID_KP_CLIENT_AUTH])
            .validity(NOW - DAY, NOW + DAY)
            .sign(key(2).public_key(), &p.inter, key(1))
            .unwrap();
        assert!(!client_only.allows_server_auth());
        let e = verify_chain(&[client_only, p.inter.clone()], &p.roots, None, NOW).unwrap_err();
        assert_eq!((e.openssl_code(), e.depth), (26, 0));
        assert_eq!(e.to_string(), "unsupported certificate purpose");
        // ... and an intermediate restricted to clientAuth cannot vouch for a server.
        let client_ca = CertificateBuilder::intermediate_ca("Client CA", None)
            .extended_key_usage(&[crate::pki::x509::ID_KP_CLIENT_AUTH])
            .validity(NOW - DAY, NOW + DAY)
            .sign(key(1).public_key(), &p.root, key(0))
            .unwrap();
        let leaf = server(&["localhost"], &client_ca, 1, NOW - DAY, NOW + DAY);
        assert_eq!(err(&[leaf, client_ca], &p.roots, None, NOW), (26, 1));

        // An unknown critical extension (here an arbitrary private OID) must be refused.
        let oid = const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.55555.1");
        let strange = CertificateBuilder::server(&["localhost"])
            .unwrap()
            .extension(oid, true, &[0x05, 0x00])
            .validity(NOW - DAY, NOW + DAY)
            .sign(key(2).public_key(), &p.inter, key(1))
            .unwrap();
        let e = verify_chain(&[strange, p.inter.clone()], &p.roots, None, NOW).unwrap_err();
        assert_eq!((e.openssl_code(), e.depth), (34, 0));
        assert_eq!(
            e.kind,
            CertErrorKind::UnhandledCriticalExtension("1.3.6.1.4.1.55555.1".into())
        );
        // The same extension, not critical, is ignored.
        let tolerated = CertificateBuilder::server(&["localhost"])
            .unwrap()
            .extension(oid, false, &[0x05, 0x00])
            .validity(NOW - DAY, NOW + DAY)
            .sign(key(2).public_key(), &p.inter, key(1))
            .unwrap();
        verify_chain(&[tolerated, p.inter.clone()], &p.roots, None, NOW).unwrap();
    }

    #[test]
    fn chain_longer_than_the_limit_is_refused() {
        let p = pki();
        // root → CA 1 → ... → CA n → leaf: with n + 2 = MAX_PATH_LEN it verifies, one more
        // CA and it is too long (22).
        let make = |cas: usize| {
            let mut issued = vec![p.root.clone()];
            for i in 1..=cas {
                let ca = CertificateBuilder::intermediate_ca(&format!("CA {i}"), None)
                    .validity(NOW - DAY, NOW + DAY)
                    .sign(
                        key(1).public_key(),
                        issued.last().unwrap(),
                        key(if i == 1 { 0 } else { 1 }),
                    )
                    .unwrap();
                issued.push(ca);
            }
            let leaf = server(
                &["localhost"],
                issued.last().unwrap(),
                if cas == 0 { 0 } else { 1 },
                NOW - DAY,
                NOW + DAY,
            );
            let mut presented = vec![leaf];
            presented.extend(issued.into_iter().skip(1).rev());
            presented
        };
        let fits = make(MAX_PATH_LEN - 2);
        assert_eq!(
            verify_chain(&fits, &p.roots, None, NOW).unwrap().len(),
            MAX_PATH_LEN
        );
        let long = make(MAX_PATH_LEN - 1);
        let e = verify_chain(&long, &p.roots, None, NOW).unwrap_err();
        assert_eq!(e.openssl_code(), 22);
        assert_eq!(e.kind, CertErrorKind::ChainTooLong);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn mutated_chains_never_panic(pos in 0usize..4000, byte in any::<u8>(), which in 0usize..2) {
            let p = pki();
            let mut der = if which == 0 { p.leaf.der().to_vec() } else { p.inter.der().to_vec() };
            let pos = pos % der.len();
            der[pos] = byte;
            if let Ok(cert) = Certificate::from_der(&der) {
                let chain = if which == 0 { [cert, p.inter.clone()] } else { [p.leaf.clone(), cert] };
                let result = verify_chain(&chain, &p.roots, Some("localhost"), NOW);
                // Any change to the bytes must be caught unless it was a no-op.
                if der != (if which == 0 { p.leaf.der() } else { p.inter.der() }) {
                    prop_assert!(result.is_err());
                }
            }
        }

        #[test]
        fn random_bytes_into_parser(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = Certificate::from_der(&data);
        }
    }
}
