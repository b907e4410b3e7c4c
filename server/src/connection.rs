//! One connection from accept to close: the TLS handshake under its deadline (sniffing plain
//! HTTP sent to the HTTPS port first), the observers it reports to (the front page's
//! transcript, `-v` narration), then HTTP/1.1 by hyper until the client or a shutdown ends it.

use crate::deadlines::{self, Answering, Deadlines, RequestBytes};
use crate::routes::{App, Peer};
use crate::shedding::{Admission, Phase, Tracker};
use crate::site::{self, TlsDetails};
use crate::{log, narrate, send_timeout};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::watch;

/// hyper's read and write buffer limit, per connection.
const MAX_BUF: usize = 16 * 1024;

#[derive(Clone)]
pub(crate) struct ConnContext {
    app: Arc<App>,
    http: http1::Builder,
    handshake_timeout: Duration,
    send_timeout: Duration,
    deadlines: Deadlines,
}

impl ConnContext {
    pub(crate) fn new(
        app: Arc<App>,
        handshake_timeout: Duration,
        send_timeout: Duration,
        deadlines: Deadlines,
    ) -> Self {
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            // Ours (`deadlines`) tell keep-alive idle from a slow head; hyper's covers both.
            .header_read_timeout(None)
            // hyper stops taking body frames once this much is buffered: a client that reads
            // nothing pins little (the default is ~400 KiB). Also the largest request head.
            .max_buf_size(MAX_BUF)
            // Our TLS stream takes the head and the body chunks as they are (vectored) and seals
            // them into full records itself: hyper need not copy them into one buffer first.
            .writev(true);
        Self {
            app,
            http: builder,
            handshake_timeout,
            send_timeout,
            deadlines,
        }
    }

    pub(crate) async fn serve_tls(
        self,
        tcp: TcpStream,
        addr: SocketAddr,
        admission: Admission,
        watcher: hyper_util::server::graceful::Watcher,
        mut stop: watch::Receiver<bool>,
    ) {
        let tracker = admission.tracker.clone();
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + self.handshake_timeout;
        // Only the built-in site shows the transcript (observing does not change how records
        // are sealed, so this is about what is shown, not speed).
        let transcript = self
            .app
            .root
            .is_none()
            .then(|| Arc::new(site::Transcript::default()));
        let handshake = async {
            // A browser pointed at https://… never starts with a letter; plain HTTP does.
            let mut first = [0u8; 1];
            if let Ok(1) = tcp.peek(&mut first).await {
                if first[0].is_ascii_alphabetic() {
                    return Err(HandshakeFailure::PlainHttp(tcp));
                }
            }
            let mut observers: Vec<Arc<dyn tls::trace::Observer>> = Vec::new();
            if let Some(t) = transcript.clone() {
                observers.push(t);
            }
            // -v: the handshake narrated from the server's side.
            if self.app.verbose {
                observers.push(narrate::Narrator::new(
                    addr,
                    self.app.key_log_path.is_some(),
                ));
            }
            let observer: Option<Arc<dyn tls::trace::Observer>> = match observers.len() {
                0 => None,
                1 => observers.pop(),
                _ => Some(Arc::new(narrate::Fanout(observers))),
            };
            let tcp = send_timeout::SendTimeout::new(tcp, self.send_timeout, addr)
                .tracked(tracker.clone());
            let conn = tls::Connection::server_observed(self.app.handshake_config(), observer);
            tls::stream::TlsStream::handshake(tcp, conn)
                .await
                .map_err(HandshakeFailure::Tls)
        };
        let outcome = tokio::select! {
            r = tokio::time::timeout_at(deadline, handshake) => r,
            _ = stop.wait_for(|s| *s) => return,
            () = tracker.shed() => return,
        };
        let stream = match outcome {
            Ok(Ok(stream)) => stream,
            Ok(Err(HandshakeFailure::PlainHttp(tcp))) => {
                log::handshake_failed(addr, started.elapsed(), "plain HTTP sent to the HTTPS port");
                refuse_plain_http(tcp, &self.app.https_url).await;
                return;
            }
            Ok(Err(HandshakeFailure::Tls(e))) => {
                log::handshake_failed(addr, started.elapsed(), &log::describe_tls_failure(&e));
                return;
            }
            Err(_) => {
                log::handshake_failed(
                    addr,
                    started.elapsed(),
                    &format!(
                        "timed out after {:?} (no complete handshake): connection dropped",
                        self.handshake_timeout
                    ),
                );
                return;
            }
        };
        let details = stream.info().cloned().map(|info| {
            TlsDetails::new(
                info,
                started.elapsed(),
                transcript.as_ref().map(|t| t.snapshot()),
            )
        });
        if self.app.verbose {
            if let Some(d) = &details {
                log::handshake_done(addr, d);
            }
        }
        let client_key_exchange = transcript
            .as_ref()
            .map(|t| t.client_key_exchange())
            .unwrap_or_default();
        let peer = Arc::new(Peer {
            addr,
            tls: details,
            client_key_exchange,
        });
        // hyper reports a read error between requests as a plain EOF; keep the TLS reason.
        let (stream, first_error) = log::ErrorWatch::new(stream);
        let verbose = self.app.verbose;
        tracker.enter(Phase::Idle);
        let hyper_end = self
            .serve_http(stream, peer.clone(), watcher, &admission)
            .await;
        if let Some(end) = first_error.take().or(hyper_end) {
            // A client closing without close_notify is routine (curl, browsers); a bad MAC is not.
            if end.important || verbose {
                log::connection_error(peer.addr, &end.message);
            }
        }
    }

    pub(crate) async fn serve_plain(
        self,
        tcp: TcpStream,
        addr: SocketAddr,
        admission: Admission,
        watcher: hyper_util::server::graceful::Watcher,
    ) {
        let peer = Arc::new(Peer {
            addr,
            tls: None,
            client_key_exchange: Vec::new(),
        });
        let verbose = self.app.verbose;
        let tcp = send_timeout::SendTimeout::new(tcp, self.send_timeout, addr)
            .tracked(admission.tracker.clone());
        admission.tracker.enter(Phase::Idle);
        if let Some(end) = self
            .serve_http(tcp, peer.clone(), watcher, &admission)
            .await
        {
            if verbose {
                log::connection_error(peer.addr, &end.message);
            }
        }
    }

    /// Serve HTTP/1.1 on `io` until the client, a deadline, shedding or a shutdown ends it;
    /// how it ended, if badly.
    async fn serve_http<IO>(
        self,
        io: IO,
        peer: Arc<Peer>,
        watcher: hyper_util::server::graceful::Watcher,
        admission: &Admission,
    ) -> Option<log::ConnectionEnd>
    where
        IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let tracker: &Arc<Tracker> = &admission.tracker;
        let io = TokioIo::new(RequestBytes::new(io, tracker.clone()));
        let app = self.app.clone();
        let conn_peer = peer.clone();
        let conn_tracker = tracker.clone();
        let service = service_fn(move |req| {
            let app = app.clone();
            let peer = conn_peer.clone();
            let tracker = conn_tracker.clone();
            async move {
                tracker.enter(Phase::Busy);
                let response = app.respond(req, &peer).await;
                Ok::<_, Infallible>(response.map(|body| Answering::new(body, tracker)))
            }
        });
        let conn = self.http.serve_connection(io, service);
        tokio::select! {
            r = watcher.watch(conn) => r.err().map(|e| log::describe_connection_error(&e)),
            () = deadlines::watchdog(tracker, self.deadlines) => None,
            () = tracker.shed() => None,
        }
    }
}

enum HandshakeFailure {
    PlainHttp(TcpStream),
    Tls(std::io::Error),
}

/// Answer plain HTTP on the TLS port the way nginx and Go do: a 400 that names the mistake.
async fn refuse_plain_http(mut tcp: TcpStream, https_url: &str) {
    let body = format!(
        "This port speaks HTTPS only: you sent plain HTTP to a TLS server.\nTry {https_url}\n"
    );
    let reply = format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        let _ = tcp.write_all(reply.as_bytes()).await;
        let _ = tcp.shutdown().await;
    })
    .await;
}
