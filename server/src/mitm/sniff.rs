//! `--sniff`: forward every byte unchanged and print what the path can read. Plain HTTP gives
//! everything away — request line, cookies, `Authorization`, a submitted form's password, the
//! page. TLS gives the ClientHello (server name, offered suites), the ServerHello and the
//! certificate chain (TLS 1.2 sends them in the clear, RFC 5246 §7.4), and after
//! ChangeCipherSpec only record headers and ciphertext.
//!
//! [`HttpSniffer`] also prints what `--impersonate` decrypts.

use super::http::{Framer, Kind, Piece};
use super::records::{self, HandshakeView, Next, Splitter};
use super::relay::{Dir, Filter};
use super::report::{body_lines, Report};
use tls::record::ContentType;
use tls::text::escape_peer_bytes;

/// Encrypted records printed per direction before the rest are only counted.
const SHOWN_RECORDS: u64 = 6;

/// Sniff a connection, deciding from its first byte: 22 (a TLS handshake record) is TLS,
/// anything else is taken for plain HTTP.
pub struct Sniff {
    report: Report,
    body_limit: usize,
    inner: Option<Box<dyn Filter>>,
}

impl Sniff {
    pub fn new(report: Report, body_limit: usize) -> Self {
        Self {
            report,
            body_limit,
            inner: None,
        }
    }
}

/// True when a connection's first byte starts a TLS handshake record.
pub fn looks_like_tls(first: &[u8]) -> bool {
    first.first() == Some(&(ContentType::Handshake as u8))
}

impl Filter for Sniff {
    fn data(&mut self, dir: Dir, input: &[u8], out: &mut Vec<u8>) {
        let inner = self.inner.get_or_insert_with(|| {
            if dir == Dir::Up && looks_like_tls(input) {
                self.report.line("TLS: what an eavesdropper on the path reads, and no more");
                Box::new(TlsSniffer::new(self.report))
            } else {
                self.report.line(
                    "plain HTTP: everything below is readable (and changeable) by anyone on the path",
                );
                Box::new(HttpSniffer::new(self.report, self.body_limit, ""))
            }
        });
        inner.data(dir, input, out);
    }

    fn end(&mut self, dir: Dir, out: &mut Vec<u8>) {
        if let Some(inner) = &mut self.inner {
            inner.end(dir, out);
        }
    }

    fn finish(&mut self) {
        if let Some(inner) = &mut self.inner {
            inner.finish();
        }
    }

    fn summary(&self) -> String {
        self.inner
            .as_ref()
            .map_or_else(|| "no data".to_string(), |i| i.summary())
    }
}

/// A body being shown: its first bytes, and how many there were.
#[derive(Default)]
struct BodyShow {
    shown: Vec<u8>,
    total: u64,
}

/// Prints HTTP heads and (the first bytes of) bodies going both ways; forwards unchanged.
pub struct HttpSniffer {
    report: Report,
    body_limit: usize,
    /// `""`, or `"decrypted "` when the bytes came out of TLS.
    label: &'static str,
    framers: [Framer; 2],
    bodies: [BodyShow; 2],
    messages: [u64; 2],
    opaque: [u64; 2],
}

impl HttpSniffer {
    pub fn new(report: Report, body_limit: usize, label: &'static str) -> Self {
        Self {
            report,
            body_limit,
            label,
            framers: [Framer::new(Kind::Request), Framer::new(Kind::Response)],
            bodies: Default::default(),
            messages: [0, 0],
            opaque: [0, 0],
        }
    }

    fn show_body(&mut self, dir: Dir) {
        let body = std::mem::take(&mut self.bodies[dir.index()]);
        if body.total == 0 {
            return;
        }
        let mut lines = vec![format!(
            "{} {}body, {} bytes:",
            dir.arrow(),
            self.label,
            body.total
        )];
        lines.extend(body_lines(
            &format!("{} | ", dir.arrow()),
            &body.shown,
            body.total,
        ));
        self.report.lines(lines);
    }
}

/// What one read showed, in order.
enum Seen {
    Head(Vec<String>, bool),
    /// Up to the body limit of a piece of body, and its full length.
    Data(Vec<u8>, u64),
    End,
}

/// A head as lines: start line, then one line per field, escaped.
pub fn head_lines(dir: Dir, label: &str, head: &super::http::Head) -> Vec<String> {
    let mut lines = vec![format!(
        "{} {label}{}",
        dir.arrow(),
        escape_peer_bytes(&head.start_line)
    )];
    for (name, value) in &head.fields {
        lines.push(format!(
            "{}   {}: {}",
            dir.arrow(),
            escape_peer_bytes(name.as_bytes()),
            escape_peer_bytes(value)
        ));
    }
    lines
}

impl Filter for HttpSniffer {
    fn data(&mut self, dir: Dir, input: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(input);
        let i = dir.index();
        let mut seen = Vec::new();
        let mut opaque = 0u64;
        let (limit, label) = (self.body_limit, self.label);
        self.framers[i].feed(input, &mut |piece| match piece {
            Piece::Head(head, _, _) => seen.push(Seen::Head(
                head_lines(dir, label, &head),
                head.method.as_deref() == Some("HEAD"),
            )),
            Piece::Data(d) => seen.push(Seen::Data(
                d.get(..limit.min(d.len())).unwrap_or_default().to_vec(),
                d.len() as u64,
            )),
            Piece::Framing(_) => {}
            Piece::End => seen.push(Seen::End),
            Piece::Opaque(d) => opaque += d.len() as u64,
        });
        for s in seen {
            match s {
                Seen::Head(lines, is_head) => {
                    self.report.lines(lines);
                    if dir == Dir::Up {
                        self.framers[1].expect_response(is_head);
                    }
                }
                Seen::Data(bytes, len) => {
                    let body = &mut self.bodies[i];
                    let room = limit.saturating_sub(body.shown.len()).min(bytes.len());
                    body.shown
                        .extend_from_slice(bytes.get(..room).unwrap_or_default());
                    body.total += len;
                }
                Seen::End => {
                    self.messages[i] += 1;
                    self.show_body(dir);
                }
            }
        }
        if opaque > 0 {
            if self.opaque[i] == 0 {
                self.report.line(&format!(
                    "{} not HTTP (any more): forwarding the rest unread",
                    dir.arrow()
                ));
            }
            self.opaque[i] += opaque;
        }
    }

    fn finish(&mut self) {
        // A body delimited by the close, or cut short.
        self.show_body(Dir::Up);
        self.show_body(Dir::Down);
    }

    fn summary(&self) -> String {
        format!(
            "{}http, {} request(s), {} response(s)",
            self.label, self.messages[0], self.messages[1]
        )
    }
}

/// Prints the clear-text handshake and then the record headers; forwards unchanged.
pub struct TlsSniffer {
    report: Report,
    splitters: [Splitter; 2],
    views: [HandshakeView; 2],
    /// Encrypted records seen per direction.
    encrypted: [u64; 2],
    records: [u64; 2],
    broken: [bool; 2],
    said_eavesdropper: bool,
    sni: Option<String>,
}

impl TlsSniffer {
    pub fn new(report: Report) -> Self {
        Self {
            report,
            splitters: Default::default(),
            views: Default::default(),
            encrypted: [0, 0],
            records: [0, 0],
            broken: [false, false],
            said_eavesdropper: false,
            sni: None,
        }
    }
}

impl Filter for TlsSniffer {
    fn data(&mut self, dir: Dir, input: &[u8], out: &mut Vec<u8>) {
        // The sniffer only watches: bytes leave at once, whole records or not.
        out.extend_from_slice(input);
        let i = dir.index();
        if self.broken[i] {
            return;
        }
        self.splitters[i].push(input);
        let arrow = dir.arrow();
        let mut lines = Vec::new();
        // Each turn takes one whole record out of what was pushed (at most one per 5 bytes).
        for _ in 0..=input.len() / tls::record::HEADER_LEN + 1 {
            let record = match self.splitters[i].next_record() {
                Next::Record(record, _) => record,
                Next::NeedMore => break,
                Next::Broken(why, _) => {
                    lines.push(format!(
                        "{arrow} not TLS records (any more): {}; forwarding the rest unread",
                        tls::text::escape_peer(&why)
                    ));
                    self.broken[i] = true;
                    break;
                }
            };
            self.records[i] += 1;
            if self.views[i].encrypted {
                self.encrypted[i] += 1;
                if !self.said_eavesdropper {
                    self.said_eavesdropper = true;
                    lines.push(
                        "from here on: record headers and ciphertext — this is all an eavesdropper gets"
                            .to_string(),
                    );
                }
                if self.encrypted[i] <= SHOWN_RECORDS {
                    lines.push(format!("{arrow} {}", records::describe_encrypted(&record)));
                } else if self.encrypted[i] == SHOWN_RECORDS + 1 {
                    lines.push(format!(
                        "{arrow} … (more records: only their sizes show, counted in the summary)"
                    ));
                }
                continue;
            }
            match record.content_type {
                ContentType::ChangeCipherSpec => {
                    self.views[i].encrypted = true;
                    lines.push(format!(
                        "{arrow} change_cipher_spec: this side encrypts from now on"
                    ));
                }
                ContentType::Alert => lines.push(format!(
                    "{arrow} {}",
                    records::describe_clear_alert(&record.payload)
                )),
                ContentType::ApplicationData => lines.push(format!(
                    "{arrow} application_data before change_cipher_spec?! {} bytes",
                    record.payload.len()
                )),
                ContentType::Handshake => {}
            }
            match self.views[i].record(&record) {
                Ok(messages) => {
                    for m in &messages {
                        if let tls::msgs::handshake::HandshakePayload::ClientHello(h) = &m.payload {
                            self.sni = h.server_name().map(escape_peer_bytes);
                        }
                        for l in records::describe_message(m) {
                            lines.push(format!("{arrow} {l}"));
                        }
                    }
                }
                Err(why) => lines.push(format!("{arrow} {why}")),
            }
        }
        if !lines.is_empty() {
            self.report.lines(lines);
        }
    }

    fn finish(&mut self) {
        let mut lines = Vec::new();
        for dir in [Dir::Up, Dir::Down] {
            let held = self.splitters[dir.index()].held();
            if held > 0 && !self.broken[dir.index()] {
                lines.push(format!(
                    "{} the stream ended inside a record ({held} bytes of it)",
                    dir.arrow()
                ));
            }
        }
        if !lines.is_empty() {
            self.report.lines(lines);
        }
    }

    fn summary(&self) -> String {
        format!(
            "tls sni={}, records {} up / {} down ({} / {} encrypted)",
            self.sni.as_deref().unwrap_or("-"),
            self.records[0],
            self.records[1],
            self.encrypted[0],
            self.encrypted[1]
        )
    }
}
