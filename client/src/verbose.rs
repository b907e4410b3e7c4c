//! `-v` in curl's shape (curl 7.88 with OpenSSL): `* ` info lines, one per TLS handshake message
//! in and out, the negotiated suite, the server certificate block; `> `/`< ` header lines are
//! printed by the fetch code from the bytes on the wire.

use crate::trust::{Seen, Verdict};
use tls::alert::AlertLevel;
use tls::msgs::handshake::{HandshakePayload, HandshakeType};
use tls::pki::verify::dns_name_matches;
use tls::pki::x509::Certificate;
use tls::text::escape_peer;
use tls::text::openssl_date;
use tls::trace::{Direction, Event, Observer};

/// Print an info line (`* text`) to stderr.
pub fn info(text: &str) {
    eprintln!("* {text}");
}

/// Prints each handshake message, ChangeCipherSpec and alert as curl's OpenSSL callback does.
pub struct VerboseObserver;

impl Observer for VerboseObserver {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::Handshake { direction, message } => {
                let typ = message.typ();
                info(&format!(
                    "TLSv1.2 ({}), TLS handshake, {} ({}):",
                    arrow(*direction),
                    handshake_label(typ),
                    typ.to_u8()
                ));
                client_certificate_lines(*direction, &message.payload);
            }
            Event::ClientSignature {
                algorithm,
                key_bits,
                verified: None,
                ..
            } => info(&format!(
                " signing the handshake with our key (RSA {key_bits} bits, {})",
                tls::explain::client_auth::signature_algorithm_name(*algorithm)
            )),
            Event::ChangeCipherSpec { direction } => info(&format!(
                "TLSv1.2 ({}), TLS change cipher, Change cipher spec (1):",
                arrow(*direction)
            )),
            Event::Alert { direction, alert } => {
                let level: u16 = match alert.level {
                    AlertLevel::Warning => 1,
                    _ => 2,
                };
                let code = level * 256 + u16::from(alert.description.to_u8());
                info(&format!(
                    "TLSv1.2 ({}), TLS alert, {} ({code}):",
                    arrow(*direction),
                    alert_label(alert.description.name())
                ));
            }
            _ => {}
        }
    }
}

/// Mutual TLS: what the server asked for (the CA names are the server's choice: escaped) and
/// what we sent.
fn client_certificate_lines(direction: Direction, payload: &HandshakePayload) {
    match (direction, payload) {
        (Direction::Received, HandshakePayload::CertificateRequest(request)) => {
            info(" Server asks for a client certificate");
            if request.certificate_authorities.is_empty() {
                info("  acceptable CA names: any");
            }
            for der in &request.certificate_authorities {
                info(&format!(
                    "  acceptable CA: {}",
                    tls::explain::client_auth::ca_name(der)
                ));
            }
        }
        (Direction::Sent, HandshakePayload::Certificate(certificate)) => {
            match certificate
                .chain
                .first()
                .and_then(|der| Certificate::from_der(der).ok())
            {
                Some(leaf) => info(&format!(
                    " client certificate sent: subject: {} ({} certificate{})",
                    escape_peer(&leaf.subject().to_curl_string()),
                    certificate.chain.len(),
                    if certificate.chain.len() == 1 { "" } else { "s" }
                )),
                None => info(" no client certificate sent (none given with --cert, or none the server accepts)"),
            }
        }
        _ => {}
    }
}

/// The `Server certificate:` block, after `SSL connection using ...`.
pub fn print_certificate_block(seen: &Seen, host: &str) {
    let Some(leaf) = seen.chain.first() else {
        return;
    };
    info("Server certificate:");
    info(&format!(
        " subject: {}",
        escape_peer(&leaf.subject().to_curl_string())
    ));
    info(&format!(" start date: {}", openssl_date(leaf.not_before())));
    info(&format!(" expire date: {}", openssl_date(leaf.not_after())));
    if seen.verdict == Verdict::Trusted {
        if let Some(matched) = matched_name(leaf, host) {
            info(&format!(
                " subjectAltName: host \"{host}\" matched cert's {matched}"
            ));
        }
    }
    info(&format!(
        " issuer: {}",
        escape_peer(&leaf.issuer().to_curl_string())
    ));
    for (level, cert) in seen.chain.iter().enumerate() {
        info(&format!(
            "  Certificate level {level}: Public key type {} ({} bits), signed using {}",
            key_type(cert),
            cert.key_bits().unwrap_or(0),
            cert.signature_algorithm_name()
        ));
    }
    match (&seen.verdict, &seen.error) {
        (Verdict::Trusted, _) | (_, None) => info(" SSL certificate verify ok."),
        (Verdict::Insecure, Some(e)) => info(&format!(
            " SSL certificate verify result: {} ({}), continuing anyway.",
            escape_peer(&e.to_string()),
            e.openssl_code()
        )),
        (Verdict::Exception, Some(e)) => info(&format!(
            " SSL certificate verify result: {} ({}), continuing: remembered exception.",
            escape_peer(&e.to_string()),
            e.openssl_code()
        )),
        (Verdict::AcceptedNow, Some(e)) => info(&format!(
            " SSL certificate verify result: {} ({}), continuing: accepted by the user.",
            escape_peer(&e.to_string()),
            e.openssl_code()
        )),
        (Verdict::Refused { .. }, Some(e)) => info(&format!(
            " SSL certificate problem: {}",
            escape_peer(&e.to_string())
        )),
    }
}

fn arrow(direction: Direction) -> &'static str {
    match direction {
        Direction::Sent => "OUT",
        Direction::Received => "IN",
    }
}

/// OpenSSL's labels, which curl prints (`Server finished` is its name for ServerHelloDone).
fn handshake_label(typ: HandshakeType) -> &'static str {
    match typ {
        HandshakeType::HelloRequest => "Hello request",
        HandshakeType::ClientHello => "Client hello",
        HandshakeType::ServerHello => "Server hello",
        HandshakeType::NewSessionTicket => "Newsession Ticket",
        HandshakeType::Certificate => "Certificate",
        HandshakeType::ServerKeyExchange => "Server key exchange",
        HandshakeType::CertificateRequest => "Request CERT",
        HandshakeType::ServerHelloDone => "Server finished",
        HandshakeType::CertificateVerify => "CERT verify",
        HandshakeType::ClientKeyExchange => "Client key exchange",
        HandshakeType::Finished => "Finished",
        HandshakeType::Unknown(_) => "Unknown",
    }
}

/// `close_notify` -> `close notify`, `unknown_ca` -> `unknown CA` (OpenSSL's long strings).
fn alert_label(name: &str) -> String {
    match name {
        "unknown_ca" => "unknown CA".into(),
        other => other.replace('_', " "),
    }
}

fn key_type(cert: &Certificate) -> &'static str {
    match cert.public_key_algorithm_name().as_str() {
        "rsaEncryption" => "RSA",
        "id-ecPublicKey" => "EC",
        "ED25519" => "ED25519",
        _ => "unknown",
    }
}

/// Which SAN entry matched: `"localhost"` or `IP address!` (curl's words).
fn matched_name(cert: &Certificate, host: &str) -> Option<String> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return cert
            .ip_addresses()
            .contains(&ip)
            .then(|| "IP address!".to_string());
    }
    cert.dns_names()
        .iter()
        .find(|pattern| dns_name_matches(pattern, host))
        .map(|pattern| format!("\"{}\"", escape_peer(pattern)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(
            handshake_label(HandshakeType::ServerHelloDone),
            "Server finished"
        );
        assert_eq!(alert_label("close_notify"), "close notify");
        assert_eq!(alert_label("unknown_ca"), "unknown CA");
    }
}
