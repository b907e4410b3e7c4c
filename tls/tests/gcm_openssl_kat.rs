//! Known-answer test for the TLS 1.2 AES-GCM record (RFC 5288 §3) against OpenSSL: records that
//! curl and `openssl s_server` exchanged, captured on loopback with their key log by
//! `tests/data/capture_gcm_records.py`, are opened here with our PRF, key-block split and record
//! construction. Nothing of ours produced them: a wrong salt, AAD layout, PRF hash or nonce rule
//! fails the tag. OpenSSL starts its explicit nonces at a random value (ours are the sequence
//! number), so this also shows that a receiver takes the nonce from the record.

use tls::crypto::cipher::RecordCipher;
use tls::crypto::prf;
use tls::suites::CipherSuite;

/// One captured connection: what the key log and the hellos gave, and each direction's first
/// application-data record (header included) with its sequence number.
struct Capture {
    suite: u16,
    client_random: &'static str,
    server_random: &'static str,
    master_secret: &'static str,
    client_seq: u64,
    client_record: &'static str,
    server_seq: u64,
    server_record: &'static str,
}

/// What `openssl s_server -WWW` answered to `GET /hello.txt`.
const RESPONSE: &[u8] = b"HTTP/1.0 200 ok\r\nContent-type: text/plain\r\n\r\n\
Hello from openssl s_server, sealed with AES-GCM.\n";

const CAPTURES: [Capture; 3] = [
    // ECDHE-RSA-AES128-GCM-SHA256
    Capture {
        suite: 0xC02F,
        client_random: "c053e85d3bb3f9d24757c74ee8806853f84fdf96f983e343224e710828cdfc07",
        server_random: "5d98fcfefe849a36f796650462befac3eea7602db73f1e0b8c6deef093789d75",
        master_secret: "88d19894daf0c6aa3434ec802d3a356987764b7b0e79f23ff566ef235e9df7cee5064b21bac0f1ea878f75c1ed3158b6",
        client_seq: 1,
        client_record: "1703030070426ef4720b152b4481225a4f7c82843493b79a39c83aef9ff9cfce51a74a23ec2594708365487b7c01e0c45d30bc043b2135cd31b2679f327bc694f9cf7efd28e68738bd8e59db0bc1cc9066a4f1d3a1ad1c8eeaa289e0ed80cd61b6164bfcd6621064902d96b95e18d0e425632507f8",
        server_seq: 1,
        server_record: "1703030077d9dd9764097528c9ca788f52390ccc3981e26bc172aa20b5996507dd4f448264620203b2f44fe42337ad3263a5395b7dd9469d5d4226fcae09fef31ff2ec0b5fa1ed31dc402855ac451f9aa3704abba2139aa018ad3e15535ba1cf1ba2f3ffbd7abf5e2e4f4c41313a50ae343b89059217060bba1c4967",
    },
    // ECDHE-RSA-AES256-GCM-SHA384: AES-256 and the SHA-384 PRF
    Capture {
        suite: 0xC030,
        client_random: "76ce01b2f688cbbe9f54b52cb514184b88cf81c1cb85fb8464b1d5c22f891ab1",
        server_random: "d4ee149b7b9fc6d8fc3ef5fed00d46331528479f742dcc745fbba4601a8c9d9c",
        master_secret: "e0e71505876d4d61d8029c6c8a50d7922a9958e48b7f78ebf936129fe6584cbebd7f315200b79c4df575fa727950aab4",
        client_seq: 1,
        client_record: "1703030070dd18e0e78ae77b796285ebd89366443ae63284c5c90f1a8ad40d0097cf6d6aa33ac8e53036c12907e857e41421f90e51110fd70982b8e5260a5abbdba6f9aa74fd46b12e8cfcf77bbdfe17be8b8dc7dbf5de90bf8c73a8dd75745b45366f4577927f7165d1e1ebb32c483aa2cce98f17",
        server_seq: 1,
        server_record: "1703030077909dc61365d0e5a24f239c99c047eab0ea6be9f938063d57b6ea9608a1f21671b59bcd30956576f1b2d4e520c978a467377bfbb1bdc415ed0e9086123e195a81143458adb6f94ab0c0a40a8b788b8e09085871ba2b7a2940542b792dd8da620db0221f06f2703d0790d11215c60eb05e3fb48d1cbe6840",
    },
    // AES128-GCM-SHA256: RSA key transport
    Capture {
        suite: 0x009C,
        client_random: "ed1447a80a5791ebc5ca6205d41ca458c0137419c4bc001d2341047f2bf81e49",
        server_random: "f24531c53a990b692910b1a367ef7f5459ab24d5aa200669a750ba28060f3faa",
        master_secret: "4bbff0a5d38813d9958e5da347d30b857337eb259ad593eb0450b4567e2174a842a92abb884af9ba6ab04f4790d7a9e2",
        client_seq: 1,
        client_record: "1703030070c9d66dc020d95dd96940e6677f5946aff3e518a6f4a3b1c1e972e0e5633a5c7068f6081e345ec1388f37cabce20c5b6dc50e45da4deb9adc7cab438c70f06882459cf050cecaa6a95fdc8496799eacb1e148051540563a2358b6732e574b2d29171b409ded2ba5cb7635ccd215728c8a",
        server_seq: 1,
        server_record: "17030300779a82793b59c4df55b482eb52f9a2a62dbd2832ce66c9ea943223a42ff080232a6945c0057e3ff44b40912164fed09d4f92759514b386ee2ef6f7c1a8e48d9b5eb3a8e1b6765f1a1e714f2df53a60a341f70a85e490285024f98b8a3b62797b55ade49e49efb4cb9589ad5fa67a3544350f7c1ba4ad3b36",
    },
];

fn bytes<const N: usize>(s: &str) -> [u8; N] {
    hex::decode(s).unwrap().try_into().unwrap()
}

/// Both directions' record protection, derived from the captured secrets by our code.
fn ciphers(c: &Capture) -> (RecordCipher, RecordCipher) {
    let suite: &'static CipherSuite = CipherSuite::from_id(c.suite).unwrap();
    let kb = prf::key_block(
        &bytes(c.master_secret),
        &bytes(c.client_random),
        &bytes(c.server_random),
        suite,
    );
    let client = RecordCipher::with_fixed_iv(
        suite,
        &kb.client_write_mac_key,
        &kb.client_write_key,
        &kb.client_write_iv,
        false,
    );
    let server = RecordCipher::with_fixed_iv(
        suite,
        &kb.server_write_mac_key,
        &kb.server_write_key,
        &kb.server_write_iv,
        false,
    );
    (client, server)
}

/// Open a captured record (header + payload) with `cipher`, as the record layer does.
fn open(cipher: &RecordCipher, seq: u64, record: &str) -> Result<Vec<u8>, ()> {
    let record = hex::decode(record).unwrap();
    let (header, payload) = record.split_at(5);
    assert_eq!(
        usize::from(u16::from_be_bytes([header[3], header[4]])),
        payload.len()
    );
    let version = u16::from_be_bytes([header[1], header[2]]);
    let mut payload = payload.to_vec();
    let range = cipher
        .open(seq, header[0], version, &mut payload)
        .map_err(|_| ())?;
    Ok(payload[range].to_vec())
}

#[test]
fn openssl_records_open_with_our_keys_and_record_construction() {
    for c in &CAPTURES {
        let (client, server) = ciphers(c);
        let response = open(&server, c.server_seq, c.server_record).unwrap();
        assert_eq!(response, RESPONSE, "suite {:04x}", c.suite);
        let request = open(&client, c.client_seq, c.client_record).unwrap();
        assert!(
            request.starts_with(b"GET /hello.txt HTTP/1.0\r\n"),
            "suite {:04x}",
            c.suite
        );
        assert!(request.ends_with(b"\r\n\r\n"), "suite {:04x}", c.suite);
    }
}

#[test]
fn openssl_explicit_nonce_is_not_the_sequence_number() {
    // Why a receiver must read the nonce from the record: OpenSSL's first one is random.
    for c in &CAPTURES {
        let record = hex::decode(c.server_record).unwrap();
        assert_ne!(record[5..13], c.server_seq.to_be_bytes());
    }
}

#[test]
fn wrong_sequence_number_direction_or_bit_fails_the_tag() {
    for c in &CAPTURES {
        let (client, server) = ciphers(c);
        // The sequence number is in the additional data, so a replayed or reordered record fails.
        assert!(open(&server, c.server_seq + 1, c.server_record).is_err());
        // Each direction has its own key and salt.
        assert!(open(&client, c.server_seq, c.server_record).is_err());
        // One flipped bit anywhere after the header (nonce, ciphertext or tag) fails.
        let mut record = hex::decode(c.server_record).unwrap();
        for i in [5, 13, record.len() - 1] {
            record[i] ^= 0x01;
            assert!(
                open(&server, c.server_seq, &hex::encode(&record)).is_err(),
                "byte {i}"
            );
            record[i] ^= 0x01;
        }
    }
}
