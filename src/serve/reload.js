// annals serve: live reload and the build-error overlay. This file is served only by
// `annals serve` and injected only into the pages it serves; built sites never
// contain it.
(function () {
  "use strict";
  var script = document.currentScript;
  var endpoint =
    (script && script.getAttribute("data-events")) ||
    (script ? script.src.replace(/reload\.js(?:[?#].*)?$/, "events") : null);
  if (!endpoint || !window.fetch) return;
  // The version the page was served at (so a build finishing while it loads
  // still reloads it); null: take the first answer's.
  var served = script && script.getAttribute("data-version");
  var version = served === null || served === "" || isNaN(Number(served)) ? null : Number(served);
  var overlay = null;

  function location_of(e) {
    var at = e.file || "";
    if (e.line) at += ":" + e.line + (e.column ? ":" + e.column : "");
    return at;
  }

  function show(errors) {
    if (overlay) {
      overlay.remove();
      overlay = null;
    }
    if (!errors || errors.length === 0) return;
    overlay = document.createElement("div");
    overlay.id = "annals-error-overlay";
    overlay.setAttribute("role", "alert");
    overlay.style.cssText =
      "position:fixed;inset:0;z-index:2147483647;overflow:auto;margin:0;padding:2rem;" +
      "background:rgba(24,24,27,.95);color:#fafafa;font:14px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace";
    var title = document.createElement("p");
    title.style.cssText = "font-size:1.2em;font-weight:bold;color:#fca5a5;margin:0 0 1rem";
    title.textContent =
      "annals: the build failed (" + errors.length + " problem" + (errors.length === 1 ? "" : "s") +
      "). The last good version of the site is still being served.";
    overlay.appendChild(title);
    errors.forEach(function (e) {
      var block = document.createElement("pre");
      block.style.cssText = "white-space:pre-wrap;margin:0 0 1rem;padding:1rem;background:#27272a;border-left:4px solid #f87171";
      var text = location_of(e) + ": error: " + e.message;
      if (e.source_line) text += "\n  | " + e.source_line;
      if (e.help) text += "\n  = help: " + e.help;
      block.textContent = text;
      overlay.appendChild(block);
    });
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "Dismiss (the page reloads when the build is fixed)";
    close.onclick = function () {
      if (overlay) overlay.remove();
      overlay = null;
    };
    overlay.appendChild(close);
    document.body.appendChild(overlay);
  }

  // This page's path as the server lists pages (`/base/documents/x/`).
  var here = window.location.pathname;
  try {
    here = decodeURI(here); // the server lists paths as written (a base path may not be ASCII)
  } catch (e) {
    // keep it encoded
  }
  here = here.replace(/index\.html$/, "");

  // Whether a new version concerns this page: a preview reloads only the pages
  // it changed; the build completing it reloads every other page, and those
  // that had not seen the preview.
  function concerned(state) {
    // A restarted server counts again from 0: whatever it built, reload.
    if (state.version < version) return true;
    var r = state.reload || {};
    if (r.only) return r.only.indexOf(here) >= 0;
    if (r.except && r.except.indexOf(here) >= 0) return version < r.shownAt;
    return true;
  }

  function poll() {
    var url = endpoint + (version === null ? "" : "?since=" + version);
    fetch(url, { cache: "no-store" })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (state) {
        // A failed build reloads only the pages that showed a preview of its
        // edit (back to the last good version, under the overlay).
        var revert = state.reload && state.reload.revert;
        if (
          version !== null &&
          state.version !== version &&
          (state.errors.length === 0 || revert) &&
          concerned(state)
        ) {
          window.location.reload();
          return;
        }
        version = state.version;
        show(state.errors);
        poll();
      })
      .catch(function () {
        // The server restarted or is busy: try again shortly.
        setTimeout(poll, 1000);
      });
  }

  poll();
})();
