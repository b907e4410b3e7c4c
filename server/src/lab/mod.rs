//! The lab (`/lab/`): the article's experiments run on this server's own code, on request —
//! a shift cipher and XOR, AES in ECB and CBC mode on a picture, RSA with small numbers and with
//! this server's key, a CA's signature opened with the issuer's public key, hashes and a record
//! whose flipped bit the record layer refuses, and the visitor's own handshake as a diagram.
//!
//! Inputs come from the query string, each value at most [`MAX_VALUE`] bytes of UTF-8; anything
//! else is a 400. Every value put in a page is HTML-escaped.

mod ecb_cbc;
mod handshake;
mod integrity;
pub mod png;
mod rsa;
mod shift_xor;
mod signature;

use crate::html::{escape, page};
use crate::response::{self, Body};
use crate::routes::Peer;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};
use std::fmt::Write as _;

/// The longest value a query parameter may have, in bytes after percent-decoding.
pub const MAX_VALUE: usize = 256;
/// The longest query string accepted at all (a few parameters, each percent-encoded).
const MAX_QUERY: usize = 4 * MAX_VALUE;

/// What the lab pages need from the server besides the visitor's connection.
#[derive(Clone)]
pub(crate) struct Lab {
    /// The chain the server sends, leaf first (DER).
    pub(crate) chain: Vec<Vec<u8>>,
    /// The root CA that issued it, when the server uses its local CA (not sent on the wire).
    pub(crate) root: Option<Vec<u8>>,
}

/// The pages, in order: (path, title, one line about it).
const PAGES: [(&str, &str, &str); 6] = [
    (
        "/lab/shift-xor",
        "1. Shift and XOR",
        "The oldest ciphers, and why counting letters or reusing a key breaks them",
    ),
    (
        "/lab/ecb-cbc",
        "2. ECB vs CBC",
        "The same AES key, two modes: one leaks the picture's outline",
    ),
    (
        "/lab/rsa",
        "3. RSA",
        "m^e mod n with small numbers, then this server's real key",
    ),
    (
        "/lab/signature",
        "4. A CA's signature",
        "Each certificate's signature opened with its issuer's public key",
    ),
    (
        "/lab/integrity",
        "5. Integrity",
        "Hashes, HMAC, and a record with one bit flipped",
    ),
    (
        "/lab/handshake",
        "6. The handshake",
        "Your own connection as a sequence diagram",
    ),
];

/// The lab's answer for `path`, or `None` when the path is not the lab's.
pub(crate) fn route(
    lab: &Lab,
    path: &str,
    query: Option<&str>,
    peer: &Peer,
) -> Option<Response<Body>> {
    let path = path.strip_suffix('/').unwrap_or(path);
    if path != "/lab" && !path.starts_with("/lab/") {
        return None;
    }
    let query = match Query::parse(query.unwrap_or("")) {
        Ok(q) => q,
        Err(why) => return Some(response::error(StatusCode::BAD_REQUEST, &why)),
    };
    let html = match path {
        "/lab" => index(),
        "/lab/shift-xor" => shift_xor::page(&query),
        "/lab/ecb-cbc" => ecb_cbc::page(&query),
        "/lab/rsa" => rsa::page(&query, lab, peer),
        "/lab/signature" => signature::page(lab, peer),
        "/lab/integrity" => integrity::page(&query),
        "/lab/handshake" => handshake::page(peer),
        _ => return Some(response::not_found()),
    };
    let mut res = response::html(StatusCode::OK, html);
    // Computed for this request (fresh keys, this connection): never reuse a cached copy.
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Some(res)
}

/// The front page with the lab and the gallery linked: one line at the top of `<main>`, the
/// list at its end.
pub(crate) fn add_front_page_links(page: String, gallery: &[(String, String)]) -> String {
    let top = format!(
        "<main><p class=\"small\"><b>Try each idea yourself:</b> <a href=\"/lab/\">the lab</a>{}</p>",
        if gallery.is_empty() {
            ""
        } else {
            " · <a href=\"#gallery\">the gallery of broken certificates</a>"
        }
    );
    let page = page.replacen("<main>", &top, 1);
    match page.rfind("</main>") {
        Some(at) => format!(
            "{}{}{}",
            &page[..at],
            front_page_links(gallery),
            &page[at..]
        ),
        None => page,
    }
}

/// The links to the lab (and the gallery) for the front page.
fn front_page_links(gallery: &[(String, String)]) -> String {
    let mut out = String::from(
        "<section><h2>The lab: try each idea on this server's own code</h2><ul class=\"small\">",
    );
    for (href, title, about) in PAGES {
        let _ = write!(
            out,
            "<li><a href=\"{href}\">{title}</a> — {}</li>",
            escape(about)
        );
    }
    out.push_str("</ul>");
    if !gallery.is_empty() {
        out.push_str(
            "<h3 id=\"gallery\">A gallery of broken certificates</h3><p class=\"small\">Each link is a port \
             of this server with a certificate that is wrong in one way: see what your browser \
             says.</p><ul class=\"small\">",
        );
        for (kind, url) in gallery {
            let _ = write!(
                out,
                "<li><a href=\"{}\">{}</a> <span class=\"muted\">{}</span></li>",
                escape(url),
                escape(kind),
                escape(url)
            );
        }
        out.push_str("</ul>");
    }
    out.push_str("</section>\n");
    out
}

fn index() -> String {
    let mut list = String::new();
    for (href, title, about) in PAGES {
        let _ = write!(
            list,
            "<li><a href=\"{href}\"><b>{title}</b></a><br><span class=\"muted\">{}</span></li>",
            escape(about)
        );
    }
    lab_page(
        "The lab",
        "Each page runs an experiment from the article on the code that protects this very page: \
         the same AES, RSA, SHA-256 and record layer. Nothing is precomputed.",
        &format!("<section><ol class=\"steps\">{list}</ol></section>"),
    )
}

/// A lab page: header, navigation between the experiments, the body.
fn lab_page(title: &str, intro: &str, body: &str) -> String {
    let mut nav =
        String::from("<nav class=\"lab\"><a href=\"/\">Home</a> · <a href=\"/lab/\">Lab</a>");
    for (href, t, _) in PAGES {
        let _ = write!(nav, " · <a href=\"{href}\">{}</a>", escape(t));
    }
    nav.push_str("</nav>");
    page(
        title,
        &format!(
            "<header><h1>{}</h1><p>{}</p></header>\n{nav}\n<main>{body}</main>\n<style>{LAB_STYLE}</style>",
            escape(title),
            escape(intro)
        ),
    )
}

/// Styles only the lab uses (the shared frame's stylesheet is in `html.rs`).
pub(crate) const LAB_STYLE: &str = "
nav.lab { max-width: 1200px; margin: 0 auto; padding: .7rem 2rem 0; font-size: .92rem; }
.pics { display: flex; flex-wrap: wrap; gap: 1rem; }
.pics figure { margin: 0; }
.pics img { width: 288px; max-width: 100%; image-rendering: pixelated; border: 1px solid var(--line); display: block; }
figcaption { font-size: .9rem; color: var(--muted); }
.blocks span { display: inline-block; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .8rem;
               padding: .1rem .3rem; margin: .1rem; border-radius: 3px; background: var(--code); word-break: break-all; }
.blocks span.same { background: #f6e0d9; }
form.lab input[type=text] { width: 100%; max-width: 32rem; font: inherit; padding: .3rem; }
form.lab input[type=number] { width: 7rem; font: inherit; padding: .3rem; }
.scroll { overflow-x: auto; }
/* Long error codes and hex (MOZILLA_PKIX_ERROR_…) wrap inside their cell on a phone. */
td, td code { overflow-wrap: anywhere; }
.seq { display: grid; grid-template-columns: 1fr 3fr 1fr; gap: .2rem .5rem; align-items: center; }
.seq .who { font-weight: 600; text-align: center; }
.seq .msg { border-bottom: 2px solid var(--accent); padding: .2rem .4rem; font-size: .9rem; }
.seq .msg.left { border-color: #1451a8; text-align: right; }
.seq .msg.right { text-align: left; }
.ok { color: #135239; font-weight: 600; }
.bad { color: #7a2a12; font-weight: 600; }
@media (max-width: 600px) {
  header, main, nav.lab { padding-left: 1rem; padding-right: 1rem; }
  section { padding: .8rem .9rem; }
  main table:not(.wire) th, main table:not(.wire) td { display: block; width: auto; }
  main table:not(.wire) th { border-bottom: none; padding-bottom: 0; }
  .seq { grid-template-columns: 0 1fr 0; }
  .seq .who { display: none; }
}
";

/// Query parameters: `name=value` pairs, percent- and `+`-decoded, each value bounded.
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub(crate) fn parse(raw: &str) -> Result<Self, String> {
        if raw.len() > MAX_QUERY {
            return Err(format!(
                "The query string is longer than {MAX_QUERY} bytes."
            ));
        }
        let mut pairs = Vec::new();
        for part in raw.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            let name = decode(name)?;
            let value = decode(value)?;
            // Control characters have no place in a form field; refusing them keeps pages clean.
            if value.chars().any(char::is_control) || name.chars().any(char::is_control) {
                return Err("The query string holds control characters.".to_string());
            }
            if value.len() > MAX_VALUE {
                return Err(format!(
                    "The value of {name:?} is longer than {MAX_VALUE} bytes."
                ));
            }
            pairs.push((name, value));
        }
        Ok(Self { pairs })
    }

    /// The first value given for `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `name` as text, or `default` when absent or empty.
    pub(crate) fn text<'a>(&'a self, name: &str, default: &'a str) -> &'a str {
        self.get(name).filter(|v| !v.is_empty()).unwrap_or(default)
    }

    /// `name` as a number in `range`, or `default` when absent, unparsable or out of range.
    pub(crate) fn number(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<u64>,
        default: u64,
    ) -> u64 {
        self.get(name)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|n| range.contains(n))
            .unwrap_or(default)
    }
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte; UTF-8 only.
fn decode(text: &str) -> Result<String, String> {
    let spaced = text.replace('+', " ");
    let bytes = crate::html::percent_decode(&spaced)
        .ok_or_else(|| "A % in the query string is not followed by two hex digits.".to_string())?;
    String::from_utf8(bytes).map_err(|_| "The query string is not UTF-8 text.".to_string())
}

/// A form that sends `fields` back to `action` (GET, so the result is a link one can share).
fn form(action: &str, fields: &[(&str, &str, &str)]) -> String {
    let mut out = format!("<form class=\"lab\" method=\"get\" action=\"{action}\">");
    for (name, label, value) in fields {
        let _ = write!(
            out,
            "<p><label>{}<br><input type=\"text\" name=\"{name}\" maxlength=\"{MAX_VALUE}\" value=\"{}\"></label></p>",
            escape(label),
            escape(value)
        );
    }
    out.push_str("<p><button type=\"submit\">Run it</button></p></form>");
    out
}

/// Hex with a space every byte, for short values shown in full.
fn hex(bytes: &[u8]) -> String {
    tls::text::hex(bytes)
}

/// `text` with its control characters made visible: what a page shows of arbitrary bytes.
fn visible(bytes: &[u8]) -> String {
    escape(&tls::text::escape_peer_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decodes_and_bounds_values() {
        let q = Query::parse("text=a+b%21&n=5&empty").unwrap();
        assert_eq!(q.get("text"), Some("a b!"));
        assert_eq!(q.number("n", 0..=10, 1), 5);
        assert_eq!(q.number("n", 0..=4, 1), 1);
        assert_eq!(q.text("empty", "d"), "d");
        assert!(Query::parse(&format!("t={}", "a".repeat(MAX_VALUE + 1))).is_err());
        assert!(Query::parse("t=%ff").is_err());
        assert!(Query::parse("t=%").is_err());
        assert!(Query::parse(&"a".repeat(MAX_QUERY + 1)).is_err());
        assert!(Query::parse("t=a%00b").is_err());
        assert!(Query::parse("t=a%0Ab").is_err());
    }

    fn lab() -> Lab {
        let pki = tls::testing::pki();
        Lab {
            chain: vec![pki.leaf.der().to_vec()],
            root: Some(pki.root.der().to_vec()),
        }
    }

    proptest::proptest! {
        #[test]
        fn query_parse_never_panics(s in "\\PC*") {
            let _ = Query::parse(&s);
        }

        /// Any query on any page: a page or a 400, never a panic (no connection: plain HTTP).
        #[test]
        fn every_page_answers_any_query(page in 0..PAGES.len(), q in "[a-z%0-9A-F=&+<>\"]{0,80}") {
            let peer = Peer {
                addr: "127.0.0.1:1".parse().unwrap_or_else(|_| unreachable!()),
                tls: None,
                client_key_exchange: Vec::new(),
            };
            let res = route(&lab(), PAGES[page].0, Some(&q), &peer);
            let status = res.map(|r| r.status().as_u16());
            proptest::prop_assert!(matches!(status, Some(200 | 400)), "{status:?}");
        }
    }
}
