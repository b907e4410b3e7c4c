//! The TLS sessions this run can resume, per `host:port` (curl's session cache): filled after
//! each handshake, offered on the next connection to the same site — another URL of the
//! command line or a redirect — and, with `--session-file`, across runs.
//!
//! A session is offered only to the site it was made with (the library also checks the
//! server name), so a resumed connection talks to the server that was authenticated then.

use std::collections::HashMap;
use std::path::Path;
use tls::session::ClientSession;

#[derive(Default)]
pub struct Sessions {
    by_site: HashMap<String, ClientSession>,
}

impl Sessions {
    /// The session in the file, if it is there and readable (a missing or malformed file
    /// just means: no session). It is offered only to the site it was made with.
    pub fn load(path: Option<&Path>) -> Self {
        let mut sessions = Self::default();
        let Some(path) = path else {
            return sessions;
        };
        // Bounded read: a session file is small; anything huge is not ours.
        let Ok(bytes) = read_bounded(path, 64 * 1024) else {
            return sessions;
        };
        if let Some((site, session)) = decode_file(&bytes) {
            sessions.by_site.insert(site, session);
        }
        sessions
    }

    pub fn get(&self, site: &str) -> Option<ClientSession> {
        self.by_site.get(site).cloned()
    }

    pub fn put(&mut self, site: &str, session: ClientSession) {
        self.by_site.insert(site.to_string(), session);
    }
}

fn read_bounded(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::ErrorKind::InvalidData.into());
    }
    Ok(bytes)
}

/// File format: `site` (u8 length + bytes), then [`ClientSession::to_bytes`].
fn decode_file(bytes: &[u8]) -> Option<(String, ClientSession)> {
    let (&len, rest) = bytes.split_first()?;
    let (site, rest) = rest.split_at_checked(usize::from(len))?;
    let site = std::str::from_utf8(site).ok()?.to_string();
    Some((site, ClientSession::from_bytes(rest).ok()?))
}

fn encode_file(site: &str, session: &ClientSession) -> Option<Vec<u8>> {
    let mut out = vec![u8::try_from(site.len()).ok()?];
    out.extend_from_slice(site.as_bytes());
    out.extend_from_slice(&session.to_bytes());
    Some(out)
}

/// Write the session for `site` to `path`, readable by its owner only (it holds a master
/// secret). Written to a temporary file first, then renamed: never half a file.
pub fn save(path: &Path, site: &str, session: &ClientSession) -> std::io::Result<()> {
    let bytes = encode_file(site, session).ok_or(std::io::ErrorKind::InvalidInput)?;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    {
        use std::io::Write;
        let mut file = options.open(&tmp)?;
        #[cfg(unix)]
        {
            // An existing file keeps its mode on open: make sure it is 0600.
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(&bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_files_are_no_session() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s");
        for bytes in [&b""[..], b"\x05abc", b"\x03abcNOTASESSION", &[0xff; 300]] {
            std::fs::write(&path, bytes).expect("write");
            assert!(Sessions::load(Some(&path)).get("abc").is_none());
        }
        assert!(Sessions::load(Some(&dir.path().join("missing")))
            .get("abc")
            .is_none());
    }
}
