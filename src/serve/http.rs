//! Serving a built site over HTTP the way GitHub Pages does: under the base path,
//! `a/` as `a/index.html`, `a` redirected to `a/` when it is a folder or served as
//! `a.html`, and the site's `404.html` for anything missing.
//!
//! Request paths are checked before they touch the disk: `..` and `.` segments,
//! encoded slashes and backslashes, NUL and other control characters are refused
//! with 400, whatever their encoding, as are empty segments (`//`); a resolved
//! file must lie inside the output folder. Only loopback host names are accepted on
//! a loopback address, so a web page cannot read the preview through DNS
//! rebinding.
//!
//! The HTTP/1.1 itself is in [`wire`]; [`SiteServer`] says how connections are
//! shared out between threads.

mod wire;

use super::live::{LiveReload, POLL_TIMEOUT};
use socket2::{Domain, Protocol, Socket, Type};
use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;
use wire::{Body, Conn, Poll, Refusal, Reply, MAX_BODY};

/// The live-reload script, served as a file at `<base>__annals/reload.js`.
pub const RELOAD_SCRIPT: &str = include_str!("reload.js");

/// The URL segment under the base path reserved for the preview server. No page of
/// a site can use it: ids, slugs and taxonomy paths have no underscore.
pub const RESERVED_SEGMENT: &str = "__annals";

/// Threads answering requests.
const WORKERS: usize = 8;
/// Accepted connections waiting for a worker; beyond this, new connections wait in
/// the kernel's listen backlog until the queue has room.
const QUEUE: usize = 4096;
/// The listen backlog asked of the kernel (Linux caps it at
/// `net.core.somaxconn`, 4096 by default). With std's 128, a burst of local
/// connections overflows it before the accepting thread runs; the kernel then drops
/// handshakes, and clients wait one to three seconds to retry (or give up).
const BACKLOG: i32 = 4096;
/// Open long polls beyond this are answered at once.
const MAX_WAITING: usize = 64;

/// A built site to serve: its folder and the base path it was built for.
pub struct Site {
    dir: PathBuf,
    base_path: RwLock<String>,
    live: Option<Arc<LiveReload>>,
    /// Files served instead of the folder's: a preview of an edit's pages
    /// (see [`crate::Session::preview`]) while the build that writes them runs.
    overlay: RwLock<HashMap<PathBuf, Arc<[u8]>>>,
}

/// What a request asks for, decided from its target alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// A file of the site.
    File(PathBuf),
    /// A redirect (301) to this location.
    Redirect(String),
    /// Nothing there: the site's 404 page.
    NotFound,
    /// Not under the base path at all: a plain 404 naming the site's address.
    OutsideSite,
    /// Refused before touching the disk (traversal, encoded separators, NUL…).
    BadRequest(&'static str),
    /// `__annals/reload.js`.
    ReloadScript,
    /// `__annals/events?since=N`.
    Events(Option<u64>),
    /// No site has been built yet.
    NotBuilt,
}

impl Site {
    /// A site in `dir`, served under `base_path` (`/` or `/archive/`), with live
    /// reload when `live` is given.
    pub fn new(dir: impl Into<PathBuf>, base_path: &str, live: Option<Arc<LiveReload>>) -> Self {
        Site {
            dir: dir.into(),
            base_path: RwLock::new(normalise_base(base_path)),
            live,
            overlay: RwLock::new(HashMap::new()),
        }
    }

    /// Serves `files` (site paths and bytes) in place of the folder's until
    /// [`Site::clear_overlay`]. Only files the folder has are ever looked up, so
    /// an overlay changes what existing pages show, never which pages exist.
    pub fn set_overlay(&self, files: &[crate::render::OutputFile]) {
        let mut overlay = self.overlay.write().unwrap_or_else(|e| e.into_inner());
        for f in files {
            overlay.insert(self.dir.join(&f.path), Arc::from(f.bytes.as_slice()));
        }
    }

    /// Serves the folder alone again; returns the files the overlay held, by site
    /// path, so the caller can compare them with what the build wrote.
    pub fn clear_overlay(&self) -> Vec<(PathBuf, Arc<[u8]>)> {
        let mut overlay = self.overlay.write().unwrap_or_else(|e| e.into_inner());
        let mut files: Vec<(PathBuf, Arc<[u8]>)> = overlay
            .drain()
            .map(|(p, b)| {
                (
                    p.strip_prefix(&self.dir)
                        .map(Path::to_path_buf)
                        .unwrap_or(p),
                    b,
                )
            })
            .collect();
        files.sort();
        files
    }

    fn overlaid(&self, path: &Path) -> Option<Arc<[u8]>> {
        self.overlay
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
            .cloned()
    }

    /// The base path pages are served under.
    pub fn base_path(&self) -> String {
        self.base_path
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Changes the base path (after `site.toml` changed it).
    pub fn set_base_path(&self, base_path: &str) {
        *self.base_path.write().unwrap_or_else(|e| e.into_inner()) = normalise_base(base_path);
    }

    /// Decides what a request target (`/archive/a/?x`) asks for.
    pub fn route(&self, target: &str) -> Route {
        let target = strip_origin(target);
        let (raw_path, query) = match target.find(['?', '#']) {
            Some(i) => (&target[..i], &target[i..]),
            None => (target, ""),
        };
        if !raw_path.starts_with('/') {
            return Route::BadRequest("the request path must start with /");
        }
        let lower = raw_path.to_ascii_lowercase();
        if raw_path.contains('\\') || lower.contains("%5c") {
            return Route::BadRequest("backslashes are not allowed in paths");
        }
        if lower.contains("%2f") {
            return Route::BadRequest("encoded slashes are not allowed in paths");
        }
        let Some(path) = percent_decode(raw_path) else {
            return Route::BadRequest("the path is not valid percent-encoded UTF-8");
        };
        if path.chars().any(char::is_control) || path.contains('\\') {
            return Route::BadRequest("control characters are not allowed in paths");
        }
        if path.split('/').any(|s| s == ".." || s == ".") {
            return Route::BadRequest("`.` and `..` segments are not allowed in paths");
        }
        // `//x` would join as the absolute path `/x`, and redirect to `//x/`, which
        // browsers read as another host.
        if path.contains("//") {
            return Route::BadRequest("empty segments (`//`) are not allowed in paths");
        }
        let base = self.base_path();
        let Some(rest) = path.strip_prefix(base.as_str()) else {
            if path == "/" || format!("{path}/") == base {
                return Route::Redirect(format!("{base}{}", query_only(query)));
            }
            return Route::OutsideSite;
        };
        if let Some(endpoint) = rest
            .strip_prefix(RESERVED_SEGMENT)
            .and_then(|r| r.strip_prefix('/'))
        {
            if self.live.is_some() {
                return match endpoint {
                    "reload.js" => Route::ReloadScript,
                    "events" => Route::Events(since(query)),
                    _ => Route::NotFound,
                };
            }
        }
        if !self.dir.join(crate::output::MARKER).is_file() {
            return Route::NotBuilt;
        }
        if rest.split('/').any(|s| s.starts_with('.')) {
            return Route::NotFound;
        }
        let fs_path = self.dir.join(rest);
        let file = if rest.is_empty() || rest.ends_with('/') {
            fs_path.join("index.html")
        } else if fs_path.is_dir() {
            return Route::Redirect(format!("{raw_path}/{}", query_only(query)));
        } else if fs_path.is_file() {
            fs_path
        } else {
            self.dir.join(format!("{rest}.html"))
        };
        if !file.is_file() || !inside(&self.dir, &file) {
            return Route::NotFound;
        }
        Route::File(file)
    }

    /// The reply to a routed request. For [`Route::Events`] with a version this
    /// waits up to [`POLL_TIMEOUT`] for a newer build.
    fn reply(&self, route: Route) -> Reply {
        match route {
            Route::File(path) => self.file_reply(&path, 200),
            Route::NotFound => {
                let page = self.dir.join("404.html");
                if page.is_file() {
                    self.file_reply(&page, 404)
                } else {
                    Reply::text(404, "not found\n")
                }
            }
            Route::OutsideSite => Reply::text(
                404,
                &format!(
                    "not found: this server serves the site under {}\n",
                    self.base_path()
                ),
            ),
            Route::Redirect(location) => Reply::bytes(301, "text/plain; charset=utf-8", Vec::new())
                .with_header("Location", location),
            Route::BadRequest(why) => Reply::text(400, &format!("bad request: {why}\n")),
            Route::ReloadScript => Reply::bytes(
                200,
                "text/javascript; charset=utf-8",
                RELOAD_SCRIPT.as_bytes().to_vec(),
            ),
            Route::Events(since) => {
                let state = match (&self.live, since) {
                    (Some(live), Some(since)) => live.wait_newer(since, POLL_TIMEOUT),
                    (Some(live), None) => live.current(),
                    (None, _) => return Reply::text(404, "not found\n"),
                };
                let body = serde_json::to_vec(&state).unwrap_or_default();
                Reply::bytes(200, "application/json", body)
            }
            Route::NotBuilt => {
                let html = "<!doctype html><meta charset=\"utf-8\"><title>annals serve</title><body><h1>The site has not been built yet</h1><p>The first build failed; fix the problems shown in the terminal and this page reloads by itself.</p></body>".to_string();
                Reply::bytes(
                    503,
                    "text/html; charset=utf-8",
                    self.inject(html, self.version()).into_bytes(),
                )
            }
        }
    }

    fn file_reply(&self, path: &Path, status: u16) -> Reply {
        let content_type = content_type(path);
        let html = content_type.starts_with("text/html");
        // The version the page's bytes are at least as new as, read before them:
        // the live-reload script starts from it, so a build that finishes while
        // the page loads still reloads it.
        let seen = self.version();
        // A previewed file is served from memory; a page, with the live-reload
        // script added.
        let overlaid = self.overlaid(path);
        if overlaid.is_some() || (html && self.live.is_some()) {
            let bytes = match overlaid {
                Some(bytes) => bytes.to_vec(),
                None => match std::fs::read(path) {
                    Ok(bytes) => bytes,
                    Err(_) => return Reply::text(404, "not found\n"),
                },
            };
            let bytes = match html {
                true => self
                    .inject(String::from_utf8_lossy(&bytes).into_owned(), seen)
                    .into_bytes(),
                false => bytes,
            };
            return Reply::bytes(status, content_type, bytes);
        }
        // The length is taken from the open file: a rebuild swaps the output folder
        // in, so the file opened stays whole while it is sent.
        match File::open(path).and_then(|f| Ok((f.metadata()?.len(), f))) {
            Ok((len, file)) => Reply {
                status,
                headers: vec![
                    ("Content-Type", content_type.to_string()),
                    ("Cache-Control", "no-store".to_string()),
                ],
                body: Body::File(file, len),
            },
            Err(_) => Reply::text(404, "not found\n"),
        }
    }

    /// The live-reload version now, if live reload is on.
    fn version(&self) -> Option<u64> {
        self.live.as_ref().map(|l| l.current().version)
    }

    /// Adds the live-reload script tag before `</body>` (or at the end), with
    /// the version the page was read at.
    fn inject(&self, mut html: String, version: Option<u64>) -> String {
        let Some(version) = version.filter(|_| self.live.is_some()) else {
            return html;
        };
        let base = self.base_path();
        let tag = format!(
            "<script src=\"{base}{RESERVED_SEGMENT}/reload.js\" data-events=\"{base}{RESERVED_SEGMENT}/events\" data-version=\"{version}\" defer></script>\n"
        );
        let at = html
            .to_ascii_lowercase()
            .rfind("</body>")
            .unwrap_or(html.len());
        html.insert_str(at, &tag);
        html
    }
}

/// An HTTP/1.1 server for a [`Site`], answering on its own threads until stopped.
///
/// One thread accepts connections into a queue; [`WORKERS`] threads answer them,
/// keeping connections alive between requests. A burst of connections waits its
/// turn, first in the queue, then in the kernel's listen backlog (asked large, see
/// [`BACKLOG`]): nothing is refused or reset. A connection without a complete
/// request goes back to the end of the queue whenever others wait, so idle
/// keep-alive connections, browsers' speculative connections and slow clients
/// never hold a worker that a request could use. Long polls get a thread of their
/// own (up to [`MAX_WAITING`]).
pub struct SiteServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

/// What the accepting and answering threads share.
struct Shared {
    site: Arc<Site>,
    /// The listening address: only loopback host names are answered on loopback.
    addr: SocketAddr,
    stop: AtomicBool,
    /// Open long polls.
    waiting: AtomicUsize,
    queue: Mutex<VecDeque<Conn>>,
    /// Signalled when a connection is queued.
    queued: Condvar,
    /// Signalled when a connection leaves the queue.
    room: Condvar,
}

impl SiteServer {
    /// Listens on `addr` (port 0 picks a free port) and starts answering.
    pub fn start(addr: SocketAddr, site: Arc<Site>) -> io::Result<SiteServer> {
        let listener = listen(addr)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            site,
            addr,
            stop: AtomicBool::new(false),
            waiting: AtomicUsize::new(0),
            queue: Mutex::new(VecDeque::new()),
            queued: Condvar::new(),
            room: Condvar::new(),
        });
        let mut threads = Vec::with_capacity(WORKERS + 1);
        let accepting = shared.clone();
        threads.push(
            std::thread::Builder::new()
                .name("annals-accept".into())
                .spawn(move || accepting.accept_all(&listener))?,
        );
        for i in 0..WORKERS {
            let working = shared.clone();
            threads.push(
                std::thread::Builder::new()
                    .name(format!("annals-http-{i}"))
                    .spawn(move || working.work())?,
            );
        }
        Ok(SiteServer {
            addr,
            shared,
            threads,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops answering and waits for the accepting and answering threads.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if self.threads.is_empty() {
            return;
        }
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.queued.notify_all();
        self.shared.room.notify_all();
        // The accepting thread blocks in accept(): one more connection wakes it.
        let mut wake = self.addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(match wake {
                SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            });
        }
        let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for SiteServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A listening socket with a backlog of [`BACKLOG`] (std's `TcpListener::bind`
/// asks for 128).
fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

impl Shared {
    /// Accepts connections into the queue until stopped.
    fn accept_all(&self, listener: &TcpListener) {
        while !self.stop.load(Ordering::SeqCst) {
            match listener.accept() {
                Ok((stream, _)) => {
                    if self.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    self.enqueue(Conn::new(stream));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Out of file descriptors or memory, or a connection reset before it
                // was accepted: keep listening, the backlog holds the others.
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        self.queued.notify_all();
    }

    /// Queues a new connection, waiting while the queue is full.
    fn enqueue(&self, conn: Conn) {
        let mut queue = self.lock_queue();
        while queue.len() >= QUEUE && !self.stop.load(Ordering::SeqCst) {
            queue = self
                .room
                .wait_timeout(queue, Duration::from_millis(200))
                .map_or_else(|e| e.into_inner().0, |(q, _)| q);
        }
        queue.push_back(conn);
        self.queued.notify_one();
    }

    /// Puts a connection without a request back at the end of the queue.
    fn requeue(&self, conn: Conn) {
        self.lock_queue().push_back(conn);
        self.queued.notify_one();
    }

    /// Whether connections are waiting for a worker.
    fn others_waiting(&self) -> bool {
        !self.lock_queue().is_empty()
    }

    fn lock_queue(&self) -> std::sync::MutexGuard<'_, VecDeque<Conn>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A worker: answers queued connections until stopped.
    fn work(self: &Arc<Self>) {
        loop {
            let conn = {
                let mut queue = self.lock_queue();
                loop {
                    if self.stop.load(Ordering::SeqCst) {
                        return;
                    }
                    if let Some(conn) = queue.pop_front() {
                        self.room.notify_one();
                        break conn;
                    }
                    queue = self
                        .queued
                        .wait_timeout(queue, Duration::from_millis(200))
                        .map_or_else(|e| e.into_inner().0, |(q, _)| q);
                }
            };
            // A bug must cost one connection, never a worker.
            let answered =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.drive(conn)));
            if let Ok(Some(conn)) = answered {
                self.requeue(conn);
            }
        }
    }

    /// Answers requests on `conn` while it has them. Returns the connection when it
    /// is waiting for a request and others wait for a worker.
    fn drive(self: &Arc<Self>, mut conn: Conn) -> Option<Conn> {
        loop {
            let head = match conn.poll_head() {
                Poll::Request(head) => head,
                Poll::Pending => {
                    if self.stop.load(Ordering::SeqCst) {
                        conn.close(false);
                        return None;
                    }
                    if self.others_waiting() {
                        return Some(conn);
                    }
                    continue;
                }
                Poll::Closed => {
                    conn.close(false);
                    return None;
                }
                Poll::Refused(refusal) => {
                    let _ = conn.send(Reply::refusal(refusal), true, false);
                    conn.close(true);
                    return None;
                }
            };
            let refused = if head.transfer_encoding {
                Some(Refusal {
                    status: 501,
                    why: "request bodies are not supported",
                })
            } else if head.content_length > MAX_BODY {
                Some(Refusal {
                    status: 413,
                    why: "the request body is too large",
                })
            } else if conn.skip_body(head.content_length).is_err() {
                conn.close(false);
                return None;
            } else {
                None
            };
            if let Some(refusal) = refused {
                let _ = conn.send(Reply::refusal(refusal), head.method != "HEAD", false);
                conn.close(true);
                return None;
            }
            let with_body = head.method != "HEAD";
            let keep_alive = head.keep_alive() && !self.stop.load(Ordering::SeqCst);
            let reply = if head.method != "GET" && head.method != "HEAD" {
                Reply::text(405, "only GET and HEAD are supported\n")
                    .with_header("Allow", "GET, HEAD")
            } else if head.http11 && head.host.is_none() {
                // RFC 9112, section 3.2: an HTTP/1.1 request names its host.
                Reply::text(400, "an HTTP/1.1 request must have a Host header\n")
            } else if self.addr.ip().is_loopback()
                && !host_allowed(head.host.as_deref(), self.addr.ip())
            {
                Reply::text(
                    403,
                    "forbidden: use http://127.0.0.1 or http://localhost to reach the preview\n",
                )
            } else {
                let route = self.site.route(&head.target);
                if matches!(route, Route::Events(Some(_))) {
                    conn = self.long_poll(conn, route, with_body, keep_alive)?;
                    continue;
                }
                self.site.reply(route)
            };
            if conn.send(reply, with_body, keep_alive).is_err() || !keep_alive {
                conn.close(false);
                return None;
            }
        }
    }

    /// Answers a long poll on a thread of its own, then closes its connection; past
    /// [`MAX_WAITING`] open polls, answers at once with the current state.
    /// Returns the connection when it was answered here and stays open.
    fn long_poll(
        self: &Arc<Self>,
        mut conn: Conn,
        route: Route,
        with_body: bool,
        keep_alive: bool,
    ) -> Option<Conn> {
        if self.waiting.fetch_add(1, Ordering::SeqCst) < MAX_WAITING {
            let shared = self.clone();
            // If the thread cannot start, the connection it owned is closed.
            let _ = std::thread::Builder::new()
                .name("annals-poll".into())
                .spawn(move || {
                    let reply = shared.site.reply(route);
                    let _ = conn.send(reply, with_body, false);
                    conn.close(false);
                    shared.waiting.fetch_sub(1, Ordering::SeqCst);
                });
            return None;
        }
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        let reply = self.site.reply(Route::Events(None));
        if conn.send(reply, with_body, keep_alive).is_err() || !keep_alive {
            conn.close(false);
            return None;
        }
        Some(conn)
    }
}

/// On a loopback address only loopback names are served (DNS-rebinding defence).
fn host_allowed(host: Option<&str>, ip: IpAddr) -> bool {
    let Some(host) = host.map(str::to_ascii_lowercase) else {
        return true;
    };
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("").to_string()
    } else {
        host.rsplit_once(':')
            .map_or(host.clone(), |(h, _)| h.to_string())
    };
    name == "localhost"
        || name.ends_with(".localhost")
        || name
            .parse::<IpAddr>()
            .is_ok_and(|a| a.is_loopback() || a == ip)
}

fn normalise_base(base: &str) -> String {
    let mut b = String::from("/");
    b.push_str(base.trim_matches('/'));
    if !b.ends_with('/') {
        b.push('/');
    }
    b
}

/// `http://host/a` (absolute-form request target) -> `/a`.
fn strip_origin(target: &str) -> &str {
    for scheme in ["http://", "https://"] {
        if let Some(rest) = target.strip_prefix(scheme) {
            return rest.find('/').map_or("/", |i| &rest[i..]);
        }
    }
    target
}

fn query_only(query: &str) -> &str {
    if query.starts_with('?') {
        query.split('#').next().unwrap_or("")
    } else {
        ""
    }
}

fn since(query: &str) -> Option<u64> {
    query
        .trim_start_matches('?')
        .split('&')
        .find_map(|kv| kv.strip_prefix("since="))
        .and_then(|v| v.parse().ok())
}

/// Strict percent-decoding: a `%` not followed by two hex digits, or bytes that are
/// not UTF-8, make the path invalid.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Whether `file` (which exists) lies inside `dir` once links are resolved.
fn inside(dir: &Path, file: &Path) -> bool {
    match (dir.canonicalize(), file.canonicalize()) {
        (Ok(d), Ok(f)) => f.starts_with(d),
        _ => false,
    }
}

/// The media type GitHub Pages would send for a file, by extension.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml",
        "txt" | "bib" | "ris" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "pdf" => "application/pdf",
        "wasm" => "application/wasm",
        _ => crate::publish::data::media_type(&path.to_string_lossy()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> (tempfile::TempDir, Site) {
        site_at("/archive/")
    }

    fn site_at(base: &str) -> (tempfile::TempDir, Site) {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join(crate::output::MARKER), "").unwrap();
        std::fs::create_dir_all(d.join("documents/a")).unwrap();
        std::fs::write(d.join("documents/a/index.html"), "<p>a</p>").unwrap();
        std::fs::write(d.join("index.html"), "<body>home</body>").unwrap();
        std::fs::write(d.join("old.html"), "old").unwrap();
        std::fs::write(d.join("feed.xml"), "<feed/>").unwrap();
        let site = Site::new(d, base, Some(Arc::new(LiveReload::default())));
        (dir, site)
    }

    #[test]
    fn routes_like_github_pages() {
        let (dir, s) = site();
        let d = dir.path();
        assert_eq!(s.route("/archive/"), Route::File(d.join("index.html")));
        assert_eq!(
            s.route("/archive/documents/a/?x=1"),
            Route::File(d.join("documents/a/index.html"))
        );
        assert_eq!(
            s.route("/archive/documents/a"),
            Route::Redirect("/archive/documents/a/".into())
        );
        assert_eq!(s.route("/archive/old"), Route::File(d.join("old.html")));
        assert_eq!(
            s.route("/archive/feed.xml"),
            Route::File(d.join("feed.xml"))
        );
        assert_eq!(s.route("/archive/nope/"), Route::NotFound);
        assert_eq!(s.route("/archive/.annals-output"), Route::NotFound);
        assert_eq!(s.route("/"), Route::Redirect("/archive/".into()));
        assert_eq!(s.route("/archive"), Route::Redirect("/archive/".into()));
        assert_eq!(s.route("/elsewhere/"), Route::OutsideSite);
        assert_eq!(s.route("/archive/__annals/reload.js"), Route::ReloadScript);
        assert_eq!(
            s.route("/archive/__annals/events?since=3"),
            Route::Events(Some(3))
        );
        assert_eq!(
            s.route("http://127.0.0.1:1/archive/feed.xml"),
            Route::File(d.join("feed.xml"))
        );
    }

    #[test]
    fn refuses_traversal_in_every_spelling() {
        let (_dir, s) = site();
        for bad in [
            "/archive/../etc/passwd",
            "/archive/%2e%2e/etc/passwd",
            "/archive/%2E%2E/%2e%2e/x",
            "/archive/.%2e/x",
            "/archive/..%2f..%2fetc/passwd",
            "/archive/..%2F",
            "/archive/..\\..\\x",
            "/archive/%5c..%5cx",
            "/archive/a%00.html",
            "/archive/%zz",
            "/archive/%c0%ae%c0%ae/x",
            "/archive/./index.html",
            "archive/index.html",
            "/archive//tmp",
            "/archive/documents//a/",
            "//tmp",
            "http://127.0.0.1:1//tmp",
        ] {
            assert!(
                matches!(s.route(bad), Route::BadRequest(_)),
                "{bad}: {:?}",
                s.route(bad)
            );
        }
        // Double encoding decodes once to a literal file name, which does not exist.
        assert_eq!(s.route("/archive/%252e%252e/x"), Route::NotFound);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]
        /// Whatever the target, made of the pieces traversal attempts use, the route
        /// never names a file outside the site nor redirects off it.
        #[test]
        fn no_target_leaves_the_site(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "/", "//", ".", "..", "%2e", "%2E", "%2f", "%5c", "\\", "%00", "%25",
                "%c0%ae", "archive", "documents", "a", "index.html", "old", "?", "#",
                "http://h", "%", "2e", "~", ";", "etc", "passwd", "é", "%c3%a9",
            ]), 1..7),
            base in proptest::sample::select(vec!["/archive/", "/"]),
        ) {
            let (dir, s) = site_at(base);
            let target: String = pieces.concat();
            let root = dir.path().canonicalize().unwrap();
            match s.route(&target) {
                Route::File(path) => {
                    let real = path.canonicalize().unwrap();
                    proptest::prop_assert!(real.starts_with(&root), "{target} -> {path:?}");
                }
                Route::Redirect(location) => {
                    proptest::prop_assert!(
                        location.starts_with(base) && !location.starts_with("//"),
                        "{target} -> {location}"
                    );
                }
                _ => {}
            }
        }
    }

    #[test]
    fn injects_the_script_before_body_end() {
        let (_dir, s) = site();
        let html = s.inject("<html><body><p>x</p></BODY></html>".into(), Some(3));
        assert!(html.contains("<script src=\"/archive/__annals/reload.js\" data-events=\"/archive/__annals/events\" data-version=\"3\" defer></script>\n</BODY>"), "{html}");
    }

    /// A response head read from `stream`: status, head, announced length.
    fn response_head(stream: &mut TcpStream) -> (u16, String, usize) {
        use std::io::Read;
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        let len = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .unwrap()
            .parse()
            .unwrap();
        (status, head, len)
    }

    /// A whole response read from `stream`: status, head, body.
    fn response(stream: &mut TcpStream) -> (u16, String, Vec<u8>) {
        let (status, head, len) = response_head(stream);
        let mut body = vec![0; len];
        std::io::Read::read_exact(stream, &mut body).unwrap();
        (status, head, body)
    }

    fn server() -> (tempfile::TempDir, SiteServer) {
        let (dir, site) = site();
        let server = SiteServer::start("127.0.0.1:0".parse().unwrap(), Arc::new(site)).unwrap();
        (dir, server)
    }

    fn connect(server: &SiteServer) -> TcpStream {
        let stream = TcpStream::connect(server.addr()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream
    }

    fn send(stream: &mut TcpStream, text: &str) {
        use std::io::Write;
        stream.write_all(text.as_bytes()).unwrap();
    }

    #[test]
    fn keeps_connections_alive_and_answers_pipelined_requests() {
        let (_dir, server) = server();
        let mut c = connect(&server);
        send(
            &mut c,
            "GET /archive/feed.xml HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        );
        let (status, head, body) = response(&mut c);
        assert_eq!((status, body.as_slice()), (200, &b"<feed/>"[..]));
        assert!(head.contains("Connection: keep-alive\r\n"), "{head}");
        // Two at once on the same connection, then one asking to close.
        send(
            &mut c,
            "GET /archive/old HTTP/1.1\r\nHost: localhost\r\n\r\nGET /archive/documents/a HTTP/1.1\r\nHost: localhost\r\n\r\n",
        );
        let (status, _, body) = response(&mut c);
        assert_eq!(status, 200);
        // A page, with the live-reload script added.
        let page = String::from_utf8(body).unwrap();
        assert!(page.starts_with("old<script src="), "{page}");
        let (status, head, _) = response(&mut c);
        assert_eq!(status, 301);
        assert!(
            head.contains("Location: /archive/documents/a/\r\n"),
            "{head}"
        );
        send(
            &mut c,
            "GET /archive/feed.xml HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        );
        let (status, head, _) = response(&mut c);
        assert_eq!(status, 200);
        assert!(head.contains("Connection: close\r\n"), "{head}");
        let mut rest = Vec::new();
        std::io::Read::read_to_end(&mut c, &mut rest).unwrap();
        assert!(rest.is_empty(), "closed after the answer");
        // HTTP/1.0 closes by default.
        let mut c = connect(&server);
        send(&mut c, "GET /archive/feed.xml HTTP/1.0\r\n\r\n");
        let (_, head, _) = response(&mut c);
        assert!(head.contains("Connection: close\r\n"), "{head}");
    }

    #[test]
    fn head_requests_get_the_length_without_the_body() {
        let (_dir, server) = server();
        let mut c = connect(&server);
        send(
            &mut c,
            "HEAD /archive/feed.xml HTTP/1.1\r\nHost: localhost\r\n\r\n",
        );
        let (status, head, _) = response_head(&mut c);
        assert_eq!(status, 200);
        assert!(head.contains("Content-Length: 7\r\n"), "{head}");
        // The next answer follows at once: no body was sent in between.
        send(
            &mut c,
            "GET /archive/feed.xml HTTP/1.1\r\nHost: localhost\r\n\r\n",
        );
        let (status, _, body) = response(&mut c);
        assert_eq!((status, body.as_slice()), (200, &b"<feed/>"[..]));
    }

    #[test]
    fn answers_broken_and_unsupported_requests_before_closing() {
        let (_dir, server) = server();
        let big_head = format!(
            "GET /archive/ HTTP/1.1\r\nX: {}\r\n\r\n",
            "y".repeat(wire::MAX_HEAD)
        );
        let big_body = format!(
            "GET /archive/ HTTP/1.1\r\nContent-Length: {}\r\n\r\n{}",
            MAX_BODY + 1,
            "z".repeat(200_000)
        );
        for (request, status) in [
            ("POST /archive/ HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 405),
            ("DELETE /archive/ HTTP/1.1\r\n\r\n", 405),
            ("GARBAGE\r\n\r\n", 400),
            ("GET /archive/ HTTP/3\r\n\r\n", 505),
            ("GET /archive/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 501),
            (big_head.as_str(), 431),
            (big_body.as_str(), 413),
            ("GET /archive/..%2f HTTP/1.1\r\nHost: localhost\r\n\r\n", 400),
            ("GET /archive/ HTTP/1.1\r\nHost: evil.example\r\n\r\n", 403),
            ("GET /archive/ HTTP/1.1\r\n\r\n", 400),
            ("GET /archive/feed.xml HTTP/1.0\r\n\r\n", 200),
        ] {
            let mut c = connect(&server);
            send(&mut c, request);
            let (got, head, _) = response(&mut c);
            assert_eq!(got, status, "{}: {head}", &request[..request.len().min(60)]);
            if status == 405 {
                assert!(head.contains("Allow: GET, HEAD\r\n"), "{head}");
            }
        }
    }

    #[test]
    fn idle_connections_never_hold_up_a_request() {
        let (_dir, server) = server();
        // Far more idle connections than workers: opened and never used, one
        // with half a request, and kept-alive ones after a first answer.
        let mut idle: Vec<TcpStream> = (0..3 * WORKERS).map(|_| connect(&server)).collect();
        let mut slow = connect(&server);
        send(&mut slow, "GET /archive/ HTT");
        for _ in 0..WORKERS {
            let mut c = connect(&server);
            send(
                &mut c,
                "GET /archive/feed.xml HTTP/1.1\r\nHost: localhost\r\n\r\n",
            );
            response(&mut c);
            idle.push(c);
        }
        std::thread::sleep(Duration::from_millis(200));
        let start = std::time::Instant::now();
        let mut c = connect(&server);
        send(
            &mut c,
            "GET /archive/feed.xml HTTP/1.1\r\nHost: localhost\r\n\r\n",
        );
        let (status, _, body) = response(&mut c);
        assert_eq!((status, body.as_slice()), (200, &b"<feed/>"[..]));
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "answered after {:?}",
            start.elapsed()
        );
        // The half request, completed, is still answered.
        send(&mut slow, "P/1.1\r\nHost: localhost\r\n\r\n");
        assert_eq!(response(&mut slow).0, 200);
        // Stopping does not wait for the idle connections.
        let start = std::time::Instant::now();
        server.stop();
        assert!(start.elapsed() < Duration::from_secs(3));
        drop(idle);
    }
}
