//! The 1024-bit secret exponentiation (one CRT half of an RSA-2048 private operation) with the
//! AVX-512 IFMA instructions `vpmadd52luq`/`vpmadd52huq`: eight 52×52-bit products per
//! instruction, each adding the low (or high) 52 bits of its 104-bit product to a 64-bit lane.
//!
//! Numbers are held in radix 2^52: twenty 52-bit limbs (1040 bits, three 512-bit registers
//! with four lanes spare), so R' = 2^1040 here where the portable code has R = 2^1024. A
//! Montgomery multiplication (word by word, as in `montgomery.rs`) then needs no carry chain
//! inside a step: every lane is a 64-bit accumulator with 12 bits of headroom over its 52-bit
//! digit, so the products of one word of b with all of a (and of the quotient digit with all
//! of m) are added lane-wise and the accumulators move down two lanes per pair of steps;
//! carries are resolved only once, at the end of the multiplication. The quotient digit of
//! each step depends on the lowest limb alone: the two lowest limbs of each pair are kept in
//! general-purpose registers so the digits wait for as little as possible (see [`amm`]).
//!
//! One multiplication is a single chain of dependent steps, each of which waits for the last
//! quotient digit, and it leaves the vector units idle much of the time. The two halves of a
//! CRT private operation are independent, so [`Radix52::pow_secret_pair`] runs both
//! exponentiations in one loop, their steps interleaved (the same code with N = 2 sets of
//! operands): each fills the other's waits, about a sixth less time per multiplication on a
//! Sapphire-Rapids-class core. A lone exponentiation ([`Radix52::pow_secret`]) is N = 1.
//!
//! The multiplication is "almost Montgomery" (Gueron and Krasnov, "Software implementation of
//! modular exponentiation, using advanced vector instructions architectures", 2012, and their
//! later IFMA papers; the scheme of OpenSSL's rsaz-avx512): there is no final subtraction per
//! multiplication. With inputs below 2m and 4m < R', the output
//! (a·b + q·m)/R' < 4m²/R' + m < 2m stays below 2m, so results feed the next multiplication
//! as they are. Only the very end reduces below m, with a masked subtraction.
//!
//! The contract is exactly [`Montgomery::pow_secret`](super::montgomery::Montgomery)'s for a
//! 16-limb modulus: in and out in the 64-bit Montgomery form (factor R = 2^1024). One
//! multiplication by c = R'²·R⁻¹ mod m moves x·R to x·R', the exponentiation runs in the R'
//! form with the same fixed 5-bit window and full-table scans, and one multiplication by
//! d = R mod m moves y·R' back to y·R. Nothing branches or indexes on the exponent or on the
//! numbers: the vector instructions take the same time whatever their data.

#![allow(unsafe_code)]

use super::montgomery::subtract_if_not_below;
use core::arch::x86_64::*;
use num_bigint::BigUint;
use num_traits::One;

/// 52-bit limbs of a 1024-bit modulus with room for 2m: 20 limbs, 1040 bits.
const LIMBS: usize = 20;
/// Three registers of eight 64-bit lanes; lanes 20..23 stay zero.
const LANES: usize = 24;
const MASK52: u64 = (1 << 52) - 1;
/// Bits of the exponent per table multiplication, as in the portable code.
const WINDOW: usize = 5;

/// A number in radix 2^52, laid out for aligned 512-bit loads.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Limbs52([u64; LANES]);

/// What the kernel needs for one 16-limb modulus, computed with num-bigint when the key is
/// loaded.
#[derive(Clone)]
pub(super) struct Radix52 {
    /// m in 52-bit limbs.
    m: Limbs52,
    /// −m⁻¹ mod 2^52.
    k0: u64,
    /// R'²·R⁻¹ mod m = 2^1056 mod m: moves x·R into x·R'.
    to_r52: Limbs52,
    /// R mod m = 2^1024 mod m: moves y·R' back into y·R.
    from_r52: Limbs52,
    /// R' mod m: 1 in the R' form (table entry 0).
    one: Limbs52,
    /// m in 64-bit limbs, for the final subtraction.
    m64: [u64; 16],
}

impl Radix52 {
    /// `None` unless `modulus` is odd and exactly 16 limbs of 64 bits.
    pub(super) fn new(modulus: &BigUint) -> Option<Self> {
        let m64: [u64; 16] = modulus.to_u64_digits().try_into().ok()?;
        if m64[0] & 1 == 0 {
            return None;
        }
        // Newton's iteration for m⁻¹ mod 2^64 (then mod 2^52): 1 → 2 → … → 64 correct bits.
        let mut inv: u64 = 1;
        for _ in 0..6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(m64[0].wrapping_mul(inv)));
        }
        let pow2 = |bits: u32| limbs52(&((BigUint::one() << bits) % modulus));
        Some(Self {
            m: limbs52(modulus),
            k0: inv.wrapping_neg() & MASK52,
            to_r52: pow2(1056),
            from_r52: pow2(1024),
            one: pow2(1040),
            m64,
        })
    }

    /// `out = x^exp` in Montgomery form (R = 2^1024, `x < m` too), exactly as
    /// `Montgomery::pow_secret`; `false` (and `out` untouched) when this CPU lacks AVX-512F or
    /// AVX-512 IFMA.
    pub(super) fn pow_secret(&self, x: &[u64; 16], exp: &[u64], out: &mut [u64; 16]) -> bool {
        if !available() {
            return false;
        }
        // SAFETY: `available()` just saw avx512f and avx512ifma on this CPU, the target
        // features `pow_kernel` is compiled for.
        unsafe { pow_kernel([self], [x], [exp], [out]) };
        true
    }

    /// Two exponentiations at once, each exactly as [`Radix52::pow_secret`] (the two halves
    /// of a CRT private operation): their steps interleaved, so that each fills the other's
    /// waits (see [`amm`]). `false` (and both outputs untouched) without AVX-512 IFMA.
    pub(super) fn pow_secret_pair(
        halves: [&Self; 2],
        x: [&[u64; 16]; 2],
        exp: [&[u64]; 2],
        out: [&mut [u64; 16]; 2],
    ) -> bool {
        if !available() {
            return false;
        }
        // SAFETY: as in `pow_secret`: `available()` just saw the kernel's target features.
        unsafe { pow_kernel(halves, x, exp, out) };
        true
    }
}

/// Whether this CPU has the instructions the kernel is compiled for (std caches the answer).
pub(super) fn available() -> bool {
    is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512ifma")
}

/// `x` (below 2^1040) in 52-bit limbs.
fn limbs52(x: &BigUint) -> Limbs52 {
    let mut limbs = [0u64; LANES];
    for (i, limb) in limbs.iter_mut().take(LIMBS).enumerate() {
        let chunk = (x >> (52 * i)) & BigUint::from(MASK52);
        *limb = chunk.to_u64_digits().first().copied().unwrap_or(0);
    }
    Limbs52(limbs)
}

/// Sixteen 64-bit limbs as twenty 52-bit ones (bit positions are fixed: no data dependence).
fn to_radix52(x: &[u64; 16]) -> Limbs52 {
    let mut out = [0u64; LANES];
    for (i, limb) in out.iter_mut().take(LIMBS).enumerate() {
        let (word, shift) = (52 * i / 64, 52 * i % 64);
        let mut v = x.get(word).copied().unwrap_or(0) >> shift;
        if shift > 12 {
            v |= x.get(word + 1).copied().unwrap_or(0) << (64 - shift);
        }
        *limb = v & MASK52;
    }
    Limbs52(out)
}

/// Twenty normalised 52-bit limbs as sixteen 64-bit ones and the 16 bits above them.
fn to_radix64(x: &Limbs52) -> ([u64; 16], u64) {
    let mut out = [0u64; 16];
    let (mut acc, mut bits, mut k) = (0u128, 0usize, 0usize);
    for &limb in &x.0[..LIMBS] {
        acc |= u128::from(limb) << bits;
        bits += 52;
        if bits >= 64 {
            out[k] = acc as u64;
            acc >>= 64;
            bits -= 64;
            k += 1;
        }
    }
    (out, acc as u64)
}

/// The exponentiation itself, for one modulus or for two side by side (the same sequence of
/// operations for each: the number of windows is the longer exponent's, the shorter one's
/// missing top bits read as zero); see the module documentation.
#[target_feature(enable = "avx512f,avx512ifma")]
fn pow_kernel<const N: usize>(
    ctx: [&Radix52; N],
    x: [&[u64; 16]; N],
    exp: [&[u64]; N],
    out: [&mut [u64; 16]; N],
) {
    let m = ctx.map(|c| &c.m);
    let k0 = ctx.map(|c| c.k0);
    // x·R' (below 2m, as every value from here on).
    let x52 = x.map(to_radix52);
    let xr = amm(x52.each_ref(), ctx.map(|c| &c.to_r52), m, k0);
    // table[h][k] = x_h^k·R'; table[h][0] is 1.
    let mut table: [[Limbs52; 1 << WINDOW]; N] =
        core::array::from_fn(|h| [ctx[h].one; 1 << WINDOW]);
    for k in 1..1 << WINDOW {
        let next = amm(
            core::array::from_fn(|h| &table[h][k - 1]),
            xr.each_ref(),
            m,
            k0,
        );
        for (t, v) in table.iter_mut().zip(next) {
            t[k] = v;
        }
    }
    // Bits past the top of an exponent (the top window may be short) read as zero.
    let window = |h: usize, w: usize| {
        let bits = 64 * exp[h].len();
        (0..WINDOW).fold(0u64, |v, j| {
            let i = w * WINDOW + j;
            let b = if i < bits {
                (exp[h][i / 64] >> (i % 64)) & 1
            } else {
                0
            };
            v | (b << j)
        })
    };
    let windows = exp
        .iter()
        .map(|e| (64 * e.len()).div_ceil(WINDOW))
        .max()
        .unwrap_or(0);
    let mut acc: [Limbs52; N] = core::array::from_fn(|h| {
        if windows == 0 {
            ctx[h].one
        } else {
            select(&table[h], window(h, windows - 1))
        }
    });
    for w in (0..windows.saturating_sub(1)).rev() {
        for _ in 0..WINDOW {
            acc = amm(acc.each_ref(), acc.each_ref(), m, k0);
        }
        let entry: [Limbs52; N] = core::array::from_fn(|h| select(&table[h], window(h, w)));
        acc = amm(acc.each_ref(), entry.each_ref(), m, k0);
    }
    // y·R' → y·R, below 2m; then below m.
    let y = amm(acc.each_ref(), ctx.map(|c| &c.from_r52), m, k0);
    for ((y, c), out) in y.iter().zip(ctx).zip(out) {
        let (t, top) = to_radix64(y);
        subtract_if_not_below(&t, top, &c.m64, out);
    }
}

/// `table[k]`, reading every entry (a masked move per entry) so the cache sees no index.
#[target_feature(enable = "avx512f,avx512ifma")]
fn select(table: &[Limbs52; 1 << WINDOW], k: u64) -> Limbs52 {
    let want = _mm512_set1_epi64(k as i64);
    let mut acc = [_mm512_setzero_si512(); 3];
    for (i, entry) in table.iter().enumerate() {
        let hit = _mm512_cmpeq_epi64_mask(_mm512_set1_epi64(i as i64), want);
        let v = load(entry);
        for r in 0..3 {
            acc[r] = _mm512_mask_mov_epi64(acc[r], hit, v[r]);
        }
    }
    store(&acc)
}

#[target_feature(enable = "avx512f")]
fn load(x: &Limbs52) -> [__m512i; 3] {
    let p = x.0.as_ptr();
    // SAFETY: `x` is 24 u64 (192 bytes), 64-byte aligned; the three loads read its bytes
    // 0..64, 64..128 and 128..192; avx512f is enabled on this function.
    unsafe {
        [
            _mm512_load_si512(p.cast()),
            _mm512_load_si512(p.add(8).cast()),
            _mm512_load_si512(p.add(16).cast()),
        ]
    }
}

#[target_feature(enable = "avx512f")]
fn store(v: &[__m512i; 3]) -> Limbs52 {
    let mut out = Limbs52([0; LANES]);
    let p = out.0.as_mut_ptr();
    // SAFETY: as in `load`: three aligned 64-byte stores inside `out`'s 192 bytes.
    unsafe {
        _mm512_store_si512(p.cast(), v[0]);
        _mm512_store_si512(p.add(8).cast(), v[1]);
        _mm512_store_si512(p.add(16).cast(), v[2]);
    }
    out
}

/// Almost Montgomery multiplication: a·b·2^−1040 mod m, below 2m for a, b below 2m, in
/// normalised 52-bit limbs; for N independent sets of operands at once (N = 1, or 2 for the
/// two halves of a CRT private operation).
///
/// Step i adds a·b_i + q_i·m (q_i chosen so the lowest limb becomes a multiple of 2^52) and
/// divides by 2^52. The steps go in pairs: the products of b_i and b_{i+1} go into one
/// accumulator (`x`), those of q_i and q_{i+1} into another (`y`), and both move down two
/// lanes per pair, one `valignq` per register per pair. Of step i's products the low halves
/// land in their own lane and the high halves one lane up, of step i+1's one and two lanes up
/// (a and m are also kept moved up one and two lanes).
///
/// The two lowest lanes of each pair are in general-purpose registers: the quotient digits
/// need them exactly and soon. They are read from the vectors before q_i's and q_{i+1}'s
/// products are in; what those add there is added in scalar code (q_i·m0 and q_{i+1}·m0 whole,
/// the low halves of q_i·m1, q_i·m2 and q_{i+1}·m1, the high half of q_i·m1), and limb 0's
/// high products (of a and of m) are left out of the vectors (lanes cleared in the moved
/// copies) because the scalar code adds them whole. Each quotient digit is k0·(its lane)
/// mod 2^52, taken from the lane's terms without waiting for the lane's exact value.
///
/// Where the time goes: one multiplication is a chain of dependent steps (scalar digit →
/// broadcast → multiply-adds → lane read → next digit), and measured on a Sapphire-Rapids-class
/// core it leaves the vector units idle much of the time; no rearrangement of a single chain
/// that was tried (split accumulators, look-ahead lane reads, a stationary window without
/// shifts) beat this one by more than a few percent. Two independent multiplications in one
/// loop fill each other's gaps: about 17% less time per multiplication.
#[target_feature(enable = "avx512f,avx512ifma")]
fn amm<const N: usize>(
    a: [&Limbs52; N],
    b: [&Limbs52; N],
    m: [&Limbs52; N],
    k0: [u64; N],
) -> [Limbs52; N] {
    let zero = _mm512_setzero_si512();
    // Moved up one lane with lane 1 cleared, and up two lanes with lane 2 cleared: limb 0's
    // products there are the scalar registers' (whole, in 128 bits).
    let up1 = |v: &[__m512i; 3]| {
        [
            _mm512_maskz_alignr_epi64::<7>(0b1111_1100, v[0], zero),
            _mm512_alignr_epi64::<7>(v[1], v[0]),
            _mm512_alignr_epi64::<7>(v[2], v[1]),
        ]
    };
    let up2 = |v: &[__m512i; 3]| {
        [
            _mm512_maskz_alignr_epi64::<6>(0b1111_1000, v[0], zero),
            _mm512_alignr_epi64::<6>(v[1], v[0]),
            _mm512_alignr_epi64::<6>(v[2], v[1]),
        ]
    };
    let lo52 = |x: u64, y: u64| x.wrapping_mul(y) & MASK52;
    // y is a multiplier moved up 12 bits: the high 64 bits of x·y are x·(y >> 12)'s above 52.
    let hi52 = |x: u64, y: u128| ((u128::from(x) * y) >> 64) as u64;
    // 1 when the low 52 bits of x are not all zero (no branch, no comparison).
    let nz52 = |x: u64| ((x & MASK52) + MASK52) >> 52;
    let av: [[__m512i; 3]; N] = core::array::from_fn(|h| load(a[h]));
    let mv: [[__m512i; 3]; N] = core::array::from_fn(|h| load(m[h]));
    let a1v = av.map(|v| up1(&v));
    let a2v = av.map(|v| up2(&v));
    let m1v = mv.map(|v| up1(&v));
    let m2v = mv.map(|v| up2(&v));
    let mut x = [[zero; 3]; N];
    let mut y = [[zero; 3]; N];
    let mut low = [0u64; N];
    // The quotient digit of the pair's first step, found ahead (see below).
    let mut qi: [u64; N] = core::array::from_fn(|h| lo52(k0[h], a[h].0[0].wrapping_mul(b[h].0[0])));
    for k in 0..LIMBS / 2 {
        // In three phases, each over the N sets, so that one set's scalar work sits between
        // the other's multiply-adds in the instruction stream.
        for h in 0..N {
            let (bi, bj) = (b[h].0[2 * k], b[h].0[2 * k + 1]);
            let (bvi, bvj) = (_mm512_set1_epi64(bi as i64), _mm512_set1_epi64(bj as i64));
            for r in 0..3 {
                x[h][r] = _mm512_madd52lo_epu64(x[h][r], av[h][r], bvi);
                x[h][r] = _mm512_madd52hi_epu64(x[h][r], a1v[h][r], bvi);
                x[h][r] = _mm512_madd52lo_epu64(x[h][r], a1v[h][r], bvj);
                x[h][r] = _mm512_madd52hi_epu64(x[h][r], a2v[h][r], bvj);
            }
        }
        let mut digits = [(0u64, 0u64); N];
        for h in 0..N {
            let (a0, m1, m2) = (a[h].0[0], m[h].0[1], m[h].0[2]);
            let m0s = u128::from(m[h].0[0] << 12);
            let k0m1 = k0[h].wrapping_mul(m1);
            let (bi, bj) = (b[h].0[2 * k], b[h].0[2 * k + 1]);
            // Lanes 1 and 2 as they will be, but for this pair's quotient digits.
            let s = _mm512_add_epi64(x[h][0], y[h][0]);
            let lane1 = _mm_extract_epi64::<1>(_mm512_castsi512_si128(s)) as u64;
            let lane2 = _mm_cvtsi128_si64(_mm512_extracti32x4_epi32::<1>(s)) as u64;

            // Step i: the low lane plus a0·b_i, made a multiple of 2^52 by q_i·m0. The carry
            // out, (t + q_i·m0)/2^52, is t's bits above 52, q_i·m0's, and 1 unless t's low
            // 52 bits are zero (the two low parts add up to 0 or to 2^52).
            let q = qi[h];
            let t = u128::from(low[h]) + u128::from(a0) * u128::from(bi);
            let hi = hi52(q, m0s);
            let rest = (t >> 52) as u64 + nz52(t as u64) + lane1;
            // Step i+1 on lane 1: rest + hi + the low half of q_i·m1. Its digit is k0 times
            // that mod 2^52, the terms distributed so that it waits for one product of q_i.
            let pj = u128::from(a0) * u128::from(bj);
            let qj = k0[h]
                .wrapping_mul(rest.wrapping_add(pj as u64))
                .wrapping_add(k0[h].wrapping_mul(hi))
                .wrapping_add(k0m1.wrapping_mul(q))
                & MASK52;
            let t = u128::from(rest + hi + lo52(q, m1)) + pj;
            let hj = hi52(qj, m0s);
            // Lane 2 (the next pair's low lane): q_i's products there and the low half of
            // q_{i+1}·m1.
            let rest = (t >> 52) as u64
                + nz52(t as u64)
                + lane2
                + lo52(q, m2)
                + hi52(q, u128::from(m1 << 12));
            low[h] = rest + hj + lo52(qj, m1);
            // The next pair's first digit, as q_{i+1} above.
            let next_b = b[h].0.get(2 * k + 2).copied().unwrap_or(0);
            qi[h] = k0[h]
                .wrapping_mul(rest.wrapping_add(a0.wrapping_mul(next_b)))
                .wrapping_add(k0[h].wrapping_mul(hj))
                .wrapping_add(k0m1.wrapping_mul(qj))
                & MASK52;
            digits[h] = (q, qj);
        }
        for h in 0..N {
            let (q, qj) = digits[h];
            let (qvi, qvj) = (_mm512_set1_epi64(q as i64), _mm512_set1_epi64(qj as i64));
            for r in 0..3 {
                y[h][r] = _mm512_madd52lo_epu64(y[h][r], mv[h][r], qvi);
                y[h][r] = _mm512_madd52hi_epu64(y[h][r], m1v[h][r], qvi);
                y[h][r] = _mm512_madd52lo_epu64(y[h][r], m1v[h][r], qvj);
                y[h][r] = _mm512_madd52hi_epu64(y[h][r], m2v[h][r], qvj);
            }
            // Divide by 2^104: every lane moves down two.
            for v in [&mut x[h], &mut y[h]] {
                v[0] = _mm512_alignr_epi64::<2>(v[1], v[0]);
                v[1] = _mm512_alignr_epi64::<2>(v[2], v[1]);
                v[2] = _mm512_alignr_epi64::<2>(zero, v[2]);
            }
        }
    }
    core::array::from_fn(|h| {
        let mut r = [zero; 3];
        for j in 0..3 {
            r[j] = _mm512_add_epi64(x[h][j], y[h][j]);
        }
        r[0] = _mm512_mask_blend_epi64(1, r[0], _mm512_set1_epi64(low[h] as i64));
        store(&normalise(r))
    })
}

/// Carries resolved: every limb below 2^52 (the value is below 2^1040, so nothing leaves the
/// top). One vector pass moves each lane's bits above 52 into the next lane; then a lane
/// carries at most 1, and which lanes receive one is found as in a carry-lookahead adder:
/// lanes above 2^52 − 1 generate a carry, lanes equal to it pass one on, and adding the two
/// bit masks as integers ripples the carries through (no branch, no data-dependent loop).
#[target_feature(enable = "avx512f")]
fn normalise(mut r: [__m512i; 3]) -> [__m512i; 3] {
    let zero = _mm512_setzero_si512();
    let mask = _mm512_set1_epi64(MASK52 as i64);
    let c = [
        _mm512_srli_epi64::<52>(r[0]),
        _mm512_srli_epi64::<52>(r[1]),
        _mm512_srli_epi64::<52>(r[2]),
    ];
    let c_up = [
        _mm512_alignr_epi64::<7>(c[0], zero),
        _mm512_alignr_epi64::<7>(c[1], c[0]),
        _mm512_alignr_epi64::<7>(c[2], c[1]),
    ];
    let (mut generate, mut propagate) = (0u32, 0u32);
    for j in 0..3 {
        r[j] = _mm512_add_epi64(_mm512_and_si512(r[j], mask), c_up[j]);
        generate |= u32::from(_mm512_cmpgt_epu64_mask(r[j], mask)) << (8 * j);
        propagate |= u32::from(_mm512_cmpeq_epi64_mask(r[j], mask)) << (8 * j);
    }
    let carries = ((generate << 1).wrapping_add(propagate)) ^ propagate;
    let one = _mm512_set1_epi64(1);
    for (j, r) in r.iter_mut().enumerate() {
        let k = (carries >> (8 * j)) as u8;
        *r = _mm512_and_si512(_mm512_mask_add_epi64(*r, k, *r, one), mask);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::rsa::montgomery::{biguint_of, limbs_of, Montgomery};
    use proptest::prelude::*;

    /// Both paths on the same inputs: x < m given plain, exp as limbs.
    fn both(m: &BigUint, x: &BigUint, exp: &[u64]) -> Option<([u64; 16], [u64; 16])> {
        let mont = Montgomery::new(m)?;
        let ctx = Radix52::new(m)?;
        let mut xm = [0u64; 16];
        mont.enter_mont(&limbs_of(&(x % m), 16), &mut xm);
        let mut portable = [0u64; 16];
        mont.pow_secret_portable(&xm, exp, &mut portable);
        let mut fast = [0u64; 16];
        if !ctx.pow_secret(&xm, exp, &mut fast) {
            return None;
        }
        Some((portable, fast))
    }

    fn say_if_unavailable() -> bool {
        if !available() {
            println!("this CPU lacks avx512f/avx512ifma: only the portable path is checked");
        }
        available()
    }

    #[test]
    fn radix_conversions_round_trip() {
        let x: [u64; 16] =
            core::array::from_fn(|i| 0x0123_4567_89ab_cdef_u64.rotate_left(i as u32 * 7));
        let l = to_radix52(&x);
        assert!(l.0.iter().all(|&v| v <= MASK52));
        assert_eq!(to_radix64(&l), (x, 0));
        assert_eq!(l.0, limbs52(&biguint_of(&x)).0);
    }

    /// The kernel agrees with the portable code on the key's own numbers and at the edges.
    #[test]
    fn ifma_matches_portable_at_the_edges() {
        if !say_if_unavailable() {
            return;
        }
        let key = crate::crypto::rsa::test_key();
        let moduli = [
            key.p().clone(),
            key.q().clone(),
            (BigUint::one() << 1024u32) - 159u32,
            (BigUint::one() << 1023u32) + 1u32,
        ];
        for m in &moduli {
            let exps: [Vec<u64>; 7] = [
                vec![],
                vec![0; 16],
                vec![u64::MAX; 16],
                vec![1],
                limbs_of(key.dp(), 16),
                limbs_of(&(m - 2u32), 16),
                limbs_of(&(m - 1u32), 17),
            ];
            for x in [BigUint::ZERO, BigUint::one(), m - 1u32, (m * 3u32) >> 2u32] {
                for e in &exps {
                    let (p, f) = both(m, &x, e).unwrap();
                    assert_eq!(p, f, "{x}^{e:?} mod {m}");
                }
            }
        }
    }

    /// Both halves of the interleaved kernel against the portable code, each on its own.
    fn pair_matches(ms: [&BigUint; 2], xs: [&BigUint; 2], exps: [&[u64]; 2]) -> Option<()> {
        let monts = [Montgomery::new(ms[0])?, Montgomery::new(ms[1])?];
        let ctxs = [Radix52::new(ms[0])?, Radix52::new(ms[1])?];
        let mut xm = [[0u64; 16]; 2];
        let mut portable = [[0u64; 16]; 2];
        for h in 0..2 {
            monts[h].enter_mont(&limbs_of(&(xs[h] % ms[h]), 16), &mut xm[h]);
            monts[h].pow_secret_portable(&xm[h], exps[h], &mut portable[h]);
        }
        let [o0, o1] = &mut [[0u64; 16]; 2];
        if !Radix52::pow_secret_pair(ctxs.each_ref(), xm.each_ref(), exps, [o0, o1]) {
            return None;
        }
        assert_eq!([*o0, *o1], portable, "{xs:?}^{exps:?} mod {ms:?}");
        Some(())
    }

    /// The interleaved pair on the key's own halves, and on halves whose exponents differ in
    /// length (the shorter one's missing windows must read as zero, not as the other's).
    #[test]
    fn pair_matches_portable_at_the_edges() {
        if !say_if_unavailable() {
            return;
        }
        let key = crate::crypto::rsa::test_key();
        let (p, q) = (key.p(), key.q());
        let top = (BigUint::one() << 1024u32) - 159u32;
        let x = (p * 3u32) >> 2u32;
        let (dp, dq) = (limbs_of(key.dp(), 16), limbs_of(key.dq(), 16));
        let long = limbs_of(&(&top - 2u32), 17);
        let cases: [([&BigUint; 2], [&[u64]; 2]); 5] = [
            ([p, q], [&dp, &dq]),
            ([q, p], [&dq, &dp]),
            ([p, &top], [&dp, &long]),
            ([&top, q], [&[], &dq]),
            ([p, p], [&[u64::MAX; 16], &[1]]),
        ];
        for (ms, exps) in cases {
            for xs in [[&x, &BigUint::one()], [&(ms[0] - 1u32), &BigUint::ZERO]] {
                pair_matches(ms, xs, exps).unwrap();
            }
        }
    }

    /// The carry resolution of [`normalise`], lane by lane in scalar code.
    fn normalise_reference(lanes: &[u64; LANES]) -> [u64; LANES] {
        let mut out = [0u64; LANES];
        let mut carry = 0u64;
        for (o, &v) in out.iter_mut().zip(lanes) {
            let s = v + carry;
            *o = s & MASK52;
            carry = s >> 52;
        }
        out
    }

    fn normalise_lanes(lanes: &[u64; LANES]) -> Option<[u64; LANES]> {
        if !available() {
            return None;
        }
        // SAFETY: `available()` just saw avx512f and avx512ifma on this CPU.
        let out = unsafe { store(&normalise(load(&Limbs52(*lanes)))) };
        Some(out.0)
    }

    /// Carries that ripple through runs of all-ones limbs, across register boundaries (lanes
    /// 7→8 and 15→16): what the generate/propagate masks are for, and what random products
    /// almost never produce.
    #[test]
    fn normalise_ripples_through_all_ones_limbs() {
        if !say_if_unavailable() {
            return;
        }
        let mut cases = Vec::new();
        for start in [0usize, 5, 6, 7, 13, 15] {
            for run in [1usize, 2, 3, 9] {
                let mut lanes = [0u64; LANES];
                lanes[start] = MASK52 + 1 + (start as u64);
                for l in &mut lanes[start + 1..(start + 1 + run).min(19)] {
                    *l = MASK52;
                }
                lanes[19] = 7;
                cases.push(lanes);
                // The same run fed by a big carry (bits above 52 in the lane below).
                let mut big = lanes;
                big[start] = (1 << 59) + 3;
                cases.push(big);
            }
        }
        let mut all_ones = [MASK52; LANES];
        all_ones[19] = 1;
        all_ones[20..].fill(0);
        all_ones[0] = MASK52 + 1;
        cases.push(all_ones);
        for lanes in &cases {
            assert_eq!(
                normalise_lanes(lanes),
                Some(normalise_reference(lanes)),
                "{lanes:x?}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn normalise_matches_scalar_carries(
            lanes in proptest::collection::vec(
                prop_oneof![Just(0u64), Just(MASK52), Just(MASK52 + 1), 0u64..(1 << 59)],
                19,
            ),
            top in 0u64..(1 << 40),
        ) {
            let mut all = [0u64; LANES];
            all[..19].copy_from_slice(&lanes);
            all[19] = top;
            if let Some(out) = normalise_lanes(&all) {
                prop_assert_eq!(out, normalise_reference(&all));
            }
        }
    }

    fn exponent() -> impl Strategy<Value = Vec<u64>> {
        prop_oneof![
            proptest::collection::vec(any::<u64>(), 16),
            Just(vec![0u64; 16]),
            Just(vec![u64::MAX; 16]),
            (0usize..1024).prop_map(|bit| {
                let mut e = vec![0u64; 16];
                e[bit / 64] = 1 << (bit % 64);
                e
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn ifma_pair_matches_portable(
            m in proptest::collection::vec(any::<u8>(), 256),
            x in proptest::collection::vec(any::<u8>(), 256),
            e0 in exponent(),
            e1 in exponent(),
        ) {
            if available() {
                // Two 1024-bit odd moduli and any x below each.
                let top = BigUint::one() | (BigUint::one() << 1023u32);
                let m0 = BigUint::from_bytes_be(&m[..128]) | &top;
                let m1 = BigUint::from_bytes_be(&m[128..]) | &top;
                let (x0, x1) = (BigUint::from_bytes_be(&x[..128]), BigUint::from_bytes_be(&x[128..]));
                pair_matches([&m0, &m1], [&x0, &x1], [&e0, &e1]).unwrap();
            } else {
                println!("this CPU lacks avx512f/avx512ifma: the pair is the portable path");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn ifma_matches_portable(
            m in proptest::collection::vec(any::<u8>(), 128),
            x in proptest::collection::vec(any::<u8>(), 128),
            e in exponent(),
        ) {
            // A 1024-bit odd modulus and any x below it.
            let m = BigUint::from_bytes_be(&m) | BigUint::one() | (BigUint::one() << 1023u32);
            let x = BigUint::from_bytes_be(&x) % &m;
            let mont = Montgomery::new(&m).unwrap();
            if !available() {
                // The portable check alone: the result is x^e·R mod m.
                println!("this CPU lacks avx512f/avx512ifma: only the portable path is checked");
                let r = BigUint::one() << 1024u32;
                let mut xm = [0u64; 16];
                mont.enter_mont(&limbs_of(&x, 16), &mut xm);
                let mut out = [0u64; 16];
                mont.pow_secret_portable(&xm, &e, &mut out);
                prop_assert_eq!(biguint_of(&out), x.modpow(&biguint_of(&e), &m) * r % &m);
                return Ok(());
            }
            let (p, f) = both(&m, &x, &e).unwrap();
            prop_assert_eq!(p, f);
        }
    }
}
