//! The TLS handshake with the flags' configuration; a certificate the policy refuses goes to
//! the trust decision, and is never passed over silently.

use super::{Session, Transport};
use crate::error::{io_reason, ClientError};
use crate::trust::{fingerprint_text, Seen, Verdict};
use crate::url::Url;
use crate::verbose::{self, info};
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
        let super::tls_config::Setup {
            mut config,
            policy,
            observer,
        } = self.tls_config(url, &site)?;
        // Each connection has its own config, so its observer travels in it.
        config.common.observer = observer;
        let result = self
            .within_connect(tls::stream::connect(Arc::new(config), &url.host, tcp))
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
}
