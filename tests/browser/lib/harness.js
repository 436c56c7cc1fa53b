// Shared set-up for the browser tests: the built archive served over HTTP on
// 127.0.0.1 under /annals/ (as GitHub Pages serves a project site), and a headless
// Debian Chromium driven by playwright-core.
//
// run.sh builds the archive once and passes ANNALS_SITE_DIR and ANNALS_PORT; when
// they are missing (a test file run alone), the archive is built here.
"use strict";

const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const http = require("node:http");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");
const { chromium } = require("playwright-core");

const ROOT = path.resolve(__dirname, "..", "..", "..");
const PREFIX = "/annals/";
const AXE_PATH = "/__tests__/axe.min.js";
const SCREENSHOTS = path.resolve(__dirname, "..", "screenshots");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".xml": "application/xml",
  ".bib": "text/plain; charset=utf-8",
  ".ris": "text/plain; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".csv": "text/csv; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".pdf": "application/pdf",
};

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Builds the bundled archive with a sub-path base URL into a fresh temp dir. */
function buildSite(port) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "annals-browser-"));
  const site = path.join(out, "site");
  const res = spawnSync(
    "cargo",
    ["run", "--release", "--quiet", "--", "build", "--quiet", "--root", ROOT,
      "--base-url", `http://127.0.0.1:${port}${PREFIX}`, "--output", site],
    { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] },
  );
  if (res.status !== 0) throw new Error(`annals build failed (${res.status})`);
  return site;
}

/** A static server like GitHub Pages: `dir/` serves `dir/index.html`, a missing
 *  path answers 404 with the site's 404.html. Only 127.0.0.1. */
function serve(siteDir, port) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    let rel = decodeURIComponent(url.pathname);
    // axe-core, served from the same origin so the pages' Content-Security-Policy
    // (script-src 'self') lets the tests inject it.
    if (rel === AXE_PATH) {
      res.writeHead(200, { "Content-Type": TYPES[".js"] });
      return res.end(fs.readFileSync(require.resolve("axe-core/axe.min.js")));
    }
    if (!rel.startsWith(PREFIX)) {
      if (rel === PREFIX.slice(0, -1)) {
        res.writeHead(301, { Location: PREFIX });
        return res.end();
      }
      return notFound(res);
    }
    rel = rel.slice(PREFIX.length);
    let file = path.resolve(siteDir, rel);
    if (file !== siteDir && !file.startsWith(siteDir + path.sep)) return notFound(res);
    try {
      if (fs.statSync(file).isDirectory()) {
        if (!rel.endsWith("/") && rel !== "") {
          res.writeHead(301, { Location: url.pathname + "/" });
          return res.end();
        }
        file = path.join(file, "index.html");
      }
      const body = fs.readFileSync(file);
      res.writeHead(200, { "Content-Type": TYPES[path.extname(file)] || "application/octet-stream" });
      res.end(body);
    } catch {
      notFound(res);
    }
  });
  function notFound(res) {
    let body = "not found";
    try {
      body = fs.readFileSync(path.join(siteDir, "404.html"));
    } catch {}
    res.writeHead(404, { "Content-Type": "text/html; charset=utf-8" });
    res.end(body);
  }
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

/**
 * Starts the server and the browser. Returns { base, browser, newPage, close }.
 * `base` ends in `/annals/`. Every page made by `newPage` fails the test on any
 * request leaving 127.0.0.1 (the theme makes no third-party requests) and on
 * script errors.
 */
async function setup() {
  let port = Number(process.env.ANNALS_PORT) || 0;
  let siteDir = process.env.ANNALS_SITE_DIR;
  if (!siteDir || !port) {
    port = await freePort();
    siteDir = buildSite(port);
  }
  siteDir = path.resolve(siteDir);
  const server = await serve(siteDir, port);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "annals-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1280, height: 900 },
  });
  const base = `http://127.0.0.1:${port}${PREFIX}`;
  const problems = [];
  async function newPage(options = {}) {
    const page = await context.newPage();
    if (options.viewport) await page.setViewportSize(options.viewport);
    await page.route("**/*", (route) => {
      const u = new URL(route.request().url());
      if (u.hostname === "127.0.0.1" || u.protocol === "data:") return route.continue();
      problems.push(`third-party request: ${u.href}`);
      return route.abort();
    });
    page.on("pageerror", (err) => problems.push(`script error on ${page.url()}: ${err.message}`));
    if (options.javaScript === false) {
      const cdp = await context.newCDPSession(page);
      await cdp.send("Emulation.setScriptExecutionDisabled", { value: true });
    }
    if (options.colorScheme || options.media) {
      await page.emulateMedia({ colorScheme: options.colorScheme || "light", media: options.media || "screen" });
    }
    return page;
  }
  async function close() {
    await context.close();
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  const axeUrl = `http://127.0.0.1:${port}${AXE_PATH}`;
  return { base, context, newPage, close, problems, siteDir, axeUrl };
}

/** Saves a full-page screenshot into tests/browser/screenshots/. */
async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

module.exports = { setup, screenshot, SCREENSHOTS, CHROMIUM_ARGS };
