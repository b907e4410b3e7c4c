//! What both sides settle on in the handshake (RFC 5246 §7.4): plain data, for the
//! application and the explain view; and what a side keeps of it to resume the session later
//! (RFC 5246 §7.3 abbreviated handshake, RFC 5077 tickets).

use crate::msgs::codec::{put_u16, put_u8, put_vec_u16, put_vec_u8, with_u16_len, Reader};
use crate::pki::CertError;
use crate::suites::CipherSuite;
use crate::Error;

/// What the hello extensions settled (RFC 5246 §7.4.1.4), on either side.
#[derive(Clone, Debug, Default)]
pub(crate) struct Negotiated {
    /// RFC 5746: the client signalled it (server side; the client always asks for it).
    pub secure_renegotiation: bool,
    /// RFC 7627.
    pub ems: bool,
    /// RFC 7366.
    pub etm: bool,
    /// RFC 7301: the one protocol chosen.
    pub alpn: Option<Vec<u8>>,
    /// RFC 6066 §3, server side: the host name the client asked for.
    pub server_name: Option<String>,
    /// RFC 5077 §3.2, client side: the server acknowledged session_ticket, so a
    /// NewSessionTicket will come.
    pub ticket: bool,
}

/// What the handshake settled, for the application and the explain view.
#[derive(Clone, Debug)]
pub struct SessionInfo {
    /// Always 0x0303 (TLS 1.2).
    pub version: u16,
    pub suite: &'static CipherSuite,
    pub client_random: [u8; 32],
    pub server_random: [u8; 32],
    pub session_id: Vec<u8>,
    pub extended_master_secret: bool,
    pub encrypt_then_mac: bool,
    pub alpn_protocol: Option<Vec<u8>>,
    /// The host name the client asked for (SNI).
    pub server_name: Option<String>,
    /// The chain the server sent, leaf first (DER).
    pub server_chain: Vec<Vec<u8>>,
    /// The chain the client authenticated with, leaf first (DER): on the server side only
    /// after it verified and the client proved it holds the key (CertificateVerify). Empty when
    /// the client sent none or was not asked. A resumed session keeps it (client identity
    /// survives resumption, RFC 5246 §7.4.6).
    pub client_chain: Vec<Vec<u8>>,
    /// Client side: the standard checks' verdict on that chain (`Ok` = length of the verified
    /// path), even when a policy chose to continue anyway. `None` on the server side.
    pub verification: Option<Result<usize, CertError>>,
    /// `Some` when this connection resumed an earlier session (abbreviated handshake), and how
    /// that session was found.
    pub resumed: Option<ResumedBy>,
}

/// How a resumed session was remembered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResumedBy {
    /// The server's session cache, by the session id the client offered (RFC 5246 §7.4.1.2).
    SessionId,
    /// A ticket the client held for the server (RFC 5077).
    Ticket,
}

impl ResumedBy {
    pub fn name(self) -> &'static str {
        match self {
            Self::SessionId => "session id",
            Self::Ticket => "ticket",
        }
    }
}

/// What either side keeps of a session to resume it: the master secret and what was agreed
/// with it. The master secret makes this a secret: whoever holds it can decrypt every
/// connection resumed from it.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub master_secret: [u8; 48],
    pub suite: &'static CipherSuite,
    pub extended_master_secret: bool,
    pub encrypt_then_mac: bool,
    pub alpn_protocol: Option<Vec<u8>>,
    /// The SNI of the handshake that made the session (RFC 6066 §3: resumed only under it).
    pub server_name: Option<String>,
    /// The peer's certificate chain, leaf first (a server keeps the client's, if any; a
    /// client keeps the server's). Resuming re-uses the authentication done then.
    pub peer_chain: Vec<Vec<u8>>,
    /// Unix time the full handshake completed; the session expires a lifetime after it.
    pub created: i64,
}

impl std::fmt::Debug for StoredSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the master secret by accident.
        f.debug_struct("StoredSession")
            .field("suite", &self.suite.name)
            .field("extended_master_secret", &self.extended_master_secret)
            .field("server_name", &self.server_name)
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

/// Format version of [`StoredSession::encode`], so an old ticket or file is refused cleanly.
const STATE_VERSION: u8 = 1;
/// A peer chain in a stored session: at most this many certificates.
const MAX_STORED_CHAIN: usize = 10;

impl StoredSession {
    /// Whether the session is past its lifetime at `now` (or dated in the future: a clock
    /// gone backwards is not trusted either).
    pub fn expired(&self, now: i64, lifetime_secs: u64) -> bool {
        let age = now.saturating_sub(self.created);
        age < -60 || age.unsigned_abs() > lifetime_secs
    }

    /// The session's state as bytes (a ticket's plaintext, a client's session file).
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_u8(out, STATE_VERSION);
        out.extend_from_slice(&self.master_secret);
        put_u16(out, self.suite.id);
        put_u8(
            out,
            u8::from(self.extended_master_secret) | (u8::from(self.encrypt_then_mac) << 1),
        );
        put_vec_u8(out, self.alpn_protocol.as_deref().unwrap_or_default());
        put_vec_u8(
            out,
            self.server_name.as_deref().unwrap_or_default().as_bytes(),
        );
        with_u16_len(out, |out| {
            for cert in &self.peer_chain {
                put_vec_u16(out, cert);
            }
        });
        out.extend_from_slice(&self.created.to_be_bytes());
    }

    /// Reads [`Self::encode`]'s bytes; anything malformed (or from another format version) is
    /// an error, never a panic.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        if r.u8()? != STATE_VERSION {
            return Err(Error::decode("session state: unknown format version"));
        }
        let master_secret = r.array::<48>()?;
        let suite = CipherSuite::from_id(r.u16()?)
            .ok_or_else(|| Error::decode("session state: unknown suite"))?;
        let flags = r.u8()?;
        if flags & !0b11 != 0 {
            // Only the two flags we write: anything else is not our encoding.
            return Err(Error::decode("session state: unknown flags"));
        }
        let alpn = r.vec_u8()?;
        let name = r.vec_u8()?;
        let server_name = match name {
            [] => None,
            bytes => Some(
                std::str::from_utf8(bytes)
                    .map_err(|_| Error::decode("session state: server name not UTF-8"))?
                    .to_string(),
            ),
        };
        let mut chain_block = r.sub_u16()?;
        let mut peer_chain = Vec::new();
        while !chain_block.is_empty() {
            if peer_chain.len() == MAX_STORED_CHAIN {
                return Err(Error::decode("session state: chain too long"));
            }
            peer_chain.push(chain_block.vec_u16()?.to_vec());
        }
        let created = i64::from_be_bytes(r.array::<8>()?);
        Ok(Self {
            master_secret,
            suite,
            extended_master_secret: flags & 1 != 0,
            encrypt_then_mac: flags & 2 != 0,
            alpn_protocol: (!alpn.is_empty()).then(|| alpn.to_vec()),
            server_name,
            peer_chain,
            created,
        })
    }
}

/// What a client keeps to resume with one server: the session, and the id and/or ticket the
/// server gave for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientSession {
    /// The id from the server's hello (may be empty when the server gave only a ticket).
    pub session_id: Vec<u8>,
    /// RFC 5077 ticket, opaque to us.
    pub ticket: Option<Vec<u8>>,
    /// The lifetime hint that came with the ticket (seconds, 0 = unspecified).
    pub ticket_lifetime: u32,
    pub state: StoredSession,
}

/// Marks a client session file, so a file of another kind is refused.
const CLIENT_FILE_MAGIC: &[u8; 8] = b"TLS12SES";

impl ClientSession {
    /// Bytes for a session file (see the client's `--session-file`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = CLIENT_FILE_MAGIC.to_vec();
        put_vec_u8(&mut out, &self.session_id);
        put_vec_u16(&mut out, self.ticket.as_deref().unwrap_or_default());
        out.extend_from_slice(&self.ticket_lifetime.to_be_bytes());
        self.state.encode(&mut out);
        out
    }

    /// Reads [`Self::to_bytes`]; the file is as hostile as the network.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes);
        if r.array::<8>()? != *CLIENT_FILE_MAGIC {
            return Err(Error::decode("not a session file"));
        }
        let session_id = r.vec_u8()?.to_vec();
        if session_id.len() > 32 {
            return Err(Error::decode("session id longer than 32 bytes"));
        }
        let ticket = r.vec_u16()?;
        let ticket_lifetime = u32::from_be_bytes(r.array::<4>()?);
        let state = StoredSession::decode(&mut r)?;
        r.finish()?;
        Ok(Self {
            session_id,
            ticket: (!ticket.is_empty()).then(|| ticket.to_vec()),
            ticket_lifetime,
            state,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::suites::ALL_SUITES;

    pub(crate) fn sample() -> StoredSession {
        StoredSession {
            master_secret: [7; 48],
            suite: ALL_SUITES[1],
            extended_master_secret: true,
            encrypt_then_mac: false,
            alpn_protocol: Some(b"http/1.1".to_vec()),
            server_name: Some("localhost".into()),
            peer_chain: vec![vec![1, 2, 3], vec![4]],
            created: 1_700_000_000,
        }
    }

    #[test]
    fn client_session_round_trips_and_refuses_garbage() {
        let session = ClientSession {
            session_id: vec![9; 32],
            ticket: Some(vec![5; 100]),
            ticket_lifetime: 300,
            state: sample(),
        };
        let bytes = session.to_bytes();
        assert_eq!(ClientSession::from_bytes(&bytes).expect("decode"), session);
        // Every truncation and a trailing byte are errors, never panics.
        for n in 0..bytes.len() {
            assert!(
                ClientSession::from_bytes(&bytes[..n]).is_err(),
                "cut at {n}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(ClientSession::from_bytes(&longer).is_err());
    }

    #[test]
    fn expiry() {
        let s = sample();
        assert!(!s.expired(s.created + 300, 300));
        assert!(s.expired(s.created + 301, 300));
        assert!(s.expired(s.created - 3600, 300), "from the future");
    }
}
