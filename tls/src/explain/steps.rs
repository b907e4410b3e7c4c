//! The narration of each handshake message and secret (RFC 5246 §7.4), one event kind at a
//! time, with the values the events carry.

use super::*;

impl Explainer {
    pub(super) fn handshake(
        &mut self,
        direction: Direction,
        message: &HandshakeMessage,
    ) -> Vec<Step> {
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
                self.offered_session = hello.session_id.clone();
                let ticket = hello
                    .extensions
                    .iter()
                    .any(|e| matches!(e, Extension::Unknown { typ: 35, data } if !data.is_empty()));
                if ticket || !hello.session_id.is_empty() {
                    s.field(
                        "resumption offered",
                        if ticket {
                            "a session ticket"
                        } else {
                            "a session id"
                        },
                    );
                    s.text("  the client remembers an earlier session with this server and asks to resume it: no certificate, no RSA.");
                }
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
                    self.prf = suite.prf;
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
                self.resuming =
                    !hello.session_id.is_empty() && hello.session_id == self.offered_session;
                if self.resuming {
                    s.field("session id", hex(&hello.session_id));
                    s.text("  the same id the client offered: the server resumes that session. Next come its ChangeCipherSpec and Finished at once — the server finishes first.");
                }
                vec![s]
            }
            HandshakePayload::Certificate(cert_msg) => {
                let mut s = self.step(&format!(
                    "Certificate ({flow}, {len} bytes, {} certificate{})",
                    cert_msg.chain.len(),
                    if cert_msg.chain.len() == 1 { "" } else { "s" }
                ));
                let from_server = matches!(
                    (self.role, direction),
                    (Role::Client, Direction::Received) | (Role::Server, Direction::Sent)
                );
                if from_server {
                    s.text(
                        "The server's identity: its public key, signed by a certificate authority.",
                    );
                } else if cert_msg.chain.is_empty() {
                    s.text("The client's answer to CertificateRequest: no certificate. The server decides whether to go on anonymously.");
                } else {
                    s.text("The client's identity (it was asked for it): its public key, signed by a certificate authority. CertificateVerify will prove it holds the private key.");
                }
                for (depth, der) in cert_msg.chain.iter().enumerate() {
                    match Certificate::from_der(der) {
                        Ok(cert) => {
                            describe_certificate(&mut s, depth, &cert);
                            if depth == 0 && from_server {
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
            HandshakePayload::ServerKeyExchange(ske) => {
                let mut s = self.step(&format!("ServerKeyExchange ({flow}, {len} bytes)"));
                s.text("ECDHE: the server made a key pair for this connection only, and sends the public half.");
                s.field("group", crate::crypto::ecdh::group_name(ske.named_group));
                s.field(
                    "server's ephemeral public key",
                    format!("{} bytes: {}", ske.public.len(), hex(&ske.public)),
                );
                s.field(
                    "signature",
                    format!(
                        "{}, {} bytes: {}",
                        signature_scheme_name(ske.signature_algorithm),
                        ske.signature.len(),
                        hex_prefix(&ske.signature, 16)
                    ),
                );
                s.text("  over client random + server random + this key, with the certificate's private key: it binds the fresh key to the certificate, so no one in the middle can swap in theirs.");
                vec![s]
            }
            HandshakePayload::EcdhClientKeyExchange(cke) => {
                let mut s = self.step(&format!("ClientKeyExchange ({flow}, {len} bytes)"));
                s.field(
                    "client's ephemeral public key",
                    format!("{} bytes: {}", cke.public.len(), hex(&cke.public)),
                );
                s.text("The client's half of the exchange: public, like the server's. Nothing secret crosses the wire.");
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
                    "= PRF(master_secret, \"{who} finished\", {}(all handshake messages))[0..12]",
                    self.prf.name()
                ));
                s.text("It proves both sides saw the same handshake (nobody changed the suite list on the way) and hold the same master secret.");
                if direction == Direction::Received {
                    s.text("We compare it with our own computation: a mismatch ends the handshake with decrypt_error.");
                }
                vec![s]
            }
            HandshakePayload::Unknown(HandshakeType::NewSessionTicket, body) => {
                let mut s = self.step(&format!("NewSessionTicket ({flow}, {len} bytes)"));
                s.text("A session ticket (RFC 5077): the session's state, master secret included, encrypted and MACed under a key only the server holds.");
                s.text("The client keeps it and offers it next time; any server instance with that key can resume the session without keeping anything.");
                if let Some(lifetime) = body.get(..4) {
                    let secs =
                        u32::from_be_bytes([lifetime[0], lifetime[1], lifetime[2], lifetime[3]]);
                    s.field("lifetime hint", format!("{secs} s"));
                }
                vec![s]
            }
            HandshakePayload::CertificateRequest(request) => {
                vec![super::client_auth::certificate_request(
                    self.step(&format!("CertificateRequest ({flow}, {len} bytes)")),
                    request,
                )]
            }
            HandshakePayload::CertificateVerify(verify) => {
                vec![super::client_auth::certificate_verify(
                    self.step(&format!("CertificateVerify ({flow}, {len} bytes)")),
                    verify,
                )]
            }
            HandshakePayload::HelloRequest | HandshakePayload::Unknown(..) => {
                let mut s = self.step(&format!("{} ({flow}, {len} bytes)", message.typ()));
                s.text("Not part of the handshakes we speak.");
                vec![s]
            }
        }
    }

    /// The verification's own result, shown link by link: nothing is re-verified here.
    pub(super) fn certificate_checked(
        &mut self,
        presented: &[Certificate],
        outcome: &Result<VerifiedChain, CertError>,
        at_unix: i64,
        accepted: bool,
    ) -> Step {
        let mut s = self.step("Checking the certificate chain");
        let (path, verified) = match outcome {
            Ok(chain) => (chain.certificates(), true),
            Err(_) => (presented, false),
        };
        for (depth, cert) in path.iter().enumerate() {
            let name = escape_peer(&cert.subject().to_curl_string());
            match path.get(depth + 1) {
                Some(issuer) => {
                    let verdict = if verified {
                        "ok".to_string()
                    } else {
                        "not established (see the verdict)".to_string()
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
                // A verified path ends in a certificate of the trust store.
                None if verified => s.field(
                    &format!("trust anchor ({name})"),
                    "found in the trust store → ok",
                ),
                None => s.field(
                    &format!("issuer of {depth} ({name})"),
                    format!(
                        "{} → no trusted path found",
                        escape_peer(&cert.issuer().to_curl_string())
                    ),
                ),
            }
            let valid = cert.not_before() <= at_unix && at_unix <= cert.not_after();
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
            // The verification checks the name last: known only when it got that far.
            let verdict = match outcome {
                Ok(_) => "ok",
                Err(e) if matches!(e.kind, CertErrorKind::HostMismatch { .. }) => "no match",
                Err(_) => "not checked (the chain failed first)",
            };
            let names: Vec<String> = leaf
                .dns_names()
                .iter()
                .map(|n| escape_peer(n))
                .chain(leaf.ip_addresses().iter().map(ToString::to_string))
                .collect();
            s.field(
                "host name",
                format!(
                    "\"{}\" against subjectAltName [{}] → {verdict}",
                    escape_peer(host),
                    names.join(", "),
                ),
            );
        }
        match outcome {
            Ok(chain) => s.field(
                "verdict",
                format!(
                    "trusted (a path of {} certificate{} up to a root you trust)",
                    chain.len(),
                    if chain.len() == 1 { "" } else { "s" }
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
        if self.role == Role::Server {
            // The server checks a client's chain (mutual TLS): no host name, purpose clientAuth.
            s.text(if outcome.is_ok() {
                "So this public key belongs to a client the CA vouched for (extendedKeyUsage clientAuth); CertificateVerify must now prove the client holds its private key."
            } else {
                "The handshake stops here with the matching alert: the client is not who a trusted CA says it is."
            });
        } else if outcome.is_err() {
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

    pub(super) fn premaster(
        &mut self,
        premaster: &[u8],
        padded: Option<&[u8]>,
        encrypted: &[u8],
    ) -> Step {
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

    /// ECDHE: both public keys on the wire, the secret each side computes from its own private
    /// key and the other's public one.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn ecdhe_shared_secret(
        &mut self,
        group: crate::crypto::ecdh::NamedGroup,
        client_public: &[u8],
        server_public: &[u8],
        signature_scheme: u16,
        signature: &[u8],
        shared_secret: &[u8],
    ) -> Step {
        let mut s = self.step("The pre-master secret, agreed with ECDHE");
        s.field("group", group.name());
        s.field("client's public key", hex(client_public));
        s.field("server's public key", hex(server_public));
        s.field(
            "server's signature",
            format!(
                "{}: {} (checked with the certificate's key)",
                signature_scheme_name(signature_scheme),
                hex_prefix(signature, 16)
            ),
        );
        s.field(
            "pre-master secret",
            format!("{} bytes: {}", shared_secret.len(), hex(shared_secret)),
        );
        let (mine, theirs) = match self.role {
            Role::Client => ("client", "server"),
            Role::Server => ("server", "client"),
        };
        s.text(format!(
            "  = our ({mine}'s) ephemeral private key × the {theirs}'s public key: the {theirs} gets the same value from its private key × ours."
        ));
        s.text("The wire carries only the two public keys, and recovering the secret from them is the elliptic-curve discrete-log problem.");
        s.text("The server's certificate key only signed; it never encrypted the secret. Both ephemeral private keys are discarded after the handshake, so stealing the server's key later reveals nothing: forward secrecy.");
        s
    }

    pub(super) fn master_secret(
        &mut self,
        master: &[u8; 48],
        extended: bool,
        client_random: &[u8; 32],
    ) -> Step {
        let mut s = self.step("Master secret");
        s.field("master secret", hex(master));
        if self.resuming {
            s.text("= the master secret of the resumed session (no pre-master secret this time); with the two new randoms it still gives a fresh key block.");
        } else if extended {
            s.text(format!(
                "= PRF(pre-master, \"extended master secret\", {}(handshake so far)) (RFC 7627)",
                self.prf.name()
            ));
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

    pub(super) fn key_block_step(&mut self, kb: &KeyBlock) -> Step {
        if kb.client_write_mac_key.is_empty() {
            return self.aead_key_block_step(kb);
        }
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

    /// GCM's key block (RFC 5288 §3): no MAC keys, an encryption key and a 4-byte fixed IV
    /// (the nonce's salt) per direction.
    fn aead_key_block_step(&mut self, kb: &KeyBlock) -> Step {
        let mut s = self.step("Key block: two keys and two salts from the master secret");
        s.text("key_block = PRF(master secret, \"key expansion\", server random + client random), cut in four:");
        for (name, bytes) in [
            ("client_write_key", &kb.client_write_key),
            ("server_write_key", &kb.server_write_key),
            ("client_write_IV", &kb.client_write_iv),
            ("server_write_IV", &kb.server_write_iv),
        ] {
            s.field(&format!("{name} ({} bytes)", bytes.len()), hex(bytes));
        }
        s.text("No MAC keys: AES-GCM authenticates with the same key it encrypts with.");
        s.text("The 4-byte IVs are the fixed half of each record's nonce (the \"salt\"); the other 8 bytes travel with the record.");
        s
    }

    pub(super) fn change_cipher_spec(&mut self, direction: Direction) -> Step {
        let flow = self.flow(direction);
        let mut s = self.step(&format!("ChangeCipherSpec ({flow})"));
        s.text("\"From my next record on, I encrypt and MAC with the new keys.\" (one byte: 01)");
        s
    }

    pub(super) fn alert(
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
}

/// What each part of a suite's name does.
pub(super) fn suite_parts(suite: &CipherSuite) -> Vec<String> {
    let kx = "TLS_RSA: key exchange — the client sends the secret encrypted with the server's RSA key from its certificate.".to_string();
    let (bits, cipher, mode) = match suite.cipher {
        BulkCipher::Aes128Cbc => (128, "AES_128_CBC", "CBC"),
        BulkCipher::Aes256Cbc => (256, "AES_256_CBC", "CBC"),
        BulkCipher::Aes128Gcm => (128, "AES_128_GCM", "GCM"),
        BulkCipher::Aes256Gcm => (256, "AES_256_GCM", "GCM"),
    };
    let (mac, hash) = match suite.mac {
        MacAlgorithm::HmacSha1 => ("SHA", "HMAC-SHA1"),
        MacAlgorithm::HmacSha256 => ("SHA256", "HMAC-SHA256"),
        MacAlgorithm::Aead => {
            let prf = if suite.prf == PrfHash::Sha384 {
                "SHA384"
            } else {
                "SHA256"
            };
            return vec![
                kx,
                format!("WITH_{cipher}: AEAD — AES with a {bits}-bit key in {mode} (Galois/Counter Mode): one pass encrypts every record and computes a 16-byte tag over it and its header (confidentiality and integrity at once)."),
                format!("_{prf}: no MAC of its own — {} is the hash of the PRF that derives the keys and the Finished messages.", suite.prf.name()),
            ];
        }
    };
    vec![
        kx,
        format!("WITH_{cipher}: encryption — AES with a {bits}-bit key in {mode} mode, on every record (confidentiality)."),
        format!("_{mac}: integrity — {hash} over every record with a secret key, so any change is detected."),
    ]
}

/// IANA name of a cipher suite code, for the ones a client is likely to offer.
pub(super) fn suite_name(id: u16) -> &'static str {
    match id {
        TLS_EMPTY_RENEGOTIATION_INFO_SCSV => {
            "TLS_EMPTY_RENEGOTIATION_INFO_SCSV (signal, not a suite)"
        }
        0x1301 => "TLS_AES_128_GCM_SHA256 (TLS 1.3)",
        0x1302 => "TLS_AES_256_GCM_SHA384 (TLS 1.3)",
        0x1303 => "TLS_CHACHA20_POLY1305_SHA256 (TLS 1.3)",
        _ => CipherSuite::iana_name(id).unwrap_or("(a suite we do not speak)"),
    }
}

pub(super) fn describe_certificate(s: &mut Step, depth: usize, cert: &Certificate) {
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

pub(super) fn big_decimal(be: &[u8]) -> String {
    num_bigint::BigUint::from_bytes_be(be).to_string()
}

/// A `SignatureAndHashAlgorithm` as its RFC 8446 name, e.g. `rsa_pkcs1_sha256`.
fn signature_scheme_name(scheme: u16) -> String {
    match scheme {
        0x0201 => "rsa_pkcs1_sha1".into(),
        0x0401 => "rsa_pkcs1_sha256".into(),
        0x0501 => "rsa_pkcs1_sha384".into(),
        0x0601 => "rsa_pkcs1_sha512".into(),
        other => format!("signature scheme {other:#06x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suites::TLS_RSA_WITH_AES_256_CBC_SHA256;

    #[test]
    fn suite_name_parts() {
        let parts = suite_parts(&TLS_RSA_WITH_AES_256_CBC_SHA256);
        assert!(parts[1].contains("256-bit"));
        assert!(parts[2].contains("HMAC-SHA256"));
        assert_eq!(suite_name(0x003C), "TLS_RSA_WITH_AES_128_CBC_SHA256");
    }
}
