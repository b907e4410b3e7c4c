//! What a handshake state may touch (RFC 5246 §7.4, §7.1, §7.2): sending handshake messages,
//! ChangeCipherSpec and alerts, the record layer and the buffers the connection drains.

use crate::alert::{Alert, AlertDescription, AlertLevel};
use crate::handshake::keys::{Secrets, Side};
use crate::msgs::handshake::HandshakeMessage;
use crate::msgs::joiner::HandshakeJoiner;
use crate::record::{ContentType, Deframer, RecordLayer, HEADER_LEN, MAX_PLAINTEXT};
use crate::session::SessionInfo;
use crate::trace::{Direction, Event, KeyLog, Observer, Protection};
use crate::Error;
use std::sync::Arc;

/// Empty records, warning alerts and refused renegotiations in a row before we call it an attack
/// (a CPU-burning loop).
const MAX_USELESS_RECORDS: usize = 32;
/// The input a handshake state reacts to.
pub(crate) enum Input {
    Handshake(HandshakeMessage),
    ChangeCipherSpec,
}

/// Everything a handshake state may touch: the record layer and the outgoing buffer.
pub(crate) struct CommonState {
    pub(crate) record_layer: RecordLayer,
    pub(crate) deframer: Deframer,
    pub(crate) joiner: HandshakeJoiner,
    /// Wire bytes waiting for the socket.
    pub(crate) outgoing: Vec<u8>,
    /// How much of `outgoing` the network has taken (a cursor: no memmove per socket write).
    pub(crate) outgoing_pos: usize,
    /// Handshake messages waiting to be framed together (one flight, one record when it fits).
    pub(crate) flight: Vec<u8>,
    pub(crate) plaintext: Vec<u8>,
    pub(crate) plaintext_pos: usize,
    pub(crate) observer: Option<Arc<dyn Observer>>,
    pub(crate) key_log: Option<Arc<dyn KeyLog>>,
    pub(crate) max_handshake_fragment: usize,
    pub(crate) info: Option<SessionInfo>,
    pub(crate) first_record_seen: bool,
    pub(crate) close_notify_received: bool,
    pub(crate) close_notify_sent: bool,
    pub(crate) transport_eof: bool,
    pub(crate) useless_records: usize,
    pub(crate) warning_alerts: usize,
    pub(crate) error: Option<Error>,
    /// Client side: a ticket the server sent in this handshake (lifetime hint, ticket).
    pub(crate) new_ticket: Option<(u32, Vec<u8>)>,
    /// Client side: what to offer to resume this session later, once the handshake is done.
    pub(crate) resumable: Option<crate::session::ClientSession>,
    /// Server side: how to remember the session once the full handshake completes.
    pub(crate) remember: Option<crate::handshake::resumption::Remember>,
}

impl CommonState {
    pub(crate) fn new(common: &crate::config::Common, observer: Option<Arc<dyn Observer>>) -> Self {
        Self {
            record_layer: RecordLayer::new(),
            deframer: Deframer::new(),
            joiner: HandshakeJoiner::new(),
            outgoing: Vec::new(),
            outgoing_pos: 0,
            flight: Vec::new(),
            plaintext: Vec::new(),
            plaintext_pos: 0,
            observer,
            key_log: common.key_log.clone(),
            max_handshake_fragment: common.max_handshake_fragment.clamp(1, MAX_PLAINTEXT),
            info: None,
            first_record_seen: false,
            close_notify_received: false,
            close_notify_sent: false,
            transport_eof: false,
            useless_records: 0,
            warning_alerts: 0,
            error: None,
            new_ticket: None,
            resumable: None,
            remember: None,
        }
    }

    pub(crate) fn observe(&self, event: &Event<'_>) {
        if let Some(observer) = &self.observer {
            observer.event(event);
        }
    }

    fn log_key(&self, client_random: &[u8; 32], master_secret: &[u8; 48]) {
        if let Some(key_log) = &self.key_log {
            key_log.log(client_random, master_secret);
        }
    }

    /// Add a handshake message to the current flight.
    pub(crate) fn queue_handshake(&mut self, message: &HandshakeMessage) {
        self.observe(&Event::Handshake {
            direction: Direction::Sent,
            message,
        });
        self.flight.extend_from_slice(&message.raw);
    }

    /// Frame the queued flight into handshake records.
    pub(crate) fn flush_flight(&mut self) -> Result<(), Error> {
        let flight = std::mem::take(&mut self.flight);
        self.send_records(ContentType::Handshake, &flight, self.max_handshake_fragment)
    }

    /// The key exchange is done: emit the master secret and key block, write the key-log line,
    /// and prepare — but not yet activate — both directions' record protection (RFC 5246 §6.1:
    /// each direction switches at its ChangeCipherSpec).
    pub(crate) fn start_encryption(&mut self, secrets: &Secrets, side: Side) {
        self.observe(&Event::MasterSecret {
            master_secret: secrets.master_secret(),
            extended: secrets.extended(),
            client_random: secrets.client_random(),
        });
        self.log_key(secrets.client_random(), secrets.master_secret());
        let key_block = secrets.key_block();
        self.observe(&Event::KeyBlock {
            key_block: &key_block,
        });
        let (ours, theirs) = secrets.record_ciphers(&key_block, side);
        self.record_layer.prepare_encrypter(ours);
        self.record_layer.prepare_decrypter(theirs);
    }

    /// The peer's ChangeCipherSpec: its records are protected with the prepared keys from here.
    pub(crate) fn peer_changed_cipher_spec(&mut self) -> Result<(), Error> {
        self.record_layer.activate_decrypter()
    }

    /// Send ChangeCipherSpec and switch our direction to the prepared keys.
    pub(crate) fn send_change_cipher_spec(&mut self) -> Result<(), Error> {
        self.flush_flight()?;
        self.send_records(ContentType::ChangeCipherSpec, &[1], MAX_PLAINTEXT)?;
        self.observe(&Event::ChangeCipherSpec {
            direction: Direction::Sent,
        });
        self.record_layer.activate_encrypter()
    }

    /// Queue a warning alert, unless close_notify went out already (nothing follows it).
    pub(crate) fn send_warning(&mut self, description: AlertDescription) {
        if self.close_notify_sent {
            return;
        }
        self.send_alert(Alert {
            level: AlertLevel::Warning,
            description,
        });
    }

    pub(crate) fn send_alert(&mut self, alert: Alert) {
        // If even the alert cannot be sealed (sequence number exhausted) there is nothing more
        // to tell the peer; the connection is failing anyway.
        let _ = self.send_records(ContentType::Alert, &alert.encode(), MAX_PLAINTEXT);
        self.observe(&Event::Alert {
            direction: Direction::Sent,
            alert,
        });
    }

    /// Frame `data` into records of at most `max_fragment` bytes. Full-size runs go to the
    /// record layer at once, so it can seal several records side by side; the observer then
    /// sees each record as written. Observing never changes how records are sealed.
    pub(crate) fn send_records(
        &mut self,
        content_type: ContentType,
        data: &[u8],
        max_fragment: usize,
    ) -> Result<(), Error> {
        let fragment_len = max_fragment.clamp(1, MAX_PLAINTEXT);
        let start = self.outgoing.len();
        let (_, first_seq) = self.record_layer.write_state();
        let result = if fragment_len == MAX_PLAINTEXT {
            self.record_layer
                .write_records(content_type, data, &mut self.outgoing)
        } else {
            data.chunks(fragment_len).try_for_each(|fragment| {
                self.record_layer
                    .write_records(content_type, fragment, &mut self.outgoing)
            })
        };
        if let Some(observer) = &self.observer {
            // Our own output: one record per fragment, in order (those written before an error).
            let mut wire = &self.outgoing[start..];
            let (cipher, _) = self.record_layer.write_state();
            for (i, plaintext) in data.chunks(fragment_len).enumerate() {
                let Some(&[_, _, _, hi, lo]) = wire.get(..HEADER_LEN) else {
                    break;
                };
                let len = HEADER_LEN + usize::from(u16::from_be_bytes([hi, lo]));
                let Some((record, rest)) = wire.split_at_checked(len) else {
                    break;
                };
                observer.event(&Event::Record {
                    direction: Direction::Sent,
                    content_type,
                    wire: record,
                    plaintext,
                    protection: cipher.zip(first_seq).map(|(cipher, seq)| Protection {
                        cipher,
                        seq: seq.wrapping_add(i as u64),
                    }),
                });
                wire = rest;
            }
        }
        result
    }

    pub(crate) fn complete(&mut self, info: SessionInfo) {
        self.observe(&Event::HandshakeComplete { info: &info });
        self.info = Some(info);
    }

    pub(crate) fn count_useless(&mut self) -> Result<(), Error> {
        self.useless_records += 1;
        if self.useless_records > MAX_USELESS_RECORDS {
            return Err(Error::unexpected(
                "too many empty records or warning alerts",
            ));
        }
        Ok(())
    }

    pub(crate) fn outgoing_len(&self) -> usize {
        self.outgoing.len() - self.outgoing_pos
    }

    pub(crate) fn plaintext_len(&self) -> usize {
        self.plaintext.len() - self.plaintext_pos
    }

    pub(crate) fn append_plaintext(&mut self, data: &[u8]) {
        if self.plaintext_pos > 0 && self.plaintext_pos == self.plaintext.len() {
            self.plaintext.clear();
            self.plaintext_pos = 0;
        }
        self.plaintext.extend_from_slice(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::cipher::RecordCipher;
    use crate::record::Deframer;
    use crate::suites::{CipherSuite, ALL_SUITES};
    use std::sync::Mutex;

    /// Every sent record as the observer saw it: (wire bytes, plaintext).
    /// Also, per record, the sequence number its protection reports and whether taking it
    /// apart with that protection gives back its plaintext under a matching MAC.
    #[derive(Default)]
    struct Sent(
        Mutex<Vec<(Vec<u8>, Vec<u8>)>>,
        Mutex<Vec<Option<(u64, bool)>>>,
    );

    impl Observer for Sent {
        fn event(&self, event: &Event<'_>) {
            if let Event::Record {
                direction: Direction::Sent,
                wire,
                plaintext,
                protection,
                ..
            } = event
            {
                if let Ok(mut v) = self.0.lock() {
                    v.push((wire.to_vec(), plaintext.to_vec()));
                }
                let shown = protection.map(|p| {
                    let parts = p.cipher.dissect(p.seq, wire);
                    let ok = parts.is_some_and(|a| a.mac_ok && a.plaintext == *plaintext);
                    (p.seq, ok)
                });
                if let Ok(mut v) = self.1.lock() {
                    v.push(shown);
                }
            }
        }
    }

    fn cipher(suite: &'static CipherSuite) -> RecordCipher {
        RecordCipher::with_fixed_iv(
            suite,
            &vec![7; suite.mac_len()],
            &vec![9; suite.enc_key_len()],
            &vec![5; suite.fixed_iv_len()],
            false,
        )
    }

    /// A batched run (more than 8 full records) still reaches the observer record by record,
    /// each event's wire bytes being exactly the record that went out with that plaintext.
    #[test]
    fn observer_sees_each_record_of_a_batched_run() {
        for suite in ALL_SUITES {
            observer_sees_each_record_of_a_batched_run_in(suite);
        }
    }

    fn observer_sees_each_record_of_a_batched_run_in(suite: &'static CipherSuite) {
        let sent = Arc::new(Sent::default());
        let mut core = CommonState::new(&crate::config::Common::default(), Some(sent.clone()));
        core.record_layer.prepare_encrypter(cipher(suite));
        core.record_layer.activate_encrypter().expect("activate");
        let data: Vec<u8> = (0..9 * MAX_PLAINTEXT + 5).map(|i| i as u8).collect();
        core.send_records(ContentType::ApplicationData, &data, MAX_PLAINTEXT)
            .expect("send");

        let events = sent.0.lock().expect("lock").clone();
        assert_eq!(events.len(), 10);
        let wires: Vec<u8> = events.iter().flat_map(|(w, _)| w.clone()).collect();
        assert_eq!(wires, core.outgoing, "events cover exactly the bytes sent");

        let mut peer = RecordLayer::new();
        peer.prepare_decrypter(cipher(suite));
        peer.activate_decrypter().expect("activate");
        let mut deframer = Deframer::new();
        for (wire, plaintext) in &events {
            deframer.push(wire);
            let record = deframer.next_record().expect("frame").expect("whole");
            assert!(
                deframer.next_record().expect("frame").is_none(),
                "one record"
            );
            let plain = peer.read_record(record).expect("open");
            assert_eq!(&plain.payload, plaintext);
        }
        let plaintexts: Vec<u8> = events.iter().flat_map(|(_, p)| p.clone()).collect();
        assert_eq!(plaintexts, data);
        // Each event names the sequence number the record layer sealed it with.
        let shown = sent.1.lock().expect("lock").clone();
        let expected: Vec<_> = (0..10).map(|seq| Some((seq, true))).collect();
        assert_eq!(shown, expected);
    }

    /// Handshake fragments below the record size are observed one record each, too.
    #[test]
    fn observer_sees_small_fragments() {
        let sent = Arc::new(Sent::default());
        let mut core = CommonState::new(&crate::config::Common::default(), Some(sent.clone()));
        core.send_records(ContentType::Handshake, &[1, 2, 3, 4, 5], 2)
            .expect("send");
        let events = sent.0.lock().expect("lock").clone();
        let plaintexts: Vec<&[u8]> = events.iter().map(|(_, p)| p.as_slice()).collect();
        assert_eq!(plaintexts, [&[1, 2][..], &[3, 4], &[5]]);
        assert_eq!(events[2].0, [22, 3, 3, 0, 1, 5]);
    }
}
