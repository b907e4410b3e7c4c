//! The lab pages under hostile input: huge, binary, control-character and markup query strings
//! get a 400 or an escaped echo, never a crash; every page loads nothing from outside the
//! server; and over plain HTTP (no handshake to show) every page still answers.
//! The values the pages claim: client/tests/lab.rs.

mod common;

use common::{curl, Running};

const PAGES: [&str; 7] = [
    "/lab/",
    "/lab/shift-xor",
    "/lab/ecb-cbc",
    "/lab/rsa",
    "/lab/signature",
    "/lab/integrity",
    "/lab/handshake",
];

/// (status, body) of a GET.
fn get(url: &str) -> (String, String) {
    let out = curl(&["-w", "\n%{http_code}", "--globoff", url]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
    (status.to_string(), body.to_string())
}

#[test]
fn hostile_query_strings_get_a_400_or_an_escaped_echo() {
    let server = Running::start(&["--no-gallery"]);
    let long = "A".repeat(300);
    let huge = "B".repeat(5000);
    let refused = [
        format!("text={long}"),
        format!("x={huge}"),
        "text=%ff%fe".to_string(),
        "text=%".to_string(),
        "text=%zz".to_string(),
        "text=a%00b".to_string(),
        "text=a%0d%0aSet-Cookie:x".to_string(),
    ];
    let escaped = [
        "text=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "text=%22%3E%3Cimg+src%3Dx+onerror%3Dalert(1)%3E",
        "changed=%3Cmarquee%3E&text=%3Cblink%3E",
        "p=99999999999999999999999&q=-1&e=abc&m=18446744073709551615",
        "bit=18446744073709551615&k=0",
        "text=%E2%80%AE%F0%9F%94%91",
    ];
    for page in PAGES {
        for query in &refused {
            let (status, _) = get(&server.url(&format!("{page}?{query}")));
            assert_eq!(status, "400", "{page}?{query}");
        }
        for query in escaped {
            let (status, body) = get(&server.url(&format!("{page}?{query}")));
            assert_eq!(status, "200", "{page}?{query}");
            for raw in ["<script", "<img src=x", "<marquee", "<blink"] {
                assert!(!body.contains(raw), "{page}?{query} echoed {raw}");
            }
        }
    }
    // After all that, the server still answers.
    assert_eq!(get(&server.url("/lab/rsa")).0, "200");
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
}

#[test]
fn lab_pages_load_nothing_from_outside_and_work_over_plain_http() {
    let server = Running::start(&["--no-gallery", "--http", "127.0.0.1:0"]);
    let http = server.http_port.expect("http port");
    for page in PAGES {
        let (status, body) = get(&server.url(page));
        assert_eq!(status, "200", "{page}");
        assert!(!body.contains("<script"), "{page}");
        assert!(!body.contains("url("), "{page}");
        assert!(!body.contains("@import"), "{page}");
        for attr in ["src=\"", "href=\"", "action=\""] {
            for (i, _) in body.match_indices(attr) {
                let target = &body[i + attr.len()..];
                assert!(
                    !target.starts_with("http:")
                        && !target.starts_with("https:")
                        && !target.starts_with("//"),
                    "{page} loads {}",
                    &target[..target.len().min(60)]
                );
            }
        }
        let out = common::curl(&[
            "-w",
            "%{http_code}",
            "-o",
            "/dev/null",
            &format!("http://127.0.0.1:{http}{page}"),
        ]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "200",
            "{page} over HTTP"
        );
    }
}
