//! GHASH, GCM's universal hash (NIST SP 800-38D §6.4), with VPCLMULQDQ on 512-bit registers:
//! four 64×64-bit carry-less products per instruction, so one instruction touches four blocks.
//!
//! The sum is evaluated as the polynomial it is, not block by block (Horner): for a run of
//! sixteen blocks X1..X16 with the running value Y folded into X1,
//! `Y' = X1·H^16 + X2·H^15 + … + X16·H`, so each block is multiplied by its own precomputed
//! power of H (computed once per key) and the sixteen 256-bit products are added unreduced;
//! only their sum is reduced modulo the field polynomial — one reduction per sixteen blocks
//! where Horner's rule needs one per block (Gueron and Kounavis, "Intel Carry-Less
//! Multiplication Instruction and its Usage for Computing the GCM Mode", 2010, §"aggregated
//! reduction"). A shorter tail of r blocks starts its powers at H^r.
//!
//! The arithmetic is done in POLYVAL's form of the field (RFC 8452 §3 and its Appendix A): a
//! GCM block read as a big-endian integer is a POLYVAL element with the bit order the carry-less
//! multiply instruction wants (bit i is the coefficient of x^i), once H is multiplied by x. Then
//! `dot(a, b) = a·b·x^-128 mod x^128 + x^127 + x^126 + x^121 + 1`, whose x^-128 is a Montgomery
//! reduction: two more carry-less products by the constant 0xC2000000_00000000 (x^63 + x^62 +
//! x^57, the polynomial's middle terms moved down by 64), each clearing 64 low bits. The
//! powers are taken with the same `dot`, so every product of the sum carries the same
//! x^-128 per multiplication and the result is GHASH's exactly.
//!
//! The instructions take the same time whatever their data: nothing branches or indexes on H or
//! on the message. The kernel runs only when the CPU has avx512f, avx512bw (byte shuffles and
//! masked byte loads) and vpclmulqdq; [`GhashKey::new`] says `None` otherwise and the caller
//! keeps the portable mode.

#![allow(unsafe_code)]

use core::arch::x86_64::*;

/// Blocks per reduction: four 512-bit registers of four blocks.
const AGGREGATE: usize = 16;
const BLOCK: usize = 16;
/// x^63 + x^62 + x^57: the POLYVAL polynomial's terms x^127 + x^126 + x^121, moved down 64.
const REDUCE: u64 = 0xC200_0000_0000_0000;
/// x^128 mod the POLYVAL polynomial: what a carry out of bit 127 folds back to.
const POLY_LOW: u128 = 0xC200_0000_0000_0000_0000_0000_0000_0001;

/// H^16, H^15, …, H^1 in POLYVAL form, then four zero blocks: block j of a sixteen-block run is
/// multiplied by entry j, and a tail of r blocks reads entries 16 − r onwards (the zeros let a
/// whole register be loaded there; the data beside them is zero too).
#[derive(Clone)]
#[repr(C, align(64))]
struct Powers([u128; AGGREGATE + 4]);

/// A GHASH key: the powers of H the kernel multiplies by.
#[derive(Clone)]
pub(crate) struct GhashKey {
    powers: Powers,
}

/// A GHASH computation in progress: the running value, in POLYVAL form.
pub(crate) struct Ghash<'k> {
    key: &'k GhashKey,
    acc: u128,
}

/// Whether this CPU has the instructions the kernel is compiled for (std caches the answer).
pub(crate) fn available() -> bool {
    is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("vpclmulqdq")
        && is_x86_feature_detected!("pclmulqdq")
}

impl GhashKey {
    /// The key for hash subkey `h` (= E(K, 0^128)); `None` if the CPU lacks the instructions.
    pub(crate) fn new(h: &[u8; BLOCK]) -> Option<Self> {
        if !available() {
            return None;
        }
        // H·x in POLYVAL form (RFC 8452 Appendix A: mulX_POLYVAL(ByteReverse(H))); the carry
        // is folded in with a mask, not a branch on the key.
        let h = u128::from_be_bytes(*h);
        let hx = (h << 1) ^ (POLY_LOW & 0u128.wrapping_sub(h >> 127));
        let mut powers = Powers([0; AGGREGATE + 4]);
        let mut p = hx;
        for k in (0..AGGREGATE).rev() {
            powers.0[k] = p;
            // SAFETY: `available()` just saw every feature `dot` is compiled for.
            p = unsafe { dot(p, hx) };
        }
        Some(Self { powers })
    }

    /// `data ^= keystream` (as long as `data`) with the same 512-bit registers: opening's
    /// decryption, which must wait for the tag and so cannot be stitched to the hash. A method
    /// of the key only because a key proves the CPU has the instructions.
    ///
    /// # Panics
    /// If `keystream` is shorter than `data` (a programming error).
    pub(crate) fn apply_keystream(&self, data: &mut [u8], keystream: &[u8]) {
        assert!(keystream.len() >= data.len(), "keystream covers the chunk");
        // SAFETY: `self` exists only after `available()` said yes.
        unsafe { xor(None, data, keystream) };
    }

    /// A fresh computation (running value zero).
    pub(crate) fn start(&self) -> Ghash<'_> {
        Ghash { key: self, acc: 0 }
    }
}

impl Ghash<'_> {
    /// Hash `data`, zero-padded to whole blocks: GCM pads the additional data and the ciphertext
    /// each so. Only the last piece of each may be a partial block.
    pub(crate) fn update_padded(&mut self, data: &[u8]) {
        // SAFETY: a `GhashKey` exists only after `available()` said yes (see `GhashKey::new`).
        self.acc = unsafe { hash(&self.key.powers, self.acc, data) };
    }

    /// `data ^= keystream` (as long as `data`), then hash `data` zero-padded: GCM's encryption
    /// of one chunk, each 64 bytes hashed as soon as they are made (the stitched loop).
    ///
    /// # Panics
    /// If `keystream` is shorter than `data` (a programming error).
    pub(crate) fn encrypt_update_padded(&mut self, data: &mut [u8], keystream: &[u8]) {
        assert!(keystream.len() >= data.len(), "keystream covers the chunk");
        // SAFETY: as in `update_padded`.
        self.acc = unsafe { xor_hash(&self.key.powers, self.acc, None, data, keystream) };
    }

    /// [`encrypt_update_padded`](Self::encrypt_update_padded) reading the plaintext from
    /// `plaintext` instead of `out` (as long): a record is sealed without first copying it.
    ///
    /// # Panics
    /// If `keystream` or `plaintext` are shorter than `out` (a programming error).
    pub(crate) fn encrypt_to_update_padded(
        &mut self,
        plaintext: &[u8],
        out: &mut [u8],
        keystream: &[u8],
    ) {
        assert!(keystream.len() >= out.len(), "keystream covers the chunk");
        assert!(plaintext.len() >= out.len(), "plaintext covers the chunk");
        // SAFETY: as in `update_padded`.
        self.acc = unsafe { xor_hash(&self.key.powers, self.acc, Some(plaintext), out, keystream) };
    }

    /// Hash one whole block given as its big-endian integer (GCM's length block).
    pub(crate) fn update_block(&mut self, block: u128) {
        self.update_padded(&block.to_be_bytes());
    }

    /// The hash value, as GCM's bytes.
    pub(crate) fn finish(self) -> [u8; BLOCK] {
        self.acc.to_be_bytes()
    }
}

/// A u128 into the low lane of a register, and back.
#[target_feature(enable = "avx512f,avx512bw,vpclmulqdq,pclmulqdq")]
fn to_m128(x: u128) -> __m128i {
    _mm_set_epi64x((x >> 64) as i64, x as i64)
}

#[target_feature(enable = "avx512f,avx512bw,vpclmulqdq,pclmulqdq")]
fn from_m128(x: __m128i) -> u128 {
    let lo = _mm_cvtsi128_si64(x) as u64;
    let hi = _mm_extract_epi64::<1>(x) as u64;
    (u128::from(hi) << 64) | u128::from(lo)
}

/// The three parts of four 128×128-bit products (schoolbook, per 128-bit lane), added up:
/// lo = a0·b0, mid = a0·b1 + a1·b0, hi = a1·b1 (64-bit halves).
#[derive(Clone, Copy)]
struct Wide {
    lo: __m512i,
    mid: __m512i,
    hi: __m512i,
}

/// a ^ b ^ c in one instruction.
#[target_feature(enable = "avx512f,avx512bw,vpclmulqdq,pclmulqdq")]
fn xor3(a: __m512i, b: __m512i, c: __m512i) -> __m512i {
    _mm512_ternarylogic_epi64::<0x96>(a, b, c)
}

#[target_feature(enable = "avx512f,avx512bw,vpclmulqdq,pclmulqdq")]
fn mul(a: __m512i, b: __m512i) -> Wide {
    Wide {
        lo: _mm512_clmulepi64_epi128::<0x00>(a, b),
        mid: _mm512_xor_si512(
            _mm512_clmulepi64_epi128::<0x01>(a, b),
            _mm512_clmulepi64_epi128::<0x10>(a, b),
        ),
        hi: _mm512_clmulepi64_epi128::<0x11>(a, b),
    }
}

/// acc + a·b, unreduced.
#[target_feature(enable = "avx512f,avx512bw,vpclmulqdq,pclmulqdq")]
fn mul_add(acc: Wide, a: __m512i, b: __m512i) -> Wide {
    Wide {
        lo: xor3(
            acc.lo,
            _mm512_clmulepi64_epi128::<0x00>(a, b),
            _mm512_setzero_si512(),
        ),
        mid: xor3(
            acc.mid,
            _mm512_clmulepi64_epi128::<0x01>(a, b),
            _mm512_clmulepi64_epi128::<0x10>(a, b),
        ),
        hi: xor3(
            acc.hi,
            _mm512_clmulepi64_epi128::<0x11>(a, b),
            _mm512_setzero_si512(),
        ),
    }
}

/// The sum of the four lanes' products, times x^-128, reduced: one 128-bit value.
///
/// Per lane, t = t1·x^128 + t0 (256 bits). Adding t0's low 64 bits c times the polynomial
/// clears them (c·1) and adds c·(x^121 + x^126 + x^127) = (c·REDUCE)·x^64 and c·x^128 above;
/// the same for the next 64 bits leaves t1' = t·x^-128 mod the polynomial. The lanes are
/// reduced side by side (the reduction is linear) and added at the end.
#[target_feature(enable = "avx512f,avx512bw,vpclmulqdq,pclmulqdq")]
fn reduce(w: Wide) -> __m128i {
    let t0 = _mm512_xor_si512(w.lo, _mm512_bslli_epi128::<8>(w.mid));
    let t1 = _mm512_xor_si512(w.hi, _mm512_bsrli_epi128::<8>(w.mid));
    let k = _mm512_set1_epi64(REDUCE as i64);
    // Swapping a lane's 64-bit halves moves the low half up by 64 (and the high half, whose
    // turn is next, to the bottom).
    let d = _mm512_xor_si512(
        _mm512_shuffle_epi32::<0x4E>(t0),
        _mm512_clmulepi64_epi128::<0x00>(t0, k),
    );
    let r = xor3(
        t1,
        _mm512_shuffle_epi32::<0x4E>(d),
        _mm512_clmulepi64_epi128::<0x00>(d, k),
    );
    let r256 = _mm256_xor_si256(_mm512_castsi512_si256(r), _mm512_extracti64x4_epi64::<1>(r));
    _mm_xor_si128(
        _mm256_castsi256_si128(r256),
        _mm256_extracti128_si256::<1>(r256),
    )
}

/// a·b·x^-128 in POLYVAL form: one product, for the powers of H.
#[target_feature(enable = "avx512f,avx512bw,vpclmulqdq,pclmulqdq")]
fn dot(a: u128, b: u128) -> u128 {
    let a = _mm512_zextsi128_si512(to_m128(a));
    let b = _mm512_zextsi128_si512(to_m128(b));
    from_m128(reduce(mul(a, b)))
}

/// Reverses the bytes of each 128-bit lane: GCM's big-endian blocks as POLYVAL integers.
#[target_feature(enable = "avx512f,avx512bw,vpclmulqdq,pclmulqdq")]
fn byte_reverse(x: __m512i) -> __m512i {
    let rev = _mm512_broadcast_i32x4(_mm_set_epi8(
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
    ));
    _mm512_shuffle_epi8(x, rev)
}

/// Four aligned powers (entries `at..at + 4`).
#[target_feature(enable = "avx512f,avx512bw,vpclmulqdq,pclmulqdq")]
fn load_powers(p: &Powers, at: usize) -> __m512i {
    let four = &p.0[at..at + 4];
    // SAFETY: `four` is 64 readable bytes (four u128); the load is unaligned-tolerant.
    unsafe { _mm512_loadu_si512(four.as_ptr().cast()) }
}

/// H¹⁶…H¹ in four registers, as a run of sixteen blocks multiplies them.
#[target_feature(enable = "avx512f,avx512bw,vpclmulqdq,pclmulqdq")]
fn all_powers(p: &Powers) -> [__m512i; 4] {
    [
        load_powers(p, 0),
        load_powers(p, 4),
        load_powers(p, 8),
        load_powers(p, 12),
    ]
}

/// One run of sixteen blocks (four registers, byte-reversed) into the running value: the
/// running value joins the first block (Horner's rule), one reduction for the whole run.
#[target_feature(enable = "avx512f,avx512bw,vpclmulqdq,pclmulqdq")]
fn absorb_run(acc: __m128i, x: &[__m512i; 4], h: &[__m512i; 4]) -> __m128i {
    let x0 = _mm512_xor_si512(x[0], _mm512_zextsi128_si512(acc));
    let mut w = mul(x0, h[0]);
    w = mul_add(w, x[1], h[1]);
    w = mul_add(w, x[2], h[2]);
    w = mul_add(w, x[3], h[3]);
    reduce(w)
}

/// The running value `acc` extended over `data` zero-padded to whole blocks.
#[target_feature(enable = "avx512f,avx512bw,vpclmulqdq,pclmulqdq")]
fn hash(p: &Powers, acc: u128, data: &[u8]) -> u128 {
    let mut acc = to_m128(acc);
    let h = all_powers(p);
    let mut runs = data.chunks_exact(AGGREGATE * BLOCK);
    for run in &mut runs {
        let x: [__m512i; 4] = core::array::from_fn(|i| {
            let four = &run[64 * i..64 * (i + 1)];
            // SAFETY: `four` is 64 readable bytes.
            byte_reverse(unsafe { _mm512_loadu_si512(four.as_ptr().cast()) })
        });
        acc = absorb_run(acc, &x, &h);
    }
    let tail = runs.remainder();
    if !tail.is_empty() {
        // r blocks (the last one maybe partial, read zero-padded): block j gets H^(r − j).
        let r = tail.len().div_ceil(BLOCK);
        let mut w = Wide {
            lo: _mm512_setzero_si512(),
            mid: _mm512_setzero_si512(),
            hi: _mm512_setzero_si512(),
        };
        for (i, four) in tail.chunks(64).enumerate() {
            // Bytes past the slice are masked off: neither read nor faulted on, loaded as 0.
            let mask = u64::MAX >> (64 - four.len());
            // SAFETY: the mask selects exactly `four.len()` bytes from `four.as_ptr()`, all
            // inside `four`.
            let mut x =
                byte_reverse(unsafe { _mm512_maskz_loadu_epi8(mask, four.as_ptr().cast()) });
            if i == 0 {
                x = _mm512_xor_si512(x, _mm512_zextsi128_si512(acc));
            }
            w = mul_add(w, x, load_powers(p, AGGREGATE - r + 4 * i));
        }
        acc = reduce(w);
    }
    from_m128(acc)
}

/// 64 bytes of `src` (or of `dst` itself if `None`) from `at`, as many as `mask` says.
#[target_feature(enable = "avx512f,avx512bw,vpclmulqdq,pclmulqdq")]
fn load_masked(src: Option<&[u8]>, dst: &[u8], at: usize, mask: u64) -> __m512i {
    let from = src.unwrap_or(dst);
    let n = mask.count_ones() as usize;
    let bytes = &from[at..at + n];
    // SAFETY: the mask selects the `n` low bytes, all inside `bytes`; masked-off bytes are not
    // read.
    unsafe { _mm512_maskz_loadu_epi8(mask, bytes.as_ptr().cast()) }
}

/// Bytes `at..` of `dst` = (`src` or `dst`) XOR `keystream`, for the bytes `mask` says (the
/// low ones), returned as well.
#[target_feature(enable = "avx512f,avx512bw,vpclmulqdq,pclmulqdq")]
fn xor64(src: Option<&[u8]>, dst: &mut [u8], ks: &[u8], at: usize, mask: u64) -> __m512i {
    let c = _mm512_xor_si512(
        load_masked(src, dst, at, mask),
        load_masked(None, ks, at, mask),
    );
    let n = mask.count_ones() as usize;
    let out = &mut dst[at..at + n];
    // SAFETY: the mask selects the `n` low bytes, all inside `out`; the others are not written.
    unsafe { _mm512_mask_storeu_epi8(out.as_mut_ptr().cast(), mask, c) };
    c
}

/// The mask of the first `n` bytes (n ≤ 64).
fn first_bytes(n: usize) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

/// `dst ^= keystream` (or `dst = src ^ keystream`), 64 bytes at a time; `keystream` and `src`
/// are at least as long as `dst`.
#[target_feature(enable = "avx512f,avx512bw,vpclmulqdq,pclmulqdq")]
fn xor(src: Option<&[u8]>, dst: &mut [u8], keystream: &[u8]) {
    for at in (0..dst.len()).step_by(64) {
        xor64(src, dst, keystream, at, first_bytes(dst.len() - at));
    }
}

/// `hash` over `dst = (src or dst) ^ keystream`: the same runs and tail, each register of
/// ciphertext stored and hashed as it is made.
#[target_feature(enable = "avx512f,avx512bw,vpclmulqdq,pclmulqdq")]
fn xor_hash(p: &Powers, acc: u128, src: Option<&[u8]>, dst: &mut [u8], keystream: &[u8]) -> u128 {
    let mut acc = to_m128(acc);
    let h = all_powers(p);
    let run = AGGREGATE * BLOCK;
    let whole = dst.len() / run * run;
    for at in (0..whole).step_by(run) {
        let x: [__m512i; 4] = core::array::from_fn(|i| {
            byte_reverse(xor64(src, dst, keystream, at + 64 * i, u64::MAX))
        });
        acc = absorb_run(acc, &x, &h);
    }
    let tail = &mut dst[whole..];
    xor(src.map(|s| &s[whole..]), tail, &keystream[whole..]);
    // The tail, now ciphertext, as `hash` does it.
    hash(p, from_m128(acc), tail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// GCM's multiplication bit by bit (SP 800-38D §6.3, Algorithm 1), blocks as big-endian
    /// integers: nothing shared with the kernel but the definition.
    fn gf_mul(x: u128, y: u128) -> u128 {
        let r = 0xE1u128 << 120;
        let (mut z, mut v) = (0u128, y);
        for i in 0..128 {
            if (x >> (127 - i)) & 1 == 1 {
                z ^= v;
            }
            v = (v >> 1) ^ if v & 1 == 1 { r } else { 0 };
        }
        z
    }

    /// GHASH (SP 800-38D §6.4) of `y` extended over `data` zero-padded.
    fn reference(h: &[u8; 16], mut y: u128, data: &[u8]) -> u128 {
        let h = u128::from_be_bytes(*h);
        for chunk in data.chunks(16) {
            let mut block = [0u8; 16];
            block[..chunk.len()].copy_from_slice(chunk);
            y = gf_mul(y ^ u128::from_be_bytes(block), h);
        }
        y
    }

    fn say_if_unavailable() -> bool {
        if !available() {
            println!("this CPU lacks avx512f/avx512bw/vpclmulqdq: the kernel is not checked");
        }
        available()
    }

    proptest! {
        /// Every length from 0 to 300 blocks, partial last blocks included, from a random
        /// running value: every tail length of the sixteen-block aggregation, after 0 to 18
        /// whole runs. The running value is GCM's (a big-endian integer) as it is: POLYVAL's
        /// form of it is the same integer at every block, not only at the end.
        #[test]
        fn kernel_matches_bitwise_reference(
            h in any::<[u8; 16]>(),
            start in any::<u128>(),
            data in proptest::collection::vec(any::<u8>(), 0..300 * 16),
            split in any::<prop::sample::Index>(),
        ) {
            if !say_if_unavailable() {
                return Ok(());
            }
            let key = GhashKey::new(&h).unwrap_or_else(|| panic!("available"));
            let want = reference(&h, start, &data).to_be_bytes();
            let mut whole = Ghash { key: &key, acc: start };
            whole.update_padded(&data);
            prop_assert_eq!(whole.finish(), want);
            // The same in two calls, cut at a block boundary.
            let cut = split.index(data.len() / 16 + 1) * 16;
            let mut g = Ghash { key: &key, acc: start };
            g.update_padded(&data[..cut]);
            g.update_padded(&data[cut..]);
            prop_assert_eq!(g.finish(), want);
        }
    }

    /// The length block path and the bitwise reference agree on GCM's extreme keys.
    #[test]
    fn edge_keys() {
        if !say_if_unavailable() {
            return;
        }
        for h in [[0u8; 16], [0xff; 16], [0x80; 16], {
            let mut one = [0u8; 16];
            one[15] = 1;
            one
        }] {
            let key = GhashKey::new(&h).unwrap_or_else(|| panic!("available"));
            let data: Vec<u8> = (0..700u32).map(|i| (i * 31 + 7) as u8).collect();
            let mut g = key.start();
            g.update_padded(&data);
            g.update_block(u128::MAX);
            let want = reference(&h, reference(&h, 0, &data), &u128::MAX.to_be_bytes());
            assert_eq!(g.finish(), want.to_be_bytes());
        }
    }
}
