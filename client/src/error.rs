//! Failures as curl reports them: an exit code and a one-line message, printed as
//! `client: (N) message` (curl's `curl: (N) message`, see its man page "EXIT CODES").

use std::fmt;
use std::time::Duration;

/// curl's trailer after every exit-60 message, so people searching for it find the same advice.
pub const SSL_CERTS_TRAILER: &str = "More details here: https://curl.se/docs/sslcerts.html

curl failed to verify the legitimacy of the server and therefore could not
establish a secure connection to it. To learn more about this situation and
how to fix it, please visit the web page mentioned above.";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientError {
    pub code: i32,
    pub message: String,
}

impl ClientError {
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn unsupported_protocol(scheme: &str) -> Self {
        Self::new(1, format!("Protocol \"{scheme}\" not supported"))
    }

    pub fn bad_url() -> Self {
        Self::new(3, "URL using bad/illegal format or missing URL")
    }

    pub fn resolve(host: &str) -> Self {
        Self::new(6, format!("Could not resolve host: {host}"))
    }

    pub fn connect(host: &str, port: u16, elapsed: Duration) -> Self {
        Self::new(
            7,
            format!(
                "Failed to connect to {host} port {port} after {} ms: Couldn't connect to server",
                elapsed.as_millis()
            ),
        )
    }

    pub fn http_status(status: u16) -> Self {
        Self::new(22, format!("The requested URL returned error: {status}"))
    }

    pub fn write() -> Self {
        Self::new(23, "Failure writing output to destination")
    }

    pub fn connect_timeout(elapsed: Duration) -> Self {
        Self::new(
            28,
            format!(
                "Connection timed out after {} milliseconds",
                elapsed.as_millis()
            ),
        )
    }

    pub fn operation_timeout(elapsed: Duration, received: u64, expected: Option<u64>) -> Self {
        let ms = elapsed.as_millis();
        let message = match expected {
            Some(total) => format!(
                "Operation timed out after {ms} milliseconds with {received} out of {total} bytes received"
            ),
            None => {
                format!("Operation timed out after {ms} milliseconds with {received} bytes received")
            }
        };
        Self::new(28, message)
    }

    pub fn too_many_redirects(max: u32) -> Self {
        Self::new(47, format!("Maximum ({max}) redirects followed"))
    }

    pub fn is_certificate_problem(&self) -> bool {
        self.code == 60
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "client: ({}) {}", self.code, self.message)
    }
}

impl std::error::Error for ClientError {}

/// An I/O error's reason without Rust's " (os error N)" suffix.
pub fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text.get(..i).unwrap_or_default().to_string(),
        None => text,
    }
}
