//! Reaching the server: the address (`--resolve`, a literal IP, or DNS), the TCP connection,
//! and for https the TLS handshake on it; the caller gets one byte stream either way.

use super::{Session, Transport};
use crate::error::ClientError;
use crate::explain::{self as narration, GracefulClose};
use crate::tap::{Captured, Tap};
use crate::url::{Scheme, Url};
use crate::verbose::info;
use crate::wire::WireTap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::net::TcpStream;

impl Session<'_> {
    /// Resolve, connect, and for https run the handshake and the trust decision.
    pub(super) async fn open(
        &mut self,
        url: &Url,
    ) -> Result<(Box<dyn Transport>, Arc<Mutex<Captured>>), ClientError> {
        loop {
            let tcp = self.connect_tcp(url).await?;
            if url.scheme == Scheme::Http {
                if self.opts.explain {
                    narration::print_steps(&[narration::plain_http_step()], self.color);
                }
                if self.opts.wire || self.opts.explain {
                    let (tcp, peer_first) = GracefulClose::new(WireTap::new(tcp, self.color));
                    self.peer_closed_first = Some(peer_first);
                    let (tap, captured) = Tap::new(tcp, self.opts.verbose);
                    return Ok((Box::new(tap), captured));
                }
                let (tap, captured) = Tap::new(tcp, self.opts.verbose);
                return Ok((Box::new(tap), captured));
            }
            match self.handshake(url, tcp).await? {
                Some(tls) if self.opts.explain => {
                    let (tls, peer_first) = GracefulClose::new(tls);
                    self.peer_closed_first = Some(peer_first);
                    let (tap, captured) = Tap::new(tls, self.opts.verbose);
                    return Ok((Box::new(tap), captured));
                }
                Some(tls) => {
                    let (tap, captured) = Tap::new(tls, self.opts.verbose);
                    return Ok((Box::new(tap), captured));
                }
                // The user accepted the certificate at the prompt: connect again.
                None => continue,
            }
        }
    }

    pub(super) async fn connect_tcp(&mut self, url: &Url) -> Result<TcpStream, ClientError> {
        let addrs = self.resolve(url).await?;
        self.report.time_namelookup = Some(self.elapsed());
        let connect_start = Instant::now();
        for addr in &addrs {
            if self.opts.verbose {
                eprintln!("*   Trying {addr}...");
            }
            let attempt = Instant::now();
            match self.within_connect(TcpStream::connect(addr)).await? {
                Ok(tcp) => {
                    let took = attempt.elapsed();
                    self.report.time_connect = Some(self.elapsed());
                    self.report.remote = Some(*addr);
                    self.report.local = tcp.local_addr().ok();
                    if self.opts.verbose {
                        info(&format!(
                            "Connected to {} ({}) port {} (#0)",
                            url.host,
                            addr.ip(),
                            url.port
                        ));
                    }
                    let _ = tcp.set_nodelay(true);
                    if self.opts.explain {
                        if let (Ok(local), Ok(remote)) = (tcp.local_addr(), tcp.peer_addr()) {
                            narration::print_steps(
                                &[narration::tcp_connected(local, remote, took)],
                                self.color,
                            );
                        }
                    }
                    return Ok(tcp);
                }
                Err(e) => {
                    if self.opts.verbose {
                        info(&format!(
                            "connect to {} port {} failed: {e}",
                            addr.ip(),
                            addr.port()
                        ));
                    }
                }
            }
        }
        Err(ClientError::connect(
            &url.host,
            url.port,
            connect_start.elapsed(),
        ))
    }

    pub(super) async fn resolve(&mut self, url: &Url) -> Result<Vec<SocketAddr>, ClientError> {
        if let Some(entry) = self
            .opts
            .resolve
            .iter()
            .find(|r| r.host == url.host && r.port == url.port)
        {
            if self.opts.verbose {
                info(&format!(
                    "Added {}:{}:{} to DNS cache",
                    entry.host,
                    entry.port,
                    entry
                        .addrs
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                ));
            }
            return Ok(entry
                .addrs
                .iter()
                .map(|ip| SocketAddr::new(*ip, url.port))
                .collect());
        }
        if let Ok(ip) = url.host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, url.port)]);
        }
        let lookup = tokio::net::lookup_host((url.host.clone(), url.port));
        let addrs: Vec<SocketAddr> = self
            .within_connect(lookup)
            .await?
            .map_err(|_| ClientError::resolve(&url.host))?
            .collect();
        if addrs.is_empty() {
            return Err(ClientError::resolve(&url.host));
        }
        Ok(addrs)
    }
}
