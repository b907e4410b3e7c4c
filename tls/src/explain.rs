//! Explain mode: the events of one connection ([`crate::trace::Event`]) turned into a short
//! narration for a learner, step by step, with the values that connection really used — the
//! randoms, the suite and what each part of its name does, every check on the certificate chain,
//! the RSA-encrypted pre-master secret, the key block, Finished, and one application record
//! taken apart (explicit IV, ciphertext, MAC, padding; RFC 5246 §6.2.3.2, RFC 7366).
//!
//! Pure: events in, [`Step`]s out, no I/O. The programs print the steps (`client --explain`,
//! `server -v`) and add what only they can see (TCP connect and close). [`wire_step`] is the
//! `--wire` view of one record: header, raw bytes, decrypted bytes.

use crate::alert::{AlertDescription, AlertLevel};
use crate::crypto::prf::KeyBlock;
use crate::handshake::messages::{
    ext_type, Extension, HandshakeMessage, HandshakePayload, TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
};
use crate::pki::trust::TrustStore;
use crate::pki::verify::{candidate_path, matches_host};
use crate::pki::x509::Certificate;
use crate::pki::CertError;
use crate::record::ContentType;
use crate::suites::{BulkCipher, CipherSuite, MacAlgorithm};
pub use crate::text::hex_dump;
use crate::text::{
    escape_peer, escape_peer_bytes, hex, hex_colon, hex_prefix, hex_spaced, unix_now,
};
use crate::trace::{Direction, Event, Protection};

/// Hex rows shown of a record taken apart (a page can fill a 16 KiB record).
const SHOWN_ROWS: usize = 8;

/// Which end of the connection the narration speaks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Client,
    Server,
}

/// One step of the narration: a title and a few lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub title: String,
    pub lines: Vec<Line>,
}

/// A line of a step. `Field` and `Dump` values are the connection's own bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// Plain explanation.
    Text(String),
    /// `label: value`.
    Field(String, String),
    /// One row of a hex dump; `wire` rows are bytes as they crossed the network, the others
    /// are decrypted bytes only the two ends can see.
    Dump { wire: bool, row: String },
}

/// Turns a connection's events into [`Step`]s. Feed it every event, in order.
pub struct Explainer {
    role: Role,
    server_name: Option<String>,
    roots: Option<TrustStore>,
    now: i64,
    server_key_bits: usize,
    server_modulus: Vec<u8>,
    server_exponent: Vec<u8>,
    /// Per direction (0 = sent, 1 = received): application records and bytes seen.
    app_records: [usize; 2],
    app_bytes: [usize; 2],
    step: usize,
}

impl Explainer {
    /// The client's narration. `roots` (the trust store used) lets the chain step name the
    /// trust anchor and check its signature on the last certificate sent.
    pub fn client(server_name: &str, roots: Option<TrustStore>) -> Self {
        let mut e = Self::new(Role::Client);
        e.server_name = Some(server_name.to_string());
        e.roots = roots;
        e
    }

    /// The server's narration.
    pub fn server() -> Self {
        Self::new(Role::Server)
    }

    /// The steps this event adds to the narration (often none).
    pub fn event(&mut self, event: &Event<'_>) -> Vec<Step> {
        match event {
            Event::Handshake { direction, message } => self.handshake(*direction, message),
            Event::Record {
                direction,
                content_type,
                wire,
                plaintext,
                protection,
            } => self.record(*direction, *content_type, wire, plaintext, *protection),
            Event::ChangeCipherSpec { direction } => vec![self.change_cipher_spec(*direction)],
            Event::Alert { direction, alert } => {
                vec![self.alert(*direction, alert.level, alert.description)]
            }
            Event::PremasterSecret {
                premaster,
                padded,
                encrypted,
            } => vec![self.premaster(premaster, *padded, encrypted)],
            Event::MasterSecret {
                master_secret,
                extended,
                client_random,
            } => vec![self.master_secret(master_secret, *extended, client_random)],
            Event::KeyBlock { key_block } => vec![self.key_block_step(key_block)],
            Event::CertificateChecked {
                chain,
                outcome,
                accepted,
            } => vec![self.certificate_checked(chain, outcome, *accepted)],
            Event::HandshakeComplete { info } => {
                let mut s = self.step("Handshake complete");
                s.field("protocol", "TLS 1.2");
                s.field("cipher suite", info.suite.name);
                s.field(
                    "protections",
                    format!(
                        "extended master secret: {}, encrypt-then-MAC: {}",
                        yes_no(info.extended_master_secret),
                        yes_no(info.encrypt_then_mac)
                    ),
                );
                if let Some(p) = &info.alpn_protocol {
                    s.field("application protocol", escape_peer_bytes(p));
                }
                s.text("From here on every byte of HTTP travels inside encrypted, MACed records.");
                vec![s]
            }
        }
    }
}

/// The `--wire` view of one TLS record: direction, content type, length, the raw bytes as they
/// crossed the network, and the bytes they carried once decrypted.
pub fn wire_step(
    direction: Direction,
    content_type: ContentType,
    wire: &[u8],
    plaintext: &[u8],
    encrypted: bool,
) -> Step {
    let arrow = match direction {
        Direction::Sent => ">>> sent",
        Direction::Received => "<<< received",
    };
    let mut s = Step {
        title: format!(
            "{arrow}: TLS record, {} ({}), {} bytes on the wire",
            content_type_name(content_type),
            content_type.to_u8(),
            wire.len()
        ),
        lines: Vec::new(),
    };
    if let Some(header) = wire.get(..5) {
        s.field(
            "record header",
            format!(
                "{}  (type {}, version {:02x}{:02x}, length {})",
                hex_spaced(header),
                header[0],
                header[1],
                header[2],
                u16::from_be_bytes([header[3], header[4]])
            ),
        );
    }
    s.text("as it crossed the wire (what a packet capture sees):");
    s.dump(true, wire);
    if encrypted {
        s.text(format!(
            "decrypted, {} bytes (only the two ends can see this):",
            plaintext.len()
        ));
    } else {
        s.text(format!(
            "carried, {} bytes (not encrypted: anyone on the path can read it):",
            plaintext.len()
        ));
    }
    s.dump(false, plaintext);
    s
}

/// The `--wire` view of bytes sent or received on a plain TCP connection (no record layer).
pub fn plain_step(direction: Direction, bytes: &[u8]) -> Step {
    let arrow = match direction {
        Direction::Sent => ">>> sent",
        Direction::Received => "<<< received",
    };
    let mut s = Step {
        title: format!("{arrow}: {} bytes of plain TCP (no TLS)", bytes.len()),
        lines: Vec::new(),
    };
    s.text("as it crossed the wire (what a packet capture sees):");
    s.dump(true, bytes);
    s
}

impl Step {
    /// The step as text; `color` adds ANSI colours (bold titles, dim labels) for a terminal.
    pub fn render(&self, color: bool) -> String {
        let (bold, dim, value, cipher, reset) = if color {
            ("\x1b[1;36m", "\x1b[2m", "\x1b[33m", "\x1b[35m", "\x1b[0m")
        } else {
            ("", "", "", "", "")
        };
        let mut out = format!("{bold}{}{reset}\n", self.title);
        for line in &self.lines {
            match line {
                Line::Text(t) => out.push_str(&format!("    {t}\n")),
                Line::Field(label, v) => {
                    out.push_str(&format!("    {dim}{label}:{reset} {value}{v}{reset}\n"))
                }
                Line::Dump { wire: true, row } => {
                    out.push_str(&format!("    {cipher}wire  {row}{reset}\n"))
                }
                Line::Dump { wire: false, row } => {
                    out.push_str(&format!("    {value}plain {row}{reset}\n"))
                }
            }
        }
        out
    }

    pub fn text(&mut self, t: impl Into<String>) {
        self.lines.push(Line::Text(t.into()));
    }

    pub fn field(&mut self, label: &str, v: impl std::fmt::Display) {
        self.lines
            .push(Line::Field(label.to_string(), v.to_string()));
    }

    /// The first `rows` rows of [`Self::dump`], and how much was left out.
    pub fn dump_head(&mut self, wire: bool, bytes: &[u8], rows: usize) {
        let shown = bytes.len().min(rows * 16);
        self.dump(wire, bytes.get(..shown).unwrap_or_default());
        if bytes.len() > shown {
            self.text(format!("  … {} more bytes", bytes.len() - shown));
        }
    }

    /// Hex dump rows of `bytes`; `wire` marks raw network bytes.
    pub fn dump(&mut self, wire: bool, bytes: &[u8]) {
        for row in hex_dump(bytes) {
            self.lines.push(Line::Dump { wire, row });
        }
    }
}

// ---- the narration, one event kind at a time ----

impl Explainer {
    fn new(role: Role) -> Self {
        Self {
            role,
            server_name: None,
            roots: None,
            now: unix_now(),
            server_key_bits: 0,
            server_modulus: Vec::new(),
            server_exponent: Vec::new(),
            app_records: [0; 2],
            app_bytes: [0; 2],
            step: 0,
        }
    }

    fn step(&mut self, title: &str) -> Step {
        self.step += 1;
        Step {
            title: format!("[TLS {}] {title}", self.step),
            lines: Vec::new(),
        }
    }

    /// "client → server" or "server → client", for a message going `direction` from our side.
    fn flow(&self, direction: Direction) -> &'static str {
        match (self.role, direction) {
            (Role::Client, Direction::Sent) | (Role::Server, Direction::Received) => {
                "client → server"
            }
            _ => "server → client",
        }
    }

    fn handshake(&mut self, direction: Direction, message: &HandshakeMessage) -> Vec<Step> {
        let flow = self.flow(direction);
        let len = message.raw.len();
        match &message.payload {
            HandshakePayload::ClientHello(hello) => {
                let mut s = self.step(&format!("ClientHello ({flow}, {len} bytes)"));
                s.text("The client says hello: which TLS version, which cipher suites it can use.");
                s.field("client random", hex(&hello.random));
                s.text("  32 fresh random bytes: they make this connection's keys unique, so old records cannot be replayed.");
                s.field("version", format!("{:04x} (TLS 1.2)", hello.client_version));
                s.field(
                    "cipher suites offered",
                    format!("{}", hello.cipher_suites.len()),
                );
                for id in &hello.cipher_suites {
                    s.text(format!(
                        "  {{0x{:02X}, 0x{:02X}}} {}",
                        id >> 8,
                        id & 0xff,
                        suite_name(*id)
                    ));
                }
                if let Some(name) = hello.server_name() {
                    s.field("server_name (SNI)", escape_peer_bytes(name));
                    s.text("  in the clear: an observer learns which site is visited, not what is read there.");
                }
                let exts: Vec<&str> = hello
                    .extensions
                    .iter()
                    .map(|e| ext_type::name(e.typ()))
                    .collect();
                s.field("extensions", exts.join(", "));
                vec![s]
            }
            HandshakePayload::ServerHello(hello) => {
                let suite = CipherSuite::from_id(hello.cipher_suite);
                let mut s = self.step(&format!("ServerHello ({flow}, {len} bytes)"));
                s.text(
                    "The server picks one suite from the client's list and sends its own random.",
                );
                s.field("server random", hex(&hello.random));
                s.field(
                    "cipher suite chosen",
                    format!(
                        "0x{:04X} {}",
                        hello.cipher_suite,
                        suite_name(hello.cipher_suite)
                    ),
                );
                if let Some(suite) = suite {
                    for part in suite_parts(suite) {
                        s.text(format!("  {part}"));
                    }
                }
                let exts: Vec<&str> = hello
                    .extensions
                    .iter()
                    .map(|e| ext_type::name(e.typ()))
                    .collect();
                s.field(
                    "extensions",
                    if exts.is_empty() {
                        "none".to_string()
                    } else {
                        exts.join(", ")
                    },
                );
                if hello.extensions.contains(&Extension::EncryptThenMac) {
                    s.text("  encrypt_then_mac: the MAC covers the ciphertext, so forged records are rejected before decryption (no padding oracle).");
                }
                if hello.extensions.contains(&Extension::ExtendedMasterSecret) {
                    s.text("  extended_master_secret: the master secret will be bound to the whole handshake.");
                }
                vec![s]
            }
            HandshakePayload::Certificate(cert_msg) => {
                let mut s = self.step(&format!(
                    "Certificate ({flow}, {len} bytes, {} certificate{})",
                    cert_msg.chain.len(),
                    if cert_msg.chain.len() == 1 { "" } else { "s" }
                ));
                s.text("The server's identity: its public key, signed by a certificate authority.");
                for (depth, der) in cert_msg.chain.iter().enumerate() {
                    match Certificate::from_der(der) {
                        Ok(cert) => {
                            describe_certificate(&mut s, depth, &cert);
                            if depth == 0 {
                                if let Ok(key) = cert.public_key() {
                                    self.server_key_bits = key.bits();
                                    self.server_modulus = key.n().to_bytes_be();
                                    self.server_exponent = key.e().to_bytes_be();
                                }
                            }
                        }
                        Err(e) => s.field(
                            &format!("certificate {depth}"),
                            format!("unreadable: {}", escape_peer(&e.to_string())),
                        ),
                    }
                }
                vec![s]
            }
            HandshakePayload::ServerHelloDone => {
                let mut s = self.step(&format!("ServerHelloDone ({flow}, {len} bytes)"));
                s.text("The server has said everything; now the client must prove it can talk to the key's owner.");
                vec![s]
            }
            HandshakePayload::ClientKeyExchange(cke) => {
                let mut s = self.step(&format!("ClientKeyExchange ({flow}, {len} bytes)"));
                s.field(
                    "encrypted pre-master secret",
                    format!(
                        "{} bytes: {}",
                        cke.encrypted_pre_master_secret.len(),
                        hex_prefix(&cke.encrypted_pre_master_secret, 16)
                    ),
                );
                s.text("Only the holder of the certificate's private key can open it: this is how the server is authenticated.");
                vec![s]
            }
            HandshakePayload::Finished(fin) => {
                let who = match (self.role, direction) {
                    (Role::Client, Direction::Sent) | (Role::Server, Direction::Received) => {
                        "client"
                    }
                    _ => "server",
                };
                let mut s = self.step(&format!(
                    "Finished from the {who} ({flow}, {len} bytes, encrypted)"
                ));
                s.field("verify_data", hex(&fin.verify_data));
                s.text(format!(
                    "= PRF(master_secret, \"{who} finished\", SHA-256(all handshake messages))[0..12]"
                ));
                s.text("It proves both sides saw the same handshake (nobody changed the suite list on the way) and hold the same master secret.");
                if direction == Direction::Received {
                    s.text("We compare it with our own computation: a mismatch ends the handshake with decrypt_error.");
                }
                vec![s]
            }
            HandshakePayload::HelloRequest | HandshakePayload::Unknown(..) => {
                let mut s = self.step(&format!("{} ({flow}, {len} bytes)", message.typ()));
                s.text("Not part of the RSA handshake we speak.");
                vec![s]
            }
        }
    }

    fn certificate_checked(
        &mut self,
        chain: &[Vec<u8>],
        outcome: &Result<usize, CertError>,
        accepted: bool,
    ) -> Step {
        let mut s = self.step("Checking the certificate chain");
        let presented: Vec<Certificate> = chain
            .iter()
            .filter_map(|der| Certificate::from_der(der).ok())
            .collect();
        let path = match &self.roots {
            Some(roots) => candidate_path(&presented, roots),
            None => presented.clone(),
        };
        for (depth, cert) in path.iter().enumerate() {
            let name = escape_peer(&cert.subject().to_curl_string());
            let issuer = path.get(depth + 1);
            let is_anchor = self.roots.as_ref().is_some_and(|r| r.contains(cert));
            match issuer {
                Some(issuer) => {
                    let verdict = match issuer.public_key() {
                        Ok(key) => match cert.verify_signature(&key) {
                            Ok(()) => "ok".to_string(),
                            Err(e) => format!("FAILED ({})", escape_peer(&e.to_string())),
                        },
                        Err(e) => format!("issuer key unusable ({})", escape_peer(&e.to_string())),
                    };
                    s.field(
                        &format!("signature of {depth} ({name})"),
                        format!(
                            "{} with the key of {} → {verdict}",
                            cert.signature_algorithm_name(),
                            escape_peer(&issuer.subject().to_curl_string())
                        ),
                    );
                }
                None if is_anchor => s.field(
                    &format!("trust anchor ({name})"),
                    "found in the trust store → ok",
                ),
                None => s.field(
                    &format!("issuer of {depth} ({name})"),
                    format!(
                        "{} → not found among the trusted roots",
                        escape_peer(&cert.issuer().to_curl_string())
                    ),
                ),
            }
            let valid = cert.not_before() <= self.now && self.now <= cert.not_after();
            s.field(
                &format!("validity of {depth}"),
                format!(
                    "{} .. {} → {}",
                    crate::text::utc_date(cert.not_before()),
                    crate::text::utc_date(cert.not_after()),
                    if valid { "ok" } else { "outside the period" }
                ),
            );
        }
        if let (Some(host), Some(leaf)) = (&self.server_name, presented.first()) {
            let ok = matches_host(leaf, host);
            let names: Vec<String> = leaf
                .dns_names()
                .iter()
                .map(|n| escape_peer(n))
                .chain(leaf.ip_addresses().iter().map(ToString::to_string))
                .collect();
            s.field(
                "host name",
                format!(
                    "\"{}\" against subjectAltName [{}] → {}",
                    escape_peer(host),
                    names.join(", "),
                    if ok { "ok" } else { "no match" }
                ),
            );
        }
        match outcome {
            Ok(n) => s.field(
                "verdict",
                format!(
                    "trusted (a path of {n} certificate{} up to a root you trust)",
                    if *n == 1 { "" } else { "s" }
                ),
            ),
            Err(e) => s.field(
                "verdict",
                format!(
                    "NOT trusted: {} (at depth {})",
                    escape_peer(&e.to_string()),
                    e.depth
                ),
            ),
        }
        if outcome.is_err() {
            s.text(if accepted {
                "Going on anyway, as you asked: the server's identity is NOT proven."
            } else {
                "The handshake stops here: no request is sent to an unproven server."
            });
        } else {
            s.text("So the public key really belongs to this site: a man in the middle cannot pass off his own.");
        }
        s
    }

    fn premaster(&mut self, premaster: &[u8], padded: Option<&[u8]>, encrypted: &[u8]) -> Step {
        let mut s = self.step("The pre-master secret, delivered with RSA");
        let k = encrypted.len();
        s.field(
            "pre-master secret",
            format!("{} bytes: {}", premaster.len(), hex(premaster)),
        );
        s.text("  = client version (03 03) + 46 random bytes: the seed of every key of this connection.");
        let ps_len = k.saturating_sub(premaster.len() + 3);
        // The event carries m from whichever side built it: the client before encrypting, the
        // server after decrypting with its private key.
        let recovered = padded.filter(|_| self.role == Role::Server);
        match padded {
            Some(m) if self.role == Role::Server => s.field(
                "m (padded, recovered here with the private key: c^d mod n)",
                format!("{k} bytes: {}", hex_prefix(m, 16)),
            ),
            Some(m) => s.field(
                "m (the PKCS#1 v1.5 block: 00 02, random non-zero padding, 00, the secret)",
                format!("{k} bytes: {}", hex_prefix(m, 16)),
            ),
            None => s.field(
                "m (PKCS#1 v1.5 block)",
                format!(
                    "{k} bytes: 00 02 + {ps_len} random non-zero bytes + 00 + the {} bytes above",
                    premaster.len()
                ),
            ),
        }
        if !self.server_modulus.is_empty() {
            s.field(
                "n (server's modulus)",
                format!(
                    "{} bits: {}",
                    self.server_key_bits,
                    hex_prefix(&self.server_modulus, 16)
                ),
            );
            s.field("e (public exponent)", big_decimal(&self.server_exponent));
        }
        s.field(
            "c = m^e mod n",
            format!("{} bytes: {}", encrypted.len(), hex_prefix(encrypted, 16)),
        );
        if let Some(m) = recovered {
            let ends = m.ends_with(premaster) && m.starts_with(&[0, 2]);
            s.text(format!(
                "m ends with the pre-master secret: {}",
                if ends {
                    "yes"
                } else {
                    "no (bad block: the server goes on with a random secret and fails at Finished)"
                }
            ));
        }
        s.text("Anyone may know n and e and see c; only d (the private key) turns c back into m.");
        s
    }

    fn master_secret(
        &mut self,
        master: &[u8; 48],
        extended: bool,
        client_random: &[u8; 32],
    ) -> Step {
        let mut s = self.step("Master secret");
        s.field("master secret", hex(master));
        if extended {
            s.text("= PRF(pre-master, \"extended master secret\", SHA-256(handshake so far)) (RFC 7627)");
        } else {
            s.text("= PRF(pre-master, \"master secret\", client random + server random)");
        }
        s.text("Both sides compute it; it never crosses the wire.");
        s.field(
            "key log line",
            crate::trace::keylog_line(client_random, master),
        );
        s.text("  (with this line, Wireshark can decrypt a capture of this connection)");
        s
    }

    fn key_block_step(&mut self, kb: &KeyBlock) -> Step {
        let mut s = self.step("Key block: four keys from the master secret");
        s.text("key_block = PRF(master secret, \"key expansion\", server random + client random), cut in four:");
        s.field(
            &format!(
                "client_write_MAC_key ({} bytes)",
                kb.client_write_mac_key.len()
            ),
            hex(&kb.client_write_mac_key),
        );
        s.field(
            &format!(
                "server_write_MAC_key ({} bytes)",
                kb.server_write_mac_key.len()
            ),
            hex(&kb.server_write_mac_key),
        );
        s.field(
            &format!("client_write_key ({} bytes)", kb.client_write_key.len()),
            hex(&kb.client_write_key),
        );
        s.field(
            &format!("server_write_key ({} bytes)", kb.server_write_key.len()),
            hex(&kb.server_write_key),
        );
        s.text("MAC keys give integrity, encryption keys confidentiality; each direction has its own pair.");
        s.text("No IVs here: with CBC in TLS 1.2 every record carries its own fresh random IV.");
        s
    }

    fn change_cipher_spec(&mut self, direction: Direction) -> Step {
        let flow = self.flow(direction);
        let mut s = self.step(&format!("ChangeCipherSpec ({flow})"));
        s.text("\"From my next record on, I encrypt and MAC with the new keys.\" (one byte: 01)");
        s
    }

    fn alert(
        &mut self,
        direction: Direction,
        level: AlertLevel,
        description: AlertDescription,
    ) -> Step {
        let flow = self.flow(direction);
        if description == AlertDescription::CloseNotify {
            let mut s = self.step(&format!("close_notify ({flow})"));
            s.text("An encrypted, MACed \"I am done\": an attacker cannot cut the data short and make it look complete.");
            for (d, label) in [
                (0, "application data sent"),
                (1, "application data received"),
            ] {
                s.field(
                    label,
                    format!(
                        "{} records, {} bytes",
                        self.app_records[d], self.app_bytes[d]
                    ),
                );
            }
            return s;
        }
        let mut s = self.step(&format!("Alert ({flow})"));
        let level = match level {
            AlertLevel::Warning => "warning",
            _ => "fatal",
        };
        s.field(
            "alert",
            format!("{level} {} ({})", description.name(), description.to_u8()),
        );
        s
    }

    fn record(
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

// ---- helpers ----

fn index(direction: Direction) -> usize {
    match direction {
        Direction::Sent => 0,
        Direction::Received => 1,
    }
}

/// What each part of a suite's name does.
fn suite_parts(suite: &CipherSuite) -> Vec<String> {
    let (bits, cipher) = match suite.cipher {
        BulkCipher::Aes128Cbc => (128, "AES_128_CBC"),
        BulkCipher::Aes256Cbc => (256, "AES_256_CBC"),
    };
    let (mac, hash) = match suite.mac {
        MacAlgorithm::HmacSha1 => ("SHA", "HMAC-SHA1"),
        MacAlgorithm::HmacSha256 => ("SHA256", "HMAC-SHA256"),
    };
    vec![
        "TLS_RSA: key exchange — the client sends the secret encrypted with the server's RSA key from its certificate.".to_string(),
        format!("WITH_{cipher}: encryption — AES with a {bits}-bit key in CBC mode, on every record (confidentiality)."),
        format!("_{mac}: integrity — {hash} over every record with a secret key, so any change is detected."),
    ]
}

/// IANA name of a cipher suite code, for the ones a client is likely to offer.
fn suite_name(id: u16) -> &'static str {
    if let Some(s) = CipherSuite::from_id(id) {
        return s.name;
    }
    match id {
        TLS_EMPTY_RENEGOTIATION_INFO_SCSV => {
            "TLS_EMPTY_RENEGOTIATION_INFO_SCSV (signal, not a suite)"
        }
        0x1301 => "TLS_AES_128_GCM_SHA256 (TLS 1.3)",
        0x1302 => "TLS_AES_256_GCM_SHA384 (TLS 1.3)",
        0x1303 => "TLS_CHACHA20_POLY1305_SHA256 (TLS 1.3)",
        0xC02B => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        0xC02C => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        0xC02F => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        0xC030 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        0xCCA8 => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0xCCA9 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        0x009C => "TLS_RSA_WITH_AES_128_GCM_SHA256",
        0x009D => "TLS_RSA_WITH_AES_256_GCM_SHA384",
        0x009E => "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        0x009F => "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
        0xC013 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        0xC014 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        0xC027 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        0xC028 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        _ => "(a suite we do not speak)",
    }
}

fn describe_certificate(s: &mut Step, depth: usize, cert: &Certificate) {
    s.field(
        &format!("certificate {depth}"),
        escape_peer(&cert.subject().to_curl_string()),
    );
    s.field("  issued by", escape_peer(&cert.issuer().to_curl_string()));
    s.field(
        "  valid",
        format!(
            "{} .. {}",
            crate::text::utc_date(cert.not_before()),
            crate::text::utc_date(cert.not_after())
        ),
    );
    s.field(
        "  public key",
        format!(
            "{} {} bits",
            cert.public_key_algorithm_name(),
            cert.key_bits().unwrap_or(0)
        ),
    );
    s.field(
        "  SHA-256 fingerprint",
        hex_colon(&cert.sha256_fingerprint(), true),
    );
}

fn content_type_name(t: ContentType) -> &'static str {
    match t {
        ContentType::ChangeCipherSpec => "change_cipher_spec",
        ContentType::Alert => "alert",
        ContentType::Handshake => "handshake",
        ContentType::ApplicationData => "application_data",
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn big_decimal(be: &[u8]) -> String {
    num_bigint::BigUint::from_bytes_be(be).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::cipher::RecordCipher;
    use crate::suites::{TLS_RSA_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_AES_256_CBC_SHA256};
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

    #[test]
    fn hex_dump_rows() {
        let rows = hex_dump(b"GET / HTTP/1.1\r\nHost");
        assert_eq!(rows.len(), 2);
        assert!(rows[0].starts_with("0000  47 45 54 20"));
        assert!(rows[0].ends_with("|GET / HTTP/1.1..|"));
        assert!(rows[1].starts_with("0010  48 6f 73 74"));
        assert!(rows[1].ends_with("|Host|"));
    }

    #[test]
    fn suite_name_parts() {
        let parts = suite_parts(&TLS_RSA_WITH_AES_256_CBC_SHA256);
        assert!(parts[1].contains("256-bit"));
        assert!(parts[2].contains("HMAC-SHA256"));
        assert_eq!(suite_name(0x003C), "TLS_RSA_WITH_AES_128_CBC_SHA256");
    }

    #[test]
    fn render_plain_and_color() {
        let mut s = Step {
            title: "t".into(),
            lines: Vec::new(),
        };
        s.field("a", "b");
        s.dump(true, b"xy");
        let plain = s.render(false);
        assert!(plain.starts_with("t\n    a: b\n    wire  0000  78 79 "));
        assert!(plain.ends_with(" |xy|\n"));
        assert!(s.render(true).contains("\x1b[1;36mt\x1b[0m"));
    }

    proptest! {
        #[test]
        fn dissect_never_panics(wire in proptest::collection::vec(any::<u8>(), 0..200), etm: bool) {
            let cipher = RecordCipher::new(&TLS_RSA_WITH_AES_128_CBC_SHA, &[1; 20], &[2; 16], etm);
            let _ = cipher.dissect(0, &wire);
        }
    }
}
