//! Mutual TLS for the server program: `--client-ca` and `--client-auth` become the TLS
//! library's `ClientAuth`, and the verified client certificate (`SessionInfo::client_chain`)
//! becomes a greeting on the built-in page and a field of the access log.
//!
//! Everything shown comes from a certificate the client chose: HTML-escaped on the page,
//! `escape_peer`-escaped in the log.

use crate::html::escape;
use crate::ServerError;
use std::fmt::Write as _;
use std::path::Path;
use tls::pki::trust::TrustStore;
use tls::pki::x509::{hex_colon, Certificate};
use tls::SessionInfo;

/// `--client-auth`: whether a client without a certificate is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuthMode {
    /// No certificate: `handshake_failure` (the default with `--client-ca`).
    Required,
    /// No certificate: served as anonymous. A certificate that is sent must still verify.
    Optional,
}

impl std::str::FromStr for ClientAuthMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "required" => Ok(Self::Required),
            "optional" => Ok(Self::Optional),
            other => Err(format!("expected optional or required, got {other:?}")),
        }
    }
}

/// The library's client-auth settings for `--client-ca FILE`, or `None` without it.
pub fn config(
    client_ca: Option<&Path>,
    mode: ClientAuthMode,
) -> Result<Option<tls::config::ClientAuth>, ServerError> {
    let Some(path) = client_ca else {
        return Ok(None);
    };
    let roots = TrustStore::from_pem_file(path)
        .map_err(|e| ServerError::new(format!("--client-ca {}: {e}", path.display())))?;
    if roots.is_empty() {
        return Err(ServerError::new(format!(
            "--client-ca {}: no certificate in it",
            path.display()
        )));
    }
    Ok(Some(tls::config::ClientAuth {
        roots,
        required: mode == ClientAuthMode::Required,
        verify_time: None,
    }))
}

/// The client certificate's subject (OpenSSL's one-line form), when the client sent one. Not
/// escaped: the caller escapes for where it goes.
pub fn subject(info: &SessionInfo) -> Option<String> {
    let leaf = Certificate::from_der(info.client_chain.first()?).ok()?;
    Some(leaf.subject().to_openssl_string())
}

/// The page's "Your client certificate" section: who the certificate says you are, or that
/// you are anonymous.
pub fn section(info: &SessionInfo) -> String {
    if info.client_chain.is_empty() {
        return "<section><h2>Your client certificate</h2><p>You sent none: to this server you \
                are <b>anonymous</b>. A server started with <code>--client-ca</code> asks for one \
                (CertificateRequest); <code>curl --cert client.pem --key client-key.pem</code> \
                sends it.</p></section>\n"
            .to_string();
    }
    let mut out = String::from("<section><h2>Your client certificate</h2>");
    for (depth, der) in info.client_chain.iter().enumerate() {
        let Ok(cert) = Certificate::from_der(der) else {
            let _ = write!(out, "<p>Depth {depth}: (unreadable)</p>");
            continue;
        };
        if depth == 0 {
            let name = cert
                .subject()
                .common_name()
                .map_or_else(|| cert.subject().to_openssl_string(), str::to_string);
            let _ = write!(
                out,
                "<p>Hello, <b>{}</b>. Your client proved it holds this certificate's private \
                 key: it signed the handshake (CertificateVerify), and the server checked the \
                 chain up to a CA it trusts for client certificates.</p>",
                escape(&name)
            );
        }
        let mut rows = String::new();
        let mut row = |label: &str, html: &str| {
            let _ = write!(rows, "<tr><th>{label}</th><td>{html}</td></tr>");
        };
        row("Subject", &escape(&cert.subject().to_openssl_string()));
        row("Issuer", &escape(&cert.issuer().to_openssl_string()));
        row(
            "Serial",
            &format!("<span class=\"hex\">{}</span>", escape(&cert.serial_hex())),
        );
        row(
            "Valid",
            &format!(
                "{} to {}",
                escape(&tls::text::utc_date(cert.not_before())),
                escape(&tls::text::utc_date(cert.not_after()))
            ),
        );
        row(
            "SHA-256 fingerprint",
            &format!(
                "<span class=\"hex\">{}</span>",
                hex_colon(&cert.sha256_fingerprint(), true)
            ),
        );
        let role = if depth == 0 {
            "your certificate"
        } else {
            "intermediate CA"
        };
        let _ = write!(out, "<h3>Depth {depth}: {role}</h3><table>{rows}</table>");
    }
    out.push_str("</section>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(client_chain: Vec<Vec<u8>>) -> SessionInfo {
        SessionInfo {
            version: 0x0303,
            suite: &tls::suites::TLS_RSA_WITH_AES_128_CBC_SHA,
            client_random: [0; 32],
            server_random: [0; 32],
            session_id: Vec::new(),
            extended_master_secret: true,
            encrypt_then_mac: true,
            alpn_protocol: None,
            server_name: None,
            server_chain: Vec::new(),
            client_chain,
            verification: None,
            resumed: None,
        }
    }

    #[test]
    fn anonymous_without_a_certificate() {
        let html = section(&info(Vec::new()));
        assert!(html.contains("anonymous"), "{html}");
        assert_eq!(subject(&info(Vec::new())), None);
    }

    #[test]
    fn greets_by_the_certificate_and_escapes_it() {
        let pki = tls::testing::pki();
        let cert = pki.client_cert_with(|b| b.common_name("<b>Mallory</b>"));
        let html = section(&info(vec![cert.der().to_vec()]));
        assert!(
            html.contains("Hello, <b>&lt;b&gt;Mallory&lt;/b&gt;</b>"),
            "{html}"
        );
        assert!(!html.contains("<b>Mallory"), "{html}");
        assert!(html.contains(&cert.serial_hex()), "{html}");
        assert!(html.contains("CN = Test Root CA"), "{html}");
        assert!(
            html.contains(&hex_colon(&cert.sha256_fingerprint(), true)),
            "{html}"
        );
        assert_eq!(
            subject(&info(vec![cert.der().to_vec()])).as_deref(),
            Some("CN = <b>Mallory</b>")
        );
    }

    #[test]
    fn mode_parses_and_needs_a_file() {
        assert_eq!(
            "optional".parse::<ClientAuthMode>(),
            Ok(ClientAuthMode::Optional)
        );
        assert!("sometimes".parse::<ClientAuthMode>().is_err());
        assert!(config(None, ClientAuthMode::Required)
            .expect("no client auth")
            .is_none());
        let auth = config(Some(&tls::testing::pki().ca()), ClientAuthMode::Optional)
            .expect("config")
            .expect("client auth");
        assert!(!auth.required);
        assert_eq!(auth.roots.len(), 1);
    }
}
