//! A local certificate authority for development HTTPS, in the spirit of mkcert: create a root
//! CA, issue a server certificate signed by it, write each as a `PREFIX.pem` (certificate, then
//! its chain) and `PREFIX-key.pem` (the key, mode 0600) pair, and read such files back.
//!
//! `ca-tool init` / `ca-tool issue` and the server's first run (no `--cert`) both go through
//! [`init`] and [`issue`], so their files, names and keys are the same by construction.
//! Profiles and validity: RFC 5280 §4.2 as built by [`CertificateBuilder`].

use crate::crypto::rsa::{KeygenEvent, RsaPrivateKey};
use crate::pki::keys::{self, KeyError};
use crate::pki::pem;
use crate::pki::x509::{Certificate, CertificateBuilder};
use crate::pki::CertError;
use std::path::{Path, PathBuf};

/// `ca-tool init`'s default `--name`: the root is called `"<name> Root CA"`.
pub const DEFAULT_NAME: &str = "ca-tool";
/// The organizationName (O) of what we create unless told otherwise.
pub const DEFAULT_ORGANIZATION: &str = "ca-tool development CA";
/// RSA key size unless told otherwise.
pub const DEFAULT_KEY_BITS: usize = 2048;
/// Where the files go by default, and the CA's file prefix in there.
pub const DEFAULT_DIR: &str = "certs";
pub const CA_STEM: &str = "ca";

/// Why a local-CA operation failed.
#[derive(Debug)]
pub enum LocalCaError {
    /// The request or an input file is unusable: a bad host name, an unreadable CA.
    Input(String),
    /// Making or writing the result failed.
    Failed(String),
}

impl std::fmt::Display for LocalCaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Input(m) | Self::Failed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for LocalCaError {}

/// How to make a certificate and its key.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    pub organization: &'a str,
    pub key_bits: usize,
    /// `(not_before, not_after)` in Unix seconds; `None`: from now for the profile's default.
    pub validity: Option<(i64, i64)>,
    /// Replace an existing key file.
    pub force: bool,
}

impl Default for Request<'_> {
    fn default() -> Self {
        Self {
            organization: DEFAULT_ORGANIZATION,
            key_bits: DEFAULT_KEY_BITS,
            validity: None,
            force: false,
        }
    }
}

/// What was made and where it was written.
pub struct Issued {
    pub certificate: Certificate,
    /// What `cert_path` holds: the certificate, then the issuing CAs short of the root.
    pub chain: Vec<Certificate>,
    pub key: RsaPrivateKey,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
}

/// A CA to sign with: its certificate first, then its own chain; and its key.
pub struct Signer<'a> {
    pub chain: &'a [Certificate],
    pub key: &'a RsaPrivateKey,
}

/// Create a root CA named `"<name> Root CA"` and write it to `PREFIX.pem` / `PREFIX-key.pem`.
/// `progress` hears about key generation (a spinner, or nothing).
pub fn init(
    prefix: &Path,
    name: &str,
    request: &Request<'_>,
    progress: &mut dyn FnMut(KeygenEvent),
) -> Result<Issued, LocalCaError> {
    let builder = with_validity(
        CertificateBuilder::root_ca(&format!("{name} Root CA")).organization(request.organization),
        request,
    );
    let key = generate_key(request.key_bits, progress)?;
    let certificate = builder
        .self_signed(&key)
        .map_err(|e| LocalCaError::Failed(format!("cannot make the CA: {e}")))?;
    finish(prefix, certificate, Vec::new(), key, request.force)
}

/// Issue a server certificate for `names` (host names and IP addresses; the first is also the
/// CN), signed by `ca` or self-signed without one, and write it to `PREFIX.pem` (leaf, then the
/// CA's chain short of the root) and `PREFIX-key.pem`.
pub fn issue<S: AsRef<str>>(
    prefix: &Path,
    names: &[S],
    ca: Option<&Signer<'_>>,
    request: &Request<'_>,
    progress: &mut dyn FnMut(KeygenEvent),
) -> Result<Issued, LocalCaError> {
    let builder = CertificateBuilder::server(names)
        .map_err(|e| LocalCaError::Input(e.to_string()))?
        .organization(request.organization);
    let builder = with_validity(builder, request);
    let key = generate_key(request.key_bits, progress)?;
    let (certificate, rest) = match ca {
        Some(ca) => (sign_with(&builder, &key, ca)?, chain_without_root(ca.chain)),
        None => (
            builder
                .self_signed(&key)
                .map_err(|e| LocalCaError::Failed(e.to_string()))?,
            Vec::new(),
        ),
    };
    finish(prefix, certificate, rest, key, request.force)
}

/// Issue a client certificate (mutual TLS: EKU clientAuth, keyUsage digitalSignature) for
/// `name` (the CN), with `email` as an rfc822Name subjectAltName, signed by `ca`; written like
/// [`issue`]'s.
pub fn issue_client(
    prefix: &Path,
    name: &str,
    email: Option<&str>,
    ca: &Signer<'_>,
    request: &Request<'_>,
    progress: &mut dyn FnMut(KeygenEvent),
) -> Result<Issued, LocalCaError> {
    let builder = CertificateBuilder::client(name, email)
        .map_err(|e| LocalCaError::Input(e.to_string()))?
        .organization(request.organization);
    let builder = with_validity(builder, request);
    let key = generate_key(request.key_bits, progress)?;
    let certificate = sign_with(&builder, &key, ca)?;
    finish(
        prefix,
        certificate,
        chain_without_root(ca.chain),
        key,
        request.force,
    )
}

/// Sign what `builder` describes, for `key`, with the CA `ca`.
pub fn sign_with(
    builder: &CertificateBuilder,
    key: &RsaPrivateKey,
    ca: &Signer<'_>,
) -> Result<Certificate, LocalCaError> {
    let ca_cert = ca
        .chain
        .first()
        .ok_or_else(|| LocalCaError::Input("the CA file holds no certificate".into()))?;
    builder
        .sign(key.public_key(), ca_cert, ca.key)
        .map_err(|e| LocalCaError::Failed(format!("cannot issue the certificate: {e}")))
}

/// A CA file's certificates minus self-signed roots: what a server sends after its leaf
/// (clients already hold the root; that is what trusting it means).
pub fn chain_without_root(ca_chain: &[Certificate]) -> Vec<Certificate> {
    ca_chain
        .iter()
        .filter(|c| !c.is_self_issued())
        .cloned()
        .collect()
}

/// An RSA key of `bits` bits.
pub fn generate_key(
    bits: usize,
    progress: &mut dyn FnMut(KeygenEvent),
) -> Result<RsaPrivateKey, LocalCaError> {
    RsaPrivateKey::generate(bits, progress)
        .map_err(|e| LocalCaError::Failed(format!("key generation failed: {e:?}")))
}

/// Write `chain` as PEM to `cert_path` and `key` to `key_path` (mode 0600), creating their
/// directories. Without `force` an existing key file is not replaced.
pub fn write_pair(
    cert_path: &Path,
    key_path: &Path,
    chain: &[Certificate],
    key: &RsaPrivateKey,
    force: bool,
) -> Result<(), LocalCaError> {
    for path in [cert_path, key_path] {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                LocalCaError::Failed(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
    }
    keys::write_private_key(key_path, key, force).map_err(|e| match e {
        KeyError::Exists(_) => LocalCaError::Failed(e.to_string()),
        _ => LocalCaError::Failed(format!("{}: {e}", key_path.display())),
    })?;
    let text: String = chain
        .iter()
        .map(|c| pem::encode_certificate(c.der()))
        .collect();
    std::fs::write(cert_path, text)
        .map_err(|e| LocalCaError::Failed(format!("cannot write {}: {e}", cert_path.display())))
}

/// The certificates in a file, in order: its PEM CERTIFICATE blocks (at least one), or a
/// single DER certificate.
pub fn read_chain(path: &Path) -> Result<Vec<Certificate>, LocalCaError> {
    read_chain_der(path)?
        .iter()
        .map(|der| Certificate::from_der(der).map_err(|e| unreadable(path, e)))
        .collect()
}

/// [`read_chain`] without parsing the certificates: their DER, as a server sends them.
pub fn read_chain_der(path: &Path) -> Result<Vec<Vec<u8>>, LocalCaError> {
    let bytes = std::fs::read(path)
        .map_err(|e| LocalCaError::Input(format!("cannot read {}: {e}", path.display())))?;
    if bytes.first() == Some(&0x30) {
        return Ok(vec![bytes]);
    }
    pem::parse_certificates(&bytes).map_err(|e| unreadable(path, e))
}

fn unreadable(path: &Path, e: CertError) -> LocalCaError {
    LocalCaError::Input(format!("{}: {e}", path.display()))
}

/// A CA's certificate chain (`cert_path`, the CA first) and its key.
pub fn read_ca(
    cert_path: &Path,
    key_path: &Path,
) -> Result<(Vec<Certificate>, RsaPrivateKey), LocalCaError> {
    let chain = read_chain(cert_path)?;
    let key = keys::read_private_key(key_path)
        .map_err(|e| LocalCaError::Input(format!("{}: {e}", key_path.display())))?;
    Ok((chain, key))
}

/// `certs/x` → (`certs/x.pem`, `certs/x-key.pem`); a trailing `.pem` on the prefix is dropped.
pub fn pair_paths(prefix: &Path) -> (PathBuf, PathBuf) {
    let text = prefix.to_string_lossy();
    let base = text.strip_suffix(".pem").unwrap_or(&text);
    (
        PathBuf::from(format!("{base}.pem")),
        PathBuf::from(format!("{base}-key.pem")),
    )
}

/// The file prefix for a certificate named `name`, as mkcert names them: `*` → `_wildcard`,
/// `:` (and path or shell-awkward characters) → `_`.
pub fn file_stem(name: &str) -> String {
    name.replace('*', "_wildcard")
        .replace(':', "_")
        .replace(['/', '\\', ' ', '[', ']'], "_")
}

fn with_validity(builder: CertificateBuilder, request: &Request<'_>) -> CertificateBuilder {
    match request.validity {
        Some((not_before, not_after)) => builder.validity(not_before, not_after),
        None => builder,
    }
}

fn finish(
    prefix: &Path,
    certificate: Certificate,
    rest: Vec<Certificate>,
    key: RsaPrivateKey,
    force: bool,
) -> Result<Issued, LocalCaError> {
    let (cert_path, key_path) = pair_paths(prefix);
    let mut chain = vec![certificate.clone()];
    chain.extend(rest);
    write_pair(&cert_path, &key_path, &chain, &key, force)?;
    Ok(Issued {
        certificate,
        chain,
        key,
        cert_path,
        key_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::trust::TrustStore;
    use crate::pki::verify::verify_chain;

    fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    /// Every profile we issue passes every rule verification enforces (RFC 5280 + CABF BR):
    /// the root, an intermediate, a server under it (with names given in non-canonical
    /// forms, which the CN must still copy exactly from SAN), and a self-signed server.
    #[test]
    fn every_profile_passes_the_web_pki_rules() {
        let dir = tempfile::tempdir().unwrap();
        let request = Request::default();
        let root = init(&dir.path().join("ca"), "Test", &request, &mut |_| {}).unwrap();
        let root_signer = Signer {
            chain: std::slice::from_ref(&root.certificate),
            key: &root.key,
        };
        let inter_key = generate_key(2048, &mut |_| {}).unwrap();
        let inter = sign_with(
            &CertificateBuilder::intermediate_ca("Test Intermediate", Some(0)),
            &inter_key,
            &root_signer,
        )
        .unwrap();
        let inter_chain = [inter.clone(), root.certificate.clone()];
        let inter_signer = Signer {
            chain: &inter_chain,
            key: &inter_key,
        };
        let roots = TrustStore::from_pem_file(&root.cert_path).unwrap();
        for names in [
            &["LocalHost.", "127.0.0.1"][..],
            &["[0:0::1]", "localhost"][..],
            &["2001:DB8:0:0::1"][..],
        ] {
            let leaf = issue(
                &dir.path().join("leaf"),
                names,
                Some(&inter_signer),
                &Request {
                    force: true,
                    ..Request::default()
                },
                &mut |_| {},
            )
            .unwrap();
            verify_chain(
                &[leaf.certificate.clone(), inter.clone()],
                &roots,
                None,
                now(),
            )
            .unwrap_or_else(|e| panic!("{names:?}: {e}"));
            let own = issue(
                &dir.path().join("own"),
                names,
                None,
                &Request {
                    force: true,
                    ..Request::default()
                },
                &mut |_| {},
            )
            .unwrap();
            let mut pinned = TrustStore::new();
            pinned.add(own.certificate.clone());
            verify_chain(std::slice::from_ref(&own.certificate), &pinned, None, now())
                .unwrap_or_else(|e| panic!("self-signed {names:?}: {e}"));
        }
    }

    #[test]
    fn a_root_and_a_leaf_it_signs_are_written_and_verify() {
        let dir = tempfile::tempdir().unwrap();
        let request = Request::default();
        let root = init(&dir.path().join("ca"), "Test", &request, &mut |_| {}).unwrap();
        assert_eq!(root.cert_path, dir.path().join("ca.pem"));
        assert_eq!(root.key_path, dir.path().join("ca-key.pem"));
        assert!(root.certificate.is_ca() && root.certificate.is_self_issued());
        assert!(root
            .certificate
            .subject()
            .to_string()
            .contains("CN = Test Root CA"));
        assert!(root
            .certificate
            .subject()
            .to_string()
            .contains(DEFAULT_ORGANIZATION));
        assert_eq!(
            read_ca(&root.cert_path, &root.key_path).unwrap().1,
            root.key
        );

        let signer = Signer {
            chain: std::slice::from_ref(&root.certificate),
            key: &root.key,
        };
        let names = ["localhost", "127.0.0.1"];
        let leaf = issue(
            &dir.path().join("localhost"),
            &names,
            Some(&signer),
            &request,
            &mut |_| {},
        )
        .unwrap();
        // The root is not part of the chain written for the leaf.
        assert_eq!(leaf.chain.len(), 1);
        let written = read_chain(&leaf.cert_path).unwrap();
        assert_eq!(written[0].der(), leaf.certificate.der());
        assert_eq!(written.len(), 1);
        let roots = TrustStore::from_pem_file(&root.cert_path).unwrap();
        for host in names {
            verify_chain(&written, &roots, Some(host), now()).unwrap();
        }
        assert!(verify_chain(&written, &roots, Some("example.com"), now()).is_err());

        #[cfg(unix)]
        for key_path in [&root.key_path, &leaf.key_path] {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(key_path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", key_path.display());
        }
    }

    #[test]
    fn an_existing_key_is_kept_without_force_and_replaced_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("ca");
        let first = init(&prefix, "One", &Request::default(), &mut |_| {}).unwrap();
        let refused = init(&prefix, "Two", &Request::default(), &mut |_| {});
        assert!(
            matches!(&refused, Err(LocalCaError::Failed(m)) if m.contains("already exists")),
            "{:?}",
            refused.err()
        );
        assert_eq!(
            read_ca(&first.cert_path, &first.key_path).unwrap().1,
            first.key
        );
        let forced = Request {
            force: true,
            ..Request::default()
        };
        let second = init(&prefix, "Two", &forced, &mut |_| {}).unwrap();
        let (chain, key) = read_ca(&second.cert_path, &second.key_path).unwrap();
        assert_eq!(key, second.key);
        assert!(chain[0].subject().to_string().contains("CN = Two Root CA"));
    }

    #[test]
    fn bad_names_and_unreadable_files_are_input_errors() {
        let dir = tempfile::tempdir().unwrap();
        let none: [&str; 0] = [];
        let out = dir.path().join("x");
        assert!(matches!(
            issue(&out, &none, None, &Request::default(), &mut |_| {}),
            Err(LocalCaError::Input(_))
        ));
        assert!(!out.with_extension("pem").exists());
        let missing = dir.path().join("missing.pem");
        assert!(
            matches!(read_chain(&missing), Err(LocalCaError::Input(m)) if m.starts_with("cannot read"))
        );
        for garbage in [&b"not a certificate"[..], b"0\x82\xff\xff", b""] {
            let path = dir.path().join("garbage.pem");
            std::fs::write(&path, garbage).unwrap();
            assert!(matches!(read_chain(&path), Err(LocalCaError::Input(_))));
        }
    }

    #[test]
    fn file_names_follow_mkcert() {
        assert_eq!(file_stem("*.example.test"), "_wildcard.example.test");
        assert_eq!(file_stem("::1"), "__1");
        assert_eq!(
            pair_paths(Path::new("certs/ca")),
            (
                PathBuf::from("certs/ca.pem"),
                PathBuf::from("certs/ca-key.pem")
            )
        );
        assert_eq!(
            pair_paths(Path::new("certs/ca.pem")).1,
            PathBuf::from("certs/ca-key.pem")
        );
    }
}
