//! Small HTML and URL helpers: escaping (everything we put in a page came from a file name, a
//! header or a certificate, so all of it is escaped) and the shared page frame with inline CSS.

/// Escape text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encode one path segment (RFC 3986 §2.3: only unreserved characters stay as they are),
/// so a file named `a b?#.txt` becomes a link that requests exactly that file.
pub fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decode `%XX` escapes (RFC 3986 §2.1). A `%` not followed by two hex digits is an error:
/// guessing what it meant is how servers end up disagreeing with their own path checks.
pub fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).and_then(|c| char::from(*c).to_digit(16))?;
            let lo = bytes.get(i + 2).and_then(|c| char::from(*c).to_digit(16))?;
            out.push(u8::try_from(hi * 16 + lo).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Some(out)
}

/// A complete page: title, inline stylesheet, body. No scripts, fonts or other outside resources.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <link rel=\"icon\" href=\"data:,\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n",
        escape(title)
    )
}

/// A short page for an error status.
pub fn error_page(status: u16, reason: &str, detail: &str) -> String {
    page(
        &format!("{status} {reason}"),
        &format!(
            "<main class=\"narrow\"><h1>{status} {}</h1><p>{}</p>\
             <p><a href=\"/\">Back to the front page</a></p></main>",
            escape(reason),
            escape(detail)
        ),
    )
}

const STYLE: &str = "
:root { --fg: #1d2330; --muted: #5b6475; --bg: #f6f7f9; --card: #fff; --line: #dde1e8;
        --accent: #1a6b4f; --warn: #a23b1d; --code: #f0f2f5; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.55 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
       color: var(--fg); background: var(--bg); }
header { background: var(--accent); color: #fff; padding: 1.4rem 2rem; }
header.plain { background: var(--warn); }
header h1 { margin: 0 0 .3rem; font-size: 1.6rem; }
header p { margin: 0; opacity: .92; }
main { max-width: 1200px; margin: 0 auto; padding: 1.5rem 2rem 3rem; }
main.narrow { max-width: 760px; }
.grid { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1.5rem; }
@media (max-width: 900px) { .grid { grid-template-columns: minmax(0, 1fr); } }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
          padding: 1rem 1.3rem; margin-bottom: 1.5rem; }
h2 { font-size: 1.2rem; margin: .2rem 0 .8rem; }
h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .35rem .5rem; border-bottom: 1px solid var(--line); }
th { width: 34%; color: var(--muted); font-weight: 600; }
/* Suite names and hex have no spaces: let them break rather than push the page sideways. */
td { overflow-wrap: anywhere; }
@media (max-width: 600px) { header, main { padding-left: .8rem; padding-right: .8rem; }
                            section { padding: .8rem; } th { width: 40%; } }
code, .hex { font-family: ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace; font-size: .86em;
             background: var(--code); padding: .05rem .3rem; border-radius: 4px; }
.hex { word-break: break-all; display: inline-block; }
ol.steps { padding-left: 1.3rem; }
ol.steps li { margin-bottom: .8rem; }
.tag { display: inline-block; padding: 0 .45rem; border-radius: 4px; font-size: .8rem; font-weight: 600; }
.yes { background: #d8f0e4; color: #135239; }
.no { background: #f6e0d9; color: #7a2a12; }
.muted { color: var(--muted); }
.small { font-size: .9rem; line-height: 1.45; }
table.wire th, table.wire td, .listing th { width: auto; }
.listing td.size, .listing td.date { white-space: nowrap; color: var(--muted); }
a { color: #1451a8; }
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn encode_then_decode_round_trips() {
        let name = "a b?#%/é.txt";
        let encoded = encode_segment(name);
        assert_eq!(encoded, "a%20b%3F%23%25%2F%C3%A9.txt");
        assert_eq!(percent_decode(&encoded).as_deref(), Some(name.as_bytes()));
    }

    #[test]
    fn percent_decode_rejects_broken_escapes() {
        assert_eq!(percent_decode("%2e%2E"), Some(b"..".to_vec()));
        assert_eq!(percent_decode("%"), None);
        assert_eq!(percent_decode("%2"), None);
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%+1"), None);
    }

    proptest::proptest! {
        #[test]
        fn percent_decode_never_panics(s in "\\PC*") {
            let _ = percent_decode(&s);
        }

        #[test]
        fn escaped_text_has_no_markup(s in "\\PC*") {
            let e = escape(&s);
            proptest::prop_assert!(!e.contains('<') && !e.contains('>') && !e.contains('"'));
        }
    }
}
