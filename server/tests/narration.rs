//! `server -v` narrates each handshake from the server's side with the values the connection
//! really used: the client random and master secret of the key logs (the server's and curl's),
//! the certificate's fingerprint as `openssl x509` prints it, the suite of the access log, and
//! the RSA block its private key recovered.

mod common;

use common::*;
use std::process::Command;
use std::time::Duration;

/// The value after `label: ` on the first line that has it.
fn value<'a>(text: &'a str, label: &str) -> &'a str {
    let key = format!("{label}: ");
    text.lines()
        .find_map(|l| l.trim_start().strip_prefix(&key))
        .unwrap_or_else(|| panic!("no '{label}' in:\n{text}"))
}

#[test]
fn verbose_narrates_the_handshake_with_its_real_values() {
    let dir = temp_root();
    let server_keylog = dir.path().join("server-keys.log");
    let curl_keylog = dir.path().join("curl-keys.log");
    let s = Running::start(&[
        "-v",
        "--ciphers",
        "AES256-SHA256",
        "--keylog",
        &path_str(&server_keylog),
    ]);
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
    assert!(s.wait_for_log("close_notify", Duration::from_secs(10)));
    let log = s.stderr();

    let keylog = std::fs::read_to_string(&server_keylog).expect("server key log");
    let fields: Vec<&str> = keylog.lines().next().expect("a line").split(' ').collect();
    assert_eq!(value(&log, "client random"), fields[1]);
    assert_eq!(value(&log, "master secret"), fields[2]);
    // curl's own key log names the same connection (Debian's curl is built with OpenSSL,
    // which honours SSLKEYLOGFILE).
    let theirs = std::fs::read_to_string(&curl_keylog).unwrap_or_else(|e| {
        panic!("curl wrote no key log ({e}): install the Debian package curl (built with OpenSSL)")
    });
    assert!(
        theirs.contains(&format!("CLIENT_RANDOM {} {}", fields[1], fields[2])),
        "{theirs}"
    );

    let fingerprint = output_within(
        Command::new("openssl")
            .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
            .arg(shared_certs().join("localhost.pem")),
        Duration::from_secs(30),
        "openssl",
    );
    let fingerprint = String::from_utf8_lossy(&fingerprint.stdout);
    let fingerprint = fingerprint.trim().rsplit('=').next().unwrap_or_default();
    assert_eq!(value(&log, "SHA-256 fingerprint"), fingerprint);

    // The suite the access log reports is the one narrated.
    assert!(log.contains("cipher=AES256-SHA256"), "{log}");
    assert_eq!(
        value(&log, "cipher suite chosen"),
        "0x003D TLS_RSA_WITH_AES_256_CBC_SHA256"
    );
    // The server's key opened the RSA block: m = 00 02 … 00 || pre-master.
    assert!(value(
        &log,
        "m (padded, recovered here with the private key: c^d mod n)"
    )
    .starts_with("256 bytes: 00 02 "));
    assert_eq!(value(&log, "m ends with the pre-master secret"), "yes");
    assert!(log.contains("The first application record (client → server), taken apart"));
    assert!(log.contains("MAC recomputed: matches"));
    assert!(log.contains("|GET / HTTP/1.1..|"));
    // Every narration line of this connection is titled with the client's address.
    assert!(log.contains("] ClientHello (client → server"));
}

/// A default curl connection is ECDHE: `-v` shows both ephemeral public keys, the signature,
/// "forward secrecy: yes", and the shared secret only when the server was given --keylog.
#[test]
fn verbose_narrates_ecdhe_and_hides_the_shared_secret_without_keylog() {
    for keylog in [false, true] {
        let dir = temp_root();
        let server_keylog = dir.path().join("server-keys.log");
        let keylog_path = path_str(&server_keylog);
        let mut args = vec!["-v"];
        if keylog {
            args.extend(["--keylog", &keylog_path]);
        }
        let s = Running::start(&args);
        let out = output_within(
            Command::new("curl")
                .arg("--cacert")
                .arg(ca_path())
                .args(["-sS", "-o", "/dev/null", "--max-time", "30"])
                .arg(s.url("/")),
            Duration::from_secs(60),
            "curl",
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(s.wait_for_log("close_notify", Duration::from_secs(10)));
        let log = s.stderr();
        assert!(log.contains("cipher=ECDHE-RSA-AES128-GCM-SHA256"), "{log}");
        assert!(
            log.contains("] ServerKeyExchange (server → client"),
            "{log}"
        );
        assert_eq!(value(&log, "group"), "x25519");
        assert!(value(&log, "client's ephemeral public key").starts_with("32 bytes: "));
        assert_eq!(value(&log, "forward secrecy"), "yes");
        let secret = value(&log, "pre-master secret");
        if keylog {
            assert!(secret.starts_with("32 bytes: "), "{secret}");
        } else {
            assert!(secret.starts_with("(hidden"), "{secret}");
        }
    }
}
