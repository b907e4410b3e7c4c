//! Small files kept in memory, one cache per worker thread: a repeated request for the same
//! small file is answered without `open`/`read`/`close` and without formatting its validators
//! again (issue #17; nginx's `open_file_cache` keeps descriptors open for the same reason).
//!
//! An entry is used only while the file is provably the one that was read: the `lstat` the
//! path check makes on every request anyway must show the same device, inode, size, mtime and
//! ctime, to the nanosecond. Any write, truncation, `chmod` or rename over the file changes
//! one of them, and ctime cannot be set from user space. Timestamps only move once per kernel
//! clock tick, though, so a file written twice within one tick at the same size would look
//! unchanged. As git does with "racy" index entries, a file changed within the last
//! [`SETTLED`] is read from disk and not kept: any change after an entry is kept then carries
//! a later ctime.

use hyper::body::Bytes;
use hyper::header::HeaderValue;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Entries per worker at most; a full cache starts again empty (bounded, and it adapts).
const MAX_ENTRIES: usize = 256;
/// File bytes per worker at most.
const MAX_BYTES: usize = 4 * 1024 * 1024;
/// How long a file must have been left alone before it is kept: many clock ticks.
const SETTLED: Duration = Duration::from_secs(2);

/// What a response needs of a file besides its bytes: RFC 9110 §8.8's validators, made from
/// its size and modification time.
#[derive(Clone)]
pub struct Validators {
    /// Seconds since the epoch (HTTP dates have no finer resolution).
    pub mtime: u64,
    pub etag: HeaderValue,
    pub last_modified: HeaderValue,
}

impl Validators {
    pub fn of(meta: &Metadata) -> Self {
        let len = meta.len();
        let mtime = meta
            .modified()
            .ok()
            .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        let last_modified = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(mtime));
        let value = |s: String| HeaderValue::from_str(&s).unwrap_or(HeaderValue::from_static(""));
        Self {
            mtime,
            etag: value(format!("\"{len:x}-{mtime:x}\"")),
            last_modified: value(last_modified),
        }
    }
}

/// A small file as it was read: all its bytes (ranges are sliced from them) and validators.
#[derive(Clone)]
pub struct Cached {
    pub bytes: Bytes,
    pub validators: Validators,
}

/// What identifies one version of one file.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Identity {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Identity {
    fn of(meta: &Metadata) -> Self {
        Self {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        }
    }

    /// Whether the last change is far enough in the past that the next one will show.
    fn settled(&self, now: SystemTime) -> bool {
        let now = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        self.ctime.0.saturating_add(SETTLED.as_secs() as i64) < now
    }
}

struct Entry {
    identity: Identity,
    file: Cached,
}

#[derive(Default)]
struct Cache {
    entries: HashMap<PathBuf, Entry>,
    bytes: usize,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// The file kept for `path`, if `meta` (its metadata now) shows it unchanged since it was read.
pub fn get(path: &Path, meta: &Metadata) -> Option<Cached> {
    let identity = Identity::of(meta);
    CACHE.with(|cache| {
        let cache = cache.try_borrow().ok()?;
        let entry = cache.entries.get(path)?;
        (entry.identity == identity).then(|| entry.file.clone())
    })
}

/// Keep `file`, read from `path` whose metadata before the read was `meta`, if it has settled.
/// (Were it changed between that `lstat` and the read, its identity now differs from `meta`'s
/// and the entry is never used.)
pub fn keep(path: &Path, meta: &Metadata, file: &Cached) {
    keep_at(path, meta, file, SystemTime::now());
}

fn keep_at(path: &Path, meta: &Metadata, file: &Cached, now: SystemTime) {
    let identity = Identity::of(meta);
    if !identity.settled(now) || file.bytes.len() > MAX_BYTES {
        return;
    }
    CACHE.with(|cache| {
        let Ok(mut cache) = cache.try_borrow_mut() else {
            return;
        };
        if let Some(old) = cache.entries.remove(path) {
            cache.bytes -= old.file.bytes.len();
        }
        if cache.entries.len() >= MAX_ENTRIES || cache.bytes + file.bytes.len() > MAX_BYTES {
            cache.entries.clear();
            cache.bytes = 0;
        }
        cache.bytes += file.bytes.len();
        cache.entries.insert(
            path.to_path_buf(),
            Entry {
                identity,
                file: file.clone(),
            },
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn cached(bytes: &'static [u8], meta: &Metadata) -> Cached {
        Cached {
            bytes: Bytes::from_static(bytes),
            validators: Validators::of(meta),
        }
    }

    fn lstat(path: &Path) -> Metadata {
        std::fs::symlink_metadata(path).expect("lstat")
    }

    /// Long enough after any write of this test for its files to count as settled.
    fn later() -> SystemTime {
        SystemTime::now() + SETTLED + Duration::from_secs(1)
    }

    #[test]
    fn a_file_just_changed_is_not_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.txt");
        std::fs::write(&path, b"one").expect("write");
        let meta = lstat(&path);
        let now = SystemTime::now();
        assert!(!Identity::of(&meta).settled(now));
        assert!(Identity::of(&meta).settled(later()));
        keep(&path, &meta, &cached(b"one", &meta));
        assert!(get(&path, &meta).is_none());
    }

    #[test]
    fn an_entry_serves_only_the_version_it_was_read_from() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.txt");
        std::fs::write(&path, b"one").expect("write");
        let meta = lstat(&path);
        keep_at(&path, &meta, &cached(b"one", &meta), later());
        let hit = get(&path, &meta).map(|c| c.bytes);
        assert_eq!(hit, Some(Bytes::from_static(b"one")));
        assert!(
            get(&dir.path().join("b.txt"), &meta).is_none(),
            "keyed by path"
        );

        // Rewritten in place, same size, same inode: the kernel moved ctime (a rewrite within
        // the same clock tick is what `settled` keeps out, checked above).
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("open");
        f.write_all(b"two").expect("rewrite in place");
        drop(f);
        let after = lstat(&path);
        assert_eq!((after.len(), after.ino()), (meta.len(), meta.ino()));
        if Identity::of(&after) != Identity::of(&meta) {
            assert!(get(&path, &after).is_none(), "a changed file is read again");
        }
        // Another file renamed over it: a new inode.
        let other = dir.path().join("b.txt");
        std::fs::write(&other, b"new").expect("write");
        std::fs::rename(&other, &path).expect("rename");
        assert!(get(&path, &lstat(&path)).is_none());
    }

    #[test]
    fn the_cache_stays_bounded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x");
        std::fs::write(&path, b"x").expect("write");
        let meta = lstat(&path);
        for i in 0..MAX_ENTRIES {
            keep_at(
                &dir.path().join(i.to_string()),
                &meta,
                &cached(b"x", &meta),
                later(),
            );
        }
        let count = || CACHE.with(|c| c.borrow().entries.len());
        assert_eq!(count(), MAX_ENTRIES);
        // Full: it starts again, holding the new entry only.
        keep_at(&path, &meta, &cached(b"x", &meta), later());
        assert_eq!(count(), 1);
        assert!(get(&path, &meta).is_some());
        // A file larger than the whole budget is never kept.
        let big = Cached {
            bytes: Bytes::from(vec![0u8; MAX_BYTES + 1]),
            validators: Validators::of(&meta),
        };
        keep_at(&dir.path().join("big"), &meta, &big, later());
        assert_eq!(count(), 1);
        assert_eq!(CACHE.with(|c| c.borrow().bytes), 1);
    }
}
