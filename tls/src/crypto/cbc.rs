//! AES-CBC with HMAC record protection (RFC 5246 §6.2.3.2), MAC-then-encrypt by default or
//! encrypt-then-MAC when both sides asked for it (RFC 7366).
//!
//! ```text
//! MAC-then-encrypt:  IV || CBC( plaintext || MAC || padding )
//! encrypt-then-MAC:  IV || CBC( plaintext || padding ) || MAC(IV || ciphertext)
//! MAC input:         seq_num(8) || type(1) || version(2) || length(2) || data
//! padding:           pad_len + 1 bytes, each of value pad_len (not PKCS#7: one byte more)
//! ```
//!
//! Receiving MAC-then-encrypt is where TLS stacks leak (padding oracles, Lucky13): every failure
//! here is the same `bad_record_mac`, and the padding check, the MAC computation and the MAC
//! comparison take the same time whatever the padding byte says.
//!
//! Sending is the bulk-download hot path: `seal` works in the caller's buffer (one copy of the
//! plaintext, MAC streamed, CBC in place), and `seal_begin`/`seal_finish` seal up to 8 records
//! together so their independent CBC chains keep the AES unit busy.

use super::cipher::{mac_header, BadRecordMac, RecordAnatomy, MAC_HEADER_LEN};
use crate::suites::{BulkCipher, CipherSuite, MacAlgorithm};
use aes::{Aes128, Aes256};
use cbc::cipher::consts::U16;
use cbc::cipher::{
    Array, BlockCipherEncBackend, BlockCipherEncClosure, BlockCipherEncrypt, BlockModeDecrypt,
    BlockModeEncrypt, BlockSizeUser, InnerIvInit, KeyInit,
};
use hmac::{Hmac, Mac};
use rand::RngExt;
use sha1::Sha1;
use sha2::Sha256;
use std::hint::black_box;
use std::ops::Range;

/// AES block length, which is also the explicit IV length.
const BLOCK: usize = CipherSuite::BLOCK_LEN;
/// The longest MAC among our suites (HMAC-SHA256).
const MAX_MAC: usize = 32;

/// AES-CBC + HMAC protection of one direction: the suite, the keyed MAC and the AES key schedule.
#[derive(Clone)]
pub(crate) struct CbcRecord {
    suite: &'static CipherSuite,
    mac: MacState,
    aes: AesKey,
    encrypt_then_mac: bool,
}

impl CbcRecord {
    /// # Panics
    /// If `enc_key` is not the suite's key length (see [`RecordCipher::new`]).
    pub(crate) fn new(
        suite: &'static CipherSuite,
        mac_key: &[u8],
        enc_key: &[u8],
        encrypt_then_mac: bool,
    ) -> Self {
        // CBC suites only: RecordCipher sends the AEAD ones to GcmRecord.
        let mac = match suite.mac {
            MacAlgorithm::HmacSha1 => MacState::Sha1(
                <Hmac<Sha1> as KeyInit>::new_from_slice(mac_key)
                    .expect("HMAC accepts keys of any length"),
            ),
            MacAlgorithm::HmacSha256 | MacAlgorithm::Aead => MacState::Sha256(
                <Hmac<Sha256> as KeyInit>::new_from_slice(mac_key)
                    .expect("HMAC accepts keys of any length"),
            ),
        };
        let aes = match suite.cipher {
            BulkCipher::Aes128Cbc | BulkCipher::Aes128Gcm => AesKey::Aes128(
                Aes128::new_from_slice(enc_key).expect("AES-128 key is 16 bytes (key_block)"),
            ),
            BulkCipher::Aes256Cbc | BulkCipher::Aes256Gcm => AesKey::Aes256(
                Aes256::new_from_slice(enc_key).expect("AES-256 key is 32 bytes (key_block)"),
            ),
        };
        Self {
            suite,
            mac,
            aes,
            encrypt_then_mac,
        }
    }

    pub(crate) fn encrypt_then_mac(&self) -> bool {
        self.encrypt_then_mac
    }

    /// Append the protected payload of one record to `out` (the record header is the caller's):
    /// a fresh random explicit IV, then the CBC ciphertext and MAC as the module docs show.
    /// `plaintext` is at most 2^14 bytes on the wire (the record layer fragments; this function
    /// itself only needs it below 2^16); `version` is the one in the record header.
    pub fn seal(
        &self,
        seq: u64,
        content_type: u8,
        version: u16,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) {
        // A fresh unpredictable IV per record: a chained or guessable IV is the BEAST attack.
        let mut iv = [0u8; BLOCK];
        rand::rng().fill(&mut iv[..]);
        self.seal_with_iv(seq, content_type, version, &iv, plaintext, out);
    }

    /// [`seal`](Self::seal) with a chosen IV. Only for tests and reproducible transcripts:
    /// on a real connection the IV must be fresh and unpredictable.
    pub fn seal_with_iv(
        &self,
        seq: u64,
        content_type: u8,
        version: u16,
        iv: &[u8; BLOCK],
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) {
        let mac_len = self.suite.mac_len();
        let start = out.len();
        let body_start = start + BLOCK;
        // Minimal padding: 1..=16 bytes (pad_len + 1 of them) to reach a whole block.
        let mac_inside = if self.encrypt_then_mac { 0 } else { mac_len };
        let pad_total = BLOCK - (plaintext.len() + mac_inside) % BLOCK;
        out.reserve(self.sealed_len(plaintext.len()));

        out.extend_from_slice(iv);
        out.extend_from_slice(plaintext);
        if self.encrypt_then_mac {
            pad(out, pad_total);
            self.cbc_encrypt(iv, &mut out[body_start..]);
            let protected = &out[start..];
            let tag = self.mac(seq, content_type, version, protected);
            out.extend_from_slice(&tag[..mac_len]);
        } else {
            let tag = self.mac(seq, content_type, version, plaintext);
            out.extend_from_slice(&tag[..mac_len]);
            pad(out, pad_total);
            self.cbc_encrypt(iv, &mut out[body_start..]);
        }
    }

    /// Seal several records faster than one by one: `seal_begin` for each (it appends the
    /// payload, not yet encrypted), then one `seal_finish` over all of them. Each record has its
    /// own IV, so their CBC chains are independent and the AES unit works on up to 8 at once
    /// instead of waiting for each block of one chain; the MACs are still one per record.
    /// The bytes between the payloads (record headers) are left alone.
    pub fn seal_begin(
        &self,
        seq: u64,
        content_type: u8,
        version: u16,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> SealJob {
        let mac_len = self.suite.mac_len();
        let iv_at = out.len();
        let sealed_len = self.sealed_len(plaintext.len());
        out.reserve(sealed_len);
        let mut iv = [0u8; BLOCK];
        rand::rng().fill(&mut iv[..]);
        out.extend_from_slice(&iv);
        out.extend_from_slice(plaintext);
        let body_len = if self.encrypt_then_mac {
            pad(out, BLOCK - plaintext.len() % BLOCK);
            let body_len = out.len() - iv_at - BLOCK;
            // Room for the MAC over the ciphertext, filled in by seal_finish.
            out.resize(out.len() + mac_len, 0);
            body_len
        } else {
            let tag = self.mac(seq, content_type, version, plaintext);
            out.extend_from_slice(&tag[..mac_len]);
            pad(out, BLOCK - (plaintext.len() + mac_len) % BLOCK);
            out.len() - iv_at - BLOCK
        };
        SealJob {
            iv_at,
            body_len,
            etm_mac_header: mac_header(seq, content_type, version, BLOCK + body_len),
        }
    }

    /// Encrypt (and with encrypt-then-MAC, authenticate) the records `seal_begin` laid out in
    /// `out`, 8 CBC chains at a time.
    pub fn seal_finish(&self, jobs: &[SealJob], out: &mut [u8]) {
        for batch in jobs.chunks(LANES) {
            match &self.aes {
                AesKey::Aes128(k) => cbc_encrypt_lanes(k, batch, out),
                AesKey::Aes256(k) => cbc_encrypt_lanes(k, batch, out),
            }
        }
        if self.encrypt_then_mac {
            let mac_len = self.suite.mac_len();
            for job in jobs {
                let protected_end = job.iv_at + BLOCK + job.body_len;
                let Some(protected) = out.get(job.iv_at..protected_end) else {
                    debug_assert!(false, "SealJob from another buffer");
                    continue;
                };
                let mut mac = self.mac.clone();
                mac.update(&job.etm_mac_header);
                mac.update(protected);
                let tag = mac.finalize();
                if let Some(slot) = out.get_mut(protected_end..protected_end + mac_len) {
                    slot.copy_from_slice(&tag[..mac_len]);
                }
            }
        }
    }

    /// Decrypt and check one record's payload in place; returns where the plaintext lies within
    /// `payload`. Every failure (length not a block multiple, too short, bad padding, bad MAC) is
    /// the same [`BadRecordMac`]: telling them apart would be a padding oracle.
    pub fn open(
        &self,
        seq: u64,
        content_type: u8,
        version: u16,
        payload: &mut [u8],
    ) -> Result<Range<usize>, BadRecordMac> {
        if self.encrypt_then_mac {
            self.open_etm(seq, content_type, version, payload)
        } else {
            self.open_mte(seq, content_type, version, payload)
        }
    }

    /// The most bytes `seal` adds to a plaintext: IV + MAC + at most one block of padding.
    pub fn max_overhead(&self) -> usize {
        BLOCK + self.suite.mac_len() + BLOCK
    }

    /// Exactly how long `seal` makes a plaintext of `n` bytes.
    pub fn sealed_len(&self, n: usize) -> usize {
        let mac_len = self.suite.mac_len();
        if self.encrypt_then_mac {
            BLOCK + (n / BLOCK + 1) * BLOCK + mac_len
        } else {
            BLOCK + ((n + mac_len) / BLOCK + 1) * BLOCK
        }
    }
}

impl std::fmt::Debug for CbcRecord {
    // No key material in debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CbcRecord")
            .field("suite", &self.suite.name)
            .field("encrypt_then_mac", &self.encrypt_then_mac)
            .finish_non_exhaustive()
    }
}

// ---- receiving ----

impl CbcRecord {
    /// RFC 7366: the MAC covers IV || ciphertext, so it is checked before anything is decrypted
    /// and a forged record never reaches the padding check.
    fn open_etm(
        &self,
        seq: u64,
        content_type: u8,
        version: u16,
        payload: &mut [u8],
    ) -> Result<Range<usize>, BadRecordMac> {
        let mac_len = self.suite.mac_len();
        let len = payload.len();
        if len < BLOCK + BLOCK + mac_len || !(len - mac_len).is_multiple_of(BLOCK) {
            return Err(BadRecordMac);
        }
        let (protected, received) = payload.split_at_mut(len - mac_len);
        let tag = self.mac(seq, content_type, version, protected);
        if ct_eq_bytes(&tag[..mac_len], received) == 0 {
            return Err(BadRecordMac);
        }

        let (iv, body) = protected.split_at_mut(BLOCK);
        self.cbc_decrypt(iv, body);
        let (pad_len, pad_good) = check_padding(body, 0);
        if pad_good == 0 {
            return Err(BadRecordMac);
        }
        Ok(BLOCK..BLOCK + body.len() - pad_len - 1)
    }

    /// MAC-then-encrypt, in constant time with respect to the padding (Lucky13): the padding
    /// length is found without branching on it, a bad padding is treated as none, the MAC is
    /// computed with the same number of hash compressions whatever the padding length, the
    /// received MAC is read without a secret-dependent address, and padding and MAC verdicts are
    /// combined before the single decision.
    fn open_mte(
        &self,
        seq: u64,
        content_type: u8,
        version: u16,
        payload: &mut [u8],
    ) -> Result<Range<usize>, BadRecordMac> {
        let mac_len = self.suite.mac_len();
        let len = payload.len();
        // Public facts only: at least an IV and the blocks that hold a MAC and one padding byte.
        if len < BLOCK + (mac_len + 1).next_multiple_of(BLOCK) || !len.is_multiple_of(BLOCK) {
            return Err(BadRecordMac);
        }
        let (iv, body) = payload.split_at_mut(BLOCK);
        self.cbc_decrypt(iv, body);
        let n = body.len();

        let (pad_len, pad_good) = check_padding(body, mac_len);
        // On bad padding, go on as if there were none, so the work below is the same.
        let pad_len = pad_len & pad_good;
        let data_len = n - mac_len - pad_len - 1;
        let max_data_len = n - mac_len - 1;

        let tag = self.mac(seq, content_type, version, &body[..data_len]);
        self.equalize_mac_work(data_len, max_data_len);
        let received = extract_mac(body, data_len, max_data_len, mac_len);

        let mac_good = ct_eq_bytes(&tag[..mac_len], &received[..mac_len]);
        if black_box(mac_good & pad_good) == 0 {
            return Err(BadRecordMac);
        }
        Ok(BLOCK..BLOCK + data_len)
    }

    /// Hash the blocks the MAC over `data_len` bytes did not need but one over `max_data_len`
    /// bytes would have, so a short padding and a long one cost the same (the Lucky13 timing
    /// difference is exactly these compression-function calls).
    fn equalize_mac_work(&self, data_len: usize, max_data_len: usize) {
        // Inner hash input: key block (64) + header + data + 0x80 + 8-byte length, in 64-byte
        // blocks; the same formula holds for SHA-1 and SHA-256.
        let blocks = |data: usize| (64 + MAC_HEADER_LEN + data + 1 + 8).div_ceil(64);
        let extra = blocks(max_data_len) - blocks(data_len);
        let mut dummy = self.mac.clone();
        for _ in 0..black_box(extra) {
            dummy.update(&[0u8; 64]);
        }
        black_box(dummy.finalize());
    }
}

/// Read the padding at the end of `body` (decrypted, MAC included if `mac_len` > 0) without a
/// branch or early exit on its bytes. Returns (pad_len, mask): the mask is `usize::MAX` when
/// all pad_len + 1 padding bytes equal pad_len and they fit beside the MAC, else 0.
fn check_padding(body: &[u8], mac_len: usize) -> (usize, usize) {
    let n = body.len();
    let Some(&last) = body.last() else {
        return (0, 0);
    };
    let pad_len = usize::from(last);
    let mut good = ct_le(pad_len + 1 + mac_len, n);
    // Always look at the largest possible padding (256 bytes) or the whole body if shorter;
    // only the bytes that belong to the claimed padding count.
    for (i, &b) in body.iter().rev().take(256).enumerate() {
        let in_padding = ct_le(i, pad_len);
        good &= !(in_padding & !ct_eq(usize::from(b), pad_len));
    }
    (pad_len, black_box(good))
}

/// Copy body[data_len .. data_len + mac_len] out while touching the same addresses whatever
/// data_len is: data_len can only be one of the 256 values ending at max_data_len.
fn extract_mac(body: &[u8], data_len: usize, max_data_len: usize, mac_len: usize) -> [u8; MAX_MAC] {
    let mut out = [0u8; MAX_MAC];
    let first = max_data_len.saturating_sub(255);
    for start in first..=max_data_len {
        let mask = ct_eq(start, data_len) as u8;
        let candidate = body.get(start..start + mac_len).unwrap_or_default();
        for (o, &b) in out.iter_mut().zip(candidate) {
            *o |= b & mask;
        }
    }
    out
}

// ---- sending and the primitives ----

impl CbcRecord {
    fn mac(&self, seq: u64, content_type: u8, version: u16, data: &[u8]) -> [u8; MAX_MAC] {
        let mut mac = self.mac.clone();
        mac.update(&mac_header(seq, content_type, version, data.len()));
        mac.update(data);
        mac.finalize()
    }

    /// CBC-encrypt `data` (a whole number of blocks) in place.
    fn cbc_encrypt(&self, iv: &[u8; BLOCK], data: &mut [u8]) {
        let (blocks, rest) = Array::slice_as_chunks_mut(data);
        debug_assert!(rest.is_empty(), "padding makes whole blocks");
        let iv = Array::from(*iv);
        // `&Aes128` is a cipher too: the key schedule is borrowed, not copied, per record.
        match &self.aes {
            AesKey::Aes128(k) => {
                cbc::Encryptor::<&Aes128>::inner_iv_init(k, &iv).encrypt_blocks(blocks)
            }
            AesKey::Aes256(k) => {
                cbc::Encryptor::<&Aes256>::inner_iv_init(k, &iv).encrypt_blocks(blocks)
            }
        }
    }

    /// CBC-decrypt `data` in place; a trailing partial block (never after the length checks)
    /// is left alone.
    fn cbc_decrypt(&self, iv: &[u8], data: &mut [u8]) {
        let mut iv_block = Array::<u8, _>::default();
        iv_block.copy_from_slice(iv);
        let (blocks, _) = Array::slice_as_chunks_mut(data);
        match &self.aes {
            AesKey::Aes128(k) => {
                cbc::Decryptor::<&Aes128>::inner_iv_init(k, &iv_block).decrypt_blocks(blocks)
            }
            AesKey::Aes256(k) => {
                cbc::Decryptor::<&Aes256>::inner_iv_init(k, &iv_block).decrypt_blocks(blocks)
            }
        }
    }
}

impl CbcRecord {
    /// See [`RecordCipher::dissect`](super::cipher::RecordCipher::dissect).
    pub(crate) fn dissect(&self, seq: u64, wire: &[u8]) -> Option<RecordAnatomy> {
        let mac_len = self.suite.mac_len();
        let header = wire.get(..5)?;
        let version = u16::from_be_bytes([*header.get(1)?, *header.get(2)?]);
        let payload = wire.get(5..)?;
        let (protected, outer_mac) = if self.encrypt_then_mac {
            payload.split_at_checked(payload.len().checked_sub(mac_len)?)?
        } else {
            (payload, &[][..])
        };
        let (iv, ciphertext) = protected.split_at_checked(BLOCK)?;
        if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(BLOCK) {
            return None;
        }
        let mut body = ciphertext.to_vec();
        self.cbc_decrypt(iv, &mut body);
        let pad_len = usize::from(*body.last()?);
        let inner_mac = if self.encrypt_then_mac { 0 } else { mac_len };
        let data_len = body.len().checked_sub(pad_len + 1 + inner_mac)?;
        let plaintext = body.get(..data_len)?.to_vec();
        let padding = body.get(data_len + inner_mac..)?.to_vec();
        let (mac, covered) = if self.encrypt_then_mac {
            (outer_mac.to_vec(), protected)
        } else {
            (
                body.get(data_len..data_len + mac_len)?.to_vec(),
                &plaintext[..],
            )
        };
        let expected = self.mac(seq, header[0], version, covered);
        let mac_ok = expected.get(..mac_len)? == &mac[..];
        Some(RecordAnatomy {
            header: header.to_vec(),
            iv: iv.to_vec(),
            ciphertext: ciphertext.to_vec(),
            plaintext,
            mac,
            padding,
            mac_ok,
            seq,
            encrypt_then_mac: self.encrypt_then_mac,
            aead: None,
        })
    }
}

/// One record laid out by [`RecordCipher::seal_begin`], waiting for [`RecordCipher::seal_finish`]
/// (for CBC; a GCM record needs nothing more).
#[derive(Clone, Copy, Debug, Default)]
pub struct SealJob {
    /// Where the record's IV starts in the output buffer.
    iv_at: usize,
    /// Bytes to encrypt after the IV (a whole number of blocks).
    body_len: usize,
    /// The MAC header for encrypt-then-MAC (length = IV + ciphertext); unused otherwise.
    etm_mac_header: [u8; MAC_HEADER_LEN],
}

/// How many CBC chains are encrypted side by side (AES-NI keeps 8 blocks in flight).
const LANES: usize = 8;

/// CBC-encrypt several records in place, block i of every record one after the other: the
/// blocks are independent, so the CPU overlaps their AES rounds instead of waiting for each.
fn cbc_encrypt_lanes<C>(aes: &C, jobs: &[SealJob], out: &mut [u8])
where
    C: BlockCipherEncrypt<BlockSize = U16>,
{
    // Run inside the cipher's backend closure: the AES instructions (chosen at runtime) are then
    // inlined into this loop rather than called once per block.
    aes.encrypt_with_backend(Lanes { jobs, out });
}

struct Lanes<'a> {
    jobs: &'a [SealJob],
    out: &'a mut [u8],
}

impl BlockSizeUser for Lanes<'_> {
    type BlockSize = U16;
}

impl BlockCipherEncClosure for Lanes<'_> {
    #[inline(always)]
    fn call<B: BlockCipherEncBackend<BlockSize = U16>>(self, backend: &B) {
        let Self { jobs, out } = self;
        // The previous ciphertext block of each chain (the IV to start with), XORed as u128.
        let mut prev = [0u128; LANES];
        for (p, job) in prev.iter_mut().zip(jobs) {
            *p = read_block(out, job.iv_at);
        }
        let rounds = jobs.iter().map(|j| j.body_len / BLOCK).max().unwrap_or(0);
        let mut blocks: [Block16; LANES] = Default::default();
        let mut lane_of = [0usize; LANES];
        for i in 0..rounds {
            let mut m = 0;
            for (lane, job) in jobs.iter().enumerate().take(LANES) {
                if i < job.body_len / BLOCK {
                    let at = job.iv_at + BLOCK + i * BLOCK;
                    blocks[m] = Array::from((read_block(out, at) ^ prev[lane]).to_ne_bytes());
                    lane_of[m] = lane;
                    m += 1;
                }
            }
            for block in &mut blocks[..m] {
                backend.encrypt_block(block.into());
            }
            for (block, &lane) in blocks[..m].iter().zip(&lane_of) {
                let bytes: [u8; BLOCK] = (*block).into();
                let at = jobs.get(lane).map_or(0, |j| j.iv_at) + BLOCK + i * BLOCK;
                if let Some(dst) = out.get_mut(at..at + BLOCK) {
                    dst.copy_from_slice(&bytes);
                }
                prev[lane] = u128::from_ne_bytes(bytes);
            }
        }
    }
}

type Block16 = Array<u8, U16>;

fn read_block(buf: &[u8], at: usize) -> u128 {
    buf.get(at..at + BLOCK)
        .and_then(|b| <[u8; BLOCK]>::try_from(b).ok())
        .map_or(0, u128::from_ne_bytes)
}

/// The keyed HMAC state; cloned per record so the key is processed once per connection.
#[derive(Clone)]
enum MacState {
    Sha1(Hmac<Sha1>),
    Sha256(Hmac<Sha256>),
}

impl MacState {
    fn update(&mut self, data: &[u8]) {
        match self {
            Self::Sha1(m) => m.update(data),
            Self::Sha256(m) => m.update(data),
        }
    }

    /// The tag in the first mac_len bytes, zeros after.
    fn finalize(self) -> [u8; MAX_MAC] {
        let mut out = [0u8; MAX_MAC];
        match self {
            Self::Sha1(m) => out[..20].copy_from_slice(&m.finalize().into_bytes()),
            Self::Sha256(m) => out.copy_from_slice(&m.finalize().into_bytes()),
        }
        out
    }
}

#[derive(Clone)]
enum AesKey {
    Aes128(Aes128),
    Aes256(Aes256),
}

fn pad(out: &mut Vec<u8>, pad_total: usize) {
    // pad_total is 1..=16, so pad_len = pad_total - 1 fits a byte.
    out.resize(out.len() + pad_total, (pad_total - 1) as u8);
}

// Constant-time helpers: masks are usize::MAX for true and 0 for false; operands stay below
// 2^63, so the sign bit of a wrapping difference is the comparison.

fn ct_lt(a: usize, b: usize) -> usize {
    let borrow = a.wrapping_sub(b) >> (usize::BITS - 1);
    black_box(0usize.wrapping_sub(borrow))
}

fn ct_le(a: usize, b: usize) -> usize {
    !ct_lt(b, a)
}

fn ct_eq(a: usize, b: usize) -> usize {
    let x = a ^ b;
    let nonzero = (x | x.wrapping_neg()) >> (usize::BITS - 1);
    black_box(nonzero.wrapping_sub(1))
}

/// usize::MAX if the slices are equal (same length and bytes), else 0; no early exit.
fn ct_eq_bytes(a: &[u8], b: &[u8]) -> usize {
    if a.len() != b.len() {
        return 0;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    ct_eq(usize::from(diff), 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suites::ALL_SUITES;

    const LENGTHS: [usize; 6] = [0, 1, 15, 16, 17, 1 << 14];

    fn cipher(suite: &'static CipherSuite, etm: bool) -> CbcRecord {
        let mac_key: Vec<u8> = (0..suite.mac_len() as u8).collect();
        let enc_key: Vec<u8> = (0..suite.enc_key_len() as u8).map(|b| b ^ 0xa5).collect();
        CbcRecord::new(suite, &mac_key, &enc_key, etm)
    }

    /// The CBC suites (the GCM ones have their own tests in `gcm.rs`).
    fn cbc_suites() -> impl Iterator<Item = &'static CipherSuite> {
        ALL_SUITES.iter().copied().filter(|s| !s.is_aead())
    }

    fn all_ciphers() -> impl Iterator<Item = CbcRecord> {
        cbc_suites().flat_map(|s| [cipher(s, false), cipher(s, true)])
    }

    fn plaintext(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + 3) as u8).collect()
    }

    fn is_bad_record_mac(r: Result<Range<usize>, BadRecordMac>) -> bool {
        r == Err(BadRecordMac)
    }

    fn sealed(c: &CbcRecord, seq: u64, pt: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        c.seal(seq, 23, 0x0303, pt, &mut out);
        out
    }

    #[test]
    fn round_trip_all_suites_and_modes() {
        for c in all_ciphers() {
            for n in LENGTHS {
                let pt = plaintext(n);
                let mut out = vec![0xEE; 3]; // seal appends: what was there stays
                c.seal(5, 23, 0x0303, &pt, &mut out);
                assert_eq!(&out[..3], &[0xEE; 3]);
                let payload = &mut out[3..];
                assert_eq!(payload.len(), c.sealed_len(n), "{c:?} n={n}");
                assert!(payload.len() <= n + c.max_overhead());
                assert_eq!(
                    payload.len() % BLOCK,
                    if c.encrypt_then_mac {
                        c.suite.mac_len() % BLOCK
                    } else {
                        0
                    }
                );
                let range = c.open(5, 23, 0x0303, payload);
                let range = range.unwrap_or_else(|e| panic!("{c:?} n={n}: {e}"));
                assert_eq!(&payload[range], &pt[..], "{c:?} n={n}");
            }
        }
    }

    #[test]
    fn batched_seal_matches_one_by_one_opening() {
        // 11 records of mixed lengths: a full batch of 8 and a ragged one, with headers between.
        let lens = [16384, 0, 1, 16384, 15, 33, 16, 17, 500, 16384, 3];
        for c in all_ciphers() {
            let mut out = Vec::new();
            let mut jobs = Vec::new();
            for (i, &n) in lens.iter().enumerate() {
                out.extend_from_slice(b"HDR");
                jobs.push(c.seal_begin(100 + i as u64, 23, 0x0303, &plaintext(n), &mut out));
            }
            c.seal_finish(&jobs, &mut out);
            let mut at = 0;
            for (i, &n) in lens.iter().enumerate() {
                assert_eq!(&out[at..at + 3], b"HDR");
                at += 3;
                let len = c.sealed_len(n);
                let mut payload = out[at..at + len].to_vec();
                let r = c.open(100 + i as u64, 23, 0x0303, &mut payload);
                let r = r.unwrap_or_else(|e| panic!("{c:?} record {i}: {e}"));
                assert_eq!(&payload[r], &plaintext(n)[..]);
                at += len;
            }
            assert_eq!(at, out.len());
        }
    }

    #[test]
    fn fresh_iv_every_record() {
        let c = cipher(&crate::suites::TLS_RSA_WITH_AES_128_CBC_SHA256, false);
        let a = sealed(&c, 0, b"same");
        let b = sealed(&c, 0, b"same");
        assert_ne!(a[..BLOCK], b[..BLOCK]);
        assert_ne!(a, b);
    }

    /// Every bit of small records, and a sample of positions in a 2^14-byte record.
    fn flip_positions(len: usize) -> Vec<usize> {
        if len <= 128 {
            (0..len * 8).collect()
        } else {
            let mut v: Vec<usize> = (0..len * 8).step_by(1999).collect();
            // The IV and the last blocks (MAC and padding) bit by bit.
            v.extend(0..BLOCK * 8);
            v.extend((len - 3 * BLOCK) * 8..len * 8);
            v
        }
    }

    #[test]
    fn any_bit_flip_is_bad_record_mac() {
        for c in all_ciphers() {
            for n in LENGTHS {
                let good = sealed(&c, 9, &plaintext(n));
                for bit in flip_positions(good.len()) {
                    let mut p = good.clone();
                    p[bit / 8] ^= 1 << (bit % 8);
                    assert!(
                        is_bad_record_mac(c.open(9, 23, 0x0303, &mut p)),
                        "{c:?} n={n} bit={bit}"
                    );
                }
            }
        }
    }

    #[test]
    fn wrong_seq_type_or_version_is_bad_record_mac() {
        for c in all_ciphers() {
            let good = sealed(&c, 7, b"hello");
            for (seq, ty, ver) in [
                (6, 23, 0x0303),
                (8, 23, 0x0303),
                (7, 22, 0x0303),
                (7, 23, 0x0302),
            ] {
                let mut p = good.clone();
                assert!(is_bad_record_mac(c.open(seq, ty, ver, &mut p)), "{c:?}");
            }
            let mut p = good.clone();
            assert!(c.open(7, 23, 0x0303, &mut p).is_ok());
        }
    }

    #[test]
    fn wrong_key_is_bad_record_mac() {
        let s = &crate::suites::TLS_RSA_WITH_AES_256_CBC_SHA;
        let ours = cipher(s, false);
        let other = CbcRecord::new(s, &[1; 20], &[2; 32], false);
        let mut p = sealed(&ours, 0, b"secret");
        assert!(is_bad_record_mac(other.open(0, 23, 0x0303, &mut p)));
    }

    #[test]
    fn truncated_or_extended_payloads_are_bad_record_mac() {
        for c in all_ciphers() {
            let good = sealed(&c, 1, &plaintext(40));
            for cut in 0..good.len() {
                let mut p = good[..cut].to_vec();
                assert!(
                    is_bad_record_mac(c.open(1, 23, 0x0303, &mut p)),
                    "{c:?} cut={cut}"
                );
            }
            let mut p = good.clone();
            p.extend_from_slice(&[0; BLOCK]);
            assert!(is_bad_record_mac(c.open(1, 23, 0x0303, &mut p)));
            // Dropping a whole block from the front keeps the length valid but not the MAC.
            let mut p = good[BLOCK..].to_vec();
            assert!(is_bad_record_mac(c.open(1, 23, 0x0303, &mut p)));
        }
    }

    /// Build a MAC-then-encrypt record by hand: `body` = plaintext || MAC || whatever padding the
    /// test wants (valid MAC, possibly invalid padding), then CBC-encrypt it.
    fn hand_built_mte(c: &CbcRecord, seq: u64, pt: &[u8], padding: &[u8]) -> Vec<u8> {
        let iv = [0x42u8; BLOCK];
        let mut body = pt.to_vec();
        body.extend_from_slice(&c.mac(seq, 23, 0x0303, pt)[..c.suite.mac_len()]);
        body.extend_from_slice(padding);
        assert_eq!(body.len() % BLOCK, 0, "test builds whole blocks");
        c.cbc_encrypt(&iv, &mut body);
        [iv.as_slice(), &body].concat()
    }

    fn hand_built_etm(c: &CbcRecord, seq: u64, pt: &[u8], padding: &[u8]) -> Vec<u8> {
        let iv = [0x24u8; BLOCK];
        let mut body = [pt, padding].concat();
        c.cbc_encrypt(&iv, &mut body);
        let mut rec = [iv.as_slice(), &body].concat();
        let tag = c.mac(seq, 23, 0x0303, &rec);
        rec.extend_from_slice(&tag[..c.suite.mac_len()]);
        rec
    }

    #[test]
    fn forged_padding_with_valid_mac_is_bad_record_mac() {
        for suite in cbc_suites() {
            let mte = cipher(suite, false);
            let etm = cipher(suite, true);
            let mac_len = suite.mac_len();
            // MtE: plaintext length chosen so plaintext + MAC + 4 padding bytes is whole blocks.
            let pt = plaintext(2 * BLOCK + (BLOCK - (mac_len + 4) % BLOCK) % BLOCK);
            let ok = hand_built_mte(&mte, 3, &pt, &[3, 3, 3, 3]);
            let r = mte.open(3, 23, 0x0303, &mut ok.clone());
            assert_eq!(r.ok().map(|r| r.len()), Some(pt.len()), "{}", suite.name);
            for forged in [[3, 2, 3, 3], [4, 3, 3, 3], [3, 3, 3, 4], [0, 0, 0, 2]] {
                let mut rec = hand_built_mte(&mte, 3, &pt, &forged);
                assert!(
                    is_bad_record_mac(mte.open(3, 23, 0x0303, &mut rec)),
                    "{forged:?}"
                );
            }
            // A padding length reaching past the MAC into nothing: 255 claimed, 4 bytes there.
            let mut rec = hand_built_mte(&mte, 3, &pt, &[255, 255, 255, 255]);
            assert!(is_bad_record_mac(mte.open(3, 23, 0x0303, &mut rec)));

            // ETM: valid MAC over the ciphertext, bad padding inside it.
            let pt = plaintext(2 * BLOCK - 4);
            let mut ok = hand_built_etm(&etm, 3, &pt, &[3, 3, 3, 3]);
            let r = etm.open(3, 23, 0x0303, &mut ok);
            assert_eq!(r.ok().map(|r| r.len()), Some(pt.len()));
            for forged in [
                [3, 2, 3, 3],
                [2, 3, 3, 3],
                [4, 4, 4, 4],
                [255, 255, 255, 255],
            ] {
                let mut rec = hand_built_etm(&etm, 3, &pt, &forged);
                assert!(
                    is_bad_record_mac(etm.open(3, 23, 0x0303, &mut rec)),
                    "{forged:?}"
                );
            }
        }
    }

    #[test]
    fn long_padding_from_other_stacks_is_accepted() {
        // RFC 5246 allows up to 255 padding bytes (to hide lengths); a peer may use more than we do.
        for suite in cbc_suites() {
            let mte = cipher(suite, false);
            let mac_len = suite.mac_len();
            // plaintext + MAC fills whole blocks, so the longest padding, 256 bytes, fits.
            let pt = plaintext(BLOCK + (BLOCK - mac_len % BLOCK) % BLOCK);
            let pad_total = 256;
            let padding = vec![(pad_total - 1) as u8; pad_total];
            let mut rec = hand_built_mte(&mte, 0, &pt, &padding);
            let r = mte.open(0, 23, 0x0303, &mut rec);
            assert_eq!(
                r.map(|r| rec[r].to_vec()).ok(),
                Some(pt.clone()),
                "{}",
                suite.name
            );

            let etm = cipher(suite, true);
            let pt = plaintext(3);
            let padding = vec![252u8; 253];
            let mut rec = hand_built_etm(&etm, 0, &pt, &padding);
            let r = etm.open(0, 23, 0x0303, &mut rec);
            assert_eq!(r.map(|r| rec[r].to_vec()).ok(), Some(pt));
        }
    }

    #[test]
    fn constant_time_helpers() {
        for (a, b) in [(0, 0), (0, 1), (1, 0), (255, 256), (usize::MAX >> 1, 0)] {
            assert_eq!(ct_lt(a, b) == usize::MAX, a < b, "{a} < {b}");
            assert_eq!(ct_le(a, b) == usize::MAX, a <= b);
            assert_eq!(ct_eq(a, b) == usize::MAX, a == b);
            assert!(ct_lt(a, b) == 0 || ct_lt(a, b) == usize::MAX);
        }
        assert_eq!(ct_eq_bytes(b"abc", b"abc"), usize::MAX);
        assert_eq!(ct_eq_bytes(b"abc", b"abd"), 0);
        assert_eq!(ct_eq_bytes(b"abc", b"ab"), 0);
        let body: Vec<u8> = (0..100).collect();
        assert_eq!(extract_mac(&body, 50, 60, 20)[..20], body[50..70]);
        assert_eq!(extract_mac(&body, 60, 60, 20)[..20], body[60..80]);
    }

    proptest::proptest! {
        #[test]
        fn open_never_panics_on_random_payloads(
            payload in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
            seq in proptest::prelude::any::<u64>(),
        ) {
            for c in all_ciphers() {
                // Random bytes are (overwhelmingly) forgeries; what matters is no panic.
                let r = c.open(seq, 23, 0x0303, &mut payload.clone());
                proptest::prop_assert!(r.is_err());
            }
        }

        #[test]
        fn round_trip_random(
            pt in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
            seq in proptest::prelude::any::<u64>(),
            ty in 20u8..24,
        ) {
            for c in all_ciphers() {
                let mut out = Vec::new();
                c.seal(seq, ty, 0x0303, &pt, &mut out);
                let r = c.open(seq, ty, 0x0303, &mut out);
                proptest::prop_assert_eq!(r.map(|r| out[r].to_vec()).ok(), Some(pt.clone()));
            }
        }
    }

    // ---- independent check with the openssl command line ----

    /// Runs `openssl` on `stdin`. A missing program fails the test (this is the only check of
    /// our record bytes by another implementation), and so does one that hangs.
    fn openssl(args: &[&str], stdin: &[u8]) -> Vec<u8> {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let mut child = Command::new("openssl")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run openssl ({e}): install the Debian package `openssl`")
            });
        let mut input = child.stdin.take().expect("piped stdin");
        let stdin = stdin.to_vec();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let written = input.write_all(&stdin);
            drop(input);
            let _ = tx.send((written, child.wait_with_output()));
        });
        let (written, out) = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("openssl {args:?} did not finish within 60 s"));
        written.unwrap_or_else(|e| panic!("writing to openssl {args:?}: {e}"));
        let out = out.unwrap_or_else(|e| panic!("openssl {args:?}: {e}"));
        assert!(out.status.success(), "openssl {args:?}: {out:?}");
        out.stdout
    }

    #[test]
    fn sealed_record_matches_openssl() {
        for (suite, enc_name, dgst) in [
            (
                &crate::suites::TLS_RSA_WITH_AES_128_CBC_SHA256,
                "-aes-128-cbc",
                "-sha256",
            ),
            (
                &crate::suites::TLS_RSA_WITH_AES_256_CBC_SHA,
                "-aes-256-cbc",
                "-sha1",
            ),
        ] {
            let mac_key: Vec<u8> = (0..suite.mac_len() as u8)
                .map(|b| b.wrapping_mul(13))
                .collect();
            let enc_key: Vec<u8> = (0..suite.enc_key_len() as u8).map(|b| b ^ 0x5c).collect();
            let c = CbcRecord::new(suite, &mac_key, &enc_key, false);
            let pt = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".repeat(3);
            let seq = 0x0102_0304_0506_0708u64;
            let rec = sealed(&c, seq, &pt);
            let (iv, ct) = rec.split_at(BLOCK);

            let key_hex = hex::encode(&enc_key);
            let iv_hex = hex::encode(iv);
            let args = [
                "enc", "-d", enc_name, "-K", &key_hex, "-iv", &iv_hex, "-nopad",
            ];
            let decrypted = openssl(&args, ct);
            let mac_len = suite.mac_len();
            let pad_total = decrypted.len() - pt.len() - mac_len;
            assert_eq!(&decrypted[..pt.len()], &pt[..]);
            assert_eq!(
                &decrypted[pt.len() + mac_len..],
                &vec![(pad_total - 1) as u8; pad_total][..]
            );

            // MAC input: seq || type || version || length || plaintext.
            let mut mac_input = seq.to_be_bytes().to_vec();
            mac_input.extend_from_slice(&[23, 3, 3]);
            mac_input.extend_from_slice(&(pt.len() as u16).to_be_bytes());
            mac_input.extend_from_slice(&pt);
            let macopt = format!("hexkey:{}", hex::encode(&mac_key));
            let dgst_args = ["dgst", dgst, "-mac", "HMAC", "-macopt", &macopt, "-r"];
            let line = openssl(&dgst_args, &mac_input);
            let line = String::from_utf8_lossy(&line);
            let expected_mac = line.split_whitespace().next().unwrap_or_default();
            assert_eq!(
                hex::encode(&decrypted[pt.len()..pt.len() + mac_len]),
                expected_mac,
                "{}",
                suite.name
            );
        }
    }

    #[test]
    fn etm_record_matches_openssl() {
        let suite = &crate::suites::TLS_RSA_WITH_AES_128_CBC_SHA;
        let c = CbcRecord::new(suite, &[7; 20], &[9; 16], true);
        let pt = plaintext(33);
        let rec = sealed(&c, 2, &pt);
        let (protected, tag) = rec.split_at(rec.len() - 20);
        let mut mac_input = 2u64.to_be_bytes().to_vec();
        mac_input.extend_from_slice(&[23, 3, 3]);
        mac_input.extend_from_slice(&(protected.len() as u16).to_be_bytes());
        mac_input.extend_from_slice(protected);
        let macopt = format!("hexkey:{}", hex::encode([7u8; 20]));
        let line = openssl(
            &["dgst", "-sha1", "-mac", "HMAC", "-macopt", &macopt, "-r"],
            &mac_input,
        );
        let line = String::from_utf8_lossy(&line);
        assert_eq!(
            hex::encode(tag),
            line.split_whitespace().next().unwrap_or_default()
        );
        let key_hex = hex::encode([9u8; 16]);
        let iv_hex = hex::encode(&protected[..BLOCK]);
        let args = [
            "enc",
            "-d",
            "-aes-128-cbc",
            "-K",
            &key_hex,
            "-iv",
            &iv_hex,
            "-nopad",
        ];
        let decrypted = openssl(&args, &protected[BLOCK..]);
        assert_eq!(&decrypted[..33], &pt[..]);
        assert_eq!(&decrypted[33..], &[14u8; 15][..]);
    }
}
