//! Lab 1: the shift cipher (each letter moved `k` places) and XOR with a key.
//! A shift falls to letter counting: the most common ciphertext letters line up with English's.
//! XOR with a random key as long as the text (a one-time pad) is unbreakable — until the key is
//! used twice: then `c1 ⊕ c2 = m1 ⊕ m2` and the key is gone from the equation.

use super::{form, hex, lab_page, visible, Query};
use crate::html::escape;
use rand::RngExt;
use std::fmt::Write as _;

const DEFAULT_TEXT: &str = "MEET ME AT THE CAFE AT SEVEN, THE PASSWORD IS THE NAME OF THE STREET";
const DEFAULT_SECOND: &str = "ATTACK AT DAWN FROM THE EAST GATE, BRING THE KEYS AND THE TEA";

/// English letter frequencies in percent (A..Z), the usual table.
const ENGLISH: [f64; 26] = [
    8.2, 1.5, 2.8, 4.3, 12.7, 2.2, 2.0, 6.1, 7.0, 0.15, 0.77, 4.0, 2.4, 6.7, 7.5, 1.9, 0.095, 6.0,
    6.3, 9.1, 2.8, 0.98, 2.4, 0.15, 2.0, 0.074,
];

/// Move each ASCII letter `k` places along the alphabet (wrapping), keeping case.
pub fn shift(text: &str, k: u8) -> String {
    text.chars()
        .map(|c| {
            let base = if c.is_ascii_uppercase() {
                b'A'
            } else if c.is_ascii_lowercase() {
                b'a'
            } else {
                return c;
            };
            char::from(base + (c as u8 - base + k % 26) % 26)
        })
        .collect()
}

/// How often each letter occurs (case folded).
fn counts(text: &str) -> [u32; 26] {
    let mut n = [0u32; 26];
    for c in text.chars().filter(char::is_ascii_alphabetic) {
        n[usize::from(c.to_ascii_uppercase() as u8 - b'A')] += 1;
    }
    n
}

/// The shift whose undoing makes the letter counts look most like English (least χ²).
pub fn crack(ciphertext: &str) -> u8 {
    let n = counts(ciphertext);
    let total: u32 = n.iter().sum();
    if total == 0 {
        return 0;
    }
    let mut best = (f64::MAX, 0u8);
    for k in 0..26u8 {
        let chi: f64 = (0..26)
            .map(|i| {
                let observed = f64::from(n[(i + usize::from(k)) % 26]);
                let expected = ENGLISH[i] / 100.0 * f64::from(total);
                (observed - expected).powi(2) / expected
            })
            .sum();
        if chi < best.0 {
            best = (chi, k);
        }
    }
    best.1
}

fn xor(a: &[u8], b: &[u8]) -> Vec<u8> {
    a.iter().zip(b).map(|(x, y)| x ^ y).collect()
}

pub(super) fn page(q: &Query) -> String {
    let text = q.text("text", DEFAULT_TEXT);
    let second = q.text("second", DEFAULT_SECOND);
    let k = q.number("k", 1..=25, 1) as u8;
    let k_text = k.to_string();
    let cipher = shift(text, k);
    let guessed = crack(&cipher);
    let recovered = shift(&cipher, 26 - guessed);

    let n = counts(&cipher);
    let max = n.iter().copied().max().unwrap_or(0).max(1);
    let mut bars = String::new();
    for (i, count) in n.iter().enumerate() {
        let letter = char::from(b'A' + i as u8);
        let _ = write!(
            bars,
            "<tr><td><code>{letter}</code></td><td><span style=\"display:inline-block;height:.8em;width:{}px;background:#1a6b4f\"></span> {count}</td></tr>",
            count * 160 / max
        );
    }

    // XOR: a fresh random key as long as the text, every request.
    let m1 = text.as_bytes();
    let mut key = vec![0u8; m1.len()];
    rand::rng().fill(&mut key[..]);
    let c1 = xor(m1, &key);
    let back = xor(&c1, &key);
    let m2 = second.as_bytes();
    let c2 = xor(m2, &key);
    let both = xor(&c1, &c2);
    let plain_xor = xor(m1, m2);

    let body = format!(
        "<section><h2>Try it</h2>{form}</section>\n\
<section><h2>The shift cipher: each letter moved {k} place{s}</h2>\
<table><tr><th>Your text</th><td id=\"plain\">{plain}</td></tr>\
<tr><th>Shifted by {k}</th><td id=\"shifted\"><code>{cipher}</code></td></tr></table>\
<h3>Breaking it by counting letters</h3>\
<p>The key is one of 25 numbers, but one need not even try them all: in English, E, T and A are the \
most common letters. Count the letters of the ciphertext and slide the counts until they look most like \
English (the least χ² distance).</p>\
<div class=\"scroll\"><table class=\"wire small\">{bars}</table></div>\
<p>Best-fitting shift: <b id=\"guessed\">{guessed}</b> → <code id=\"recovered\">{recovered}</code> \
<span class=\"{verdict_class}\">{verdict}</span></p></section>\n\
<section><h2>XOR with a key as long as the text</h2>\
<p>A ⊕ B = C and C ⊕ B = A: XOR-ing with the same key twice gives the text back. With a fresh random key \
as long as the message (a one-time pad), the ciphertext says nothing about the text. This key was drawn \
just now and is thrown away after this page.</p>\
<table><tr><th>A: text (hex)</th><td><span class=\"hex\" id=\"xor-a\">{a_hex}</span></td></tr>\
<tr><th>B: random key</th><td><span class=\"hex\" id=\"xor-b\">{b_hex}</span></td></tr>\
<tr><th>C = A ⊕ B</th><td><span class=\"hex\" id=\"xor-c\">{c_hex}</span></td></tr>\
<tr><th>C ⊕ B</th><td><span class=\"hex\" id=\"xor-back\">{back_hex}</span><br>= <code>{back_text}</code></td></tr></table>\
<h3>What goes wrong when the key is reused</h3>\
<p>Encrypt a second message with the same key. An eavesdropper who XORs the two ciphertexts gets \
C1 ⊕ C2 = (M1 ⊕ K) ⊕ (M2 ⊕ K) = M1 ⊕ M2: the key cancels out. What is left is two English texts mixed \
together, which guessing common words (\"THE \") unravels. This is why TLS never reuses a key stream: \
every record gets a fresh IV (CBC) or nonce (GCM).</p>\
<table><tr><th>Second message M2</th><td><code>{m2_text}</code></td></tr>\
<tr><th>C2 = M2 ⊕ same key</th><td><span class=\"hex\">{c2_hex}</span></td></tr>\
<tr><th>C1 ⊕ C2</th><td><span class=\"hex\" id=\"c1c2\">{both_hex}</span></td></tr>\
<tr><th>M1 ⊕ M2</th><td><span class=\"hex\" id=\"m1m2\">{m1m2_hex}</span></td></tr></table>\
<p class=\"{same_class}\">{same}</p></section>",
        form = form(
            "/lab/shift-xor",
            &[
                ("text", "Your text", text),
                ("k", "Shift (1–25)", &k_text),
                ("second", "A second message for the reused key", second),
            ]
        ),
        s = if k == 1 { "" } else { "s" },
        plain = escape(text),
        cipher = escape(&cipher),
        verdict_class = if recovered == text { "ok" } else { "bad" },
        verdict = if recovered == text {
            "recovered without the key"
        } else {
            "not this time: short texts have too few letters to count"
        },
        a_hex = hex(m1),
        b_hex = hex(&key),
        c_hex = hex(&c1),
        back_hex = hex(&back),
        back_text = visible(&back),
        m2_text = escape(second),
        c2_hex = hex(&c2),
        both_hex = hex(&both),
        m1m2_hex = hex(&plain_xor),
        same_class = if both == plain_xor { "ok" } else { "bad" },
        same = if both == plain_xor {
            "Equal: the two ciphertexts alone give M1 ⊕ M2, without the key."
        } else {
            "Different (this should not happen)."
        },
    );
    lab_page(
        "1. Shift and XOR",
        "The article's first ciphers, run on your text: a shift that letter counting breaks, and XOR, \
         perfect once and broken twice.",
        &body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_wraps_and_keeps_other_characters() {
        assert_eq!(shift("HAL, zebra!", 1), "IBM, afcsb!");
        assert_eq!(shift(&shift("Hello", 3), 23), "Hello");
    }

    #[test]
    fn counting_letters_finds_the_shift_of_english() {
        for k in 1..26 {
            assert_eq!(crack(&shift(DEFAULT_TEXT, k)), k);
        }
    }
}
