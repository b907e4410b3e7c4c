//! The trust decision for a certificate that does not verify, as in a browser: the warning,
//! the prompt on a terminal, the exceptions remembered from earlier runs.

use super::Session;
use crate::error::ClientError;
use crate::trust::{config_dir, fingerprint_text, Exceptions, Seen, Verdict, EXCEPTIONS_FILE};
use crate::url::Url;
use crate::verbose::info;
use crate::warning::{parse_choice, Choice, Warning};
use std::time::Instant;
use tls::text::escape_peer;

impl Session<'_> {
    /// Show the warning; on a terminal ask. `Ok` = the user accepted the risk.
    pub(super) fn certificate_problem(
        &mut self,
        url: &Url,
        site: &str,
        error: &tls::pki::CertError,
        seen: Option<Seen>,
    ) -> Result<(), ClientError> {
        let refusal = certificate_error(error);
        if self.opts.verbose {
            info(&format!(
                "SSL certificate problem: {}",
                escape_peer(&error.to_string())
            ));
        }
        let Some(seen) = seen else {
            return Err(refusal);
        };
        let changed = match seen.verdict {
            Verdict::Refused { changed } => changed,
            _ => None,
        };
        let warning = Warning {
            host: &url.host,
            port: url.port,
            error,
            chain: &seen.chain,
            changed_from: changed.as_ref(),
            now: time::OffsetDateTime::now_utc().unix_timestamp(),
            color: self.color,
        };
        if !self.interactive {
            if !self.opts.silent {
                eprint!("{}", warning.render());
            }
            return Err(refusal);
        }
        eprint!("{}{}", warning.render(), warning.prompt());
        let asked = Instant::now();
        let mut answer = String::new();
        // EOF or a read error is "go back", the safe default.
        let _ = std::io::stdin().read_line(&mut answer);
        self.paused += asked.elapsed();
        let choice = parse_choice(&answer);
        let Some(fingerprint) = seen.chain.first().map(|c| c.sha256_fingerprint()) else {
            return Err(refusal);
        };
        match choice {
            Choice::GoBack => {
                eprintln!("Went back: no request was sent to {site}.");
                Err(refusal)
            }
            Choice::ContinueOnce => {
                self.accepted.insert(site.to_string(), fingerprint);
                Ok(())
            }
            Choice::ContinueAndRemember => {
                self.accepted.insert(site.to_string(), fingerprint);
                self.exceptions();
                let Some(exceptions) = self.exceptions.as_mut() else {
                    return Ok(());
                };
                let path = exceptions
                    .path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                match exceptions.remember(site, fingerprint) {
                    Ok(()) => eprintln!(
                        "Remembered: certificate {} for {site} (in {path}).",
                        fingerprint_text(&fingerprint)
                    ),
                    Err(e) => eprintln!("client: could not save the exception to {path}: {e}"),
                }
                Ok(())
            }
        }
    }

    /// The remembered exceptions, loaded once. A file we refuse (other users can write it) is
    /// said so and treated as empty: it can only make us trust less.
    pub(super) fn exceptions(&mut self) -> &Exceptions {
        let show = self.opts.show_errors();
        self.exceptions
            .get_or_insert_with(|| match Exceptions::load_default() {
                Ok(exceptions) => exceptions,
                Err(why) => {
                    if show {
                        eprintln!("client: warning: {why}");
                    }
                    config_dir()
                        .map(|dir| Exceptions::empty_at(&dir.join(EXCEPTIONS_FILE)))
                        .unwrap_or_default()
                }
            })
    }
}

/// curl's exit-60 message for a refused certificate.
pub fn certificate_error(e: &tls::pki::CertError) -> ClientError {
    match &e.kind {
        tls::pki::CertErrorKind::HostMismatch { host } => ClientError::new(
            60,
            format!(
                "SSL: no alternative certificate subject name matches target host name '{host}'"
            ),
        ),
        _ => ClientError::new(
            60,
            format!("SSL certificate problem: {}", escape_peer(&e.to_string())),
        ),
    }
}
