//! The `mitm` program against our server, with curl, our client and Chromium as victims: what
//! each attack gets against HTTP, and how HTTPS holds (or fails loudly).
//!
//! Every process runs under a deadline; tests wait for lines of the proxy's output, never for
//! time to pass. Our client runs as a child process: this test binary started again with the
//! client's arguments in `OUR_CLIENT_ARGS` (see [`our_client_child_entry`]).

mod common;

use clap::Parser as _;
use common::{output_within, shared_certs, Running};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

const BANNER_TEXT: &str = "inserted by the man in the middle";
const WAIT: Duration = Duration::from_secs(30);
const CHILD_ENV: &str = "OUR_CLIENT_ARGS";

/// A running `mitm`: its stdout as it arrives, and its port from the banner.
struct Mitm {
    child: Child,
    port: u16,
    banner: String,
    out: Arc<(Mutex<String>, Condvar)>,
    /// The directory of a CA made for this run, removed with the proxy.
    ca_dir: Option<tempfile::TempDir>,
}

impl Mitm {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mitm"))
            .args(["--listen", "127.0.0.1:0", "--idle-timeout", "10"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn mitm");
        let out = Arc::new((Mutex::new(String::new()), Condvar::new()));
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let sink = out.clone();
        std::thread::spawn(move || {
            let mut line = String::new();
            while matches!(stdout.read_line(&mut line), Ok(n) if n > 0) {
                if let Ok(mut text) = sink.0.lock() {
                    text.push_str(&line);
                }
                sink.1.notify_all();
                line.clear();
            }
        });
        let mut this = Self {
            child,
            port: 0,
            banner: String::new(),
            out,
            ca_dir: None,
        };
        if !this.wait_for("Quit by pressing CTRL-C", Duration::from_secs(120)) {
            let mut err = String::new();
            let _ = this.child.kill();
            if let Some(mut e) = this.child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            panic!("no mitm banner; stdout:\n{}\nstderr:\n{err}", this.text());
        }
        this.banner = this.text();
        this.port = this
            .banner
            .lines()
            .find_map(|l| l.strip_prefix("Listening on 127.0.0.1:"))
            .and_then(|rest| rest.split(' ').next())
            .and_then(|p| p.parse().ok())
            .expect("port in the banner");
        this
    }

    fn text(&self) -> String {
        self.out.0.lock().map(|t| t.clone()).unwrap_or_default()
    }

    /// Wait until the output holds `needle` `count` times.
    fn wait_count(&self, needle: &str, count: usize, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let Ok(mut text) = self.out.0.lock() else {
            return false;
        };
        loop {
            if text.matches(needle).count() >= count {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            text = match self.out.1.wait_timeout(text, left) {
                Ok((t, _)) => t,
                Err(_) => return false,
            };
        }
    }

    fn wait_for(&self, needle: &str, limit: Duration) -> bool {
        self.wait_count(needle, 1, limit)
    }

    /// Wait for `n` connections to have ended (their summary lines), and return the output.
    fn after_ends(&self, n: usize) -> String {
        assert!(
            self.wait_count("] end: ", n, WAIT),
            "expected {n} summary lines:\n{}",
            self.text()
        );
        self.text()
    }

    fn http(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn https(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }

    /// The CA the proxy issues from, as printed in its banner.
    fn ca_path(&self) -> PathBuf {
        let line = self
            .banner
            .lines()
            .find_map(|l| l.strip_prefix("Proxy CA: "))
            .expect("a Proxy CA line");
        PathBuf::from(line.split(" (").next().expect("path"))
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Mitm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Our server with plain HTTP too.
fn our_server() -> Running {
    Running::start(&["--http", "127.0.0.1:0"])
}

fn upstream_http(server: &Running) -> String {
    format!("127.0.0.1:{}", server.http_port.expect("http port"))
}

fn upstream_https(server: &Running) -> String {
    format!("localhost:{}", server.port)
}

fn curl_args(args: &[&str]) -> Output {
    output_within(
        Command::new("curl")
            .args(["-sS", "--max-time", "30"])
            .args(args),
        Duration::from_secs(60),
        "curl",
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ca() -> String {
    shared_certs().join("ca.pem").display().to_string()
}

/// Not a test of its own: the entry point of [`our_client`]'s child process. Run normally (no
/// `OUR_CLIENT_ARGS`), it does nothing.
#[test]
fn our_client_child_entry() {
    let Ok(joined) = std::env::var(CHILD_ENV) else {
        return;
    };
    let args =
        std::iter::once("client".to_string()).chain(joined.split('\u{1f}').map(String::from));
    let code = match client::cli::Args::try_parse_from(args) {
        Ok(args) => client::run(args),
        Err(e) => {
            let _ = e.print();
            2
        }
    };
    std::process::exit(code);
}

/// Run our client (the `client` crate's `run`, in a child process) with `args`; its home is a
/// fresh directory, so no remembered exception applies.
fn our_client(args: &[&str]) -> Output {
    let home = tempfile::tempdir().expect("home");
    let exe = std::env::current_exe().expect("test binary");
    output_within(
        Command::new(exe)
            .args([
                "--exact",
                "our_client_child_entry",
                "--nocapture",
                "--test-threads=1",
                "-q",
            ])
            .env(CHILD_ENV, args.join("\u{1f}"))
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path())
            .env_remove("SSLKEYLOGFILE"),
        Duration::from_secs(60),
        "the test binary",
    )
}

fn chromium(url: &str, extra: &[&str]) -> Output {
    let profile = tempfile::tempdir().expect("profile dir");
    let mut cmd = Command::new("chromium");
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--virtual-time-budget=5000",
        "--dump-dom",
    ])
    .args(extra)
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .arg(url);
    output_within(&mut cmd, Duration::from_secs(120), "chromium")
}

// --- sniff ---------------------------------------------------------------------------------

#[test]
fn sniffing_http_shows_the_password_the_cookie_and_the_page() {
    let server = our_server();
    let mitm = Mitm::start(&["--sniff", "--upstream", &upstream_http(&server)]);
    let out = curl_args(&[
        "-d",
        "user=alice&password=hunter2",
        "-H",
        "Cookie: session=s3cret",
        "-H",
        "Authorization: Basic YWxpY2U6aHVudGVyMg==",
        "-H",
        "X-Evil: \x1b[2J",
        &mitm.http("/login"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let seen = mitm.after_ends(1);
    for needle in [
        "> POST /login HTTP/1.1",
        ">   Cookie: session=s3cret",
        ">   Authorization: Basic YWxpY2U6aHVudGVyMg==",
        "> | user=alice&password=hunter2",
        // Our server refuses the request (hyper: 400 for the ESC in a header), but the
        // password has already crossed the path.
        "< HTTP/1.1 400 Bad Request",
        "end: http, 1 request(s), 1 response(s)",
        // Peer-chosen bytes are escaped: a header cannot clear the terminal reading this.
        ">   X-Evil: \\x1b[2J",
    ] {
        assert!(seen.contains(needle), "{needle:?} not in:\n{seen}");
    }
    assert!(!seen.contains('\x1b'), "{seen}");
}

#[test]
fn sniffing_https_shows_the_name_and_the_chain_but_not_the_request() {
    let server = our_server();
    let mitm = Mitm::start(&["--sniff", "--upstream", &upstream_https(&server)]);
    let page = curl_args(&[
        "--cacert",
        &ca(),
        "-H",
        "Cookie: session=s3cret",
        &mitm.https("/"),
    ]);
    assert!(
        text(&page.stdout).contains("Your connection is HTTPS"),
        "the victim still gets the page: {}",
        text(&page.stderr)
    );
    let post = our_client(&[
        "--cacert",
        &ca(),
        "-s",
        "-d",
        "password=hunter2",
        &mitm.https("/"),
    ]);
    assert_eq!(post.status.code(), Some(0), "{}", text(&post.stderr));
    let seen = mitm.after_ends(2);
    for needle in [
        "ClientHello (in the clear): server name (SNI) \"localhost\"",
        "TLS_RSA_WITH_AES_128_CBC_SHA (0x002F)",
        "0 subject: CN = localhost",
        "issuer: CN = Test Root CA",
        "this is all an eavesdropper gets",
        "application_data record, ",
    ] {
        assert!(seen.contains(needle), "{needle:?} not in:\n{seen}");
    }
    for secret in ["hunter2", "s3cret", "GET /", "POST /", "Your connection"] {
        assert!(!seen.contains(secret), "{secret:?} leaked:\n{seen}");
    }
}

// --- inject --------------------------------------------------------------------------------

#[test]
fn injecting_into_http_puts_the_banner_in_the_page() {
    let server = our_server();
    let mitm = Mitm::start(&["--inject", "--upstream", &upstream_http(&server)]);
    // --compressed asks for gzip: the proxy rewrites Accept-Encoding so it can edit the page.
    let out = curl_args(&["--compressed", "-D", "-", &mitm.http("/")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let response = text(&out.stdout);
    let (head, body) = response.split_once("\r\n\r\n").expect("a head");
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("content-length: ")
                .or(l.strip_prefix("Content-Length: "))
        })
        .and_then(|v| v.trim().parse().ok())
        .expect("Content-Length");
    assert_eq!(length, body.len(), "Content-Length was fixed");
    let at = body.find(BANNER_TEXT).expect("the banner");
    let body_tag = body.find("<body").expect("<body>");
    assert!(body_tag < at, "the banner is inside <body>");
    assert!(body.trim_end().ends_with("</html>"), "the page is whole");
    assert!(mitm
        .after_ends(1)
        .contains("inserting the banner, Content-Length"));
}

#[test]
fn injecting_into_https_is_refused_with_bad_record_mac() {
    let server = our_server();
    let mitm = Mitm::start(&["--inject", "--upstream", &upstream_https(&server)]);
    let curl = curl_args(&["--cacert", &ca(), &mitm.https("/")]);
    assert_eq!(curl.status.code(), Some(56), "{}", text(&curl.stderr));
    // OpenSSL names the failure by the record protection curl negotiated: "bad record mac"
    // for CBC + HMAC, "cipher operation failed" when AES-GCM's tag does not verify.
    let refused = text(&curl.stderr);
    assert!(
        refused.contains("bad record mac") || refused.contains("cipher operation failed"),
        "{refused}"
    );
    let ours = our_client(&["--cacert", &ca(), &mitm.https("/")]);
    assert_eq!(ours.status.code(), Some(56), "{}", text(&ours.stderr));
    assert!(
        text(&ours.stderr).contains("bad_record_mac"),
        "{}",
        text(&ours.stderr)
    );
    let seen = mitm.after_ends(2);
    assert_eq!(seen.matches("flipped one bit").count(), 2, "{seen}");
    for output in [&curl.stdout, &ours.stdout, &curl.stderr, &ours.stderr] {
        let shown = text(output);
        assert!(
            !shown.contains(BANNER_TEXT) && !shown.contains("<html"),
            "{shown}"
        );
    }
}

#[test]
fn chromium_renders_the_injected_banner() {
    let server = our_server();
    let mitm = Mitm::start(&["--inject", "--upstream", &upstream_http(&server)]);
    let out = chromium(&mitm.http("/"), &[]);
    let dom = text(&out.stdout);
    assert!(
        dom.contains(BANNER_TEXT) && dom.contains("id=\"mitm-banner\""),
        "banner not in the DOM:\n{dom}\nstderr:\n{}",
        text(&out.stderr)
    );
    assert!(dom.contains("This page came over plain HTTP"), "{dom}");
    // The page itself says how to run each attack.
    assert!(
        dom.contains("Attack it yourself") && dom.contains("--impersonate"),
        "{dom}"
    );
}

// --- impersonate ---------------------------------------------------------------------------

/// The proxy with a CA made for this run (the victims do not trust it).
fn impersonator(server: &Running) -> Mitm {
    let dir = tempfile::tempdir().expect("ca dir");
    let mut mitm = Mitm::start(&[
        "--impersonate",
        "--upstream",
        &upstream_https(server),
        "--upstream-ca",
        &ca(),
        "--ca-dir",
        &dir.path().display().to_string(),
    ]);
    mitm.ca_dir = Some(dir);
    mitm
}

#[test]
fn impersonating_is_refused_by_a_client_that_checks() {
    let server = our_server();
    let mitm = impersonator(&server);
    let ours = our_client(&["-d", "password=hunter2", &mitm.https("/")]);
    let warning = text(&ours.stderr);
    assert_eq!(ours.status.code(), Some(60), "{warning}");
    assert!(
        warning.contains("Your connection is not private"),
        "{warning}"
    );
    assert!(
        warning.contains("unable to get local issuer certificate"),
        "{warning}"
    );
    assert!(warning.contains("CN=mitm Root CA"), "{warning}");
    let curl = curl_args(&[&mitm.https("/")]);
    assert_eq!(curl.status.code(), Some(60), "{}", text(&curl.stderr));
    let seen = mitm.after_ends(2);
    assert_eq!(
        seen.matches("the client refused our certificate").count(),
        2,
        "{seen}"
    );
    assert!(
        !seen.contains("hunter2") && !seen.contains("decrypted:"),
        "{seen}"
    );
}

#[test]
fn impersonating_a_client_that_clicks_through_reads_everything() {
    let server = our_server();
    let mitm = impersonator(&server);
    let ours = our_client(&["-k", "-s", "-d", "password=hunter2", &mitm.https("/")]);
    assert_eq!(ours.status.code(), Some(0), "{}", text(&ours.stderr));
    let seen = mitm.after_ends(1);
    for needle in [
        "the client accepted our certificate",
        "> decrypted: POST / HTTP/1.1",
        "> | password=hunter2",
        "< decrypted: HTTP/1.1 405 Method Not Allowed",
    ] {
        assert!(seen.contains(needle), "{needle:?} not in:\n{seen}");
    }
}

#[test]
fn impersonating_with_a_trusted_ca_succeeds_silently() {
    let server = our_server();
    // The victim trusts the proxy's CA (it was given to --cacert): no warning at all.
    let mitm = impersonator(&server);
    let proxy_ca = mitm.ca_path().display().to_string();
    let curl = curl_args(&["--cacert", &proxy_ca, &mitm.https("/")]);
    assert!(curl.status.success(), "{}", text(&curl.stderr));
    assert!(text(&curl.stdout).contains("Your connection is HTTPS"));
    let ours = our_client(&["--cacert", &proxy_ca, "-s", &mitm.https("/")]);
    assert_eq!(ours.status.code(), Some(0), "{}", text(&ours.stderr));
    assert_eq!(
        mitm.after_ends(2)
            .matches("> decrypted: GET / HTTP/1.1")
            .count(),
        2
    );

    // --ca: a CA the victim already trusts (a corporate proxy's): curl's usual trust passes.
    let corporate = Mitm::start(&[
        "--impersonate",
        "--upstream",
        &upstream_https(&server),
        "--upstream-ca",
        &ca(),
        "--ca",
        &shared_certs().join("ca").display().to_string(),
    ]);
    let curl = curl_args(&["--cacert", &ca(), &corporate.https("/")]);
    assert!(curl.status.success(), "{}", text(&curl.stderr));
    assert!(corporate
        .after_ends(1)
        .contains("> decrypted: GET / HTTP/1.1"));
}

#[test]
fn chromium_shows_the_untrusted_certificate_error() {
    let server = our_server();
    let mitm = impersonator(&server);
    let out = chromium(&mitm.https("/"), &[]);
    let stderr = text(&out.stderr);
    // Headless Chromium logs the failed load on stderr; the interstitial's DOM names it too.
    assert!(
        stderr.contains("ERR_CERT_AUTHORITY_INVALID")
            || text(&out.stdout).contains("ERR_CERT_AUTHORITY_INVALID"),
        "no certificate error; stderr:\n{stderr}"
    );
    assert!(!text(&out.stdout).contains("Your connection is HTTPS"));
    assert!(
        mitm.wait_for("the client refused our certificate", WAIT),
        "{}",
        mitm.text()
    );
    assert!(!mitm.text().contains("decrypted:"));
}

// --- robustness ----------------------------------------------------------------------------

/// Connect, send `bytes`, close our sending side (or not), read until the proxy closes.
fn misbehave(port: u16, bytes: &[u8], half_close: bool) {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        panic!("cannot connect to the mitm");
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
    let _ = s.write_all(bytes);
    if half_close {
        let _ = s.shutdown(std::net::Shutdown::Write);
        let mut sink = [0u8; 4096];
        // Until EOF or error (bounded by the read timeout per read, and by the proxy's idle).
        for _ in 0..10_000 {
            match s.read(&mut sink) {
                Ok(n) if n > 0 => {}
                _ => break,
            }
        }
    }
    // Otherwise: vanish without a word (drop).
}

#[test]
fn malformed_traffic_never_crashes_it() {
    let server = our_server();
    let modes: Vec<(Vec<String>, bool)> = vec![
        (
            vec![
                "--sniff".into(),
                "--upstream".into(),
                upstream_https(&server),
            ],
            true,
        ),
        (
            vec![
                "--sniff".into(),
                "--upstream".into(),
                upstream_http(&server),
            ],
            false,
        ),
        (
            vec![
                "--inject".into(),
                "--upstream".into(),
                upstream_https(&server),
            ],
            true,
        ),
        (
            vec![
                "--inject".into(),
                "--upstream".into(),
                upstream_http(&server),
            ],
            false,
        ),
        (
            vec![
                "--impersonate".into(),
                "--upstream".into(),
                upstream_https(&server),
                "--upstream-ca".into(),
                ca(),
                "--ca".into(),
                shared_certs().join("ca").display().to_string(),
            ],
            true,
        ),
    ];
    let cases: [(&[u8], bool); 6] = [
        (b"\x00\xffgarbage\r\n\r\n\x1b[2J", true),
        // A TLS record header promising more than ever comes.
        (b"\x16\x03\x01\x40\x00\x01\x00\x3f\xfc\x03\x03", true),
        // A record header with an impossible length.
        (b"\x16\x03\x03\xff\xff", true),
        // HTTP that is not: a head that never ends, then close.
        (b"GET / HTTP/1.1\r\nHost: x\r\nX: ", true),
        // A vanishing client, in the middle of a ClientHello and of a request.
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc", false),
        (b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\nab", false),
    ];
    for (args, tls) in modes {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut mitm = Mitm::start(&args);
        for (bytes, half_close) in cases {
            misbehave(mitm.port, bytes, half_close);
        }
        // Every one of those connections ended with its summary line, and the proxy still works.
        mitm.after_ends(cases.len());
        assert!(mitm.alive(), "{args:?}: the proxy died:\n{}", mitm.text());
        let url = if tls { mitm.https("/") } else { mitm.http("/") };
        let out = curl_args(&[
            "--cacert",
            &ca(),
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &url,
        ]);
        let code = text(&out.stdout);
        // Inject over TLS is meant to fail (56); every other mode serves the page.
        let inject_tls = args.contains(&"--inject") && tls;
        assert!(
            (inject_tls && out.status.code() == Some(56)) || code == "200",
            "{args:?}: {code} {}\n{}",
            text(&out.stderr),
            mitm.text()
        );
        assert!(mitm.alive());
        let seen = mitm.text();
        assert!(
            !seen.contains("\x1b"),
            "escape sequences are escaped:\n{seen}"
        );
    }
}

/// `curl -Z` with `n` transfers of `url`, each its own connection; returns the status codes.
fn parallel(url: &str, n: usize, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["-Z", "--parallel-max", "50", "--parallel-immediate"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend([
        "-w".into(),
        "%{http_code}\\n".into(),
        "-H".into(),
        "Connection: close".into(),
    ]);
    for _ in 0..n {
        args.extend(["-o".into(), "/dev/null".into(), url.to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = curl_args(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).lines().map(str::to_string).collect()
}

#[test]
fn fifty_parallel_connections_per_mode() {
    let server = our_server();
    let n = 50;
    let ok = |codes: &[String]| codes.len() == n && codes.iter().all(|c| c == "200");

    let sniff = Mitm::start(&["--sniff", "--upstream", &upstream_http(&server)]);
    let codes = parallel(&sniff.http("/"), n, &[]);
    assert!(ok(&codes), "{codes:?}");
    assert!(sniff.after_ends(n).matches("connection from").count() >= n);

    let inject = Mitm::start(&["--inject", "--upstream", &upstream_http(&server)]);
    let codes = parallel(&inject.http("/"), n, &[]);
    assert!(ok(&codes), "{codes:?}");
    assert_eq!(
        inject.after_ends(n).matches("inserting the banner").count(),
        n
    );

    let corporate = Mitm::start(&[
        "--impersonate",
        "--upstream",
        &upstream_https(&server),
        "--upstream-ca",
        &ca(),
        "--ca",
        &shared_certs().join("ca").display().to_string(),
    ]);
    let ca = ca();
    let codes = parallel(&corporate.https("/"), n, &["--cacert", &ca]);
    assert!(ok(&codes), "{codes:?}");
    assert_eq!(
        corporate
            .after_ends(n)
            .matches("> decrypted: GET / HTTP/1.1")
            .count(),
        n
    );
}

#[test]
fn bad_arguments_are_one_line_and_exit_2() {
    for args in [
        &["--upstream", "127.0.0.1:1"][..],
        &["--sniff", "--inject", "--upstream", "127.0.0.1:1"],
        &["--sniff"],
        &["--sniff", "--upstream", "no-port"],
        &["--sniff", "--upstream", "h:1", "--ca", "x"],
        &["--sniff", "--upstream", "h:1", "--idle-timeout", "-1"],
    ] {
        let out = output_within(
            Command::new(env!("CARGO_BIN_EXE_mitm")).args(args),
            Duration::from_secs(30),
            "mitm",
        );
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("mitm: "), "{err}");
    }
}
