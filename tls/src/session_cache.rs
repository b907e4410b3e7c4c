//! The server's session cache (RFC 5246 §7.3, §F.1.4): sessions by id, so a client offering an
//! id back gets the abbreviated handshake. Bounded: at most `capacity` entries, the least
//! recently used evicted first, so a flood of new sessions cannot grow memory; an entry past
//! its lifetime is never resumed.

use crate::session::StoredSession;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// Sessions by id; shared by every connection of a server (hence the lock).
pub struct SessionCache {
    capacity: usize,
    lifetime_secs: u64,
    inner: Mutex<Lru>,
}

/// Entries by id, plus the ids by last use (a counter), oldest first: both maps always hold
/// the same ids.
#[derive(Default)]
struct Lru {
    entries: HashMap<Vec<u8>, (StoredSession, u64)>,
    by_use: BTreeMap<u64, Vec<u8>>,
    clock: u64,
}

impl SessionCache {
    /// A cache of at most `capacity` sessions (0 = remember nothing), each resumable for
    /// `lifetime_secs` after its full handshake.
    pub fn new(capacity: usize, lifetime_secs: u64) -> Self {
        Self {
            capacity,
            lifetime_secs,
            inner: Mutex::new(Lru::default()),
        }
    }

    pub fn lifetime_secs(&self) -> u64 {
        self.lifetime_secs
    }

    /// Sessions held now.
    pub fn len(&self) -> usize {
        self.inner.lock().map(|l| l.entries.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Remember `session` under `id`, evicting the least recently used one when full.
    pub fn insert(&self, id: &[u8], session: StoredSession) {
        if self.capacity == 0 || id.is_empty() {
            return;
        }
        let Ok(mut lru) = self.inner.lock() else {
            return;
        };
        let lru = &mut *lru;
        lru.clock += 1;
        let stamp = lru.clock;
        if let Some((_, old)) = lru.entries.insert(id.to_vec(), (session, stamp)) {
            lru.by_use.remove(&old);
        }
        lru.by_use.insert(stamp, id.to_vec());
        while lru.entries.len() > self.capacity {
            let Some((_, oldest)) = lru.by_use.pop_first() else {
                break;
            };
            lru.entries.remove(&oldest);
        }
    }

    /// The session under `id` if it is still within its lifetime at `now` (an expired one is
    /// dropped). A hit counts as a use.
    pub fn get(&self, id: &[u8], now: i64) -> Option<StoredSession> {
        let mut lru = self.inner.lock().ok()?;
        let lru = &mut *lru;
        let (session, stamp) = lru.entries.get(id)?;
        let old = *stamp;
        if session.expired(now, self.lifetime_secs) {
            lru.entries.remove(id);
            lru.by_use.remove(&old);
            return None;
        }
        let session = session.clone();
        lru.clock += 1;
        let stamp = lru.clock;
        lru.by_use.remove(&old);
        lru.by_use.insert(stamp, id.to_vec());
        if let Some(entry) = lru.entries.get_mut(id) {
            entry.1 = stamp;
        }
        Some(session)
    }

    /// Forget `id` (a session that must not be resumed again).
    pub fn remove(&self, id: &[u8]) {
        if let Ok(mut lru) = self.inner.lock() {
            if let Some((_, stamp)) = lru.entries.remove(id) {
                lru.by_use.remove(&stamp);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::tests::sample;

    fn id(n: u32) -> Vec<u8> {
        let mut id = vec![0u8; 32];
        id[..4].copy_from_slice(&n.to_be_bytes());
        id
    }

    /// A flood of a million new sessions leaves the cache at its capacity, holding the newest.
    #[test]
    fn flood_stays_at_capacity() {
        let cache = SessionCache::new(100, 300);
        let session = sample();
        for n in 0..1_000_000 {
            cache.insert(&id(n), session.clone());
        }
        assert_eq!(cache.len(), 100);
        let lru = cache.inner.lock().expect("lock");
        assert_eq!(lru.by_use.len(), 100, "the use order is bounded too");
        drop(lru);
        let now = session.created;
        assert!(cache.get(&id(999_999), now).is_some());
        assert!(cache.get(&id(999_900), now).is_some());
        assert!(cache.get(&id(999_899), now).is_none());
    }

    #[test]
    fn least_recently_used_goes_first() {
        let cache = SessionCache::new(2, 300);
        let s = sample();
        cache.insert(&id(1), s.clone());
        cache.insert(&id(2), s.clone());
        assert!(cache.get(&id(1), s.created).is_some()); // 1 is now the most recent
        cache.insert(&id(3), s.clone());
        assert!(cache.get(&id(2), s.created).is_none());
        assert!(cache.get(&id(1), s.created).is_some());
        assert!(cache.get(&id(3), s.created).is_some());
    }

    #[test]
    fn expired_and_disabled() {
        let cache = SessionCache::new(2, 300);
        let s = sample();
        cache.insert(&id(1), s.clone());
        assert!(cache.get(&id(1), s.created + 301).is_none());
        assert!(cache.is_empty(), "an expired entry is dropped");
        let off = SessionCache::new(0, 300);
        off.insert(&id(1), s.clone());
        assert!(off.get(&id(1), s.created).is_none());
    }
}
