//! Client authentication by certificate (RFC 5246 §7.4.4, §7.4.6, §7.4.8), both sides:
//!
//! - the server asks with CertificateRequest (the certificate type, the signature algorithms it
//!   verifies, the names of the CAs it accepts) after its own Certificate;
//! - the client answers with its chain (or an empty one: the server decides), then, after
//!   ClientKeyExchange, with CertificateVerify: a signature with its certificate's key over every
//!   handshake message so far. The transcript holds both randoms, so the signature is good for
//!   this connection only: a replayed one fails, and only the key's holder can make a fresh one.
//! - the server verifies the chain for the clientAuth purpose, then the signature; the chain is
//!   recorded in `SessionInfo::client_chain` for the application.

use crate::alert::AlertDescription;
use crate::common_state::CommonState;
use crate::config::{ClientConfig, ClientIdentity, ServerConfig};
use crate::crypto::rsa::HashAlg;
use crate::handshake::keys::{KeysAgreed, Transcript};
use crate::msgs::handshake::{
    CertificateMsg, CertificateRequest, CertificateVerify, HandshakeMessage, HandshakePayload,
    CERT_TYPE_RSA_SIGN,
};
use crate::pki::verify::{verify_client_chain, MAX_PRESENTED};
use crate::pki::x509::Certificate;
use crate::pki::{CertError, CertErrorKind};
use crate::trace::Event;
use crate::Error;

/// The `SignatureAndHashAlgorithm`s we sign and verify with, best first: rsa_pkcs1_sha256,
/// rsa_pkcs1_sha384, rsa_pkcs1_sha512, and rsa_pkcs1_sha1 last — still what some TLS 1.2
/// clients sign with, and a collision in the transcript hash would need the attacker to
/// control both randoms.
pub(crate) const SIGNATURE_ALGORITHMS: [u16; 4] = [0x0401, 0x0501, 0x0601, 0x0201];

/// Room kept for the CA names in CertificateRequest (its list has a 2-byte length).
const MAX_CA_NAMES_BYTES: usize = 0xFFFF - 1024;

fn hash_of(algorithm: u16) -> Option<HashAlg> {
    match algorithm {
        0x0401 => Some(HashAlg::Sha256),
        0x0501 => Some(HashAlg::Sha384),
        0x0601 => Some(HashAlg::Sha512),
        0x0201 => Some(HashAlg::Sha1),
        _ => None,
    }
}

// ---- the server's side ----

/// The CertificateRequest to send after our Certificate, if client authentication is on.
pub(crate) fn certificate_request(config: &ServerConfig) -> Option<HandshakeMessage> {
    let auth = config.client_auth.as_ref()?;
    let mut certificate_authorities = Vec::new();
    let mut total = 0;
    for ca in auth.roots.iter() {
        let name = ca.subject().der();
        total += 2 + name.len();
        if total > MAX_CA_NAMES_BYTES {
            break;
        }
        certificate_authorities.push(name.to_vec());
    }
    Some(HandshakeMessage::new(HandshakePayload::CertificateRequest(
        CertificateRequest {
            certificate_types: vec![CERT_TYPE_RSA_SIGN],
            signature_algorithms: SIGNATURE_ALGORITHMS.to_vec(),
            certificate_authorities,
        },
    )))
}

/// The client's Certificate: its chain, verified for the clientAuth purpose, or nothing (only
/// when client authentication is optional). The chain, leaf first, is returned for the session.
pub(crate) fn check_client_certificate(
    config: &ServerConfig,
    core: &mut CommonState,
    message: &HandshakeMessage,
) -> Result<Vec<Vec<u8>>, Error> {
    let HandshakePayload::Certificate(certificate) = &message.payload else {
        return Err(Error::unexpected(format!(
            "expected the client's Certificate, got {}",
            message.typ().name()
        )));
    };
    let Some(auth) = config.client_auth.as_ref() else {
        return Err(Error::unexpected("a client Certificate we did not ask for"));
    };
    if certificate.chain.is_empty() {
        if auth.required {
            return Err(Error::protocol(
                AlertDescription::HandshakeFailure,
                "the client sent no certificate, and one is required",
            ));
        }
        return Ok(Vec::new());
    }
    let presented = certificate
        .chain
        .iter()
        .take(MAX_PRESENTED)
        .enumerate()
        .map(|(depth, der)| {
            Certificate::from_der(der)
                .map_err(|e| CertError::new(CertErrorKind::Malformed(e.to_string()), depth))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let now = auth.verify_time.unwrap_or_else(crate::text::unix_now);
    let outcome = verify_client_chain(&presented, &auth.roots, now);
    core.observe(&Event::CertificateChecked {
        presented: &presented,
        outcome: &outcome,
        at_unix: now,
        accepted: outcome.is_ok(),
    });
    outcome?;
    Ok(certificate.chain.clone())
}

/// The client's CertificateVerify: a signature, with the key of the leaf it sent, over every
/// handshake message before this one, hashed with the hash it names (one of ours).
pub(crate) fn check_certificate_verify(
    mut keys: Box<KeysAgreed>,
    core: &mut CommonState,
    message: &HandshakeMessage,
) -> Result<Box<KeysAgreed>, Error> {
    let HandshakePayload::CertificateVerify(verify) = &message.payload else {
        return Err(Error::unexpected(format!(
            "expected CertificateVerify, got {}",
            message.typ().name()
        )));
    };
    let Some(hash) = hash_of(verify.algorithm) else {
        return Err(Error::illegal(format!(
            "CertificateVerify uses algorithm {:#06x}, which we did not offer",
            verify.algorithm
        )));
    };
    // The chain verified in the Certificate step; parsing its leaf again cannot fail then.
    let leaf = keys
        .info
        .client_chain
        .first()
        .and_then(|der| Certificate::from_der(der).ok())
        .ok_or_else(|| Error::unexpected("CertificateVerify without a client certificate"))?;
    let key = leaf.public_key().map_err(|e| {
        Error::protocol(
            AlertDescription::UnsupportedCertificate,
            format!("client key: {e}"),
        )
    })?;
    let transcript_hash = hash.digest(keys.transcript.messages());
    let verified = key
        .verify_pkcs1v15_prehashed(hash, &transcript_hash, &verify.signature)
        .is_ok();
    core.observe(&Event::ClientSignature {
        algorithm: verify.algorithm,
        transcript_hash: &transcript_hash,
        key_bits: key.bits(),
        signer: &leaf.subject().to_curl_string(),
        verified: Some(verified),
    });
    if !verified {
        return Err(Error::protocol(
            AlertDescription::DecryptError,
            "CertificateVerify: the signature does not verify with the client certificate's key",
        ));
    }
    keys.transcript.add(&message.raw);
    Ok(keys)
}

// ---- the client's side ----

/// What the client answers a CertificateRequest with: its chain when it has one the server can
/// use (an RSA certificate, a signature algorithm in common), else an empty Certificate. The
/// identity and algorithm to sign CertificateVerify with come back with it.
pub(crate) fn answer_request<'a>(
    config: &'a ClientConfig,
    request: &CertificateRequest,
) -> (HandshakeMessage, Option<(&'a ClientIdentity, u16)>) {
    let algorithm = SIGNATURE_ALGORITHMS
        .into_iter()
        .find(|a| request.signature_algorithms.contains(a));
    let usable = match (&config.client_identity, algorithm) {
        (Some(identity), Some(algorithm))
            if request.certificate_types.contains(&CERT_TYPE_RSA_SIGN) =>
        {
            Some((&**identity, algorithm))
        }
        _ => None,
    };
    let chain = usable
        .map(|(identity, _)| identity.chain.clone())
        .unwrap_or_default();
    let message = HandshakeMessage::new(HandshakePayload::Certificate(CertificateMsg { chain }));
    (message, usable)
}

/// CertificateVerify over `transcript` (every handshake message so far, ClientKeyExchange
/// included), signed with the identity's key.
pub(crate) fn sign_certificate_verify(
    identity: &ClientIdentity,
    algorithm: u16,
    transcript: &Transcript,
    core: &mut CommonState,
) -> Result<HandshakeMessage, Error> {
    let hash = hash_of(algorithm).ok_or_else(|| Error::config("no signature algorithm"))?;
    let transcript_hash = hash.digest(transcript.messages());
    let signature = identity
        .key
        .sign_pkcs1v15_prehashed(hash, &transcript_hash)
        .map_err(|e| Error::config(format!("signing CertificateVerify: {e}")))?;
    let signer = identity
        .chain
        .first()
        .and_then(|der| Certificate::from_der(der).ok())
        .map(|leaf| leaf.subject().to_curl_string())
        .unwrap_or_default();
    core.observe(&Event::ClientSignature {
        algorithm,
        transcript_hash: &transcript_hash,
        key_bits: identity.key.public_key().bits(),
        signer: &signer,
        verified: None,
    });
    Ok(HandshakeMessage::new(HandshakePayload::CertificateVerify(
        CertificateVerify {
            algorithm,
            signature,
        },
    )))
}
