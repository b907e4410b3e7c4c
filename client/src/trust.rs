//! Trust decisions beyond the standard chain check: `-k`, and certificate exceptions the user
//! chose to remember, stored like Firefox's `cert_override.txt`
//! (`host:port:<TAB>OID.2.16.840.1.101.3.4.2.1<TAB>SHA-256 fingerprint<TAB>`).
//!
//! An exception is keyed by host, port *and* the exact leaf certificate: a different
//! certificate on the same site is not covered, and the warning comes back saying it changed
//! (that is what a man-in-the-middle with his own certificate looks like).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tls::config::{CertCheck, VerifyPolicy};
use tls::pki::x509::{hex_colon, Certificate};
use tls::pki::CertError;

/// The OID of SHA-256, as Firefox writes it in front of each fingerprint.
const SHA256_OID: &str = "OID.2.16.840.1.101.3.4.2.1";
/// The file name inside the config directory.
pub const EXCEPTIONS_FILE: &str = "cert_override.txt";
/// A larger exceptions file is not ours: refuse to read it rather than allocate without bound.
const MAX_FILE_LEN: u64 = 4 * 1024 * 1024;

/// The directory for our settings: `$CLIENT_CONFIG_DIR`, else `$XDG_CONFIG_HOME/https-client`,
/// else `~/.config/https-client`.
pub fn config_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CLIENT_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("https-client"));
    }
    let home = std::env::var_os("HOME").filter(|d| !d.is_empty())?;
    Some(PathBuf::from(home).join(".config").join("https-client"))
}

/// One remembered exception.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exception {
    /// `host:port`
    pub site: String,
    pub fingerprint: [u8; 32],
}

/// The remembered exceptions, in file order.
#[derive(Clone, Debug, Default)]
pub struct Exceptions {
    path: Option<PathBuf>,
    entries: Vec<Exception>,
}

impl Exceptions {
    /// Load from the config directory (an absent file is an empty list). `Err` says why the
    /// file was refused (see [`Self::load`]).
    pub fn load_default() -> Result<Self, String> {
        match config_dir() {
            Some(dir) => Self::load(&dir.join(EXCEPTIONS_FILE)),
            None => Ok(Self::default()),
        }
    }

    /// Load a file; lines that do not parse are skipped (the file is meant for people to read,
    /// and a stray edit must not lock anybody out of everything). A file other users can write
    /// is refused: anyone could have added an exception to it and so vouched for any server.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = read_checked(path)?;
        Ok(Self {
            path: Some(path.to_path_buf()),
            entries: parse(&text),
        })
    }

    /// An empty list that [`Self::remember`] writes to `path`.
    pub fn empty_at(path: &Path) -> Self {
        Self {
            path: Some(path.to_path_buf()),
            entries: Vec::new(),
        }
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn entries(&self) -> &[Exception] {
        &self.entries
    }

    /// The fingerprint remembered for `site`, if any.
    pub fn lookup(&self, site: &str) -> Option<&[u8; 32]> {
        self.entries
            .iter()
            .find(|e| e.site == site)
            .map(|e| &e.fingerprint)
    }

    /// Remember `fingerprint` for `site` (in memory only), replacing what was there.
    pub fn insert(&mut self, site: &str, fingerprint: [u8; 32]) {
        self.entries.retain(|e| e.site != site);
        self.entries.push(Exception {
            site: site.to_string(),
            fingerprint,
        });
    }

    /// Remember `fingerprint` for `site` in the file. Under a lock on `<file>.lock` the file is
    /// read again (another run may have added entries since we loaded it), the entry added, and
    /// the whole written to a new temporary file (mode 0600, created exclusively, so a symlink
    /// planted there is not followed) that is renamed over the old one: no crash or concurrent
    /// run leaves half a file or loses an entry.
    pub fn remember(&mut self, site: &str, fingerprint: [u8; 32]) -> std::io::Result<()> {
        let path = self
            .path
            .clone()
            .ok_or_else(|| std::io::Error::other("no config directory (set HOME)"))?;
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir)?;

        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(lock_path(&path))?;
        // Released when `lock` is dropped (closed), also on every early return below.
        lock.lock()?;
        let text = read_checked(&path).map_err(std::io::Error::other)?;
        self.entries = parse(&text);
        self.insert(site, fingerprint);
        write_atomically(&dir, &path, render(&self.entries).as_bytes())
    }
}

/// `cert_override.txt` -> `cert_override.txt.lock`
fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".lock");
    PathBuf::from(name)
}

/// The file's text ("" when it does not exist); refused when other users may write it, or
/// when it is too large to be ours.
fn read_checked(path: &Path) -> Result<String, String> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(String::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o022 != 0 {
            return Err(format!(
                "not using the certificate exceptions in {}: other users can write to it \
                 (mode {mode:04o}), so anyone could have added one. Check its entries, then \
                 run: chmod 600 {}",
                path.display(),
                path.display()
            ));
        }
    }
    if meta.len() > MAX_FILE_LEN {
        return Err(format!(
            "not using the certificate exceptions in {}: larger than {MAX_FILE_LEN} bytes",
            path.display()
        ));
    }
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Write `bytes` to `path` through a fresh temporary file in `dir` and a rename.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let base = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| EXCEPTIONS_FILE.to_string());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    write_via_temp(dir, &base, path, bytes, nanos)
}

/// [`write_atomically`] with the temporary names' salt given (tests plant files at them).
fn write_via_temp(
    dir: &Path,
    base: &str,
    path: &Path,
    bytes: &[u8],
    nanos: u32,
) -> std::io::Result<()> {
    // A name taken (a leftover, or something planted) is skipped, never opened: bounded tries.
    for attempt in 0..100u32 {
        let tmp = dir.join(format!(
            ".{base}.{}.{nanos:x}.{attempt}.tmp",
            std::process::id()
        ));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = match options.open(&tmp) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        };
        let written = (|| {
            // Exactly 0600 whatever the umask.
            #[cfg(unix)]
            file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
            std::io::Write::write_all(&mut file, bytes)?;
            file.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        return written;
    }
    Err(std::io::Error::other(
        "no free temporary file name next to the exceptions file",
    ))
}

/// How the certificate check of one connection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The chain verified.
    Trusted,
    /// Did not verify; `-k` continued.
    Insecure,
    /// Did not verify; a remembered exception for exactly this certificate continued.
    Exception,
    /// Did not verify; the user just accepted this certificate.
    AcceptedNow,
    /// Did not verify and nothing allowed it. `changed` holds the fingerprint remembered for
    /// this site when the server now shows a different certificate.
    Refused { changed: Option<[u8; 32]> },
}

/// What the policy saw, for the warning page and `-v`.
#[derive(Clone, Debug)]
pub struct Seen {
    pub chain: Vec<Certificate>,
    pub server_name: String,
    pub error: Option<CertError>,
    pub verdict: Verdict,
}

/// The client's [`VerifyPolicy`]: the standard verdict, then `-k`, then a remembered or
/// just-accepted exception. It records what it saw so the caller can show a warning and ask.
pub struct ClientPolicy {
    insecure: bool,
    remembered: Option<[u8; 32]>,
    accept_once: Option<[u8; 32]>,
    seen: Mutex<Option<Seen>>,
}

impl ClientPolicy {
    /// `site` is `host:port`; `exceptions` are the remembered ones; `accept_once` is a leaf
    /// fingerprint the user accepted at the prompt for this run.
    pub fn new(
        site: &str,
        insecure: bool,
        exceptions: &Exceptions,
        accept_once: Option<[u8; 32]>,
    ) -> Self {
        Self {
            insecure,
            remembered: exceptions.lookup(site).copied(),
            accept_once,
            seen: Mutex::new(None),
        }
    }

    /// What the last check saw (`None` before the server's Certificate arrived).
    pub fn seen(&self) -> Option<Seen> {
        self.seen.lock().ok().and_then(|s| s.clone())
    }

    fn judge(&self, leaf: Option<&Certificate>) -> Verdict {
        let fingerprint = leaf.map(Certificate::sha256_fingerprint);
        if self.insecure {
            return Verdict::Insecure;
        }
        match (fingerprint, self.accept_once, self.remembered) {
            (Some(fp), Some(ok), _) if fp == ok => Verdict::AcceptedNow,
            (Some(fp), _, Some(remembered)) if fp == remembered => Verdict::Exception,
            (_, _, Some(remembered)) => Verdict::Refused {
                changed: Some(remembered),
            },
            _ => Verdict::Refused { changed: None },
        }
    }
}

impl VerifyPolicy for ClientPolicy {
    fn decide(&self, check: &CertCheck<'_>) -> Result<(), CertError> {
        let (verdict, error) = match check.outcome {
            Ok(_) => (Verdict::Trusted, None),
            Err(e) => (self.judge(check.presented.first()), Some(e.clone())),
        };
        let refused = matches!(verdict, Verdict::Refused { .. });
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(Seen {
                chain: check.presented.to_vec(),
                server_name: check.server_name.to_string(),
                error: error.clone(),
                verdict,
            });
        }
        match error {
            Some(e) if refused => Err(e),
            _ => Ok(()),
        }
    }
}

/// Upper-case colon-separated hex, as `openssl x509 -fingerprint -sha256` and Firefox show it.
pub fn fingerprint_text(fingerprint: &[u8; 32]) -> String {
    hex_colon(fingerprint, true)
}

fn parse(text: &str) -> Vec<Exception> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let site = fields.next()?.strip_suffix(':')?;
            if fields.next()? != SHA256_OID {
                return None;
            }
            let fingerprint = parse_fingerprint(fields.next()?)?;
            Some(Exception {
                site: site.to_string(),
                fingerprint,
            })
        })
        .collect()
}

fn parse_fingerprint(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    let mut parts = text.split(':');
    for byte in out.iter_mut() {
        let part = parts.next()?;
        if part.len() != 2 {
            return None;
        }
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    parts.next().is_none().then_some(out)
}

fn render(entries: &[Exception]) -> String {
    let mut out = String::from(
        "# Certificate exceptions of the https client (like Firefox's cert_override.txt).\n\
         # host:port:<TAB>hash OID<TAB>SHA-256 of the server certificate<TAB>\n",
    );
    for e in entries {
        out.push_str(&format!(
            "{}:\t{SHA256_OID}\t{}\t\n",
            e.site,
            fingerprint_text(&e.fingerprint)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(EXCEPTIONS_FILE);
        let mut ex = Exceptions::load(&path).unwrap();
        assert!(ex.entries().is_empty());
        ex.remember("localhost:8443", [0xAB; 32]).unwrap();
        ex.remember("127.0.0.1:8443", [0x01; 32]).unwrap();
        ex.remember("localhost:8443", [0xCD; 32]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("localhost:8443:\tOID.2.16.840.1.101.3.4.2.1\tCD:CD:"));
        let back = Exceptions::load(&path).unwrap();
        assert_eq!(back.entries().len(), 2);
        assert_eq!(back.lookup("localhost:8443"), Some(&[0xCD; 32]));
        assert_eq!(back.lookup("localhost:9"), None);
        assert_eq!(mode(&path), 0o600);
        // No temporary file is left behind; only the file and its lock.
        let mut names: Vec<String> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["cert_override.txt", "cert_override.txt.lock"]);
    }

    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn chmod(path: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn a_0644_file_becomes_0600_and_keeps_its_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EXCEPTIONS_FILE);
        std::fs::write(
            &path,
            render(&[Exception {
                site: "old:1".into(),
                fingerprint: [7; 32],
            }]),
        )
        .unwrap();
        chmod(&path, 0o644);
        let mut ex = Exceptions::load(&path).unwrap();
        ex.remember("new:2", [8; 32]).unwrap();
        assert_eq!(mode(&path), 0o600);
        let back = Exceptions::load(&path).unwrap();
        assert_eq!(back.lookup("old:1"), Some(&[7; 32]));
        assert_eq!(back.lookup("new:2"), Some(&[8; 32]));
    }

    #[test]
    fn a_file_others_can_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EXCEPTIONS_FILE);
        std::fs::write(
            &path,
            render(&[Exception {
                site: "h:1".into(),
                fingerprint: [7; 32],
            }]),
        )
        .unwrap();
        for unsafe_mode in [0o620, 0o602, 0o666] {
            chmod(&path, unsafe_mode);
            let why = Exceptions::load(&path).unwrap_err();
            assert!(why.contains("other users can write to it"), "{why}");
            assert!(why.contains(&format!("mode {unsafe_mode:04o}")), "{why}");
            assert!(why.contains("chmod 600"), "{why}");
            // Nor is it extended (which would launder the planted entries into a 0600 file).
            let mut ex = Exceptions::empty_at(&path);
            assert!(ex.remember("x:2", [1; 32]).is_err());
            assert_eq!(mode(&path), unsafe_mode);
        }
        chmod(&path, 0o600);
        assert_eq!(
            Exceptions::load(&path).unwrap().lookup("h:1"),
            Some(&[7; 32])
        );
    }

    #[test]
    fn concurrent_writers_keep_each_others_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EXCEPTIONS_FILE);
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let path = path.clone();
                std::thread::spawn(move || {
                    // Each run loaded the file before the others wrote, as two clients would.
                    let mut ex = Exceptions::load(&path).unwrap();
                    for i in 0..15 {
                        ex.remember(&format!("host{w}:{i}"), [w as u8; 32]).unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let back = Exceptions::load(&path).unwrap();
        assert_eq!(back.entries().len(), 60, "{:?}", back.entries());
    }

    #[test]
    fn a_symlink_at_a_temporary_name_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EXCEPTIONS_FILE);
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        // The old fixed name, and the first names this run would try.
        std::os::unix::fs::symlink(&victim, path.with_extension("tmp")).unwrap();
        for attempt in 0..3 {
            let tmp = dir.path().join(format!(
                ".{EXCEPTIONS_FILE}.{}.{:x}.{attempt}.tmp",
                std::process::id(),
                42
            ));
            std::os::unix::fs::symlink(&victim, tmp).unwrap();
        }
        write_via_temp(dir.path(), EXCEPTIONS_FILE, &path, b"new\n", 42).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        assert!(!std::fs::symlink_metadata(&path).unwrap().is_symlink());
        assert_eq!(mode(&path), 0o600);
        let mut ex = Exceptions::load(&path).unwrap();
        ex.remember("h:1", [3; 32]).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    }

    #[test]
    fn firefox_lines_parse_and_junk_is_skipped() {
        let fp = ["B6"; 32].join(":");
        let text = format!(
            "# PSM Certificate Override Settings file\nlocalhost:44502:\t{SHA256_OID}\t{fp}\t\n\
             junk\nh:1:\tOID.1.2.3\t{fp}\t\nh:2:\t{SHA256_OID}\tB6:B6\t\n"
        );
        let entries = parse(&text);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].site, "localhost:44502");
        assert_eq!(entries[0].fingerprint, [0xB6; 32]);
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,200}") {
            let _ = parse(&s);
        }
    }
}
