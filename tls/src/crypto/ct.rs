//! Constant-time helpers: comparisons whose running time does not depend on where bytes differ,
//! so a MAC, Finished or padding check leaks nothing to a timing attacker. Masks are `u32`
//! all-ones (true) or zero (false).

/// Equal length and equal bytes, examined in full whatever the first difference.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // black_box keeps the optimiser from turning the fold back into an early exit.
    std::hint::black_box(diff) == 0
}

/// `if choose_a { a } else { b }` byte by byte, without a branch on `choose_a`.
pub fn ct_select(choose_a: bool, a: &[u8], b: &[u8], out: &mut [u8]) {
    let mask = 0u8.wrapping_sub(std::hint::black_box(choose_a) as u8);
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        *o = (x & mask) | (y & !mask);
    }
}

/// All-ones if a == b, else zero; no branch.
pub fn ct_eq_u8(a: u8, b: u8) -> u32 {
    let x = u32::from(a ^ b);
    // x | −x has its top bit set exactly when x ≠ 0.
    ((x | x.wrapping_neg()) >> 31).wrapping_sub(1)
}

/// All-ones if a == b, else zero; no branch.
pub fn ct_eq_usize(a: usize, b: usize) -> u32 {
    let x = (a ^ b) as u64;
    (((x | x.wrapping_neg()) >> 63) as u32).wrapping_sub(1)
}

/// All-ones if a ≥ b, else zero; no branch (both below 2^63).
pub fn ct_ge_usize(a: usize, b: usize) -> u32 {
    let lt = ((a as u64).wrapping_sub(b as u64) >> 63) as u32;
    lt.wrapping_sub(1)
}

/// `a` if mask is all-ones, `b` if zero.
pub fn ct_select_usize(mask: u32, a: usize, b: usize) -> usize {
    let m = ((mask & 1) as usize).wrapping_neg();
    (a & m) | (b & !m)
}

/// All-ones if `bit` is 1, zero if it is 0: the 64-bit mask the field arithmetic of
/// `crypto::p256` selects limbs with.
pub fn ct_mask_u64(bit: u64) -> u64 {
    // black_box hides that the mask comes from a single bit, so the optimiser cannot turn the
    // selections it feeds back into a jump. Once per mask, not per limb: it costs a spill.
    std::hint::black_box(bit.wrapping_neg())
}

/// All-ones if a == b, else zero; no branch.
pub fn ct_eq_u64(a: u64, b: u64) -> u64 {
    let x = a ^ b;
    // (x | −x) has its top bit set exactly when x ≠ 0.
    ct_mask_u64(((x | x.wrapping_neg()) >> 63) ^ 1)
}

/// `a` if mask is all-ones, `b` if zero; no branch.
pub fn ct_select_u64(mask: u64, a: u64, b: u64) -> u64 {
    (a & mask) | (b & !mask)
}

/// Swaps `a` and `b` limb by limb when `swap` is 1, leaves them when it is 0; the same loads,
/// stores and arithmetic either way (the X25519 ladder's `cswap`, RFC 7748 §5).
pub fn ct_swap_u64(swap: u64, a: &mut [u64], b: &mut [u64]) {
    let mask = 0u64.wrapping_sub(std::hint::black_box(swap & 1));
    for (x, y) in a.iter_mut().zip(b.iter_mut()) {
        let t = mask & (*x ^ *y);
        *x ^= t;
        *y ^= t;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eq_and_select() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
        let mut out = [0u8; 3];
        ct_select(true, b"xyz", b"abc", &mut out);
        assert_eq!(&out, b"xyz");
        ct_select(false, b"xyz", b"abc", &mut out);
        assert_eq!(&out, b"abc");
    }

    #[test]
    fn u64_masks() {
        assert_eq!(ct_mask_u64(1), u64::MAX);
        assert_eq!(ct_mask_u64(0), 0);
        assert_eq!(ct_eq_u64(7, 7), u64::MAX);
        assert_eq!(ct_eq_u64(0, 1 << 63), 0);
        assert_eq!(ct_eq_u64(u64::MAX, u64::MAX - 1), 0);
        assert_eq!(ct_select_u64(u64::MAX, 1, 2), 1);
        assert_eq!(ct_select_u64(0, 1, 2), 2);
    }

    #[test]
    fn swap() {
        let (mut a, mut b) = ([1u64, 2], [3u64, 4]);
        ct_swap_u64(0, &mut a, &mut b);
        assert_eq!((a, b), ([1, 2], [3, 4]));
        ct_swap_u64(1, &mut a, &mut b);
        assert_eq!((a, b), ([3, 4], [1, 2]));
    }
}
