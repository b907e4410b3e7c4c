//! The listening sockets and the accept loop: always accepting, at most `max_connections` open
//! at once (at the limit the one doing the least work is shed: see `shedding`), each
//! connection its own task on the worker thread that accepted it, and a
//! graceful shutdown that stops accepting, tells handshakes in progress to give up and lets
//! in-flight requests finish for up to `shutdown_timeout`.

use crate::connection::ConnContext;
use crate::shedding::Registry;
use crate::workers::Workers;
use crate::{log, ServerError};
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The HTTPS listener and the optional plain-HTTP one.
pub(crate) struct Listeners {
    pub(crate) https: TcpListener,
    pub(crate) http: Option<TcpListener>,
}

impl Listeners {
    /// Open both; also the address the HTTPS one got (the real port when asked for port 0).
    pub(crate) async fn bind(
        https: SocketAddr,
        http: Option<SocketAddr>,
    ) -> Result<(Self, SocketAddr), ServerError> {
        let listen = https;
        let https = bind_with_backlog(listen)
            .map_err(|e| ServerError::new(format!("cannot listen on {listen}: {e}")))?;
        let https_addr = https
            .local_addr()
            .map_err(|e| ServerError::new(e.to_string()))?;
        let http = match http {
            Some(addr) => Some(
                bind_with_backlog(addr)
                    .map_err(|e| ServerError::new(format!("cannot listen on {addr}: {e}")))?,
            ),
            None => None,
        };
        Ok((Self { https, http }, https_addr))
    }
}

/// Accept until `shutdown` resolves, then shut down gracefully (see the module docs).
///
/// Every worker thread runs its own accept loop on the same listening sockets: whichever takes
/// a connection serves it, on its own thread, so nothing is handed from thread to thread (a
/// hand-over cost a thread wake-up per connection). With two workers both wake for a new
/// connection and one gets it.
pub(crate) async fn serve(
    listeners: Listeners,
    ctx: ConnContext,
    workers: Arc<Workers>,
    max_connections: usize,
    max_memory: u64,
    shutdown_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = Arc::new(GracefulShutdown::new());
    // Tells connections still in their handshake to give up.
    let (stop_tx, stop_rx) = watch::channel(false);
    // Tells the accept loops to stop accepting.
    let (quit_tx, quit_rx) = watch::channel(false);
    let sockets = match Sockets::from(listeners) {
        Ok(s) => s,
        Err(e) => return log::emit(&format!("cannot share the listening sockets: {e}")),
    };
    let registry = Registry::new(max_connections);
    let mut loops = Vec::new();
    for (me, handle) in workers.handles().iter().enumerate() {
        let (https, http) = match sockets.try_clone() {
            Ok(pair) => pair,
            Err(e) => {
                log::emit(&format!("cannot share the listening sockets: {e}"));
                break;
            }
        };
        let accept = AcceptLoop {
            me,
            workers: workers.clone(),
            ctx: ctx.clone(),
            registry: registry.clone(),
            graceful: graceful.clone(),
            stop: stop_rx.clone(),
            quit: quit_rx.clone(),
            max_memory,
        };
        loops.push(handle.spawn(accept.run(https, http)));
    }
    shutdown.await;
    let _ = quit_tx.send(true);
    for accept in loops {
        let _ = accept.await;
    }
    drop(sockets);
    let _ = stop_tx.send(true);
    // The accept loops have ended, and their handles on it with them.
    let Ok(graceful) = Arc::try_unwrap(graceful) else {
        return log::emit("shutdown: connections left without waiting for them");
    };
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(shutdown_timeout) => {
            log::emit(&format!(
                "shutdown: gave up waiting for open connections after {shutdown_timeout:?}"
            ));
        }
    }
}

/// The listening sockets, out of any runtime, to be registered again by each accept loop.
struct Sockets {
    https: std::net::TcpListener,
    http: Option<std::net::TcpListener>,
}

impl Sockets {
    fn from(listeners: Listeners) -> std::io::Result<Self> {
        Ok(Self {
            https: listeners.https.into_std()?,
            http: listeners.http.map(TcpListener::into_std).transpose()?,
        })
    }

    /// Another handle on the same sockets (the same kernel queue of connections).
    fn try_clone(&self) -> std::io::Result<(std::net::TcpListener, Option<std::net::TcpListener>)> {
        let http = self.http.as_ref().map(|l| l.try_clone()).transpose()?;
        Ok((self.https.try_clone()?, http))
    }
}

/// One worker's accept loop and what its connections share with the other workers'.
struct AcceptLoop {
    /// Which worker runs this loop.
    me: usize,
    workers: Arc<Workers>,
    ctx: ConnContext,
    registry: Arc<Registry>,
    graceful: Arc<GracefulShutdown>,
    stop: watch::Receiver<bool>,
    quit: watch::Receiver<bool>,
    max_memory: u64,
}

impl AcceptLoop {
    async fn run(mut self, https: std::net::TcpListener, http: Option<std::net::TcpListener>) {
        // Registered with this worker's runtime: its connections are served on its thread.
        let https = match TcpListener::from_std(https) {
            Ok(l) => l,
            Err(e) => return log::emit(&format!("cannot listen on this worker: {e}")),
        };
        let http = http.and_then(|l| TcpListener::from_std(l).ok());
        let mut refused = Refusals::default();
        let mut memory = crate::limits::MemoryGauge::default();
        loop {
            let (accepted, secure) = tokio::select! {
                r = https.accept() => (r, true),
                r = accept_optional(http.as_ref()) => (r, false),
                _ = self.quit.wait_for(|quit| *quit) => break,
            };
            let (tcp, peer) = match accepted {
                Ok(pair) => pair,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => {
                    // Out of file descriptors and the like: say so, breathe, go on.
                    log::emit(&format!("accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            if memory
                .resident_bytes()
                .is_some_and(|rss| rss > self.max_memory)
            {
                // Over the memory cap: no new work. Dropping the socket closes it cleanly (FIN).
                refused.note(peer, self.max_memory);
                continue;
            }
            // Never wait for a slot: stalled peers holding them all would lock everyone out.
            let admission = self.registry.admit(peer);
            let ctx = self.ctx.clone();
            let watcher = self.graceful.watcher();
            let stop = self.stop.clone();
            self.workers
                .serve(self.me, tcp, peer, move |tcp| async move {
                    if secure {
                        ctx.serve_tls(tcp, peer, admission, watcher, stop).await;
                    } else {
                        ctx.serve_plain(tcp, peer, admission, watcher).await;
                    }
                });
        }
    }
}

/// Connections refused over the memory cap, logged at most once a second (an attacker must
/// not turn the log into the next resource to exhaust).
#[derive(Default)]
struct Refusals {
    last_logged: Option<std::time::Instant>,
    unlogged: u64,
}

impl Refusals {
    fn note(&mut self, peer: SocketAddr, max_memory: u64) {
        self.unlogged += 1;
        let due = self
            .last_logged
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
        if due {
            log::emit(&format!(
                "{peer}: refused ({} in all since the last line): resident memory over --max-memory {} MiB",
                self.unlogged,
                max_memory / (1024 * 1024)
            ));
            self.unlogged = 0;
            self.last_logged = Some(std::time::Instant::now());
        }
    }
}

/// Connections the kernel may hold completed before we accept them. A burst of thousands of
/// connects (an attack) overflows tokio's 1024, and a dropped SYN costs a legitimate client a
/// retransmission (1 s, then 3 s); the kernel caps it at net.core.somaxconn (4096 by default).
const BACKLOG: u32 = 4096;

fn bind_with_backlog(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // As std's and tokio's bind do: a restarted server can listen again at once.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

async fn accept_optional(
    listener: Option<&TcpListener>,
) -> std::io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}
