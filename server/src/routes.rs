//! Answering one request: the directory (`--root`) or the built-in front page, the headers
//! every response carries, and the access-log record written when the body is done.

use crate::response::{self, Body};
use crate::site::{self, TlsDetails};
use crate::{files, log};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Shared by every connection.
pub(crate) struct App {
    pub(crate) tls: Arc<tls::ServerConfig>,
    /// Canonical `--root`, or `None` for the built-in site.
    pub(crate) root: Option<PathBuf>,
    pub(crate) verbose: bool,
    pub(crate) https_url: String,
    pub(crate) key_log_path: Option<PathBuf>,
    /// What the lab pages (`/lab/`) show of the server itself.
    pub(crate) lab: crate::lab::Lab,
    /// The gallery's listeners, (kind, URL), for `/gallery.json` and the front page.
    pub(crate) gallery: Vec<(String, String)>,
    /// Set on a gallery listener: the broken certificate(s) it serves.
    pub(crate) station: Option<Arc<crate::gallery::Station>>,
    /// The main listener's URL (gallery pages link back to it).
    pub(crate) main_url: String,
}

/// What a request handler knows about its connection.
pub(crate) struct Peer {
    pub(crate) addr: SocketAddr,
    pub(crate) tls: Option<TlsDetails>,
    /// The ClientKeyExchange message as received (with its header), for the lab's RSA page.
    pub(crate) client_key_exchange: Vec<u8>,
}

impl App {
    /// The configuration for the next handshake (a gallery listener may switch certificates).
    pub(crate) fn handshake_config(&self) -> Arc<tls::ServerConfig> {
        self.station
            .as_ref()
            .and_then(|s| s.config())
            .unwrap_or_else(|| self.tls.clone())
    }

    pub(crate) async fn respond(
        &self,
        req: Request<Incoming>,
        peer: &Peer,
    ) -> Response<log::LoggedBody> {
        let started = Instant::now();
        let request_line = format!(
            "{} {} {:?}",
            req.method(),
            req.uri()
                .path_and_query()
                .map_or_else(|| req.uri().to_string(), |p| p.to_string()),
            req.version()
        );
        let user_agent = req
            .headers()
            .get(header::USER_AGENT)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let referer = req
            .headers()
            .get(header::REFERER)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let head = req.method() == Method::HEAD;
        let mut res = self
            .route(&req, peer, &request_line, user_agent.as_deref())
            .await;
        res.headers_mut()
            .insert(header::SERVER, HeaderValue::from_static(SERVER_NAME));
        res.headers_mut().insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        let (parts, body) = res.into_parts();
        // HEAD: same headers (Content-Length included), no body.
        let body = if head { response::empty() } else { body };
        let record = log::AccessRecord {
            peer: peer.addr,
            request_line,
            status: parts.status.as_u16(),
            user_agent,
            referer,
            suite: peer.tls.as_ref().map(|t| t.info.suite.openssl_name),
            sni: peer.tls.as_ref().and_then(|t| t.info.server_name.clone()),
            resumed: peer
                .tls
                .as_ref()
                .and_then(|t| t.info.resumed.map(log::resumed_name)),
            client_subject: peer
                .tls
                .as_ref()
                .and_then(|t| crate::client_identity::subject(&t.info)),
            started,
        };
        Response::from_parts(parts, log::LoggedBody::new(body, record))
    }

    async fn route(
        &self,
        req: &Request<Incoming>,
        peer: &Peer,
        request_line: &str,
        user_agent: Option<&str>,
    ) -> Response<Body> {
        let path = req.uri().path();
        if let Some(station) = &self.station {
            return gallery_route(station, req, &self.main_url);
        }
        match &self.root {
            Some(root) => files::serve(root, req.method(), path, req.uri().query(), req.headers()),
            None => {
                if req.method() != Method::GET && req.method() != Method::HEAD {
                    return response::method_not_allowed();
                }
                if let Some(res) = crate::lab::route(&self.lab, path, req.uri().query(), peer) {
                    return res;
                }
                if path == "/gallery.json" {
                    let body = crate::gallery::json(&self.gallery);
                    let mut res = Response::new(response::full(body.clone()));
                    res.headers_mut().insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    );
                    res.headers_mut()
                        .insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
                    return res;
                }
                if path != "/" && path != "/index.html" {
                    return response::not_found();
                }
                let visit = site::Visit {
                    peer: peer.addr,
                    tls: peer.tls.as_ref(),
                    request_line,
                    user_agent,
                    https_url: Some(&self.https_url),
                };
                let page =
                    crate::lab::add_front_page_links(site::front_page(&visit), &self.gallery);
                let mut res = response::html(StatusCode::OK, page);
                // Rendered from this very connection: never reuse a cached copy.
                res.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                res
            }
        }
    }
}

/// A gallery listener: its page for GET/HEAD anywhere, and `POST /switch` on the one whose
/// certificate changes.
fn gallery_route(
    station: &crate::gallery::Station,
    req: &Request<Incoming>,
    main_url: &str,
) -> Response<Body> {
    if req.method() == Method::POST && req.uri().path() == "/switch" && station.configs.len() > 1 {
        station.switch();
        let mut res = response::error(StatusCode::SEE_OTHER, "Switched: reload the page.");
        res.headers_mut()
            .insert(header::LOCATION, HeaderValue::from_static("/"));
        return res;
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return response::method_not_allowed();
    }
    let mut res = response::html(StatusCode::OK, crate::gallery::page(station, main_url));
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

const SERVER_NAME: &str = concat!("server/", env!("CARGO_PKG_VERSION"));
