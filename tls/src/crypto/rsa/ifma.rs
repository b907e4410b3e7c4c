//! The 1024-bit secret exponentiation (one CRT half of an RSA-2048 private operation) with the
//! AVX-512 IFMA instructions `vpmadd52luq`/`vpmadd52huq`: eight 52×52-bit products per
//! instruction, each adding the low (or high) 52 bits of its 104-bit product to a 64-bit lane.
//!
//! Numbers are held in radix 2^52: twenty 52-bit limbs (1040 bits, three 512-bit registers
//! with four lanes spare), so R' = 2^1040 here where the portable code has R = 2^1024. A
//! Montgomery multiplication (word by word, as in `montgomery.rs`) then needs no carry chain
//! inside a step: every lane is a 64-bit accumulator with 12 bits of headroom over its 52-bit
//! digit, so the products of one word of b with all of a (and of the quotient digit with all
//! of m) are added lane-wise and the whole accumulator moves down one lane per step; carries
//! are resolved only once, at the end of the multiplication. The quotient digit of each step
//! depends on the lowest limb alone, which is kept in a general-purpose register so the rest
//! of the step waits for as little as possible.
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
        unsafe { pow_kernel(self, x, exp, out) };
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

/// The exponentiation itself; see the module documentation.
#[target_feature(enable = "avx512f,avx512ifma")]
fn pow_kernel(ctx: &Radix52, x: &[u64; 16], exp: &[u64], out: &mut [u64; 16]) {
    // x·R' (below 2m, as every value from here on).
    let xr = amm(&to_radix52(x), &ctx.to_r52, &ctx.m, ctx.k0);
    // table[k] = x^k·R'; table[0] is 1.
    let mut table = [ctx.one; 1 << WINDOW];
    for k in 1..table.len() {
        table[k] = amm(&table[k - 1], &xr, &ctx.m, ctx.k0);
    }
    let bits = 64 * exp.len();
    // Bits past the top of exp (the top window may be short) read as zero.
    let window = |w: usize| {
        (0..WINDOW).fold(0u64, |v, j| {
            let i = w * WINDOW + j;
            let b = if i < bits {
                (exp[i / 64] >> (i % 64)) & 1
            } else {
                0
            };
            v | (b << j)
        })
    };
    let windows = bits.div_ceil(WINDOW);
    let mut acc = if windows == 0 {
        ctx.one
    } else {
        select(&table, window(windows - 1))
    };
    for w in (0..windows.saturating_sub(1)).rev() {
        for _ in 0..WINDOW {
            acc = amm(&acc, &acc, &ctx.m, ctx.k0);
        }
        acc = amm(&acc, &select(&table, window(w)), &ctx.m, ctx.k0);
    }
    // y·R' → y·R, below 2m; then below m.
    let y = amm(&acc, &ctx.from_r52, &ctx.m, ctx.k0);
    let (t, top) = to_radix64(&y);
    subtract_if_not_below(&t, top, &ctx.m64, out);
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
/// normalised 52-bit limbs.
///
/// Step i adds a·b_i + q·m (q chosen so the lowest limb becomes a multiple of 2^52) and
/// divides by 2^52. The low halves of limb j's products go to lane j, the high halves to
/// lane j + 1: a and m are also kept moved up one lane, so both halves are added before the
/// accumulator moves down. Two accumulators, one for a·b_i (which does not wait for q) and
/// one for q·m, halve the chain of dependent additions. The lowest limb lives in a scalar
/// register (`low`); the next step's is read from lane 1 before q's products are in, and
/// q·m_1 is added in the scalar register: q's latency is then a few scalar instructions.
#[target_feature(enable = "avx512f,avx512ifma")]
fn amm(a: &Limbs52, b: &Limbs52, m: &Limbs52, k0: u64) -> Limbs52 {
    let zero = _mm512_setzero_si512();
    let av = load(a);
    let mv = load(m);
    // Moved up one lane, lane 1 (limb 0's high half) cleared: the scalar register has it.
    let up = |v: &[__m512i; 3]| {
        [
            _mm512_maskz_alignr_epi64::<7>(0b1111_1100, v[0], zero),
            _mm512_alignr_epi64::<7>(v[1], v[0]),
            _mm512_alignr_epi64::<7>(v[2], v[1]),
        ]
    };
    let (ah, mh) = (up(&av), up(&mv));
    let (a0, m0, m1) = (u128::from(a.0[0]), u128::from(m.0[0]), m.0[1]);
    let mut ra = [zero; 3];
    let mut rm = [zero; 3];
    let mut low = 0u64;
    for &bi in &b.0[..LIMBS] {
        let bv = _mm512_set1_epi64(bi as i64);
        for j in 0..3 {
            ra[j] = _mm512_madd52lo_epu64(ra[j], av[j], bv);
            ra[j] = _mm512_madd52hi_epu64(ra[j], ah[j], bv);
        }
        // Lane 1 as it will be, but for q·m_1.
        let lane1 = _mm_extract_epi64::<1>(_mm512_castsi512_si128(_mm512_add_epi64(ra[0], rm[0])));
        let t = u128::from(low) + a0 * u128::from(bi);
        let q = (t as u64).wrapping_mul(k0) & MASK52;
        let qv = _mm512_set1_epi64(q as i64);
        // t + q·m0 ≡ 0 mod 2^52 by the choice of q: the rest carries into limb 1 (with the
        // high halves of a0·b_i and q·m0).
        let carry = ((t + m0 * u128::from(q)) >> 52) as u64;
        low = carry + lane1 as u64 + (q.wrapping_mul(m1) & MASK52);
        for j in 0..3 {
            rm[j] = _mm512_madd52lo_epu64(rm[j], mv[j], qv);
            rm[j] = _mm512_madd52hi_epu64(rm[j], mh[j], qv);
        }
        // Divide by 2^52: every lane moves down one.
        for r in [&mut ra, &mut rm] {
            r[0] = _mm512_alignr_epi64::<1>(r[1], r[0]);
            r[1] = _mm512_alignr_epi64::<1>(r[2], r[1]);
            r[2] = _mm512_alignr_epi64::<1>(zero, r[2]);
        }
    }
    let mut r = [zero; 3];
    for j in 0..3 {
        r[j] = _mm512_add_epi64(ra[j], rm[j]);
    }
    r[0] = _mm512_mask_blend_epi64(1, r[0], _mm512_set1_epi64(low as i64));
    store(&normalise(r))
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
