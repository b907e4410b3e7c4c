//! `-v`: the handshake narration of [`tls::explain`] from the server's side, one block per
//! connection. Steps are held until the handshake completes (or fails) so that concurrent
//! connections do not interleave; later steps (the first record each way taken apart, the
//! close) are printed as they happen, each titled with the client's address.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tls::explain::{Explainer, Step};
use tls::trace::{Event, Observer};

/// Narrates one connection on stderr.
pub struct Narrator {
    peer: SocketAddr,
    color: bool,
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
    pub fn new(peer: SocketAddr, config: Arc<tls::ServerConfig>) -> Arc<Self> {
        Arc::new(Self {
            peer,
            color: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            state: Mutex::new(State {
                explainer: Explainer::server(Some(config)),
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
            let mut step = step.clone();
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

/// Sends each event to several observers (the built-in site's transcript and the narration).
pub struct Fanout(pub Vec<Arc<dyn Observer>>);

impl Observer for Fanout {
    fn event(&self, event: &Event<'_>) {
        for observer in &self.0 {
            observer.event(event);
        }
    }
}
