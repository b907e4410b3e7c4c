//! Static files from `--root` (RFC 9110): GET/HEAD, `index.html`, an HTML directory listing,
//! MIME types by extension, a single byte range (§14; several ranges get the whole file),
//! and Last-Modified / ETag validators (§13) that turn a repeat request into
//! `304 Not Modified`.
//!
//! Confinement: the request path is percent-decoded once, `..` is refused outright (never
//! resolved), dot-files are hidden, and the file's canonical path (all symlinks followed) must
//! still lie under the canonical root, so a symlink pointing outside is refused as well — and
//! left out of directory listings, which would otherwise show its target's size and date.
//!
//! File I/O is done inline, on the connection's task, as nginx does without `aio threads`: a
//! read from the page cache takes microseconds, while a hop to tokio's blocking pool per 16 KiB
//! chunk cost more than the encryption (a 1 GiB download spent most of its time in futex
//! wake-ups). A file on a slow network mount would stall one worker thread for that read.
//! Small files that have not changed are answered from memory (`file_cache`), checked
//! against the same `lstat` the confinement makes.

use crate::file_cache::{self, Validators};
use crate::html;
use crate::response::{self, Body};
use bytes::BytesMut;
use hyper::body::Bytes;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Response, StatusCode};
use std::fs::File;
use std::fs::Metadata;
use std::io;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

/// Entries shown in one directory listing at most (the page stays a page).
const MAX_LISTING: usize = 10_000;
/// Bytes read from a file for the first body frame: small, since a client that stops reading
/// pins one frame in hyper's buffer (issue #20: small memory per connection).
const FIRST_CHUNK: usize = 16 * 1024;
/// Frames double up to this while the client keeps taking them: the TLS stream then gets two
/// full records per write and seals them side by side (a CBC chain is serial within a record,
/// two chains run at once — issue #17). Larger frames seal faster still (four records: CBC
/// downloads another ~1.5× faster) but a reader that stops mid-download would pin them.
const CHUNK: usize = 32 * 1024;
/// Files up to this size are sent from memory in one piece.
const SMALL_FILE: u64 = 16 * 1024;

/// Why a path is not served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not a path we can even parse (`%` without two hex digits, not UTF-8, NUL).
    BadRequest,
    /// An attempt to leave the root (`..`, a symlink pointing outside).
    Forbidden,
    NotFound,
}

/// Answer a request for `raw_path` (the request target's path, still percent-encoded) under
/// `root`, which must be canonical (`std::fs::canonicalize`).
pub fn serve(
    root: &Path,
    method: &Method,
    raw_path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Response<Body> {
    if method != Method::GET && method != Method::HEAD {
        return response::method_not_allowed();
    }
    let segments = match request_segments(raw_path) {
        Ok(s) => s,
        Err(r) => return refusal_response(r),
    };
    let (path, meta) = match locate(root, &segments) {
        Ok(found) => found,
        Err(r) => return refusal_response(r),
    };
    if meta.is_dir() {
        if !raw_path.ends_with('/') {
            // Relative links in the listing or index.html only work under a trailing slash.
            let mut location = slash_redirect(&segments);
            if let Some(q) = query {
                location.push('?');
                location.push_str(q);
            }
            return response::redirect(&location);
        }
        let index = path.join("index.html");
        if let Ok((index_path, index_meta)) = confine(root, &index) {
            if index_meta.is_file() {
                return serve_file(&index_path, &index_meta, headers);
            }
        }
        return listing(root, &path, raw_path);
    }
    if meta.is_file() {
        return serve_file(&path, &meta, headers);
    }
    refusal_response(Refusal::Forbidden)
}

/// Split a request path into the segments to join under the root, refusing anything that
/// could climb out of it.
pub fn request_segments(raw_path: &str) -> Result<Vec<String>, Refusal> {
    if !raw_path.starts_with('/') {
        return Err(Refusal::BadRequest);
    }
    let decoded = html::percent_decode(raw_path).ok_or(Refusal::BadRequest)?;
    let text = String::from_utf8(decoded).map_err(|_| Refusal::BadRequest)?;
    if text.contains('\0') {
        return Err(Refusal::BadRequest);
    }
    let mut segments = Vec::new();
    for segment in text.split('/') {
        match segment {
            "" | "." => {}
            // Refused, not resolved: `/a/../b` is never a legitimate link we made.
            ".." => return Err(Refusal::Forbidden),
            // A backslash is a separator on Windows; refuse it everywhere for one behaviour.
            s if s.contains('\\') => return Err(Refusal::Forbidden),
            // Dot-files (.git, .env) are hidden, as caddy and miniserve do by default.
            s if s.starts_with('.') => return Err(Refusal::NotFound),
            s => segments.push(s.to_string()),
        }
    }
    Ok(segments)
}

/// Where a directory asked for without its trailing slash redirects: rebuilt from the decoded
/// segments, so it is always one path on this host. Echoing `//images` back as `//images/`
/// would be a scheme-relative URL, which a browser reads as the host `images`.
pub fn slash_redirect(segments: &[String]) -> String {
    let mut location = String::from("/");
    for s in segments {
        location.push_str(&html::encode_segment(s));
        location.push('/');
    }
    location
}

/// Parse a `Range` header against a representation of `len` bytes (RFC 9110 §14.1.2).
/// `None`: ignore it and send everything (other units, several ranges, bad syntax).
///
/// Several ranges (`bytes=0-1,5-6`) get the whole file with 200, which RFC 9110 §14.2 allows
/// (a server may ignore Range): simpler than nginx's multipart/byteranges, and immune to the
/// overlapping-ranges amplification that made Apache cap them (CVE-2011-3192).
/// `Some(Err(()))`: 416. `Some(Ok((first, last)))`: inclusive byte positions.
#[allow(clippy::result_unit_err)]
pub fn parse_range(value: &str, len: u64) -> Option<Result<(u64, u64), ()>> {
    // Range units compare case-insensitively (RFC 9110 §14.1).
    let value = value.trim();
    let spec = value
        .get(..6)
        .filter(|unit| unit.eq_ignore_ascii_case("bytes="))
        .and_then(|_| value.get(6..))?
        .trim();
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        let suffix: u64 = last.parse().ok()?;
        if suffix == 0 || len == 0 {
            return Some(Err(()));
        }
        return Some(Ok((len.saturating_sub(suffix), len - 1)));
    }
    let first: u64 = first.parse().ok()?;
    let last: Option<u64> = if last.is_empty() {
        None
    } else {
        Some(last.parse().ok()?)
    };
    if last.is_some_and(|l| l < first) {
        return None;
    }
    if first >= len {
        return Some(Err(()));
    }
    let last = last.map_or(len - 1, |l| l.min(len - 1));
    Some(Ok((first, last)))
}

/// The Content-Type for a file name (by extension; text types in UTF-8).
pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "txt" | "md" | "rs" | "toml" | "log" | "sh" | "py" | "c" | "h" => {
            "text/plain; charset=utf-8"
        }
        "csv" => "text/csv; charset=utf-8",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "pdf" => "application/pdf",
        "wasm" => "application/wasm",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "wav" => "audio/wav",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "tar" => "application/x-tar",
        "pem" => "application/x-pem-file",
        "crt" | "cer" | "der" => "application/pkix-cert",
        "pcap" | "pcapng" => "application/vnd.tcpdump.pcap",
        _ => "application/octet-stream",
    }
}

/// A file sent in chunks as hyper asks for them (a 50 MiB file never sits in memory): hyper
/// polls for the next chunk only once the previous one is written, so reads are paced by the
/// socket.
pub struct FileBody {
    file: File,
    remaining: u64,
    /// Where the next chunk is read: once hyper has sent (and dropped) the previous chunk, its
    /// allocation is taken back, so a download does not allocate (and fault in) each chunk.
    buf: BytesMut,
    /// The next chunk's size: [`FIRST_CHUNK`], doubling to [`CHUNK`] (hyper asks for the next
    /// chunk only after the previous one went to the TLS stream).
    chunk: usize,
}

impl FileBody {
    pub fn new(file: File, len: u64) -> Self {
        Self {
            file,
            remaining: len,
            buf: BytesMut::new(),
            chunk: FIRST_CHUNK,
        }
    }
}

impl hyper::body::Body for FileBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if this.remaining == 0 {
            return Poll::Ready(None);
        }
        let want = usize::try_from(this.remaining)
            .unwrap_or(usize::MAX)
            .min(this.chunk);
        this.chunk = (this.chunk * 2).min(CHUNK);
        this.buf.clear();
        this.buf.resize(want, 0);
        let filled = match this.file.read(&mut this.buf) {
            Ok(n) => n,
            Err(e) => return Poll::Ready(Some(Err(e))),
        };
        if filled == 0 {
            // The file shrank under us: stop rather than send fewer bytes than we announced.
            return Poll::Ready(Some(Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "file shrank while being sent",
            ))));
        }
        this.buf.truncate(filled);
        this.remaining -= filled as u64;
        let chunk = this.buf.split().freeze();
        Poll::Ready(Some(Ok(hyper::body::Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.remaining)
    }
}

/// Join `segments` under `root` and check that the real path stays inside.
fn locate(root: &Path, segments: &[String]) -> Result<(PathBuf, Metadata), Refusal> {
    let mut path = root.to_path_buf();
    path.extend(segments);
    confine(root, &path)
}

/// The canonical path and metadata of `path`, if it exists and resolves under `root`.
fn confine(root: &Path, path: &Path) -> Result<(PathBuf, Metadata), Refusal> {
    if let Some(found) = without_symlinks(root, path) {
        return found;
    }
    let real = std::fs::canonicalize(path).map_err(|e| io_refusal(&e))?;
    if !real.starts_with(root) {
        return Err(Refusal::Forbidden);
    }
    let meta = std::fs::metadata(&real).map_err(|e| io_refusal(&e))?;
    Ok((real, meta))
}

/// The common case, cheaply: `path` is `root` and plain names, and no component under `root` is
/// a symlink, so `path` is already canonical and inside. One `lstat` per component, where
/// `canonicalize` costs a `readlink` per component of the whole path and a `stat`. `None`:
/// there is a symlink (or an unusual component) on the way; resolve it the careful way.
fn without_symlinks(root: &Path, path: &Path) -> Option<Result<(PathBuf, Metadata), Refusal>> {
    let under = path.strip_prefix(root).ok()?;
    let mut walked = root.to_path_buf();
    let mut meta = None;
    for component in under.components() {
        let std::path::Component::Normal(name) = component else {
            return None;
        };
        walked.push(name);
        match std::fs::symlink_metadata(&walked) {
            Ok(m) if m.file_type().is_symlink() => return None,
            Ok(m) => meta = Some(m),
            Err(e) => return Some(Err(io_refusal(&e))),
        }
    }
    Some(match meta {
        Some(m) => Ok((walked, m)),
        None => std::fs::metadata(root)
            .map(|m| (walked, m))
            .map_err(|e| io_refusal(&e)),
    })
}

fn io_refusal(e: &io::Error) -> Refusal {
    match e.kind() {
        io::ErrorKind::PermissionDenied => Refusal::Forbidden,
        _ => Refusal::NotFound,
    }
}

fn refusal_response(refusal: Refusal) -> Response<Body> {
    match refusal {
        Refusal::BadRequest => response::error(StatusCode::BAD_REQUEST, "That path is malformed."),
        Refusal::Forbidden => response::error(
            StatusCode::FORBIDDEN,
            "That path leads outside the served directory.",
        ),
        Refusal::NotFound => response::not_found(),
    }
}

fn serve_file(path: &Path, meta: &Metadata, headers: &HeaderMap) -> Response<Body> {
    let len = meta.len();
    let cached = if len <= SMALL_FILE {
        file_cache::get(path, meta)
    } else {
        None
    };
    let validators = cached
        .as_ref()
        .map_or_else(|| Validators::of(meta), |c| c.validators.clone());
    let etag = validators.etag.to_str().unwrap_or_default();
    let last_modified = validators.last_modified.to_str().unwrap_or_default();

    if not_modified(headers, etag, validators.mtime) {
        return Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .header(header::LAST_MODIFIED, validators.last_modified.clone())
            .header(header::ETAG, validators.etag.clone())
            .body(response::empty())
            .unwrap_or_else(|_| response::internal_error());
    }

    let range = header_str(headers, &header::RANGE)
        .filter(|_| if_range_matches(headers, etag, last_modified))
        .and_then(|v| parse_range(v, len));
    let (status, first, count) = match range {
        None => (StatusCode::OK, 0, len),
        Some(Ok((first, last))) => (StatusCode::PARTIAL_CONTENT, first, last - first + 1),
        Some(Err(())) => {
            return Response::builder()
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{len}"))
                .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
                .body(response::full("Range not satisfiable\n"))
                .unwrap_or_else(|_| response::internal_error());
        }
    };

    let from_cache = cached.is_some();
    let content = match cached {
        Some(file) => Content::Whole(file.bytes),
        None => {
            let file = match File::open(path) {
                Ok(f) => f,
                Err(e) => return refusal_response(io_refusal(&e)),
            };
            match read_checked(file, len, first, count) {
                Ok(Some(content)) => content,
                Ok(None) => return refusal_response(Refusal::Forbidden),
                Err(_) => return response::internal_error(),
            }
        }
    };
    let body = match content {
        Content::Whole(bytes) => {
            if !from_cache {
                let file = file_cache::Cached {
                    bytes: bytes.clone(),
                    validators: validators.clone(),
                };
                file_cache::keep(path, meta, &file);
            }
            let part = usize::try_from(first)
                .ok()
                .zip(usize::try_from(first + count).ok())
                .filter(|&(start, end)| start <= end && end <= bytes.len());
            match part {
                Some((start, end)) => response::full(bytes.slice(start..end)),
                None => return response::internal_error(),
            }
        }
        Content::Part(bytes) => response::full(bytes),
        Content::Stream(file) => response::boxed(FileBody::new(file, count)),
    };
    let mut builder = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type(path))
        .header(header::CONTENT_LENGTH, count)
        .header(header::LAST_MODIFIED, validators.last_modified)
        .header(header::ETAG, validators.etag)
        .header(header::ACCEPT_RANGES, "bytes");
    if status == StatusCode::PARTIAL_CONTENT {
        builder = builder.header(
            header::CONTENT_RANGE,
            format!("bytes {first}-{}/{len}", first + count - 1),
        );
    }
    builder
        .body(body)
        .unwrap_or_else(|_| response::internal_error())
}

/// Bytes of a file's head searched for a PEM private key (a key, even after a few
/// certificates of a combined file, starts well within this).
const KEY_SNIFF: usize = 64 * 1024;

/// What is sent of a file: all of a small one (a range is sliced from it), a small range of a
/// large one, or the open file positioned at the range's start.
enum Content {
    Whole(Bytes),
    Part(Vec<u8>),
    Stream(File),
}

/// Open `count` bytes from `first` of a file of `len` bytes, unless the start of the file holds
/// a PEM private key block (`-----BEGIN PRIVATE KEY-----`, `RSA PRIVATE KEY`, `ENCRYPTED
/// PRIVATE KEY`…): such a file is never served (`None`), whatever its name or place.
///
/// A small file is read whole in one `read` and checked; its head and body then leave
/// together in one TLS record (a streamed body's first chunk is not ready when hyper flushes
/// the head). A small range of a large file is read before the response starts too.
fn read_checked(mut file: File, len: u64, first: u64, count: u64) -> io::Result<Option<Content>> {
    let to_usize = |n: u64| usize::try_from(n).map_err(|_| io::Error::other("file too large"));
    if len <= SMALL_FILE {
        let mut whole = vec![0u8; to_usize(len)?];
        file.read_exact(&mut whole)?;
        if is_private_key_pem(&whole) {
            return Ok(None);
        }
        return Ok(Some(Content::Whole(Bytes::from(whole))));
    }
    let mut head = Vec::with_capacity(KEY_SNIFF);
    (&mut file).take(KEY_SNIFF as u64).read_to_end(&mut head)?;
    if is_private_key_pem(&head) {
        return Ok(None);
    }
    file.seek(io::SeekFrom::Start(first))?;
    if count <= SMALL_FILE {
        let mut bytes = vec![0u8; to_usize(count)?];
        file.read_exact(&mut bytes)?;
        return Ok(Some(Content::Part(bytes)));
    }
    Ok(Some(Content::Stream(file)))
}

/// A line `-----BEGIN <anything> PRIVATE KEY-----` anywhere in `text`.
pub fn is_private_key_pem(text: &[u8]) -> bool {
    text.split(|&b| b == b'\n').any(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        line.starts_with(b"-----BEGIN ") && line.ends_with(b"PRIVATE KEY-----")
    })
}

/// RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since when both are sent.
fn not_modified(headers: &HeaderMap, etag: &str, mtime: u64) -> bool {
    if let Some(tags) = header_str(headers, &header::IF_NONE_MATCH) {
        return tags
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == "*" || t == etag);
    }
    header_str(headers, &header::IF_MODIFIED_SINCE)
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .and_then(|since| since.duration_since(UNIX_EPOCH).ok())
        .is_some_and(|since| mtime <= since.as_secs())
}

/// A Range with If-Range applies only if the validator still matches (else: whole file).
fn if_range_matches(headers: &HeaderMap, etag: &str, last_modified: &str) -> bool {
    match header_str(headers, &header::IF_RANGE) {
        None => true,
        Some(v) => v.trim() == etag || v.trim() == last_modified,
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &header::HeaderName) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v: &HeaderValue| v.to_str().ok())
}

struct Entry {
    name: String,
    is_dir: bool,
    len: u64,
    modified: Option<SystemTime>,
}

fn listing(root: &Path, dir: &Path, raw_path: &str) -> Response<Body> {
    let mut entries = Vec::new();
    let reader = match std::fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) => return refusal_response(io_refusal(&e)),
    };
    for entry in reader.map_while(Result::ok) {
        if entries.len() >= MAX_LISTING {
            break;
        }
        // A name that is not UTF-8 could not be requested (we decode paths as UTF-8): skip it.
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        // Listed only if it could be served: a symlink out of the root (or a broken one) is
        // left out, so the page never shows the size or date of a file outside. A link that
        // stays inside is listed as what it points to.
        let Ok((_, meta)) = confine(root, &entry.path()) else {
            continue;
        };
        entries.push(Entry {
            name,
            is_dir: meta.is_dir(),
            len: meta.len(),
            modified: meta.modified().ok(),
        });
    }
    entries.sort_by(|a, b| b.is_dir.cmp(&a.is_dir).then_with(|| a.name.cmp(&b.name)));

    let shown_path = html::percent_decode(raw_path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|| raw_path.to_string());
    let mut rows = String::new();
    if raw_path != "/" {
        rows.push_str("<tr><td><a href=\"../\">../</a></td><td class=\"size\"></td><td class=\"date\"></td></tr>\n");
    }
    for e in &entries {
        let slash = if e.is_dir { "/" } else { "" };
        let size = if e.is_dir {
            "-".to_string()
        } else {
            human_size(e.len)
        };
        let date = e.modified.map(httpdate::fmt_http_date).unwrap_or_default();
        rows.push_str(&format!(
            "<tr><td><a href=\"{}{slash}\">{}{slash}</a></td><td class=\"size\">{}</td><td class=\"date\">{}</td></tr>\n",
            html::encode_segment(&e.name),
            html::escape(&e.name),
            html::escape(&size),
            html::escape(&date),
        ));
    }
    let title = format!("Index of {shown_path}");
    let body = format!(
        "<main class=\"narrow\"><h1>{}</h1><section><table class=\"listing\">\n\
         <tr><th>Name</th><th>Size</th><th>Last modified</th></tr>\n{rows}</table></section></main>",
        html::escape(&title)
    );
    response::html(StatusCode::OK, html::page(&title, &body))
}

fn human_size(len: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if len < 1024 {
        return format!("{len} B");
    }
    let mut value = len as f64 / 1024.0;
    let mut unit = UNITS[0];
    for next in &UNITS[1..] {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_refuse_climbing_out() {
        assert_eq!(
            request_segments("/a/b.txt"),
            Ok(vec!["a".into(), "b.txt".into()])
        );
        assert_eq!(
            request_segments("//a/./b/"),
            Ok(vec!["a".into(), "b".into()])
        );
        assert_eq!(request_segments("/../etc/passwd"), Err(Refusal::Forbidden));
        assert_eq!(
            request_segments("/a/%2e%2e/%2E%2E/x"),
            Err(Refusal::Forbidden)
        );
        assert_eq!(request_segments("/a%2f..%2fb"), Err(Refusal::Forbidden));
        assert_eq!(request_segments("/..%5csecret"), Err(Refusal::Forbidden));
        assert_eq!(request_segments("/.git/config"), Err(Refusal::NotFound));
        assert_eq!(request_segments("/a%00b"), Err(Refusal::BadRequest));
        assert_eq!(request_segments("/%zz"), Err(Refusal::BadRequest));
        assert_eq!(request_segments("/%ff"), Err(Refusal::BadRequest));
        assert_eq!(request_segments("*"), Err(Refusal::BadRequest));
        // Double encoding decodes once: `%2e` stays a literal (harmless) file name.
        assert_eq!(request_segments("/%252e%252e"), Ok(vec!["%2e%2e".into()]));
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(parse_range("bytes=0-9", 100), Some(Ok((0, 9))));
        assert_eq!(parse_range("bytes=90-", 100), Some(Ok((90, 99))));
        assert_eq!(parse_range("bytes=90-500", 100), Some(Ok((90, 99))));
        assert_eq!(parse_range("bytes=-10", 100), Some(Ok((90, 99))));
        assert_eq!(parse_range("bytes=-500", 100), Some(Ok((0, 99))));
        assert_eq!(parse_range("bytes=100-", 100), Some(Err(())));
        assert_eq!(parse_range("bytes=-0", 100), Some(Err(())));
        assert_eq!(parse_range("bytes=0-0", 0), Some(Err(())));
        assert_eq!(parse_range("bytes=5-1", 100), None);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
        assert_eq!(parse_range("Bytes=0-1", 100), Some(Ok((0, 1))));
        assert_eq!(parse_range("bytés=0-1", 100), None);
        assert_eq!(parse_range("bytes=x-1", 100), None);
    }

    #[test]
    fn slash_redirects_stay_on_this_host() {
        for raw in ["//images", "///images", "/./images", "//images/../x"] {
            if let Ok(segments) = request_segments(raw) {
                let location = slash_redirect(&segments);
                assert!(
                    location.starts_with('/') && !location.starts_with("//"),
                    "{raw} -> {location}"
                );
            }
        }
        assert_eq!(
            slash_redirect(&request_segments("//sub dir").unwrap_or_default()),
            "/sub%20dir/"
        );
    }

    #[test]
    fn private_key_blocks_are_recognised() {
        assert!(is_private_key_pem(b"-----BEGIN PRIVATE KEY-----\nMIIE\n"));
        assert!(is_private_key_pem(
            b"-----BEGIN CERTIFICATE-----\r\nMII\r\n-----END CERTIFICATE-----\r\n-----BEGIN RSA PRIVATE KEY-----\r\n"
        ));
        assert!(is_private_key_pem(
            b"x\n-----BEGIN ENCRYPTED PRIVATE KEY-----"
        ));
        assert!(!is_private_key_pem(b"-----BEGIN CERTIFICATE-----\nMII\n"));
        assert!(!is_private_key_pem(
            b"see -----BEGIN PRIVATE KEY----- in the docs"
        ));
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(
            content_type(Path::new("a/INDEX.HTML")),
            "text/html; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("a.png")), "image/png");
        assert_eq!(content_type(Path::new("noext")), "application/octet-stream");
    }

    #[test]
    fn sizes_read_like_ls_h() {
        assert_eq!(human_size(10), "10 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(50 * 1024 * 1024), "50.0 MiB");
    }

    proptest::proptest! {
        #[test]
        fn parse_range_never_panics_and_stays_in_bounds(v in "\\PC*", len in 0u64..1_000_000) {
            if let Some(Ok((first, last))) = parse_range(&v, len) {
                proptest::prop_assert!(first <= last && last < len);
            }
        }

        /// Headers shaped like real ones (`bytes=`, digits, `-`, `,`, spaces, huge numbers),
        /// which an arbitrary string almost never is: every answer is checked against a
        /// model of RFC 9110 §14.1.2.
        #[test]
        fn parse_range_agrees_with_the_rfc_on_range_shaped_headers(
            first in proptest::option::of(0u64..2_000),
            last in proptest::option::of(0u64..2_000),
            huge in proptest::bool::weighted(0.1),
            more in proptest::bool::weighted(0.2),
            unit in proptest::sample::select(vec!["bytes=", "bytes= ", "Bytes=", "items="]),
            // Empty and one-byte files are where off-by-ones live: draw them often.
            len in proptest::prop_oneof![proptest::strategy::Just(0u64), proptest::strategy::Just(1), 2u64..1_500],
        ) {
            let first_text = first.map(|f| if huge { format!("{f}99999999999999999999") } else { f.to_string() });
            let spec = format!(
                "{unit}{}-{}{}",
                first_text.clone().unwrap_or_default(),
                last.map(|l| l.to_string()).unwrap_or_default(),
                if more { ",0-1" } else { "" }
            );
            let got = parse_range(&spec, len);
            let expected = if unit == "items=" || more || (first.is_none() && last.is_none()) || (huge && first.is_some()) {
                None
            } else {
                match (first, last) {
                    (None, Some(0)) => Some(Err(())),
                    (None, Some(_)) if len == 0 => Some(Err(())),
                    (None, Some(n)) => Some(Ok((len.saturating_sub(n), len - 1))),
                    (Some(f), Some(l)) if l < f => None,
                    (Some(f), _) if f >= len => Some(Err(())),
                    (Some(f), l) => Some(Ok((f, l.map_or(len - 1, |l| l.min(len - 1))))),
                    (None, None) => None,
                }
            };
            proptest::prop_assert_eq!(got, expected, "{}", spec);
        }

        #[test]
        fn segments_never_contain_dot_dot(raw in "/[a-z./%2eE5cC]{0,40}") {
            if let Ok(segments) = request_segments(&raw) {
                for s in segments {
                    proptest::prop_assert!(s != ".." && s != "." && !s.contains('/') && !s.is_empty());
                }
            }
        }
    }
}
