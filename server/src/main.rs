//! `server`: HTTPS over our own TLS 1.2, serving a directory or the built-in site.
//! Exit codes: 0 after a clean shutdown (Ctrl-C), 1 when it cannot start, 2 for usage errors.

#![deny(unsafe_code)]

use clap::Parser;

/// jemalloc with its background purging thread, not glibc's malloc: glibc keeps what thousands
/// of closed connections freed in its per-thread arenas (after a 5,000-connection attack the
/// server stayed at 80 MB resident, 5.5 MB idle, until something called `malloc_trim`), while
/// jemalloc hands unused pages back to the system within seconds, even when idle (issue #20).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "server",
    version,
    about = "Serve files (or a page about your own connection) over a hand-rolled TLS 1.2",
    after_help = "With no --cert/--key, a local CA and a certificate for localhost, 127.0.0.1 and ::1 \
                  are created in --certs-dir on first run and reused afterwards; trust certs/ca.pem \
                  in clients (curl --cacert certs/ca.pem https://localhost:8443/)."
)]
struct Cli {
    /// Directory to serve (index.html, directory listings); default: the built-in site.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Address for HTTPS (port 0 picks a free port; the banner shows it).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// Certificate chain in PEM, leaf first (needs --key).
    #[arg(long, value_name = "CHAIN.pem", requires = "key")]
    cert: Option<PathBuf>,
    /// Private key in PEM (PKCS#8 or PKCS#1).
    #[arg(long, value_name = "KEY.pem", requires = "cert")]
    key: Option<PathBuf>,
    /// Where the local CA and localhost certificate live when no --cert is given.
    #[arg(long, value_name = "DIR", default_value = "certs")]
    certs_dir: PathBuf,
    /// Also serve the same content over plain HTTP on this address, to compare captures.
    #[arg(long, value_name = "ADDR:PORT")]
    http: Option<SocketAddr>,
    /// Append TLS secrets in NSS key log format, for Wireshark; with -v, also narrate them.
    /// The server ignores $SSLKEYLOGFILE: secrets are written only when asked for here.
    #[arg(long, value_name = "FILE")]
    keylog: Option<PathBuf>,
    /// Also log every handshake and connection error, and narrate each handshake (its
    /// secrets only with --keylog).
    #[arg(short, long)]
    verbose: bool,
    /// Cipher suites in order of preference, OpenSSL or IANA names separated by ':'.
    #[arg(long, value_name = "LIST")]
    ciphers: Option<String>,
    /// Connections open at once. At the limit a new client is still served: the connection
    /// doing the least work is dropped (idle keep-alive, then a stalled reader, then the
    /// oldest unfinished handshake). nginx: worker_connections (768 on Debian).
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
    /// Seconds a client gets to complete the TLS handshake.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse_seconds)]
    handshake_timeout: f64,
    /// Seconds a client may stop reading (no byte of a response accepted) before it is
    /// dropped, like nginx's send_timeout (60 s there).
    #[arg(long, value_name = "SECS", default_value_t = 30.0, value_parser = parse_seconds)]
    send_timeout: f64,
    /// Also serve the gallery of broken certificates on the next ports (the default with the
    /// built-in site and the local CA).
    #[arg(long, overrides_with = "no_gallery")]
    gallery: bool,
    /// Do not open the gallery's listeners.
    #[arg(long, overrides_with = "gallery")]
    no_gallery: bool,
    /// Sessions remembered for resumption by session id (least recently used evicted
    /// first); 0 turns the cache off.
    #[arg(long, value_name = "N", default_value_t = 20_000)]
    session_cache: usize,
    /// Seconds a session can be resumed after its full handshake (by id or ticket).
    #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    session_timeout: u64,
    /// Do not issue or accept RFC 5077 session tickets.
    #[arg(long, conflicts_with = "ticket_key")]
    no_tickets: bool,
    /// Ticket key file: 80 bytes (16-byte name, 32-byte HMAC key, 32-byte AES key), the
    /// layout of nginx's ssl_session_ticket_key. Instances sharing it resume each other's
    /// sessions; without it a random key is made and replaced every 12 hours.
    #[arg(long, value_name = "FILE")]
    ticket_key: Option<PathBuf>,
    /// Seconds from the first byte of a request head to its end, like nginx's
    /// client_header_timeout (60 s there).
    #[arg(long, value_name = "SECS", default_value_t = 20.0, value_parser = parse_seconds)]
    header_timeout: f64,
    /// Seconds a connection may sit idle waiting for its next (or first) request, like
    /// nginx's keepalive_timeout (75 s there).
    #[arg(long, value_name = "SECS", default_value_t = 30.0, value_parser = parse_seconds)]
    keepalive_timeout: f64,
    /// Resident memory (MiB) above which new connections are refused with a clean close
    /// (the banner states the budget per connection).
    #[arg(long, value_name = "MiB", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1 << 30))]
    max_memory: u64,
    /// Ask clients for a certificate issued by one of these CAs (PEM): mutual TLS.
    #[arg(long, value_name = "CA.pem")]
    client_ca: Option<PathBuf>,
    /// With --client-ca: refuse clients without a certificate (required, the default) or serve
    /// them as anonymous (optional).
    #[arg(long, value_name = "optional|required")]
    client_auth: Option<server::client_identity::ClientAuthMode>,
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            std::process::exit(if e.use_stderr() { 2 } else { 0 });
        }
    };
    if cli.client_auth.is_some() && cli.client_ca.is_none() {
        eprintln!("server: --client-auth needs --client-ca FILE (the CAs to accept)");
        std::process::exit(2);
    }
    let opts = server::Options {
        client_ca: cli.client_ca,
        client_auth: cli
            .client_auth
            .unwrap_or(server::client_identity::ClientAuthMode::Required),
        root: cli.root,
        listen: cli.listen,
        cert: cli.cert,
        key: cli.key,
        certs_dir: cli.certs_dir,
        http: cli.http,
        keylog: cli.keylog,
        verbose: cli.verbose,
        ciphers: cli.ciphers,
        max_connections: usize::try_from(cli.max_connections).unwrap_or(usize::MAX),
        handshake_timeout: Duration::from_secs_f64(cli.handshake_timeout),
        send_timeout: Duration::from_secs_f64(cli.send_timeout),
        gallery: !cli.no_gallery,
        session_cache: cli.session_cache,
        session_timeout: cli.session_timeout,
        tickets: !cli.no_tickets,
        ticket_key: cli.ticket_key,
        header_timeout: Duration::from_secs_f64(cli.header_timeout),
        keepalive_timeout: Duration::from_secs_f64(cli.keepalive_timeout),
        max_memory: cli.max_memory.saturating_mul(1024 * 1024),
        ..server::Options::default()
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("server: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let result = runtime.block_on(server::run(opts, async {
        // Ctrl-C (SIGINT) or SIGTERM: stop accepting, finish what is in flight.
        wait_for_signal().await;
        eprintln!("Shutting down: finishing requests in flight (Ctrl-C again to quit at once)");
        tokio::spawn(async {
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        });
    }));
    if let Err(e) = result {
        eprintln!("server: {e}");
        std::process::exit(1);
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 86_400.0 => Ok(s),
        _ => Err("expected a number of seconds between 0 and 86400".to_string()),
    }
}
