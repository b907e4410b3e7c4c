//! The `server` program as users run it: started as a process, fetched with curl and
//! `openssl s_client`, attacked with path tricks, idle and garbage connections, stopped with
//! Ctrl-C.

mod common;

use common::*;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn first_run_makes_a_local_ca_reuses_it_and_the_banner_curl_works_as_printed() {
    let cwd = temp_root();
    let first = Running::start_in(Some(cwd.path()), &[]);
    assert!(
        first.banner.contains("Local CA (new): certs/ca.pem"),
        "{}",
        first.banner
    );
    assert!(first
        .stderr()
        .contains("First run: creating a local root CA"));
    for f in ["ca.pem", "ca-key.pem", "localhost.pem", "localhost-key.pem"] {
        assert!(cwd.path().join("certs").join(f).exists(), "certs/{f}");
    }
    // The private keys are readable by their owner only.
    #[cfg(unix)]
    for f in ["ca-key.pem", "localhost-key.pem"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(cwd.path().join("certs").join(f))
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "certs/{f} has mode {:o}", mode & 0o777);
    }
    let fingerprint = |banner: &str| {
        banner
            .lines()
            .find(|l| l.trim_start().starts_with("SHA-256:"))
            .map(str::to_string)
            .expect("fingerprint line")
    };
    let fp1 = fingerprint(&first.banner);
    // The fingerprint printed is the CA's (what `openssl x509 -fingerprint -sha256` says).
    let openssl = output_within(
        Command::new("openssl")
            .args([
                "x509",
                "-noout",
                "-fingerprint",
                "-sha256",
                "-in",
                "certs/ca.pem",
            ])
            .current_dir(cwd.path()),
        Duration::from_secs(30),
        "openssl",
    );
    let openssl_fp = String::from_utf8_lossy(&openssl.stdout);
    let hex = fp1.trim().trim_start_matches("SHA-256:").trim();
    assert!(openssl_fp.contains(hex), "{openssl_fp} vs {hex}");

    // Run the banner's curl line exactly as printed, from the same directory.
    let curl_line = first
        .banner
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("curl --cacert"))
        .expect("curl line in banner")
        .to_string();
    assert!(curl_line.starts_with("curl --cacert certs/ca.pem https://localhost:"));
    let out = output_within(
        Command::new("sh")
            .arg("-c")
            .arg(format!("{curl_line} -sS --max-time 60"))
            .current_dir(cwd.path()),
        Duration::from_secs(90),
        "curl",
    );
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(page.contains("Your connection is HTTPS"), "{page}");
    // Plain curl negotiates ECDHE: forward secrecy by default.
    assert!(
        page.contains("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"),
        "{page}"
    );
    assert!(page.contains("Forward secrecy</th><td>yes"), "{page}");
    drop(first);

    let second = Running::start_in(Some(cwd.path()), &[]);
    assert!(!second.banner.contains("(new)"), "{}", second.banner);
    assert!(!second.stderr().contains("First run"));
    assert_eq!(fingerprint(&second.banner), fp1);
}

#[test]
fn readme_quick_start_starts_this_server_on_its_default() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let quick = readme
        .split("## Quick start")
        .nth(1)
        .expect("a Quick start section");
    let first_command = quick
        .lines()
        .skip_while(|l| !l.starts_with("```"))
        .nth(1)
        .expect("a command block");
    assert_eq!(first_command.trim(), "cargo run --release -p server");
    assert!(quick.contains("curl --cacert certs/ca.pem https://localhost:8443/"));
    let defaults = output_within(
        Command::new(env!("CARGO_BIN_EXE_server")).arg("--help"),
        Duration::from_secs(30),
        "(the server under test)",
    );
    let help = String::from_utf8_lossy(&defaults.stdout);
    assert!(help.contains("[default: 127.0.0.1:8443]"), "{help}");
    assert!(help.contains("[default: certs]"), "{help}");
}

#[test]
fn serves_a_directory_like_a_file_server() {
    let root = temp_root();
    let r = root.path();
    std::fs::write(r.join("hello.txt"), "hello, world\n").expect("write");
    std::fs::create_dir(r.join("sub dir")).expect("mkdir");
    std::fs::write(r.join("sub dir").join("<b>&\"odd\".html"), "<p>odd</p>").expect("write");
    std::fs::write(r.join(".hidden"), "secret").expect("write");
    std::fs::create_dir(r.join("site")).expect("mkdir");
    std::fs::write(r.join("site").join("index.html"), "<h1>index</h1>").expect("write");
    let s = Running::start(&["--root", &path_str(r)]);

    // Listing: names escaped, links percent-encoded, dot-files hidden.
    let listing = curl(&[&s.url("/sub%20dir/")]);
    let html = String::from_utf8_lossy(&listing.stdout);
    assert!(
        html.contains("&lt;b&gt;&amp;&quot;odd&quot;.html"),
        "{html}"
    );
    assert!(html.contains("href=\"%3Cb%3E%26%22odd%22.html\""), "{html}");
    assert!(!html.contains("<b>&"));
    let top = String::from_utf8_lossy(&curl(&[&s.url("/")]).stdout).into_owned();
    assert!(top.contains("hello.txt") && top.contains("sub%20dir/") && !top.contains(".hidden"));
    // The link in the listing fetches the file.
    let odd = curl(&[&s.url("/sub%20dir/%3Cb%3E%26%22odd%22.html")]);
    assert_eq!(odd.stdout, b"<p>odd</p>");

    // index.html, redirect to the slash, MIME types.
    assert_eq!(curl(&[&s.url("/site/")]).stdout, b"<h1>index</h1>");
    let redirect = curl(&["-i", &s.url("/site")]);
    let head = String::from_utf8_lossy(&redirect.stdout);
    assert!(head.starts_with("HTTP/1.1 301"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("location: /site/"),
        "{head}"
    );
    let txt = curl(&["-sI", &s.url("/hello.txt")]);
    let raw_head = String::from_utf8_lossy(&txt.stdout).into_owned();
    let head = raw_head.to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-type: text/plain; charset=utf-8"));
    assert!(
        head.contains("content-length: 13"),
        "HEAD keeps the length: {head}"
    );
    assert!(txt.stdout.ends_with(b"\r\n\r\n"), "HEAD has no body");

    // Range, 416, conditional requests.
    let range = curl(&["-i", "-r", "7-11", &s.url("/hello.txt")]);
    let text = String::from_utf8_lossy(&range.stdout);
    assert!(text.starts_with("HTTP/1.1 206"), "{text}");
    assert!(text.contains("content-range: bytes 7-11/13"), "{text}");
    assert!(text.ends_with("\r\n\r\nworld"), "{text}");
    assert_eq!(status_of(&s.url("/hello.txt"), &["-r", "100-"]), "416");
    let last_modified = raw_head
        .lines()
        .find_map(|l| {
            l.get(15..)
                .filter(|_| l.to_ascii_lowercase().starts_with("last-modified: "))
        })
        .expect("last-modified")
        .trim()
        .to_string();
    let ims = format!("If-Modified-Since: {last_modified}");
    assert_eq!(status_of(&s.url("/hello.txt"), &["-H", &ims]), "304");
    let old = "If-Modified-Since: Mon, 01 Jan 2001 00:00:00 GMT";
    assert_eq!(status_of(&s.url("/hello.txt"), &["-H", old]), "200");

    // Error statuses.
    assert_eq!(status_of(&s.url("/nope.txt"), &[]), "404");
    assert_eq!(status_of(&s.url("/.hidden"), &[]), "404");
    assert_eq!(status_of(&s.url("/hello.txt"), &["-X", "POST"]), "405");
    assert_eq!(status_of(&s.url("/hello.txt"), &["-X", "DELETE"]), "405");

    // One access-log line per request with status, bytes and suite.
    assert!(s.wait_for_log("\"GET /hello.txt HTTP/1.1\" 206 5 ", Duration::from_secs(5)));
    let log = s.stderr();
    assert!(log.contains("\"GET /nope.txt HTTP/1.1\" 404 "), "{log}");
    // curl gets our first choice: ECDHE with AES-GCM.
    assert!(
        log.contains("cipher=ECDHE-RSA-AES128-GCM-SHA256 sni=localhost"),
        "{log}"
    );
}

#[test]
fn path_escapes_never_leak_a_byte_from_outside_the_root() {
    let outer = temp_root();
    let secret = "TOP-SECRET-CONTENT-1234";
    std::fs::write(outer.path().join("secret.txt"), secret).expect("write");
    let root = outer.path().join("root");
    std::fs::create_dir(&root).expect("mkdir");
    std::fs::create_dir(root.join("sub")).expect("mkdir");
    std::fs::write(root.join("ok.txt"), "fine").expect("write");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(outer.path().join("secret.txt"), root.join("link.txt"))
            .expect("symlink");
        std::os::unix::fs::symlink(outer.path(), root.join("updir")).expect("symlink");
    }
    let s = Running::start(&["--root", &path_str(&root)]);
    let attempts = [
        "/../secret.txt",
        "/sub/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/sub%2f..%2f..%2fsecret.txt",
        "/%2e%2e%5csecret.txt",
        "/..\\secret.txt",
        "/%252e%252e/secret.txt",
        "/.%2e/secret.txt",
        "//../secret.txt",
        "/link.txt",
        "/updir/secret.txt",
        "/updir/",
        "/sub/../../../../../../etc/passwd",
        "/%00/../secret.txt",
    ];
    for path in attempts {
        let url = format!("https://localhost:{}{path}", s.port);
        let out = curl(&["--path-as-is", "-i", &url]);
        let body = String::from_utf8_lossy(&out.stdout);
        let status = body.split_whitespace().nth(1).unwrap_or("");
        assert!(
            ["400", "403", "404"].contains(&status),
            "{path}: status {status}\n{body}"
        );
        assert!(!body.contains(secret), "{path} leaked the secret");
        assert!(!body.contains("root:"), "{path} leaked /etc/passwd");
    }
    // Raw request lines that curl would normalise.
    for target in ["/../secret.txt", "/sub/../../secret.txt", "../secret.txt"] {
        let reply = openssl_request(
            s.port,
            &format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
        );
        assert!(!reply.contains(secret), "{target} leaked");
        assert!(
            reply.contains("HTTP/1.1 403")
                || reply.contains("HTTP/1.1 400")
                || reply.contains("HTTP/1.1 404"),
            "{target}: {reply}"
        );
    }
    assert_eq!(curl(&[&s.url("/ok.txt")]).stdout, b"fine");
}

/// `openssl s_client` sends a raw request (no normalisation) and returns everything it read.
fn openssl_request(port: u16, request: &str) -> String {
    let mut child = Command::new("openssl")
        .args([
            "s_client",
            "-quiet",
            "-verify_return_error",
            "-servername",
            "localhost",
        ])
        .arg("-connect")
        .arg(format!("127.0.0.1:{port}"))
        .arg("-CAfile")
        .arg(ca_path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl s_client (install the Debian package openssl)");
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(request.as_bytes());
        // -quiet implies -ign_eof: s_client keeps reading after stdin ends.
    }
    let out = wait_within(child, Duration::from_secs(60));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn openssl_s_client_fetches_the_front_page() {
    let s = Running::start(&[]);
    let reply = openssl_request(
        s.port,
        "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert!(reply.starts_with("HTTP/1.1 200 OK"), "{reply}");
    assert!(reply.contains("Your connection is HTTPS"));
    assert!(reply.contains("<code>localhost</code>"), "SNI shown");
    assert!(reply.trim_end().ends_with("</html>"));
}

#[test]
fn a_50_mib_file_arrives_byte_exact_and_plain_http_serves_the_same() {
    let root = temp_root();
    let mut data = vec![0u8; 50 * 1024 * 1024];
    // Deterministic but not compressible or periodic within a record.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for chunk in data.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let bytes = x.to_le_bytes();
        chunk.copy_from_slice(bytes.get(..chunk.len()).unwrap_or(&[]));
    }
    std::fs::write(root.path().join("big.bin"), &data).expect("write");
    let expected = Sha256::digest(&data);
    let s = Running::start(&["--root", &path_str(root.path()), "--http", "127.0.0.1:0"]);
    let out_dir = temp_root();
    let https_copy = out_dir.path().join("https.bin");
    let out = curl(&["-o", &path_str(&https_copy), &s.url("/big.bin")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = std::fs::read(&https_copy).expect("read");
    assert_eq!(got.len(), data.len());
    assert_eq!(Sha256::digest(&got), expected);

    let http_port = s.http_port.expect("http listener");
    let http_copy = out_dir.path().join("http.bin");
    let out = output_within(
        Command::new("curl")
            .args(["-sS", "--max-time", "120", "-o", &path_str(&http_copy)])
            .arg(format!("http://127.0.0.1:{http_port}/big.bin")),
        Duration::from_secs(150),
        "curl",
    );
    assert!(out.status.success());
    assert_eq!(
        Sha256::digest(std::fs::read(&http_copy).expect("read")),
        expected
    );
    assert!(s.wait_for_log(
        &format!("\"GET /big.bin HTTP/1.1\" 200 {} ", data.len()),
        Duration::from_secs(5)
    ));
    assert!(s.stderr().contains("tls=- (plain HTTP)"));
}

#[test]
fn two_hundred_concurrent_clients_all_succeed() {
    let s = Running::start(&[]);
    // 8 curl processes × 25 parallel transfers each = 200 connections at once.
    let ca = path_str(&ca_path());
    let children: Vec<_> = (0..8)
        .map(|p| {
            let mut cmd = Command::new("curl");
            cmd.args(["--cacert", &ca, "-sS", "--max-time", "60"])
                .args(["--parallel", "--parallel-immediate", "--parallel-max", "25"]);
            for i in 0..25 {
                cmd.args(["-o", "/dev/null", "-w", "%{http_code}\\n"])
                    .arg(s.url(&format!("/?client={p}-{i}")));
            }
            cmd.stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("curl (install the Debian package curl)")
        })
        .collect();
    let mut ok = 0;
    for child in children {
        let out = wait_within(child, Duration::from_secs(120));
        ok += String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| *l == "200")
            .count();
    }
    assert_eq!(ok, 200, "{}", s.stderr());
    // 200 separate connections (distinct client ports), not a few reused ones.
    assert!(
        s.wait_for_lines("/?client=", 200, Duration::from_secs(30)),
        "{}",
        s.stderr()
    );
    let log = s.stderr();
    let peers: std::collections::HashSet<&str> = log
        .lines()
        .filter(|l| l.contains("/?client="))
        .filter_map(|l| l.split(' ').next())
        .collect();
    assert_eq!(peers.len(), 200, "{log}");
}

#[test]
fn a_silent_client_is_dropped_after_the_timeout_while_others_are_served() {
    let s = Running::start(&["--handshake-timeout", "1"]);
    let mut silent = TcpStream::connect(("127.0.0.1", s.port)).expect("connect");
    // The server's clock starts at accept, which is after our connect returns.
    let started = Instant::now();
    // A fail-safe only: the event waited for is the server closing the socket.
    silent
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    // Others are served meanwhile.
    assert_eq!(status_of(&s.url("/"), &[]), "200");
    let mut buf = [0u8; 16];
    let n = silent
        .read(&mut buf)
        .expect("the server closes the socket (not our fail-safe read timeout)");
    let waited = started.elapsed();
    assert_eq!(n, 0, "the server closes the idle connection without a word");
    assert!(
        waited >= Duration::from_millis(900),
        "closed too early: {waited:?}"
    );
    assert!(
        s.wait_for_log("timed out after 1s", Duration::from_secs(30)),
        "{}",
        s.stderr()
    );
    assert_eq!(status_of(&s.url("/"), &[]), "200");
}

#[test]
fn a_hundred_garbage_connections_leave_the_server_serving() {
    let s = Running::start(&[]);
    let mut x: u32 = 12345;
    for i in 0..100u32 {
        let Ok(mut tcp) = TcpStream::connect(("127.0.0.1", s.port)) else {
            panic!("connection {i} refused");
        };
        let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
        let mut junk: Vec<u8> = (0..(64 + i * 13))
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        match i % 4 {
            // A TLS record header for a handshake with a junk body.
            0 => junk
                .splice(0..5, [0x16, 0x03, 0x03, 0x00, 0x40])
                .for_each(drop),
            // An alert record type, wrong version.
            1 => junk.splice(0..3, [0x15, 0x09, 0x09]).for_each(drop),
            // An oversized record length.
            2 => junk
                .splice(0..5, [0x16, 0x03, 0x01, 0xff, 0xff])
                .for_each(drop),
            _ => {}
        }
        let _ = tcp.write_all(&junk);
        let _ = tcp.shutdown(std::net::Shutdown::Write);
        let mut sink = Vec::new();
        let _ = tcp.read_to_end(&mut sink);
    }
    assert_eq!(status_of(&s.url("/"), &[]), "200");
    // Plain HTTP sent to the TLS port gets a readable 400, as nginx and Go answer.
    let mut plain = TcpStream::connect(("127.0.0.1", s.port)).expect("connect");
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .expect("write");
    let mut reply = String::new();
    let _ = plain.read_to_string(&mut reply);
    assert!(reply.starts_with("HTTP/1.1 400 Bad Request"), "{reply}");
    assert!(reply.contains("This port speaks HTTPS only"), "{reply}");
    let log = s.stderr();
    assert!(log.matches("handshake failed").count() >= 90, "{log}");
    assert!(log.contains("sent alert"), "alerts are named: {log}");
}

#[test]
fn over_the_connection_limit_a_new_client_is_served_and_a_silent_one_is_shed() {
    let s = Running::start(&["--max-connections", "2", "--handshake-timeout", "60"]);
    let started = Instant::now();
    let _a = TcpStream::connect(("127.0.0.1", s.port)).expect("connect");
    let _b = TcpStream::connect(("127.0.0.1", s.port)).expect("connect");
    // Both slots are held by silent clients (the kernel's accept queue is FIFO, so the server
    // takes a and b before curl): curl is served at once, the oldest handshake is dropped.
    assert_eq!(status_of(&s.url("/"), &[]), "200");
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(30),
        "waited for a handshake timeout: {waited:?}"
    );
    assert!(
        s.wait_for_log("shed: handshake unfinished after", Duration::from_secs(30)),
        "{}",
        s.stderr()
    );
}

#[tokio::test]
async fn ctrl_c_lets_a_download_in_flight_finish_then_exits() {
    use tokio::io::AsyncReadExt;
    let root = temp_root();
    // Far more than the loopback socket buffers hold: when we stop reading, the server is
    // still writing.
    let len = 32 * 1024 * 1024;
    let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    std::fs::write(root.path().join("big.bin"), &data).expect("write");
    let s = Running::start(&["--root", &path_str(root.path())]);
    let mut client = tls_request(
        s.port,
        b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    // Read the first MiB, then interrupt while the rest is still to come.
    let mut got = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    while got.len() < 1024 * 1024 {
        let n = client.read(&mut buf).await.expect("read");
        assert!(n > 0, "ended early");
        got.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
    s.send_interrupt();
    // (Blocking this single-threaded runtime is fine: the client must stay still meanwhile.)
    assert!(
        s.wait_for_log(
            "Shutting down: finishing requests in flight",
            Duration::from_secs(30)
        ),
        "{}",
        s.stderr()
    );
    assert!(
        !s.stderr().contains("\"GET /big.bin"),
        "the transfer had already finished when the interrupt landed"
    );
    loop {
        let n = client.read(&mut buf).await.expect("read to a clean end");
        if n == 0 {
            break;
        }
        got.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
    let split = got
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of head");
    let head = String::from_utf8_lossy(got.get(..split).unwrap_or_default()).into_owned();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let body = got.get(split + 4..).unwrap_or_default();
    assert_eq!(body.len(), data.len());
    assert!(body == data.as_slice(), "the body arrived intact");
    let (code, log) = s.wait_exit();
    assert_eq!(code, Some(0), "{log}");
    // The access line comes after the shutdown notice: the interrupt landed mid-transfer.
    let notice = log.find("Shutting down").expect("notice");
    let access = log
        .find(&format!("\"GET /big.bin HTTP/1.1\" 200 {len} "))
        .expect("a complete access line");
    assert!(notice < access, "{log}");
    assert!(!log.contains("(aborted)"), "{log}");
}

/// Access lines are batched per worker thread (written when it runs out of work): a burst of
/// parallel requests still gets one whole line each, and a connection dropped when the
/// graceful wait gives up still gets its "(aborted)" line before the process exits.
#[tokio::test]
async fn access_lines_of_a_burst_and_of_a_download_dropped_at_exit_all_arrive() {
    use tokio::io::AsyncReadExt;
    let root = temp_root();
    std::fs::write(root.path().join("big.bin"), vec![7u8; 32 * 1024 * 1024]).expect("write");
    std::fs::write(root.path().join("small.txt"), b"small\n").expect("write");
    let s = Running::start(&["--root", &path_str(root.path())]);
    let burst = 60;
    let mut args = vec!["--parallel", "--parallel-max", "12", "-o", "/dev/null"];
    let url = s.url("/small.txt");
    for _ in 1..burst {
        args.extend(["--url", url.as_str(), "-o", "/dev/null"]);
    }
    args.extend(["--url", url.as_str()]);
    let out = curl(&args);
    assert!(out.status.success(), "{out:?}");
    assert!(
        s.wait_for_lines(
            "\"GET /small.txt HTTP/1.1\" 200 6 ",
            burst,
            Duration::from_secs(30)
        ),
        "{}",
        s.stderr()
    );

    let mut client = tls_request(s.port, b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n").await;
    // The response has started; from now on the client reads nothing.
    let mut buf = vec![0u8; 16 * 1024];
    assert!(client.read(&mut buf).await.expect("read") > 0);
    // (Blocking this single-threaded runtime is fine: the client must stay still meanwhile.)
    let (code, log) = s.interrupt();
    assert_eq!(code, Some(0), "{log}");
    assert!(
        log.contains("gave up waiting for open connections"),
        "{log}"
    );
    let whole = |l: &&str| l.starts_with("127.0.0.1:") && l.contains(" tls=1.2 cipher=");
    let small: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("GET /small.txt"))
        .collect();
    assert_eq!(small.len(), burst, "{log}");
    assert!(small.iter().all(whole), "{log}");
    let big = log
        .lines()
        .find(|l| l.contains("\"GET /big.bin HTTP/1.1\" 200 "))
        .unwrap_or_else(|| panic!("no access line for the dropped download:\n{log}"));
    assert!(whole(&big) && big.ends_with("(aborted)"), "{big}");
    drop(client);
}

#[test]
fn keylog_ciphers_and_usage_errors() {
    let dir = temp_root();
    let keylog = dir.path().join("keys.log");
    let s = Running::start(&[
        "--keylog",
        &path_str(&keylog),
        "--ciphers",
        "AES256-SHA",
        "-v",
    ]);
    assert!(s
        .banner
        .contains("Cipher suites: TLS_RSA_WITH_AES_256_CBC_SHA\n"));
    assert!(s.banner.contains("anyone with this file can decrypt"));
    // curl logs the same connection's secrets from its side (Debian's curl honours it).
    let curl_keylog = dir.path().join("curl-keys.log");
    let out = output_within(
        Command::new("curl")
            .arg("--cacert")
            .arg(ca_path())
            .args([
                "-sS",
                "--max-time",
                "60",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
            ])
            .arg(s.url("/"))
            .env("SSLKEYLOGFILE", &curl_keylog),
        Duration::from_secs(90),
        "curl",
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200");
    assert!(s.wait_for_log("cipher=AES256-SHA ", Duration::from_secs(5)));
    // -v: one line per completed handshake with what it settled.
    assert!(s.stderr().contains("handshake done in"), "{}", s.stderr());
    assert!(
        s.stderr()
            .contains("TLS 1.2 TLS_RSA_WITH_AES_256_CBC_SHA sni=localhost ems=yes etm=yes"),
        "{}",
        s.stderr()
    );
    let lines = std::fs::read_to_string(&keylog).expect("key log");
    let line = lines.lines().next().expect("a line");
    let fields: Vec<&str> = line.split(' ').collect();
    assert_eq!(fields.first(), Some(&"CLIENT_RANDOM"));
    assert_eq!(fields.get(1).map(|f| f.len()), Some(64));
    assert_eq!(fields.get(2).map(|f| f.len()), Some(96));
    // Not just the shape: the very line curl logged for this connection.
    let theirs = std::fs::read_to_string(&curl_keylog).expect("curl's key log");
    assert!(
        theirs.lines().any(|l| l.eq_ignore_ascii_case(line)),
        "curl logged:\n{theirs}\nwe logged:\n{lines}"
    );

    // Bounded: a server that wrongly accepted these would serve forever.
    let usage = |args: &[&str]| {
        output_within(
            Command::new(env!("CARGO_BIN_EXE_server")).args(args),
            Duration::from_secs(60),
            "(the server under test)",
        )
    };
    assert_eq!(usage(&["--cert", "x.pem"]).status.code(), Some(2));
    assert_eq!(usage(&["--max-connections", "0"]).status.code(), Some(2));
    assert_eq!(usage(&["--send-timeout", "0"]).status.code(), Some(2));
    let bad_suite = usage(&[
        "--ciphers",
        "RC4-MD5",
        "--certs-dir",
        &path_str(common::shared_certs()),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(bad_suite.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad_suite.stderr).contains("--ciphers"));
    let bad_root = usage(&[
        "--root",
        "/nonexistent/dir",
        "--certs-dir",
        &path_str(common::shared_certs()),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(bad_root.status.code(), Some(1));
}

/// Header value (case-insensitive name) from a `curl -i` reply.
fn header<'a>(reply: &'a str, name: &str) -> Option<&'a str> {
    reply.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[test]
fn ranges_and_validators_follow_rfc_9110() {
    let root = temp_root();
    std::fs::write(root.path().join("hello.txt"), "hello, world\n").expect("write");
    let s = Running::start(&["--root", &path_str(root.path())]);
    let url = s.url("/hello.txt");
    let get = |extra: &[&str]| {
        let mut args = vec!["-i"];
        args.extend_from_slice(extra);
        args.push(&url);
        String::from_utf8_lossy(&curl(&args).stdout).into_owned()
    };
    let plain = get(&[]);
    let etag = header(&plain, "etag").expect("etag").to_string();
    let last_modified = header(&plain, "last-modified").expect("date").to_string();

    // A suffix range: the last 6 bytes.
    let r = get(&["-r", "-6"]);
    assert!(r.starts_with("HTTP/1.1 206"), "{r}");
    assert_eq!(header(&r, "content-range"), Some("bytes 7-12/13"), "{r}");
    assert!(r.ends_with("\r\n\r\nworld\n"), "{r}");
    // Unsatisfiable: 416 with the length, `bytes */13`.
    let r = get(&["-r", "13-"]);
    assert!(r.starts_with("HTTP/1.1 416"), "{r}");
    assert_eq!(header(&r, "content-range"), Some("bytes */13"), "{r}");
    // Several ranges: the whole file with 200 (our documented choice, RFC 9110 §14.2).
    let r = get(&["-r", "0-1,5-6"]);
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert_eq!(header(&r, "content-range"), None, "{r}");
    assert!(r.ends_with("\r\n\r\nhello, world\n"), "{r}");
    // HEAD with Range: the 206 head (as nginx answers), and no body.
    let r = get(&["-I", "-r", "0-4"]);
    assert!(r.starts_with("HTTP/1.1 206"), "{r}");
    assert_eq!(header(&r, "content-range"), Some("bytes 0-4/13"), "{r}");
    assert_eq!(header(&r, "content-length"), Some("5"), "{r}");
    assert!(r.ends_with("\r\n\r\n"), "{r}");

    // If-Range: the range applies only while the validator matches.
    for validator in [etag.as_str(), last_modified.as_str()] {
        let r = get(&["-r", "0-4", "-H", &format!("If-Range: {validator}")]);
        assert!(r.starts_with("HTTP/1.1 206"), "{validator}: {r}");
        assert!(r.ends_with("\r\n\r\nhello"), "{r}");
    }
    for stale in ["\"0-0\"", "W/\"0-0\"", "Mon, 01 Jan 2001 00:00:00 GMT"] {
        let r = get(&["-r", "0-4", "-H", &format!("If-Range: {stale}")]);
        assert!(r.starts_with("HTTP/1.1 200"), "{stale}: {r}");
        assert!(r.ends_with("\r\n\r\nhello, world\n"), "{r}");
    }

    // If-None-Match decides when both it and If-Modified-Since are sent (§13.2.2).
    let ims = format!("If-Modified-Since: {last_modified}");
    let r = get(&["-H", "If-None-Match: \"other\"", "-H", &ims]);
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    let r = get(&["-H", &format!("If-None-Match: {etag}"), "-H", &ims]);
    assert!(r.starts_with("HTTP/1.1 304"), "{r}");
    let r = get(&["-H", &format!("If-None-Match: \"x\", W/{etag}")]);
    assert!(r.starts_with("HTTP/1.1 304"), "weak comparison: {r}");
}

#[cfg(unix)]
#[test]
fn listings_do_not_show_what_symlinks_outside_the_root_point_at() {
    let outer = temp_root();
    // A size that would read "12.1 KiB" in a listing.
    std::fs::write(outer.path().join("secret.bin"), vec![1u8; 12_345]).expect("write");
    let root = outer.path().join("root");
    std::fs::create_dir(&root).expect("mkdir");
    std::fs::write(root.join("ok.txt"), "fine").expect("write");
    std::os::unix::fs::symlink(outer.path().join("secret.bin"), root.join("out-link.bin"))
        .expect("symlink");
    std::os::unix::fs::symlink(outer.path(), root.join("out-dir")).expect("symlink");
    std::os::unix::fs::symlink(root.join("ok.txt"), root.join("in-link.txt")).expect("symlink");
    std::os::unix::fs::symlink(root.join("gone"), root.join("broken")).expect("symlink");
    let s = Running::start(&["--root", &path_str(&root)]);
    let page = String::from_utf8_lossy(&curl(&[&s.url("/")]).stdout).into_owned();
    assert!(
        page.contains("ok.txt") && page.contains("in-link.txt"),
        "{page}"
    );
    for hidden in ["out-link.bin", "out-dir", "broken", "12.1 KiB"] {
        assert!(!page.contains(hidden), "{hidden} listed:\n{page}");
    }
}
