//! `-w/--write-out`: curl's `%{variable}` expansion after the transfer (curl(1) "WRITE OUT").
//! Times are seconds since the start with six decimals, like curl.

use std::net::SocketAddr;
use std::time::Duration;

/// What one run measured; `None` where a phase was never reached.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub http_code: u16,
    pub http_version: Option<&'static str>,
    pub method: String,
    pub scheme: &'static str,
    pub url_effective: String,
    pub redirect_url: Option<String>,
    pub num_redirects: u32,
    pub content_type: Option<String>,
    pub time_namelookup: Option<Duration>,
    pub time_connect: Option<Duration>,
    pub time_appconnect: Option<Duration>,
    pub time_pretransfer: Option<Duration>,
    pub time_starttransfer: Option<Duration>,
    pub time_total: Duration,
    pub size_download: u64,
    pub size_header: u64,
    pub size_request: u64,
    /// OpenSSL's verify code for the last TLS connection (0 = verified).
    pub ssl_verify_result: u32,
    pub num_certs: usize,
    pub remote: Option<SocketAddr>,
    pub local: Option<SocketAddr>,
    pub exitcode: i32,
    pub errormsg: String,
    /// Response headers of the last response (name, value), for `%header{name}`.
    pub headers: Vec<(String, String)>,
}

/// Expand `%{var}`, `%header{name}` and `%%`. Unknown variables print a warning on stderr and
/// nothing in the output, as curl does.
pub fn expand(format: &str, report: &Report) -> String {
    let mut out = String::new();
    let mut rest = format;
    while let Some(i) = rest.find('%') {
        out.push_str(rest.get(..i).unwrap_or_default());
        let after = rest.get(i + 1..).unwrap_or_default();
        if let Some(tail) = after.strip_prefix('%') {
            out.push('%');
            rest = tail;
        } else if let Some((name, tail)) = variable(after, "{") {
            match value(name, report) {
                Some(v) => out.push_str(&v),
                None => eprintln!("client: unknown --write-out variable: '{name}'"),
            }
            rest = tail;
        } else if let Some((name, tail)) = variable(after, "header{") {
            if let Some((_, v)) = report
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                out.push_str(v);
            }
            rest = tail;
        } else {
            out.push('%');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// `{name}rest` after `prefix` -> (name, rest).
fn variable<'a>(s: &'a str, prefix: &str) -> Option<(&'a str, &'a str)> {
    let body = s.strip_prefix(prefix)?;
    let end = body.find('}')?;
    Some((body.get(..end)?, body.get(end + 1..)?))
}

fn secs(d: Option<Duration>) -> String {
    format!("{:.6}", d.map(|d| d.as_secs_f64()).unwrap_or(0.0))
}

fn value(name: &str, r: &Report) -> Option<String> {
    Some(match name {
        "http_code" | "response_code" => format!("{:03}", r.http_code),
        "http_version" => r.http_version.unwrap_or("0").to_string(),
        "method" => r.method.clone(),
        "scheme" => r.scheme.to_ascii_uppercase(),
        "url_effective" | "url" => r.url_effective.clone(),
        "redirect_url" => r.redirect_url.clone().unwrap_or_default(),
        "num_redirects" => r.num_redirects.to_string(),
        "content_type" => r.content_type.clone().unwrap_or_default(),
        "time_namelookup" => secs(r.time_namelookup),
        "time_connect" => secs(r.time_connect),
        "time_appconnect" => secs(r.time_appconnect),
        "time_pretransfer" => secs(r.time_pretransfer),
        "time_starttransfer" => secs(r.time_starttransfer),
        "time_total" => secs(Some(r.time_total)),
        "size_download" => r.size_download.to_string(),
        "size_header" => r.size_header.to_string(),
        "size_request" => r.size_request.to_string(),
        "speed_download" => {
            let t = r.time_total.as_secs_f64();
            let speed = if t > 0.0 {
                r.size_download as f64 / t
            } else {
                0.0
            };
            format!("{}", speed as u64)
        }
        "ssl_verify_result" => r.ssl_verify_result.to_string(),
        "num_certs" => r.num_certs.to_string(),
        "remote_ip" => r.remote.map(|a| a.ip().to_string()).unwrap_or_default(),
        "remote_port" => r.remote.map(|a| a.port().to_string()).unwrap_or_default(),
        "local_ip" => r.local.map(|a| a.ip().to_string()).unwrap_or_default(),
        "local_port" => r.local.map(|a| a.port().to_string()).unwrap_or_default(),
        "exitcode" => r.exitcode.to_string(),
        "errormsg" => r.errormsg.clone(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_like_curl() {
        let r = Report {
            http_code: 200,
            time_total: Duration::from_micros(5_943),
            size_download: 42,
            ssl_verify_result: 18,
            headers: vec![("Content-Type".into(), "text/html".into())],
            ..Report::default()
        };
        assert_eq!(
            expand(
                "%{http_code} %{time_total} %{size_download} %{ssl_verify_result} 100%% %header{content-type}\n",
                &r
            ),
            "200 0.005943 42 18 100% text/html\n"
        );
        assert_eq!(expand("%{time_connect}", &r), "0.000000");
        assert_eq!(expand("%{nope}x", &r), "x");
        assert_eq!(expand("50% %{", &r), "50% %{");
        assert_eq!(expand("%{http_code}", &Report::default()), "000");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,80}") {
            let _ = expand(&s, &Report::default());
        }
    }
}
