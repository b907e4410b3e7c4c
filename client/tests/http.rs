//! curl's flags against a local server, compared with what curl itself does for the same
//! command: `-o`, `-O`, `-I`, `-X POST -d`, `-H`, `-L`, `-f`, `-w`, `--resolve`; plain
//! `http://` (also from `python3 -m http.server`) and HTTPS; and curl's exit codes for bad
//! URLs, refused ports, unknown hosts and timeouts.

mod common;

use common::*;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Same user agent for both, so echoed requests compare byte for byte.
const AGENT: &str = "test-agent/1";

/// Run ours and curl with `args` (plus `-s -A AGENT`); assert the same exit code and stdout.
fn same_as_curl(args: &[&str]) -> (Output, Output) {
    let mut full = vec!["-s", "-A", AGENT];
    full.extend_from_slice(args);
    let cfg = tempfile::tempdir().unwrap();
    let ours = client(cfg.path(), &full);
    let theirs = curl(&full);
    assert_eq!(
        ours.status.code(),
        theirs.status.code(),
        "exit codes differ for {args:?}: ours stderr {}",
        text(&ours.stderr)
    );
    assert_eq!(
        text(&ours.stdout),
        text(&theirs.stdout),
        "stdout differs for {args:?}"
    );
    (ours, theirs)
}

fn url(server: &Server, path: &str) -> String {
    format!("http://127.0.0.1:{}{path}", server.port)
}

#[test]
fn get_head_post_headers_like_curl() {
    let server = py_server(None);
    let (ours, _) = same_as_curl(&[&url(&server, "/hello")]);
    assert_eq!(text(&ours.stdout), "hello\n");
    // -I: the header block exactly as received.
    let (ours, _) = same_as_curl(&["-I", &url(&server, "/hello")]);
    assert!(text(&ours.stdout).starts_with("HTTP/1.1 200 OK\r\n"));
    // -i: headers, then the body.
    same_as_curl(&["-i", &url(&server, "/hello")]);
    // -X POST -d, repeated -d joined with &.
    let (ours, _) = same_as_curl(&[
        "-X",
        "POST",
        "-d",
        "a=1",
        "-d",
        "b=2",
        &url(&server, "/echo"),
    ]);
    let echoed = text(&ours.stdout);
    assert!(echoed.starts_with("POST /echo\n"), "{echoed}");
    assert!(echoed.contains("Content-Type: application/x-www-form-urlencoded"));
    assert!(echoed.ends_with("\n\na=1&b=2"), "{echoed}");
    // -d alone means POST; -X PUT overrides.
    same_as_curl(&["-d", "x=y", &url(&server, "/echo")]);
    same_as_curl(&["-X", "PUT", "-d", "x=y", &url(&server, "/echo")]);
    // -H adds, replaces and removes headers.
    let (ours, _) = same_as_curl(&[
        "-H",
        "X-Test: yes",
        "-H",
        "Accept:",
        "-H",
        "Host: example.test",
        &url(&server, "/echo"),
    ]);
    let echoed = text(&ours.stdout);
    assert!(echoed.contains("X-Test: yes"));
    assert!(echoed.contains("Host: example.test"));
    assert!(!echoed.contains("Accept:"));
}

#[test]
fn data_from_a_file_like_curl() {
    let server = py_server(None);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("body.txt");
    std::fs::write(&file, "one=1\r\ntwo=2\n").unwrap();
    let at = format!("@{}", file.display());
    same_as_curl(&["-d", &at, &url(&server, "/echo")]);
    same_as_curl(&["--data-binary", &at, &url(&server, "/echo")]);
}

#[test]
fn output_files_like_curl() {
    let server = py_server(None);
    let dir = tempfile::tempdir().unwrap();
    let ours_file = dir.path().join("ours.bin");
    let theirs_file = dir.path().join("theirs.bin");
    let cfg = tempfile::tempdir().unwrap();
    let big = url(&server, "/big");
    let ours = client(cfg.path(), &["-s", "-o", ours_file.to_str().unwrap(), &big]);
    let theirs = curl(&["-s", "-o", theirs_file.to_str().unwrap(), &big]);
    assert_eq!(ours.status.code(), Some(0));
    assert_eq!(theirs.status.code(), Some(0));
    assert!(ours.stdout.is_empty() && ours.stderr.is_empty());
    let body = std::fs::read(&ours_file).unwrap();
    assert_eq!(body.len(), 1 << 20);
    assert_eq!(body, std::fs::read(&theirs_file).unwrap());

    // -O: the last path segment, in the working directory.
    let out = output_within(
        Command::new(CLIENT)
            .args(["-s", "-O", &url(&server, "/hello")])
            .env("CLIENT_CONFIG_DIR", cfg.path())
            .current_dir(dir.path()),
        PROGRAM_LIMIT,
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("hello")).unwrap(),
        "hello\n"
    );

    // An -o file that cannot be created: 23, like curl.
    let (ours, _) = same_as_curl(&["-o", "/nonexistent/dir/x", &url(&server, "/hello")]);
    assert_eq!(ours.status.code(), Some(23));
}

#[test]
fn redirects_like_curl() {
    let server = py_server(None);
    let w = "%{http_code} %{num_redirects} %{url_effective} %{redirect_url}";
    // Without -L: the 302 itself; redirect_url says where it points.
    let (ours, _) = same_as_curl(&["-w", w, &url(&server, "/redirect")]);
    assert!(text(&ours.stdout).starts_with("moved\n302 0 "));
    // With -L: the target.
    let (ours, _) = same_as_curl(&["-L", "-w", w, &url(&server, "/redirect")]);
    assert!(text(&ours.stdout).starts_with("hello\n200 1 "));
    // -L -i shows both header blocks.
    same_as_curl(&["-L", "-i", &url(&server, "/redirect")]);
    // 303 after POST: GET without a body.
    let (ours, _) = same_as_curl(&["-L", "-d", "a=1", &url(&server, "/redirect303")]);
    assert!(text(&ours.stdout).starts_with("GET /echo\n"));
    // A loop stops at --max-redirs with 47.
    let (ours, _) = same_as_curl(&["-L", "--max-redirs", "3", &url(&server, "/loop")]);
    assert_eq!(ours.status.code(), Some(47));
}

#[test]
fn fail_and_write_out_like_curl() {
    let server = py_server(None);
    let missing = url(&server, "/missing");
    // Without -f a 404 is a successful transfer.
    let (ours, _) = same_as_curl(&["-w", "%{http_code}", &missing]);
    assert_eq!(text(&ours.stdout), "not found\n404");
    // With -f: exit 22, no body, curl's message.
    let cfg = tempfile::tempdir().unwrap();
    let ours = client(cfg.path(), &["-f", &missing]);
    let theirs = curl(&["-f", &missing]);
    assert_eq!(ours.status.code(), Some(22));
    assert_eq!(theirs.status.code(), Some(22));
    assert!(ours.stdout.is_empty());
    assert_eq!(
        text(&ours.stderr).trim(),
        "client: (22) The requested URL returned error: 404"
    );
    assert!(text(&theirs.stderr).contains("curl: (22) The requested URL returned error: 404"));
    // -w after a failure still runs (curl prints it before the error).
    same_as_curl(&["-f", "-w", "[%{http_code}]\\n", &missing]);
    // Sizes and codes compare exactly; times are seconds with six decimals.
    same_as_curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{size_download} %{content_type} %{method} %{scheme} %{http_version} %{ssl_verify_result}\\n",
        &url(&server, "/big"),
    ]);
    let ours = client(
        cfg.path(),
        &[
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{time_namelookup} %{time_connect} %{time_appconnect} %{time_starttransfer} %{time_total}",
            &url(&server, "/hello"),
        ],
    );
    let times: Vec<f64> = text(&ours.stdout)
        .split(' ')
        .map(|t| {
            assert_eq!(t.split('.').nth(1).map(str::len), Some(6), "{t}");
            t.parse().unwrap()
        })
        .collect();
    assert_eq!(times[2], 0.0, "no TLS: appconnect stays 0");
    assert!(times[1] <= times[3] && times[3] <= times[4], "{times:?}");
}

#[test]
fn resolve_pins_a_name() {
    let server = py_server(None);
    let pin = format!("example.test:{}:127.0.0.1", server.port);
    let target = format!("http://example.test:{}/echo", server.port);
    let (ours, _) = same_as_curl(&["--resolve", &pin, &target]);
    assert!(text(&ours.stdout).contains(&format!("Host: example.test:{}", server.port)));
}

#[test]
fn python_http_server_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file.txt"), "served by python\n").unwrap();
    // Port 0: the kernel picks a free one and the server says which ("Serving HTTP on ...
    // port N"); -u so that line is not stuck in python's buffer.
    let mut child = Command::new("python3")
        .args(["-u", "-m", "http.server", "--bind", "127.0.0.1", "0"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 (Debian package python3)");
    let port: u16 = first_line(&mut child, Duration::from_secs(30), |line| {
        let rest = line.split(" port ").nth(1)?;
        rest.split_whitespace().next()?.parse().ok()
    })
    .expect("python's http.server says its port");
    let cfg = tempfile::tempdir().unwrap();
    let out = client(
        cfg.path(),
        &[
            &format!("http://127.0.0.1:{port}/file.txt"),
            "-w",
            "%{http_code}",
        ],
    );
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "served by python\n200");
}

#[test]
fn https_requests_like_curl() {
    let certs = certs();
    let server = py_server(Some((&certs.good, &certs.leaf_key)));
    let ca = certs.ca.to_str().unwrap();
    let base = format!("https://localhost:{}", server.port);
    let (ours, _) = same_as_curl(&[
        "--cacert",
        ca,
        "-X",
        "POST",
        "-d",
        "secret=1",
        "-H",
        "X-Over: tls",
        &format!("{base}/echo"),
    ]);
    assert!(text(&ours.stdout).ends_with("secret=1"));
    same_as_curl(&["--cacert", ca, "-L", "-i", &format!("{base}/redirect")]);
    same_as_curl(&["--cacert", ca, "-I", &format!("{base}/hello")]);
    same_as_curl(&[
        "--cacert",
        ca,
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{size_download} %{ssl_verify_result}",
        &format!("{base}/big"),
    ]);
}

#[test]
fn error_exit_codes_like_curl() {
    let cfg = tempfile::tempdir().unwrap();
    let one_line = |out: &Output, prefix: &str| {
        let stderr = text(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with(prefix), "{stderr}");
    };
    // Garbage URLs: 3; an unknown scheme: 1.
    for bad in ["http://exa mple/", "http://[::1/", "http://h:99999/"] {
        let ours = client(cfg.path(), &[bad]);
        assert_eq!(ours.status.code(), Some(3), "{bad}");
        one_line(&ours, "client: (3) ");
        assert_eq!(curl(&["-s", bad]).status.code(), Some(3), "{bad}");
    }
    let ours = client(cfg.path(), &["ftp://example.test/"]);
    assert_eq!(ours.status.code(), Some(1));
    // A refused port: 7.
    let (_held, port) = refused_port();
    let refused = format!("http://127.0.0.1:{port}/");
    let ours = client(cfg.path(), &[&refused]);
    assert_eq!(ours.status.code(), Some(7));
    one_line(
        &ours,
        &format!("client: (7) Failed to connect to 127.0.0.1 port {port} after "),
    );
    assert_eq!(curl(&["-s", &refused]).status.code(), Some(7));
    // A name that does not resolve: 6.
    let ours = client(cfg.path(), &["http://nonexistent.invalid/"]);
    assert_eq!(ours.status.code(), Some(6));
    one_line(
        &ours,
        "client: (6) Could not resolve host: nonexistent.invalid",
    );
    // Usage errors: 2.
    assert_eq!(client(cfg.path(), &[]).status.code(), Some(2));
    assert_eq!(
        client(cfg.path(), &["--no-such-flag", "http://x/"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn timeouts_like_curl() {
    let cfg = tempfile::tempdir().unwrap();
    // -m: the server answers after 5 s.
    let server = py_server(None);
    let slow = url(&server, "/slow");
    let ours = client(cfg.path(), &["-m", "1", &slow]);
    assert_eq!(ours.status.code(), Some(28));
    assert!(
        text(&ours.stderr).starts_with("client: (28) Operation timed out after 1"),
        "{}",
        text(&ours.stderr)
    );
    assert_eq!(curl(&["-s", "-m", "1", &slow]).status.code(), Some(28));
    // --connect-timeout: a TCP peer that never answers the ClientHello (the TLS handshake
    // counts as connecting, as in curl).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent = format!(
        "https://127.0.0.1:{}/",
        listener.local_addr().unwrap().port()
    );
    let ours = client(cfg.path(), &["--connect-timeout", "1", &silent]);
    assert_eq!(ours.status.code(), Some(28));
    assert!(
        text(&ours.stderr).starts_with("client: (28) Connection timed out after 1"),
        "{}",
        text(&ours.stderr)
    );
    assert_eq!(
        curl(&["-s", "--connect-timeout", "1", &silent])
            .status
            .code(),
        Some(28)
    );
}
