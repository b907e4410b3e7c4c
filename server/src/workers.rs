//! Connections pinned to threads, as nginx pins them to worker processes: one thread per core,
//! each running its own single-threaded tokio runtime and its own accept loop (`listener`); a
//! connection stays on the thread that accepted it, unless that thread already serves more
//! than another one, which then gets it (a burst of connections is accepted by whichever
//! thread happens to be awake). A request's wake-ups (socket readable, response written,
//! deadlines) then never cross threads; on tokio's work-stealing runtime they woke another
//! worker about once per request, which cost more than the TLS work of a small request. The
//! price is nginx's too: a busy thread's connections wait for it, none is stolen.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, watch};

pub(crate) struct Workers {
    handles: Vec<Handle>,
    /// Connections each worker serves now.
    load: Vec<AtomicUsize>,
    stop: watch::Sender<bool>,
    /// Closes when every worker thread has ended (each holds a sender to the end).
    ended: Mutex<Option<mpsc::Receiver<()>>>,
}

/// How long [`Workers::stop`] waits for the threads to write their last log lines.
const END_WAIT: Duration = Duration::from_secs(2);

impl Workers {
    /// One worker per available core.
    pub(crate) fn start() -> std::io::Result<Arc<Self>> {
        let count = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (stop, stopped) = watch::channel(false);
        let (ending, ended) = mpsc::channel(1);
        let mut handles = Vec::with_capacity(count);
        for i in 0..count {
            // The access log is batched per worker and written whenever it runs out of work.
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .on_thread_park(crate::log::flush_this_thread)
                .build()?;
            handles.push(runtime.handle().clone());
            let mut stopped = stopped.clone();
            let ending = ending.clone();
            std::thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || {
                    crate::log::batch_this_thread();
                    // Runs the connections handed over until told to stop; those still open
                    // then are dropped with the runtime (the graceful wait is over by then).
                    runtime.block_on(async move {
                        // A worker that never runs out of work still writes its lines.
                        tokio::spawn(async {
                            let mut tick = tokio::time::interval(crate::log::BATCH_AGE);
                            loop {
                                tick.tick().await;
                                crate::log::flush_this_thread();
                            }
                        });
                        let _ = stopped.wait_for(|s| *s).await;
                    });
                    // Dropped connections log "(aborted)": their lines go out too.
                    drop(runtime);
                    crate::log::flush_this_thread();
                    drop(ending);
                })?;
        }
        let load = (0..count).map(|_| AtomicUsize::new(0)).collect();
        Ok(Arc::new(Self {
            handles,
            load,
            stop,
            ended: Mutex::new(Some(ended)),
        }))
    }

    /// The workers' runtimes, to run a task on each.
    pub(crate) fn handles(&self) -> &[Handle] {
        &self.handles
    }

    /// Serve `tcp`, accepted by worker `me`, there or on the least busy worker if `me` has two
    /// connections more than it. `serve` gets the stream registered with the serving runtime.
    pub(crate) fn serve<F, Fut>(
        self: &Arc<Self>,
        me: usize,
        tcp: TcpStream,
        peer: SocketAddr,
        serve: F,
    ) where
        F: FnOnce(TcpStream) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let load = |i: usize| self.load.get(i).map_or(0, |l| l.load(Ordering::Relaxed));
        let least = (0..self.handles.len())
            .min_by_key(|&i| load(i))
            .unwrap_or(me);
        let there = if load(me) > load(least) + 1 {
            least
        } else {
            me
        };
        let counted = Counted::new(self.clone(), there);
        if there == me {
            tokio::spawn(async move {
                let _counted = counted;
                serve(tcp).await;
            });
            return;
        }
        // Out of this runtime's reactor; into the other worker's on its first poll.
        let std_tcp = match tcp.into_std() {
            Ok(s) => s,
            Err(e) => return crate::log::connection_error(peer, &e.to_string()),
        };
        if let Some(handle) = self.handles.get(there) {
            handle.spawn(async move {
                let _counted = counted;
                match TcpStream::from_std(std_tcp) {
                    Ok(tcp) => serve(tcp).await,
                    Err(e) => crate::log::connection_error(peer, &e.to_string()),
                }
            });
        }
    }
}

/// One connection on worker `i`, for as long as it lives.
struct Counted {
    workers: Arc<Workers>,
    i: usize,
}

impl Counted {
    fn new(workers: Arc<Workers>, i: usize) -> Self {
        if let Some(l) = workers.load.get(i) {
            l.fetch_add(1, Ordering::Relaxed);
        }
        Self { workers, i }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        if let Some(l) = self.workers.load.get(self.i) {
            l.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Workers {
    /// End the worker threads; connections still open on them are dropped with their
    /// runtimes. Waits (up to [`END_WAIT`]) until the threads have written their last lines.
    pub(crate) async fn stop(&self) {
        let _ = self.stop.send(true);
        let ended = self.ended.lock().ok().and_then(|mut e| e.take());
        if let Some(mut ended) = ended {
            // `None` once every thread has dropped its sender.
            let _ = tokio::time::timeout(END_WAIT, ended.recv()).await;
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
