//! `-v`: the handshake narration of [`tls::explain`] from the server's side, one block per
//! connection. Steps are held until the handshake completes (or fails) so that concurrent
//! connections do not interleave; later steps (the first record each way taken apart, the
//! close) are printed as they happen, each titled with the client's address.
//!
//! Secrets (pre-master, master secret, key block, key log line) are shown only when the server
//! also writes them with `--keylog`: `-v` output lands in logs that are not meant to decrypt
//! traffic. Peer-chosen strings (SNI, ALPN) arrive escaped by `tls::explain`, and any line
//! carrying a control character is escaped whole, so a ClientHello cannot drive the terminal
//! reading the log.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tls::explain::{Explainer, Line, Step};
use tls::trace::{Event, Observer};

/// Narrates one connection on stderr.
pub struct Narrator {
    peer: SocketAddr,
    color: bool,
    show_secrets: bool,
    state: Mutex<State>,
}

struct State {
    explainer: Explainer,
    /// Steps waiting for the end of the handshake.
    held: Vec<Step>,
    handshake_done: bool,
}

impl Narrator {
    /// With the config, the narration can show the RSA block the server's key recovers.
    /// `show_secrets`: print the secrets' values (the server was given `--keylog`).
    pub fn new(peer: SocketAddr, show_secrets: bool) -> Arc<Self> {
        Arc::new(Self {
            peer,
            show_secrets,
            color: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            state: Mutex::new(State {
                explainer: Explainer::server(),
                held: Vec::new(),
                handshake_done: false,
            }),
        })
    }

    /// Print what is held (a handshake that failed part-way still shows how far it got).
    pub fn flush(&self) {
        let held = match self.state.lock() {
            Ok(mut state) => std::mem::take(&mut state.held),
            Err(_) => return,
        };
        self.print(&held);
    }

    fn print(&self, steps: &[Step]) {
        if steps.is_empty() {
            return;
        }
        let mut text = String::new();
        for step in steps {
            let mut step = printable(step, self.show_secrets);
            step.title = format!("{} {}", self.peer, step.title);
            text.push_str(&step.render(self.color));
            text.push('\n');
        }
        // A closed stderr must not stop the server.
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

impl Observer for Narrator {
    fn event(&self, event: &Event<'_>) {
        let ready = {
            let Ok(mut state) = self.state.lock() else {
                return;
            };
            let steps = state.explainer.event(event);
            if state.handshake_done {
                steps
            } else {
                state.held.extend(steps);
                if matches!(event, Event::HandshakeComplete { .. }) {
                    state.handshake_done = true;
                    std::mem::take(&mut state.held)
                } else {
                    Vec::new()
                }
            }
        };
        self.print(&ready);
    }
}

impl Drop for Narrator {
    fn drop(&mut self) {
        self.flush();
    }
}

/// What the narration shows in place of a secret without `--keylog`.
pub const HIDDEN: &str = "(hidden: the server shows secrets only with --keylog FILE)";

/// Fields whose values are key material.
fn is_secret(label: &str) -> bool {
    matches!(
        label,
        // A GCM record's nonce holds the salt (client/server_write_IV from the key block).
        "pre-master secret" | "master secret" | "key log line" | "nonce"
    ) || label.starts_with("client_write_")
        || label.starts_with("server_write_")
}

/// A step as it may be printed: secrets hidden unless `show_secrets`, control characters
/// escaped. SNI and ALPN come already escaped from `tls::explain`: escaping them again would
/// double every backslash.
pub fn printable(step: &Step, show_secrets: bool) -> Step {
    let lines = step
        .lines
        .iter()
        .map(|line| match line {
            Line::Field(label, _) if !show_secrets && is_secret(label) => {
                Line::Field(label.clone(), HIDDEN.to_string())
            }
            Line::Field(label, value) => Line::Field(
                crate::log::terminal_safe(label),
                crate::log::terminal_safe(value),
            ),
            Line::Text(t) => Line::Text(crate::log::terminal_safe(t)),
            Line::Dump { wire, row } => Line::Dump {
                wire: *wire,
                row: crate::log::terminal_safe(row),
            },
        })
        .collect();
    Step {
        title: crate::log::terminal_safe(&step.title),
        lines,
    }
}

/// Sends each event to several observers (the built-in site's transcript and the narration).
pub struct Fanout(pub Vec<Arc<dyn Observer>>);

impl Observer for Fanout {
    fn event(&self, event: &Event<'_>) {
        for observer in &self.0 {
            observer.event(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(lines: Vec<Line>) -> Step {
        Step {
            title: "[TLS 1] t".into(),
            lines,
        }
    }

    #[test]
    fn secrets_are_hidden_unless_asked_for() {
        let s = step(vec![
            Line::Field("master secret".into(), "abcd".into()),
            Line::Field("client_write_key (16 bytes)".into(), "ef01".into()),
            Line::Field("key log line".into(), "CLIENT_RANDOM 00 abcd".into()),
            Line::Field("client random".into(), "1234".into()),
        ]);
        let hidden = printable(&s, false);
        for line in &hidden.lines[..3] {
            assert!(matches!(line, Line::Field(_, v) if v == HIDDEN), "{line:?}");
        }
        assert_eq!(hidden.lines[3], s.lines[3]);
        assert_eq!(printable(&s, true), s);
    }

    #[test]
    fn peer_strings_are_escaped() {
        let s = step(vec![
            Line::Field("server_name (SNI)".into(), "a\u{1b}[2Jb".into()),
            Line::Text("plain — text".into()),
            Line::Text("bad\u{9b}text".into()),
        ]);
        let p = printable(&s, true);
        assert_eq!(
            p.lines[0],
            Line::Field("server_name (SNI)".into(), "a\\x1b[2Jb".into())
        );
        assert_eq!(p.lines[1], s.lines[1]);
        assert_eq!(p.lines[2], Line::Text("bad\\xc2\\x9btext".into()));
    }
}
