//! Command-line flags with curl's names and meanings (curl(1)), turned into [`Options`].
//! Usage errors exit with 2, as curl's do (and clap's).

use crate::error::ClientError;
use clap::{ArgAction, Parser};
use std::io::Read;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Fetch a URL over HTTPS (TLS 1.2, written by hand) or HTTP, like curl. An untrusted
/// certificate stops the transfer with a browser-like warning.
#[derive(Parser, Debug, Default)]
#[command(name = "client", version, about, max_term_width = 100)]
pub struct Args {
    /// The URL to fetch (`https://` is assumed when no scheme is given).
    pub url: String,
    /// More URLs, fetched one after the other like curl does (their bodies follow on the same
    /// output); a TLS session is resumed with each host:port already visited.
    #[arg(value_name = "URL")]
    pub more_urls: Vec<String>,
    /// Remember the TLS session in FILE and resume it on the next run (read when present,
    /// written after each successful handshake, mode 0600). The file holds the session's
    /// master secret: whoever reads it can decrypt the traffic of sessions resumed from it.
    #[arg(long, value_name = "FILE")]
    pub session_file: Option<PathBuf>,

    /// Show the connection, the TLS handshake, the certificate and the headers on stderr.
    #[arg(short, long)]
    pub verbose: bool,
    /// No progress bar and no error messages.
    #[arg(short, long)]
    pub silent: bool,
    /// With -s, still show error messages.
    #[arg(short = 'S', long)]
    pub show_error: bool,
    /// Continue even when the certificate does not verify (one line says so).
    #[arg(short = 'k', long)]
    pub insecure: bool,
    /// Trust the CA certificates in this PEM file instead of the system's.
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Client certificate (PEM; the chain after it) for servers that ask for one (mutual TLS).
    #[arg(short = 'E', long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// Private key of --cert (PEM, PKCS#8 or PKCS#1); default: the --cert file itself.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Write the body to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write the body to a file named like the last segment of the URL path.
    #[arg(short = 'O', long)]
    pub remote_name: bool,
    /// Send HEAD and print the response headers.
    #[arg(short = 'I', long)]
    pub head: bool,
    /// Print the response headers before the body.
    #[arg(short, long)]
    pub include: bool,
    /// Request method (GET, POST, PUT, DELETE, ...).
    #[arg(short = 'X', long = "request", value_name = "METHOD")]
    pub method: Option<String>,
    /// POST data (`@file` reads a file, `@-` stdin; CR/LF are dropped); repeats join with `&`.
    #[arg(short, long, value_name = "DATA", action = ArgAction::Append, allow_hyphen_values = true)]
    pub data: Vec<String>,
    /// POST data sent exactly as given (`@file` kept byte for byte).
    #[arg(long, value_name = "DATA", action = ArgAction::Append, allow_hyphen_values = true)]
    pub data_binary: Vec<String>,
    /// Extra header `Name: value` (`Name:` removes a default header).
    #[arg(short = 'H', long = "header", value_name = "HEADER", action = ArgAction::Append)]
    pub headers: Vec<String>,
    /// Follow redirects.
    #[arg(short = 'L', long)]
    pub location: bool,
    /// How many redirects -L follows at most.
    #[arg(long, value_name = "NUM", default_value_t = 50)]
    pub max_redirs: u32,
    /// Fail with exit code 22 on HTTP status 400 and above, without printing the body.
    #[arg(short, long)]
    pub fail: bool,
    /// Print this after the transfer (`%{http_code}`, `%{time_total}`, ...; `@file` reads it).
    #[arg(short, long = "write-out", value_name = "FORMAT")]
    pub write_out: Option<String>,
    /// Seconds allowed for connecting, TLS handshake included.
    #[arg(long, value_name = "SECONDS")]
    pub connect_timeout: Option<f64>,
    /// Seconds allowed for the whole operation.
    #[arg(short, long, value_name = "SECONDS")]
    pub max_time: Option<f64>,
    /// Use ADDR for HOST:PORT instead of DNS (`HOST:PORT:ADDR`).
    #[arg(long, value_name = "HOST:PORT:ADDR", action = ArgAction::Append)]
    pub resolve: Vec<String>,
    /// Cipher suites to offer, OpenSSL or IANA names separated by `:`.
    #[arg(long, value_name = "LIST")]
    pub ciphers: Option<String>,
    /// Append TLS secrets to FILE (NSS key log format, for Wireshark). Also SSLKEYLOGFILE.
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,
    /// User-Agent header.
    #[arg(short = 'A', long, value_name = "NAME")]
    pub user_agent: Option<String>,
    /// Accepted for curl compatibility: TLS 1.2 is the only version spoken.
    #[arg(long = "tlsv1.2")]
    pub tlsv1_2: bool,
    /// Accepted for curl compatibility: only `1.2` makes sense here.
    #[arg(long = "tls-max", value_name = "VERSION")]
    pub tls_max: Option<String>,
    /// Accepted for curl compatibility: HTTP/1.1 is the only version spoken.
    #[arg(long = "http1.1")]
    pub http1_1: bool,
    /// Narrate the connection step by step on stderr (TCP, the TLS handshake with its real
    /// values, one record taken apart, the close): why HTTPS is safer than HTTP.
    #[arg(long)]
    pub explain: bool,
    /// Print every record (or, for http://, every chunk of bytes) as it crossed the wire, in
    /// hex, next to what it carried decrypted.
    #[arg(long)]
    pub wire: bool,
}

/// A `--resolve` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolve {
    pub host: String,
    pub port: u16,
    pub addrs: Vec<IpAddr>,
}

/// What a header flag does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderEdit {
    Set(String, String),
    Remove(String),
}

/// The flags after checking and reading what they point at.
#[derive(Debug, Default)]
pub struct Options {
    pub url: String,
    pub more_urls: Vec<String>,
    pub session_file: Option<PathBuf>,
    pub verbose: bool,
    pub silent: bool,
    pub show_error: bool,
    pub insecure: bool,
    pub cacert: Option<PathBuf>,
    /// `--cert` and `--key` (the key in the certificate file when `None`).
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub output: Option<PathBuf>,
    pub remote_name: bool,
    pub head: bool,
    pub include: bool,
    pub method: Option<String>,
    pub data: Option<Vec<u8>>,
    pub headers: Vec<HeaderEdit>,
    pub location: bool,
    pub max_redirs: u32,
    pub fail: bool,
    pub write_out: Option<String>,
    pub connect_timeout: Option<Duration>,
    pub max_time: Option<Duration>,
    pub resolve: Vec<Resolve>,
    pub ciphers: Option<Vec<&'static tls::suites::CipherSuite>>,
    pub keylog: Option<PathBuf>,
    pub user_agent: String,
    pub explain: bool,
    pub wire: bool,
}

impl Options {
    /// Check the flags and read `@file` arguments.
    pub fn from_args(args: Args) -> Result<Self, ClientError> {
        if let Some(max) = &args.tls_max {
            if max != "1.2" {
                return Err(ClientError::new(
                    4,
                    format!("--tls-max {max}: only TLS 1.2 is supported"),
                ));
            }
        }
        let mut data: Option<Vec<u8>> = None;
        for d in &args.data {
            append_data(&mut data, read_data(d, true));
        }
        for d in &args.data_binary {
            append_data(&mut data, read_data(d, false));
        }
        let headers = args
            .headers
            .iter()
            .map(|h| parse_header(h))
            .collect::<Result<Vec<_>, _>>()?;
        let resolve = args
            .resolve
            .iter()
            .map(|r| parse_resolve(r))
            .collect::<Result<Vec<_>, _>>()?;
        let ciphers = match &args.ciphers {
            None => None,
            Some(list) => Some(tls::suites::parse_suite_list(list).map_err(|e| {
                ClientError::new(59, format!("failed setting cipher list: {list} ({e})"))
            })?),
        };
        let write_out = match &args.write_out {
            None => None,
            Some(f) => Some(read_write_out(f)?),
        };
        Ok(Self {
            url: args.url,
            more_urls: args.more_urls,
            session_file: args.session_file,
            verbose: args.verbose,
            silent: args.silent,
            show_error: args.show_error,
            insecure: args.insecure,
            cacert: args.cacert,
            cert: args.cert,
            key: args.key,
            output: args.output,
            remote_name: args.remote_name,
            head: args.head,
            include: args.include,
            method: args.method,
            data,
            headers,
            location: args.location,
            max_redirs: args.max_redirs,
            fail: args.fail,
            write_out,
            connect_timeout: seconds(args.connect_timeout, "--connect-timeout")?,
            max_time: seconds(args.max_time, "--max-time")?,
            resolve,
            ciphers,
            keylog: args.keylog,
            user_agent: args
                .user_agent
                .unwrap_or_else(|| format!("client/{}", env!("CARGO_PKG_VERSION"))),
            explain: args.explain,
            wire: args.wire,
        })
    }

    /// Whether error messages are printed (`-s` hides them, `-S` brings them back).
    pub fn show_errors(&self) -> bool {
        !self.silent || self.show_error
    }
}

/// `Name: value`, `Name:` (remove), `Name;` (send empty).
pub fn parse_header(h: &str) -> Result<HeaderEdit, ClientError> {
    let bad = || ClientError::new(2, format!("option -H: bad header '{h}'"));
    if let Some(name) = h.strip_suffix(';') {
        if !name.contains(':') && valid_token(name) {
            return Ok(HeaderEdit::Set(name.to_string(), String::new()));
        }
    }
    let (name, value) = h.split_once(':').ok_or_else(bad)?;
    let name = name.trim();
    if !valid_token(name) {
        return Err(bad());
    }
    let value = value.trim();
    if value.is_empty() {
        Ok(HeaderEdit::Remove(name.to_string()))
    } else {
        Ok(HeaderEdit::Set(name.to_string(), value.to_string()))
    }
}

/// `host:port:addr[,addr...]`, addresses possibly in brackets.
pub fn parse_resolve(r: &str) -> Result<Resolve, ClientError> {
    let bad = || ClientError::new(49, format!("Couldn't parse CURLOPT_RESOLVE entry '{r}'"));
    let (host, rest) = r.split_once(':').ok_or_else(bad)?;
    let (port, addrs) = rest.split_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    let addrs = addrs
        .split(',')
        .map(|a| {
            let a = a.trim_start_matches('[').trim_end_matches(']');
            a.parse::<IpAddr>().map_err(|_| bad())
        })
        .collect::<Result<Vec<_>, _>>()?;
    if host.is_empty() || addrs.is_empty() {
        return Err(bad());
    }
    Ok(Resolve {
        host: host.to_ascii_lowercase(),
        port,
        addrs,
    })
}

/// curl's `-w` escapes: `\n`, `\r`, `\t`, `\\` (variables are expanded after the transfer).
pub fn unescape_write_out(format: &str) -> String {
    let mut out = String::with_capacity(format.len());
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn read_write_out(format: &str) -> Result<String, ClientError> {
    let text = match format.strip_prefix('@') {
        Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| ClientError::new(26, format!("Failed to read -w from stdin: {e}")))?;
            s
        }
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| ClientError::new(26, format!("Failed to read {path}: {e}")))?,
        None => format.to_string(),
    };
    Ok(unescape_write_out(&text))
}

/// `-d` content: the text, or a file's bytes (`@file`, `@-`), with CR/LF removed for `-d` as
/// curl does. An unreadable file makes an empty body with a warning, like curl.
fn read_data(arg: &str, strip_newlines: bool) -> Vec<u8> {
    let mut bytes = match arg.strip_prefix('@') {
        Some("-") => {
            let mut buf = Vec::new();
            if let Err(e) = std::io::stdin().read_to_end(&mut buf) {
                eprintln!("Warning: Couldn't read data from stdin: {e}");
            }
            buf
        }
        Some(path) => std::fs::read(path).unwrap_or_else(|_| {
            eprintln!(
                "Warning: Couldn't read data from file \"{path}\", this makes an empty POST."
            );
            Vec::new()
        }),
        None => return arg.as_bytes().to_vec(),
    };
    if strip_newlines {
        bytes.retain(|&b| b != b'\r' && b != b'\n');
    }
    bytes
}

fn append_data(data: &mut Option<Vec<u8>>, part: Vec<u8>) {
    match data {
        Some(existing) => {
            existing.push(b'&');
            existing.extend_from_slice(&part);
        }
        None => *data = Some(part),
    }
}

fn seconds(value: Option<f64>, flag: &str) -> Result<Option<Duration>, ClientError> {
    match value {
        None => Ok(None),
        Some(s) if (0.0..1e9).contains(&s) => Ok(Some(Duration::from_secs_f64(s))),
        Some(s) => Err(ClientError::new(
            2,
            format!("option {flag}: expected a proper numerical parameter, got {s}"),
        )),
    }
}

/// RFC 9110 §5.6.2 token characters.
fn valid_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_like_curl() {
        assert_eq!(
            parse_header("X-Test:  a b ").unwrap(),
            HeaderEdit::Set("X-Test".into(), "a b".into())
        );
        assert_eq!(
            parse_header("Accept:").unwrap(),
            HeaderEdit::Remove("Accept".into())
        );
        assert_eq!(
            parse_header("X-Empty;").unwrap(),
            HeaderEdit::Set("X-Empty".into(), String::new())
        );
        assert!(parse_header("no colon").is_err());
        assert!(parse_header("bad name: x").is_err());
    }

    #[test]
    fn resolve_entries() {
        let r = parse_resolve("Example.test:8443:127.0.0.1").unwrap();
        assert_eq!(r.host, "example.test");
        assert_eq!(r.port, 8443);
        assert_eq!(r.addrs, vec!["127.0.0.1".parse::<IpAddr>().unwrap()]);
        let r = parse_resolve("h:1:[::1],10.0.0.1").unwrap();
        assert_eq!(r.addrs.len(), 2);
        assert!(parse_resolve("h:x:127.0.0.1").is_err());
        assert!(parse_resolve("h:1:notanip").is_err());
        assert!(parse_resolve("h").is_err());
    }

    #[test]
    fn data_joins_with_ampersand() {
        let args = Args {
            url: "http://h/".into(),
            data: vec!["a=1".into(), "b=2".into()],
            max_redirs: 50,
            ..Args::default()
        };
        let o = Options::from_args(args).unwrap();
        assert_eq!(o.data.as_deref(), Some(&b"a=1&b=2"[..]));
    }

    #[test]
    fn data_from_file_drops_newlines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.txt");
        std::fs::write(&path, "x=1\r\ny=2\n").unwrap();
        assert_eq!(read_data(&format!("@{}", path.display()), true), b"x=1y=2");
        assert_eq!(
            read_data(&format!("@{}", path.display()), false),
            b"x=1\r\ny=2\n"
        );
    }

    #[test]
    fn write_out_escapes() {
        assert_eq!(unescape_write_out(r"%{http_code}\n"), "%{http_code}\n");
        assert_eq!(unescape_write_out(r"a\tb\\c\q"), "a\tb\\c\\q");
    }

    #[test]
    fn bad_numbers_are_usage_errors() {
        assert_eq!(seconds(Some(-1.0), "-m").unwrap_err().code, 2);
        assert_eq!(
            seconds(Some(1.5), "-m").unwrap(),
            Some(Duration::from_millis(1500))
        );
    }
}
