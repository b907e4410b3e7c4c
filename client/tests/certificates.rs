//! Against `openssl s_server -www`: a trusted fetch, and the four classic refusals (self-signed,
//! expired, wrong host, unknown issuer) with curl's exit code and wording, checked against curl.

mod common;

use common::*;
use std::path::Path;

/// The `client: (N) ...` line of stderr.
fn error_line(stderr: &str) -> String {
    stderr
        .lines()
        .find(|l| l.starts_with("client: ("))
        .unwrap_or_default()
        .to_string()
}

/// Our refusal matches curl's: exit 60 and the same message after the `(60)`.
fn refused_like_curl(cert: &Path, cacert: bool, expected: &str, chrome: &str) {
    let server = s_server(cert, 0);
    let url = format!("https://localhost:{}/", server.port);
    let ca = certs().ca.to_str().unwrap().to_string();
    let mut args = vec![url.as_str()];
    if cacert {
        args.extend(["--cacert", ca.as_str()]);
    }
    let cfg = tempfile::tempdir().unwrap();
    let ours = client(cfg.path(), &args);
    let stderr = text(&ours.stderr);
    assert_eq!(ours.status.code(), Some(60), "{stderr}");
    assert_eq!(error_line(&stderr), format!("client: (60) {expected}"));
    assert!(stderr.contains("More details here: https://curl.se/docs/sslcerts.html"));
    // The browser-like page, without a prompt (no terminal).
    assert!(
        stderr.contains("Your connection is not private"),
        "{stderr}"
    );
    assert!(stderr.contains(chrome), "{stderr}");
    assert!(!stderr.contains("Your choice"));
    assert!(ours.stdout.is_empty());

    let theirs = curl(&args);
    assert_eq!(theirs.status.code(), Some(60));
    assert!(
        text(&theirs.stderr).contains(&format!("curl: (60) {expected}")),
        "curl said: {}",
        text(&theirs.stderr)
    );
}

#[test]
fn fetches_with_cacert() {
    let server = s_server(&certs().good, 0);
    let cfg = tempfile::tempdir().unwrap();
    let url = format!("https://localhost:{}/", server.port);
    let out = client(
        cfg.path(),
        &[
            &url,
            "--cacert",
            certs().ca.to_str().unwrap(),
            "-w",
            "\\n%{http_code} %{ssl_verify_result}\\n",
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(stdout.contains("s_server"), "{stdout}");
    assert!(stdout.ends_with("\n200 0\n"), "{stdout}");
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn self_signed_is_refused() {
    refused_like_curl(
        &certs().self_signed,
        false,
        "SSL certificate problem: self-signed certificate",
        "NET::ERR_CERT_AUTHORITY_INVALID",
    );
}

#[test]
fn unknown_issuer_is_refused() {
    refused_like_curl(
        &certs().good,
        false,
        "SSL certificate problem: unable to get local issuer certificate",
        "SEC_ERROR_UNKNOWN_ISSUER",
    );
}

#[test]
fn expired_is_refused() {
    refused_like_curl(
        &certs().expired,
        true,
        "SSL certificate problem: certificate has expired",
        "NET::ERR_CERT_DATE_INVALID",
    );
}

#[test]
fn wrong_host_is_refused() {
    refused_like_curl(
        &certs().wrong_host,
        true,
        "SSL: no alternative certificate subject name matches target host name 'localhost'",
        "NET::ERR_CERT_COMMON_NAME_INVALID",
    );
}

#[test]
fn insecure_continues_with_a_note_and_reports_the_code() {
    let server = s_server(&certs().self_signed, 0);
    let cfg = tempfile::tempdir().unwrap();
    let url = format!("https://127.0.0.1:{}/", server.port);
    let out = client(
        cfg.path(),
        &[&url, "-k", "-o", "/dev/null", "-w", "%{ssl_verify_result}"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "18");
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("not trusted (self-signed certificate)"));
    assert!(stderr.contains("-k"));
    // curl reports the same verify result with -k.
    let theirs = curl(&[
        &url,
        "-k",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{ssl_verify_result}",
    ]);
    assert_eq!(text(&theirs.stdout), "18");
    // Nothing was remembered.
    assert!(std::fs::read_dir(cfg.path()).unwrap().next().is_none());
}

#[test]
fn verbose_shows_the_handshake_and_certificate() {
    let server = s_server(&certs().good, 0);
    let cfg = tempfile::tempdir().unwrap();
    let url = format!("https://127.0.0.1:{}/", server.port);
    let out = client(
        cfg.path(),
        &[
            &url,
            "-v",
            "--cacert",
            certs().ca.to_str().unwrap(),
            "--ciphers",
            "AES256-SHA",
            "-o",
            "/dev/null",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let stderr = text(&out.stderr);
    for expected in [
        "*   Trying 127.0.0.1:",
        "* Cipher selection: AES256-SHA",
        "* TLSv1.2 (OUT), TLS handshake, Client hello (1):",
        "* TLSv1.2 (IN), TLS handshake, Server hello (2):",
        "* TLSv1.2 (IN), TLS handshake, Certificate (11):",
        "* TLSv1.2 (IN), TLS handshake, Server finished (14):",
        "* TLSv1.2 (OUT), TLS handshake, Client key exchange (16):",
        "* TLSv1.2 (OUT), TLS change cipher, Change cipher spec (1):",
        "* TLSv1.2 (IN), TLS handshake, Finished (20):",
        "* SSL connection using TLSv1.2 / AES256-SHA",
        "* Server certificate:",
        "*  subject: CN=localhost",
        "*  subjectAltName: host \"127.0.0.1\" matched cert's IP address!",
        "*  issuer: CN=Test Root CA",
        "*  SSL certificate verify ok.",
        "> GET / HTTP/1.1",
        &format!("> Host: 127.0.0.1:{}", server.port),
        "< HTTP/1.0 200 ok",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in\n{stderr}"
        );
    }
}

#[test]
fn keylog_file_gets_the_master_secret() {
    let cfg = tempfile::tempdir().unwrap();
    let keylog = cfg.path().join("keys.log");
    // The peer's own key log: ours must hold the very same secret, not just a well-shaped line.
    let theirs = cfg.path().join("s_server.log");
    let server = s_server_with(&certs().good, 0, &["-keylogfile", theirs.to_str().unwrap()]);
    let url = format!("https://localhost:{}/", server.port);
    let out = output_within(
        Command::new(CLIENT)
            .args([
                &url,
                "--cacert",
                certs().ca.to_str().unwrap(),
                "-o",
                "/dev/null",
            ])
            .env("SSLKEYLOGFILE", &keylog)
            .env("CLIENT_CONFIG_DIR", cfg.path()),
        PROGRAM_LIMIT,
    );
    assert_eq!(out.status.code(), Some(0));
    let log = std::fs::read_to_string(&keylog).unwrap();
    let line = log.lines().next().unwrap();
    let parts: Vec<&str> = line.split(' ').collect();
    assert_eq!(parts[0], "CLIENT_RANDOM");
    assert_eq!((parts[1].len(), parts[2].len()), (64, 96));
    drop(server);
    let theirs = std::fs::read_to_string(&theirs).expect("s_server's key log");
    assert!(
        theirs.lines().any(|l| l.eq_ignore_ascii_case(line)),
        "s_server logged:\n{theirs}\nwe logged:\n{log}"
    );
}

#[test]
fn unwritable_keylog_file_is_a_warning_and_the_transfer_goes_on() {
    let server = s_server(&certs().good, 0);
    let cfg = tempfile::tempdir().unwrap();
    // A file in a directory that does not exist cannot be created.
    let keylog = cfg.path().join("missing").join("keys.log");
    let url = format!("https://localhost:{}/", server.port);
    for (flag, env) in [(true, false), (false, true)] {
        let mut command = Command::new(CLIENT);
        command
            .args([&url, "--cacert", certs().ca.to_str().unwrap()])
            .args(["-o", "/dev/null"])
            .env("CLIENT_CONFIG_DIR", cfg.path())
            .env_remove("SSLKEYLOGFILE");
        if flag {
            command.arg("--keylog").arg(&keylog);
        }
        if env {
            command.env("SSLKEYLOGFILE", &keylog);
        }
        let out = output_within(&mut command, PROGRAM_LIMIT);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "--keylog: {flag}\n{stderr}");
        assert!(
            stderr.contains(&format!(
                "Warning: cannot open key log {}",
                keylog.display()
            )),
            "--keylog: {flag}\n{stderr}"
        );
    }
}

use std::process::Command;

/// A `cert_override.txt` line for `site` and the certificate in `pem`.
fn exception_line(site: &str, pem: &Path) -> String {
    let der = tls::pki::pem::parse_certificates(&std::fs::read(pem).unwrap()).unwrap();
    let cert = tls::pki::x509::Certificate::from_der(&der[0]).unwrap();
    let fp = tls::pki::x509::hex_colon(&cert.sha256_fingerprint(), true);
    format!("{site}:\tOID.2.16.840.1.101.3.4.2.1\t{fp}\t\n")
}

#[test]
fn exceptions_are_scoped_by_port() {
    let server = s_server(&certs().self_signed, 0);
    let cfg = tempfile::tempdir().unwrap();
    let file = cfg.path().join("cert_override.txt");
    let url = format!("https://localhost:{}/", server.port);
    // The same host and certificate, another port: not covered.
    let other = server.port.wrapping_add(1000).max(1);
    std::fs::write(
        &file,
        exception_line(&format!("localhost:{other}"), &certs().self_signed),
    )
    .unwrap();
    let out = client(cfg.path(), &[&url]);
    assert_eq!(out.status.code(), Some(60), "{}", text(&out.stderr));
    // This port: covered.
    std::fs::write(
        &file,
        exception_line(&format!("localhost:{}", server.port), &certs().self_signed),
    )
    .unwrap();
    let out = client(cfg.path(), &[&url]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("you accepted this certificate before"));
}

#[test]
fn an_exceptions_file_others_can_write_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let server = s_server(&certs().self_signed, 0);
    let cfg = tempfile::tempdir().unwrap();
    let file = cfg.path().join("cert_override.txt");
    let url = format!("https://localhost:{}/", server.port);
    std::fs::write(
        &file,
        exception_line(&format!("localhost:{}", server.port), &certs().self_signed),
    )
    .unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = client(cfg.path(), &[&url]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(60), "{stderr}");
    assert!(
        stderr.contains("client: warning: not using the certificate exceptions in"),
        "{stderr}"
    );
    assert!(
        stderr.contains("other users can write to it (mode 0666)"),
        "{stderr}"
    );
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(client(cfg.path(), &[&url]).status.code(), Some(0));
}
