//! PEM, the text armour around DER (RFC 7468): `-----BEGIN LABEL-----`, base64 lines,
//! `-----END LABEL-----`. Bundles hold many blocks, often with comment text between them.
//!
//! This is the one PEM reader: certificates, bundles and key files all go through
//! [`parse_blocks`]. Its rule is RFC 7468's "lax" parsing, as OpenSSL reads: text before,
//! between and after blocks is skipped, lines may end in CRLF, have any width and carry
//! whitespace. It is strict where a mistake could pass unnoticed: a label must follow the §2
//! grammar, END must name the same label as BEGIN, and the body must be canonical base64.
//!
//! The base64 codec is written here so that what we accept is easy to see (padding only at the
//! end, nothing else), and so that it takes no branch and no table lookup on a character's
//! value: private keys pass through it.

use super::{CertError, CertErrorKind};

/// The label of a certificate block (RFC 7468 §5).
pub const CERTIFICATE: &str = "CERTIFICATE";

/// One decoded PEM block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub label: String,
    pub der: Vec<u8>,
}

/// Every `CERTIFICATE` block in `pem`, in order, as DER. Blocks with other labels (keys,
/// `TRUSTED CERTIFICATE`) and text outside blocks are skipped; a broken block or no certificate
/// at all is an error.
pub fn parse_certificates(pem: &[u8]) -> Result<Vec<Vec<u8>>, CertError> {
    let certs: Vec<Vec<u8>> = parse_blocks(pem)?
        .into_iter()
        .filter(|b| b.label == CERTIFICATE)
        .map(|b| b.der)
        .collect();
    if certs.is_empty() {
        return Err(malformed("no PEM CERTIFICATE block found"));
    }
    Ok(certs)
}

/// Every PEM block in `pem`, whatever its label. A label outside RFC 7468's grammar, a `BEGIN`
/// without a matching `END`, headers (an encrypted block) or a body that is not base64 is an
/// error naming what is wrong.
pub fn parse_blocks(pem: &[u8]) -> Result<Vec<Block>, CertError> {
    let text = std::str::from_utf8(pem).map_err(|_| malformed("PEM is not UTF-8 text"))?;
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(label) = boundary(line, "-----BEGIN ") else {
            continue;
        };
        check_label(label)?;
        let mut body = String::new();
        let mut ended = false;
        for line in lines.by_ref() {
            if let Some(end_label) = boundary(line, "-----END ") {
                check_label(end_label)?;
                if end_label != label {
                    return Err(malformed(&format!(
                        "PEM block \"BEGIN {label}\" ends with \"END {end_label}\""
                    )));
                }
                ended = true;
                break;
            }
            if boundary(line, "-----BEGIN ").is_some() {
                return Err(malformed(&format!(
                    "PEM block \"BEGIN {label}\" has no END line before the next BEGIN"
                )));
            }
            // RFC 1421 headers (`Proc-Type: ...`) only appear in encrypted keys.
            if line.contains(':') {
                return Err(malformed("PEM block has headers (encrypted?)"));
            }
            body.push_str(line.trim());
        }
        if !ended {
            return Err(malformed(&format!(
                "PEM block \"BEGIN {label}\" has no END line"
            )));
        }
        let der = base64_decode(&body).ok_or_else(|| malformed("PEM body is not valid base64"))?;
        if der.is_empty() {
            return Err(malformed("PEM block is empty"));
        }
        blocks.push(Block {
            label: label.to_string(),
            der,
        });
    }
    Ok(blocks)
}

/// A `CERTIFICATE` PEM block for `der`, 64 base64 characters per line, ending in a newline.
pub fn encode_certificate(der: &[u8]) -> String {
    encode(CERTIFICATE, der)
}

/// A PEM block with any label.
pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = base64_encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    // base64 output is ASCII, so splitting at any byte offset is safe.
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn malformed(what: &str) -> CertError {
    CertError::new(CertErrorKind::Malformed(what.to_string()), 0)
}

/// The label of a `-----BEGIN X-----` / `-----END X-----` line, if `line` is one.
fn boundary<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    line.trim().strip_prefix(prefix)?.strip_suffix("-----")
}

/// RFC 7468 §2: `label = [ labelchar *( ["-" / SP] labelchar ) ]`, labelchar being printable
/// ASCII other than `-`. Checked before a label is named in an error, so the message is plain
/// text; 64 characters is far more than any real label.
fn check_label(label: &str) -> Result<(), CertError> {
    let bytes = label.as_bytes();
    let separator = |b: u8| b == b'-' || b == b' ';
    let well_formed = label.len() <= 64
        && bytes.iter().all(|&b| b.is_ascii_graphic() || b == b' ')
        && bytes.first().is_none_or(|&b| !separator(b))
        && bytes.last().is_none_or(|&b| !separator(b))
        && bytes
            .windows(2)
            .all(|w| !(separator(w[0]) && separator(w[1])));
    if well_formed {
        Ok(())
    } else {
        Err(malformed("PEM label is not valid (RFC 7468 section 2)"))
    }
}

/// All ones when `x < limit`, else zero; for small non-negative values, without a branch.
fn below(x: i32, limit: i32) -> i32 {
    (x - limit) >> 16
}

/// The base64 character for a 6-bit value: 'A' plus a correction per range, each added under
/// a mask, so neither a branch nor a table index depends on the (possibly secret) value.
fn base64_char(sextet: u32) -> char {
    let s = (sextet & 0x3f) as i32;
    let c = s
        + i32::from(b'A')
        + (!below(s, 26) & 6)
        + (!below(s, 52) & -75)
        + (!below(s, 62) & -15)
        + (!below(s, 63) & 3);
    char::from(c as u8)
}

fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            // Depends on the length only.
            if i <= chunk.len() {
                out.push(base64_char(n >> (18 - 6 * i)));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The value of a base64 character, or -1. Each range adds its offset under a mask that is all
/// ones only inside it (the ranges are disjoint), so the time taken is the same for every
/// character of a private key.
fn base64_value(c: u8) -> i32 {
    let c = i32::from(c);
    let inside = |lo: u8, hi: u8| !below(c, i32::from(lo)) & below(c, i32::from(hi) + 1);
    -1 + (inside(b'A', b'Z') & (c - i32::from(b'A') + 1))
        + (inside(b'a', b'z') & (c - i32::from(b'a') + 27))
        + (inside(b'0', b'9') & (c - i32::from(b'0') + 53))
        + (inside(b'+', b'+') & 63)
        + (inside(b'/', b'/') & 64)
}

/// Strict base64: length a multiple of 4 (whitespace removed), `=` only as the last one or two
/// characters, and unused low bits zero.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let chars: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    if !chars.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(chars.len() / 4 * 3);
    let quads = chars.len() / 4;
    for (index, quad) in chars.chunks(4).enumerate() {
        let last = index + 1 == quads;
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        // Any invalid character makes `invalid` negative; tested once per quad, its outcome is
        // the same for every valid input.
        let mut invalid = 0i32;
        for &c in &quad[..4 - pad] {
            let v = base64_value(c);
            invalid |= v;
            n = (n << 6) | (v as u32 & 0x3f);
        }
        n <<= 6 * pad as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        // Non-canonical encodings (stray low bits before the padding) are refused; like
        // `invalid`, tested once, after the bits are gathered.
        let stray = match pad {
            1 => bytes[2],
            2 => bytes[1] | bytes[2],
            _ => 0,
        };
        if invalid < 0 || stray != 0 {
            return None;
        }
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn base64_rfc4648_vectors() {
        // RFC 4648 §10.
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base64_encode(plain.as_bytes()), encoded);
            assert_eq!(base64_decode(encoded).as_deref(), Some(plain.as_bytes()));
        }
    }

    #[test]
    fn branch_free_codec_matches_the_alphabet() {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (value, &c) in alphabet.iter().enumerate() {
            assert_eq!(base64_char(value as u32), char::from(c));
        }
        for c in 0..=255u8 {
            let expected = alphabet
                .iter()
                .position(|&a| a == c)
                .map_or(-1, |v| v as i32);
            assert_eq!(base64_value(c), expected, "{c:#04x}");
        }
    }

    #[test]
    fn base64_refuses_bad_input() {
        for bad in ["Zg=", "Z===", "Zg==Zg==", "Zh==", "Zm9=", "Zm!v", "===="] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn round_trip_and_bundle_with_comments() {
        let a = encode_certificate(&[1, 2, 3, 4, 5]);
        let b = encode_certificate(&[0xAB; 200]);
        let key = encode("PRIVATE KEY", &[9, 9]);
        let bundle = format!("# Issuer: test\n{a}\nsome text\n{key}{b}");
        let certs = parse_certificates(bundle.as_bytes()).unwrap();
        assert_eq!(certs, vec![vec![1, 2, 3, 4, 5], vec![0xAB; 200]]);
        assert!(b.lines().all(|l| l.len() <= 64));
    }

    #[test]
    fn crlf_and_other_widths_are_accepted() {
        let b64 = base64_encode(&[7u8; 100]);
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\r\n{}\r\n{}\r\n-----END CERTIFICATE-----\r\n",
            &b64[..76],
            &b64[76..]
        );
        assert_eq!(
            parse_certificates(pem.as_bytes()).unwrap(),
            vec![vec![7u8; 100]]
        );
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let cases: [&[u8]; 6] = [
            b"",
            b"hello world",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n",
            b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n",
            b"\xff\xfe\x00",
        ];
        for case in cases {
            let err = parse_certificates(case).unwrap_err();
            assert!(matches!(err.kind, CertErrorKind::Malformed(_)), "{err}");
        }
        let only_key = encode("PRIVATE KEY", &[1]);
        assert!(parse_certificates(only_key.as_bytes()).is_err());
    }

    #[test]
    fn broken_framing_is_named() {
        let reason = |pem: &str| match parse_blocks(pem.as_bytes()) {
            Err(CertError {
                kind: CertErrorKind::Malformed(m),
                ..
            }) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            reason("-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n"),
            "PEM block \"BEGIN CERTIFICATE\" ends with \"END PRIVATE KEY\""
        );
        assert_eq!(
            reason("-----BEGIN CERTIFICATE-----\nAAAA\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
            "PEM block \"BEGIN CERTIFICATE\" has no END line before the next BEGIN"
        );
        assert_eq!(
            reason("-----BEGIN CERTIFICATE-----\nAAAA\n"),
            "PEM block \"BEGIN CERTIFICATE\" has no END line"
        );
        // Labels outside RFC 7468 §2 are refused before they are shown to anyone.
        for label in [
            "CERT--X",
            " CERT",
            "CERT ",
            "CE\u{1b}[2JRT",
            "CERTÉ",
            &"A".repeat(65),
        ] {
            let pem = format!("-----BEGIN {label}-----\nAAAA\n-----END {label}-----\n");
            assert_eq!(
                reason(&pem),
                "PEM label is not valid (RFC 7468 section 2)",
                "{label:?}"
            );
        }
        // Hyphens and spaces between label characters are allowed.
        let ok = "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n";
        assert_eq!(parse_blocks(ok.as_bytes()).unwrap()[0].label, "X509 CRL");
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_blocks(&data);
            let mut framed = b"-----BEGIN CERTIFICATE-----\n".to_vec();
            framed.extend_from_slice(&data);
            framed.extend_from_slice(b"\n-----END CERTIFICATE-----\n");
            let _ = parse_certificates(&framed);
        }

        #[test]
        fn encode_then_parse_round_trips(der in proptest::collection::vec(any::<u8>(), 1..300)) {
            let pem = encode_certificate(&der);
            prop_assert_eq!(parse_certificates(pem.as_bytes()).unwrap(), vec![der]);
        }
    }
}
