//! `mitm`: the hacker in the middle — a proxy that sniffs, tampers with and impersonates
//! connections to a server, to watch HTTP fall and HTTPS hold (see `server::mitm`).
//! Exit codes: 0 after Ctrl-C, 1 when it cannot start, 2 for usage errors (one line).

#![deny(unsafe_code)]

use clap::{ArgGroup, Parser};
use server::mitm::{Mitm, Mode, Options};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "mitm",
    version,
    about = "The hacker in the middle: a proxy that sniffs, tampers and impersonates",
    group(ArgGroup::new("mode").required(true).args(["sniff", "inject", "impersonate"])),
    after_help = "Example: server --http 127.0.0.1:8080 & mitm --sniff --listen 127.0.0.1:8081 \
                  --upstream 127.0.0.1:8080, then curl -d password=hunter2 http://localhost:8081/"
)]
struct Cli {
    /// Forward unchanged and print what the path can read (HTTP: everything; TLS: the hello,
    /// the certificate chain, then record headers and ciphertext).
    #[arg(long)]
    sniff: bool,
    /// Change the traffic: a banner in HTML pages over HTTP; one flipped bit over TLS.
    #[arg(long)]
    inject: bool,
    /// Answer TLS with our own certificate for the requested name and relay in plaintext.
    #[arg(long)]
    impersonate: bool,
    /// Where victims connect (port 0 picks a free port; the banner shows it).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8081")]
    listen: SocketAddr,
    /// The real server.
    #[arg(long, value_name = "HOST:PORT")]
    upstream: String,
    /// CA certificates (PEM) the proxy trusts for the real server (--impersonate); default:
    /// the system's.
    #[arg(long, value_name = "FILE")]
    upstream_ca: Option<PathBuf>,
    /// Issue from this CA (PREFIX.pem and PREFIX-key.pem, as ca-tool writes them) instead of
    /// a new one: a CA the victim was made to trust, like a corporate proxy's.
    #[arg(long, value_name = "PREFIX")]
    ca: Option<PathBuf>,
    /// Directory for the new CA when no --ca is given (default: a fresh temporary one).
    #[arg(
        long,
        value_name = "DIR",
        requires = "impersonate",
        conflicts_with = "ca"
    )]
    ca_dir: Option<PathBuf>,
    /// Seconds allowed for connecting to the upstream (and its TLS handshake).
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse_seconds)]
    connect_timeout: f64,
    /// Seconds a connection may stay silent (both ways) before it is closed.
    #[arg(long, value_name = "SECS", default_value_t = 30.0, value_parser = parse_seconds)]
    idle_timeout: f64,
    /// Bytes of each body printed.
    #[arg(long, value_name = "BYTES", default_value_t = 1024)]
    body_limit: usize,
    /// Connections relayed at once.
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help, --version
            let _ = e.print();
            std::process::exit(0);
        }
        Err(e) => {
            eprintln!("mitm: {}", one_line(&e.to_string()));
            std::process::exit(2);
        }
    };
    let mode = if cli.sniff {
        Mode::Sniff
    } else if cli.inject {
        Mode::Inject
    } else {
        Mode::Impersonate
    };
    if mode != Mode::Impersonate
        && (cli.upstream_ca.is_some() || cli.ca.is_some() || cli.ca_dir.is_some())
    {
        eprintln!("mitm: --upstream-ca, --ca and --ca-dir go with --impersonate");
        std::process::exit(2);
    }
    if let Err(e) = server::mitm::upstream_host(&cli.upstream) {
        eprintln!("mitm: {e}");
        std::process::exit(2);
    }
    let opts = Options {
        listen: cli.listen,
        upstream_ca: cli.upstream_ca,
        ca: cli.ca,
        ca_dir: cli.ca_dir,
        connect_timeout: Duration::from_secs_f64(cli.connect_timeout),
        idle_timeout: Duration::from_secs_f64(cli.idle_timeout),
        body_limit: cli.body_limit.min(1 << 20),
        max_connections: usize::try_from(cli.max_connections).unwrap_or(usize::MAX),
        ..Options::new(mode, &cli.upstream)
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mitm: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(async {
        let mitm = match Mitm::bind(opts).await {
            Ok(m) => m,
            Err(e) => {
                eprintln!("mitm: {e}");
                return 1;
            }
        };
        server::mitm::report::plain(mitm.banner().trim_end());
        mitm.serve(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
        0
    });
    std::process::exit(code);
}

/// clap's message on one line: `error: ...` without the usage and help hints.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 86_400.0 => Ok(s),
        _ => Err("expected a number of seconds between 0 and 86400".to_string()),
    }
}
