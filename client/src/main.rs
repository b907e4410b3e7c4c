//! The `client` binary: parse curl-style flags and run (see the library for the parts).

#![deny(unsafe_code)]

use clap::Parser;

fn main() {
    let args = client::cli::Args::parse();
    std::process::exit(client::run(args));
}
