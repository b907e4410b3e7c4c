//! The hello extensions we speak (RFC 5246 §7.4.1.4): server_name (RFC 6066 §3),
//! signature_algorithms (RFC 5246 §7.4.1.4.1), extended_master_secret (RFC 7627),
//! encrypt_then_mac (RFC 7366), renegotiation_info (RFC 5746), application_layer_protocol_negotiation
//! (RFC 7301), supported_versions (RFC 8446 §4.2.1, read so that a TLS 1.3-capable client can
//! be answered with 1.2), and for ECDHE supported_groups and ec_point_formats (RFC 8422 §5.1).
//! Unknown extensions are kept byte for byte.
//!
//! A duplicated extension is `decode_error` (RFC 5246 §7.4.1.4: "MUST NOT be more than one
//! extension of the same type"), as is a body that breaks its RFC's syntax.

use crate::error::Error;
use crate::msgs::codec::{
    put_u16, put_u8, put_vec_u16, put_vec_u8, read_u16_list, with_u16_len, with_u8_len, Reader,
};
use std::collections::HashSet;

/// Extension code points (IANA "TLS ExtensionType Values").
pub mod ext_type {
    pub const SERVER_NAME: u16 = 0;
    pub const SUPPORTED_GROUPS: u16 = 10;
    pub const EC_POINT_FORMATS: u16 = 11;
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    pub const ALPN: u16 = 16;
    pub const ENCRYPT_THEN_MAC: u16 = 22;
    pub const EXTENDED_MASTER_SECRET: u16 = 23;
    pub const SUPPORTED_VERSIONS: u16 = 43;
    pub const RENEGOTIATION_INFO: u16 = 0xff01;

    /// The IANA name of an extension type, for traces; `"unknown"` when we do not know it.
    pub fn name(typ: u16) -> &'static str {
        match typ {
            SERVER_NAME => "server_name",
            5 => "status_request",
            SUPPORTED_GROUPS => "supported_groups",
            EC_POINT_FORMATS => "ec_point_formats",
            SIGNATURE_ALGORITHMS => "signature_algorithms",
            ALPN => "application_layer_protocol_negotiation",
            18 => "signed_certificate_timestamp",
            21 => "padding",
            ENCRYPT_THEN_MAC => "encrypt_then_mac",
            EXTENDED_MASTER_SECRET => "extended_master_secret",
            35 => "session_ticket",
            SUPPORTED_VERSIONS => "supported_versions",
            45 => "psk_key_exchange_modes",
            49 => "post_handshake_auth",
            51 => "key_share",
            RENEGOTIATION_INFO => "renegotiation_info",
            _ => "unknown",
        }
    }
}

/// One hello extension (RFC 5246 §7.4.1.4). The same type has a different body in a
/// ClientHello and in a ServerHello for server_name, ALPN and supported_versions; the variant
/// holds the meaning, and the enclosing hello decides the wire form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Extension {
    /// RFC 6066 §3. In a ClientHello: the `host_name` entry of the server_name_list (empty if
    /// the list had no host_name). In a ServerHello: always empty — an empty body means "I used
    /// your server name".
    ServerName(Vec<u8>),
    /// `SignatureAndHashAlgorithm` pairs as `hash << 8 | signature` (e.g. 0x0401 = rsa_pkcs1_sha256).
    SignatureAlgorithms(Vec<u16>),
    /// RFC 7627: empty body.
    ExtendedMasterSecret,
    /// RFC 7366: empty body.
    EncryptThenMac,
    /// RFC 5746: `renegotiated_connection`, empty on an initial handshake.
    RenegotiationInfo(Vec<u8>),
    /// RFC 7301: protocol names, e.g. `b"http/1.1"`. A ServerHello holds exactly one.
    Alpn(Vec<Vec<u8>>),
    /// RFC 8446 §4.2.1. In a ClientHello: the versions offered. In a ServerHello: the one
    /// selected (TLS 1.3 only; a 1.2 server never sends it).
    SupportedVersions(Vec<u16>),
    /// RFC 8422 §5.1.1 (RFC 7919 renamed it from elliptic_curves): `NamedGroup` code points in
    /// the client's order of preference. ClientHello only in TLS 1.2.
    SupportedGroups(Vec<u16>),
    /// RFC 8422 §5.1.2: `ECPointFormat`s; uncompressed (0) is the only one left.
    EcPointFormats(Vec<u8>),
    /// Anything else, kept byte for byte.
    Unknown { typ: u16, data: Vec<u8> },
}

impl Extension {
    pub fn typ(&self) -> u16 {
        match self {
            Self::ServerName(_) => ext_type::SERVER_NAME,
            Self::SignatureAlgorithms(_) => ext_type::SIGNATURE_ALGORITHMS,
            Self::ExtendedMasterSecret => ext_type::EXTENDED_MASTER_SECRET,
            Self::EncryptThenMac => ext_type::ENCRYPT_THEN_MAC,
            Self::RenegotiationInfo(_) => ext_type::RENEGOTIATION_INFO,
            Self::Alpn(_) => ext_type::ALPN,
            Self::SupportedVersions(_) => ext_type::SUPPORTED_VERSIONS,
            Self::SupportedGroups(_) => ext_type::SUPPORTED_GROUPS,
            Self::EcPointFormats(_) => ext_type::EC_POINT_FORMATS,
            Self::Unknown { typ, .. } => *typ,
        }
    }
}

/// Which hello an extension sits in: a few extensions have a different body in each.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hello {
    Client,
    Server,
}

/// Reads the optional extensions block that ends both hellos.
pub(crate) fn read_extensions(r: &mut Reader<'_>, hello: Hello) -> Result<Vec<Extension>, Error> {
    // No bytes at all after the fixed fields: no extensions (RFC 5246 §7.4.1.2).
    if r.is_empty() {
        return Ok(Vec::new());
    }
    let mut block = r.sub_u16()?;
    let mut seen = HashSet::new();
    let mut extensions = Vec::new();
    while !block.is_empty() {
        let typ = block.u16()?;
        let data = block.vec_u16()?;
        if !seen.insert(typ) {
            return Err(Error::decode(format!(
                "duplicate extension {} ({typ})",
                ext_type::name(typ)
            )));
        }
        let ext = decode_extension(typ, data, hello).map_err(|e| in_extension(typ, e))?;
        extensions.push(ext);
    }
    Ok(extensions)
}

fn in_extension(typ: u16, e: Error) -> Error {
    match e {
        Error::Protocol { alert, reason } => Error::protocol(
            alert,
            format!("{} extension: {reason}", ext_type::name(typ)),
        ),
        other => other,
    }
}

fn decode_extension(typ: u16, data: &[u8], hello: Hello) -> Result<Extension, Error> {
    let mut r = Reader::new(data);
    let ext = match typ {
        // RFC 6066 §3: the server's extension_data "SHALL be empty".
        ext_type::SERVER_NAME if hello == Hello::Server => Extension::ServerName(Vec::new()),
        ext_type::SERVER_NAME => match read_server_name_list(&mut r)? {
            Some(host) => Extension::ServerName(host),
            // No host_name entry: no name for us, and the bytes are kept so the hello
            // re-encodes exactly (an empty ServerName is the ServerHello's form).
            None => Extension::Unknown {
                typ,
                data: data.to_vec(),
            },
        },
        ext_type::SIGNATURE_ALGORITHMS => {
            let list = r.vec_u16()?;
            Extension::SignatureAlgorithms(read_u16_list(list, "signature algorithms")?)
        }
        ext_type::EXTENDED_MASTER_SECRET => Extension::ExtendedMasterSecret,
        ext_type::ENCRYPT_THEN_MAC => Extension::EncryptThenMac,
        ext_type::RENEGOTIATION_INFO => Extension::RenegotiationInfo(r.vec_u8()?.to_vec()),
        ext_type::ALPN => {
            let mut list = r.sub_u16()?;
            let mut protocols = Vec::new();
            while !list.is_empty() {
                let name = list.vec_u8()?;
                if name.is_empty() {
                    return Err(Error::decode("empty protocol name"));
                }
                protocols.push(name.to_vec());
            }
            // RFC 7301 §3.1: non-empty list; the server's holds exactly one name.
            let want_one = hello == Hello::Server;
            if protocols.is_empty() || (want_one && protocols.len() != 1) {
                return Err(Error::decode(format!(
                    "{} protocol names in the list",
                    protocols.len()
                )));
            }
            Extension::Alpn(protocols)
        }
        ext_type::SUPPORTED_VERSIONS => Extension::SupportedVersions(match hello {
            Hello::Client => read_u16_list(r.vec_u8()?, "versions")?,
            Hello::Server => vec![r.u16()?],
        }),
        // NamedGroupList <2..2^16-1>.
        ext_type::SUPPORTED_GROUPS => {
            Extension::SupportedGroups(read_u16_list(r.vec_u16()?, "named group list")?)
        }
        // ECPointFormatList <1..2^8-1>.
        ext_type::EC_POINT_FORMATS => {
            let formats = r.vec_u8()?;
            if formats.is_empty() {
                return Err(Error::decode("empty ec_point_format_list"));
            }
            Extension::EcPointFormats(formats.to_vec())
        }
        _ => Extension::Unknown {
            typ,
            data: r.rest().to_vec(),
        },
    };
    // Catches a non-empty body on EMS/ETM and trailing bytes after every other body.
    r.finish()?;
    Ok(ext)
}

/// RFC 6066 §3 `ServerNameList`: keeps the `host_name` (type 0) entry, if there is one; other
/// name types are skipped, as the RFC defines none.
fn read_server_name_list(r: &mut Reader<'_>) -> Result<Option<Vec<u8>>, Error> {
    let mut list = r.sub_u16()?;
    if list.is_empty() {
        return Err(Error::decode("empty server_name_list"));
    }
    let mut host: Option<Vec<u8>> = None;
    while !list.is_empty() {
        let name_type = list.u8()?;
        let name = list.vec_u16()?;
        if name_type != 0 {
            continue;
        }
        // "MUST NOT contain more than one name of the same name_type."
        if host.is_some() {
            return Err(Error::illegal("two host_name entries"));
        }
        if name.is_empty() {
            return Err(Error::decode("empty host_name"));
        }
        host = Some(name.to_vec());
    }
    Ok(host)
}

pub(crate) fn write_extensions(out: &mut Vec<u8>, extensions: &[Extension], hello: Hello) {
    if extensions.is_empty() {
        return;
    }
    with_u16_len(out, |out| {
        for ext in extensions {
            put_u16(out, ext.typ());
            with_u16_len(out, |out| encode_extension(out, ext, hello));
        }
    });
}

fn encode_extension(out: &mut Vec<u8>, ext: &Extension, hello: Hello) {
    match ext {
        // An empty host name is the ServerHello acknowledgement: an empty body.
        Extension::ServerName(host) if host.is_empty() => {}
        Extension::ServerName(host) => with_u16_len(out, |out| {
            put_u8(out, 0); // host_name
            put_vec_u16(out, host);
        }),
        Extension::SignatureAlgorithms(algs) | Extension::SupportedGroups(algs) => {
            with_u16_len(out, |out| {
                for alg in algs {
                    put_u16(out, *alg);
                }
            })
        }
        Extension::EcPointFormats(formats) => put_vec_u8(out, formats),
        Extension::ExtendedMasterSecret | Extension::EncryptThenMac => {}
        Extension::RenegotiationInfo(data) => put_vec_u8(out, data),
        Extension::Alpn(protocols) => with_u16_len(out, |out| {
            for name in protocols {
                put_vec_u8(out, name);
            }
        }),
        Extension::SupportedVersions(versions) => match hello {
            Hello::Client => with_u8_len(out, |out| {
                for v in versions {
                    put_u16(out, *v);
                }
            }),
            Hello::Server => {
                for v in versions.iter().take(1) {
                    put_u16(out, *v);
                }
            }
        },
        Extension::Unknown { data, .. } => out.extend_from_slice(data),
    }
}
