//! The `-L` loop: one request per URL until a response is not a redirect to follow, at most
//! `--max-redirs` times, and the rules for the method and body of the next request.

use super::{Next, Session};
use crate::cli::Options;
use crate::error::ClientError;
use crate::url::Url;
use crate::verbose::info;
use tls::text::escape_peer;

impl Session<'_> {
    /// Run the whole transfer, following redirects with `-L`.
    /// Fetch each URL of the command line in turn (curl's `client URL1 URL2`): one session,
    /// so TLS sessions are resumed with the hosts already visited.
    pub async fn run(&mut self) -> Result<(), ClientError> {
        let opts = self.opts;
        for url in std::iter::once(&opts.url).chain(&opts.more_urls) {
            self.run_url(url).await?;
        }
        Ok(())
    }

    /// One URL, following redirects with -L.
    async fn run_url(&mut self, first: &str) -> Result<(), ClientError> {
        let opts = self.opts;
        let mut url = Url::parse(first)?;
        if url.scheme_assumed && opts.verbose {
            info("No scheme given: using https://");
        }
        let mut method = first_method(opts);
        let mut body = opts.data.clone();
        loop {
            self.report.url_effective = url.to_string();
            self.report.method = method.clone();
            self.report.scheme = url.scheme.as_str();
            match self.request(&url, &method, body.as_deref()).await? {
                Next::Done => return Ok(()),
                Next::Redirect(next, status) => {
                    if self.report.num_redirects >= opts.max_redirs {
                        return Err(ClientError::too_many_redirects(opts.max_redirs));
                    }
                    self.report.num_redirects += 1;
                    if opts.verbose {
                        info(&format!(
                            "Issue another request to this URL: '{}'",
                            escape_peer(&next.to_string())
                        ));
                    }
                    if becomes_get(status, opts.method.is_some(), &method) {
                        method = "GET".to_string();
                        body = None;
                    }
                    url = next;
                }
            }
        }
    }
}

/// The method of the first request: `-X`, else HEAD for `-I`, POST with `-d`, GET.
fn first_method(opts: &Options) -> String {
    match (&opts.method, opts.head, &opts.data) {
        (Some(m), _, _) => m.clone(),
        (None, true, _) => "HEAD".to_string(),
        (None, false, Some(_)) => "POST".to_string(),
        (None, false, None) => "GET".to_string(),
    }
}

/// curl (and browsers) turn a POST into a GET, without its body, after 301/302/303 unless the
/// method was forced with -X.
fn becomes_get(status: u16, forced: bool, method: &str) -> bool {
    matches!(status, 301..=303) && !forced && method == "POST"
}

#[cfg(test)]
mod tests {
    use super::becomes_get;

    #[test]
    fn post_becomes_get_only_after_301_to_303_and_unforced() {
        for status in [301, 302, 303] {
            assert!(becomes_get(status, false, "POST"));
            assert!(!becomes_get(status, true, "POST"));
            assert!(!becomes_get(status, false, "PUT"));
        }
        assert!(!becomes_get(307, false, "POST"));
        assert!(!becomes_get(308, false, "POST"));
    }
}
