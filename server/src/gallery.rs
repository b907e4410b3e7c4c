//! The gallery of broken certificates (`--gallery`, on with the built-in site): extra HTTPS
//! listeners, each with a certificate that is wrong in one way, in the spirit of badssl.com.
//! Each serves a page saying what is wrong and what Chromium, Firefox, curl, OpenSSL and our
//! client show for it (codes as recorded in reference/browsers.md and ecosystem.md §1.5).
//!
//! The certificates are made at start by our PKI code (RFC 5280 profiles from
//! [`tls::pki::x509::CertificateBuilder`]) and written to `<certs>/gallery/`. Every leaf uses
//! the server's own key (the certificates are what is wrong, not the key); one more key, made
//! once and kept, belongs to the extra CAs (the unknown root and the intermediate the
//! incomplete chain leaves out).

use crate::html::escape;
use crate::ServerError;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tls::crypto::rsa::RsaPrivateKey;
use tls::pki::keys;
use tls::pki::local_ca;
use tls::pki::x509::{Certificate, CertificateBuilder};

/// The ways a certificate can be wrong here, in the order of their ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Expired,
    NotYetValid,
    WrongHost,
    SelfSigned,
    UnknownRoot,
    IncompleteChain,
    Changed,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Expired,
        Kind::NotYetValid,
        Kind::WrongHost,
        Kind::SelfSigned,
        Kind::UnknownRoot,
        Kind::IncompleteChain,
        Kind::Changed,
    ];

    /// The name in `/gallery.json`, the banner and the file names.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Expired => "expired",
            Kind::NotYetValid => "not-yet-valid",
            Kind::WrongHost => "wrong-host",
            Kind::SelfSigned => "self-signed",
            Kind::UnknownRoot => "unknown-root",
            Kind::IncompleteChain => "incomplete-chain",
            Kind::Changed => "certificate-changed",
        }
    }

    /// What is wrong, in a sentence.
    pub fn what(self) -> &'static str {
        match self {
            Kind::Expired => {
                "The certificate's validity ended on 1 February 2024. It was issued by the \
                 local CA you trust, for this very name: only the date is wrong."
            }
            Kind::NotYetValid => {
                "The certificate's validity starts a year from now. Issued by the trusted local \
                 CA for this name: only the date is wrong (or your clock is)."
            }
            Kind::WrongHost => {
                "The certificate is valid and issued by the trusted local CA, but for \
                 wrong.example, not for localhost or 127.0.0.1."
            }
            Kind::SelfSigned => {
                "The certificate signs itself: no certificate authority vouches for it. Anyone \
                 can make one for any name."
            }
            Kind::UnknownRoot => {
                "The certificate was issued by \"Unknown Root CA\", a CA made for this gallery \
                 that no client trusts."
            }
            Kind::IncompleteChain => {
                "The certificate was issued by an intermediate CA which the trusted local CA \
                 signed — but the server does not send the intermediate, so a client cannot \
                 link the certificate to the root it trusts."
            }
            Kind::Changed => {
                "A self-signed certificate, and this port has two of them for the same host. \
                 Accept and remember the first, then switch: the client that remembered it sees \
                 a different certificate, as it would under a man-in-the-middle."
            }
        }
    }

    /// (Chromium, Firefox) error codes.
    pub fn browser_codes(self) -> (&'static str, &'static str) {
        match self {
            Kind::Expired => (
                "NET::ERR_CERT_DATE_INVALID",
                "SEC_ERROR_EXPIRED_CERTIFICATE",
            ),
            Kind::NotYetValid => (
                "NET::ERR_CERT_DATE_INVALID",
                "MOZILLA_PKIX_ERROR_NOT_YET_VALID_CERTIFICATE",
            ),
            Kind::WrongHost => (
                "NET::ERR_CERT_COMMON_NAME_INVALID",
                "SSL_ERROR_BAD_CERT_DOMAIN",
            ),
            Kind::SelfSigned | Kind::Changed => (
                "NET::ERR_CERT_AUTHORITY_INVALID",
                "MOZILLA_PKIX_ERROR_SELF_SIGNED_CERT",
            ),
            Kind::UnknownRoot | Kind::IncompleteChain => (
                "NET::ERR_CERT_AUTHORITY_INVALID",
                "SEC_ERROR_UNKNOWN_ISSUER",
            ),
        }
    }

    /// `openssl s_client -verify_return_error` with the local CA: (code, text).
    pub fn openssl(self) -> (u32, &'static str) {
        match self {
            Kind::Expired => (10, "certificate has expired"),
            Kind::NotYetValid => (9, "certificate is not yet valid"),
            Kind::WrongHost => (62, "hostname mismatch"),
            Kind::SelfSigned | Kind::Changed => (18, "self-signed certificate"),
            Kind::UnknownRoot | Kind::IncompleteChain => {
                (20, "unable to get local issuer certificate")
            }
        }
    }

    /// curl's message (exit 60) with the local CA as `--cacert`.
    pub fn curl(self) -> &'static str {
        match self {
            Kind::Expired => "SSL certificate problem: certificate has expired",
            Kind::NotYetValid => "SSL certificate problem: certificate is not yet valid",
            Kind::WrongHost => {
                "SSL: no alternative certificate subject name matches target host name 'localhost'"
            }
            Kind::SelfSigned | Kind::Changed => "SSL certificate problem: self-signed certificate",
            Kind::UnknownRoot | Kind::IncompleteChain => {
                "SSL certificate problem: unable to get local issuer certificate"
            }
        }
    }

    /// What our client says (exit 60; `-k` continues with a one-line warning).
    pub fn our_client(self) -> String {
        let (chromium, firefox) = self.browser_codes();
        let (code, _) = self.openssl();
        let headline = match self {
            Kind::Changed => {
                "first “Your connection is not private”; once a certificate is remembered                  ([r] at the prompt) and the port switches, “WARNING: THE CERTIFICATE OF                  LOCALHOST:PORT HAS CHANGED”"
            }
            _ => "“Your connection is not private”",
        };
        format!("{headline}, with Error code: {chromium} ({firefox}; OpenSSL {code})")
    }
}

/// One gallery listener's certificates: usually one chain; two for [`Kind::Changed`].
pub struct Station {
    pub kind: Kind,
    pub configs: Vec<Arc<tls::ServerConfig>>,
    /// The chains (leaf first) of `configs`, for the page.
    pub chains: Vec<Vec<Vec<u8>>>,
    /// Which config the next handshake uses.
    current: AtomicUsize,
    /// Where the files are, for the page (the intermediate for the incomplete chain).
    pub files: Vec<PathBuf>,
}

impl Station {
    /// The configuration for the next handshake.
    pub fn config(&self) -> Option<Arc<tls::ServerConfig>> {
        let i = self.current.load(Ordering::Relaxed);
        self.configs.get(i).or(self.configs.first()).cloned()
    }

    pub fn current(&self) -> usize {
        self.current.load(Ordering::Relaxed)
    }

    /// Serve the other certificate from the next handshake on.
    pub fn switch(&self) -> usize {
        let n = self.configs.len().max(1);
        let next = (self.current.load(Ordering::Relaxed) + 1) % n;
        self.current.store(next, Ordering::Relaxed);
        next
    }
}

/// Make (or remake) every gallery certificate in `<certs_dir>/gallery/`, signed where needed
/// by the local CA in `certs_dir`. `common` gives the suites and key log of the main listener;
/// `leaf_key` is the server's key.
pub fn make(
    certs_dir: &Path,
    common: &tls::config::Common,
    leaf_key: &RsaPrivateKey,
    say: &mut dyn FnMut(String),
) -> Result<Vec<Station>, ServerError> {
    let dir = certs_dir.join("gallery");
    let (ca_path, ca_key_path) = local_ca::pair_paths(&certs_dir.join(local_ca::CA_STEM));
    let (ca_chain, ca_key) = local_ca::read_ca(&ca_path, &ca_key_path)
        .map_err(|e| ServerError::new(format!("gallery: {e}")))?;
    let ca = ca_chain
        .first()
        .ok_or_else(|| ServerError::new("gallery: the CA file holds no certificate"))?;
    let ca2_key = key(&dir.join("ca-key.pem"), say)?;
    let fail = |e: tls::pki::x509::BuildError| ServerError::new(format!("gallery: {e}"));
    let now = tls::text::unix_now();
    let local = ["localhost", "127.0.0.1", "::1"];
    let server = |names: &[&str]| CertificateBuilder::server(names).map_err(fail);
    let org = "server gallery (deliberately broken)";

    let mut stations = Vec::new();
    for kind in Kind::ALL {
        let chains: Vec<Vec<Certificate>> = match kind {
            Kind::Expired => vec![vec![server(&local)?
                .organization(org)
                // 2024-01-01 to 2024-02-01, the dates reference/browsers.md was recorded with.
                .validity(1_704_067_200, 1_706_745_600)
                .sign(leaf_key.public_key(), ca, &ca_key)
                .map_err(fail)?]],
            Kind::NotYetValid => vec![vec![server(&local)?
                .organization(org)
                .validity(now + 365 * 86_400, now + 2 * 365 * 86_400)
                .sign(leaf_key.public_key(), ca, &ca_key)
                .map_err(fail)?]],
            Kind::WrongHost => vec![vec![server(&["wrong.example"])?
                .organization(org)
                .sign(leaf_key.public_key(), ca, &ca_key)
                .map_err(fail)?]],
            Kind::SelfSigned => vec![vec![server(&local)?
                .organization(org)
                .self_signed(leaf_key)
                .map_err(fail)?]],
            Kind::UnknownRoot => {
                let root = CertificateBuilder::root_ca("Unknown Root CA")
                    .organization(org)
                    .self_signed(&ca2_key)
                    .map_err(fail)?;
                write_pem(
                    &dir.join("unknown-root-ca.pem"),
                    std::slice::from_ref(&root),
                )?;
                vec![vec![server(&local)?
                    .organization(org)
                    .sign(leaf_key.public_key(), &root, &ca2_key)
                    .map_err(fail)?]]
            }
            Kind::IncompleteChain => {
                let intermediate =
                    CertificateBuilder::intermediate_ca("Gallery Intermediate CA", Some(0))
                        .organization(org)
                        .sign(ca2_key.public_key(), ca, &ca_key)
                        .map_err(fail)?;
                write_pem(
                    &dir.join("intermediate.pem"),
                    std::slice::from_ref(&intermediate),
                )?;
                vec![vec![server(&local)?
                    .organization(org)
                    .sign(leaf_key.public_key(), &intermediate, &ca2_key)
                    .map_err(fail)?]]
            }
            Kind::Changed => {
                // Two self-signed certificates for the same names: same key, different
                // serial and dates, so different fingerprints.
                let first = server(&local)?
                    .organization(org)
                    .common_name("localhost (first)")
                    .self_signed(leaf_key)
                    .map_err(fail)?;
                let second = server(&local)?
                    .organization(org)
                    .common_name("localhost (second)")
                    .validity(now - 86_400, now + 300 * 86_400)
                    .self_signed(leaf_key)
                    .map_err(fail)?;
                vec![vec![first], vec![second]]
            }
        };
        let mut files = Vec::new();
        let mut configs = Vec::new();
        let mut ders = Vec::new();
        for (i, chain) in chains.iter().enumerate() {
            let path = dir.join(if chains.len() > 1 {
                format!("{}-{}.pem", kind.name(), i + 1)
            } else {
                format!("{}.pem", kind.name())
            });
            write_pem(&path, chain)?;
            files.push(path);
            let der: Vec<Vec<u8>> = chain.iter().map(|c| c.der().to_vec()).collect();
            let mut config = tls::ServerConfig::new(der.clone(), leaf_key.clone())
                .map_err(|e| ServerError::new(format!("gallery {}: {e}", kind.name())))?;
            config.common.suites = common.suites.clone();
            config.common.key_log = common.key_log.clone();
            configs.push(Arc::new(config));
            ders.push(der);
        }
        if kind == Kind::IncompleteChain {
            files.push(dir.join("intermediate.pem"));
        }
        if kind == Kind::UnknownRoot {
            files.push(dir.join("unknown-root-ca.pem"));
        }
        stations.push(Station {
            kind,
            configs,
            chains: ders,
            current: AtomicUsize::new(0),
            files,
        });
    }
    Ok(stations)
}

/// The key at `path`, made (2048-bit RSA) on first use.
fn key(path: &Path, say: &mut dyn FnMut(String)) -> Result<RsaPrivateKey, ServerError> {
    if let Ok(k) = keys::read_private_key(path) {
        return Ok(k);
    }
    say(format!("Gallery: making a key in {}", path.display()));
    let k = local_ca::generate_key(local_ca::DEFAULT_KEY_BITS, &mut |_| {})
        .map_err(|e| ServerError::new(format!("gallery: {e}")))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| ServerError::new(format!("cannot create {}: {e}", dir.display())))?;
    }
    // Written aside, then renamed: servers starting together never read half a key.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    keys::write_private_key(&tmp, &k, true)
        .and_then(|()| std::fs::rename(&tmp, path).map_err(Into::into))
        .map_err(|e| ServerError::new(format!("{}: {e}", path.display())))?;
    Ok(k)
}

fn write_pem(path: &Path, chain: &[Certificate]) -> Result<(), ServerError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| ServerError::new(format!("cannot create {}: {e}", dir.display())))?;
    }
    let text: String = chain
        .iter()
        .map(|c| tls::pki::pem::encode_certificate(c.der()))
        .collect();
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| ServerError::new(format!("cannot write {}: {e}", path.display())))
}

/// `[{"kind": "expired", "url": "https://localhost:8444/"}, …]`
pub fn json(list: &[(String, String)]) -> String {
    let items: Vec<String> = list
        .iter()
        .map(|(kind, url)| {
            format!(
                "{{\"kind\": \"{}\", \"url\": \"{}\"}}",
                json_escape(kind),
                json_escape(url)
            )
        })
        .collect();
    format!("[{}]\n", items.join(", "))
}

fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// The page every gallery listener serves.
pub fn page(station: &Station, main_url: &str) -> String {
    let kind = station.kind;
    let (chromium, firefox) = kind.browser_codes();
    let (code, text) = kind.openssl();
    let current = station.current();
    let mut certs = String::new();
    for (i, chain) in station.chains.iter().enumerate() {
        if station.chains.len() > 1 {
            let _ = write!(
                certs,
                "<h3>Certificate {}{}</h3>",
                i + 1,
                if i == current { " (served now)" } else { "" }
            );
        }
        for der in chain {
            let c = crate::site::CertSummary::from_der(der);
            let _ = write!(
                certs,
                "<table><tr><th>Subject</th><td>{}</td></tr><tr><th>Issuer</th><td>{}</td></tr>\
<tr><th>Valid</th><td>{} to {}</td></tr><tr><th>Names</th><td>{}</td></tr>\
<tr><th>SHA-256</th><td><span class=\"hex\">{}</span></td></tr></table>",
                escape(&c.subject),
                escape(&c.issuer),
                escape(&c.not_before),
                escape(&c.not_after),
                escape(&c.names.join(", ")),
                escape(&c.sha256)
            );
        }
    }
    let switch = if kind == Kind::Changed {
        "<form method=\"post\" action=\"/switch\"><p><button type=\"submit\">Switch to the other \
         certificate</button> then reload this page: a client that remembered the certificate now \
         sees a different one.</p></form>"
    } else {
        ""
    };
    let fix = match kind {
        Kind::IncompleteChain => "<p>Give the client the missing intermediate and it succeeds: \
            <code>curl --cacert bundle.pem</code> where bundle.pem is <code>certs/ca.pem</code> followed by \
            <code>certs/gallery/intermediate.pem</code>. Browsers sometimes hide this mistake by \
            fetching or caching intermediates; that is why it slips through testing.</p>",
        _ => "",
    };
    let files: Vec<String> = station
        .files
        .iter()
        .map(|f| format!("<code>{}</code>", escape(&f.display().to_string())))
        .collect();
    crate::html::page(
        &format!("Gallery: {}", kind.name()),
        &format!(
            "<header class=\"plain\"><h1>Broken on purpose: {name}</h1><p>{what}</p></header>\n\
<main class=\"narrow\"><section><h2>What clients say</h2><table>\
<tr><th>Chromium</th><td><code>{chromium}</code></td></tr>\
<tr><th>Firefox</th><td><code>{firefox}</code></td></tr>\
<tr><th>curl (exit 60)</th><td><code>{curl}</code></td></tr>\
<tr><th>OpenSSL (<code>s_client -verify_return_error</code>)</th><td>verify error {code}: <code>{text}</code></td></tr>\
<tr><th>Our client (exit 60; <code>-k</code> continues with a warning)</th><td>{ours}</td></tr></table>\
<p class=\"small muted\">If you are reading this, your browser let you through: you clicked past its warning \
(or were told to ignore certificate errors). That is the click the warning exists to stop.</p></section>\n\
<section><h2>The certificate served</h2>{certs}{switch}{fix}<p class=\"small\">Files: {files}</p></section>\n\
<p><a href=\"{main}\">Back to the main site</a></p></main><style>{style}</style>",
            name = escape(kind.name()),
            what = escape(kind.what()),
            curl = escape(kind.curl()),
            ours = escape(&kind.our_client()),
            files = files.join(", "),
            main = escape(main_url),
            style = crate::lab::LAB_STYLE,
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lists_kinds_and_urls_escaped() {
        let list = vec![
            ("expired".to_string(), "https://localhost:8444/".to_string()),
            ("a\"b".to_string(), "x\\y".to_string()),
        ];
        assert_eq!(
            json(&list),
            "[{\"kind\": \"expired\", \"url\": \"https://localhost:8444/\"}, {\"kind\": \"a\\\"b\", \"url\": \"x\\\\y\"}]\n"
        );
    }
}
