//! Fixtures for this workspace's test suites, behind the `testing` feature (enabled only by
//! dev-dependencies): the one throw-away PKI they share — a root CA and a leaf for `localhost`
//! and `127.0.0.1` signed by it — made once per test binary with our own builder, and written
//! as PEM files for tests that hand them to external programs (openssl, curl, the binaries).
//! A suite that needs a special certificate issues it itself from [`Pki::root`].

use crate::crypto::rsa::RsaPrivateKey;
use crate::pki::trust::TrustStore;
use crate::pki::x509::{Certificate, CertificateBuilder};
use crate::pki::{keys, pem};
use crate::{ClientConfig, ServerConfig};
use std::path::PathBuf;
use std::sync::OnceLock;

/// The names the leaf is valid for.
pub const LEAF_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// Root CA → leaf, in memory and as files in a directory that lives as long as the process.
pub struct Pki {
    _dir: tempfile::TempDir,
    /// The directory holding `ca.pem`, `ca-key.pem`, `leaf.pem` and `leaf-key.pem`.
    pub dir: PathBuf,
    pub root: Certificate,
    pub root_key: RsaPrivateKey,
    pub leaf: Certificate,
    leaf_key_pem: String,
    /// A client certificate (`CN=Test Client`, clientAuth) for the leaf's key, signed by the
    /// root: `client.pem`, its key is `leaf-key.pem`.
    pub client: Certificate,
}

/// The shared PKI, made on first use (key generation is the slow part).
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(make_pki)
}

fn make_pki() -> Pki {
    let root_key = RsaPrivateKey::generate(2048, &mut |_| {}).expect("root key");
    let leaf_key = RsaPrivateKey::generate(2048, &mut |_| {}).expect("leaf key");
    let root = CertificateBuilder::root_ca("Test Root CA")
        .self_signed(&root_key)
        .expect("root");
    let leaf = CertificateBuilder::server(&LEAF_NAMES)
        .expect("names")
        .sign(leaf_key.public_key(), &root, &root_key)
        .expect("leaf");
    let client = CertificateBuilder::client("Test Client", Some("client@example.test"))
        .expect("client name")
        .sign(leaf_key.public_key(), &root, &root_key)
        .expect("client");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    let write = |name: &str, text: &str| {
        std::fs::write(path.join(name), text).unwrap_or_else(|e| panic!("write {name}: {e}"))
    };
    write("ca.pem", &pem::encode_certificate(root.der()));
    write("leaf.pem", &pem::encode_certificate(leaf.der()));
    write("client.pem", &pem::encode_certificate(client.der()));
    // Keys as a real CA writes them (mode 0600): some readers check.
    keys::write_private_key(&path.join("ca-key.pem"), &root_key, false).expect("CA key");
    keys::write_private_key(&path.join("leaf-key.pem"), &leaf_key, false).expect("leaf key");
    let leaf_key_pem = keys::private_key_to_pem(&leaf_key);
    Pki {
        _dir: dir,
        dir: path,
        root,
        root_key,
        leaf,
        leaf_key_pem,
        client,
    }
}

impl Pki {
    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }
    pub fn ca_key(&self) -> PathBuf {
        self.dir.join("ca-key.pem")
    }
    pub fn leaf(&self) -> PathBuf {
        self.dir.join("leaf.pem")
    }
    pub fn leaf_key(&self) -> PathBuf {
        self.dir.join("leaf-key.pem")
    }

    /// The client certificate; its key is [`Pki::leaf_key`].
    pub fn client(&self) -> PathBuf {
        self.dir.join("client.pem")
    }

    /// A client certificate of the client profile for the leaf's key, signed by the root, as
    /// `adjust` made it (validity, purposes, …): for the tests of each refusal.
    pub fn client_cert_with(
        &self,
        adjust: impl FnOnce(CertificateBuilder) -> CertificateBuilder,
    ) -> Certificate {
        adjust(CertificateBuilder::client("Test Client", None).expect("client name"))
            .sign(
                self.leaf_private_key().public_key(),
                &self.root,
                &self.root_key,
            )
            .expect("client certificate")
    }

    /// A server asking for client certificates from the root.
    pub fn server_config_with_client_auth(&self, required: bool) -> ServerConfig {
        let mut roots = TrustStore::new();
        roots.add(self.root.clone());
        let mut config = self.server_config();
        config.client_auth = Some(crate::config::ClientAuth {
            roots,
            required,
            verify_time: None,
        });
        config
    }

    /// A fresh copy of the leaf's private key (keys are not `Clone`).
    pub fn leaf_private_key(&self) -> RsaPrivateKey {
        keys::private_key_from_pem(&self.leaf_key_pem).expect("leaf key")
    }

    /// A server presenting the leaf.
    pub fn server_config(&self) -> ServerConfig {
        ServerConfig::new(vec![self.leaf.der().to_vec()], self.leaf_private_key())
            .expect("server config")
    }

    /// A client trusting only the root.
    pub fn client_config(&self) -> ClientConfig {
        let mut roots = TrustStore::new();
        roots.add(self.root.clone());
        ClientConfig::new(roots)
    }
}
