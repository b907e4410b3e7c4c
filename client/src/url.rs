//! URLs the way curl takes them (RFC 3986 §3, the parts an HTTP client needs): scheme, host,
//! port, path and query. A missing scheme means `https://` (curl assumes `http://`; a client
//! about HTTPS should not quietly drop to plain text, and `-v` says what it assumed).

use crate::error::ClientError;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn default_port(self) -> u16 {
        match self {
            Self::Http => 80,
            Self::Https => 443,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    pub scheme: Scheme,
    /// Lower-case host name or IP literal, without the brackets of an IPv6 literal.
    pub host: String,
    pub port: u16,
    /// Path and query as sent in the request line (`/` when the URL has none).
    pub path_and_query: String,
    /// The scheme was not given and `https` was assumed.
    pub scheme_assumed: bool,
}

impl Url {
    /// Parse an absolute URL (or `host[:port][/path]`, taken as https).
    pub fn parse(input: &str) -> Result<Self, ClientError> {
        if input.is_empty() || input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ClientError::bad_url());
        }
        let (scheme, rest, scheme_assumed) = match input.find("://") {
            Some(i) => {
                let name = input.get(..i).unwrap_or_default();
                let rest = input.get(i + 3..).unwrap_or_default();
                let scheme = match name.to_ascii_lowercase().as_str() {
                    "http" => Scheme::Http,
                    "https" => Scheme::Https,
                    other
                        if !other.is_empty()
                            && other
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
                    {
                        return Err(ClientError::unsupported_protocol(other));
                    }
                    _ => return Err(ClientError::bad_url()),
                };
                (scheme, rest, false)
            }
            None => (Scheme::Https, input, true),
        };
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        // user:password@ is not supported: drop it rather than send it anywhere.
        let authority = authority.rsplit('@').next().unwrap_or_default();
        let (host, port) = split_host_port(authority)?;
        let host = host.to_ascii_lowercase();
        if !valid_host(&host) {
            return Err(ClientError::bad_url());
        }
        let port = match port {
            None => scheme.default_port(),
            Some(p) => parse_port(p)?,
        };
        let tail = tail.split('#').next().unwrap_or_default();
        let path_and_query = if tail.starts_with('/') {
            tail.to_string()
        } else {
            format!("/{tail}")
        };
        Ok(Self {
            scheme,
            host,
            port,
            path_and_query,
            scheme_assumed,
        })
    }

    /// Resolve a `Location` header against this URL (RFC 3986 §5.2, the common cases).
    pub fn join(&self, location: &str) -> Result<Self, ClientError> {
        let location = location.trim();
        if location.contains("://") {
            return Self::parse(location);
        }
        if let Some(rest) = location.strip_prefix("//") {
            return Self::parse(&format!("{}://{rest}", self.scheme.as_str()));
        }
        let path = if location.starts_with('/') {
            location.to_string()
        } else if location.starts_with('?') {
            let path = self.path_and_query.split('?').next().unwrap_or("/");
            format!("{path}{location}")
        } else {
            let path = self.path_and_query.split('?').next().unwrap_or("/");
            let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or_default();
            format!("{dir}/{location}")
        };
        Self::parse(&format!(
            "{}://{}{path}",
            self.scheme.as_str(),
            self.authority()
        ))
    }

    /// `host` or `host:port` (port only when not the scheme's default): the Host header.
    pub fn authority(&self) -> String {
        let host = self.host_for_url();
        if self.port == self.scheme.default_port() {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The host as it appears in a URL (IPv6 literals in brackets).
    pub fn host_for_url(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }

    /// The last path segment, the file name `-O` writes to.
    pub fn file_name(&self) -> Option<&str> {
        let path = self.path_and_query.split('?').next().unwrap_or_default();
        path.rsplit('/').next().filter(|name| !name.is_empty())
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}{}",
            self.scheme.as_str(),
            self.authority(),
            self.path_and_query
        )
    }
}

/// Split `host:port`, `[v6]:port`, `host`, `[v6]`.
fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), ClientError> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(ClientError::bad_url)?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(ClientError::bad_url());
        }
        return match after {
            "" => Ok((host, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((host, Some(port))),
                None => Err(ClientError::bad_url()),
            },
        };
    }
    match authority.split_once(':') {
        Some((host, port)) => Ok((host, Some(port))),
        None => Ok((authority, None)),
    }
}

fn parse_port(port: &str) -> Result<u16, ClientError> {
    match port.parse::<u16>() {
        Ok(p) if p > 0 && port.bytes().all(|b| b.is_ascii_digit()) => Ok(p),
        // An empty port means the default in RFC 3986; curl accepts `host:/`.
        _ if port.is_empty() => Err(ClientError::bad_url()),
        _ => Err(ClientError::new(
            3,
            "Port number was not a decimal number between 0 and 65535",
        )),
    }
}

fn valid_host(host: &str) -> bool {
    if host.parse::<std::net::Ipv6Addr>().is_ok() {
        return true;
    }
    !host.is_empty()
        && host.len() <= 253
        && !host.starts_with('.')
        && !host.contains("..")
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_shapes() {
        let u = Url::parse("https://LocalHost:8443/a/b?x=1#frag").unwrap();
        assert_eq!(u.scheme, Scheme::Https);
        assert_eq!(u.host, "localhost");
        assert_eq!(u.port, 8443);
        assert_eq!(u.path_and_query, "/a/b?x=1");
        assert_eq!(u.authority(), "localhost:8443");
        assert_eq!(u.file_name(), Some("b"));

        let u = Url::parse("http://127.0.0.1").unwrap();
        assert_eq!((u.port, u.path_and_query.as_str()), (80, "/"));
        assert_eq!(u.authority(), "127.0.0.1");

        let u = Url::parse("example.com/x").unwrap();
        assert!(u.scheme_assumed);
        assert_eq!(u.scheme, Scheme::Https);
        assert_eq!(u.port, 443);

        let u = Url::parse("https://[::1]:9/").unwrap();
        assert_eq!(u.host, "::1");
        assert_eq!(u.authority(), "[::1]:9");
        assert_eq!(u.to_string(), "https://[::1]:9/");
    }

    #[test]
    fn refuses_garbage_with_curl_codes() {
        for bad in [
            "",
            "http://",
            "http://exa mple.com/",
            "https://a..b/",
            "http://[::1/",
            "://x",
            "http://host:/",
        ] {
            assert_eq!(Url::parse(bad).unwrap_err().code, 3, "{bad}");
        }
        assert_eq!(Url::parse("http://h:99999/").unwrap_err().code, 3);
        assert_eq!(Url::parse("ftp://h/").unwrap_err().code, 1);
    }

    #[test]
    fn joins_redirect_locations() {
        let base = Url::parse("http://h:8080/dir/page?q=1").unwrap();
        assert_eq!(base.join("/top").unwrap().to_string(), "http://h:8080/top");
        assert_eq!(
            base.join("other").unwrap().to_string(),
            "http://h:8080/dir/other"
        );
        assert_eq!(
            base.join("?z=2").unwrap().to_string(),
            "http://h:8080/dir/page?z=2"
        );
        assert_eq!(base.join("https://x/").unwrap().to_string(), "https://x/");
        assert_eq!(base.join("//y/p").unwrap().to_string(), "http://y/p");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,64}") {
            let _ = Url::parse(&s);
            if let Ok(u) = Url::parse("http://h/a/b") {
                let _ = u.join(&s);
            }
        }
    }
}
