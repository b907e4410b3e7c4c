//! `--wire` on a plain `http://` connection: a transport wrapper that prints every chunk of
//! bytes written and read, as a packet capture would see them. (For `https://` the records come
//! from the TLS events instead: see [`crate::explain::ExplainObserver`].)

use crate::explain::print_steps;
use crate::tap::{ByteSink, ByteTap};
use tls::explain::plain_step;
use tls::trace::Direction;

/// Prints each chunk as a `--wire` step.
pub struct WireSink {
    color: bool,
}

impl ByteSink for WireSink {
    fn bytes(&mut self, direction: Direction, bytes: &[u8]) {
        print_steps(&[plain_step(direction, bytes)], self.color);
    }
}

pub type WireTap<IO> = ByteTap<IO, WireSink>;

impl<IO> WireTap<IO> {
    pub fn new(inner: IO, color: bool) -> Self {
        ByteTap::with_sink(inner, WireSink { color })
    }
}
