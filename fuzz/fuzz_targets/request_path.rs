//! The file server's request-path resolution (percent-decoding, `..`, NUL, backslashes,
//! dot-files) and its Range header parser (RFC 9110 §14.1.2): a resolved path never leaves the
//! root, and a range is always inside the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use server::files::{parse_range, request_segments};
use std::path::{Component, Path};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first line is the path, the rest a Range value; the file length comes from the text.
    let (path, range) = text.split_once('\n').unwrap_or((text, ""));
    if let Ok(segments) = request_segments(path) {
        let root = Path::new("/srv/root");
        let mut joined = root.to_path_buf();
        for s in &segments {
            assert!(!s.is_empty() && s != "." && s != "..", "segment {s:?}");
            assert!(!s.contains('/') && !s.contains('\\') && !s.contains('\0'));
            joined.push(s);
        }
        assert!(joined.starts_with(root), "{joined:?} is outside the root");
        assert!(joined
            .components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_))));
    }
    // Empty, one-byte and ordinary files: the edges of the range arithmetic.
    let len = [0, 1, 1000][data.len() % 3];
    if let Some(Ok((first, last))) = parse_range(range, len) {
        assert!(first <= last && last < len, "{first}-{last} of {len}");
    }
});
