//! The GCM mode itself (NIST SP 800-38D §7.1–7.2) for 96-bit nonces, built from the `aes`
//! crate's block cipher and our GHASH kernel ([`super::ghash_avx512`]); the record layer's
//! construction around it is in [`super::gcm`].
//!
//! ```text
//! J0          = nonce || 0x00000001                       (§7.1 step 2, 96-bit IV)
//! ciphertext  = plaintext XOR E(K, J0 + 1), E(K, J0 + 2), …  (inc32: the last 4 bytes count)
//! S           = GHASH_H(aad || 0-pad || ciphertext || 0-pad || [len(aad)]64 || [len(ct)]64)
//! tag         = E(K, J0) XOR S                            (H = E(K, 0^128))
//! ```
//!
//! Why ours and not the `aes-gcm` crate's (which stays the portable path): its GHASH multiplies
//! and reduces block by block, which cost twice the AES itself on a download. Here the counter
//! blocks go to the cipher 256 at a time (four of the 64-block batches its VAES-512 backend
//! encrypts side by side); sealing then XORs each 64 bytes of keystream into the plaintext
//! (read where it lies, not copied first) and hashes the ciphertext while it is still in a
//! register, with one reduction per sixteen blocks. Opening cannot interleave: it hashes the
//! whole ciphertext first and decrypts only if the tag matches.

use super::cipher::BadRecordMac;
use super::ct::ct_eq;
use super::ghash_avx512::GhashKey;
use aes::cipher::consts::U16;
use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};

pub(crate) const NONCE_LEN: usize = 12;
pub(crate) const TAG_LEN: usize = 16;
const BLOCK: usize = 16;
/// Counter blocks per call into the cipher: four of its VAES-512 backend's batches (64 blocks,
/// fewer go one at a time), so its per-call setup is paid once per 4 KiB.
const BATCH: usize = 256;
/// SP 800-38D §5.2.1.1: at most 2^39 − 256 bits of plaintext (the 32-bit counter's range).
const MAX_TEXT: u64 = (1 << 36) - 32;

type Block = Array<u8, U16>;

/// One key's GCM: the block cipher and the GHASH key H = E(K, 0^128).
#[derive(Clone)]
pub(crate) struct Gcm<C> {
    aes: C,
    ghash: GhashKey,
}

impl<C: BlockCipherEncrypt<BlockSize = U16> + KeyInit> Gcm<C> {
    /// `None` if `key` is not the cipher's length or the CPU lacks the GHASH kernel's
    /// instructions (the caller then keeps the portable mode).
    pub(crate) fn new(key: &[u8]) -> Option<Self> {
        let aes = C::new_from_slice(key).ok()?;
        let mut h = Block::default();
        aes.encrypt_block(&mut h);
        let ghash = GhashKey::new(&h.into())?;
        Some(Self { aes, ghash })
    }

    /// Encrypt `buf` in place, return the tag.
    pub(crate) fn seal_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> [u8; TAG_LEN] {
        if buf.len() as u64 > MAX_TEXT || aad.len() as u64 > MAX_TEXT {
            // Never from a record (at most 2^14 + 2048 bytes); a zero tag makes the peer
            // reject rather than us panic, as the portable path does.
            return [0; TAG_LEN];
        }
        self.seal(nonce, aad, None, buf)
    }

    /// Encrypt `plaintext` into `out` (as long), return the tag: sealing without a copy first.
    ///
    /// # Panics
    /// If the lengths differ (a programming error).
    pub(crate) fn seal_to(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        plaintext: &[u8],
        out: &mut [u8],
    ) -> [u8; TAG_LEN] {
        assert_eq!(
            plaintext.len(),
            out.len(),
            "ciphertext as long as plaintext"
        );
        if out.len() as u64 > MAX_TEXT || aad.len() as u64 > MAX_TEXT {
            return [0; TAG_LEN];
        }
        self.seal(nonce, aad, Some(plaintext), out)
    }

    /// `out` = (`plaintext`, or `out` itself) encrypted; the tag.
    fn seal(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        plaintext: Option<&[u8]>,
        out: &mut [u8],
    ) -> [u8; TAG_LEN] {
        let mut hash = self.ghash.start();
        hash.update_padded(aad);
        let mut ctr = Keystream::new(nonce);
        let step = BATCH * BLOCK;
        let len = out.len();
        for at in (0..len).step_by(step) {
            let chunk = &mut out[at..(at + step).min(len)];
            let ks = ctr.next(&self.aes, chunk.len());
            match plaintext {
                Some(p) => hash.encrypt_to_update_padded(&p[at..], chunk, ks),
                None => hash.encrypt_update_padded(chunk, ks),
            }
        }
        hash.update_block(lengths(aad.len(), len));
        self.tag(nonce, hash.finish())
    }

    /// Check `tag` over `aad` and `buf`, and only then decrypt `buf` in place: a forged record
    /// is left as it came.
    pub(crate) fn open_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), BadRecordMac> {
        if buf.len() as u64 > MAX_TEXT || aad.len() as u64 > MAX_TEXT {
            return Err(BadRecordMac);
        }
        let mut hash = self.ghash.start();
        hash.update_padded(aad);
        hash.update_padded(buf);
        hash.update_block(lengths(aad.len(), buf.len()));
        if !ct_eq(&self.tag(nonce, hash.finish()), tag) {
            return Err(BadRecordMac);
        }
        let mut ctr = Keystream::new(nonce);
        for chunk in buf.chunks_mut(BATCH * BLOCK) {
            self.ghash
                .apply_keystream(chunk, ctr.next(&self.aes, chunk.len()));
        }
        Ok(())
    }

    /// E(K, J0) XOR S.
    fn tag(&self, nonce: &[u8; NONCE_LEN], s: [u8; TAG_LEN]) -> [u8; TAG_LEN] {
        let mut j0 = Block::default();
        j0[..NONCE_LEN].copy_from_slice(nonce);
        j0[NONCE_LEN..].copy_from_slice(&1u32.to_be_bytes());
        self.aes.encrypt_block(&mut j0);
        core::array::from_fn(|i| j0[i] ^ s[i])
    }
}

/// One message's keystream, a batch at a time: counter blocks (nonce || 32-bit big-endian
/// count) encrypted in place.
struct Keystream {
    /// The nonce block with a zero count, as a little-endian integer: a counter block is one
    /// OR and one 16-byte store.
    base: u128,
    /// The next data block's count (J0's is 1, so data starts at 2).
    next: u32,
    blocks: [[u8; BLOCK]; BATCH],
}

impl Keystream {
    fn new(nonce: &[u8; NONCE_LEN]) -> Self {
        let mut base = [0u8; BLOCK];
        base[..NONCE_LEN].copy_from_slice(nonce);
        Self {
            base: u128::from_le_bytes(base),
            next: 2,
            blocks: [[0; BLOCK]; BATCH],
        }
    }

    /// The next `len` bytes of keystream (`len` at most one batch), whole blocks.
    fn next<C: BlockCipherEncrypt<BlockSize = U16>>(&mut self, aes: &C, len: usize) -> &[u8] {
        let n = len.div_ceil(BLOCK).min(BATCH);
        let (base, next) = (self.base, self.next);
        for (i, b) in self.blocks[..n].iter_mut().enumerate() {
            let count = next.wrapping_add(i as u32);
            // The count's big-endian bytes are the integer's top 32 bits, byte-swapped.
            let block = base | (u128::from(count.swap_bytes()) << 96);
            *b = block.to_le_bytes();
        }
        self.next = self.next.wrapping_add(n as u32);
        aes.encrypt_blocks(Block::cast_slice_from_core_mut(&mut self.blocks[..n]));
        self.blocks[..n].as_flattened()
    }
}

/// GHASH's last block: both lengths in bits, 64 bits each, big-endian.
fn lengths(aad: usize, text: usize) -> u128 {
    ((aad as u128 * 8) << 64) | (text as u128 * 8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::{Aes128, Aes256};
    use aes_gcm::aead::array::Array as AeadArray;
    use aes_gcm::{AeadInOut, Aes128Gcm, Aes256Gcm};
    use proptest::prelude::*;

    fn say_if_unavailable() -> bool {
        if !crate::crypto::ghash_avx512::available() {
            println!("this CPU lacks the GHASH kernel's instructions: our GCM is not checked");
        }
        crate::crypto::ghash_avx512::available()
    }

    /// The crate's mode: (ciphertext, tag), or whether a tag opens.
    fn crate_seal(key: &[u8], nonce: &[u8; 12], aad: &[u8], pt: &[u8]) -> (Vec<u8>, [u8; 16]) {
        let mut buf = pt.to_vec();
        let nonce = AeadArray::from(*nonce);
        let tag = if key.len() == 16 {
            Aes128Gcm::new_from_slice(key)
                .unwrap_or_else(|_| panic!("key"))
                .encrypt_inout_detached(&nonce, aad, buf.as_mut_slice().into())
        } else {
            Aes256Gcm::new_from_slice(key)
                .unwrap_or_else(|_| panic!("key"))
                .encrypt_inout_detached(&nonce, aad, buf.as_mut_slice().into())
        }
        .unwrap_or_else(|_| panic!("seal"));
        (buf, tag.into())
    }

    fn ours_seal(key: &[u8], nonce: &[u8; 12], aad: &[u8], pt: &[u8]) -> (Vec<u8>, [u8; 16]) {
        let mut buf = pt.to_vec();
        let tag = if key.len() == 16 {
            Gcm::<Aes128>::new(key).map(|g| g.seal_in_place(nonce, aad, &mut buf))
        } else {
            Gcm::<Aes256>::new(key).map(|g| g.seal_in_place(nonce, aad, &mut buf))
        }
        .unwrap_or_else(|| panic!("available"));
        (buf, tag)
    }

    fn ours_seal_to(key: &[u8], nonce: &[u8; 12], aad: &[u8], pt: &[u8]) -> (Vec<u8>, [u8; 16]) {
        let mut buf = vec![0xA5; pt.len()];
        let tag = if key.len() == 16 {
            Gcm::<Aes128>::new(key).map(|g| g.seal_to(nonce, aad, pt, &mut buf))
        } else {
            Gcm::<Aes256>::new(key).map(|g| g.seal_to(nonce, aad, pt, &mut buf))
        }
        .unwrap_or_else(|| panic!("available"));
        (buf, tag)
    }

    fn ours_open(
        key: &[u8],
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), BadRecordMac> {
        if key.len() == 16 {
            Gcm::<Aes128>::new(key).map(|g| g.open_in_place(nonce, aad, buf, tag))
        } else {
            Gcm::<Aes256>::new(key).map(|g| g.open_in_place(nonce, aad, buf, tag))
        }
        .unwrap_or_else(|| panic!("available"))
    }

    proptest! {
        /// Ours and the `aes-gcm` crate's give the same ciphertext and tag, each opens the
        /// other's, and one flipped bit anywhere (AAD, ciphertext, tag) is refused with the
        /// buffer left as it came.
        #[test]
        fn matches_aes_gcm_crate(
            key in prop_oneof![
                proptest::collection::vec(any::<u8>(), 16),
                proptest::collection::vec(any::<u8>(), 32),
            ],
            nonce in any::<[u8; 12]>(),
            aad in proptest::collection::vec(any::<u8>(), 0..40),
            pt in proptest::collection::vec(any::<u8>(), 0..5000),
            flip in any::<prop::sample::Index>(),
        ) {
            if !say_if_unavailable() {
                return Ok(());
            }
            let (ct, tag) = crate_seal(&key, &nonce, &aad, &pt);
            prop_assert_eq!(ours_seal(&key, &nonce, &aad, &pt), (ct.clone(), tag));
            prop_assert_eq!(ours_seal_to(&key, &nonce, &aad, &pt), (ct.clone(), tag));
            let mut buf = ct.clone();
            prop_assert_eq!(ours_open(&key, &nonce, &aad, &mut buf, &tag), Ok(()));
            prop_assert_eq!(&buf, &pt);

            let bits = 8 * (aad.len() + ct.len() + TAG_LEN);
            let bit = flip.index(bits);
            let (mut aad2, mut ct2, mut tag2) = (aad.clone(), ct.clone(), tag);
            let byte = bit / 8;
            let mask = 1u8 << (bit % 8);
            if byte < aad.len() {
                aad2[byte] ^= mask;
            } else if byte < aad.len() + ct.len() {
                ct2[byte - aad.len()] ^= mask;
            } else {
                tag2[byte - aad.len() - ct.len()] ^= mask;
            }
            let mut buf = ct2.clone();
            prop_assert_eq!(ours_open(&key, &nonce, &aad2, &mut buf, &tag2), Err(BadRecordMac));
            prop_assert_eq!(buf, ct2);
        }
    }

    /// A 16 KiB record and lengths around the 64-block batch and the 16-block aggregation.
    #[test]
    fn batch_edges_match_aes_gcm_crate() {
        if !say_if_unavailable() {
            return;
        }
        for key in [vec![7u8; 16], vec![9u8; 32]] {
            for n in [1023, 1024, 1025, 1040, 2047, 2048, 2049, 16384, 16385] {
                let pt: Vec<u8> = (0..n).map(|i| (i * 13 + 5) as u8).collect();
                let nonce = [3u8; 12];
                let want = crate_seal(&key, &nonce, b"aad", &pt);
                assert_eq!(ours_seal(&key, &nonce, b"aad", &pt), want, "n={n}");
                assert_eq!(ours_seal_to(&key, &nonce, b"aad", &pt), want, "n={n}");
            }
        }
    }
}
