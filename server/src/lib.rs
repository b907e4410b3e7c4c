//! The `server` program as a library: HTTP/1.1 (hyper) over our TLS 1.2 stream, serving either a
//! directory (`--root`) or the built-in site that explains the visitor's own connection.
//!
//! [`Server::bind`] opens the listeners and loads (or makes) the certificate; [`Server::serve`]
//! accepts until `shutdown` resolves, then lets in-flight requests finish and closes every
//! connection with close_notify. [`run`] does both and prints the banner. Tests start it on
//! port 0 in-process or spawn the binary.
//!
//! Robustness: each connection is its own task, so one that misbehaves only ends itself; the
//! handshake runs under `--handshake-timeout` (hyper has not seen the socket yet, so its own
//! timers cannot help), the request head under `--header-timeout`, the wait between requests
//! under `--keepalive-timeout`, each write under `--send-timeout`; at most `--max-connections`
//! are open — at the limit the server still accepts and sheds the connection doing the least
//! work (`shedding`), so stalled peers cannot lock new clients out.
//!
//! The data path, one module each: `listener` (sockets, accept loop, connection limit,
//! shutdown) hands each socket to `connection` (handshake, plain-HTTP sniffing, observers,
//! timeouts), which hands each request to `routes` (what to answer, the access record).
//! [`banner`] says what was started; [`certs`] finds the certificate. With the built-in site,
//! [`lab`] answers `/lab/` and [`gallery`] opens extra listeners with broken certificates.

#![deny(unsafe_code)]

pub mod banner;
pub mod certs;
pub mod client_identity;
mod connection;
mod deadlines;
mod file_cache;
pub mod files;
pub mod gallery;
pub mod html;
pub mod lab;
pub mod limits;
mod listener;
pub mod log;
/// The `mitm` program (src/bin/mitm.rs): sniff, tamper with, impersonate.
pub mod mitm;
pub mod narrate;
pub mod response;
mod routes;
pub mod send_timeout;
mod shedding;
pub mod site;
mod workers;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Everything the command line can set.
#[derive(Clone, Debug)]
pub struct Options {
    /// Directory to serve; `None` serves the built-in site.
    pub root: Option<PathBuf>,
    pub listen: SocketAddr,
    /// Certificate chain (PEM, leaf first) and key; `None` uses the local CA in `certs_dir`.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub certs_dir: PathBuf,
    /// Also serve the same content over plain HTTP here.
    pub http: Option<SocketAddr>,
    /// Append NSS key log lines here (`SSLKEYLOGFILE` is ignored). Also lets `-v` show the
    /// pre-master, master secret and key block.
    pub keylog: Option<PathBuf>,
    pub verbose: bool,
    /// OpenSSL-style suite list, e.g. `AES128-SHA256:AES256-SHA`.
    pub ciphers: Option<String>,
    pub max_connections: usize,
    pub handshake_timeout: Duration,
    /// A client whose socket accepts no byte for this long is dropped (`--send-timeout`).
    pub send_timeout: Duration,
    /// From the first byte of a request head to its end (`--header-timeout`).
    pub header_timeout: Duration,
    /// Between requests, and from the handshake to the first one (`--keepalive-timeout`).
    pub keepalive_timeout: Duration,
    /// Resident memory (bytes) above which new connections are refused (`--max-memory`).
    pub max_memory: u64,
    /// How long in-flight requests get after shutdown is asked for.
    pub shutdown_timeout: Duration,
    /// With the built-in site and the local CA: also open the gallery of broken certificates
    /// on the next ports (the binary turns it on unless `--no-gallery`).
    pub gallery: bool,
    /// Sessions kept for resumption by id (`--session-cache`, 0 = none).
    pub session_cache: usize,
    /// Seconds a session stays resumable, by id or ticket (`--session-timeout`).
    pub session_timeout: u64,
    /// RFC 5077 tickets (`--no-tickets` turns them off).
    pub tickets: bool,
    /// An 80-byte ticket key shared by several instances (`--ticket-key`); `None`: a random
    /// key, rotated every 12 hours.
    pub ticket_key: Option<PathBuf>,
    /// CAs (PEM) whose client certificates we accept: turns on client authentication.
    pub client_ca: Option<PathBuf>,
    /// Whether a client certificate is required (the default with `client_ca`) or optional.
    pub client_auth: client_identity::ClientAuthMode,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            root: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            cert: None,
            key: None,
            certs_dir: PathBuf::from("certs"),
            http: None,
            keylog: None,
            verbose: false,
            ciphers: None,
            max_connections: 1024,
            handshake_timeout: Duration::from_secs(10),
            send_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(20),
            keepalive_timeout: Duration::from_secs(30),
            max_memory: 1024 * 1024 * 1024,
            shutdown_timeout: Duration::from_secs(10),
            gallery: false,
            session_cache: tls::config::DEFAULT_SESSION_CACHE,
            session_timeout: tls::config::DEFAULT_SESSION_LIFETIME,
            tickets: true,
            ticket_key: None,
            client_ca: None,
            client_auth: client_identity::ClientAuthMode::Required,
        }
    }
}

/// A reason the server could not start.
#[derive(Debug)]
pub struct ServerError {
    message: String,
}

impl ServerError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ServerError {}

/// Bind, print the banner on stdout, serve until `shutdown` resolves.
pub async fn run(opts: Options, shutdown: impl Future<Output = ()>) -> Result<(), ServerError> {
    let server = Server::bind(opts).await?;
    {
        use std::io::Write as _;
        // Not print!: a closed stdout must not stop the server from serving.
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(server.banner().as_bytes());
        let _ = out.flush();
    }
    server.serve(shutdown).await
}

/// The host part of a URL for this address: `localhost` for loopback and wildcard binds (the
/// certificate names it), brackets around other IPv6 addresses.
pub fn url_host(addr: SocketAddr) -> String {
    let ip = addr.ip();
    if ip.is_loopback() || ip.is_unspecified() {
        format!("localhost:{}", addr.port())
    } else {
        addr.to_string()
    }
}

/// A bound, configured server that has not started accepting yet.
pub struct Server {
    listeners: listener::Listeners,
    app: Arc<routes::App>,
    /// The gallery's listeners and what each serves (empty without `--gallery`).
    gallery: Vec<(tokio::net::TcpListener, Arc<routes::App>)>,
    identity: certs::Identity,
    certs_dir: PathBuf,
    max_connections: usize,
    handshake_timeout: Duration,
    send_timeout: Duration,
    deadlines: deadlines::Deadlines,
    max_memory: u64,
    open_files: limits::OpenFiles,
    shutdown_timeout: Duration,
}

impl Server {
    /// Load the certificate (making the local CA on first run), open the listeners.
    pub async fn bind(opts: Options) -> Result<Self, ServerError> {
        let identity = match (&opts.cert, &opts.key) {
            (Some(cert), Some(key)) => certs::from_files(cert, key)?,
            (None, None) => certs::local(&opts.certs_dir, &mut |line| log::emit(&line))?,
            _ => return Err(ServerError::new("--cert and --key go together")),
        };
        let mut config = tls::ServerConfig::new(identity.chain.clone(), identity.key.clone())
            .map_err(|e| ServerError::new(e.to_string()))?;
        config.client_auth = client_identity::config(opts.client_ca.as_deref(), opts.client_auth)?;
        if let Some(list) = &opts.ciphers {
            config.common.suites = tls::suites::parse_suite_list(list)
                .map_err(|e| ServerError::new(format!("--ciphers: {e}")))?;
        }
        config.resumption = resumption(&opts)?;
        // Only an explicit --keylog writes secrets: a server inheriting SSLKEYLOGFILE from a
        // shell would silently make every visitor's traffic decryptable (the client, like curl,
        // does honour it).
        let key_log_path = opts.keylog.clone();
        if key_log_path.is_none()
            && std::env::var_os("SSLKEYLOGFILE").is_some_and(|p| !p.is_empty())
        {
            log::emit("SSLKEYLOGFILE is set but the server ignores it: use --keylog FILE");
        }
        if let Some(path) = &key_log_path {
            let file = tls::trace::KeyLogFile::open(path)
                .map_err(|e| ServerError::new(format!("key log {}: {e}", path.display())))?;
            config.common.key_log = Some(Arc::new(file));
        }
        let root = match &opts.root {
            Some(dir) => Some(
                std::fs::canonicalize(dir)
                    .ok()
                    .filter(|d| d.is_dir())
                    .ok_or_else(|| {
                        ServerError::new(format!("--root {}: not a directory", dir.display()))
                    })?,
            ),
            None => None,
        };
        if let Some(root) = &root {
            check_root_exposes_no_secret(root, &opts, identity.local_ca.is_some())?;
        }
        let (listeners, https_addr) = listener::Listeners::bind(opts.listen, opts.http).await?;
        let https_url = format!("https://{}/", url_host(https_addr));
        let lab = lab::Lab {
            chain: identity.chain.clone(),
            root: identity
                .local_ca
                .as_ref()
                .map(|ca| ca.certificate.der().to_vec()),
        };
        let mut gallery = Vec::new();
        if opts.gallery && root.is_none() && identity.local_ca.is_some() {
            let stations = gallery::make(
                &opts.certs_dir,
                &config.common,
                &identity.key,
                &mut |line| log::emit(&line),
            )?;
            for (i, station) in stations.into_iter().enumerate() {
                let listener =
                    gallery_listener(SocketAddr::new(https_addr.ip(), opts.listen.port()), i)
                        .await?;
                let addr = listener
                    .local_addr()
                    .map_err(|e| ServerError::new(e.to_string()))?;
                let app = routes::App {
                    tls: station
                        .config()
                        .ok_or_else(|| ServerError::new("gallery: no certificate"))?,
                    root: None,
                    verbose: opts.verbose,
                    https_url: format!("https://{}/", url_host(addr)),
                    key_log_path: key_log_path.clone(),
                    lab: lab.clone(),
                    gallery: Vec::new(),
                    station: Some(Arc::new(station)),
                    main_url: https_url.clone(),
                };
                gallery.push((listener, Arc::new(app)));
            }
        }
        let gallery_list = gallery
            .iter()
            .filter_map(|(_, app)| {
                Some((
                    app.station.as_ref()?.kind.name().to_string(),
                    app.https_url.clone(),
                ))
            })
            .collect();
        let app = routes::App {
            tls: Arc::new(config),
            root,
            verbose: opts.verbose,
            https_url: https_url.clone(),
            key_log_path,
            lab,
            gallery: gallery_list,
            station: None,
            main_url: https_url,
        };
        Ok(Self {
            listeners,
            app: Arc::new(app),
            gallery,
            identity,
            certs_dir: opts.certs_dir,
            max_connections: opts.max_connections.max(1),
            handshake_timeout: opts.handshake_timeout,
            send_timeout: opts.send_timeout,
            deadlines: deadlines::Deadlines {
                header: opts.header_timeout,
                keepalive: opts.keepalive_timeout,
            },
            max_memory: opts.max_memory,
            open_files: limits::raise_open_files(),
            shutdown_timeout: opts.shutdown_timeout,
        })
    }

    /// The address the HTTPS listener got (the real port when asked for port 0).
    pub fn https_addr(&self) -> SocketAddr {
        self.listeners
            .https
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.listeners
            .http
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// The CA clients should trust, when we use the local one.
    pub fn local_ca(&self) -> Option<&certs::LocalCa> {
        self.identity.local_ca.as_ref()
    }

    /// What to print at startup: where we listen, the certificate, how to fetch with trust.
    pub fn banner(&self) -> String {
        banner::banner(&banner::BannerFacts {
            https: self.https_addr(),
            http: self.http_addr(),
            root: self.app.root.as_deref(),
            chain: &self.identity.chain,
            local_ca: self.identity.local_ca.as_ref(),
            certs_dir: &self.certs_dir,
            suites: &self.app.tls.common.suites,
            key_log: self.app.key_log_path.as_deref(),
            max_connections: self.max_connections,
            handshake_timeout: self.handshake_timeout,
            send_timeout: self.send_timeout,
            gallery: &self.app.gallery,
            header_timeout: self.deadlines.header,
            keepalive_timeout: self.deadlines.keepalive,
            max_memory: self.max_memory,
            open_files: self.open_files,
            client_auth: self.app.tls.client_auth.as_ref(),
        })
    }

    /// The gallery's listeners: (kind, URL), in port order.
    pub fn gallery(&self) -> &[(String, String)] {
        &self.app.gallery
    }

    /// Accept connections until `shutdown` resolves; then stop accepting, let in-flight
    /// requests finish (up to the shutdown timeout) and close with close_notify.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) -> Result<(), ServerError> {
        let ctx = connection::ConnContext::new(
            self.app,
            self.handshake_timeout,
            self.send_timeout,
            self.deadlines,
        );
        let workers = workers::Workers::start()
            .map_err(|e| ServerError::new(format!("cannot start the worker threads: {e}")))?;
        // The gallery's listeners stop when the main one does.
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut gallery = tokio::task::JoinSet::new();
        for (listener, app) in self.gallery {
            let ctx = connection::ConnContext::new(
                app,
                self.handshake_timeout,
                self.send_timeout,
                self.deadlines,
            );
            let mut stop = stop_rx.clone();
            gallery.spawn(listener::serve(
                listener::Listeners {
                    https: listener,
                    http: None,
                },
                ctx,
                workers.clone(),
                // Demonstration pages: a few connections each, on top of the main limit.
                self.max_connections.min(GALLERY_MAX_CONNECTIONS),
                self.max_memory,
                self.shutdown_timeout,
                async move {
                    let _ = stop.wait_for(|s| *s).await;
                },
            ));
        }
        let stopping = workers.clone();
        listener::serve(
            self.listeners,
            ctx,
            workers,
            self.max_connections,
            self.max_memory,
            self.shutdown_timeout,
            async move {
                shutdown.await;
                let _ = stop_tx.send(true);
            },
        )
        .await;
        while gallery.join_next().await.is_some() {}
        stopping.stop().await;
        Ok(())
    }
}

/// Connections each gallery listener serves at once.
const GALLERY_MAX_CONNECTIONS: usize = 16;

/// The `index`-th gallery listener: the port after the main one plus `index` (a free port when
/// the main one was picked by the system, or when that port is taken).
async fn gallery_listener(
    main: SocketAddr,
    index: usize,
) -> Result<tokio::net::TcpListener, ServerError> {
    let wanted = u16::try_from(index + 1)
        .ok()
        .and_then(|i| main.port().checked_add(i))
        .filter(|_| main.port() != 0);
    if let Some(port) = wanted {
        if let Ok(l) = tokio::net::TcpListener::bind(SocketAddr::new(main.ip(), port)).await {
            return Ok(l);
        }
        log::emit(&format!("gallery: port {port} is taken; using a free one"));
    }
    tokio::net::TcpListener::bind(SocketAddr::new(main.ip(), 0))
        .await
        .map_err(|e| ServerError::new(format!("gallery: cannot listen on {}: {e}", main.ip())))
}

/// Refuse a `--root` that would publish our own secrets: the private key in use, or the
/// certificate directory that holds the local CA's key (`server --root .` after a first run).
/// The session cache and ticket keys the options ask for.
fn resumption(opts: &Options) -> Result<tls::config::Resumption, ServerError> {
    let tickets = match (&opts.ticket_key, opts.tickets) {
        (_, false) => None,
        (Some(path), true) => {
            let bytes = std::fs::read(path)
                .map_err(|e| ServerError::new(format!("--ticket-key {}: {e}", path.display())))?;
            let key = tls::ticket::TicketKey::from_key_file(&bytes)
                .map_err(|e| ServerError::new(format!("--ticket-key {}: {e}", path.display())))?;
            Some(Arc::new(tls::ticket::TicketKeys::fixed(key)))
        }
        (None, true) => Some(Arc::new(tls::ticket::TicketKeys::rotating(
            tls::ticket::DEFAULT_ROTATION,
        ))),
    };
    Ok(tls::config::Resumption {
        cache: (opts.session_cache > 0).then(|| {
            Arc::new(tls::session_cache::SessionCache::new(
                opts.session_cache,
                opts.session_timeout,
            ))
        }),
        tickets,
        lifetime_secs: opts.session_timeout,
    })
}

fn check_root_exposes_no_secret(
    root: &std::path::Path,
    opts: &Options,
    local_ca: bool,
) -> Result<(), ServerError> {
    let mut guarded: Vec<(&std::path::Path, &str)> = Vec::new();
    if local_ca {
        guarded.push((
            &opts.certs_dir,
            "the certificate directory (it holds the CA's private key)",
        ));
    }
    if let Some(key) = &opts.key {
        guarded.push((key, "the private key in use"));
    }
    for (path, what) in guarded {
        // Canonical paths: `certs`, `./certs` and a symlink to it are the same directory.
        if let Ok(real) = std::fs::canonicalize(path) {
            if real.starts_with(root) {
                return Err(ServerError::new(format!(
                    "--root {} contains {what}, {}: refusing to serve it",
                    root.display(),
                    real.display()
                )));
            }
        }
    }
    Ok(())
}
