//! Where the response goes: stdout or the `-o`/`-O` file, the head escaped on a terminal,
//! the progress meter on stderr.

use super::transfer::response_error;
use super::Session;
use crate::error::{io_reason, ClientError};
use crate::progress::Progress;
use crate::url::Url;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::io::{IsTerminal, Write};
use tls::text::escape_peer_bytes;

/// Where the body goes.
pub(super) enum Sink {
    Stdout(std::io::Stdout),
    File(std::fs::File),
}

impl Sink {
    pub(super) fn write_all(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        let result = match self {
            Self::Stdout(out) => out.write_all(bytes).and_then(|_| out.flush()),
            Self::File(f) => f.write_all(bytes),
        };
        result.map_err(|_| ClientError::write())
    }
}

impl Session<'_> {
    /// `-i`/`-I`: the head as it came. Piped, it goes out byte for byte as curl writes it; on
    /// a terminal the server's bytes could carry control sequences, so each line is escaped.
    pub(super) fn write_head(&mut self, raw_head: Vec<u8>) -> Result<(), ClientError> {
        let head = if self.stdout_is_terminal() {
            escape_head(&raw_head)
        } else {
            raw_head
        };
        self.sink()?.write_all(&head)
    }

    /// The body to the output as it arrives, with the progress meter.
    pub(super) async fn write_body(&mut self, body: &mut Incoming) -> Result<(), ClientError> {
        let progress = Progress::new(self.progress_enabled(), self.expected);
        let mut sink_opened = self.opts.include || self.opts.head;
        loop {
            let frame = match self.within_transfer(body.frame()).await {
                Ok(f) => f,
                Err(e) => {
                    progress.abandon();
                    return Err(e);
                }
            };
            let Some(frame) = frame else { break };
            let frame = frame.map_err(|e| {
                progress.abandon();
                response_error(&e, true)
            })?;
            if let Ok(data) = frame.into_data() {
                self.received += data.len() as u64;
                self.report.size_download += data.len() as u64;
                progress.add(data.len() as u64);
                self.sink()?.write_all(&data)?;
                sink_opened = true;
            }
        }
        progress.finish();
        if !sink_opened {
            // An empty body still creates the -o file, as curl does.
            self.sink()?;
        }
        Ok(())
    }

    /// The body goes to a terminal: no progress meter, and the head is escaped.
    fn stdout_is_terminal(&self) -> bool {
        self.opts.output.is_none() && !self.opts.remote_name && std::io::stdout().is_terminal()
    }

    fn progress_enabled(&self) -> bool {
        !self.opts.silent
            && !self.opts.verbose
            && !self.stdout_is_terminal()
            && std::io::stderr().is_terminal()
    }

    fn sink(&mut self) -> Result<&mut Sink, ClientError> {
        if self.sink.is_none() {
            let path = match (&self.opts.output, self.opts.remote_name) {
                (Some(path), _) => Some(path.clone()),
                (None, true) => {
                    let url = Url::parse(&self.report.url_effective)?;
                    let name = url
                        .file_name()
                        .ok_or_else(|| ClientError::new(23, "Remote file name has no length!"))?;
                    Some(std::path::PathBuf::from(name))
                }
                (None, false) => None,
            };
            let sink = match path {
                Some(path) => match std::fs::File::create(&path) {
                    Ok(f) => Sink::File(f),
                    Err(e) => {
                        if self.opts.show_errors() {
                            eprintln!(
                                "Warning: Failed to create the file {}: {}",
                                path.display(),
                                io_reason(&e)
                            );
                        }
                        return Err(ClientError::write());
                    }
                },
                None => Sink::Stdout(std::io::stdout()),
            };
            self.sink = Some(sink);
        }
        self.sink.as_mut().ok_or_else(ClientError::write)
    }
}

/// A response head for a terminal: each line escaped, its line ending kept.
fn escape_head(head: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(head.len());
    for line in head.split_inclusive(|&b| b == b'\n') {
        let (content, ending): (&[u8], &[u8]) = if let Some(c) = line.strip_suffix(b"\r\n") {
            (c, b"\r\n")
        } else if let Some(c) = line.strip_suffix(b"\n") {
            (c, b"\n")
        } else {
            (line, b"")
        };
        out.extend_from_slice(escape_peer_bytes(content).as_bytes());
        out.extend_from_slice(ending);
    }
    out
}
