//! HTTP/1.1 message framing as a proxy sees it (RFC 9112 §2-§7): a head (start line and
//! header fields, up to an empty line), then a body delimited by Content-Length, by chunked
//! coding, or by the end of the connection. [`Framer`] cuts a byte stream into [`Piece`]s
//! without holding more than one head ([`MAX_HEAD`] bytes) or one chunk-size line; the body
//! itself streams through. Anything that does not parse turns the rest of the stream into
//! [`Piece::Opaque`]: forwarded as it is, never a panic.

use std::collections::VecDeque;

/// The largest head we collect; a longer one is not HTTP we understand.
pub const MAX_HEAD: usize = 16 * 1024;
/// Chunk-size and trailer lines longer than this are refused.
const MAX_LINE: usize = 1024;
/// Pipelined requests whose responses we still expect (beyond it, assume GET).
const MAX_PENDING: usize = 64;

/// A parsed head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    /// `GET /x HTTP/1.1` or `HTTP/1.1 200 OK`, as sent (lossy UTF-8 only for display).
    pub start_line: Vec<u8>,
    pub fields: Vec<(String, Vec<u8>)>,
    /// Requests: the method; responses: the status.
    pub method: Option<String>,
    pub status: Option<u16>,
}

impl Head {
    /// The first value of a field (names compare case-insensitively).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The head as bytes again, with `CRLF` line ends and the empty line.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.start_line.clone();
        out.extend_from_slice(b"\r\n");
        for (name, value) in &self.fields {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out
    }

    /// Replace (or add) a field, dropping other fields of that name.
    pub fn set(&mut self, name: &str, value: &[u8]) {
        self.remove(name);
        self.fields.push((name.to_string(), value.to_vec()));
    }

    pub fn remove(&mut self, name: &str) {
        self.fields.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    fn is_chunked(&self) -> bool {
        self.fields
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding"))
            .flat_map(|(_, v)| v.split(|&b| b == b','))
            .next_back()
            .is_some_and(|coding| coding.trim_ascii().eq_ignore_ascii_case(b"chunked"))
    }

    /// Content-Length, `Err` when present but unusable (two different values, not digits).
    fn content_length(&self) -> Result<Option<u64>, ()> {
        let mut found: Option<u64> = None;
        for (_, v) in self
            .fields
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        {
            let text = std::str::from_utf8(v).map_err(|_| ())?.trim();
            if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                return Err(());
            }
            let n: u64 = text.parse().map_err(|_| ())?;
            if found.is_some_and(|f| f != n) {
                return Err(());
            }
            found = Some(n);
        }
        Ok(found)
    }
}

/// One piece of the stream, in order; concatenating the raw bytes of every piece gives back
/// the input exactly.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// A whole head: parsed, its bytes as received, and how its body is delimited.
    Head(Head, &'a [u8], Body),
    /// Body content.
    Data(&'a [u8]),
    /// Chunked framing (size lines, CRLFs, trailers): forwarded, not content.
    Framing(&'a [u8]),
    /// The message (head and body) is complete.
    End,
    /// Not HTTP we follow (from here to the end of the stream).
    Opaque(&'a [u8]),
}

/// How the body after a head is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// No body (a request without length, HEAD, 204, 304, 1xx).
    None,
    Length(u64),
    Chunked,
    /// Until the connection closes (a response without length).
    UntilClose,
    /// Not understood (conflicting lengths): the rest is opaque.
    Unknown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Request,
    Response,
}

#[derive(Debug)]
enum State {
    Head,
    Length(u64),
    ChunkSize,
    ChunkData(u64),
    ChunkCrlf(u8),
    Trailers,
    UntilClose,
    Opaque,
}

/// Cuts one direction of an HTTP/1.1 connection into pieces.
#[derive(Debug)]
pub struct Framer {
    kind: Kind,
    state: State,
    /// The head (or chunk line) being collected.
    line: Vec<u8>,
    /// Responses: whether each request still waiting for its response was a HEAD.
    pending_head_requests: VecDeque<bool>,
}

impl Framer {
    pub fn new(kind: Kind) -> Self {
        Self {
            kind,
            state: State::Head,
            line: Vec::new(),
            pending_head_requests: VecDeque::new(),
        }
    }

    /// Responses: a request was sent (its response has no body if it was a HEAD).
    pub fn expect_response(&mut self, is_head: bool) {
        if self.pending_head_requests.len() < MAX_PENDING {
            self.pending_head_requests.push_back(is_head);
        }
    }

    /// True once the stream was given up as not HTTP.
    pub fn is_opaque(&self) -> bool {
        matches!(self.state, State::Opaque)
    }

    /// Cut `input` into pieces, handing each to `out`. Every byte of `input` ends up in
    /// exactly one piece (heads once complete, so a partial head waits inside).
    pub fn feed(&mut self, mut input: &[u8], out: &mut dyn FnMut(Piece<'_>)) {
        // Each turn consumes at least one byte, or moves on from a state that needs none (an
        // empty Content-Length body) into one that does: at most 2 turns per byte.
        for _ in 0..2 * input.len() + 4 {
            match &mut self.state {
                State::Opaque => {
                    if !input.is_empty() {
                        out(Piece::Opaque(input));
                    }
                    return;
                }
                State::Head => {
                    if input.is_empty() {
                        return;
                    }
                    let before = self.line.len();
                    let room = MAX_HEAD - before;
                    let take = input.len().min(room);
                    self.line
                        .extend_from_slice(input.get(..take).unwrap_or_default());
                    match find_head_end(&self.line, before) {
                        Some(end) => {
                            // The end lies in the new bytes: the old ones held no empty line.
                            let consumed = end.saturating_sub(before).min(take);
                            input = input.get(consumed..).unwrap_or_default();
                            let mut raw = std::mem::take(&mut self.line);
                            raw.truncate(end);
                            let raw = raw.as_slice();
                            match parse_head(self.kind, raw) {
                                Some(head) => {
                                    self.state = self.body_state(&head);
                                    let body = match self.state {
                                        State::Head => Body::None,
                                        State::Length(n) => Body::Length(n),
                                        State::ChunkSize => Body::Chunked,
                                        State::UntilClose => Body::UntilClose,
                                        _ => Body::Unknown,
                                    };
                                    out(Piece::Head(head, raw, body));
                                    if matches!(self.state, State::Head) {
                                        out(Piece::End);
                                    }
                                }
                                None => {
                                    self.state = State::Opaque;
                                    out(Piece::Opaque(raw));
                                }
                            }
                        }
                        None if self.line.len() >= MAX_HEAD
                            || !plausible(self.kind, &self.line) =>
                        {
                            let raw = std::mem::take(&mut self.line);
                            self.state = State::Opaque;
                            out(Piece::Opaque(&raw));
                            input = input.get(take..).unwrap_or_default();
                        }
                        None => return,
                    }
                }
                State::Length(left) => {
                    if *left == 0 {
                        self.state = State::Head;
                        out(Piece::End);
                        continue;
                    }
                    if input.is_empty() {
                        return;
                    }
                    let n = input
                        .len()
                        .min(usize::try_from(*left).unwrap_or(usize::MAX));
                    *left -= n as u64;
                    out(Piece::Data(&input[..n]));
                    input = &input[n..];
                }
                State::UntilClose => {
                    if !input.is_empty() {
                        out(Piece::Data(input));
                    }
                    return;
                }
                State::ChunkSize | State::Trailers => {
                    if input.is_empty() {
                        return;
                    }
                    let Some(nl) = input.iter().position(|&b| b == b'\n') else {
                        if self.line.len() + input.len() > MAX_LINE {
                            self.give_up(input, out);
                            return;
                        }
                        self.line.extend_from_slice(input);
                        return;
                    };
                    let (part, rest) = input.split_at(nl + 1);
                    if self.line.len() + part.len() > MAX_LINE {
                        self.give_up(input, out);
                        return;
                    }
                    self.line.extend_from_slice(part);
                    input = rest;
                    let line = std::mem::take(&mut self.line);
                    let trimmed = line.trim_ascii_end();
                    if matches!(self.state, State::Trailers) {
                        out(Piece::Framing(&line));
                        if trimmed.is_empty() {
                            self.state = State::Head;
                            out(Piece::End);
                        }
                        continue;
                    }
                    let size_text = trimmed.split(|&b| b == b';').next().unwrap_or_default();
                    match parse_hex(size_text.trim_ascii()) {
                        Some(0) => self.state = State::Trailers,
                        Some(n) => self.state = State::ChunkData(n),
                        None => {
                            self.state = State::Opaque;
                            out(Piece::Opaque(&line));
                            continue;
                        }
                    }
                    out(Piece::Framing(&line));
                }
                State::ChunkData(left) => {
                    if input.is_empty() {
                        return;
                    }
                    let n = input
                        .len()
                        .min(usize::try_from(*left).unwrap_or(usize::MAX));
                    *left -= n as u64;
                    if *left == 0 {
                        self.state = State::ChunkCrlf(2);
                    }
                    out(Piece::Data(&input[..n]));
                    input = &input[n..];
                }
                State::ChunkCrlf(left) => {
                    if input.is_empty() {
                        return;
                    }
                    let n = input.len().min(usize::from(*left));
                    *left -= n as u8;
                    if *left == 0 {
                        self.state = State::ChunkSize;
                    }
                    out(Piece::Framing(&input[..n]));
                    input = &input[n..];
                }
            }
        }
        // Not reached while the states keep their promise; if one did not, lose no byte.
        if !input.is_empty() {
            self.state = State::Opaque;
            out(Piece::Opaque(input));
        }
    }

    /// The stream ended: a partial head or chunk line still held comes out as opaque bytes.
    pub fn flush(&mut self, out: &mut dyn FnMut(Piece<'_>)) {
        if !self.line.is_empty() {
            let raw = std::mem::take(&mut self.line);
            self.state = State::Opaque;
            out(Piece::Opaque(&raw));
        }
    }

    fn give_up(&mut self, input: &[u8], out: &mut dyn FnMut(Piece<'_>)) {
        let mut raw = std::mem::take(&mut self.line);
        raw.extend_from_slice(input);
        self.state = State::Opaque;
        out(Piece::Opaque(&raw));
    }

    /// How the body after `head` is delimited (RFC 9112 §6.3).
    fn body_state(&mut self, head: &Head) -> State {
        if self.kind == Kind::Response {
            let status = head.status.unwrap_or(200);
            if (100..200).contains(&status) {
                // An interim response: the real one still comes for the same request.
                return State::Head;
            }
            let was_head = self.pending_head_requests.pop_front().unwrap_or(false);
            if was_head || status == 204 || status == 304 {
                return State::Head;
            }
        }
        if head.is_chunked() {
            return State::ChunkSize;
        }
        match head.content_length() {
            Ok(Some(n)) => State::Length(n),
            Ok(None) if self.kind == Kind::Request => State::Head,
            Ok(None) => State::UntilClose,
            Err(()) => State::Opaque,
        }
    }
}

/// Where the head ends (just after its empty line), searching from a little before `from`.
fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    let start = from.saturating_sub(3);
    let tail = buf.get(start..)?;
    if let Some(i) = tail.windows(4).position(|w| w == b"\r\n\r\n") {
        return Some(start + i + 4);
    }
    let start = from.saturating_sub(1);
    let tail = buf.get(start..)?;
    tail.windows(2)
        .position(|w| w == b"\n\n")
        .map(|i| start + i + 2)
}

/// Whether a partial head can still become HTTP: the first bytes must look like a method or
/// `HTTP/`, so garbage is recognised at once instead of after 16 KiB.
fn plausible(kind: Kind, partial: &[u8]) -> bool {
    match kind {
        Kind::Response => {
            let n = partial.len().min(5);
            partial[..n] == b"HTTP/"[..n]
        }
        Kind::Request => {
            let first_line = partial.split(|&b| b == b'\n').next().unwrap_or_default();
            let method = first_line.split(|&b| b == b' ').next().unwrap_or_default();
            method.len() <= 16 && method.iter().all(|b| b.is_ascii_uppercase())
        }
    }
}

fn parse_head(kind: Kind, raw: &[u8]) -> Option<Head> {
    let mut lines = raw
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let start_line = lines.next()?.to_vec();
    let mut parts = start_line.splitn(3, |&b| b == b' ');
    let (first, second) = (parts.next()?, parts.next()?);
    let third = parts.next();
    let (method, status) = match kind {
        Kind::Request => {
            if first.is_empty() || !first.iter().all(|b| b.is_ascii_uppercase()) {
                return None;
            }
            if !third?.starts_with(b"HTTP/1.") || second.is_empty() {
                return None;
            }
            (Some(String::from_utf8_lossy(first).into_owned()), None)
        }
        Kind::Response => {
            if !first.starts_with(b"HTTP/1.") || second.len() != 3 {
                return None;
            }
            let status: u16 = std::str::from_utf8(second).ok()?.parse().ok()?;
            (None, Some(status))
        }
    };
    let mut fields = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        let colon = line.iter().position(|&b| b == b':')?;
        let name = &line[..colon];
        if name.is_empty() || !name.iter().all(|&b| b.is_ascii_graphic()) {
            return None;
        }
        let value = line[colon + 1..].trim_ascii();
        fields.push((String::from_utf8_lossy(name).into_owned(), value.to_vec()));
    }
    Some(Head {
        start_line,
        fields,
        method,
        status,
    })
}

fn parse_hex(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 15 {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(text).ok()?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in pieces of `step` bytes; returns the pieces as (tag, bytes).
    fn cut(kind: Kind, input: &[u8], step: usize) -> Vec<(String, Vec<u8>)> {
        let mut f = Framer::new(kind);
        if kind == Kind::Response {
            f.expect_response(false);
        }
        let mut got: Vec<(String, Vec<u8>)> = Vec::new();
        // Then the end of the stream (None): what is still held comes out.
        for part in input.chunks(step.max(1)).map(Some).chain([None]) {
            let mut take = |p: Piece<'_>| {
                let (tag, bytes) = match p {
                    Piece::Head(h, raw, _) => {
                        (format!("head {}", h.start_line.len()), raw.to_vec())
                    }
                    Piece::Data(d) => ("data".into(), d.to_vec()),
                    Piece::Framing(d) => ("framing".into(), d.to_vec()),
                    Piece::End => ("end".into(), Vec::new()),
                    Piece::Opaque(d) => ("opaque".into(), d.to_vec()),
                };
                // Merge runs of the same kind so the result does not depend on `step`.
                match got.last_mut() {
                    Some((t, b)) if *t == tag && tag != "end" && !tag.starts_with("head") => {
                        b.extend_from_slice(&bytes)
                    }
                    _ => got.push((tag, bytes)),
                }
            };
            match part {
                Some(part) => f.feed(part, &mut take),
                None => f.flush(&mut take),
            }
        }
        got
    }

    fn joined(pieces: &[(String, Vec<u8>)]) -> Vec<u8> {
        pieces.iter().flat_map(|(_, b)| b.clone()).collect()
    }

    #[test]
    fn a_post_with_a_form_is_a_head_then_its_body() {
        let input = b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\npassword=pwGET / HTTP/1.1\r\n\r\n";
        for step in [1, 3, 7, 1000] {
            let pieces = cut(Kind::Request, input, step);
            let tags: Vec<&str> = pieces.iter().map(|(t, _)| t.as_str()).collect();
            assert_eq!(
                tags,
                ["head 20", "data", "end", "head 14", "end"],
                "step {step}"
            );
            assert_eq!(pieces[1].1, b"password=pw");
            assert_eq!(joined(&pieces), input);
        }
    }

    #[test]
    fn chunked_bodies_separate_framing_from_content() {
        let input = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nT: 1\r\n\r\n";
        for step in [1, 2, 5, 1000] {
            let pieces = cut(Kind::Response, input, step);
            let data: Vec<u8> = pieces
                .iter()
                .filter(|(t, _)| t == "data")
                .flat_map(|(_, b)| b.clone())
                .collect();
            assert_eq!(data, b"hello world", "step {step}");
            assert_eq!(pieces.last().map(|(t, _)| t.as_str()), Some("end"));
            assert_eq!(joined(&pieces), input);
        }
    }

    #[test]
    fn responses_without_length_run_to_the_close_and_head_requests_have_no_body() {
        let pieces = cut(Kind::Response, b"HTTP/1.0 200 OK\r\n\r\n<html>", 4);
        assert_eq!(pieces[1], ("data".to_string(), b"<html>".to_vec()));
        let mut f = Framer::new(Kind::Response);
        f.expect_response(true);
        let mut ends = 0;
        f.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", &mut |p| {
            ends += usize::from(p == Piece::End)
        });
        assert_eq!(ends, 1, "a HEAD response ends with its head");
    }

    #[test]
    fn garbage_and_bad_lengths_become_opaque_without_losing_a_byte() {
        for input in [
            &b"\x16\x03\x01\x00\x05hello"[..],
            b"GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\nabc",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"lowercase / HTTP/1.1\r\n\r\n",
        ] {
            let pieces = cut(Kind::Request, input, 3);
            assert!(pieces.iter().any(|(t, _)| t == "opaque"), "{pieces:?}");
            assert_eq!(joined(&pieces), input);
        }
        let mut huge = b"GET /".to_vec();
        huge.resize(MAX_HEAD + 10, b'a');
        let pieces = cut(Kind::Request, &huge, 4096);
        assert_eq!(joined(&pieces), huge);
        assert_eq!(pieces.last().map(|(t, _)| t.as_str()), Some("opaque"));
    }

    proptest::proptest! {
        /// Whatever the bytes and however they are cut, nothing panics and every byte comes
        /// out exactly once, in order.
        #[test]
        fn any_bytes_in_any_pieces_come_out_unchanged(
            input in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
            step in 1usize..64,
            prefix in proptest::sample::select(vec![
                &b""[..],
                b"GET / HTTP/1.1\r\nContent-Length: 3\r\n\r\n",
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            ]),
        ) {
            let all = [prefix, &input[..]].concat();
            for kind in [Kind::Request, Kind::Response] {
                let pieces = cut(kind, &all, step);
                proptest::prop_assert_eq!(joined(&pieces), all.clone());
            }
        }
    }
}
