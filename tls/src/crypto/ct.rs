//! Constant-time helpers: comparisons whose running time does not depend on where bytes differ,
//! so a MAC or Finished check leaks nothing to a timing attacker.

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
}
