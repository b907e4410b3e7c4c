//! One protected application record taken apart (RFC 5246 §6.2.3.2, RFC 7366) with the cipher
//! and sequence number its Record event carries: explicit IV, ciphertext, MAC, padding.

use super::*;

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
        vec![s]
    }
}

#[cfg(test)]
mod tests {
    use crate::crypto::cipher::RecordCipher;
    use crate::suites::{
        CipherSuite, TLS_RSA_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_AES_256_CBC_SHA256,
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

    proptest! {
        #[test]
        fn dissect_never_panics(wire in proptest::collection::vec(any::<u8>(), 0..200), etm: bool) {
            let cipher = RecordCipher::new(&TLS_RSA_WITH_AES_128_CBC_SHA, &[1; 20], &[2; 16], etm);
            let _ = cipher.dissect(0, &wire);
        }
    }
}
