//! Our own server, in this process, for tests that fetch its built-in site (the lab, the
//! gallery) with this client: a certs dir per server copied from one made once (no key
//! generation per test), and the server on 127.0.0.1 port 0 in a background thread.

#![allow(dead_code)]

use std::path::Path;
use std::sync::{mpsc, OnceLock};
use std::time::Duration;

/// A running server: its port, its gallery (kind, URL) and its certs dir (kept alive here).
pub struct Site {
    pub port: u16,
    pub gallery: Vec<(String, String)>,
    pub certs: tempfile::TempDir,
}

impl Site {
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }

    pub fn ca(&self) -> std::path::PathBuf {
        self.certs.path().join("ca.pem")
    }

    pub fn gallery_url(&self, kind: &str) -> String {
        self.gallery
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, u)| u.clone())
            .unwrap_or_else(|| panic!("no {kind} listener in {:?}", self.gallery))
    }
}

/// Start the built-in site (with the gallery when asked). The server runs until the test
/// process ends.
pub fn start(gallery: bool) -> Site {
    let certs = fresh_certs();
    let opts = server::Options {
        listen: "127.0.0.1:0".parse().expect("address"),
        certs_dir: certs.path().to_path_buf(),
        gallery,
        ..server::Options::default()
    };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let server = match server::Server::bind(opts).await {
                Ok(s) => s,
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
            };
            let _ = tx.send(Ok((server.https_addr().port(), server.gallery().to_vec())));
            let _ = server.serve(std::future::pending()).await;
        });
    });
    let (port, gallery) = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("server started in time")
        .expect("server bound");
    Site {
        port,
        gallery,
        certs,
    }
}

fn fresh_certs() -> tempfile::TempDir {
    static TEMPLATE: OnceLock<tempfile::TempDir> = OnceLock::new();
    let template = TEMPLATE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = tls::testing::pki();
        std::fs::copy(pki.ca(), dir.path().join("ca.pem")).expect("copy CA");
        std::fs::copy(pki.ca_key(), dir.path().join("ca-key.pem")).expect("copy CA key");
        let identity = server::certs::local(dir.path(), &mut |_| {}).expect("local CA");
        server::gallery::make(
            dir.path(),
            &tls::config::Common::default(),
            &identity.key,
            &mut |_| {},
        )
        .expect("gallery");
        dir
    });
    let copy = tempfile::tempdir().expect("tempdir");
    copy_dir(template.path(), copy.path());
    copy
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
