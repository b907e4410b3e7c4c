//! One protected application record taken apart with the cipher and sequence number its Record
//! event carries: for CBC (RFC 5246 §6.2.3.2, RFC 7366) explicit IV, ciphertext, MAC, padding;
//! for AES-GCM (RFC 5288) explicit nonce, full nonce, additional data, ciphertext, tag.

use super::*;
use crate::crypto::cipher::RecordAnatomy;
use crate::crypto::gcm::AeadParts;

impl Explainer {
    pub(super) fn record(
        &mut self,
        direction: Direction,
        content_type: ContentType,
        wire: &[u8],
        plaintext: &[u8],
        protection: Option<Protection<'_>>,
    ) -> Vec<Step> {
        let d = index(direction);
        // Only protected records are taken apart; the record layer says which those are.
        let Some(protection) = protection else {
            return Vec::new();
        };
        if content_type != ContentType::ApplicationData {
            return Vec::new();
        }
        self.app_records[d] += 1;
        self.app_bytes[d] += plaintext.len();
        let flow = self.flow(direction);
        // One record each way is taken apart; the rest are only counted (shown at close).
        if self.app_records[d] > 1 {
            return Vec::new();
        }
        let mut s = self.step(&format!(
            "The first application record ({flow}), taken apart"
        ));
        s.text(format!(
            "What the application handed over ({} bytes of plaintext):",
            plaintext.len()
        ));
        s.dump_head(false, plaintext, SHOWN_ROWS);
        s.text(format!("What crossed the wire ({} bytes):", wire.len()));
        s.dump_head(true, wire, SHOWN_ROWS);
        let sent_by_client = flow.starts_with("client");
        // Taken apart with the record layer's own cipher and sequence number.
        let anatomy = protection.cipher.dissect(protection.seq, wire);
        let Some(a) = anatomy else {
            s.text("(could not take this record apart)");
            return vec![s];
        };
        s.field(
            "record header",
            format!(
                "{} (application_data, TLS 1.2, length)",
                hex_spaced(&a.header)
            ),
        );
        if let Some(parts) = &a.aead {
            aead_parts(&mut s, &a, parts, plaintext, sent_by_client);
            return vec![s];
        }
        s.field(
            "explicit IV",
            format!("{} bytes: {}", a.iv.len(), hex(&a.iv)),
        );
        s.text("  fresh and random for every record: the same request twice never looks the same.");
        s.field(
            "AES-CBC ciphertext",
            format!(
                "{} bytes: {}",
                a.ciphertext.len(),
                hex_prefix(&a.ciphertext, 16)
            ),
        );
        s.text("  CBC chains each block into the next, so equal blocks of text do not give equal blocks (ECB would leak them).");
        let mac_name = if sent_by_client {
            "client_write_MAC_key"
        } else {
            "server_write_MAC_key"
        };
        if a.encrypt_then_mac {
            s.text(format!("Decrypted with the {}: plaintext + padding; the MAC sits outside, over IV + ciphertext.", if sent_by_client { "client_write_key" } else { "server_write_key" }));
        } else {
            s.text(format!(
                "Decrypted with the {}: plaintext + MAC + padding.",
                if sent_by_client {
                    "client_write_key"
                } else {
                    "server_write_key"
                }
            ));
        }
        s.field(
            "plaintext",
            format!(
                "{} bytes, identical to the above: {}",
                a.plaintext.len(),
                yes_no(a.plaintext == plaintext)
            ),
        );
        s.field(
            &format!("MAC (HMAC with the {mac_name}, sequence number {})", a.seq),
            format!("{} bytes: {}", a.mac.len(), hex(&a.mac)),
        );
        s.field(
            "MAC recomputed",
            if a.mac_ok {
                "matches: not one bit was changed on the way"
            } else {
                "DOES NOT MATCH"
            },
        );
        s.field(
            "padding",
            format!(
                "{} bytes, each {:02x}: {}",
                a.padding.len(),
                a.padding.len().saturating_sub(1),
                hex_spaced(&a.padding)
            ),
        );
        if !a.encrypt_then_mac {
            s.text("The MAC covers the plaintext but not the padding, so the receiver must decrypt and strip padding before it can check anything: the opening padding oracles (POODLE, Lucky13) exploit. AEAD suites (AES-GCM) close it.");
        }
        vec![s]
    }
}

/// The GCM record's parts: no IV of its own, no MAC key, no padding.
fn aead_parts(
    s: &mut Step,
    a: &RecordAnatomy,
    parts: &AeadParts,
    plaintext: &[u8],
    sent_by_client: bool,
) {
    let (key, iv) = if sent_by_client {
        ("client_write_key", "client_write_IV")
    } else {
        ("server_write_key", "server_write_IV")
    };
    s.field(
        "explicit nonce",
        format!(
            "{} bytes: {} (= sequence number {})",
            a.iv.len(),
            hex(&a.iv),
            a.seq
        ),
    );
    s.text("  sent in the clear; it is the record's sequence number, so no nonce ever repeats under this key (a repeat would give away the authentication key).");
    s.field(
        "nonce",
        format!(
            "{} bytes: {} = salt {} ({iv}, from the key block, never sent) + explicit nonce",
            parts.nonce.len(),
            hex(&parts.nonce),
            hex(&parts.salt)
        ),
    );
    s.field(
        "additional data",
        format!(
            "{} bytes: {} (sequence number, type, version, plaintext length)",
            parts.additional_data.len(),
            hex_spaced(&parts.additional_data)
        ),
    );
    s.text("  authenticated but not encrypted: moving, replaying or relabelling the record breaks the tag.");
    s.field(
        "AES-GCM ciphertext",
        format!(
            "{} bytes (as long as the plaintext: no padding): {}",
            a.ciphertext.len(),
            hex_prefix(&a.ciphertext, 16)
        ),
    );
    s.field(
        &format!("tag (GCM with the {key})"),
        format!("{} bytes: {}", a.mac.len(), hex(&a.mac)),
    );
    s.field(
        "tag recomputed",
        if a.mac_ok {
            "matches: checked over nonce, additional data and ciphertext before one byte was decrypted"
        } else {
            "DOES NOT MATCH: nothing is decrypted"
        },
    );
    if a.mac_ok {
        s.text(format!("Decrypted with the {key} (AES in counter mode):"));
        s.field(
            "plaintext",
            format!(
                "{} bytes, identical to the above: {}",
                a.plaintext.len(),
                yes_no(a.plaintext == plaintext)
            ),
        );
    }
    s.text("No padding, and the tag covers every byte and is checked first: a padding oracle (POODLE, Lucky13) has nothing to measure.");
}

#[cfg(test)]
mod tests {
    use crate::crypto::cipher::RecordCipher;
    use crate::suites::{
        CipherSuite, TLS_RSA_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_AES_128_GCM_SHA256,
        TLS_RSA_WITH_AES_256_CBC_SHA256,
    };
    use proptest::prelude::*;

    fn seal(
        suite: &'static CipherSuite,
        etm: bool,
        seq: u64,
        plaintext: &[u8],
    ) -> (Vec<u8>, RecordCipher) {
        let mac_key = vec![0x11; suite.mac_len()];
        let enc_key = vec![0x22; suite.enc_key_len()];
        let cipher = RecordCipher::new(suite, &mac_key, &enc_key, etm);
        let mut payload = Vec::new();
        cipher.seal_with_iv(seq, 23, 0x0303, &[0x33; 16], plaintext, &mut payload);
        let mut wire = vec![23, 3, 3];
        wire.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        wire.extend_from_slice(&payload);
        (wire, cipher)
    }

    /// The record step shows the sequence number and MAC verdict the event's protection gives,
    /// and an unprotected record (no protection in the event) is not taken apart at all.
    #[test]
    fn record_step_uses_the_events_protection() {
        use super::super::{Explainer, Line};
        use crate::record::ContentType;
        use crate::trace::{Direction, Event, Protection};
        let text = b"GET / HTTP/1.1\r\n\r\n";
        let (wire, cipher) = seal(&TLS_RSA_WITH_AES_128_CBC_SHA, true, 5, text);
        let record = |seq: Option<u64>| Event::Record {
            direction: Direction::Sent,
            content_type: ContentType::ApplicationData,
            wire: &wire,
            plaintext: text,
            protection: seq.map(|seq| Protection {
                cipher: &cipher,
                seq,
            }),
        };
        assert!(Explainer::client("x").event(&record(None)).is_empty());
        let fields = |seq| -> Vec<(String, String)> {
            let steps = Explainer::client("x").event(&record(Some(seq)));
            steps
                .iter()
                .flat_map(|s| s.lines.iter())
                .filter_map(|l| match l {
                    Line::Field(k, v) => Some((k.clone(), v.clone())),
                    _ => None,
                })
                .collect()
        };
        let right = fields(5);
        assert!(
            right.iter().any(|(k, _)| k.contains("sequence number 5")),
            "{right:?}"
        );
        assert!(right
            .iter()
            .any(|(k, v)| k == "MAC recomputed" && v.starts_with("matches")));
        assert!(right
            .iter()
            .any(|(k, v)| k == "plaintext" && v.ends_with("yes")));
        // The sequence number is the event's: another one gives another MAC.
        let wrong = fields(6);
        assert!(wrong
            .iter()
            .any(|(k, v)| k == "MAC recomputed" && v == "DOES NOT MATCH"));
    }

    #[test]
    fn dissects_what_the_record_layer_seals() {
        for (suite, etm) in [
            (&TLS_RSA_WITH_AES_128_CBC_SHA, false),
            (&TLS_RSA_WITH_AES_128_CBC_SHA, true),
            (&TLS_RSA_WITH_AES_256_CBC_SHA256, false),
            (&TLS_RSA_WITH_AES_256_CBC_SHA256, true),
        ] {
            let text = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
            let (wire, cipher) = seal(suite, etm, 7, text);
            let a = cipher.dissect(7, &wire).unwrap();
            assert_eq!(a.plaintext, text);
            assert_eq!(a.iv, [0x33; 16]);
            assert_eq!(a.mac.len(), suite.mac_len());
            assert!(a.mac_ok, "{} etm={etm}", suite.name);
            let pad = a.padding.len();
            assert!(a.padding.iter().all(|&b| usize::from(b) == pad - 1));
            // A wrong sequence number gives a different MAC: the record is bound to its place.
            let b = cipher.dissect(8, &wire).unwrap();
            assert!(!b.mac_ok);
        }
    }

    fn seal_gcm(seq: u64, plaintext: &[u8]) -> (Vec<u8>, RecordCipher) {
        let suite = &TLS_RSA_WITH_AES_128_GCM_SHA256;
        let cipher = RecordCipher::with_fixed_iv(suite, &[], &[0x22; 16], &[0xa1; 4], false);
        let mut payload = Vec::new();
        cipher.seal(seq, 23, 0x0303, plaintext, &mut payload);
        let mut wire = vec![23, 3, 3];
        wire.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        wire.extend_from_slice(&payload);
        (wire, cipher)
    }

    #[test]
    fn dissects_a_gcm_record() {
        let text = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
        let (wire, cipher) = seal_gcm(7, text);
        let a = cipher.dissect(7, &wire).unwrap();
        assert!(a.mac_ok);
        assert_eq!(a.plaintext, text);
        assert_eq!(a.iv, 7u64.to_be_bytes());
        assert_eq!(a.ciphertext.len(), text.len());
        assert_eq!(a.mac.len(), 16);
        assert!(a.padding.is_empty());
        let parts = a.aead.as_ref().unwrap();
        assert_eq!(
            parts.nonce,
            [[0xa1; 4].as_slice(), &7u64.to_be_bytes()].concat()
        );
        assert_eq!(
            parts.additional_data,
            [&7u64.to_be_bytes()[..], &[23, 3, 3, 0, text.len() as u8]].concat()
        );
        // Another sequence number: other additional data, the tag fails, nothing is decrypted.
        let b = cipher.dissect(8, &wire).unwrap();
        assert!(!b.mac_ok);
        assert!(b.plaintext.is_empty());
    }

    /// The record step shows a GCM record's own parts and says why there is no padding oracle.
    #[test]
    fn gcm_record_step_shows_nonce_additional_data_and_tag() {
        use super::super::{Explainer, Line};
        use crate::record::ContentType;
        use crate::trace::{Direction, Event, Protection};
        let text = b"GET / HTTP/1.1\r\n\r\n";
        let (wire, cipher) = seal_gcm(3, text);
        let event = Event::Record {
            direction: Direction::Sent,
            content_type: ContentType::ApplicationData,
            wire: &wire,
            plaintext: text,
            protection: Some(Protection {
                cipher: &cipher,
                seq: 3,
            }),
        };
        let steps = Explainer::client("x").event(&event);
        let lines: Vec<&Line> = steps.iter().flat_map(|s| s.lines.iter()).collect();
        let field = |name: &str| {
            lines.iter().find_map(|l| match l {
                Line::Field(k, v) if k.starts_with(name) => Some(v.clone()),
                _ => None,
            })
        };
        assert!(field("explicit nonce").is_some_and(|v| v.contains("sequence number 3")));
        assert!(field("nonce").is_some_and(|v| v.contains("a1a1a1a1")));
        assert!(field("additional data").is_some_and(|v| v.starts_with("13 bytes")));
        assert!(field("tag (GCM").is_some_and(|v| v.starts_with("16 bytes")));
        assert!(field("tag recomputed").is_some_and(|v| v.starts_with("matches")));
        assert!(field("plaintext").is_some_and(|v| v.ends_with("yes")));
        assert!(field("padding").is_none() && field("MAC").is_none());
        assert!(lines
            .iter()
            .any(|l| matches!(l, Line::Text(t) if t.contains("padding oracle"))));
    }

    proptest! {
        #[test]
        fn dissect_never_panics(wire in proptest::collection::vec(any::<u8>(), 0..200), etm: bool) {
            let cipher = RecordCipher::new(&TLS_RSA_WITH_AES_128_CBC_SHA, &[1; 20], &[2; 16], etm);
            let _ = cipher.dissect(0, &wire);
        }
    }
}
