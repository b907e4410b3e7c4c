//! Steps as text: plain or with ANSI colour, hex dumps, and the `--wire` views.

use super::*;

/// One step of the narration: a title and a few lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub title: String,
    pub lines: Vec<Line>,
}

/// A line of a step. `Field` and `Dump` values are the connection's own bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// Plain explanation.
    Text(String),
    /// `label: value`.
    Field(String, String),
    /// One row of a hex dump; `wire` rows are bytes as they crossed the network, the others
    /// are decrypted bytes only the two ends can see.
    Dump { wire: bool, row: String },
}

/// The `--wire` view of one TLS record: direction, content type, length, the raw bytes as they
/// crossed the network, how the protection splits them (`protection`: what the record layer
/// applied, if anything), and the bytes they carried once decrypted.
pub fn wire_step(
    direction: Direction,
    content_type: ContentType,
    wire: &[u8],
    plaintext: &[u8],
    protection: Option<Protection<'_>>,
) -> Step {
    let arrow = match direction {
        Direction::Sent => ">>> sent",
        Direction::Received => "<<< received",
    };
    let mut s = Step {
        title: format!(
            "{arrow}: TLS record, {} ({}), {} bytes on the wire",
            content_type_name(content_type),
            content_type.to_u8(),
            wire.len()
        ),
        lines: Vec::new(),
    };
    if let Some(header) = wire.get(..5) {
        s.field(
            "record header",
            format!(
                "{}  (type {}, version {:02x}{:02x}, length {})",
                hex_spaced(header),
                header[0],
                header[1],
                header[2],
                u16::from_be_bytes([header[3], header[4]])
            ),
        );
    }
    s.text("as it crossed the wire (what a packet capture sees):");
    s.dump(true, wire);
    if let Some(p) = protection {
        s.field("protected as", protected_layout(p, wire));
    }
    if protection.is_some() {
        s.text(format!(
            "decrypted, {} bytes (only the two ends can see this):",
            plaintext.len()
        ));
    } else {
        s.text(format!(
            "carried, {} bytes (not encrypted: anyone on the path can read it):",
            plaintext.len()
        ));
    }
    s.dump(false, plaintext);
    s
}

/// The fragment's parts, side by side: CBC's IV | ciphertext (| MAC), GCM's explicit nonce |
/// ciphertext | tag.
fn protected_layout(p: Protection<'_>, wire: &[u8]) -> String {
    let Some(a) = p.cipher.dissect(p.seq, wire) else {
        return format!("{} (not the shape of its record)", p.cipher.suite().name);
    };
    if a.aead.is_some() {
        return format!(
            "AES-GCM, seq {}: explicit nonce {} | ciphertext {} | tag {} bytes (no padding)",
            a.seq,
            a.iv.len(),
            a.ciphertext.len(),
            a.mac.len()
        );
    }
    if a.encrypt_then_mac {
        format!(
            "AES-CBC, seq {}: IV {} | ciphertext {} (plaintext + padding {}) | MAC {} bytes",
            a.seq,
            a.iv.len(),
            a.ciphertext.len(),
            a.padding.len(),
            a.mac.len()
        )
    } else {
        format!(
            "AES-CBC, seq {}: IV {} | ciphertext {} bytes (plaintext + MAC {} + padding {})",
            a.seq,
            a.iv.len(),
            a.ciphertext.len(),
            a.mac.len(),
            a.padding.len()
        )
    }
}

/// The `--wire` view of bytes sent or received on a plain TCP connection (no record layer).
pub fn plain_step(direction: Direction, bytes: &[u8]) -> Step {
    let arrow = match direction {
        Direction::Sent => ">>> sent",
        Direction::Received => "<<< received",
    };
    let mut s = Step {
        title: format!("{arrow}: {} bytes of plain TCP (no TLS)", bytes.len()),
        lines: Vec::new(),
    };
    s.text("as it crossed the wire (what a packet capture sees):");
    s.dump(true, bytes);
    s
}

impl Step {
    /// The step as text; `color` adds ANSI colours (bold titles, dim labels) for a terminal.
    pub fn render(&self, color: bool) -> String {
        let (bold, dim, value, cipher, reset) = if color {
            ("\x1b[1;36m", "\x1b[2m", "\x1b[33m", "\x1b[35m", "\x1b[0m")
        } else {
            ("", "", "", "", "")
        };
        let mut out = format!("{bold}{}{reset}\n", self.title);
        for line in &self.lines {
            match line {
                Line::Text(t) => out.push_str(&format!("    {t}\n")),
                Line::Field(label, v) => {
                    out.push_str(&format!("    {dim}{label}:{reset} {value}{v}{reset}\n"))
                }
                Line::Dump { wire: true, row } => {
                    out.push_str(&format!("    {cipher}wire  {row}{reset}\n"))
                }
                Line::Dump { wire: false, row } => {
                    out.push_str(&format!("    {value}plain {row}{reset}\n"))
                }
            }
        }
        out
    }

    pub fn text(&mut self, t: impl Into<String>) {
        self.lines.push(Line::Text(t.into()));
    }

    pub fn field(&mut self, label: &str, v: impl std::fmt::Display) {
        self.lines
            .push(Line::Field(label.to_string(), v.to_string()));
    }

    /// The first `rows` rows of [`Self::dump`], and how much was left out.
    pub fn dump_head(&mut self, wire: bool, bytes: &[u8], rows: usize) {
        let shown = bytes.len().min(rows * 16);
        self.dump(wire, bytes.get(..shown).unwrap_or_default());
        if bytes.len() > shown {
            self.text(format!("  … {} more bytes", bytes.len() - shown));
        }
    }

    /// Hex dump rows of `bytes`; `wire` marks raw network bytes.
    pub fn dump(&mut self, wire: bool, bytes: &[u8]) {
        for row in hex_dump(bytes) {
            self.lines.push(Line::Dump { wire, row });
        }
    }
}

pub(super) fn content_type_name(t: ContentType) -> &'static str {
    match t {
        ContentType::ChangeCipherSpec => "change_cipher_spec",
        ContentType::Alert => "alert",
        ContentType::Handshake => "handshake",
        ContentType::ApplicationData => "application_data",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_dump_rows() {
        let rows = hex_dump(b"GET / HTTP/1.1\r\nHost");
        assert_eq!(rows.len(), 2);
        assert!(rows[0].starts_with("0000  47 45 54 20"));
        assert!(rows[0].ends_with("|GET / HTTP/1.1..|"));
        assert!(rows[1].starts_with("0010  48 6f 73 74"));
        assert!(rows[1].ends_with("|Host|"));
    }

    #[test]
    fn render_plain_and_color() {
        let mut s = Step {
            title: "t".into(),
            lines: Vec::new(),
        };
        s.field("a", "b");
        s.dump(true, b"xy");
        let plain = s.render(false);
        assert!(plain.starts_with("t\n    a: b\n    wire  0000  78 79 "));
        assert!(plain.ends_with(" |xy|\n"));
        assert!(s.render(true).contains("\x1b[1;36mt\x1b[0m"));
    }
}
