//! One HTTP/1.1 exchange with hyper over an open connection (TLS or TCP): the request with
//! curl's default headers, the response head as it came on the wire, the body to the output.

use super::{Next, Session};
use crate::cli::{HeaderEdit, Options};
use crate::error::{io_reason, ClientError};
use crate::explain as narration;
use crate::tap::Captured;
use crate::url::Url;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tls::text::escape_peer;

/// How long we wait for hyper to send close_notify after the body is complete.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

impl Session<'_> {
    /// One request on a fresh connection.
    pub(super) async fn request(
        &mut self,
        url: &Url,
        method: &str,
        body: Option<&[u8]>,
    ) -> Result<Next, ClientError> {
        let opts = self.opts;
        let (io, captured) = self.open(url).await?;
        let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
            .title_case_headers(true)
            .handshake::<_, Full<Bytes>>(TokioIo::new(io))
            .await
            .map_err(|e| {
                ClientError::new(56, format!("Recv failure: {}", escape_peer(&e.to_string())))
            })?;
        let conn_task = tokio::spawn(async move {
            let _ = conn.await;
        });

        let request = build_request(opts, url, method, body)?;
        self.report.time_pretransfer = Some(self.elapsed());
        let sent = sender.send_request(request);
        let response = self.within_transfer(sent).await;
        if let Some(head) = lock(&captured).request_head() {
            self.report.size_request = (head.len() + body.map_or(0, <[u8]>::len)) as u64;
        }
        let response = response?.map_err(|e| response_error(&e, false))?;
        self.report.time_starttransfer = Some(self.elapsed());

        let status = response.status().as_u16();
        let raw_head = lock(&captured)
            .response_heads()
            .map(<[u8]>::to_vec)
            .unwrap_or_else(|| synthesize_head(&response));
        self.record_response(&response, raw_head.len());
        let location = response
            .headers()
            .get(hyper::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);

        if opts.fail && status >= 400 {
            return Err(ClientError::http_status(status));
        }
        let redirect = match (&location, (300..400).contains(&status)) {
            (Some(loc), true) => Some(url.join(loc)?),
            _ => None,
        };
        self.report.redirect_url = redirect.as_ref().map(ToString::to_string);

        if opts.include || opts.head {
            self.write_head(raw_head)?;
        }
        let mut body = response.into_body();
        if let (Some(next), true) = (&redirect, opts.location) {
            // Read and drop the redirect's body so the connection ends cleanly.
            while let Some(frame) = self.within_transfer(body.frame()).await? {
                frame.map_err(|e| response_error(&e, true))?;
            }
            drop(sender);
            let _ = tokio::time::timeout(CLOSE_GRACE, conn_task).await;
            return Ok(Next::Redirect(next.clone(), status));
        }

        self.write_body(&mut body).await?;
        drop(sender);
        let _ = tokio::time::timeout(CLOSE_GRACE, conn_task).await;
        if opts.explain {
            if let (Some(local), Some(remote)) = (self.report.local, self.report.remote) {
                narration::print_steps(
                    &[narration::tcp_closed(
                        local,
                        remote,
                        Duration::from_secs(1),
                        self.peer_closed_first
                            .as_ref()
                            .map(|f| f.load(std::sync::atomic::Ordering::Relaxed)),
                    )],
                    self.color,
                );
            }
        }
        Ok(Next::Done)
    }

    /// What `-w` reports of the response head; the body's expected length.
    fn record_response<B>(&mut self, response: &hyper::Response<B>, head_len: usize) {
        self.report.http_code = response.status().as_u16();
        self.report.http_version = Some(match response.version() {
            hyper::Version::HTTP_10 => "1",
            _ => "1.1",
        });
        self.report.size_header += head_len as u64;
        self.report.headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        self.report.content_type = response
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        self.expected = response
            .headers()
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
    }
}

fn lock(c: &Arc<Mutex<Captured>>) -> std::sync::MutexGuard<'_, Captured> {
    c.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The request with curl's default headers, then the user's `-H` edits.
fn build_request(
    opts: &Options,
    url: &Url,
    method: &str,
    body: Option<&[u8]>,
) -> Result<hyper::Request<Full<Bytes>>, ClientError> {
    let mut headers: Vec<(String, String)> = vec![
        ("Host".into(), url.authority()),
        ("User-Agent".into(), opts.user_agent.clone()),
        ("Accept".into(), "*/*".into()),
    ];
    let mut custom = Vec::new();
    for edit in &opts.headers {
        match edit {
            // curl keeps a replaced Host in its place; other replaced defaults move to the
            // end with the user's headers.
            HeaderEdit::Set(name, value) if name.eq_ignore_ascii_case("host") => {
                match headers
                    .iter_mut()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                {
                    Some(host) => *host = (name.clone(), value.clone()),
                    None => headers.insert(0, (name.clone(), value.clone())),
                }
            }
            HeaderEdit::Set(name, value) => {
                headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
                custom.push((name.clone(), value.clone()));
            }
            HeaderEdit::Remove(name) => headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name)),
        }
    }
    headers.extend(custom);
    if let Some(body) = body {
        let has = |headers: &[(String, String)], name: &str| {
            headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        if !has(&headers, "Content-Length") {
            headers.push(("Content-Length".into(), body.len().to_string()));
        }
        if !has(&headers, "Content-Type") {
            headers.push((
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            ));
        }
    }
    let mut builder = hyper::Request::builder()
        .method(method)
        .uri(url.path_and_query.as_str());
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    builder
        .body(Full::new(Bytes::copy_from_slice(body.unwrap_or_default())))
        .map_err(|e| ClientError::new(2, format!("bad request: {e}")))
}

/// A head from hyper's parsed response, when the raw one could not be kept.
fn synthesize_head<B>(response: &hyper::Response<B>) -> Vec<u8> {
    let version = match response.version() {
        hyper::Version::HTTP_10 => "HTTP/1.0",
        _ => "HTTP/1.1",
    };
    let status = response.status();
    let mut head = format!(
        "{version} {} {}\r\n",
        status.as_str(),
        status.canonical_reason().unwrap_or("")
    );
    for (name, value) in response.headers() {
        head.push_str(&format!(
            "{name}: {}\r\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// Map a hyper failure: nothing at all -> 52, cut short -> 18, TLS or socket -> 56.
pub(super) fn response_error(e: &hyper::Error, in_body: bool) -> ClientError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if let Some(tls) = tls::stream::tls_error(io) {
                return ClientError::new(
                    56,
                    format!("Recv failure: TLS: {}", escape_peer(&tls.to_string())),
                );
            }
            return ClientError::new(56, format!("Recv failure: {}", io_reason(io)));
        }
        source = s.source();
    }
    if e.is_incomplete_message() {
        if in_body {
            return ClientError::new(18, "transfer closed with outstanding read data remaining");
        }
        return ClientError::new(52, "Empty reply from server");
    }
    ClientError::new(56, format!("Recv failure: {}", escape_peer(&e.to_string())))
}
