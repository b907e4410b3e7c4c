//! The TLS 1.2 pseudo-random function and everything derived with it (RFC 5246 §5): the master
//! secret (§8.1, or the extended master secret of RFC 7627 §4), the key block (§6.3) and the
//! Finished message's `verify_data` (§7.4.9).
//!
//! The suite names the PRF's hash: P_SHA256 for most, P_SHA384 for the `_SHA384` GCM suites
//! (RFC 5288 §3, RFC 5289 §3.2):
//!
//! ```text
//! PRF(secret, label, seed) = P_hash(secret, label + seed)
//! P_hash(secret, seed)     = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + ...
//! A(0) = seed,  A(i) = HMAC(secret, A(i-1))
//! ```

use crate::suites::{CipherSuite, PrfHash};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Sha256, Sha384};

/// Fill `out` with PRF(secret, label, seed) over `hash`, as many bytes as it is long.
pub fn prf(hash: PrfHash, secret: &[u8], label: &[u8], seed: &[u8], out: &mut [u8]) {
    match hash {
        PrfHash::Sha256 => p_hash::<Hmac<Sha256>>(secret, label, seed, out),
        PrfHash::Sha384 => p_hash::<Hmac<Sha384>>(secret, label, seed, out),
    }
}

/// PRF with P_SHA256, the PRF of every suite in RFC 5246.
pub fn prf_sha256(secret: &[u8], label: &[u8], seed: &[u8], out: &mut [u8]) {
    p_hash::<Hmac<Sha256>>(secret, label, seed, out)
}

/// P_hash(secret, label + seed) with the HMAC `M`.
fn p_hash<M: Mac + KeyInit + Clone>(secret: &[u8], label: &[u8], seed: &[u8], out: &mut [u8]) {
    // Key the HMAC once; every block below starts from a copy of this state.
    // HMAC hashes long keys and pads short ones, so every key length is valid.
    let keyed = <M as KeyInit>::new_from_slice(secret).expect("HMAC accepts keys of any length");

    // A(1) = HMAC(secret, label + seed)
    let mut a = keyed.clone();
    a.update(label);
    a.update(seed);
    let mut a_i = a.finalize().into_bytes();

    for chunk in out.chunks_mut(a_i.len()) {
        let mut block = keyed.clone();
        block.update(&a_i);
        block.update(label);
        block.update(seed);
        let bytes = block.finalize().into_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);

        let mut next = keyed.clone();
        next.update(&a_i);
        a_i = next.finalize().into_bytes();
    }
}

/// master_secret = PRF(pre_master_secret, "master secret", ClientHello.random + ServerHello.random)
/// (RFC 5246 §8.1), with the suite's PRF `hash`.
pub fn master_secret(
    hash: PrfHash,
    pre_master_secret: &[u8],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> [u8; 48] {
    let mut seed = [0u8; 64];
    seed[..32].copy_from_slice(client_random);
    seed[32..].copy_from_slice(server_random);
    let mut out = [0u8; 48];
    prf(hash, pre_master_secret, b"master secret", &seed, &mut out);
    out
}

/// master_secret = PRF(pre_master_secret, "extended master secret", session_hash) (RFC 7627 §4),
/// where session_hash is the hash (the PRF's, `hash`) of the handshake messages up to and including
/// ClientKeyExchange. Binding the secret to the whole transcript defeats the triple handshake attack.
pub fn extended_master_secret(
    hash: PrfHash,
    pre_master_secret: &[u8],
    session_hash: &[u8],
) -> [u8; 48] {
    let mut out = [0u8; 48];
    prf(
        hash,
        pre_master_secret,
        b"extended master secret",
        session_hash,
        &mut out,
    );
    out
}

/// The key material of one connection, cut from the key block (RFC 5246 §6.3). CBC in TLS 1.2
/// sends an explicit IV with every record, so its fixed IVs are empty; GCM has no MAC keys and
/// takes a 4-byte fixed IV (the nonce's "salt") per direction (RFC 5288 §3).
#[derive(Clone, PartialEq, Eq)]
pub struct KeyBlock {
    pub client_write_mac_key: Vec<u8>,
    pub server_write_mac_key: Vec<u8>,
    pub client_write_key: Vec<u8>,
    pub server_write_key: Vec<u8>,
    pub client_write_iv: Vec<u8>,
    pub server_write_iv: Vec<u8>,
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
/// RFC's order: client MAC key, server MAC key, client key, server key, client IV, server IV.
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
    prf(
        suite.prf,
        master_secret,
        b"key expansion",
        &seed,
        &mut block,
    );

    let (mac_len, key_len) = (suite.mac_len(), suite.enc_key_len());
    let (client_write_mac_key, rest) = block.split_at(mac_len);
    let (server_write_mac_key, rest) = rest.split_at(mac_len);
    let (client_write_key, rest) = rest.split_at(key_len);
    let (server_write_key, rest) = rest.split_at(key_len);
    let (client_write_iv, server_write_iv) = rest.split_at(suite.fixed_iv_len());
    KeyBlock {
        client_write_mac_key: client_write_mac_key.to_vec(),
        server_write_mac_key: server_write_mac_key.to_vec(),
        client_write_key: client_write_key.to_vec(),
        server_write_key: server_write_key.to_vec(),
        client_write_iv: client_write_iv.to_vec(),
        server_write_iv: server_write_iv.to_vec(),
    }
}

/// verify_data = PRF(master_secret, finished_label, Hash(handshake_messages))[0..12]
/// (RFC 5246 §7.4.9). `label` is `b"client finished"` or `b"server finished"`; `handshake_hash`
/// is the hash (the PRF's, `hash`) of every handshake message before this Finished. verify_data
/// is 12 bytes whatever the hash.
pub fn verify_data(
    hash: PrfHash,
    master_secret: &[u8; 48],
    label: &[u8],
    handshake_hash: &[u8],
) -> [u8; 12] {
    let mut out = [0u8; 12];
    prf(hash, master_secret, label, handshake_hash, &mut out);
    out
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

    // The PRF-SHA384 vector published on the IETF TLS list beside the SHA-256 one (also
    // rustls's prf-result.2.bin); confirmed with
    // `openssl kdf -keylen 148 -kdfopt digest:SHA384 -kdfopt hexsecret:b80b...
    //  -kdfopt hexseed:<hex("test label")>cd66... TLS1-PRF`.
    const PUBLISHED_384_SECRET: &str = "b80b733d6ceefcdc71566ea48e5567df";
    const PUBLISHED_384_SEED: &str = "cd665cf6a8447dd6ff8b27555edb7465";
    const PUBLISHED_384_OUT: &str = "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd\
                                     e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd\
                                     8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425\
                                     9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6\
                                     91c8f3a26854308d5eaa3be85e0990703d73e56f";

    #[test]
    fn published_prf_sha384_vector() {
        let mut out = [0u8; 148];
        prf(
            PrfHash::Sha384,
            &unhex(PUBLISHED_384_SECRET),
            b"test label",
            &unhex(PUBLISHED_384_SEED),
            &mut out,
        );
        assert_eq!(hex::encode(out), PUBLISHED_384_OUT);
        // The same inputs through P_SHA256 give something else: the hash is really switched.
        let mut other = [0u8; 148];
        prf(
            PrfHash::Sha256,
            &unhex(PUBLISHED_384_SECRET),
            b"test label",
            &unhex(PUBLISHED_384_SEED),
            &mut other,
        );
        assert_ne!(other, out);
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

    // The same with `-kdfopt digest:SHA384` (the SHA384 suites), and a 48-byte handshake hash
    // a0 .. cf; KEY_BLOCK_384 is the 72 bytes of TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384.
    const MS_384: &str = "89f5a0912340fc16083ccf6048e820e04431bcd8ea2f6945c8573077c17c8045\
                          f538747e67106bd634b1c52c9359bc1c";
    const EMS_384: &str = "d4fe8cda35e2ed54760bb9d3dbf6975790aac33fe50c80cdd7c788c4105f68c5\
                           d1f322cdf9edf6a137508e0bbb42fade";
    const CLIENT_FINISHED_384: &str = "578d4b16e1415a38c882e806";
    const SERVER_FINISHED_384: &str = "5e82acb97df2fb85157962dc";
    const KEY_BLOCK_384: &str = "0f2df380e92cb97d3e9f3b557ea99063aaf08470cf47cf270fc37397e2e16a82\
                                 4d6a978eda452e1a664f9e908fc76065928cf2f4561457b603ffa772afda7b0f\
                                 a8aef14d2db12e58";

    fn master() -> [u8; 48] {
        master_secret(
            PrfHash::Sha256,
            &counting::<48>(0),
            &counting(0x40),
            &counting(0x80),
        )
    }

    #[test]
    fn sha384_schedule_known_answers() {
        let ms = master_secret(
            PrfHash::Sha384,
            &counting::<48>(0),
            &counting(0x40),
            &counting(0x80),
        );
        assert_eq!(hex::encode(ms), MS_384);
        let hash = counting::<48>(0xa0);
        let ems = extended_master_secret(PrfHash::Sha384, &counting::<48>(0), &hash);
        assert_eq!(hex::encode(ems), EMS_384);
        let finished = |label: &[u8]| hex::encode(verify_data(PrfHash::Sha384, &ms, label, &hash));
        assert_eq!(finished(b"client finished"), CLIENT_FINISHED_384);
        assert_eq!(finished(b"server finished"), SERVER_FINISHED_384);

        // The key block follows the suite's PRF: 2 keys of 32 bytes, 2 salts of 4, no MAC keys.
        let suite = &crate::suites::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384;
        let kb = key_block(&ms, &counting(0x40), &counting(0x80), suite);
        assert!(kb.client_write_mac_key.is_empty() && kb.server_write_mac_key.is_empty());
        let joined = [
            kb.client_write_key.as_slice(),
            &kb.server_write_key,
            &kb.client_write_iv,
            &kb.server_write_iv,
        ]
        .concat();
        assert_eq!(hex::encode(joined), KEY_BLOCK_384);
        assert_eq!(kb.client_write_iv.len(), 4);
    }

    #[test]
    fn master_secret_known_answer() {
        assert_eq!(hex::encode(master()), MS);
    }

    #[test]
    fn extended_master_secret_known_answer() {
        let ems =
            extended_master_secret(PrfHash::Sha256, &counting::<48>(0), &counting::<32>(0xa0));
        assert_eq!(hex::encode(ems), EMS);
    }

    #[test]
    fn verify_data_known_answers() {
        let hash = counting::<32>(0xa0);
        let ms = master();
        assert_eq!(
            hex::encode(verify_data(PrfHash::Sha256, &ms, b"client finished", &hash)),
            CLIENT_FINISHED
        );
        assert_eq!(
            hex::encode(verify_data(PrfHash::Sha256, &ms, b"server finished", &hash)),
            SERVER_FINISHED
        );
    }

    #[test]
    fn key_block_split_per_suite() {
        let full = unhex(KEY_BLOCK_128);
        let ms = master();
        for suite in ALL_SUITES.iter().filter(|s| s.prf == PrfHash::Sha256) {
            let kb = key_block(&ms, &counting(0x40), &counting(0x80), suite);
            let (m, k, iv) = (suite.mac_len(), suite.enc_key_len(), suite.fixed_iv_len());
            assert_eq!(kb.client_write_mac_key.len(), m, "{}", suite.name);
            assert_eq!(kb.server_write_mac_key.len(), m);
            assert_eq!(kb.client_write_key.len(), k);
            assert_eq!(kb.server_write_key.len(), k);
            assert_eq!(kb.client_write_iv.len(), iv);
            assert_eq!(kb.server_write_iv.len(), iv);
            // Each suite (all P_SHA256 here) takes a prefix of the same PRF stream, in the
            // RFC's order.
            let joined = [
                kb.client_write_mac_key.as_slice(),
                &kb.server_write_mac_key,
                &kb.client_write_key,
                &kb.server_write_key,
                &kb.client_write_iv,
                &kb.server_write_iv,
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
    fn openssl_tls1_prf(
        digest: &str,
        secret: &[u8],
        label: &[u8],
        seed: &[u8],
        len: usize,
    ) -> Vec<u8> {
        let mut command = std::process::Command::new("openssl");
        command
            .args(["kdf", "-keylen", &len.to_string()])
            .args(["-kdfopt", &format!("digest:{digest}")])
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
        // SHA-384's HMAC block is 128 bytes and its output 48: (200, 48, 97) crosses both.
        for (hash, digest, secret_len, seed_len, out_len) in [
            (PrfHash::Sha256, "SHA256", 48, 64, 48),
            (PrfHash::Sha256, "SHA256", 16, 0, 1),
            (PrfHash::Sha256, "SHA256", 100, 77, 65),
            (PrfHash::Sha256, "SHA256", 1, 32, 12),
            (PrfHash::Sha384, "SHA384", 48, 64, 72),
            (PrfHash::Sha384, "SHA384", 200, 48, 97),
        ] {
            let mut secret = vec![0u8; secret_len];
            let mut seed = vec![0u8; seed_len];
            rng.fill(&mut secret[..]);
            rng.fill(&mut seed[..]);
            let expected = openssl_tls1_prf(digest, &secret, b"some label", &seed, out_len);
            assert_eq!(expected.len(), out_len);
            let mut ours = vec![0u8; out_len];
            prf(hash, &secret, b"some label", &seed, &mut ours);
            assert_eq!(
                ours, expected,
                "{digest} secret {secret_len} seed {seed_len}"
            );
        }
    }
}
