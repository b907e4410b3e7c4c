//! Reading a DER certificate (RFC 5280 §4.1) into [`Certificate`]: the `x509-cert` crate for
//! the field types, a minimal TLV walk for the byte ranges that must be kept as received, and
//! the extensions we act on (§4.2.1).

use super::names::{
    attribute_short_name, attribute_text, eku_name, extension_name, hex_colon, oid_name,
    ID_CE_AUTHORITY_KEY_ID, ID_CE_BASIC_CONSTRAINTS, ID_CE_EXT_KEY_USAGE, ID_CE_KEY_USAGE,
    ID_CE_SUBJECT_ALT_NAME, ID_CE_SUBJECT_KEY_ID,
};
use super::{
    malformed, slice, Certificate, DistinguishedName, ExtensionInfo, KeyUsage, ParsedExtensions,
    MAX_CERTIFICATE_LEN,
};
use crate::pki::CertError;
use const_oid::ObjectIdentifier;
use der::Decode;
use std::net::IpAddr;
use std::ops::Range;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage as PkixKeyUsage,
    SubjectAltName, SubjectKeyIdentifier,
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
}
