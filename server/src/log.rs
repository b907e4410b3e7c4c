//! What the server logs on stderr: one access-log line per
//! request — nginx's `combined` format plus duration and the TLS suite — and one line per
//! failed handshake naming the alert.

use crate::response::Body;
use crate::site::TlsDetails;
use hyper::body::{Body as _, Bytes, Frame, SizeHint};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Write one log line to stderr. Unlike `eprintln!`, a closed stderr does not panic: losing
/// the log must not take connections down. On a worker thread (see [`batch_this_thread`]) the
/// line joins the thread's batch; elsewhere it is written at once.
pub fn emit(line: &str) {
    let batched = BATCH.with(|batch| {
        let Ok(mut batch) = batch.try_borrow_mut() else {
            return false;
        };
        let Some(batch) = batch.as_mut() else {
            return false;
        };
        batch.push(line);
        true
    });
    if !batched {
        // One write(2) per line: stderr is unbuffered, and `writeln!` would make two (the
        // line, then the newline), which also lets lines from two threads interleave.
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        write_stderr(&bytes);
    }
}

fn write_stderr(bytes: &[u8]) {
    use std::io::Write as _;
    let _ = std::io::stderr().lock().write_all(bytes);
}

/// The lines a worker thread has logged and not yet written.
///
/// Under load a worker serves a burst of requests per wake-up; writing each line as it comes
/// cost a `write(2)` per request and, with two workers, a futex wake-up whenever both wanted
/// stderr's lock at once (about every other request, issue #17). A batch is written whole
/// when the worker runs out of work (tokio's park hook, [`flush_this_thread`]), so an idle
/// server's line is out as soon as its request is done; and, for a worker that never runs
/// out, when it reaches [`BATCH_BYTES`] or its oldest line is [`BATCH_AGE`] old. Lines stay
/// whole and in order per thread, as before.
struct Batch {
    bytes: Vec<u8>,
    oldest: Option<Instant>,
}

/// A batch this big is written at once (a few hundred lines).
pub const BATCH_BYTES: usize = 32 * 1024;
/// No line waits longer than this on a busy worker.
pub const BATCH_AGE: Duration = Duration::from_secs(1);

impl Batch {
    fn push(&mut self, line: &str) {
        self.bytes.extend_from_slice(line.as_bytes());
        self.bytes.push(b'\n');
        let oldest = *self.oldest.get_or_insert_with(Instant::now);
        if self.bytes.len() >= BATCH_BYTES || oldest.elapsed() >= BATCH_AGE {
            self.write();
        }
    }

    fn write(&mut self) {
        if !self.bytes.is_empty() {
            write_stderr(&self.bytes);
            self.bytes.clear();
        }
        self.oldest = None;
    }
}

thread_local! {
    static BATCH: std::cell::RefCell<Option<Batch>> = const { std::cell::RefCell::new(None) };
}

/// From now on, lines logged on this thread are batched; the thread must call
/// [`flush_this_thread`] when it runs out of work and before it ends.
pub fn batch_this_thread() {
    BATCH.with(|batch| {
        if let Ok(mut batch) = batch.try_borrow_mut() {
            batch.get_or_insert_with(|| Batch {
                bytes: Vec::with_capacity(BATCH_BYTES),
                oldest: None,
            });
        }
    });
}

/// Write the lines this thread has batched.
pub fn flush_this_thread() {
    BATCH.with(|batch| {
        if let Ok(mut batch) = batch.try_borrow_mut() {
            if let Some(batch) = batch.as_mut() {
                batch.write();
            }
        }
    });
}

/// What one access-log line needs, gathered when the response is made.
pub struct AccessRecord {
    pub peer: SocketAddr,
    pub request_line: String,
    pub status: u16,
    pub user_agent: Option<String>,
    pub referer: Option<String>,
    /// OpenSSL's name of the suite, `None` on plain HTTP.
    pub suite: Option<&'static str>,
    pub sni: Option<String>,
    /// How the session was resumed (`id`, `ticket`), `None` after a full handshake.
    pub resumed: Option<&'static str>,
    /// The subject of the client's certificate (mutual TLS), when it sent one.
    pub client_subject: Option<String>,
    pub started: Instant,
}

impl AccessRecord {
    /// `127.0.0.1:50312 - - [25/Nov/2026:00:45:23 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.5.0" 1.9ms tls=1.2 cipher=AES128-SHA256 sni=localhost`
    /// Every peer-chosen field (request line, Referer, User-Agent, SNI) is escaped: one request
    /// is one line, and it cannot forge another or drive the terminal reading the log.
    pub fn line(&self, bytes: u64, complete: bool) -> String {
        use std::fmt::Write as _;
        // One String, written in order: this runs for every request.
        let mut line = String::with_capacity(256);
        let _ = write!(line, "{} - - [", self.peer);
        with_common_log_now(|date| line.push_str(date));
        line.push_str("] \"");
        push_peer_field(&mut line, self.request_line.as_bytes());
        let _ = write!(line, "\" {} {bytes} \"", self.status);
        push_quoted(&mut line, self.referer.as_deref());
        line.push_str("\" \"");
        push_quoted(&mut line, self.user_agent.as_deref());
        let ms = self.started.elapsed().as_secs_f64() * 1000.0;
        let _ = write!(line, "\" {ms:.1}ms ");
        match self.suite {
            Some(suite) => {
                let _ = write!(line, "tls=1.2 cipher={suite} sni=");
                push_quoted(&mut line, self.sni.as_deref());
                if let Some(by) = self.resumed {
                    let _ = write!(line, " resumed={by}");
                }
            }
            None => line.push_str("tls=- (plain HTTP)"),
        }
        // The client certificate's subject is chosen by whoever holds the certificate: escaped.
        if let Some(subject) = &self.client_subject {
            line.push_str(" client=\"");
            push_peer_field(&mut line, subject.as_bytes());
            line.push('"');
        }
        if !complete {
            line.push_str(" (aborted)");
        }
        line
    }
}

/// A field that may be absent: `-`, as nginx writes it.
fn push_quoted(line: &mut String, field: Option<&str>) {
    match field {
        Some(v) => push_peer_field(line, v.as_bytes()),
        None => line.push('-'),
    }
}

/// [`peer_field_bytes`] appended to `line`.
fn push_peer_field(line: &mut String, b: &[u8]) {
    if b.iter()
        .all(|&c| (0x20..=0x7e).contains(&c) && c != b'\\' && c != b'"')
    {
        // Nothing to escape (the usual case); the bytes are ASCII.
        line.extend(b.iter().map(|&c| char::from(c)));
    } else {
        line.push_str(&peer_field_bytes(b));
    }
}

/// A peer-chosen string as a log field: [`tls::text::escape_peer`], and `"` as `\x22` (nginx's
/// form) so a quoted field cannot be closed early, nor a space-separated one split.
pub fn peer_field(s: &str) -> String {
    peer_field_bytes(s.as_bytes())
}

/// [`peer_field`] for bytes (an ALPN protocol name need not be UTF-8).
pub fn peer_field_bytes(b: &[u8]) -> String {
    tls::text::escape_peer_bytes(b).replace('"', "\\x22")
}

/// Our own text that may quote a peer (an error's Display): control characters escaped.
pub fn terminal_safe(s: &str) -> String {
    if s.chars().any(is_unsafe_char) {
        tls::text::escape_peer(s)
    } else {
        s.to_string()
    }
}

/// C0/C1 controls, DEL, and the invisible direction and format marks that can reorder or hide
/// what a terminal shows.
fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// A response body that counts what it sends and writes the access-log line when it is done
/// (or dropped, when the client went away first), so bytes and duration cover the transfer.
pub struct LoggedBody {
    inner: Body,
    sent: u64,
    record: Option<AccessRecord>,
}

impl LoggedBody {
    pub fn new(inner: Body, record: AccessRecord) -> Self {
        Self {
            inner,
            sent: 0,
            record: Some(record),
        }
    }

    fn finish(&mut self, complete: bool) {
        if let Some(record) = self.record.take() {
            emit(&record.line(self.sent, complete));
        }
    }
}

impl hyper::body::Body for LoggedBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                let n = frame.data_ref().map_or(0, |d| d.len() as u64);
                self.sent += n;
                if self.inner.is_end_stream() {
                    self.finish(true);
                }
            }
            Poll::Ready(None) => self.finish(true),
            Poll::Ready(Some(Err(_))) => self.finish(false),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for LoggedBody {
    fn drop(&mut self) {
        // Empty bodies (HEAD, 304) are never polled; a partly sent one means the client left.
        let complete = self.inner.is_end_stream();
        self.finish(complete);
    }
}

/// One line for a handshake that did not complete.
pub fn handshake_failed(peer: SocketAddr, elapsed: Duration, why: &str) {
    emit(&format!(
        "{peer} - - [{}] handshake failed after {:.1}ms: {}",
        now_common_log(),
        elapsed.as_secs_f64() * 1000.0,
        terminal_safe(why)
    ));
}

/// With `-v`: what each handshake settled.
pub fn handshake_done(peer: SocketAddr, d: &TlsDetails) {
    emit(&format!(
        "{peer} - - [{}] handshake done in {:.1}ms: TLS 1.2 {} sni={} ems={} etm={} alpn={}{}",
        now_common_log(),
        d.handshake_time.as_secs_f64() * 1000.0,
        d.info.suite.name,
        d.info
            .server_name
            .as_deref()
            .map_or_else(|| "-".to_string(), peer_field),
        yes_no(d.info.extended_master_secret),
        yes_no(d.info.encrypt_then_mac),
        d.info
            .alpn_protocol
            .as_deref()
            .map_or_else(|| "-".to_string(), peer_field_bytes),
        d.info
            .resumed
            .map_or_else(String::new, |by| format!(" resumed={}", resumed_name(by))),
    ));
}

/// `id` or `ticket`: how a resumed session was found, for the log lines.
pub fn resumed_name(by: tls::session::ResumedBy) -> &'static str {
    match by {
        tls::session::ResumedBy::SessionId => "id",
        tls::session::ResumedBy::Ticket => "ticket",
    }
}

/// The send timeout fired: the client stopped reading what we send.
pub fn send_timed_out(peer: SocketAddr, limit: Duration) {
    emit(&format!(
        "{peer} - - [{}] send timed out: no write progress for {}s (the client stopped reading): connection dropped",
        now_common_log(),
        limit.as_secs_f64()
    ));
}

/// A connection dropped to make room for a new one (issue #20: nobody is locked out).
pub fn shed(peer: SocketAddr, why: &str, limit: usize) {
    emit(&format!(
        "{peer} - - [{}] shed: {why} (at the limit of {limit} connections, a new client came): connection dropped",
        now_common_log()
    ));
}

/// A phase deadline fired (request head, keep-alive idle).
pub fn deadline(peer: SocketAddr, what: &str, limit: Duration) {
    emit(&format!(
        "{peer} - - [{}] {what} timed out after {}s: connection dropped",
        now_common_log(),
        limit.as_secs_f64()
    ));
}

pub fn connection_error(peer: SocketAddr, message: &str) {
    emit(&format!(
        "{peer} - - [{}] connection ended: {}",
        now_common_log(),
        terminal_safe(message)
    ));
}

/// The reason a TLS handshake failed, in words, with the alert involved.
pub fn describe_tls_failure(e: &std::io::Error) -> String {
    match tls::stream::tls_error(e) {
        Some(tls::Error::AlertReceived(alert)) => {
            let hint = match alert {
                tls::alert::AlertDescription::UnknownCa
                | tls::alert::AlertDescription::BadCertificate
                | tls::alert::AlertDescription::CertificateUnknown => {
                    " (the client does not trust our certificate: give it the CA with --cacert)"
                }
                _ => "",
            };
            format!("client sent alert {alert}{hint}")
        }
        Some(tls::Error::Truncated) => "client closed the connection mid-handshake".to_string(),
        // The Display of a protocol error names the alert we sent.
        Some(err) => err.to_string(),
        None => format!("I/O error: {e}"),
    }
}

/// How a served connection ended badly, and whether that is worth a line without `-v`.
pub struct ConnectionEnd {
    pub message: String,
    pub important: bool,
}

pub fn describe_connection_error(e: &hyper::Error) -> ConnectionEnd {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return describe_io_error(io);
        }
        source = err.source();
    }
    ConnectionEnd {
        message: e.to_string(),
        important: false,
    }
}

/// Wraps a connection's stream and keeps the first TLS error it returns (a bad MAC, a peer's
/// alert), which hyper would otherwise fold into "connection closed".
pub struct ErrorWatch<IO> {
    inner: IO,
    first: FirstError,
}

/// The handle [`ErrorWatch::new`] gives back, to read the error after the connection ends.
#[derive(Clone, Default)]
pub struct FirstError(Arc<Mutex<Option<ConnectionEnd>>>);

impl FirstError {
    pub fn take(&self) -> Option<ConnectionEnd> {
        self.0.lock().ok().and_then(|mut e| e.take())
    }

    fn record(&self, e: &std::io::Error) {
        if let Ok(mut slot) = self.0.lock() {
            if slot.is_none() {
                *slot = Some(describe_io_error(e));
            }
        }
    }
}

impl<IO> ErrorWatch<IO> {
    pub fn new(inner: IO) -> (Self, FirstError) {
        let first = FirstError::default();
        (
            Self {
                inner,
                first: first.clone(),
            },
            first,
        )
    }

    fn check<T>(&self, polled: Poll<std::io::Result<T>>) -> Poll<std::io::Result<T>> {
        if let Poll::Ready(Err(e)) = &polled {
            self.first.record(e);
        }
        polled
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for ErrorWatch<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        self.check(polled)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for ErrorWatch<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.check(polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.check(polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.check(polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.check(polled)
    }
}

/// An I/O error on an established connection, and whether it deserves a line without `-v`.
fn describe_io_error(io: &std::io::Error) -> ConnectionEnd {
    match tls::stream::tls_error(io) {
        Some(tls::Error::Truncated) => ConnectionEnd {
            message: "client closed without close_notify".to_string(),
            important: false,
        },
        Some(tls::Error::AlertReceived(a)) => ConnectionEnd {
            message: format!("client sent alert {a}"),
            important: *a != tls::alert::AlertDescription::CloseNotify,
        },
        // Something we refused (bad_record_mac: the data was tampered with): always worth a line.
        Some(tls_err) => ConnectionEnd {
            message: describe_tls_failure(io),
            important: tls_err.alert().is_some(),
        },
        None => ConnectionEnd {
            message: format!("I/O error: {io}"),
            important: false,
        },
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// `25/Nov/2026:00:45:23 +0000`, the Common Log Format's time.
fn now_common_log() -> String {
    with_common_log_now(str::to_string)
}

/// The common-log date of now, made once per second per thread (a request's log line needs
/// it, and formatting a date is a visible part of a small request's work).
fn with_common_log_now<T>(f: impl FnOnce(&str) -> T) -> T {
    thread_local! {
        static LAST: std::cell::RefCell<(i64, String)> = const { std::cell::RefCell::new((i64::MIN, String::new())) };
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    LAST.with(|last| match last.try_borrow_mut() {
        Ok(mut last) => {
            if last.0 != now {
                *last = (now, tls::text::common_log_date(now));
            }
            f(&last.1)
        }
        Err(_) => f(&tls::text::common_log_date(now)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_line_has_the_combined_fields_and_tls() {
        let record = AccessRecord {
            peer: SocketAddr::from(([127, 0, 0, 1], 50312)),
            request_line: "GET /a HTTP/1.1".into(),
            status: 200,
            user_agent: Some("curl/8 \"x\"".into()),
            referer: None,
            suite: Some("AES128-SHA256"),
            sni: Some("localhost".into()),
            resumed: None,
            client_subject: None,
            started: Instant::now(),
        };
        let line = record.line(612, true);
        assert!(line.starts_with("127.0.0.1:50312 - - ["), "{line}");
        assert!(
            line.contains("] \"GET /a HTTP/1.1\" 200 612 \"-\" \"curl/8 \\x22x\\x22\" "),
            "{line}"
        );
        assert!(
            line.ends_with("tls=1.2 cipher=AES128-SHA256 sni=localhost"),
            "{line}"
        );
        assert!(record.line(3, false).ends_with("(aborted)"));
    }

    #[test]
    fn peer_strings_cannot_forge_a_line_or_drive_the_terminal() {
        let record = AccessRecord {
            peer: SocketAddr::from(([127, 0, 0, 1], 1)),
            request_line: "GET /\x1b[2J\" 200 0 HTTP/1.1".into(),
            status: 404,
            user_agent: Some("ua\r\n127.0.0.1:2 - - forged".into()),
            referer: Some("r\u{7}".into()),
            suite: Some("AES128-SHA"),
            sni: Some("evil\x1b]0;title\x07 x".into()),
            resumed: None,
            client_subject: None,
            started: Instant::now(),
        };
        let line = record.line(0, true);
        assert!(!line.chars().any(|c| c.is_control()), "{line}");
        assert!(
            line.contains("\"GET /\\x1b[2J\\x22 200 0 HTTP/1.1\" 404"),
            "{line}"
        );
        assert!(line.contains("\"r\\x07\" \"ua\\x0d\\x0a127.0.0.1:2 - - forged\""));
        assert!(line.ends_with("sni=evil\\x1b]0;title\\x07 x"), "{line}");
        // A client certificate's subject: quoted, escaped, after the TLS fields.
        let line = AccessRecord {
            client_subject: Some("CN = \"x\"\n\x1b[31m".into()),
            ..record
        }
        .line(0, true);
        assert!(!line.chars().any(|c| c.is_control()), "{line}");
        assert!(
            line.ends_with(" client=\"CN = \\x22x\\x22\\x0a\\x1b[31m\""),
            "{line}"
        );
        assert_eq!(terminal_safe("fine — ok"), "fine — ok");
        assert_eq!(terminal_safe("a\u{202e}b"), "a\\xe2\\x80\\xaeb");
    }
}
