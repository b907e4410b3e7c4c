//! Shared helpers of the in-memory suites: the workspace's fixture PKI (`tls::testing`) and
//! configs made from it.
#![allow(dead_code)]

use std::sync::Arc;
pub use tls::testing::{pki, Pki};
use tls::{ClientConfig, ServerConfig};

pub fn server_config(pki: &Pki) -> ServerConfig {
    pki.server_config()
}

pub fn client_config(pki: &Pki) -> ClientConfig {
    pki.client_config()
}

pub fn arc<T>(t: T) -> Arc<T> {
    Arc::new(t)
}
