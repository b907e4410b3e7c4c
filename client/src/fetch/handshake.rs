//! The TLS handshake with the flags' configuration; a certificate the policy refuses goes to
//! the trust decision, and is never passed over silently.

use super::{Session, Transport};
use crate::error::{io_reason, ClientError};
use crate::explain::Narrator;
use crate::trust::{fingerprint_text, ClientPolicy, Seen, Verdict};
use crate::url::Url;
use crate::verbose::{self, info, VerboseObserver};
use std::sync::Arc;
use tls::text::{escape_peer, escape_peer_bytes};
use tokio::net::TcpStream;

impl Session<'_> {
    /// The TLS handshake. `Ok(None)`: the certificate was refused and the user chose to
    /// continue; the caller connects again.
    pub(super) async fn handshake(
        &mut self,
        url: &Url,
        tcp: TcpStream,
    ) -> Result<Option<Box<dyn Transport>>, ClientError> {
        let opts = self.opts;
        let site = format!("{}:{}", url.host, url.port);
        let mut config = tls::ClientConfig::new(self.roots()?);
        let accept_once = self.accepted.get(&site).copied();
        let policy = Arc::new(ClientPolicy::new(
            &site,
            opts.insecure,
            self.exceptions(),
            accept_once,
        ));
        config.policy = policy.clone();
        if let Some(suites) = &opts.ciphers {
            config.common.suites = suites.clone();
        }
        config.common.key_log = self.key_log();
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
        let observer: Option<Arc<dyn tls::trace::Observer>> = if opts.explain || opts.wire {
            let explainer = opts
                .explain
                .then(|| tls::explain::Explainer::client(&url.host, self.roots.clone()));
            Some(Narrator::new(explainer, opts.wire, self.color))
        } else if opts.verbose {
            Some(Arc::new(VerboseObserver))
        } else {
            None
        };
        let result = self
            .within_connect(tls::stream::connect_observed(
                Arc::new(config),
                &url.host,
                tcp,
                observer,
            ))
            .await?;
        let seen = policy.seen();
        if let Some(seen) = &seen {
            self.report.ssl_verify_result = seen.error.as_ref().map_or(0, |e| e.openssl_code());
            self.report.num_certs = seen.chain.len();
        }
        let tls = match result {
            Ok(tls) => tls,
            Err(e) => {
                return match tls::stream::tls_error(&e) {
                    Some(tls::Error::Certificate(error)) => {
                        let error = error.clone();
                        self.certificate_problem(url, &site, &error, seen)
                            .map(|()| None)
                    }
                    Some(other) => Err(ClientError::new(
                        35,
                        format!(
                            "TLS handshake with {site} failed: {}",
                            escape_peer(&other.to_string())
                        ),
                    )),
                    None => Err(ClientError::new(
                        35,
                        format!("TLS handshake with {site} failed: {}", io_reason(&e)),
                    )),
                };
            }
        };
        self.report.time_appconnect = Some(self.elapsed());
        if opts.verbose {
            if let Some(session) = tls.info() {
                info(&format!(
                    "SSL connection using TLSv1.2 / {}",
                    session.suite.openssl_name
                ));
                match &session.alpn_protocol {
                    Some(p) => info(&format!("ALPN: server accepted {}", escape_peer_bytes(p))),
                    None => info("ALPN: server did not agree on a protocol. Uses default."),
                }
            }
            if let Some(seen) = &seen {
                verbose::print_certificate_block(seen, &url.host);
            }
        } else if let Some(Seen {
            error: Some(error),
            verdict,
            chain,
            ..
        }) = &seen
        {
            // Never silently: one line says the certificate was not trusted and why we went on.
            let why = match verdict {
                Verdict::Insecure => Some("continuing anyway (-k)".to_string()),
                Verdict::Exception => Some(format!(
                    "continuing: you accepted this certificate before (SHA-256 {})",
                    chain
                        .first()
                        .map(|c| fingerprint_text(&c.sha256_fingerprint()))
                        .unwrap_or_default()
                )),
                // Just accepted at the prompt: the user has seen the whole warning.
                _ => None,
            };
            if let (Some(why), true) = (why, opts.show_errors()) {
                eprintln!(
                    "client: warning: the certificate of {site} is not trusted ({}); {why}",
                    escape_peer(&error.to_string())
                );
            }
        }
        Ok(Some(Box::new(tls)))
    }

    /// `--keylog FILE`, else `SSLKEYLOGFILE`.
    pub(super) fn key_log(&self) -> Option<Arc<dyn tls::trace::KeyLog>> {
        match &self.opts.keylog {
            Some(path) => match tls::trace::KeyLogFile::open(path) {
                Ok(log) => Some(Arc::new(log)),
                Err(e) => {
                    eprintln!("Warning: cannot open key log {}: {e}", path.display());
                    None
                }
            },
            None => tls::trace::KeyLogFile::from_env()
                .map(|log| Arc::new(log) as Arc<dyn tls::trace::KeyLog>),
        }
    }
}
