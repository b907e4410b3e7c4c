//! TLS as a man in the middle sees it (RFC 5246 §6.2, §7.4): every record's header is in the
//! clear, and so is the whole handshake up to ChangeCipherSpec — the ClientHello with the
//! server name (SNI) and the offered suites, the ServerHello, and in TLS 1.2 the server's
//! certificate chain. After ChangeCipherSpec only the record type, version and length remain
//! readable; the payload is ciphertext.
//!
//! [`Splitter`] cuts a direction into whole records with our own [`Deframer`], keeping the raw
//! bytes to forward; [`HandshakeView`] joins the handshake messages of one direction with our
//! [`HandshakeJoiner`] until that direction's ChangeCipherSpec.

use tls::alert::Alert;
use tls::msgs::handshake::{ClientHello, HandshakeMessage, HandshakePayload};
use tls::msgs::joiner::HandshakeJoiner;
use tls::pki::x509::Certificate;
use tls::record::{ContentType, Deframer, OpaqueRecord, HEADER_LEN};
use tls::suites::CipherSuite;
use tls::text::{escape_peer, escape_peer_bytes};

/// What the splitter has next.
pub enum Next {
    /// A whole record: parsed, and its bytes exactly as received.
    Record(OpaqueRecord, Vec<u8>),
    NeedMore,
    /// Not TLS records (any more): why, and the bytes held back, to forward as they are.
    Broken(String, Vec<u8>),
}

/// One direction's bytes -> whole records. Holds at most one record plus one read: the caller
/// pushes a read, then takes records until [`Next::NeedMore`].
#[derive(Default)]
pub struct Splitter {
    deframer: Deframer,
    /// The same bytes as the deframer holds, so a record can be forwarded (or changed) byte
    /// for byte, and so nothing is lost when the stream turns out not to be TLS.
    raw: Vec<u8>,
}

impl Splitter {
    pub fn push(&mut self, bytes: &[u8]) {
        self.deframer.push(bytes);
        self.raw.extend_from_slice(bytes);
    }

    pub fn next_record(&mut self) -> Next {
        match self.deframer.next_record() {
            Ok(Some(record)) => {
                let len = (HEADER_LEN + record.payload.len()).min(self.raw.len());
                let raw = self.raw.drain(..len).collect();
                Next::Record(record, raw)
            }
            Ok(None) => Next::NeedMore,
            Err(e) => {
                self.deframer = Deframer::new();
                Next::Broken(e.to_string(), std::mem::take(&mut self.raw))
            }
        }
    }

    /// Bytes of an unfinished record (a truncated record when the stream ends here).
    pub fn held(&self) -> usize {
        self.raw.len()
    }

    /// The bytes of an unfinished record, to pass on when the stream ends.
    pub fn take_rest(&mut self) -> Vec<u8> {
        self.deframer = Deframer::new();
        std::mem::take(&mut self.raw)
    }
}

/// The clear-text handshake of one direction, until its ChangeCipherSpec.
#[derive(Default)]
pub struct HandshakeView {
    joiner: HandshakeJoiner,
    /// ChangeCipherSpec was seen (or the handshake did not parse): nothing more to read.
    pub encrypted: bool,
    broken: bool,
}

impl HandshakeView {
    /// Take a record of this direction; returns the handshake messages it completed. A record
    /// that does not parse ends the view with one message saying so.
    pub fn record(&mut self, record: &OpaqueRecord) -> Result<Vec<HandshakeMessage>, String> {
        match record.content_type {
            ContentType::ChangeCipherSpec => {
                self.encrypted = true;
                Ok(Vec::new())
            }
            ContentType::Handshake if !self.encrypted && !self.broken => {
                let mut out = Vec::new();
                let fail = |this: &mut Self, e: tls::Error| {
                    this.broken = true;
                    Err(format!(
                        "handshake does not parse: {}",
                        escape_peer(&e.to_string())
                    ))
                };
                if let Err(e) = self.joiner.push(&record.payload) {
                    return fail(self, e);
                }
                // Each pop takes one whole message out of at most one record's worth.
                for _ in 0..=record.payload.len() / 4 {
                    match self.joiner.pop() {
                        Ok(Some(m)) => out.push(m),
                        Ok(None) => break,
                        Err(e) => return fail(self, e),
                    }
                }
                Ok(out)
            }
            _ => Ok(Vec::new()),
        }
    }
}

/// A suite code by its IANA name (our stack's own, or one clients commonly offer), else as a
/// number.
pub fn suite_label(id: u16) -> String {
    match CipherSuite::iana_name(id) {
        Some(name) => format!("{name} (0x{id:04X})"),
        None => format!("0x{id:04X}"),
    }
}

/// What a ClientHello shows anyone on the path.
pub fn describe_client_hello(hello: &ClientHello) -> Vec<String> {
    let sni = hello.server_name().map_or_else(
        || "(none)".to_string(),
        |n| format!("\"{}\"", escape_peer_bytes(n)),
    );
    let mut lines = vec![format!(
        "ClientHello (in the clear): server name (SNI) {sni}, version 0x{:04X}, {} suites offered:",
        hello.client_version,
        hello.cipher_suites.len()
    )];
    let known: Vec<String> = hello
        .cipher_suites
        .iter()
        .map(|&id| suite_label(id))
        .collect();
    // Two per line: a browser offers ~16, curl ~30.
    for group in known.chunks(2) {
        lines.push(format!("    {}", group.join(", ")));
    }
    if let Some(alpn) = hello.alpn_protocols() {
        let names: Vec<String> = alpn.iter().map(|p| escape_peer_bytes(p)).collect();
        lines.push(format!("    ALPN: {}", names.join(", ")));
    }
    lines
}

/// One handshake message as seen on the path.
pub fn describe_message(msg: &HandshakeMessage) -> Vec<String> {
    match &msg.payload {
        HandshakePayload::ClientHello(hello) => describe_client_hello(hello),
        HandshakePayload::ServerHello(hello) => vec![format!(
            "ServerHello (in the clear): suite {}",
            suite_label(hello.cipher_suite)
        )],
        HandshakePayload::Certificate(cert) => describe_chain(&cert.chain),
        other => vec![format!("{} (in the clear)", other.typ())],
    }
}

/// A Certificate message's chain: TLS 1.2 sends it unencrypted.
pub fn describe_chain(chain: &[Vec<u8>]) -> Vec<String> {
    let mut lines = vec![format!(
        "Certificate (in the clear in TLS 1.2): a chain of {} certificate(s):",
        chain.len()
    )];
    for (depth, der) in chain.iter().enumerate() {
        match Certificate::from_der(der) {
            Ok(c) => {
                lines.push(format!(
                    "    {depth} subject: {}",
                    escape_peer(&c.subject().to_string())
                ));
                lines.push(format!(
                    "      issuer: {}",
                    escape_peer(&c.issuer().to_string())
                ));
            }
            Err(e) => lines.push(format!(
                "    {depth} ({} bytes, does not parse: {})",
                der.len(),
                escape_peer(&e.to_string())
            )),
        }
    }
    lines
}

/// A record's header, as an eavesdropper reads it after ChangeCipherSpec, and its first bytes.
pub fn describe_encrypted(record: &OpaqueRecord) -> String {
    format!(
        "{} record, {} bytes, ciphertext {}",
        record.content_type.name(),
        record.payload.len(),
        tls::text::hex_prefix(&record.payload, 16)
    )
}

/// An alert sent before encryption starts is readable.
pub fn describe_clear_alert(payload: &[u8]) -> String {
    match Alert::decode(payload) {
        Some(a) => format!(
            "alert (in the clear): {} ({})",
            a.description.name(),
            a.description.to_u8()
        ),
        None => format!(
            "alert record of {} bytes that does not parse",
            payload.len()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_splitter_forwards_records_byte_for_byte_and_keeps_garbage() {
        let mut s = Splitter::default();
        let record = [22, 3, 3, 0, 2, 0xaa, 0xbb];
        s.push(&record[..3]);
        assert!(matches!(s.next_record(), Next::NeedMore));
        s.push(&record[3..]);
        s.push(b"GET / HTTP/1.1\r\n");
        match s.next_record() {
            Next::Record(r, raw) => {
                assert_eq!(r.content_type, ContentType::Handshake);
                assert_eq!(raw, record);
            }
            _ => panic!("expected a record"),
        }
        match s.next_record() {
            Next::Broken(_, raw) => assert_eq!(raw, b"GET / HTTP/1.1\r\n"),
            _ => panic!("expected garbage"),
        }
    }

    #[test]
    fn a_handshake_that_does_not_parse_is_reported_once() {
        let mut v = HandshakeView::default();
        let bad = OpaqueRecord {
            content_type: ContentType::Handshake,
            version: 0x0303,
            payload: vec![1, 0, 0, 3, 9, 9, 9],
        };
        assert!(v.record(&bad).is_err());
        assert!(v.record(&bad).unwrap().is_empty());
    }
}
