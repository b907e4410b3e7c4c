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
            config,
            policy,
            observer,
        } = self.tls_config(url, &site)?;
        // A session from an earlier connection to this site (or the session file): offered;
        // the server may decline, and then the handshake is a full one.
        let offered = self.sessions.get(&site);
        if opts.verbose && offered.is_some() {
            info("SSL re-using session ID");
        }
        let conn = tls::Connection::client_resuming(Arc::new(config), &url.host, observer, offered);
        let result = self
            .within_connect(async move { tls::stream::TlsStream::handshake(tcp, conn?).await })
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
        self.remember_session(&site, &tls);
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

    /// Keep the session the server let us resume, for the next connection to `site` (and in
    /// `--session-file`).
    fn remember_session(&mut self, site: &str, tls: &tls::stream::TlsStream<TcpStream>) {
        let Some(session) = tls.session_to_resume() else {
            return;
        };
        self.sessions.put(site, session.clone());
        if let Some(path) = &self.opts.session_file {
            if let Err(e) = super::resume::save(path, site, session) {
                if self.opts.show_errors() {
                    eprintln!(
                        "client: warning: cannot write the session file {}: {e}",
                        path.display()
                    );
                }
            }
        }
    }
}
