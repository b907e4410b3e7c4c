//! The built-in site (served when no `--root` is given): one page that shows the visitor their
//! own connection — what the handshake of RFC 5246 §7.3 settled for it — beside an explanation of
//! each step and of why the result gives confidentiality, authentication and integrity.
//! Rendered per request; every value is HTML-escaped.

use crate::html::{escape, page};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;
use tls::msgs::handshake::HandshakePayload;
use tls::pki::x509::{hex_colon, Certificate};
use tls::suites::{BulkCipher, CipherSuite, KeyExchange, MacAlgorithm, PrfHash};
use tls::trace::{Direction, Event, Observer};
use tls::SessionInfo;

/// What we know about one request and the connection it came on.
pub struct Visit<'a> {
    pub peer: SocketAddr,
    pub tls: Option<&'a TlsDetails>,
    pub request_line: &'a str,
    pub user_agent: Option<&'a str>,
    /// Where the HTTPS listener is, to point a plain-HTTP visitor at it.
    pub https_url: Option<&'a str>,
}

/// A finished handshake, prepared once per connection.
pub struct TlsDetails {
    pub info: SessionInfo,
    /// Summaries of `info.server_chain`, made the first time a page shows them (parsing and
    /// fingerprinting every connection's chain cost more than a resumed handshake).
    chain: std::sync::OnceLock<Vec<CertSummary>>,
    pub handshake_time: Duration,
    /// What crossed the wire, when a [`Transcript`] watched the handshake.
    pub transcript: Option<TranscriptData>,
}

impl TlsDetails {
    pub fn new(
        info: SessionInfo,
        handshake_time: Duration,
        transcript: Option<TranscriptData>,
    ) -> Self {
        Self {
            info,
            chain: std::sync::OnceLock::new(),
            handshake_time,
            transcript,
        }
    }

    /// The certificates we sent, as a visitor checks them.
    pub fn chain(&self) -> &[CertSummary] {
        self.chain.get_or_init(|| {
            self.info
                .server_chain
                .iter()
                .map(|der| CertSummary::from_der(der))
                .collect()
        })
    }
}

/// Watches one handshake (a [`tls::trace::Observer`]) and keeps the message sequence and what
/// the client offered, so the page can show the exchange as it happened.
#[derive(Default)]
pub struct Transcript {
    data: Mutex<TranscriptData>,
    /// The ClientKeyExchange as received, for the lab's RSA page.
    client_key_exchange: Mutex<Vec<u8>>,
}

#[derive(Clone, Debug, Default)]
pub struct TranscriptData {
    /// (sent by the client?, message name, bytes including the 4-byte header).
    pub messages: Vec<(bool, String, usize)>,
    pub offered_suites: Vec<u16>,
    pub client_version: u16,
}

impl Transcript {
    pub fn snapshot(&self) -> TranscriptData {
        self.data.lock().map(|d| d.clone()).unwrap_or_default()
    }

    /// The ClientKeyExchange message (4-byte header included), empty before it arrived.
    pub fn client_key_exchange(&self) -> Vec<u8> {
        self.client_key_exchange
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default()
    }
}

impl Observer for Transcript {
    fn event(&self, event: &Event<'_>) {
        let Ok(mut data) = self.data.lock() else {
            return;
        };
        match event {
            Event::Handshake { direction, message } => {
                if let HandshakePayload::ClientHello(hello) = &message.payload {
                    data.offered_suites = hello.cipher_suites.clone();
                    data.client_version = hello.client_version;
                }
                if message.typ().name() == "client_key_exchange" {
                    if let Ok(mut m) = self.client_key_exchange.lock() {
                        *m = message.raw.to_vec();
                    }
                }
                let from_client = *direction == Direction::Received;
                let name = message_name(message.typ().name());
                data.messages.push((from_client, name, message.raw.len()));
            }
            Event::ChangeCipherSpec { direction } => {
                let from_client = *direction == Direction::Received;
                data.messages
                    .push((from_client, "ChangeCipherSpec".to_string(), 1));
            }
            _ => {}
        }
    }
}

/// `server_hello_done` → `ServerHelloDone`, the spelling of RFC 5246's structures.
fn message_name(rfc_name: &str) -> String {
    rfc_name
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The parts of a certificate a visitor can check by eye.
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    pub not_before: String,
    pub not_after: String,
    pub names: Vec<String>,
    pub key: String,
    pub signature: String,
    pub is_ca: bool,
    pub sha256: String,
}

impl CertSummary {
    /// A certificate we could not parse still gets a row (its fingerprint needs no parsing).
    pub fn from_der(der: &[u8]) -> Self {
        match Certificate::from_der(der) {
            Ok(cert) => Self {
                subject: cert.subject().to_openssl_string(),
                issuer: cert.issuer().to_openssl_string(),
                not_before: tls::text::utc_date(cert.not_before()),
                not_after: tls::text::utc_date(cert.not_after()),
                names: cert
                    .dns_names()
                    .iter()
                    .cloned()
                    .chain(cert.ip_addresses().iter().map(|ip| ip.to_string()))
                    .collect(),
                key: match cert.key_bits() {
                    Some(bits) => format!("{} {bits} bit", cert.public_key_algorithm_name()),
                    None => cert.public_key_algorithm_name(),
                },
                signature: cert.signature_algorithm_name(),
                is_ca: cert.is_ca(),
                sha256: hex_colon(&cert.sha256_fingerprint(), true),
            },
            Err(e) => Self {
                subject: format!("(unreadable: {e})"),
                issuer: String::new(),
                not_before: String::new(),
                not_after: String::new(),
                names: Vec::new(),
                key: String::new(),
                signature: String::new(),
                is_ca: false,
                sha256: String::new(),
            },
        }
    }
}

/// The front page for this visit.
pub fn front_page(visit: &Visit<'_>) -> String {
    let html = match visit.tls {
        Some(tls) => page(
            "Your HTTPS connection",
            &format!(
                "<header><h1>Your connection is HTTPS (TLS 1.2)</h1>\
                 <p>This page was written for you just now, from the handshake your browser and \
                 this server have just completed. Nothing here comes from outside this server.</p></header>\n\
                 <main><div class=\"grid\">\n<div>{}{}{}{}{}</div>\n<div>{}</div>\n</div>{}</main>",
                connection_section(visit, tls),
                crate::client_identity::section(&tls.info),
                wire_section(tls),
                chain_section(tls.chain()),
                request_section(visit),
                steps_section(tls),
                properties_section(Some(tls)),
            ),
        ),
        None => page(
            "Plain HTTP: no protection",
            &format!(
                "<header class=\"plain\"><h1>This page came over plain HTTP</h1>\
                 <p>No encryption, no certificate, no integrity check: anyone on the path can read \
                 it and change it.</p></header>\n<main><div class=\"grid\"><div>{}{}</div><div>{}</div></div>{}</main>",
                plain_section(visit),
                request_section(visit),
                compare_section(),
                properties_section(None),
            ),
        ),
    };
    with_attack_section(html)
}

fn connection_section(visit: &Visit<'_>, tls: &TlsDetails) -> String {
    let info = &tls.info;
    let suite = info.suite;
    let mut rows = String::new();
    row(&mut rows, "Protocol", &escape(&version_name(info.version)));
    row(
        &mut rows,
        "Cipher suite",
        &format!(
            "<code>{}</code> (0x{:04X})<br><span class=\"muted\">OpenSSL calls it</span> <code>{}</code>",
            escape(suite.name),
            suite.id,
            escape(suite.openssl_name)
        ),
    );
    row(&mut rows, "Key exchange", key_exchange_text(suite));
    row(
        &mut rows,
        "Forward secrecy",
        if suite.forward_secrecy() {
            "yes: a recording of this connection stays secret even from whoever later steals the server's key"
        } else {
            "no: whoever later steals the server's key can decrypt a recording of this connection"
        },
    );
    row(&mut rows, "Cipher", &escape(&cipher_name(suite)));
    row(&mut rows, "MAC", &escape(&mac_name(suite)));
    row(&mut rows, "PRF", prf_name(suite));
    row(
        &mut rows,
        "Client random",
        &format!(
            "<span class=\"hex\">{}</span>",
            tls::trace::hex(&info.client_random)
        ),
    );
    row(
        &mut rows,
        "Server random",
        &format!(
            "<span class=\"hex\">{}</span>",
            tls::trace::hex(&info.server_random)
        ),
    );
    row(
        &mut rows,
        "Session ID",
        &if info.session_id.is_empty() {
            "(none)".to_string()
        } else {
            format!(
                "<span class=\"hex\">{}</span>",
                tls::trace::hex(&info.session_id)
            )
        },
    );
    row(
        &mut rows,
        "Handshake",
        match info.resumed {
            None => "full: certificate, RSA key exchange, new master secret",
            Some(tls::session::ResumedBy::SessionId) => {
                "resumed (session id): an earlier session's master secret, found in the server's \
                 cache; no certificate, no RSA"
            }
            Some(tls::session::ResumedBy::Ticket) => {
                "resumed (ticket): an earlier session's master secret, from the ticket your \
                 browser kept for us; no certificate, no RSA"
            }
        },
    );
    row(
        &mut rows,
        "Extended master secret",
        &yes_no(
            info.extended_master_secret,
            "RFC 7627: the master secret is bound to this whole handshake",
        ),
    );
    row(
        &mut rows,
        "Encrypt-then-MAC",
        &yes_no(
            info.encrypt_then_mac,
            "RFC 7366: the MAC covers the ciphertext, so padding is checked only after integrity",
        ),
    );
    row(
        &mut rows,
        "Server name (SNI)",
        &info.server_name.as_deref().map_or_else(
            || "(not sent)".to_string(),
            |n| format!("<code>{}</code>", escape(n)),
        ),
    );
    row(
        &mut rows,
        "ALPN",
        &info.alpn_protocol.as_deref().map_or_else(
            || "(not negotiated)".to_string(),
            |p| format!("<code>{}</code>", escape(&String::from_utf8_lossy(p))),
        ),
    );
    row(
        &mut rows,
        "Handshake time",
        &format!(
            "{:.1} ms on the server",
            tls.handshake_time.as_secs_f64() * 1000.0
        ),
    );
    row(&mut rows, "Your address", &escape(&visit.peer.to_string()));
    format!("<section><h2>Your connection</h2><table>{rows}</table></section>\n")
}

fn wire_section(tls: &TlsDetails) -> String {
    let Some(t) = &tls.transcript else {
        return String::new();
    };
    let mut rows = String::new();
    for (from_client, name, len) in &t.messages {
        let arrow = if *from_client {
            "client → server"
        } else {
            "server → client"
        };
        let _ = write!(
            rows,
            "<tr><td class=\"muted\">{arrow}</td><td><code>{}</code></td><td>{len} byte{}</td></tr>",
            escape(name),
            if *len == 1 { "" } else { "s" }
        );
    }
    let offered: Vec<String> = t
        .offered_suites
        .iter()
        .map(|id| match CipherSuite::from_id(*id) {
            Some(s) => format!("<b>{}</b>", escape(s.name)),
            // RFC 5746's signalling value: "I support secure renegotiation", not a suite.
            None if *id == 0x00FF => "0x00FF (renegotiation SCSV)".to_string(),
            None => format!("0x{id:04X}"),
        })
        .collect();
    format!(
        "<section><h2>The handshake as it crossed the wire</h2>\
         <table class=\"wire\">{rows}</table>\
         <h3>Your client offered {} cipher suites</h3>\
         <p class=\"small\">{}</p>\
         <p class=\"muted\">In bold: the ones this server implements. Its choice was \
         <code>{}</code>. Numbers are suites this server does not know (most are ECDHE suites \
         with forward secrecy, or TLS 1.3's).</p></section>\n",
        t.offered_suites.len(),
        offered.join(", "),
        escape(tls.info.suite.name)
    )
}

fn chain_section(chain: &[CertSummary]) -> String {
    let mut out = format!(
        "<section><h2>The certificate chain this server sent ({} certificate{})</h2>",
        chain.len(),
        if chain.len() == 1 { "" } else { "s" }
    );
    for (depth, cert) in chain.iter().enumerate() {
        let role = match (depth, cert.is_ca) {
            (0, _) => "leaf (this server)",
            (_, true) => "intermediate CA",
            _ => "certificate",
        };
        let mut rows = String::new();
        row(&mut rows, "Subject", &escape(&cert.subject));
        row(&mut rows, "Issuer", &escape(&cert.issuer));
        row(
            &mut rows,
            "Valid",
            &format!(
                "{} to {}",
                escape(&cert.not_before),
                escape(&cert.not_after)
            ),
        );
        if !cert.names.is_empty() {
            row(&mut rows, "Names (SAN)", &escape(&cert.names.join(", ")));
        }
        row(&mut rows, "Public key", &escape(&cert.key));
        row(&mut rows, "Signature", &escape(&cert.signature));
        row(
            &mut rows,
            "SHA-256 fingerprint",
            &format!("<span class=\"hex\">{}</span>", escape(&cert.sha256)),
        );
        let _ = write!(out, "<h3>Depth {depth}: {role}</h3><table>{rows}</table>");
    }
    out.push_str(
        "<p class=\"muted\">The root CA is not sent: your client must already hold it. \
         That is what <code>--cacert certs/ca.pem</code> gives it.</p></section>\n",
    );
    out
}

fn request_section(visit: &Visit<'_>) -> String {
    let mut rows = String::new();
    row(
        &mut rows,
        "Request",
        &format!("<code>{}</code>", escape(visit.request_line)),
    );
    row(
        &mut rows,
        "User-Agent",
        &escape(visit.user_agent.unwrap_or("(none)")),
    );
    format!("<section><h2>Your request</h2><table>{rows}</table></section>\n")
}

fn steps_section(tls: &TlsDetails) -> String {
    let info = &tls.info;
    let suite = info.suite;
    let leaf_key = tls.chain().first().map_or("", |c| c.key.as_str());
    let ems = if info.extended_master_secret {
        "the hash of every handshake message so far (extended master secret)"
    } else {
        "both randoms"
    };
    let key_exchange_steps = match suite.key_exchange {
        KeyExchange::Rsa => format!(
            "<li><b>ServerHelloDone.</b> The server has nothing more to say; the client's turn.</li>\
<li><b>ClientKeyExchange.</b> Your client drew a 48-byte <i>pre-master secret</i> at random and encrypted it \
with the public key in the certificate ({key}). Only the holder of the matching private key — this server — \
can decrypt it; an eavesdropper sees only the ciphertext. A bad ciphertext does not stop the server early: \
it goes on with a random secret and fails at Finished, so it leaks nothing (RFC 5246 §7.4.7.1). But whoever \
steals that private key later can decrypt a recording of this connection: no forward secrecy.</li>",
            key = escape(leaf_key)
        ),
        KeyExchange::EcdheRsa => format!(
            "<li><b>ServerKeyExchange.</b> The server made a key pair for this connection only, on an elliptic curve (x25519 if your client offers it), and sent \
the public half, signed with the private key of its certificate ({key}) over both randoms: your client \
checked that signature, so nobody in the middle could have swapped in their own key.</li>\
<li><b>ServerHelloDone.</b> The server has nothing more to say; the client's turn.</li>\
<li><b>ClientKeyExchange.</b> Your client made its own ephemeral key pair and sent the public half. Each side \
multiplied its private key by the other's public key and got the same 32-byte <i>pre-master secret</i>; it \
never crossed the wire. Both ephemeral private keys are thrown away after the handshake, so even whoever \
steals the server's certificate key later cannot decrypt a recording of this connection: \
<b>forward secrecy</b>.</li>",
            key = escape(leaf_key)
        ),
    };
    format!(
        "<section><h2>What just happened, step by step</h2><ol class=\"steps\">\
<li><b>ClientHello.</b> Your client opened a TCP connection and sent, in the clear, the versions and \
cipher suites it supports, 32 fresh random bytes (the <i>client random</i> above) and the name it wants \
(SNI{sni}).</li>\
<li><b>ServerHello.</b> The server chose TLS 1.2 and <code>{suite}</code>, the first suite in its own order \
that your client also offered, and sent its own 32 random bytes (the <i>server random</i>). Both randoms \
make every connection's keys different, so an old recording cannot be replayed.</li>\
<li><b>Certificate.</b> The server sent its certificate chain (left). Your client checked that each \
signature leads up to a root CA it already trusts, that the dates are valid and that the name it asked for \
is in the certificate. This is <b>authentication</b>: only a server the CA vouched for holds a certificate \
for this name.</li>\
{key_exchange_steps}\
<li><b>Keys.</b> Both sides now compute the same 48-byte <i>master secret</i> from the pre-master secret and \
{ems}, then expand it into a key block: a MAC key and an encryption key for each direction.</li>\
<li><b>ChangeCipherSpec, Finished (client).</b> From here on your client encrypts. Its Finished message \
holds a MAC of the whole handshake transcript: had anyone altered a hello (say, to force a weaker \
suite), the server would see a mismatch and abort.</li>\
<li><b>ChangeCipherSpec, Finished (server).</b> The server proves the same: it knows the master secret \
(so it holds the pre-master secret: it decrypted it with the certificate's key, or derived it with ECDHE \
after signing its ephemeral key with the certificate's key) and saw the same transcript.</li>\
<li><b>Application data.</b> Your HTTP request and this page travel in records encrypted with {cipher} \
({iv}) and protected by {mac} over a sequence number, so a record cannot be read, \
changed, dropped, replayed or reordered without the other side noticing.</li>\
</ol></section>\n",
        sni = info
            .server_name
            .as_deref()
            .map_or_else(|| ": none sent".to_string(), |n| format!(": <code>{}</code>", escape(n))),
        suite = escape(suite.name),
        ems = ems,
        cipher = escape(&cipher_name(suite)),
        mac = escape(&mac_name(suite)),
        iv = if suite.is_aead() {
            "the nonce: a secret 4-byte salt and the record's sequence number, never repeated"
        } else {
            "a fresh random IV per record"
        },
    )
}

fn properties_section(tls: Option<&TlsDetails>) -> String {
    let (confidentiality, authentication, integrity) = match tls {
        Some(tls) => (
            format!(
                "Only your client and this server know the keys: the pre-master secret crossed the \
                 network encrypted to the server's RSA key, and the data is encrypted with {}.",
                escape(&cipher_name(tls.info.suite))
            ),
            "The certificate chain ends at a root your client trusts, names this host, and the server \
             proved it holds the certificate's private key by decrypting the pre-master secret \
             (it could not have produced a valid Finished otherwise)."
                .to_string(),
            format!(
                "Every record carries {} keyed with a secret only the two ends know, over its \
                 sequence number: any change, drop, replay or reordering is detected and the \
                 connection closed with <code>bad_record_mac</code>.",
                escape(&mac_name(tls.info.suite))
            ),
        ),
        None => (
            "None: this page and your request crossed the network as readable text.".to_string(),
            "None: nothing proves this page came from the server you meant to reach.".to_string(),
            "None: anyone on the path could have changed it.".to_string(),
        ),
    };
    format!(
        "<section><h2>Why HTTPS is safer than HTTP</h2><table>\
         <tr><th>Confidentiality</th><td>{confidentiality}</td></tr>\
         <tr><th>Authentication</th><td>{authentication}</td></tr>\
         <tr><th>Integrity</th><td>{integrity}</td></tr></table>\
         <p class=\"muted\">One limit of this suite family: RSA key transport has no forward secrecy. \
         Whoever obtains the server's private key later can decrypt a recording of this connection — \
         the reason TLS 1.3 keeps only (EC)DHE key exchange. A key log (<code>--keylog</code>) makes the \
         same point on purpose: with it, Wireshark decrypts a capture.</p></section>"
    )
}

fn plain_section(visit: &Visit<'_>) -> String {
    let link = visit.https_url.map_or_else(String::new, |url| {
        format!(
            "<p>Compare with the same page over HTTPS: <a href=\"{0}\">{0}</a></p>",
            escape(url)
        )
    });
    format!(
        "<section><h2>Your connection</h2><table><tr><th>Protocol</th><td>HTTP/1.1 over bare TCP</td></tr>\
         <tr><th>Your address</th><td>{}</td></tr></table>{link}</section>\n",
        escape(&visit.peer.to_string())
    )
}

fn compare_section() -> String {
    "<section><h2>What a capture sees</h2><ol class=\"steps\">\
<li>Over HTTP, a packet capture (<code>tcpdump -i lo -A port 8080</code>) shows the request line, every \
header and this page, byte for byte.</li>\
<li>Over HTTPS it shows a ClientHello and ServerHello in the clear (with the server name and the \
certificate), then only encrypted records of roughly the right sizes.</li>\
</ol></section>\n"
        .to_string()
}

fn row(out: &mut String, label: &str, value_html: &str) {
    let _ = write!(
        out,
        "<tr><th>{}</th><td>{value_html}</td></tr>",
        escape(label)
    );
}

fn yes_no(on: bool, meaning: &str) -> String {
    if on {
        format!("<span class=\"tag yes\">yes</span> {}", escape(meaning))
    } else {
        "<span class=\"tag no\">no</span> not negotiated".to_string()
    }
}

fn key_exchange_text(suite: &CipherSuite) -> &'static str {
    match suite.key_exchange {
        KeyExchange::Rsa => {
            "RSA key transport: the client encrypts the pre-master secret to the certificate's public key"
        }
        KeyExchange::EcdheRsa => {
            "ECDHE (ephemeral elliptic-curve Diffie-Hellman), signed with the certificate's RSA key: both sides derive the pre-master secret from fresh ephemeral keys"
        }
    }
}

fn version_name(version: u16) -> String {
    match version {
        0x0303 => "TLS 1.2 (0x0303)".to_string(),
        v => format!("0x{v:04X}"),
    }
}

fn cipher_name(suite: &CipherSuite) -> String {
    match suite.cipher {
        BulkCipher::Aes128Cbc => "AES-128 in CBC mode".to_string(),
        BulkCipher::Aes256Cbc => "AES-256 in CBC mode".to_string(),
        BulkCipher::Aes128Gcm => "AES-128 in GCM mode (AEAD)".to_string(),
        BulkCipher::Aes256Gcm => "AES-256 in GCM mode (AEAD)".to_string(),
    }
}

fn mac_name(suite: &CipherSuite) -> String {
    match suite.mac {
        MacAlgorithm::HmacSha1 => "HMAC-SHA1".to_string(),
        MacAlgorithm::HmacSha256 => "HMAC-SHA256".to_string(),
        // The GCM tag authenticates each record; there is no separate MAC.
        MacAlgorithm::Aead => "AEAD (a 16-byte AES-GCM tag)".to_string(),
    }
}

fn prf_name(suite: &CipherSuite) -> &'static str {
    match suite.prf {
        PrfHash::Sha256 => "TLS 1.2 PRF with HMAC-SHA256 (P_SHA256)",
        PrfHash::Sha384 => "TLS 1.2 PRF with HMAC-SHA384 (P_SHA384)",
    }
}

/// "Attack it yourself" (the `mitm` program; the README has the same), at the end of `<main>`.
fn with_attack_section(html: String) -> String {
    let Some(at) = html.rfind("</main>") else {
        return html;
    };
    let (head, tail) = html.split_at(at);
    format!(
        "{head}<section><h2>Attack it yourself</h2>\
<p><code>mitm</code> is the hacker on the link. Start the server with <code>--http 127.0.0.1:8080</code>, \
then put it in front of a port (<code>cargo run -p server --bin mitm -- MODE --listen 127.0.0.1:8081 \
--upstream 127.0.0.1:8080</code>, or <code>--upstream localhost:8443</code> for HTTPS):</p><ul>\
<li><code>--sniff</code>: over HTTP it prints the request, the cookies and a form's password; over \
HTTPS only the server name, the certificate chain, then record sizes and ciphertext.</li>\
<li><code>--inject</code>: over HTTP your browser shows a banner the proxy added; over HTTPS one \
flipped bit makes curl and our client stop with <code>bad_record_mac</code>, showing nothing.</li>\
<li><code>--impersonate --upstream-ca certs/ca.pem</code>: it answers with its own certificate; \
curl and our client exit 60, a browser shows <code>NET::ERR_CERT_AUTHORITY_INVALID</code>. Click \
through (<code>-k</code>) or trust its CA, and it reads everything.</li></ul></section>\n{tail}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(server_name: Option<&str>) -> SessionInfo {
        SessionInfo {
            version: 0x0303,
            suite: &tls::suites::TLS_RSA_WITH_AES_256_CBC_SHA,
            client_random: [0xab; 32],
            server_random: [0xcd; 32],
            session_id: vec![],
            extended_master_secret: true,
            encrypt_then_mac: false,
            alpn_protocol: Some(b"http/1.1".to_vec()),
            server_name: server_name.map(str::to_string),
            server_chain: vec![b"not a certificate".to_vec()],
            client_chain: Vec::new(),
            verification: None,
            resumed: None,
        }
    }

    fn visit<'a>(tls: Option<&'a TlsDetails>, request_line: &'a str) -> Visit<'a> {
        Visit {
            peer: "127.0.0.1:5000".parse().unwrap_or_else(|_| unreachable!()),
            tls,
            request_line,
            user_agent: Some("<script>ua</script>"),
            https_url: Some("https://localhost:8443/"),
        }
    }

    #[test]
    fn page_shows_the_negotiated_connection() {
        let details = TlsDetails::new(
            info(Some("localhost")),
            Duration::from_millis(3),
            Some(TranscriptData {
                messages: vec![
                    (true, "ClientHello".into(), 517),
                    (false, "ServerHello".into(), 85),
                ],
                offered_suites: vec![0xCCA8, 0x0035],
                client_version: 0x0303,
            }),
        );
        let page = front_page(&visit(Some(&details), "GET / HTTP/1.1"));
        assert!(page.contains("TLS_RSA_WITH_AES_256_CBC_SHA"));
        assert!(page.contains("AES-256 in CBC mode"));
        assert!(page.contains("HMAC-SHA1"));
        assert!(page.contains(&"ab".repeat(32)));
        assert!(page.contains(&"cd".repeat(32)));
        assert!(page.contains("(unreadable"));
        assert!(page.contains("<code>localhost</code>"));
        assert!(page.contains("<code>ClientHello</code></td><td>517 bytes"));
        assert!(page.contains("0xCCA8, <b>TLS_RSA_WITH_AES_256_CBC_SHA</b>"));
    }

    /// A GCM connection's table says AEAD where a CBC one names its HMAC, and the record is
    /// described by its nonce, not a random IV.
    #[test]
    fn page_says_aead_for_a_gcm_suite() {
        let mut gcm = info(Some("localhost"));
        gcm.suite = &tls::suites::TLS_RSA_WITH_AES_128_GCM_SHA256;
        let details = TlsDetails::new(gcm, Duration::ZERO, None);
        let page = front_page(&visit(Some(&details), "GET / HTTP/1.1"));
        assert!(page.contains("TLS_RSA_WITH_AES_128_GCM_SHA256"));
        assert!(page.contains("<tr><th>MAC</th><td>AEAD (a 16-byte AES-GCM tag)</td></tr>"));
        assert!(page.contains("AES-128 in GCM mode (AEAD)"));
        assert!(page.contains("sequence number, never repeated"));
        assert!(!page.contains("HMAC-SHA1") && !page.contains("random IV"));
        let details = TlsDetails::new(info(None), Duration::ZERO, None);
        let cbc = front_page(&visit(Some(&details), "GET / HTTP/1.1"));
        assert!(cbc.contains("<tr><th>MAC</th><td>HMAC-SHA1</td></tr>"));
        assert!(cbc.contains("a fresh random IV per record"));
    }

    #[test]
    fn rfc_names_become_structure_names() {
        assert_eq!(message_name("server_hello_done"), "ServerHelloDone");
        assert_eq!(message_name("finished"), "Finished");
    }

    #[test]
    fn everything_from_the_visitor_is_escaped() {
        let details = TlsDetails::new(info(Some("<img src=x>")), Duration::ZERO, None);
        let page = front_page(&visit(Some(&details), "GET /<b> HTTP/1.1"));
        assert!(!page.contains("<script>"));
        assert!(!page.contains("<img"));
        assert!(!page.contains("/<b>"));
        assert!(page.contains("&lt;script&gt;ua&lt;/script&gt;"));
    }

    #[test]
    fn plain_http_page_says_there_is_no_protection() {
        let page = front_page(&visit(None, "GET / HTTP/1.1"));
        assert!(page.contains("plain HTTP"));
        assert!(page.contains("href=\"https://localhost:8443/\""));
        assert!(!page.contains("Cipher suite"));
    }

    #[test]
    fn page_has_no_outside_resources() {
        let details = TlsDetails::new(info(None), Duration::ZERO, None);
        let page = front_page(&visit(Some(&details), "GET / HTTP/1.1"));
        assert!(!page.contains("<script"));
        assert!(!page.contains("src=\"http"));
        // The only link is the empty inline favicon (it stops browsers asking for /favicon.ico).
        assert_eq!(page.matches("<link").count(), 1);
        assert!(page.contains("<link rel=\"icon\" href=\"data:,\">"));
        assert!(!page.contains("url("));
        assert!(!page.contains("@import"));
    }
}
