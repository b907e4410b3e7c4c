//! The key schedule (RFC 5246 §8.1, §6.3, §7.4.9; RFC 7627): from the pre-master secret to the
//! master secret, the key block and the Finished verify_data, and the transcript they hash.

use crate::alert::AlertDescription;
use crate::common_state::CommonState;
use crate::crypto::cipher::RecordCipher;
use crate::crypto::ct::ct_eq;
use crate::crypto::prf::{self, KeyBlock};
use crate::msgs::handshake::{HandshakeMessage, HandshakePayload};
use crate::session::SessionInfo;
use crate::suites::{CipherSuite, PrfHash};
use crate::Error;
use sha2::{Digest, Sha256, Sha384};

/// The running hash of every handshake message so far, over the exact bytes on the wire.
/// The suite's PRF names the hash (RFC 5246 §7.4.9), but the ClientHello is hashed before any
/// suite is chosen: so both candidates run, and the key schedule takes the suite's one.
/// The bytes themselves are kept too: CertificateVerify hashes them with whichever hash the
/// client names (RFC 5246 §7.4.8). Bounded: a handshake is a handful of messages, each capped
/// by the joiner.
#[derive(Clone, Default)]
pub(crate) struct Transcript {
    sha256: Sha256,
    sha384: Sha384,
    messages: Vec<u8>,
}

impl Transcript {
    pub(crate) fn add(&mut self, raw: &[u8]) {
        self.sha256.update(raw);
        self.sha384.update(raw);
        self.messages.extend_from_slice(raw);
    }

    /// Every handshake message so far, as on the wire (for CertificateVerify).
    pub(crate) fn messages(&self) -> &[u8] {
        &self.messages
    }

    pub(crate) fn current_hash(&self) -> HandshakeHash {
        HandshakeHash {
            sha256: self.sha256.clone().finalize().into(),
            sha384: self.sha384.clone().finalize().into(),
        }
    }
}

/// The transcript hash at one point, under each PRF hash a suite may name.
pub(crate) struct HandshakeHash {
    sha256: [u8; 32],
    sha384: [u8; 48],
}

impl HandshakeHash {
    pub(crate) fn for_prf(&self, hash: PrfHash) -> &[u8] {
        match hash {
            PrfHash::Sha256 => &self.sha256,
            PrfHash::Sha384 => &self.sha384,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Client,
    Server,
}

/// What both sides share once the pre-master secret has crossed, with what the key block and
/// the record protection are derived from.
pub(crate) struct Secrets {
    master_secret: [u8; 48],
    /// RFC 7627: the session hash went into the master secret.
    extended: bool,
    client_random: [u8; 32],
    server_random: [u8; 32],
    suite: &'static CipherSuite,
    encrypt_then_mac: bool,
}

impl Secrets {
    /// Derives the master secret from the pre-master secret and the hellos `info` records
    /// (extended when `session_hash` is given). Pure: switching keys is `common_state`'s.
    pub(crate) fn derive(
        pre_master_secret: &[u8],
        info: &SessionInfo,
        session_hash: Option<&HandshakeHash>,
    ) -> Self {
        let prf = info.suite.prf;
        let master_secret = match session_hash {
            Some(hash) => prf::extended_master_secret(prf, pre_master_secret, hash.for_prf(prf)),
            None => prf::master_secret(
                prf,
                pre_master_secret,
                &info.client_random,
                &info.server_random,
            ),
        };
        Self {
            master_secret,
            extended: session_hash.is_some(),
            client_random: info.client_random,
            server_random: info.server_random,
            suite: info.suite,
            encrypt_then_mac: info.encrypt_then_mac,
        }
    }

    /// An abbreviated handshake (RFC 5246 §7.3): the remembered master secret, with the new
    /// hellos' randoms — so a fresh key block.
    pub(crate) fn resumed(master_secret: [u8; 48], extended: bool, info: &SessionInfo) -> Self {
        Self {
            master_secret,
            extended,
            client_random: info.client_random,
            server_random: info.server_random,
            suite: info.suite,
            encrypt_then_mac: info.encrypt_then_mac,
        }
    }

    pub(crate) fn master_secret(&self) -> &[u8; 48] {
        &self.master_secret
    }

    pub(crate) fn extended(&self) -> bool {
        self.extended
    }

    pub(crate) fn client_random(&self) -> &[u8; 32] {
        &self.client_random
    }

    /// The MAC and encryption keys of both directions (RFC 5246 §6.3).
    pub(crate) fn key_block(&self) -> KeyBlock {
        prf::key_block(
            &self.master_secret,
            &self.client_random,
            &self.server_random,
            self.suite,
        )
    }

    /// Record protection from `key_block`: (what `side` seals with, what it opens with).
    pub(crate) fn record_ciphers(
        &self,
        key_block: &KeyBlock,
        side: Side,
    ) -> (RecordCipher, RecordCipher) {
        let client_write = RecordCipher::with_fixed_iv(
            self.suite,
            &key_block.client_write_mac_key,
            &key_block.client_write_key,
            &key_block.client_write_iv,
            self.encrypt_then_mac,
        );
        let server_write = RecordCipher::with_fixed_iv(
            self.suite,
            &key_block.server_write_mac_key,
            &key_block.server_write_key,
            &key_block.server_write_iv,
            self.encrypt_then_mac,
        );
        match side {
            Side::Client => (client_write, server_write),
            Side::Server => (server_write, client_write),
        }
    }

    /// The 12 bytes a Finished message from `side` carries over this transcript hash (taken
    /// with the suite's PRF hash).
    pub(crate) fn verify_data(&self, side: Side, handshake_hash: &HandshakeHash) -> [u8; 12] {
        let label: &[u8] = match side {
            Side::Client => b"client finished",
            Side::Server => b"server finished",
        };
        let prf = self.suite.prf;
        prf::verify_data(prf, &self.master_secret, label, handshake_hash.for_prf(prf))
    }
}

/// Both sides from the key exchange to the end of the handshake: waiting for the peer's
/// ChangeCipherSpec, then for its Finished.
pub(crate) struct KeysAgreed {
    pub(crate) secrets: Secrets,
    pub(crate) transcript: Transcript,
    pub(crate) info: SessionInfo,
}

impl KeysAgreed {
    /// The peer's ChangeCipherSpec: its records are protected with the new keys from here on.
    pub(crate) fn peer_change_cipher_spec(
        self: Box<Self>,
        core: &mut CommonState,
    ) -> Result<Box<Self>, Error> {
        core.peer_changed_cipher_spec()?;
        Ok(self)
    }

    /// The Finished from `peer` must carry the verify_data of our own transcript: proof that it
    /// holds the same master secret and saw the very same handshake messages.
    pub(crate) fn check_peer_finished(
        &self,
        peer: Side,
        message: &HandshakeMessage,
    ) -> Result<(), Error> {
        let HandshakePayload::Finished(finished) = &message.payload else {
            return Err(Error::unexpected(format!(
                "expected Finished, got {}",
                message.typ().name()
            )));
        };
        let expected = self
            .secrets
            .verify_data(peer, &self.transcript.current_hash());
        if !ct_eq(&expected, &finished.verify_data) {
            return Err(Error::protocol(
                AlertDescription::DecryptError,
                "Finished does not verify",
            ));
        }
        Ok(())
    }
}

/// 32 fresh random bytes (a hello random, or the fallback pre-master secret's source).
pub(crate) fn random32() -> [u8; 32] {
    let mut r = [0u8; 32];
    rand::fill(&mut r[..]);
    r
}
