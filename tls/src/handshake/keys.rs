//! The key schedule (RFC 5246 §8.1, §6.3, §7.4.9; RFC 7627): from the pre-master secret to the
//! master secret, the key block and the Finished verify_data, and the transcript they hash.

use crate::alert::AlertDescription;
use crate::common_state::Core;
use crate::crypto::cipher::RecordCipher;
use crate::crypto::ct::ct_eq;
use crate::crypto::prf;
use crate::handshake::messages::{HandshakeMessage, HandshakePayload};
use crate::session::SessionInfo;
use crate::suites::CipherSuite;
use crate::trace::Event;
use crate::Error;
use sha2::{Digest, Sha256};

/// The running SHA-256 of every handshake message so far, over the exact bytes on the wire.
#[derive(Clone, Default)]
pub(crate) struct Transcript(Sha256);

impl Transcript {
    pub(crate) fn add(&mut self, raw: &[u8]) {
        self.0.update(raw);
    }

    pub(crate) fn current_hash(&self) -> [u8; 32] {
        self.0.clone().finalize().into()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Client,
    Server,
}

/// What both sides share once the pre-master secret has crossed.
pub(crate) struct Secrets {
    master_secret: [u8; 48],
}

impl Secrets {
    /// Derives the master secret (extended when `session_hash` is given), logs it for key-log
    /// readers, and prepares — but does not yet activate — both directions' record protection.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn derive(
        core: &mut Core,
        side: Side,
        pre_master_secret: &[u8],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
        session_hash: Option<&[u8; 32]>,
        suite: &'static CipherSuite,
        encrypt_then_mac: bool,
    ) -> Self {
        let master_secret = match session_hash {
            Some(hash) => prf::extended_master_secret(pre_master_secret, hash),
            None => prf::master_secret(pre_master_secret, client_random, server_random),
        };
        core.observe(&Event::MasterSecret {
            master_secret: &master_secret,
            extended: session_hash.is_some(),
            client_random,
        });
        core.log_key(client_random, &master_secret);

        let key_block = prf::key_block(&master_secret, client_random, server_random, suite);
        core.observe(&Event::KeyBlock {
            key_block: &key_block,
        });
        let client_write = RecordCipher::new(
            suite,
            &key_block.client_write_mac_key,
            &key_block.client_write_key,
            encrypt_then_mac,
        );
        let server_write = RecordCipher::new(
            suite,
            &key_block.server_write_mac_key,
            &key_block.server_write_key,
            encrypt_then_mac,
        );
        let (ours, theirs) = match side {
            Side::Client => (client_write, server_write),
            Side::Server => (server_write, client_write),
        };
        core.record_layer.prepare_encrypter(ours);
        core.record_layer.prepare_decrypter(theirs);
        Self { master_secret }
    }

    /// The 12 bytes a Finished message from `side` carries over this transcript hash.
    pub(crate) fn verify_data(&self, side: Side, handshake_hash: &[u8; 32]) -> [u8; 12] {
        let label: &[u8] = match side {
            Side::Client => b"client finished",
            Side::Server => b"server finished",
        };
        prf::verify_data(&self.master_secret, label, handshake_hash)
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
        core: &mut Core,
    ) -> Result<Box<Self>, Error> {
        core.record_layer.activate_decrypter()?;
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
