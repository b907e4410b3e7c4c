//! The structural rules of the web PKI on a built path, beyond what OpenSSL checks by default:
//! RFC 5280 §4.1.2.6, §4.2.1.1/.2/.6/.9 and the CA/Browser Forum Baseline Requirements §7.1
//! (certificate profiles) and §6.1.5 (key sizes). Each refusal names the rule; OpenSSL's code
//! and wording are used when `openssl verify -x509_strict` has a code for the same reason.

use super::x509::{
    Certificate, ID_CE_AUTHORITY_KEY_ID, ID_CE_BASIC_CONSTRAINTS, ID_CE_SUBJECT_ALT_NAME,
};
use super::{CertError, CertErrorKind};

use super::verify::Purpose;

fn rule(code: Option<u32>, reason: String, depth: usize) -> CertError {
    CertError::new(CertErrorKind::Profile { code, reason }, depth)
}

/// Every certificate of `path` (leaf first, anchor last) against the profile rules.
pub(crate) fn check_profile(path: &[&Certificate], purpose: Purpose) -> Result<(), CertError> {
    let anchor_depth = path.len().saturating_sub(1);
    for (depth, cert) in path.iter().enumerate() {
        // A root is a self-issued trust anchor; everything else was issued by someone.
        let is_root = depth == anchor_depth && cert.is_self_issued();
        if depth > 0 {
            check_ca(cert, depth)?;
        }
        if is_root {
            check_root_aki(cert, depth)?;
        } else {
            check_non_root(cert, depth)?;
        }
        if depth == 0 {
            check_leaf(cert, purpose)?;
        }
    }
    Ok(())
}

/// A CA certificate, the anchor included.
fn check_ca(cert: &Certificate, depth: usize) -> Result<(), CertError> {
    if cert.subject().is_empty() {
        return Err(rule(
            Some(84),
            "Subject name empty (RFC 5280 4.1.2.6: a CA certificate has a subject)".into(),
            depth,
        ));
    }
    if cert.subject_key_id().is_none() {
        return Err(rule(
            Some(86),
            "Missing Subject Key Identifier (RFC 5280 4.2.1.2: a CA certificate has one)".into(),
            depth,
        ));
    }
    if cert.extension_critical(&ID_CE_BASIC_CONSTRAINTS) == Some(false) {
        return Err(rule(
            Some(89),
            "Basic Constraints of CA cert not marked critical (RFC 5280 4.2.1.9)".into(),
            depth,
        ));
    }
    Ok(())
}

/// CABF BR 7.1.2.1.3: a root's authorityKeyIdentifier, if any, is its own key id only.
fn check_root_aki(cert: &Certificate, depth: usize) -> Result<(), CertError> {
    if cert.extension_critical(&ID_CE_AUTHORITY_KEY_ID).is_none() {
        return Ok(());
    }
    if cert.aki_names_issuer_or_serial() {
        return Err(rule(
            None,
            "root certificate's authorityKeyIdentifier has authorityCertIssuer or \
             authorityCertSerialNumber (CABF BR 7.1.2.1.3)"
                .into(),
            depth,
        ));
    }
    if cert.authority_key_id() != cert.subject_key_id() {
        return Err(rule(
            None,
            "root certificate's authorityKeyIdentifier keyIdentifier is not its own \
             subjectKeyIdentifier (CABF BR 7.1.2.1.3)"
                .into(),
            depth,
        ));
    }
    Ok(())
}

/// Every certificate that is not a root.
fn check_non_root(cert: &Certificate, depth: usize) -> Result<(), CertError> {
    match cert.extension_critical(&ID_CE_AUTHORITY_KEY_ID) {
        Some(true) => {
            return Err(rule(
                Some(90),
                "Authority Key Identifier marked critical (RFC 5280 4.2.1.1)".into(),
                depth,
            ))
        }
        Some(false) if cert.authority_key_id().is_some() => {}
        _ => {
            return Err(rule(
                Some(85),
                "Missing Authority Key Identifier (RFC 5280 4.2.1.1: keyIdentifier required)"
                    .into(),
                depth,
            ))
        }
    }
    if let Some(what) = cert.malformed_extension() {
        return Err(rule(
            None,
            format!("malformed extension: {what} (CABF BR 7.1.2.7.7)"),
            depth,
        ));
    }
    Ok(())
}

/// The end-entity certificate.
fn check_leaf(cert: &Certificate, purpose: Purpose) -> Result<(), CertError> {
    let key_cert_sign = cert.key_usage().is_some_and(|ku| ku.key_cert_sign);
    if cert.is_ca() && !key_cert_sign {
        return Err(rule(
            None,
            "basicConstraints cA=TRUE without keyUsage keyCertSign (RFC 5280 4.2.1.9, CABF BR \
             7.1.2.7.8)"
                .into(),
            0,
        ));
    }
    if key_cert_sign && !cert.is_ca() {
        return Err(rule(
            Some(82),
            "Key usage keyCertSign invalid for non-CA cert (RFC 5280 4.2.1.9)".into(),
            0,
        ));
    }
    let san_critical = cert.extension_critical(&ID_CE_SUBJECT_ALT_NAME);
    let subject_empty = cert.subject().is_empty();
    if subject_empty && san_critical != Some(true) {
        return Err(rule(
            Some(88),
            "Subject empty and Subject Alt Name extension not critical (RFC 5280 4.2.1.6)".into(),
            0,
        ));
    }
    if !subject_empty && san_critical == Some(true) {
        return Err(rule(
            None,
            "subjectAltName is critical although the subject is not empty (RFC 5280 4.2.1.6, \
             CABF BR 7.1.2.7.12)"
                .into(),
            0,
        ));
    }
    // A client certificate's names are typically e-mail addresses (rfc822Name), which the
    // server-name rule below does not count.
    if purpose == Purpose::ServerAuth
        && san_critical.is_some()
        && cert.dns_names().is_empty()
        && cert.ip_addresses().is_empty()
    {
        return Err(rule(
            Some(87),
            "Empty Subject Alternative Name extension (CABF BR 7.1.2.7.12)".into(),
            0,
        ));
    }
    if let Some(bad) = cert
        .dns_names()
        .iter()
        .find(|d| !is_preferred_dns_syntax(d))
    {
        return Err(rule(
            None,
            format!(
                "subjectAltName dNSName '{}' is not in preferred name syntax (RFC 5280 \
                 4.2.1.6, RFC 1034 3.5)",
                crate::text::escape_peer(bad)
            ),
            0,
        ));
    }
    // The CN of a client certificate names a person or a service, not a host (CABF's server
    // profile does not apply).
    let server_cns = match purpose {
        Purpose::ServerAuth => cert.subject().common_names().collect::<Vec<_>>(),
        Purpose::ClientAuth => Vec::new(),
    };
    for cn in server_cns {
        let copied = cert.dns_names().iter().any(|d| d == cn)
            || cert.ip_addresses().iter().any(|ip| ip.to_string() == cn);
        if !copied {
            return Err(rule(
                None,
                format!(
                    "subject commonName '{}' is not a copy of a subjectAltName entry (CABF BR \
                     7.1.4.3)",
                    crate::text::escape_peer(cn)
                ),
                0,
            ));
        }
    }
    Ok(())
}

/// RFC 1034 §3.5 preferred name syntax as RFC 1123 §2.1 relaxed it (a label may start with a
/// digit): labels of 1–63 letters, digits and hyphens, not starting or ending with a hyphen;
/// at most 253 characters; a wildcard only as the whole left-most label.
pub fn is_preferred_dns_syntax(name: &str) -> bool {
    if name.is_empty() || name.len() > 253 {
        return false;
    }
    name.split('.').enumerate().all(|(i, label)| {
        (i == 0 && label == "*" && name.len() > 2)
            || (!label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    })
}

#[cfg(test)]
mod tests {
    use super::is_preferred_dns_syntax;

    #[test]
    fn preferred_name_syntax() {
        for good in [
            "example.com",
            "a-b.example",
            "*.example.com",
            "xn--bcher-kva.example",
            "1.example",
        ] {
            assert!(is_preferred_dns_syntax(good), "{good}");
        }
        for bad in [
            "",
            "a..b",
            "a_b.example",
            "*",
            "a.*.example",
            "w*.example",
            "-a.example",
            "a-.example",
            "example.com.",
            ".example",
            "ex ample.com",
        ] {
            assert!(!is_preferred_dns_syntax(bad), "{bad}");
        }
    }
}
