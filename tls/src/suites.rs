//! The cipher suites we speak, all AES-CBC with HMAC and the P_SHA256 PRF: four with RSA key
//! transport (RFC 5246 Appendix A.5) and three with ephemeral ECDH signed by the server's RSA
//! key (RFC 8422 §6, RFC 5289 §3.2), which give forward secrecy.

/// The block cipher that gives confidentiality.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BulkCipher {
    Aes128Cbc,
    Aes256Cbc,
}

/// The keyed hash that gives integrity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MacAlgorithm {
    HmacSha1,
    HmacSha256,
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
}

pub const TLS_RSA_WITH_AES_128_CBC_SHA256: CipherSuite = CipherSuite {
    id: 0x003C,
    name: "TLS_RSA_WITH_AES_128_CBC_SHA256",
    openssl_name: "AES128-SHA256",
    key_exchange: KeyExchange::Rsa,
    cipher: BulkCipher::Aes128Cbc,
    mac: MacAlgorithm::HmacSha256,
};
pub const TLS_RSA_WITH_AES_256_CBC_SHA256: CipherSuite = CipherSuite {
    id: 0x003D,
    name: "TLS_RSA_WITH_AES_256_CBC_SHA256",
    openssl_name: "AES256-SHA256",
    key_exchange: KeyExchange::Rsa,
    cipher: BulkCipher::Aes256Cbc,
    mac: MacAlgorithm::HmacSha256,
};
pub const TLS_RSA_WITH_AES_128_CBC_SHA: CipherSuite = CipherSuite {
    id: 0x002F,
    name: "TLS_RSA_WITH_AES_128_CBC_SHA",
    openssl_name: "AES128-SHA",
    key_exchange: KeyExchange::Rsa,
    cipher: BulkCipher::Aes128Cbc,
    mac: MacAlgorithm::HmacSha1,
};
pub const TLS_RSA_WITH_AES_256_CBC_SHA: CipherSuite = CipherSuite {
    id: 0x0035,
    name: "TLS_RSA_WITH_AES_256_CBC_SHA",
    openssl_name: "AES256-SHA",
    key_exchange: KeyExchange::Rsa,
    cipher: BulkCipher::Aes256Cbc,
    mac: MacAlgorithm::HmacSha1,
};

pub const TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: CipherSuite = CipherSuite {
    id: 0xC027,
    name: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    openssl_name: "ECDHE-RSA-AES128-SHA256",
    key_exchange: KeyExchange::EcdheRsa,
    cipher: BulkCipher::Aes128Cbc,
    mac: MacAlgorithm::HmacSha256,
};
pub const TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: CipherSuite = CipherSuite {
    id: 0xC013,
    name: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    openssl_name: "ECDHE-RSA-AES128-SHA",
    key_exchange: KeyExchange::EcdheRsa,
    cipher: BulkCipher::Aes128Cbc,
    mac: MacAlgorithm::HmacSha1,
};
pub const TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: CipherSuite = CipherSuite {
    id: 0xC014,
    name: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    openssl_name: "ECDHE-RSA-AES256-SHA",
    key_exchange: KeyExchange::EcdheRsa,
    cipher: BulkCipher::Aes256Cbc,
    mac: MacAlgorithm::HmacSha1,
};

/// All suites, in the server's default order of preference: forward secrecy first.
pub static ALL_SUITES: [&CipherSuite; 7] = [
    &TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
    &TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
    &TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
    &TLS_RSA_WITH_AES_128_CBC_SHA256,
    &TLS_RSA_WITH_AES_256_CBC_SHA256,
    &TLS_RSA_WITH_AES_128_CBC_SHA,
    &TLS_RSA_WITH_AES_256_CBC_SHA,
];

impl CipherSuite {
    pub fn from_id(id: u16) -> Option<&'static CipherSuite> {
        ALL_SUITES.iter().copied().find(|s| s.id == id)
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
            BulkCipher::Aes128Cbc => 16,
            BulkCipher::Aes256Cbc => 32,
        }
    }

    /// Both the MAC key length and the MAC (tag) length, which are equal for HMAC in TLS 1.2.
    pub fn mac_len(&self) -> usize {
        match self.mac {
            MacAlgorithm::HmacSha1 => 20,
            MacAlgorithm::HmacSha256 => 32,
        }
    }

    /// AES block size: also the length of each record's explicit IV.
    pub const BLOCK_LEN: usize = 16;

    /// key_block length: two MAC keys and two encryption keys (CBC in TLS 1.2 has no fixed IVs).
    pub fn key_block_len(&self) -> usize {
        2 * self.mac_len() + 2 * self.enc_key_len()
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
    }

    #[test]
    fn suite_lists() {
        let l = parse_suite_list("AES128-SHA:TLS_RSA_WITH_AES_256_CBC_SHA256").unwrap_or_default();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].id, 0x002F);
        assert!(parse_suite_list("ECDHE-RSA-AES128-GCM-SHA256").is_err());
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
