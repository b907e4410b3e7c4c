//! Text shown to people: one copy of each helper that turns bytes or peer-chosen strings into
//! something safe to print.
//!
//! Every string a peer chose (a certificate's names, SNI, ALPN, HTTP headers from the network)
//! goes through [`escape_peer`] at the point it is printed, so it cannot carry terminal control
//! sequences: an `ESC [2J` in a subjectAltName must not erase the warning printed above it.

use std::fmt::Write as _;

/// A peer-chosen string made safe for a terminal or a log line: printable ASCII is kept, a
/// backslash doubles, and every other byte (controls, ESC, DEL, non-ASCII) becomes `\xNN` — the
/// form curl and nginx's logs use, so the output stays one line and shows exactly what was sent.
pub fn escape_peer(s: &str) -> String {
    escape_peer_bytes(s.as_bytes())
}

/// [`escape_peer`] for raw bytes (an SNI or an IA5String that may not be UTF-8).
pub fn escape_peer_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out
}

/// Lowercase hex, no separators.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Lowercase hex, a space between bytes (`47 45 54`).
pub fn hex_spaced(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first `n` bytes in hex, with an ellipsis when there is more.
pub fn hex_prefix(bytes: &[u8], n: usize) -> String {
    let shown = hex_spaced(bytes.get(..n.min(bytes.len())).unwrap_or_default());
    if bytes.len() > n {
        format!("{shown} …")
    } else {
        shown
    }
}

/// `aa:bb:cc` (lowercase, as openssl prints serials) or `AA:BB:CC`.
pub fn hex_colon(bytes: &[u8], upper: bool) -> String {
    bytes
        .iter()
        .map(|b| {
            if upper {
                format!("{b:02X}")
            } else {
                format!("{b:02x}")
            }
        })
        .collect::<Vec<_>>()
        .join(":")
}

/// Hex dump rows: offset, 16 bytes in hex, the printable ASCII between bars.
pub fn hex_dump(bytes: &[u8]) -> Vec<String> {
    bytes
        .chunks(16)
        .enumerate()
        .map(|(i, chunk)| {
            let mut hex = String::new();
            for (j, b) in chunk.iter().enumerate() {
                if j == 8 {
                    hex.push(' ');
                }
                hex.push_str(&format!("{b:02x} "));
            }
            let ascii: String = chunk
                .iter()
                .map(|&b| {
                    if b.is_ascii_graphic() || b == b' ' {
                        b as char
                    } else {
                        '.'
                    }
                })
                .collect();
            format!("{:04x}  {hex:<49} |{ascii}|", i * 16)
        })
        .collect()
}

/// Seconds since the Unix epoch, now (0 if the clock is before 1970).
pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// `Nov 25 00:34:37 2026 GMT`, the date form OpenSSL and curl print (certificate validity).
pub fn openssl_date(unix: i64) -> String {
    format_unix(
        unix,
        time::macros::format_description!(
            "[month repr:short] [day padding:space] [hour]:[minute]:[second] [year] GMT"
        ),
    )
}

/// `2026-11-25 00:34:37 UTC`, for narrations and pages where a date should sort and read
/// the same everywhere.
pub fn utc_date(unix: i64) -> String {
    format_unix(
        unix,
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC"),
    )
}

/// `25/Nov/2026:00:45:23 +0000`, the time field of the Common Log Format (always UTC here).
pub fn common_log_date(unix: i64) -> String {
    format_unix(
        unix,
        time::macros::format_description!(
            "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
        ),
    )
}

/// A date outside what `time` can represent (a certificate can claim any) prints as the
/// number of seconds it is, rather than nothing.
fn format_unix(unix: i64, format: &[time::format_description::BorrowedFormatItem<'_>]) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_else(|| unix.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_each_form() {
        assert_eq!(openssl_date(0), "Jan  1 00:00:00 1970 GMT");
        assert_eq!(openssl_date(1_795_000_000), "Nov 18 11:06:40 2026 GMT");
        assert_eq!(utc_date(1_795_000_000), "2026-11-18 11:06:40 UTC");
        assert_eq!(common_log_date(1_795_000_000), "18/Nov/2026:11:06:40 +0000");
        assert_eq!(utc_date(i64::MAX), i64::MAX.to_string());
    }

    #[test]
    fn escape_removes_terminal_controls() {
        let e = escape_peer("evil\x1b[2J.example\r\n\u{7}");
        assert_eq!(e, "evil\\x1b[2J.example\\x0d\\x0a\\x07");
        assert!(!e.bytes().any(|b| b < 0x20 || b == 0x7f));
    }

    #[test]
    fn escape_keeps_plain_names_and_marks_non_ascii() {
        assert_eq!(escape_peer("www.example.com"), "www.example.com");
        assert_eq!(escape_peer("a\\b"), "a\\\\b");
        assert_eq!(escape_peer("é"), "\\xc3\\xa9");
        assert_eq!(escape_peer_bytes(&[0, 0x7f]), "\\x00\\x7f");
    }

    #[test]
    fn hex_is_lowercase_without_separators() {
        assert_eq!(hex(&[0xab, 0x01]), "ab01");
    }
}
