//! Lab 5: integrity. A hash (SHA-256, FIPS 180-4) changes about half its bits when one input bit
//! does; an HMAC (RFC 2104) is such a hash keyed, so only key holders can make a valid one; and a
//! TLS record (RFC 5246 §6.2.3.2) carries one, so a record changed in transit — a single bit —
//! is refused with `bad_record_mac` and not one byte of it reaches the application.

use super::{form, hex, lab_page, visible, Query};
use crate::html::escape;
use hmac::{Hmac, KeyInit, Mac};
use rand::RngExt;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use tls::crypto::cipher::RecordCipher;
use tls::record::{ContentType, Deframer, RecordLayer, HEADER_LEN};

const DEFAULT_TEXT: &str = "Pay Bob 100 euros";

/// What happened to one record on its way through our record layer.
pub struct RecordTrip {
    pub wire: Vec<u8>,
    pub flipped: Vec<u8>,
    /// The byte and bit flipped, counted from the start of the record.
    pub flipped_at: (usize, u8),
    /// The untouched record, opened: the text back.
    pub intact: Result<Vec<u8>, String>,
    /// The flipped record, opened: the error (an alert name) or, wrongly, bytes.
    pub tampered: Result<Vec<u8>, String>,
}

/// Seal `text` as one application_data record with throwaway keys, flip bit `bit` of the
/// protected payload, and open both copies with a fresh record layer holding the same keys.
pub fn record_trip(text: &[u8], bit: usize) -> RecordTrip {
    let suite = &tls::suites::TLS_RSA_WITH_AES_128_CBC_SHA256;
    let mut mac_key = [0u8; 32];
    let mut enc_key = [0u8; 16];
    rand::rng().fill(&mut mac_key[..]);
    rand::rng().fill(&mut enc_key[..]);
    let keys = || RecordCipher::new(suite, &mac_key, &enc_key, false);

    let mut writer = RecordLayer::new();
    writer.prepare_encrypter(keys());
    let mut wire = Vec::new();
    let sealed = writer
        .activate_encrypter()
        .and_then(|()| writer.write_records(ContentType::ApplicationData, text, &mut wire));
    if let Err(e) = sealed {
        return RecordTrip {
            wire: Vec::new(),
            flipped: Vec::new(),
            flipped_at: (0, 0),
            intact: Err(e.to_string()),
            tampered: Err(e.to_string()),
        };
    }
    // Only the protected payload: a flipped header bit would be a different failure.
    let payload_bits = wire.len().saturating_sub(HEADER_LEN) * 8;
    let bit = bit % payload_bits.max(1);
    let at = (HEADER_LEN + bit / 8, (bit % 8) as u8);
    let mut flipped = wire.clone();
    if let Some(b) = flipped.get_mut(at.0) {
        *b ^= 1 << at.1;
    }
    RecordTrip {
        intact: open(&wire, keys()),
        tampered: open(&flipped, keys()),
        wire,
        flipped,
        flipped_at: at,
    }
}

/// What a receiving record layer delivers from `wire`: the plaintext, or the alert's name.
fn open(wire: &[u8], keys: RecordCipher) -> Result<Vec<u8>, String> {
    let mut reader = RecordLayer::new();
    reader.prepare_decrypter(keys);
    reader.activate_decrypter().map_err(|e| e.to_string())?;
    let mut deframer = Deframer::new();
    deframer.push(wire);
    let mut delivered = Vec::new();
    // One record per 2^14 bytes of text, and the text is bounded: a few rounds at most.
    for _ in 0..4 {
        match deframer.next_record() {
            Ok(Some(record)) => match reader.read_record(record) {
                Ok(plain) => delivered.extend_from_slice(&plain.payload),
                Err(e) => {
                    return Err(e
                        .alert()
                        .map_or_else(|| e.to_string(), |a| a.name().to_string()))
                }
            },
            Ok(None) => break,
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(delivered)
}

fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(mut m) => {
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

fn differing_bits(a: &[u8], b: &[u8]) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}

/// 256 cells, one per bit of the digests: dark where they differ.
fn bit_map(a: &[u8], b: &[u8]) -> String {
    let mut out = String::from(
        "<div style=\"display:grid;grid-template-columns:repeat(32,1fr);gap:1px;max-width:420px\">",
    );
    for (x, y) in a.iter().zip(b) {
        for i in (0..8).rev() {
            let differ = ((x ^ y) >> i) & 1 == 1;
            let _ = write!(
                out,
                "<span style=\"height:10px;background:{}\"></span>",
                if differ { "#a23b1d" } else { "#dde1e8" }
            );
        }
    }
    out.push_str("</div>");
    out
}

pub(super) fn page(q: &Query) -> String {
    let text = q.text("text", DEFAULT_TEXT);
    // Default second text: the last byte with its lowest bit flipped ("euros" → "euror").
    let mut one_off = text.as_bytes().to_vec();
    if let Some(last) = one_off.last_mut() {
        *last ^= 1;
    }
    let changed: Vec<u8> = q
        .get("changed")
        .filter(|c| !c.is_empty())
        .map_or(one_off, |c| c.as_bytes().to_vec());
    let h1 = sha256(text.as_bytes());
    let h2 = sha256(&changed);
    let diff = differing_bits(&h1, &h2);
    let input_diff =
        differing_bits(text.as_bytes(), &changed) + 8 * text.len().abs_diff(changed.len()) as u32;

    let mut key = [0u8; 32];
    rand::rng().fill(&mut key[..]);
    let mac1 = hmac(&key, text.as_bytes());
    let mac2 = hmac(&key, &changed);

    let bit = q.number("bit", 0..=1_000_000, 0) as usize;
    let trip = record_trip(text.as_bytes(), bit);
    let outcome = |r: &Result<Vec<u8>, String>, id: &str| match r {
        Ok(bytes) => format!(
            "<span class=\"ok\" id=\"{id}\">delivered {} bytes: <code>{}</code></span>",
            bytes.len(),
            visible(bytes)
        ),
        Err(alert) => format!(
            "<span class=\"bad\" id=\"{id}\">refused: <code>{}</code> — 0 bytes delivered</span>",
            escape(alert)
        ),
    };

    let body = format!(
        "<section><h2>Try it</h2>{form}</section>\n\
<section><h2>One bit in, half the bits out</h2>\
<table><tr><th>Text</th><td><code>{t1}</code></td></tr>\
<tr><th>SHA-256</th><td><span class=\"hex\" id=\"sha-1\">{h1}</span></td></tr>\
<tr><th>Changed text ({input_diff} bit{s} different)</th><td><code>{t2}</code></td></tr>\
<tr><th>SHA-256</th><td><span class=\"hex\" id=\"sha-2\">{h2}</span></td></tr>\
<tr><th>Digest bits that differ</th><td><b id=\"bits-differ\">{diff}</b> of 256</td></tr></table>\
{map}<p class=\"small muted\">Each cell is one bit of the two digests; dark where they differ. A good \
hash changes about half of them, unpredictably: from the digest nobody can tell how close the inputs were.</p></section>\n\
<section><h2>HMAC: a hash only key holders can make</h2>\
<p>A hash alone proves nothing in transit: whoever changes the message recomputes it. HMAC-SHA256 mixes a \
secret key in (here 32 random bytes drawn now); without the key no one can produce the right value for a \
changed message.</p>\
<table><tr><th>Key</th><td><span class=\"hex\">{key}</span></td></tr>\
<tr><th>HMAC(text)</th><td><span class=\"hex\" id=\"hmac-1\">{mac1}</span></td></tr>\
<tr><th>HMAC(changed text)</th><td><span class=\"hex\" id=\"hmac-2\">{mac2}</span></td></tr></table></section>\n\
<section><h2>A real record, one bit flipped</h2>\
<p>Our record layer sealed your text as a TLS application_data record (<code>TLS_RSA_WITH_AES_128_CBC_SHA256</code>, \
MAC-then-encrypt, throwaway keys). An attacker on the path flips one bit — byte {byte}, bit {bitno} — and \
a receiving record layer with the same keys opens both copies.</p>\
<table><tr><th>Record as sent ({len} bytes)</th><td><span class=\"hex small\" id=\"record\">{wire}</span></td></tr>\
<tr><th>Record as received</th><td><span class=\"hex small\" id=\"flipped\">{flipped}</span></td></tr>\
<tr><th>Opening the record as sent</th><td>{intact}</td></tr>\
<tr><th>Opening the flipped record</th><td>{tampered}</td></tr></table>\
<p>The receiver does not learn <i>what</i> went wrong (padding or MAC): every failure is the same \
<code>bad_record_mac</code>, in the same time, or the difference would be an oracle (Lucky13). The \
connection ends with that alert.</p>\
<form class=\"lab\" method=\"get\" action=\"/lab/integrity\"><input type=\"hidden\" name=\"text\" value=\"{text_attr}\">\
<label>Flip another bit of the payload: <input type=\"number\" name=\"bit\" min=\"0\" value=\"{bit}\"></label> \
<button type=\"submit\">Flip</button></form></section>",
        form = form(
            "/lab/integrity",
            &[
                ("text", "Your text", text),
                ("changed", "The changed text (empty: flip the last bit)", q.text("changed", "")),
            ]
        ),
        t1 = escape(text),
        t2 = visible(&changed),
        s = if input_diff == 1 { "" } else { "s" },
        h1 = hex(&h1),
        h2 = hex(&h2),
        map = bit_map(&h1, &h2),
        key = hex(&key),
        mac1 = hex(&mac1),
        mac2 = hex(&mac2),
        byte = trip.flipped_at.0,
        bitno = trip.flipped_at.1,
        len = trip.wire.len(),
        wire = hex(&trip.wire),
        flipped = hex(&trip.flipped),
        intact = outcome(&trip.intact, "intact"),
        tampered = outcome(&trip.tampered, "tampered"),
        text_attr = escape(text),
    );
    lab_page(
        "5. Integrity",
        "SHA-256 and HMAC of your text, and a record our record layer refuses after one bit changed.",
        &body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flipped_bit_is_refused_and_the_intact_record_opens() {
        for bit in [0, 7, 100, 8 * 16 + 3, 8 * 47 + 7, 100_000] {
            let trip = record_trip(b"Pay Bob 100 euros", bit);
            assert_eq!(trip.intact.as_deref(), Ok(&b"Pay Bob 100 euros"[..]));
            assert_eq!(
                trip.tampered,
                Err("bad_record_mac".to_string()),
                "bit {bit}"
            );
            assert_eq!(differing_bits(&trip.wire, &trip.flipped), 1);
        }
    }
}
