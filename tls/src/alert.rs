//! Alert protocol (RFC 5246 §7.2): two bytes, a level and a description.

/// How serious an alert is. A `Fatal` alert ends the connection at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertLevel {
    Warning,
    Fatal,
    Unknown(u8),
}

impl AlertLevel {
    pub fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::Warning,
            2 => Self::Fatal,
            other => Self::Unknown(other),
        }
    }

    pub fn to_u8(self) -> u8 {
        match self {
            Self::Warning => 1,
            Self::Fatal => 2,
            Self::Unknown(v) => v,
        }
    }
}

macro_rules! alert_descriptions {
    ($($name:ident = $code:literal, $text:literal;)*) => {
        /// What went wrong, as the RFC numbers it. Unknown codes still round-trip.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum AlertDescription {
            $($name,)*
            Unknown(u8),
        }

        impl AlertDescription {
            pub fn from_u8(v: u8) -> Self {
                match v {
                    $($code => Self::$name,)*
                    other => Self::Unknown(other),
                }
            }

            pub fn to_u8(self) -> u8 {
                match self {
                    $(Self::$name => $code,)*
                    Self::Unknown(v) => v,
                }
            }

            /// The RFC name, e.g. `bad_record_mac`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$name => $text,)*
                    Self::Unknown(_) => "unknown",
                }
            }
        }
    };
}

alert_descriptions! {
    CloseNotify = 0, "close_notify";
    UnexpectedMessage = 10, "unexpected_message";
    BadRecordMac = 20, "bad_record_mac";
    DecryptionFailed = 21, "decryption_failed";
    RecordOverflow = 22, "record_overflow";
    DecompressionFailure = 30, "decompression_failure";
    HandshakeFailure = 40, "handshake_failure";
    NoCertificate = 41, "no_certificate";
    BadCertificate = 42, "bad_certificate";
    UnsupportedCertificate = 43, "unsupported_certificate";
    CertificateRevoked = 44, "certificate_revoked";
    CertificateExpired = 45, "certificate_expired";
    CertificateUnknown = 46, "certificate_unknown";
    IllegalParameter = 47, "illegal_parameter";
    UnknownCa = 48, "unknown_ca";
    AccessDenied = 49, "access_denied";
    DecodeError = 50, "decode_error";
    DecryptError = 51, "decrypt_error";
    ExportRestriction = 60, "export_restriction";
    ProtocolVersion = 70, "protocol_version";
    InsufficientSecurity = 71, "insufficient_security";
    InternalError = 80, "internal_error";
    InappropriateFallback = 86, "inappropriate_fallback";
    UserCanceled = 90, "user_canceled";
    NoRenegotiation = 100, "no_renegotiation";
    UnsupportedExtension = 110, "unsupported_extension";
    UnrecognizedName = 112, "unrecognized_name";
    NoApplicationProtocol = 120, "no_application_protocol";
}

impl std::fmt::Display for AlertDescription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unknown(v) => write!(f, "unknown alert ({v})"),
            known => f.write_str(known.name()),
        }
    }
}

/// One alert as it travels in a record of content type 21.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Alert {
    pub level: AlertLevel,
    pub description: AlertDescription,
}

impl Alert {
    pub fn fatal(description: AlertDescription) -> Self {
        Self {
            level: AlertLevel::Fatal,
            description,
        }
    }

    pub fn close_notify() -> Self {
        Self {
            level: AlertLevel::Warning,
            description: AlertDescription::CloseNotify,
        }
    }

    pub fn encode(self) -> [u8; 2] {
        [self.level.to_u8(), self.description.to_u8()]
    }

    /// An alert record body is exactly two bytes; anything else is `decode_error`.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        match bytes {
            [level, description] => Some(Self {
                level: AlertLevel::from_u8(*level),
                description: AlertDescription::from_u8(*description),
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for v in 0..=255u8 {
            assert_eq!(AlertDescription::from_u8(v).to_u8(), v);
        }
        assert_eq!(
            AlertDescription::from_u8(20),
            AlertDescription::BadRecordMac
        );
        assert_eq!(AlertDescription::BadRecordMac.name(), "bad_record_mac");
    }

    #[test]
    fn alert_decode_needs_two_bytes() {
        assert_eq!(
            Alert::decode(&[2, 40]),
            Some(Alert::fatal(AlertDescription::HandshakeFailure))
        );
        assert_eq!(Alert::decode(&[2]), None);
        assert_eq!(Alert::decode(&[2, 40, 0]), None);
    }
}
