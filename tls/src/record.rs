//! The record layer (RFC 5246 §6.2): bytes from the socket become whole records
//! ([`Deframer`]), and data to send becomes records of at most 2^14 bytes, each protected with
//! the current keys and its own sequence number ([`RecordLayer`]).
//!
//! ```text
//! record = type(1) || version(2) || length(2) || fragment(length)
//! ```
//!
//! Keys are *prepared* when the key block is derived and *activated* by ChangeCipherSpec: ours
//! when we send it, the peer's when we receive it. Activation resets that direction's sequence
//! number to 0 (§6.1).
//!
//! Large writes are sealed 8 records at a time (their CBC chains run side by side), so for bulk
//! data hand [`RecordLayer::write_records`] big chunks (up to 128 KiB) rather than 16 KiB ones.

use crate::alert::AlertDescription;
use crate::crypto::cipher::{RecordCipher, SealJob};
use crate::error::Error;
use crate::msgs::handshake::TLS12;

/// The content types of TLS 1.2 (§6.2.1); anything else on the wire is `unexpected_message`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentType {
    ChangeCipherSpec = 20,
    Alert = 21,
    Handshake = 22,
    ApplicationData = 23,
}

impl ContentType {
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            20 => Some(Self::ChangeCipherSpec),
            21 => Some(Self::Alert),
            22 => Some(Self::Handshake),
            23 => Some(Self::ApplicationData),
            _ => None,
        }
    }

    pub fn to_u8(self) -> u8 {
        self as u8
    }

    /// The RFC's name, for traces.
    pub fn name(self) -> &'static str {
        match self {
            Self::ChangeCipherSpec => "change_cipher_spec",
            Self::Alert => "alert",
            Self::Handshake => "handshake",
            Self::ApplicationData => "application_data",
        }
    }
}

/// Largest plaintext fragment (§6.2.1).
pub const MAX_PLAINTEXT: usize = 1 << 14;
/// Largest protected fragment (§6.2.3): room for IV, MAC and padding.
pub const MAX_CIPHERTEXT: usize = (1 << 14) + 2048;
/// type(1) || version(2) || length(2).
pub const HEADER_LEN: usize = 5;

/// A record as it came off the wire: header checked, fragment still protected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpaqueRecord {
    pub content_type: ContentType,
    pub version: u16,
    pub payload: Vec<u8>,
}

/// A record after its protection was removed and checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlainRecord {
    pub content_type: ContentType,
    pub payload: Vec<u8>,
}

/// Incoming bytes -> whole records. Partial headers and bodies wait for more bytes; the header
/// is checked as soon as its 5 bytes are here, before waiting for a body that may never be valid.
///
/// It holds exactly what was pushed and not yet taken: the caller decides how much to push (one
/// socket read at a time, say), so memory stays bounded by what the caller lets in.
#[derive(Debug, Default)]
pub struct Deframer {
    buf: Vec<u8>,
    /// Bytes before `start` were already taken as records; they are dropped on a later push.
    start: usize,
}

impl Deframer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Append bytes the transport delivered.
    pub fn push(&mut self, bytes: &[u8]) {
        // Drop taken bytes once they are at least half the buffer: each byte moves at most once
        // per halving, so many small records cost linear time, not quadratic.
        if self.start > 0 && self.start >= self.buf.len() - self.start {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        // Give back memory after a burst (e.g. one large push of many records).
        if self.buf.capacity() > SHRINK_ABOVE && self.buf.len() < self.buf.capacity() / 4 {
            self.buf.shrink_to(SHRINK_ABOVE.max(2 * self.buf.len()));
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Drop the bytes already taken and the spare capacity (an idle connection keeps only a
    /// partial record, if any).
    pub fn release_spare(&mut self) {
        self.buf.drain(..self.start);
        self.start = 0;
        self.buf.shrink_to_fit();
    }

    /// Bytes pushed and not yet taken as records.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next whole record, `Ok(None)` when more bytes are needed. A bad header is an error
    /// (and the connection is over): unknown content type → `unexpected_message`, a version that
    /// is not 3.x → `decode_error`, a length over 2^14 + 2048 → `record_overflow`.
    pub fn next_record(&mut self) -> Result<Option<OpaqueRecord>, Error> {
        let available = self.buf.get(self.start..).unwrap_or_default();
        let Some(header) = available.first_chunk::<HEADER_LEN>() else {
            return Ok(None);
        };
        let (content_type, version, len) = parse_header(header)?;
        let Some(payload) = available.get(HEADER_LEN..HEADER_LEN + len) else {
            return Ok(None);
        };
        let record = OpaqueRecord {
            content_type,
            version,
            payload: payload.to_vec(),
        };
        self.start += HEADER_LEN + len;
        if self.start == self.buf.len() {
            // Everything taken: start over without moving anything.
            self.buf.clear();
            self.start = 0;
        }
        Ok(Some(record))
    }
}

/// Both directions' protection state: the active cipher (none until ChangeCipherSpec), the
/// prepared one waiting for ChangeCipherSpec, and the sequence numbers.
#[derive(Debug)]
pub struct RecordLayer {
    write_version: u16,
    encrypter: Option<RecordCipher>,
    pending_encrypter: Option<RecordCipher>,
    /// The next write sequence number; `None` once all 2^64 were used.
    write_seq: Option<u64>,
    decrypter: Option<RecordCipher>,
    pending_decrypter: Option<RecordCipher>,
    read_seq: Option<u64>,
}

impl Default for RecordLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl RecordLayer {
    /// No protection in either direction (TLS_NULL_WITH_NULL_NULL), version 0x0303.
    pub fn new() -> Self {
        Self {
            write_version: TLS12,
            encrypter: None,
            pending_encrypter: None,
            write_seq: Some(0),
            decrypter: None,
            pending_decrypter: None,
            read_seq: Some(0),
        }
    }

    /// The version written in record headers: 0x0303, or 0x0301 for a client's first
    /// ClientHello record, which many stacks send so that old servers do not choke (only the
    /// tests play such a peer: our client writes 0x0303).
    #[cfg(test)]
    pub fn set_write_version(&mut self, v: u16) {
        self.write_version = v;
    }

    pub fn write_version(&self) -> u16 {
        self.write_version
    }

    /// Keys for our side, from the key block; they protect nothing until
    /// [`activate_encrypter`](Self::activate_encrypter).
    pub fn prepare_encrypter(&mut self, c: RecordCipher) {
        self.pending_encrypter = Some(c);
    }

    /// Keys for the peer's side; they are used from the peer's ChangeCipherSpec on.
    pub fn prepare_decrypter(&mut self, c: RecordCipher) {
        self.pending_decrypter = Some(c);
    }

    /// Call right after writing our ChangeCipherSpec: later records are protected, from seq 0.
    pub fn activate_encrypter(&mut self) -> Result<(), Error> {
        let c = self.pending_encrypter.take().ok_or_else(|| {
            Error::config("ChangeCipherSpec sent before write keys were prepared")
        })?;
        self.encrypter = Some(c);
        self.write_seq = Some(0);
        Ok(())
    }

    /// Call when the peer's ChangeCipherSpec arrives. A ChangeCipherSpec before the keys exist
    /// (e.g. before ClientKeyExchange; the CCS injection attack) is `unexpected_message`.
    pub fn activate_decrypter(&mut self) -> Result<(), Error> {
        let c = self.pending_decrypter.take().ok_or_else(|| {
            Error::unexpected("ChangeCipherSpec received before keys were agreed")
        })?;
        self.decrypter = Some(c);
        self.read_seq = Some(0);
        Ok(())
    }

    /// The active write cipher and the next write sequence number (for observers).
    pub fn write_state(&self) -> (Option<&RecordCipher>, Option<u64>) {
        (self.encrypter.as_ref(), self.write_seq)
    }

    /// The active read cipher and the next read sequence number (for observers).
    pub fn read_state(&self) -> (Option<&RecordCipher>, Option<u64>) {
        (self.decrypter.as_ref(), self.read_seq)
    }

    pub fn is_encrypting(&self) -> bool {
        self.encrypter.is_some()
    }

    pub fn is_decrypting(&self) -> bool {
        self.decrypter.is_some()
    }

    /// Split `data` into records of at most [`MAX_PLAINTEXT`] bytes, protect each with the next
    /// sequence number and append the wire bytes to `out`. Empty `data` writes nothing. Fails
    /// (writing nothing) only if the sequence numbers would run out.
    pub fn write_records(
        &mut self,
        content_type: ContentType,
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let count = data.len().div_ceil(MAX_PLAINTEXT);
        // Check the whole run first so a failure never leaves half a message in `out`.
        let first_seq = self.write_seq.ok_or_else(seq_exhausted)?;
        if count > 0 && first_seq.checked_add(count as u64 - 1).is_none() {
            return Err(seq_exhausted());
        }
        let overhead = HEADER_LEN + self.encrypter.as_ref().map_or(0, |c| c.max_overhead());
        out.reserve(data.len() + count * overhead);

        let ty = content_type.to_u8();
        let header = |len: usize| {
            let [hi, lo] = self.write_version.to_be_bytes();
            let [len_hi, len_lo] = (len as u16).to_be_bytes();
            [ty, hi, lo, len_hi, len_lo]
        };
        let Some(c) = &self.encrypter else {
            for fragment in data.chunks(MAX_PLAINTEXT) {
                out.extend_from_slice(&header(fragment.len()));
                out.extend_from_slice(fragment);
            }
            self.write_seq = first_seq.checked_add(count as u64);
            return Ok(());
        };
        // Lay out up to 8 records, then encrypt their independent CBC chains side by side
        // (the bulk-download hot path; see RecordCipher::seal_begin).
        let mut seq = first_seq;
        let mut jobs = [SealJob::default(); SEAL_BATCH];
        for batch in data.chunks(MAX_PLAINTEXT * SEAL_BATCH) {
            let mut n = 0;
            for (job, fragment) in jobs.iter_mut().zip(batch.chunks(MAX_PLAINTEXT)) {
                out.extend_from_slice(&header(c.sealed_len(fragment.len())));
                *job = c.seal_begin(seq, ty, self.write_version, fragment, out);
                seq = seq.wrapping_add(1); // checked above for the whole run
                n += 1;
            }
            c.seal_finish(&jobs[..n], out);
        }
        self.write_seq = first_seq.checked_add(count as u64);
        Ok(())
    }

    /// Protect and append one empty record (a test playing a peer that floods them; we never
    /// send one ourselves).
    pub fn write_empty_record(
        &mut self,
        content_type: ContentType,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let seq = self.write_seq.ok_or_else(seq_exhausted)?;
        let ty = content_type.to_u8();
        let [hi, lo] = self.write_version.to_be_bytes();
        match &self.encrypter {
            None => out.extend_from_slice(&[ty, hi, lo, 0, 0]),
            Some(c) => {
                let [len_hi, len_lo] = (c.sealed_len(0) as u16).to_be_bytes();
                out.extend_from_slice(&[ty, hi, lo, len_hi, len_lo]);
                let job = c.seal_begin(seq, ty, self.write_version, &[], out);
                c.seal_finish(&[job], out);
            }
        }
        self.write_seq = seq.checked_add(1);
        Ok(())
    }

    /// Remove and check one record's protection (no protection yet: pass it through) with the
    /// next read sequence number. A plaintext over 2^14 bytes is `record_overflow`; an empty
    /// handshake, alert or ChangeCipherSpec record (forbidden by §6.2.1) is `decode_error`.
    pub fn read_record(&mut self, record: OpaqueRecord) -> Result<PlainRecord, Error> {
        let OpaqueRecord {
            content_type,
            version,
            mut payload,
        } = record;
        let seq = self.read_seq.ok_or_else(seq_exhausted)?;
        self.read_seq = seq.checked_add(1);

        if let Some(c) = &self.decrypter {
            let range = c.open(seq, content_type.to_u8(), version, &mut payload)?;
            let len = range.len();
            payload.copy_within(range, 0);
            payload.truncate(len);
        }
        if payload.len() > MAX_PLAINTEXT {
            return Err(Error::protocol(
                AlertDescription::RecordOverflow,
                format!("record plaintext of {} bytes (limit 2^14)", payload.len()),
            ));
        }
        if payload.is_empty() && content_type != ContentType::ApplicationData {
            return Err(Error::decode(format!(
                "empty {} record",
                content_type.name()
            )));
        }
        Ok(PlainRecord {
            content_type,
            payload,
        })
    }
}

/// Records sealed together by `write_records`.
const SEAL_BATCH: usize = 8;

/// Above this capacity the deframer gives memory back when mostly empty: a few full records.
const SHRINK_ABOVE: usize = 4 * (HEADER_LEN + MAX_CIPHERTEXT);

fn parse_header(header: &[u8; HEADER_LEN]) -> Result<(ContentType, u16, usize), Error> {
    let [ty, major, minor, len_hi, len_lo] = *header;
    let content_type = ContentType::from_u8(ty)
        .ok_or_else(|| Error::unexpected(format!("unknown record content type {ty}")))?;
    // Any 3.x: RFC 5246 Appendix E has a server accept any {03,XX} in the ClientHello's record
    // (the first is often 3.1; a future version may write more). Major 3 is what tells TLS
    // from other bytes sent to this port.
    if major != 3 {
        return Err(Error::decode(format!(
            "record version {major}.{minor} is not SSL 3 / TLS"
        )));
    }
    let len = usize::from(u16::from_be_bytes([len_hi, len_lo]));
    if len > MAX_CIPHERTEXT {
        return Err(Error::protocol(
            AlertDescription::RecordOverflow,
            format!("record length {len} over 2^14 + 2048"),
        ));
    }
    Ok((content_type, u16::from_be_bytes([major, minor]), len))
}

fn seq_exhausted() -> Error {
    // 2^64 records: never in practice, but a wrapped number would repeat a MAC input.
    Error::protocol(
        AlertDescription::InternalError,
        "sequence number would wrap; the connection must close",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::prf;
    use crate::suites::{
        CipherSuite, ALL_SUITES, TLS_RSA_WITH_AES_128_CBC_SHA256, TLS_RSA_WITH_AES_128_GCM_SHA256,
    };
    use proptest::prelude::*;

    fn alert_of<T: std::fmt::Debug>(r: Result<T, Error>) -> Option<AlertDescription> {
        match r {
            Ok(v) => panic!("expected an error, got {v:?}"),
            Err(e) => e.alert(),
        }
    }

    fn drain(d: &mut Deframer) -> Vec<OpaqueRecord> {
        let mut v = Vec::new();
        while let Ok(Some(r)) = d.next_record() {
            v.push(r);
        }
        v
    }

    fn wire(ty: u8, version: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![ty];
        v.extend_from_slice(&version.to_be_bytes());
        v.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    fn three_records() -> (Vec<u8>, Vec<OpaqueRecord>) {
        let recs = vec![
            OpaqueRecord {
                content_type: ContentType::Handshake,
                version: 0x0301,
                payload: b"client hello".to_vec(),
            },
            OpaqueRecord {
                content_type: ContentType::ChangeCipherSpec,
                version: 0x0303,
                payload: vec![1],
            },
            OpaqueRecord {
                content_type: ContentType::ApplicationData,
                version: 0x0303,
                payload: vec![0xAB; 300],
            },
        ];
        let bytes = recs
            .iter()
            .flat_map(|r| wire(r.content_type.to_u8(), r.version, &r.payload))
            .collect();
        (bytes, recs)
    }

    #[test]
    fn deframer_byte_by_byte() {
        let (bytes, expected) = three_records();
        let mut d = Deframer::new();
        let mut got = Vec::new();
        for b in &bytes {
            d.push(std::slice::from_ref(b));
            while let Some(r) = d.next_record().unwrap_or_else(|e| panic!("{e}")) {
                got.push(r);
            }
        }
        assert_eq!(got, expected);
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn deframer_several_records_in_one_push() {
        let (bytes, expected) = three_records();
        let mut d = Deframer::new();
        d.push(&bytes);
        d.push(&bytes[..7]); // and the start of a fourth
        assert_eq!(drain(&mut d), expected);
        assert_eq!(d.buffered(), 7);
        assert!(matches!(d.next_record(), Ok(None)));
        d.push(&bytes[7..17]);
        assert_eq!(drain(&mut d), expected[..1]);
    }

    #[test]
    fn deframer_rejects_bad_headers_before_the_body() {
        let mut d = Deframer::new();
        d.push(&[24, 3, 3, 0, 1]);
        assert_eq!(
            alert_of(d.next_record()),
            Some(AlertDescription::UnexpectedMessage)
        );

        // "GET / HTTP/1.1": plain HTTP sent to a TLS port.
        let mut d = Deframer::new();
        d.push(b"GET / HTTP/1.1\r\n");
        assert_eq!(
            alert_of(d.next_record()),
            Some(AlertDescription::UnexpectedMessage)
        );

        for version in [[2, 0], [4, 3], [0x7f, 0x03]] {
            let mut d = Deframer::new();
            d.push(&[22, version[0], version[1], 0, 1]);
            assert_eq!(
                alert_of(d.next_record()),
                Some(AlertDescription::DecodeError)
            );
        }

        // Too long: refused on the header alone, no body awaited.
        let mut d = Deframer::new();
        d.push(&[23, 3, 3]);
        assert!(matches!(d.next_record(), Ok(None)));
        d.push(&((MAX_CIPHERTEXT + 1) as u16).to_be_bytes());
        assert_eq!(
            alert_of(d.next_record()),
            Some(AlertDescription::RecordOverflow)
        );

        // Exactly the limit is fine, once it has all arrived.
        let mut d = Deframer::new();
        d.push(&wire(23, 0x0303, &vec![0; MAX_CIPHERTEXT])[..HEADER_LEN + 100]);
        assert!(matches!(d.next_record(), Ok(None)));
        d.push(&vec![0; MAX_CIPHERTEXT - 100]);
        assert!(matches!(d.next_record(), Ok(Some(r)) if r.payload.len() == MAX_CIPHERTEXT));
    }

    #[test]
    fn deframer_accepts_any_3_x_version() {
        // RFC 5246 Appendix E: any {03,XX} in a ClientHello's record.
        for minor in [0u8, 1, 2, 3, 4, 0xfe, 0xff] {
            let mut d = Deframer::new();
            d.push(&[22, 3, minor, 0, 1, 9]);
            let r = d.next_record().ok().flatten();
            assert_eq!(r.map(|r| r.version), Some(0x0300 | u16::from(minor)));
        }
    }

    #[test]
    fn deframer_many_small_records_is_linear_and_gives_memory_back() {
        // 200k one-byte records in one push; taking them must not copy the rest each time.
        let one = wire(23, 0x0303, &[7]);
        let many = one.repeat(200_000);
        let mut d = Deframer::new();
        d.push(&many);
        let mut n = 0;
        while let Ok(Some(_)) = d.next_record() {
            n += 1;
        }
        assert_eq!(n, 200_000);
        d.push(&one);
        assert!(d.buf.capacity() <= SHRINK_ABOVE.max(2 * d.buf.len()));
        assert_eq!(drain(&mut d).len(), 1);
    }

    proptest! {
        #[test]
        fn deframer_never_panics_and_holds_only_what_is_untaken(
            chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..40),
            valid_prefix in any::<bool>(),
        ) {
            let mut d = Deframer::new();
            let mut pushed = 0usize;
            let mut taken = 0usize;
            if valid_prefix {
                let (bytes, _) = three_records();
                d.push(&bytes);
                pushed += bytes.len();
            }
            'feed: for c in &chunks {
                d.push(c);
                pushed += c.len();
                prop_assert!(d.buf.len() <= 2 * d.buffered());
                loop {
                    match d.next_record() {
                        Ok(Some(r)) => {
                            prop_assert!(r.payload.len() <= MAX_CIPHERTEXT);
                            taken += HEADER_LEN + r.payload.len();
                        }
                        Ok(None) => break,
                        Err(e) => {
                            prop_assert!(e.alert().is_some());
                            break 'feed;
                        }
                    }
                }
                prop_assert_eq!(d.buffered(), pushed - taken);
            }
        }
    }

    // ---- RecordLayer ----

    fn key_block(suite: &CipherSuite) -> prf::KeyBlock {
        let ms = prf::master_secret(suite.prf, &[3; 48], &[1; 32], &[2; 32]);
        prf::key_block(&ms, &[1; 32], &[2; 32], suite)
    }

    /// A client layer and a server layer with the client→server keys prepared on both sides.
    fn client_to_server(suite: &'static CipherSuite, etm: bool) -> (RecordLayer, RecordLayer) {
        let kb = key_block(suite);
        let cipher = || client_write(suite, &kb, etm);
        let mut client = RecordLayer::new();
        let mut server = RecordLayer::new();
        client.prepare_encrypter(cipher());
        server.prepare_decrypter(cipher());
        (client, server)
    }

    fn client_write(suite: &'static CipherSuite, kb: &prf::KeyBlock, etm: bool) -> RecordCipher {
        RecordCipher::with_fixed_iv(
            suite,
            &kb.client_write_mac_key,
            &kb.client_write_key,
            &kb.client_write_iv,
            etm,
        )
    }

    fn read_all(layer: &mut RecordLayer, bytes: &[u8]) -> Result<Vec<PlainRecord>, Error> {
        let mut d = Deframer::new();
        d.push(bytes);
        let mut out = Vec::new();
        while let Some(r) = d.next_record()? {
            out.push(layer.read_record(r)?);
        }
        Ok(out)
    }

    #[test]
    fn null_protection_passes_through() {
        let mut layer = RecordLayer::new();
        let mut out = Vec::new();
        layer.set_write_version(0x0301);
        layer
            .write_records(ContentType::Handshake, b"hello", &mut out)
            .ok();
        assert_eq!(out, wire(22, 0x0301, b"hello"));
        layer.set_write_version(TLS12);
        out.clear();
        layer.write_records(ContentType::Alert, &[], &mut out).ok();
        assert!(out.is_empty(), "empty data writes no record");
        let got = read_all(&mut RecordLayer::new(), &wire(22, 0x0303, b"hi")).ok();
        assert_eq!(
            got,
            Some(vec![PlainRecord {
                content_type: ContentType::Handshake,
                payload: b"hi".to_vec()
            }])
        );
    }

    #[test]
    fn keys_protect_only_after_activation() {
        for suite in ALL_SUITES {
            for etm in [false, true] {
                let (mut client, mut server) = client_to_server(suite, etm);
                assert!(!client.is_encrypting() && !server.is_decrypting());

                let mut out = Vec::new();
                client
                    .write_records(ContentType::Handshake, b"finished-ish", &mut out)
                    .ok();
                assert_eq!(
                    out,
                    wire(22, 0x0303, b"finished-ish"),
                    "prepared keys are not used yet"
                );

                out.clear();
                client
                    .write_records(ContentType::ChangeCipherSpec, &[1], &mut out)
                    .ok();
                assert!(client.activate_encrypter().is_ok());
                assert!(client.is_encrypting());
                for msg in [&b"one"[..], b"two", b"three"] {
                    client
                        .write_records(ContentType::ApplicationData, msg, &mut out)
                        .ok();
                }

                let mut d = Deframer::new();
                d.push(&out);
                let ccs = d
                    .next_record()
                    .ok()
                    .flatten()
                    .map(|r| server.read_record(r));
                assert!(matches!(
                    ccs,
                    Some(Ok(PlainRecord {
                        content_type: ContentType::ChangeCipherSpec,
                        ..
                    }))
                ));
                assert!(server.activate_decrypter().is_ok());
                assert!(server.is_decrypting());
                let records = drain(&mut d);
                assert_eq!(records.len(), 3);
                assert!(records[0].payload.len() > 3, "encrypted");

                // Sequence numbers restart at 0 after activation and count up per record.
                let c = client_write(suite, &key_block(suite), etm);
                for (seq, r) in records.iter().enumerate() {
                    let mut p = r.payload.clone();
                    assert!(c.open(seq as u64, 23, 0x0303, &mut p).is_ok(), "seq {seq}");
                }

                // Delivered in order they decrypt; a replayed or reordered record does not.
                let mut replay = server_clone_decrypting(suite, etm);
                assert_eq!(
                    replay
                        .read_record(records[1].clone())
                        .err()
                        .and_then(|e| e.alert()),
                    Some(AlertDescription::BadRecordMac)
                );
                let texts: Vec<Vec<u8>> = records
                    .into_iter()
                    .filter_map(|r| server.read_record(r).ok().map(|p| p.payload))
                    .collect();
                assert_eq!(texts, [b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]);
            }
        }
    }

    /// A server layer whose decrypter is active at seq 0 (for replay checks).
    fn server_clone_decrypting(suite: &'static CipherSuite, etm: bool) -> RecordLayer {
        let (_, mut server) = client_to_server(suite, etm);
        assert!(server.activate_decrypter().is_ok());
        server
    }

    #[test]
    fn activation_without_keys_fails() {
        let mut layer = RecordLayer::new();
        assert_eq!(
            alert_of(layer.activate_decrypter()),
            Some(AlertDescription::UnexpectedMessage)
        );
        assert!(matches!(layer.activate_encrypter(), Err(Error::Config(_))));
        // Prepared keys are used once: a second CCS has nothing to activate.
        let (mut client, mut server) = client_to_server(&TLS_RSA_WITH_AES_128_CBC_SHA256, false);
        assert!(client.activate_encrypter().is_ok() && server.activate_decrypter().is_ok());
        assert_eq!(
            alert_of(server.activate_decrypter()),
            Some(AlertDescription::UnexpectedMessage)
        );
    }

    #[test]
    fn fragments_40000_bytes_into_three_records() {
        let data: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
        for encrypted in [false, true] {
            let (mut client, mut server) =
                client_to_server(&TLS_RSA_WITH_AES_128_CBC_SHA256, false);
            if encrypted {
                assert!(client.activate_encrypter().is_ok() && server.activate_decrypter().is_ok());
            }
            let mut out = Vec::new();
            assert!(client
                .write_records(ContentType::ApplicationData, &data, &mut out)
                .is_ok());
            let records = read_all(&mut server, &out).unwrap_or_else(|e| panic!("{e}"));
            let lens: Vec<usize> = records.iter().map(|r| r.payload.len()).collect();
            assert_eq!(lens, [16384, 16384, 7232]);
            assert_eq!(records.concat_payloads(), data);
            assert_eq!(client.write_seq, Some(3));
            assert_eq!(server.read_seq, Some(3));
        }
    }

    #[test]
    fn large_writes_round_trip_in_every_suite_and_mode() {
        // 13 records: one full batch of 8 sealed together and a ragged batch of 5.
        let data: Vec<u8> = (0..12 * MAX_PLAINTEXT + 999)
            .map(|i| (i % 253) as u8)
            .collect();
        for suite in ALL_SUITES {
            for etm in [false, true] {
                let (mut client, mut server) = client_to_server(suite, etm);
                assert!(client.activate_encrypter().is_ok() && server.activate_decrypter().is_ok());
                let mut out = vec![0xEE];
                assert!(client
                    .write_records(ContentType::ApplicationData, b"x", &mut out)
                    .is_ok());
                assert!(client
                    .write_records(ContentType::ApplicationData, &data, &mut out)
                    .is_ok());
                let records = read_all(&mut server, &out[1..]).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(records.len(), 14);
                assert_eq!(
                    records.concat_payloads()[1..],
                    data[..],
                    "{} etm={etm}",
                    suite.name
                );
                assert_eq!(server.read_seq, Some(14));
            }
        }
    }

    trait ConcatPayloads {
        fn concat_payloads(&self) -> Vec<u8>;
    }
    impl ConcatPayloads for Vec<PlainRecord> {
        fn concat_payloads(&self) -> Vec<u8> {
            self.iter()
                .flat_map(|r| r.payload.iter().copied())
                .collect()
        }
    }

    /// GCM's explicit nonce is the record's sequence number (RFC 5288 §3), so across a
    /// connection's records, batched or not, no nonce is ever used twice under one key.
    #[test]
    fn gcm_explicit_nonce_is_the_sequence_number() {
        let suite = &TLS_RSA_WITH_AES_128_GCM_SHA256;
        let (mut client, mut server) = client_to_server(suite, false);
        assert!(client.activate_encrypter().is_ok() && server.activate_decrypter().is_ok());
        let mut out = Vec::new();
        for chunk in [&vec![7u8; 11 * MAX_PLAINTEXT][..], b"a", b"", b"bc"] {
            assert!(client
                .write_records(ContentType::ApplicationData, chunk, &mut out)
                .is_ok());
        }
        let mut d = Deframer::new();
        d.push(&out);
        let records = drain(&mut d);
        assert_eq!(records.len(), 13);
        let mut nonces = std::collections::HashSet::new();
        for (seq, r) in records.iter().enumerate() {
            assert_eq!(r.payload[..8], (seq as u64).to_be_bytes(), "record {seq}");
            assert!(nonces.insert(r.payload[..8].to_vec()));
            assert!(r.payload.len() >= 24 && r.payload.len() - 24 <= MAX_PLAINTEXT);
        }
        for r in records {
            assert!(server.read_record(r).is_ok());
        }
    }

    #[test]
    fn oversized_plaintext_is_record_overflow() {
        for suite in [
            &TLS_RSA_WITH_AES_128_CBC_SHA256,
            &TLS_RSA_WITH_AES_128_GCM_SHA256,
        ] {
            oversized_plaintext_is_record_overflow_in(suite);
        }
    }

    fn oversized_plaintext_is_record_overflow_in(suite: &'static CipherSuite) {
        // Encrypted: a peer sealing 2^14 + 1 bytes fits under 2^14 + 2048 on the wire and passes
        // the MAC (or tag); only the plaintext check catches it.
        let (_, mut server) = client_to_server(suite, false);
        assert!(server.activate_decrypter().is_ok());
        let c = client_write(suite, &key_block(suite), false);
        let mut payload = Vec::new();
        c.seal(0, 23, 0x0303, &vec![0x55; MAX_PLAINTEXT + 1], &mut payload);
        assert!(payload.len() <= MAX_CIPHERTEXT);
        let rec = OpaqueRecord {
            content_type: ContentType::ApplicationData,
            version: 0x0303,
            payload,
        };
        assert_eq!(
            alert_of(server.read_record(rec)),
            Some(AlertDescription::RecordOverflow)
        );

        // And exactly 2^14 is fine.
        let (_, mut server) = client_to_server(suite, false);
        assert!(server.activate_decrypter().is_ok());
        let mut payload = Vec::new();
        c.seal(0, 23, 0x0303, &vec![0x55; MAX_PLAINTEXT], &mut payload);
        let rec = OpaqueRecord {
            content_type: ContentType::ApplicationData,
            version: 0x0303,
            payload,
        };
        assert!(server.read_record(rec).is_ok());

        // Unprotected: the deframer allows up to 2^14 + 2048, the plaintext limit is 2^14.
        let rec = OpaqueRecord {
            content_type: ContentType::Handshake,
            version: 0x0303,
            payload: vec![1; MAX_PLAINTEXT + 1],
        };
        assert_eq!(
            alert_of(RecordLayer::new().read_record(rec)),
            Some(AlertDescription::RecordOverflow)
        );
    }

    #[test]
    fn empty_records() {
        let empty = |content_type| OpaqueRecord {
            content_type,
            version: 0x0303,
            payload: vec![],
        };
        for ty in [
            ContentType::Handshake,
            ContentType::Alert,
            ContentType::ChangeCipherSpec,
        ] {
            assert_eq!(
                alert_of(RecordLayer::new().read_record(empty(ty))),
                Some(AlertDescription::DecodeError)
            );
        }
        assert!(RecordLayer::new()
            .read_record(empty(ContentType::ApplicationData))
            .is_ok());
        // An empty encrypted application data record is fine too; an empty payload is not.
        let (mut client, mut server) = client_to_server(&TLS_RSA_WITH_AES_128_CBC_SHA256, true);
        assert!(client.activate_encrypter().is_ok() && server.activate_decrypter().is_ok());
        let kb = key_block(&TLS_RSA_WITH_AES_128_CBC_SHA256);
        let c = RecordCipher::new(
            &TLS_RSA_WITH_AES_128_CBC_SHA256,
            &kb.client_write_mac_key,
            &kb.client_write_key,
            true,
        );
        let mut payload = Vec::new();
        c.seal(0, 23, 0x0303, &[], &mut payload);
        let rec = OpaqueRecord {
            content_type: ContentType::ApplicationData,
            version: 0x0303,
            payload,
        };
        assert!(matches!(server.read_record(rec), Ok(p) if p.payload.is_empty()));
        assert_eq!(
            alert_of(server.read_record(empty(ContentType::ApplicationData))),
            Some(AlertDescription::BadRecordMac)
        );
    }

    #[test]
    fn sequence_numbers_never_wrap() {
        let (mut client, mut server) = client_to_server(&TLS_RSA_WITH_AES_128_CBC_SHA256, false);
        assert!(client.activate_encrypter().is_ok() && server.activate_decrypter().is_ok());
        client.write_seq = Some(u64::MAX - 1);
        server.read_seq = Some(u64::MAX - 1);
        let mut out = Vec::new();
        // Three records would need seq 2^64 - 1 and 2^64: refused as a whole, nothing written.
        let data = vec![0; 2 * MAX_PLAINTEXT + 1];
        assert_eq!(
            alert_of(client.write_records(ContentType::ApplicationData, &data, &mut out)),
            Some(AlertDescription::InternalError)
        );
        assert!(out.is_empty());
        // The last two numbers are usable, then nothing more.
        assert!(client
            .write_records(ContentType::ApplicationData, b"a", &mut out)
            .is_ok());
        assert!(client
            .write_records(ContentType::ApplicationData, b"b", &mut out)
            .is_ok());
        assert_eq!(client.write_seq, None);
        assert!(client
            .write_records(ContentType::ApplicationData, b"c", &mut out)
            .is_err());
        assert!(client
            .write_records(ContentType::ApplicationData, b"", &mut out)
            .is_err());

        let mut d = Deframer::new();
        d.push(&out);
        let recs = drain(&mut d);
        assert_eq!(recs.len(), 2);
        for r in recs {
            assert!(server.read_record(r).is_ok());
        }
        let again = OpaqueRecord {
            content_type: ContentType::ApplicationData,
            version: 0x0303,
            payload: vec![0; 64],
        };
        assert_eq!(
            alert_of(server.read_record(again)),
            Some(AlertDescription::InternalError)
        );
    }

    #[test]
    fn write_version_goes_into_header_and_mac() {
        let (mut client, _) = client_to_server(&TLS_RSA_WITH_AES_128_CBC_SHA256, false);
        assert!(client.activate_encrypter().is_ok());
        client.set_write_version(0x0301);
        let mut out = Vec::new();
        assert!(client
            .write_records(ContentType::Handshake, b"x", &mut out)
            .is_ok());
        assert_eq!(&out[..3], &[22, 3, 1]);
        assert_eq!(
            usize::from(u16::from_be_bytes([out[3], out[4]])),
            out.len() - HEADER_LEN
        );
        let kb = key_block(&TLS_RSA_WITH_AES_128_CBC_SHA256);
        let c = RecordCipher::new(
            &TLS_RSA_WITH_AES_128_CBC_SHA256,
            &kb.client_write_mac_key,
            &kb.client_write_key,
            false,
        );
        assert!(c
            .open(0, 22, 0x0301, &mut out[HEADER_LEN..].to_vec())
            .is_ok());
        assert!(c
            .open(0, 22, 0x0303, &mut out[HEADER_LEN..].to_vec())
            .is_err());
    }
}
