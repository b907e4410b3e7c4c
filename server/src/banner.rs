//! The startup banner on stdout: where we listen, the certificate and its CA, the limits, and
//! how to fetch a page with trust in that CA.

use crate::certs::LocalCa;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tls::pki::x509::{hex_colon, Certificate};
use tls::suites::CipherSuite;

/// The facts the banner is made of.
pub struct BannerFacts<'a> {
    pub https: SocketAddr,
    pub http: Option<SocketAddr>,
    pub root: Option<&'a Path>,
    pub chain: &'a [Vec<u8>],
    pub local_ca: Option<&'a LocalCa>,
    pub certs_dir: &'a Path,
    pub suites: &'a [&'static CipherSuite],
    pub key_log: Option<&'a Path>,
    pub max_connections: usize,
    pub handshake_timeout: Duration,
    pub send_timeout: Duration,
    /// The gallery of broken certificates: (kind, URL).
    pub gallery: &'a [(String, String)],
    pub header_timeout: Duration,
    pub keepalive_timeout: Duration,
    pub max_memory: u64,
    pub open_files: crate::limits::OpenFiles,
    /// Mutual TLS (`--client-ca`), when on.
    pub client_auth: Option<&'a tls::config::ClientAuth>,
}

/// The startup banner: python's one-liner, miniserve's URL list, and the trust facts.
pub fn banner(f: &BannerFacts<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "server {} — HTTPS with a hand-rolled TLS 1.2",
        env!("CARGO_PKG_VERSION")
    );
    match f.root {
        Some(root) => {
            let _ = writeln!(out, "Serving path {}", root.display());
        }
        None => {
            let _ = writeln!(
                out,
                "Serving the built-in site (it shows each visitor their own connection)"
            );
        }
    }
    let _ = writeln!(out, "Listening on https://{}/", f.https);
    if let Some(http) = f.http {
        let _ = writeln!(
            out,
            "Listening on http://{http}/ (plain HTTP, same content: compare what a capture sees)"
        );
    }
    if let Some(leaf) = f.chain.first().and_then(|d| Certificate::from_der(d).ok()) {
        let names: Vec<String> = leaf
            .dns_names()
            .iter()
            .cloned()
            .chain(leaf.ip_addresses().iter().map(|ip| ip.to_string()))
            .collect();
        let _ = writeln!(
            out,
            "Certificate: {}  SANs: {}",
            leaf.subject(),
            names.join(", ")
        );
        let days = (leaf.not_after() - time::OffsetDateTime::now_utc().unix_timestamp()) / 86_400;
        let _ = writeln!(
            out,
            "  issued by: {}   expires: {} ({days} days)",
            leaf.issuer(),
            leaf.not_after_time().date()
        );
    }
    let _ = writeln!(
        out,
        "Cipher suites: {}",
        f.suites
            .iter()
            .map(|s| s.name)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "Limits: {} connections at once (then the least busy is shed), {}s to finish a handshake, {}s without write progress",
        f.max_connections,
        f.handshake_timeout.as_secs_f64(),
        f.send_timeout.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "  {}s for a request head, {}s idle between requests",
        f.header_timeout.as_secs_f64(),
        f.keepalive_timeout.as_secs_f64()
    );
    let per = crate::limits::PER_CONNECTION;
    let _ = writeln!(
        out,
        "Memory: at most ~{} KiB per waiting connection, ~{} MiB for {}; new connections refused above {} MiB resident",
        per / 1024,
        (per * f.max_connections as u64).div_ceil(1024 * 1024),
        f.max_connections,
        f.max_memory / (1024 * 1024)
    );
    match (f.open_files.before, f.open_files.now) {
        (Some(before), Some(now)) if now > before => {
            let _ = writeln!(
                out,
                "Open files: limit raised from {before} to {now} (the hard limit)"
            );
        }
        (_, Some(now)) => {
            let _ = writeln!(out, "Open files: limit {now}");
        }
        _ => {
            let _ = writeln!(out, "Open files: no limit");
        }
    }
    if let Some(auth) = f.client_auth {
        let cas = auth
            .roots
            .iter()
            .map(|ca| ca.subject().to_string())
            .collect::<Vec<_>>();
        let _ = writeln!(
            out,
            "Client certificates: {} (mutual TLS), issued by: {}",
            if auth.required {
                "required"
            } else {
                "optional (without one, a visitor is anonymous)"
            },
            cas.join("; ")
        );
    }
    if let Some(path) = f.key_log {
        let _ = writeln!(
            out,
            "Key log: {} — anyone with this file can decrypt captured traffic",
            path.display()
        );
    }
    let url = format!("https://{}/", crate::url_host(f.https));
    let _ = writeln!(out, "Available at:\n    {url}");
    if f.https.ip().is_loopback() || f.https.ip().is_unspecified() {
        let _ = writeln!(out, "    https://127.0.0.1:{}/", f.https.port());
    }
    if !f.gallery.is_empty() {
        let _ = writeln!(
            out,
            "Gallery of broken certificates (also at {url}gallery.json):"
        );
        for (kind, gallery_url) in f.gallery {
            let _ = writeln!(out, "    {kind:<20} {gallery_url}");
        }
    }
    match f.local_ca {
        Some(ca) => {
            let cacert = ca.cert_path.display();
            let _ = writeln!(
                out,
                "Local CA{}: {cacert} ({})\n  SHA-256: {}",
                if ca.created { " (new)" } else { "" },
                ca.certificate.subject(),
                hex_colon(&ca.certificate.sha256_fingerprint(), true)
            );
            let _ = writeln!(out, "Fetch with trust in that CA:");
            let _ = writeln!(out, "    curl --cacert {cacert} {url}");
            let _ = writeln!(out, "    client --cacert {cacert} {url}");
            let _ = writeln!(
                out,
                "    (from the repository: cargo run -p client -- --cacert {cacert} {url})"
            );
        }
        None => {
            let _ = writeln!(
                out,
                "Fetch with: curl --cacert <the CA that signed your certificate> {url}"
            );
            let _ = writeln!(
                out,
                "  (without --cert/--key the server uses a local CA in {})",
                f.certs_dir.display()
            );
        }
    }
    let _ = writeln!(out, "Quit by pressing CTRL-C");
    out
}
