//! `--explain`: one real connection narrated for a learner. The TLS steps come from the
//! connection's events through [`tls::explain::Explainer`]; this module adds what only the
//! program sees: TCP's three-way handshake and four-way close, with the socket's state read
//! from the kernel's table (`/proc/net/tcp`, `/proc/net/tcp6`; RFC 9293 §3.3.2 state names).

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};
use tls::explain::{wire_step, Explainer, Step};
use tls::trace::{Event, Observer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Prints the narration (`--explain`) and/or every record (`--wire`) of one TLS connection on
/// stderr as its events arrive.
pub struct ExplainObserver {
    explainer: Option<Mutex<Explainer>>,
    wire: bool,
    color: bool,
}

impl ExplainObserver {
    pub fn new(explainer: Option<Explainer>, wire: bool, color: bool) -> Arc<Self> {
        Arc::new(Self {
            explainer: explainer.map(Mutex::new),
            wire,
            color,
        })
    }
}

impl Observer for ExplainObserver {
    fn event(&self, event: &Event<'_>) {
        if let Some(explainer) = &self.explainer {
            let steps = lock(explainer).event(event);
            print_steps(&steps, self.color);
        }
        if self.wire {
            // Encrypted or not is what the record layer says it did, not tracked here.
            if let Event::Record {
                direction,
                content_type,
                wire,
                plaintext,
                protection,
            } = event
            {
                print_steps(
                    &[wire_step(
                        *direction,
                        *content_type,
                        wire,
                        plaintext,
                        *protection,
                    )],
                    self.color,
                );
            }
        }
    }
}

/// Print steps on stderr, a blank line after each (a closed stderr is ignored, not a panic).
pub fn print_steps(steps: &[Step], color: bool) {
    use std::io::Write as _;
    let mut err = std::io::stderr().lock();
    for step in steps {
        let _ = writeln!(err, "{}", step.render(color));
    }
}

/// TCP connection states as the kernel numbers them in `/proc/net/tcp` (`st` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpState {
    Established,
    SynSent,
    SynRecv,
    FinWait1,
    FinWait2,
    TimeWait,
    Close,
    CloseWait,
    LastAck,
    Listen,
    Closing,
    Other(u8),
}

impl TcpState {
    pub fn from_code(code: u8) -> Self {
        match code {
            0x01 => Self::Established,
            0x02 => Self::SynSent,
            0x03 => Self::SynRecv,
            0x04 => Self::FinWait1,
            0x05 => Self::FinWait2,
            0x06 => Self::TimeWait,
            0x07 => Self::Close,
            0x08 => Self::CloseWait,
            0x09 => Self::LastAck,
            0x0A => Self::Listen,
            0x0B => Self::Closing,
            other => Self::Other(other),
        }
    }

    pub fn code(self) -> u8 {
        match self {
            Self::Established => 0x01,
            Self::SynSent => 0x02,
            Self::SynRecv => 0x03,
            Self::FinWait1 => 0x04,
            Self::FinWait2 => 0x05,
            Self::TimeWait => 0x06,
            Self::Close => 0x07,
            Self::CloseWait => 0x08,
            Self::LastAck => 0x09,
            Self::Listen => 0x0A,
            Self::Closing => 0x0B,
            Self::Other(c) => c,
        }
    }

    /// The RFC 9293 name, e.g. `TIME-WAIT`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Established => "ESTABLISHED",
            Self::SynSent => "SYN-SENT",
            Self::SynRecv => "SYN-RECEIVED",
            Self::FinWait1 => "FIN-WAIT-1",
            Self::FinWait2 => "FIN-WAIT-2",
            Self::TimeWait => "TIME-WAIT",
            Self::Close => "CLOSED",
            Self::CloseWait => "CLOSE-WAIT",
            Self::LastAck => "LAST-ACK",
            Self::Listen => "LISTEN",
            Self::Closing => "CLOSING",
            Self::Other(_) => "unknown",
        }
    }
}

/// The kernel's state for the socket `local` ↔ `remote`, from `/proc/net/tcp{,6}`. `None` when
/// the table has no such entry (the connection is gone) or cannot be read.
pub fn tcp_state(local: SocketAddr, remote: SocketAddr) -> Option<TcpState> {
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().find_map(|path| {
        let table = std::fs::read_to_string(path).ok()?;
        find_in_table(&table, local, remote)
    })
}

/// Find a connection in the text of a `/proc/net/tcp`-style table.
pub fn find_in_table(table: &str, local: SocketAddr, remote: SocketAddr) -> Option<TcpState> {
    table.lines().skip(1).find_map(|line| {
        let mut cols = line.split_whitespace().skip(1);
        let l = parse_proc_addr(cols.next()?)?;
        let r = parse_proc_addr(cols.next()?)?;
        let st = u8::from_str_radix(cols.next()?, 16).ok()?;
        (same(l, local) && same(r, remote)).then(|| TcpState::from_code(st))
    })
}

/// Step "[TCP] three-way handshake", after `connect` returned.
pub fn tcp_connected(local: SocketAddr, remote: SocketAddr, took: Duration) -> Step {
    let mut s = step("[TCP] Three-way handshake");
    s.text(format!(
        "{local} → {remote}  SYN      \"I want to talk; my first sequence number is x\""
    ));
    s.text(format!(
        "{local} ← {remote}  SYN-ACK  \"agreed; mine is y, I got x\""
    ));
    s.text(format!("{local} → {remote}  ACK      \"I got y\""));
    s.field(
        "connect took",
        format!("{:.3} ms (one round trip)", took.as_secs_f64() * 1000.0),
    );
    match tcp_state(local, remote) {
        Some(state) => s.field(
            "socket state (kernel)",
            format!("{} ({:02X})", state.name(), state.code()),
        ),
        None => s.field("socket state (kernel)", "not found in /proc/net/tcp"),
    }
    s.text(
        "TCP gives a reliable byte stream, but anyone on the path can read and change those bytes.",
    );
    s
}

/// Step "[TCP] four-way close": who sent FIN first and the state each socket is left in (the
/// peer's too when it is on this machine, as on loopback). Waits up to `patience` for the
/// closing handshake to settle. `peer_closed_first`: what the program saw (the peer ended the
/// stream before we closed), used when no socket is left in TIME-WAIT to tell.
pub fn tcp_closed(
    local: SocketAddr,
    remote: SocketAddr,
    patience: Duration,
    peer_closed_first: Option<bool>,
) -> Step {
    let deadline = Instant::now() + patience;
    let settled =
        |st: Option<TcpState>| matches!(st, None | Some(TcpState::TimeWait | TcpState::Close));
    let (mut ours, mut theirs) = (tcp_state(local, remote), tcp_state(remote, local));
    while !(settled(ours) && settled(theirs)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        (ours, theirs) = (tcp_state(local, remote), tcp_state(remote, local));
    }
    let we_closed_first = match (ours, theirs) {
        (Some(TcpState::TimeWait), _) => Some(true),
        (_, Some(TcpState::TimeWait)) => Some(false),
        _ => peer_closed_first.map(|peer| !peer),
    };
    let mut s = step("[TCP] Four-way close");
    let (first, second, a, b) = match we_closed_first {
        Some(false) => ("server", "client", "←", "→"),
        _ => ("client", "server", "→", "←"),
    };
    s.text(format!(
        "{local} {a} {remote}  FIN  the {first}: \"I will send no more\""
    ));
    s.text(format!("{local} {b} {remote}  ACK"));
    s.text(format!(
        "{local} {b} {remote}  FIN  the {second}: \"neither will I\""
    ));
    s.text(format!("{local} {a} {remote}  ACK"));
    if we_closed_first.is_none() {
        s.text("(who sent the first FIN cannot be told from here)");
    }
    let describe = |st: Option<TcpState>| match st {
        Some(st) => format!("{} ({:02X})", st.name(), st.code()),
        None => "gone from the kernel's table (closed, or reset)".to_string(),
    };
    s.field(&format!("our socket {local} afterwards"), describe(ours));
    if theirs.is_some() || ours.is_none() {
        s.field(
            &format!("the server's socket {remote} (same machine)"),
            describe(theirs),
        );
    }
    if ours == Some(TcpState::TimeWait) || theirs == Some(TcpState::TimeWait) {
        s.text(format!(
            "TIME-WAIT on the {first}'s side: the side that closes first keeps the port pair for a while, so late packets cannot land in a new connection."
        ));
    }
    s
}

/// Step for an `http://` URL: there is no TLS to narrate.
pub fn plain_http_step() -> Step {
    let mut s = step("[HTTP] No TLS on this connection");
    s.text("This is http://: the request and the response cross the network as plain bytes.");
    s.text("Anyone on the path (Wi-Fi, ISP, proxy) can read them and change them undetected.");
    s.text("Compare with the same page over https://.");
    s
}

/// How long [`GracefulClose`] waits for the peer's close after sending ours.
const CLOSE_WAIT_LIMIT: Duration = Duration::from_secs(1);

/// A transport that, on shutdown, sends its own close (close_notify and FIN) and then reads
/// until the peer closes too, so the socket ends with the orderly four-way close (and the
/// peer's close_notify is seen) instead of a reset when the peer's last bytes arrive after we
/// dropped the socket.
pub struct GracefulClose<IO> {
    inner: IO,
    shut: bool,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    peer_closed_first: Arc<AtomicBool>,
}

impl<IO> GracefulClose<IO> {
    /// Also returns a flag that turns true if the peer ends the stream before we shut down.
    pub fn new(inner: IO) -> (Self, Arc<AtomicBool>) {
        let flag = Arc::new(AtomicBool::new(false));
        let this = Self {
            inner,
            shut: false,
            deadline: None,
            peer_closed_first: flag.clone(),
        };
        (this, flag)
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for GracefulClose<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = result {
            if buf.filled().len() == before && !this.shut {
                this.peer_closed_first.store(true, Ordering::Relaxed);
            }
        }
        result
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for GracefulClose<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.shut {
            ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
            this.shut = true;
        }
        let deadline = this
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(CLOSE_WAIT_LIMIT)));
        let mut scratch = [0u8; 4096];
        loop {
            if deadline.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Ok(()));
            }
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut this.inner).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if buf.filled().is_empty() => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(())) => continue,
                // Our side is closed already; a failing peer changes nothing for us.
                Poll::Ready(Err(_)) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

fn step(title: &str) -> Step {
    Step {
        title: title.to_string(),
        lines: Vec::new(),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn same(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() == b.port() && canonical(a.ip()) == canonical(b.ip())
}

/// IPv4-mapped IPv6 addresses compare equal to their IPv4 form.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// `0100007F:1F90` (IPv4: one little-endian word) or 32 hex digits (IPv6: four such words).
fn parse_proc_addr(s: &str) -> Option<SocketAddr> {
    let (ip, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = match ip.len() {
        8 => IpAddr::V4(Ipv4Addr::from(
            u32::from_str_radix(ip, 16).ok()?.swap_bytes(),
        )),
        32 => {
            let mut bytes = [0u8; 16];
            for (i, chunk) in bytes.chunks_mut(4).enumerate() {
                let word = u32::from_str_radix(ip.get(i * 8..i * 8 + 8)?, 16).ok()?;
                chunk.copy_from_slice(&word.to_le_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0100007F:D431 0100007F:1F90 06 00000000:00000000 03:00000F9B 00000000     0        0 0 3 0";

    #[test]
    fn reads_the_kernel_table() {
        let local: SocketAddr = "127.0.0.1:54321".parse().unwrap();
        let remote: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(
            find_in_table(TABLE, local, remote),
            Some(TcpState::TimeWait)
        );
        assert_eq!(find_in_table(TABLE, remote, local), None);
        let any: SocketAddr = "0.0.0.0:0".parse().unwrap();
        assert_eq!(find_in_table(TABLE, remote, any), Some(TcpState::Listen));
    }

    #[test]
    fn ipv6_addresses() {
        // ::1 port 443 as the kernel prints it.
        let a = parse_proc_addr("00000000000000000000000001000000:01BB").unwrap();
        assert_eq!(a, "[::1]:443".parse().unwrap());
        // ::ffff:127.0.0.1 matches 127.0.0.1.
        let mapped = parse_proc_addr("0000000000000000FFFF00000100007F:01BB").unwrap();
        assert!(same(mapped, "127.0.0.1:443".parse().unwrap()));
        assert_eq!(parse_proc_addr("zz:1"), None);
    }

    proptest::proptest! {
        #[test]
        fn table_parser_never_panics(table in "\\PC*( [0-9A-F:]{0,40}){0,6}\n?\\PC*") {
            let a: SocketAddr = "127.0.0.1:1".parse().unwrap();
            let _ = find_in_table(&table, a, a);
            let _ = parse_proc_addr(&table);
        }
    }

    #[test]
    fn our_own_socket_is_established() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        // --explain reads the kernel's table: without it this test fails rather than pass
        // having checked nothing.
        assert!(
            std::path::Path::new("/proc/net/tcp").exists(),
            "/proc/net/tcp is missing: --explain needs Linux's procfs mounted on /proc"
        );
        let state = tcp_state(client.local_addr().unwrap(), client.peer_addr().unwrap());
        assert_eq!(state, Some(TcpState::Established));
    }
}
