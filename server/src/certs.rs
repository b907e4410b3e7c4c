//! Where the server's certificate comes from: files given with `--cert`/`--key`, or a local CA
//! in the certs directory, made on first run like mkcert does (a root CA, then a certificate for
//! `localhost`, `127.0.0.1` and `::1` signed by it) and reused afterwards. Making them goes
//! through [`tls::pki::local_ca`], as `ca-tool init` and `ca-tool issue localhost 127.0.0.1 ::1
//! --ca certs/ca` do: same files, same names, same keys.

use crate::ServerError;
use std::path::{Path, PathBuf};
use tls::crypto::rsa::RsaPrivateKey;
use tls::pki::keys;
use tls::pki::local_ca::{self, LocalCaError, Request, Signer};
use tls::pki::x509::Certificate;

/// The names the local certificate is made for.
pub const LOCAL_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

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
    let ca_prefix = dir.join(local_ca::CA_STEM);
    let leaf_prefix = dir.join(local_ca::file_stem(LOCAL_NAMES[0]));
    let (ca_path, ca_key_path) = local_ca::pair_paths(&ca_prefix);
    let (leaf_path, leaf_key_path) = local_ca::pair_paths(&leaf_prefix);
    // The key files are missing or unusable when we write: replace a stale one.
    let request = Request {
        force: true,
        ..Request::default()
    };

    let (ca_cert, ca_key, ca_created) = if ca_path.exists() {
        let ca = local_ca::read_chain(&ca_path)
            .map_err(server_error)?
            .into_iter()
            .next()
            .ok_or_else(|| ServerError::new(format!("{}: no certificate", ca_path.display())))?;
        // Without the CA key we can still use an existing leaf, but not make a new one.
        let key = keys::read_private_key(&ca_key_path).ok();
        (ca, key, false)
    } else {
        std::fs::create_dir_all(dir)
            .map_err(|e| ServerError::new(format!("cannot create {}: {e}", dir.display())))?;
        say(format!(
            "First run: creating a local root CA in {} ({}-bit RSA key)",
            ca_path.display(),
            request.key_bits
        ));
        let made = local_ca::init(&ca_prefix, local_ca::DEFAULT_NAME, &request, &mut |_| {})
            .map_err(server_error)?;
        (made.certificate, Some(made.key), true)
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
    let signer = Signer {
        chain: std::slice::from_ref(&ca_cert),
        key: &ca_key,
    };
    let made = local_ca::issue(
        &leaf_prefix,
        &LOCAL_NAMES,
        Some(&signer),
        &request,
        &mut |_| {},
    )
    .map_err(server_error)?;
    // The root is not sent: clients already hold it (that is what trusting it means).
    let chain = made.chain.iter().map(|c| c.der().to_vec()).collect();
    Ok(Identity {
        chain,
        key: made.key,
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

/// A PEM chain (or one DER certificate), as DER, leaf first.
fn read_chain(path: &Path) -> Result<Vec<Vec<u8>>, ServerError> {
    local_ca::read_chain_der(path).map_err(server_error)
}

fn server_error(e: LocalCaError) -> ServerError {
    ServerError::new(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first run writes what `ca-tool init` then `ca-tool issue localhost 127.0.0.1 ::1
    /// --ca certs/ca` write: same files, same subject, and a CA that `ca-tool` can load to
    /// issue more.
    #[test]
    fn the_first_run_makes_the_ca_tool_layout_and_reuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut said = Vec::new();
        let first = local(dir.path(), &mut |line| said.push(line)).unwrap();
        assert_eq!(said.len(), 2, "{said:?}");
        let ca = first.local_ca.as_ref().unwrap();
        assert!(ca.created);
        assert_eq!(
            ca.certificate.subject().to_string(),
            format!(
                "CN = {} Root CA, O = {}",
                local_ca::DEFAULT_NAME,
                local_ca::DEFAULT_ORGANIZATION
            )
        );
        let (ca_pem, ca_key_pem) = local_ca::pair_paths(&dir.path().join("ca"));
        assert_eq!(ca.cert_path, ca_pem);
        let (chain, _) = local_ca::read_ca(&ca_pem, &ca_key_pem).unwrap();
        assert_eq!(chain[0].der(), ca.certificate.der());
        let leaf = local_ca::read_chain(&dir.path().join("localhost.pem")).unwrap();
        assert_eq!(leaf.len(), 1, "the root is not in the served chain");
        assert_eq!(first.chain, vec![leaf[0].der().to_vec()]);
        assert_eq!(leaf[0].issuer(), ca.certificate.subject());
        assert!(leaf[0]
            .verify_signature(&ca.certificate.public_key().unwrap())
            .is_ok());

        let mut again = Vec::new();
        let second = local(dir.path(), &mut |line| again.push(line)).unwrap();
        assert!(again.is_empty(), "{again:?}");
        assert!(!second.local_ca.unwrap().created);
        assert_eq!(second.chain, first.chain);
    }
}
