//! Test fixtures: certificates (the shared CA and leaf of `tls::testing`, and from them a
//! self-signed one, an expired one, one for the wrong host), `openssl s_server` and a small
//! python3 HTTP(S) server, the client binary, curl for comparison, and a pseudo-terminal
//! driver (python3's `pty`).

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;
use tls::pki::x509::{Certificate, CertificateBuilder};

pub const CLIENT: &str = env!("CARGO_BIN_EXE_client");

/// Paths of the generated certificates and keys (one leaf key serves every leaf).
pub struct Certs {
    pub dir: PathBuf,
    pub ca: PathBuf,
    pub leaf_key: PathBuf,
    /// localhost + 127.0.0.1, issued by the CA.
    pub good: PathBuf,
    /// Self-signed localhost + 127.0.0.1.
    pub self_signed: PathBuf,
    /// Another self-signed certificate for the same names (a "swapped" certificate).
    pub self_signed_2: PathBuf,
    /// Issued by the CA, expired 30 days ago.
    pub expired: PathBuf,
    /// Issued by the CA for wrong.example only.
    pub wrong_host: PathBuf,
}

/// The certificates, made once per test binary.
pub fn certs() -> &'static Certs {
    static CERTS: OnceLock<Certs> = OnceLock::new();
    CERTS.get_or_init(make_certs)
}

fn make_certs() -> Certs {
    // The workspace's shared fixture PKI: its root is the CA, its leaf is `good`, and its leaf
    // key serves every other leaf made here. Kept for the life of the test process.
    let pki = tls::testing::pki();
    let dir = tempfile::tempdir().unwrap().keep();
    let (ca, ca_key) = (&pki.root, &pki.root_key);
    let key = pki.leaf_private_key();
    let names = ["localhost", "127.0.0.1"];
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let day = 86_400;
    let self_signed = CertificateBuilder::server(&names)
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let self_signed_2 = CertificateBuilder::server(&names)
        .unwrap()
        .organization("Swapped")
        .self_signed(&key)
        .unwrap();
    let expired = CertificateBuilder::server(&names)
        .unwrap()
        .validity(now - 90 * day, now - 30 * day)
        .sign(key.public_key(), ca, ca_key)
        .unwrap();
    let wrong_host = CertificateBuilder::server(&["wrong.example"])
        .unwrap()
        .sign(key.public_key(), ca, ca_key)
        .unwrap();
    let write = |name: &str, cert: &Certificate| {
        let path = dir.join(name);
        std::fs::write(&path, tls::pki::pem::encode_certificate(cert.der())).unwrap();
        path
    };
    Certs {
        ca: pki.ca(),
        good: pki.leaf(),
        self_signed: write("self-signed.pem", &self_signed),
        self_signed_2: write("self-signed-2.pem", &self_signed_2),
        expired: write("expired.pem", &expired),
        wrong_host: write("wrong-host.pem", &wrong_host),
        leaf_key: pki.leaf_key(),
        dir,
    }
}

/// A child process killed when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How long any external program in these tests may run before it is killed.
pub const PROGRAM_LIMIT: Duration = Duration::from_secs(120);

/// A port that refuses connections for as long as the returned socket lives: bound, never
/// listening (a port merely found free could be taken by another test meanwhile).
pub fn refused_port() -> (tokio::net::TcpSocket, u16) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = socket.local_addr().unwrap().port();
    (socket, port)
}

/// Run `cmd` to the end, capturing its output, killed after `limit` (then the test fails).
pub fn output_within(cmd: &mut Command, limit: Duration) -> Output {
    use std::io::Read;
    use wait_timeout::ChildExt;
    let program = format!("{:?}", cmd.get_program());
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let status = match child.wait_timeout(limit).unwrap() {
        Some(status) => status,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{program} did not finish within {limit:?}");
        }
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// The first line of `child`'s stdout that `pick` accepts (its value), within `limit`; `None`
/// when the program closed its output first. The rest of stdout is drained in the background
/// so the program never blocks on a full pipe.
pub fn first_line<T: Send + 'static>(
    child: &mut Child,
    limit: Duration,
    pick: impl Fn(&str) -> Option<T> + Send + 'static,
) -> Option<T> {
    let stdout = child.stdout.take().expect("stdout piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let mut told = false;
        for line in lines.by_ref() {
            let Ok(line) = line else { break };
            if !told {
                if let Some(v) = pick(&line) {
                    let _ = tx.send(Some(v));
                    told = true;
                }
            }
        }
        if !told {
            let _ = tx.send(None);
        }
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no expected output within {limit:?}");
        }
    }
}

/// `openssl s_server -www` with `cert` (and the leaf key) on `port` (0 = let the kernel pick),
/// with `extra` arguments. It reports the port it bound (`ACCEPT [::]:PORT`); a fixed port
/// still held by someone else is tried again a bounded number of times.
pub fn s_server_with(cert: &Path, port: u16, extra: &[&str]) -> Server {
    for _ in 0..100 {
        let mut child = Command::new("openssl")
            .args(["s_server", "-www", "-accept"])
            .arg(port.to_string())
            .arg("-cert")
            .arg(cert)
            .arg("-key")
            .arg(&certs().leaf_key)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl (Debian package openssl)");
        // `ACCEPT [::]:PORT` for port 0, a bare `ACCEPT` for a given port; nothing if the bind
        // failed (it exits).
        let bound = first_line(&mut child, Duration::from_secs(30), move |line| match line
            .trim()
            .strip_prefix("ACCEPT")?
        {
            "" if port != 0 => Some(port),
            addr => addr.rsplit(':').next()?.trim().parse::<u16>().ok(),
        });
        match bound {
            Some(bound) => return Server { child, port: bound },
            None => {
                // It exited without binding (the port was taken): reap it and try again.
                let _ = child.kill();
                let _ = child.wait();
                assert_ne!(port, 0, "openssl s_server could not bind any port");
            }
        }
    }
    panic!("port {port} stayed taken");
}

/// `openssl s_server -www` with `cert` on `port` (0 = let the kernel pick).
pub fn s_server(cert: &Path, port: u16) -> Server {
    s_server_with(cert, port, &[])
}

/// Write `contents` to `path` unless it is there: through a unique temporary name and a rename,
/// so a test running in parallel never sees (or runs) half a file.
pub fn write_once(path: &Path, contents: &str) {
    if path.exists() {
        return;
    }
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("{}.{n}.tmp", std::process::id()));
    std::fs::write(&tmp, contents).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// The python3 test server: `/hello`, `/echo` (method, headers and body back), `/redirect`
/// (302 to /hello), `/loop` (302 to itself), `/missing` (404), `/slow` (answers after 5 s),
/// `/big` (1 MiB). Fixed Date/Server headers so curl's and our outputs can be compared.
const PY_SERVER: &str = r#"
import sys, time, ssl
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def version_string(self): return "testserver"
    def date_time_string(self, t=None): return "Thu, 01 Jan 2026 00:00:00 GMT"
    def log_message(self, *a): pass
    def send(self, code, body, ctype="text/plain", extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra: self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD": self.wfile.write(body)
    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n) if n else b""
        p = self.path
        if p == "/hello": self.send(200, b"hello\n")
        elif p == "/echo":
            lines = [self.command + " " + p] + [k + ": " + v for k, v in self.headers.items()]
            self.send(200, ("\n".join(lines) + "\n\n").encode() + data)
        elif p == "/redirect": self.send(302, b"moved\n", extra=[("Location", "/hello")])
        elif p == "/redirect303": self.send(303, b"see other\n", extra=[("Location", "/echo")])
        elif p == "/loop": self.send(302, b"again\n", extra=[("Location", "/loop")])
        elif p == "/slow":
            time.sleep(5)
            self.send(200, b"late\n")
        elif p == "/big": self.send(200, b"x" * (1 << 20), "application/octet-stream")
        else: self.send(404, b"not found\n")
    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
if len(sys.argv) > 2:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("AES128-SHA256:AES256-SHA256:AES128-SHA:AES256-SHA")
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
"#;

/// The python3 test server over plain HTTP, or HTTPS with `tls = Some((cert, key))`.
pub fn py_server(tls: Option<(&Path, &Path)>) -> Server {
    let script = certs().dir.join("server.py");
    write_once(&script, PY_SERVER);
    let mut cmd = Command::new("python3");
    cmd.arg(&script);
    if let Some((cert, key)) = tls {
        cmd.arg(cert).arg(key);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 (Debian package python3)");
    let port = first_line(&mut child, Duration::from_secs(30), |l| {
        l.trim().parse().ok()
    })
    .expect("the python server reports its port");
    Server { child, port }
}

/// Run the client (no terminal: stdin is /dev/null) with a private config directory.
pub fn client(config_dir: &Path, args: &[&str]) -> Output {
    output_within(
        Command::new(CLIENT)
            .args(args)
            .env("CLIENT_CONFIG_DIR", config_dir)
            .env_remove("SSLKEYLOGFILE")
            .stdin(Stdio::null()),
        PROGRAM_LIMIT,
    )
}

/// Run curl with the same arguments.
pub fn curl(args: &[&str]) -> Output {
    output_within(
        Command::new("curl")
            .args(args)
            .env_remove("SSLKEYLOGFILE")
            .stdin(Stdio::null()),
        PROGRAM_LIMIT,
    )
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A script that runs a command on a pseudo-terminal, types `answer` + Enter once `pattern`
/// appears in its output, and copies everything it printed to stdout; exits with its status.
const PTY_DRIVER: &str = r#"
import os, pty, sys, time, select
pattern, answer, cmd = sys.argv[1].encode(), sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(cmd[0], cmd)
out, sent, deadline = b"", False, time.time() + 60
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try: chunk = os.read(fd, 4096)
        except OSError: break
        if not chunk: break
        out += chunk
    if not sent and pattern in out:
        os.write(fd, (answer + "\n").encode())
        sent = True
sys.stdout.buffer.write(out)
sys.stdout.flush()
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"#;

/// Run the client on a pseudo-terminal, answering `answer` at the prompt.
pub fn client_on_tty(config_dir: &Path, answer: &str, args: &[&str]) -> (i32, String) {
    let script = certs().dir.join("pty_driver.py");
    write_once(&script, PTY_DRIVER);
    let out = output_within(
        Command::new("python3")
            .arg(&script)
            .arg("Your choice")
            .arg(answer)
            .arg(CLIENT)
            .args(args)
            .env("CLIENT_CONFIG_DIR", config_dir)
            .env("NO_COLOR", "1"),
        PROGRAM_LIMIT,
    );
    (out.status.code().unwrap_or(-1), text(&out.stdout))
}
