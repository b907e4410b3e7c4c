//! Observability: the events of a connection (every record and handshake message in and out, the
//! secrets as they are derived, alerts) for `-v`, `--explain` and `--wire`, and the NSS key log
//! (`CLIENT_RANDOM <client random> <master secret>`) that lets Wireshark/tshark decrypt a capture.

use crate::alert::Alert;
use crate::crypto::cipher::RecordCipher;
use crate::crypto::prf::KeyBlock;
use crate::msgs::handshake::HandshakeMessage;
use crate::record::ContentType;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

/// Which way a record or message travelled, seen from this side of the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Sent,
    Received,
}

/// One thing that happened on a connection. Borrowed data is only valid during the callback.
#[derive(Debug)]
pub enum Event<'a> {
    /// A record as it crossed the wire (`wire`: 5-byte header + payload, encrypted or not) and
    /// the plaintext it carried.
    Record {
        direction: Direction,
        content_type: ContentType,
        wire: &'a [u8],
        plaintext: &'a [u8],
        /// How the record layer protected it; `None` before ChangeCipherSpec (plaintext).
        protection: Option<Protection<'a>>,
    },
    /// A complete handshake message; `message.raw` holds its exact bytes.
    Handshake {
        direction: Direction,
        message: &'a HandshakeMessage,
    },
    ChangeCipherSpec {
        direction: Direction,
    },
    Alert {
        direction: Direction,
        alert: Alert,
    },
    /// The client's random pre-master secret and its RSA encryption under the server's key
    /// (on the server side `encrypted` is what arrived and `premaster` what decryption gave).
    PremasterSecret {
        premaster: &'a [u8],
        /// The PKCS#1 block m (c = m^e mod n): the client's before encryption, or the server's
        /// after decryption; `None` if it could not be computed.
        padded: Option<&'a [u8]>,
        encrypted: &'a [u8],
    },
    /// ECDHE (RFC 8422): the group, both ephemeral public keys, the server's signature that
    /// binds its key to its certificate, and the shared secret this side computed — the
    /// pre-master secret. Never the ephemeral private keys.
    EcdheSharedSecret {
        group: crate::crypto::ecdh::NamedGroup,
        client_public: &'a [u8],
        server_public: &'a [u8],
        /// `SignatureAndHashAlgorithm`, e.g. 0x0401 = rsa_pkcs1_sha256.
        signature_scheme: u16,
        signature: &'a [u8],
        shared_secret: &'a [u8],
    },
    /// The 48-byte master secret; `extended` when RFC 7627's session hash went into it.
    MasterSecret {
        master_secret: &'a [u8; 48],
        extended: bool,
        client_random: &'a [u8; 32],
    },
    /// The key block split into MAC keys and encryption keys.
    KeyBlock {
        key_block: &'a KeyBlock,
    },
    /// The peer's certificate chain was checked at `at_unix`: `presented` as the peer sent it,
    /// `outcome` the verified path (leaf to trust anchor) or why there is none; `accepted`
    /// whether the policy went on anyway.
    CertificateChecked {
        presented: &'a [crate::pki::x509::Certificate],
        outcome: &'a Result<crate::pki::verify::VerifiedChain, crate::pki::CertError>,
        at_unix: i64,
        accepted: bool,
    },
    /// CertificateVerify (RFC 5246 §7.4.8): the client signed `transcript_hash` (the hash named
    /// by `algorithm` of every handshake message before CertificateVerify) with the key of the
    /// certificate whose subject is `signer`. `verified`: `None` on the signing side, the
    /// server's verdict on the other.
    ClientSignature {
        algorithm: u16,
        transcript_hash: &'a [u8],
        key_bits: usize,
        signer: &'a str,
        verified: Option<bool>,
    },
    /// The handshake finished; what was negotiated.
    HandshakeComplete {
        info: &'a crate::session::SessionInfo,
    },
}

/// The protection of one record, as the record layer applied or removed it: its cipher (suite,
/// keys, encrypt-then-MAC or not) and the sequence number the MAC covered.
#[derive(Clone, Copy, Debug)]
pub struct Protection<'a> {
    pub cipher: &'a RecordCipher,
    pub seq: u64,
}

/// Receives the events of a connection (`Send + Sync`: a config is shared by many connections).
pub trait Observer: Send + Sync {
    fn event(&self, event: &Event<'_>);
}

/// Where master secrets go for offline decryption.
pub trait KeyLog: Send + Sync {
    fn log(&self, client_random: &[u8; 32], master_secret: &[u8; 48]);
}

/// The NSS key log format line for one connection.
pub fn keylog_line(client_random: &[u8; 32], master_secret: &[u8; 48]) -> String {
    format!(
        "CLIENT_RANDOM {} {}",
        hex(client_random),
        hex(master_secret)
    )
}

/// Appends key log lines to a file (created with mode 0600: it holds secrets).
pub struct KeyLogFile {
    file: Mutex<std::fs::File>,
}

impl KeyLogFile {
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        Ok(Self {
            file: Mutex::new(options.open(path)?),
        })
    }
}

impl KeyLog for KeyLogFile {
    fn log(&self, client_random: &[u8; 32], master_secret: &[u8; 48]) {
        let line = keylog_line(client_random, master_secret);
        if let Ok(mut file) = self.file.lock() {
            // A key log is a debugging aid: failing to write it must not break the connection.
            let _ = writeln!(file, "{line}");
        }
    }
}

pub use crate::text::hex;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keylog_line_format() {
        let line = keylog_line(&[0xab; 32], &[0x01; 48]);
        assert!(line.starts_with("CLIENT_RANDOM abab"));
        let parts: Vec<&str> = line.split(' ').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[1].len(), 64);
        assert_eq!(parts[2].len(), 96);
    }

    #[test]
    fn keylog_file_appends() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("keys.log");
        let log = KeyLogFile::open(&path)?;
        log.log(&[1; 32], &[2; 48]);
        log.log(&[3; 32], &[4; 48]);
        let text = std::fs::read_to_string(&path)?;
        assert_eq!(text.lines().count(), 2);
        assert!(text.lines().all(|l| l.starts_with("CLIENT_RANDOM ")));
        Ok(())
    }
}
