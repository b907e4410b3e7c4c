//! Lab 6: the visitor's own handshake (RFC 5246 §7.3) as a sequence diagram — the messages as
//! they crossed the wire, with this connection's values — and the article's eight-step summary,
//! each step linked to the lab page that demonstrates it.

use super::{hex, lab_page};
use crate::html::escape;
use crate::routes::Peer;
use std::fmt::Write as _;

pub(super) fn page(peer: &Peer) -> String {
    let Some(tls) = peer.tls.as_ref() else {
        return lab_page(
            "6. The handshake",
            "Your connection as a sequence diagram.",
            "<section><p class=\"bad\">This page came over plain HTTP: there was no handshake. \
             Open it over HTTPS.</p></section>",
        );
    };
    let info = &tls.info;
    let mut diagram = String::from(
        "<div class=\"seq\" id=\"diagram\"><div class=\"who\">Your client</div><div></div><div class=\"who\">This server</div>",
    );
    match &tls.transcript {
        Some(t) if !t.messages.is_empty() => {
            for (from_client, name, len) in &t.messages {
                let size = format!("{len} byte{}", if *len == 1 { "" } else { "s" });
                let (class, arrow) = if *from_client {
                    ("right", format!("{} ({size}) →", escape(name)))
                } else {
                    ("left", format!("← {} ({size})", escape(name)))
                };
                let _ = write!(
                    diagram,
                    "<div></div><div class=\"msg {class}\">{arrow}</div><div></div>"
                );
            }
        }
        _ => diagram
            .push_str("<div></div><div class=\"muted\">(no transcript recorded)</div><div></div>"),
    }
    diagram.push_str("</div>");

    let leaf = info
        .server_chain
        .first()
        .and_then(|d| tls::pki::x509::Certificate::from_der(d).ok());
    let leaf_name = leaf
        .as_ref()
        .map_or_else(String::new, |c| c.subject().to_openssl_string());
    let kx = if !info.suite.forward_secrecy() {
        format!(
            "Your client encrypted a random 48-byte pre-master secret with the server's RSA key \
             ({} bytes of ciphertext in its ClientKeyExchange).",
            peer.client_key_exchange.len().saturating_sub(6)
        )
    } else {
        "Both sides exchanged ephemeral Diffie-Hellman shares; the server signed its share with \
         its RSA key."
            .to_string()
    };
    let steps = [
        (
            "Hello",
            format!(
                "Your client said which suites it supports and sent 32 random bytes \
                 <span class=\"hex\" id=\"client-random\">{}</span>.",
                hex(&info.client_random)
            ),
            "/lab/shift-xor",
            "why keys must never repeat",
        ),
        (
            "Choice",
            format!(
                "The server chose <code id=\"suite\">{}</code> and sent its own random \
                 <span class=\"hex\" id=\"server-random\">{}</span>.",
                escape(info.suite.name),
                hex(&info.server_random)
            ),
            "/lab/ecb-cbc",
            "what the cipher's mode does",
        ),
        (
            "Certificate",
            format!(
                "The server sent {} certificate{} for <code>{}</code>.",
                info.server_chain.len(),
                if info.server_chain.len() == 1 {
                    ""
                } else {
                    "s"
                },
                escape(&leaf_name)
            ),
            "/lab/signature",
            "open the CA's signature",
        ),
        (
            "Check",
            "Your client checked the signatures up to a root it trusts, the dates and the name."
                .to_string(),
            "/lab/signature",
            "the signature, opened",
        ),
        ("Key exchange", kx, "/lab/rsa", "RSA step by step"),
        (
            "Keys",
            format!(
                "Both sides derived the same master secret from the pre-master secret and {}, \
                 then the encryption and MAC keys of each direction.",
                if info.extended_master_secret {
                    "the hash of the handshake (extended master secret)"
                } else {
                    "both randoms"
                }
            ),
            "/lab/integrity",
            "what a MAC key is for",
        ),
        (
            "Finished",
            "Each side sent a Finished message, encrypted, holding a MAC of the whole handshake: \
             a changed hello would have been caught here."
                .to_string(),
            "/lab/integrity",
            "a changed bit is caught",
        ),
        (
            "Data",
            format!(
                "This page itself travelled in records protected with {}.",
                escape(info.suite.name)
            ),
            "/lab/integrity",
            "a record, sealed and opened",
        ),
    ];
    let mut list = String::from("<ol class=\"steps\" id=\"steps\">");
    for (title, what, href, link) in steps {
        let _ = write!(
            list,
            "<li><b>{title}.</b> {what} <a href=\"{href}\">{link} →</a></li>"
        );
    }
    list.push_str("</ol>");
    let body = format!(
        "<div class=\"grid\"><section><h2>The messages of your handshake</h2>{diagram}\
<p class=\"small muted\">Recorded by the server as your handshake ran; sizes include each \
message's 4-byte header.</p></section>\
<section><h2>The eight steps, with your values</h2>{list}</section></div>"
    );
    lab_page(
        "6. The handshake",
        "Your own connection, message by message, with links to the experiments behind each step.",
        &body,
    )
}
