//! nameConstraints (RFC 5280 §4.2.1.10): every CA of the path, the anchor included, critical
//! or not, limits the names of the leaf — its subjectAltName dNSName and iPAddress entries,
//! and the subject CN when it looks like a host name. A constraint of a name type we do not
//! implement refuses the path: ignoring it would widen what the CA allowed.

use super::profile::is_preferred_dns_syntax;
use super::x509::{Certificate, Subtree};
use super::{CertError, CertErrorKind};
use std::net::IpAddr;

/// A name of the leaf, as constraints see it.
enum LeafName<'a> {
    Dns(&'a str),
    Ip(IpAddr),
}

impl std::fmt::Display for LeafName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LeafName::Dns(d) => write!(f, "DNS:{}", crate::text::escape_peer(d)),
            LeafName::Ip(ip) => write!(f, "IP:{ip}"),
        }
    }
}

pub(crate) fn check_name_constraints(path: &[&Certificate]) -> Result<(), CertError> {
    let Some(leaf) = path.first() else {
        return Ok(());
    };
    let mut names: Vec<LeafName<'_>> = leaf.dns_names().iter().map(|d| LeafName::Dns(d)).collect();
    names.extend(leaf.ip_addresses().iter().map(|ip| LeafName::Ip(*ip)));
    for cn in leaf.subject().common_names() {
        if let Ok(ip) = cn.parse::<IpAddr>() {
            names.push(LeafName::Ip(ip));
        } else if cn.contains('.') && is_preferred_dns_syntax(cn) {
            names.push(LeafName::Dns(cn));
        }
    }
    for (depth, ca) in path.iter().enumerate().skip(1) {
        let Some(nc) = ca.name_constraints() else {
            continue;
        };
        if let Some(Subtree::Unsupported(what)) = nc
            .permitted
            .iter()
            .chain(&nc.excluded)
            .find(|t| matches!(t, Subtree::Unsupported(_)))
        {
            let code = if what == "minimum/maximum" { 49 } else { 51 };
            return Err(violation(
                code,
                format!(
                    "unsupported name constraint type: {what} in the nameConstraints of the CA at \
                     depth {depth} (RFC 5280 4.2.1.10; not enforced, so not accepted)"
                ),
                depth,
            ));
        }
        for name in &names {
            if let Some(tree) = nc.excluded.iter().find(|t| touches(name, t)) {
                return Err(violation(
                    48,
                    format!(
                        "excluded subtree violation: {name} is within {} excluded by the CA at \
                         depth {depth} (RFC 5280 4.2.1.10)",
                        show(tree)
                    ),
                    0,
                ));
            }
            let same_type: Vec<&Subtree> =
                nc.permitted.iter().filter(|t| same_type(name, t)).collect();
            if !same_type.is_empty() && !same_type.iter().any(|t| within(name, t)) {
                return Err(violation(
                    47,
                    format!(
                        "permitted subtree violation: {name} is outside the subtrees the CA at \
                         depth {depth} permits (RFC 5280 4.2.1.10)"
                    ),
                    0,
                ));
            }
        }
    }
    Ok(())
}

fn violation(code: u32, reason: String, depth: usize) -> CertError {
    CertError::new(
        CertErrorKind::Profile {
            code: Some(code),
            reason,
        },
        depth,
    )
}

fn show(tree: &Subtree) -> String {
    match tree {
        Subtree::Dns(d) => format!("DNS:{}", crate::text::escape_peer(d)),
        Subtree::Ip { addr, mask } => format!("IP:{}/{}", hex(addr), hex(mask)),
        Subtree::Unsupported(what) => what.clone(),
    }
}

fn hex(bytes: &[u8]) -> String {
    crate::pki::x509::hex_colon(bytes, true)
}

fn same_type(name: &LeafName<'_>, tree: &Subtree) -> bool {
    match (name, tree) {
        (LeafName::Dns(_), Subtree::Dns(_)) => true,
        (LeafName::Ip(ip), Subtree::Ip { addr, .. }) => ip_octets(ip).len() == addr.len(),
        _ => false,
    }
}

/// Every name `name` stands for is inside the subtree (a wildcard stands for many).
fn within(name: &LeafName<'_>, tree: &Subtree) -> bool {
    match (name, tree) {
        (LeafName::Dns(d), Subtree::Dns(c)) => dns_in(d, c, false),
        (LeafName::Ip(ip), Subtree::Ip { addr, mask }) => ip_in(ip, addr, mask),
        _ => false,
    }
}

/// Some name `name` stands for is inside the subtree.
fn touches(name: &LeafName<'_>, tree: &Subtree) -> bool {
    match (name, tree) {
        (LeafName::Dns(d), Subtree::Dns(c)) => dns_in(d, c, true),
        (LeafName::Ip(ip), Subtree::Ip { addr, mask }) => ip_in(ip, addr, mask),
        _ => false,
    }
}

/// DNS subtree `c`: `example.com` holds itself and every name below it; `.example.com` (a
/// common form) only the names below it; an empty one holds everything. A wildcard
/// `*.R` stands for every `L.R` with one label L: `any` asks whether one of them is inside,
/// otherwise all of them must be.
fn dns_in(name: &str, constraint: &str, any: bool) -> bool {
    let name = name.to_ascii_lowercase();
    let constraint = constraint.to_ascii_lowercase();
    let below_only = constraint.starts_with('.');
    let c = constraint.trim_start_matches('.');
    if c.is_empty() {
        return true;
    }
    let below =
        |n: &str| n.len() > c.len() && n.ends_with(c) && n[..n.len() - c.len()].ends_with('.');
    let inside = |n: &str| below(n) || (!below_only && n == c);
    match name.strip_prefix("*.") {
        None => inside(&name),
        Some(rest) => {
            // Every L.rest is below c exactly when rest is c or below it.
            let all = rest == c || below(rest);
            let some = c
                .strip_suffix(rest)
                .and_then(|l| l.strip_suffix('.'))
                .is_some_and(|l| !l.is_empty() && !l.contains('.'));
            all || (any && some)
        }
    }
}

fn ip_octets(ip: &IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

fn ip_in(ip: &IpAddr, addr: &[u8], mask: &[u8]) -> bool {
    let octets = ip_octets(ip);
    octets.len() == addr.len()
        && octets
            .iter()
            .zip(addr)
            .zip(mask)
            .all(|((o, a), m)| o & m == a & m)
}

#[cfg(test)]
mod tests {
    use super::dns_in;

    #[test]
    fn dns_subtrees() {
        assert!(dns_in("example.com", "example.com", false));
        assert!(dns_in("a.example.com", "example.com", false));
        assert!(dns_in("A.Example.com", "example.com", false));
        assert!(!dns_in("badexample.com", "example.com", false));
        assert!(!dns_in("example.com", ".example.com", false));
        assert!(dns_in("a.example.com", ".example.com", false));
        assert!(dns_in("*.example.com", "example.com", false));
        assert!(!dns_in("*.example.com", "a.example.com", false));
        assert!(dns_in("*.example.com", "a.example.com", true));
        assert!(!dns_in("*.example.com", "a.b.example.com", true));
        assert!(dns_in("anything.test", "", false));
    }
}
