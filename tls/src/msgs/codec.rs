//! The TLS presentation language on the wire (RFC 5246 §4): big-endian integers of 1, 2 and 3
//! bytes, and variable-length vectors `<floor..ceiling>` that carry their length in a 1, 2 or 3
//! byte prefix (§4.3).
//!
//! [`Reader`] is a cursor over received bytes. Every read checks that the bytes are there
//! first, so a short or lying length field becomes `decode_error`, never a panic and never an
//! allocation. The `put_*` and `with_*_len` functions append our own encodings to a `Vec<u8>`.

use crate::error::Error;

/// A cursor over bytes received from the peer. All reads fail with `decode_error` when the
/// input is too short; nothing is consumed by a failed read.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    pub fn u8(&mut self) -> Result<u8, Error> {
        let [b] = self.array::<1>()?;
        Ok(b)
    }

    pub fn u16(&mut self) -> Result<u16, Error> {
        Ok(u16::from_be_bytes(self.array::<2>()?))
    }

    /// A 24-bit integer (`uint24`), as used for handshake and certificate lengths.
    pub fn u24(&mut self) -> Result<u32, Error> {
        let [a, b, c] = self.array::<3>()?;
        Ok(u32::from_be_bytes([0, a, b, c]))
    }

    /// The next `n` bytes, borrowed from the input.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if n > self.buf.len() {
            return Err(Error::decode(format!(
                "truncated: needed {n} bytes, only {} left",
                self.buf.len()
            )));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// The next `N` bytes as a fixed-size array (e.g. the 32-byte `Random`).
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let bytes = self.bytes(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// A vector `<0..2^8-1>`: the sub-slice after a 1-byte length.
    pub fn vec_u8(&mut self) -> Result<&'a [u8], Error> {
        self.prefixed(1)
    }

    /// A vector `<0..2^16-1>`: the sub-slice after a 2-byte length.
    pub fn vec_u16(&mut self) -> Result<&'a [u8], Error> {
        self.prefixed(2)
    }

    /// A vector `<0..2^24-1>`: the sub-slice after a 3-byte length.
    pub fn vec_u24(&mut self) -> Result<&'a [u8], Error> {
        self.prefixed(3)
    }

    /// [`Reader::vec_u8`] as a sub-reader, for vectors of structures.
    pub fn sub_u8(&mut self) -> Result<Reader<'a>, Error> {
        self.vec_u8().map(Reader::new)
    }

    /// [`Reader::vec_u16`] as a sub-reader, for vectors of structures.
    pub fn sub_u16(&mut self) -> Result<Reader<'a>, Error> {
        self.vec_u16().map(Reader::new)
    }

    /// [`Reader::vec_u24`] as a sub-reader, for vectors of structures.
    pub fn sub_u24(&mut self) -> Result<Reader<'a>, Error> {
        self.vec_u24().map(Reader::new)
    }

    /// How many bytes are left.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Takes everything that is left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    /// Ends a structure: bytes left over mean the peer's lengths disagree with its content,
    /// which RFC 5246 §7.4 treats as `decode_error`.
    pub fn finish(self) -> Result<(), Error> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(Error::decode(format!(
                "{} unexpected trailing bytes",
                self.buf.len()
            )))
        }
    }

    fn prefixed(&mut self, len_bytes: usize) -> Result<&'a [u8], Error> {
        // Work on a copy so a lying length leaves the cursor where it was.
        let mut r = self.clone();
        let n = match len_bytes {
            1 => usize::from(r.u8()?),
            2 => usize::from(r.u16()?),
            _ => r.u24()? as usize,
        };
        let body = r.bytes(n)?;
        *self = r;
        Ok(body)
    }
}

pub fn put_u8(out: &mut Vec<u8>, v: u8) {
    out.push(v);
}

pub fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Appends the low 24 bits of `v`. Callers pass lengths they have bounded already.
pub fn put_u24(out: &mut Vec<u8>, v: u32) {
    debug_assert!(v <= 0xFF_FFFF, "uint24 overflow: {v}");
    let [_, a, b, c] = v.to_be_bytes();
    out.extend_from_slice(&[a, b, c]);
}

/// Appends `<0..2^8-1>` opaque bytes with their 1-byte length.
pub fn put_vec_u8(out: &mut Vec<u8>, bytes: &[u8]) {
    with_u8_len(out, |out| out.extend_from_slice(bytes));
}

/// Appends `<0..2^16-1>` opaque bytes with their 2-byte length.
pub fn put_vec_u16(out: &mut Vec<u8>, bytes: &[u8]) {
    with_u16_len(out, |out| out.extend_from_slice(bytes));
}

/// Appends `<0..2^24-1>` opaque bytes with their 3-byte length.
pub fn put_vec_u24(out: &mut Vec<u8>, bytes: &[u8]) {
    with_u24_len(out, |out| out.extend_from_slice(bytes));
}

/// Writes a 1-byte length, lets `f` write the body, then patches the length in.
///
/// Only our own encoders call this, on data whose size they control; a body over 255 bytes is
/// a bug (caught by `debug_assert` in tests, truncated to the low bits in release).
pub fn with_u8_len(out: &mut Vec<u8>, f: impl FnOnce(&mut Vec<u8>)) {
    with_len(out, 1, f);
}

/// As [`with_u8_len`] with a 2-byte length (body at most 2^16-1 bytes).
pub fn with_u16_len(out: &mut Vec<u8>, f: impl FnOnce(&mut Vec<u8>)) {
    with_len(out, 2, f);
}

/// As [`with_u8_len`] with a 3-byte length (body at most 2^24-1 bytes).
pub fn with_u24_len(out: &mut Vec<u8>, f: impl FnOnce(&mut Vec<u8>)) {
    with_len(out, 3, f);
}

fn with_len(out: &mut Vec<u8>, len_bytes: usize, f: impl FnOnce(&mut Vec<u8>)) {
    let at = out.len();
    out.resize(at + len_bytes, 0);
    f(out);
    let body_len = out.len() - at - len_bytes;
    debug_assert!(
        body_len < 1 << (8 * len_bytes),
        "body of {body_len} bytes does not fit a {len_bytes}-byte length"
    );
    let be = (body_len as u32).to_be_bytes();
    // `get_mut` keeps this panic-free even if `f` truncated `out` (a caller bug).
    if let (Some(slot), Some(src)) = (out.get_mut(at..at + len_bytes), be.get(4 - len_bytes..)) {
        slot.copy_from_slice(src);
    }
}

/// A non-empty vector of 2-byte values.
pub fn read_u16_list(bytes: &[u8], what: &str) -> Result<Vec<u16>, Error> {
    let (pairs, odd) = bytes.as_chunks::<2>();
    if pairs.is_empty() || !odd.is_empty() {
        return Err(Error::decode(format!(
            "{what} must be a non-empty list of 2-byte values"
        )));
    }
    Ok(pairs.iter().map(|p| u16::from_be_bytes(*p)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_integers_big_endian() {
        let mut r = Reader::new(&[0x01, 0x02, 0x03, 0x04, 0x05, 0x06]);
        assert_eq!(r.u8().unwrap(), 0x01);
        assert_eq!(r.u16().unwrap(), 0x0203);
        assert_eq!(r.u24().unwrap(), 0x040506);
        assert!(r.is_empty());
        assert!(r.u8().is_err());
        r.finish().unwrap();
    }

    #[test]
    fn failed_read_consumes_nothing() {
        let mut r = Reader::new(&[0xAA, 0xBB]);
        assert!(r.u24().is_err());
        assert_eq!(r.remaining(), 2);
        assert_eq!(r.u16().unwrap(), 0xAABB);
    }

    #[test]
    fn vectors_check_their_length() {
        let mut r = Reader::new(&[0x00, 0x02, 0xAA, 0xBB, 0x01, 0xCC]);
        assert_eq!(r.vec_u16().unwrap(), &[0xAA, 0xBB]);
        assert_eq!(r.vec_u8().unwrap(), &[0xCC]);
        r.finish().unwrap();

        // A length that claims more than is there fails without consuming the prefix.
        let mut r = Reader::new(&[0x00, 0x00, 0x05, 0x01]);
        let err = r.vec_u24().unwrap_err();
        assert_eq!(
            err.alert(),
            Some(crate::alert::AlertDescription::DecodeError)
        );
    }

    #[test]
    fn finish_refuses_trailing_bytes() {
        let mut r = Reader::new(&[1, 2, 3]);
        r.u8().unwrap();
        assert!(r.clone().finish().is_err());
        assert_eq!(r.rest(), &[2, 3]);
        r.finish().unwrap();
    }

    #[test]
    fn sub_reader_is_bounded() {
        let mut r = Reader::new(&[0x02, 0x10, 0x20, 0x30]);
        let mut sub = r.sub_u8().unwrap();
        assert_eq!(sub.u16().unwrap(), 0x1020);
        assert!(sub.u8().is_err());
        assert_eq!(r.u8().unwrap(), 0x30);
    }

    #[test]
    fn writers_patch_lengths() {
        let mut out = Vec::new();
        put_u8(&mut out, 0x16);
        put_u16(&mut out, 0x0303);
        put_u24(&mut out, 0x0A0B0C);
        with_u16_len(&mut out, |out| {
            put_vec_u8(out, b"ab");
            put_vec_u24(out, b"c");
        });
        assert_eq!(
            out,
            [
                0x16, 0x03, 0x03, 0x0A, 0x0B, 0x0C, 0x00, 0x07, 0x02, b'a', b'b', 0x00, 0x00, 0x01,
                b'c'
            ]
        );
        let mut empty = Vec::new();
        put_vec_u16(&mut empty, &[]);
        assert_eq!(empty, [0, 0]);
    }

    proptest! {
        #[test]
        fn vec_round_trip(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut out = Vec::new();
            put_vec_u16(&mut out, &body);
            put_vec_u24(&mut out, &body);
            let mut r = Reader::new(&out);
            prop_assert_eq!(r.vec_u16().unwrap(), &body[..]);
            prop_assert_eq!(r.vec_u24().unwrap(), &body[..]);
            prop_assert!(r.finish().is_ok());
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut r = Reader::new(&bytes);
            while !r.is_empty() {
                let before = r.remaining();
                let step = (before % 5) as u8;
                let ok = match step {
                    0 => r.vec_u8().is_ok(),
                    1 => r.vec_u16().is_ok(),
                    2 => r.vec_u24().is_ok(),
                    3 => r.u24().is_ok(),
                    _ => r.u16().is_ok(),
                };
                if !ok {
                    prop_assert_eq!(r.remaining(), before);
                    break;
                }
            }
        }
    }
}
