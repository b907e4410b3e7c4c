//! Scale-out: HAProxy (TCP mode, round robin, `deploy/haproxy.cfg`) in front of two `server`
//! instances. Started with the same `--ticket-key`, the client's second connection lands on the
//! other instance and is still resumed; with different keys it is a full handshake, and works.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// HAProxy, killed when dropped.
struct Haproxy {
    child: Child,
    port: u16,
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn haproxy_program() -> &'static str {
    // Debian installs it in /usr/sbin, which is not on every user's PATH.
    if Path::new("/usr/sbin/haproxy").exists() {
        "/usr/sbin/haproxy"
    } else {
        "haproxy"
    }
}

/// Start HAProxy with the repository's config over instances `a` and `b`. The front socket is
/// bound (port 0) and listening before HAProxy starts, by a small python3 wrapper that hands it
/// over as `fd@N`: no race for a free port, and connections made before HAProxy is up wait in
/// the kernel's queue.
fn haproxy(a: u16, b: u16) -> Haproxy {
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/haproxy.cfg");
    let wrapper = r#"
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
os.set_inheritable(s.fileno(), True)
print(s.getsockname()[1], flush=True)
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # nobody reads stdout after the port
os.environ["FRONT"] = "fd@%d" % s.fileno()
os.execvp(sys.argv[1], [sys.argv[1], "-db", "-f", sys.argv[2]])
"#;
    let mut child = Command::new("python3")
        .args(["-c", wrapper, haproxy_program()])
        .arg(&config)
        .env("PORT_A", a.to_string())
        .env("PORT_B", b.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 (Debian package python3)");
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let _ = out.read_line(&mut line);
    let Ok(port) = line.trim().parse::<u16>() else {
        let mut err = String::new();
        let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
        let _ = child.kill();
        panic!("haproxy wrapper printed no port ({line:?}): {err}");
    };
    // HAProxy must exist: fail (not skip) naming the package.
    let check = output_within(
        Command::new(haproxy_program()).arg("-v"),
        Duration::from_secs(30),
        "haproxy",
    );
    assert!(
        check.status.success(),
        "haproxy -v: install the Debian package haproxy"
    );
    Haproxy { child, port }
}

fn key_file(dir: &Path, name: &str) -> PathBuf {
    let mut key = [0u8; 80];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut key))
        .expect("random key");
    let path = dir.join(name);
    std::fs::write(&path, key).expect("write key");
    path
}

fn s_client(port: u16, sess: (&str, &Path)) -> String {
    let out = output_within(
        Command::new("openssl")
            .args(["s_client", "-connect"])
            .arg(format!("127.0.0.1:{port}"))
            .args([
                "-servername",
                "localhost",
                "-verify_return_error",
                "-CAfile",
            ])
            .arg(ca_path())
            .arg(sess.0)
            .arg(sess.1),
        Duration::from_secs(60),
        "openssl",
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Two handshakes through HAProxy: the session saved from the first is offered in the second.
/// Returns the second's s_client output and which instance did each handshake.
fn through_haproxy(key_a: &Path, key_b: &Path) -> (String, Running, Running) {
    let a = Running::start(&["-v", "--ticket-key", key_a.to_str().unwrap()]);
    let b = Running::start(&["-v", "--ticket-key", key_b.to_str().unwrap()]);
    let proxy = haproxy(a.port, b.port);
    let dir = temp_root();
    let sess = dir.path().join("session.pem");
    let first = s_client(proxy.port, ("-sess_out", &sess));
    assert!(first.contains("New, TLSv1.2"), "{first}");
    let second = s_client(proxy.port, ("-sess_in", &sess));
    // Both handshakes are logged (-v) before s_client has its answer.
    for s in [&a, &b] {
        assert!(
            s.wait_for_log("handshake done", Duration::from_secs(30)),
            "round robin: each instance gets one connection\n{}",
            s.stderr()
        );
    }
    (second, a, b)
}

fn handshakes(s: &Running) -> Vec<String> {
    s.stderr()
        .lines()
        .filter(|l| l.contains("handshake done"))
        .map(str::to_string)
        .collect()
}

#[test]
fn shared_ticket_key_resumes_on_the_other_instance() {
    let dir = temp_root();
    let key = key_file(dir.path(), "ticket.key");
    let (second, a, b) = through_haproxy(&key, &key);
    assert!(second.contains("Reused, TLSv1.2"), "{second}");
    let (ha, hb) = (handshakes(&a), handshakes(&b));
    assert_eq!((ha.len(), hb.len()), (1, 1), "{ha:?} {hb:?}");
    // One instance did the full handshake, the other resumed it from the ticket.
    let resumed: Vec<_> = ha
        .iter()
        .chain(&hb)
        .map(|l| l.contains("resumed=ticket"))
        .collect();
    assert!(
        resumed.contains(&true) && resumed.contains(&false),
        "{ha:?} {hb:?}"
    );
}

#[test]
fn different_ticket_keys_mean_a_full_handshake_that_works() {
    let dir = temp_root();
    let key_a = key_file(dir.path(), "a.key");
    let key_b = key_file(dir.path(), "b.key");
    let (second, a, b) = through_haproxy(&key_a, &key_b);
    assert!(second.contains("New, TLSv1.2"), "{second}");
    assert!(second.contains("Verify return code: 0 (ok)"), "{second}");
    for h in handshakes(&a).iter().chain(&handshakes(&b)) {
        assert!(!h.contains("resumed="), "{h}");
    }
}

#[test]
fn ticket_key_of_the_wrong_size_is_refused_at_startup() {
    let dir = temp_root();
    let path = dir.path().join("short.key");
    std::fs::write(&path, [0u8; 48]).expect("write");
    let out = output_within(
        Command::new(env!("CARGO_BIN_EXE_server"))
            .args(["--listen", "127.0.0.1:0", "--certs-dir"])
            .arg(shared_certs())
            .arg("--ticket-key")
            .arg(&path),
        Duration::from_secs(60),
        "server",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("80 bytes"));
}
