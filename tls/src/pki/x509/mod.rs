//! X.509 v3 certificates (RFC 5280 §4.1): read one, ask it questions, check its signature, and
//! make new ones (root CA, intermediate CA, server leaf) signed with our own RSA.
//!
//! Reading uses the `x509-cert` crate for the field types. The bytes that get signed — the
//! TBSCertificate, and the issuer/subject names compared while building a path — are sliced from
//! the input as received, never re-encoded: a re-encoding matches only canonical DER, and a
//! signature covers exactly the bytes the issuer saw. Writing is a small hand-made DER encoder
//! (`der_write.rs`), so each field of a new certificate is visible in one place.
//!
//! Here: the parsed certificate and the questions it answers. `parse.rs` reads DER into it,
//! `build.rs` makes new certificates, `names.rs` holds OIDs and how OpenSSL names and shows
//! them, `der_write.rs` the DER encoder.

mod build;
mod der_write;
mod names;
mod parse;

pub use build::{
    BuildError, CertificateBuilder, Profile, INTERMEDIATE_CA_DAYS, ROOT_CA_DAYS, SERVER_DAYS,
};
pub use names::hex_colon;
pub use names::{
    ID_CE_AUTHORITY_KEY_ID, ID_CE_BASIC_CONSTRAINTS, ID_CE_NAME_CONSTRAINTS,
    ID_CE_SUBJECT_ALT_NAME, ID_CE_SUBJECT_KEY_ID,
};

use super::keys;
use super::{CertError, CertErrorKind};
use crate::crypto::rsa::{HashAlg, RsaPublicKey};
use const_oid::ObjectIdentifier;
use names::{oid_name, RSA_ENCRYPTION};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::ops::Range;

/// A certificate larger than this is refused before parsing: real ones are a few KiB.
pub const MAX_CERTIFICATE_LEN: usize = 64 * 1024;

/// A parsed certificate that owns its DER bytes.
#[derive(Clone, Debug)]
pub struct Certificate {
    der: Vec<u8>,
    tbs: Range<usize>,
    version: u8,
    serial: Vec<u8>,
    /// The algorithm named outside the TBSCertificate (the one that signed it).
    signature_algorithm: ObjectIdentifier,
    /// Whether the TBSCertificate's own copy of it is the same, parameters included (RFC 5280
    /// §4.1.1.2: they MUST match; the outer one is not signed, so it must not differ at all).
    algorithms_match: bool,
    signature: Vec<u8>,
    issuer: DistinguishedName,
    subject: DistinguishedName,
    not_before: i64,
    not_after: i64,
    spki: Vec<u8>,
    key_algorithm: ObjectIdentifier,
    key_parameters: Option<ObjectIdentifier>,
    ext: ParsedExtensions,
}

/// A Name (RFC 5280 §4.1.2.4) with its raw DER, for comparing, and its text for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistinguishedName {
    der: Vec<u8>,
    /// RDNs in DER order; each holds one or more (short name, value) pairs.
    rdns: Vec<Vec<(String, String)>>,
}

/// keyUsage bits (RFC 5280 §4.2.1.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyUsage {
    pub digital_signature: bool,
    pub content_commitment: bool,
    pub key_encipherment: bool,
    pub data_encipherment: bool,
    pub key_agreement: bool,
    pub key_cert_sign: bool,
    pub crl_sign: bool,
    pub encipher_only: bool,
    pub decipher_only: bool,
}

/// One extension as `openssl x509 -text` would show it: a name, the critical flag, and lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtensionInfo {
    pub oid: String,
    pub name: String,
    pub critical: bool,
    pub text: Vec<String>,
}

/// id-kp-serverAuth (RFC 5280 §4.2.1.12).
pub const ID_KP_SERVER_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");
/// id-kp-clientAuth.
pub const ID_KP_CLIENT_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");

impl Certificate {
    /// The whole certificate, as received.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The signed part (TBSCertificate), sliced from the received bytes.
    pub fn tbs_der(&self) -> &[u8] {
        slice(&self.der, &self.tbs)
    }

    /// The signature value (the BIT STRING contents).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// 1, 2 or 3.
    pub fn version(&self) -> u8 {
        self.version
    }

    pub fn subject(&self) -> &DistinguishedName {
        &self.subject
    }

    pub fn issuer(&self) -> &DistinguishedName {
        &self.issuer
    }

    /// The subject's first commonName, if any.
    pub fn common_name(&self) -> Option<&str> {
        self.subject.common_name()
    }

    /// Serial number bytes (big-endian two's complement, as encoded).
    pub fn serial(&self) -> &[u8] {
        &self.serial
    }

    /// Serial in lowercase colon-separated hex, like `openssl x509 -text`.
    pub fn serial_hex(&self) -> String {
        hex_colon(&self.serial, false)
    }

    /// Start of the validity period, in Unix seconds.
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// End of the validity period (inclusive), in Unix seconds.
    pub fn not_after(&self) -> i64 {
        self.not_after
    }

    pub fn not_before_time(&self) -> time::OffsetDateTime {
        to_datetime(self.not_before)
    }

    pub fn not_after_time(&self) -> time::OffsetDateTime {
        to_datetime(self.not_after)
    }

    /// DNS names in subjectAltName, as written in the certificate.
    pub fn dns_names(&self) -> &[String] {
        &self.ext.dns_names
    }

    /// IP addresses in subjectAltName.
    pub fn ip_addresses(&self) -> &[IpAddr] {
        &self.ext.ip_addresses
    }

    /// Whether the certificate has a subjectAltName extension at all.
    pub fn has_subject_alt_name(&self) -> bool {
        self.ext.has_san
    }

    /// The SubjectPublicKeyInfo DER, as received.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The RSA key in the certificate; other key types are `UnsupportedAlgorithm`.
    pub fn public_key(&self) -> Result<RsaPublicKey, CertError> {
        if self.key_algorithm != RSA_ENCRYPTION {
            return Err(CertError::new(
                CertErrorKind::UnsupportedAlgorithm(format!(
                    "{} public key",
                    self.public_key_algorithm_name()
                )),
                0,
            ));
        }
        keys::public_key_from_spki_der(&self.spki).map_err(|e| malformed(e.to_string()))
    }

    /// `rsaEncryption`, `id-ecPublicKey`, `ED25519`, or the dotted OID.
    pub fn public_key_algorithm_name(&self) -> String {
        oid_name(&self.key_algorithm)
    }

    /// Key size in bits: the RSA modulus length, or the curve size for EC keys.
    pub fn key_bits(&self) -> Option<usize> {
        if self.key_algorithm == RSA_ENCRYPTION {
            return self.public_key().ok().map(|k| k.bits());
        }
        match self.key_parameters.map(|o| o.to_string()).as_deref() {
            Some("1.2.840.10045.3.1.7") => Some(256),
            Some("1.3.132.0.34") => Some(384),
            Some("1.3.132.0.35") => Some(521),
            _ if self.key_algorithm == ObjectIdentifier::new_unwrap("1.3.101.112") => Some(256),
            _ => None,
        }
    }

    /// basicConstraints cA (false when the extension is absent).
    pub fn is_ca(&self) -> bool {
        self.ext.basic_constraints.is_some_and(|(ca, _)| ca)
    }

    /// Whether basicConstraints is present at all.
    pub fn has_basic_constraints(&self) -> bool {
        self.ext.basic_constraints.is_some()
    }

    /// pathLenConstraint: how many CAs may follow this one below it.
    pub fn path_len(&self) -> Option<u8> {
        self.ext.basic_constraints.and_then(|(_, len)| len)
    }

    pub fn key_usage(&self) -> Option<KeyUsage> {
        self.ext.key_usage
    }

    /// The extendedKeyUsage purposes, if the extension is present.
    pub fn extended_key_usage(&self) -> Option<&[ObjectIdentifier]> {
        self.ext.ext_key_usage.as_deref()
    }

    /// False only when extendedKeyUsage is present and lacks serverAuth.
    pub fn allows_server_auth(&self) -> bool {
        self.ext
            .ext_key_usage
            .as_ref()
            .is_none_or(|ekus| ekus.contains(&ID_KP_SERVER_AUTH))
    }

    /// False only when extendedKeyUsage is present and lacks clientAuth.
    pub fn allows_client_auth(&self) -> bool {
        self.ext
            .ext_key_usage
            .as_ref()
            .is_none_or(|ekus| ekus.contains(&ID_KP_CLIENT_AUTH))
    }

    pub fn subject_key_id(&self) -> Option<&[u8]> {
        self.ext.subject_key_id.as_deref()
    }

    pub fn authority_key_id(&self) -> Option<&[u8]> {
        self.ext.authority_key_id.as_deref()
    }

    /// Critical extensions this code does not understand (RFC 5280 §4.2: such a certificate
    /// MUST be rejected).
    pub fn unhandled_critical_extensions(&self) -> &[String] {
        &self.ext.unhandled_critical
    }

    /// Whether the extension `oid` is present and marked critical (`None`: absent).
    pub fn extension_critical(&self, oid: &ObjectIdentifier) -> Option<bool> {
        let oid = oid.to_string();
        self.ext
            .info
            .iter()
            .find(|e| e.oid == oid)
            .map(|e| e.critical)
    }

    /// authorityKeyIdentifier names the issuer or its serial, not only its key.
    pub fn aki_names_issuer_or_serial(&self) -> bool {
        self.ext.aki_names_issuer_or_serial
    }

    /// A known extension that is present but does not follow its syntax (e.g. an empty
    /// authorityInfoAccess).
    pub fn malformed_extension(&self) -> Option<&str> {
        self.ext.malformed_extension.as_deref()
    }

    pub fn name_constraints(&self) -> Option<&NameConstraints> {
        self.ext.name_constraints.as_ref()
    }

    /// Every extension, in order, rendered as text.
    pub fn extensions(&self) -> &[ExtensionInfo] {
        &self.ext.info
    }

    /// `sha256WithRSAEncryption`, `ecdsa-with-SHA384`, ... as OpenSSL names them.
    pub fn signature_algorithm_name(&self) -> String {
        oid_name(&self.signature_algorithm)
    }

    /// SHA-256 over the DER: what browsers and `openssl x509 -fingerprint -sha256` show.
    pub fn sha256_fingerprint(&self) -> [u8; 32] {
        Sha256::digest(&self.der).into()
    }

    /// Issuer and subject are the same name (a root, or a self-signed leaf).
    pub fn is_self_issued(&self) -> bool {
        self.issuer.der == self.subject.der
    }

    /// Check this certificate's signature with its issuer's key. sha256/384/512WithRSAEncryption
    /// are verified; SHA-1 and MD5 are refused by name, as is anything not RSA.
    pub fn verify_signature(&self, issuer_public_key: &RsaPublicKey) -> Result<(), CertError> {
        if !self.algorithms_match {
            return Err(malformed(
                "signature algorithm differs inside and outside the signed part".into(),
            ));
        }
        let hash = self.signature_hash()?;
        issuer_public_key
            .verify_pkcs1v15(hash, self.tbs_der(), &self.signature)
            .map_err(|_| CertError::new(CertErrorKind::BadSignature, 0))
    }

    /// The digest of our RSA signature scheme, or why we refuse this algorithm.
    pub fn signature_hash(&self) -> Result<HashAlg, CertError> {
        let id = self.signature_algorithm.to_string();
        match id.as_str() {
            "1.2.840.113549.1.1.11" => Ok(HashAlg::Sha256),
            "1.2.840.113549.1.1.12" => Ok(HashAlg::Sha384),
            "1.2.840.113549.1.1.13" => Ok(HashAlg::Sha512),
            _ => Err(CertError::new(
                CertErrorKind::UnsupportedAlgorithm(self.signature_algorithm_name()),
                0,
            )),
        }
    }
}

impl DistinguishedName {
    /// The Name's DER, as received; equal names compare equal here.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// No RDN at all (an empty SEQUENCE).
    pub fn is_empty(&self) -> bool {
        self.rdns.is_empty()
    }

    /// Every CN value, in DER order.
    pub fn common_names(&self) -> impl Iterator<Item = &str> {
        self.rdns
            .iter()
            .flatten()
            .filter(|(k, _)| k == "CN")
            .map(|(_, v)| v.as_str())
    }

    /// The first CN value.
    pub fn common_name(&self) -> Option<&str> {
        self.rdns
            .iter()
            .flatten()
            .find(|(k, _)| k == "CN")
            .map(|(_, v)| v.as_str())
    }

    /// All (short name, value) pairs in DER order.
    pub fn attributes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.rdns
            .iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// OpenSSL's one-line form: `C = US, O = Example, CN = localhost`.
    pub fn to_openssl_string(&self) -> String {
        self.join(" = ", ", ")
    }

    /// curl's form: `C=US; O=Example; CN=localhost`.
    pub fn to_curl_string(&self) -> String {
        self.join("=", "; ")
    }

    fn join(&self, eq: &str, sep: &str) -> String {
        self.rdns
            .iter()
            .map(|rdn| {
                rdn.iter()
                    .map(|(k, v)| format!("{k}{eq}{v}"))
                    .collect::<Vec<_>>()
                    .join(" + ")
            })
            .collect::<Vec<_>>()
            .join(sep)
    }
}

impl std::fmt::Display for DistinguishedName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_openssl_string())
    }
}

impl KeyUsage {
    /// OpenSSL's words: `Digital Signature, Key Encipherment`.
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.digital_signature, "Digital Signature"),
            (self.content_commitment, "Non Repudiation"),
            (self.key_encipherment, "Key Encipherment"),
            (self.data_encipherment, "Data Encipherment"),
            (self.key_agreement, "Key Agreement"),
            (self.key_cert_sign, "Certificate Sign"),
            (self.crl_sign, "CRL Sign"),
            (self.encipher_only, "Encipher Only"),
            (self.decipher_only, "Decipher Only"),
        ]
        .into_iter()
        .filter(|(set, _)| *set)
        .map(|(_, name)| name)
        .collect()
    }
}

/// The extensions we act on, decoded once.
#[derive(Clone, Debug, Default)]
struct ParsedExtensions {
    basic_constraints: Option<(bool, Option<u8>)>,
    key_usage: Option<KeyUsage>,
    ext_key_usage: Option<Vec<ObjectIdentifier>>,
    has_san: bool,
    dns_names: Vec<String>,
    ip_addresses: Vec<IpAddr>,
    subject_key_id: Option<Vec<u8>>,
    authority_key_id: Option<Vec<u8>>,
    unhandled_critical: Vec<String>,
    /// authorityKeyIdentifier carries authorityCertIssuer or authorityCertSerialNumber.
    aki_names_issuer_or_serial: bool,
    /// A known extension whose content breaks its own syntax in a way we keep to report.
    malformed_extension: Option<String>,
    name_constraints: Option<NameConstraints>,
    info: Vec<ExtensionInfo>,
}

/// nameConstraints (RFC 5280 §4.2.1.10): the subtrees a CA allows and forbids below it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameConstraints {
    pub permitted: Vec<Subtree>,
    pub excluded: Vec<Subtree>,
}

/// One GeneralSubtree base, for the name types we enforce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subtree {
    /// A DNS name: itself and every name below it.
    Dns(String),
    /// An address and mask of the same length (4 or 16 bytes).
    Ip { addr: Vec<u8>, mask: Vec<u8> },
    /// A name type (or a minimum/maximum) we do not implement: the path is refused.
    Unsupported(String),
}

impl NameConstraints {
    fn describe(&self) -> String {
        let show = |trees: &[Subtree]| {
            trees
                .iter()
                .map(|t| match t {
                    Subtree::Dns(d) => format!("DNS:{d}"),
                    Subtree::Ip { addr, mask } => {
                        format!("IP:{}/{}", hex_colon(addr, true), hex_colon(mask, true))
                    }
                    Subtree::Unsupported(what) => format!("<{what}>"),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "Permitted: {}; Excluded: {}",
            show(&self.permitted),
            show(&self.excluded)
        )
    }
}

fn malformed(what: String) -> CertError {
    CertError::new(CertErrorKind::Malformed(what), 0)
}

fn slice<'a>(der: &'a [u8], range: &Range<usize>) -> &'a [u8] {
    der.get(range.clone()).unwrap_or(&[])
}

fn to_datetime(unix: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}
