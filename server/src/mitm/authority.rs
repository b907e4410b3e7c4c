//! The proxy's own certificate authority, for `--impersonate`: it issues, on the fly, a
//! certificate for whatever name the victim asked for (its SNI), signed by a CA the victim
//! does not trust — unless the victim was made to trust it (`--ca PREFIX`, a corporate proxy).
//! Made with our PKI code ([`tls::pki::local_ca`]), like `ca-tool` and the server's first run.
//!
//! One leaf key serves every name (generating an RSA key per name would cost seconds); the
//! certificates are cached per name, a bounded number of them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tls::crypto::rsa::RsaPrivateKey;
use tls::pki::local_ca::{self, Request, Signer};
use tls::pki::x509::{Certificate, CertificateBuilder};
use tls::ServerConfig;

/// Names whose certificate is kept; past this the cache starts over.
const MAX_CACHED: usize = 1024;
/// What the certificates say they are.
const ORGANIZATION: &str = "mitm: the hacker in the middle";

pub struct Authority {
    /// The CA certificate first, then its own chain.
    ca_chain: Vec<Certificate>,
    ca_key: RsaPrivateKey,
    leaf_key: RsaPrivateKey,
    /// Where the CA certificate is (to give to `--cacert`).
    pub ca_path: PathBuf,
    /// True when this run made the CA.
    pub created: bool,
    cache: Mutex<HashMap<String, Arc<ServerConfig>>>,
}

impl Authority {
    /// The CA in `PREFIX.pem` / `PREFIX-key.pem` (as `ca-tool init` writes them).
    pub fn load(prefix: &Path) -> Result<Self, String> {
        let (cert_path, key_path) = local_ca::pair_paths(prefix);
        let (ca_chain, ca_key) =
            local_ca::read_ca(&cert_path, &key_path).map_err(|e| e.to_string())?;
        if ca_chain.first().is_none_or(|c| !c.is_ca()) {
            return Err(format!("{}: not a CA certificate", cert_path.display()));
        }
        Self::with(ca_chain, ca_key, cert_path, false)
    }

    /// A new CA named "mitm Root CA" in `dir` (a fresh temporary directory by default).
    pub fn create(dir: &Path, key_bits: usize) -> Result<Self, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let prefix = dir.join(local_ca::CA_STEM);
        let request = Request {
            organization: ORGANIZATION,
            key_bits,
            force: true,
            ..Request::default()
        };
        let made =
            local_ca::init(&prefix, "mitm", &request, &mut |_| {}).map_err(|e| e.to_string())?;
        Self::with(vec![made.certificate], made.key, made.cert_path, true)
    }

    fn with(
        ca_chain: Vec<Certificate>,
        ca_key: RsaPrivateKey,
        ca_path: PathBuf,
        created: bool,
    ) -> Result<Self, String> {
        let bits = ca_key.public_key().bits().max(2048);
        let leaf_key = local_ca::generate_key(bits, &mut |_| {}).map_err(|e| e.to_string())?;
        Ok(Self {
            ca_chain,
            ca_key,
            leaf_key,
            ca_path,
            created,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The CA's subject, for messages.
    pub fn ca_name(&self) -> String {
        self.ca_chain
            .first()
            .map(|c| c.subject().to_string())
            .unwrap_or_default()
    }

    /// A server configuration presenting a certificate for `name`, issued now (or earlier in
    /// this run) by our CA.
    pub fn config_for(&self, name: &str) -> Result<Arc<ServerConfig>, String> {
        let key = name.to_ascii_lowercase();
        if let Some(config) = self.cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return Ok(config);
        }
        let builder = CertificateBuilder::server(&[name])
            .map_err(|e| format!("cannot make a certificate for that name: {e}"))?
            .organization(ORGANIZATION);
        let signer = Signer {
            chain: &self.ca_chain,
            key: &self.ca_key,
        };
        let leaf =
            local_ca::sign_with(&builder, &self.leaf_key, &signer).map_err(|e| e.to_string())?;
        let mut chain = vec![leaf.der().to_vec()];
        chain.extend(
            local_ca::chain_without_root(&self.ca_chain)
                .iter()
                .map(|c| c.der().to_vec()),
        );
        let config =
            Arc::new(ServerConfig::new(chain, self.leaf_key.clone()).map_err(|e| e.to_string())?);
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
            cache.insert(key, config.clone());
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A leaf for any requested name, issued by our CA, checked like a client would; made once
    /// per name.
    #[test]
    fn issues_a_leaf_for_the_requested_name_and_reuses_it() {
        let pki = tls::testing::pki();
        let ca = Authority::with(
            vec![pki.root.clone()],
            pki.root_key.clone(),
            PathBuf::from("ca.pem"),
            false,
        )
        .unwrap();
        let config = ca.config_for("Bank.Example").unwrap();
        let leaf = Certificate::from_der(&config.cert_chain[0]).unwrap();
        assert_eq!(leaf.dns_names(), ["bank.example"]);
        assert_eq!(leaf.issuer(), pki.root.subject());
        assert!(leaf
            .verify_signature(&pki.root.public_key().unwrap())
            .is_ok());
        assert!(Arc::ptr_eq(
            &config,
            &ca.config_for("bank.example").unwrap()
        ));
        // Not a name a certificate can carry: refused, not a panic.
        assert!(ca.config_for("bad name\u{1b}").is_err());
    }
}
