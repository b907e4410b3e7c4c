//! The TLS 1.2 pseudo-random function and everything derived with it (RFC 5246 §5): the master
//! secret (§8.1, or the extended master secret of RFC 7627 §4), the key block (§6.3) and the
//! Finished message's `verify_data` (§7.4.9).
//!
//! All four of our cipher suites use P_SHA256, so there is only one PRF here:
//!
//! ```text
//! PRF(secret, label, seed) = P_SHA256(secret, label + seed)
//! P_SHA256(secret, seed)   = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + ...
//! A(0) = seed,  A(i) = HMAC(secret, A(i-1))
//! ```

use crate::suites::CipherSuite;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Fill `out` with PRF(secret, label, seed), as many bytes as it is long.
pub fn prf_sha256(secret: &[u8], label: &[u8], seed: &[u8], out: &mut [u8]) {
    // Key the HMAC once; every block below starts from a copy of this state.
    let keyed = hmac_sha256(secret);

    // A(1) = HMAC(secret, label + seed)
    let mut a = keyed.clone();
    a.update(label);
    a.update(seed);
    let mut a_i: [u8; 32] = a.finalize().into_bytes().into();

    for chunk in out.chunks_mut(32) {
        let mut block = keyed.clone();
        block.update(&a_i);
        block.update(label);
        block.update(seed);
        let bytes: [u8; 32] = block.finalize().into_bytes().into();
        chunk.copy_from_slice(&bytes[..chunk.len()]);

        let mut next = keyed.clone();
        next.update(&a_i);
        a_i = next.finalize().into_bytes().into();
    }
}

/// master_secret = PRF(pre_master_secret, "master secret", ClientHello.random + ServerHello.random)
/// (RFC 5246 §8.1).
pub fn master_secret(
    pre_master_secret: &[u8],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> [u8; 48] {
    let mut seed = [0u8; 64];
    seed[..32].copy_from_slice(client_random);
    seed[32..].copy_from_slice(server_random);
    let mut out = [0u8; 48];
    prf_sha256(pre_master_secret, b"master secret", &seed, &mut out);
    out
}

/// master_secret = PRF(pre_master_secret, "extended master secret", session_hash) (RFC 7627 §4),
/// where session_hash is the SHA-256 of the handshake messages up to and including
/// ClientKeyExchange. Binding the secret to the whole transcript defeats the triple handshake attack.
pub fn extended_master_secret(pre_master_secret: &[u8], session_hash: &[u8]) -> [u8; 48] {
    let mut out = [0u8; 48];
    prf_sha256(
        pre_master_secret,
        b"extended master secret",
        session_hash,
        &mut out,
    );
    out
}

/// The key material of one connection, cut from the key block (RFC 5246 §6.3). CBC in TLS 1.2
/// sends an explicit IV with every record, so there are no fixed IVs to derive.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyBlock {
    pub client_write_mac_key: Vec<u8>,
    pub server_write_mac_key: Vec<u8>,
    pub client_write_key: Vec<u8>,
    pub server_write_key: Vec<u8>,
}

impl std::fmt::Debug for KeyBlock {
    // Keys stay out of logs; the key log file is the one deliberate way to export secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyBlock")
            .field("mac_key_len", &self.client_write_mac_key.len())
            .field("enc_key_len", &self.client_write_key.len())
            .finish_non_exhaustive()
    }
}

/// key_block = PRF(master_secret, "key expansion", server_random + client_random), split in the
/// RFC's order: client MAC key, server MAC key, client key, server key.
/// Note the randoms come server first here, the other way round from the master secret.
pub fn key_block(
    master_secret: &[u8; 48],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
    suite: &CipherSuite,
) -> KeyBlock {
    let mut seed = [0u8; 64];
    seed[..32].copy_from_slice(server_random);
    seed[32..].copy_from_slice(client_random);
    let mut block = vec![0u8; suite.key_block_len()];
    prf_sha256(master_secret, b"key expansion", &seed, &mut block);

    let (mac_len, key_len) = (suite.mac_len(), suite.enc_key_len());
    let (client_write_mac_key, rest) = block.split_at(mac_len);
    let (server_write_mac_key, rest) = rest.split_at(mac_len);
    let (client_write_key, server_write_key) = rest.split_at(key_len);
    KeyBlock {
        client_write_mac_key: client_write_mac_key.to_vec(),
        server_write_mac_key: server_write_mac_key.to_vec(),
        client_write_key: client_write_key.to_vec(),
        server_write_key: server_write_key.to_vec(),
    }
}

/// verify_data = PRF(master_secret, finished_label, Hash(handshake_messages))[0..12]
/// (RFC 5246 §7.4.9). `label` is `b"client finished"` or `b"server finished"`; `handshake_hash`
/// is the SHA-256 of every handshake message before this Finished.
pub fn verify_data(master_secret: &[u8; 48], label: &[u8], handshake_hash: &[u8]) -> [u8; 12] {
    let mut out = [0u8; 12];
    prf_sha256(master_secret, label, handshake_hash, &mut out);
    out
}

fn hmac_sha256(key: &[u8]) -> HmacSha256 {
    // HMAC hashes long keys and pads short ones, so every key length is valid.
    <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suites::ALL_SUITES;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap_or_else(|e| panic!("bad hex in test: {e}"))
    }

    /// Bytes start, start+1, ... (mod 256): the fixed inputs of the known answers below.
    fn counting<const N: usize>(start: u8) -> [u8; N] {
        std::array::from_fn(|i| start.wrapping_add(i as u8))
    }

    // The PRF-SHA256 vector published on the IETF TLS list (also used by rustls's
    // prf-result.1.bin); the full 100 bytes were confirmed with `openssl kdf ... TLS1-PRF`.
    const PUBLISHED_SECRET: &str = "9bbe436ba940f017b17652849a71db35";
    const PUBLISHED_SEED: &str = "a0ba9f936cda311827a6f796ffd5198c";
    const PUBLISHED_OUT: &str = "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a\
                                 6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab\
                                 4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701\
                                 87347b66";

    #[test]
    fn published_prf_sha256_vector() {
        let mut out = [0u8; 100];
        prf_sha256(
            &unhex(PUBLISHED_SECRET),
            b"test label",
            &unhex(PUBLISHED_SEED),
            &mut out,
        );
        assert_eq!(hex::encode(out), PUBLISHED_OUT);
    }

    #[test]
    fn prefix_property() {
        // P_hash output does not depend on how much is asked for: shorter is a prefix of longer.
        let mut long = [0u8; 100];
        let mut short = [0u8; 33];
        prf_sha256(b"secret", b"label", b"seed", &mut long);
        prf_sha256(b"secret", b"label", b"seed", &mut short);
        assert_eq!(&long[..33], &short[..]);
        // Every length, including 0 and the 32-byte block edges, is a prefix of the longest.
        for n in 0..=long.len() {
            let mut out = vec![0u8; n];
            prf_sha256(b"secret", b"label", b"seed", &mut out);
            assert_eq!(out, long[..n], "length {n}");
        }
        // Output is not just a function of the secret: label and seed change it.
        let mut other = [0u8; 33];
        prf_sha256(b"secret", b"label", b"seee", &mut other);
        assert_ne!(other, short);
        prf_sha256(b"secret", b"lab3l", b"seed", &mut other);
        assert_ne!(other, short);
    }

    // Known answers computed once with OpenSSL 3.0 `openssl kdf -kdfopt digest:SHA256 TLS1-PRF`
    // (hexseed = hex(label) + seed), inputs: pre_master_secret = 00 01 .. 2f,
    // client_random = 40 41 .. 5f, server_random = 80 81 .. 9f, session/handshake hash = a0 .. bf.
    const MS: &str = "a1b3c58fbcafdd223ec0a71efbb1f6be268642b5ce2ae0a70f69273cd5e3af02\
                      ec675cd902da4b307993a7a6e3f3c441";
    const EMS: &str = "6e70ef47dda84c4a539e7640a1d33994a4130ab28c2164c6dfeac955bf191233\
                       c52f77e8e108da25c74b8751070e6fa3";
    const KEY_BLOCK_128: &str = "1527e9a818caec47429cc8a0bbbfa342775fde4dff6f7c574492a826dd8cb335\
                                 f1b6fb44a30acb26c26d16bd6c9325ad256addbf8978c59635c6877c58dae700\
                                 9c75d83d0c3fe158ee0745ffb43ef35a458c511824e79a12299f9c7a49dc1776\
                                 b8b5add492f8d61d9a66c6f79358dd575e9693e921706410efc670a48c8fbe45";
    const CLIENT_FINISHED: &str = "fef4b7614964040e87e44765";
    const SERVER_FINISHED: &str = "e55f508d36d1a24d369ff345";

    fn master() -> [u8; 48] {
        master_secret(&counting::<48>(0), &counting(0x40), &counting(0x80))
    }

    #[test]
    fn master_secret_known_answer() {
        assert_eq!(hex::encode(master()), MS);
    }

    #[test]
    fn extended_master_secret_known_answer() {
        let ems = extended_master_secret(&counting::<48>(0), &counting::<32>(0xa0));
        assert_eq!(hex::encode(ems), EMS);
    }

    #[test]
    fn verify_data_known_answers() {
        let hash = counting::<32>(0xa0);
        let ms = master();
        assert_eq!(
            hex::encode(verify_data(&ms, b"client finished", &hash)),
            CLIENT_FINISHED
        );
        assert_eq!(
            hex::encode(verify_data(&ms, b"server finished", &hash)),
            SERVER_FINISHED
        );
    }

    #[test]
    fn key_block_split_per_suite() {
        let full = unhex(KEY_BLOCK_128);
        let ms = master();
        for suite in ALL_SUITES {
            let kb = key_block(&ms, &counting(0x40), &counting(0x80), suite);
            let (m, k) = (suite.mac_len(), suite.enc_key_len());
            assert_eq!(kb.client_write_mac_key.len(), m, "{}", suite.name);
            assert_eq!(kb.server_write_mac_key.len(), m);
            assert_eq!(kb.client_write_key.len(), k);
            assert_eq!(kb.server_write_key.len(), k);
            // Each suite takes a prefix of the same PRF stream, in the RFC's order.
            let joined = [
                kb.client_write_mac_key.as_slice(),
                &kb.server_write_mac_key,
                &kb.client_write_key,
                &kb.server_write_key,
            ]
            .concat();
            assert_eq!(joined, full[..suite.key_block_len()], "{}", suite.name);
        }
        // AES256-SHA256 needs the whole 128 bytes; check it exactly.
        let kb = key_block(
            &ms,
            &counting(0x40),
            &counting(0x80),
            &crate::suites::TLS_RSA_WITH_AES_256_CBC_SHA256,
        );
        assert_eq!(hex::encode(&kb.client_write_mac_key), &KEY_BLOCK_128[..64]);
        assert_eq!(hex::encode(&kb.server_write_key), &KEY_BLOCK_128[192..]);
        assert!(!format!("{kb:?}").contains(&KEY_BLOCK_128[..8]));
    }

    /// Runs `openssl kdf`. A missing program fails the test, naming the package: this is the
    /// only live check of the PRF by another implementation. A hang fails it after 60 s.
    fn openssl_tls1_prf(secret: &[u8], label: &[u8], seed: &[u8], len: usize) -> Vec<u8> {
        let mut command = std::process::Command::new("openssl");
        command
            .args(["kdf", "-keylen", &len.to_string()])
            .args(["-kdfopt", "digest:SHA256"])
            .args(["-kdfopt", &format!("hexsecret:{}", hex::encode(secret))])
            .args([
                "-kdfopt",
                &format!("hexseed:{}{}", hex::encode(label), hex::encode(seed)),
            ])
            .arg("TLS1-PRF")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let child = command.spawn().unwrap_or_else(|e| {
            panic!("cannot run openssl ({e}): install the Debian package `openssl`")
        });
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait_with_output());
        });
        let output = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("openssl kdf did not finish within 60 s"))
            .unwrap_or_else(|e| panic!("openssl kdf: {e}"));
        assert!(output.status.success(), "openssl kdf failed: {output:?}");
        let text = String::from_utf8_lossy(&output.stdout).replace([':', '\n', '\r'], "");
        unhex(text.trim())
    }

    #[test]
    fn matches_openssl_live() {
        use rand::RngExt;
        let mut rng = rand::rng();
        // Lengths around the 32-byte block boundary, secrets shorter and longer than 64 bytes.
        for (secret_len, seed_len, out_len) in
            [(48, 64, 48), (16, 0, 1), (100, 77, 65), (1, 32, 12)]
        {
            let mut secret = vec![0u8; secret_len];
            let mut seed = vec![0u8; seed_len];
            rng.fill(&mut secret[..]);
            rng.fill(&mut seed[..]);
            let expected = openssl_tls1_prf(&secret, b"some label", &seed, out_len);
            assert_eq!(expected.len(), out_len);
            let mut ours = vec![0u8; out_len];
            prf_sha256(&secret, b"some label", &seed, &mut ours);
            assert_eq!(ours, expected, "secret {secret_len} seed {seed_len}");
        }
    }
}
