// The XSS corpus (tests/xss/) in a real headless Chromium: every page is loaded,
// every element gets mouse and focus events, and no vector may run (each would set
// window.__xss or open a dialog). Built twice: with the default sanitising, and with
// `[markdown] trusted_html = true`, where raw HTML reaches the page and the default
// theme's Content-Security-Policy alone must stop it (and must be seen to: the
// browser reports the violations it blocked).
//
// Run by tests/browser/run.sh with the other browser tests (which passes the annals
// binary it built as $ANNALS_BIN), or alone from tests/browser:
//
//   node --test test/xss.test.mjs
//
// Needs Debian's chromium (/usr/bin/chromium, or $CHROMIUM), playwright-core
// (tests/browser/node_modules) and the annals binary ($ANNALS_BIN, else built here
// with `cargo build --release`).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");
const { CHROMIUM_ARGS } = require("../lib/harness.js");

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..", "..", "..");
const CORPUS = path.join(ROOT, "tests", "xss");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

function annalsBinary() {
  if (process.env.ANNALS_BIN) return process.env.ANNALS_BIN;
  const res = spawnSync("cargo", ["build", "--release", "--quiet"], {
    cwd: ROOT,
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (res.status !== 0) throw new Error("cargo build --release failed");
  return path.join(process.env.CARGO_TARGET_DIR || path.join(ROOT, "target"), "release", "annals");
}

/** Copies the corpus, optionally trusting raw HTML, and builds it. */
function buildCorpus(bin, tmp, trusted) {
  const name = trusted ? "trusted" : "sanitised";
  const root = path.join(tmp, name);
  fs.cpSync(CORPUS, root, { recursive: true });
  if (trusted) {
    fs.appendFileSync(path.join(root, "site.toml"), "\n[markdown]\ntrusted_html = true\n");
    // Passed through as written, `java&#x09;script:` is a relative link to annals'
    // link checker (browsers drop the tab), which fails the build on it.
    const body = path.join(root, "content/documents/2021/xss-body.md");
    fs.writeFileSync(body, fs.readFileSync(body, "utf8").replace(/<a href="java&#x09;script:[^>]*>c<\/a>/, ""));
  }
  const out = path.join(tmp, `${name}-out`);
  const res = spawnSync(bin, ["build", "--quiet", "--root", root, "--output", out], { encoding: "utf8" });
  assert.equal(res.status, 0, `annals build (${name}) failed:\n${res.stderr}`);
  return out;
}

function htmlPages(dir, base = dir) {
  const pages = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) pages.push(...htmlPages(full, base));
    else if (entry.name.endsWith(".html")) {
      const rel = path.relative(base, full).split(path.sep).join("/");
      pages.push("/" + rel.replace(/(^|\/)index\.html$/, "$1"));
    }
  }
  return pages.sort();
}

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css",
  ".js": "text/javascript",
  ".json": "application/json",
  ".xml": "application/xml",
};

/** A static server on 127.0.0.1 for one built site, served at the root. */
function serve(dir) {
  const server = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url, "http://127.0.0.1").pathname);
    let file = path.resolve(dir, "." + rel);
    if (file !== dir && !file.startsWith(dir + path.sep)) {
      res.writeHead(404);
      return res.end();
    }
    try {
      if (fs.statSync(file).isDirectory()) file = path.join(file, "index.html");
      const body = fs.readFileSync(file);
      res.writeHead(200, { "Content-Type": TYPES[path.extname(file)] || "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404, { "Content-Type": "text/html; charset=utf-8" });
      res.end("not found");
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

let tmp;
let browser;
const sites = {};

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "annals-xss-"));
  const bin = annalsBinary();
  for (const trusted of [false, true]) {
    const out = buildCorpus(bin, tmp, trusted);
    const server = await serve(out);
    sites[trusted ? "trusted" : "sanitised"] = {
      out,
      server,
      base: `http://127.0.0.1:${server.address().port}`,
    };
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
});

after(async () => {
  if (browser) await browser.close();
  for (const site of Object.values(sites)) await new Promise((r) => site.server.close(r));
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/**
 * Loads every page of a site, provokes every handler it can, and returns what ran
 * (vectors that executed, dialogs, dangerous links) and the CSP violations seen.
 */
async function attack(site, { trusted = false } = {}) {
  const context = await browser.newContext();
  const ran = [];
  const violations = [];
  await context.route("**/*", (route) => {
    const u = new URL(route.request().url());
    return u.hostname === "127.0.0.1" ? route.continue() : route.abort();
  });
  await context.addInitScript(() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__violations.push(`${e.violatedDirective} ${e.blockedURI || "inline"}`);
    });
  });
  const paths = htmlPages(site.out);
  paths.push("/search/?q=script", "/search/?q=%3Cimg%20src%3Dx%20onerror%3Dwindow.__xss%3D1%3E");
  for (const p of paths) {
    const page = await context.newPage();
    page.on("dialog", async (d) => {
      ran.push(`${p}: dialog ${d.type()} ${d.message()}`);
      await d.dismiss();
    });
    await page.goto(site.base + p, { waitUntil: "load" });
    await page.waitForTimeout(100);
    const found = await page.evaluate(async (trusted) => {
      const out = [];
      for (const a of document.querySelectorAll("a[href], area[href]")) {
        if (["javascript:", "data:", "vbscript:"].includes(a.protocol)) {
          // Sanitised, no such link may exist; trusted, following it must run nothing.
          if (trusted) a.click();
          else out.push(`link ${a.protocol} ${a.outerHTML.slice(0, 80)}`);
        }
      }
      const types = ["mouseover", "mouseenter", "mousemove", "mousedown", "mouseup", "pointerover",
        "focus", "focusin", "blur", "input", "change", "toggle", "animationstart", "transitionend",
        "load", "error"];
      for (const el of document.querySelectorAll("*")) {
        for (const type of types) {
          try {
            el.dispatchEvent(new Event(type, { bubbles: false }));
          } catch {}
        }
        if (!["A", "BUTTON", "SUMMARY", "INPUT", "AREA", "LABEL"].includes(el.tagName)) {
          try {
            el.dispatchEvent(new MouseEvent("click", { bubbles: false, cancelable: true }));
          } catch {}
        }
        if (typeof el.focus === "function") el.focus();
      }
      await new Promise((r) => setTimeout(r, 50));
      for (const w of [window, ...Array.from(window.frames)]) {
        try {
          if (w.__xss !== undefined) out.push(`window.__xss = ${w.__xss}`);
        } catch {}
      }
      return { out, violations: window.__violations, url: location.href };
    }, trusted);
    ran.push(...found.out.map((f) => `${p}: ${f}`));
    violations.push(...found.violations.map((v) => `${p}: ${v}`));
    assert.ok(found.url.startsWith(site.base), `${p} navigated away to ${found.url}`);
    await page.close();
  }
  await context.close();
  return { ran, violations, pages: paths.length };
}

test("no XSS vector runs on a sanitised site", async () => {
  const { ran, pages } = await attack(sites.sanitised);
  assert.ok(pages > 10, `only ${pages} pages`);
  assert.deepEqual(ran, [], `script ran:\n${ran.join("\n")}`);
});

test("with trusted raw HTML, the Content-Security-Policy stops every vector", async () => {
  const html = fs.readFileSync(path.join(sites.trusted.out, "documents/xss-body/index.html"), "utf8");
  assert.match(html, /<img src=https:\/\/invalid\.example\/x onerror=/, "trusted raw HTML reaches the page");
  const { ran, violations } = await attack(sites.trusted, { trusted: true });
  assert.deepEqual(ran, [], `script ran despite the CSP:\n${ran.join("\n")}`);
  assert.ok(
    violations.some((v) => v.includes("script-src")),
    `the CSP blocked nothing, so the vectors never reached it:\n${violations.join("\n")}`,
  );
});
