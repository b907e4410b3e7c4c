//! Load shedding: every accepted connection is registered with what it is doing (its phase) and
//! since when; at the connection limit the server still accepts, and drops the open connection
//! doing the least work so the new client is served — idle keep-alive first, then the reader
//! stalled longest (a response blocked on a socket that takes nothing), then the oldest
//! unfinished handshake or request head, and only then the connection that made progress least
//! recently. Waiting for a slot instead (a semaphore before `accept`) lets a few hundred
//! stalled peers lock every new client out.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::Notify;

/// A socket that has taken nothing for this long makes its connection a stalled reader.
const STALL: std::time::Duration = std::time::Duration::from_secs(1);

/// What a connection is doing, as far as shedding and its deadlines care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// TLS handshake (or the sniffing before it) not finished.
    Handshake,
    /// Between requests (or before the first): nothing of a request received yet.
    Idle,
    /// Bytes of a request head received, the request not handed to the site yet.
    Head,
    /// A request is being answered.
    Busy,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Snapshot {
    pub(crate) phase: Phase,
    /// When the phase began.
    pub(crate) since: Instant,
    /// When a write first found the socket full, while no byte has been taken since.
    pub(crate) stalled_since: Option<Instant>,
}

/// One live connection as the registry sees it; shared with the connection's own task.
pub(crate) struct Tracker {
    pub(crate) peer: SocketAddr,
    state: Mutex<Snapshot>,
    /// Signalled once when the connection is shed; its task then drops the socket.
    shed: Notify,
}

impl Tracker {
    fn new(peer: SocketAddr) -> Self {
        Self {
            peer,
            state: Mutex::new(Snapshot {
                phase: Phase::Handshake,
                since: Instant::now(),
                stalled_since: None,
            }),
            shed: Notify::new(),
        }
    }

    pub(crate) fn snapshot(&self) -> Option<Snapshot> {
        self.state.lock().ok().map(|s| *s)
    }

    /// Enter `phase` now (its clock restarts only on a change).
    pub(crate) fn enter(&self, phase: Phase) {
        if let Ok(mut s) = self.state.lock() {
            if s.phase != phase {
                s.phase = phase;
                s.since = Instant::now();
            }
        }
    }

    /// Bytes of a request arrived: an idle connection now has a request head under way.
    pub(crate) fn on_request_bytes(&self) {
        if let Ok(mut s) = self.state.lock() {
            if s.phase == Phase::Idle {
                s.phase = Phase::Head;
                s.since = Instant::now();
            }
        }
    }

    /// A write found the socket full (`true`) or got bytes through (`false`).
    pub(crate) fn set_stalled(&self, stalled: bool) {
        if let Ok(mut s) = self.state.lock() {
            match (stalled, s.stalled_since) {
                (true, None) => s.stalled_since = Some(Instant::now()),
                (false, Some(_)) => s.stalled_since = None,
                _ => {}
            }
        }
    }

    /// Resolves once the connection has been shed.
    pub(crate) async fn shed(&self) {
        self.shed.notified().await;
    }
}

/// The live connections and the limit on them.
pub(crate) struct Registry {
    limit: usize,
    next_id: AtomicU64,
    live: Mutex<HashMap<u64, Arc<Tracker>>>,
}

/// A registered connection; dropping it (the task ended) frees its slot.
pub(crate) struct Admission {
    registry: Arc<Registry>,
    id: u64,
    pub(crate) tracker: Arc<Tracker>,
}

impl Drop for Admission {
    fn drop(&mut self) {
        if let Ok(mut live) = self.registry.live.lock() {
            live.remove(&self.id);
        }
    }
}

impl Registry {
    pub(crate) fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            limit: limit.max(1),
            next_id: AtomicU64::new(0),
            live: Mutex::new(HashMap::new()),
        })
    }

    #[cfg(test)]
    pub(crate) fn live(&self) -> usize {
        self.live.lock().map(|l| l.len()).unwrap_or(0)
    }

    /// Register a new connection from `peer`, shedding one first when at the limit (it is
    /// logged here, one line each).
    pub(crate) fn admit(self: &Arc<Self>, peer: SocketAddr) -> Admission {
        let tracker = Arc::new(Tracker::new(peer));
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut shed = Vec::new();
        if let Ok(mut live) = self.live.lock() {
            let now = Instant::now();
            while live.len() >= self.limit {
                let Some((victim, why)) = choose_victim(&live, now) else {
                    break;
                };
                if let Some(t) = live.remove(&victim) {
                    shed.push((t, why));
                }
            }
            live.insert(id, tracker.clone());
        }
        for (t, why) in shed {
            // notify_one keeps the signal if the task is not waiting at this very moment.
            t.shed.notify_one();
            crate::log::shed(t.peer, &why, self.limit);
        }
        Admission {
            registry: self.clone(),
            id,
            tracker,
        }
    }
}

/// The connection doing the least work, and why it was chosen (for the log line).
fn choose_victim(live: &HashMap<u64, Arc<Tracker>>, now: Instant) -> Option<(u64, String)> {
    // Rank: lower class first; within a class, the longest without progress.
    let mut best: Option<(u8, std::time::Duration, u64, Phase)> = None;
    for (&id, t) in live {
        let Some(s) = t.snapshot() else { continue };
        let (class, since) = match (s.phase, s.stalled_since) {
            (Phase::Idle, _) => (0, s.since),
            // A fast download meets a full socket now and then: only a real stall counts.
            (_, Some(stalled)) if now.saturating_duration_since(stalled) >= STALL => (1, stalled),
            (Phase::Busy, Some(stalled)) => (3, stalled),
            (Phase::Handshake | Phase::Head, _) => (2, s.since),
            (Phase::Busy, None) => (3, s.since),
        };
        let waited = now.saturating_duration_since(since);
        let better = match &best {
            None => true,
            Some((c, w, _, _)) => class < *c || (class == *c && waited > *w),
        };
        if better {
            best = Some((class, waited, id, s.phase));
        }
    }
    best.map(|(class, waited, id, phase)| {
        let secs = waited.as_secs_f64();
        let why = match (class, phase) {
            (0, _) => format!("idle keep-alive for {secs:.1}s"),
            (1, _) => format!("stalled reader, no byte taken for {secs:.1}s"),
            (2, Phase::Handshake) => format!("handshake unfinished after {secs:.1}s"),
            (2, _) => format!("request head unfinished after {secs:.1}s"),
            _ => format!("busy, oldest phase ({secs:.1}s)"),
        };
        (id, why)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[tokio::test]
    async fn at_the_limit_the_idle_one_goes_first_then_the_stalled_reader_then_the_handshake() {
        let reg = Registry::new(3);
        let handshake = reg.admit(peer(1));
        let stalled = reg.admit(peer(2));
        stalled.tracker.enter(Phase::Busy);
        stalled.tracker.set_stalled(true);
        // Stalled for longer than STALL (a brief full socket does not count).
        stalled.tracker.state.lock().expect("lock").stalled_since =
            Instant::now().checked_sub(2 * STALL);
        let idle = reg.admit(peer(3));
        idle.tracker.enter(Phase::Idle);
        assert_eq!(reg.live(), 3);

        let _a = reg.admit(peer(4));
        assert_eq!(reg.live(), 3);
        // The idle one was signalled: its shed() resolves at once.
        tokio::time::timeout(std::time::Duration::from_secs(5), idle.tracker.shed())
            .await
            .expect("idle shed first");
        let _b = reg.admit(peer(5));
        tokio::time::timeout(std::time::Duration::from_secs(5), stalled.tracker.shed())
            .await
            .expect("stalled reader shed second");
        let _c = reg.admit(peer(6));
        tokio::time::timeout(std::time::Duration::from_secs(5), handshake.tracker.shed())
            .await
            .expect("handshake shed third");
        assert_eq!(reg.live(), 3);
    }

    #[tokio::test]
    async fn a_finished_connection_frees_its_slot() {
        let reg = Registry::new(2);
        let a = reg.admit(peer(1));
        drop(a);
        assert_eq!(reg.live(), 0);
    }
}
