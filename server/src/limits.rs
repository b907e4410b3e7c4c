//! Process-wide limits (issue #20): the open-files limit raised to its hard maximum at start
//! (nginx's `worker_rlimit_nofile`: every connection is a descriptor, and the usual soft limit
//! of 1024 would cap the server below `--max-connections`), the memory a connection may hold,
//! and the resident-memory cap beyond which new connections are refused.

/// What one connection may hold while it waits on its peer: hyper's read buffer and queued body
/// (16 KiB each, `connection::MAX_BUF`), one file frame (up to 32 KiB, `files::CHUNK`) and
/// sealed records up to the TLS stream's watermark (32 KiB). Measured with the release build
/// (jemalloc, 1,000 stalled readers) when frames were 16 KiB: ~83 KiB of resident memory each,
/// allocator slack included; ~30 KiB for an idle keep-alive connection.
pub const PER_CONNECTION: u64 = 96 * 1024;

/// The open-files limit before and after raising it (`None`: could not be read).
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenFiles {
    pub before: Option<u64>,
    pub now: Option<u64>,
}

/// Raise the soft open-files limit to the hard one.
pub fn raise_open_files() -> OpenFiles {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let current = getrlimit(Resource::Nofile);
    let before = current.current;
    let mut now = before;
    if let Some(hard) = current.maximum {
        if before.is_some_and(|soft| soft < hard) {
            let raised = Rlimit {
                current: Some(hard),
                maximum: Some(hard),
            };
            if setrlimit(Resource::Nofile, raised).is_ok() {
                now = Some(hard);
            }
        }
    }
    OpenFiles { before, now }
}

/// This process's resident memory in bytes (Linux: /proc/self/statm), if known.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    pages.checked_mul(rustix::param::page_size() as u64)
}

/// [`resident_bytes`] read at most once per [`MemoryGauge::EVERY`]: the accept loop asks for
/// every connection, and reading `/proc` is three system calls (open, read, close) each time.
#[derive(Default)]
pub struct MemoryGauge {
    last: Option<(std::time::Instant, Option<u64>)>,
}

impl MemoryGauge {
    /// How stale the figure may be: the connections accepted meanwhile are still counted
    /// against the cap by the next reading.
    pub const EVERY: std::time::Duration = std::time::Duration::from_millis(10);

    pub fn resident_bytes(&mut self) -> Option<u64> {
        let now = std::time::Instant::now();
        match self.last {
            Some((at, rss)) if now.duration_since(at) < Self::EVERY => rss,
            _ => {
                let rss = resident_bytes();
                self.last = Some((now, rss));
                rss
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_ends_at_the_hard_one() {
        let got = raise_open_files();
        let after = rustix::process::getrlimit(rustix::process::Resource::Nofile);
        assert_eq!(got.now, after.current);
        if let (Some(hard), Some(now)) = (after.maximum, got.now) {
            assert_eq!(now, hard);
        }
    }

    #[test]
    fn resident_memory_is_read() {
        let rss = resident_bytes().expect("/proc/self/statm");
        assert!(rss > 1024 * 1024, "{rss}");
    }
}
