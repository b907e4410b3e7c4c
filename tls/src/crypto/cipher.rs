//! Record protection for one direction ([`RecordCipher`]), as the suite says: AES-GCM for the
//! AEAD suites ([`super::gcm`], RFC 5288), AES-CBC with HMAC for the others ([`super::cbc`],
//! RFC 5246 §6.2.3.2, with RFC 7366's encrypt-then-MAC when both sides asked for it). The record
//! layer sees only this type; which construction runs is decided once, when the keys are made.

use super::cbc::CbcRecord;
pub use super::cbc::SealJob;
use super::gcm::{self, AeadParts, GcmRecord};
use crate::suites::CipherSuite;
use std::ops::Range;

/// seq_num(8) || type(1) || version(2) || length(2).
pub(super) const MAC_HEADER_LEN: usize = 13;

/// One direction's record protection, as the suite says: AES-GCM, or AES-CBC with HMAC.
#[derive(Clone)]
pub struct RecordCipher {
    suite: &'static CipherSuite,
    protection: Protection,
}

#[derive(Clone)]
enum Protection {
    // Boxed: the HMAC states and AES schedules are large beside GCM's boxed key.
    Cbc(Box<CbcRecord>),
    Gcm(GcmRecord),
}

impl RecordCipher {
    /// A CBC suite's protection: `mac_key` and `enc_key` come from
    /// [`crate::crypto::prf::key_block`] for the same suite.
    ///
    /// # Panics
    /// For an AEAD suite (it needs [`with_fixed_iv`](Self::with_fixed_iv)), or if `enc_key` is
    /// not the suite's key length: programming errors, since the key block is cut to the suite's
    /// lengths and no peer input reaches this.
    pub fn new(
        suite: &'static CipherSuite,
        mac_key: &[u8],
        enc_key: &[u8],
        encrypt_then_mac: bool,
    ) -> Self {
        Self::with_fixed_iv(suite, mac_key, enc_key, &[], encrypt_then_mac)
    }

    /// Any suite's protection from one direction's part of the key block: MAC key, key and
    /// fixed IV (empty for CBC; GCM's 4-byte salt). Encrypt-then-MAC means nothing to an AEAD
    /// suite and is ignored for one (RFC 7366 §3).
    ///
    /// # Panics
    /// If a length is not the suite's (see [`new`](Self::new)).
    pub fn with_fixed_iv(
        suite: &'static CipherSuite,
        mac_key: &[u8],
        enc_key: &[u8],
        fixed_iv: &[u8],
        encrypt_then_mac: bool,
    ) -> Self {
        let protection = if suite.is_aead() {
            Protection::Gcm(GcmRecord::new(suite, enc_key, fixed_iv))
        } else {
            Protection::Cbc(Box::new(CbcRecord::new(
                suite,
                mac_key,
                enc_key,
                encrypt_then_mac,
            )))
        };
        Self { suite, protection }
    }

    pub fn suite(&self) -> &'static CipherSuite {
        self.suite
    }

    /// RFC 7366 is in force (only ever for a CBC suite).
    pub fn encrypt_then_mac(&self) -> bool {
        match &self.protection {
            Protection::Cbc(c) => c.encrypt_then_mac(),
            Protection::Gcm(_) => false,
        }
    }

    /// Append the protected payload of one record to `out` (the record header is the caller's).
    /// CBC: a fresh random explicit IV, then ciphertext and MAC; GCM: the explicit nonce (the
    /// sequence number), ciphertext and tag. `plaintext` is at most 2^14 bytes on the wire (the
    /// record layer fragments); `version` is the one in the record header.
    pub fn seal(
        &self,
        seq: u64,
        content_type: u8,
        version: u16,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) {
        match &self.protection {
            Protection::Cbc(c) => c.seal(seq, content_type, version, plaintext, out),
            Protection::Gcm(g) => g.seal(seq, content_type, version, plaintext, out),
        }
    }

    /// [`seal`](Self::seal) with a chosen CBC IV. Only for tests and reproducible transcripts:
    /// on a real connection the IV must be fresh and unpredictable. GCM has no IV to choose (its
    /// nonce is the sequence number), so for a GCM suite `iv` is ignored.
    pub fn seal_with_iv(
        &self,
        seq: u64,
        content_type: u8,
        version: u16,
        iv: &[u8; CipherSuite::BLOCK_LEN],
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) {
        match &self.protection {
            Protection::Cbc(c) => c.seal_with_iv(seq, content_type, version, iv, plaintext, out),
            Protection::Gcm(g) => g.seal(seq, content_type, version, plaintext, out),
        }
    }

    /// Seal several records faster than one by one: `seal_begin` for each, then one
    /// `seal_finish` over all of them (see [`CbcRecord::seal_begin`]: CBC's chains run side by
    /// side). GCM already keeps the AES unit busy within one record (counter blocks are
    /// independent), so a GCM record is sealed whole in `seal_begin`.
    pub fn seal_begin(
        &self,
        seq: u64,
        content_type: u8,
        version: u16,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> SealJob {
        match &self.protection {
            Protection::Cbc(c) => c.seal_begin(seq, content_type, version, plaintext, out),
            Protection::Gcm(g) => {
                g.seal(seq, content_type, version, plaintext, out);
                SealJob::default()
            }
        }
    }

    /// Finish the records `seal_begin` laid out in `out`.
    pub fn seal_finish(&self, jobs: &[SealJob], out: &mut [u8]) {
        if let Protection::Cbc(c) = &self.protection {
            c.seal_finish(jobs, out);
        }
    }

    /// Check and decrypt one record's payload in place; returns where the plaintext lies within
    /// `payload`. Every failure is the same [`BadRecordMac`].
    pub fn open(
        &self,
        seq: u64,
        content_type: u8,
        version: u16,
        payload: &mut [u8],
    ) -> Result<Range<usize>, BadRecordMac> {
        match &self.protection {
            Protection::Cbc(c) => c.open(seq, content_type, version, payload),
            Protection::Gcm(g) => g.open(seq, content_type, version, payload),
        }
    }

    /// The most bytes `seal` adds to a plaintext.
    pub fn max_overhead(&self) -> usize {
        match &self.protection {
            Protection::Cbc(c) => c.max_overhead(),
            Protection::Gcm(_) => gcm::OVERHEAD,
        }
    }

    /// Exactly how long `seal` makes a plaintext of `n` bytes.
    pub fn sealed_len(&self, n: usize) -> usize {
        match &self.protection {
            Protection::Cbc(c) => c.sealed_len(n),
            Protection::Gcm(_) => n + gcm::OVERHEAD,
        }
    }
}

impl std::fmt::Debug for RecordCipher {
    // No key material in debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordCipher")
            .field("suite", &self.suite.name)
            .field("encrypt_then_mac", &self.encrypt_then_mac())
            .finish_non_exhaustive()
    }
}

/// A record failed its integrity check. One verdict for every cause (length, padding, MAC):
/// telling them apart would be a padding oracle. The record layer answers it with the
/// `bad_record_mac` alert (`From` in `error.rs`, so `crypto` does not depend on `error`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadRecordMac;

impl std::fmt::Display for BadRecordMac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("record failed its integrity check")
    }
}

/// What one protected record is made of, for showing (`--explain`): the split the record layer's
/// own decryption and MAC (or AEAD tag) give.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordAnatomy {
    pub header: Vec<u8>,
    /// CBC: the explicit IV. GCM: the explicit nonce (8 bytes, the sequence number).
    pub iv: Vec<u8>,
    /// The ciphertext after the IV / explicit nonce (without the MAC in encrypt-then-MAC, without
    /// the tag for GCM).
    pub ciphertext: Vec<u8>,
    /// Empty for a GCM record whose tag does not verify: such a record is never decrypted.
    pub plaintext: Vec<u8>,
    /// CBC: the HMAC. GCM: the 16-byte tag.
    pub mac: Vec<u8>,
    /// CBC only: GCM has no padding.
    pub padding: Vec<u8>,
    /// The MAC (GCM: tag) recomputed over the record matches the one it carries.
    pub mac_ok: bool,
    pub seq: u64,
    pub encrypt_then_mac: bool,
    /// For a GCM record: the full nonce, its salt, and the additional data.
    pub aead: Option<AeadParts>,
}

impl RecordCipher {
    /// Take one protected record (`wire`: header + payload) apart with this cipher's keys
    /// (RFC 5246 §6.2.3.2, RFC 7366 with encrypt-then-MAC, or RFC 5288 for GCM). `None` when the
    /// bytes do not have the shape of such a record. Not constant-time: only for showing a
    /// record the record layer has already sealed or accepted, never for deciding about one.
    pub fn dissect(&self, seq: u64, wire: &[u8]) -> Option<RecordAnatomy> {
        match &self.protection {
            Protection::Cbc(c) => c.dissect(seq, wire),
            Protection::Gcm(g) => g.dissect(seq, wire),
        }
    }
}

/// seq_num || type || version || length: the HMAC's header (RFC 5246 §6.2.3.1) and the AEAD's
/// additional data (§6.2.3.3), the same 13 bytes.
pub(super) fn mac_header(
    seq: u64,
    content_type: u8,
    version: u16,
    len: usize,
) -> [u8; MAC_HEADER_LEN] {
    let mut h = [0u8; MAC_HEADER_LEN];
    h[..8].copy_from_slice(&seq.to_be_bytes());
    h[8] = content_type;
    h[9..11].copy_from_slice(&version.to_be_bytes());
    // Records are at most 2^14 + 2048 bytes, so the length always fits.
    h[11..].copy_from_slice(&(len as u16).to_be_bytes());
    h
}
