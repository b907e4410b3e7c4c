//! One run of the client: resolve, connect, TLS handshake (with the trust decision), the HTTP/1.1
//! exchange over hyper, the body to stdout or a file, redirects. Failures come back as curl's
//! exit codes ([`ClientError`]).
//!
//! The certificate decision happens *between* connections, as in a browser: a chain the policy
//! refuses aborts the handshake (no application data is ever sent to an unverified server);
//! the warning is shown; if the user accepts the risk, a new connection is made whose policy
//! accepts exactly that certificate.
//!
//! The data path, one file each: `redirect` (the `-L` loop) -> `connect` (address, TCP)
//! -> `handshake` (TLS, configured by `tls_config`; a refusal goes to `decision`) ->
//! `transfer` (the HTTP exchange) -> `output` (stdout or `-o`). This file holds what they
//! share: the session's state and the timeouts.

mod connect;
mod decision;
mod handshake;
mod output;
mod redirect;
mod resume;
mod tls_config;
mod transfer;

use crate::cli::Options;
use crate::error::ClientError;
use crate::trust::Exceptions;
use crate::url::Url;
use crate::writeout::Report;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};

/// A connection hyper can use: plain TCP or TLS over TCP.
trait Transport: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Transport for T {}

/// Everything one run needs across requests (redirects) and reconnections (after a prompt).
pub struct Session<'a> {
    opts: &'a Options,
    start: Instant,
    /// Time spent at the certificate prompt: it does not count against the timeouts.
    paused: Duration,
    exceptions: Option<Exceptions>,
    roots: Option<tls::pki::trust::TrustStore>,
    /// `--cert`/`--key`, read once for every connection of the run.
    identity: Option<Arc<tls::config::ClientIdentity>>,
    /// Leaf fingerprints accepted at the prompt in this run, per `host:port`.
    accepted: HashMap<String, [u8; 32]>,
    sink: Option<output::Sink>,
    received: u64,
    expected: Option<u64>,
    interactive: bool,
    color: bool,
    /// `--explain`: set when the peer ended the stream before we closed ours.
    peer_closed_first: Option<Arc<std::sync::atomic::AtomicBool>>,
    pub report: Report,
    /// TLS sessions to resume, per `host:port`.
    sessions: resume::Sessions,
}

/// The response part a request hands back to the redirect loop.
enum Next {
    Done,
    Redirect(Url, u16),
}

impl<'a> Session<'a> {
    pub fn new(opts: &'a Options) -> Self {
        let stderr_tty = std::io::stderr().is_terminal();
        Self {
            opts,
            start: Instant::now(),
            paused: Duration::ZERO,
            exceptions: None,
            roots: None,
            identity: None,
            accepted: HashMap::new(),
            sink: None,
            received: 0,
            expected: None,
            interactive: stderr_tty && std::io::stdin().is_terminal(),
            color: stderr_tty && std::env::var_os("NO_COLOR").is_none(),
            peer_closed_first: None,
            report: Report::default(),
            sessions: resume::Sessions::load(opts.session_file.as_deref()),
        }
    }

    /// Time since the start, without the time spent at the prompt.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed().saturating_sub(self.paused)
    }

    /// Run `fut` under the connect timeout (and the overall one).
    async fn within_connect<F: std::future::Future>(
        &self,
        fut: F,
    ) -> Result<F::Output, ClientError> {
        let limit = [self.opts.connect_timeout, self.opts.max_time]
            .into_iter()
            .flatten()
            .min();
        let Some(limit) = limit else {
            return Ok(fut.await);
        };
        let left = limit.saturating_sub(self.elapsed());
        tokio::time::timeout(left, fut)
            .await
            .map_err(|_| ClientError::connect_timeout(self.elapsed()))
    }

    /// Run `fut` under `-m`.
    async fn within_transfer<F: std::future::Future>(
        &self,
        fut: F,
    ) -> Result<F::Output, ClientError> {
        let Some(limit) = self.opts.max_time else {
            return Ok(fut.await);
        };
        let left = limit.saturating_sub(self.elapsed());
        tokio::time::timeout(left, fut).await.map_err(|_| {
            ClientError::operation_timeout(self.elapsed(), self.received, self.expected)
        })
    }
}
