//! Session tickets (RFC 5077): the server hands the client its own session state, sealed under
//! a key only the server (or its sibling instances) holds, instead of keeping it in a cache.
//!
//! The ticket follows RFC 5077 §4's recommended construction:
//!
//! ```text
//! struct {
//!     opaque key_name[16];           // which key sealed it, in clear
//!     opaque iv[16];
//!     opaque encrypted_state<0..2^16-1>;   // AES-256-CBC, PKCS#7 padding
//!     opaque mac[32];                // HMAC-SHA-256 over all of the above
//! } ticket;
//! ```
//!
//! Encrypt-then-MAC: the MAC is checked (in constant time) before anything is decrypted, so a
//! forged ticket teaches an attacker nothing but "full handshake". Keys rotate; the previous
//! key still opens tickets (which are then renewed under the current one).

use crate::crypto::ct::ct_eq;
use aes::Aes256;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyInit, KeyIvInit};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const NAME_LEN: usize = 16;
const IV_LEN: usize = 16;
const MAC_LEN: usize = 32;
const BLOCK: usize = 16;
/// Size of a key file: nginx's 80-byte `ssl_session_ticket_key` layout.
pub const KEY_FILE_LEN: usize = 80;
/// How often a generated key is replaced (nginx and OpenSSL use similar periods).
pub const DEFAULT_ROTATION: Duration = Duration::from_secs(12 * 3600);

/// One ticket key: a public name and two secrets.
#[derive(Clone)]
pub struct TicketKey {
    name: [u8; NAME_LEN],
    hmac_key: [u8; 32],
    aes_key: [u8; 32],
}

impl TicketKey {
    /// A fresh random key.
    pub fn random() -> Self {
        let mut bytes = [0u8; KEY_FILE_LEN];
        rand::fill(&mut bytes[..]);
        Self::from_key_file(&bytes).unwrap_or_else(|_| unreachable!("80 bytes"))
    }

    /// An 80-byte key file in nginx's layout (`ngx_ssl_session_ticket_keys` in
    /// src/event/ngx_event_openssl.c, 80-byte case): bytes 0..16 the key name, 16..48 the
    /// HMAC-SHA-256 key, 48..80 the AES-256 key. So one file serves nginx and us.
    pub fn from_key_file(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() != KEY_FILE_LEN {
            return Err(format!(
                "a ticket key file holds exactly {KEY_FILE_LEN} bytes (16-byte name, 32-byte \
                 HMAC key, 32-byte AES key), not {}",
                bytes.len()
            ));
        }
        let mut key = Self {
            name: [0; NAME_LEN],
            hmac_key: [0; 32],
            aes_key: [0; 32],
        };
        key.name.copy_from_slice(&bytes[..16]);
        key.hmac_key.copy_from_slice(&bytes[16..48]);
        key.aes_key.copy_from_slice(&bytes[48..80]);
        Ok(key)
    }

    pub fn name(&self) -> [u8; NAME_LEN] {
        self.name
    }

    fn mac(&self, data: &[u8]) -> [u8; MAC_LEN] {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.hmac_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    fn seal(&self, plaintext: &[u8]) -> Option<Vec<u8>> {
        let pad = BLOCK - plaintext.len() % BLOCK;
        let mut body = plaintext.to_vec();
        body.resize(plaintext.len() + pad, pad as u8);
        let len = u16::try_from(body.len()).ok()?;
        let mut iv = [0u8; IV_LEN];
        rand::fill(&mut iv[..]);
        let (blocks, _) = cbc::cipher::Array::slice_as_chunks_mut(&mut body);
        cbc::Encryptor::<Aes256>::new(&self.aes_key.into(), &iv.into()).encrypt_blocks(blocks);
        let mut ticket = Vec::with_capacity(NAME_LEN + IV_LEN + 2 + body.len() + MAC_LEN);
        ticket.extend_from_slice(&self.name);
        ticket.extend_from_slice(&iv);
        ticket.extend_from_slice(&len.to_be_bytes());
        ticket.extend_from_slice(&body);
        let mac = self.mac(&ticket);
        ticket.extend_from_slice(&mac);
        Some(ticket)
    }

    /// The plaintext of `ticket` if its MAC verifies under this key; `None` for anything
    /// malformed or forged.
    fn open(&self, ticket: &[u8]) -> Option<Vec<u8>> {
        let (authenticated, mac) = ticket.split_at_checked(ticket.len().checked_sub(MAC_LEN)?)?;
        if !ct_eq(&self.mac(authenticated), mac) {
            return None;
        }
        // Authentic: made by us, so well formed unless our own code is broken.
        let iv: [u8; IV_LEN] = authenticated
            .get(NAME_LEN..NAME_LEN + IV_LEN)?
            .try_into()
            .ok()?;
        let len_bytes = authenticated.get(NAME_LEN + IV_LEN..NAME_LEN + IV_LEN + 2)?;
        let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
        let mut body = authenticated.get(NAME_LEN + IV_LEN + 2..)?.to_vec();
        if body.len() != len || len == 0 || len % BLOCK != 0 {
            return None;
        }
        let (blocks, _) = cbc::cipher::Array::slice_as_chunks_mut(&mut body);
        cbc::Decryptor::<Aes256>::new(&self.aes_key.into(), &iv.into()).decrypt_blocks(blocks);
        let pad = usize::from(*body.last()?);
        if pad == 0 || pad > BLOCK || body[len - pad..].iter().any(|&b| usize::from(b) != pad) {
            return None;
        }
        body.truncate(len - pad);
        Some(body)
    }
}

/// The keys a server seals and opens tickets with: the current one and the one before it.
pub struct TicketKeys {
    ring: Mutex<Ring>,
    /// `None`: a key given by the operator (a file shared by instances), never replaced here.
    rotate_every: Option<Duration>,
}

struct Ring {
    current: TicketKey,
    previous: Option<TicketKey>,
    since: Instant,
}

/// A ticket opened: its plaintext, and whether to issue a new one (it was sealed under the
/// previous key).
pub struct Opened {
    pub plaintext: Vec<u8>,
    pub renew: bool,
}

impl TicketKeys {
    /// Random keys, replaced every `period`.
    pub fn rotating(period: Duration) -> Self {
        Self::with(TicketKey::random(), Some(period))
    }

    /// One fixed key (e.g. from `--ticket-key FILE`, shared by several instances).
    pub fn fixed(key: TicketKey) -> Self {
        Self::with(key, None)
    }

    fn with(key: TicketKey, rotate_every: Option<Duration>) -> Self {
        Self {
            ring: Mutex::new(Ring {
                current: key,
                previous: None,
                since: Instant::now(),
            }),
            rotate_every,
        }
    }

    /// Replace the current key by a fresh one; the old one becomes the previous key.
    pub fn rotate(&self) {
        if let Ok(mut ring) = self.ring.lock() {
            Self::rotate_ring(&mut ring);
        }
    }

    fn rotate_ring(ring: &mut Ring) {
        let old = std::mem::replace(&mut ring.current, TicketKey::random());
        ring.previous = Some(old);
        ring.since = Instant::now();
    }

    /// The current key, rotating first when it is due.
    fn current(&self) -> Option<TicketKey> {
        let mut ring = self.ring.lock().ok()?;
        if self
            .rotate_every
            .is_some_and(|period| ring.since.elapsed() >= period)
        {
            Self::rotate_ring(&mut ring);
        }
        Some(ring.current.clone())
    }

    /// A ticket holding `plaintext` under the current key (`None` only if the state is too
    /// large for a ticket).
    pub fn seal(&self, plaintext: &[u8]) -> Option<Vec<u8>> {
        self.current()?.seal(plaintext)
    }

    /// Opens a ticket sealed under the current or the previous key. `None` — unknown key
    /// name, bad MAC, malformed — means: ignore it, do a full handshake.
    pub fn open(&self, ticket: &[u8]) -> Option<Opened> {
        let name = ticket.get(..NAME_LEN)?;
        self.current()?;
        let ring = self.ring.lock().ok()?;
        // The key name is public: choosing the key by it leaks nothing.
        if name == ring.current.name {
            return ring.current.open(ticket).map(|plaintext| Opened {
                plaintext,
                renew: false,
            });
        }
        let previous = ring.previous.as_ref().filter(|k| k.name == name)?;
        previous.open(ticket).map(|plaintext| Opened {
            plaintext,
            renew: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens() {
        let keys = TicketKeys::rotating(DEFAULT_ROTATION);
        let ticket = keys.seal(b"state of the session").expect("seal");
        let opened = keys.open(&ticket).expect("open");
        assert_eq!(opened.plaintext, b"state of the session");
        assert!(!opened.renew);
        // Block-aligned plaintext gets a whole block of padding, and still opens.
        let ticket = keys.seal(&[3u8; 32]).expect("seal");
        assert_eq!(ticket.len(), 16 + 16 + 2 + 48 + 32);
        assert_eq!(keys.open(&ticket).expect("open").plaintext, [3u8; 32]);
    }

    #[test]
    fn every_flipped_bit_and_truncation_is_refused() {
        let keys = TicketKeys::rotating(DEFAULT_ROTATION);
        let ticket = keys.seal(b"hello").expect("seal");
        for i in 0..ticket.len() * 8 {
            let mut t = ticket.clone();
            t[i / 8] ^= 1 << (i % 8);
            assert!(keys.open(&t).is_none(), "bit {i}");
        }
        for n in 0..ticket.len() {
            assert!(keys.open(&ticket[..n]).is_none(), "cut at {n}");
        }
    }

    #[test]
    fn previous_key_opens_and_asks_for_renewal_then_is_forgotten() {
        let keys = TicketKeys::rotating(DEFAULT_ROTATION);
        let ticket = keys.seal(b"s").expect("seal");
        keys.rotate();
        let opened = keys.open(&ticket).expect("previous key still opens");
        assert!(opened.renew);
        keys.rotate();
        assert!(
            keys.open(&ticket).is_none(),
            "two rotations later: unknown key"
        );
    }

    #[test]
    fn other_key_cannot_open_and_file_layout_is_nginx() {
        let mut file = [0u8; 80];
        file[..16].copy_from_slice(b"0123456789abcdef");
        file[16..48].fill(0x11);
        file[48..].fill(0x22);
        let key = TicketKey::from_key_file(&file).expect("80 bytes");
        assert_eq!(&key.name(), b"0123456789abcdef");
        assert_eq!(key.hmac_key, [0x11; 32]);
        assert_eq!(key.aes_key, [0x22; 32]);
        assert!(TicketKey::from_key_file(&file[..48]).is_err());
        let a = TicketKeys::fixed(key.clone());
        let b = TicketKeys::fixed(key);
        let ticket = a.seal(b"shared").expect("seal");
        assert_eq!(b.open(&ticket).expect("same file").plaintext, b"shared");
        let c = TicketKeys::rotating(DEFAULT_ROTATION);
        assert!(c.open(&ticket).is_none());
    }
}
