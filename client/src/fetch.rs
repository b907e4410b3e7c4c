//! One run of the client: resolve, connect, TLS handshake (with the trust decision), the HTTP/1.1
//! exchange over hyper, the body to stdout or a file, redirects. Failures come back as curl's
//! exit codes ([`ClientError`]).
//!
//! The certificate decision happens *between* connections, as in a browser: a chain the policy
//! refuses aborts the handshake (no application data is ever sent to an unverified server);
//! the warning is shown; if the user accepts the risk, a new connection is made whose policy
//! accepts exactly that certificate.

use crate::cli::{HeaderEdit, Options};
use crate::error::ClientError;
use crate::explain::{self as narration, GracefulClose, Narrator};
use crate::progress::Progress;
use crate::tap::{Captured, Tap};
use crate::trust::{
    config_dir, fingerprint_text, ClientPolicy, Exceptions, Seen, Verdict, EXCEPTIONS_FILE,
};
use crate::url::{Scheme, Url};
use crate::verbose::{self, info, VerboseObserver};
use crate::warning::{parse_choice, Choice, Warning};
use crate::wire::WireTap;
use crate::writeout::Report;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tls::text::{escape_peer, escape_peer_bytes};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// A connection hyper can use: plain TCP or TLS over TCP.
trait Transport: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Transport for T {}

/// How long we wait for hyper to send close_notify after the body is complete.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Everything one run needs across requests (redirects) and reconnections (after a prompt).
pub struct Session<'a> {
    opts: &'a Options,
    start: Instant,
    /// Time spent at the certificate prompt: it does not count against the timeouts.
    paused: Duration,
    exceptions: Option<Exceptions>,
    roots: Option<tls::pki::trust::TrustStore>,
    /// Leaf fingerprints accepted at the prompt in this run, per `host:port`.
    accepted: HashMap<String, [u8; 32]>,
    sink: Option<Sink>,
    received: u64,
    expected: Option<u64>,
    interactive: bool,
    color: bool,
    /// `--explain`: set when the peer ended the stream before we closed ours.
    peer_closed_first: Option<Arc<std::sync::atomic::AtomicBool>>,
    pub report: Report,
}

/// Where the body goes.
enum Sink {
    Stdout(std::io::Stdout),
    File(std::fs::File),
}

impl Sink {
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        let result = match self {
            Self::Stdout(out) => out.write_all(bytes).and_then(|_| out.flush()),
            Self::File(f) => f.write_all(bytes),
        };
        result.map_err(|_| ClientError::write())
    }
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
            accepted: HashMap::new(),
            sink: None,
            received: 0,
            expected: None,
            interactive: stderr_tty && std::io::stdin().is_terminal(),
            color: stderr_tty && std::env::var_os("NO_COLOR").is_none(),
            peer_closed_first: None,
            report: Report::default(),
        }
    }

    /// Run the whole transfer, following redirects with `-L`.
    pub async fn run(&mut self) -> Result<(), ClientError> {
        let opts = self.opts;
        let mut url = Url::parse(&opts.url)?;
        if url.scheme_assumed && opts.verbose {
            info("No scheme given: using https://");
        }
        let mut method = match (&opts.method, opts.head, &opts.data) {
            (Some(m), _, _) => m.clone(),
            (None, true, _) => "HEAD".to_string(),
            (None, false, Some(_)) => "POST".to_string(),
            (None, false, None) => "GET".to_string(),
        };
        let mut body = opts.data.clone();
        loop {
            self.report.url_effective = url.to_string();
            self.report.method = method.clone();
            self.report.scheme = url.scheme.as_str();
            match self.request(&url, &method, body.as_deref()).await? {
                Next::Done => return Ok(()),
                Next::Redirect(next, status) => {
                    if self.report.num_redirects >= opts.max_redirs {
                        return Err(ClientError::too_many_redirects(opts.max_redirs));
                    }
                    self.report.num_redirects += 1;
                    if opts.verbose {
                        info(&format!(
                            "Issue another request to this URL: '{}'",
                            escape_peer(&next.to_string())
                        ));
                    }
                    // curl (and browsers) turn a POST into a GET after 301/302/303 unless the
                    // method was forced with -X.
                    if matches!(status, 301..=303) && opts.method.is_none() && method == "POST" {
                        method = "GET".to_string();
                        body = None;
                    }
                    url = next;
                }
            }
        }
    }

    /// One request on a fresh connection.
    async fn request(
        &mut self,
        url: &Url,
        method: &str,
        body: Option<&[u8]>,
    ) -> Result<Next, ClientError> {
        let opts = self.opts;
        let (io, captured) = self.open(url).await?;
        let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
            .title_case_headers(true)
            .handshake::<_, Full<Bytes>>(TokioIo::new(io))
            .await
            .map_err(|e| {
                ClientError::new(56, format!("Recv failure: {}", escape_peer(&e.to_string())))
            })?;
        let conn_task = tokio::spawn(async move {
            let _ = conn.await;
        });

        let request = build_request(opts, url, method, body)?;
        self.report.time_pretransfer = Some(self.elapsed());
        let sent = sender.send_request(request);
        let response = self.within_transfer(sent).await;
        if let Some(head) = lock(&captured).request_head() {
            self.report.size_request = (head.len() + body.map_or(0, <[u8]>::len)) as u64;
        }
        let response = response?.map_err(|e| response_error(&e, false))?;
        self.report.time_starttransfer = Some(self.elapsed());

        let status = response.status().as_u16();
        let raw_head = lock(&captured)
            .response_heads()
            .map(<[u8]>::to_vec)
            .unwrap_or_else(|| synthesize_head(&response));
        self.report.http_code = status;
        self.report.http_version = Some(match response.version() {
            hyper::Version::HTTP_10 => "1",
            _ => "1.1",
        });
        self.report.size_header += raw_head.len() as u64;
        self.report.headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        self.report.content_type = response
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        self.expected = response
            .headers()
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let location = response
            .headers()
            .get(hyper::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);

        if opts.fail && status >= 400 {
            return Err(ClientError::http_status(status));
        }
        let redirect = match (&location, (300..400).contains(&status)) {
            (Some(loc), true) => Some(url.join(loc)?),
            _ => None,
        };
        self.report.redirect_url = redirect.as_ref().map(ToString::to_string);

        if opts.include || opts.head {
            let to_terminal = self.opts.output.is_none()
                && !self.opts.remote_name
                && std::io::stdout().is_terminal();
            // Piped, the head goes out byte for byte as curl writes it; on a terminal the
            // server's bytes could carry control sequences, so each line is escaped.
            let head = if to_terminal {
                escape_head(&raw_head)
            } else {
                raw_head
            };
            self.sink()?.write_all(&head)?;
        }
        let mut body = response.into_body();
        if let (Some(next), true) = (&redirect, opts.location) {
            // Read and drop the redirect's body so the connection ends cleanly.
            while let Some(frame) = self.within_transfer(body.frame()).await? {
                frame.map_err(|e| response_error(&e, true))?;
            }
            drop(sender);
            let _ = tokio::time::timeout(CLOSE_GRACE, conn_task).await;
            return Ok(Next::Redirect(next.clone(), status));
        }

        let progress = Progress::new(self.progress_enabled(), self.expected);
        let mut sink_opened = opts.include || opts.head;
        loop {
            let frame = match self.within_transfer(body.frame()).await {
                Ok(f) => f,
                Err(e) => {
                    progress.abandon();
                    return Err(e);
                }
            };
            let Some(frame) = frame else { break };
            let frame = frame.map_err(|e| {
                progress.abandon();
                response_error(&e, true)
            })?;
            if let Ok(data) = frame.into_data() {
                self.received += data.len() as u64;
                self.report.size_download += data.len() as u64;
                progress.add(data.len() as u64);
                self.sink()?.write_all(&data)?;
                sink_opened = true;
            }
        }
        progress.finish();
        if !sink_opened {
            // An empty body still creates the -o file, as curl does.
            self.sink()?;
        }
        drop(sender);
        let _ = tokio::time::timeout(CLOSE_GRACE, conn_task).await;
        if opts.explain {
            if let (Some(local), Some(remote)) = (self.report.local, self.report.remote) {
                narration::print_steps(
                    &[narration::tcp_closed(
                        local,
                        remote,
                        Duration::from_secs(1),
                        self.peer_closed_first
                            .as_ref()
                            .map(|f| f.load(std::sync::atomic::Ordering::Relaxed)),
                    )],
                    self.color,
                );
            }
        }
        Ok(Next::Done)
    }

    /// Resolve, connect, and for https run the handshake and the trust decision.
    async fn open(
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

    async fn connect_tcp(&mut self, url: &Url) -> Result<TcpStream, ClientError> {
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

    async fn resolve(&mut self, url: &Url) -> Result<Vec<SocketAddr>, ClientError> {
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

    /// The TLS handshake. `Ok(None)`: the certificate was refused and the user chose to
    /// continue; the caller connects again.
    async fn handshake(
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

    /// Show the warning; on a terminal ask. `Ok` = the user accepted the risk.
    fn certificate_problem(
        &mut self,
        url: &Url,
        site: &str,
        error: &tls::pki::CertError,
        seen: Option<Seen>,
    ) -> Result<(), ClientError> {
        let refusal = certificate_error(error);
        if self.opts.verbose {
            info(&format!(
                "SSL certificate problem: {}",
                escape_peer(&error.to_string())
            ));
        }
        let Some(seen) = seen else {
            return Err(refusal);
        };
        let changed = match seen.verdict {
            Verdict::Refused { changed } => changed,
            _ => None,
        };
        let warning = Warning {
            host: &url.host,
            port: url.port,
            error,
            chain: &seen.chain,
            changed_from: changed.as_ref(),
            now: time::OffsetDateTime::now_utc().unix_timestamp(),
            color: self.color,
        };
        if !self.interactive {
            if !self.opts.silent {
                eprint!("{}", warning.render());
            }
            return Err(refusal);
        }
        eprint!("{}{}", warning.render(), warning.prompt());
        let asked = Instant::now();
        let mut answer = String::new();
        // EOF or a read error is "go back", the safe default.
        let _ = std::io::stdin().read_line(&mut answer);
        self.paused += asked.elapsed();
        let choice = parse_choice(&answer);
        let Some(fingerprint) = seen.chain.first().map(|c| c.sha256_fingerprint()) else {
            return Err(refusal);
        };
        match choice {
            Choice::GoBack => {
                eprintln!("Went back: no request was sent to {site}.");
                Err(refusal)
            }
            Choice::ContinueOnce => {
                self.accepted.insert(site.to_string(), fingerprint);
                Ok(())
            }
            Choice::ContinueAndRemember => {
                self.accepted.insert(site.to_string(), fingerprint);
                self.exceptions();
                let Some(exceptions) = self.exceptions.as_mut() else {
                    return Ok(());
                };
                let path = exceptions
                    .path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                match exceptions.remember(site, fingerprint) {
                    Ok(()) => eprintln!(
                        "Remembered: certificate {} for {site} (in {path}).",
                        fingerprint_text(&fingerprint)
                    ),
                    Err(e) => eprintln!("client: could not save the exception to {path}: {e}"),
                }
                Ok(())
            }
        }
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

    /// The remembered exceptions, loaded once. A file we refuse (other users can write it) is
    /// said so and treated as empty: it can only make us trust less.
    fn exceptions(&mut self) -> &Exceptions {
        let show = self.opts.show_errors();
        self.exceptions
            .get_or_insert_with(|| match Exceptions::load_default() {
                Ok(exceptions) => exceptions,
                Err(why) => {
                    if show {
                        eprintln!("client: warning: {why}");
                    }
                    config_dir()
                        .map(|dir| Exceptions::empty_at(&dir.join(EXCEPTIONS_FILE)))
                        .unwrap_or_default()
                }
            })
    }

    /// `--keylog FILE`, else `SSLKEYLOGFILE`.
    fn key_log(&self) -> Option<Arc<dyn tls::trace::KeyLog>> {
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

    fn progress_enabled(&self) -> bool {
        let to_terminal =
            self.opts.output.is_none() && !self.opts.remote_name && std::io::stdout().is_terminal();
        !self.opts.silent && !self.opts.verbose && !to_terminal && std::io::stderr().is_terminal()
    }

    fn sink(&mut self) -> Result<&mut Sink, ClientError> {
        if self.sink.is_none() {
            let path = match (&self.opts.output, self.opts.remote_name) {
                (Some(path), _) => Some(path.clone()),
                (None, true) => {
                    let url = Url::parse(&self.report.url_effective)?;
                    let name = url
                        .file_name()
                        .ok_or_else(|| ClientError::new(23, "Remote file name has no length!"))?;
                    Some(std::path::PathBuf::from(name))
                }
                (None, false) => None,
            };
            let sink = match path {
                Some(path) => match std::fs::File::create(&path) {
                    Ok(f) => Sink::File(f),
                    Err(e) => {
                        if self.opts.show_errors() {
                            eprintln!(
                                "Warning: Failed to create the file {}: {}",
                                path.display(),
                                io_reason(&e)
                            );
                        }
                        return Err(ClientError::write());
                    }
                },
                None => Sink::Stdout(std::io::stdout()),
            };
            self.sink = Some(sink);
        }
        self.sink.as_mut().ok_or_else(ClientError::write)
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

fn lock(c: &Arc<Mutex<Captured>>) -> std::sync::MutexGuard<'_, Captured> {
    c.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The request with curl's default headers, then the user's `-H` edits.
fn build_request(
    opts: &Options,
    url: &Url,
    method: &str,
    body: Option<&[u8]>,
) -> Result<hyper::Request<Full<Bytes>>, ClientError> {
    let mut headers: Vec<(String, String)> = vec![
        ("Host".into(), url.authority()),
        ("User-Agent".into(), opts.user_agent.clone()),
        ("Accept".into(), "*/*".into()),
    ];
    let mut custom = Vec::new();
    for edit in &opts.headers {
        match edit {
            // curl keeps a replaced Host in its place; other replaced defaults move to the
            // end with the user's headers.
            HeaderEdit::Set(name, value) if name.eq_ignore_ascii_case("host") => {
                match headers
                    .iter_mut()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                {
                    Some(host) => *host = (name.clone(), value.clone()),
                    None => headers.insert(0, (name.clone(), value.clone())),
                }
            }
            HeaderEdit::Set(name, value) => {
                headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
                custom.push((name.clone(), value.clone()));
            }
            HeaderEdit::Remove(name) => headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name)),
        }
    }
    headers.extend(custom);
    if let Some(body) = body {
        let has = |headers: &[(String, String)], name: &str| {
            headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        if !has(&headers, "Content-Length") {
            headers.push(("Content-Length".into(), body.len().to_string()));
        }
        if !has(&headers, "Content-Type") {
            headers.push((
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            ));
        }
    }
    let mut builder = hyper::Request::builder()
        .method(method)
        .uri(url.path_and_query.as_str());
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    builder
        .body(Full::new(Bytes::copy_from_slice(body.unwrap_or_default())))
        .map_err(|e| ClientError::new(2, format!("bad request: {e}")))
}

/// curl's exit-60 message for a refused certificate.
pub fn certificate_error(e: &tls::pki::CertError) -> ClientError {
    match &e.kind {
        tls::pki::CertErrorKind::HostMismatch { host } => ClientError::new(
            60,
            format!(
                "SSL: no alternative certificate subject name matches target host name '{host}'"
            ),
        ),
        _ => ClientError::new(
            60,
            format!("SSL certificate problem: {}", escape_peer(&e.to_string())),
        ),
    }
}

/// A response head for a terminal: each line escaped, its line ending kept.
fn escape_head(head: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(head.len());
    for line in head.split_inclusive(|&b| b == b'\n') {
        let (content, ending): (&[u8], &[u8]) = if let Some(c) = line.strip_suffix(b"\r\n") {
            (c, b"\r\n")
        } else if let Some(c) = line.strip_suffix(b"\n") {
            (c, b"\n")
        } else {
            (line, b"")
        };
        out.extend_from_slice(escape_peer_bytes(content).as_bytes());
        out.extend_from_slice(ending);
    }
    out
}

/// A head from hyper's parsed response, when the raw one could not be kept.
fn synthesize_head<B>(response: &hyper::Response<B>) -> Vec<u8> {
    let version = match response.version() {
        hyper::Version::HTTP_10 => "HTTP/1.0",
        _ => "HTTP/1.1",
    };
    let status = response.status();
    let mut head = format!(
        "{version} {} {}\r\n",
        status.as_str(),
        status.canonical_reason().unwrap_or("")
    );
    for (name, value) in response.headers() {
        head.push_str(&format!(
            "{name}: {}\r\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// Map a hyper failure: nothing at all -> 52, cut short -> 18, TLS or socket -> 56.
fn response_error(e: &hyper::Error, in_body: bool) -> ClientError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if let Some(tls) = tls::stream::tls_error(io) {
                return ClientError::new(
                    56,
                    format!("Recv failure: TLS: {}", escape_peer(&tls.to_string())),
                );
            }
            return ClientError::new(56, format!("Recv failure: {}", io_reason(io)));
        }
        source = s.source();
    }
    if e.is_incomplete_message() {
        if in_body {
            return ClientError::new(18, "transfer closed with outstanding read data remaining");
        }
        return ClientError::new(52, "Empty reply from server");
    }
    ClientError::new(56, format!("Recv failure: {}", escape_peer(&e.to_string())))
}

/// An I/O error's reason without Rust's " (os error N)" suffix.
fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text.get(..i).unwrap_or_default().to_string(),
        None => text,
    }
}
