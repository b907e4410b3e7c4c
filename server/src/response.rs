//! Response bodies and the small set of canned responses every route shares.

use crate::html;
use http_body_util::{combinators::BoxBody, BodyExt, Empty, Full};
use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};
use std::io;

/// Every response body: a whole page in memory or a file streamed in chunks.
pub type Body = BoxBody<Bytes, io::Error>;

pub fn boxed<B>(body: B) -> Body
where
    B: hyper::body::Body<Data = Bytes, Error = io::Error> + Send + Sync + 'static,
{
    body.boxed()
}

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

pub fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed()
}

/// An HTML page with its length.
pub fn html(status: StatusCode, page: String) -> Response<Body> {
    let len = page.len();
    let mut res = Response::new(full(page));
    *res.status_mut() = status;
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    res
}

/// An error status with a short explanatory page.
pub fn error(status: StatusCode, detail: &str) -> Response<Body> {
    let reason = status.canonical_reason().unwrap_or("Error");
    html(status, html::error_page(status.as_u16(), reason, detail))
}

pub fn not_found() -> Response<Body> {
    error(StatusCode::NOT_FOUND, "Nothing is served at this address.")
}

pub fn method_not_allowed() -> Response<Body> {
    let mut res = error(
        StatusCode::METHOD_NOT_ALLOWED,
        "This server only reads: use GET or HEAD.",
    );
    res.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    res
}

pub fn internal_error() -> Response<Body> {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong on the server.",
    )
}

/// 301 to `location` (a path on this server).
pub fn redirect(location: &str) -> Response<Body> {
    let mut res = error(StatusCode::MOVED_PERMANENTLY, "This page has moved.");
    match HeaderValue::from_str(location) {
        Ok(v) => {
            res.headers_mut().insert(header::LOCATION, v);
            res
        }
        Err(_) => error(StatusCode::BAD_REQUEST, "That path is malformed."),
    }
}
