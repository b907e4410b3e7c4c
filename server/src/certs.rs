//! Where the server's certificate comes from: files given with `--cert`/`--key`, or a local CA
//! in the certs directory, made on first run like mkcert does (a root CA, then a certificate for
//! `localhost`, `127.0.0.1` and `::1` signed by it) and reused afterwards. The files and names
//! are the ones `ca-tool init` and `ca-tool issue localhost 127.0.0.1 ::1 --ca certs/ca` write.

use crate::ServerError;
use std::path::{Path, PathBuf};
use tls::crypto::rsa::RsaPrivateKey;
use tls::pki::keys;
use tls::pki::pem;
use tls::pki::x509::{Certificate, CertificateBuilder};

/// The names the local certificate is made for.
pub const LOCAL_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
/// Same subject as `ca-tool init` (its default `--name` and `--org`).
const CA_COMMON_NAME: &str = "ca-tool Root CA";
const ORGANIZATION: &str = "ca-tool development CA";
const KEY_BITS: usize = 2048;

/// A certificate chain (leaf first) and its private key, plus the local CA if we use one.
pub struct Identity {
    pub chain: Vec<Vec<u8>>,
    pub key: RsaPrivateKey,
    pub local_ca: Option<LocalCa>,
}

/// The root CA clients must trust to accept our certificate.
pub struct LocalCa {
    pub cert_path: PathBuf,
    pub certificate: Certificate,
    /// True when this run made the CA (first run).
    pub created: bool,
}

/// Read a PEM chain and a private key given on the command line.
pub fn from_files(cert: &Path, key: &Path) -> Result<Identity, ServerError> {
    let chain = read_chain(cert)?;
    let key = keys::read_private_key(key)
        .map_err(|e| ServerError::new(format!("{}: {e}", key.display())))?;
    Ok(Identity {
        chain,
        key,
        local_ca: None,
    })
}

/// Use (or make, on first run) the local CA and localhost certificate in `dir`. `say` gets
/// one line per thing created.
pub fn local(dir: &Path, say: &mut dyn FnMut(String)) -> Result<Identity, ServerError> {
    let ca_path = dir.join("ca.pem");
    let ca_key_path = dir.join("ca-key.pem");
    let leaf_path = dir.join("localhost.pem");
    let leaf_key_path = dir.join("localhost-key.pem");

    let (ca_cert, ca_key, ca_created) = if ca_path.exists() {
        let ca = read_chain(&ca_path)?
            .into_iter()
            .next()
            .ok_or_else(|| ServerError::new(format!("{}: no certificate", ca_path.display())))?;
        let ca = Certificate::from_der(&ca)
            .map_err(|e| ServerError::new(format!("{}: {e}", ca_path.display())))?;
        // Without the CA key we can still use an existing leaf, but not make a new one.
        let key = keys::read_private_key(&ca_key_path).ok();
        (ca, key, false)
    } else {
        std::fs::create_dir_all(dir)
            .map_err(|e| ServerError::new(format!("cannot create {}: {e}", dir.display())))?;
        say(format!(
            "First run: creating a local root CA in {} ({KEY_BITS}-bit RSA key)",
            ca_path.display()
        ));
        let key = generate_key()?;
        let cert = CertificateBuilder::root_ca(CA_COMMON_NAME)
            .organization(ORGANIZATION)
            .self_signed(&key)
            .map_err(|e| ServerError::new(format!("cannot make the CA: {e}")))?;
        write_pair(&ca_path, &ca_key_path, &[cert.der().to_vec()], &key)?;
        (cert, Some(key), true)
    };

    if let Some(identity) = reusable_leaf(&leaf_path, &leaf_key_path, &ca_cert, ca_created)? {
        return Ok(Identity {
            local_ca: Some(LocalCa {
                cert_path: ca_path,
                certificate: ca_cert,
                created: ca_created,
            }),
            ..identity
        });
    }

    let ca_key = ca_key.ok_or_else(|| {
        ServerError::new(format!(
            "{} is missing: cannot issue a certificate for localhost (delete {} to start over)",
            ca_key_path.display(),
            ca_path.display()
        ))
    })?;
    say(format!(
        "Issuing a certificate for {} in {}",
        LOCAL_NAMES.join(", "),
        leaf_path.display()
    ));
    let key = generate_key()?;
    let leaf = CertificateBuilder::server(&LOCAL_NAMES)
        .map_err(|e| ServerError::new(e.to_string()))?
        .organization(ORGANIZATION)
        .sign(key.public_key(), &ca_cert, &ca_key)
        .map_err(|e| ServerError::new(format!("cannot issue the certificate: {e}")))?;
    // The root is not sent: clients already hold it (that is what trusting it means).
    let chain = vec![leaf.der().to_vec()];
    write_pair(&leaf_path, &leaf_key_path, &chain, &key)?;
    Ok(Identity {
        chain,
        key,
        local_ca: Some(LocalCa {
            cert_path: ca_path,
            certificate: ca_cert,
            created: ca_created,
        }),
    })
}

/// The existing leaf, if it is there, still valid for a day, and issued by `ca`.
fn reusable_leaf(
    leaf_path: &Path,
    key_path: &Path,
    ca: &Certificate,
    ca_created: bool,
) -> Result<Option<Identity>, ServerError> {
    if ca_created || !leaf_path.exists() || !key_path.exists() {
        return Ok(None);
    }
    let chain = read_chain(leaf_path)?;
    let Some(leaf) = chain.first().and_then(|d| Certificate::from_der(d).ok()) else {
        return Ok(None);
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let ca_key = ca.public_key().ok();
    let signed_by_ca = ca_key.is_some_and(|k| leaf.verify_signature(&k).is_ok());
    if leaf.not_after() < now + 86_400 || !signed_by_ca {
        return Ok(None);
    }
    let key = keys::read_private_key(key_path)
        .map_err(|e| ServerError::new(format!("{}: {e}", key_path.display())))?;
    Ok(Some(Identity {
        chain,
        key,
        local_ca: None,
    }))
}

fn read_chain(path: &Path) -> Result<Vec<Vec<u8>>, ServerError> {
    let bytes = std::fs::read(path)
        .map_err(|e| ServerError::new(format!("cannot read {}: {e}", path.display())))?;
    let chain = pem::parse_certificates(&bytes)
        .map_err(|e| ServerError::new(format!("{}: {e}", path.display())))?;
    if chain.is_empty() {
        return Err(ServerError::new(format!(
            "{}: no CERTIFICATE block",
            path.display()
        )));
    }
    Ok(chain)
}

fn generate_key() -> Result<RsaPrivateKey, ServerError> {
    RsaPrivateKey::generate(KEY_BITS, &mut |_| {})
        .map_err(|e| ServerError::new(format!("key generation failed: {e:?}")))
}

fn write_pair(
    cert_path: &Path,
    key_path: &Path,
    chain: &[Vec<u8>],
    key: &RsaPrivateKey,
) -> Result<(), ServerError> {
    // force: the key file is missing or unusable when we get here; overwrite a stale one.
    keys::write_private_key(key_path, key, true)
        .map_err(|e| ServerError::new(format!("{}: {e}", key_path.display())))?;
    let text: String = chain.iter().map(|d| pem::encode_certificate(d)).collect();
    std::fs::write(cert_path, text)
        .map_err(|e| ServerError::new(format!("cannot write {}: {e}", cert_path.display())))
}
