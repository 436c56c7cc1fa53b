//! Serving a built site over HTTP the way GitHub Pages does: under the base path,
//! `a/` as `a/index.html`, `a` redirected to `a/` when it is a folder or served as
//! `a.html`, and the site's `404.html` for anything missing.
//!
//! Request paths are checked before they touch the disk: `..` and `.` segments,
//! encoded slashes and backslashes, NUL and other control characters are refused
//! with 400, whatever their encoding, and a resolved file must lie inside the
//! output folder. Only loopback host names are accepted on a loopback address, so a
//! web page cannot read the preview through DNS rebinding.

use super::live::{LiveReload, POLL_TIMEOUT};
use std::fs::File;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;
use tiny_http::{Header, Method, Request, Response, Server};

/// The live-reload script, served as a file at `<base>__annals/reload.js`.
pub const RELOAD_SCRIPT: &str = include_str!("reload.js");

/// The URL segment under the base path reserved for the preview server. No page of
/// a site can use it: ids, slugs and taxonomy paths have no underscore.
pub const RESERVED_SEGMENT: &str = "__annals";

/// Threads answering requests; long polls get a thread of their own.
const WORKERS: usize = 4;
/// Open long polls beyond this are answered at once.
const MAX_WAITING: usize = 64;

/// A built site to serve: its folder and the base path it was built for.
pub struct Site {
    dir: PathBuf,
    base_path: RwLock<String>,
    live: Option<Arc<LiveReload>>,
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
        }
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

    fn respond(&self, request: Request) {
        let target = request.url().to_string();
        if !matches!(request.method(), Method::Get | Method::Head) {
            let _ = request.respond(text(405, "only GET and HEAD are supported\n"));
            return;
        }
        let route = self.route(&target);
        let result = match route {
            Route::File(path) => self.file_response(request, &path, 200),
            Route::NotFound => {
                let page = self.dir.join("404.html");
                if page.is_file() {
                    self.file_response(request, &page, 404)
                } else {
                    request.respond(text(404, "not found\n"))
                }
            }
            Route::OutsideSite => {
                let base = self.base_path();
                request.respond(text(
                    404,
                    &format!("not found: this server serves the site under {base}\n"),
                ))
            }
            Route::Redirect(location) => request.respond(
                Response::empty(301)
                    .with_header(header("Location", &location))
                    .with_header(header("Cache-Control", "no-store")),
            ),
            Route::BadRequest(why) => request.respond(text(400, &format!("bad request: {why}\n"))),
            Route::ReloadScript => request.respond(
                Response::from_data(RELOAD_SCRIPT.as_bytes().to_vec())
                    .with_header(header("Content-Type", "text/javascript; charset=utf-8"))
                    .with_header(header("Cache-Control", "no-store")),
            ),
            Route::Events(since) => {
                // Answered by `serve_request` on a thread of its own.
                let state = match (&self.live, since) {
                    (Some(live), Some(since)) => live.wait_newer(since, POLL_TIMEOUT),
                    (Some(live), None) => live.current(),
                    (None, _) => return,
                };
                let body = serde_json::to_vec(&state).unwrap_or_default();
                request.respond(
                    Response::from_data(body)
                        .with_header(header("Content-Type", "application/json"))
                        .with_header(header("Cache-Control", "no-store")),
                )
            }
            Route::NotBuilt => {
                let html = "<!doctype html><meta charset=\"utf-8\"><title>annals serve</title><body><h1>The site has not been built yet</h1><p>The first build failed; fix the problems shown in the terminal and this page reloads by itself.</p></body>".to_string();
                let html = self.inject(html);
                request.respond(
                    Response::from_data(html.into_bytes())
                        .with_status_code(503)
                        .with_header(header("Content-Type", "text/html; charset=utf-8"))
                        .with_header(header("Cache-Control", "no-store")),
                )
            }
        };
        let _ = result;
    }

    fn file_response(&self, request: Request, path: &Path, status: u16) -> io::Result<()> {
        let content_type = content_type(path);
        let is_html = content_type.starts_with("text/html");
        if is_html && self.live.is_some() {
            let html = match std::fs::read(path) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(_) => return request.respond(text(404, "not found\n")),
            };
            let html = self.inject(html);
            return request.respond(
                Response::from_data(html.into_bytes())
                    .with_status_code(status)
                    .with_header(header("Content-Type", content_type))
                    .with_header(header("Cache-Control", "no-store")),
            );
        }
        match File::open(path) {
            Ok(file) => request.respond(
                Response::from_file(file)
                    .with_status_code(status)
                    .with_header(header("Content-Type", content_type))
                    .with_header(header("Cache-Control", "no-store")),
            ),
            Err(_) => request.respond(text(404, "not found\n")),
        }
    }

    /// Adds the live-reload script tag before `</body>` (or at the end).
    fn inject(&self, mut html: String) -> String {
        if self.live.is_none() {
            return html;
        }
        let base = self.base_path();
        let tag = format!(
            "<script src=\"{base}{RESERVED_SEGMENT}/reload.js\" data-events=\"{base}{RESERVED_SEGMENT}/events\" defer></script>\n"
        );
        let at = html
            .to_ascii_lowercase()
            .rfind("</body>")
            .unwrap_or(html.len());
        html.insert_str(at, &tag);
        html
    }
}

/// An HTTP server for a [`Site`], answering on its own threads until stopped.
pub struct SiteServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
}

impl SiteServer {
    /// Listens on `addr` (port 0 picks a free port) and starts answering.
    pub fn start(addr: SocketAddr, site: Arc<Site>) -> io::Result<SiteServer> {
        let server = Server::http(addr).map_err(|e| io::Error::other(e.to_string()))?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| io::Error::other("not an IP listener"))?;
        let server = Arc::new(server);
        let stop = Arc::new(AtomicBool::new(false));
        let waiting = Arc::new(AtomicUsize::new(0));
        let loopback = addr.ip().is_loopback();
        let workers = (0..WORKERS)
            .map(|_| {
                let (server, stop, site, waiting) =
                    (server.clone(), stop.clone(), site.clone(), waiting.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        match server.recv_timeout(Duration::from_millis(200)) {
                            Ok(Some(request)) => {
                                serve_request(&site, request, loopback, addr.ip(), &waiting)
                            }
                            Ok(None) => {}
                            Err(_) => break,
                        }
                    }
                })
            })
            .collect();
        Ok(SiteServer {
            addr,
            stop,
            workers,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops answering and waits for the worker threads.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

impl Drop for SiteServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn serve_request(
    site: &Arc<Site>,
    request: Request,
    loopback: bool,
    ip: IpAddr,
    waiting: &Arc<AtomicUsize>,
) {
    if loopback && !host_allowed(&request, ip) {
        let _ = request.respond(text(
            403,
            "forbidden: use http://127.0.0.1 or http://localhost to reach the preview\n",
        ));
        return;
    }
    let long_poll = matches!(site.route(request.url()), Route::Events(Some(_)));
    if long_poll && waiting.fetch_add(1, Ordering::SeqCst) < MAX_WAITING {
        let (site, waiting) = (site.clone(), waiting.clone());
        std::thread::spawn(move || {
            site.respond(request);
            waiting.fetch_sub(1, Ordering::SeqCst);
        });
        return;
    }
    if long_poll {
        waiting.fetch_sub(1, Ordering::SeqCst);
        // Too many open polls: answer with the current state at once.
        if let Some(live) = &site.live {
            let body = serde_json::to_vec(&live.current()).unwrap_or_default();
            let _ = request.respond(
                Response::from_data(body).with_header(header("Content-Type", "application/json")),
            );
        }
        return;
    }
    site.respond(request);
}

/// On a loopback address only loopback names are served (DNS-rebinding defence).
fn host_allowed(request: &Request, ip: IpAddr) -> bool {
    let Some(host) = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Host"))
        .map(|h| h.value.as_str().to_ascii_lowercase())
    else {
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

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap_or_else(|_| {
        Header::from_bytes(&b"X-Invalid"[..], &b"1"[..]).expect("static header")
    })
}

fn text(status: u16, body: &str) -> Response<io::Cursor<Vec<u8>>> {
    Response::from_data(body.as_bytes().to_vec())
        .with_status_code(status)
        .with_header(header("Content-Type", "text/plain; charset=utf-8"))
        .with_header(header("Cache-Control", "no-store"))
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
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join(crate::output::MARKER), "").unwrap();
        std::fs::create_dir_all(d.join("documents/a")).unwrap();
        std::fs::write(d.join("documents/a/index.html"), "<p>a</p>").unwrap();
        std::fs::write(d.join("index.html"), "<body>home</body>").unwrap();
        std::fs::write(d.join("old.html"), "old").unwrap();
        std::fs::write(d.join("feed.xml"), "<feed/>").unwrap();
        let site = Site::new(d, "/archive/", Some(Arc::new(LiveReload::default())));
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

    #[test]
    fn injects_the_script_before_body_end() {
        let (_dir, s) = site();
        let html = s.inject("<html><body><p>x</p></BODY></html>".into());
        assert!(html.contains("<script src=\"/archive/__annals/reload.js\" data-events=\"/archive/__annals/events\" defer></script>\n</BODY>"), "{html}");
    }
}
