//! AEAD record protection with AES-GCM (RFC 5288 §3, RFC 5246 §6.2.3.3): one primitive that
//! encrypts and authenticates at once, where CBC needed a cipher, a MAC and a padding rule.
//!
//! ```text
//! nonce (12)      = salt(4, the fixed IV from the key block) || explicit_nonce(8)
//! explicit_nonce  = the record's 64-bit sequence number (unique per key: never repeated)
//! additional data = seq_num(8) || type(1) || version(2) || length(2) (of the plaintext)
//! fragment        = explicit_nonce(8) || AES-GCM(key, nonce, additional data, plaintext)
//!                   (ciphertext, as long as the plaintext, then the 16-byte tag)
//! ```
//!
//! There is no padding and nothing is decrypted before the tag over everything (nonce, header
//! fields, ciphertext) has been checked, so the padding-oracle family (Lucky13, POODLE) has
//! nothing to measure. Every failure is the same [`BadRecordMac`].
//!
//! The record construction is ours, and so is the GCM mode under it when the CPU has AVX-512
//! VPCLMULQDQ (`gcm_mode.rs`: the `aes` crate's VAES counter blocks and our GHASH kernel,
//! `ghash_avx512.rs`, hashing the ciphertext as it is made with one reduction per
//! sixteen blocks). The RustCrypto `aes-gcm` crate's mode, whose GHASH reduces every block and
//! cost twice the AES on a download, is the portable path, used when those instructions are
//! absent; both give the same bytes.

use super::cipher::{mac_header, BadRecordMac, RecordAnatomy};
#[cfg(target_arch = "x86_64")]
use super::gcm_mode::Gcm;
use crate::suites::{BulkCipher, CipherSuite};
use aes_gcm::aead::array::Array;
use aes_gcm::{AeadInOut, Aes128Gcm, Aes256Gcm, KeyInit};
use std::ops::Range;

/// The per-record part of the nonce, sent in the clear before the ciphertext.
pub const EXPLICIT_NONCE_LEN: usize = 8;
/// The fixed part of the nonce, from the key block (client_write_IV / server_write_IV).
pub const SALT_LEN: usize = 4;
/// GCM's authentication tag: the full 16 bytes (RFC 5116 AEAD_AES_128_GCM).
pub const TAG_LEN: usize = 16;
/// What sealing adds to a plaintext.
pub const OVERHEAD: usize = EXPLICIT_NONCE_LEN + TAG_LEN;

/// One direction's AES-GCM record protection: the keyed mode and the 4-byte salt.
#[derive(Clone)]
pub(crate) struct GcmRecord {
    key: GcmKey,
    salt: [u8; SALT_LEN],
}

#[derive(Clone)]
enum GcmKey {
    /// The `aes-gcm` crate's mode: the portable path.
    Aes128(Box<Aes128Gcm>),
    Aes256(Box<Aes256Gcm>),
    /// Ours, with the AVX-512 GHASH kernel.
    #[cfg(target_arch = "x86_64")]
    Ours128(Box<Gcm<aes::Aes128>>),
    #[cfg(target_arch = "x86_64")]
    Ours256(Box<Gcm<aes::Aes256>>),
}

/// The parts of a GCM record that are not in a CBC one, for showing (`--explain`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AeadParts {
    /// salt || explicit nonce: what GCM was given as its 96-bit IV.
    pub nonce: Vec<u8>,
    /// The 4 bytes of the nonce that come from the key block and never cross the wire.
    pub salt: Vec<u8>,
    /// seq_num || type || version || length: authenticated, not sent (except the header).
    pub additional_data: Vec<u8>,
}

impl GcmRecord {
    /// # Panics
    /// If `enc_key` or `salt` do not have the suite's lengths: a programming error, since the
    /// key block is cut to them and no peer input reaches this.
    pub(crate) fn new(suite: &CipherSuite, enc_key: &[u8], salt: &[u8]) -> Self {
        let aes256 = matches!(suite.cipher, BulkCipher::Aes256Gcm);
        let key = GcmKey::new(aes256, enc_key);
        let salt = salt
            .try_into()
            .expect("GCM fixed IV is 4 bytes (key_block)");
        Self { key, salt }
    }

    fn nonce(&self, explicit: &[u8; EXPLICIT_NONCE_LEN]) -> [u8; 12] {
        let mut nonce = [0u8; 12];
        nonce[..SALT_LEN].copy_from_slice(&self.salt);
        nonce[SALT_LEN..].copy_from_slice(explicit);
        nonce
    }

    /// Append explicit nonce || ciphertext || tag for one record to `out`. The explicit nonce
    /// is `seq` itself: the record layer never reuses a sequence number under one key, so no
    /// nonce is ever used twice (which would give away the GHASH key and the XOR of plaintexts).
    pub(crate) fn seal(
        &self,
        seq: u64,
        content_type: u8,
        version: u16,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) {
        let explicit = seq.to_be_bytes();
        out.reserve(plaintext.len() + OVERHEAD);
        out.extend_from_slice(&explicit);
        let aad = mac_header(seq, content_type, version, plaintext.len());
        let tag = self
            .key
            .seal_append(&self.nonce(&explicit), &aad, plaintext, out);
        out.extend_from_slice(&tag);
    }

    /// Check the tag, then decrypt in place; returns where the plaintext lies in `payload`.
    /// The nonce is the one the record carries (RFC 5288 §3: the receiver does not assume it).
    /// Nothing is decrypted unless the tag matches, and every failure is one [`BadRecordMac`].
    pub(crate) fn open(
        &self,
        seq: u64,
        content_type: u8,
        version: u16,
        payload: &mut [u8],
    ) -> Result<Range<usize>, BadRecordMac> {
        let Some(ct_len) = payload.len().checked_sub(OVERHEAD) else {
            return Err(BadRecordMac);
        };
        let (explicit, rest) = payload.split_at_mut(EXPLICIT_NONCE_LEN);
        let (ciphertext, tag) = rest.split_at_mut(ct_len);
        let explicit: [u8; EXPLICIT_NONCE_LEN] =
            (&*explicit).try_into().map_err(|_| BadRecordMac)?;
        let tag: [u8; TAG_LEN] = (&*tag).try_into().map_err(|_| BadRecordMac)?;
        let aad = mac_header(seq, content_type, version, ct_len);
        self.key
            .open_in_place(&self.nonce(&explicit), &aad, ciphertext, &tag)?;
        Ok(EXPLICIT_NONCE_LEN..EXPLICIT_NONCE_LEN + ct_len)
    }

    /// Take one GCM record (`wire`: header + payload) apart, for showing: see
    /// [`RecordCipher::dissect`](super::cipher::RecordCipher::dissect). The plaintext is there
    /// only if the tag verifies: a record that fails is never decrypted.
    pub(crate) fn dissect(&self, seq: u64, wire: &[u8]) -> Option<RecordAnatomy> {
        let header = wire.get(..5)?;
        let (content_type, version) = (header[0], u16::from_be_bytes([header[1], header[2]]));
        let payload = wire.get(5..)?;
        let ct_len = payload.len().checked_sub(OVERHEAD)?;
        let explicit: [u8; EXPLICIT_NONCE_LEN] =
            payload.get(..EXPLICIT_NONCE_LEN)?.try_into().ok()?;
        let ciphertext = payload.get(EXPLICIT_NONCE_LEN..EXPLICIT_NONCE_LEN + ct_len)?;
        let tag = payload.get(EXPLICIT_NONCE_LEN + ct_len..)?;
        let mut copy = payload.to_vec();
        let plaintext = self
            .open(seq, content_type, version, &mut copy)
            .ok()
            .and_then(|range| copy.get(range).map(<[u8]>::to_vec));
        Some(RecordAnatomy {
            header: header.to_vec(),
            iv: explicit.to_vec(),
            ciphertext: ciphertext.to_vec(),
            mac_ok: plaintext.is_some(),
            plaintext: plaintext.unwrap_or_default(),
            mac: tag.to_vec(),
            padding: Vec::new(),
            seq,
            encrypt_then_mac: false,
            aead: Some(AeadParts {
                nonce: self.nonce(&explicit).to_vec(),
                salt: self.salt.to_vec(),
                additional_data: mac_header(seq, content_type, version, ct_len).to_vec(),
            }),
        })
    }
}

impl GcmKey {
    /// Ours when the CPU has the GHASH kernel's instructions, else the crate's.
    ///
    /// # Panics
    /// If `key` is not 32 bytes (`aes256`) or 16: see [`GcmRecord::new`].
    fn new(aes256: bool, key: &[u8]) -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            let ours = if aes256 {
                Gcm::new(key).map(|g| Self::Ours256(Box::new(g)))
            } else {
                Gcm::new(key).map(|g| Self::Ours128(Box::new(g)))
            };
            if let Some(ours) = ours {
                return ours;
            }
        }
        Self::portable(aes256, key)
    }

    /// The `aes-gcm` crate's mode, whatever the CPU.
    fn portable(aes256: bool, key: &[u8]) -> Self {
        if aes256 {
            Self::Aes256(Box::new(
                Aes256Gcm::new_from_slice(key).expect("AES-256 key is 32 bytes (key_block)"),
            ))
        } else {
            Self::Aes128(Box::new(
                Aes128Gcm::new_from_slice(key).expect("AES-128 key is 16 bytes (key_block)"),
            ))
        }
    }

    /// The mode alone: append `plaintext` encrypted to `out`, return the tag. Ours reads the
    /// plaintext where it is and writes each ciphertext byte once; the crate's encrypts an
    /// appended copy in place.
    fn seal_append(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> [u8; TAG_LEN] {
        let body = out.len();
        match self {
            #[cfg(target_arch = "x86_64")]
            Self::Ours128(g) => {
                out.resize(body + plaintext.len(), 0);
                g.seal_to(nonce, aad, plaintext, &mut out[body..])
            }
            #[cfg(target_arch = "x86_64")]
            Self::Ours256(g) => {
                out.resize(body + plaintext.len(), 0);
                g.seal_to(nonce, aad, plaintext, &mut out[body..])
            }
            Self::Aes128(_) | Self::Aes256(_) => {
                out.extend_from_slice(plaintext);
                self.seal_in_place(nonce, aad, &mut out[body..])
            }
        }
    }

    /// The mode alone: encrypt `buf` in place under a 96-bit nonce, return the tag.
    fn seal_in_place(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; TAG_LEN] {
        let tag = match self {
            Self::Aes128(k) => k.encrypt_inout_detached(&Array::from(*nonce), aad, buf.into()),
            Self::Aes256(k) => k.encrypt_inout_detached(&Array::from(*nonce), aad, buf.into()),
            #[cfg(target_arch = "x86_64")]
            Self::Ours128(g) => return g.seal_in_place(nonce, aad, buf),
            #[cfg(target_arch = "x86_64")]
            Self::Ours256(g) => return g.seal_in_place(nonce, aad, buf),
        };
        match tag {
            Ok(tag) => tag.into(),
            // Only inputs over 2^36 bytes fail; a record is at most 2^14. Were it to happen, a
            // zero tag makes the peer reject the record rather than us panic.
            Err(_) => {
                debug_assert!(false, "GCM input within limits");
                [0; TAG_LEN]
            }
        }
    }

    /// The mode alone: check `tag` over `aad` and `buf`, and only then decrypt `buf` in place.
    fn open_in_place(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), BadRecordMac> {
        let (n, t) = (Array::from(*nonce), Array::from(*tag));
        match self {
            Self::Aes128(k) => k
                .decrypt_inout_detached(&n, aad, buf.into(), &t)
                .map_err(|_| BadRecordMac),
            Self::Aes256(k) => k
                .decrypt_inout_detached(&n, aad, buf.into(), &t)
                .map_err(|_| BadRecordMac),
            #[cfg(target_arch = "x86_64")]
            Self::Ours128(g) => g.open_in_place(nonce, aad, buf, tag),
            #[cfg(target_arch = "x86_64")]
            Self::Ours256(g) => g.open_in_place(nonce, aad, buf, tag),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suites::{TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_RSA_WITH_AES_128_GCM_SHA256};

    fn records() -> [GcmRecord; 2] {
        [
            GcmRecord::new(&TLS_RSA_WITH_AES_128_GCM_SHA256, &[0x42; 16], &[1, 2, 3, 4]),
            GcmRecord::new(
                &TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
                &[0x24; 32],
                &[9, 8, 7, 6],
            ),
        ]
    }

    fn plaintext(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + 3) as u8).collect()
    }

    fn sealed(g: &GcmRecord, seq: u64, pt: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        g.seal(seq, 23, 0x0303, pt, &mut out);
        out
    }

    #[test]
    fn round_trip() {
        for g in records() {
            for n in [0, 1, 15, 16, 17, 1 << 14] {
                let pt = plaintext(n);
                let mut out = sealed(&g, 77, &pt);
                assert_eq!(out.len(), n + OVERHEAD);
                let r = g.open(77, 23, 0x0303, &mut out);
                assert_eq!(r.map(|r| out[r].to_vec()), Ok(pt));
            }
        }
    }

    /// Both modes append the same record (the portable one appends a copy and encrypts it in
    /// place, ours writes the ciphertext straight from the plaintext).
    #[test]
    fn both_modes_seal_the_same_record() {
        let portable = [
            GcmRecord {
                key: GcmKey::portable(false, &[0x42; 16]),
                salt: [1, 2, 3, 4],
            },
            GcmRecord {
                key: GcmKey::portable(true, &[0x24; 32]),
                salt: [9, 8, 7, 6],
            },
        ];
        for (g, p) in records().iter().zip(&portable) {
            for n in [0, 1, 17, 1 << 14] {
                let pt = plaintext(n);
                let mut out = vec![0xee; 3];
                p.seal(5, 23, 0x0303, &pt, &mut out);
                assert_eq!(out[..3], [0xee; 3], "what was in the buffer stays");
                assert_eq!(out[3..], sealed(g, 5, &pt)[..], "{n} bytes");
            }
        }
    }

    /// The layout of RFC 5288 §3, rebuilt by hand around the bare mode: explicit nonce = seq,
    /// nonce = salt || seq, additional data = seq || type || version || plaintext length.
    #[test]
    fn record_is_explicit_nonce_ciphertext_tag() {
        let g = &records()[0];
        let seq = 0x0102_0304_0506_0708u64;
        let pt = b"GET / HTTP/1.1\r\n\r\n";
        let rec = sealed(g, seq, pt);
        assert_eq!(rec[..8], seq.to_be_bytes());
        let mut nonce = [1u8, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0];
        nonce[4..].copy_from_slice(&seq.to_be_bytes());
        let mut aad = seq.to_be_bytes().to_vec();
        aad.extend_from_slice(&[23, 3, 3, 0, pt.len() as u8]);
        let mut body = pt.to_vec();
        let tag = g.key.seal_in_place(&nonce, &aad, &mut body);
        assert_eq!(rec[8..8 + pt.len()], body[..]);
        assert_eq!(rec[8 + pt.len()..], tag);
        assert_ne!(&body[..], &pt[..]);
    }

    /// With the kernel's instructions, records go through our mode (so every test here and the
    /// OpenSSL known-answer test check it); without them, through the crate's.
    #[test]
    fn mode_follows_the_cpu() {
        let [a128, a256] = records();
        #[cfg(target_arch = "x86_64")]
        if crate::crypto::ghash_avx512::available() {
            assert!(matches!(a128.key, GcmKey::Ours128(_)));
            assert!(matches!(a256.key, GcmKey::Ours256(_)));
            return;
        }
        println!("no AVX-512 GHASH kernel on this CPU: the portable mode is used");
        assert!(matches!(a128.key, GcmKey::Aes128(_)));
        assert!(matches!(a256.key, GcmKey::Aes256(_)));
    }

    #[test]
    fn explicit_nonce_is_the_sequence_number() {
        let g = &records()[0];
        let mut seen = std::collections::HashSet::new();
        for seq in [0, 1, 2, 255, 256, u64::MAX - 1, u64::MAX] {
            let rec = sealed(g, seq, b"same");
            assert_eq!(rec[..8], seq.to_be_bytes());
            assert!(seen.insert(rec[..8].to_vec()));
        }
    }

    #[test]
    fn any_bit_flip_is_bad_record_mac() {
        for g in records() {
            for n in [0, 1, 16, 40] {
                let good = sealed(&g, 9, &plaintext(n));
                // Explicit nonce, ciphertext and tag: every bit.
                for bit in 0..good.len() * 8 {
                    let mut forged = good.clone();
                    forged[bit / 8] ^= 1 << (bit % 8);
                    let mut p = forged.clone();
                    assert_eq!(
                        g.open(9, 23, 0x0303, &mut p),
                        Err(BadRecordMac),
                        "n={n} bit={bit}"
                    );
                    // Nothing was decrypted into the buffer: it is as it came.
                    assert_eq!(p, forged);
                }
            }
        }
    }

    #[test]
    fn wrong_seq_type_version_or_length_is_bad_record_mac() {
        for g in records() {
            let good = sealed(&g, 7, b"hello");
            for (seq, ty, ver) in [
                (6, 23, 0x0303),
                (8, 23, 0x0303),
                (7, 22, 0x0303),
                (7, 23, 0x0302),
            ] {
                assert_eq!(g.open(seq, ty, ver, &mut good.clone()), Err(BadRecordMac));
            }
            assert!(g.open(7, 23, 0x0303, &mut good.clone()).is_ok());
            // Truncated anywhere, or extended: the length in the additional data changes.
            for cut in 0..good.len() {
                assert_eq!(
                    g.open(7, 23, 0x0303, &mut good[..cut].to_vec()),
                    Err(BadRecordMac)
                );
            }
            let mut longer = good.clone();
            longer.push(0);
            assert_eq!(g.open(7, 23, 0x0303, &mut longer), Err(BadRecordMac));
        }
    }

    #[test]
    fn other_key_or_salt_is_bad_record_mac() {
        let s = &TLS_RSA_WITH_AES_128_GCM_SHA256;
        let ours = GcmRecord::new(s, &[0x42; 16], &[1, 2, 3, 4]);
        let rec = sealed(&ours, 3, b"secret");
        for other in [
            GcmRecord::new(s, &[0x43; 16], &[1, 2, 3, 4]),
            GcmRecord::new(s, &[0x42; 16], &[1, 2, 3, 5]),
        ] {
            assert_eq!(
                other.open(3, 23, 0x0303, &mut rec.clone()),
                Err(BadRecordMac)
            );
        }
    }

    /// Wycheproof's AES-GCM vectors through the same two functions the record uses, for the
    /// shape TLS uses: 96-bit IVs, 128-bit tags, 128- and 256-bit keys.
    #[test]
    fn wycheproof_aes_gcm() {
        use wycheproof::aead::{TestName, TestSet};
        use wycheproof::TestResult;
        let set = TestSet::load(TestName::AesGcm).unwrap_or_else(|e| panic!("{e:?}"));
        let (mut valid, mut invalid) = (0, 0);
        for group in &set.test_groups {
            if group.nonce_size != 96 || group.tag_size != 128 || group.key_size == 192 {
                continue;
            }
            for t in &group.tests {
                let aes256 = group.key_size == 256;
                // The path this CPU takes for a record, and the portable one.
                for key in [
                    GcmKey::new(aes256, &t.key),
                    GcmKey::portable(aes256, &t.key),
                ] {
                    let nonce: [u8; 12] =
                        t.nonce[..].try_into().unwrap_or_else(|_| panic!("nonce"));
                    let Ok(tag) = <[u8; TAG_LEN]>::try_from(&t.tag[..]) else {
                        panic!("tc {}: tag length", t.tc_id)
                    };
                    let mut buf = t.ct.to_vec();
                    let opened = key.open_in_place(&nonce, &t.aad, &mut buf, &tag);
                    match t.result {
                        TestResult::Valid => {
                            assert_eq!(opened, Ok(()), "tc {} ({})", t.tc_id, t.comment);
                            assert_eq!(buf, t.pt.to_vec(), "tc {}", t.tc_id);
                            let mut buf = t.pt.to_vec();
                            let sealed_tag = key.seal_in_place(&nonce, &t.aad, &mut buf);
                            assert_eq!(buf, t.ct.to_vec(), "tc {}", t.tc_id);
                            assert_eq!(sealed_tag, tag, "tc {}", t.tc_id);
                            valid += 1;
                        }
                        TestResult::Invalid => {
                            assert_eq!(opened, Err(BadRecordMac), "tc {} ({})", t.tc_id, t.comment);
                            invalid += 1;
                        }
                        TestResult::Acceptable => {}
                    }
                }
            }
        }
        // The file really had vectors of our shape, good and forged.
        assert!(
            valid > 50 && invalid > 20,
            "valid {valid} invalid {invalid}"
        );
    }

    proptest::proptest! {
        #[test]
        fn open_never_panics(
            payload in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            seq in proptest::prelude::any::<u64>(),
        ) {
            for g in records() {
                proptest::prop_assert!(g.open(seq, 23, 0x0303, &mut payload.clone()).is_err());
                let _ = g.dissect(seq, &payload);
            }
        }
    }
}
