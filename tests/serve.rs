//! `annals serve` as a real process: it builds, serves under the base path on a free
//! loopback port, rebuilds when a file changes, shows build errors to open pages
//! while serving the last good site, and refuses requests outside the output.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Kills the server when the test ends, however it ends.
struct Server {
    child: Child,
    base: String,
    addr: String,
    output: mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn start(root: &Path, output: &Path) -> Server {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("annals"))
        .args(["serve", "--port", "0", "--root"])
        .arg(root)
        .arg("--output")
        .arg(output)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    // From here on the server is killed on drop, even if the test panics.
    let mut server = Server {
        child,
        base: String::new(),
        addr: String::new(),
        output: rx,
    };
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let line = server
            .output
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("annals serve printed its address");
        if let Some(url) = line.strip_prefix("serving ") {
            server.base = url.trim().to_string();
            server.addr = server
                .base
                .trim_start_matches("http://")
                .split('/')
                .next()
                .unwrap()
                .to_string();
            return server;
        }
    }
}

fn get(url: &str) -> (u16, String) {
    match ureq::get(url).timeout(Duration::from_secs(30)).call() {
        Ok(r) => (r.status(), r.into_string().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(e) => panic!("{url}: {e}"),
    }
}

/// Sends a request line exactly as written (no client-side normalisation of `..`).
fn raw_request(addr: &str, target: &str, host: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// Polls until `check` holds, for at most 10 seconds.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out after 10 s waiting for: {what}");
}

fn title_of(html: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("h1").unwrap();
    doc.select(&sel)
        .next()
        .map(|h| h.text().collect::<String>().trim().to_string())
        .unwrap_or_default()
}

#[test]
fn serve_rebuilds_on_change_reloads_and_shows_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("site");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/publish"),
        &root,
    );
    let server = start(&root, &tmp.path().join("preview"));
    assert!(
        server.base.starts_with("http://127.0.0.1:"),
        "{}",
        server.base
    );
    assert!(
        server.base.ends_with("/archive/"),
        "served under the base path: {}",
        server.base
    );

    let page = format!("{}documents/minutes-2019/", server.base);
    let (status, html) = get(&page);
    assert_eq!(status, 200);
    assert_eq!(title_of(&html), "Minutes of the working party");
    // The live-reload script is a file under the base path, injected into pages.
    assert!(
        html.contains("<script src=\"/archive/__annals/reload.js\""),
        "{html}"
    );
    let (status, script) = get(&format!("{}__annals/reload.js", server.base));
    assert_eq!(status, 200);
    assert!(script.contains("location.reload"));
    let (_, state) = get(&format!("{}__annals/events", server.base));
    let state: serde_json::Value = serde_json::from_str(&state).unwrap();
    assert_eq!(state["errors"], serde_json::json!([]));
    let version = state["version"].as_u64().unwrap();
    // The built files themselves do not contain the script.
    let built =
        std::fs::read_to_string(tmp.path().join("preview/documents/minutes-2019/index.html"))
            .unwrap();
    assert!(!built.contains("__annals"));

    // A long poll started now is answered by the next build.
    let events = format!("{}__annals/events?since={version}", server.base);
    let poll = std::thread::spawn(move || get(&events));

    let file = root.join("content/documents/2019/minutes-2019.md");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace("Minutes of the working party", "Minutes, revised"),
    )
    .unwrap();
    eventually("the edited title to be served", || {
        title_of(&get(&page).1) == "Minutes, revised"
    });
    let (_, answer) = poll.join().unwrap();
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert!(answer["version"].as_u64().unwrap() > version);

    // A body edit is rebuilt incrementally: the terminal line says one page was
    // rendered (a title edit renders every page that lists the document) and one
    // document analysed for search, and the served search index has the new words.
    let search_build = || {
        let (status, body) = get(&format!("{}search/manifest.json", server.base));
        assert_eq!(status, 200);
        let manifest: serde_json::Value = serde_json::from_str(&body).unwrap();
        manifest["build"].as_str().unwrap().to_string()
    };
    let index_before = search_build();
    // The edit is shown by a preview, before the build completes the site: the
    // preview's version reloads only the edited page; the build's reloads every
    // other page (a search page must meet the new index) but not that one,
    // having written for it the bytes the preview showed.
    let version_now = || {
        let (_, state) = get(&format!("{}__annals/events", server.base));
        let state: serde_json::Value = serde_json::from_str(&state).unwrap();
        state["version"].as_u64().unwrap()
    };
    let before_edit = version_now();
    let events = format!("{}__annals/events?since={before_edit}", server.base);
    let woken = std::thread::spawn(move || get(&events));
    let edited = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        format!("{edited}\nA paragraph added while serving.\n"),
    )
    .unwrap();
    eventually("the added paragraph to be served", || {
        get(&page).1.contains("A paragraph added while serving.")
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    let incremental = loop {
        match server
            .output
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            Ok(line)
                if line.contains("rebuilt")
                    && line.contains("(1 parsed, 1 rendered, 1 analysed for search)") =>
            {
                break true
            }
            Ok(line) => seen.push(line),
            Err(_) => break false,
        }
    };
    assert!(
        incremental,
        "no rebuild parsing, rendering and analysing one document; printed: {seen:?}"
    );
    assert!(
        seen.iter().any(|l| l.contains("] previewed 1 page in ")),
        "the body edit was not previewed; printed: {seen:?}"
    );
    let (_, woken) = woken.join().unwrap();
    let woken: serde_json::Value = serde_json::from_str(&woken).unwrap();
    assert_eq!(woken["version"].as_u64(), Some(before_edit + 1));
    let page_path = "/archive/documents/minutes-2019/";
    assert_eq!(
        woken["reload"],
        serde_json::json!({"only": [page_path], "shownAt": 0}),
        "the preview reloads the edited page alone"
    );
    let (_, state) = get(&format!("{}__annals/events", server.base));
    let state: serde_json::Value = serde_json::from_str(&state).unwrap();
    assert_eq!(state["version"].as_u64(), Some(before_edit + 2));
    assert_eq!(
        state["reload"],
        serde_json::json!({"except": [page_path], "shownAt": before_edit + 1}),
        "the build after the preview must reload every page but the previewed one \
         (or its bytes differed from the preview's)"
    );
    assert_ne!(
        search_build(),
        index_before,
        "the search index was not rebuilt"
    );

    // A broken document: the overlay data names file:line, the last good page stays.
    let revised = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        revised.replace("date: \"2019\"", "date: \"2019-02-30\""),
    )
    .unwrap();
    let mut errors = serde_json::Value::Null;
    eventually("the build error to be reported", || {
        let state: serde_json::Value =
            serde_json::from_str(&get(&format!("{}__annals/events", server.base)).1).unwrap();
        errors = state["errors"].clone();
        errors.as_array().is_some_and(|e| !e.is_empty())
    });
    assert_eq!(errors[0]["file"], "content/documents/2019/minutes-2019.md");
    assert_eq!(errors[0]["line"], 4);
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("has no day 30"),
        "{errors}"
    );
    let (status, html) = get(&page);
    assert_eq!(status, 200);
    assert_eq!(title_of(&html), "Minutes, revised");

    // Fixed again: errors clear.
    std::fs::write(&file, revised.replace("Minutes, revised", "Minutes, fixed")).unwrap();
    eventually("the fixed build to be served", || {
        title_of(&get(&page).1) == "Minutes, fixed"
    });
    eventually("the errors to clear", || {
        let state: serde_json::Value =
            serde_json::from_str(&get(&format!("{}__annals/events", server.base)).1).unwrap();
        state["errors"] == serde_json::json!([])
    });

    // Missing pages get the site's 404 page with status 404; folders redirect.
    let (status, html) = get(&format!("{}no/such/page/", server.base));
    assert_eq!(status, 404);
    assert!(html.contains("Page not found"));
    let (status, text) = raw_request(&server.addr, "/archive/documents", "127.0.0.1");
    assert_eq!(status, 301, "{text}");
    assert!(text.contains("Location: /archive/documents/"), "{text}");
    let (status, _) = raw_request(&server.addr, "/", "localhost");
    assert_eq!(status, 301);
}

#[test]
fn serve_refuses_requests_outside_the_output() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("site");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/publish"),
        &root,
    );
    // A secret next to the output folder that a traversal would reach.
    std::fs::write(tmp.path().join("secret.txt"), "TOP-SECRET").unwrap();
    let server = start(&root, &tmp.path().join("preview"));
    for target in [
        "/archive/../secret.txt",
        "/archive/../../secret.txt",
        "/archive/%2e%2e/secret.txt",
        "/archive/%2E%2E/%2e%2e/secret.txt",
        "/archive/.%2e/secret.txt",
        "/archive/..%2fsecret.txt",
        "/archive/..%2Fsecret.txt",
        "/archive/%2F..%2F..%2Fsecret.txt",
        "/archive/..\\secret.txt",
        "/archive/..%5csecret.txt",
        "/archive/index.html%00.txt",
        "/archive/%00",
        "/archive/%c0%ae%c0%ae/secret.txt",
        "/archive/%252e%252e/secret.txt",
        "/../secret.txt",
        "/archive/../site/site.toml",
        "/archive/%255c..%255csecret.txt",
        "/archive/%25%32%65%25%32%65/secret.txt",
        "/archive//etc/passwd",
        "//etc/passwd",
        "/archive/..;/secret.txt",
        "http://127.0.0.1/archive/../secret.txt",
    ] {
        let (status, text) = raw_request(&server.addr, target, "127.0.0.1");
        assert!(
            status == 400 || status == 404,
            "{target} answered {status}:\n{text}"
        );
        assert!(
            !text.contains("TOP-SECRET") && !text.contains("base_url") && !text.contains("root:"),
            "{target} leaked a file"
        );
    }
    // An empty segment is refused: joined to the output folder it would name an
    // absolute path, and redirected it would leave for another host (`//tmp/`).
    for target in ["/archive//tmp", "/archive//etc/passwd"] {
        let (status, text) = raw_request(&server.addr, target, "127.0.0.1");
        assert_eq!(status, 400, "{target}:\n{text}");
    }
    // Only loopback host names are served (DNS-rebinding defence).
    let (status, _) = raw_request(&server.addr, "/archive/", "evil.example");
    assert_eq!(status, 403);
    let (status, _) = raw_request(&server.addr, "/archive/", "localhost");
    assert_eq!(status, 200);
}

/// The live-reload script itself (run under node against scripted event
/// answers, `tests/serve/reload.mjs`): which open page a preview and the build
/// completing it reload. The answers are what `__annals/events` sends (see
/// `serve_rebuilds_on_change_reloads_and_shows_errors` for the server's side).
#[test]
fn live_reload_reloads_only_the_pages_a_version_concerns() {
    let edited = "/archive/documents/minutes-2019/";
    let state = |version: u64, reload: serde_json::Value| serde_json::json!({"version": version, "building": false, "errors": [], "reload": reload});
    let all = serde_json::json!({"shownAt": 0});
    let preview = serde_json::json!({"only": [edited], "shownAt": 0});
    let completed = serde_json::json!({"except": [edited], "shownAt": 6});
    let failed = serde_json::json!({"version": 6, "building": false, "reload": all,
        "errors": [{"file": "content/a.md", "line": 1, "column": 1, "message": "bad"}]});
    // (what, page, answers, the answer that reloads it, if any)
    let reverted = serde_json::json!({"version": 7, "building": false,
        "reload": {"only": [edited], "shownAt": 0, "revert": true},
        "errors": [{"file": "content/a.md", "line": 1, "column": 1, "message": "bad"}]});
    let cases: [(&str, &str, Vec<serde_json::Value>, Option<u64>); 9] = [
        (
            "a build reloads every page",
            "/archive/search/",
            vec![state(5, all.clone()), state(6, all.clone())],
            Some(1),
        ),
        (
            "a preview reloads its page",
            edited,
            vec![state(5, all.clone()), state(6, preview.clone())],
            Some(1),
        ),
        (
            "a preview leaves other pages",
            "/archive/search/",
            vec![state(5, all.clone()), state(6, preview.clone())],
            None,
        ),
        (
            "the completing build reloads the other pages",
            "/archive/search/",
            vec![
                state(5, all.clone()),
                state(6, preview.clone()),
                state(7, completed.clone()),
            ],
            Some(2),
        ),
        (
            "the completing build leaves the previewed page",
            edited,
            vec![state(6, all.clone()), state(7, completed.clone())],
            None,
        ),
        (
            "a previewed page that missed the preview reloads",
            edited,
            vec![state(5, all.clone()), state(7, completed.clone())],
            Some(1),
        ),
        (
            "a failed build reloads nothing",
            "/archive/documents/other/",
            vec![state(5, all.clone()), failed.clone()],
            None,
        ),
        (
            "a build failing after a preview reloads the previewed page",
            edited,
            vec![state(6, preview.clone()), reverted.clone()],
            Some(1),
        ),
        (
            "a build failing after a preview leaves the other pages",
            "/archive/search/",
            vec![
                state(5, all.clone()),
                state(6, preview.clone()),
                reverted.clone(),
            ],
            None,
        ),
    ];
    // Pages served at a known version (the script tag's `data-version`).
    type ServedAt<'a> = (&'a str, &'a str, Vec<serde_json::Value>, u64, Option<u64>);
    let served_at: [ServedAt; 3] = [
        (
            "a page served before the preview, polling after the build, reloads",
            edited,
            vec![state(7, completed.clone())],
            5,
            Some(0),
        ),
        (
            "a page served before a server restart reloads",
            edited,
            vec![state(
                3,
                serde_json::json!({"except": [edited], "shownAt": 2}),
            )],
            12,
            Some(0),
        ),
        (
            "a page served at the current version waits for the next",
            "/archive/search/",
            vec![state(7, completed.clone())],
            7,
            None,
        ),
    ];
    // A base path that is not ASCII: the page sees its path percent-encoded.
    let encoded = (
        "a preview reloads its page under a base path that is not ASCII",
        "/archivo-hist%C3%B3rico/documents/x/",
        vec![
            state(5, all.clone()),
            state(
                6,
                serde_json::json!({"only": ["/archivo-histórico/documents/x/"], "shownAt": 0}),
            ),
        ],
        Some(1),
    );
    let cases = cases
        .into_iter()
        .chain([encoded])
        .map(|(what, page, answers, expected)| (what, page, answers, None, expected))
        .chain(
            served_at
                .into_iter()
                .map(|(what, page, answers, at, expected)| {
                    (what, page, answers, Some(at), expected)
                }),
        );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/serve/reload.mjs");
    for (what, page, answers, served_at, expected) in cases {
        let out = Command::new("node")
            .arg(&script)
            .arg(page)
            .arg(serde_json::Value::Array(answers).to_string())
            .args(served_at.map(|v| v.to_string()))
            .output()
            .expect("node is needed to run the live-reload script");
        assert!(
            out.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(result["reloadedAt"].as_u64(), expected, "{what}: {result}");
    }
}
