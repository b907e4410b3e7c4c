//! Our client against nginx configured as most HTTPS guides recommend today: Mozilla's
//! "intermediate" profile, which keeps only ECDHE (and DHE) with AES-GCM or ChaCha20-Poly1305 —
//! no CBC suite and no RSA key transport. Before AES-GCM and ECDHE, our client found no suite in
//! common with it (handshake_failure).

mod common;

use common::{arc, client_config, pki};
use std::process::Stdio;
use std::time::Duration;
use tls::suites::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(30);

/// The cipher list of Mozilla's "intermediate" configuration (ssl-config.mozilla.org, v5.7).
const MOZILLA_INTERMEDIATE: &str = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:\
ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:\
ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:\
DHE-RSA-CHACHA20-POLY1305";

/// nginx in the foreground on `port`, serving `root`; `Ok` once its workers started, `Err`
/// with its log when it could not bind (the port was taken meanwhile: the caller picks another).
async fn start_nginx(dir: &std::path::Path, port: u16) -> Result<Child, String> {
    let p = pki();
    let conf = dir.join("nginx.conf");
    let temp = dir.join("temp");
    std::fs::create_dir_all(&temp).expect("temp dir");
    // Every path nginx writes is in the test's directory: it runs without root's /var/lib.
    let text = format!(
        "daemon off;\nworker_processes 1;\npid {dir}/nginx.pid;\nerror_log stderr notice;\n\
events {{ worker_connections 64; }}\n\
http {{\n  access_log off;\n  client_body_temp_path {temp}/body;\n  proxy_temp_path {temp}/proxy;\n\
  fastcgi_temp_path {temp}/fastcgi;\n  uwsgi_temp_path {temp}/uwsgi;\n  scgi_temp_path {temp}/scgi;\n\
  server {{\n    listen 127.0.0.1:{port} ssl;\n    ssl_certificate {cert};\n    ssl_certificate_key {key};\n\
    ssl_protocols TLSv1.2;\n    ssl_ciphers {ciphers};\n    ssl_prefer_server_ciphers off;\n\
    root {dir}/site;\n  }}\n}}\n",
        dir = dir.display(),
        temp = temp.display(),
        cert = p.leaf().display(),
        key = p.leaf_key().display(),
        ciphers = MOZILLA_INTERMEDIATE,
    );
    std::fs::write(&conf, text).expect("nginx.conf");
    let mut child = Command::new("nginx")
        .arg("-c")
        .arg(&conf)
        .arg("-p")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("cannot run nginx: install the Debian package `nginx-light`");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let mut log = String::new();
    let started = timeout(LIMIT, async {
        while let Ok(Some(line)) = lines.next_line().await {
            log.push_str(&line);
            log.push('\n');
            if line.contains("start worker process") {
                return true;
            }
            if line.contains("[emerg]") {
                return false;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    if !started {
        return Err(log);
    }
    // Keep draining its log so nginx never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(child)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_fetches_from_nginx_with_the_mozilla_intermediate_profile() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("site")).expect("site");
    std::fs::write(dir.path().join("site/index.html"), "hello from nginx\n").expect("index");
    // nginx cannot report a port it chose: take a free one, and try again (a few times) if
    // another process grabbed it before nginx bound it.
    let mut nginx = None;
    let mut errors = Vec::new();
    for _ in 0..5 {
        let port = {
            let probe = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            probe.local_addr().expect("addr").port()
        };
        match start_nginx(dir.path(), port).await {
            Ok(child) => {
                nginx = Some((child, port));
                break;
            }
            Err(log) => errors.push(log),
        }
    }
    let (_nginx, port) = nginx.unwrap_or_else(|| panic!("nginx did not start: {errors:?}"));

    let tcp = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let mut tls = timeout(
        LIMIT,
        tls::stream::connect(arc(client_config(pki())), "localhost", tcp),
    )
    .await
    .expect("handshake in time")
    .expect("our client's handshake with nginx");
    let info = tls.info().cloned().expect("info");
    // nginx keeps the client's order (ssl_prefer_server_ciphers off): our first choice.
    assert_eq!(info.suite, &TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256);
    assert!(info.suite.forward_secrecy() && info.suite.is_aead());
    tls.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .expect("request");
    tls.flush().await.expect("flush");
    let mut response = Vec::new();
    // nginx closes without close_notify after Connection: close; what we read is complete
    // by Content-Length, which the assertions below check.
    let _ = timeout(LIMIT, tls.read_to_end(&mut response))
        .await
        .expect("response in time");
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(response.contains("Content-Length: 17"), "{response}");
    assert!(response.ends_with("hello from nginx\n"), "{response}");
}
