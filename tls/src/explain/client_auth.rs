//! Narration of client authentication (RFC 5246 §7.4.4, §7.4.8): what the server asks for, and
//! what the client's CertificateVerify signature covers. Values come from the messages and from
//! the events; nothing is recomputed here.

use super::render::Step;
use crate::msgs::handshake::{CertificateRequest, CertificateVerify};
use crate::pki::x509::DistinguishedName;
use crate::text::{escape_peer, hex, hex_prefix};

/// The name of a `SignatureAndHashAlgorithm` code (RFC 5246 §7.4.1.4.1).
pub fn signature_algorithm_name(code: u16) -> String {
    let hash = match code >> 8 {
        2 => "sha1",
        3 => "sha224",
        4 => "sha256",
        5 => "sha384",
        6 => "sha512",
        _ => "",
    };
    match (code & 0xFF, hash) {
        (1, h) if !h.is_empty() => format!("rsa_pkcs1_{h}"),
        (3, h) if !h.is_empty() => format!("ecdsa_{h}"),
        _ => format!("{code:#06x}"),
    }
}

/// A CA name from a CertificateRequest, in curl's form and escaped (the peer chose it).
pub fn ca_name(der: &[u8]) -> String {
    match DistinguishedName::from_der(der) {
        Some(name) => escape_peer(&name.to_curl_string()),
        None => format!("(not a DER Name: {})", hex_prefix(der, 16)),
    }
}

pub(super) fn certificate_request(mut s: Step, request: &CertificateRequest) -> Step {
    s.text("The server asks the client to prove who it is: send a certificate, then sign the handshake with its key.");
    let types = request
        .certificate_types
        .iter()
        .map(|t| match t {
            1 => "rsa_sign".to_string(),
            64 => "ecdsa_sign".to_string(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>();
    s.field("certificate types", types.join(", "));
    let algs = request
        .signature_algorithms
        .iter()
        .map(|a| signature_algorithm_name(*a))
        .collect::<Vec<_>>();
    s.field("signature algorithms", algs.join(", "));
    if request.certificate_authorities.is_empty() {
        s.field("acceptable CAs", "any (none named)");
    }
    for der in &request.certificate_authorities {
        s.field("acceptable CA", ca_name(der));
    }
    s
}

pub(super) fn certificate_verify(mut s: Step, verify: &CertificateVerify) -> Step {
    s.field("algorithm", signature_algorithm_name(verify.algorithm));
    s.field(
        "signature",
        format!(
            "{} bytes: {}",
            verify.signature.len(),
            hex_prefix(&verify.signature, 16)
        ),
    );
    s.text("The client signs every handshake message so far (both randoms included) with the private key of the certificate it sent.");
    s.text("Only the key's holder can make it; and since the randoms are fresh, a signature recorded from another connection does not match this transcript.");
    s
}

/// The signing (client) or the check (server) of CertificateVerify, with the values used.
pub(super) fn certificate_verify_checked(
    mut s: Step,
    algorithm: u16,
    transcript_hash: &[u8],
    key_bits: usize,
    subject: &str,
    verified: Option<bool>,
) -> Step {
    let hash = match algorithm >> 8 {
        2 => "SHA-1",
        4 => "SHA-256",
        5 => "SHA-384",
        6 => "SHA-512",
        _ => "hash",
    };
    s.field(
        "signed",
        format!(
            "{hash}(every handshake message, ClientHello .. ClientKeyExchange) = {}",
            hex(transcript_hash)
        ),
    );
    s.field("algorithm", signature_algorithm_name(algorithm));
    s.field(
        "public key",
        format!(
            "RSA {key_bits} bits, from the certificate of {}",
            escape_peer(subject)
        ),
    );
    match verified {
        None => {
            s.text("Signed with our private key (RSA PKCS#1 v1.5): the server opens it with the public key of our certificate and compares with its own hash of the same messages.");
        }
        Some(true) => {
            s.text("The signature opens (RSA public operation) to exactly this hash: the client holds the certificate's key.");
        }
        Some(false) => {
            s.text("The signature does not open to this hash: signed with another key, or over another handshake (replayed). Fatal: decrypt_error.");
        }
    }
    s
}
