//! Lab 3: RSA (RFC 8017 §5.1) as the article tells it — c = m^e mod n, m = c^d mod n — first
//! with numbers small enough to check by hand, then with this server's real key, and the
//! visitor's own encrypted pre-master secret when their connection used RSA key transport.

use super::{form, hex, lab_page, Lab, Query};
use crate::html::escape;
use crate::routes::Peer;
use num_bigint::BigUint;
use std::fmt::Write as _;
use tls::pki::x509::Certificate;

const MAX_PRIME: u64 = 10_000;

fn is_prime(n: u64) -> bool {
    n >= 2
        && (2..)
            .take_while(|d| d * d <= n)
            .all(|d| !n.is_multiple_of(d))
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// e^-1 mod φ by the extended Euclidean algorithm, when it exists.
pub fn inverse(e: u64, phi: u64) -> Option<u64> {
    let (mut r0, mut r1) = (i128::from(phi), i128::from(e));
    let (mut t0, mut t1) = (0i128, 1i128);
    while r1 != 0 {
        let q = r0 / r1;
        (r0, r1) = (r1, r0 - q * r1);
        (t0, t1) = (t1, t0 - q * t1);
    }
    if r0 != 1 {
        return None;
    }
    u64::try_from(t0.rem_euclid(i128::from(phi))).ok()
}

/// Square-and-multiply, one line per bit of the exponent: how m^e mod n is really computed.
fn pow_steps(base: u64, exp: u64, n: u64) -> (u64, Vec<String>) {
    let mut result = 1u64;
    let mut steps = Vec::new();
    for i in (0..64 - exp.leading_zeros()).rev() {
        result = result * result % n;
        let bit = (exp >> i) & 1;
        if bit == 1 {
            result = result * base % n;
        }
        steps.push(format!(
            "bit {bit}: square{} → {result}",
            if bit == 1 {
                format!(", × {base}")
            } else {
                String::new()
            }
        ));
    }
    (result, steps)
}

pub(super) fn page(q: &Query, lab: &Lab, peer: &Peer) -> String {
    let p = q.number("p", 2..=MAX_PRIME, 61);
    let qq = q.number("q", 2..=MAX_PRIME, 53);
    let e = q.number("e", 3..=65_537, 17);
    let small = small_numbers(p, qq, e, q.number("m", 0..=u64::MAX, 65));
    let real = real_key(lab, peer, q.text("text", "hello"));
    let body = format!("{small}{real}");
    lab_page(
        "3. RSA",
        "Encrypt with the public key (n, e), decrypt with the private exponent d: first with small \
         numbers, then with this server's key.",
        &body,
    )
}

fn small_numbers(p: u64, q: u64, e: u64, m: u64) -> String {
    let numbers = form(
        "/lab/rsa",
        &[
            ("p", "A prime p (at most 10000)", &p.to_string()),
            ("q", "Another prime q", &q.to_string()),
            ("e", "Public exponent e", &e.to_string()),
            ("m", "The message m, a number below n", &m.to_string()),
        ],
    );
    let problem = if !is_prime(p) || !is_prime(q) {
        Some(format!("{p} and {q} must both be prime."))
    } else if p == q {
        Some("p and q must differ (n = p² is easy to factor).".to_string())
    } else {
        None
    };
    if let Some(problem) = problem {
        return format!(
            "<section><h2>Small numbers</h2>{numbers}<p class=\"bad\">{}</p></section>",
            escape(&problem)
        );
    }
    let n = p * q;
    let phi = (p - 1) * (q - 1);
    let Some(d) = (gcd(e, phi) == 1).then(|| inverse(e, phi)).flatten() else {
        return format!(
            "<section><h2>Small numbers</h2>{numbers}<p class=\"bad\">e = {e} shares a factor with \
             φ = {phi}: it has no inverse, pick another e.</p></section>"
        );
    };
    if m >= n {
        return format!(
            "<section><h2>Small numbers</h2>{numbers}<p class=\"bad\">m = {m} must be below n = {n}.</p></section>"
        );
    }
    let (c, enc_steps) = pow_steps(m, e, n);
    let (back, dec_steps) = pow_steps(c, d, n);
    format!(
        "<section><h2>Small numbers, every step</h2>{numbers}\
<table><tr><th>Two primes</th><td>p = <b id=\"p\">{p}</b>, q = <b id=\"q\">{q}</b></td></tr>\
<tr><th>n = p × q</th><td id=\"n\">{n}</td></tr>\
<tr><th>φ(n) = (p−1)(q−1)</th><td id=\"phi\">{phi}</td></tr>\
<tr><th>Public exponent e</th><td id=\"e\">{e} <span class=\"muted\">(gcd(e, φ) = 1)</span></td></tr>\
<tr><th>Private exponent d = e⁻¹ mod φ</th><td id=\"d\">{d} <span class=\"muted\">(e × d mod φ = {check})</span></td></tr>\
<tr><th>Encrypt: c = m^e mod n</th><td>{m}^{e} mod {n} = <b id=\"c\">{c}</b></td></tr>\
<tr><th>Decrypt: m = c^d mod n</th><td>{c}^{d} mod {n} = <b id=\"m\">{back}</b></td></tr></table>\
<p>The public key is (n, e) = ({n}, {e}); anyone may encrypt with it. Decrypting needs d, and computing \
d needs φ, which needs the factors p and q. For this n, factoring is instant; for the 2048-bit n below \
nobody knows how.</p>\
<h3>How m^e mod n is computed: square and multiply</h3>\
<p class=\"small\">Encrypt (e = {e} in binary is {e:b}): {enc}</p>\
<p class=\"small\">Decrypt (d = {d} in binary is {d:b}): {dec}</p></section>\n",
        check = (e * d) % phi,
        enc = escape(&enc_steps.join("; ")),
        dec = escape(&dec_steps.join("; ")),
    )
}

fn real_key(lab: &Lab, peer: &Peer, text: &str) -> String {
    let Some(key) = lab
        .chain
        .first()
        .and_then(|der| Certificate::from_der(der).ok())
        .and_then(|c| c.public_key().ok())
    else {
        return "<section><h2>This server's key</h2><p>(no RSA key to show)</p></section>".into();
    };
    let n = key.n();
    let e = key.e();
    // Textbook RSA on the visitor's text, as a number (only to show the operation: real RSA
    // encryption pads first, PKCS#1 v1.5 in TLS 1.2, so equal texts do not give equal ciphertexts).
    let m = BigUint::from_bytes_be(text.as_bytes());
    let c = m.modpow(e, n);
    let mut out = format!(
        "<section><h2>This server's real key</h2>\
<table><tr><th>Modulus n ({bits} bits)</th><td><span class=\"hex\" id=\"real-n\">{n_hex}</span></td></tr>\
<tr><th>Public exponent e</th><td id=\"real-e\">{e}</td></tr></table>\
<p>The same formula with a {digits}-digit n. The text <code>{text}</code> as a number, m = 0x{m_hex}, \
encrypts to c = m^e mod n =</p><p><span class=\"hex\" id=\"real-c\">{c_hex}</span></p>\
{form}",
        bits = key.bits(),
        n_hex = n.to_str_radix(16),
        digits = n.to_string().len(),
        text = escape(text),
        m_hex = m.to_str_radix(16),
        c_hex = c.to_str_radix(16),
        form = form("/lab/rsa", &[("text", "Text to encrypt with the real key (textbook RSA)", text)]),
    );
    match peer.tls.as_ref() {
        Some(tls) if !tls.info.suite.forward_secrecy() => {
            let body = peer.client_key_exchange.get(4..).unwrap_or(&[]);
            // RSA ClientKeyExchange: a 2-byte length, then the encrypted pre-master secret.
            let secret = body.get(2..).unwrap_or(&[]);
            let _ = write!(
                out,
                "<h3>Your own encrypted pre-master secret</h3>\
<p>Your connection used RSA key transport (<code>{}</code>): your client drew 48 random bytes, padded \
them (PKCS#1 v1.5) to {} bytes and raised them to the power e mod this n. Its ClientKeyExchange carried \
<b id=\"pms-len\">{}</b> bytes of ciphertext, starting</p><p><span class=\"hex\" id=\"pms-start\">{}</span> …</p>\
<p>Only this server's d turns it back into the secret both sides now derive their keys from.</p>",
                escape(tls.info.suite.name),
                key.size(),
                secret.len(),
                hex(secret.get(..32).unwrap_or(secret)),
            );
        }
        Some(tls) => {
            let _ = write!(
                out,
                "<p>Your connection used <code>{}</code>: the key was agreed with ephemeral Diffie-Hellman, \
so RSA only signed the server's key share and no pre-master secret was encrypted with this n.</p>",
                escape(tls.info.suite.name)
            );
        }
        None => out.push_str("<p>This page came over plain HTTP: no key exchange at all.</p>"),
    }
    out.push_str("</section>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_textbook_example_works() {
        assert_eq!(inverse(17, 3120), Some(2753));
        assert_eq!(pow_steps(65, 17, 3233).0, 2790);
        assert_eq!(pow_steps(2790, 2753, 3233).0, 65);
        assert_eq!(inverse(6, 3120), None);
        assert!(is_prime(61) && !is_prime(3233) && !is_prime(1));
    }

    #[test]
    fn bad_numbers_are_explained_not_computed() {
        assert!(small_numbers(4, 53, 17, 1).contains("must both be prime"));
        assert!(small_numbers(61, 61, 17, 1).contains("must differ"));
        assert!(small_numbers(61, 53, 3, 1).contains("no inverse"));
        assert!(small_numbers(61, 53, 17, 5000).contains("must be below"));
    }
}
