//! Just enough DER writing for a certificate (X.690 §10): TLV with definite lengths.

use super::BuildError;
use const_oid::ObjectIdentifier;

pub const NULL: [u8; 2] = [0x05, 0x00];
pub const BOOLEAN_TRUE: [u8; 3] = [0x01, 0x01, 0xff];

pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let significant = bytes.get(skip..).unwrap_or(&[]);
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
    out
}

pub fn sequence(content: &[u8]) -> Vec<u8> {
    tlv(0x30, content)
}

pub fn set(content: &[u8]) -> Vec<u8> {
    tlv(0x31, content)
}

pub fn explicit(number: u8, content: &[u8]) -> Vec<u8> {
    tlv(0xA0 | number, content)
}

/// A non-negative INTEGER from big-endian magnitude bytes, minimal.
pub fn integer(magnitude: &[u8]) -> Vec<u8> {
    let skip = magnitude
        .iter()
        .take_while(|&&b| b == 0)
        .count()
        .min(magnitude.len().saturating_sub(1));
    let trimmed = magnitude.get(skip..).unwrap_or(&[0]);
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    // A leading 1 bit would make it negative: prefix a zero byte.
    if trimmed.first().is_none_or(|&b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(trimmed);
    tlv(0x02, &content)
}

pub fn oid_tlv(oid: &ObjectIdentifier) -> Vec<u8> {
    tlv(0x06, oid.as_bytes())
}

pub fn utf8_string(s: &str) -> Vec<u8> {
    tlv(0x0C, s.as_bytes())
}

pub fn octet_string(content: &[u8]) -> Vec<u8> {
    tlv(0x04, content)
}

pub fn bit_string(content: &[u8]) -> Vec<u8> {
    let mut body = vec![0u8];
    body.extend_from_slice(content);
    tlv(0x03, &body)
}

/// A named-bit BIT STRING (like keyUsage): bit 0 is the most significant bit of the first
/// byte; DER drops trailing zero bits and counts them in the first content byte.
pub fn named_bits(bits: &[u8]) -> Vec<u8> {
    let highest = bits.iter().copied().max().unwrap_or(0);
    let mut bytes = vec![0u8; usize::from(highest / 8) + 1];
    for &bit in bits {
        if let Some(byte) = bytes.get_mut(usize::from(bit / 8)) {
            *byte |= 0x80 >> (bit % 8);
        }
    }
    let unused = 7 - highest % 8;
    let mut body = vec![unused];
    body.extend_from_slice(&bytes);
    tlv(0x03, &body)
}

/// Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
pub fn extension(oid: &ObjectIdentifier, critical: bool, value: &[u8]) -> Vec<u8> {
    let mut content = oid_tlv(oid);
    if critical {
        content.extend_from_slice(&BOOLEAN_TRUE);
    }
    content.extend(octet_string(value));
    sequence(&content)
}

/// RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
pub fn time(unix: i64) -> Result<Vec<u8>, BuildError> {
    let t = time::OffsetDateTime::from_unix_timestamp(unix)
        .map_err(|e| BuildError::InvalidValidity(e.to_string()))?;
    let year = t.year();
    if !(1950..=9999).contains(&year) {
        return Err(BuildError::InvalidValidity(format!(
            "year {year} is out of range"
        )));
    }
    let rest = format!(
        "{:02}{:02}{:02}{:02}{:02}Z",
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    Ok(if year < 2050 {
        tlv(0x17, format!("{:02}{rest}", year % 100).as_bytes())
    } else {
        tlv(0x18, format!("{year:04}{rest}").as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_integer_is_minimal_and_positive() {
        assert_eq!(integer(&[2]), vec![0x02, 0x01, 0x02]);
        assert_eq!(integer(&[0x80]), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(integer(&[0, 0, 0x7f]), vec![0x02, 0x01, 0x7f]);
        assert_eq!(integer(&[0]), vec![0x02, 0x01, 0x00]);
    }

    #[test]
    fn der_long_lengths() {
        let long = tlv(0x04, &[0u8; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(tlv(0x04, &[0u8; 0x80])[..3], [0x04, 0x81, 0x80]);
    }

    #[test]
    fn key_usage_bits_match_openssl_encoding() {
        // digitalSignature + keyEncipherment, as openssl writes it.
        assert_eq!(named_bits(&[0, 2]), vec![0x03, 0x02, 0x05, 0xa0]);
        // keyCertSign + cRLSign.
        assert_eq!(named_bits(&[5, 6]), vec![0x03, 0x02, 0x01, 0x06]);
    }

    #[test]
    fn times_switch_to_generalized_in_2050() {
        // 2049-12-31T23:59:59Z and 2050-01-01T00:00:00Z.
        assert_eq!(time(2_524_607_999).unwrap(), tlv(0x17, b"491231235959Z"));
        assert_eq!(time(2_524_608_000).unwrap(), tlv(0x18, b"20500101000000Z"));
        assert_eq!(time(0).unwrap(), tlv(0x17, b"700101000000Z"));
    }
}
