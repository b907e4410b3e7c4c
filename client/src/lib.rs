//! `client`: fetch a URL over our TLS 1.2 stream (or plain TCP for `http://`) with hyper's
//! HTTP/1.1 client, with curl's flags, output and exit codes, and a browser-like decision when
//! the certificate does not verify.
//!
//! ```text
//!  cli (flags) -> fetch (the run: redirects, timeouts)
//!                   fetch::connect (resolve, TCP)   fetch::handshake (TLS)
//!                   fetch::decision (the prompt, exceptions)   fetch::transfer (hyper)
//!                   fetch::tls_config (flags -> ClientConfig, key log)
//!                   fetch::output (body and head to stdout or -o)
//!                   trust (policy, remembered exceptions)   warning (the page and the prompt)
//!                   verbose (-v)   tap (headers as on the wire)   progress   writeout (-w)
//!                   explain (--explain: TCP + TLS narration)   wire (--wire: bytes as sent)
//! ```

#![deny(unsafe_code)]

pub mod cli;
pub mod error;
pub mod explain;
pub mod fetch;
pub mod progress;
pub mod tap;
pub mod trust;
pub mod url;
pub mod verbose;
pub mod warning;
pub mod wire;
pub mod writeout;

use cli::{Args, Options};
use error::{ClientError, SSL_CERTS_TRAILER};
use std::io::Write;

/// Run the client with parsed arguments; returns the process exit code.
pub fn run(args: Args) -> i32 {
    let opts = match Options::from_args(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return e.code;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("client: cannot start the runtime: {e}");
            return 2;
        }
    };
    let mut session = fetch::Session::new(&opts);
    let result = runtime.block_on(session.run());
    let elapsed = session.elapsed();
    let mut report = session.report;
    let code = match &result {
        Ok(()) => 0,
        Err(e) => e.code,
    };
    report.time_total = elapsed;
    report.exitcode = code;
    if let Err(e) = &result {
        report.errormsg = e.message.clone();
    }
    let mut code = code;
    // -w goes out before the error message, as curl does it.
    if let Some(format) = &opts.write_out {
        let text = writeout::expand(format, &report);
        let mut out = std::io::stdout();
        if out
            .write_all(text.as_bytes())
            .and_then(|_| out.flush())
            .is_err()
            && code == 0
        {
            code = ClientError::write().code;
        }
    }
    if let Err(e) = &result {
        report_error(&opts, e);
    }
    code
}

fn report_error(opts: &Options, e: &ClientError) {
    if !opts.show_errors() {
        return;
    }
    eprintln!("{e}");
    if e.is_certificate_problem() {
        eprintln!("{SSL_CERTS_TRAILER}");
    }
}
