//! X.509 v3 certificates (RFC 5280 §4.1): read one, ask it questions, check its signature, and
//! make new ones (root CA, intermediate CA, server leaf) signed with our own RSA.
//!
//! Reading uses the `x509-cert` crate for the field types. The bytes that get signed — the
//! TBSCertificate, and the issuer/subject names compared while building a path — are sliced from
//! the input as received, never re-encoded: a re-encoding matches only canonical DER, and a
//! signature covers exactly the bytes the issuer saw. Writing is a small hand-made DER encoder
//! (`der_write` below), so each field of a new certificate is visible in one place.

use super::keys;
use super::{CertError, CertErrorKind};
use crate::crypto::rsa::{HashAlg, RsaError, RsaPrivateKey, RsaPublicKey};
use const_oid::ObjectIdentifier;
use der::{Decode, Tag, Tagged};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::ops::Range;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage as PkixKeyUsage,
    SubjectAltName, SubjectKeyIdentifier,
};

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
    /// Parse one DER certificate. Anything that is not exactly one well-formed certificate
    /// (trailing bytes, bad lengths, a duplicated or broken known extension) is `Malformed`.
    pub fn from_der(der: &[u8]) -> Result<Self, CertError> {
        if der.len() > MAX_CERTIFICATE_LEN {
            return Err(malformed(format!(
                "{} bytes is larger than the {MAX_CERTIFICATE_LEN}-byte limit",
                der.len()
            )));
        }
        let parsed = x509_cert::Certificate::from_der(der).map_err(|e| malformed(e.to_string()))?;
        let raw = raw_fields(der).ok_or_else(|| malformed("bad DER structure".into()))?;
        let tbs = parsed.tbs_certificate();

        let validity = tbs.validity();
        let not_before = unix_seconds(validity.not_before)?;
        let not_after = unix_seconds(validity.not_after)?;
        let spki = tbs.subject_public_key_info();
        let key_parameters = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        let ext = ParsedExtensions::parse(tbs.extensions().map(|e| e.as_slice()).unwrap_or(&[]))?;

        let issuer = DistinguishedName::parse(slice(der, &raw.issuer), tbs.issuer());
        let subject = DistinguishedName::parse(slice(der, &raw.subject), tbs.subject());
        Ok(Self {
            der: der.to_vec(),
            tbs: raw.tbs.clone(),
            version: tbs.version() as u8 + 1,
            serial: tbs.serial_number().as_bytes().to_vec(),
            signature_algorithm: parsed.signature_algorithm().oid,
            algorithms_match: parsed.signature_algorithm() == tbs.signature(),
            signature: parsed.signature().raw_bytes().to_vec(),
            issuer,
            subject,
            not_before,
            not_after,
            spki: slice(der, &raw.spki).to_vec(),
            key_algorithm: spki.algorithm.oid,
            key_parameters,
            ext,
        })
    }

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

    fn parse(der: &[u8], name: &x509_cert::name::Name) -> Self {
        let rdns = name
            .iter_rdn()
            .map(|rdn| {
                rdn.iter()
                    .map(|atv| (attribute_short_name(&atv.oid), attribute_text(&atv.value)))
                    .collect()
            })
            .collect();
        Self {
            der: der.to_vec(),
            rdns,
        }
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

// ---------------------------------------------------------------------------------------------
// Building certificates
// ---------------------------------------------------------------------------------------------

/// Which kind of certificate a [`CertificateBuilder`] makes; this fixes the extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// basicConstraints CA:TRUE (critical), keyUsage keyCertSign+cRLSign (critical).
    RootCa,
    /// As a root, plus pathLenConstraint when given.
    IntermediateCa { path_len: Option<u8> },
    /// subjectAltName, EKU serverAuth, keyUsage digitalSignature+keyEncipherment, CA:FALSE.
    Server,
}

/// Why a certificate could not be made.
#[derive(Debug)]
pub enum BuildError {
    /// A host name or IP that cannot go into subjectAltName, or an empty name list.
    InvalidName(String),
    /// not_after is not after not_before, or a date out of range.
    InvalidValidity(String),
    /// The issuer certificate is not a CA (no CA:TRUE, or keyUsage without keyCertSign).
    IssuerNotCa,
    /// The issuer's private key does not belong to the issuer certificate.
    KeyMismatch,
    Rsa(RsaError),
    /// We produced something we cannot read back (a bug).
    Encoding(CertError),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidName(n) => write!(f, "invalid name: {n}"),
            Self::InvalidValidity(v) => write!(f, "invalid validity: {v}"),
            Self::IssuerNotCa => f.write_str("the issuer certificate is not a CA"),
            Self::KeyMismatch => f.write_str("the CA key does not match the CA certificate"),
            Self::Rsa(e) => write!(f, "RSA: {e:?}"),
            Self::Encoding(e) => write!(f, "encoding: {e}"),
        }
    }
}

impl std::error::Error for BuildError {}

/// Makes a certificate of one [`Profile`]: v3, a random positive 16-byte serial, SKI/AKI,
/// sha256WithRSAEncryption.
#[derive(Clone, Debug)]
pub struct CertificateBuilder {
    profile: Profile,
    subject: Vec<(ObjectIdentifier, String)>,
    dns_names: Vec<String>,
    ip_addresses: Vec<IpAddr>,
    not_before: i64,
    not_after: i64,
    serial: Option<Vec<u8>>,
    /// Replaces the profile's extendedKeyUsage (servers: serverAuth; CAs: none).
    ext_key_usage: Option<Vec<ObjectIdentifier>>,
    /// More extensions, after the profile's: (OID, critical, DER value).
    extra_extensions: Vec<(ObjectIdentifier, bool, Vec<u8>)>,
}

/// Default lifetimes, in days.
pub const ROOT_CA_DAYS: i64 = 3650;
pub const INTERMEDIATE_CA_DAYS: i64 = 1825;
/// Under the 398-day limit browsers put on public server certificates.
pub const SERVER_DAYS: i64 = 397;

impl CertificateBuilder {
    /// A root CA named `CN=<common_name>`, valid from now for [`ROOT_CA_DAYS`].
    pub fn root_ca(common_name: &str) -> Self {
        Self::new(Profile::RootCa, common_name, ROOT_CA_DAYS)
    }

    /// An intermediate CA; `path_len` limits how many CAs may follow it.
    pub fn intermediate_ca(common_name: &str, path_len: Option<u8>) -> Self {
        Self::new(
            Profile::IntermediateCa { path_len },
            common_name,
            INTERMEDIATE_CA_DAYS,
        )
    }

    /// A server certificate for host names and IP literals (each classified here); the CN is
    /// the first name and every name goes into subjectAltName.
    pub fn server<S: AsRef<str>>(names: &[S]) -> Result<Self, BuildError> {
        let first = names
            .first()
            .ok_or_else(|| BuildError::InvalidName("no host name given".into()))?;
        let mut builder = Self::new(Profile::Server, first.as_ref(), SERVER_DAYS);
        for name in names {
            match classify_name(name.as_ref())? {
                SanEntry::Ip(ip) => builder.ip_addresses.push(ip),
                SanEntry::Dns(dns) => builder.dns_names.push(dns),
            }
        }
        Ok(builder)
    }

    /// Replace the CN (a server's defaults to its first name; the names stay in SAN only).
    pub fn common_name(mut self, common_name: &str) -> Self {
        for (oid, value) in &mut self.subject {
            if *oid == ID_AT_CN {
                *value = common_name.to_string();
            }
        }
        self
    }

    /// Set extendedKeyUsage to these purposes instead of the profile's (e.g. a client-only
    /// certificate, or a CA restricted to some purposes).
    pub fn extended_key_usage(mut self, purposes: &[ObjectIdentifier]) -> Self {
        self.ext_key_usage = Some(purposes.to_vec());
        self
    }

    /// Add one more extension with a DER-encoded value: for test certificates that carry an
    /// extension this builder does not model.
    pub fn extension(mut self, oid: ObjectIdentifier, critical: bool, value_der: &[u8]) -> Self {
        self.extra_extensions
            .push((oid, critical, value_der.to_vec()));
        self
    }

    /// Add an organizationName (O) after the CN.
    pub fn organization(mut self, organization: &str) -> Self {
        self.subject.push((ID_AT_O, organization.to_string()));
        self
    }

    /// Add an organizationalUnitName (OU).
    pub fn organizational_unit(mut self, unit: &str) -> Self {
        self.subject.push((ID_AT_OU, unit.to_string()));
        self
    }

    /// Set the validity period (Unix seconds). Past dates are allowed, for expired test certs.
    pub fn validity(mut self, not_before: i64, not_after: i64) -> Self {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }

    /// Use this serial instead of a random one (big-endian, positive).
    pub fn serial(mut self, serial: &[u8]) -> Self {
        self.serial = Some(serial.to_vec());
        self
    }

    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// Sign with the subject's own key: a root CA, or a self-signed server certificate.
    pub fn self_signed(&self, key: &RsaPrivateKey) -> Result<Certificate, BuildError> {
        let subject = self.encode_subject();
        let spki = keys::public_key_to_spki_der(key.public_key());
        let ski = key_identifier(&spki)?;
        // A self-signed certificate is its own authority: AKI = SKI.
        self.build(&subject, &spki, &ski, &subject, &ski, key)
    }

    /// Sign `subject_key` with a CA: `issuer` and its private key.
    pub fn sign(
        &self,
        subject_key: &RsaPublicKey,
        issuer: &Certificate,
        issuer_key: &RsaPrivateKey,
    ) -> Result<Certificate, BuildError> {
        if !issuer.is_ca() || issuer.key_usage().is_some_and(|ku| !ku.key_cert_sign) {
            return Err(BuildError::IssuerNotCa);
        }
        match issuer.public_key() {
            Ok(k) if &k == issuer_key.public_key() => {}
            _ => return Err(BuildError::KeyMismatch),
        }
        self.sign_unchecked(subject_key, issuer, issuer_key)
    }

    /// [`Self::sign`] without its checks on the issuer: tests make chains a CA would never
    /// issue (a leaf signing another certificate) to see verification refuse them.
    #[cfg(test)]
    pub(crate) fn sign_with_any_issuer(
        &self,
        subject_key: &RsaPublicKey,
        issuer: &Certificate,
        issuer_key: &RsaPrivateKey,
    ) -> Result<Certificate, BuildError> {
        self.sign_unchecked(subject_key, issuer, issuer_key)
    }

    fn sign_unchecked(
        &self,
        subject_key: &RsaPublicKey,
        issuer: &Certificate,
        issuer_key: &RsaPrivateKey,
    ) -> Result<Certificate, BuildError> {
        let spki = keys::public_key_to_spki_der(subject_key);
        let ski = key_identifier(&spki)?;
        let aki = match issuer.subject_key_id() {
            Some(id) => id.to_vec(),
            None => key_identifier(issuer.spki_der())?,
        };
        let subject = self.encode_subject();
        self.build(
            &subject,
            &spki,
            &ski,
            issuer.subject().der(),
            &aki,
            issuer_key,
        )
    }

    fn new(profile: Profile, common_name: &str, days: i64) -> Self {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        Self {
            profile,
            subject: vec![(ID_AT_CN, common_name.to_string())],
            dns_names: Vec::new(),
            ip_addresses: Vec::new(),
            not_before: now,
            not_after: now.saturating_add(days.saturating_mul(86_400)),
            serial: None,
            ext_key_usage: None,
            extra_extensions: Vec::new(),
        }
    }

    fn encode_subject(&self) -> Vec<u8> {
        use der_write::*;
        sequence(
            self.subject
                .iter()
                .map(|(oid, value)| set(&sequence(&[oid_tlv(oid), utf8_string(value)].concat())))
                .collect::<Vec<_>>()
                .concat()
                .as_slice(),
        )
    }

    fn build(
        &self,
        subject: &[u8],
        spki: &[u8],
        ski: &[u8],
        issuer: &[u8],
        aki: &[u8],
        signer: &RsaPrivateKey,
    ) -> Result<Certificate, BuildError> {
        use der_write::*;
        if self.not_after <= self.not_before {
            return Err(BuildError::InvalidValidity(
                "not_after must be later than not_before".into(),
            ));
        }
        let serial = match &self.serial {
            Some(s) => s.clone(),
            None => random_serial(),
        };
        let algorithm = sequence(&[oid_tlv(&SHA256_WITH_RSA), NULL.to_vec()].concat());
        let validity = sequence(&[time(self.not_before)?, time(self.not_after)?].concat());
        let tbs = sequence(
            &[
                explicit(0, &integer(&[2])),
                integer(&serial),
                algorithm.clone(),
                issuer.to_vec(),
                validity,
                subject.to_vec(),
                spki.to_vec(),
                explicit(3, &sequence(&self.extensions(ski, aki).concat())),
            ]
            .concat(),
        );
        let signature = signer
            .sign_pkcs1v15(HashAlg::Sha256, &tbs)
            .map_err(BuildError::Rsa)?;
        let der = sequence(&[tbs, algorithm, bit_string(&signature)].concat());
        Certificate::from_der(&der).map_err(BuildError::Encoding)
    }

    /// The extensions of DESIGN.md's PKI rules, per profile.
    fn extensions(&self, ski: &[u8], aki: &[u8]) -> Vec<Vec<u8>> {
        use der_write::*;
        let mut exts = Vec::new();
        match self.profile {
            Profile::RootCa | Profile::IntermediateCa { .. } => {
                let path_len = match self.profile {
                    Profile::IntermediateCa {
                        path_len: Some(len),
                    } => integer(&[len]),
                    _ => Vec::new(),
                };
                let bc = sequence(&[BOOLEAN_TRUE.to_vec(), path_len].concat());
                exts.push(extension(&ID_CE_BASIC_CONSTRAINTS, true, &bc));
                // keyCertSign (bit 5) + cRLSign (bit 6).
                exts.push(extension(&ID_CE_KEY_USAGE, true, &named_bits(&[5, 6])));
            }
            Profile::Server => {
                exts.push(extension(&ID_CE_BASIC_CONSTRAINTS, true, &sequence(&[])));
                // digitalSignature (bit 0) + keyEncipherment (bit 2): RSA key transport needs the latter.
                exts.push(extension(&ID_CE_KEY_USAGE, true, &named_bits(&[0, 2])));
                if self.ext_key_usage.is_none() {
                    exts.push(extension(
                        &ID_CE_EXT_KEY_USAGE,
                        false,
                        &sequence(&oid_tlv(&ID_KP_SERVER_AUTH)),
                    ));
                }
                let mut names = Vec::new();
                for dns in &self.dns_names {
                    names.extend(tlv(0x82, dns.as_bytes()));
                }
                for ip in &self.ip_addresses {
                    let octets = match ip {
                        IpAddr::V4(v4) => v4.octets().to_vec(),
                        IpAddr::V6(v6) => v6.octets().to_vec(),
                    };
                    names.extend(tlv(0x87, &octets));
                }
                exts.push(extension(&ID_CE_SUBJECT_ALT_NAME, false, &sequence(&names)));
            }
        }
        if let Some(purposes) = &self.ext_key_usage {
            let list = purposes.iter().flat_map(oid_tlv).collect::<Vec<_>>();
            exts.push(extension(&ID_CE_EXT_KEY_USAGE, false, &sequence(&list)));
        }
        for (oid, critical, value) in &self.extra_extensions {
            exts.push(extension(oid, *critical, value));
        }
        exts.push(extension(&ID_CE_SUBJECT_KEY_ID, false, &octet_string(ski)));
        // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING }
        exts.push(extension(
            &ID_CE_AUTHORITY_KEY_ID,
            false,
            &sequence(&tlv(0x80, aki)),
        ));
        exts
    }
}

/// A host name or IP literal as it would go into subjectAltName.
enum SanEntry {
    Dns(String),
    Ip(IpAddr),
}

fn classify_name(name: &str) -> Result<SanEntry, BuildError> {
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(SanEntry::Ip(ip));
    }
    let dns = name.trim_end_matches('.').to_ascii_lowercase();
    let labels_ok = !dns.is_empty()
        && dns.len() <= 253
        && dns.split('.').enumerate().all(|(i, label)| {
            (i == 0 && label == "*")
                || (!label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        });
    if !labels_ok {
        return Err(BuildError::InvalidName(format!(
            "'{name}' is neither a DNS name nor an IP address"
        )));
    }
    Ok(SanEntry::Dns(dns))
}

/// RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING contents.
fn key_identifier(spki_der: &[u8]) -> Result<Vec<u8>, BuildError> {
    let spki = spki::SubjectPublicKeyInfoRef::from_der(spki_der)
        .map_err(|e| BuildError::Encoding(malformed(e.to_string())))?;
    Ok(Sha1::digest(spki.subject_public_key.raw_bytes()).to_vec())
}

/// 16 random bytes, top bit clear so the INTEGER is positive, first byte non-zero so it is
/// minimal DER.
fn random_serial() -> Vec<u8> {
    use rand::RngExt;
    let mut serial = [0u8; 16];
    rand::rng().fill(&mut serial);
    serial[0] &= 0x7f;
    if serial[0] == 0 {
        serial[0] = 1;
    }
    serial.to_vec()
}

// ---------------------------------------------------------------------------------------------
// Parsing helpers
// ---------------------------------------------------------------------------------------------

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const ID_AT_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const ID_AT_O: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
const ID_AT_OU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.11");
const ID_CE_SUBJECT_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
const ID_CE_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const ID_CE_SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const ID_CE_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const ID_CE_AUTHORITY_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
const ID_CE_EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");

fn malformed(what: String) -> CertError {
    CertError::new(CertErrorKind::Malformed(what), 0)
}

fn slice<'a>(der: &'a [u8], range: &Range<usize>) -> &'a [u8] {
    der.get(range.clone()).unwrap_or(&[])
}

fn unix_seconds(t: x509_cert::time::Time) -> Result<i64, CertError> {
    i64::try_from(t.to_unix_duration().as_secs()).map_err(|_| malformed("date out of range".into()))
}

fn to_datetime(unix: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// `aa:bb:cc` (lowercase, as openssl prints serials) or `AA:BB:CC`.
pub fn hex_colon(bytes: &[u8], upper: bool) -> String {
    bytes
        .iter()
        .map(|b| {
            if upper {
                format!("{b:02X}")
            } else {
                format!("{b:02x}")
            }
        })
        .collect::<Vec<_>>()
        .join(":")
}

/// Byte ranges of the parts of a certificate that must be used exactly as received.
struct RawFields {
    tbs: Range<usize>,
    issuer: Range<usize>,
    subject: Range<usize>,
    spki: Range<usize>,
}

/// Walk Certificate → TBSCertificate → fields with a minimal TLV reader. Only called after
/// x509-cert accepted the same bytes, but every step is still checked.
fn raw_fields(der: &[u8]) -> Option<RawFields> {
    let (outer, _) = der_read::element(der, 0)?;
    let (tbs, _) = der_read::element(der, outer.content.start)?;
    let mut pos = tbs.content.start;
    // version [0] EXPLICIT is optional.
    let first = der_read::element(der, pos)?;
    if first.1 == 0xA0 {
        pos = first.0.whole.end;
    }
    let serial = der_read::element(der, pos)?.0;
    let algorithm = der_read::element(der, serial.whole.end)?.0;
    let issuer = der_read::element(der, algorithm.whole.end)?.0;
    let validity = der_read::element(der, issuer.whole.end)?.0;
    let subject = der_read::element(der, validity.whole.end)?.0;
    let spki = der_read::element(der, subject.whole.end)?.0;
    Some(RawFields {
        tbs: tbs.whole,
        issuer: issuer.whole,
        subject: subject.whole,
        spki: spki.whole,
    })
}

/// Minimal DER TLV reading: enough to find where elements start and end.
mod der_read {
    use std::ops::Range;

    pub struct Element {
        /// Tag, length and content.
        pub whole: Range<usize>,
        pub content: Range<usize>,
    }

    /// The element starting at `pos`, with its tag byte. Single-byte tags only (all we need).
    pub fn element(der: &[u8], pos: usize) -> Option<(Element, u8)> {
        let tag = *der.get(pos)?;
        let first = *der.get(pos + 1)?;
        let (len, header) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 {
                return None;
            }
            let mut len = 0usize;
            for i in 0..count {
                len = (len << 8) | usize::from(*der.get(pos + 2 + i)?);
            }
            (len, 2 + count)
        };
        let start = pos.checked_add(header)?;
        let end = start.checked_add(len)?;
        if end > der.len() {
            return None;
        }
        Some((
            Element {
                whole: pos..end,
                content: start..end,
            },
            tag,
        ))
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
    info: Vec<ExtensionInfo>,
}

impl ParsedExtensions {
    fn parse(extensions: &[x509_cert::ext::Extension]) -> Result<Self, CertError> {
        let mut out = Self::default();
        let mut seen: Vec<ObjectIdentifier> = Vec::new();
        for ext in extensions {
            // RFC 5280 §4.2: a certificate MUST NOT include more than one instance of an extension.
            if seen.contains(&ext.extn_id) {
                return Err(malformed(format!("duplicate extension {}", ext.extn_id)));
            }
            seen.push(ext.extn_id);
            let value = ext.extn_value.as_bytes();
            let bad = |e: der::Error| malformed(format!("{}: {e}", oid_name(&ext.extn_id)));
            let text = match ext.extn_id {
                ID_CE_BASIC_CONSTRAINTS => {
                    let bc = BasicConstraints::from_der(value).map_err(bad)?;
                    out.basic_constraints = Some((bc.ca, bc.path_len_constraint));
                    let mut line = format!("CA:{}", if bc.ca { "TRUE" } else { "FALSE" });
                    if let Some(len) = bc.path_len_constraint {
                        line.push_str(&format!(", pathlen:{len}"));
                    }
                    vec![line]
                }
                ID_CE_KEY_USAGE => {
                    let ku = PkixKeyUsage::from_der(value).map_err(bad)?;
                    let usage = KeyUsage {
                        digital_signature: ku.digital_signature(),
                        content_commitment: ku.non_repudiation(),
                        key_encipherment: ku.key_encipherment(),
                        data_encipherment: ku.data_encipherment(),
                        key_agreement: ku.key_agreement(),
                        key_cert_sign: ku.key_cert_sign(),
                        crl_sign: ku.crl_sign(),
                        encipher_only: ku.encipher_only(),
                        decipher_only: ku.decipher_only(),
                    };
                    out.key_usage = Some(usage);
                    vec![usage.names().join(", ")]
                }
                ID_CE_EXT_KEY_USAGE => {
                    let eku = ExtendedKeyUsage::from_der(value).map_err(bad)?;
                    let names = eku.0.iter().map(eku_name).collect::<Vec<_>>().join(", ");
                    out.ext_key_usage = Some(eku.0);
                    vec![names]
                }
                ID_CE_SUBJECT_ALT_NAME => {
                    let san = SubjectAltName::from_der(value).map_err(bad)?;
                    out.has_san = true;
                    let mut shown = Vec::new();
                    for name in &san.0 {
                        match name {
                            GeneralName::DnsName(dns) => {
                                out.dns_names.push(dns.to_string());
                                shown.push(format!("DNS:{dns}"));
                            }
                            GeneralName::IpAddress(octets) => {
                                let ip = ip_from_octets(octets.as_bytes()).ok_or_else(|| {
                                    malformed("subjectAltName IP is not 4 or 16 bytes".into())
                                })?;
                                out.ip_addresses.push(ip);
                                shown.push(format!("IP Address:{ip}"));
                            }
                            GeneralName::Rfc822Name(email) => shown.push(format!("email:{email}")),
                            GeneralName::UniformResourceIdentifier(uri) => {
                                shown.push(format!("URI:{uri}"))
                            }
                            _ => shown.push("othername:<unsupported>".into()),
                        }
                    }
                    vec![shown.join(", ")]
                }
                ID_CE_SUBJECT_KEY_ID => {
                    let ski = SubjectKeyIdentifier::from_der(value).map_err(bad)?;
                    let id = ski.0.as_bytes().to_vec();
                    let line = hex_colon(&id, true);
                    out.subject_key_id = Some(id);
                    vec![line]
                }
                ID_CE_AUTHORITY_KEY_ID => {
                    let aki = AuthorityKeyIdentifier::from_der(value).map_err(bad)?;
                    let id = aki.key_identifier.map(|k| k.as_bytes().to_vec());
                    let line = id
                        .as_deref()
                        .map(|i| hex_colon(i, true))
                        .unwrap_or_default();
                    out.authority_key_id = id;
                    vec![line]
                }
                other => {
                    if ext.critical {
                        out.unhandled_critical.push(oid_name(&other));
                    }
                    vec![hex_colon(
                        value.get(..value.len().min(32)).unwrap_or(&[]),
                        true,
                    )]
                }
            };
            out.info.push(ExtensionInfo {
                oid: ext.extn_id.to_string(),
                name: extension_name(&ext.extn_id),
                critical: ext.critical,
                text,
            });
        }
        Ok(out)
    }
}

fn ip_from_octets(octets: &[u8]) -> Option<IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(octets) {
        return Some(IpAddr::from(v4));
    }
    <[u8; 16]>::try_from(octets).ok().map(IpAddr::from)
}

fn extension_name(oid: &ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "2.5.29.14" => "X509v3 Subject Key Identifier",
        "2.5.29.15" => "X509v3 Key Usage",
        "2.5.29.17" => "X509v3 Subject Alternative Name",
        "2.5.29.19" => "X509v3 Basic Constraints",
        "2.5.29.30" => "X509v3 Name Constraints",
        "2.5.29.31" => "X509v3 CRL Distribution Points",
        "2.5.29.32" => "X509v3 Certificate Policies",
        "2.5.29.35" => "X509v3 Authority Key Identifier",
        "2.5.29.37" => "X509v3 Extended Key Usage",
        "1.3.6.1.5.5.7.1.1" => "Authority Information Access",
        "1.3.6.1.4.1.11129.2.4.2" => "CT Precertificate SCTs",
        other => return other.to_string(),
    }
    .to_string()
}

fn eku_name(oid: &ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.3.6.1.5.5.7.3.1" => "TLS Web Server Authentication",
        "1.3.6.1.5.5.7.3.2" => "TLS Web Client Authentication",
        "1.3.6.1.5.5.7.3.3" => "Code Signing",
        "1.3.6.1.5.5.7.3.4" => "E-mail Protection",
        "1.3.6.1.5.5.7.3.8" => "Time Stamping",
        "1.3.6.1.5.5.7.3.9" => "OCSP Signing",
        "2.5.29.37.0" => "Any Extended Key Usage",
        other => return other.to_string(),
    }
    .to_string()
}

/// OpenSSL's names for the signature and key algorithms we may meet.
fn oid_name(oid: &ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.2.840.113549.1.1.1" => "rsaEncryption",
        "1.2.840.113549.1.1.2" => "md2WithRSAEncryption",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption",
        "1.2.840.10045.2.1" => "id-ecPublicKey",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.3.101.112" => "ED25519",
        "1.3.101.113" => "ED448",
        "2.5.29.14" => "subjectKeyIdentifier",
        "2.5.29.15" => "keyUsage",
        "2.5.29.17" => "subjectAltName",
        "2.5.29.19" => "basicConstraints",
        "2.5.29.30" => "nameConstraints",
        "2.5.29.32" => "certificatePolicies",
        "2.5.29.35" => "authorityKeyIdentifier",
        "2.5.29.36" => "policyConstraints",
        "2.5.29.37" => "extendedKeyUsage",
        other => return other.to_string(),
    }
    .to_string()
}

fn attribute_short_name(oid: &ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.15" => "businessCategory",
        "2.5.4.17" => "postalCode",
        "2.5.4.42" => "GN",
        "2.5.4.97" => "organizationIdentifier",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionC",
        other => return other.to_string(),
    }
    .to_string()
}

/// The text of a directory string; control characters and non-text types are shown escaped.
fn attribute_text(value: &der::Any) -> String {
    let bytes = value.value();
    let text = match value.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::VisibleString => {
            String::from_utf8_lossy(bytes).into_owned()
        }
        // T.61 in theory; Latin-1 in practice.
        Tag::TeletexString => bytes.iter().map(|&b| char::from(b)).collect(),
        Tag::BmpString => {
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        _ => return format!("#{}", hex_colon(bytes, false).replace(':', "")),
    };
    text.chars()
        .map(|c| {
            if c.is_control() {
                format!("\\x{:02X}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Just enough DER writing for a certificate: TLV with definite lengths.
mod der_write {
    use super::BuildError;
    use const_oid::ObjectIdentifier;

    pub const NULL: [u8; 2] = [0x05, 0x00];
    pub const BOOLEAN_TRUE: [u8; 3] = [0x01, 0x01, 0xff];

    pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = content.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes = len.to_be_bytes();
            let skip = bytes.iter().take_while(|&&b| b == 0).count();
            let significant = bytes.get(skip..).unwrap_or(&[]);
            out.push(0x80 | significant.len() as u8);
            out.extend_from_slice(significant);
        }
        out.extend_from_slice(content);
        out
    }

    pub fn sequence(content: &[u8]) -> Vec<u8> {
        tlv(0x30, content)
    }

    pub fn set(content: &[u8]) -> Vec<u8> {
        tlv(0x31, content)
    }

    pub fn explicit(number: u8, content: &[u8]) -> Vec<u8> {
        tlv(0xA0 | number, content)
    }

    /// A non-negative INTEGER from big-endian magnitude bytes, minimal.
    pub fn integer(magnitude: &[u8]) -> Vec<u8> {
        let skip = magnitude
            .iter()
            .take_while(|&&b| b == 0)
            .count()
            .min(magnitude.len().saturating_sub(1));
        let trimmed = magnitude.get(skip..).unwrap_or(&[0]);
        let mut content = Vec::with_capacity(trimmed.len() + 1);
        // A leading 1 bit would make it negative: prefix a zero byte.
        if trimmed.first().is_none_or(|&b| b & 0x80 != 0) {
            content.push(0);
        }
        content.extend_from_slice(trimmed);
        tlv(0x02, &content)
    }

    pub fn oid_tlv(oid: &ObjectIdentifier) -> Vec<u8> {
        tlv(0x06, oid.as_bytes())
    }

    pub fn utf8_string(s: &str) -> Vec<u8> {
        tlv(0x0C, s.as_bytes())
    }

    pub fn octet_string(content: &[u8]) -> Vec<u8> {
        tlv(0x04, content)
    }

    pub fn bit_string(content: &[u8]) -> Vec<u8> {
        let mut body = vec![0u8];
        body.extend_from_slice(content);
        tlv(0x03, &body)
    }

    /// A named-bit BIT STRING (like keyUsage): bit 0 is the most significant bit of the first
    /// byte; DER drops trailing zero bits and counts them in the first content byte.
    pub fn named_bits(bits: &[u8]) -> Vec<u8> {
        let highest = bits.iter().copied().max().unwrap_or(0);
        let mut bytes = vec![0u8; usize::from(highest / 8) + 1];
        for &bit in bits {
            if let Some(byte) = bytes.get_mut(usize::from(bit / 8)) {
                *byte |= 0x80 >> (bit % 8);
            }
        }
        let unused = 7 - highest % 8;
        let mut body = vec![unused];
        body.extend_from_slice(&bytes);
        tlv(0x03, &body)
    }

    /// Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
    pub fn extension(oid: &ObjectIdentifier, critical: bool, value: &[u8]) -> Vec<u8> {
        let mut content = oid_tlv(oid);
        if critical {
            content.extend_from_slice(&BOOLEAN_TRUE);
        }
        content.extend(octet_string(value));
        sequence(&content)
    }

    /// RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
    pub fn time(unix: i64) -> Result<Vec<u8>, BuildError> {
        let t = time::OffsetDateTime::from_unix_timestamp(unix)
            .map_err(|e| BuildError::InvalidValidity(e.to_string()))?;
        let year = t.year();
        if !(1950..=9999).contains(&year) {
            return Err(BuildError::InvalidValidity(format!(
                "year {year} is out of range"
            )));
        }
        let rest = format!(
            "{:02}{:02}{:02}{:02}{:02}Z",
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
        Ok(if year < 2050 {
            tlv(0x17, format!("{:02}{rest}", year % 100).as_bytes())
        } else {
            tlv(0x18, format!("{year:04}{rest}").as_bytes())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::der_write::*;
    use super::*;

    #[test]
    fn der_integer_is_minimal_and_positive() {
        assert_eq!(integer(&[2]), vec![0x02, 0x01, 0x02]);
        assert_eq!(integer(&[0x80]), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(integer(&[0, 0, 0x7f]), vec![0x02, 0x01, 0x7f]);
        assert_eq!(integer(&[0]), vec![0x02, 0x01, 0x00]);
    }

    #[test]
    fn der_long_lengths() {
        let long = tlv(0x04, &[0u8; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(tlv(0x04, &[0u8; 0x80])[..3], [0x04, 0x81, 0x80]);
    }

    #[test]
    fn key_usage_bits_match_openssl_encoding() {
        // digitalSignature + keyEncipherment, as openssl writes it.
        assert_eq!(named_bits(&[0, 2]), vec![0x03, 0x02, 0x05, 0xa0]);
        // keyCertSign + cRLSign.
        assert_eq!(named_bits(&[5, 6]), vec![0x03, 0x02, 0x01, 0x06]);
    }

    #[test]
    fn times_switch_to_generalized_in_2050() {
        // 2049-12-31T23:59:59Z and 2050-01-01T00:00:00Z.
        assert_eq!(time(2_524_607_999).unwrap(), tlv(0x17, b"491231235959Z"));
        assert_eq!(time(2_524_608_000).unwrap(), tlv(0x18, b"20500101000000Z"));
        assert_eq!(time(0).unwrap(), tlv(0x17, b"700101000000Z"));
    }

    #[test]
    fn names_are_classified() {
        assert!(matches!(classify_name("127.0.0.1"), Ok(SanEntry::Ip(_))));
        assert!(matches!(classify_name("::1"), Ok(SanEntry::Ip(_))));
        assert!(matches!(classify_name("[::1]"), Ok(SanEntry::Ip(_))));
        assert!(
            matches!(classify_name("*.Example.com"), Ok(SanEntry::Dns(d)) if d == "*.example.com")
        );
        assert!(matches!(classify_name("localhost"), Ok(SanEntry::Dns(_))));
        for bad in ["", "a b", "a..b", "x.*.com", "é.com", "a/b"] {
            assert!(classify_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn oversized_and_truncated_input_is_malformed() {
        let big = vec![0x30u8; MAX_CERTIFICATE_LEN + 1];
        assert!(matches!(
            Certificate::from_der(&big).unwrap_err().kind,
            CertErrorKind::Malformed(_)
        ));
        // A SEQUENCE claiming 4 GiB of content.
        let lying = [0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x30, 0x00];
        assert!(Certificate::from_der(&lying).is_err());
        assert!(Certificate::from_der(&[]).is_err());
        assert!(der_read::element(&lying, 0).is_none());
    }
}
