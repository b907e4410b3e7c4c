//! Interoperability with the `openssl` command line (OpenSSL 3): PKCS#1 v1.5 encryption and
//! signatures both ways, `openssl pkey -check` on our generated key, and the key files OpenSSL
//! writes (PKCS#8 from `genpkey`, PKCS#1 from `genrsa -traditional` / `rsa -traditional`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use tls::crypto::rsa::{HashAlg, RsaPrivateKey};
use tls::pki::keys;

/// One generated key for all tests (generation is the slow part).
fn our_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::generate(2048, &mut |_| {}).unwrap())
}

/// Run `openssl ARGS` in `dir`; panic with its stderr if it fails.
fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl (is it installed?): {e}"));
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A temp dir holding our key (`our_key.pem`, written by `write_private_key`) and our public
/// key (`our_pub.pem`).
fn dir_with_our_key() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let key = our_key();
    keys::write_private_key(&dir.path().join("our_key.pem"), key, false).unwrap();
    std::fs::write(
        dir.path().join("our_pub.pem"),
        keys::public_key_to_pem(key.public_key()),
    )
    .unwrap();
    let path = dir.path().to_path_buf();
    (dir, path)
}

#[test]
fn openssl_encrypts_we_decrypt() {
    let (_guard, dir) = dir_with_our_key();
    for msg in [&b"x"[..], &[0x03; 48], &[0xab; 245]] {
        std::fs::write(dir.join("msg"), msg).unwrap();
        openssl(
            &dir,
            &[
                "pkeyutl",
                "-encrypt",
                "-pubin",
                "-inkey",
                "our_pub.pem",
                "-pkeyopt",
                "rsa_padding_mode:pkcs1",
                "-in",
                "msg",
                "-out",
                "ct",
            ],
        );
        let ct = std::fs::read(dir.join("ct")).unwrap();
        assert_eq!(our_key().decrypt_pkcs1v15(&ct).unwrap(), msg);
        let (fixed, ok) = our_key().decrypt_pkcs1v15_fixed_len(&ct, msg.len());
        assert!(ok);
        assert_eq!(fixed, msg);
    }
}

#[test]
fn we_encrypt_openssl_decrypts() {
    let (_guard, dir) = dir_with_our_key();
    let msg = b"pre-master secret, 48 bytes long, give or take.";
    let ct = our_key().public_key().encrypt_pkcs1v15(msg).unwrap();
    std::fs::write(dir.join("ct"), ct).unwrap();
    let pt = openssl(
        &dir,
        &["pkeyutl", "-decrypt", "-inkey", "our_key.pem", "-in", "ct"],
    );
    assert_eq!(pt, msg);
}

#[test]
fn our_signatures_verify_in_openssl() {
    let (_guard, dir) = dir_with_our_key();
    let msg = b"tbsCertificate stand-in";
    std::fs::write(dir.join("msg"), msg).unwrap();
    for (hash, flag) in [
        (HashAlg::Sha256, "-sha256"),
        (HashAlg::Sha384, "-sha384"),
        (HashAlg::Sha512, "-sha512"),
        // A TLS 1.2 client may still sign CertificateVerify with SHA-1.
        (HashAlg::Sha1, "-sha1"),
    ] {
        let sig = our_key().sign_pkcs1v15(hash, msg).unwrap();
        std::fs::write(dir.join("sig"), &sig).unwrap();
        let out = openssl(
            &dir,
            &[
                "dgst",
                flag,
                "-verify",
                "our_pub.pem",
                "-signature",
                "sig",
                "msg",
            ],
        );
        assert_eq!(String::from_utf8_lossy(&out).trim(), "Verified OK");
    }
}

#[test]
fn openssl_signatures_verify_with_ours() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "key.pem",
        ],
    );
    let key = keys::read_private_key(&dir.join("key.pem")).unwrap();
    let msg = b"signed by openssl";
    std::fs::write(dir.join("msg"), msg).unwrap();
    for (hash, flag) in [
        (HashAlg::Sha256, "-sha256"),
        (HashAlg::Sha384, "-sha384"),
        (HashAlg::Sha512, "-sha512"),
        // A TLS 1.2 client may still sign CertificateVerify with SHA-1.
        (HashAlg::Sha1, "-sha1"),
    ] {
        openssl(
            dir,
            &["dgst", flag, "-sign", "key.pem", "-out", "sig", "msg"],
        );
        let sig = std::fs::read(dir.join("sig")).unwrap();
        key.public_key().verify_pkcs1v15(hash, msg, &sig).unwrap();
        assert!(key
            .public_key()
            .verify_pkcs1v15(hash, b"other", &sig)
            .is_err());
        // PKCS#1 v1.5 signing is deterministic: ours must be the same bytes.
        assert_eq!(key.sign_pkcs1v15(hash, msg).unwrap(), sig);
    }
}

#[test]
fn openssl_checks_our_generated_key() {
    let (_guard, dir) = dir_with_our_key();
    let out = Command::new("openssl")
        .args(["pkey", "-check", "-noout", "-in", "our_key.pem"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl pkey -check rejected our key: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("Key is valid"), "openssl said: {said}");
    // OpenSSL re-encodes our PKCS#8 and public key to exactly the bytes we wrote.
    let pkcs8 = openssl(&dir, &["pkey", "-in", "our_key.pem"]);
    assert_eq!(
        String::from_utf8(pkcs8).unwrap(),
        keys::private_key_to_pem(our_key())
    );
    let public = openssl(&dir, &["pkey", "-in", "our_key.pem", "-pubout"]);
    assert_eq!(
        String::from_utf8(public).unwrap(),
        keys::public_key_to_pem(our_key().public_key())
    );
}

#[test]
fn we_read_openssl_key_files() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    // PKCS#8 from genpkey; PKCS#1 from genrsa -traditional and from rsa -traditional.
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "pkcs8.pem",
        ],
    );
    openssl(
        dir,
        &["genrsa", "-traditional", "-out", "pkcs1_genrsa.pem", "3072"],
    );
    openssl(
        dir,
        &[
            "rsa",
            "-in",
            "pkcs8.pem",
            "-traditional",
            "-out",
            "pkcs1_rsa.pem",
        ],
    );
    let pkcs8 = keys::read_private_key(&dir.join("pkcs8.pem")).unwrap();
    let pkcs1 = keys::read_private_key(&dir.join("pkcs1_rsa.pem")).unwrap();
    let genrsa = keys::read_private_key(&dir.join("pkcs1_genrsa.pem")).unwrap();
    assert!(std::fs::read_to_string(dir.join("pkcs1_rsa.pem"))
        .unwrap()
        .starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    assert_eq!(pkcs8, pkcs1);
    assert_eq!(pkcs8.public_key().bits(), 2048);
    assert_eq!(genrsa.public_key().bits(), 3072);
    // The public halves match what openssl extracts, and the keys work.
    for (file, key) in [("pkcs8.pem", &pkcs8), ("pkcs1_genrsa.pem", &genrsa)] {
        let public_pem = openssl(dir, &["pkey", "-in", file, "-pubout"]);
        let public = keys::public_key_from_pem(&String::from_utf8(public_pem).unwrap()).unwrap();
        assert_eq!(&public, key.public_key());
        let ct = public.encrypt_pkcs1v15(b"round trip").unwrap();
        assert_eq!(key.decrypt_pkcs1v15(&ct).unwrap(), b"round trip");
    }
    // Our PKCS#8 re-encoding of the openssl key is the file openssl wrote.
    assert_eq!(
        keys::private_key_to_pem(&pkcs8),
        std::fs::read_to_string(dir.join("pkcs8.pem")).unwrap()
    );
}
