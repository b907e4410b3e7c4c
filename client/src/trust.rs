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
    /// Load from the config directory (an absent file is an empty list).
    pub fn load_default() -> Self {
        match config_dir() {
            Some(dir) => Self::load(&dir.join(EXCEPTIONS_FILE)),
            None => Self::default(),
        }
    }

    /// Load a file; lines that do not parse are skipped (the file is meant for people to read,
    /// and a stray edit must not lock anybody out of everything).
    pub fn load(path: &Path) -> Self {
        let text = std::fs::metadata(path)
            .ok()
            .filter(|m| m.len() <= MAX_FILE_LEN)
            .and_then(|_| std::fs::read_to_string(path).ok())
            .unwrap_or_default();
        Self {
            path: Some(path.to_path_buf()),
            entries: parse(&text),
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

    /// Remember `fingerprint` for `site`, replacing what was there.
    pub fn insert(&mut self, site: &str, fingerprint: [u8; 32]) {
        self.entries.retain(|e| e.site != site);
        self.entries.push(Exception {
            site: site.to_string(),
            fingerprint,
        });
    }

    /// Write the file (directory 0700, file 0600), through a temporary file and a rename so a
    /// crash never leaves half a file.
    pub fn save(&self) -> std::io::Result<()> {
        let path = self
            .path
            .as_deref()
            .ok_or_else(|| std::io::Error::other("no config directory (set HOME)"))?;
        if let Some(dir) = path.parent() {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(dir)?;
        }
        let tmp = path.with_extension("tmp");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        std::io::Write::write_all(&mut file, render(&self.entries).as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    }
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
        let mut ex = Exceptions::load(&path);
        assert!(ex.entries().is_empty());
        ex.insert("localhost:8443", [0xAB; 32]);
        ex.insert("127.0.0.1:8443", [0x01; 32]);
        ex.insert("localhost:8443", [0xCD; 32]);
        ex.save().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("localhost:8443:\tOID.2.16.840.1.101.3.4.2.1\tCD:CD:"));
        let back = Exceptions::load(&path);
        assert_eq!(back.entries().len(), 2);
        assert_eq!(back.lookup("localhost:8443"), Some(&[0xCD; 32]));
        assert_eq!(back.lookup("localhost:9"), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
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
