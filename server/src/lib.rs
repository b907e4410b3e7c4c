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
//! timers cannot help); at most `--max-connections` are open — the next ones wait in the
//! kernel's accept queue until a slot frees.

#![deny(unsafe_code)]

pub mod certs;
pub mod files;
pub mod html;
pub mod log;
pub mod narrate;
pub mod response;
pub mod send_timeout;
pub mod site;

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use response::Body;
use site::TlsDetails;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

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
    /// How long in-flight requests get after shutdown is asked for.
    pub shutdown_timeout: Duration,
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
            max_connections: 256,
            handshake_timeout: Duration::from_secs(10),
            send_timeout: Duration::from_secs(30),
            shutdown_timeout: Duration::from_secs(10),
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
    https: TcpListener,
    http: Option<TcpListener>,
    app: Arc<App>,
    identity: certs::Identity,
    certs_dir: PathBuf,
    max_connections: usize,
    handshake_timeout: Duration,
    send_timeout: Duration,
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
        if let Some(list) = &opts.ciphers {
            config.common.suites = tls::suites::parse_suite_list(list)
                .map_err(|e| ServerError::new(format!("--ciphers: {e}")))?;
        }
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
        let https = TcpListener::bind(opts.listen)
            .await
            .map_err(|e| ServerError::new(format!("cannot listen on {}: {e}", opts.listen)))?;
        let https_addr = https
            .local_addr()
            .map_err(|e| ServerError::new(e.to_string()))?;
        let http = match opts.http {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|e| ServerError::new(format!("cannot listen on {addr}: {e}")))?,
            ),
            None => None,
        };
        let app = App {
            tls: Arc::new(config),
            root,
            verbose: opts.verbose,
            https_url: format!("https://{}/", url_host(https_addr)),
            key_log_path,
        };
        Ok(Self {
            https,
            http,
            app: Arc::new(app),
            identity,
            certs_dir: opts.certs_dir,
            max_connections: opts.max_connections.max(1),
            handshake_timeout: opts.handshake_timeout,
            send_timeout: opts.send_timeout,
            shutdown_timeout: opts.shutdown_timeout,
        })
    }

    /// The address the HTTPS listener got (the real port when asked for port 0).
    pub fn https_addr(&self) -> SocketAddr {
        self.https
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The CA clients should trust, when we use the local one.
    pub fn local_ca(&self) -> Option<&certs::LocalCa> {
        self.identity.local_ca.as_ref()
    }

    /// What to print at startup: where we listen, the certificate, how to fetch with trust.
    pub fn banner(&self) -> String {
        log::banner(&log::BannerFacts {
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
        })
    }

    /// Accept connections until `shutdown` resolves; then stop accepting, let in-flight
    /// requests finish (up to the shutdown timeout) and close with close_notify.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) -> Result<(), ServerError> {
        let Self {
            https,
            http,
            app,
            max_connections,
            handshake_timeout,
            send_timeout,
            shutdown_timeout,
            ..
        } = self;
        let slots = Arc::new(Semaphore::new(max_connections));
        let graceful = GracefulShutdown::new();
        // Tells connections still in their handshake to give up.
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(30))
            // Our TLS stream buffers writes itself; one flat write per response is cheaper.
            .writev(false);
        let ctx = ConnContext {
            app,
            http: builder,
            handshake_timeout,
            send_timeout,
        };
        tokio::pin!(shutdown);
        loop {
            // Waiting for a slot *before* accepting keeps extra clients queued in the kernel.
            let permit = tokio::select! {
                p = slots.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break,
                },
                () = &mut shutdown => break,
            };
            let (accepted, secure) = tokio::select! {
                r = https.accept() => (r, true),
                r = accept_optional(http.as_ref()) => (r, false),
                () = &mut shutdown => break,
            };
            let (tcp, peer) = match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: say so, breathe, go on.
                    log::emit(&format!("accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let ctx = ctx.clone();
            let watcher = graceful.watcher();
            let stop = stop_rx.clone();
            tokio::spawn(async move {
                if secure {
                    ctx.serve_tls(tcp, peer, permit, watcher, stop).await;
                } else {
                    ctx.serve_plain(tcp, peer, permit, watcher).await;
                }
            });
        }
        drop(https);
        drop(http);
        let _ = stop_tx.send(true);
        tokio::select! {
            () = graceful.shutdown() => {}
            () = tokio::time::sleep(shutdown_timeout) => {
                log::emit(&format!(
                    "shutdown: gave up waiting for open connections after {shutdown_timeout:?}"
                ));
            }
        }
        Ok(())
    }
}

/// Shared by every connection.
struct App {
    tls: Arc<tls::ServerConfig>,
    /// Canonical `--root`, or `None` for the built-in site.
    root: Option<PathBuf>,
    verbose: bool,
    https_url: String,
    key_log_path: Option<PathBuf>,
}

#[derive(Clone)]
struct ConnContext {
    app: Arc<App>,
    http: http1::Builder,
    handshake_timeout: Duration,
    send_timeout: Duration,
}

/// What a request handler knows about its connection.
struct Peer {
    addr: SocketAddr,
    tls: Option<TlsDetails>,
}

impl ConnContext {
    async fn serve_tls(
        self,
        tcp: TcpStream,
        addr: SocketAddr,
        _permit: OwnedSemaphorePermit,
        watcher: hyper_util::server::graceful::Watcher,
        mut stop: watch::Receiver<bool>,
    ) {
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + self.handshake_timeout;
        // Only the built-in site shows the transcript (observing does not change how records
        // are sealed, so this is about what is shown, not speed).
        let transcript = self
            .app
            .root
            .is_none()
            .then(|| Arc::new(site::Transcript::default()));
        let handshake = async {
            // A browser pointed at https://… never starts with a letter; plain HTTP does.
            let mut first = [0u8; 1];
            if let Ok(1) = tcp.peek(&mut first).await {
                if first[0].is_ascii_alphabetic() {
                    return Err(HandshakeFailure::PlainHttp(tcp));
                }
            }
            let mut observers: Vec<Arc<dyn tls::trace::Observer>> = Vec::new();
            if let Some(t) = transcript.clone() {
                observers.push(t);
            }
            // -v: the handshake narrated from the server's side.
            if self.app.verbose {
                observers.push(narrate::Narrator::new(
                    addr,
                    self.app.tls.clone(),
                    self.app.key_log_path.is_some(),
                ));
            }
            let observer: Option<Arc<dyn tls::trace::Observer>> = match observers.len() {
                0 => None,
                1 => observers.pop(),
                _ => Some(Arc::new(narrate::Fanout(observers))),
            };
            let tcp = send_timeout::SendTimeout::new(tcp, self.send_timeout, addr);
            tls::stream::accept_observed(self.app.tls.clone(), tcp, observer)
                .await
                .map_err(HandshakeFailure::Tls)
        };
        let outcome = tokio::select! {
            r = tokio::time::timeout_at(deadline, handshake) => r,
            _ = stop.wait_for(|s| *s) => return,
        };
        let stream = match outcome {
            Ok(Ok(stream)) => stream,
            Ok(Err(HandshakeFailure::PlainHttp(tcp))) => {
                log::handshake_failed(addr, started.elapsed(), "plain HTTP sent to the HTTPS port");
                refuse_plain_http(tcp, &self.app.https_url).await;
                return;
            }
            Ok(Err(HandshakeFailure::Tls(e))) => {
                log::handshake_failed(addr, started.elapsed(), &log::describe_tls_failure(&e));
                return;
            }
            Err(_) => {
                log::handshake_failed(
                    addr,
                    started.elapsed(),
                    &format!(
                        "timed out after {:?} (no complete handshake): connection dropped",
                        self.handshake_timeout
                    ),
                );
                return;
            }
        };
        let details = stream.info().cloned().map(|info| {
            TlsDetails::new(
                info,
                started.elapsed(),
                transcript.as_ref().map(|t| t.snapshot()),
            )
        });
        if self.app.verbose {
            if let Some(d) = &details {
                log::handshake_done(addr, d);
            }
        }
        let peer = Arc::new(Peer { addr, tls: details });
        // hyper reports a read error between requests as a plain EOF; keep the TLS reason.
        let (stream, first_error) = log::ErrorWatch::new(stream);
        let verbose = self.app.verbose;
        let hyper_end = self
            .serve_http(TokioIo::new(stream), peer.clone(), watcher)
            .await;
        if let Some(end) = first_error.take().or(hyper_end) {
            // A client closing without close_notify is routine (curl, browsers); a bad MAC is not.
            if end.important || verbose {
                log::connection_error(peer.addr, &end.message);
            }
        }
    }

    async fn serve_plain(
        self,
        tcp: TcpStream,
        addr: SocketAddr,
        _permit: OwnedSemaphorePermit,
        watcher: hyper_util::server::graceful::Watcher,
    ) {
        let peer = Arc::new(Peer { addr, tls: None });
        let verbose = self.app.verbose;
        let tcp = send_timeout::SendTimeout::new(tcp, self.send_timeout, addr);
        if let Some(end) = self
            .serve_http(TokioIo::new(tcp), peer.clone(), watcher)
            .await
        {
            if verbose {
                log::connection_error(peer.addr, &end.message);
            }
        }
    }

    /// Serve HTTP/1.1 on `io` until the client or a shutdown ends it; how it ended, if badly.
    async fn serve_http<IO>(
        self,
        io: TokioIo<IO>,
        peer: Arc<Peer>,
        watcher: hyper_util::server::graceful::Watcher,
    ) -> Option<log::ConnectionEnd>
    where
        IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let app = self.app.clone();
        let conn_peer = peer.clone();
        let service = service_fn(move |req| {
            let app = app.clone();
            let peer = conn_peer.clone();
            async move { Ok::<_, Infallible>(app.respond(req, &peer).await) }
        });
        let conn = self.http.serve_connection(io, service);
        watcher
            .watch(conn)
            .await
            .err()
            .map(|e| log::describe_connection_error(&e))
    }
}

enum HandshakeFailure {
    PlainHttp(TcpStream),
    Tls(std::io::Error),
}

impl App {
    async fn respond(&self, req: Request<Incoming>, peer: &Peer) -> Response<log::LoggedBody> {
        let started = Instant::now();
        let request_line = format!(
            "{} {} {:?}",
            req.method(),
            req.uri()
                .path_and_query()
                .map_or_else(|| req.uri().to_string(), |p| p.to_string()),
            req.version()
        );
        let user_agent = req
            .headers()
            .get(header::USER_AGENT)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let referer = req
            .headers()
            .get(header::REFERER)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let head = req.method() == Method::HEAD;
        let mut res = self
            .route(&req, peer, &request_line, user_agent.as_deref())
            .await;
        res.headers_mut()
            .insert(header::SERVER, HeaderValue::from_static(SERVER_NAME));
        res.headers_mut().insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        let (parts, body) = res.into_parts();
        // HEAD: same headers (Content-Length included), no body.
        let body = if head { response::empty() } else { body };
        let record = log::AccessRecord {
            peer: peer.addr,
            request_line,
            status: parts.status.as_u16(),
            user_agent,
            referer,
            suite: peer.tls.as_ref().map(|t| t.info.suite.openssl_name),
            sni: peer.tls.as_ref().and_then(|t| t.info.server_name.clone()),
            started,
        };
        Response::from_parts(parts, log::LoggedBody::new(body, record))
    }

    async fn route(
        &self,
        req: &Request<Incoming>,
        peer: &Peer,
        request_line: &str,
        user_agent: Option<&str>,
    ) -> Response<Body> {
        let path = req.uri().path();
        match &self.root {
            Some(root) => {
                files::serve(root, req.method(), path, req.uri().query(), req.headers()).await
            }
            None => {
                if req.method() != Method::GET && req.method() != Method::HEAD {
                    return response::method_not_allowed();
                }
                if path != "/" && path != "/index.html" {
                    return response::not_found();
                }
                let visit = site::Visit {
                    peer: peer.addr,
                    tls: peer.tls.as_ref(),
                    request_line,
                    user_agent,
                    https_url: Some(&self.https_url),
                };
                let mut res = response::html(StatusCode::OK, site::front_page(&visit));
                // Rendered from this very connection: never reuse a cached copy.
                res.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                res
            }
        }
    }
}

/// Refuse a `--root` that would publish our own secrets: the private key in use, or the
/// certificate directory that holds the local CA's key (`server --root .` after a first run).
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

const SERVER_NAME: &str = concat!("server/", env!("CARGO_PKG_VERSION"));

async fn accept_optional(
    listener: Option<&TcpListener>,
) -> std::io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

/// Answer plain HTTP on the TLS port the way nginx and Go do: a 400 that names the mistake.
async fn refuse_plain_http(mut tcp: TcpStream, https_url: &str) {
    let body = format!(
        "This port speaks HTTPS only: you sent plain HTTP to a TLS server.\nTry {https_url}\n"
    );
    let reply = format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        let _ = tcp.write_all(reply.as_bytes()).await;
        let _ = tcp.shutdown().await;
    })
    .await;
}
