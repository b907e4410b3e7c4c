//! `--inject`: change what the victim receives. Plain HTTP has no integrity: the proxy inserts
//! a visible banner into every HTML response, fixes Content-Length (or re-chunks a chunked
//! body), and the browser shows it as part of the page. So that the HTML is readable, each
//! request's `Accept-Encoding` is rewritten to `identity` (no gzip); a response that is
//! compressed anyway is left alone. TLS has integrity (RFC 5246 §6.2.3): flipping a single bit
//! of the first application_data record from the server makes the victim's MAC (or GCM tag)
//! check fail; it sends `bad_record_mac` and delivers nothing.

use super::http::{Body, Framer, Head, Kind, Piece};
use super::records::{HandshakeView, Next, Splitter};
use super::relay::{Dir, Filter};
use super::report::Report;
use super::sniff::looks_like_tls;
use tls::record::ContentType;

/// What is inserted into HTML pages.
pub const BANNER: &str = "<div id=\"mitm-banner\" style=\"background:#b00020;color:#fff;\
padding:1em;margin:0 0 1em 0;font:bold 1.2em sans-serif\">An advertisement inserted by the man \
in the middle: this page crossed the network as plain HTTP, so anyone on the path could \
change it.</div>";

/// Dispatch on the first byte, like the sniffer.
pub struct Inject {
    report: Report,
    inner: Option<Box<dyn Filter>>,
}

impl Inject {
    pub fn new(report: Report) -> Self {
        Self {
            report,
            inner: None,
        }
    }
}

impl Filter for Inject {
    fn data(&mut self, dir: Dir, input: &[u8], out: &mut Vec<u8>) {
        let inner = self.inner.get_or_insert_with(|| {
            if dir == Dir::Up && looks_like_tls(input) {
                self.report
                    .line("TLS: will flip one bit of the server's first application_data record");
                Box::new(BitFlipper::new(self.report))
            } else {
                self.report
                    .line("plain HTTP: will insert a banner into HTML responses");
                Box::new(BannerInjector::new(self.report))
            }
        });
        inner.data(dir, input, out);
    }

    fn end(&mut self, dir: Dir, out: &mut Vec<u8>) {
        if let Some(inner) = &mut self.inner {
            inner.end(dir, out);
        }
    }

    fn summary(&self) -> String {
        self.inner
            .as_ref()
            .map_or_else(|| "no data".to_string(), |i| i.summary())
    }
}

/// How the body of the response being passed on is rewritten.
enum Rewrite {
    /// Forward as is (not HTML, compressed, no body).
    None,
    /// Content-Length or close-delimited body: insert the banner, bytes stay bytes.
    Plain,
    /// Chunked: content is re-chunked, the banner is a chunk of its own.
    Chunked,
}

/// Inserts [`BANNER`] right after the `<body ...>` tag of HTML responses (at the end if there
/// is no such tag), in one pass with constant memory.
pub struct BannerInjector {
    report: Report,
    requests: Framer,
    responses: Framer,
    rewrite: Rewrite,
    finder: BodyTagFinder,
    injected: bool,
    pages: u64,
}

impl BannerInjector {
    pub fn new(report: Report) -> Self {
        Self {
            report,
            requests: Framer::new(Kind::Request),
            responses: Framer::new(Kind::Response),
            rewrite: Rewrite::None,
            finder: BodyTagFinder::default(),
            injected: false,
            pages: 0,
        }
    }

    /// Body content `d` of the response being rewritten, banner included where it belongs.
    fn content(&mut self, d: &[u8], out: &mut Vec<u8>) {
        let chunked = matches!(self.rewrite, Rewrite::Chunked);
        let at = if self.injected {
            None
        } else {
            self.finder.feed(d)
        };
        match at {
            Some(at) => {
                let (before, after) = d.split_at(at.min(d.len()));
                emit(before, chunked, out);
                emit(BANNER.as_bytes(), chunked, out);
                self.injected = true;
                emit(after, chunked, out);
            }
            None => emit(d, chunked, out),
        }
    }

    /// The response is complete (or its connection closed): the banner goes at the end if no
    /// `<body>` tag came.
    fn finish_response(&mut self, out: &mut Vec<u8>) {
        if matches!(self.rewrite, Rewrite::None) {
            return;
        }
        let chunked = matches!(self.rewrite, Rewrite::Chunked);
        if !self.injected {
            self.injected = true;
            emit(BANNER.as_bytes(), chunked, out);
        }
        if chunked {
            // The last chunk; the original trailers (if any) are dropped.
            out.extend_from_slice(b"0\r\n\r\n");
        }
        self.pages += 1;
        self.rewrite = Rewrite::None;
    }

    fn response_head(&mut self, mut head: Head, raw: &[u8], body: Body, out: &mut Vec<u8>) {
        let html = head.get("content-type").is_some_and(|t| {
            t.trim_ascii()
                .to_ascii_lowercase()
                .starts_with(b"text/html")
        });
        let encoded = head
            .get("content-encoding")
            .is_some_and(|e| !e.trim_ascii().eq_ignore_ascii_case(b"identity"));
        self.rewrite = Rewrite::None;
        if !html || encoded || matches!(body, Body::None | Body::Unknown | Body::Length(0)) {
            if html && encoded {
                self.report
                    .line("< compressed HTML despite our Accept-Encoding: passed on unchanged");
            }
            out.extend_from_slice(raw);
            return;
        }
        self.injected = false;
        self.finder = BodyTagFinder::default();
        match body {
            Body::Length(n) => {
                let new_len = n + BANNER.len() as u64;
                head.set("Content-Length", new_len.to_string().as_bytes());
                self.report.line(&format!(
                    "< HTML page: inserting the banner, Content-Length {n} -> {new_len}"
                ));
                self.rewrite = Rewrite::Plain;
            }
            Body::UntilClose => {
                self.report
                    .line("< HTML page (ends at the close): inserting the banner");
                self.rewrite = Rewrite::Plain;
            }
            _ => {
                self.report
                    .line("< HTML page (chunked): inserting the banner as a chunk of its own");
                self.rewrite = Rewrite::Chunked;
            }
        }
        out.extend_from_slice(&head.encode());
    }
}

impl Filter for BannerInjector {
    fn data(&mut self, dir: Dir, input: &[u8], out: &mut Vec<u8>) {
        match dir {
            Dir::Up => {
                let mut heads = Vec::new();
                self.requests.feed(input, &mut |piece| match piece {
                    Piece::Head(mut head, raw, _) => {
                        heads.push(head.method.as_deref() == Some("HEAD"));
                        if head.get("accept-encoding").is_some() {
                            // Ask for the page uncompressed, so that it can be edited.
                            head.set("Accept-Encoding", b"identity");
                            out.extend_from_slice(&head.encode());
                        } else {
                            out.extend_from_slice(raw);
                        }
                    }
                    Piece::Data(d) | Piece::Framing(d) | Piece::Opaque(d) => {
                        out.extend_from_slice(d)
                    }
                    Piece::End => {}
                });
                for is_head in heads {
                    self.responses.expect_response(is_head);
                }
            }
            Dir::Down => {
                // Collected first: the callback cannot borrow `self` while the framer runs.
                let mut pieces: Vec<Owned> = Vec::new();
                self.responses.feed(input, &mut |piece| {
                    pieces.push(match piece {
                        Piece::Head(h, raw, body) => Owned::Head(h, raw.to_vec(), body),
                        Piece::Data(d) => Owned::Data(d.to_vec()),
                        Piece::Framing(d) => Owned::Framing(d.to_vec()),
                        Piece::Opaque(d) => Owned::Opaque(d.to_vec()),
                        Piece::End => Owned::End,
                    })
                });
                for piece in pieces {
                    match piece {
                        Owned::Head(h, raw, body) => self.response_head(h, &raw, body, out),
                        Owned::Data(d) => match self.rewrite {
                            Rewrite::None => out.extend_from_slice(&d),
                            _ => self.content(&d, out),
                        },
                        Owned::Framing(d) => {
                            // Chunk framing is rewritten with the content.
                            if !matches!(self.rewrite, Rewrite::Chunked) {
                                out.extend_from_slice(&d);
                            }
                        }
                        Owned::Opaque(d) => out.extend_from_slice(&d),
                        Owned::End => self.finish_response(out),
                    }
                }
            }
        }
    }

    fn end(&mut self, dir: Dir, out: &mut Vec<u8>) {
        // A head cut short by the close goes on as it came.
        let framer = match dir {
            Dir::Up => &mut self.requests,
            Dir::Down => &mut self.responses,
        };
        framer.flush(&mut |piece| {
            if let Piece::Opaque(d) = piece {
                out.extend_from_slice(d);
            }
        });
        if dir == Dir::Down {
            // A close-delimited page ends here.
            self.finish_response(out);
        }
    }

    fn summary(&self) -> String {
        format!("http, banner inserted into {} page(s)", self.pages)
    }
}

/// Bytes of the body: as they are, or as one chunk (RFC 9112 §7.1).
fn emit(bytes: &[u8], chunked: bool, out: &mut Vec<u8>) {
    if bytes.is_empty() {
        return;
    }
    if chunked {
        out.extend_from_slice(format!("{:x}\r\n", bytes.len()).as_bytes());
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
    } else {
        out.extend_from_slice(bytes);
    }
}

/// A piece of a response, owned (see [`BannerInjector::data`]).
enum Owned {
    Head(Head, Vec<u8>, Body),
    Data(Vec<u8>),
    Framing(Vec<u8>),
    Opaque(Vec<u8>),
    End,
}

/// Finds the end of the first `<body ...>` tag in a stream of HTML, a byte at a time.
#[derive(Default)]
struct BodyTagFinder {
    /// How much of `<body` matched so far.
    matched: usize,
    /// Inside the tag, waiting for its `>`.
    in_tag: bool,
    found: bool,
}

impl BodyTagFinder {
    /// Offset just after the tag's `>` in `bytes`, if it ends there.
    fn feed(&mut self, bytes: &[u8]) -> Option<usize> {
        if self.found {
            return None;
        }
        const TAG: &[u8] = b"<body";
        for (i, &b) in bytes.iter().enumerate() {
            if self.in_tag {
                if b == b'>' {
                    self.found = true;
                    return Some(i + 1);
                }
                continue;
            }
            if self.matched == TAG.len() {
                // `<body` must be followed by the end of the name.
                if matches!(b, b'>' | b' ' | b'\t' | b'\n' | b'\r' | b'/') {
                    if b == b'>' {
                        self.found = true;
                        return Some(i + 1);
                    }
                    self.in_tag = true;
                    continue;
                }
                self.matched = 0;
            }
            if TAG.get(self.matched) == Some(&b.to_ascii_lowercase()) {
                self.matched += 1;
            } else {
                self.matched = usize::from(b == b'<');
            }
        }
        None
    }
}

/// Flips one bit in the first application_data record the server sends; forwards all else.
pub struct BitFlipper {
    report: Report,
    /// Server-to-client records (the client's bytes pass untouched, but are watched).
    down: Splitter,
    up: Splitter,
    views: [HandshakeView; 2],
    flipped: bool,
    broken: [bool; 2],
    after_flip_up: u64,
}

impl BitFlipper {
    pub fn new(report: Report) -> Self {
        Self {
            report,
            down: Splitter::default(),
            up: Splitter::default(),
            views: Default::default(),
            flipped: false,
            broken: [false, false],
            after_flip_up: 0,
        }
    }
}

impl Filter for BitFlipper {
    fn data(&mut self, dir: Dir, input: &[u8], out: &mut Vec<u8>) {
        let i = dir.index();
        if self.broken[i] {
            out.extend_from_slice(input);
            return;
        }
        if dir == Dir::Up {
            // The client's bytes go on at once; we only watch for its reaction to the flip.
            out.extend_from_slice(input);
            self.up.push(input);
        } else {
            self.down.push(input);
        }
        let splitter = match dir {
            Dir::Up => &mut self.up,
            Dir::Down => &mut self.down,
        };
        // One whole record per turn, at most one per 5 bytes pushed.
        for _ in 0..=input.len() / tls::record::HEADER_LEN + 1 {
            let (record, mut raw) = match splitter.next_record() {
                Next::Record(r, raw) => (r, raw),
                Next::NeedMore => break,
                Next::Broken(why, raw) => {
                    self.report.line(&format!(
                        "{} not TLS records: {}; forwarding the rest unchanged",
                        dir.arrow(),
                        tls::text::escape_peer(&why)
                    ));
                    if dir == Dir::Down {
                        out.extend_from_slice(&raw);
                    }
                    self.broken[i] = true;
                    break;
                }
            };
            let _ = self.views[i].record(&record);
            if dir == Dir::Up {
                if self.flipped {
                    self.after_flip_up += 1;
                    if self.after_flip_up == 1 {
                        self.report.line(&format!(
                            "> the client answers with an encrypted {} record of {} bytes \
                             (a fatal alert: it refused the record)",
                            record.content_type.name(),
                            record.payload.len()
                        ));
                    }
                }
                continue;
            }
            if !self.flipped
                && record.content_type == ContentType::ApplicationData
                && self.views[i].encrypted
            {
                // Flip the low bit of a byte in the middle of the ciphertext: the MAC (or the
                // GCM tag) no longer matches, whatever the cipher.
                let at = tls::record::HEADER_LEN + record.payload.len() / 2;
                if let Some(b) = raw.get_mut(at) {
                    *b ^= 1;
                    self.flipped = true;
                    self.report.line(&format!(
                        "< flipped one bit (byte {} of {}) of the server's first application_data \
                         record: the client must refuse it (bad_record_mac) and show nothing",
                        at - tls::record::HEADER_LEN,
                        record.payload.len()
                    ));
                }
            }
            out.extend_from_slice(&raw);
        }
    }

    fn end(&mut self, dir: Dir, out: &mut Vec<u8>) {
        if dir == Dir::Down && !self.broken[1] {
            // A truncated last record is passed on as truncated.
            out.extend_from_slice(&self.down.take_rest());
        }
    }

    fn summary(&self) -> String {
        format!(
            "tls, {}",
            if self.flipped {
                "one bit flipped"
            } else {
                "no application data to flip"
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(f: &mut BannerInjector, request: &[u8], response: &[u8], step: usize) -> Vec<u8> {
        let mut sent = Vec::new();
        f.data(Dir::Up, request, &mut sent);
        let mut got = Vec::new();
        for part in response.chunks(step) {
            f.data(Dir::Down, part, &mut got);
        }
        f.end(Dir::Down, &mut got);
        got
    }

    #[test]
    fn the_banner_goes_after_the_body_tag_and_content_length_follows() {
        let page = b"<html><head></head><BODY class=x><p>hi</p></body></html>";
        let response = [
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n",
                page.len()
            )
            .as_bytes(),
            page,
        ]
        .concat();
        for step in [1, 4, 1000] {
            let mut f = BannerInjector::new(Report::new(0));
            let got = run(
                &mut f,
                b"GET / HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n",
                &response,
                step,
            );
            let text = String::from_utf8(got).unwrap();
            let expected_body =
                format!("<html><head></head><BODY class=x>{BANNER}<p>hi</p></body></html>");
            assert!(text.ends_with(&expected_body), "step {step}: {text}");
            assert!(text.contains(&format!("Content-Length: {}\r\n", expected_body.len())));
        }
    }

    #[test]
    fn chunked_and_close_delimited_pages_get_it_too_and_other_types_do_not() {
        let mut f = BannerInjector::new(Report::new(0));
        let got = run(
            &mut f,
            b"GET / HTTP/1.1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n<body>\r\n2\r\nok\r\n0\r\n\r\n",
            3,
        );
        // Re-chunked as it streamed through: decode it to compare the content.
        let mut framer = Framer::new(Kind::Response);
        framer.expect_response(false);
        let (mut content, mut ends) = (Vec::new(), 0);
        framer.feed(&got, &mut |p| match p {
            Piece::Data(d) => content.extend_from_slice(d),
            Piece::End => ends += 1,
            _ => {}
        });
        assert_eq!(
            String::from_utf8(content).unwrap(),
            format!("<body>{BANNER}ok")
        );
        assert_eq!(ends, 1);
        assert!(got.ends_with(b"\r\n0\r\n\r\n"));
        let mut f = BannerInjector::new(Report::new(0));
        let got = run(
            &mut f,
            b"GET / HTTP/1.0\r\n\r\n",
            b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\nno body tag",
            5,
        );
        assert!(String::from_utf8(got)
            .unwrap()
            .ends_with(&format!("no body tag{BANNER}")));
        let mut f = BannerInjector::new(Report::new(0));
        let plain =
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\n<body>";
        assert_eq!(run(&mut f, b"GET / HTTP/1.1\r\n\r\n", plain, 2), plain);
    }

    #[test]
    fn one_bit_of_the_first_server_application_data_record_flips() {
        let mut f = BitFlipper::new(Report::new(0));
        let mut sink = Vec::new();
        f.data(Dir::Up, &[22, 3, 3, 0, 1, 0], &mut sink);
        let server = [
            &[20u8, 3, 3, 0, 1, 1][..],
            &[23, 3, 3, 0, 4, 0, 0, 0, 0],
            &[23, 3, 3, 0, 2, 0, 0],
        ]
        .concat();
        let mut got = Vec::new();
        f.data(Dir::Down, &server, &mut got);
        let mut expected = server.clone();
        expected[6 + 5 + 2] ^= 1;
        assert_eq!(got, expected);
    }

    proptest::proptest! {
        /// Hostile bytes either way never panic the injector or the bit flipper, and the
        /// sniffer forwards them unchanged.
        #[test]
        fn hostile_bytes_never_panic(
            up in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            down in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            step in 1usize..50,
            tls_first in proptest::prelude::any::<bool>(),
        ) {
            let mut up = up;
            if tls_first {
                up.insert(0, 22);
            }
            let mut filters: Vec<Box<dyn Filter>> = vec![
                Box::new(Inject::new(Report::new(0))),
                Box::new(BitFlipper::new(Report::new(0))),
                Box::new(BannerInjector::new(Report::new(0))),
            ];
            for f in &mut filters {
                let mut out = Vec::new();
                for part in up.chunks(step) {
                    f.data(Dir::Up, part, &mut out);
                }
                for part in down.chunks(step) {
                    f.data(Dir::Down, part, &mut out);
                }
                f.end(Dir::Down, &mut out);
                f.end(Dir::Up, &mut out);
                f.finish();
            }
            let mut sniff = crate::mitm::sniff::Sniff::new(Report::new(0), 64);
            let (mut up_out, mut down_out) = (Vec::new(), Vec::new());
            for part in up.chunks(step) {
                sniff.data(Dir::Up, part, &mut up_out);
            }
            for part in down.chunks(step) {
                sniff.data(Dir::Down, part, &mut down_out);
            }
            sniff.finish();
            proptest::prop_assert_eq!(up_out, up);
            proptest::prop_assert_eq!(down_out, down);
        }
    }
}
