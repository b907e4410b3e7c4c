//! Reading a DER certificate (RFC 5280 §4.1) into [`Certificate`]: the `x509-cert` crate for
//! the field types, a minimal TLV walk for the byte ranges that must be kept as received, and
//! the extensions we act on (§4.2.1).

use super::names::{
    attribute_short_name, attribute_text, eku_name, extension_name, hex_colon, oid_name,
    ID_CE_AUTHORITY_KEY_ID, ID_CE_BASIC_CONSTRAINTS, ID_CE_EXT_KEY_USAGE, ID_CE_KEY_USAGE,
    ID_CE_NAME_CONSTRAINTS, ID_CE_SUBJECT_ALT_NAME, ID_CE_SUBJECT_KEY_ID,
    ID_PE_AUTHORITY_INFO_ACCESS,
};
use super::{
    malformed, slice, Certificate, DistinguishedName, ExtensionInfo, KeyUsage, ParsedExtensions,
    MAX_CERTIFICATE_LEN,
};
use super::{NameConstraints, Subtree};
use crate::pki::CertError;
use const_oid::ObjectIdentifier;
use der::Decode;
use std::net::IpAddr;
use std::ops::Range;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage,
    KeyUsage as PkixKeyUsage, NameConstraints as PkixNameConstraints, SubjectAltName,
    SubjectKeyIdentifier,
};

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
}

impl DistinguishedName {
    /// A `Name` on its own (the CA names of a TLS CertificateRequest); `None` unless it is
    /// exactly one well-formed DER `Name`.
    pub fn from_der(der: &[u8]) -> Option<Self> {
        let name = x509_cert::name::Name::from_der(der).ok()?;
        Some(Self::parse(der, &name))
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

fn unix_seconds(t: x509_cert::time::Time) -> Result<i64, CertError> {
    i64::try_from(t.to_unix_duration().as_secs()).map_err(|_| malformed("date out of range".into()))
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
                    out.aki_names_issuer_or_serial = aki.authority_cert_issuer.is_some()
                        || aki.authority_cert_serial_number.is_some();
                    vec![line]
                }
                ID_PE_AUTHORITY_INFO_ACCESS => {
                    let aia = AuthorityInfoAccessSyntax::from_der(value).map_err(bad)?;
                    // SEQUENCE SIZE (1..MAX): kept, and refused where the rule applies (a
                    // non-root certificate), so the reason names the certificate.
                    if aia.0.is_empty() {
                        out.malformed_extension =
                            Some("authorityInfoAccess has no AccessDescription".into());
                    }
                    vec![format!("{} access description(s)", aia.0.len())]
                }
                ID_CE_NAME_CONSTRAINTS => {
                    let nc = PkixNameConstraints::from_der(value).map_err(bad)?;
                    let convert = |trees: Option<
                        Vec<x509_cert::ext::pkix::constraints::name::GeneralSubtree>,
                    >| {
                        trees
                            .unwrap_or_default()
                            .iter()
                            .map(|t| Subtree::from_general_subtree(&t.base, t.minimum, t.maximum))
                            .collect::<Vec<_>>()
                    };
                    let parsed = NameConstraints {
                        permitted: convert(nc.permitted_subtrees),
                        excluded: convert(nc.excluded_subtrees),
                    };
                    let line = parsed.describe();
                    out.name_constraints = Some(parsed);
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

impl Subtree {
    fn from_general_subtree(base: &GeneralName, minimum: u32, maximum: Option<u32>) -> Self {
        // RFC 5280 §4.2.1.10: minimum MUST be 0 and maximum absent.
        if minimum != 0 || maximum.is_some() {
            return Subtree::Unsupported("minimum/maximum".into());
        }
        match base {
            GeneralName::DnsName(dns) => Subtree::Dns(dns.to_string()),
            GeneralName::IpAddress(octets) => {
                let bytes = octets.as_bytes();
                match bytes.len() {
                    8 | 32 => {
                        let (addr, mask) = bytes.split_at(bytes.len() / 2);
                        Subtree::Ip {
                            addr: addr.to_vec(),
                            mask: mask.to_vec(),
                        }
                    }
                    n => Subtree::Unsupported(format!("iPAddress of {n} bytes")),
                }
            }
            GeneralName::Rfc822Name(_) => Subtree::Unsupported("rfc822Name".into()),
            GeneralName::UniformResourceIdentifier(_) => Subtree::Unsupported("URI".into()),
            GeneralName::DirectoryName(_) => Subtree::Unsupported("directoryName".into()),
            _ => Subtree::Unsupported("otherName".into()),
        }
    }
}

fn ip_from_octets(octets: &[u8]) -> Option<IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(octets) {
        return Some(IpAddr::from(v4));
    }
    <[u8; 16]>::try_from(octets).ok().map(IpAddr::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::CertErrorKind;

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

    /// A valid v3 leaf to break: RSA-1024 (only parsed here), SAN DNS + IP, critical keyUsage
    /// and basicConstraints, EKU, SKI, AKI. Made once with `openssl req -x509 -newkey rsa:1024
    /// -subj "/C=US/O=Hostile Test/CN=hostile.test" -addext ...`.
    const HOSTILE_BASE: &str = "\
    -----BEGIN CERTIFICATE-----\n\
    MIIClTCCAf6gAwIBAgIUZw++WMvPEyZA8HBR5sQ7RrehXs0wDQYJKoZIhvcNAQEL\n\
    BQAwOzELMAkGA1UEBhMCVVMxFTATBgNVBAoMDEhvc3RpbGUgVGVzdDEVMBMGA1UE\n\
    AwwMaG9zdGlsZS50ZXN0MB4XDTI2MTEzMDA0MDEyMFoXDTM2MTEyNzA0MDEyMFow\n\
    OzELMAkGA1UEBhMCVVMxFTATBgNVBAoMDEhvc3RpbGUgVGVzdDEVMBMGA1UEAwwM\n\
    aG9zdGlsZS50ZXN0MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDc/BpCGrBr\n\
    BgWBLl/AG4arT/1rmvxNTNUS0bGuLt8xuX5TGUyK21nA778MU/Rj9B6Kf8WgdfIq\n\
    2RopYtlpOK99YxJS+k2eqggJZNtSSb/6owPl9SgXGUW8nkNVWalcOJwN0qGgGTk6\n\
    S2Vs1oUg7bEBOvG+vDmibBpHrJoovuERHwIDAQABo4GVMIGSMB0GA1UdDgQWBBQf\n\
    v4QheO+5Pk5siaVWt86eCb+RGDAfBgNVHSMEGDAWgBQfv4QheO+5Pk5siaVWt86e\n\
    Cb+RGDAdBgNVHREEFjAUggxob3N0aWxlLnRlc3SHBH8AAAEwDgYDVR0PAQH/BAQD\n\
    AgWgMBMGA1UdJQQMMAoGCCsGAQUFBwMBMAwGA1UdEwEB/wQCMAAwDQYJKoZIhvcN\n\
    AQELBQADgYEA3KMa+he6lZulqV1bEyAaziyKGAHByJJK1vUube2Q0/EgkIQ479qt\n\
    kZiXQduitQyDfBqVv91Hj8cQ94cFG4Y20UPB/gCMQf1FZjnWA27H5zi8OM+ZZXaJ\n\
    moNSvrrk6AEk4JL0zngiR5BKcnMjjqq88UQDChCrdBE+kGaPMT3kROQ=\n\
    -----END CERTIFICATE-----\n\
    ";

    fn base() -> Vec<u8> {
        let mut certs = crate::pki::pem::parse_certificates(HOSTILE_BASE.as_bytes()).unwrap();
        certs.remove(0)
    }

    /// `from_der` refuses `der` as Malformed (not another kind, not a panic).
    #[track_caller]
    fn assert_malformed(der: &[u8], what: &str) {
        match Certificate::from_der(der) {
            Err(CertError {
                kind: CertErrorKind::Malformed(_),
                ..
            }) => {}
            Err(e) => panic!("{what}: expected Malformed, got {e:?}"),
            Ok(cert) => panic!("{what}: expected Malformed, accepted {}", cert.subject()),
        }
    }

    /// One element found by [`elements`].
    struct Found {
        pos: usize,
        /// An open type (ANY DEFINED BY the OID before it): AlgorithmIdentifier parameters and
        /// attribute values in Names. Any tag parses there; the meaning is checked later (the
        /// signature algorithms must match, the key must decode, values are shown escaped).
        open_type: bool,
    }

    /// Every element in the structure of `der`, descending into constructed ones (and into
    /// extension values, which are DER inside an OCTET STRING).
    fn elements(der: &[u8]) -> Vec<Found> {
        fn walk(der: &[u8], range: Range<usize>, in_extensions: bool, out: &mut Vec<Found>) {
            let mut pos = range.start;
            let mut previous_tag = None;
            while pos < range.end {
                let Some((element, tag)) = der_read::element(der, pos) else {
                    return;
                };
                out.push(Found {
                    pos,
                    open_type: previous_tag == Some(0x06) && !in_extensions,
                });
                let constructed = tag & 0x20 != 0;
                // extnValue: the OCTET STRING of an Extension holds the extension's own DER.
                if constructed || (in_extensions && tag == 0x04) {
                    walk(
                        der,
                        element.content.clone(),
                        in_extensions || tag == 0xA3,
                        out,
                    );
                }
                previous_tag = Some(tag);
                pos = element.whole.end;
            }
        }
        let mut out = Vec::new();
        walk(der, 0..der.len(), false, &mut out);
        out
    }

    #[test]
    fn the_base_certificate_parses() {
        let der = base();
        let cert = Certificate::from_der(&der).unwrap();
        assert_eq!(cert.dns_names(), ["hostile.test"]);
        assert_eq!(cert.ip_addresses().len(), 1);
        assert!(cert.has_basic_constraints() && !cert.is_ca());
        assert!(cert.key_usage().is_some_and(|ku| ku.key_encipherment));
        assert!(cert.subject_key_id().is_some() && cert.authority_key_id().is_some());
        // The walk below finds the structure: certificate, TBS, the extension values...
        let found = elements(&der);
        assert!(found.len() > 40);
        // Three algorithm parameters (signature inside and outside, key) and two Names of three
        // attributes each.
        assert_eq!(found.iter().filter(|f| f.open_type).count(), 3 + 2 * 3);
    }

    #[test]
    fn every_truncation_is_malformed() {
        let der = base();
        for cut in 0..der.len() {
            assert_malformed(&der[..cut], &format!("cut at {cut}"));
        }
    }

    #[test]
    fn trailing_bytes_are_malformed() {
        let der = base();
        for tail in [&[0x00][..], &[0x30, 0x00], &der[..]] {
            assert_malformed(&[&der[..], tail].concat(), "trailing bytes");
        }
    }

    /// Every element, including those inside the extension values, given a tag that cannot
    /// stand in its place.
    #[test]
    fn wrong_tags_are_malformed() {
        let der = base();
        for Found { pos, open_type } in elements(&der) {
            if open_type {
                continue;
            }
            for wrong in [0x31u8, 0x04, 0x05, 0x13] {
                if der[pos] == wrong {
                    continue;
                }
                let mut bent = der.clone();
                bent[pos] = wrong;
                assert_malformed(
                    &bent,
                    &format!("tag {:#04x} -> {wrong:#04x} at {pos}", der[pos]),
                );
            }
        }
    }

    /// Every length made one longer than its element: it then runs past its parent, or past
    /// the end of the input.
    #[test]
    fn lengths_past_the_end_are_malformed() {
        let der = base();
        for Found { pos, .. } in elements(&der) {
            let (element, _) = der_read::element(&der, pos).unwrap();
            let last_length_byte = element.content.start - 1;
            if der[last_length_byte] == 0xff {
                continue;
            }
            let mut bent = der.clone();
            bent[last_length_byte] += 1;
            assert_malformed(&bent, &format!("length + 1 at {pos}"));
        }
    }

    /// Every element's length replaced by an absurd one (4 GiB, 2^64 - 1, indefinite, or a
    /// non-minimal BER form): refused without allocating or reading past the input.
    #[test]
    fn absurd_lengths_are_malformed() {
        let der = base();
        let absurd: [&[u8]; 4] = [
            &[0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[0x80],
            &[0x8f],
        ];
        for Found { pos, .. } in elements(&der) {
            let (element, _) = der_read::element(&der, pos).unwrap();
            for length in absurd {
                let bent = [&der[..=pos], length, &der[element.content.start..]].concat();
                assert_malformed(&bent, &format!("length {length:02x?} at {pos}"));
            }
            // The right length, written with a needless leading zero byte.
            let len = element.content.len();
            if len < 0x1_0000 {
                let ber = [0x83, 0x00, (len >> 8) as u8, len as u8];
                let bent = [&der[..=pos], &ber[..], &der[element.content.start..]].concat();
                assert_malformed(&bent, &format!("non-minimal length at {pos}"));
            }
        }
    }

    #[test]
    fn der_read_refuses_what_it_cannot_bound() {
        // Tag only; length byte missing.
        assert!(der_read::element(&[0x30], 0).is_none());
        // Indefinite length (BER), and more length bytes than we read.
        assert!(der_read::element(&[0x30, 0x80, 0x00, 0x00], 0).is_none());
        assert!(der_read::element(&[0x30, 0x85, 0, 0, 0, 0, 1, 0], 0).is_none());
        // Length bytes cut short; content past the end.
        assert!(der_read::element(&[0x30, 0x82, 0x01], 0).is_none());
        assert!(der_read::element(&[0x30, 0x03, 0x00, 0x00], 0).is_none());
        // Positions at or past the end.
        assert!(der_read::element(&[0x30, 0x00], 2).is_none());
        assert!(der_read::element(&[0x30, 0x00], usize::MAX).is_none());
        let (element, tag) = der_read::element(&[0x00, 0x04, 0x81, 0x01, 0xaa], 1).unwrap();
        assert_eq!((tag, element.whole, element.content), (0x04, 1..5, 4..5));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Random byte changes anywhere: never a panic, and any refusal is Malformed.
        #[test]
        fn random_corruption_never_panics(
            changes in proptest::collection::vec((0usize..2000, proptest::prelude::any::<u8>()), 1..8)
        ) {
            let mut der = base();
            for (at, value) in changes {
                let len = der.len();
                der[at % len] = value;
            }
            if let Err(e) = Certificate::from_der(&der) {
                proptest::prop_assert!(matches!(e.kind, CertErrorKind::Malformed(_)), "{e:?}");
            }
        }
    }
}
