//! `mitm`: the hacker in the middle, as a program. It listens for the victim, connects to the
//! real server (`--upstream`), and in one of three modes shows what each attack gets against
//! HTTP and against our HTTPS:
//!
//! - `--sniff` ([`sniff`]): forwards unchanged, prints what the path can read.
//! - `--inject` ([`inject`]): changes what the victim gets — a banner in HTML over HTTP, one
//!   flipped bit over TLS (refused: `bad_record_mac`).
//! - `--impersonate` ([`impersonate`]): answers TLS with its own certificate for the requested
//!   name, issued by its own CA ([`authority`]), and relays in plaintext in between.
//!
//! The parts: [`relay`] (the copy loop, timeouts), [`http`] (HTTP/1.1 framing), [`records`]
//! (TLS records and handshake in the clear, with our `tls` parsers), [`report`] (output).
//! Each connection ends with one summary line.

pub mod authority;
pub mod http;
pub mod impersonate;
pub mod inject;
pub mod records;
pub mod relay;
pub mod report;
pub mod sniff;

use authority::Authority;
use report::Report;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Sniff,
    Inject,
    Impersonate,
}

impl Mode {
    pub fn flag(self) -> &'static str {
        match self {
            Self::Sniff => "--sniff",
            Self::Inject => "--inject",
            Self::Impersonate => "--impersonate",
        }
    }
}

/// Everything the command line sets.
#[derive(Clone, Debug)]
pub struct Options {
    pub mode: Mode,
    pub listen: SocketAddr,
    /// `HOST:PORT` of the real server.
    pub upstream: String,
    /// What the proxy trusts upstream (`--impersonate`); `None`: the system's roots.
    pub upstream_ca: Option<PathBuf>,
    /// The CA to issue from (`PREFIX.pem`, `PREFIX-key.pem`); `None`: a new one.
    pub ca: Option<PathBuf>,
    /// Where a new CA is written (default: a fresh directory under the system's temp dir).
    pub ca_dir: Option<PathBuf>,
    pub connect_timeout: Duration,
    pub idle_timeout: Duration,
    /// Body bytes printed per message.
    pub body_limit: usize,
    pub max_connections: usize,
}

impl Options {
    pub fn new(mode: Mode, upstream: &str) -> Self {
        Self {
            mode,
            listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
            upstream: upstream.to_string(),
            upstream_ca: None,
            ca: None,
            ca_dir: None,
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            body_limit: 1024,
            max_connections: 256,
        }
    }
}

/// What every connection handler shares.
pub struct Shared {
    pub mode: Mode,
    pub upstream: String,
    /// The host part of `upstream` (the name checked upstream when the victim sent no SNI).
    pub upstream_host: String,
    pub upstream_tls: Arc<tls::ClientConfig>,
    pub authority: Option<Arc<Authority>>,
    pub connect_timeout: Duration,
    pub idle: Duration,
    pub body_limit: usize,
}

/// `HOST:PORT` (`[v6]:PORT` too) split into its host; an error naming what is wrong.
pub fn upstream_host(upstream: &str) -> Result<String, String> {
    let (host, port) = upstream
        .rsplit_once(':')
        .ok_or_else(|| format!("--upstream {upstream}: expected HOST:PORT"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err(format!("--upstream {upstream}: expected HOST:PORT"));
    }
    Ok(host.to_string())
}

/// A bound proxy, not yet accepting.
pub struct Mitm {
    listener: TcpListener,
    shared: Arc<Shared>,
    max_connections: usize,
}

impl Mitm {
    /// Check the options, make or load the CA (`--impersonate`), bind.
    pub async fn bind(opts: Options) -> Result<Self, String> {
        let upstream_host = upstream_host(&opts.upstream)?;
        let roots = match &opts.upstream_ca {
            Some(path) => tls::pki::trust::TrustStore::from_pem_file(path)
                .map_err(|e| format!("--upstream-ca {}: {e}", path.display()))?,
            None => tls::pki::trust::TrustStore::system().unwrap_or_default(),
        };
        let authority = match (opts.mode, &opts.ca) {
            (Mode::Impersonate, Some(prefix)) => Some(Arc::new(
                Authority::load(prefix).map_err(|e| format!("--ca: {e}"))?,
            )),
            (Mode::Impersonate, None) => {
                let dir = opts.ca_dir.clone().unwrap_or_else(|| {
                    std::env::temp_dir().join(format!("mitm-ca-{}", std::process::id()))
                });
                Some(Arc::new(Authority::create(&dir, 2048)?))
            }
            _ => None,
        };
        let listener = TcpListener::bind(opts.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", opts.listen))?;
        Ok(Self {
            listener,
            shared: Arc::new(Shared {
                mode: opts.mode,
                upstream: opts.upstream,
                upstream_host,
                upstream_tls: Arc::new(tls::ClientConfig::new(roots)),
                authority,
                connect_timeout: opts.connect_timeout,
                idle: opts.idle_timeout,
                body_limit: opts.body_limit,
            }),
            max_connections: opts.max_connections.max(1),
        })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// What to print at startup: the mode, where to point the victim, the CA.
    pub fn banner(&self) -> String {
        let addr = self
            .local_addr()
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
        let host = crate::url_host(addr);
        let s = &self.shared;
        let mut lines = vec![
            format!(
                "mitm {}: the hacker in the middle, forwarding to {}",
                s.mode.flag(),
                s.upstream
            ),
            format!("Listening on {addr} (victims: http://{host}/ or https://{host}/)"),
        ];
        if let Some(a) = &s.authority {
            lines.push(format!(
                "Proxy CA: {} ({}{}) — victims do not trust it; --cacert {} plays a corporate proxy",
                a.ca_path.display(),
                a.ca_name(),
                if a.created { ", made for this run" } else { "" },
                a.ca_path.display()
            ));
        }
        lines.push("Quit by pressing CTRL-C".to_string());
        let mut text = lines.join("\n");
        text.push('\n');
        text
    }

    /// Accept until `shutdown` resolves; at most `max_connections` at once (the next ones
    /// wait in the kernel's accept queue).
    pub async fn serve(self, shutdown: impl Future<Output = ()>) {
        let slots = Arc::new(tokio::sync::Semaphore::new(self.max_connections));
        let next_id = AtomicU64::new(1);
        tokio::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                p = slots.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => return,
                },
                _ = &mut shutdown => return,
            };
            let accepted = tokio::select! {
                a = self.listener.accept() => a,
                _ = &mut shutdown => return,
            };
            let (socket, peer) = match accepted {
                Ok(a) => a,
                // Out of descriptors and the like: the next accept may work.
                Err(_) => continue,
            };
            let id = next_id.fetch_add(1, Ordering::Relaxed);
            let shared = self.shared.clone();
            tokio::spawn(async move {
                handle(socket, peer, shared, Report::new(id)).await;
                drop(permit);
            });
        }
    }
}

/// One victim connection, start to summary line.
async fn handle(socket: TcpStream, peer: SocketAddr, shared: Arc<Shared>, report: Report) {
    let started = Instant::now();
    let _ = socket.set_nodelay(true);
    report.line(&format!("connection from {peer}"));
    let mut summary = String::new();
    let totals = match shared.mode {
        Mode::Impersonate => {
            impersonate::handle(socket, shared.clone(), report, &mut summary).await
        }
        Mode::Sniff | Mode::Inject => {
            let upstream = tokio::time::timeout(
                shared.connect_timeout,
                TcpStream::connect(shared.upstream.as_str()),
            )
            .await;
            match upstream {
                Ok(Ok(server)) => {
                    let _ = server.set_nodelay(true);
                    let mut filter: Box<dyn relay::Filter> = match shared.mode {
                        Mode::Sniff => Box::new(sniff::Sniff::new(report, shared.body_limit)),
                        _ => Box::new(inject::Inject::new(report)),
                    };
                    let totals = relay::relay(socket, server, filter.as_mut(), shared.idle).await;
                    summary = filter.summary();
                    totals
                }
                Ok(Err(e)) => relay::Totals {
                    ended: format!("cannot connect to {}: {e}", shared.upstream),
                    ..Default::default()
                },
                Err(_) => relay::Totals {
                    ended: format!("connecting to {} timed out", shared.upstream),
                    ..Default::default()
                },
            }
        }
    };
    report.line(&format!(
        "end: {summary}; client->server {} bytes, server->client {} bytes, {:.3} s, {}",
        totals.up,
        totals.down,
        started.elapsed().as_secs_f64(),
        totals.ended
    ));
}
