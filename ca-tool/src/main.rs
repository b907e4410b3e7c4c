//! `ca-tool` binary: all the work is in the library (`ca_tool::run`), so tests can call it too.

#![deny(unsafe_code)]

fn main() {
    std::process::exit(ca_tool::run(std::env::args_os()));
}
