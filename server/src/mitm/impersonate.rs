//! `--impersonate`: the proxy ends the victim's TLS itself, with a certificate for the name the
//! victim asked for (its SNI) issued on the fly by the proxy's own CA ([`Authority`]), and
//! opens its own TLS connection to the real server. In between, everything is plaintext to
//! it. What stops this is the victim's certificate check (RFC 5280 path validation to a
//! trusted root): the proxy's CA is not one, so clients refuse — unless the user clicks
//! through (`-k`), or was made to trust that CA.
//!
//! The ClientHello is read first with our own record and handshake parsers (to learn the SNI
//! and pick the certificate), then replayed into our TLS server ([`Rewind`]).

use super::records::{HandshakeView, Next, Splitter};
use super::relay::{self, Filter, Totals};
use super::report::Report;
use super::sniff::{looks_like_tls, HttpSniffer};
use super::Shared;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tls::msgs::handshake::HandshakePayload;
use tls::text::escape_peer;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The bytes we may read while waiting for a whole ClientHello (a hello of at most a few
/// records; beyond this it is not one we take).
const MAX_HELLO_BYTES: usize = 64 * 1024;

/// Handle one victim connection; returns what the summary line needs.
pub async fn handle(
    mut client: TcpStream,
    shared: Arc<Shared>,
    report: Report,
    summary: &mut String,
) -> Totals {
    let authority = match &shared.authority {
        Some(a) => a.clone(),
        None => return ended(summary, "impersonate", "no CA"),
    };
    // Read up to the end of the ClientHello.
    let mut prefix = Vec::new();
    let mut splitter = Splitter::default();
    let mut view = HandshakeView::default();
    let mut buf = vec![0u8; relay::READ_BUF];
    let mut sni: Option<Vec<u8>> = None;
    let mut plain = false;
    // Each turn reads at least one byte (or ends); bounded by MAX_HELLO_BYTES.
    'hello: loop {
        let n = match tokio::time::timeout(shared.idle, client.read(&mut buf)).await {
            Ok(Ok(0)) => return ended(summary, "no ClientHello", "the client closed"),
            Ok(Ok(n)) => n,
            Ok(Err(e)) => return ended(summary, "no ClientHello", &escape_peer(&e.to_string())),
            Err(_) => return ended(summary, "no ClientHello", "idle"),
        };
        let got = buf.get(..n).unwrap_or_default();
        if prefix.is_empty() && !looks_like_tls(got) {
            prefix.extend_from_slice(got);
            plain = true;
            break;
        }
        prefix.extend_from_slice(got);
        splitter.push(got);
        for _ in 0..=n / tls::record::HEADER_LEN + 1 {
            match splitter.next_record() {
                Next::Record(record, _) => match view.record(&record) {
                    Ok(messages) => {
                        if let Some(hello) = messages.iter().find_map(|m| match &m.payload {
                            HandshakePayload::ClientHello(h) => Some(h),
                            _ => None,
                        }) {
                            sni = hello.server_name().map(<[u8]>::to_vec);
                            break 'hello;
                        }
                    }
                    Err(why) => return ended(summary, "tls", &why),
                },
                Next::NeedMore => break,
                Next::Broken(why, _) => {
                    return ended(summary, "not TLS", &escape_peer(&why));
                }
            }
        }
        if prefix.len() > MAX_HELLO_BYTES {
            return ended(summary, "tls", "no ClientHello in the first 64 KiB");
        }
    }
    let client = Rewind {
        prefix,
        pos: 0,
        io: client,
    };
    if plain {
        // Nothing to impersonate: plain HTTP is readable as it is.
        report.line("plain HTTP: nothing to impersonate, everything below is readable");
        let upstream = match connect_upstream(&shared).await {
            Ok(s) => s,
            Err(e) => return ended(summary, "http", &e),
        };
        let mut sniffer = HttpSniffer::new(report, shared.body_limit, "");
        let totals = relay::relay(client, upstream, &mut sniffer, shared.idle).await;
        *summary = sniffer.summary();
        return totals;
    }

    // The name to impersonate: what the victim asked for, else the upstream's host.
    let name = match &sni {
        Some(n) if !n.is_empty() => String::from_utf8_lossy(n).into_owned(),
        _ => shared.upstream_host.clone(),
    };
    let shown = escape_peer(&name);
    let config = match authority.config_for(&name) {
        Ok(c) => c,
        Err(e) => return ended(summary, &format!("tls sni={shown}"), &escape_peer(&e)),
    };
    report.line(&format!(
        "ClientHello for \"{shown}\": answering with our own certificate for {shown}, issued by \"{}\" (not the real server's)",
        escape_peer(&authority.ca_name())
    ));
    let accepted = tokio::time::timeout(shared.idle, tls::stream::accept(config, client)).await;
    let victim = match accepted {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            let why = match tls::stream::tls_error(&e) {
                Some(tls::Error::AlertReceived(alert)) => format!(
                    "the client refused our certificate (alert {}): it sent no request (a browser shows its warning here)",
                    alert.name()
                ),
                Some(tls::Error::Truncated) => {
                    "the client hung up during the handshake (refusing our certificate, perhaps)".to_string()
                }
                _ => format!("handshake with the client failed: {}", escape_peer(&e.to_string())),
            };
            report.line(&why);
            return ended(summary, &format!("tls sni={shown}"), "victim refused");
        }
        Err(_) => return ended(summary, &format!("tls sni={shown}"), "handshake timed out"),
    };
    let suite = victim.info().map_or("?", |i| i.suite.name);
    report.line(&format!(
        "the client accepted our certificate ({suite}): everything below is decrypted by the man in the middle"
    ));

    // Our own TLS connection to the real server, checked against --upstream-ca.
    let upstream = match connect_upstream(&shared).await {
        Ok(s) => s,
        Err(e) => {
            report.line(&format!("cannot reach the upstream: {e}"));
            return ended(summary, &format!("tls sni={shown}"), "upstream unreachable");
        }
    };
    let upstream_name = if sni.as_ref().is_some_and(|n| !n.is_empty()) {
        name.clone()
    } else {
        shared.upstream_host.clone()
    };
    let upstream = match tokio::time::timeout(
        shared.connect_timeout,
        tls::stream::connect(shared.upstream_tls.clone(), &upstream_name, upstream),
    )
    .await
    {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            report.line(&format!(
                "TLS to the upstream failed: {}",
                escape_peer(&e.to_string())
            ));
            return ended(summary, &format!("tls sni={shown}"), "upstream TLS failed");
        }
        Err(_) => {
            return ended(
                summary,
                &format!("tls sni={shown}"),
                "upstream TLS timed out",
            )
        }
    };
    let mut sniffer = HttpSniffer::new(report, shared.body_limit, "decrypted: ");
    let totals = relay::relay(victim, upstream, &mut sniffer, shared.idle).await;
    *summary = format!("tls sni={shown} impersonated, {}", sniffer.summary());
    totals
}

fn ended(summary: &mut String, what: &str, why: &str) -> Totals {
    *summary = what.to_string();
    Totals {
        ended: why.to_string(),
        ..Totals::default()
    }
}

async fn connect_upstream(shared: &Shared) -> Result<TcpStream, String> {
    match tokio::time::timeout(
        shared.connect_timeout,
        TcpStream::connect(shared.upstream.as_str()),
    )
    .await
    {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(format!("connecting to {}: {e}", shared.upstream)),
        Err(_) => Err(format!("connecting to {}: timed out", shared.upstream)),
    }
}

/// A transport whose first bytes were already read: they are served again before the rest.
pub struct Rewind<IO> {
    prefix: Vec<u8>,
    pos: usize,
    io: IO,
}

impl<IO: AsyncRead + Unpin> AsyncRead for Rewind<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(rest) = this.prefix.get(this.pos..).filter(|r| !r.is_empty()) {
            let n = rest.len().min(buf.remaining());
            buf.put_slice(rest.get(..n).unwrap_or_default());
            this.pos += n;
            if this.pos == this.prefix.len() {
                this.prefix = Vec::new();
                this.pos = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Rewind<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}
