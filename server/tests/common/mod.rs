//! Shared by the server's integration tests: one local CA made once per test binary, and a
//! handle on a running `server` process that reads its banner for the real port.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{mpsc, Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A certs dir holding `ca.pem` and a localhost certificate, made once (key generation is the
/// slow part) and reused by every test in this binary. The CA is the workspace's shared fixture
/// root (`tls::testing`); the server's own first-run code issues the leaf from it.
pub fn shared_certs() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = tls::testing::pki();
        std::fs::copy(pki.ca(), dir.path().join("ca.pem")).expect("copy CA");
        std::fs::copy(pki.ca_key(), dir.path().join("ca-key.pem")).expect("copy CA key");
        server::certs::local(dir.path(), &mut |_| {}).expect("local CA");
        dir
    })
    .path()
}

pub struct Running {
    pub child: Child,
    pub banner: String,
    pub port: u16,
    pub http_port: Option<u16>,
    stderr: Arc<Log>,
}

/// The server's stderr as it arrives, with a condition variable so tests wait for a line
/// instead of sleeping.
#[derive(Default)]
pub struct Log {
    state: Mutex<LogState>,
    changed: Condvar,
}

#[derive(Default)]
struct LogState {
    text: String,
    /// stderr reached EOF: the process (and everything holding its stderr) is gone.
    closed: bool,
}

impl Log {
    fn append(&self, chunk: &[u8]) {
        if let Ok(mut st) = self.state.lock() {
            st.text.push_str(&String::from_utf8_lossy(chunk));
        }
        self.changed.notify_all();
    }

    fn close(&self) {
        if let Ok(mut st) = self.state.lock() {
            st.closed = true;
        }
        self.changed.notify_all();
    }

    fn text(&self) -> String {
        self.state
            .lock()
            .map(|s| s.text.clone())
            .unwrap_or_default()
    }

    /// Wait until `done(text, closed)` holds, or `timeout` passes; whether it held.
    fn wait_until(&self, timeout: Duration, done: impl Fn(&str, bool) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let Ok(mut st) = self.state.lock() else {
            return false;
        };
        loop {
            if done(&st.text, st.closed) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            st = match self.changed.wait_timeout(st, left) {
                Ok((guard, _)) => guard,
                Err(_) => return false,
            };
        }
    }
}

impl Running {
    /// Start the real binary with `args` (plus `--listen 127.0.0.1:0` unless given) and wait
    /// for its banner.
    pub fn start(args: &[&str]) -> Self {
        Self::start_in(None, args)
    }

    pub fn start_in(cwd: Option<&Path>, args: &[&str]) -> Self {
        Self::start_with(cwd, args, &[])
    }

    /// [`Self::start_in`] with extra environment variables.
    pub fn start_with(cwd: Option<&Path>, args: &[&str], envs: &[(&str, &Path)]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
        if !args.contains(&"--listen") {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        if !args.contains(&"--certs-dir") && !args.contains(&"--cert") && cwd.is_none() {
            cmd.arg("--certs-dir").arg(shared_certs());
        }
        if let Some(dir) = cwd {
            cmd.current_dir(dir);
        }
        cmd.args(args)
            .env_remove("SSLKEYLOGFILE")
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn server");
        let stderr = Arc::new(Log::default());
        let mut err_pipe = child.stderr.take().expect("stderr");
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.append(buf.get(..n).unwrap_or_default());
            }
            sink.close();
        });
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        // The banner is read on a thread so that a server that never prints it fails the test
        // after a bound instead of hanging it.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut banner = String::new();
            loop {
                let mut line = String::new();
                match out.read_line(&mut line) {
                    Ok(n) if n > 0 => {}
                    _ => {
                        let _ = tx.send(Err(banner));
                        return;
                    }
                }
                banner.push_str(&line);
                if line.starts_with("Quit by pressing CTRL-C") {
                    break;
                }
            }
            let _ = tx.send(Ok(banner));
            // Keep draining stdout so the server never blocks on a full pipe.
            let mut sink = Vec::new();
            let _ = out.read_to_end(&mut sink);
        });
        let banner = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(Ok(banner)) => banner,
            Ok(Err(partial)) => {
                // Its whole stderr (the reason) once the pipe closes.
                stderr.wait_until(Duration::from_secs(10), |_, closed| closed);
                panic!(
                    "server exited before its banner:\n{partial}\nstderr:\n{}",
                    stderr.text()
                )
            }
            Err(_) => {
                let _ = child.kill();
                panic!("no banner within 120 s; stderr:\n{}", stderr.text());
            }
        };
        let port = port_after(&banner, "Listening on https://").expect("https port in banner");
        let http_port = port_after(&banner, "Listening on http://");
        Self {
            child,
            banner,
            port,
            http_port,
            stderr,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }

    pub fn stderr(&self) -> String {
        self.stderr.text()
    }

    /// Wait until stderr contains `needle` (the access log is written as responses finish).
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        self.stderr
            .wait_until(timeout, |text, _| text.contains(needle))
    }

    /// Wait until one line of stderr contains every one of `needles`.
    pub fn wait_for_line_with(&self, needles: &[&str], timeout: Duration) -> bool {
        self.stderr.wait_until(timeout, |text, _| {
            text.lines().any(|l| needles.iter().all(|n| l.contains(n)))
        })
    }

    /// Wait until `count` lines of stderr contain `needle`.
    pub fn wait_for_lines(&self, needle: &str, count: usize, timeout: Duration) -> bool {
        self.stderr.wait_until(timeout, |text, _| {
            text.lines().filter(|l| l.contains(needle)).count() >= count
        })
    }

    /// Send SIGINT without waiting (as Ctrl-C does).
    pub fn send_interrupt(&self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
    }

    /// Ask for a graceful stop (SIGINT) and wait for the exit status and the whole of stderr
    /// (its EOF, not a pause, says the log is complete).
    pub fn interrupt(self) -> (Option<i32>, String) {
        self.send_interrupt();
        self.wait_exit()
    }

    /// Wait for the process to end by itself (after [`Self::send_interrupt`]).
    pub fn wait_exit(mut self) -> (Option<i32>, String) {
        if !self
            .stderr
            .wait_until(Duration::from_secs(30), |_, closed| closed)
        {
            return (None, self.stderr());
        }
        // stderr closed: the process has exited (or is exiting); reap it.
        let status = self.child.wait().ok().and_then(|s| s.code());
        (status, self.stderr())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn port_after(banner: &str, prefix: &str) -> Option<u16> {
    banner.lines().find_map(|l| {
        let rest = l.strip_prefix(prefix)?;
        let hostport = rest.split('/').next()?;
        hostport.rsplit(':').next()?.parse().ok()
    })
}

/// `curl --cacert <shared CA> -sS <args>`.
pub fn curl(args: &[&str]) -> Output {
    curl_with_ca(&shared_certs().join("ca.pem"), args)
}

pub fn curl_with_ca(ca: &Path, args: &[&str]) -> Output {
    output_within(
        Command::new("curl")
            .arg("--cacert")
            .arg(ca)
            .args(["-sS", "--max-time", "60"])
            .args(args),
        Duration::from_secs(90),
        "curl",
    )
}

/// Status code from `curl -o /dev/null -w %{http_code}`.
pub fn status_of(url: &str, extra: &[&str]) -> String {
    let mut args = vec!["-o", "/dev/null", "-w", "%{http_code}"];
    args.extend_from_slice(extra);
    args.push(url);
    let out = curl(&args);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn temp_root() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

pub fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

pub fn ca_path() -> PathBuf {
    shared_certs().join("ca.pem")
}

/// Run `cmd` to completion, but kill it after `limit` (a hung peer must not stall CI). Panics
/// naming the Debian `package` when the program is missing, and when the limit is reached.
pub fn output_within(cmd: &mut Command, limit: Duration, package: &str) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => panic!(
            "cannot run {:?} ({e}): install the Debian package {package}",
            cmd.get_program()
        ),
    };
    wait_within(child, limit)
}

/// Wait for a spawned `child` (stdout/stderr piped) for at most `limit`, then kill it.
pub fn wait_within(child: Child, limit: Duration) -> Output {
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.expect("collect output"),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("process {pid} still running after {limit:?}: killed");
        }
    }
}

/// Our TLS client connected to the server on `port` (trusting the shared CA), with `request`
/// sent and flushed.
pub async fn tls_request(
    port: u16,
    request: &[u8],
) -> tls::stream::TlsStream<tokio::net::TcpStream> {
    use tokio::io::AsyncWriteExt;
    let mut client = tls_connect(port).await;
    client.write_all(request).await.expect("request");
    client.flush().await.expect("flush");
    client
}

/// Our TLS client connected to the server on `port`, trusting the shared CA.
pub async fn tls_connect(port: u16) -> tls::stream::TlsStream<tokio::net::TcpStream> {
    let roots = tls::pki::trust::TrustStore::from_pem_file(&ca_path()).expect("roots");
    let config = Arc::new(tls::ClientConfig::new(roots));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    tls::stream::connect(config, "localhost", tcp)
        .await
        .expect("handshake")
}
