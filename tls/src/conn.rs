//! The connection, without I/O: bytes from the network go in with [`Connection::read_tls`] and
//! [`Connection::process_new_packets`]; bytes for the network come out of
//! [`Connection::outgoing`]; application data goes in with [`Connection::write_plaintext`] and
//! out with [`Connection::read_plaintext`]. The tokio adapter (`stream.rs`) only moves bytes.
//!
//! Record handling follows RFC 5246 §6 (content types, CCS, alerts) and §7.2 (close_notify).

use crate::alert::{Alert, AlertDescription, AlertLevel};
use crate::common_state::{CommonState, Input};
use crate::config::{ClientConfig, ServerConfig};
use crate::handshake::client::{self, ClientState};
use crate::handshake::server::{self, ServerState};
use crate::record::{ContentType, HEADER_LEN, MAX_CIPHERTEXT, MAX_PLAINTEXT};
use crate::session::SessionInfo;
use crate::trace::{Direction, Event, Observer, Protection};
use crate::Error;
use std::sync::Arc;

/// Decrypted bytes we hold for the application before we stop reading records (back-pressure).
const PLAINTEXT_LIMIT: usize = 64 * 1024;
/// Warning alerts in a row we tolerate; the next one is fatal. Like OpenSSL (CVE-2016-8610,
/// "SSL Death Alert"), which is what tlsfuzzer expects.
const MAX_WARNING_ALERTS: usize = 4;
/// Unsent wire bytes above which we stop reading and processing records until the network
/// takes them: what a peer can make us queue (alerts answering its records) stays bounded.
/// Above what the tokio adapter lets the application queue (256 KiB and one write), so a
/// download never stops us reading — both peers writing and neither reading would deadlock.
const OUTGOING_CAP: usize = 512 * 1024;
/// The deframer holds at most one whole record and the next header: the adapter reads no more
/// than that (see [`Connection::read_limit`]).
const DEFRAMER_CAP: usize = HEADER_LEN + MAX_CIPHERTEXT + HEADER_LEN;

enum State {
    Client(ClientState),
    Server(ServerState),
}

/// One TLS connection, client or server side.
pub struct Connection {
    /// `None` only after a fatal error.
    state: Option<State>,
    core: CommonState,
}

impl Connection {
    /// A client connection to `server_name` (a DNS name or an IP literal); the ClientHello is
    /// queued at once.
    pub fn client(config: Arc<ClientConfig>, server_name: &str) -> Result<Self, Error> {
        let observer = config.common.observer.clone();
        Self::client_observed(config, server_name, observer)
    }

    /// A client connection whose events go to `observer` (instead of the config's), so one
    /// config can serve connections traced separately.
    pub fn client_observed(
        config: Arc<ClientConfig>,
        server_name: &str,
        observer: Option<Arc<dyn Observer>>,
    ) -> Result<Self, Error> {
        Self::client_resuming(config, server_name, observer, None)
    }

    /// A client connection offering to resume `session` (a [`Self::session_to_resume`] of an
    /// earlier connection to the same host and port). If the server declines, the handshake is
    /// a full one, silently.
    pub fn client_resuming(
        config: Arc<ClientConfig>,
        server_name: &str,
        observer: Option<Arc<dyn Observer>>,
        session: Option<crate::session::ClientSession>,
    ) -> Result<Self, Error> {
        let mut core = CommonState::new(&config.common, observer);
        let state = client::start(config, server_name, &mut core, session)?;
        Ok(Self {
            state: Some(State::Client(state)),
            core,
        })
    }

    /// Client side, after the handshake: what to offer next time to resume this session (the
    /// server's id or ticket and the master secret — keep it secret), if the server allows it.
    pub fn session_to_resume(&self) -> Option<&crate::session::ClientSession> {
        self.core.resumable.as_ref()
    }

    /// A server connection waiting for a ClientHello.
    pub fn server(config: Arc<ServerConfig>) -> Self {
        let observer = config.common.observer.clone();
        Self::server_observed(config, observer)
    }

    /// A server connection whose events go to `observer` (e.g. one narration per connection).
    pub fn server_observed(config: Arc<ServerConfig>, observer: Option<Arc<dyn Observer>>) -> Self {
        let core = CommonState::new(&config.common, observer);
        Self {
            state: Some(State::Server(server::start(config))),
            core,
        }
    }

    /// Hand over bytes read from the network. Call [`Self::process_new_packets`] next. The
    /// connection keeps all of them: a caller reading from a socket should read at most
    /// [`Self::read_limit`] bytes at a time, so memory stays bounded.
    pub fn read_tls(&mut self, bytes: &[u8]) {
        self.core.deframer.push(bytes);
    }

    /// How many bytes [`Self::read_tls`] should take now (0 = don't read): enough to complete
    /// the record being received and see the next header, never more.
    pub fn read_limit(&self) -> usize {
        let core = &self.core;
        if core.error.is_some()
            || core.close_notify_received
            || core.transport_eof
            || core.plaintext_len() >= PLAINTEXT_LIMIT
            || core.outgoing_len() > OUTGOING_CAP
        {
            return 0;
        }
        DEFRAMER_CAP.saturating_sub(core.deframer.buffered())
    }

    /// Tell the connection the transport reached EOF.
    pub fn read_eof(&mut self) {
        self.core.transport_eof = true;
    }

    /// Process every complete record received so far. On a fatal error the alert owed to the
    /// peer is queued in [`Self::outgoing`] and the same error is returned from then on.
    pub fn process_new_packets(&mut self) -> Result<(), Error> {
        if let Some(e) = &self.core.error {
            return Err(e.clone());
        }
        let result = self.process_records();
        if let Err(e) = &result {
            self.fail(e.clone());
        }
        result
    }

    /// Bytes to write to the network.
    pub fn outgoing(&self) -> &[u8] {
        &self.core.outgoing[self.core.outgoing_pos..]
    }

    /// The network took `n` bytes of [`Self::outgoing`].
    pub fn consume_outgoing(&mut self, n: usize) {
        let core = &mut self.core;
        core.outgoing_pos = (core.outgoing_pos + n).min(core.outgoing.len());
        if core.outgoing_pos == core.outgoing.len() {
            core.outgoing.clear();
            core.outgoing_pos = 0;
        } else if core.outgoing_pos > core.outgoing.len() / 2 {
            // Compact now and then so the buffer does not grow while the socket is slow.
            core.outgoing.drain(..core.outgoing_pos);
            core.outgoing_pos = 0;
        }
    }

    /// Give back the buffers' spare memory (call while waiting for the peer): sent records,
    /// handed-out plaintext, processed input. An idle connection then holds little more than
    /// its keys.
    pub fn release_buffers(&mut self) {
        let core = &mut self.core;
        if core.outgoing_len() == 0 {
            core.outgoing = Vec::new();
            core.outgoing_pos = 0;
        }
        if core.plaintext_len() == 0 {
            core.plaintext = Vec::new();
            core.plaintext_pos = 0;
        }
        core.deframer.release_spare();
    }

    pub fn wants_write(&self) -> bool {
        self.core.outgoing_len() > 0
    }

    pub fn is_handshaking(&self) -> bool {
        self.core.info.is_none() && self.core.error.is_none()
    }

    /// What was negotiated, once the handshake is complete.
    pub fn info(&self) -> Option<&SessionInfo> {
        self.core.info.as_ref()
    }

    /// The error that ended the connection, if one did.
    pub fn error(&self) -> Option<&Error> {
        self.core.error.as_ref()
    }

    /// Encrypt application data into records (after the handshake). Returns how many bytes
    /// were taken: all of them.
    pub fn write_plaintext(&mut self, data: &[u8]) -> Result<usize, Error> {
        if let Some(e) = &self.core.error {
            return Err(e.clone());
        }
        if self.core.info.is_none() {
            return Err(Error::config(
                "application data before the handshake completed",
            ));
        }
        if self.core.close_notify_sent {
            return Err(Error::config("write after close_notify"));
        }
        self.core
            .send_records(ContentType::ApplicationData, data, MAX_PLAINTEXT)?;
        Ok(data.len())
    }

    /// Take decrypted application data. `Ok(0)` means the peer closed cleanly (close_notify);
    /// `WouldBlock` means nothing is there yet; `UnexpectedEof` means the transport ended
    /// without close_notify — the data may have been cut short by an attacker.
    pub fn read_plaintext(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.core.plaintext_len() == 0 {
            // Decryption pauses when the plaintext buffer is full; records may still be waiting.
            // An error here is kept and reported below.
            let _ = self.process_new_packets();
        }
        let available = &self.core.plaintext[self.core.plaintext_pos..];
        if !available.is_empty() {
            let n = available.len().min(buf.len());
            buf[..n].copy_from_slice(&available[..n]);
            self.core.plaintext_pos += n;
            if self.core.plaintext_pos == self.core.plaintext.len() {
                self.core.plaintext.clear();
                self.core.plaintext_pos = 0;
            }
            return Ok(n);
        }
        if let Some(e) = &self.core.error {
            return Err(e.clone().into());
        }
        if self.core.close_notify_received {
            return Ok(0);
        }
        if self.core.transport_eof {
            return Err(Error::Truncated.into());
        }
        Err(std::io::ErrorKind::WouldBlock.into())
    }

    /// Queue close_notify (once); nothing more is sent after it.
    pub fn send_close_notify(&mut self) {
        if !self.core.close_notify_sent && self.core.error.is_none() {
            self.core.send_alert(Alert::close_notify());
            self.core.close_notify_sent = true;
        }
    }

    /// Test hook: protect `payload` as one record of `content_type` with the current keys,
    /// past the state machine — to play a peer that misbehaves (renegotiates, floods alerts or
    /// empty records) after the handshake. Only with the `testing` feature.
    #[cfg(feature = "testing")]
    pub fn testing_send_record(
        &mut self,
        content_type: ContentType,
        payload: &[u8],
    ) -> Result<(), Error> {
        let core = &mut self.core;
        if payload.is_empty() {
            core.record_layer
                .write_empty_record(content_type, &mut core.outgoing)
        } else {
            core.record_layer
                .write_records(content_type, payload, &mut core.outgoing)
        }
    }

    fn fail(&mut self, error: Error) {
        if !self.core.close_notify_sent {
            if let Some(description) = error.alert() {
                self.core.send_alert(Alert::fatal(description));
                self.core.close_notify_sent = true;
            } else if matches!(error, Error::AlertReceived(AlertDescription::CloseNotify)) {
                // The peer closed mid-handshake: answer in kind (RFC 5246 §7.2.1).
                self.core.send_alert(Alert::close_notify());
                self.core.close_notify_sent = true;
            }
        }
        self.state = None;
        self.core.error = Some(error);
    }

    fn process_records(&mut self) -> Result<(), Error> {
        while !self.core.close_notify_received
            && self.core.plaintext_len() < PLAINTEXT_LIMIT
            && self.core.outgoing_len() <= OUTGOING_CAP
        {
            let record = match self.core.deframer.next_record() {
                Ok(Some(record)) => record,
                Ok(None) => break,
                // Bytes that are not TLS at all where a hello should be: decode_error (like a
                // plain-HTTP request sent to the TLS port).
                Err(Error::Protocol {
                    alert: AlertDescription::UnexpectedMessage,
                    reason,
                }) if !self.core.first_record_seen => return Err(Error::decode(reason)),
                Err(e) => return Err(e),
            };
            self.core.first_record_seen = true;
            let wire = self.core.observer.as_ref().map(|_| {
                let mut wire = Vec::with_capacity(HEADER_LEN + record.payload.len());
                wire.push(record.content_type as u8);
                wire.extend_from_slice(&record.version.to_be_bytes());
                wire.extend_from_slice(&(record.payload.len() as u16).to_be_bytes());
                wire.extend_from_slice(&record.payload);
                wire
            });
            let (_, seq) = self.core.record_layer.read_state();
            let plain = self.core.record_layer.read_record(record)?;
            if let Some(wire) = &wire {
                let (cipher, _) = self.core.record_layer.read_state();
                self.core.observe(&Event::Record {
                    direction: Direction::Received,
                    content_type: plain.content_type,
                    wire,
                    plaintext: &plain.payload,
                    protection: cipher
                        .zip(seq)
                        .map(|(cipher, seq)| Protection { cipher, seq }),
                });
            }
            self.handle_record(plain.content_type, plain.payload)?;
        }
        Ok(())
    }

    fn handle_record(&mut self, content_type: ContentType, payload: Vec<u8>) -> Result<(), Error> {
        match content_type {
            ContentType::Handshake => {
                if payload.is_empty() {
                    return Err(Error::decode("empty handshake record"));
                }
                self.core.warning_alerts = 0;
                self.core.joiner.push(&payload)?;
                loop {
                    if let Some(typ) = self.core.joiner.next_type() {
                        let expected = match &self.state {
                            Some(State::Client(s)) => s.expects(typ),
                            Some(State::Server(s)) => s.expects(typ),
                            None => true,
                        };
                        if !expected {
                            return Err(Error::unexpected(format!("unexpected {}", typ.name())));
                        }
                    }
                    let Some(message) = self.core.joiner.pop()? else {
                        break;
                    };
                    if self.core.info.is_some() {
                        // After the handshake every handshake message is refused (renegotiation)
                        // or fatal: a stream of them is no progress.
                        self.core.count_useless()?;
                    } else {
                        self.core.useless_records = 0;
                    }
                    self.core.observe(&Event::Handshake {
                        direction: Direction::Received,
                        message: &message,
                    });
                    self.handle_input(Input::Handshake(message))?;
                }
            }
            ContentType::ChangeCipherSpec => {
                self.core.warning_alerts = 0;
                // Like OpenSSL: a malformed ChangeCipherSpec is an unexpected message.
                if payload != [1] {
                    return Err(Error::unexpected(
                        "ChangeCipherSpec must be the single byte 1",
                    ));
                }
                // A handshake message may not straddle the key change.
                if !self.core.joiner.is_empty() {
                    return Err(Error::unexpected(
                        "ChangeCipherSpec inside a handshake message",
                    ));
                }
                self.core.observe(&Event::ChangeCipherSpec {
                    direction: Direction::Received,
                });
                self.handle_input(Input::ChangeCipherSpec)?;
            }
            ContentType::Alert => {
                let alert = Alert::decode(&payload)
                    .ok_or_else(|| Error::decode("alert must be two bytes"))?;
                self.core.observe(&Event::Alert {
                    direction: Direction::Received,
                    alert,
                });
                match (alert.level, alert.description) {
                    (_, AlertDescription::CloseNotify) => {
                        self.core.close_notify_received = true;
                        // Records after it are not read: a handshake cut here can never end.
                        if self.core.info.is_none() {
                            return Err(Error::AlertReceived(AlertDescription::CloseNotify));
                        }
                    }
                    (AlertLevel::Warning, _) => {
                        self.core.warning_alerts += 1;
                        if self.core.warning_alerts > MAX_WARNING_ALERTS {
                            return Err(Error::unexpected("too many warning alerts in a row"));
                        }
                        self.core.count_useless()?;
                    }
                    (_, description) => return Err(Error::AlertReceived(description)),
                }
            }
            ContentType::ApplicationData => {
                self.core.warning_alerts = 0;
                if self.core.info.is_none() {
                    return Err(Error::unexpected(
                        "application data before the handshake completed",
                    ));
                }
                if payload.is_empty() {
                    self.core.count_useless()?;
                } else {
                    self.core.useless_records = 0;
                    self.core.append_plaintext(&payload);
                }
            }
        }
        Ok(())
    }

    fn handle_input(&mut self, input: Input) -> Result<(), Error> {
        let state = self
            .state
            .take()
            .ok_or_else(|| Error::unexpected("connection already failed"))?;
        let next = match state {
            State::Client(s) => State::Client(s.handle(&mut self.core, input)?),
            State::Server(s) => State::Server(s.handle(&mut self.core, input)?),
        };
        self.state = Some(next);
        Ok(())
    }
}
