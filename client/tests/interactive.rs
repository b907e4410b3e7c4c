//! The browser-like decision on a pseudo-terminal: go back, continue and remember, the next run
//! without a prompt, and a swapped certificate bringing the warning back ("has changed").

mod common;

use common::*;

#[test]
fn warning_prompt_remember_and_changed_certificate() {
    let cfg = tempfile::tempdir().unwrap();
    let exceptions = cfg.path().join("cert_override.txt");
    let server = s_server(&certs().self_signed, 0);
    let port = server.port;
    let url = format!("https://localhost:{port}/");

    // 1. Go back (the default): exit 60, nothing remembered, nothing fetched.
    let (code, screen) = client_on_tty(cfg.path(), "", &[&url]);
    assert_eq!(code, 60, "{screen}");
    assert!(
        screen.contains("Your connection is not private"),
        "{screen}"
    );
    assert!(screen.contains("self-signed"), "{screen}");
    assert!(screen.contains("MOZILLA_PKIX_ERROR_SELF_SIGNED_CERT"));
    assert!(screen.contains("SHA-256:"));
    assert!(screen.contains("[b] Go back (recommended)"));
    assert!(screen.contains("SSL certificate problem: self-signed certificate"));
    assert!(
        !screen.contains("s_server"),
        "body fetched after going back"
    );
    assert!(!exceptions.exists());

    // 2. Continue and remember: fetched, exception stored for localhost:port.
    let (code, screen) = client_on_tty(cfg.path(), "r", &[&url]);
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("s_server"), "{screen}");
    let stored = std::fs::read_to_string(&exceptions).unwrap();
    assert!(
        stored.contains(&format!("localhost:{port}:\tOID.2.16.840.1.101.3.4.2.1\t")),
        "{stored}"
    );
    let fingerprint = openssl_fingerprint(&certs().self_signed);
    assert!(stored.contains(&fingerprint), "{stored}\n{fingerprint}");

    // 3. The next run fetches without a prompt (and without a terminal), saying why.
    let out = client(cfg.path(), &[&url]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("s_server"));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("you accepted this certificate before"),
        "{stderr}"
    );
    assert!(!stderr.contains("Your choice"));
    // The exception is for this host:port only.
    let other = client(cfg.path(), &[&format!("https://127.0.0.1:{port}/")]);
    assert_eq!(other.status.code(), Some(60));

    // 4. Another certificate on the same port: the warning is back, saying it changed.
    drop(server);
    let _swapped = s_server(&certs().self_signed_2, port);
    let out = client(cfg.path(), &[&url]);
    assert_eq!(out.status.code(), Some(60));
    assert!(
        text(&out.stderr).contains("HAS CHANGED"),
        "{}",
        text(&out.stderr)
    );
    let (code, screen) = client_on_tty(cfg.path(), "b", &[&url]);
    assert_eq!(code, 60, "{screen}");
    assert!(
        screen.contains(&format!("THE CERTIFICATE OF LOCALHOST:{port} HAS CHANGED")),
        "{screen}"
    );
    assert!(
        screen.contains(&fingerprint),
        "the old fingerprint is shown"
    );
    // Going back keeps the old exception.
    assert_eq!(std::fs::read_to_string(&exceptions).unwrap(), stored);

    // 5. Continue once: fetched, the stored exception is not changed.
    let (code, screen) = client_on_tty(cfg.path(), "c", &[&url]);
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("s_server"));
    assert_eq!(std::fs::read_to_string(&exceptions).unwrap(), stored);
}

/// `openssl x509 -fingerprint -sha256` of a PEM file: `AB:CD:...`.
fn openssl_fingerprint(cert: &std::path::Path) -> String {
    let out = output_within(
        std::process::Command::new("openssl")
            .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
            .arg(cert),
        PROGRAM_LIMIT,
    );
    text(&out.stdout)
        .trim()
        .rsplit('=')
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn progress_bar_on_a_terminal_only() {
    let server = py_server(None);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.bin");
    let url = format!("http://127.0.0.1:{}/big", server.port);
    let (code, screen) = client_on_tty(dir.path(), "", &["-o", file.to_str().unwrap(), &url]);
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("1.00 MiB/1.00 MiB"), "{screen}");
    assert_eq!(std::fs::metadata(&file).unwrap().len(), 1 << 20);
    // -s: no bar.
    let (code, screen) = client_on_tty(dir.path(), "", &["-s", "-o", file.to_str().unwrap(), &url]);
    assert_eq!(code, 0);
    assert!(!screen.contains("MiB"), "{screen}");
    // Not a terminal: no bar.
    let out = client(dir.path(), &["-o", file.to_str().unwrap(), &url]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}
