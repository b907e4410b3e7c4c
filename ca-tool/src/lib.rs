//! `ca-tool`: a small certificate authority for local HTTPS, in the spirit of mkcert and
//! `step certificate`, with `inspect` and `verify` that print what `openssl x509 -text` and
//! `openssl verify -show_chain` print.
//!
//! Conventions: `--ca PREFIX` means `PREFIX.pem` (the CA certificate, followed by its own chain
//! when it is an intermediate) and `PREFIX-key.pem`. Outputs default to `certs/`.
//! Exit codes: 0 success, 1 failure (verification failed, refusing to overwrite, ...), 2 usage
//! or unreadable input.

#![deny(unsafe_code)]

use clap::{Args, Parser, Subcommand};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use tls::crypto::rsa::{KeygenEvent, RsaPrivateKey};
use tls::pki::local_ca::{self, LocalCaError, Request, Signer};
use tls::pki::trust::TrustStore;
use tls::pki::verify::{candidate_path_at, verify_chain};
use tls::pki::x509::{hex_colon, Certificate, CertificateBuilder};
use tls::pki::{CertError, CertErrorKind};

#[derive(Parser, Debug)]
#[command(
    name = "ca-tool",
    version,
    about = "A small certificate authority for local HTTPS"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create a root CA (default certs/ca.pem and certs/ca-key.pem).
    Init {
        /// The CA is named "<NAME> Root CA".
        #[arg(long, default_value = local_ca::DEFAULT_NAME)]
        name: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Create an intermediate CA signed by another CA.
    Intermediate {
        /// Common name of the intermediate CA.
        name: String,
        /// The signing CA: PREFIX.pem and PREFIX-key.pem.
        #[arg(long, value_name = "PREFIX")]
        ca: PathBuf,
        /// How many CAs may follow this one (pathLenConstraint); "none" for no limit.
        #[arg(long, default_value = "0", value_parser = parse_path_len)]
        path_len: PathLen,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Issue a server certificate (or with --client, a client certificate for mutual TLS)
    /// signed by a CA; the PEM holds the leaf then its chain.
    Issue {
        /// Host names and IP addresses (the first is also the CN).
        #[arg(
            required_unless_present = "client",
            conflicts_with = "client",
            value_name = "HOST_OR_IP"
        )]
        names: Vec<String>,
        /// A client certificate for NAME (the CN; a person or a service): extendedKeyUsage
        /// clientAuth, keyUsage digitalSignature.
        #[arg(long, value_name = "NAME")]
        client: Option<String>,
        /// With --client: an e-mail address, as an rfc822Name subjectAltName.
        #[arg(long, value_name = "ADDR", requires = "client")]
        email: Option<String>,
        #[arg(long, value_name = "PREFIX")]
        ca: PathBuf,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Make a self-signed server certificate (browsers and clients will warn).
    SelfSigned {
        #[arg(required = true, value_name = "HOST_OR_IP")]
        names: Vec<String>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Print every certificate in a PEM (or DER) file in readable form.
    Inspect { file: PathBuf },
    /// Verify a certificate chain like `openssl verify -show_chain`.
    Verify {
        /// The certificate to check; more certificates in the file are used as intermediates.
        leaf: PathBuf,
        /// Trusted roots (PEM bundle).
        #[arg(long = "ca", value_name = "ROOTS.pem")]
        ca: PathBuf,
        /// Intermediate certificates that may be used to build the path (not trusted).
        #[arg(long, value_name = "INTERMEDIATES.pem")]
        untrusted: Vec<PathBuf>,
        /// Check that the certificate is valid for this DNS name or IP address.
        #[arg(long)]
        host: Option<String>,
        /// Check validity at this time (Unix seconds or RFC 3339) instead of now.
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        at: Option<i64>,
    },
}

#[derive(Args, Debug)]
struct CommonArgs {
    /// Output prefix: writes PREFIX.pem and PREFIX-key.pem.
    #[arg(long, value_name = "PREFIX")]
    out: Option<PathBuf>,
    /// RSA key size.
    #[arg(long, default_value = "2048", value_parser = ["2048", "3072", "4096"])]
    bits: String,
    /// Lifetime in days (default: root 3650, intermediate 1825, server 397).
    #[arg(long)]
    days: Option<u32>,
    /// Start of validity (Unix seconds or RFC 3339); past dates make demo certificates.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    not_before: Option<i64>,
    /// End of validity (Unix seconds or RFC 3339); overrides --days.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    not_after: Option<i64>,
    /// organizationName (O) for the subject.
    #[arg(long, default_value = local_ca::DEFAULT_ORGANIZATION)]
    org: String,
    /// Overwrite an existing key file.
    #[arg(long)]
    force: bool,
}

#[derive(Clone, Copy, Debug)]
struct PathLen(Option<u8>);

/// Run the tool with these arguments (the first is the program name); returns the exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let result = match cli.command {
        Command::Init { name, common } => init(&name, &common),
        Command::Intermediate {
            name,
            ca,
            path_len,
            common,
        } => intermediate(&name, &ca, path_len.0, &common),
        Command::Issue {
            client: Some(name),
            email,
            ca,
            common,
            ..
        } => issue_client(&name, email.as_deref(), &ca, &common),
        Command::Issue {
            names, ca, common, ..
        } => issue(&names, Some(&ca), &common),
        Command::SelfSigned { names, common } => issue(&names, None, &common),
        Command::Inspect { file } => inspect(&file),
        Command::Verify {
            leaf,
            ca,
            untrusted,
            host,
            at,
        } => verify(&leaf, &ca, &untrusted, host.as_deref(), at),
    };
    match result {
        Ok(()) => 0,
        Err(Failure { code, message }) => {
            if !message.is_empty() {
                eprintln!("ca-tool: {message}");
            }
            code
        }
    }
}

/// A failed command: the exit code and the one-line reason.
#[derive(Debug)]
struct Failure {
    code: i32,
    message: String,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }

    fn failed(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }
}

impl From<LocalCaError> for Failure {
    fn from(e: LocalCaError) -> Self {
        match e {
            LocalCaError::Input(m) => Self::usage(m),
            LocalCaError::Failed(m) => Self::failed(m),
        }
    }
}

type CmdResult = Result<(), Failure>;

fn init(name: &str, common: &CommonArgs) -> CmdResult {
    let (out, _, _) = outputs(common, local_ca::CA_STEM)?;
    let request = request(common, tls::pki::x509::ROOT_CA_DAYS)?;
    let made = with_spinner(request.key_bits, |progress| {
        local_ca::init(&out, name, &request, progress)
    })?;
    report(
        "a root CA",
        &made.certificate,
        &made.cert_path,
        &made.key_path,
    );
    println!(
        "Trust it with: client --cacert {}",
        made.cert_path.display()
    );
    Ok(())
}

fn intermediate(name: &str, ca: &Path, path_len: Option<u8>, common: &CommonArgs) -> CmdResult {
    let (_, cert_path, key_path) = outputs(common, name)?;
    let (ca_chain, ca_key) = load_ca(ca)?;
    let request = request(common, tls::pki::x509::INTERMEDIATE_CA_DAYS)?;
    let mut builder =
        CertificateBuilder::intermediate_ca(name, path_len).organization(request.organization);
    if let Some((not_before, not_after)) = request.validity {
        builder = builder.validity(not_before, not_after);
    }
    let key = with_spinner(request.key_bits, |progress| {
        local_ca::generate_key(request.key_bits, progress)
    })?;
    let signer = Signer {
        chain: &ca_chain,
        key: &ca_key,
    };
    let cert = local_ca::sign_with(&builder, &key, &signer)?;
    let mut chain = vec![cert.clone()];
    chain.extend(local_ca::chain_without_root(&ca_chain));
    local_ca::write_pair(&cert_path, &key_path, &chain, &key, common.force)?;
    report("an intermediate CA", &cert, &cert_path, &key_path);
    Ok(())
}

fn issue(names: &[String], ca: Option<&Path>, common: &CommonArgs) -> CmdResult {
    let first = names
        .first()
        .ok_or_else(|| Failure::usage("no host name"))?;
    let (out, _, _) = outputs(common, first)?;
    let ca = ca.map(load_ca).transpose()?;
    let signer = ca.as_ref().map(|(chain, key)| Signer { chain, key });
    let request = request(common, tls::pki::x509::SERVER_DAYS)?;
    let made = with_spinner(request.key_bits, |progress| {
        local_ca::issue(&out, names, signer.as_ref(), &request, progress)
    })?;
    let what = if ca.is_some() {
        "a server certificate"
    } else {
        "a self-signed server certificate"
    };
    report(what, &made.certificate, &made.cert_path, &made.key_path);
    if ca.is_none() {
        println!("Note: no CA vouches for a self-signed certificate; clients will warn unless they trust this exact file.");
    }
    Ok(())
}

fn issue_client(name: &str, email: Option<&str>, ca: &Path, common: &CommonArgs) -> CmdResult {
    let (out, _, _) = outputs(common, name)?;
    let (chain, key) = load_ca(ca)?;
    let signer = Signer {
        chain: &chain,
        key: &key,
    };
    let request = request(common, tls::pki::x509::SERVER_DAYS)?;
    let made = with_spinner(request.key_bits, |progress| {
        local_ca::issue_client(&out, name, email, &signer, &request, progress)
    })?;
    report(
        "a client certificate",
        &made.certificate,
        &made.cert_path,
        &made.key_path,
    );
    println!(
        "Use it: curl --cert {} --key {} https://...  (the server needs --client-ca with this CA)",
        made.cert_path.display(),
        made.key_path.display()
    );
    Ok(())
}

fn inspect(file: &Path) -> CmdResult {
    let certs = read_certificates(file)?;
    let now = now_unix();
    for (i, cert) in certs.iter().enumerate() {
        if i > 0 {
            println!();
        }
        println!(
            "Certificate {} of {} in {}",
            i + 1,
            certs.len(),
            file.display()
        );
        print!("{}", describe(cert, now));
    }
    Ok(())
}

fn verify(
    leaf_file: &Path,
    ca_file: &Path,
    untrusted: &[PathBuf],
    host: Option<&str>,
    at: Option<i64>,
) -> CmdResult {
    let roots = TrustStore::from_pem_file(ca_file).map_err(|e| Failure::usage(e.to_string()))?;
    let mut presented = read_certificates(leaf_file)?;
    for file in untrusted {
        presented.extend(read_certificates(file)?);
    }
    let at = at.unwrap_or_else(now_unix);
    match verify_chain(&presented, &roots, host, at) {
        Ok(chain) => {
            println!("{}: OK", leaf_file.display());
            println!("Chain:");
            let last = chain.len() - 1;
            for (depth, cert) in chain.certificates().iter().enumerate() {
                let mark = if depth == last { "" } else { " (untrusted)" };
                println!("depth={depth}: {}{mark}", cert.subject());
            }
            Ok(())
        }
        Err(e) => {
            let path = candidate_path_at(&presented, &roots, at);
            if let Some(cert) = path.get(e.depth) {
                eprintln!("{}", cert.subject());
            }
            if e.has_openssl_code() {
                eprintln!(
                    "error {} at {} depth lookup: {}",
                    e.openssl_code(),
                    e.depth,
                    openssl_reason(&e)
                );
            } else {
                // A reason OpenSSL has no code for: ours, without a made-up number.
                eprintln!("error at {} depth: {}", e.depth, openssl_reason(&e));
            }
            if let Some(detail) = explain(&e, &path, at) {
                eprintln!("{detail}");
            }
            eprintln!("error {}: verification failed", leaf_file.display());
            Err(Failure::failed(""))
        }
    }
}

/// OpenSSL's verify string; for a host mismatch that is "hostname mismatch" (curl words it
/// differently, which is what `CertError`'s Display gives).
fn openssl_reason(e: &CertError) -> String {
    match &e.kind {
        CertErrorKind::HostMismatch { .. } => "hostname mismatch".to_string(),
        _ => e.to_string(),
    }
}

/// One more line for a learner: the dates or names behind the reason.
fn explain(e: &CertError, path: &[Certificate], at: i64) -> Option<String> {
    let cert = path.get(e.depth);
    match &e.kind {
        CertErrorKind::Expired => cert.map(|c| {
            format!(
                "  notAfter={} is before the check time {}",
                tls::text::openssl_date(c.not_after()),
                tls::text::openssl_date(at)
            )
        }),
        CertErrorKind::NotYetValid => cert.map(|c| {
            format!(
                "  notBefore={} is after the check time {}",
                tls::text::openssl_date(c.not_before()),
                tls::text::openssl_date(at)
            )
        }),
        CertErrorKind::HostMismatch { host } => path.first().map(|c| {
            format!(
                "  '{host}' is not among the certificate's names: {}",
                san_text(c).unwrap_or_else(|| "(no subjectAltName)".into())
            )
        }),
        CertErrorKind::UnhandledCriticalExtension(oid) => Some(format!("  extension: {oid}")),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn usage_error(e: clap::Error) -> i32 {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                2
            } else {
                0
            }
        }
        _ => {
            // clap's first paragraph (the error and any indented details) on one line.
            let rendered = e.render().to_string();
            let message = rendered
                .lines()
                .skip_while(|l| l.trim().is_empty())
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" ");
            eprintln!(
                "ca-tool: {} (see ca-tool --help)",
                message.trim_start_matches("error: ")
            );
            2
        }
    }
}

fn parse_path_len(s: &str) -> Result<PathLen, String> {
    if s == "none" {
        return Ok(PathLen(None));
    }
    s.parse::<u8>()
        .map(|n| PathLen(Some(n)))
        .map_err(|_| format!("'{s}' is not a number 0-255 or 'none'"))
}

/// Unix seconds (`1700000000`), RFC 3339 (`2026-01-01T00:00:00Z`), or a date (`2026-01-01`).
pub fn parse_time(s: &str) -> Result<i64, String> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(secs) = s.parse::<i64>() {
        return Ok(secs);
    }
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t.unix_timestamp());
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = time::Date::parse(s, &date_format) {
        return Ok(d.midnight().assume_utc().unix_timestamp());
    }
    Err(format!(
        "'{s}' is not Unix seconds, an RFC 3339 time (2026-01-01T00:00:00Z) or a date (2026-01-01)"
    ))
}

fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The output prefix (`--out`, or `certs/<name as a file name>`) and the certificate and key
/// paths it gives, once [`refuse_existing`] has let them through.
fn outputs(common: &CommonArgs, name: &str) -> Result<(PathBuf, PathBuf, PathBuf), Failure> {
    let out = common
        .out
        .clone()
        .unwrap_or_else(|| Path::new(local_ca::DEFAULT_DIR).join(local_ca::file_stem(name)));
    let (cert_path, key_path) = local_ca::pair_paths(&out);
    refuse_existing(&cert_path, &key_path, common.force)?;
    Ok((out, cert_path, key_path))
}

/// Neither output may be replaced without `--force`: not the key, and not a certificate whose
/// key may live elsewhere (checked before any work, so a refusal leaves both files untouched).
fn refuse_existing(cert_path: &Path, key_path: &Path, force: bool) -> CmdResult {
    if force {
        return Ok(());
    }
    for path in [key_path, cert_path] {
        if path.exists() {
            return Err(Failure::failed(format!(
                "{} already exists (use --force to overwrite)",
                path.display()
            )));
        }
    }
    Ok(())
}

/// The organisation, key size, validity and `--force` the command line asks for.
fn request(common: &CommonArgs, default_days: i64) -> Result<Request<'_>, Failure> {
    let not_before = common.not_before.unwrap_or_else(now_unix);
    let days = common.days.map(i64::from).unwrap_or(default_days);
    let not_after = common
        .not_after
        .unwrap_or_else(|| not_before.saturating_add(days.saturating_mul(86_400)));
    if not_after <= not_before {
        return Err(Failure::usage(
            "--not-after must be later than --not-before",
        ));
    }
    let now = now_unix();
    if not_after < now {
        eprintln!("warning: this certificate is already expired (a demo certificate?)");
    } else if not_before > now {
        eprintln!("warning: this certificate is not valid yet (a demo certificate?)");
    }
    let key_bits = common
        .bits
        .parse()
        .map_err(|_| Failure::usage("--bits must be 2048, 3072 or 4096"))?;
    Ok(Request {
        organization: &common.org,
        key_bits,
        validity: Some((not_before, not_after)),
        force: common.force,
    })
}

/// Run `work`, which generates a `bits`-bit RSA key, with a spinner on stderr (shown only on a
/// terminal) that follows the search for primes.
fn with_spinner<T>(
    bits: usize,
    work: impl FnOnce(&mut dyn FnMut(KeygenEvent)) -> Result<T, LocalCaError>,
) -> Result<T, Failure> {
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_message(format!(
        "Generating a {bits}-bit RSA key (looking for primes)"
    ));
    let mut candidates = 0u64;
    let mut primes = 0u32;
    let result = work(&mut |event| {
        match event {
            KeygenEvent::CandidateRejected => candidates += 1,
            KeygenEvent::PrimeFound => primes += 1,
        }
        if candidates.is_multiple_of(8) || matches!(event, KeygenEvent::PrimeFound) {
            spinner.set_message(format!(
                "Generating a {bits}-bit RSA key: {primes}/2 primes found, {candidates} candidates rejected"
            ));
            spinner.tick();
        }
    });
    spinner.finish_and_clear();
    Ok(result?)
}

/// The CA certificate (first in PREFIX.pem, followed by its chain) and its key.
fn load_ca(prefix: &Path) -> Result<(Vec<Certificate>, RsaPrivateKey), Failure> {
    let (cert_path, key_path) = local_ca::pair_paths(prefix);
    Ok(local_ca::read_ca(&cert_path, &key_path)?)
}

fn report(what: &str, cert: &Certificate, cert_path: &Path, key_path: &Path) {
    println!("Created {what}: {}", cert.subject());
    if let Some(names) = san_text(cert) {
        println!("  names:       {names}");
    }
    println!("  certificate: {}", cert_path.display());
    println!(
        "  private key: {} (mode 0600: keep it secret)",
        key_path.display()
    );
    println!(
        "  valid:       {} to {}",
        tls::text::openssl_date(cert.not_before()),
        tls::text::openssl_date(cert.not_after())
    );
    println!(
        "  SHA-256:     {}",
        hex_colon(&cert.sha256_fingerprint(), true)
    );
}

/// Certificates from a PEM file, or a single DER certificate.
fn read_certificates(path: &Path) -> Result<Vec<Certificate>, Failure> {
    Ok(local_ca::read_chain(path)?)
}

fn san_text(cert: &Certificate) -> Option<String> {
    cert.extensions()
        .iter()
        .find(|e| e.oid == "2.5.29.17")
        .map(|e| e.text.join(", "))
}

/// `Nov 25 00:34:48 2026 GMT`, as openssl prints dates.
fn kind_of(cert: &Certificate) -> &'static str {
    match (cert.is_ca(), cert.is_self_issued()) {
        (true, true) => "root CA",
        (true, false) => "intermediate CA",
        (false, true) => "self-signed end-entity certificate",
        (false, false) => "end-entity certificate",
    }
}

/// What the certificate may be used for in TLS, from extendedKeyUsage (absent: anything).
fn purpose_of(cert: &Certificate) -> &'static str {
    match (
        cert.extended_key_usage().is_some(),
        cert.allows_server_auth(),
        cert.allows_client_auth(),
    ) {
        (false, _, _) => "any (no extendedKeyUsage)",
        (true, true, true) => "TLS server and TLS client (serverAuth, clientAuth)",
        (true, true, false) => "TLS server (serverAuth)",
        (true, false, true) => "TLS client (clientAuth): mutual TLS, not for a server",
        (true, false, false) => "neither TLS server nor TLS client",
    }
}

/// The readable text of one certificate, in `openssl x509 -text` order with extras.
fn describe(cert: &Certificate, now: i64) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(format!("    Kind:        {}", kind_of(cert)));
    line(format!("    Purpose:     {}", purpose_of(cert)));
    line(format!("    Version:     {}", cert.version()));
    line(format!("    Serial:      {}", cert.serial_hex()));
    line(format!(
        "    Signature:   {}",
        cert.signature_algorithm_name()
    ));
    line(format!("    Issuer:      {}", cert.issuer()));
    line("    Validity".to_string());
    line(format!(
        "        Not Before: {}",
        tls::text::openssl_date(cert.not_before())
    ));
    line(format!(
        "        Not After : {}  ({})",
        tls::text::openssl_date(cert.not_after()),
        days_left(cert, now)
    ));
    line(format!("    Subject:     {}", cert.subject()));
    let bits = cert
        .key_bits()
        .map(|b| format!(" ({b} bit)"))
        .unwrap_or_default();
    line(format!(
        "    Public Key:  {}{bits}",
        cert.public_key_algorithm_name()
    ));
    if let Some(names) = san_text(cert) {
        line(format!("    Names (SAN): {names}"));
    }
    if !cert.extensions().is_empty() {
        line("    X509v3 extensions:".to_string());
        for ext in cert.extensions() {
            let critical = if ext.critical { " critical" } else { "" };
            line(format!("        {}:{critical}", ext.name));
            for text in &ext.text {
                line(format!("            {text}"));
            }
        }
    }
    line(format!(
        "    SHA-256 Fingerprint: {}",
        hex_colon(&cert.sha256_fingerprint(), true)
    ));
    out
}

fn days_left(cert: &Certificate, now: i64) -> String {
    const DAY: i64 = 86_400;
    if now < cert.not_before() {
        format!(
            "NOT YET VALID: starts in {} days",
            (cert.not_before() - now + DAY - 1) / DAY
        )
    } else if now > cert.not_after() {
        format!("EXPIRED {} days ago", (now - cert.not_after()) / DAY)
    } else {
        format!("expires in {} days", (cert.not_after() - now) / DAY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_in_three_forms() {
        assert_eq!(parse_time("1700000000"), Ok(1_700_000_000));
        assert_eq!(parse_time("2026-01-01T00:00:00Z"), Ok(1_767_225_600));
        assert_eq!(parse_time("2026-01-01T01:00:00+01:00"), Ok(1_767_225_600));
        assert_eq!(parse_time("2026-01-01"), Ok(1_767_225_600));
        assert!(parse_time("yesterday").is_err());
    }
}
