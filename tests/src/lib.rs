//! Interoperability tests that need external programs (openssl, curl) live in `tests/tests/`;
//! this crate has no code of its own. Tests that need none live with their crate (`tls/tests/`).

#![deny(unsafe_code)]
