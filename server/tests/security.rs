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
