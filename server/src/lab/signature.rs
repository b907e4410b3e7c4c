//! Lab 4: a CA's signature "opened". An RSA signature (RFC 8017 §8.2, PKCS#1 v1.5) is
//! s = EM^d mod n; anyone with the issuer's public key computes s^e mod n = EM and finds
//! `00 01 FF … FF 00 || DigestInfo(hash algorithm, H(TBSCertificate))`. The page does that for
//! every certificate of the chain this server sends, and hashes each certificate body anew.

use super::{hex, lab_page, Lab};
use crate::html::escape;
use crate::routes::Peer;
use std::fmt::Write as _;
use tls::pki::x509::Certificate;

/// One certificate's signature, opened.
pub struct Opened {
    pub subject: String,
    pub issuer: String,
    /// Whose key opened it (the issuer's subject).
    pub opened_with: String,
    /// s^e mod n: the encoded message.
    pub block: Vec<u8>,
    /// The DigestInfo DER after the padding.
    pub digest_info: Vec<u8>,
    /// The hash inside the DigestInfo (its last OCTET STRING).
    pub signed_hash: Vec<u8>,
    /// The hash of the TBSCertificate computed now.
    pub computed_hash: Vec<u8>,
    pub hash_name: &'static str,
}

/// Open each certificate's signature with the next one's key (the root's with its own).
pub fn open_chain(chain: &[Certificate]) -> Vec<Result<Opened, String>> {
    chain
        .iter()
        .enumerate()
        .map(|(i, cert)| {
            let issuer = chain
                .get(i + 1..)
                .unwrap_or(&[])
                .iter()
                .find(|c| c.subject().der() == cert.issuer().der())
                .or_else(|| cert.is_self_issued().then_some(cert))
                .ok_or_else(|| format!("the issuer of {} is not known here", cert.subject()))?;
            open(cert, issuer)
        })
        .collect()
}

fn open(cert: &Certificate, issuer: &Certificate) -> Result<Opened, String> {
    let key = issuer
        .public_key()
        .map_err(|e| format!("issuer key: {e}"))?;
    let hash = cert
        .signature_hash()
        .map_err(|e| format!("signature algorithm: {e}"))?;
    // The public operation alone, no checks: we want to *see* the block.
    let block = key
        .raw_public(cert.signature())
        .map_err(|e| format!("s^e mod n: {e:?}"))?;
    // 00 01 FF…FF 00, then the DigestInfo.
    let after_ff = block
        .get(2..)
        .and_then(|rest| rest.iter().position(|&b| b != 0xFF).map(|i| i + 2))
        .ok_or("no padding in the block")?;
    if block.first() != Some(&0) || block.get(1) != Some(&1) || block.get(after_ff) != Some(&0) {
        return Err("the block does not start 00 01 FF … 00".into());
    }
    let digest_info = block.get(after_ff + 1..).unwrap_or(&[]).to_vec();
    let len = hash.output_len();
    let signed_hash = digest_info
        .len()
        .checked_sub(len)
        .and_then(|at| digest_info.get(at..))
        .unwrap_or(&[])
        .to_vec();
    Ok(Opened {
        subject: cert.subject().to_openssl_string(),
        issuer: cert.issuer().to_openssl_string(),
        opened_with: issuer.subject().to_openssl_string(),
        computed_hash: hash.digest(cert.tbs_der()),
        block,
        digest_info,
        signed_hash,
        hash_name: match len {
            32 => "SHA-256",
            48 => "SHA-384",
            _ => "SHA-512",
        },
    })
}

pub(super) fn page(lab: &Lab, peer: &Peer) -> String {
    // The chain as this visitor received it (the server's own when plain HTTP), then the root.
    let sent: &[Vec<u8>] = peer
        .tls
        .as_ref()
        .map_or(&lab.chain[..], |t| &t.info.server_chain[..]);
    let mut chain: Vec<Certificate> = sent
        .iter()
        .filter_map(|d| Certificate::from_der(d).ok())
        .collect();
    if let Some(root) = lab
        .root
        .as_deref()
        .and_then(|d| Certificate::from_der(d).ok())
    {
        if !chain.iter().any(|c| c.der() == root.der()) {
            chain.push(root);
        }
    }
    let mut body = String::from(
        "<section><h2>How to read a signature</h2><p>A CA signs a certificate by hashing its body (the \
<i>TBSCertificate</i>: names, dates, public key, extensions), wrapping the hash in a <i>DigestInfo</i> that \
names the hash algorithm, padding it to the key's size and raising it to the CA's private exponent: \
s = EM^d mod n. Anyone can \"decrypt\" s with the CA's <b>public</b> key — s^e mod n — and get EM back. \
If the hash inside equals the hash of the body as received, the CA signed exactly these bytes.</p></section>\n",
    );
    for (depth, opened) in open_chain(&chain).iter().enumerate() {
        match opened {
            Ok(o) => {
                let equal = o.signed_hash == o.computed_hash;
                let _ = write!(
                    body,
                    "<section id=\"cert-{depth}\"><h2>Depth {depth}: {subject}</h2>\
<table><tr><th>Issued by</th><td>{issuer}</td></tr>\
<tr><th>Opened with the public key of</th><td>{with}</td></tr>\
<tr><th>s^e mod n ({n} bytes)</th><td><span class=\"hex small\">{block}</span></td></tr>\
<tr><th>DigestInfo</th><td><span class=\"hex\" id=\"digestinfo-{depth}\">{di}</span></td></tr>\
<tr><th>{h} inside the signature</th><td><span class=\"hex\" id=\"signed-{depth}\">{signed}</span></td></tr>\
<tr><th>{h} of the TBSCertificate, now</th><td><span class=\"hex\" id=\"computed-{depth}\">{computed}</span></td></tr>\
<tr><th>Verdict</th><td class=\"{class}\" id=\"verdict-{depth}\">{verdict}</td></tr></table></section>",
                    subject = escape(&o.subject),
                    issuer = escape(&o.issuer),
                    with = escape(&o.opened_with),
                    n = o.block.len(),
                    block = hex(&o.block),
                    di = hex(&o.digest_info),
                    h = o.hash_name,
                    signed = hex(&o.signed_hash),
                    computed = hex(&o.computed_hash),
                    class = if equal { "ok" } else { "bad" },
                    verdict = if equal {
                        "equal: the issuer signed exactly this certificate"
                    } else {
                        "different: this certificate was not signed by that key"
                    },
                );
                body.push('\n');
            }
            Err(e) => {
                let _ = write!(
                    body,
                    "<section><h2>Depth {depth}</h2><p class=\"bad\">{}</p></section>",
                    escape(e)
                );
            }
        }
    }
    body.push_str(
        "<p class=\"small muted\">Check it yourself: <code>openssl x509 -in cert.pem -outform der | \
openssl asn1parse -inform der -strparse 4 -noout -out tbs.der; sha256sum tbs.der</code>.</p>",
    );
    lab_page(
        "4. A CA's signature",
        "Each certificate this server sent, its signature opened with the issuer's public key.",
        &body,
    )
}
