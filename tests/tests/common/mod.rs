//! Shared helpers: the workspace's fixture PKI (`tls::testing`, written as PEM files so openssl
//! and curl can read it), configs made from it, and small process helpers.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tls::alert::AlertDescription;
pub use tls::testing::{pki, Pki};
use tls::{ClientConfig, ServerConfig, SessionInfo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::time::timeout;

/// A fail-safe for one peer process or one connection; tests synchronise on their output.
const LIMIT: Duration = Duration::from_secs(30);

pub fn openssl(dir: &Path, args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("cannot run openssl: install the Debian package `openssl`")
}

pub fn server_config(pki: &Pki) -> ServerConfig {
    pki.server_config()
}

pub fn client_config(pki: &Pki) -> ClientConfig {
    pki.client_config()
}

pub fn arc<T>(t: T) -> Arc<T> {
    Arc::new(t)
}

/// What `openssl s_client` printed.
pub struct SClient {
    pub stdout: String,
    pub stderr: String,
}

impl SClient {
    /// stdout then stderr (errors and alerts go to stderr).
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// `openssl s_client -tls1_2 -servername localhost` trusting the fixture CA, with `extra`
/// arguments and `env` variables; it sends "ping" and reads until the server closes.
pub async fn s_client(addr: SocketAddr, extra: &[&str], env: &[(&str, &Path)]) -> SClient {
    let mut command = tokio::process::Command::new("openssl");
    command
        .args(["s_client", "-connect", &addr.to_string()])
        .args(["-servername", "localhost", "-tls1_2", "-ign_eof"])
        .arg("-CAfile")
        .arg(pki().ca())
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command
        .spawn()
        .expect("cannot run openssl s_client: install the Debian package `openssl`");
    let mut stdin = child.stdin.take().expect("stdin");
    // s_client may already have given up (a refused handshake): nothing to write to then.
    let _ = stdin.write_all(b"ping\n").await;
    drop(stdin);
    let out = timeout(LIMIT, child.wait_with_output())
        .await
        .expect("s_client finished")
        .expect("output");
    SClient {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Accepts one connection and reports how its handshake ended; answers the client's first
/// bytes with "pong" so it sees application data, then closes with close_notify.
pub async fn one_handshake(
    config: Arc<ServerConfig>,
) -> (
    SocketAddr,
    tokio::task::JoinHandle<Result<SessionInfo, std::io::Error>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let mut tls = tls::stream::accept(config, tcp).await?;
        let info = tls.info().cloned().expect("info");
        let mut buf = [0u8; 64];
        let _ = timeout(LIMIT, tls.read(&mut buf)).await;
        let _ = tls.write_all(b"pong\n").await;
        let _ = tls.shutdown().await;
        Ok(info)
    });
    (addr, task)
}

/// The alert our side sent, from the error its handshake ended with.
pub fn sent_alert(e: &std::io::Error) -> Option<AlertDescription> {
    e.get_ref()?.downcast_ref::<tls::Error>()?.alert()
}
