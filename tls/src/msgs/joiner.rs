//! Reassembly of handshake messages from Handshake records (RFC 5246 §6.2.1): one message may
//! span several records, and one record may carry several messages. Peers really do both
//! (OpenSSL packs ServerHello…ServerHelloDone in one record; a large Certificate spans many).
//!
//! Use: after each Handshake record, [`HandshakeJoiner::push`] its payload, then call
//! [`HandshakeJoiner::pop`] until it returns `Ok(None)`. Before acting on ChangeCipherSpec,
//! check [`HandshakeJoiner::is_empty`]: a message cut in two by a key change is refused
//! (its first half was read under other keys than its second).

use crate::error::Error;
use crate::msgs::codec::Reader;
use crate::msgs::handshake::{HandshakeMessage, HandshakeType};

/// The largest handshake body we accept: the largest well-formed ClientHello (2^16 - 2 bytes
/// of cipher suites, 255 compression methods, 2^16 - 1 bytes of extensions: 131396 bytes), a
/// little over 128 KiB, which is also room for a chain of several 4096-bit RSA certificates.
/// A bigger declared length is refused as soon as its header is seen, so a peer cannot make us
/// buffer up to 16 MiB.
pub const MAX_HANDSHAKE_MESSAGE: usize = 131_396;

/// Handshake header: `msg_type` (1 byte) and `length` (uint24).
const HEADER_LEN: usize = 4;

/// The most bytes we hold: one largest message still incomplete, plus one record's worth
/// (2^14 bytes) of what follows it. Callers that pop after every push never reach it.
const MAX_BUFFERED: usize = HEADER_LEN + MAX_HANDSHAKE_MESSAGE + (1 << 14);

/// Collects Handshake record payloads and hands out whole messages.
#[derive(Debug, Default)]
pub struct HandshakeJoiner {
    /// Received bytes; everything before `start` was already popped.
    buf: Vec<u8>,
    start: usize,
}

impl HandshakeJoiner {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the payload of one Handshake record.
    ///
    /// Errors (the connection must then be closed with the error's alert):
    /// - an empty fragment is `unexpected_message`: RFC 5246 §6.2.1 forbids zero-length
    ///   Handshake fragments, and accepting them would let a peer keep us busy for free;
    /// - a message header declaring more than [`MAX_HANDSHAKE_MESSAGE`] bytes is
    ///   `decode_error`, decided when its 4-byte header is complete, before its body arrives;
    /// - holding more than one incomplete maximal message plus one record (only possible if
    ///   the caller does not pop after each push) is `internal_error`.
    pub fn push(&mut self, fragment: &[u8]) -> Result<(), Error> {
        if fragment.is_empty() {
            return Err(Error::unexpected("zero-length handshake fragment"));
        }
        if self.pending().len() + fragment.len() > MAX_BUFFERED {
            self.clear();
            return Err(Error::protocol(
                crate::alert::AlertDescription::InternalError,
                "handshake messages buffered but not popped",
            ));
        }
        // Drop what was already handed out, so `buf` never grows past what is pending.
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(fragment);
        if let Err(e) = self.check_headers() {
            self.clear();
            return Err(e);
        }
        Ok(())
    }

    /// The next complete message, parsed; `Ok(None)` if more bytes are needed. A complete but
    /// malformed message is consumed and returned as its `decode_error`.
    pub fn pop(&mut self) -> Result<Option<HandshakeMessage>, Error> {
        let pending = self.pending();
        let Some(total) = message_len(pending).map(|len| HEADER_LEN + len) else {
            return Ok(None);
        };
        let Some(raw) = pending.get(..total) else {
            return Ok(None);
        };
        let raw = raw.to_vec();
        self.start += total;
        if self.start == self.buf.len() {
            self.clear();
        }
        HandshakeMessage::decode(raw).map(Some)
    }

    /// The type of the next message, once it is complete (so the state machine can refuse an
    /// unexpected message before decoding its body).
    pub fn next_type(&self) -> Option<HandshakeType> {
        let pending = self.pending();
        let len = message_len(pending)?;
        pending.get(..HEADER_LEN + len)?;
        pending.first().map(|&t| HandshakeType::from_u8(t))
    }

    /// True when no handshake bytes at all are held: neither part of a message nor a complete
    /// message not yet popped. Checked when ChangeCipherSpec arrives (RFC 5246 §7.1: the
    /// handshake must be at a message boundary at a key change).
    pub fn is_empty(&self) -> bool {
        self.pending().is_empty()
    }

    /// Bytes not yet handed out by `pop`.
    fn pending(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or_default()
    }

    fn clear(&mut self) {
        self.buf.clear();
        self.start = 0;
    }

    /// Walks the headers of the pending messages and refuses an oversized declared length.
    fn check_headers(&self) -> Result<(), Error> {
        let mut rest = self.pending();
        while let Some(len) = message_len(rest) {
            if len > MAX_HANDSHAKE_MESSAGE {
                return Err(Error::decode(format!(
                    "handshake message of {len} bytes declared (limit {MAX_HANDSHAKE_MESSAGE})"
                )));
            }
            match rest.get(HEADER_LEN + len..) {
                Some(next) => rest = next,
                None => break, // body still incomplete
            }
        }
        Ok(())
    }
}

/// The declared body length of the message at the start of `bytes`, once its header is there.
fn message_len(bytes: &[u8]) -> Option<usize> {
    let mut r = Reader::new(bytes);
    r.u8().ok()?;
    r.u24().ok().map(|len| len as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::AlertDescription;
    use crate::msgs::handshake::{Finished, HandshakePayload, HandshakeType};
    use proptest::prelude::*;

    const CURL_DEFAULT: &[u8] = include_bytes!("../../testdata/clienthello-curl-default.bin");

    fn client_hello_raw() -> Vec<u8> {
        CURL_DEFAULT[5..].to_vec()
    }

    fn finished_raw(byte: u8) -> Vec<u8> {
        HandshakeMessage::new(HandshakePayload::Finished(Finished {
            verify_data: [byte; 12],
        }))
        .raw
    }

    fn alert_of(e: Error) -> Option<AlertDescription> {
        e.alert()
    }

    #[test]
    fn message_split_one_byte_per_push() {
        let raw = client_hello_raw();
        let mut joiner = HandshakeJoiner::new();
        assert!(joiner.is_empty());
        let (last, head) = raw.split_last().unwrap();
        for b in head {
            joiner.push(&[*b]).unwrap();
            assert!(joiner.pop().unwrap().is_none());
            assert!(!joiner.is_empty());
        }
        joiner.push(&[*last]).unwrap();
        let msg = joiner.pop().unwrap().unwrap();
        assert_eq!(msg.typ(), HandshakeType::ClientHello);
        assert_eq!(msg.raw, raw);
        assert!(joiner.pop().unwrap().is_none());
        assert!(joiner.is_empty());
    }

    #[test]
    fn three_messages_in_one_push() {
        let done = HandshakeMessage::new(HandshakePayload::ServerHelloDone).raw;
        let mut record = client_hello_raw();
        record.extend_from_slice(&finished_raw(1));
        record.extend_from_slice(&done);
        let mut joiner = HandshakeJoiner::new();
        joiner.push(&record).unwrap();
        assert_eq!(joiner.pop().unwrap().unwrap().raw, client_hello_raw());
        assert_eq!(joiner.pop().unwrap().unwrap().raw, finished_raw(1));
        assert!(!joiner.is_empty());
        assert_eq!(joiner.pop().unwrap().unwrap().raw, done);
        assert!(joiner.pop().unwrap().is_none());
        assert!(joiner.is_empty());
    }

    #[test]
    fn record_ends_mid_message_and_next_one_completes_it() {
        let mut stream = finished_raw(1);
        stream.extend_from_slice(&finished_raw(2));
        let (a, b) = stream.split_at(20); // first whole, second cut after 4 of its 16 bytes
        let mut joiner = HandshakeJoiner::new();
        joiner.push(a).unwrap();
        assert_eq!(joiner.pop().unwrap().unwrap().raw, finished_raw(1));
        assert!(joiner.pop().unwrap().is_none());
        // A ChangeCipherSpec arriving now would find a partial message.
        assert!(!joiner.is_empty());
        joiner.push(b).unwrap();
        assert_eq!(joiner.pop().unwrap().unwrap().raw, finished_raw(2));
        assert!(joiner.is_empty());
    }

    #[test]
    fn huge_declared_length_refused_at_header() {
        let mut joiner = HandshakeJoiner::new();
        let err = joiner.push(&[11, 0xFF, 0xFF, 0xFF]).unwrap_err();
        assert_eq!(alert_of(err), Some(AlertDescription::DecodeError));
        assert!(joiner.is_empty(), "nothing kept after the refusal");

        // The same when the header itself arrives in pieces, and after a complete message.
        let mut joiner = HandshakeJoiner::new();
        joiner.push(&finished_raw(1)).unwrap();
        joiner.push(&[11, 0x03]).unwrap();
        let err = joiner.push(&[0x00, 0x00]).unwrap_err();
        assert_eq!(alert_of(err), Some(AlertDescription::DecodeError));
    }

    #[test]
    fn largest_allowed_length_is_buffered() {
        let mut joiner = HandshakeJoiner::new();
        let len = MAX_HANDSHAKE_MESSAGE as u32;
        let [_, a, b, c] = len.to_be_bytes();
        joiner.push(&[99, a, b, c]).unwrap();
        let body = vec![0u8; MAX_HANDSHAKE_MESSAGE];
        for piece in body.chunks(1 << 14) {
            assert!(joiner.pop().unwrap().is_none());
            joiner.push(piece).unwrap();
        }
        let msg = joiner.pop().unwrap().unwrap();
        assert_eq!(msg.typ(), HandshakeType::Unknown(99));
        assert_eq!(msg.raw.len(), HEADER_LEN + MAX_HANDSHAKE_MESSAGE);
        assert!(joiner.is_empty());
    }

    #[test]
    fn empty_fragment_is_unexpected_message() {
        let mut joiner = HandshakeJoiner::new();
        let err = joiner.push(&[]).unwrap_err();
        assert_eq!(alert_of(err), Some(AlertDescription::UnexpectedMessage));
    }

    #[test]
    fn malformed_message_is_consumed_with_its_error() {
        let mut joiner = HandshakeJoiner::new();
        let mut bytes = vec![20, 0, 0, 2, 0xAA, 0xBB]; // Finished of 2 bytes
        bytes.extend_from_slice(&finished_raw(3));
        joiner.push(&bytes).unwrap();
        let err = joiner.pop().unwrap_err();
        assert_eq!(alert_of(err), Some(AlertDescription::DecodeError));
        assert_eq!(joiner.pop().unwrap().unwrap().raw, finished_raw(3));
    }

    #[test]
    fn not_popping_is_bounded() {
        let mut joiner = HandshakeJoiner::new();
        let record = finished_raw(0).repeat(1000); // 16000 bytes of complete messages
        let mut pushed = 0;
        let err = loop {
            match joiner.push(&record) {
                Ok(()) => pushed += 1,
                Err(e) => break e,
            }
            assert!(pushed < 100, "never refused");
        };
        assert_eq!(alert_of(err), Some(AlertDescription::InternalError));
        assert!(joiner.buf.len() <= MAX_BUFFERED);
    }

    /// Up to three small valid messages, concatenated.
    fn arb_stream() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 1..4).prop_map(|bytes| {
            bytes
                .into_iter()
                .flat_map(|b| {
                    if b % 2 == 0 {
                        finished_raw(b)
                    } else {
                        HandshakeMessage::new(HandshakePayload::Unknown(
                            HandshakeType::Unknown(99),
                            vec![b; usize::from(b)],
                        ))
                        .raw
                    }
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn any_split_gives_the_same_messages(stream in arb_stream(),
                                             cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6)) {
            let mut whole = HandshakeJoiner::new();
            whole.push(&stream).unwrap();
            let mut expected = Vec::new();
            while let Some(msg) = whole.pop().unwrap() {
                expected.push(msg.raw);
            }
            prop_assert_eq!(expected.concat(), stream.clone());

            let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len())).collect();
            points.push(0);
            points.push(stream.len());
            points.sort_unstable();
            points.dedup();
            let mut joiner = HandshakeJoiner::new();
            let mut got = Vec::new();
            for pair in points.windows(2) {
                joiner.push(&stream[pair[0]..pair[1]]).unwrap();
                while let Some(msg) = joiner.pop().unwrap() {
                    got.push(msg.raw);
                }
            }
            prop_assert_eq!(got, expected);
            prop_assert!(joiner.is_empty());
        }

        #[test]
        fn random_fragments_never_panic_and_stay_bounded(
            fragments in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..600), 0..40)) {
            let mut joiner = HandshakeJoiner::new();
            for fragment in &fragments {
                if joiner.push(fragment).is_err() {
                    continue;
                }
                while let Ok(Some(_)) = joiner.pop() {}
                prop_assert!(joiner.buf.len() <= MAX_BUFFERED);
                prop_assert!(joiner.pending().len() < HEADER_LEN + MAX_HANDSHAKE_MESSAGE);
            }
        }
    }
}
