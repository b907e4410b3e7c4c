//! Trust anchors: the root certificates a client believes (RFC 5280 §6.1.1 (d)). They come from
//! a PEM bundle we are given (`--cacert`), or the operating system's bundle.
//!
//! A system bundle holds roots of every kind (RSA, ECDSA, ...). All of them load; one that we
//! cannot parse at all is counted and skipped rather than failing the whole bundle, because
//! one odd root must not make every site untrusted.

use super::pem;
use super::x509::Certificate;
use super::{CertError, CertErrorKind};
use std::path::{Path, PathBuf};

/// Where distributions keep their CA bundle, in the order curl and OpenSSL builds look.
pub const SYSTEM_BUNDLE_PATHS: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/usr/local/etc/openssl/cert.pem",
];

/// A set of trusted root certificates.
#[derive(Clone, Debug, Default)]
pub struct TrustStore {
    anchors: Vec<Certificate>,
    skipped: usize,
    source: Option<PathBuf>,
}

impl TrustStore {
    /// An empty store: nothing is trusted.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every certificate in a PEM bundle. A bundle with no certificate, or one where no block
    /// parses, is an error; single unparseable blocks among good ones are skipped and counted.
    pub fn from_pem(pem_bytes: &[u8]) -> Result<Self, CertError> {
        let mut store = Self::new();
        let mut first_error = None;
        for der in pem::parse_certificates(pem_bytes)? {
            match Certificate::from_der(&der) {
                Ok(cert) => store.add(cert),
                Err(e) => {
                    store.skipped += 1;
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) if store.anchors.is_empty() => Err(e),
            _ => Ok(store),
        }
    }

    /// Read a PEM bundle file.
    pub fn from_pem_file(path: &Path) -> Result<Self, TrustError> {
        let bytes = std::fs::read(path).map_err(|e| TrustError::Io(path.to_path_buf(), e))?;
        let mut store =
            Self::from_pem(&bytes).map_err(|e| TrustError::Certificate(path.to_path_buf(), e))?;
        store.source = Some(path.to_path_buf());
        Ok(store)
    }

    /// The system's roots: `$SSL_CERT_FILE` if set, else the first bundle found in
    /// [`SYSTEM_BUNDLE_PATHS`].
    pub fn system() -> Result<Self, TrustError> {
        if let Some(file) = std::env::var_os("SSL_CERT_FILE") {
            return Self::from_pem_file(Path::new(&file));
        }
        for path in SYSTEM_BUNDLE_PATHS {
            let path = Path::new(path);
            if path.is_file() {
                return Self::from_pem_file(path);
            }
        }
        Err(TrustError::NoSystemBundle)
    }

    /// Trust one more certificate (duplicates are ignored).
    pub fn add(&mut self, cert: Certificate) {
        if !self.contains(&cert) {
            self.anchors.push(cert);
        }
    }

    /// Whether exactly this certificate (same DER) is trusted.
    pub fn contains(&self, cert: &Certificate) -> bool {
        self.anchors.iter().any(|a| a.der() == cert.der())
    }

    /// Anchors whose subject is `issuer_name_der` (candidates to have signed a certificate).
    pub fn by_subject<'a>(
        &'a self,
        issuer_name_der: &'a [u8],
    ) -> impl Iterator<Item = &'a Certificate> + 'a {
        self.anchors
            .iter()
            .filter(move |a| a.subject().der() == issuer_name_der)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Certificate> {
        self.anchors.iter()
    }

    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// How many blocks of the bundle could not be parsed and were left out.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// The file the store was read from, if any.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }
}

/// Why a trust store could not be loaded.
#[derive(Debug)]
pub enum TrustError {
    Io(PathBuf, std::io::Error),
    Certificate(PathBuf, CertError),
    /// No `SSL_CERT_FILE` and none of the usual bundle paths exist.
    NoSystemBundle,
}

impl std::fmt::Display for TrustError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(p, e) => write!(f, "cannot read {}: {e}", p.display()),
            Self::Certificate(p, e) => write!(f, "{}: {e}", p.display()),
            Self::NoSystemBundle => write!(
                f,
                "no system CA bundle found (set SSL_CERT_FILE; looked in {})",
                SYSTEM_BUNDLE_PATHS.join(", ")
            ),
        }
    }
}

impl std::error::Error for TrustError {}

impl From<TrustError> for CertError {
    fn from(e: TrustError) -> Self {
        match e {
            TrustError::Certificate(_, c) => c,
            other => CertError::new(CertErrorKind::Malformed(other.to_string()), 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_bundle_loads_including_non_rsa_roots() {
        // Needs a real bundle: a machine without one fails here, naming the package, rather
        // than passing without having checked anything.
        let path = SYSTEM_BUNDLE_PATHS
            .iter()
            .map(Path::new)
            .find(|p| p.is_file())
            .unwrap_or_else(|| {
                panic!(
                    "no system CA bundle in {SYSTEM_BUNDLE_PATHS:?}: install the Debian package \
                     `ca-certificates`"
                )
            });
        let store = TrustStore::from_pem_file(path).unwrap();
        assert!(store.len() > 50, "only {} roots", store.len());
        assert_eq!(store.skipped(), 0, "some system roots failed to parse");
        let ec_roots = store
            .iter()
            .filter(|c| c.public_key_algorithm_name() == "id-ecPublicKey")
            .count();
        assert!(ec_roots > 0);
        assert!(store.iter().all(|c| c.is_self_issued() || c.is_ca()));
    }

    #[test]
    fn garbage_bundle_is_an_error() {
        assert!(TrustStore::from_pem(b"not pem").is_err());
        let broken = pem::encode_certificate(&[0x30, 0x03, 0x02, 0x01, 0x01]);
        assert!(TrustStore::from_pem(broken.as_bytes()).is_err());
        assert!(matches!(
            TrustStore::from_pem_file(Path::new("/nonexistent/ca.pem")),
            Err(TrustError::Io(..))
        ));
    }
}
