//! Connections pinned to threads, as nginx pins them to worker processes: one thread per core,
//! each running its own single-threaded tokio runtime, and every accepted connection handed to
//! the next one in turn, where it stays. A request's wake-ups (socket readable, response
//! written, deadlines) then never cross threads; on tokio's work-stealing runtime they woke
//! another worker about once per request, which cost more than the TLS work of a small request.
//! The price is nginx's too: a busy thread's connections wait for it, none is stolen.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio::runtime::Handle;
use tokio::sync::watch;

pub(crate) struct Workers {
    handles: Vec<Handle>,
    next: AtomicUsize,
    stop: watch::Sender<bool>,
}

impl Workers {
    /// One worker per available core.
    pub(crate) fn start() -> std::io::Result<Arc<Self>> {
        let count = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (stop, stopped) = watch::channel(false);
        let mut handles = Vec::with_capacity(count);
        for i in 0..count {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            handles.push(runtime.handle().clone());
            let mut stopped = stopped.clone();
            std::thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || {
                    // Runs the connections handed over until told to stop; those still open
                    // then are dropped with the runtime (the graceful wait is over by then).
                    runtime.block_on(async move {
                        let _ = stopped.wait_for(|s| *s).await;
                    });
                })?;
        }
        Ok(Arc::new(Self {
            handles,
            next: AtomicUsize::new(0),
            stop,
        }))
    }

    /// Serve `tcp` on the next worker: `serve` gets it registered with that worker's runtime.
    pub(crate) fn hand_over<F, Fut>(&self, tcp: TcpStream, peer: SocketAddr, serve: F)
    where
        F: FnOnce(TcpStream) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.handles.len();
        // Out of the accepting runtime's reactor; into the worker's on its first poll.
        let std_tcp = match tcp.into_std() {
            Ok(s) => s,
            Err(e) => return crate::log::connection_error(peer, &e.to_string()),
        };
        self.handles[i].spawn(async move {
            match TcpStream::from_std(std_tcp) {
                Ok(tcp) => serve(tcp).await,
                Err(e) => crate::log::connection_error(peer, &e.to_string()),
            }
        });
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
