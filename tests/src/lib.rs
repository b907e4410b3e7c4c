//! End-to-end and interoperability tests live in `tests/tests/`; this crate has no code of its own.

#![deny(unsafe_code)]
