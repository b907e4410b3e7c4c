//! A minimal PNG writer (RFC 2083 / ISO 15948) for the lab's pictures: 8-bit RGB, no filter,
//! the zlib stream made of *stored* deflate blocks (RFC 1950/1951 §3.2.4), so the file is the
//! pixels plus framing — no compression code, no dependency. CRC-32 and Adler-32 are computed
//! here too. Also the base64 of RFC 4648 §4 for `data:` URIs.

/// An 8-bit RGB PNG of `width` × `height` pixels from `rgb` (row-major, 3 bytes a pixel).
/// `None` when `rgb` does not have exactly that many bytes.
pub fn encode_rgb(width: u32, height: u32, rgb: &[u8]) -> Option<Vec<u8>> {
    let row = usize::try_from(width).ok()?.checked_mul(3)?;
    let rows = usize::try_from(height).ok()?;
    if row.checked_mul(rows)? != rgb.len() || row == 0 {
        return None;
    }
    // Each scanline starts with its filter type: 0, none.
    let mut raw = Vec::with_capacity(rgb.len() + rows);
    for line in rgb.chunks(row) {
        raw.push(0);
        raw.extend_from_slice(line);
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    // Bit depth 8, colour type 2 (RGB), deflate, filter method 0, no interlace.
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &zlib_stored(&raw));
    chunk(&mut png, b"IEND", &[]);
    Some(png)
}

/// length, type, data, CRC-32 of type and data.
fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// A zlib stream of stored (uncompressed) deflate blocks of at most 65535 bytes each.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    // CMF 0x78 (deflate, 32K window), FLG 0x01 makes CMF*256+FLG a multiple of 31.
    let mut out = vec![0x78, 0x01];
    let mut blocks = data.chunks(0xFFFF).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xFF, 0xFF]);
    }
    while let Some(block) = blocks.next() {
        let last = u8::from(blocks.peek().is_none());
        let len = block.len() as u16;
        out.push(last); // BFINAL, BTYPE = 00 (stored)
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

/// CRC-32 (ISO 3309, the reflected polynomial 0xEDB88320), bit by bit: pictures are small.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// Adler-32 (RFC 1950 §9).
pub fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for group in data.chunks(3) {
        let b = [
            group[0],
            group.get(1).copied().unwrap_or(0),
            group.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= group.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `data:image/png;base64,…` for an `<img src>`.
pub fn data_uri(png: &[u8]) -> String {
    format!("data:image/png;base64,{}", base64(png))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_known_values() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), want);
        }
    }

    #[test]
    fn png_holds_the_pixels_in_stored_blocks() {
        let rgb: Vec<u8> = (0..=255u8).cycle().take(300 * 100 * 3).collect();
        let png = encode_rgb(300, 100, &rgb).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        // The IDAT payload decodes back (stored blocks) to filter byte + row, row by row.
        let idat_len = u32::from_be_bytes(png[33..37].try_into().unwrap()) as usize;
        assert_eq!(&png[37..41], b"IDAT");
        let z = &png[41..41 + idat_len];
        let mut pos = 2;
        let mut raw = Vec::new();
        loop {
            let last = z[pos] & 1;
            let len = u16::from_le_bytes([z[pos + 1], z[pos + 2]]) as usize;
            assert_eq!(u16::from_le_bytes([z[pos + 3], z[pos + 4]]), !(len as u16));
            raw.extend_from_slice(&z[pos + 5..pos + 5 + len]);
            pos += 5 + len;
            if last == 1 {
                break;
            }
        }
        assert_eq!(raw.len(), 100 * 901);
        assert_eq!(&raw[1..901], &rgb[..900]);
        assert_eq!(&z[pos..], adler32(&raw).to_be_bytes());
        assert!(encode_rgb(3, 3, &rgb).is_none());
    }
}
