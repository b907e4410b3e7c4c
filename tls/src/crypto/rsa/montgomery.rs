//! Modular arithmetic on fixed-length little-endian `u64` limbs: Montgomery multiplication and
//! squaring (HAC §14.3.2) and exponentiation, for RSA's private and public operations.

use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::One;

/// Bits of the exponent consumed per table multiplication (32 precomputed powers).
const WINDOW: u32 = 5;

/// Modular exponentiation with Montgomery multiplication (HAC §14.3.2, in the "CIOS" form of
/// Koç, Acar and Kaliski 1996) on fixed-length little-endian `u64` limbs. num-bigint's `modpow`
/// allocates on every step; here an exponentiation allocates its buffers once. It is also more
/// regular than `modpow`: a fixed 5-bit window (a multiplication for every window, zero or
/// not), table entries read by scanning all of them, and a branch-free final subtraction, so
/// the sequence of operations and the memory touched do not depend on the exponent's bits.
#[derive(Clone)]
pub(super) struct Montgomery {
    modulus: BigUint,
    m: Vec<u64>,
    /// −m⁻¹ mod 2^64.
    m_inv: u64,
    /// R² mod m with R = 2^(64·limbs): one multiplication by it enters Montgomery form.
    r2: Vec<u64>,
    /// The AVX-512 IFMA kernel's constants, for 16-limb moduli (the halves of RSA-2048).
    #[cfg(target_arch = "x86_64")]
    ifma: Option<super::ifma::Radix52>,
}

/// One of the two exponentiations of [`Montgomery::pow_secret_pair`]: `out = x^exp` modulo
/// `mont`'s modulus, in Montgomery form.
pub(super) struct PowHalf<'a> {
    pub(super) mont: &'a Montgomery,
    pub(super) x: &'a [u64],
    pub(super) exp: &'a [u64],
    pub(super) out: &'a mut [u64],
}

impl Montgomery {
    /// `None` unless `modulus` is odd and above 1 (Montgomery needs gcd(m, 2^64) = 1).
    pub(super) fn new(modulus: &BigUint) -> Option<Self> {
        if modulus.is_even() || modulus.is_one() {
            return None;
        }
        let m = modulus.to_u64_digits();
        let limbs = m.len();
        let m0 = *m.first()?;
        // Newton's iteration doubles the number of correct low bits: 1 (m0 is odd) → … → 64.
        let mut inv: u64 = 1;
        for _ in 0..6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(m0.wrapping_mul(inv)));
        }
        let r2 = (BigUint::one() << (128 * limbs)) % modulus;
        Some(Self {
            modulus: modulus.clone(),
            m_inv: inv.wrapping_neg(),
            r2: limbs_of(&r2, limbs),
            m,
            #[cfg(target_arch = "x86_64")]
            ifma: super::ifma::Radix52::new(modulus),
        })
    }

    /// `base^exp mod m` on num-bigint values (public operation, tests).
    pub(super) fn pow(&self, base: &BigUint, exp: &BigUint) -> BigUint {
        let n = self.m.len();
        let mut x = vec![0u64; n];
        self.enter_mont(&limbs_of(&(base % &self.modulus), n), &mut x);
        let e = exp.to_u64_digits();
        let mut acc = vec![0u64; n];
        if exp.bits() <= 64 {
            self.pow_public(&x, &e, &mut acc);
        } else {
            self.pow_secret(&x, &e, &mut acc);
        }
        let mut out = vec![0u64; n];
        self.leave_mont(&acc, &mut out);
        biguint_of(&out)
    }

    /// Number of limbs of m.
    pub(super) fn limbs(&self) -> usize {
        self.m.len()
    }

    /// m's limbs (public only where m is: n yes, p and q no).
    pub(super) fn modulus_limbs(&self) -> &[u64] {
        &self.m
    }

    /// `out = a·R mod m` (into Montgomery form) for `a < m`.
    pub(super) fn enter_mont(&self, a: &[u64], out: &mut [u64]) {
        self.mul(a, &self.r2, out);
    }

    /// `out = a·R⁻¹ mod m` (out of Montgomery form).
    pub(super) fn leave_mont(&self, a: &[u64], out: &mut [u64]) {
        let mut one = vec![0u64; self.m.len()];
        one[0] = 1;
        self.mul(a, &one, out);
    }

    /// `out = x^exp` in Montgomery form (`x` too) for a public exponent: left-to-right
    /// square-and-multiply, which branches on the exponent's bits.
    pub(super) fn pow_public(&self, x: &[u64], exp: &[u64], out: &mut [u64]) {
        let bits = exp
            .iter()
            .rposition(|&l| l != 0)
            .map_or(0, |i| 64 * i + 64 - exp[i].leading_zeros() as usize);
        let mut tmp = vec![0u64; self.m.len()];
        if bits == 0 {
            let mut one = vec![0u64; self.m.len()];
            one[0] = 1;
            return self.enter_mont(&one, out);
        }
        let mut acc = x.to_vec();
        for i in (0..bits - 1).rev() {
            self.sqr(&acc, &mut tmp);
            std::mem::swap(&mut acc, &mut tmp);
            if (exp[i / 64] >> (i % 64)) & 1 == 1 {
                self.mul(&acc, x, &mut tmp);
                std::mem::swap(&mut acc, &mut tmp);
            }
        }
        out.copy_from_slice(&acc);
    }

    /// `out = x^exp` in Montgomery form (`x` too) for a secret exponent: every one of its
    /// `64·exp.len()` bits goes through the same fixed window, so the operations and the memory
    /// touched depend only on the exponent's length in limbs. A 16-limb modulus on a CPU with
    /// AVX-512 IFMA takes the vector kernel (`ifma.rs`) instead, about twice as fast; the
    /// choice depends on the modulus length and the CPU only, never on the numbers.
    pub(super) fn pow_secret(&self, x: &[u64], exp: &[u64], out: &mut [u64]) {
        #[cfg(target_arch = "x86_64")]
        if let (Some(ifma), Ok(x16), Ok(out16)) = (&self.ifma, x.try_into(), out.try_into()) {
            if !portable_forced() && ifma.pow_secret(x16, exp, out16) {
                return;
            }
        }
        self.pow_secret_portable(x, exp, out)
    }

    /// [`Montgomery::pow_secret`] for two moduli at once (the halves of a CRT private
    /// operation), each half exactly as on its own. Two 16-limb moduli on a CPU with AVX-512
    /// IFMA take the kernel's interleaved form, faster than one after the other; the choice
    /// depends on the lengths and the CPU only.
    pub(super) fn pow_secret_pair(a: PowHalf<'_>, b: PowHalf<'_>) {
        #[cfg(target_arch = "x86_64")]
        if let (Some(ia), Some(ib), Ok(xa), Ok(xb)) =
            (&a.mont.ifma, &b.mont.ifma, a.x.try_into(), b.x.try_into())
        {
            if let (Ok(oa), Ok(ob)) = (
                <&mut [u64; 16]>::try_from(&mut *a.out),
                <&mut [u64; 16]>::try_from(&mut *b.out),
            ) {
                if !portable_forced()
                    && super::ifma::Radix52::pow_secret_pair(
                        [ia, ib],
                        [xa, xb],
                        [a.exp, b.exp],
                        [oa, ob],
                    )
                {
                    return;
                }
            }
        }
        a.mont.pow_secret(a.x, a.exp, a.out);
        b.mont.pow_secret(b.x, b.exp, b.out);
    }

    /// [`Montgomery::pow_secret`] in portable Rust whatever the CPU.
    pub(super) fn pow_secret_portable(&self, x: &[u64], exp: &[u64], out: &mut [u64]) {
        let n = self.m.len();
        let bit = |i: usize| (exp[i / 64] >> (i % 64)) & 1;
        let mut tmp = vec![0u64; n];
        // table[k] = x^k in Montgomery form, k < 2^WINDOW; table[0] = R mod m (that is, 1).
        let size = 1usize << WINDOW;
        let mut table = vec![0u64; size * n];
        let mut one = vec![0u64; n];
        one[0] = 1;
        self.enter_mont(&one, &mut table[..n]);
        for k in 1..size {
            let (done, rest) = table.split_at_mut(k * n);
            self.mul(&done[(k - 1) * n..k * n], x, &mut rest[..n]);
        }
        let bits = 64 * exp.len();
        let width = WINDOW as usize;
        let windows = bits.div_ceil(width);
        // Bits past the top of exp (the top window may be short) read as zero.
        let window = |w: usize| {
            (0..width).fold(0u64, |v, j| {
                let i = w * width + j;
                let b = if i < bits { bit(i) } else { 0 };
                v | (b << j)
            })
        };
        if windows == 0 {
            return out.copy_from_slice(&table[..n]);
        }
        let mut acc = vec![0u64; n];
        select(&table, window(windows - 1), &mut acc);
        let mut entry = vec![0u64; n];
        for w in (0..windows - 1).rev() {
            for _ in 0..WINDOW {
                self.sqr(&acc, &mut tmp);
                std::mem::swap(&mut acc, &mut tmp);
            }
            select(&table, window(w), &mut entry);
            self.mul(&acc, &entry, &mut tmp);
            std::mem::swap(&mut acc, &mut tmp);
        }
        out.copy_from_slice(&acc);
    }

    /// What [`Montgomery::reduce`] needs for numbers of `len` limbs: it ends in Montgomery form
    /// (`mont_form`) or plain. Computed with num-bigint once, when the key is loaded.
    pub(super) fn reducer(&self, len: usize, mont_form: bool) -> Reducer {
        let limbs = self.m.len();
        let len = len.max(limbs);
        let steps = len - limbs + 1;
        // REDC divides by 2^(64·steps); the factor multiplies that back, times R (the
        // multiplication's own R⁻¹) and, for Montgomery form, another R.
        let shift = 64 * (steps + limbs * (1 + usize::from(mont_form)));
        let factor = (BigUint::one() << shift) % &self.modulus;
        Reducer {
            len,
            factor: limbs_of(&factor, limbs),
        }
    }

    /// `out = t mod m` (or `t·R mod m`, see [`Montgomery::reducer`]) for any `t` of up to
    /// `reducer.len` limbs, without a division: Montgomery reduction by one limb at a time until
    /// `len − limbs + 1` limbs are cleared (which leaves a value below 2m whatever t was), a
    /// branch-free subtraction, and one multiplication by the precomputed factor.
    pub(super) fn reduce(&self, t: &[u64], reducer: &Reducer, out: &mut [u64]) {
        let limbs = self.m.len();
        let steps = reducer.len - limbs + 1;
        // t + q·m < 2^(64·(len + 2)): two spare limbs hold every carry.
        let mut buf = vec![0u64; reducer.len + 2];
        for (b, &x) in buf.iter_mut().zip(t) {
            *b = x;
        }
        for i in 0..steps {
            let q = u128::from(buf[i].wrapping_mul(self.m_inv));
            let mut c = 0u128;
            for (b, &mj) in buf[i..i + limbs].iter_mut().zip(&self.m) {
                let s = u128::from(*b) + q * u128::from(mj) + c;
                *b = s as u64;
                c = s >> 64;
            }
            for b in &mut buf[i + limbs..] {
                let s = u128::from(*b) + c;
                *b = s as u64;
                c = s >> 64;
            }
        }
        let mut x = vec![0u64; limbs];
        subtract_if_not_below(
            &buf[steps..steps + limbs],
            buf[steps + limbs],
            &self.m,
            &mut x,
        );
        self.mul(&x, &reducer.factor, out);
    }
    /// `out = a·b·R⁻¹ mod m` for `a, b < m` (all `limbs` long).
    pub(super) fn mul(&self, a: &[u64], b: &[u64], out: &mut [u64]) {
        // The common sizes get a copy with the length known at compile time (unrolled, no
        // bounds checks): faster than the general loop.
        macro_rules! fixed {
            ($($n:literal)*) => {
                match self.m.len() {
                    $($n => {
                        if let (Ok(m), Ok(a), Ok(b), Ok(out)) =
                            (self.m[..].try_into(), a.try_into(), b.try_into(), out.try_into())
                        {
                            return mont_mul::<$n>(m, self.m_inv, a, b, out);
                        }
                    })*
                    _ => {}
                }
            };
        }
        fixed!(16 24 32 48 64);
        mont_mul_slices(&self.m, self.m_inv, a, b, out);
    }

    /// `out = a²·R⁻¹ mod m`: most of an exponentiation, and a square needs only about half the
    /// limb products of a multiplication.
    pub(super) fn sqr(&self, a: &[u64], out: &mut [u64]) {
        macro_rules! fixed {
            ($($n:literal)*) => {
                match self.m.len() {
                    $($n => {
                        if let (Ok(m), Ok(a), Ok(out)) =
                            (self.m[..].try_into(), a.try_into(), out.try_into())
                        {
                            return mont_sqr::<$n>(m, self.m_inv, a, out);
                        }
                    })*
                    _ => {}
                }
            };
        }
        if let (Ok(m), Ok(a), Ok(out)) = (self.m[..].try_into(), a.try_into(), out.try_into()) {
            return mont_sqr_16(m, self.m_inv, a, out);
        }
        fixed!(24 32 48 64);
        mont_mul_slices(&self.m, self.m_inv, a, a, out);
    }
}

/// Montgomery squaring: the 2N-limb square (each cross product once, doubled, plus the
/// diagonal), then the reduction t = (t + q·m·2^(64i)) for each low limb i, as in HAC 14.32.
#[inline(always)]
fn mont_sqr<const N: usize>(m: &[u64; N], m_inv: u64, a: &[u64; N], out: &mut [u64; N]) {
    // 2N limbs; N is at most 64 here (see `Montgomery::sqr`).
    let mut p = [0u64; 128];
    let p = &mut p[..2 * N];
    for i in 0..N {
        let ai = u128::from(a[i]);
        let mut c = 0u128;
        for j in i + 1..N {
            let s = u128::from(p[i + j]) + ai * u128::from(a[j]) + c;
            p[i + j] = s as u64;
            c = s >> 64;
        }
        p[i + N] = c as u64;
    }
    let mut top = 0u64;
    for limb in p.iter_mut() {
        let v = *limb;
        *limb = (v << 1) | top;
        top = v >> 63;
    }
    let mut c = 0u128;
    for i in 0..N {
        let d = u128::from(a[i]) * u128::from(a[i]);
        let s = u128::from(p[2 * i]) + (d & u128::from(u64::MAX)) + c;
        p[2 * i] = s as u64;
        let s = u128::from(p[2 * i + 1]) + (d >> 64) + (s >> 64);
        p[2 * i + 1] = s as u64;
        c = s >> 64;
    }
    // Reduce: clear the low N limbs one at a time; `carry` is the bit above limb i + N.
    let mut carry = 0u64;
    for i in 0..N {
        let q = u128::from(p[i].wrapping_mul(m_inv));
        let mut c = 0u128;
        for j in 0..N {
            let s = u128::from(p[i + j]) + q * u128::from(m[j]) + c;
            p[i + j] = s as u64;
            c = s >> 64;
        }
        let s = u128::from(p[i + N]) + c + u128::from(carry);
        p[i + N] = s as u64;
        carry = (s >> 64) as u64;
    }
    subtract_if_not_below(&p[N..], carry, m, out);
}

/// Montgomery squaring for 16 limbs (the 1024-bit CRT halves of an RSA-2048 key, where a
/// private-key operation spends most of its time), in product-scanning ("Comba") form with
/// the reduction interleaved column by column (the "FIPS" method of Koç, Acar and Kaliski
/// 1996). Column k sums the doubled cross products a_i·a_j (i < j, i + j = k), the square
/// a_(k/2)² and the reduction products q_j·m_(k−j) in registers; for k < N its low limb then
/// fixes q_k (which clears it), for k ≥ N it is output limb k − N. About a quarter faster than
/// [`mont_sqr`]'s rows, whose u128 carries go through memory once per product.
fn mont_sqr_16(m: &[u64; 16], m_inv: u64, a: &[u64; 16], out: &mut [u64; 16]) {
    let mut q = [0u64; 16];
    let mut t = [0u64; 16];
    let mut acc = Column::default();
    // Literal column numbers: after inlining, every loop in `sqr_column` has a fixed trip
    // count and unrolls completely (a loop over k would leave the inner loops rolled).
    macro_rules! columns {
        ($($k:literal)*) => { $( sqr_column($k, m, m_inv, a, &mut q, &mut t, &mut acc); )* };
    }
    columns!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30);
    t[15] = acc.shift();
    subtract_if_not_below(&t, acc.shift(), m, out);
}

/// Column `k` of [`mont_sqr_16`].
#[inline(always)]
fn sqr_column<const N: usize>(
    k: usize,
    m: &[u64; N],
    m_inv: u64,
    a: &[u64; N],
    q: &mut [u64; N],
    t: &mut [u64; N],
    acc: &mut Column,
) {
    let first = (k + 1).saturating_sub(N);
    // Each cross product appears twice in a square: sum it once, then double the sum.
    let mut cross = Column::default();
    for i in first..k.div_ceil(2) {
        cross.mac(a[i], a[k - i]);
    }
    acc.lo += cross.lo << 1;
    acc.hi += cross.hi << 1;
    if k.is_multiple_of(2) {
        acc.mac(a[k / 2], a[k / 2]);
    }
    for j in first..k.min(N) {
        acc.mac(q[j], m[k - j]);
    }
    if k < N {
        let qk = (acc.lo as u64).wrapping_mul(m_inv);
        q[k] = qk;
        acc.mac(qk, m[0]);
        acc.shift();
    } else {
        t[k - N] = acc.shift();
    }
}

/// A column sum of product scanning, kept as two u128 sums of 64-bit halves (the products'
/// low halves in `lo`, their high halves in `hi`): no addition can overflow (a column has at
/// most a few dozen terms), so no carry flag has to be saved; the value is lo + hi·2^64.
#[derive(Clone, Copy, Default)]
struct Column {
    lo: u128,
    hi: u128,
}

impl Column {
    /// self += a·b.
    #[inline(always)]
    fn mac(&mut self, a: u64, b: u64) {
        let p = u128::from(a) * u128::from(b);
        self.lo += u128::from(p as u64);
        self.hi += p >> 64;
    }

    /// Take the column's low limb; the rest carries into the next column.
    #[inline(always)]
    fn shift(&mut self) -> u64 {
        let limb = self.lo as u64;
        self.lo = (self.lo >> 64) + self.hi;
        self.hi = 0;
        limb
    }
}

/// One Montgomery multiplication, CIOS with the multiply and reduce passes merged: for each limb
/// of `a`, t = (t + a_i·b + q·m) / 2^64 with q chosen to clear the low limb; two carry chains run
/// side by side. At the end t < 2m, and m is subtracted without a branch.
#[inline(always)]
fn mont_mul<const N: usize>(
    m: &[u64; N],
    m_inv: u64,
    a: &[u64; N],
    b: &[u64; N],
    out: &mut [u64; N],
) {
    let mut t = [0u64; N];
    let mut t_top = 0u64;
    for &ai in a {
        let ai = u128::from(ai);
        let s = u128::from(t[0]) + ai * u128::from(b[0]);
        let mut c1 = s >> 64;
        let q = u128::from((s as u64).wrapping_mul(m_inv));
        let mut c2 = (u128::from(s as u64) + q * u128::from(m[0])) >> 64;
        for j in 1..N {
            let s = u128::from(t[j]) + ai * u128::from(b[j]) + c1;
            c1 = s >> 64;
            let s = u128::from(s as u64) + q * u128::from(m[j]) + c2;
            c2 = s >> 64;
            t[j - 1] = s as u64;
        }
        let s = u128::from(t_top) + c1 + c2;
        t[N - 1] = s as u64;
        t_top = (s >> 64) as u64;
    }
    subtract_if_not_below(&t, t_top, m, out);
}

/// [`mont_mul`] for any length (moduli of unusual sizes).
fn mont_mul_slices(m: &[u64], m_inv: u64, a: &[u64], b: &[u64], out: &mut [u64]) {
    let n = m.len();
    let mut t = vec![0u64; n];
    let mut t_top = 0u64;
    let (Some(&b0), Some(&m0)) = (b.first(), m.first()) else {
        return;
    };
    for &ai in a {
        let ai = u128::from(ai);
        let s = u128::from(t[0]) + ai * u128::from(b0);
        let mut c1 = s >> 64;
        let q = u128::from((s as u64).wrapping_mul(m_inv));
        let mut c2 = (u128::from(s as u64) + q * u128::from(m0)) >> 64;
        for j in 1..n {
            let s = u128::from(t[j]) + ai * u128::from(b[j]) + c1;
            c1 = s >> 64;
            let s = u128::from(s as u64) + q * u128::from(m[j]) + c2;
            c2 = s >> 64;
            t[j - 1] = s as u64;
        }
        let s = u128::from(t_top) + c1 + c2;
        t[n - 1] = s as u64;
        t_top = (s >> 64) as u64;
    }
    subtract_if_not_below(&t, t_top, m, out);
}

/// A precomputed factor for [`Montgomery::reduce`] on numbers of `len` limbs.
#[derive(Clone)]
pub(super) struct Reducer {
    len: usize,
    factor: Vec<u64>,
}

/// `out = t − m` unless that borrows (then `out = t`), where `t_top` is t's limb above `m`'s
/// length; branch-free.
#[inline(always)]
pub(super) fn subtract_if_not_below(t: &[u64], t_top: u64, m: &[u64], out: &mut [u64]) {
    let mut borrow = 0u64;
    for ((o, &tj), &mj) in out.iter_mut().zip(t).zip(m) {
        let (d, b1) = tj.overflowing_sub(mj);
        let (d, b2) = d.overflowing_sub(borrow);
        *o = d;
        borrow = u64::from(b1 | b2);
    }
    let (_, below) = t_top.overflowing_sub(borrow);
    let keep_t = u64::from(below).wrapping_neg();
    for (o, &tj) in out.iter_mut().zip(t) {
        *o = (tj & keep_t) | (*o & !keep_t);
    }
}

/// `out = table[k]` (entries of `out.len()` limbs), reading every entry so that which one was
/// wanted does not show in the cache.
fn select(table: &[u64], k: u64, out: &mut [u64]) {
    out.fill(0);
    for (i, entry) in table.chunks_exact(out.len().max(1)).enumerate() {
        // All ones when i == k, else zero, without a branch.
        let diff = (i as u64) ^ k;
        let mask = ((diff | diff.wrapping_neg()) >> 63).wrapping_sub(1);
        for (o, &v) in out.iter_mut().zip(entry) {
            *o |= v & mask;
        }
    }
}

#[cfg(feature = "testing")]
thread_local! {
    static FORCE_PORTABLE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread is inside [`with_portable_pow`] (never, without the `testing` feature).
fn portable_forced() -> bool {
    #[cfg(feature = "testing")]
    return FORCE_PORTABLE.with(|f| f.get());
    #[cfg(not(feature = "testing"))]
    false
}

/// Runs `f` with every secret exponentiation on this thread in portable Rust, as on a CPU
/// without AVX-512 IFMA (to compare the two in benchmarks and tests).
#[cfg(feature = "testing")]
pub fn with_portable_pow<T>(f: impl FnOnce() -> T) -> T {
    let before = FORCE_PORTABLE.with(|p| p.replace(true));
    let out = f();
    FORCE_PORTABLE.with(|p| p.set(before));
    out
}

/// One secret exponentiation on its own, for benchmarks: `x^exp` mod `modulus` through
/// [`Montgomery::pow_secret`] (wrap in [`with_portable_pow`] for the portable path).
#[cfg(feature = "testing")]
pub struct SecretPow {
    mont: Montgomery,
    x: Vec<u64>,
    exp: Vec<u64>,
}

#[cfg(feature = "testing")]
impl SecretPow {
    /// `None` for a modulus Montgomery cannot use (even, or 1).
    pub fn new(modulus: &BigUint, x: &BigUint, exp: &BigUint) -> Option<Self> {
        let mont = Montgomery::new(modulus)?;
        let n = mont.limbs();
        let mut xm = vec![0u64; n];
        mont.enter_mont(&limbs_of(&(x % modulus), n), &mut xm);
        Some(Self {
            x: xm,
            exp: limbs_of(exp, n),
            mont,
        })
    }

    /// The result's limbs, in Montgomery form.
    pub fn run(&self) -> Vec<u64> {
        let mut out = vec![0u64; self.mont.limbs()];
        self.mont.pow_secret(&self.x, &self.exp, &mut out);
        out
    }
}

/// `x` as exactly `len` little-endian limbs (`x` must fit; the callers reduce it first).
pub(super) fn limbs_of(x: &BigUint, len: usize) -> Vec<u64> {
    let mut limbs = x.to_u64_digits();
    limbs.resize(len, 0);
    limbs
}

pub(super) fn biguint_of(limbs: &[u64]) -> BigUint {
    BigUint::new(
        limbs
            .iter()
            .flat_map(|&l| [l as u32, (l >> 32) as u32])
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::rsa::test_key;
    use num_traits::Zero;

    /// Our Montgomery exponentiation agrees with num-bigint's `modpow` at the edges: one limb,
    /// the top limb all ones, exponents 0 and 1, short (public) and long (windowed) exponents,
    /// bases of 0, 1, m − 1 and above m.
    #[test]
    fn montgomery_pow_matches_modpow_at_the_edges() {
        let moduli = [
            BigUint::from(3u32),
            BigUint::from(u64::MAX),
            (BigUint::one() << 128u32) - 1u32,
            (BigUint::one() << 1024u32) - 159u32,
            test_key().p().clone(),
            test_key().public_key().n().clone(),
        ];
        for m in &moduli {
            let mont = Montgomery::new(m).unwrap();
            let bases = [
                BigUint::zero(),
                BigUint::one(),
                m - 1u32,
                m + 5u32,
                (m * 3u32) >> 2u32,
            ];
            let exps = [
                BigUint::zero(),
                BigUint::one(),
                BigUint::from(2u32),
                BigUint::from(65_537u32),
                BigUint::from(u64::MAX),
                (BigUint::one() << 64u32) + 1u32,
                test_key().dp().clone(),
                m - 2u32,
            ];
            for b in &bases {
                for e in &exps {
                    assert_eq!(mont.pow(b, e), b.modpow(e, m), "{b}^{e} mod {m}");
                }
            }
        }
    }

    #[test]
    fn montgomery_refuses_even_moduli() {
        assert!(Montgomery::new(&BigUint::from(1024u32)).is_none());
        assert!(Montgomery::new(&BigUint::one()).is_none());
        assert!(Montgomery::new(&BigUint::zero()).is_none());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn montgomery_pow_matches_modpow(
            m in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..80),
            b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..90),
            e in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
        ) {
            let m = BigUint::from_bytes_be(&m) | BigUint::one();
            proptest::prop_assume!(m > BigUint::one());
            let (b, e) = (BigUint::from_bytes_be(&b), BigUint::from_bytes_be(&e));
            let mont = Montgomery::new(&m).unwrap();
            proptest::prop_assert_eq!(mont.pow(&b, &e), b.modpow(&e, &m));
        }
    }

    /// `a²·R⁻¹ mod m` by num-bigint, with R = 2^1024: what [`mont_sqr_16`] must return.
    fn mont_sqr_reference(a: &BigUint, m: &BigUint) -> BigUint {
        let r_inv = (BigUint::one() << 1024u32).modinv(m).unwrap();
        (a * a % m) * r_inv % m
    }

    fn mont_sqr_16_of(a: &BigUint, mont: &Montgomery) -> BigUint {
        let m: [u64; 16] = mont.m[..].try_into().unwrap();
        let a: [u64; 16] = limbs_of(a, 16).try_into().unwrap();
        let mut out = [0u64; 16];
        mont_sqr_16(&m, mont.m_inv, &a, &mut out);
        biguint_of(&out)
    }

    /// The product-scanning square agrees with num-bigint at the edges: 0, 1, m − 1, a
    /// modulus whose limbs are nearly all ones (the largest column sums), and one just
    /// above 2^1023 (the smallest 16-limb modulus shape).
    #[test]
    fn mont_sqr_16_matches_num_bigint_at_the_edges() {
        let moduli = [
            test_key().p().clone(),
            test_key().q().clone(),
            (BigUint::one() << 1024u32) - 159u32,
            (BigUint::one() << 1023u32) + 1u32,
        ];
        for m in &moduli {
            let mont = Montgomery::new(m).unwrap();
            for a in [
                BigUint::zero(),
                BigUint::one(),
                m - 1u32,
                m - 2u32,
                m >> 1u32,
                (m * 3u32) >> 2u32,
            ] {
                assert_eq!(
                    mont_sqr_16_of(&a, &mont),
                    mont_sqr_reference(&a, m),
                    "{a} mod {m}"
                );
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn mont_sqr_16_matches_num_bigint(
            m in proptest::collection::vec(proptest::prelude::any::<u8>(), 128),
            a in proptest::collection::vec(proptest::prelude::any::<u8>(), 128),
        ) {
            // A 16-limb odd modulus (top bit set) and any a below it.
            let m = BigUint::from_bytes_be(&m) | BigUint::one() | (BigUint::one() << 1023u32);
            let a = BigUint::from_bytes_be(&a) % &m;
            let mont = Montgomery::new(&m).unwrap();
            proptest::prop_assert_eq!(mont_sqr_16_of(&a, &mont), mont_sqr_reference(&a, &m));
        }
    }
}
