//! The browser-like warning for a certificate that did not verify: a headline, what is wrong in
//! plain words, the error codes browsers and OpenSSL use for it, the technical details, and the
//! choice to go back (the default) or knowingly continue. Wording follows Chrome's and Firefox's
//! interstitials (reference/browsers.md) without copying them.

use crate::trust::fingerprint_text;
use std::fmt::Write as _;
use tls::pki::verify::matches_host;
use tls::pki::x509::Certificate;
use tls::pki::{CertError, CertErrorKind};
use tls::text::{escape_peer, openssl_date};

/// What the user chose at the prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    GoBack,
    ContinueOnce,
    ContinueAndRemember,
}

/// Everything the warning shows.
pub struct Warning<'a> {
    pub host: &'a str,
    pub port: u16,
    pub error: &'a CertError,
    /// The chain as the server sent it, leaf first.
    pub chain: &'a [Certificate],
    /// The fingerprint remembered for this site, when the certificate is now a different one.
    pub changed_from: Option<&'a [u8; 32]>,
    /// Unix time "now", for the "expired N days ago" sentence.
    pub now: i64,
    pub color: bool,
}

impl Warning<'_> {
    /// The full text (without the prompt).
    pub fn render(&self) -> String {
        let (bold_red, bold, reset) = if self.color {
            ("\x1b[1;31m", "\x1b[1m", "\x1b[0m")
        } else {
            ("", "", "")
        };
        let site = format!("{}:{}", self.host, self.port);
        let mut out = String::new();
        let rule = "=".repeat(72);
        let _ = writeln!(out, "{bold_red}{rule}{reset}");
        if let Some(old) = self.changed_from {
            let _ = writeln!(
                out,
                "{bold_red}  WARNING: THE CERTIFICATE OF {} HAS CHANGED{reset}",
                site.to_uppercase()
            );
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "  You accepted a different certificate for {site} before. The server now\n  \
                 shows another one, and it is not trusted either. Someone may be intercepting\n  \
                 your connection (a man-in-the-middle), or the site replaced its certificate.\n  \
                 Continue only if you know why it changed."
            );
            let _ = writeln!(out, "  Remembered SHA-256: {}", fingerprint_text(old));
        } else {
            let _ = writeln!(out, "{bold_red}  Your connection is not private{reset}");
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "  Attackers might be trying to steal your information from {bold}{}{reset}\n  \
                 (for example, passwords, messages, or credit cards).",
                self.host
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "{bold}  What is wrong:{reset}");
        for line in wrap(&self.explanation(), 68) {
            let _ = writeln!(out, "    {line}");
        }
        for also in self.other_problems() {
            for (i, line) in wrap(&also, 66).into_iter().enumerate() {
                let bullet = if i == 0 { "  - " } else { "    " };
                let _ = writeln!(out, "  {bullet}{line}");
            }
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "  Error code: {bold}{}{reset}  ({}; OpenSSL {}: {})",
            chrome_code(self.error),
            firefox_code(self.error),
            self.error.openssl_code(),
            escape_peer(&self.error.to_string())
        );
        let _ = writeln!(out);
        let _ = writeln!(out, "{bold}  Certificate details:{reset}");
        if let Some(leaf) = self.chain.first() {
            details(&mut out, leaf);
        }
        if self.chain.len() > 1 || self.error.depth > 0 {
            let _ = writeln!(out, "  Chain as sent by the server:");
            for (depth, cert) in self.chain.iter().enumerate() {
                let mark = if depth == self.error.depth {
                    "  <-- problem here"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "    {depth}: {}{mark}\n       issuer: {}",
                    escape_peer(&cert.subject().to_curl_string()),
                    escape_peer(&cert.issuer().to_curl_string())
                );
            }
        }
        let _ = writeln!(out, "{bold_red}{rule}{reset}");
        out
    }

    /// The question under the warning.
    pub fn prompt(&self) -> String {
        let site = format!("{}:{}", self.host, self.port);
        format!(
            "  [b] Go back (recommended)\n  \
             [c] Accept the risk and continue, this time only\n  \
             [r] Accept the risk, continue, and remember this certificate for {site}\n\
             Your choice [b/c/r] (default b): "
        )
    }

    /// The main problem in plain words.
    pub fn explanation(&self) -> String {
        let host = self.host;
        let subject_issuer = |depth: usize| {
            self.chain
                .get(depth)
                .or(self.chain.last())
                .map(|c| escape_peer(&c.issuer().to_curl_string()))
                .unwrap_or_default()
        };
        match &self.error.kind {
            CertErrorKind::SelfSigned => format!(
                "The certificate is self-signed: the server vouches for itself, and no \
                 certificate authority you trust confirms that it is really {host}."
            ),
            CertErrorKind::UnknownIssuer => format!(
                "The certificate was issued by \"{}\", which is not a certificate authority \
                 you trust (or the server did not send the intermediate certificate that \
                 links to one). Nothing proves the server is really {host}.",
                subject_issuer(self.error.depth)
            ),
            CertErrorKind::SelfSignedInChain => format!(
                "The chain ends in the root certificate \"{}\", which you do not trust. \
                 Nothing proves the server is really {host}.",
                subject_issuer(self.error.depth)
            ),
            CertErrorKind::Expired => {
                let after = self
                    .chain
                    .get(self.error.depth)
                    .map(|c| c.not_after())
                    .unwrap_or(self.now);
                let days = (self.now - after) / 86_400;
                format!(
                    "The certificate expired on {} ({days} days ago). Your clock says {}; if \
                     that is wrong, correct it and try again.",
                    openssl_date(after),
                    openssl_date(self.now)
                )
            }
            CertErrorKind::NotYetValid => {
                let before = self
                    .chain
                    .get(self.error.depth)
                    .map(|c| c.not_before())
                    .unwrap_or(self.now);
                format!(
                    "The certificate is not valid before {}. Your clock says {}; if that is \
                     wrong, correct it and try again.",
                    openssl_date(before),
                    openssl_date(self.now)
                )
            }
            CertErrorKind::HostMismatch { .. } => format!(
                "The certificate is not for {host}: it is only valid for {}. Someone may be \
                 impersonating the site.",
                self.chain
                    .first()
                    .map(names)
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "no names at all".into())
            ),
            CertErrorKind::BadSignature => "A signature in the certificate chain does not \
                 verify: the certificate was altered, or was not issued by whom it names."
                .into(),
            CertErrorKind::NotACa => "The certificate was signed by a certificate that is \
                 not allowed to issue certificates (it is not a CA)."
                .into(),
            _ => format!(
                "The certificate failed verification: {}.",
                escape_peer(&self.error.to_string())
            ),
        }
    }

    /// Problems besides the main one (browsers list them all; OpenSSL stops at the first).
    fn other_problems(&self) -> Vec<String> {
        let Some(leaf) = self.chain.first() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let host_error = matches!(self.error.kind, CertErrorKind::HostMismatch { .. });
        if !host_error && !matches_host(leaf, self.host) {
            out.push(format!(
                "Also: the certificate is not for {}; it is valid for {}.",
                self.host,
                Some(names(leaf))
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "no names at all".into())
            ));
        }
        if self.error.kind != CertErrorKind::Expired && leaf.not_after() < self.now {
            out.push(format!(
                "Also: the certificate expired on {}.",
                openssl_date(leaf.not_after())
            ));
        }
        if self.error.kind != CertErrorKind::NotYetValid && leaf.not_before() > self.now {
            out.push(format!(
                "Also: the certificate is not valid before {}.",
                openssl_date(leaf.not_before())
            ));
        }
        out
    }
}

/// Read a choice: `b`/empty/EOF go back, `c` continues once, `r` continues and remembers.
pub fn parse_choice(answer: &str) -> Choice {
    match answer.trim().to_ascii_lowercase().as_str() {
        "c" | "continue" => Choice::ContinueOnce,
        "r" | "remember" => Choice::ContinueAndRemember,
        _ => Choice::GoBack,
    }
}

/// Chromium's code for the error (its interstitial shows `NET::ERR_...`).
pub fn chrome_code(e: &CertError) -> &'static str {
    match e.kind {
        CertErrorKind::UnknownIssuer
        | CertErrorKind::SelfSigned
        | CertErrorKind::SelfSignedInChain => "NET::ERR_CERT_AUTHORITY_INVALID",
        CertErrorKind::Expired | CertErrorKind::NotYetValid => "NET::ERR_CERT_DATE_INVALID",
        CertErrorKind::HostMismatch { .. } => "NET::ERR_CERT_COMMON_NAME_INVALID",
        CertErrorKind::UnsupportedAlgorithm(_) => "NET::ERR_CERT_WEAK_SIGNATURE_ALGORITHM",
        _ => "NET::ERR_CERT_INVALID",
    }
}

/// Firefox's code for the error.
pub fn firefox_code(e: &CertError) -> &'static str {
    match e.kind {
        CertErrorKind::SelfSigned => "MOZILLA_PKIX_ERROR_SELF_SIGNED_CERT",
        CertErrorKind::UnknownIssuer | CertErrorKind::SelfSignedInChain => {
            "SEC_ERROR_UNKNOWN_ISSUER"
        }
        CertErrorKind::Expired => "SEC_ERROR_EXPIRED_CERTIFICATE",
        CertErrorKind::NotYetValid => "MOZILLA_PKIX_ERROR_NOT_YET_VALID_CERTIFICATE",
        CertErrorKind::HostMismatch { .. } => "SSL_ERROR_BAD_CERT_DOMAIN",
        CertErrorKind::BadSignature => "SEC_ERROR_BAD_SIGNATURE",
        CertErrorKind::NotACa => "SEC_ERROR_CA_CERT_INVALID",
        CertErrorKind::PathTooLong => "SEC_ERROR_PATH_LEN_CONSTRAINT_INVALID",
        CertErrorKind::InvalidPurpose | CertErrorKind::NoKeyEncipherment => {
            "SEC_ERROR_INADEQUATE_CERT_TYPE"
        }
        CertErrorKind::KeyTooSmall { .. } => "MOZILLA_PKIX_ERROR_INADEQUATE_KEY_SIZE",
        CertErrorKind::UnsupportedAlgorithm(_) => "SEC_ERROR_CERT_SIGNATURE_ALGORITHM_DISABLED",
        CertErrorKind::UnhandledCriticalExtension(_) => "SEC_ERROR_UNKNOWN_CRITICAL_EXTENSION",
        // mozilla::pkix gives up building past its depth limit and reports an unknown issuer.
        CertErrorKind::ChainTooLong => "SEC_ERROR_UNKNOWN_ISSUER",
        CertErrorKind::Malformed(_) => "SEC_ERROR_BAD_DER",
        CertErrorKind::Profile {
            code: Some(47 | 48),
            ..
        } => "SEC_ERROR_CERT_NOT_IN_NAME_SPACE",
        CertErrorKind::Profile { .. } => "SEC_ERROR_EXTENSION_VALUE_INVALID",
    }
}

/// `DNS:localhost, IP:127.0.0.1` (the names escaped: a SAN is an IA5String, which holds ESC).
pub fn names(cert: &Certificate) -> String {
    cert.dns_names()
        .iter()
        .map(|n| format!("DNS:{}", escape_peer(n)))
        .chain(cert.ip_addresses().iter().map(|ip| format!("IP:{ip}")))
        .collect::<Vec<_>>()
        .join(", ")
}

fn details(out: &mut String, leaf: &Certificate) {
    let _ = writeln!(
        out,
        "    Subject:     {}",
        escape_peer(&leaf.subject().to_curl_string())
    );
    let _ = writeln!(
        out,
        "    Issuer:      {}",
        escape_peer(&leaf.issuer().to_curl_string())
    );
    let _ = writeln!(out, "    Valid from:  {}", openssl_date(leaf.not_before()));
    let _ = writeln!(out, "    Valid until: {}", openssl_date(leaf.not_after()));
    let _ = writeln!(out, "    Names (SAN): {}", names(leaf));
    let _ = writeln!(
        out,
        "    SHA-256:     {}",
        fingerprint_text(&leaf.sha256_fingerprint())
    );
}

/// Greedy word wrap.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices() {
        assert_eq!(parse_choice(""), Choice::GoBack);
        assert_eq!(parse_choice("x"), Choice::GoBack);
        assert_eq!(parse_choice(" C\n"), Choice::ContinueOnce);
        assert_eq!(parse_choice("r"), Choice::ContinueAndRemember);
    }

    #[test]
    fn codes_follow_the_browsers() {
        let e = |k| CertError::new(k, 0);
        assert_eq!(
            chrome_code(&e(CertErrorKind::SelfSigned)),
            "NET::ERR_CERT_AUTHORITY_INVALID"
        );
        assert_eq!(
            firefox_code(&e(CertErrorKind::SelfSigned)),
            "MOZILLA_PKIX_ERROR_SELF_SIGNED_CERT"
        );
        assert_eq!(
            firefox_code(&e(CertErrorKind::UnknownIssuer)),
            "SEC_ERROR_UNKNOWN_ISSUER"
        );
        assert_eq!(
            chrome_code(&e(CertErrorKind::Expired)),
            "NET::ERR_CERT_DATE_INVALID"
        );
        let host = CertErrorKind::HostMismatch { host: "x".into() };
        assert_eq!(
            chrome_code(&e(host.clone())),
            "NET::ERR_CERT_COMMON_NAME_INVALID"
        );
        assert_eq!(firefox_code(&e(host)), "SSL_ERROR_BAD_CERT_DOMAIN");
    }

    #[test]
    fn dates_like_openssl() {
        assert_eq!(openssl_date(0), "Jan  1 00:00:00 1970 GMT");
        assert_eq!(openssl_date(1_795_000_000), "Nov 18 11:06:40 2026 GMT");
    }

    #[test]
    fn wraps_words() {
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert!(wrap("", 5).is_empty());
    }
}
