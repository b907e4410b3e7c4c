//! The one error type of the library. Every variant knows which alert (if any) the peer gets,
//! so a failure deep in the record layer or the handshake reaches the wire as the RFC alert.

use crate::alert::AlertDescription;
use crate::crypto::cipher::BadRecordMac;
use crate::pki::CertError;
use std::borrow::Cow;

#[derive(Clone, Debug)]
pub enum Error {
    /// We found the peer's bytes wrong; `alert` is what we send it.
    Protocol {
        alert: AlertDescription,
        reason: Cow<'static, str>,
    },
    /// The peer sent us a fatal alert (or a warning alert we treat as fatal).
    AlertReceived(AlertDescription),
    /// The peer's certificate chain failed verification.
    Certificate(CertError),
    /// The transport ended without close_notify: the data may have been cut short.
    Truncated,
    /// Our own configuration or use of the API is wrong (no alert is owed to the peer).
    Config(Cow<'static, str>),
}

impl Error {
    pub fn protocol(alert: AlertDescription, reason: impl Into<Cow<'static, str>>) -> Self {
        Self::Protocol {
            alert,
            reason: reason.into(),
        }
    }

    pub fn decode(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::protocol(AlertDescription::DecodeError, reason)
    }

    pub fn unexpected(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::protocol(AlertDescription::UnexpectedMessage, reason)
    }

    pub fn illegal(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::protocol(AlertDescription::IllegalParameter, reason)
    }

    /// One message for bad padding and bad MAC alike: telling them apart is a padding oracle.
    pub fn bad_record_mac() -> Self {
        Self::protocol(
            AlertDescription::BadRecordMac,
            "record failed its integrity check",
        )
    }

    pub fn config(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::Config(reason.into())
    }

    /// The alert we owe the peer for this error, if any.
    pub fn alert(&self) -> Option<AlertDescription> {
        match self {
            Self::Protocol { alert, .. } => Some(*alert),
            Self::Certificate(e) => Some(e.alert()),
            Self::AlertReceived(_) | Self::Truncated | Self::Config(_) => None,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Protocol { alert, reason } => write!(f, "{reason} (sent alert {alert})"),
            Self::AlertReceived(alert) => write!(f, "peer sent alert {alert}"),
            Self::Certificate(e) => write!(f, "certificate problem: {e}"),
            Self::Truncated => f.write_str("connection closed without close_notify (truncated)"),
            Self::Config(reason) => write!(f, "configuration error: {reason}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<CertError> for Error {
    fn from(e: CertError) -> Self {
        Self::Certificate(e)
    }
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        let kind = match e {
            Error::Truncated => std::io::ErrorKind::UnexpectedEof,
            _ => std::io::ErrorKind::InvalidData,
        };
        std::io::Error::new(kind, e)
    }
}

impl From<BadRecordMac> for Error {
    fn from(_: BadRecordMac) -> Self {
        Self::bad_record_mac()
    }
}
