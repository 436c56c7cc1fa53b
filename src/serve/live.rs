//! Live reload: the state of the latest build, which open pages wait on.
//!
//! A page loads `__annals/reload.js`, which long-polls `__annals/events?since=N`.
//! The answer comes as soon as a build newer than `N` has finished (or after
//! [`POLL_TIMEOUT`]): a clean build makes the page reload, a failed one shows its
//! diagnostics in an overlay over the last good page.

use crate::diagnostics::Diagnostics;
use serde::Serialize;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long an events request waits for a new build before answering anyway, so
/// proxies and browsers never see a request hang for minutes.
pub const POLL_TIMEOUT: Duration = Duration::from_secs(25);

/// One diagnostic as the overlay shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorView {
    /// The file, as in the terminal.
    pub file: String,
    /// 1-based line, 0 if none.
    pub line: usize,
    /// 1-based column, 0 if none.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    /// The offending line of the file.
    pub source_line: Option<String>,
}

/// Which open pages a new version reloads, by URL path as the page sees it in
/// `location.pathname` (`/archive/documents/x/`; `index.html` left off).
///
/// A body edit is first previewed (only its pages reload, with the new text),
/// then the build completes the site: every other page reloads then (a search
/// page must meet the new index's shards, not the old ones'), but not the
/// previewed ones, which already show what the build wrote, unless they missed
/// the preview's version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Reload {
    /// Only these pages, if set (a preview).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub only: Option<Vec<String>>,
    /// Not these pages, if they have seen version `shown_at` (the preview's).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub except: Vec<String>,
    /// The version from which the pages of `except` show what this one does.
    #[serde(rename = "shownAt")]
    pub shown_at: u64,
    /// The pages of `only` reload even though the build failed: they show a
    /// preview's edit, which the server no longer serves.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub revert: bool,
}

/// What `__annals/events` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildState {
    /// Increases with every finished build, failed or not.
    pub version: u64,
    /// True while a build runs.
    pub building: bool,
    /// The problems of the latest build; empty when it succeeded.
    pub errors: Vec<ErrorView>,
    /// Which open pages this version reloads.
    pub reload: Reload,
}

/// The shared build state and the condition open pages wait on.
pub struct LiveReload {
    state: Mutex<BuildState>,
    changed: Condvar,
}

impl Default for LiveReload {
    fn default() -> Self {
        LiveReload {
            state: Mutex::new(BuildState {
                version: 0,
                building: false,
                errors: Vec::new(),
                reload: Reload::default(),
            }),
            changed: Condvar::new(),
        }
    }
}

impl LiveReload {
    /// Marks a build as started.
    pub fn building(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.building = true;
    }

    /// Records a finished build and wakes every waiting page.
    pub fn finished(&self, result: Result<(), &Diagnostics>) {
        self.finished_with(result, Reload::default());
    }

    /// Records a build that failed after a preview (of `previewed`, URL paths)
    /// had shown its edit: those pages reload, to the last good version the
    /// server is back to, under the overlay; the others show the overlay.
    pub fn failed_after_preview(&self, diagnostics: &Diagnostics, previewed: Vec<String>) {
        let reload = Reload {
            only: Some(previewed),
            revert: true,
            ..Reload::default()
        };
        self.finished_with(Err(diagnostics), reload);
    }

    fn finished_with(&self, result: Result<(), &Diagnostics>, reload: Reload) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.version += 1;
        s.building = false;
        s.reload = reload;
        s.errors = match result {
            Ok(()) => Vec::new(),
            Err(d) => d
                .iter()
                .map(|d| ErrorView {
                    file: d.file.display().to_string(),
                    line: d.line,
                    column: d.column,
                    message: d.message.clone(),
                    help: d.help.clone(),
                    source_line: d.source_line.clone(),
                })
                .collect(),
        };
        self.changed.notify_all();
    }

    /// Records a preview: a new version that reloads only `pages` (URL paths),
    /// while the build that completes the site goes on. Returns the version.
    pub fn previewed(&self, pages: Vec<String>) -> u64 {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.version += 1;
        s.errors = Vec::new();
        s.reload = Reload {
            only: Some(pages),
            ..Reload::default()
        };
        self.changed.notify_all();
        s.version
    }

    /// Records that the build completing a preview (version `shown_at`) has
    /// finished and wrote for `shown` (URL paths) the bytes the preview showed:
    /// every other page reloads, and those that missed the preview.
    pub fn completed(&self, shown: Vec<String>, shown_at: u64) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.version += 1;
        s.building = false;
        s.errors = Vec::new();
        s.reload = Reload {
            except: shown,
            shown_at,
            ..Reload::default()
        };
        self.changed.notify_all();
    }

    /// The current state.
    pub fn current(&self) -> BuildState {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits until a build newer than `since` has finished, or `timeout` passed.
    pub fn wait_newer(&self, since: u64, timeout: Duration) -> BuildState {
        let deadline = Instant::now() + timeout;
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while s.version == since {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            s = match self.changed.wait_timeout(s, deadline - now) {
                Ok((guard, _)) => guard,
                Err(e) => e.into_inner().0,
            };
        }
        s.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Diagnostic;
    use std::sync::Arc;

    #[test]
    fn waiters_wake_on_a_finished_build() {
        let live = Arc::new(LiveReload::default());
        let waiter = {
            let live = live.clone();
            std::thread::spawn(move || live.wait_newer(0, Duration::from_secs(5)))
        };
        std::thread::sleep(Duration::from_millis(50));
        let errors = Diagnostics::from(Diagnostic::file("content/a.md", "bad"));
        live.finished(Err(&errors));
        let state = waiter.join().unwrap();
        assert_eq!(state.version, 1);
        assert_eq!(state.errors[0].file, "content/a.md");
        let quick = live.wait_newer(1, Duration::from_millis(10));
        assert_eq!(quick.version, 1);
    }

    /// What the live-reload script reads (`tests/serve.rs` runs it against
    /// these answers): a preview reloads its pages alone; the build completing
    /// it every other page; a build failing after it the previewed pages only,
    /// back to the last good version.
    #[test]
    fn versions_say_which_pages_reload() {
        let live = LiveReload::default();
        let page = "/documents/a/".to_string();
        let shown_at = live.previewed(vec![page.clone()]);
        let json = |live: &LiveReload| serde_json::to_value(live.current()).unwrap();
        assert_eq!(
            json(&live)["reload"],
            serde_json::json!({"only": [page], "shownAt": 0})
        );
        live.completed(vec![page.clone()], shown_at);
        assert_eq!(
            json(&live)["reload"],
            serde_json::json!({"except": [page], "shownAt": shown_at})
        );
        let errors = Diagnostics::from(Diagnostic::file("content/a.md", "bad"));
        live.failed_after_preview(&errors, vec![page.clone()]);
        let state = json(&live);
        assert_eq!(
            state["reload"],
            serde_json::json!({"only": [page], "shownAt": 0, "revert": true})
        );
        assert_eq!(state["errors"][0]["file"], "content/a.md");
        live.finished(Ok(()));
        assert_eq!(json(&live)["reload"], serde_json::json!({"shownAt": 0}));
    }
}
