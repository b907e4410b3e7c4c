//! Shared helpers: a throw-away PKI made by `openssl` (so our code is checked against
//! certificates it did not make), configs loaded from it, and small process helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, OnceLock};
use tls::pki::trust::TrustStore;
use tls::{ClientConfig, ServerConfig};

/// Root CA → server certificate for `localhost` and `127.0.0.1`, made with openssl in a
/// temporary directory that lives as long as the test binary.
pub struct Pki {
    _dir: tempfile::TempDir,
    pub dir: PathBuf,
}

impl Pki {
    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }
    pub fn leaf(&self) -> PathBuf {
        self.dir.join("leaf.pem")
    }
    pub fn leaf_key(&self) -> PathBuf {
        self.dir.join("leaf-key.pem")
    }
}

pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(make_pki)
}

fn make_pki() -> Pki {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    let ext = path.join("leaf.ext");
    std::fs::write(
        &ext,
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .expect("write ext");
    let steps: [&[&str]; 3] = [
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca-key.pem",
            "-out",
            "ca.pem",
            "-days",
            "30",
            "-subj",
            "/CN=Test Root CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "leaf-key.pem",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=localhost",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-days",
            "30",
            "-out",
            "leaf.pem",
            "-extfile",
            "leaf.ext",
        ],
    ];
    for args in steps {
        let out = openssl(&path, args);
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Pki {
        _dir: dir,
        dir: path,
    }
}

pub fn openssl(dir: &Path, args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("cannot run openssl: install the Debian package `openssl`")
}

pub fn server_config(pki: &Pki) -> ServerConfig {
    let chain = tls::pki::pem::parse_certificates(&std::fs::read(pki.leaf()).expect("leaf"))
        .expect("leaf pem");
    let key = tls::pki::keys::read_private_key(&pki.leaf_key()).expect("leaf key");
    ServerConfig::new(chain, key).expect("server config")
}

pub fn client_config(pki: &Pki) -> ClientConfig {
    let roots = TrustStore::from_pem(&std::fs::read(pki.ca()).expect("ca")).expect("ca pem");
    ClientConfig::new(roots)
}

pub fn arc<T>(t: T) -> Arc<T> {
    Arc::new(t)
}
