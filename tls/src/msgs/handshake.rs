//! Handshake messages (RFC 5246 §7.4); their hello extensions are in `msgs::extensions`.
//!
//! A [`HandshakeMessage`] keeps the exact bytes it came from (`raw`): the Finished transcript
//! hash must cover what was on the wire, not a re-encoding (RFC 5246 §7.4.9).
//!
//! Every malformed message is `decode_error`: wrong lengths, trailing bytes, or a malformed
//! extension. Messages we do not use (NewSessionTicket, …) are kept whole as [`HandshakePayload::Unknown`] so the state machines
//! can answer them with `unexpected_message`.

use crate::error::Error;
use crate::msgs::codec::{
    put_u16, put_u8, put_vec_u16, put_vec_u24, put_vec_u8, read_u16_list, with_u16_len,
    with_u24_len, Reader,
};
pub(crate) use crate::msgs::extensions::Hello;
pub use crate::msgs::extensions::{ext_type, Extension};
use crate::msgs::extensions::{read_extensions, write_extensions};

/// `ProtocolVersion` of TLS 1.2 on the wire ({3, 3}).
pub const TLS12: u16 = 0x0303;

/// The signalling cipher suite value of RFC 5746 §3.3: "I support secure renegotiation",
/// sent in place of an empty renegotiation_info extension.
pub const TLS_EMPTY_RENEGOTIATION_INFO_SCSV: u16 = 0x00FF;

/// The largest `SessionID` (RFC 5246 §7.4.1.2: `opaque SessionID<0..32>`).
pub const MAX_SESSION_ID_LEN: usize = 32;

/// Length of `Finished.verify_data` for every TLS 1.2 suite we speak (RFC 5246 §7.4.9).
pub const VERIFY_DATA_LEN: usize = 12;

/// `HandshakeType` (RFC 5246 §7.4). Unknown codes survive as `Unknown(code)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HandshakeType {
    HelloRequest,
    ClientHello,
    ServerHello,
    NewSessionTicket,
    Certificate,
    ServerKeyExchange,
    CertificateRequest,
    ServerHelloDone,
    CertificateVerify,
    ClientKeyExchange,
    Finished,
    Unknown(u8),
}

impl HandshakeType {
    pub fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::HelloRequest,
            1 => Self::ClientHello,
            2 => Self::ServerHello,
            4 => Self::NewSessionTicket,
            11 => Self::Certificate,
            12 => Self::ServerKeyExchange,
            13 => Self::CertificateRequest,
            14 => Self::ServerHelloDone,
            15 => Self::CertificateVerify,
            16 => Self::ClientKeyExchange,
            20 => Self::Finished,
            other => Self::Unknown(other),
        }
    }

    pub fn to_u8(self) -> u8 {
        match self {
            Self::HelloRequest => 0,
            Self::ClientHello => 1,
            Self::ServerHello => 2,
            Self::NewSessionTicket => 4,
            Self::Certificate => 11,
            Self::ServerKeyExchange => 12,
            Self::CertificateRequest => 13,
            Self::ServerHelloDone => 14,
            Self::CertificateVerify => 15,
            Self::ClientKeyExchange => 16,
            Self::Finished => 20,
            Self::Unknown(v) => v,
        }
    }

    /// The RFC name, e.g. `server_hello_done`.
    pub fn name(self) -> &'static str {
        match self {
            Self::HelloRequest => "hello_request",
            Self::ClientHello => "client_hello",
            Self::ServerHello => "server_hello",
            Self::NewSessionTicket => "new_session_ticket",
            Self::Certificate => "certificate",
            Self::ServerKeyExchange => "server_key_exchange",
            Self::CertificateRequest => "certificate_request",
            Self::ServerHelloDone => "server_hello_done",
            Self::CertificateVerify => "certificate_verify",
            Self::ClientKeyExchange => "client_key_exchange",
            Self::Finished => "finished",
            Self::Unknown(_) => "unknown",
        }
    }
}

impl std::fmt::Display for HandshakeType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unknown(v) => write!(f, "unknown handshake type ({v})"),
            known => f.write_str(known.name()),
        }
    }
}

/// `ClientHello` (RFC 5246 §7.4.1.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientHello {
    pub client_version: u16,
    pub random: [u8; 32],
    /// At most 32 bytes.
    pub session_id: Vec<u8>,
    pub cipher_suites: Vec<u16>,
    pub compression_methods: Vec<u8>,
    /// Empty when the client sent no extensions block. Encoding writes no block when empty.
    pub extensions: Vec<Extension>,
}

/// `ServerHello` (RFC 5246 §7.4.1.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerHello {
    pub server_version: u16,
    pub random: [u8; 32],
    pub session_id: Vec<u8>,
    pub cipher_suite: u16,
    pub compression_method: u8,
    pub extensions: Vec<Extension>,
}

/// `Certificate` (RFC 5246 §7.4.2): DER certificates, sender's own first. May be empty (a
/// client without a certificate); the server's must not be, which the client checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateMsg {
    pub chain: Vec<Vec<u8>>,
}

/// `ClientKeyExchange` for RSA key transport (RFC 5246 §7.4.7.1): `opaque<0..2^16-1>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientKeyExchange {
    pub encrypted_pre_master_secret: Vec<u8>,
}

/// `ServerKeyExchange` for ECDHE_RSA (RFC 8422 §5.4): `ServerECDHParams` — curve_type
/// named_curve (3), the `NamedCurve`, the server's ephemeral `ECPoint` — then a TLS 1.2
/// `digitally-signed` struct (RFC 5246 §4.7): `SignatureAndHashAlgorithm` and the signature over
/// client_random ‖ server_random ‖ ServerECDHParams.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerKeyExchange {
    pub named_group: u16,
    /// `opaque point <1..2^8-1>`: 32 bytes for x25519, 65 (`04 ‖ x ‖ y`) for secp256r1.
    pub public: Vec<u8>,
    /// `hash << 8 | signature`, e.g. 0x0401 = rsa_pkcs1_sha256.
    pub signature_algorithm: u16,
    pub signature: Vec<u8>,
}

/// `ECCurveType` named_curve (RFC 8422 §5.4): the only one left (explicit curves are gone).
pub const CURVE_TYPE_NAMED_CURVE: u8 = 3;

/// `ClientKeyExchange` for ECDHE (RFC 8422 §5.7): the client's ephemeral `ECPoint`,
/// `opaque point <1..2^8-1>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EcdhClientKeyExchange {
    pub public: Vec<u8>,
}

/// `ClientCertificateType` rsa_sign (RFC 5246 §7.4.4): the client may send an RSA certificate.
pub const CERT_TYPE_RSA_SIGN: u8 = 1;

/// `CertificateRequest` (RFC 5246 §7.4.4): the server asks the client for a certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateRequest {
    /// `ClientCertificateType certificate_types<1..2^8-1>`.
    pub certificate_types: Vec<u8>,
    /// `SignatureAndHashAlgorithm supported_signature_algorithms<2..2^16-2>` (hash << 8 | sig).
    pub signature_algorithms: Vec<u16>,
    /// `DistinguishedName certificate_authorities<0..2^16-1>`: each a DER `Name`, not parsed
    /// here (they are only hints for the client's choice).
    pub certificate_authorities: Vec<Vec<u8>>,
}

/// `CertificateVerify` (RFC 5246 §7.4.8): the client's signature over the handshake so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateVerify {
    /// `SignatureAndHashAlgorithm` (hash << 8 | signature), e.g. 0x0401 rsa_pkcs1_sha256.
    pub algorithm: u16,
    /// `opaque signature<0..2^16-1>`.
    pub signature: Vec<u8>,
}

/// `Finished` (RFC 5246 §7.4.9).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finished {
    pub verify_data: [u8; VERIFY_DATA_LEN],
}

/// The body of a handshake message, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandshakePayload {
    HelloRequest,
    ClientHello(ClientHello),
    ServerHello(ServerHello),
    Certificate(CertificateMsg),
    ServerKeyExchange(ServerKeyExchange),
    ServerHelloDone,
    ClientKeyExchange(ClientKeyExchange),
    /// The same message type with an ECPoint instead of an RSA ciphertext (decoded by its
    /// framing: see [`HandshakePayload::decode`]).
    EcdhClientKeyExchange(EcdhClientKeyExchange),
    Finished(Finished),
    CertificateRequest(CertificateRequest),
    CertificateVerify(CertificateVerify),
    /// A message we do not parse (NewSessionTicket, unknown types): its type and body bytes.
    Unknown(HandshakeType, Vec<u8>),
}

/// One complete handshake message: parsed, plus its exact bytes for the transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandshakeMessage {
    pub payload: HandshakePayload,
    /// 4-byte header (type, uint24 length) and body, exactly as on the wire.
    pub raw: Vec<u8>,
}

impl HandshakeMessage {
    /// Parses one complete message, header included. The header's length must match the bytes
    /// given exactly.
    pub fn decode(raw: Vec<u8>) -> Result<Self, Error> {
        let mut r = Reader::new(&raw);
        let typ = HandshakeType::from_u8(r.u8()?);
        let len = r.u24()? as usize;
        let body = r.rest();
        if body.len() != len {
            return Err(Error::decode(format!(
                "{typ}: header says {len} bytes, message has {}",
                body.len()
            )));
        }
        let payload = HandshakePayload::decode(typ, body).map_err(|e| in_message(typ, e))?;
        Ok(Self { payload, raw })
    }

    /// Encodes `payload` with its header.
    pub fn new(payload: HandshakePayload) -> Self {
        let mut raw = Vec::new();
        put_u8(&mut raw, payload.typ().to_u8());
        with_u24_len(&mut raw, |out| payload.encode_body(out));
        Self { payload, raw }
    }

    pub fn typ(&self) -> HandshakeType {
        self.payload.typ()
    }
}

impl HandshakePayload {
    pub fn typ(&self) -> HandshakeType {
        match self {
            Self::HelloRequest => HandshakeType::HelloRequest,
            Self::ClientHello(_) => HandshakeType::ClientHello,
            Self::ServerHello(_) => HandshakeType::ServerHello,
            Self::Certificate(_) => HandshakeType::Certificate,
            Self::ServerKeyExchange(_) => HandshakeType::ServerKeyExchange,
            Self::ServerHelloDone => HandshakeType::ServerHelloDone,
            Self::ClientKeyExchange(_) | Self::EcdhClientKeyExchange(_) => {
                HandshakeType::ClientKeyExchange
            }
            Self::Finished(_) => HandshakeType::Finished,
            Self::CertificateRequest(_) => HandshakeType::CertificateRequest,
            Self::CertificateVerify(_) => HandshakeType::CertificateVerify,
            Self::Unknown(typ, _) => *typ,
        }
    }

    /// Parses the body of a message of type `typ` (header already removed).
    pub fn decode(typ: HandshakeType, body: &[u8]) -> Result<Self, Error> {
        Ok(match typ {
            HandshakeType::HelloRequest => {
                Reader::new(body).finish()?;
                Self::HelloRequest
            }
            HandshakeType::ClientHello => Self::ClientHello(ClientHello::decode(body)?),
            HandshakeType::ServerHello => Self::ServerHello(ServerHello::decode(body)?),
            HandshakeType::Certificate => Self::Certificate(CertificateMsg::decode(body)?),
            HandshakeType::ServerHelloDone => {
                Reader::new(body).finish()?;
                Self::ServerHelloDone
            }
            HandshakeType::ServerKeyExchange => {
                Self::ServerKeyExchange(ServerKeyExchange::decode(body)?)
            }
            // RSA (2-byte length) or ECDH (1-byte length): no body fits both framings, since
            // 2 + 256·b0 + b1 = 1 + b0 has no solution, so the bytes say which one it is; the
            // server then refuses the one its suite does not use.
            HandshakeType::ClientKeyExchange => match ClientKeyExchange::decode(body) {
                Ok(rsa) => Self::ClientKeyExchange(rsa),
                Err(not_rsa) => match EcdhClientKeyExchange::decode(body) {
                    Ok(ecdh) => Self::EcdhClientKeyExchange(ecdh),
                    Err(_) => return Err(not_rsa),
                },
            },
            HandshakeType::Finished => Self::Finished(Finished::decode(body)?),
            HandshakeType::CertificateRequest => {
                Self::CertificateRequest(CertificateRequest::decode(body)?)
            }
            HandshakeType::CertificateVerify => {
                Self::CertificateVerify(CertificateVerify::decode(body)?)
            }
            other => Self::Unknown(other, body.to_vec()),
        })
    }

    /// Appends the body (no header).
    pub fn encode_body(&self, out: &mut Vec<u8>) {
        match self {
            Self::HelloRequest | Self::ServerHelloDone => {}
            Self::ClientHello(m) => m.encode(out),
            Self::ServerHello(m) => m.encode(out),
            Self::Certificate(m) => m.encode(out),
            Self::ServerKeyExchange(m) => m.encode(out),
            Self::ClientKeyExchange(m) => m.encode(out),
            Self::EcdhClientKeyExchange(m) => m.encode(out),
            Self::Finished(m) => m.encode(out),
            Self::CertificateRequest(m) => m.encode(out),
            Self::CertificateVerify(m) => m.encode(out),
            Self::Unknown(_, body) => out.extend_from_slice(body),
        }
    }
}

impl ClientHello {
    /// Parses a ClientHello body. The extensions block may be absent (RFC 5246 §7.4.1.2).
    pub fn decode(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let client_version = r.u16()?;
        let random = r.array::<32>()?;
        let session_id = read_session_id(&mut r)?;

        let cipher_suites = read_u16_list(r.vec_u16()?, "cipher_suites")?;

        let compression_methods = r.vec_u8()?.to_vec();
        if compression_methods.is_empty() {
            return Err(Error::decode("compression_methods is empty"));
        }

        let extensions = read_extensions(&mut r, Hello::Client)?;
        r.finish()?;
        Ok(Self {
            client_version,
            random,
            session_id,
            cipher_suites,
            compression_methods,
            extensions,
        })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        put_u16(out, self.client_version);
        out.extend_from_slice(&self.random);
        put_vec_u8(out, &self.session_id);
        with_u16_len(out, |out| {
            for suite in &self.cipher_suites {
                put_u16(out, *suite);
            }
        });
        put_vec_u8(out, &self.compression_methods);
        write_extensions(out, &self.extensions, Hello::Client);
    }

    /// Whether the client offered the RFC 5746 SCSV among its cipher suites.
    pub fn has_renegotiation_scsv(&self) -> bool {
        self.cipher_suites
            .contains(&TLS_EMPTY_RENEGOTIATION_INFO_SCSV)
    }

    /// Whether the client supports secure renegotiation (extension or SCSV): the server then
    /// must echo an empty renegotiation_info (OpenSSL 3 clients refuse to go on otherwise).
    pub fn offers_secure_renegotiation(&self) -> bool {
        self.has_renegotiation_scsv() || self.renegotiation_info().is_some()
    }
}

impl ServerHello {
    pub fn decode(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let server_version = r.u16()?;
        let random = r.array::<32>()?;
        let session_id = read_session_id(&mut r)?;
        let cipher_suite = r.u16()?;
        let compression_method = r.u8()?;
        let extensions = read_extensions(&mut r, Hello::Server)?;
        r.finish()?;
        Ok(Self {
            server_version,
            random,
            session_id,
            cipher_suite,
            compression_method,
            extensions,
        })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        put_u16(out, self.server_version);
        out.extend_from_slice(&self.random);
        put_vec_u8(out, &self.session_id);
        put_u16(out, self.cipher_suite);
        put_u8(out, self.compression_method);
        write_extensions(out, &self.extensions, Hello::Server);
    }
}

/// The finders shared by both hellos.
macro_rules! extension_finders {
    ($($hello:ty),*) => {$(
        impl $hello {
            /// The extension of this type, if sent (there is at most one: duplicates are refused).
            pub fn extension(&self, typ: u16) -> Option<&Extension> {
                self.extensions.iter().find(|e| e.typ() == typ)
            }

            /// server_name: the host name bytes (not checked to be ASCII or a valid DNS name).
            /// `Some(&[])` when the extension is there without a host name (always so in a
            /// ServerHello).
            pub fn server_name(&self) -> Option<&[u8]> {
                match self.extension(ext_type::SERVER_NAME) {
                    Some(Extension::ServerName(host)) => Some(host),
                    _ => None,
                }
            }

            pub fn signature_algorithms(&self) -> Option<&[u16]> {
                match self.extension(ext_type::SIGNATURE_ALGORITHMS) {
                    Some(Extension::SignatureAlgorithms(algs)) => Some(algs),
                    _ => None,
                }
            }

            /// extended_master_secret (RFC 7627) was sent.
            pub fn has_ems(&self) -> bool {
                self.extension(ext_type::EXTENDED_MASTER_SECRET).is_some()
            }

            /// encrypt_then_mac (RFC 7366) was sent.
            pub fn has_etm(&self) -> bool {
                self.extension(ext_type::ENCRYPT_THEN_MAC).is_some()
            }

            /// renegotiation_info's `renegotiated_connection` (empty on a first handshake).
            pub fn renegotiation_info(&self) -> Option<&[u8]> {
                match self.extension(ext_type::RENEGOTIATION_INFO) {
                    Some(Extension::RenegotiationInfo(data)) => Some(data),
                    _ => None,
                }
            }

            /// ALPN protocol names (never empty when present).
            pub fn alpn_protocols(&self) -> Option<&[Vec<u8>]> {
                match self.extension(ext_type::ALPN) {
                    Some(Extension::Alpn(protocols)) => Some(protocols),
                    _ => None,
                }
            }

            /// supported_groups (RFC 8422 §5.1.1): the client's groups, most preferred first.
            pub fn supported_groups(&self) -> Option<&[u16]> {
                match self.extension(ext_type::SUPPORTED_GROUPS) {
                    Some(Extension::SupportedGroups(groups)) => Some(groups),
                    _ => None,
                }
            }

            /// ec_point_formats (RFC 8422 §5.1.2).
            pub fn ec_point_formats(&self) -> Option<&[u8]> {
                match self.extension(ext_type::EC_POINT_FORMATS) {
                    Some(Extension::EcPointFormats(formats)) => Some(formats),
                    _ => None,
                }
            }

            pub fn supported_versions(&self) -> Option<&[u16]> {
                match self.extension(ext_type::SUPPORTED_VERSIONS) {
                    Some(Extension::SupportedVersions(versions)) => Some(versions),
                    _ => None,
                }
            }
        }
    )*};
}

extension_finders!(ClientHello, ServerHello);

impl CertificateMsg {
    pub fn decode(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let mut list = r.sub_u24()?;
        r.finish()?;
        let mut chain = Vec::new();
        while !list.is_empty() {
            let cert = list.vec_u24()?;
            if cert.is_empty() {
                return Err(Error::decode("empty certificate in the list"));
            }
            chain.push(cert.to_vec());
        }
        Ok(Self { chain })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        with_u24_len(out, |out| {
            for cert in &self.chain {
                put_vec_u24(out, cert);
            }
        });
    }
}

impl ClientKeyExchange {
    pub fn decode(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let encrypted_pre_master_secret = r.vec_u16()?.to_vec();
        r.finish()?;
        Ok(Self {
            encrypted_pre_master_secret,
        })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        put_vec_u16(out, &self.encrypted_pre_master_secret);
    }
}

impl ServerKeyExchange {
    pub fn decode(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let curve_type = r.u8()?;
        if curve_type != CURVE_TYPE_NAMED_CURVE {
            // explicit_prime (1) and explicit_char2 (2) are deprecated (RFC 8422 §5.4).
            return Err(Error::illegal(format!(
                "curve type {curve_type}; only named_curve (3) is allowed"
            )));
        }
        let named_group = r.u16()?;
        let public = read_point(&mut r)?;
        let signature_algorithm = r.u16()?;
        let signature = r.vec_u16()?.to_vec();
        r.finish()?;
        Ok(Self {
            named_group,
            public,
            signature_algorithm,
            signature,
        })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&Self::params(self.named_group, &self.public));
        put_u16(out, self.signature_algorithm);
        put_vec_u16(out, &self.signature);
    }

    /// The `ServerECDHParams` bytes for `named_group` and `public`.
    pub fn params(named_group: u16, public: &[u8]) -> Vec<u8> {
        let mut out = vec![CURVE_TYPE_NAMED_CURVE];
        put_u16(&mut out, named_group);
        put_vec_u8(&mut out, public);
        out
    }

    /// What the server signs: client_random ‖ server_random ‖ ServerECDHParams (RFC 8422 §5.4).
    pub fn signed_content(
        client_random: &[u8; 32],
        server_random: &[u8; 32],
        named_group: u16,
        public: &[u8],
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + 4 + public.len());
        out.extend_from_slice(client_random);
        out.extend_from_slice(server_random);
        out.extend_from_slice(&Self::params(named_group, public));
        out
    }
}

impl EcdhClientKeyExchange {
    pub fn decode(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let public = read_point(&mut r)?;
        r.finish()?;
        Ok(Self { public })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        put_vec_u8(out, &self.public);
    }
}

/// `opaque point <1..2^8-1>` (RFC 8422 §5.4).
fn read_point(r: &mut Reader<'_>) -> Result<Vec<u8>, Error> {
    let point = r.vec_u8()?;
    if point.is_empty() {
        return Err(Error::decode("empty ECPoint"));
    }
    Ok(point.to_vec())
}

impl CertificateRequest {
    pub fn decode(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let certificate_types = r.vec_u8()?.to_vec();
        if certificate_types.is_empty() {
            return Err(Error::decode("certificate_types is empty"));
        }
        let signature_algorithms = read_u16_list(r.vec_u16()?, "supported_signature_algorithms")?;
        let mut list = r.sub_u16()?;
        r.finish()?;
        let mut certificate_authorities = Vec::new();
        while !list.is_empty() {
            let name = list.vec_u16()?;
            if name.is_empty() {
                return Err(Error::decode(
                    "empty DistinguishedName in certificate_authorities",
                ));
            }
            certificate_authorities.push(name.to_vec());
        }
        Ok(Self {
            certificate_types,
            signature_algorithms,
            certificate_authorities,
        })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        put_vec_u8(out, &self.certificate_types);
        with_u16_len(out, |out| {
            for alg in &self.signature_algorithms {
                put_u16(out, *alg);
            }
        });
        with_u16_len(out, |out| {
            for name in &self.certificate_authorities {
                put_vec_u16(out, name);
            }
        });
    }
}

impl CertificateVerify {
    pub fn decode(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let algorithm = r.u16()?;
        let signature = r.vec_u16()?.to_vec();
        r.finish()?;
        Ok(Self {
            algorithm,
            signature,
        })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        put_u16(out, self.algorithm);
        put_vec_u16(out, &self.signature);
    }
}

impl Finished {
    pub fn decode(body: &[u8]) -> Result<Self, Error> {
        let verify_data = <[u8; VERIFY_DATA_LEN]>::try_from(body).map_err(|_| {
            Error::decode(format!(
                "verify_data must be {VERIFY_DATA_LEN} bytes, got {}",
                body.len()
            ))
        })?;
        Ok(Self { verify_data })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.verify_data);
    }
}

// ---- helpers ----

/// Prefixes the message name to a decode error's reason, so logs say where it failed.
fn in_message(typ: HandshakeType, e: Error) -> Error {
    match e {
        Error::Protocol { alert, reason } => Error::protocol(alert, format!("{typ}: {reason}")),
        other => other,
    }
}

fn read_session_id(r: &mut Reader<'_>) -> Result<Vec<u8>, Error> {
    let session_id = r.vec_u8()?;
    if session_id.len() > MAX_SESSION_ID_LEN {
        return Err(Error::decode(format!(
            "session_id of {} bytes (at most {MAX_SESSION_ID_LEN})",
            session_id.len()
        )));
    }
    Ok(session_id.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::AlertDescription;
    use proptest::prelude::*;

    const OPENSSL_TLS12: &[u8] =
        include_bytes!("../../testdata/clienthello-openssl-s_client-tls1_2.bin");
    const CURL_TLS12: &[u8] = include_bytes!("../../testdata/clienthello-curl-tls-max-1_2.bin");
    const CURL_DEFAULT: &[u8] = include_bytes!("../../testdata/clienthello-curl-default.bin");

    /// The captures are whole TLS records: strip the 5-byte record header.
    fn handshake_of(record: &[u8]) -> Vec<u8> {
        assert_eq!(record[0], 22, "not a handshake record");
        let len = usize::from(u16::from_be_bytes([record[3], record[4]]));
        assert_eq!(record.len(), 5 + len);
        record[5..].to_vec()
    }

    fn client_hello_of(record: &[u8]) -> ClientHello {
        match HandshakeMessage::decode(handshake_of(record))
            .unwrap()
            .payload
        {
            HandshakePayload::ClientHello(ch) => ch,
            other => panic!("expected a ClientHello, got {other:?}"),
        }
    }

    /// Header + body, with the header length set to the body's.
    fn message(typ: u8, body: &[u8]) -> Vec<u8> {
        let mut raw = vec![typ];
        put_u24(&mut raw, body.len() as u32);
        raw.extend_from_slice(body);
        raw
    }

    fn put_u24(out: &mut Vec<u8>, v: u32) {
        crate::msgs::codec::put_u24(out, v);
    }

    fn assert_decode_error(result: Result<HandshakeMessage, Error>) -> String {
        match result {
            Err(Error::Protocol {
                alert: AlertDescription::DecodeError,
                reason,
            }) => reason.into_owned(),
            other => panic!("expected decode_error, got {other:?}"),
        }
    }

    fn full_client_hello() -> ClientHello {
        ClientHello {
            client_version: TLS12,
            random: [7; 32],
            session_id: vec![1; 32],
            cipher_suites: vec![0x003C, 0x002F, TLS_EMPTY_RENEGOTIATION_INFO_SCSV],
            compression_methods: vec![0],
            extensions: vec![
                Extension::ServerName(b"localhost".to_vec()),
                Extension::SignatureAlgorithms(vec![0x0401, 0x0501]),
                Extension::ExtendedMasterSecret,
                Extension::EncryptThenMac,
                Extension::RenegotiationInfo(Vec::new()),
                Extension::Alpn(vec![b"h2".to_vec(), b"http/1.1".to_vec()]),
                Extension::SupportedVersions(vec![0x0304, TLS12]),
                Extension::SupportedGroups(vec![29, 23]),
                Extension::EcPointFormats(vec![0]),
                Extension::Unknown {
                    typ: 0x1234,
                    data: vec![9, 9, 9],
                },
            ],
        }
    }

    fn full_server_hello() -> ServerHello {
        ServerHello {
            server_version: TLS12,
            random: [3; 32],
            session_id: vec![5; 16],
            cipher_suite: 0x003C,
            compression_method: 0,
            extensions: vec![
                Extension::ServerName(Vec::new()),
                Extension::RenegotiationInfo(Vec::new()),
                Extension::ExtendedMasterSecret,
                Extension::EncryptThenMac,
                Extension::Alpn(vec![b"http/1.1".to_vec()]),
                Extension::EcPointFormats(vec![0]),
            ],
        }
    }

    fn every_payload() -> Vec<HandshakePayload> {
        vec![
            HandshakePayload::HelloRequest,
            HandshakePayload::ClientHello(full_client_hello()),
            HandshakePayload::ClientHello(ClientHello {
                extensions: Vec::new(),
                session_id: Vec::new(),
                ..full_client_hello()
            }),
            HandshakePayload::ServerHello(full_server_hello()),
            HandshakePayload::ServerHello(ServerHello {
                extensions: Vec::new(),
                ..full_server_hello()
            }),
            HandshakePayload::Certificate(CertificateMsg {
                chain: vec![vec![0x30, 0x03, 1, 2, 3], vec![0x30; 300]],
            }),
            HandshakePayload::Certificate(CertificateMsg { chain: Vec::new() }),
            HandshakePayload::ServerHelloDone,
            HandshakePayload::ClientKeyExchange(ClientKeyExchange {
                encrypted_pre_master_secret: vec![0xAB; 256],
            }),
            HandshakePayload::EcdhClientKeyExchange(EcdhClientKeyExchange {
                public: vec![0x42; 32],
            }),
            HandshakePayload::ServerKeyExchange(ServerKeyExchange {
                named_group: 29,
                public: vec![9; 32],
                signature_algorithm: 0x0401,
                signature: vec![0x5A; 256],
            }),
            HandshakePayload::Finished(Finished {
                verify_data: [0x5A; 12],
            }),
            HandshakePayload::CertificateRequest(CertificateRequest {
                certificate_types: vec![CERT_TYPE_RSA_SIGN],
                signature_algorithms: vec![0x0401, 0x0501, 0x0601],
                certificate_authorities: vec![vec![0x30, 0x00], vec![0x30; 70]],
            }),
            HandshakePayload::CertificateVerify(CertificateVerify {
                algorithm: 0x0401,
                signature: vec![0x11; 256],
            }),
            HandshakePayload::Unknown(HandshakeType::NewSessionTicket, vec![1, 2, 3]),
            HandshakePayload::Unknown(HandshakeType::Unknown(99), Vec::new()),
        ]
    }

    #[test]
    fn handshake_type_codes_round_trip() {
        for v in 0..=255u8 {
            assert_eq!(HandshakeType::from_u8(v).to_u8(), v);
        }
        assert_eq!(HandshakeType::from_u8(14), HandshakeType::ServerHelloDone);
        assert_eq!(HandshakeType::ServerHelloDone.name(), "server_hello_done");
        assert_eq!(
            HandshakeType::Unknown(99).to_string(),
            "unknown handshake type (99)"
        );
    }

    #[test]
    fn every_message_round_trips() {
        for payload in every_payload() {
            let msg = HandshakeMessage::new(payload.clone());
            assert_eq!(msg.typ(), payload.typ());
            assert_eq!(msg.raw[0], payload.typ().to_u8());
            let back = HandshakeMessage::decode(msg.raw.clone()).unwrap();
            assert_eq!(back.payload, payload);
            assert_eq!(back.raw, msg.raw);
        }
    }

    #[test]
    fn server_hello_done_and_hello_request_vectors() {
        let msg = HandshakeMessage::decode(vec![0x0e, 0, 0, 0]).unwrap();
        assert_eq!(msg.payload, HandshakePayload::ServerHelloDone);
        assert_eq!(
            HandshakeMessage::new(HandshakePayload::ServerHelloDone).raw,
            [0x0e, 0, 0, 0]
        );
        let msg = HandshakeMessage::decode(vec![0, 0, 0, 0]).unwrap();
        assert_eq!(msg.payload, HandshakePayload::HelloRequest);
        // An empty message with a body is malformed.
        assert_decode_error(HandshakeMessage::decode(vec![0x0e, 0, 0, 1, 0]));
        assert_decode_error(HandshakeMessage::decode(vec![0, 0, 0, 1, 0]));
    }

    #[test]
    fn finished_vector() {
        let raw = vec![
            0x14, 0x00, 0x00, 0x0c, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
            0x0b, 0x0c,
        ];
        let msg = HandshakeMessage::decode(raw.clone()).unwrap();
        assert_eq!(
            msg.payload,
            HandshakePayload::Finished(Finished {
                verify_data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
            })
        );
        assert_eq!(HandshakeMessage::new(msg.payload).raw, raw);
    }

    #[test]
    fn finished_must_be_12_bytes() {
        for len in [0, 11, 13, 36] {
            let reason = assert_decode_error(HandshakeMessage::decode(message(20, &vec![0; len])));
            assert!(reason.contains("verify_data"), "{reason}");
        }
    }

    #[test]
    fn client_key_exchange_vector() {
        // opaque<0..2^16-1>: 2-byte length then the RSA ciphertext.
        let raw = vec![0x10, 0, 0, 5, 0, 3, 0xAA, 0xBB, 0xCC];
        let msg = HandshakeMessage::decode(raw).unwrap();
        assert_eq!(
            msg.payload,
            HandshakePayload::ClientKeyExchange(ClientKeyExchange {
                encrypted_pre_master_secret: vec![0xAA, 0xBB, 0xCC]
            })
        );
        // SSLv3-style (no length prefix) is refused rather than misread.
        assert_decode_error(HandshakeMessage::decode(message(16, &[0xAA; 4])));
        // An ECPoint: 1-byte length. Empty points and trailing bytes are refused.
        let msg = HandshakeMessage::decode(vec![0x10, 0, 0, 3, 2, 0xAA, 0xBB]).unwrap();
        assert_eq!(
            msg.payload,
            HandshakePayload::EcdhClientKeyExchange(EcdhClientKeyExchange {
                public: vec![0xAA, 0xBB]
            })
        );
        assert_decode_error(HandshakeMessage::decode(message(16, &[0])));
        assert_decode_error(HandshakeMessage::decode(message(16, &[1, 2, 3])));
    }

    #[test]
    fn server_key_exchange_vector() {
        // named_curve, x25519, a 2-byte point (any length decodes), rsa_pkcs1_sha256, 3-byte sig.
        let body = [3, 0, 29, 2, 0xAA, 0xBB, 4, 1, 0, 3, 1, 2, 3];
        let msg = HandshakeMessage::decode(message(12, &body)).unwrap();
        let HandshakePayload::ServerKeyExchange(ske) = &msg.payload else {
            panic!("not a ServerKeyExchange")
        };
        assert_eq!(ske.named_group, 29);
        assert_eq!(ske.public, [0xAA, 0xBB]);
        assert_eq!(ske.signature_algorithm, 0x0401);
        assert_eq!(ske.signature, [1, 2, 3]);
        assert_eq!(
            ServerKeyExchange::signed_content(&[1; 32], &[2; 32], 29, &[0xAA, 0xBB])[64..],
            body[..6]
        );
        // Truncated, trailing byte, empty point: decode_error. Explicit curves: illegal_parameter.
        assert_decode_error(HandshakeMessage::decode(message(12, &body[..12])));
        let mut long = body.to_vec();
        long.push(0);
        assert_decode_error(HandshakeMessage::decode(message(12, &long)));
        assert_decode_error(HandshakeMessage::decode(message(
            12,
            &[3, 0, 29, 0, 4, 1, 0, 0],
        )));
        let mut explicit = body;
        explicit[0] = 1;
        assert!(matches!(
            HandshakeMessage::decode(message(12, &explicit)),
            Err(Error::Protocol {
                alert: AlertDescription::IllegalParameter,
                ..
            })
        ));
    }

    #[test]
    fn server_hello_vector() {
        let mut body = vec![0x03, 0x03];
        body.extend_from_slice(&[0x11; 32]);
        body.extend_from_slice(&[0x00, 0x00, 0x3c, 0x00]); // no session id, suite 0x003C, null
        body.extend_from_slice(&[
            0x00, 0x0d, // extensions: 13 bytes
            0xff, 0x01, 0x00, 0x01, 0x00, // renegotiation_info, empty
            0x00, 0x17, 0x00, 0x00, // extended_master_secret
            0x00, 0x00, 0x00, 0x00, // server_name acknowledgement
        ]);
        let msg = HandshakeMessage::decode(message(2, &body)).unwrap();
        let HandshakePayload::ServerHello(sh) = &msg.payload else {
            panic!("not a ServerHello")
        };
        assert_eq!(sh.server_version, TLS12);
        assert_eq!(sh.cipher_suite, 0x003C);
        assert_eq!(sh.renegotiation_info(), Some(&[][..]));
        assert!(sh.has_ems());
        assert!(!sh.has_etm());
        assert_eq!(sh.server_name(), Some(&[][..]));
        assert_eq!(HandshakeMessage::new(msg.payload.clone()).raw, msg.raw);
    }

    #[test]
    fn openssl_client_hello() {
        let raw = handshake_of(OPENSSL_TLS12);
        let ch = client_hello_of(OPENSSL_TLS12);
        assert_eq!(ch.client_version, TLS12);
        assert!(ch.session_id.is_empty());
        assert_eq!(ch.cipher_suites.len(), 28);
        for ours in [0x003C, 0x003D, 0x002F, 0x0035] {
            assert!(ch.cipher_suites.contains(&ours), "{ours:04x}");
        }
        assert!(ch.has_renegotiation_scsv());
        assert!(ch.offers_secure_renegotiation());
        assert_eq!(ch.renegotiation_info(), None);
        assert_eq!(ch.compression_methods, [0]);
        assert_eq!(ch.server_name(), Some(&b"localhost"[..]));
        assert!(ch.has_ems());
        assert!(ch.has_etm());
        let algs = ch.signature_algorithms().unwrap();
        assert_eq!(algs.len(), 20);
        assert!(algs.contains(&0x0401)); // rsa_pkcs1_sha256
        assert_eq!(ch.supported_versions(), None); // -tls1_2 caps the version
        assert_eq!(ch.alpn_protocols(), None);
        // session_ticket (35) is kept as an unknown extension.
        assert_eq!(
            ch.extension(35),
            Some(&Extension::Unknown {
                typ: 35,
                data: Vec::new()
            })
        );
        let types: Vec<u16> = ch.extensions.iter().map(Extension::typ).collect();
        assert_eq!(types, [0, 11, 10, 35, 22, 23, 13]);
        assert_eq!(
            HandshakeMessage::new(HandshakePayload::ClientHello(ch)).raw,
            raw
        );
    }

    #[test]
    fn curl_tls12_client_hello() {
        let raw = handshake_of(CURL_TLS12);
        let ch = client_hello_of(CURL_TLS12);
        assert_eq!(ch.client_version, TLS12);
        assert!(ch.cipher_suites.contains(&0x003C));
        assert!(ch.has_renegotiation_scsv());
        assert_eq!(ch.server_name(), Some(&b"localhost"[..]));
        assert!(ch.has_ems() && ch.has_etm());
        assert_eq!(
            ch.alpn_protocols(),
            Some(&[b"h2".to_vec(), b"http/1.1".to_vec()][..])
        );
        assert!(ch.signature_algorithms().unwrap().contains(&0x0401));
        assert_eq!(ch.supported_versions(), None);
        assert_eq!(
            HandshakeMessage::new(HandshakePayload::ClientHello(ch)).raw,
            raw
        );
    }

    #[test]
    fn curl_tls13_capable_client_hello() {
        let raw = handshake_of(CURL_DEFAULT);
        let ch = client_hello_of(CURL_DEFAULT);
        // The legacy version stays 1.2; 1.3 is offered only in supported_versions.
        assert_eq!(ch.client_version, TLS12);
        assert_eq!(
            ch.supported_versions(),
            Some(&[0x0304, 0x0303, 0x0302, 0x0301][..])
        );
        assert_eq!(ch.session_id.len(), 32); // middlebox-compatibility session id
        assert_eq!(ch.cipher_suites[..3], [0x1302, 0x1303, 0x1301]);
        assert!(ch.cipher_suites.contains(&0x002F));
        assert_eq!(ch.server_name(), Some(&b"localhost"[..]));
        assert!(ch.has_ems() && ch.has_etm() && ch.has_renegotiation_scsv());
        assert!(ch.alpn_protocols().unwrap().contains(&b"http/1.1".to_vec()));
        // key_share (51) and padding (21) are unknown to us and kept whole.
        assert!(matches!(ch.extension(51), Some(Extension::Unknown { .. })));
        assert!(matches!(ch.extension(21), Some(Extension::Unknown { .. })));
        assert_eq!(
            HandshakeMessage::new(HandshakePayload::ClientHello(ch)).raw,
            raw
        );
    }

    #[test]
    fn client_hello_every_truncation_fails() {
        let full = handshake_of(CURL_DEFAULT);
        let body = &full[4..];
        // Where the extensions block starts: a hello cut exactly there is valid (no extensions).
        let ch = client_hello_of(CURL_DEFAULT);
        let fixed = 2 + 32 + 1 + ch.session_id.len() + 2 + 2 * ch.cipher_suites.len() + 1 + 1;
        for cut in 0..body.len() {
            // Header agreeing with the cut body: the parser itself must notice.
            let result = HandshakeMessage::decode(message(1, &body[..cut]));
            if cut == fixed {
                let msg = result.unwrap();
                let HandshakePayload::ClientHello(short) = msg.payload else {
                    panic!("not a ClientHello")
                };
                assert!(short.extensions.is_empty());
            } else {
                assert_decode_error(result);
            }
            // Header still claiming the full length: a length mismatch.
            assert_decode_error(HandshakeMessage::decode(full[..4 + cut].to_vec()));
        }
    }

    #[test]
    fn an_empty_extensions_block_is_no_extensions_and_the_received_bytes_are_kept() {
        // Found by the handshake_message fuzz target: a ServerHello whose extensions block is
        // there with length 0. It means "no extensions" (RFC 5246 §7.4.1.2); we write such a
        // hello without the block, but the transcript must hash the bytes that came.
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7; 32]);
        body.extend_from_slice(&[0, 0xC0, 0x2F, 0, 0, 0]); // no session id, suite, null, ext len 0
        let raw = message(2, &body);
        let msg = HandshakeMessage::decode(raw.clone()).unwrap();
        let HandshakePayload::ServerHello(sh) = &msg.payload else {
            panic!("not a ServerHello")
        };
        assert!(sh.extensions.is_empty());
        assert_eq!(msg.raw, raw);
        let again = HandshakeMessage::new(msg.payload.clone());
        assert_eq!(
            again.raw.len() + 2,
            raw.len(),
            "written without the empty block"
        );
        assert_eq!(
            HandshakeMessage::decode(again.raw).unwrap().payload,
            msg.payload
        );
    }

    #[test]
    fn every_truncation_fails_for_other_messages() {
        for payload in every_payload() {
            let raw = HandshakeMessage::new(payload.clone()).raw;
            let body = &raw[4..];
            let allowed_short = match &payload {
                // The body-less messages and opaque ones have no inner structure to break.
                HandshakePayload::Unknown(..) => continue,
                HandshakePayload::ClientHello(_) => continue, // covered above
                HandshakePayload::ServerHello(sh) => {
                    Some(2 + 32 + 1 + sh.session_id.len() + 3).filter(|_| !sh.extensions.is_empty())
                }
                // An RSA body cut where its first byte, read as a 1-byte length, fits: that is
                // a well-framed ECDHE ClientKeyExchange.
                HandshakePayload::ClientKeyExchange(_) => Some(usize::from(body[0]) + 1),
                _ => None,
            };
            for cut in 0..body.len() {
                let result = HandshakeMessage::decode(message(raw[0], &body[..cut]));
                if Some(cut) == allowed_short {
                    assert!(result.is_ok());
                } else {
                    assert_decode_error(result);
                }
            }
        }
    }

    #[test]
    fn trailing_bytes_are_refused() {
        for payload in every_payload() {
            if matches!(payload, HandshakePayload::Unknown(..)) {
                continue;
            }
            let raw = HandshakeMessage::new(payload).raw;
            let mut body = raw[4..].to_vec();
            body.push(0);
            assert_decode_error(HandshakeMessage::decode(message(raw[0], &body)));
            // And bytes beyond what the header declares.
            let mut longer = raw.clone();
            longer.push(0);
            assert_decode_error(HandshakeMessage::decode(longer));
        }
    }

    #[test]
    fn oversized_declared_length_is_refused() {
        let reason = assert_decode_error(HandshakeMessage::decode(vec![1, 0xFF, 0xFF, 0xFF, 3, 3]));
        assert!(reason.contains("header says"), "{reason}");
        // An inner length larger than the message: certificate list claims 2^24-1 bytes.
        assert_decode_error(HandshakeMessage::decode(message(
            11,
            &[0xFF, 0xFF, 0xFF, 0x30],
        )));
        assert_decode_error(HandshakeMessage::decode(Vec::new()));
        assert_decode_error(HandshakeMessage::decode(vec![20, 0]));
    }

    /// A ClientHello body with the given extensions block bytes (None: no block).
    fn hello_with_block(block: Option<&[u8]>) -> Vec<u8> {
        let mut body = vec![0x03, 0x03];
        body.extend_from_slice(&[0; 32]);
        body.extend_from_slice(&[0x00, 0x00, 0x02, 0x00, 0x3c, 0x01, 0x00]);
        if let Some(block) = block {
            put_vec_u16(&mut body, block);
        }
        message(1, &body)
    }

    fn hello_with_extension(typ: u16, data: &[u8]) -> Vec<u8> {
        let mut block = Vec::new();
        put_u16(&mut block, typ);
        put_vec_u16(&mut block, data);
        hello_with_block(Some(&block))
    }

    #[test]
    fn extensions_block_is_optional_but_exact() {
        let msg = HandshakeMessage::decode(hello_with_block(None)).unwrap();
        assert!(
            matches!(msg.payload, HandshakePayload::ClientHello(ref ch) if ch.extensions.is_empty())
        );
        // Present and empty is fine too.
        assert!(HandshakeMessage::decode(hello_with_block(Some(&[]))).is_ok());
        // One stray byte where the block would be.
        let mut raw = hello_with_block(None);
        raw.push(0);
        raw[3] += 1;
        assert_decode_error(HandshakeMessage::decode(raw));
        // A block length that overruns, or leaves a byte inside the block unused.
        let mut raw = hello_with_extension(23, &[]);
        let at = raw.len() - 6; // the block's length field
        raw[at + 1] += 1;
        assert_decode_error(HandshakeMessage::decode(raw.clone()));
        raw[at + 1] -= 2;
        assert_decode_error(HandshakeMessage::decode(raw));
    }

    #[test]
    fn duplicate_extension_is_refused() {
        let mut block = Vec::new();
        for _ in 0..2 {
            put_u16(&mut block, ext_type::EXTENDED_MASTER_SECRET);
            put_u16(&mut block, 0);
        }
        let reason = assert_decode_error(HandshakeMessage::decode(hello_with_block(Some(&block))));
        assert!(
            reason.contains("duplicate extension extended_master_secret"),
            "{reason}"
        );
        // Unknown types count too.
        let mut block = Vec::new();
        for _ in 0..2 {
            put_u16(&mut block, 0x7777);
            put_vec_u16(&mut block, &[1]);
        }
        assert_decode_error(HandshakeMessage::decode(hello_with_block(Some(&block))));
    }

    #[test]
    fn extension_bodies_are_checked() {
        let bad: &[(u16, &[u8])] = &[
            (ext_type::EXTENDED_MASTER_SECRET, &[0]),
            (ext_type::ENCRYPT_THEN_MAC, &[0, 0]),
            (ext_type::SERVER_NAME, &[]),     // client must send a list
            (ext_type::SERVER_NAME, &[0, 0]), // empty list
            (ext_type::SERVER_NAME, &[0, 3, 0, 0, 0]), // empty host_name
            (ext_type::SERVER_NAME, &[0, 5, 0, 0, 1, b'a']), // list overruns
            (ext_type::SIGNATURE_ALGORITHMS, &[0, 0]),
            (ext_type::SIGNATURE_ALGORITHMS, &[0, 3, 4, 1, 5]),
            (ext_type::SIGNATURE_ALGORITHMS, &[0, 2, 4, 1, 9]), // trailing byte
            (ext_type::ALPN, &[0, 0]),                          // empty list
            (ext_type::ALPN, &[0, 1, 0]),                       // empty name
            (ext_type::ALPN, &[0, 3, 5, b'h', b'2']),           // name overruns
            (ext_type::RENEGOTIATION_INFO, &[]),
            (ext_type::RENEGOTIATION_INFO, &[2, 0]),
            (ext_type::SUPPORTED_VERSIONS, &[0]),
            (ext_type::SUPPORTED_VERSIONS, &[3, 3, 4, 3]),
        ];
        for (typ, data) in bad {
            let result = HandshakeMessage::decode(hello_with_extension(*typ, data));
            let reason = assert_decode_error(result);
            assert!(reason.contains(ext_type::name(*typ)), "{typ}: {reason}");
        }
    }

    #[test]
    fn two_host_names_are_illegal_parameter() {
        // RFC 6066 §3: at most one name per type; tlsfuzzer expects illegal_parameter.
        let raw =
            hello_with_extension(ext_type::SERVER_NAME, &[0, 8, 0, 0, 1, b'a', 0, 0, 1, b'b']);
        assert!(matches!(
            HandshakeMessage::decode(raw),
            Err(Error::Protocol {
                alert: AlertDescription::IllegalParameter,
                ..
            })
        ));
    }

    #[test]
    fn server_name_skips_other_name_types() {
        let raw = hello_with_extension(
            ext_type::SERVER_NAME,
            &[0, 9, 7, 0, 1, b'x', 0, 0, 2, b'h', b'i'],
        );
        let HandshakePayload::ClientHello(ch) = HandshakeMessage::decode(raw).unwrap().payload
        else {
            panic!("not a ClientHello")
        };
        assert_eq!(ch.server_name(), Some(&b"hi"[..]));
    }

    /// Found by the `handshake_message` fuzz target: a list with no host_name entry used to
    /// become an empty ServerName, which re-encoded in the ServerHello's (empty) form and no
    /// longer decoded as a ClientHello extension.
    #[test]
    fn server_name_without_a_host_name_round_trips() {
        let raw = hello_with_extension(ext_type::SERVER_NAME, &[0, 5, 10, 0, 2, b'h', b'i']);
        let message = HandshakeMessage::decode(raw.clone()).unwrap();
        let HandshakePayload::ClientHello(ch) = &message.payload else {
            panic!("not a ClientHello")
        };
        assert_eq!(ch.server_name(), None);
        let again = HandshakeMessage::new(message.payload.clone());
        assert_eq!(again.raw, raw);
        assert_eq!(HandshakeMessage::decode(again.raw).unwrap(), message);
    }

    #[test]
    fn server_hello_extension_forms() {
        let mut sh = ServerHello {
            extensions: vec![Extension::SupportedVersions(vec![0x0304])],
            ..full_server_hello()
        };
        let raw = HandshakeMessage::new(HandshakePayload::ServerHello(sh.clone())).raw;
        // selected_version is a bare u16 in a ServerHello.
        assert_eq!(raw[raw.len() - 6..], [0x00, 0x2b, 0x00, 0x02, 0x03, 0x04]);
        assert!(HandshakeMessage::decode(raw).is_ok());

        // A server's ALPN names exactly one protocol; its SNI body is empty.
        sh.extensions = vec![Extension::Alpn(vec![b"a".to_vec(), b"b".to_vec()])];
        let raw = HandshakeMessage::new(HandshakePayload::ServerHello(sh.clone())).raw;
        assert_decode_error(HandshakeMessage::decode(raw));
        sh.extensions = vec![Extension::ServerName(b"host".to_vec())];
        let raw = HandshakeMessage::new(HandshakePayload::ServerHello(sh)).raw;
        assert_decode_error(HandshakeMessage::decode(raw));
    }

    #[test]
    fn client_hello_field_limits() {
        let base = full_client_hello();
        let bad = [
            ClientHello {
                session_id: vec![0; 33],
                ..base.clone()
            },
            ClientHello {
                cipher_suites: Vec::new(),
                ..base.clone()
            },
            ClientHello {
                compression_methods: Vec::new(),
                ..base.clone()
            },
        ];
        for ch in bad {
            let raw = HandshakeMessage::new(HandshakePayload::ClientHello(ch)).raw;
            assert_decode_error(HandshakeMessage::decode(raw));
        }
        // An odd cipher_suites length.
        let mut raw = hello_with_block(None);
        let at = 4 + 2 + 32 + 1; // cipher_suites length
        raw[at + 1] = 1;
        let mut body = raw[4..at + 3].to_vec();
        body.extend_from_slice(&[1, 0]);
        assert_decode_error(HandshakeMessage::decode(message(1, &body)));
    }

    #[test]
    fn certificate_entries_must_not_be_empty() {
        // list of 3 bytes holding one zero-length certificate
        assert_decode_error(HandshakeMessage::decode(message(11, &[0, 0, 3, 0, 0, 0])));
        // entry overruns the list
        assert_decode_error(HandshakeMessage::decode(message(
            11,
            &[0, 0, 4, 0, 0, 2, 0x30],
        )));
        let msg = HandshakeMessage::decode(message(11, &[0, 0, 0])).unwrap();
        assert_eq!(
            msg.payload,
            HandshakePayload::Certificate(CertificateMsg { chain: vec![] })
        );
    }

    #[test]
    fn certificate_request_vector() {
        // rsa_sign; rsa_pkcs1_sha256; one CA name (an empty SEQUENCE); then an empty CA list.
        let body = [1, 1, 0, 2, 4, 1, 0, 4, 0, 2, 0x30, 0x00];
        let msg = HandshakeMessage::decode(message(13, &body)).unwrap();
        assert_eq!(
            msg.payload,
            HandshakePayload::CertificateRequest(CertificateRequest {
                certificate_types: vec![1],
                signature_algorithms: vec![0x0401],
                certificate_authorities: vec![vec![0x30, 0x00]],
            })
        );
        assert_eq!(HandshakeMessage::new(msg.payload).raw, message(13, &body));
        // No CA named is fine (the client may send any certificate).
        assert!(HandshakeMessage::decode(message(13, &[1, 1, 0, 2, 4, 1, 0, 0])).is_ok());
        for (bad, why) in [
            (&[0, 0, 2, 4, 1, 0, 0][..], "certificate_types"),
            (&[1, 1, 0, 0, 0, 0][..], "supported_signature_algorithms"),
            (
                &[1, 1, 0, 3, 4, 1, 2, 0, 0][..],
                "supported_signature_algorithms",
            ),
            (&[1, 1, 0, 2, 4, 1, 0, 2, 0, 0][..], "DistinguishedName"),
        ] {
            let reason = assert_decode_error(HandshakeMessage::decode(message(13, bad)));
            assert!(reason.contains(why), "{reason}");
        }
    }

    #[test]
    fn certificate_verify_vector() {
        let msg = HandshakeMessage::decode(message(15, &[4, 1, 0, 2, 0xAA, 0xBB])).unwrap();
        assert_eq!(
            msg.payload,
            HandshakePayload::CertificateVerify(CertificateVerify {
                algorithm: 0x0401,
                signature: vec![0xAA, 0xBB],
            })
        );
        // The signature's length must match what follows it.
        assert_decode_error(HandshakeMessage::decode(message(
            15,
            &[4, 1, 0, 3, 0xAA, 0xBB],
        )));
        assert_decode_error(HandshakeMessage::decode(message(
            15,
            &[4, 1, 0, 1, 0xAA, 0xBB],
        )));
        assert_decode_error(HandshakeMessage::decode(message(15, &[4])));
    }

    #[test]
    fn unparsed_messages_are_kept() {
        let msg = HandshakeMessage::decode(message(99, &[1, 2, 3])).unwrap();
        assert_eq!(
            msg.payload,
            HandshakePayload::Unknown(HandshakeType::Unknown(99), vec![1, 2, 3])
        );
        assert_eq!(msg.typ(), HandshakeType::Unknown(99));
    }

    fn arb_extension() -> impl Strategy<Value = Extension> {
        let name = proptest::collection::vec(any::<u8>(), 1..20);
        prop_oneof![
            name.clone().prop_map(Extension::ServerName),
            proptest::collection::vec(any::<u16>(), 1..10).prop_map(Extension::SignatureAlgorithms),
            Just(Extension::ExtendedMasterSecret),
            Just(Extension::EncryptThenMac),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Extension::RenegotiationInfo),
            proptest::collection::vec(name, 1..4).prop_map(Extension::Alpn),
            proptest::collection::vec(any::<u16>(), 1..6).prop_map(Extension::SupportedVersions),
            (1000u16..2000, proptest::collection::vec(any::<u8>(), 0..30))
                .prop_map(|(typ, data)| Extension::Unknown { typ, data }),
        ]
    }

    fn arb_client_hello() -> impl Strategy<Value = ClientHello> {
        (
            any::<u16>(),
            any::<[u8; 32]>(),
            proptest::collection::vec(any::<u8>(), 0..=32),
            proptest::collection::vec(any::<u16>(), 1..20),
            proptest::collection::vec(any::<u8>(), 1..3),
            proptest::collection::vec(arb_extension(), 0..8),
        )
            .prop_map(
                |(client_version, random, session_id, cipher_suites, compression_methods, exts)| {
                    // Keep one extension per type, as a valid hello has.
                    let mut seen = std::collections::HashSet::new();
                    let extensions = exts.into_iter().filter(|e| seen.insert(e.typ())).collect();
                    ClientHello {
                        client_version,
                        random,
                        session_id,
                        cipher_suites,
                        compression_methods,
                        extensions,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn client_hello_round_trip(ch in arb_client_hello()) {
            let msg = HandshakeMessage::new(HandshakePayload::ClientHello(ch.clone()));
            let back = HandshakeMessage::decode(msg.raw.clone()).unwrap();
            prop_assert_eq!(back.payload, HandshakePayload::ClientHello(ch));
        }

        #[test]
        fn random_messages_never_panic(typ in prop_oneof![Just(1u8), Just(2), Just(11), Just(13), Just(15), Just(16), Just(20), any::<u8>()],
                                       body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = HandshakeMessage::decode(message(typ, &body));
            let _ = HandshakeMessage::decode(body);
        }

        #[test]
        fn mutated_captures_never_panic(index in any::<proptest::sample::Index>(), byte in any::<u8>()) {
            let mut raw = handshake_of(CURL_DEFAULT);
            let i = index.index(raw.len());
            raw[i] = byte;
            if let Ok(msg) = HandshakeMessage::decode(raw.clone()) {
                // Whatever parses keeps the bytes it came from.
                prop_assert_eq!(msg.raw, raw);
            }
        }
    }
}
