//! Key files: PKCS#8 `PRIVATE KEY` (RFC 5208 / RFC 5958, written with mode 0600), PKCS#1
//! `RSA PRIVATE KEY` (RFC 8017 Appendix A.1.2, read), and SubjectPublicKeyInfo (RFC 5280
//! §4.1.2.7, with the rsaEncryption identifier of RFC 3279 §2.3.1) for public keys. The DER
//! structures come from the pkcs1/pkcs8/spki crates; PEM framing is RFC 7468, read and written
//! by [`super::pem`], the same reader certificates go through.

use super::{pem, CertErrorKind};
use crate::crypto::rsa::{RsaPrivateKey, RsaPublicKey};
use der::asn1::{AnyRef, BitStringRef, OctetStringRef, UintRef};
use der::{Decode, Encode};
use num_bigint::BigUint;
use pkcs8::PrivateKeyInfoRef;
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};
use std::io::Write;
use std::path::Path;

#[derive(Debug)]
pub enum KeyError {
    Io(std::io::Error),
    /// The file exists and `force` was not given.
    Exists(std::path::PathBuf),
    /// Not PEM, wrong label, bad DER, not RSA, or unusable numbers — with a readable reason.
    Malformed(String),
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::Exists(p) => write!(
                f,
                "{} already exists (use --force to overwrite)",
                p.display()
            ),
            Self::Malformed(m) => write!(f, "not a usable RSA key: {m}"),
        }
    }
}
impl std::error::Error for KeyError {}

impl From<std::io::Error> for KeyError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

/// Parse `PRIVATE KEY` (PKCS#8) or `RSA PRIVATE KEY` (PKCS#1) PEM.
pub fn private_key_from_pem(pem: &str) -> Result<RsaPrivateKey, KeyError> {
    let (label, der) = decode_pem(pem, &[PKCS8_LABEL, PKCS1_LABEL])?;
    match label.as_str() {
        PKCS8_LABEL => private_key_from_pkcs8_der(&der),
        PKCS1_LABEL => private_key_from_pkcs1_der(&der),
        "ENCRYPTED PRIVATE KEY" => Err(malformed(
            "the key is encrypted with a password; decrypt it first \
             (openssl pkey -in KEY -out PLAIN)",
        )),
        other => Err(malformed(format!(
            "PEM label is \"{other}\", expected \"{PKCS8_LABEL}\" or \"{PKCS1_LABEL}\""
        ))),
    }
}
/// PKCS#8 DER of the key.
pub fn private_key_to_pkcs8_der(key: &RsaPrivateKey) -> Vec<u8> {
    // A key's numbers are at most 16384 bits, far from any DER length limit.
    encode_pkcs8(key).expect("DER encoding of an in-range RSA key cannot fail")
}
/// PKCS#8 `PRIVATE KEY` PEM.
pub fn private_key_to_pem(key: &RsaPrivateKey) -> String {
    pem::encode(PKCS8_LABEL, &private_key_to_pkcs8_der(key))
}
/// Read a key file (either PEM form).
pub fn read_private_key(path: &Path) -> Result<RsaPrivateKey, KeyError> {
    let text = std::fs::read_to_string(path)?;
    private_key_from_pem(&text)
        .map_err(|e| malformed(format!("{}: {}", path.display(), inner_reason(e))))
}
/// Write PKCS#8 PEM with mode 0600; refuse to replace an existing file unless `force`.
///
/// The file is created with mode 0600 (never chmod-ed afterwards, so the key is not readable by
/// others for even a moment). With `force`, the key goes to a fresh file in the same directory
/// which is then renamed over the old one: the old file's permissions are not inherited.
pub fn write_private_key(path: &Path, key: &RsaPrivateKey, force: bool) -> Result<(), KeyError> {
    let pem = private_key_to_pem(key);
    if !force {
        return match create_private_file(path) {
            Ok(file) => write_and_sync(file, pem.as_bytes()).map_err(KeyError::Io),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(KeyError::Exists(path.to_path_buf()))
            }
            Err(e) => Err(KeyError::Io(e)),
        };
    }
    let tmp = temporary_sibling(path);
    let file = create_private_file(&tmp)?;
    let written = write_and_sync(file, pem.as_bytes()).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        // Best effort: do not leave a stray copy of the key behind.
        let _ = std::fs::remove_file(&tmp);
        return Err(KeyError::Io(e));
    }
    Ok(())
}
/// SubjectPublicKeyInfo DER (rsaEncryption, NULL params) of a public key.
pub fn public_key_to_spki_der(key: &RsaPublicKey) -> Vec<u8> {
    encode_spki(key).expect("DER encoding of an in-range RSA public key cannot fail")
}
/// Parse SubjectPublicKeyInfo DER; only rsaEncryption keys are accepted.
pub fn public_key_from_spki_der(der: &[u8]) -> Result<RsaPublicKey, KeyError> {
    let spki = SubjectPublicKeyInfoRef::from_der(der)
        .map_err(|e| malformed(format!("bad SubjectPublicKeyInfo DER: {e}")))?;
    check_rsa_algorithm(&spki.algorithm)?;
    let bytes = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| malformed("public key BIT STRING has unused bits"))?;
    public_key_from_pkcs1_der(bytes)
}
/// Parse a PEM `PUBLIC KEY` (SPKI); a PKCS#1 `RSA PUBLIC KEY` is accepted too.
pub fn public_key_from_pem(pem: &str) -> Result<RsaPublicKey, KeyError> {
    let (label, der) = decode_pem(pem, &["PUBLIC KEY", "RSA PUBLIC KEY"])?;
    match label.as_str() {
        "PUBLIC KEY" => public_key_from_spki_der(&der),
        "RSA PUBLIC KEY" => public_key_from_pkcs1_der(&der),
        other => Err(malformed(format!(
            "PEM label is \"{other}\", expected \"PUBLIC KEY\""
        ))),
    }
}
/// SubjectPublicKeyInfo `PUBLIC KEY` PEM of a public key (what `openssl pkey -pubout` writes).
pub fn public_key_to_pem(key: &RsaPublicKey) -> String {
    pem::encode("PUBLIC KEY", &public_key_to_spki_der(key))
}
/// Parse PKCS#8 `PrivateKeyInfo` DER holding an rsaEncryption key.
pub fn private_key_from_pkcs8_der(der: &[u8]) -> Result<RsaPrivateKey, KeyError> {
    let info =
        PrivateKeyInfoRef::from_der(der).map_err(|e| malformed(format!("bad PKCS#8 DER: {e}")))?;
    check_rsa_algorithm(&info.algorithm)?;
    private_key_from_pkcs1_der(info.private_key.as_bytes())
}
/// Parse PKCS#1 `RSAPrivateKey` DER (two-prime keys only).
pub fn private_key_from_pkcs1_der(der: &[u8]) -> Result<RsaPrivateKey, KeyError> {
    let key = pkcs1::RsaPrivateKeyRef::from_der(der)
        .map_err(|e| malformed(format!("bad PKCS#1 RSAPrivateKey DER: {e}")))?;
    if key.other_prime_infos.is_some() {
        return Err(malformed("multi-prime RSA keys are not supported"));
    }
    RsaPrivateKey::from_components(
        uint(&key.modulus),
        uint(&key.public_exponent),
        uint(&key.private_exponent),
        uint(&key.prime1),
        uint(&key.prime2),
    )
    .map_err(|e| malformed(e.to_string()))
}
/// Parse PKCS#1 `RSAPublicKey` DER.
pub fn public_key_from_pkcs1_der(der: &[u8]) -> Result<RsaPublicKey, KeyError> {
    let key = pkcs1::RsaPublicKeyRef::from_der(der)
        .map_err(|e| malformed(format!("bad PKCS#1 RSAPublicKey DER: {e}")))?;
    RsaPublicKey::new(uint(&key.modulus), uint(&key.public_exponent))
        .map_err(|e| malformed(e.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const PKCS8_LABEL: &str = "PRIVATE KEY";
const PKCS1_LABEL: &str = "RSA PRIVATE KEY";

fn malformed(reason: impl Into<String>) -> KeyError {
    KeyError::Malformed(reason.into())
}

/// The reason inside a `Malformed` error, or the error's text.
fn inner_reason(e: KeyError) -> String {
    match e {
        KeyError::Malformed(m) => m,
        other => other.to_string(),
    }
}

fn uint(u: &UintRef<'_>) -> BigUint {
    BigUint::from_bytes_be(u.as_bytes())
}

/// rsaEncryption with NULL parameters (RFC 3279 §2.3.1: "the parameters field MUST have ASN.1
/// type NULL").
fn check_rsa_algorithm(alg: &AlgorithmIdentifierRef<'_>) -> Result<(), KeyError> {
    if alg.oid != pkcs1::ALGORITHM_OID {
        return Err(malformed(format!(
            "algorithm {} is not rsaEncryption (1.2.840.113549.1.1.1)",
            alg.oid
        )));
    }
    match alg.parameters {
        Some(p) if p.is_null() => Ok(()),
        _ => Err(malformed("rsaEncryption parameters must be NULL")),
    }
}

/// The first PEM block of `text` whose label is one of `wanted`, else the first block of all
/// (so the caller can name the wrong label). [`pem::parse_blocks`] reads it: text between blocks
/// is skipped (RFC 7468 §5.2 allows explanatory text), so a key stored next to its certificate
/// still reads, and any broken block is refused.
fn decode_pem(text: &str, wanted: &[&str]) -> Result<(String, Vec<u8>), KeyError> {
    let blocks = pem::parse_blocks(text.as_bytes()).map_err(|e| match e.kind {
        CertErrorKind::Malformed(reason) => malformed(reason),
        _ => malformed(e.to_string()),
    })?;
    let index = blocks
        .iter()
        .position(|b| wanted.contains(&b.label.as_str()))
        .unwrap_or(0);
    let block = blocks
        .into_iter()
        .nth(index)
        .ok_or_else(|| malformed("no PEM \"-----BEGIN\" line found"))?;
    Ok((block.label, block.der))
}

fn encode_pkcs8(key: &RsaPrivateKey) -> der::Result<Vec<u8>> {
    let n = key.public_key().n().to_bytes_be();
    let e = key.public_key().e().to_bytes_be();
    let d = key.d().to_bytes_be();
    let p = key.p().to_bytes_be();
    let q = key.q().to_bytes_be();
    let dp = key.dp().to_bytes_be();
    let dq = key.dq().to_bytes_be();
    let qinv = key.qinv().to_bytes_be();
    let pkcs1_key = pkcs1::RsaPrivateKeyRef {
        modulus: UintRef::new(&n)?,
        public_exponent: UintRef::new(&e)?,
        private_exponent: UintRef::new(&d)?,
        prime1: UintRef::new(&p)?,
        prime2: UintRef::new(&q)?,
        exponent1: UintRef::new(&dp)?,
        exponent2: UintRef::new(&dq)?,
        coefficient: UintRef::new(&qinv)?,
        other_prime_infos: None,
    };
    let pkcs1_der = pkcs1_key.to_der()?;
    let info = PrivateKeyInfoRef {
        algorithm: rsa_algorithm(),
        private_key: OctetStringRef::new(&pkcs1_der)?,
        public_key: None,
    };
    info.to_der()
}

fn encode_spki(key: &RsaPublicKey) -> der::Result<Vec<u8>> {
    let n = key.n().to_bytes_be();
    let e = key.e().to_bytes_be();
    let pkcs1_der = pkcs1::RsaPublicKeyRef {
        modulus: UintRef::new(&n)?,
        public_exponent: UintRef::new(&e)?,
    }
    .to_der()?;
    SubjectPublicKeyInfoRef {
        algorithm: rsa_algorithm(),
        subject_public_key: BitStringRef::from_bytes(&pkcs1_der)?,
    }
    .to_der()
}

fn rsa_algorithm() -> AlgorithmIdentifierRef<'static> {
    AlgorithmIdentifierRef {
        oid: pkcs1::ALGORITHM_OID,
        parameters: Some(AnyRef::NULL),
    }
}

/// Create a new file (failing if it exists) readable and writable by its owner only.
fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

fn write_and_sync(mut file: std::fs::File, bytes: &[u8]) -> std::io::Result<()> {
    file.write_all(bytes)?;
    file.sync_all()
}

/// `DIR/.NAME.tmp-RANDOM` next to `path`, so the final rename stays on one file system.
fn temporary_sibling(path: &Path) -> std::path::PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "key".to_string());
    let suffix: u64 = rand::RngExt::random(&mut rand::rng());
    path.with_file_name(format!(".{name}.tmp-{suffix:016x}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::CertError;
    use std::sync::OnceLock;

    fn test_key() -> &'static RsaPrivateKey {
        static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
        KEY.get_or_init(|| RsaPrivateKey::generate(2048, &mut |_| {}).unwrap())
    }

    #[test]
    fn pkcs8_pem_round_trip() {
        let key = test_key();
        let pem = private_key_to_pem(key);
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(pem.trim_end().ends_with("-----END PRIVATE KEY-----"));
        let back = private_key_from_pem(&pem).unwrap();
        assert_eq!(&back, key);
        // Text and other blocks around the key are skipped.
        let cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let wrapped = format!("my key\n{cert}{pem}\n{cert}-----BEGIN CERT");
        assert_eq!(&private_key_from_pem(&wrapped).unwrap(), key);
    }

    #[test]
    fn pkcs1_pem_is_read() {
        let key = test_key();
        let der = pkcs8::PrivateKeyInfoRef::from_der(&private_key_to_pkcs8_der(key))
            .unwrap()
            .private_key
            .as_bytes()
            .to_vec();
        let pem = pem::encode(PKCS1_LABEL, &der);
        assert_eq!(&private_key_from_pem(&pem).unwrap(), key);
    }

    /// A key as people keep it: explanatory text first, CRLF line ends, 76-character lines
    /// (what `base64` writes). RFC 7468's lax reading, the same as for certificates.
    #[test]
    fn crlf_key_with_leading_text_and_wide_lines_loads() {
        let key = test_key();
        let pem = private_key_to_pem(key);
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let mut wide =
            String::from("Server key for example.com\r\n\r\n-----BEGIN PRIVATE KEY-----\r\n");
        for chunk in body.as_bytes().chunks(76) {
            wide.push_str(std::str::from_utf8(chunk).unwrap());
            wide.push_str(" \r\n");
        }
        wide.push_str("-----END PRIVATE KEY-----\r\ntrailing words\r\n");
        assert_eq!(&private_key_from_pem(&wide).unwrap(), key);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        std::fs::write(&path, &wide).unwrap();
        assert_eq!(&read_private_key(&path).unwrap(), key);
        let public = public_key_to_pem(key.public_key()).replace('\n', "\r\n");
        assert_eq!(
            &public_key_from_pem(&format!("the public half:\r\n{public}")).unwrap(),
            key.public_key()
        );
    }

    #[test]
    fn mismatched_end_label_is_refused_clearly() {
        let pem = private_key_to_pem(test_key()).replace("END PRIVATE KEY", "END CERTIFICATE");
        match private_key_from_pem(&pem) {
            Err(KeyError::Malformed(m)) => assert!(
                m.contains("\"BEGIN PRIVATE KEY\" ends with \"END CERTIFICATE\""),
                "{m}"
            ),
            other => panic!("unexpected {other:?}"),
        }
    }

    /// Keys and certificates share one reader: a broken block gets the same reason from both.
    #[test]
    fn keys_and_certificates_share_the_pem_reader() {
        let body = "MIIB\n";
        let cases = [
            format!("-----BEGIN PRIVATE KEY-----\n{body}-----END RSA PRIVATE KEY-----\n"),
            format!("-----BEGIN PRIVATE KEY-----\n{body}"),
            "-----BEGIN PRIVATE KEY-----\nMII=B\n-----END PRIVATE KEY-----\n".to_string(),
            "-----BEGIN PRIVATE--KEY-----\nMIIB\n-----END PRIVATE--KEY-----\n".to_string(),
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nMIIB\n-----END RSA PRIVATE KEY-----\n"
                .to_string(),
        ];
        for case in &cases {
            let Err(CertError {
                kind: CertErrorKind::Malformed(cert_reason),
                ..
            }) = pem::parse_certificates(case.as_bytes())
            else {
                panic!("certificate reader accepted {case:?}");
            };
            match private_key_from_pem(case) {
                Err(KeyError::Malformed(key_reason)) => assert_eq!(key_reason, cert_reason),
                other => panic!("key reader: {other:?} for {case:?}"),
            }
            assert!(public_key_from_pem(case).is_err());
        }
    }

    #[test]
    fn spki_round_trip() {
        let public = test_key().public_key();
        let der = public_key_to_spki_der(public);
        // SEQUENCE { SEQUENCE { OID rsaEncryption, NULL }, BIT STRING ... }
        assert_eq!(
            &der[4..19],
            &[
                0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05,
                0x00
            ]
        );
        assert_eq!(&public_key_from_spki_der(&der).unwrap(), public);
        assert_eq!(
            &public_key_from_pem(&public_key_to_pem(public)).unwrap(),
            public
        );
    }

    #[test]
    fn wrong_labels_and_garbage_are_malformed() {
        assert!(matches!(
            private_key_from_pem("hello"),
            Err(KeyError::Malformed(_))
        ));
        let cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            private_key_from_pem(cert),
            Err(KeyError::Malformed(_))
        ));
        let enc =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        match private_key_from_pem(enc) {
            Err(KeyError::Malformed(m)) => assert!(m.contains("encrypted")),
            other => panic!("unexpected {other:?}"),
        }
        assert!(public_key_from_spki_der(&[0x30, 0x00]).is_err());
    }

    #[test]
    fn write_is_0600_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        let key = test_key();
        write_private_key(&path, key, false).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(
            write_private_key(&path, key, false),
            Err(KeyError::Exists(_))
        ));
        assert_eq!(&read_private_key(&path).unwrap(), key);

        // --force replaces a world-readable file with a 0600 one.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            write_private_key(&path, key, true).unwrap();
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(&read_private_key(&path).unwrap(), key);
        // No temporary file left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// Valid DER of our key with one length octet replaced: the parsers must say no, not panic.
    fn with_length_byte(der: &[u8], at: usize, value: u8) -> Vec<u8> {
        let mut v = der.to_vec();
        if let Some(b) = v.get_mut(at) {
            *b = value;
        }
        v
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        #[test]
        fn random_text_never_panics(text in ".{0,300}") {
            let _ = private_key_from_pem(&text);
            let _ = public_key_from_pem(&text);
        }

        #[test]
        fn random_pem_bodies_never_panic(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
            label in proptest::sample::select(vec!["PRIVATE KEY", "RSA PRIVATE KEY", "PUBLIC KEY", "RSA PUBLIC KEY"]),
        ) {
            let pem = pem::encode(label, &body);
            proptest::prop_assert!(private_key_from_pem(&pem).is_err());
            proptest::prop_assert!(public_key_from_pem(&pem).is_err());
            proptest::prop_assert!(public_key_from_spki_der(&body).is_err());
            proptest::prop_assert!(private_key_from_pkcs8_der(&body).is_err());
            proptest::prop_assert!(private_key_from_pkcs1_der(&body).is_err());
        }

        #[test]
        fn truncated_der_is_rejected(cut in 0usize..1300) {
            let pkcs8 = private_key_to_pkcs8_der(test_key());
            let spki = public_key_to_spki_der(test_key().public_key());
            if cut < pkcs8.len() {
                proptest::prop_assert!(private_key_from_pkcs8_der(&pkcs8[..cut]).is_err());
            }
            if cut < spki.len() {
                proptest::prop_assert!(public_key_from_spki_der(&spki[..cut]).is_err());
            }
        }

        #[test]
        fn bent_der_lengths_never_panic(at in 0usize..40, value in proptest::prelude::any::<u8>()) {
            // The first 40 bytes of the PKCS#8 hold the outer SEQUENCE, version, algorithm and
            // inner headers (any change past them breaks p·q = n); the SPKI's headers end before byte 32.
            let pkcs8 = private_key_to_pkcs8_der(test_key());
            let bent = with_length_byte(&pkcs8, at, value);
            if let Ok(key) = private_key_from_pkcs8_der(&bent) {
                proptest::prop_assert_eq!(&key, test_key());
            }
            let spki = public_key_to_spki_der(test_key().public_key());
            let bent = with_length_byte(&spki, at.min(31), value);
            if let Ok(key) = public_key_from_spki_der(&bent) {
                proptest::prop_assert_eq!(&key, test_key().public_key());
            }
        }

        #[test]
        fn random_tail_after_der_is_rejected(
            tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..16)
        ) {
            let mut spki = public_key_to_spki_der(test_key().public_key());
            spki.extend_from_slice(&tail);
            proptest::prop_assert!(public_key_from_spki_der(&spki).is_err());
        }
    }

    #[test]
    fn over_long_lengths_are_rejected() {
        let spki = public_key_to_spki_der(test_key().public_key());
        // 30 82 01 22: claim 4-byte and huge lengths instead.
        let mut huge = vec![0x30, 0x84, 0x7f, 0xff, 0xff, 0xff];
        huge.extend_from_slice(&spki[4..]);
        assert!(public_key_from_spki_der(&huge).is_err());
        let mut indefinite = vec![0x30, 0x80];
        indefinite.extend_from_slice(&spki[4..]);
        assert!(public_key_from_spki_der(&indefinite).is_err());
        // Non-minimal length encoding (BER, not DER).
        let mut ber = vec![0x30, 0x83, 0x00, spki[2], spki[3]];
        ber.extend_from_slice(&spki[4..]);
        assert!(public_key_from_spki_der(&ber).is_err());
    }

    #[test]
    fn unusable_numbers_are_malformed() {
        // RSAPublicKey { n = 0, e = 3 }, { n even }, { n tiny }.
        for (n, e) in [
            (vec![0u8], vec![3u8]),
            (vec![0x7f; 64], vec![3]),
            (vec![0x41], vec![3]),
        ] {
            let der = pkcs1::RsaPublicKeyRef {
                modulus: UintRef::new(&n).unwrap(),
                public_exponent: UintRef::new(&e).unwrap(),
            }
            .to_der()
            .unwrap();
            assert!(matches!(
                public_key_from_pkcs1_der(&der),
                Err(KeyError::Malformed(_))
            ));
        }
    }

    #[test]
    fn non_rsa_algorithms_are_refused() {
        let mut der = public_key_to_spki_der(test_key().public_key());
        // rsaEncryption ...01 01 01 -> ...01 01 0a (RSASSA-PSS)
        der[16] = 0x0a;
        match public_key_from_spki_der(&der) {
            Err(KeyError::Malformed(m)) => assert!(m.contains("not rsaEncryption"), "{m}"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
