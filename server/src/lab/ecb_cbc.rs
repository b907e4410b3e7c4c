//! Lab 2: one AES-128 key, two modes (NIST SP 800-38A). ECB encrypts each 16-byte block on its
//! own, so equal blocks stay equal and a picture's flat areas keep their outline; CBC XORs each
//! block with the previous ciphertext block first (a random IV for the first), so nothing
//! repeats. TLS 1.2's CBC suites use CBC with a fresh IV per record.
//! The AES block function is the `aes` crate's, which our record layer uses too.

use super::png;
use super::{form, lab_page, Query};
use crate::html::escape;
use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes::Aes128;
use rand::RngExt;
use std::collections::HashSet;
use std::fmt::Write as _;

/// The picture: 192 × 120 RGB, so a row is 576 bytes, exactly 36 AES blocks.
pub const WIDTH: u32 = 192;
pub const HEIGHT: u32 = 120;
const BLOCK: usize = 16;

const DEFAULT_TEXT: &str = "ATTACK AT DAWN!!ATTACK AT DAWN!!ATTACK AT DUSK!!";

/// A padlock on a flat background: large areas of one colour, like the article's picture.
pub fn picture() -> Vec<u8> {
    let (w, h) = (WIDTH as i32, HEIGHT as i32);
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let (cx, cy) = (x - 96, y - 52);
            let r2 = cx * cx + cy * cy;
            let body = (56..=136).contains(&x) && (50..=108).contains(&y);
            let shackle = y < 56 && (22 * 22..=34 * 34).contains(&r2);
            let keyhole = ((x - 96).pow(2) + (y - 72).pow(2) <= 49)
                || ((92..=100).contains(&x) && (72..=92).contains(&y));
            let colour = if body && keyhole {
                [250, 250, 245]
            } else if body {
                [26, 107, 79]
            } else if shackle {
                [90, 96, 110]
            } else if y > 112 {
                [200, 180, 120]
            } else {
                [235, 240, 248]
            };
            rgb.extend_from_slice(&colour);
        }
    }
    rgb
}

fn cipher(key: &[u8; 16]) -> Aes128 {
    Aes128::new(&(*key).into())
}

fn encrypt_block(aes: &Aes128, block: &[u8]) -> [u8; 16] {
    let mut b = [0u8; 16];
    b.copy_from_slice(block);
    let mut arr = b.into();
    aes.encrypt_block(&mut arr);
    arr.into()
}

/// ECB: every block alone. `data` is a whole number of blocks.
pub fn ecb(key: &[u8; 16], data: &[u8]) -> Vec<u8> {
    let aes = cipher(key);
    data.chunks_exact(BLOCK)
        .flat_map(|b| encrypt_block(&aes, b))
        .collect()
}

/// CBC: C_i = E(P_i ⊕ C_{i-1}), C_{-1} = IV. Written out here so the chaining is visible.
pub fn cbc(key: &[u8; 16], iv: &[u8; 16], data: &[u8]) -> Vec<u8> {
    let aes = cipher(key);
    let mut prev = *iv;
    let mut out = Vec::with_capacity(data.len());
    for block in data.chunks_exact(BLOCK) {
        let mixed: Vec<u8> = block.iter().zip(prev).map(|(p, c)| p ^ c).collect();
        prev = encrypt_block(&aes, &mixed);
        out.extend_from_slice(&prev);
    }
    out
}

/// PKCS#7 padding to a whole number of blocks (always at least one byte).
fn pad(text: &[u8]) -> Vec<u8> {
    let n = BLOCK - text.len() % BLOCK;
    let mut out = text.to_vec();
    out.resize(text.len() + n, n as u8);
    out
}

fn distinct_blocks(data: &[u8]) -> usize {
    data.chunks_exact(BLOCK).collect::<HashSet<_>>().len()
}

fn image(rgb: &[u8]) -> String {
    png::encode_rgb(WIDTH, HEIGHT, rgb).map_or_else(String::new, |p| png::data_uri(&p))
}

/// Blocks in hex, the ones seen before in the same list marked.
fn blocks_html(data: &[u8], id: &str) -> String {
    let mut seen = HashSet::new();
    let mut out = format!("<div class=\"blocks\" id=\"{id}\">");
    for block in data.chunks_exact(BLOCK) {
        let class = if seen.insert(block) {
            ""
        } else {
            " class=\"same\""
        };
        let _ = write!(out, "<span{class}>{}</span>", tls::text::hex(block));
    }
    out.push_str("</div>");
    out
}

pub(super) fn page(q: &Query) -> String {
    let text = q.text("text", DEFAULT_TEXT);
    let mut key = [0u8; 16];
    let mut iv = [0u8; 16];
    rand::rng().fill(&mut key[..]);
    rand::rng().fill(&mut iv[..]);

    let plain = picture();
    let ecb_img = ecb(&key, &plain);
    let cbc_img = cbc(&key, &iv, &plain);
    let total = plain.len() / BLOCK;
    // Blocks 0, 3 and 6 of the first row: the same background pixels at the same phase
    // (48 bytes = 16 pixels apart), so the same plaintext block.
    let sample = |data: &[u8], name: &str| {
        let mut out = String::new();
        for i in [0usize, 3, 6] {
            let _ = write!(
                out,
                "<tr><td>{name} block {i}</td><td><span class=\"hex\" id=\"{name}-{i}\">{}</span></td></tr>",
                tls::text::hex(&data[i * BLOCK..(i + 1) * BLOCK])
            );
        }
        out
    };

    let padded = pad(text.as_bytes());
    let text_ecb = ecb(&key, &padded);
    let text_cbc = cbc(&key, &iv, &padded);

    let body = format!(
        "<section><h2>A picture, encrypted twice with the same key</h2>\
<p>The server drew this picture just now ({WIDTH} × {HEIGHT} pixels, 3 bytes each: {total} AES blocks), \
encrypted its pixel bytes with AES-128 under a key drawn for this page, and wrote each result as a PNG \
— every byte computed on this server.</p>\
<div class=\"pics\">\
<figure><img alt=\"original picture\" src=\"{orig}\"><figcaption>Original: <span id=\"plain-distinct\">{plain_distinct}</span> distinct blocks</figcaption></figure>\
<figure><img alt=\"ECB-encrypted\" src=\"{ecb_src}\"><figcaption>ECB: <span id=\"ecb-distinct\">{ecb_distinct}</span> distinct blocks — the outline shows</figcaption></figure>\
<figure><img alt=\"CBC-encrypted\" src=\"{cbc_src}\"><figcaption>CBC: <span id=\"cbc-distinct\">{cbc_distinct}</span> distinct blocks — noise</figcaption></figure>\
</div>\
<table class=\"small\"><tr><th>Key (AES-128)</th><td><span class=\"hex\" id=\"key\">{key_hex}</span></td></tr>\
<tr><th>IV (CBC)</th><td><span class=\"hex\" id=\"iv\">{iv_hex}</span></td></tr></table>\
<h3>Three blocks of the sky in the first row</h3>\
<p>Blocks 0, 3 and 6 hold the same background pixels. ECB turns them into the same ciphertext — an \
eavesdropper learns that they are equal. CBC mixes in the previous ciphertext block, so they differ.</p>\
<table class=\"wire small\">{ecb_rows}{cbc_rows}</table></section>\n\
<section><h2>Your text, block by block</h2>{form}\
<p>Padded to whole blocks (PKCS#7), then encrypted with the same key. Highlighted: a block equal to an \
earlier one. 16 identical characters at a block boundary give identical ECB blocks.</p>\
<h3>Plaintext</h3>{p_blocks}<h3>ECB</h3>{e_blocks}<h3>CBC</h3>{c_blocks}</section>",
        orig = image(&plain),
        ecb_src = image(&ecb_img),
        cbc_src = image(&cbc_img),
        plain_distinct = distinct_blocks(&plain),
        ecb_distinct = distinct_blocks(&ecb_img),
        cbc_distinct = distinct_blocks(&cbc_img),
        key_hex = tls::text::hex(&key),
        iv_hex = tls::text::hex(&iv),
        ecb_rows = sample(&ecb_img, "ecb"),
        cbc_rows = sample(&cbc_img, "cbc"),
        form = form("/lab/ecb-cbc", &[("text", "Your text", text)]),
        p_blocks = blocks_html(&padded, "text-plain"),
        e_blocks = blocks_html(&text_ecb, "text-ecb"),
        c_blocks = blocks_html(&text_cbc, "text-cbc"),
    );
    let _ = escape;
    lab_page(
        "2. ECB vs CBC",
        "The same AES-128 key in two modes of operation. ECB leaks which blocks are equal; CBC does not.",
        &body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FIPS-197 Appendix C.1 (AES-128) through our ECB.
    #[test]
    fn ecb_matches_fips_197() {
        let key: [u8; 16] = core::array::from_fn(|i| i as u8);
        let pt: Vec<u8> = (0..16u8).map(|i| i * 0x11).collect();
        assert_eq!(
            tls::text::hex(&ecb(&key, &pt)),
            "69c4e0d86a7b0430d8cdb78070b4c55a"
        );
    }

    /// SP 800-38A F.2.1 (CBC-AES128.Encrypt), first two blocks.
    #[test]
    fn cbc_matches_sp_800_38a() {
        let h = |s: &str| -> Vec<u8> {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect()
        };
        let key: [u8; 16] = h("2b7e151628aed2a6abf7158809cf4f3c").try_into().unwrap();
        let iv: [u8; 16] = h("000102030405060708090a0b0c0d0e0f").try_into().unwrap();
        let pt = h("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
        assert_eq!(
            tls::text::hex(&cbc(&key, &iv, &pt)),
            "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
        );
    }

    #[test]
    fn ecb_keeps_the_pictures_repetitions_and_cbc_does_not() {
        let key = [7u8; 16];
        let plain = picture();
        assert_eq!(distinct_blocks(&ecb(&key, &plain)), distinct_blocks(&plain));
        assert_eq!(
            distinct_blocks(&cbc(&key, &[1; 16], &plain)),
            plain.len() / BLOCK
        );
    }
}
