//! ca-tool end to end, checked against OpenSSL: what we make, openssl accepts; what openssl
//! makes, we verify; and each broken chain is refused with its own OpenSSL error code.
//! Tests that need the `openssl` command fail, naming the Debian package, when it is missing:
//! they are the only checks of our verdicts against another implementation.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;
use tempfile::TempDir;

const CA_TOOL: &str = env!("CARGO_BIN_EXE_ca-tool");

fn ca_tool(dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(CA_TOOL);
    command.current_dir(dir).args(args);
    run(command, "ca-tool (built by cargo)")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Run to completion, failing the test when the program cannot start (naming what provides
/// it) or does not finish within two minutes (key generation included).
fn run(mut command: Command, provided_by: &str) -> Output {
    let program = command.get_program().to_string_lossy().into_owned();
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program} ({e}): install {provided_by}"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    rx.recv_timeout(Duration::from_secs(120))
        .unwrap_or_else(|_| panic!("{program} did not finish within 120 s"))
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

fn openssl(dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new("openssl");
    command.current_dir(dir).args(args);
    run(command, "the Debian package `openssl`")
}

fn openssl_ok(dir: &Path, args: &[&str]) {
    let out = openssl(dir, args);
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        text(&out.stderr)
    );
}

/// `(exit code, "error N at D")` of `ca-tool verify`.
fn verify(dir: &Path, args: &[&str]) -> (i32, String) {
    let mut all = vec!["verify"];
    all.extend_from_slice(args);
    let out = ca_tool(dir, &all);
    let stderr = text(&out.stderr);
    let reason = stderr
        .lines()
        .find(|l| l.starts_with("error ") && l.contains("depth lookup"))
        .map(|l| l.split(" depth lookup").next().unwrap_or("").to_string())
        .unwrap_or_default();
    (out.status.code().unwrap_or(-1), reason)
}

/// The same question put to `openssl verify`.
fn openssl_verify(dir: &Path, args: &[&str]) -> String {
    let out = openssl(dir, &[&["verify"], args].concat());
    let all = text(&out.stdout) + &text(&out.stderr);
    if out.status.success() {
        return "OK".into();
    }
    all.lines()
        .find(|l| l.starts_with("error ") && l.contains("depth lookup"))
        .map(|l| l.split(" depth lookup").next().unwrap_or("").to_string())
        .unwrap_or(all)
}

/// A ca-tool root and intermediate (pathLen 0), made once per test binary.
fn ca_dir() -> &'static Path {
    static DIR: OnceLock<TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = TempDir::new().unwrap();
        let out = ca_tool(dir.path(), &["init"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let out = ca_tool(dir.path(), &["intermediate", "inter", "--ca", "certs/ca"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        dir
    })
    .path()
}

/// A fresh directory with the shared CA files copied in.
fn work_dir() -> TempDir {
    let dir = TempDir::new().unwrap();
    std::fs::create_dir(dir.path().join("certs")).unwrap();
    for f in ["ca.pem", "ca-key.pem", "inter.pem", "inter-key.pem"] {
        std::fs::copy(
            ca_dir().join("certs").join(f),
            dir.path().join("certs").join(f),
        )
        .unwrap();
    }
    dir
}

#[test]
fn chain_made_by_ca_tool_passes_openssl() {
    let dir = work_dir();
    let d = dir.path();
    let out = ca_tool(
        d,
        &[
            "issue",
            "localhost",
            "127.0.0.1",
            "::1",
            "--ca",
            "certs/inter",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("certs/localhost.pem") && stdout.contains("SHA-256:"),
        "{stdout}"
    );

    // The leaf file holds the leaf then the intermediate, not the root.
    let pem = std::fs::read(d.join("certs/localhost.pem")).unwrap();
    assert_eq!(tls::pki::pem::parse_certificates(&pem).unwrap().len(), 2);

    let (code, reason) = verify(
        d,
        &[
            "certs/localhost.pem",
            "--ca",
            "certs/ca.pem",
            "--host",
            "localhost",
        ],
    );
    assert_eq!((code, reason.as_str()), (0, ""));
    let ok = ca_tool(
        d,
        &["verify", "certs/localhost.pem", "--ca", "certs/ca.pem"],
    );
    let shown = text(&ok.stdout);
    assert!(
        shown.starts_with("certs/localhost.pem: OK\nChain:\ndepth=0: CN = localhost"),
        "{shown}"
    );
    assert!(shown.contains("depth=2: CN = ca-tool Root CA"), "{shown}");

    assert_eq!(
        openssl_verify(
            d,
            &[
                "-CAfile",
                "certs/ca.pem",
                "-untrusted",
                "certs/inter.pem",
                "certs/localhost.pem"
            ]
        ),
        "OK"
    );
    assert_eq!(
        openssl_verify(
            d,
            &[
                "-CAfile",
                "certs/ca.pem",
                "-untrusted",
                "certs/inter.pem",
                "-verify_hostname",
                "localhost",
                "-verify_ip",
                "127.0.0.1",
                "-purpose",
                "sslserver",
                "certs/localhost.pem"
            ]
        ),
        "OK"
    );
    for cert in ["certs/ca.pem", "certs/inter.pem", "certs/localhost.pem"] {
        let out = openssl(d, &["x509", "-noout", "-text", "-in", cert]);
        assert!(out.status.success(), "{cert}: {}", text(&out.stderr));
        let t = text(&out.stdout);
        assert!(t.contains("Version: 3 (0x2)") && t.contains("sha256WithRSAEncryption"));
    }
    let leaf_text = text(
        &openssl(
            d,
            &["x509", "-noout", "-text", "-in", "certs/localhost.pem"],
        )
        .stdout,
    );
    assert!(leaf_text.contains("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"));
    assert!(leaf_text.contains("TLS Web Server Authentication"));
    assert!(leaf_text.contains("Digital Signature, Key Encipherment"));
    let ca_text = text(&openssl(d, &["x509", "-noout", "-text", "-in", "certs/inter.pem"]).stdout);
    assert!(
        ca_text.contains("CA:TRUE, pathlen:0") && ca_text.contains("Certificate Sign, CRL Sign")
    );
    for key in [
        "certs/ca-key.pem",
        "certs/inter-key.pem",
        "certs/localhost-key.pem",
    ] {
        openssl_ok(d, &["pkey", "-check", "-noout", "-in", key]);
    }
    // Our SHA-256 fingerprint is openssl's.
    let fp = text(
        &openssl(
            d,
            &[
                "x509",
                "-noout",
                "-fingerprint",
                "-sha256",
                "-in",
                "certs/localhost.pem",
            ],
        )
        .stdout,
    );
    let fp = fp.trim().split('=').nth(1).unwrap().to_string();
    assert!(stdout.contains(&fp), "{fp} not in {stdout}");
}

#[test]
fn chain_made_by_openssl_is_accepted_and_each_defect_has_its_reason() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let ca_ext = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n";
    let ca0_ext =
        "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n";
    let not_ca_ext = "basicConstraints=CA:FALSE\n";
    let leaf_ext = "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n";
    for (name, body) in [
        ("ca.ext", ca_ext),
        ("ca0.ext", ca0_ext),
        ("notca.ext", not_ca_ext),
        ("leaf.ext", leaf_ext),
    ] {
        std::fs::write(d.join(name), body).unwrap();
    }
    openssl_ok(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "root.key",
            "-out",
            "root.pem",
            "-days",
            "30",
            "-subj",
            "/CN=OpenSSL Root",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    // issue(name, issuer, ext): key + CSR + certificate signed by `issuer`.
    let issue = |name: &str, cn: &str, issuer: &str, ext: &str| {
        openssl_ok(
            d,
            &[
                "req",
                "-new",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/CN={cn}"),
            ],
        );
        openssl_ok(
            d,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                &format!("{issuer}.pem"),
                "-CAkey",
                &format!("{issuer}.key"),
                "-CAcreateserial",
                "-days",
                "10",
                "-extfile",
                ext,
                "-out",
                &format!("{name}.pem"),
            ],
        );
    };
    issue("leaf", "localhost", "root", "leaf.ext");
    issue("notca", "Not A CA", "root", "notca.ext");
    issue("leaf_notca", "localhost", "notca", "leaf.ext");
    issue("int0", "Int pathlen 0", "root", "ca0.ext");
    issue("int1", "Int below", "int0", "ca.ext");
    issue("leaf_long", "localhost", "int1", "leaf.ext");
    let cat = |out: &str, parts: &[&str]| {
        let all: Vec<u8> = parts
            .iter()
            .flat_map(|p| std::fs::read(d.join(p)).unwrap())
            .collect();
        std::fs::write(d.join(out), all).unwrap();
    };
    cat("long_chain.pem", &["int1.pem", "int0.pem"]);

    // Accepted, with and without a host.
    assert_eq!(verify(d, &["leaf.pem", "--ca", "root.pem"]).0, 0);
    assert_eq!(
        verify(d, &["leaf.pem", "--ca", "root.pem", "--host", "127.0.0.1"]).0,
        0
    );

    // An issuer without CA:TRUE: 79 at depth 1, as openssl says.
    let ours = verify(
        d,
        &[
            "leaf_notca.pem",
            "--ca",
            "root.pem",
            "--untrusted",
            "notca.pem",
        ],
    );
    assert_eq!(ours, (1, "error 79 at 1".to_string()));
    assert_eq!(
        openssl_verify(
            d,
            &[
                "-CAfile",
                "root.pem",
                "-untrusted",
                "notca.pem",
                "leaf_notca.pem"
            ]
        ),
        ours.1
    );

    // pathlen:0 with two intermediates below the root: 25 at depth 2.
    let ours = verify(
        d,
        &[
            "leaf_long.pem",
            "--ca",
            "root.pem",
            "--untrusted",
            "long_chain.pem",
        ],
    );
    assert_eq!(ours, (1, "error 25 at 2".to_string()));
    assert_eq!(
        openssl_verify(
            d,
            &[
                "-CAfile",
                "root.pem",
                "-untrusted",
                "long_chain.pem",
                "leaf_long.pem"
            ]
        ),
        ours.1
    );

    // Unknown issuer: the openssl leaf against the ca-tool root.
    let ca = ca_dir().join("certs/ca.pem");
    let ca = ca.to_str().unwrap();
    let ours = verify(d, &["leaf.pem", "--ca", ca]);
    assert_eq!(ours, (1, "error 20 at 0".to_string()));
    assert_eq!(openssl_verify(d, &["-CAfile", ca, "leaf.pem"]), ours.1);

    // Wrong host: 62 at 0.
    let ours = verify(
        d,
        &["leaf.pem", "--ca", "root.pem", "--host", "example.com"],
    );
    assert_eq!(ours, (1, "error 62 at 0".to_string()));
    assert_eq!(
        openssl_verify(
            d,
            &[
                "-CAfile",
                "root.pem",
                "-verify_hostname",
                "example.com",
                "leaf.pem"
            ]
        ),
        ours.1
    );

    // Altered signature bytes: 7 at 0.
    let pem = std::fs::read(d.join("leaf.pem")).unwrap();
    let mut der = tls::pki::pem::parse_certificates(&pem).unwrap().remove(0);
    let last = der.len() - 1;
    der[last] ^= 0x5a;
    std::fs::write(
        d.join("tampered.pem"),
        tls::pki::pem::encode_certificate(&der),
    )
    .unwrap();
    let ours = verify(d, &["tampered.pem", "--ca", "root.pem"]);
    assert_eq!(ours, (1, "error 7 at 0".to_string()));
    assert_eq!(
        openssl_verify(d, &["-CAfile", "root.pem", "tampered.pem"]),
        ours.1
    );

    // SHA-1 signatures are refused by name, even from a trusted CA.
    openssl_ok(
        d,
        &[
            "x509",
            "-req",
            "-sha1",
            "-in",
            "leaf.csr",
            "-CA",
            "root.pem",
            "-CAkey",
            "root.key",
            "-CAcreateserial",
            "-days",
            "10",
            "-extfile",
            "leaf.ext",
            "-out",
            "leaf_sha1.pem",
        ],
    );
    let out = ca_tool(d, &["verify", "leaf_sha1.pem", "--ca", "root.pem"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("error 68 at 0 depth lookup: unsupported algorithm: sha1WithRSAEncryption"),
        "{}",
        text(&out.stderr)
    );

    // An ECDSA root loads as a trust anchor, but what it signs cannot be checked by RSA code.
    openssl_ok(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ecroot.key",
            "-out",
            "ecroot.pem",
            "-days",
            "30",
            "-subj",
            "/CN=EC Root",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
    );
    issue("leaf_ec", "localhost", "ecroot", "leaf.ext");
    let out = ca_tool(d, &["verify", "leaf_ec.pem", "--ca", "ecroot.pem"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("error 68 at 0 depth lookup: unsupported algorithm"),
        "{}",
        text(&out.stderr)
    );
    let inspected = text(&ca_tool(d, &["inspect", "ecroot.pem"]).stdout);
    assert!(
        inspected.contains("id-ecPublicKey (256 bit)"),
        "{inspected}"
    );

    // Time travel with --at: after the leaf's 10 days, and before the root existed.
    let in_a_year = (time_now() + 365 * 86_400).to_string();
    let ours = verify(d, &["leaf.pem", "--ca", "root.pem", "--at", &in_a_year]);
    assert_eq!(
        ours,
        (1, "error 10 at 1".to_string()),
        "the root (30 days) is checked first"
    );
    assert_eq!(
        openssl_verify(
            d,
            &["-CAfile", "root.pem", "-attime", &in_a_year, "leaf.pem"]
        ),
        ours.1
    );
    let ours = verify(
        d,
        &[
            "leaf.pem",
            "--ca",
            "root.pem",
            "--at",
            "2001-01-01T00:00:00Z",
        ],
    );
    assert_eq!(ours, (1, "error 9 at 1".to_string()));
}

#[test]
fn dates_and_self_signed_from_our_builder() {
    let dir = work_dir();
    let d = dir.path();
    let run = |args: &[&str]| {
        let out = ca_tool(d, args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stderr)
    };
    let warn = run(&[
        "issue",
        "old.test",
        "--ca",
        "certs/inter",
        "--not-before",
        "2020-01-01T00:00:00Z",
        "--not-after",
        "2020-02-01T00:00:00Z",
    ]);
    assert!(warn.contains("already expired"), "{warn}");
    run(&[
        "issue",
        "future.test",
        "--ca",
        "certs/inter",
        "--not-before",
        "2090-01-01",
        "--days",
        "30",
    ]);
    run(&["self-signed", "localhost", "127.0.0.1"]);
    run(&["issue", "*.wild.test", "--ca", "certs/inter"]);

    assert_eq!(
        verify(d, &["certs/old.test.pem", "--ca", "certs/ca.pem"]),
        (1, "error 10 at 0".into())
    );
    assert_eq!(
        verify(d, &["certs/future.test.pem", "--ca", "certs/ca.pem"]),
        (1, "error 9 at 0".into())
    );
    // The expired one was fine back then.
    assert_eq!(
        verify(
            d,
            &[
                "certs/old.test.pem",
                "--ca",
                "certs/ca.pem",
                "--at",
                "1580000000"
            ]
        )
        .0,
        1,
        "the CA did not exist yet"
    );
    assert_eq!(
        verify(d, &["certs/localhost.pem", "--ca", "certs/ca.pem"]),
        (1, "error 18 at 0".into())
    );
    // Trusting the self-signed certificate itself works.
    assert_eq!(
        verify(
            d,
            &[
                "certs/localhost.pem",
                "--ca",
                "certs/localhost.pem",
                "--host",
                "127.0.0.1"
            ]
        )
        .0,
        0
    );
    // Wildcards: one label only.
    assert_eq!(
        verify(
            d,
            &[
                "certs/_wildcard.wild.test.pem",
                "--ca",
                "certs/ca.pem",
                "--host",
                "a.wild.test"
            ]
        )
        .0,
        0
    );
    assert_eq!(
        verify(
            d,
            &[
                "certs/_wildcard.wild.test.pem",
                "--ca",
                "certs/ca.pem",
                "--host",
                "a.b.wild.test"
            ]
        ),
        (1, "error 62 at 0".into())
    );

    for (file, code) in [
        ("certs/old.test.pem", "error 10 at 0"),
        ("certs/future.test.pem", "error 9 at 0"),
        ("certs/localhost.pem", "error 18 at 0"),
    ] {
        assert_eq!(
            openssl_verify(
                d,
                &[
                    "-CAfile",
                    "certs/ca.pem",
                    "-untrusted",
                    "certs/inter.pem",
                    file
                ]
            ),
            code,
            "{file}"
        );
    }
}

#[test]
fn inspect_shows_the_facts() {
    let dir = work_dir();
    let d = dir.path();
    let out = ca_tool(d, &["inspect", "certs/inter.pem"]);
    assert!(out.status.success());
    let t = text(&out.stdout);
    for needle in [
        "Certificate 1 of 1",
        "Kind:        intermediate CA",
        "Issuer:      CN = ca-tool Root CA",
        "Subject:     CN = inter",
        "rsaEncryption (2048 bit)",
        "expires in 18",
        "CA:TRUE, pathlen:0",
        "X509v3 Key Usage: critical",
        "SHA-256 Fingerprint: ",
    ] {
        assert!(t.contains(needle), "{needle} missing in\n{t}");
    }
}

#[test]
fn refuses_to_overwrite_a_key_without_force() {
    let dir = work_dir();
    let d = dir.path();
    let key_before = std::fs::read(d.join("certs/ca-key.pem")).unwrap();
    let out = ca_tool(d, &["init"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("already exists (use --force"));
    assert_eq!(
        std::fs::read(d.join("certs/ca-key.pem")).unwrap(),
        key_before
    );
    let out = ca_tool(d, &["init", "--force", "--out", "certs/ca"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_ne!(
        std::fs::read(d.join("certs/ca-key.pem")).unwrap(),
        key_before
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d.join("certs/ca-key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn issue_intermediate_and_self_signed_refuse_to_overwrite() {
    let dir = work_dir();
    let d = dir.path();
    let commands: [(&[&str], &str); 3] = [
        (&["issue", "www.test", "--ca", "certs/ca"], "certs/www.test"),
        (
            &[
                "intermediate",
                "Second CA",
                "--ca",
                "certs/ca",
                "--out",
                "certs/second",
            ],
            "certs/second",
        ),
        (&["self-signed", "self.test"], "certs/self.test"),
    ];
    for (args, prefix) in commands {
        let (cert, key) = (
            d.join(format!("{prefix}.pem")),
            d.join(format!("{prefix}-key.pem")),
        );
        let out = ca_tool(d, args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        let (cert_before, key_before) =
            (std::fs::read(&cert).unwrap(), std::fs::read(&key).unwrap());

        // Again: refused, naming the file, and both files stay as they were.
        let out = ca_tool(d, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            text(&out.stderr).contains("already exists (use --force"),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(std::fs::read(&cert).unwrap(), cert_before, "{args:?}");
        assert_eq!(std::fs::read(&key).unwrap(), key_before, "{args:?}");

        // A certificate whose key was moved away is not replaced either.
        std::fs::remove_file(&key).unwrap();
        let out = ca_tool(d, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(std::fs::read(&cert).unwrap(), cert_before, "{args:?}");
        assert!(!key.exists(), "{args:?}");

        // With --force both are replaced.
        let forced = [args, &["--force"]].concat();
        let out = ca_tool(d, &forced);
        assert!(out.status.success(), "{forced:?}: {}", text(&out.stderr));
        assert_ne!(std::fs::read(&cert).unwrap(), cert_before, "{args:?}");
        assert!(key.exists(), "{args:?}");
    }
}

#[test]
fn forged_anchor_copy_and_weak_keys_get_openssls_verdicts() {
    let dir = work_dir();
    let d = dir.path();
    // A copy of our root's name, key and key id, for "localhost", signed by someone else.
    openssl_ok(
        d,
        &[
            "x509",
            "-in",
            "certs/ca.pem",
            "-noout",
            "-pubkey",
            "-out",
            "root-pub.pem",
        ],
    );
    openssl_ok(d, &["genrsa", "-out", "attacker.key", "2048"]);
    std::fs::write(
        d.join("forge.ext"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost\n\
         subjectKeyIdentifier=hash\nauthorityKeyIdentifier=none\n",
    )
    .unwrap();
    openssl_ok(
        d,
        &[
            "x509",
            "-new",
            "-subj",
            "/CN=ca-tool Root CA/O=ca-tool development CA",
            "-force_pubkey",
            "root-pub.pem",
            "-key",
            "attacker.key",
            "-extfile",
            "forge.ext",
            "-days",
            "30",
            "-out",
            "forged.pem",
        ],
    );
    let first_cert = |file: &str| {
        let pem = std::fs::read(d.join(file)).unwrap();
        let der = tls::pki::pem::parse_certificates(&pem).unwrap().remove(0);
        tls::pki::x509::Certificate::from_der(&der).unwrap()
    };
    let (forged, root) = (first_cert("forged.pem"), first_cert("certs/ca.pem"));
    assert_eq!(forged.subject(), root.subject());
    assert_eq!(forged.spki_der(), root.spki_der());
    assert_eq!(
        verify(
            d,
            &["forged.pem", "--ca", "certs/ca.pem", "--host", "localhost"]
        ),
        (1, "error 18 at 0".into())
    );
    assert_eq!(
        openssl_verify(d, &["-CAfile", "certs/ca.pem", "forged.pem"]),
        "error 18 at 0"
    );

    // 1024-bit keys: OpenSSL refuses them from security level 2 (-auth_level 2).
    std::fs::write(
        d.join("leaf.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost\n",
    )
    .unwrap();
    let leaf = |bits: &str, ca: &str, ca_key: &str, out: &str| {
        let newkey = format!("rsa:{bits}");
        let key = format!("{out}.key");
        openssl_ok(
            d,
            &[
                "req",
                "-new",
                "-newkey",
                &newkey,
                "-nodes",
                "-keyout",
                &key,
                "-subj",
                "/CN=localhost",
                "-out",
                "leaf.csr",
            ],
        );
        openssl_ok(
            d,
            &[
                "x509", "-req", "-in", "leaf.csr", "-CA", ca, "-CAkey", ca_key, "-days", "10",
                "-extfile", "leaf.ext", "-out", out,
            ],
        );
    };
    leaf("1024", "certs/ca.pem", "certs/ca-key.pem", "weak-leaf.pem");
    openssl_ok(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:1024",
            "-nodes",
            "-keyout",
            "weak-ca.key",
            "-out",
            "weak-ca.pem",
            "-days",
            "10",
            "-subj",
            "/CN=Weak CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    leaf("2048", "weak-ca.pem", "weak-ca.key", "under-weak-ca.pem");
    for (file, ca, expected) in [
        ("weak-leaf.pem", "certs/ca.pem", "error 66 at 0"),
        ("under-weak-ca.pem", "weak-ca.pem", "error 67 at 1"),
    ] {
        let ours = verify(d, &[file, "--ca", ca]);
        let theirs = openssl_verify(d, &["-auth_level", "2", "-CAfile", ca, file]);
        assert_eq!(ours, (1, expected.to_string()), "{file}");
        assert_eq!(theirs, expected, "{file}");
    }
    let out = ca_tool(d, &["verify", "weak-leaf.pem", "--ca", "certs/ca.pem"]);
    assert!(
        text(&out.stderr).contains("EE certificate key too weak (RSA 1024 bits"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn usage_errors_and_hostile_files_exit_2_without_panic() {
    let dir = work_dir();
    let d = dir.path();
    let garbage: &[(&str, Vec<u8>)] = &[
        ("garbage.pem", b"hello, this is not PEM".to_vec()),
        (
            "badb64.pem",
            b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n".to_vec(),
        ),
        (
            "truncated.pem",
            tls::pki::pem::encode_certificate(&[0x30, 0x82, 0x05, 0x00, 0x30]).into_bytes(),
        ),
        (
            "overlong.der",
            vec![0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02, 0x01, 0x01],
        ),
        (
            "huge.pem",
            tls::pki::pem::encode_certificate(&[0x30; 1 << 20]).into_bytes(),
        ),
    ];
    for (name, bytes) in garbage {
        std::fs::write(d.join(name), bytes).unwrap();
        for args in [
            vec!["inspect", *name],
            vec!["verify", *name, "--ca", "certs/ca.pem"],
            vec!["verify", "certs/inter.pem", "--ca", *name],
        ] {
            let out = ca_tool(d, &args);
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(
                stderr.starts_with("ca-tool: ") && !stderr.contains("panicked"),
                "{stderr}"
            );
        }
    }
    let missing = ca_tool(d, &["inspect", "nope.pem"]);
    assert_eq!(missing.status.code(), Some(2));
    for args in [
        vec!["frobnicate"],
        vec!["issue"],
        vec!["issue", "x.test"],
        vec!["init", "--bits", "1024"],
        vec!["verify", "a.pem", "--ca", "b.pem", "--at", "tomorrow"],
    ] {
        let out = ca_tool(d, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = text(&out.stderr);
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{args:?}: one line, got {stderr}"
        );
    }
    let bad_name = ca_tool(d, &["self-signed", "not a host"]);
    assert_eq!(bad_name.status.code(), Some(2));
    assert!(ca_tool(d, &["--help"]).status.success());
}

fn time_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Rules stricter than OpenSSL, on chains `openssl x509` made: a reason OpenSSL has no code
/// for is printed as `error at D depth: …` (no made-up number) while `openssl verify
/// -x509_strict` accepts; nameConstraints give OpenSSL's code (47) like OpenSSL.
#[test]
fn web_pki_rules_on_openssl_made_chains() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let exts = [
        ("ca.ext", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"),
        ("nc.ext", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\nnameConstraints=critical,permitted;DNS:good.test\n"),
        ("underscore.ext", "subjectAltName=DNS:a_b.test\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nauthorityKeyIdentifier=keyid\n"),
        ("local.ext", "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nauthorityKeyIdentifier=keyid\n"),
    ];
    for (name, body) in exts {
        std::fs::write(d.join(name), body).unwrap();
    }
    openssl_ok(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "root.key",
            "-out",
            "root.pem",
            "-days",
            "30",
            "-subj",
            "/CN=OpenSSL Root",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    let issue = |name: &str, cn: &str, issuer: &str, ext: &str| {
        openssl_ok(
            d,
            &[
                "req",
                "-new",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/CN={cn}"),
            ],
        );
        openssl_ok(
            d,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                &format!("{issuer}.pem"),
                "-CAkey",
                &format!("{issuer}.key"),
                "-CAcreateserial",
                "-days",
                "10",
                "-extfile",
                ext,
                "-out",
                &format!("{name}.pem"),
            ],
        );
    };
    issue("underscore", "a_b.test", "root", "underscore.ext");
    issue("good", "localhost", "root", "local.ext");
    issue("nc", "Constrained CA", "root", "nc.ext");
    issue("outside", "localhost", "nc", "local.ext");

    // The compliant leaf: both accept.
    assert_eq!(verify(d, &["good.pem", "--ca", "root.pem"]).0, 0);
    assert_eq!(
        openssl_verify(d, &["-x509_strict", "-CAfile", "root.pem", "good.pem"]),
        "OK"
    );

    // An underscore in a dNSName: OpenSSL accepts, we refuse with our own words.
    let out = ca_tool(d, &["verify", "underscore.pem", "--ca", "root.pem"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "error at 0 depth: subjectAltName dNSName 'a_b.test' is not in preferred name syntax"
        ),
        "{stderr}"
    );
    assert_eq!(
        openssl_verify(
            d,
            &["-x509_strict", "-CAfile", "root.pem", "underscore.pem"]
        ),
        "OK"
    );

    // nameConstraints permitted DNS:good.test, leaf localhost: 47 at 0 from both.
    let ours = verify(
        d,
        &["outside.pem", "--ca", "root.pem", "--untrusted", "nc.pem"],
    );
    assert_eq!(ours, (1, "error 47 at 0".to_string()));
    assert_eq!(
        openssl_verify(
            d,
            &[
                "-x509_strict",
                "-CAfile",
                "root.pem",
                "-untrusted",
                "nc.pem",
                "outside.pem"
            ]
        ),
        ours.1
    );
}
