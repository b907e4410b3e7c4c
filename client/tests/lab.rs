//! The lab pages (`/lab/`) fetched with our client: each contains the values it claims, checked
//! against an independent computation where one exists (OpenSSL for the certificate hashes and
//! the modulus, `openssl dgst` for SHA-256) and against each other otherwise (ECB's repeated
//! blocks equal, CBC's not; the flipped record refused).

mod common;
mod our_site;

use common::{client, output_within, text};
use std::process::Command;
use std::time::Duration;

/// Fetch `path` with our client, trusting the site's CA.
fn fetch(site: &our_site::Site, path: &str) -> String {
    fetch_with(site, path, &[])
}

/// [`fetch`] with more client arguments (e.g. `--ciphers`).
fn fetch_with(site: &our_site::Site, path: &str, extra: &[&str]) -> String {
    let config = tempfile::tempdir().unwrap();
    let ca = site.ca();
    let url = site.url(path);
    let mut args = vec!["--cacert", ca.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.push(&url);
    let out = client(config.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{path}: {}", text(&out.stderr));
    text(&out.stdout)
}

/// The text of the element with `id` (up to the next tag).
fn value<'a>(page: &'a str, id: &str) -> &'a str {
    let marker = format!("id=\"{id}\">");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no element {id}"))
        + marker.len();
    let rest = &page[start..];
    &rest[..rest.find('<').unwrap_or(rest.len())]
}

fn openssl(args: &[&str]) -> String {
    let out = output_within(Command::new("openssl").args(args), Duration::from_secs(30));
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// SHA-256 of a certificate's TBSCertificate, by OpenSSL: cut it out, hash it.
fn tbs_sha256(pem: &std::path::Path, dir: &std::path::Path) -> String {
    let tbs = dir.join("tbs.der");
    openssl(&[
        "asn1parse",
        "-in",
        pem.to_str().unwrap(),
        "-strparse",
        "4",
        "-noout",
        "-out",
        tbs.to_str().unwrap(),
    ]);
    let out = openssl(&["dgst", "-sha256", "-r", tbs.to_str().unwrap()]);
    out.split_whitespace().next().unwrap().to_string()
}

#[test]
fn each_lab_page_shows_the_values_it_claims() {
    let site = our_site::start(false);

    let index = fetch(&site, "/lab/");
    for path in [
        "/lab/shift-xor",
        "/lab/ecb-cbc",
        "/lab/rsa",
        "/lab/signature",
        "/lab/integrity",
        "/lab/handshake",
    ] {
        assert!(index.contains(&format!("href=\"{path}\"")), "{path}");
    }
    assert!(fetch(&site, "/").contains("href=\"/lab/ecb-cbc\""));

    // 1. The shift is undone by counting letters; reused XOR keys cancel.
    let page = fetch(
        &site,
        "/lab/shift-xor?k=7&text=THE+QUICK+BROWN+FOX+JUMPS+OVER+THE+LAZY+DOG+AND+THE+CAT+SLEEPS+IN+THE+SUN",
    );
    assert_eq!(value(&page, "guessed"), "7");
    assert!(page.contains("<code>AOL XBPJR"), "shifted by 7");
    assert_eq!(value(&page, "c1c2"), value(&page, "m1m2"));
    assert_eq!(value(&page, "xor-back"), value(&page, "xor-a"));

    // 2. ECB keeps equal blocks equal, CBC does not.
    let page = fetch(&site, "/lab/ecb-cbc");
    assert_eq!(value(&page, "ecb-0"), value(&page, "ecb-3"));
    assert_eq!(value(&page, "ecb-0"), value(&page, "ecb-6"));
    assert_ne!(value(&page, "cbc-0"), value(&page, "cbc-3"));
    assert_ne!(value(&page, "cbc-3"), value(&page, "cbc-6"));
    let distinct = |id| value(&page, id).parse::<usize>().unwrap();
    assert_eq!(distinct("ecb-distinct"), distinct("plain-distinct"));
    assert!(distinct("ecb-distinct") < 100, "flat picture");
    assert_eq!(distinct("cbc-distinct"), 192 * 120 * 3 / 16);
    assert_eq!(page.matches("src=\"data:image/png;base64,").count(), 3);

    // 3. RSA: the textbook numbers, and this server's real modulus and, over RSA key transport,
    // the visitor's own encrypted pre-master secret (over ECDHE there is none).
    let ecdhe = fetch(&site, "/lab/rsa");
    assert!(ecdhe.contains("ephemeral Diffie-Hellman"), "{ecdhe}");
    let page = fetch_with(&site, "/lab/rsa", &["--ciphers", "AES128-GCM-SHA256"]);
    assert_eq!(value(&page, "n"), "3233");
    assert!(value(&page, "d").starts_with("2753"));
    assert_eq!(value(&page, "c"), "2790");
    assert_eq!(value(&page, "m"), "65");
    let leaf = site.certs.path().join("localhost.pem");
    let modulus = openssl(&["x509", "-noout", "-modulus", "-in", leaf.to_str().unwrap()]);
    let modulus = modulus.trim().trim_start_matches("Modulus=").to_lowercase();
    assert_eq!(value(&page, "real-n"), modulus);
    assert_eq!(value(&page, "pms-len"), "256");

    // 4. Each opened signature holds the hash OpenSSL computes of the certificate body.
    let page = fetch(&site, "/lab/signature");
    let dir = tempfile::tempdir().unwrap();
    for (depth, pem) in [(0, leaf), (1, site.ca())] {
        let want = tbs_sha256(&pem, dir.path());
        assert_eq!(
            value(&page, &format!("signed-{depth}")),
            want,
            "depth {depth}"
        );
        assert_eq!(value(&page, &format!("computed-{depth}")), want);
        assert!(value(&page, &format!("digestinfo-{depth}"))
            .starts_with("3031300d060960864801650304020105000420"));
    }

    // 5. SHA-256 as OpenSSL computes it; the flipped record refused, the intact one opened.
    let page = fetch(&site, "/lab/integrity?text=Pay+Bob+100+euros&bit=300");
    let out = output_within(
        Command::new("sh").args(["-c", "printf 'Pay Bob 100 euros' | openssl dgst -sha256 -r"]),
        Duration::from_secs(30),
    );
    assert_eq!(
        value(&page, "sha-1"),
        text(&out.stdout).split_whitespace().next().unwrap()
    );
    assert_ne!(value(&page, "sha-1"), value(&page, "sha-2"));
    let bits: u32 = value(&page, "bits-differ").parse().unwrap();
    assert!((80..=176).contains(&bits), "{bits} bits differ");
    assert!(page.contains("id=\"intact\">delivered 17 bytes: <code>Pay Bob 100 euros</code>"));
    assert!(
        page.contains("id=\"tampered\">refused: <code>bad_record_mac</code> — 0 bytes delivered")
    );
    assert_ne!(value(&page, "record"), value(&page, "flipped"));

    // 6. The visitor's handshake, in order, with its values.
    let page = fetch(&site, "/lab/handshake");
    let hello = page.find("ClientHello (").expect("ClientHello");
    let kx = page.find("ClientKeyExchange (").expect("ClientKeyExchange");
    let fin = page.rfind("Finished (").expect("Finished");
    assert!(hello < kx && kx < fin);
    // Our client's default: ECDHE, so the page tells the Diffie-Hellman story.
    assert!(value(&page, "suite").starts_with("TLS_ECDHE_RSA_WITH_AES_"));
    assert!(page.contains("ephemeral Diffie-Hellman shares"), "{page}");
    assert_eq!(value(&page, "client-random").len(), 64);
    assert_eq!(page.matches("<li><b>").count(), 8);
}
