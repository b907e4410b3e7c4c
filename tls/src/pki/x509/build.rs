//! Making certificates (RFC 5280 §4.1, the profiles of DESIGN.md's PKI rules): a root CA, an
//! intermediate CA or a server leaf, v3, signed sha256WithRSAEncryption with our own RSA.

use super::der_write;
use super::names::{
    ID_AT_CN, ID_AT_O, ID_AT_OU, ID_CE_AUTHORITY_KEY_ID, ID_CE_BASIC_CONSTRAINTS,
    ID_CE_EXT_KEY_USAGE, ID_CE_KEY_USAGE, ID_CE_SUBJECT_ALT_NAME, ID_CE_SUBJECT_KEY_ID,
    SHA256_WITH_RSA,
};
use super::{malformed, Certificate, ID_KP_CLIENT_AUTH, ID_KP_SERVER_AUTH};
use crate::crypto::rsa::{HashAlg, RsaError, RsaPrivateKey, RsaPublicKey};
use crate::pki::{keys, CertError};
use const_oid::ObjectIdentifier;
use der::Decode;
use sha1::{Digest, Sha1};
use std::net::IpAddr;

/// Which kind of certificate a [`CertificateBuilder`] makes; this fixes the extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// basicConstraints CA:TRUE (critical), keyUsage keyCertSign+cRLSign (critical).
    RootCa,
    /// As a root, plus pathLenConstraint when given.
    IntermediateCa { path_len: Option<u8> },
    /// subjectAltName, EKU serverAuth, keyUsage digitalSignature+keyEncipherment, CA:FALSE.
    Server,
    /// A TLS client (RFC 5246 §7.4.6): EKU clientAuth, keyUsage digitalSignature (its key
    /// only signs CertificateVerify), CA:FALSE, the e-mail addresses as rfc822Name SANs.
    Client,
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
    /// rfc822Name subjectAltNames (client certificates).
    emails: Vec<String>,
    not_before: i64,
    not_after: i64,
    serial: Option<Vec<u8>>,
    /// Replaces the profile's extendedKeyUsage (servers: serverAuth; CAs: none).
    ext_key_usage: Option<Vec<ObjectIdentifier>>,
    /// More extensions, after the profile's: (OID, critical, DER value).
    extra_extensions: Vec<(ObjectIdentifier, bool, Vec<u8>)>,
    /// Profile extensions dropped (`None`) or replaced (criticality, DER value): only to
    /// make certificates that break a rule, for tests.
    overrides: Vec<(ObjectIdentifier, Option<ExtensionValue>)>,
}

/// An extension's criticality and DER value.
type ExtensionValue = (bool, Vec<u8>);

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
        // CABF BR 7.1.4.3: the CN is a copy of a SAN entry as written there (lower case, no
        // trailing dot, an IP in its canonical text).
        let cn = match classify_name(first.as_ref())? {
            SanEntry::Ip(ip) => ip.to_string(),
            SanEntry::Dns(dns) => dns,
        };
        let mut builder = Self::new(Profile::Server, &cn, SERVER_DAYS);
        for name in names {
            match classify_name(name.as_ref())? {
                SanEntry::Ip(ip) => builder.ip_addresses.push(ip),
                SanEntry::Dns(dns) => builder.dns_names.push(dns),
            }
        }
        Ok(builder)
    }

    /// A client certificate for `common_name` (a person or a service), with an e-mail address
    /// as an rfc822Name subjectAltName when given.
    pub fn client(common_name: &str, email: Option<&str>) -> Result<Self, BuildError> {
        if common_name.is_empty() {
            return Err(BuildError::InvalidName("empty client name".into()));
        }
        let mut builder = Self::new(Profile::Client, common_name, SERVER_DAYS);
        if let Some(email) = email {
            // RFC 5280 §4.2.1.6: an addr-spec, IA5 (ASCII) only.
            let valid = email.is_ascii()
                && email.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty() && !domain.is_empty() && !domain.contains('@')
                })
                && !email.bytes().any(|b| b.is_ascii_control() || b == b' ');
            if !valid {
                return Err(BuildError::InvalidName(format!(
                    "not an e-mail address: {email:?}"
                )));
            }
            builder.emails.push(email.to_string());
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

    /// Drop (`None`) or replace (criticality, DER value) one of the profile's extensions.
    /// Only tests use it: to make a certificate that breaks exactly one rule.
    #[cfg(test)]
    pub(crate) fn override_extension(
        mut self,
        oid: ObjectIdentifier,
        replacement: Option<ExtensionValue>,
    ) -> Self {
        self.overrides.push((oid, replacement));
        self
    }

    /// An empty subject (no RDN), for tests of the rules about it.
    #[cfg(test)]
    pub(crate) fn empty_subject(mut self) -> Self {
        self.subject.clear();
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
            emails: Vec::new(),
            not_before: now,
            not_after: now.saturating_add(days.saturating_mul(86_400)),
            serial: None,
            ext_key_usage: None,
            extra_extensions: Vec::new(),
            overrides: Vec::new(),
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
        let mut exts: Vec<(ObjectIdentifier, bool, Vec<u8>)> = Vec::new();
        use der_write::*;
        match self.profile {
            Profile::RootCa | Profile::IntermediateCa { .. } => {
                let path_len = match self.profile {
                    Profile::IntermediateCa {
                        path_len: Some(len),
                    } => integer(&[len]),
                    _ => Vec::new(),
                };
                let bc = sequence(&[BOOLEAN_TRUE.to_vec(), path_len].concat());
                exts.push(ext_triple(&ID_CE_BASIC_CONSTRAINTS, true, &bc));
                // keyCertSign (bit 5) + cRLSign (bit 6).
                exts.push(ext_triple(&ID_CE_KEY_USAGE, true, &named_bits(&[5, 6])));
            }
            Profile::Server => {
                exts.push(ext_triple(&ID_CE_BASIC_CONSTRAINTS, true, &sequence(&[])));
                // digitalSignature (bit 0) + keyEncipherment (bit 2): RSA key transport needs the latter.
                exts.push(ext_triple(&ID_CE_KEY_USAGE, true, &named_bits(&[0, 2])));
                if self.ext_key_usage.is_none() {
                    exts.push(ext_triple(
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
                exts.push(ext_triple(
                    &ID_CE_SUBJECT_ALT_NAME,
                    false,
                    &sequence(&names),
                ));
            }
            Profile::Client => {
                exts.push(ext_triple(&ID_CE_BASIC_CONSTRAINTS, true, &sequence(&[])));
                // digitalSignature (bit 0) only: the key signs CertificateVerify.
                exts.push(ext_triple(&ID_CE_KEY_USAGE, true, &named_bits(&[0])));
                if self.ext_key_usage.is_none() {
                    exts.push(ext_triple(
                        &ID_CE_EXT_KEY_USAGE,
                        false,
                        &sequence(&oid_tlv(&ID_KP_CLIENT_AUTH)),
                    ));
                }
                if !self.emails.is_empty() {
                    let names = self
                        .emails
                        .iter()
                        .flat_map(|e| tlv(0x81, e.as_bytes()))
                        .collect::<Vec<_>>();
                    exts.push(ext_triple(
                        &ID_CE_SUBJECT_ALT_NAME,
                        false,
                        &sequence(&names),
                    ));
                }
            }
        }
        if let Some(purposes) = &self.ext_key_usage {
            let list = purposes.iter().flat_map(oid_tlv).collect::<Vec<_>>();
            exts.push(ext_triple(&ID_CE_EXT_KEY_USAGE, false, &sequence(&list)));
        }
        for (oid, critical, value) in &self.extra_extensions {
            exts.push((*oid, *critical, value.clone()));
        }
        exts.push(ext_triple(&ID_CE_SUBJECT_KEY_ID, false, &octet_string(ski)));
        // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING }
        exts.push(ext_triple(
            &ID_CE_AUTHORITY_KEY_ID,
            false,
            &sequence(&tlv(0x80, aki)),
        ));
        for (oid, replacement) in &self.overrides {
            match replacement {
                None => exts.retain(|(o, _, _)| o != oid),
                Some((critical, value)) => {
                    for e in exts.iter_mut().filter(|(o, _, _)| o == oid) {
                        e.1 = *critical;
                        e.2 = value.clone();
                    }
                }
            }
        }
        exts.iter()
            .map(|(oid, critical, value)| extension(oid, *critical, value))
            .collect()
    }
}

/// (OID, critical, DER value) of one extension, encoded at the end.
fn ext_triple(
    oid: &ObjectIdentifier,
    critical: bool,
    value: &[u8],
) -> (ObjectIdentifier, bool, Vec<u8>) {
    (*oid, critical, value.to_vec())
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
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-'))
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
