//! What the proxy prints: every line on stdout, prefixed with its connection's number, each
//! batch written under one lock so that lines of parallel connections never interleave
//! mid-line. Peer-chosen text is escaped by the callers (`tls::text::escape_peer`) before it
//! gets here; a closed stdout loses the output but never stops the forwarding.

use std::io::Write as _;

/// The lines of one connection, numbered `[#N]`.
#[derive(Clone, Copy, Debug)]
pub struct Report {
    pub id: u64,
}

impl Report {
    pub fn new(id: u64) -> Self {
        Self { id }
    }

    /// One line.
    pub fn line(&self, text: &str) {
        self.lines(std::iter::once(text.to_string()));
    }

    /// Several lines, kept together.
    pub fn lines(&self, lines: impl IntoIterator<Item = String>) {
        let mut text = String::new();
        for l in lines {
            text.push_str(&format!("[#{}] {l}\n", self.id));
        }
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
}

/// Print a line without a connection number (the banner, startup notes).
pub fn plain(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// Up to `limit` bytes of a body as escaped lines (split at line feeds), each prefixed with
/// `prefix`, and a note of what was left out.
pub fn body_lines(prefix: &str, shown: &[u8], total: u64) -> Vec<String> {
    let mut out = Vec::new();
    for line in shown.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        out.push(format!("{prefix}{}", tls::text::escape_peer_bytes(line)));
    }
    // A body ending in a line feed yields an empty last piece: not a line of its own.
    if shown.last() == Some(&b'\n') {
        out.pop();
    }
    if total > shown.len() as u64 {
        out.push(format!(
            "{prefix}… ({} more bytes not shown)",
            total - shown.len() as u64
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_lines_escape_and_say_what_was_cut() {
        let lines = body_lines("| ", b"a=1&pw=\x1b[2J\nnext\n", 40);
        assert_eq!(
            lines,
            vec![
                "| a=1&pw=\\x1b[2J".to_string(),
                "| next".to_string(),
                "| … (23 more bytes not shown)".to_string()
            ]
        );
    }
}
