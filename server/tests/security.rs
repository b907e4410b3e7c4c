//! The server's own secrets and its peers' tricks (issue #10): a `--root` that would publish
//! the CA's key is refused, a PEM private key is never served, the trailing-slash redirect
//! stays on this host, secrets are written only with `--keylog`, peer strings are logged
//! escaped, and a client that stops reading is dropped.

mod common;

use common::*;
use std::process::Command;
use std::time::Duration;

/// Run the server binary expecting it to refuse to start; its exit code and stderr.
fn refused(cwd: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
    let out = output_within(
        Command::new(env!("CARGO_BIN_EXE_server"))
            .current_dir(cwd)
            .args(["--listen", "127.0.0.1:0"])
            .args(args),
        Duration::from_secs(60),
        "(the server under test)",
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_root_holding_the_certs_dir_or_the_key_in_use_is_refused() {
    // `server --root .` where the first run puts certs/ (with the CA key) in `.`.
    let cwd = temp_root();
    let (code, err) = refused(cwd.path(), &["--root", "."]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("contains the certificate directory") && err.contains("refusing"),
        "{err}"
    );
    assert_eq!(
        err.lines().filter(|l| l.starts_with("server:")).count(),
        1,
        "one line of reason: {err}"
    );
    // The same directory named another way, and a root above it.
    let (code, err) = refused(cwd.path(), &["--root", "certs/../certs"]);
    assert_eq!(code, Some(1), "{err}");
    let (code, err) = refused(
        cwd.path(),
        &["--root", "/", "--certs-dir", &path_str(shared_certs())],
    );
    assert_eq!(code, Some(1), "{err}");

    // --cert/--key: the key file in use must not be under the root either.
    let site = temp_root();
    let certs = shared_certs();
    std::fs::copy(certs.join("localhost.pem"), site.path().join("cert.pem")).expect("copy");
    std::fs::copy(certs.join("localhost-key.pem"), site.path().join("key.pem")).expect("copy");
    let (code, err) = refused(
        cwd.path(),
        &[
            "--root",
            &path_str(site.path()),
            "--cert",
            &path_str(&site.path().join("cert.pem")),
            "--key",
            &path_str(&site.path().join("key.pem")),
        ],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("the private key in use"), "{err}");
}

#[test]
fn a_pem_private_key_is_never_served_whatever_its_name() {
    let root = temp_root();
    let r = root.path();
    let certs = shared_certs();
    let key = std::fs::read_to_string(certs.join("localhost-key.pem")).expect("key");
    let cert = std::fs::read_to_string(certs.join("localhost.pem")).expect("cert");
    std::fs::create_dir(r.join("notes")).expect("mkdir");
    std::fs::write(r.join("notes").join("todo.txt"), &key).expect("write");
    std::fs::write(r.join("combined.pem"), format!("{cert}{key}")).expect("write");
    std::fs::write(r.join("cert.pem"), &cert).expect("write");
    let s = Running::start(&["--root", &path_str(r)]);
    for path in ["/notes/todo.txt", "/combined.pem"] {
        let out = curl(&["-i", &s.url(path)]);
        let reply = String::from_utf8_lossy(&out.stdout);
        assert!(reply.starts_with("HTTP/1.1 403"), "{path}: {reply}");
        assert!(!reply.contains("PRIVATE KEY"), "{path} leaked the key");
        // Nor a part of it.
        let part = curl(&["-i", "-r", "40-80", &s.url(path)]);
        assert!(String::from_utf8_lossy(&part.stdout).starts_with("HTTP/1.1 403"));
    }
    assert_eq!(curl(&[&s.url("/cert.pem")]).stdout, cert.as_bytes());
}

#[test]
fn the_trailing_slash_redirect_stays_a_path_on_this_host() {
    let root = temp_root();
    std::fs::create_dir(root.path().join("images")).expect("mkdir");
    let s = Running::start(&["--root", &path_str(root.path())]);
    for (path, expected) in [
        ("//images", "/images/"),
        ("///images", "/images/"),
        ("/./images?x=1", "/images/?x=1"),
        ("/images", "/images/"),
    ] {
        let out = curl(&[
            "--path-as-is",
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %header{location}",
            &format!("https://localhost:{}{path}", s.port),
        ]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("301 {expected}"),
            "{path}"
        );
    }
}

#[test]
fn no_secret_is_written_or_narrated_without_keylog() {
    let dir = temp_root();
    let ignored = dir.path().join("server-env-keys.log");
    let curl_keylog = dir.path().join("curl-keys.log");
    // -v and an inherited SSLKEYLOGFILE, but no --keylog.
    let s = Running::start_with(None, &["-v"], &[("SSLKEYLOGFILE", &ignored)]);
    let out = output_within(
        Command::new("curl")
            .arg("--cacert")
            .arg(ca_path())
            .args(["-sS", "-o", "/dev/null", "--max-time", "30"])
            .arg(s.url("/"))
            .env("SSLKEYLOGFILE", &curl_keylog),
        Duration::from_secs(60),
        "curl",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        s.wait_for_log("\"GET / HTTP/1.1\" 200", Duration::from_secs(20)),
        "{}",
        s.stderr()
    );
    let log = s.stderr();
    assert!(!ignored.exists(), "the server wrote SSLKEYLOGFILE");
    assert!(
        log.contains("SSLKEYLOGFILE is set but the server ignores it"),
        "{log}"
    );
    // The connection's real master secret, from curl's side, appears nowhere in the log.
    let theirs = std::fs::read_to_string(&curl_keylog)
        .expect("curl writes SSLKEYLOGFILE (Debian's curl, built with OpenSSL)");
    let master = theirs
        .lines()
        .find_map(|l| l.strip_prefix("CLIENT_RANDOM "))
        .and_then(|rest| rest.split(' ').nth(1))
        .expect("a CLIENT_RANDOM line");
    assert_eq!(master.len(), 96);
    assert!(
        !log.to_ascii_lowercase().contains(master),
        "master secret in the log"
    );
    assert!(!log.contains("CLIENT_RANDOM"), "{log}");
    // The narration still runs, with the secrets' places marked.
    for label in [
        "pre-master secret",
        "master secret",
        "client_write_key (16 bytes)",
        // curl takes our first choice, AES-GCM: its salts and the nonces they are part of.
        "client_write_IV (4 bytes)",
        "nonce",
    ] {
        assert!(
            log.contains(&format!(
                "{label}: (hidden: the server shows secrets only with --keylog FILE)"
            )),
            "{label}: {log}"
        );
    }
    assert!(log.contains("tag recomputed: matches"), "{log}");
}

/// `openssl s_client -quiet` with this SNI, sending `request`; its output once it ends.
fn s_client_with_sni(port: u16, sni: &str, request: &[u8]) -> std::process::Output {
    let mut child = Command::new("openssl")
        .args(["s_client", "-quiet", "-servername", sni, "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("openssl s_client (install the Debian package openssl)");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        let _ = stdin.write_all(request);
    }
    wait_within(child, Duration::from_secs(60))
}

#[test]
fn a_sni_with_terminal_escapes_is_refused_and_never_logged_raw() {
    let s = Running::start(&["-v"]);
    // RFC 6066 §3: a host_name is an ASCII host name; this one is a terminal attack.
    let out = s_client_with_sni(
        s.port,
        "evil\x1b[2J\"x\x07.example",
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    let client_side = String::from_utf8_lossy(&out.stderr);
    assert!(
        client_side.contains("illegal parameter"),
        "s_client: {client_side}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("HTTP/1.1"));
    assert!(
        s.wait_for_log("illegal_parameter", Duration::from_secs(20)),
        "{}",
        s.stderr()
    );
    let log = s.stderr();
    assert!(
        !log.contains('\x1b') && !log.contains('\x07'),
        "raw control bytes in: {log:?}"
    );
}

#[test]
fn peer_chosen_header_fields_are_logged_escaped() {
    let s = Running::start(&["-v"]);
    let out = s_client_with_sni(
        s.port,
        "localhost",
        b"GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: ua\xe2\x80\xae\tz\r\nReferer: r\"\r\nConnection: close\r\n\r\n",
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("HTTP/1.1 200"),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        s.wait_for_log("\"GET / HTTP/1.1\" 200", Duration::from_secs(20)),
        "{}",
        s.stderr()
    );
    let log = s.stderr();
    assert!(
        log.contains("\"r\\x22\" \"ua\\xe2\\x80\\xae\\x09z\" "),
        "referer and user agent escaped: {log}"
    );
    assert!(log.contains("sni=localhost\n"), "access log: {log}");
    assert!(
        log.contains("server_name (SNI): localhost"),
        "narration: {log}"
    );
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_after_the_send_timeout() {
    let root = temp_root();
    // Far more than the loopback socket buffers on both sides can hold.
    let big = vec![0x5au8; 64 * 1024 * 1024];
    std::fs::write(root.path().join("big.bin"), &big).expect("write");
    let s = Running::start(&[
        "--root",
        &path_str(root.path()),
        "--send-timeout",
        "1",
        "--max-connections",
        "1",
    ]);
    assert!(
        s.banner.contains("1s without write progress"),
        "{}",
        s.banner
    );
    let stalled = tls_request(s.port, b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n").await;
    // Read nothing: the server fills the socket buffers, then makes no progress.
    // (Blocking this single-threaded test runtime is fine: the client must do nothing now.)
    let fired = s.wait_for_log(
        "send timed out: no write progress for 1s",
        Duration::from_secs(60),
    );
    assert!(fired, "{}", s.stderr());
    assert!(
        s.wait_for_log("\"GET /big.bin HTTP/1.1\" 200 ", Duration::from_secs(10)),
        "{}",
        s.stderr()
    );
    let log = s.stderr();
    let line = log
        .lines()
        .find(|l| l.contains("\"GET /big.bin HTTP/1.1\" 200 "))
        .unwrap_or_default();
    assert!(line.ends_with("(aborted)"), "{line}");
    // Its only slot is free again: the next client is served (curl's --max-time bounds it).
    assert_eq!(status_of(&s.url("/"), &[]), "200", "{}", s.stderr());
    drop(stalled);
}
