//! The gallery of broken certificates, checked with the programs whose verdicts its pages
//! quote: for each listener curl exits 60 with its reason and `openssl s_client
//! -verify_return_error` fails with the verify code; the incomplete chain verifies once the
//! intermediate is given; the changing certificate really changes; `/gallery.json`, the banner
//! and the front page list every listener. Our own client's verdicts: client/tests/gallery.rs.

mod common;

use common::{output_within, Running};
use server::gallery::Kind;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// A certs dir with the fixture CA, the localhost certificate and the gallery's CA key, made
/// once; each server gets a copy (its gallery files are its own, no key generation).
fn fresh_certs() -> tempfile::TempDir {
    static TEMPLATE: OnceLock<tempfile::TempDir> = OnceLock::new();
    let template = TEMPLATE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = tls::testing::pki();
        std::fs::copy(pki.ca(), dir.path().join("ca.pem")).expect("copy CA");
        std::fs::copy(pki.ca_key(), dir.path().join("ca-key.pem")).expect("copy CA key");
        let identity = server::certs::local(dir.path(), &mut |_| {}).expect("local CA");
        server::gallery::make(
            dir.path(),
            &tls::config::Common::default(),
            &identity.key,
            &mut |_| {},
        )
        .expect("gallery");
        dir
    });
    let copy = tempfile::tempdir().expect("tempdir");
    copy_dir(template.path(), copy.path());
    copy
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// (kind, port) from the banner's gallery lines.
fn gallery_ports(banner: &str) -> Vec<(String, u16)> {
    banner
        .lines()
        .skip_while(|l| !l.starts_with("Gallery of broken certificates"))
        .skip(1)
        .map_while(|l| {
            let mut parts = l.split_whitespace();
            let kind = parts.next()?;
            let url = parts.next()?.strip_prefix("https://localhost:")?;
            let port = url.trim_end_matches('/').parse().ok()?;
            Some((kind.to_string(), port))
        })
        .collect()
}

fn start(certs: &Path) -> (Running, Vec<(String, u16)>) {
    let dir = certs.to_string_lossy().into_owned();
    let server = Running::start(&["--certs-dir", &dir]);
    let ports = gallery_ports(&server.banner);
    assert_eq!(ports.len(), Kind::ALL.len(), "banner:\n{}", server.banner);
    (server, ports)
}

fn kind_named(name: &str) -> Kind {
    Kind::ALL
        .into_iter()
        .find(|k| k.name() == name)
        .unwrap_or_else(|| panic!("unknown kind {name}"))
}

fn curl(ca: &Path, extra: &[&str], url: &str) -> std::process::Output {
    output_within(
        Command::new("curl")
            .arg("--cacert")
            .arg(ca)
            .args(["-sS", "--max-time", "20", "-o", "/dev/null"])
            .args(extra)
            .arg(url)
            .env_remove("SSLKEYLOGFILE"),
        Duration::from_secs(30),
        "curl",
    )
}

fn s_client(ca: &Path, port: u16) -> std::process::Output {
    output_within(
        Command::new("openssl")
            .args(["s_client", "-connect"])
            .arg(format!("127.0.0.1:{port}"))
            .args([
                "-servername",
                "localhost",
                "-verify_hostname",
                "localhost",
                "-verify_return_error",
                "-CAfile",
            ])
            .arg(ca),
        Duration::from_secs(30),
        "openssl",
    )
}

#[test]
fn every_gallery_certificate_fails_curl_and_openssl_as_its_page_says() {
    let certs = fresh_certs();
    let (server, ports) = start(certs.path());
    let ca = certs.path().join("ca.pem");
    for (name, port) in &ports {
        let kind = kind_named(name);
        let url = format!("https://localhost:{port}/");
        let out = curl(&ca, &[], &url);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(60), "{name}: curl said {err}");
        assert!(err.contains(kind.curl()), "{name}: curl said {err}");

        let out = s_client(&ca, *port);
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        let (code, reason) = kind.openssl();
        assert!(!out.status.success(), "{name}: openssl succeeded:\n{text}");
        assert!(
            text.contains(&format!("verify error:num={code}:{reason}")),
            "{name}: openssl said\n{text}"
        );

        // With -k the page comes, and it names the codes it claims.
        let page = output_within(
            Command::new("curl").args(["-sSk", "--max-time", "20", &url]),
            Duration::from_secs(30),
            "curl",
        );
        let page = String::from_utf8_lossy(&page.stdout);
        let (chromium, firefox) = kind.browser_codes();
        for needle in [chromium, firefox, &format!("verify error {code}")] {
            assert!(page.contains(needle), "{name}: page lacks {needle}");
        }
    }
    drop(server);
}

#[test]
fn the_incomplete_chain_verifies_once_the_intermediate_is_given() {
    let certs = fresh_certs();
    let (_server, ports) = start(certs.path());
    let port = ports
        .iter()
        .find(|(k, _)| k == "incomplete-chain")
        .map(|(_, p)| *p)
        .expect("incomplete-chain listener");
    let url = format!("https://localhost:{port}/");
    let ca = certs.path().join("ca.pem");
    assert_eq!(curl(&ca, &[], &url).status.code(), Some(60));
    // The bundle: the trusted root, then the intermediate the server left out.
    let bundle: PathBuf = certs.path().join("bundle.pem");
    let mut text = std::fs::read_to_string(&ca).expect("ca");
    text += &std::fs::read_to_string(certs.path().join("gallery/intermediate.pem"))
        .expect("intermediate written by the server");
    std::fs::write(&bundle, text).expect("bundle");
    let out = curl(&bundle, &[], &url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = s_client(&bundle, port);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Verify return code: 0 (ok)"), "{text}");
}

#[test]
fn the_changing_certificate_changes_on_switch() {
    let certs = fresh_certs();
    let (_server, ports) = start(certs.path());
    let port = ports
        .iter()
        .find(|(k, _)| k == "certificate-changed")
        .map(|(_, p)| *p)
        .expect("certificate-changed listener");
    let subject = || {
        // Without -verify_return_error: we want the certificate, not the verdict.
        let out = output_within(
            Command::new("openssl")
                .args(["s_client", "-servername", "localhost", "-connect"])
                .arg(format!("127.0.0.1:{port}")),
            Duration::from_secs(30),
            "openssl",
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines()
            .find(|l| l.starts_with("subject="))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no subject line:\n{text}"))
    };
    let first = subject();
    assert!(first.contains("localhost (first)"), "{first}");
    let url = format!("https://localhost:{port}/switch");
    let out = output_within(
        Command::new("curl").args([
            "-sSk",
            "--max-time",
            "20",
            "-X",
            "POST",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &url,
        ]),
        Duration::from_secs(30),
        "curl",
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "303");
    let second = subject();
    assert!(second.contains("localhost (second)"), "{second}");
}

#[test]
fn gallery_json_the_banner_and_the_front_page_list_every_listener() {
    let certs = fresh_certs();
    let (server, ports) = start(certs.path());
    let ca = certs.path().join("ca.pem");
    let get = |path: &str| {
        let out = output_within(
            Command::new("curl")
                .arg("--cacert")
                .arg(&ca)
                .args(["-sS", "--max-time", "20"])
                .arg(server.url(path)),
            Duration::from_secs(30),
            "curl",
        );
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let json = get("/gallery.json");
    let front = get("/");
    for (kind, port) in &ports {
        let url = format!("https://localhost:{port}/");
        assert!(
            json.contains(&format!("{{\"kind\": \"{kind}\", \"url\": \"{url}\"}}")),
            "{json}"
        );
        assert!(
            front.contains(&format!("href=\"{url}\"")),
            "front page lacks {url}"
        );
    }
    // The files are in the certs directory.
    assert!(certs.path().join("gallery/expired.pem").exists());
    // --no-gallery opens no extra listener.
    let dir = certs.path().to_string_lossy().into_owned();
    let plain = Running::start(&["--certs-dir", &dir, "--no-gallery"]);
    assert!(gallery_ports(&plain.banner).is_empty(), "{}", plain.banner);
}
