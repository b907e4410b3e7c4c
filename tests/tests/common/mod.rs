//! Shared helpers: the workspace's fixture PKI (`tls::testing`, written as PEM files so openssl
//! and curl can read it), configs made from it, and small process helpers.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
pub use tls::testing::{pki, Pki};
use tls::{ClientConfig, ServerConfig};

pub fn openssl(dir: &Path, args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("cannot run openssl: install the Debian package `openssl`")
}

pub fn server_config(pki: &Pki) -> ServerConfig {
    pki.server_config()
}

pub fn client_config(pki: &Pki) -> ClientConfig {
    pki.client_config()
}

pub fn arc<T>(t: T) -> Arc<T> {
    Arc::new(t)
}
