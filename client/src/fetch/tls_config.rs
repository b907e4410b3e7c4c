//! The TLS configuration one connection gets from the flags: trust anchors and the policy
//! (with this run's accepted certificates), `--ciphers`, the key log, and who watches the
//! handshake (`-v`, `--explain`, `--wire`).

use super::Session;
use crate::cli::Options;
use crate::error::{io_reason, ClientError};
use crate::explain::ExplainObserver;
use crate::trust::ClientPolicy;
use crate::url::Url;
use crate::verbose::{info, VerboseObserver};
use std::path::PathBuf;
use std::sync::Arc;
use tls::trace::{KeyLog, KeyLogFile, Observer};

/// What a handshake needs, built from the flags.
pub(super) struct Setup {
    pub config: tls::ClientConfig,
    /// Keeps what it saw of the chain, for the decision after a refusal.
    pub policy: Arc<ClientPolicy>,
    pub observer: Option<Arc<dyn Observer>>,
}

impl Session<'_> {
    /// What the handshake with `site` (`host:port`) needs.
    pub(super) fn tls_config(&mut self, url: &Url, site: &str) -> Result<Setup, ClientError> {
        let opts = self.opts;
        let mut config = tls::ClientConfig::new(self.roots()?);
        let accept_once = self.accepted.get(site).copied();
        let policy = Arc::new(ClientPolicy::new(
            site,
            opts.insecure,
            self.exceptions(),
            accept_once,
        ));
        config.policy = policy.clone();
        config.client_identity = self.identity()?;
        if let Some(suites) = &opts.ciphers {
            config.common.suites = suites.clone();
        }
        config.common.key_log = key_log(opts);
        if opts.verbose {
            info("ALPN: offers http/1.1");
            if let Some(suites) = &opts.ciphers {
                let names: Vec<&str> = suites.iter().map(|s| s.openssl_name).collect();
                info(&format!("Cipher selection: {}", names.join(":")));
            }
            let cafile = opts
                .cacert
                .clone()
                .or_else(|| self.roots.as_ref().and_then(|r| r.source().map(Into::into)));
            match cafile {
                Some(path) => info(&format!(" CAfile: {}", path.display())),
                None => info(" CAfile: none"),
            }
            info(" CApath: none");
        }
        let observer: Option<Arc<dyn Observer>> = if opts.explain || opts.wire {
            let explainer = opts
                .explain
                .then(|| tls::explain::Explainer::client(&url.host));
            Some(ExplainObserver::new(explainer, opts.wire, self.color))
        } else if opts.verbose {
            Some(Arc::new(VerboseObserver))
        } else {
            None
        };
        Ok(Setup {
            config,
            policy,
            observer,
        })
    }

    /// `--cert`/`--key`: the chain and its key, checked to belong together (curl's exit 58
    /// when they cannot be used).
    fn identity(&mut self) -> Result<Option<Arc<tls::config::ClientIdentity>>, ClientError> {
        let Some(cert) = &self.opts.cert else {
            return Ok(None);
        };
        if let Some(identity) = &self.identity {
            return Ok(Some(identity.clone()));
        }
        let chain = tls::pki::local_ca::read_chain_der(cert).map_err(|e| {
            ClientError::new(
                58,
                format!(
                    "could not load PEM client certificate from {}: {e}",
                    cert.display()
                ),
            )
        })?;
        let key_path = self.opts.key.as_ref().unwrap_or(cert);
        let key = tls::pki::keys::read_private_key(key_path).map_err(|e| {
            ClientError::new(
                58,
                format!(
                    "unable to set private key file: '{}': {e}",
                    key_path.display()
                ),
            )
        })?;
        let identity = tls::config::ClientIdentity::new(chain, key)
            .map_err(|e| ClientError::new(58, format!("client certificate: {e}")))?;
        let identity = Arc::new(identity);
        self.identity = Some(identity.clone());
        Ok(Some(identity))
    }

    /// The trust anchors: `--cacert`, else the system bundle (an empty store when there is
    /// none: every certificate is then refused, never accepted).
    fn roots(&mut self) -> Result<tls::pki::trust::TrustStore, ClientError> {
        if let Some(roots) = &self.roots {
            return Ok(roots.clone());
        }
        let roots = match &self.opts.cacert {
            Some(path) => tls::pki::trust::TrustStore::from_pem_file(path).map_err(|e| {
                ClientError::new(77, format!("error setting certificate file: {e}"))
            })?,
            None => tls::pki::trust::TrustStore::system().unwrap_or_else(|e| {
                if self.opts.verbose {
                    info(&format!("no CA bundle: {e}"));
                }
                tls::pki::trust::TrustStore::new()
            }),
        };
        self.roots = Some(roots.clone());
        Ok(roots)
    }
}

/// The key log: `--keylog FILE`, else `$SSLKEYLOGFILE` (the only place it is read). One rule
/// for both: a file we cannot open is a warning, and the transfer goes on without it.
fn key_log(opts: &Options) -> Option<Arc<dyn KeyLog>> {
    let path = match &opts.keylog {
        Some(path) => path.clone(),
        None => PathBuf::from(std::env::var_os("SSLKEYLOGFILE").filter(|p| !p.is_empty())?),
    };
    match KeyLogFile::open(&path) {
        Ok(log) => Some(Arc::new(log)),
        Err(e) => {
            eprintln!(
                "Warning: cannot open key log {}: {}",
                path.display(),
                io_reason(&e)
            );
            None
        }
    }
}
