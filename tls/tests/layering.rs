//! The layering drawn in `src/lib.rs` holds: no import cycle between the modules of `tls/src`.
//! Reads the sources and fails on any `crate::` path that points back up the diagram. By hand:
//! `grep -rn 'crate::conn' tls/src/handshake tls/src/trace.rs tls/src/common_state.rs tls/src/session.rs`
//! and `grep -rnE 'crate::(pki|error|Error\b)' tls/src/crypto` must print nothing.

use std::path::{Path, PathBuf};

/// (files under this path, paths they must not name, why)
const RULES: &[(&str, &[&str], &str)] = &[
    (
        "src/handshake",
        &["crate::conn", "super::super::conn", "record_layer"],
        "the handshake states see the connection only through common_state, which alone \
         switches keys",
    ),
    (
        "src/msgs",
        &[
            "crate::conn",
            "crate::common_state",
            "crate::handshake",
            "crate::record",
            "crate::config",
        ],
        "msgs holds wire formats only: no state machine, no record layer",
    ),
    (
        "src/common_state.rs",
        &["crate::conn"],
        "common_state sits below conn",
    ),
    (
        "src/session.rs",
        &["crate::conn"],
        "plain data sits below conn",
    ),
    (
        "src/trace.rs",
        &["crate::conn", "crate::config"],
        "events describe a connection; they do not depend on it",
    ),
    (
        "src/crypto",
        &[
            "crate::pki",
            "crate::error",
            "crate::Error",
            "super::super::",
        ],
        "crypto is the bottom layer: pki and error build on it",
    ),
    (
        "src/explain",
        &[
            "cbc::",
            "cbc_decrypt",
            "hmac::",
            "Hmac<",
            "record_mac",
            "aes::",
            "rsa::",
            "raw_private",
            "crypto::ct",
            "sha1::",
            "sha2::",
            "verify_signature",
            "candidate_path",
            "matches_host",
            "verify_chain",
        ],
        "explain decrypts and verifies nothing itself: its values come from the events, and \
         records are taken apart only through crypto::cipher",
    ),
];

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", path.display()))
            .map(|entry| entry.expect("directory entry").path())
            .collect();
        entries.sort();
        for entry in entries {
            rust_files(&entry, out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

/// Lines of `text` that name one of `forbidden`, skipping `//` comments (docs may mention a
/// module without importing it).
fn offending_lines(text: &str, forbidden: &[&str]) -> Vec<String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
        .filter(|(_, line)| forbidden.iter().any(|f| line.contains(f)))
        .map(|(n, line)| format!("{}: {}", n + 1, line.trim()))
        .collect()
}

#[test]
fn no_import_points_back_up_the_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut violations = Vec::new();
    for (under, forbidden, why) in RULES {
        let mut files = Vec::new();
        rust_files(&root.join(under), &mut files);
        assert!(!files.is_empty(), "no sources under {under}: rule is stale");
        for file in files {
            let text = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
            for line in offending_lines(&text, forbidden) {
                violations.push(format!("{} ({why})\n    {line}", file.display()));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "imports against the layering of src/lib.rs:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_check_sees_an_import() {
    let text = "//! see crate::conn\nuse crate::conn::Connection;\n";
    assert_eq!(
        offending_lines(text, &["crate::conn"]),
        ["2: use crate::conn::Connection;"]
    );
}
