//! Why a certificate chain was refused: one precise reason, with OpenSSL's code and wording so
//! users of `openssl verify` and curl recognise it, and the TLS alert a client sends for it.

use crate::alert::AlertDescription;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertErrorKind {
    /// No trusted root (and no given intermediate) issued this certificate.
    UnknownIssuer,
    /// The leaf signed itself and is not among the trust anchors.
    SelfSigned,
    /// The chain ends in a self-signed root that is not trusted.
    SelfSignedInChain,
    Expired,
    NotYetValid,
    /// None of the subjectAltName entries matches the host we asked for.
    HostMismatch {
        host: String,
    },
    /// The issuer's key does not verify the signature.
    BadSignature,
    /// The issuer lacks basicConstraints CA:TRUE (or keyCertSign).
    NotACa,
    /// More CAs below an issuer than its pathLenConstraint allows.
    PathTooLong,
    /// The path would need more certificates than we are willing to follow.
    ChainTooLong,
    /// A critical extension we do not implement (RFC 5280 §4.2: MUST reject).
    UnhandledCriticalExtension(String),
    /// keyUsage or extendedKeyUsage forbids use as a TLS server certificate.
    InvalidPurpose,
    /// An RSA key shorter than [`crate::pki::verify::MIN_RSA_BITS`]: the leaf's (OpenSSL 66)
    /// or a CA's (67), as OpenSSL reports from security level 2.
    KeyTooSmall {
        bits: usize,
    },
    /// RSA key transport encrypts the pre-master secret to the leaf's key, so a keyUsage that
    /// is present must allow keyEncipherment (RFC 5246 §7.4.2).
    NoKeyEncipherment,
    /// A signature or key algorithm we refuse (e.g. SHA-1, MD5, non-RSA).
    UnsupportedAlgorithm(String),
    /// Bytes that are not a certificate we can read.
    Malformed(String),
    /// A rule of the RFC 5280 / CA/Browser Forum profile the certificate breaks: OpenSSL's
    /// code when it has one for the reason (then `reason` starts with its wording), and the
    /// rule named in the text.
    Profile {
        code: Option<u32>,
        reason: String,
    },
}

/// A refusal, and the position in the chain (0 = leaf) where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertError {
    pub kind: CertErrorKind,
    pub depth: usize,
}

impl CertError {
    pub fn new(kind: CertErrorKind, depth: usize) -> Self {
        Self { kind, depth }
    }

    /// OpenSSL's `X509_V_ERR_*` number, as `openssl verify` and curl's `ssl_verify_result` print it.
    pub fn openssl_code(&self) -> u32 {
        match self.kind {
            CertErrorKind::UnknownIssuer => 20,
            CertErrorKind::SelfSigned => 18,
            CertErrorKind::SelfSignedInChain => 19,
            CertErrorKind::Expired => 10,
            CertErrorKind::NotYetValid => 9,
            CertErrorKind::HostMismatch { .. } => 62,
            CertErrorKind::BadSignature => 7,
            CertErrorKind::NotACa => 79,
            CertErrorKind::PathTooLong => 25,
            CertErrorKind::ChainTooLong => 22,
            CertErrorKind::UnhandledCriticalExtension(_) => 34,
            CertErrorKind::InvalidPurpose | CertErrorKind::NoKeyEncipherment => 26,
            CertErrorKind::KeyTooSmall { .. } if self.depth == 0 => 66,
            CertErrorKind::KeyTooSmall { .. } => 67,
            CertErrorKind::UnsupportedAlgorithm(_) => 68,
            CertErrorKind::Malformed(_) => 4,
            // X509_V_ERR_UNSPECIFIED when OpenSSL has no code for the reason.
            CertErrorKind::Profile { code, .. } => code.unwrap_or(1),
        }
    }

    /// Whether OpenSSL has a code of its own for this reason (else `openssl_code` is 1,
    /// "unspecified", and the text is ours).
    pub fn has_openssl_code(&self) -> bool {
        !matches!(self.kind, CertErrorKind::Profile { code: None, .. })
    }

    /// The alert a client sends when it refuses the server's chain for this reason.
    pub fn alert(&self) -> AlertDescription {
        match self.kind {
            CertErrorKind::UnknownIssuer
            | CertErrorKind::SelfSigned
            | CertErrorKind::SelfSignedInChain
            | CertErrorKind::NotACa => AlertDescription::UnknownCa,
            CertErrorKind::Expired => AlertDescription::CertificateExpired,
            CertErrorKind::InvalidPurpose
            | CertErrorKind::NoKeyEncipherment
            | CertErrorKind::UnsupportedAlgorithm(_)
            | CertErrorKind::UnhandledCriticalExtension(_) => {
                AlertDescription::UnsupportedCertificate
            }
            CertErrorKind::NotYetValid
            | CertErrorKind::HostMismatch { .. }
            | CertErrorKind::BadSignature
            | CertErrorKind::PathTooLong
            | CertErrorKind::ChainTooLong
            | CertErrorKind::KeyTooSmall { .. }
            | CertErrorKind::Malformed(_)
            | CertErrorKind::Profile { .. } => AlertDescription::BadCertificate,
        }
    }
}

impl std::fmt::Display for CertError {
    /// OpenSSL 3's wording, which curl prints after "SSL certificate problem: ".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            CertErrorKind::UnknownIssuer => f.write_str("unable to get local issuer certificate"),
            CertErrorKind::SelfSigned => f.write_str("self-signed certificate"),
            CertErrorKind::SelfSignedInChain => {
                f.write_str("self-signed certificate in certificate chain")
            }
            CertErrorKind::Expired => f.write_str("certificate has expired"),
            CertErrorKind::NotYetValid => f.write_str("certificate is not yet valid"),
            CertErrorKind::HostMismatch { host } => {
                write!(
                    f,
                    "no alternative certificate subject name matches target host name '{host}'"
                )
            }
            CertErrorKind::BadSignature => f.write_str("certificate signature failure"),
            CertErrorKind::NotACa => f.write_str("invalid CA certificate"),
            CertErrorKind::PathTooLong => f.write_str("path length constraint exceeded"),
            CertErrorKind::ChainTooLong => f.write_str("certificate chain too long"),
            CertErrorKind::UnhandledCriticalExtension(_) => {
                f.write_str("unhandled critical extension")
            }
            CertErrorKind::InvalidPurpose => f.write_str("unsupported certificate purpose"),
            // OpenSSL's words, then the size so the reason is plain.
            CertErrorKind::KeyTooSmall { bits } => write!(
                f,
                "{} certificate key too weak (RSA {bits} bits; at least {} required)",
                if self.depth == 0 { "EE" } else { "CA" },
                crate::pki::verify::MIN_RSA_BITS
            ),
            CertErrorKind::NoKeyEncipherment => f.write_str(
                "unsupported certificate purpose: keyUsage lacks keyEncipherment, which RSA key \
                 exchange needs (RFC 5246 §7.4.2)",
            ),
            CertErrorKind::UnsupportedAlgorithm(what) => {
                write!(f, "unsupported algorithm: {what}")
            }
            CertErrorKind::Malformed(what) => write!(f, "malformed certificate: {what}"),
            CertErrorKind::Profile { reason, .. } => f.write_str(reason),
        }
    }
}

impl std::error::Error for CertError {}
