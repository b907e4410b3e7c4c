//! The cipher suites we speak (RFC 5246 Appendix A.5, RFC 5288, RFC 5289 §3.2, RFC 8422 §6): the
//! pre-master secret by RSA key transport or by ephemeral ECDH signed with the server's RSA key
//! (forward secrecy), the records protected by AES-CBC with HMAC or by AES-GCM (AEAD). Each suite
//! names the hash of its PRF (RFC 5246 §5): SHA-256, or SHA-384 for the `_SHA384` GCM suites.

/// The cipher that gives confidentiality (and, for the AEAD ones, integrity too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BulkCipher {
    Aes128Cbc,
    Aes256Cbc,
    /// AES in Galois/Counter Mode (RFC 5288): encrypts and authenticates in one pass.
    Aes128Gcm,
    Aes256Gcm,
}

/// The keyed hash that gives integrity, or none of its own for an AEAD cipher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MacAlgorithm {
    HmacSha1,
    HmacSha256,
    /// The AEAD cipher's tag is the integrity check; there are no MAC keys.
    Aead,
}

/// The hash of the suite's PRF, which also hashes the transcript for Finished and the extended
/// master secret (RFC 5246 §5, §7.4.9; RFC 7627 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrfHash {
    Sha256,
    Sha384,
}

impl PrfHash {
    /// Output length of the hash: also the length of the transcript hash it gives.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
        }
    }
}

/// How the pre-master secret is agreed (RFC 5246 §7.4.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyExchange {
    /// The client encrypts it under the server's certificate key: whoever later gets that key
    /// can decrypt a recording (no forward secrecy).
    Rsa,
    /// Ephemeral ECDH, the server's share signed with its RSA key (RFC 8422): the secret dies
    /// with the ephemeral keys (forward secrecy).
    EcdheRsa,
}

#[derive(Debug, PartialEq, Eq)]
pub struct CipherSuite {
    /// The two-byte code point on the wire.
    pub id: u16,
    /// IANA name, e.g. `TLS_RSA_WITH_AES_128_CBC_SHA256`.
    pub name: &'static str,
    /// OpenSSL's name, e.g. `AES128-SHA256` (what curl and `openssl s_client -cipher` use).
    pub openssl_name: &'static str,
    pub key_exchange: KeyExchange,
    pub cipher: BulkCipher,
    pub mac: MacAlgorithm,
    pub prf: PrfHash,
}

pub const TLS_RSA_WITH_AES_128_GCM_SHA256: CipherSuite = CipherSuite {
    id: 0x009C,
    name: "TLS_RSA_WITH_AES_128_GCM_SHA256",
    openssl_name: "AES128-GCM-SHA256",
    key_exchange: KeyExchange::Rsa,
    cipher: BulkCipher::Aes128Gcm,
    mac: MacAlgorithm::Aead,
    prf: PrfHash::Sha256,
};

pub const TLS_RSA_WITH_AES_128_CBC_SHA256: CipherSuite = CipherSuite {
    id: 0x003C,
    name: "TLS_RSA_WITH_AES_128_CBC_SHA256",
    openssl_name: "AES128-SHA256",
    key_exchange: KeyExchange::Rsa,
    cipher: BulkCipher::Aes128Cbc,
    mac: MacAlgorithm::HmacSha256,
    prf: PrfHash::Sha256,
};
pub const TLS_RSA_WITH_AES_256_CBC_SHA256: CipherSuite = CipherSuite {
    id: 0x003D,
    name: "TLS_RSA_WITH_AES_256_CBC_SHA256",
    openssl_name: "AES256-SHA256",
    key_exchange: KeyExchange::Rsa,
    cipher: BulkCipher::Aes256Cbc,
    mac: MacAlgorithm::HmacSha256,
    prf: PrfHash::Sha256,
};
pub const TLS_RSA_WITH_AES_128_CBC_SHA: CipherSuite = CipherSuite {
    id: 0x002F,
    name: "TLS_RSA_WITH_AES_128_CBC_SHA",
    openssl_name: "AES128-SHA",
    key_exchange: KeyExchange::Rsa,
    cipher: BulkCipher::Aes128Cbc,
    mac: MacAlgorithm::HmacSha1,
    prf: PrfHash::Sha256,
};
pub const TLS_RSA_WITH_AES_256_CBC_SHA: CipherSuite = CipherSuite {
    id: 0x0035,
    name: "TLS_RSA_WITH_AES_256_CBC_SHA",
    openssl_name: "AES256-SHA",
    key_exchange: KeyExchange::Rsa,
    cipher: BulkCipher::Aes256Cbc,
    mac: MacAlgorithm::HmacSha1,
    prf: PrfHash::Sha256,
};

pub const TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: CipherSuite = CipherSuite {
    id: 0xC027,
    name: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    openssl_name: "ECDHE-RSA-AES128-SHA256",
    key_exchange: KeyExchange::EcdheRsa,
    cipher: BulkCipher::Aes128Cbc,
    mac: MacAlgorithm::HmacSha256,
    prf: PrfHash::Sha256,
};
pub const TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: CipherSuite = CipherSuite {
    id: 0xC013,
    name: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    openssl_name: "ECDHE-RSA-AES128-SHA",
    key_exchange: KeyExchange::EcdheRsa,
    cipher: BulkCipher::Aes128Cbc,
    mac: MacAlgorithm::HmacSha1,
    prf: PrfHash::Sha256,
};
pub const TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: CipherSuite = CipherSuite {
    id: 0xC014,
    name: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    openssl_name: "ECDHE-RSA-AES256-SHA",
    key_exchange: KeyExchange::EcdheRsa,
    cipher: BulkCipher::Aes256Cbc,
    mac: MacAlgorithm::HmacSha1,
    prf: PrfHash::Sha256,
};

/// RSA key transport with AES-256-GCM: the one suite here with the SHA-384 PRF, so that path is
/// exercised (and checked against OpenSSL) before the ECDHE suite that needs it.
pub const TLS_RSA_WITH_AES_256_GCM_SHA384: CipherSuite = CipherSuite {
    id: 0x009D,
    name: "TLS_RSA_WITH_AES_256_GCM_SHA384",
    openssl_name: "AES256-GCM-SHA384",
    key_exchange: KeyExchange::Rsa,
    cipher: BulkCipher::Aes256Gcm,
    mac: MacAlgorithm::Aead,
    prf: PrfHash::Sha384,
};

// The ECDHE-RSA GCM suites (RFC 5289 §3.2): what today's advice (e.g. Mozilla's
// "intermediate" profile) keeps.
pub const TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: CipherSuite = CipherSuite {
    id: 0xC02F,
    name: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    openssl_name: "ECDHE-RSA-AES128-GCM-SHA256",
    key_exchange: KeyExchange::EcdheRsa,
    cipher: BulkCipher::Aes128Gcm,
    mac: MacAlgorithm::Aead,
    prf: PrfHash::Sha256,
};
pub const TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: CipherSuite = CipherSuite {
    id: 0xC030,
    name: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    openssl_name: "ECDHE-RSA-AES256-GCM-SHA384",
    key_exchange: KeyExchange::EcdheRsa,
    cipher: BulkCipher::Aes256Gcm,
    mac: MacAlgorithm::Aead,
    prf: PrfHash::Sha384,
};

/// All suites, in the server's default order of preference: forward secrecy first, and within
/// each key exchange AEAD before CBC.
pub static ALL_SUITES: [&CipherSuite; 11] = [
    &TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    &TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    &TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
    &TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
    &TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
    &TLS_RSA_WITH_AES_128_GCM_SHA256,
    &TLS_RSA_WITH_AES_256_GCM_SHA384,
    &TLS_RSA_WITH_AES_128_CBC_SHA256,
    &TLS_RSA_WITH_AES_256_CBC_SHA256,
    &TLS_RSA_WITH_AES_128_CBC_SHA,
    &TLS_RSA_WITH_AES_256_CBC_SHA,
];

impl CipherSuite {
    pub fn from_id(id: u16) -> Option<&'static CipherSuite> {
        ALL_SUITES.iter().copied().find(|s| s.id == id)
    }

    /// The IANA name of a suite code: ours, or one that browsers and curl commonly offer.
    pub fn iana_name(id: u16) -> Option<&'static str> {
        Self::from_id(id)
            .map(|s| s.name)
            .or_else(|| other_suite_name(id))
    }

    /// Look a suite up by its IANA or its OpenSSL name (case-insensitive).
    pub fn from_name(name: &str) -> Option<&'static CipherSuite> {
        ALL_SUITES.iter().copied().find(|s| {
            s.name.eq_ignore_ascii_case(name) || s.openssl_name.eq_ignore_ascii_case(name)
        })
    }

    /// Whether a recording stays secret even from whoever later steals the server's key.
    pub fn forward_secrecy(&self) -> bool {
        self.key_exchange == KeyExchange::EcdheRsa
    }

    pub fn enc_key_len(&self) -> usize {
        match self.cipher {
            BulkCipher::Aes128Cbc | BulkCipher::Aes128Gcm => 16,
            BulkCipher::Aes256Cbc | BulkCipher::Aes256Gcm => 32,
        }
    }

    /// Both the MAC key length and the MAC (tag) length, which are equal for HMAC in TLS 1.2;
    /// 0 for an AEAD suite (no MAC keys: the cipher's own tag authenticates).
    pub fn mac_len(&self) -> usize {
        match self.mac {
            MacAlgorithm::HmacSha1 => 20,
            MacAlgorithm::HmacSha256 => 32,
            MacAlgorithm::Aead => 0,
        }
    }

    /// An AEAD suite: one primitive encrypts and authenticates (RFC 5246 §6.2.3.3).
    pub fn is_aead(&self) -> bool {
        self.mac == MacAlgorithm::Aead
    }

    /// Length of each direction's fixed IV from the key block: GCM's 4-byte implicit nonce
    /// part, the "salt" (RFC 5288 §3); none for CBC, whose IV travels with every record.
    pub fn fixed_iv_len(&self) -> usize {
        if self.is_aead() {
            4
        } else {
            0
        }
    }

    /// AES block size: also the length of each CBC record's explicit IV.
    pub const BLOCK_LEN: usize = 16;

    /// key_block length: two MAC keys, two encryption keys, two fixed IVs (RFC 5246 §6.3).
    pub fn key_block_len(&self) -> usize {
        2 * self.mac_len() + 2 * self.enc_key_len() + 2 * self.fixed_iv_len()
    }
}

/// Parse an OpenSSL-style list (`AES128-SHA256:AES256-SHA`, commas or spaces also accepted).
/// Unknown names are an error naming them, like curl's `--ciphers`.
pub fn parse_suite_list(list: &str) -> Result<Vec<&'static CipherSuite>, String> {
    let mut out: Vec<&'static CipherSuite> = Vec::new();
    for name in list.split([':', ',', ' ']).filter(|n| !n.is_empty()) {
        let suite =
            CipherSuite::from_name(name).ok_or_else(|| format!("unknown cipher suite '{name}'"))?;
        if !out.contains(&suite) {
            out.push(suite);
        }
    }
    if out.is_empty() {
        return Err("empty cipher list".into());
    }
    Ok(out)
}

/// IANA names (RFC 5246, 5289, 7905, 8446 registries) of suites browsers and curl offer that
/// our stack may not speak.
fn other_suite_name(id: u16) -> Option<&'static str> {
    Some(match id {
        0x00FF => "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
        0x1301 => "TLS_AES_128_GCM_SHA256",
        0x1302 => "TLS_AES_256_GCM_SHA384",
        0x1303 => "TLS_CHACHA20_POLY1305_SHA256",
        0x0033 => "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
        0x0039 => "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
        0x0067 => "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
        0x006B => "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
        0x009C => "TLS_RSA_WITH_AES_128_GCM_SHA256",
        0x009D => "TLS_RSA_WITH_AES_256_GCM_SHA384",
        0x009E => "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        0x009F => "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
        0xC009 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        0xC00A => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        0xC013 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        0xC014 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        0xC023 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        0xC024 => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
        0xC027 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        0xC028 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        0xC02B => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        0xC02C => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        0xC02F => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        0xC030 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        0xCCA8 => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0xCCA9 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        0xCCAA => "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        assert_eq!(
            CipherSuite::from_id(0x003C),
            Some(&TLS_RSA_WITH_AES_128_CBC_SHA256)
        );
        assert_eq!(CipherSuite::from_id(0x1301), None);
        assert_eq!(
            CipherSuite::from_name("aes256-sha"),
            Some(&TLS_RSA_WITH_AES_256_CBC_SHA)
        );
        assert_eq!(
            TLS_RSA_WITH_AES_256_CBC_SHA256.key_block_len(),
            2 * 32 + 2 * 32
        );
        assert_eq!(
            TLS_RSA_WITH_AES_128_CBC_SHA.key_block_len(),
            2 * 20 + 2 * 16
        );
        assert_eq!(
            CipherSuite::from_name("AES128-GCM-SHA256"),
            Some(&TLS_RSA_WITH_AES_128_GCM_SHA256)
        );
    }

    #[test]
    fn gcm_suites() {
        // RFC 5288 §3: no MAC keys, two encryption keys, two 4-byte salts.
        for (suite, key, prf) in [
            (&TLS_RSA_WITH_AES_128_GCM_SHA256, 16, PrfHash::Sha256),
            (&TLS_RSA_WITH_AES_256_GCM_SHA384, 32, PrfHash::Sha384),
            (&TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, 16, PrfHash::Sha256),
            (&TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, 32, PrfHash::Sha384),
        ] {
            assert!(suite.is_aead(), "{}", suite.name);
            assert_eq!(suite.mac_len(), 0);
            assert_eq!(suite.enc_key_len(), key);
            assert_eq!(suite.fixed_iv_len(), 4);
            assert_eq!(suite.key_block_len(), 2 * key + 2 * 4);
            assert_eq!(suite.prf, prf);
            assert_eq!(suite.name.ends_with("SHA384"), prf == PrfHash::Sha384);
        }
        for suite in ALL_SUITES {
            assert_eq!(
                suite.is_aead(),
                suite.name.contains("_GCM_"),
                "{}",
                suite.name
            );
            assert_eq!(suite.fixed_iv_len() == 0, !suite.is_aead());
        }
        // The server's preference: forward secrecy first; within each key exchange, AEAD first.
        assert_eq!(ALL_SUITES[0], &TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256);
        for pair in ALL_SUITES.windows(2) {
            let rank = |s: &CipherSuite| (!s.forward_secrecy(), !s.is_aead());
            assert!(
                rank(pair[0]) <= rank(pair[1]),
                "{} before {}",
                pair[0].name,
                pair[1].name
            );
        }
        assert!(CipherSuite::from_id(0xC02F).is_some_and(|s| s.forward_secrecy()));
        assert!(CipherSuite::from_id(0xC030).is_some_and(|s| s.prf == PrfHash::Sha384));
    }

    #[test]
    fn suite_lists() {
        let l = parse_suite_list("AES128-SHA:TLS_RSA_WITH_AES_256_CBC_SHA256").unwrap_or_default();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].id, 0x002F);
        assert!(parse_suite_list("ECDHE-RSA-CHACHA20-POLY1305").is_err());
        // OpenSSL names pick either key exchange.
        let l = parse_suite_list("ECDHE-RSA-AES256-SHA:AES128-SHA256").unwrap_or_default();
        assert_eq!(l[0], &TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA);
        assert!(l[0].forward_secrecy());
        assert_eq!(l[1].key_exchange, KeyExchange::Rsa);
        assert!(!l[1].forward_secrecy());
        assert_eq!(ALL_SUITES[0].key_exchange, KeyExchange::EcdheRsa);
        assert!(parse_suite_list("").is_err());
    }
}
