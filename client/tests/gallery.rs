//! Our client against the server's gallery of broken certificates: for each listener it
//! refuses (exit 60) with the warning whose codes the gallery page quotes, `-k` proceeds with
//! a one-line warning, and on the port whose certificate changes, an exception remembered at
//! the prompt is challenged ("HAS CHANGED") once the server switches certificates.

mod common;
mod our_site;

use common::{client, client_on_tty, text};
use server::gallery::Kind;

#[test]
fn our_client_refuses_each_gallery_certificate_with_the_pages_codes() {
    let site = our_site::start(true);
    assert_eq!(site.gallery.len(), Kind::ALL.len());
    let config = tempfile::tempdir().unwrap();
    let ca = site.ca();
    let ca = ca.to_str().unwrap();
    for kind in Kind::ALL {
        let url = site.gallery_url(kind.name());
        let out = client(config.path(), &["--cacert", ca, &url]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(60), "{}: {err}", kind.name());
        let (chromium, firefox) = kind.browser_codes();
        let (code, _) = kind.openssl();
        let line = format!("Error code: {chromium}  ({firefox}; OpenSSL {code}:");
        assert!(
            err.contains(&line),
            "{}: no {line:?} in\n{err}",
            kind.name()
        );
        assert!(err.contains("Your connection is not private"), "{err}");
        assert!(out.stdout.is_empty(), "a refused page must not be shown");

        let out = client(config.path(), &["-k", "--cacert", ca, &url]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("continuing anyway (-k)"));
        let page = text(&out.stdout);
        assert!(
            page.contains(&format!("Broken on purpose: {}", kind.name())),
            "{page}"
        );
        assert!(page.contains(chromium) && page.contains(firefox));
    }
}

#[test]
fn a_remembered_exception_is_challenged_when_the_certificate_changes() {
    let site = our_site::start(true);
    let config = tempfile::tempdir().unwrap();
    let ca = site.ca();
    let ca = ca.to_str().unwrap();
    let url = site.gallery_url("certificate-changed");

    // [r]: accept and remember the first certificate.
    let (code, shown) = client_on_tty(config.path(), "r", &["--cacert", ca, &url]);
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("Your connection is not private"), "{shown}");
    // Remembered: no prompt, no refusal.
    let out = client(config.path(), &["--cacert", ca, &url]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("(served now)"));

    // The server switches to its second certificate for the same names.
    let switch = format!("{}switch", url);
    let out = client(
        config.path(),
        &[
            "-k",
            "-X",
            "POST",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &switch,
        ],
    );
    assert_eq!(text(&out.stdout), "303", "{}", text(&out.stderr));

    let out = client(config.path(), &["--cacert", ca, &url]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(60), "{err}");
    assert!(err.contains("HAS CHANGED"), "{err}");
    assert!(err.contains("Remembered SHA-256:"), "{err}");
}
