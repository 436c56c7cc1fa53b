//! HTTP/1.1 on the wire, as much of it as a preview server needs: request heads
//! read with deadlines and size limits, small request bodies skipped, replies
//! written with a `Content-Length`, and connections kept alive or closed politely.
//!
//! Everything here is driven by one worker thread at a time and never blocks for
//! long: [`Conn::poll_head`] waits one [`TICK`] for more bytes and then hands back,
//! so a worker can put an idle connection aside for one that has a request.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// Longest request head (request line and headers) accepted.
pub const MAX_HEAD: usize = 16 * 1024;
/// Most header lines accepted in one request.
pub const MAX_HEADERS: usize = 100;
/// Longest request body skipped over; a larger one is answered with 413.
pub const MAX_BODY: u64 = 64 * 1024;
/// Time a client has to send a whole request head once it began, and a fresh
/// connection to send anything at all.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection may stay open without a request after its last answer.
pub const KEEP_ALIVE: Duration = Duration::from_secs(5);
/// How long one read waits before the worker checks whether others are waiting.
pub const TICK: Duration = Duration::from_millis(50);
/// How long writing one reply may stall (a client that stops reading).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// The parts of a request head the server acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// `GET`, `HEAD`, … (case-sensitive, as HTTP says).
    pub method: String,
    /// The request target as sent (`/a/b?x`, or absolute-form `http://h/a`).
    pub target: String,
    /// HTTP/1.1 (keep-alive by default) rather than HTTP/1.0.
    pub http11: bool,
    /// The `Host` header, if any.
    pub host: Option<String>,
    /// `Connection: close` was asked for.
    pub close: bool,
    /// The body length announced by `Content-Length` (0 without one).
    pub content_length: u64,
    /// A `Transfer-Encoding` header was sent (a body of unknown length).
    pub transfer_encoding: bool,
}

impl RequestHead {
    /// Whether the connection may carry another request after this one.
    pub fn keep_alive(&self) -> bool {
        self.http11 && !self.close
    }
}

/// A request refused before it reaches the site: the status and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// 400, 408, 413, 431, 501 or 505.
    pub status: u16,
    /// A short explanation, sent as the body.
    pub why: &'static str,
}

const fn refuse(status: u16, why: &'static str) -> Refusal {
    Refusal { status, why }
}

/// Where the head ends in `buf` (just past the blank line), if it is complete.
/// Bare `\n` line ends are accepted as well as `\r\n`.
pub fn head_end(buf: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b'\n', buf).find_map(|i| match buf.get(i + 1..) {
        Some([b'\n', ..]) => Some(i + 2),
        Some([b'\r', b'\n', ..]) => Some(i + 3),
        _ => None,
    })
}

/// Parses a complete request head (as delimited by [`head_end`]).
pub fn parse_head(head: &[u8]) -> Result<RequestHead, Refusal> {
    let text = std::str::from_utf8(head)
        .map_err(|_| refuse(400, "the request head is not valid UTF-8"))?;
    let mut lines = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .skip_while(|l| l.is_empty());
    let request_line = lines
        .next()
        .ok_or(refuse(400, "the request line is missing"))?;
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(refuse(
            400,
            "the request line must be `METHOD TARGET HTTP/1.1`",
        ));
    };
    if method.is_empty() || !method.bytes().all(is_token_byte) {
        return Err(refuse(400, "the method is not a valid token"));
    }
    if target.is_empty() || target.bytes().any(|b| b.is_ascii_control()) {
        return Err(refuse(
            400,
            "the request target is empty or has control characters",
        ));
    }
    let http11 = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        v if v.starts_with("HTTP/") => {
            return Err(refuse(505, "only HTTP/1.0 and HTTP/1.1 are supported"))
        }
        _ => {
            return Err(refuse(
                400,
                "the request line must end with the HTTP version",
            ))
        }
    };
    let mut request = RequestHead {
        method: method.to_string(),
        target: target.to_string(),
        http11,
        host: None,
        close: false,
        content_length: 0,
        transfer_encoding: false,
    };
    let mut content_length: Option<u64> = None;
    let mut count = 0;
    for line in lines.take_while(|l| !l.is_empty()) {
        count += 1;
        if count > MAX_HEADERS {
            return Err(refuse(431, "too many header lines"));
        }
        if line.starts_with([' ', '\t']) {
            return Err(refuse(400, "folded header lines are not supported"));
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(refuse(400, "a header line has no colon"));
        };
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(refuse(400, "a header name is not a valid token"));
        }
        let value = value.trim_matches([' ', '\t']);
        if value.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
            return Err(refuse(400, "a header value has control characters"));
        }
        if name.eq_ignore_ascii_case("host") {
            if request.host.is_some() {
                return Err(refuse(400, "more than one Host header"));
            }
            request.host = Some(value.to_string());
        } else if name.eq_ignore_ascii_case("connection") {
            request.close |= value
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("close"));
        } else if name.eq_ignore_ascii_case("content-length") {
            let n = value
                .parse::<u64>()
                .ok()
                .filter(|_| value.bytes().all(|b| b.is_ascii_digit()))
                .ok_or(refuse(400, "Content-Length is not a number"))?;
            if content_length.is_some_and(|m| m != n) {
                return Err(refuse(400, "conflicting Content-Length headers"));
            }
            content_length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            request.transfer_encoding = true;
        }
    }
    request.content_length = content_length.unwrap_or(0);
    Ok(request)
}

/// `tchar` of RFC 9110.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// What a reply carries.
pub enum Body {
    /// Bytes in memory.
    Bytes(Vec<u8>),
    /// An open file, sent from the start up to the length it had when opened.
    File(File, u64),
}

impl Body {
    fn len(&self) -> u64 {
        match self {
            Body::Bytes(b) => b.len() as u64,
            Body::File(_, len) => *len,
        }
    }
}

/// A response: status, headers (besides `Content-Length` and `Connection`, which
/// [`Conn::send`] adds) and body.
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Extra headers, in order.
    pub headers: Vec<(&'static str, String)>,
    /// The body (sent for GET, only measured for HEAD).
    pub body: Body,
}

impl Reply {
    /// A reply with `bytes` of media type `content_type`, never cached.
    pub fn bytes(status: u16, content_type: &str, bytes: Vec<u8>) -> Reply {
        Reply {
            status,
            headers: vec![
                ("Content-Type", content_type.to_string()),
                ("Cache-Control", "no-store".to_string()),
            ],
            body: Body::Bytes(bytes),
        }
    }

    /// A plain-text reply.
    pub fn text(status: u16, text: &str) -> Reply {
        Reply::bytes(
            status,
            "text/plain; charset=utf-8",
            text.as_bytes().to_vec(),
        )
    }

    /// The reply for a refused request.
    pub fn refusal(refusal: Refusal) -> Reply {
        Reply::text(refusal.status, &format!("{}\n", refusal.why))
    }

    /// The same reply with one more header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }
}

/// The reason phrase of the statuses this server sends.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// What [`Conn::poll_head`] found.
#[derive(Debug)]
pub enum Poll {
    /// A complete request head.
    Request(RequestHead),
    /// Nothing complete after one [`TICK`]; ask again later.
    Pending,
    /// The client closed, or stayed idle past its time: close quietly.
    Closed,
    /// A broken request: answer with this and close.
    Refused(Refusal),
}

/// One client connection and the bytes read from it but not yet used.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// When the connection began waiting for its next request.
    waiting_since: Instant,
    /// Requests answered so far.
    served: u32,
}

impl Conn {
    /// A freshly accepted connection.
    pub fn new(stream: TcpStream) -> Conn {
        let _ = stream.set_nodelay(true);
        let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
        Conn {
            stream,
            buf: Vec::new(),
            waiting_since: Instant::now(),
            served: 0,
        }
    }

    /// Reads until a request head is complete, for at most about one [`TICK`]
    /// without new bytes.
    pub fn poll_head(&mut self) -> Poll {
        loop {
            // Blank lines before a request line are ignored (RFC 9112, 2.2).
            let blank = self
                .buf
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
            self.buf.drain(..blank);
            if let Some(end) = head_end(&self.buf) {
                if end > MAX_HEAD {
                    return Poll::Refused(refuse(431, "the request head is too large"));
                }
                let head = parse_head(self.buf.get(..end).unwrap_or_default());
                self.buf.drain(..end);
                return match head {
                    Ok(head) => Poll::Request(head),
                    Err(refusal) => Poll::Refused(refusal),
                };
            }
            if self.buf.len() > MAX_HEAD {
                return Poll::Refused(refuse(431, "the request head is too large"));
            }
            let waited = self.waiting_since.elapsed();
            if self.buf.is_empty() {
                let limit = if self.served == 0 {
                    HEAD_TIMEOUT
                } else {
                    KEEP_ALIVE
                };
                if waited >= limit {
                    return Poll::Closed;
                }
            } else if waited >= HEAD_TIMEOUT {
                return Poll::Refused(refuse(408, "the request head took too long"));
            }
            let _ = self.stream.set_read_timeout(Some(TICK));
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Poll::Closed,
                Ok(n) => self
                    .buf
                    .extend_from_slice(chunk.get(..n).unwrap_or_default()),
                Err(e) if is_timeout(&e) => return Poll::Pending,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Poll::Closed,
            }
        }
    }

    /// Reads and drops a request body of `len` bytes, within [`HEAD_TIMEOUT`].
    pub fn skip_body(&mut self, len: u64) -> io::Result<()> {
        let from_buf = usize::try_from(len)
            .unwrap_or(usize::MAX)
            .min(self.buf.len());
        self.buf.drain(..from_buf);
        let mut left = len - from_buf as u64;
        let deadline = Instant::now() + HEAD_TIMEOUT;
        let mut chunk = [0u8; 4096];
        while left > 0 {
            let now = Instant::now();
            if now >= deadline {
                return Err(io::ErrorKind::TimedOut.into());
            }
            let _ = self.stream.set_read_timeout(Some(deadline - now));
            let want = usize::try_from(left)
                .unwrap_or(chunk.len())
                .min(chunk.len());
            match self.stream.read(chunk.get_mut(..want).unwrap_or_default()) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => left -= n as u64,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Writes `reply` (its body only when `with_body`), announcing whether the
    /// connection stays open. After a successful reply on a kept connection, the
    /// wait for the next request starts.
    pub fn send(&mut self, reply: Reply, with_body: bool, keep_alive: bool) -> io::Result<()> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
        for (name, value) in &reply.headers {
            // Values come from code or from the request target, which cannot hold
            // line breaks; never let one split the head regardless.
            if !value.bytes().any(|b| b.is_ascii_control()) {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        let len = reply.body.len();
        head.push_str(&format!(
            "Content-Length: {len}\r\nConnection: {}\r\n\r\n",
            if keep_alive { "keep-alive" } else { "close" }
        ));
        let mut out = head.into_bytes();
        match reply.body {
            Body::Bytes(bytes) => {
                if with_body {
                    out.extend_from_slice(&bytes);
                }
                self.stream.write_all(&out)?;
            }
            Body::File(file, len) => {
                self.stream.write_all(&out)?;
                if with_body {
                    let sent = io::copy(&mut file.take(len), &mut self.stream)?;
                    if sent != len {
                        // The file shrank after it was measured: the announced length
                        // cannot be kept, so the connection must end.
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                }
            }
        }
        self.stream.flush()?;
        self.served += 1;
        self.waiting_since = Instant::now();
        Ok(())
    }

    /// Closes the connection. A client whose unread bytes are still arriving would
    /// get a reset instead of the reply just sent, so after a refusal (or with bytes
    /// left over) the rest is read and dropped for a moment first.
    pub fn close(mut self, drain: bool) {
        let _ = self.stream.shutdown(Shutdown::Write);
        if !drain && self.buf.is_empty() {
            return;
        }
        let deadline = Instant::now() + Duration::from_millis(500);
        let mut chunk = [0u8; 4096];
        let mut total = 0usize;
        while total < 1 << 20 {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            let _ = self.stream.set_read_timeout(Some(deadline - now));
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RequestHead, Refusal> {
        let bytes = text.as_bytes();
        let end = head_end(bytes).expect("a complete head");
        parse_head(&bytes[..end])
    }

    #[test]
    fn finds_the_end_of_a_head() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nrest"), Some(27));
        assert_eq!(head_end(b"GET / HTTP/1.1\nHost: a\n\nrest"), Some(24));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: a\r\n"), None);
        assert_eq!(head_end(b""), None);
        assert_eq!(head_end(b"\n"), None);
    }

    #[test]
    fn parses_what_the_server_acts_on() {
        let head = parse(
            "GET /a/b?x=1 HTTP/1.1\r\nHost: 127.0.0.1:1111\r\nconnection: keep-alive, Close\r\nContent-Length: 3\r\n\r\n",
        )
        .unwrap();
        assert_eq!(head.method, "GET");
        assert_eq!(head.target, "/a/b?x=1");
        assert!(head.http11);
        assert_eq!(head.host.as_deref(), Some("127.0.0.1:1111"));
        assert!(head.close && !head.keep_alive());
        assert_eq!(head.content_length, 3);
        let head = parse("HEAD / HTTP/1.1\nHost: localhost\n\n").unwrap();
        assert!(head.keep_alive());
        assert!(!parse("GET / HTTP/1.0\r\n\r\n").unwrap().keep_alive());
        assert!(
            parse("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
                .unwrap()
                .transfer_encoding
        );
    }

    #[test]
    fn refuses_malformed_heads() {
        for (head, status) in [
            ("GET /\r\n\r\n", 400),
            ("GET / HTTP/1.1 extra\r\n\r\n", 400),
            ("GET  / HTTP/1.1\r\n\r\n", 400),
            ("G(T / HTTP/1.1\r\n\r\n", 400),
            ("GET / HTTP/2.0\r\n\r\n", 505),
            ("GET / SPDY\r\n\r\n", 400),
            ("GET /\x01 HTTP/1.1\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost a\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHo st: a\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nContent-Length: +3\r\n\r\n", 400),
            (
                "GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                400,
            ),
            (
                "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                400,
            ),
        ] {
            assert_eq!(parse(head).map_err(|r| r.status), Err(status), "{head:?}");
        }
        let many = format!(
            "GET / HTTP/1.1\r\n{}\r\n",
            "X: y\r\n".repeat(MAX_HEADERS + 1)
        );
        assert_eq!(parse(&many).map_err(|r| r.status), Err(431));
        assert_eq!(
            parse_head(b"GET /\xff HTTP/1.1\r\n\r\n").map_err(|r| r.status),
            Err(400)
        );
    }
}
