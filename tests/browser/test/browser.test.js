// What a reader sees, in a real Chromium: the bundled archive built with a sub-path
// base URL and served over HTTP on 127.0.0.1 under /annals/.
//
// Run with tests/browser/run.sh (or `npm test` in tests/browser). Screenshots are
// written to tests/browser/screenshots/ for a person to look at.
"use strict";

const { describe, it, before, after } = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const fs = require("node:fs");
const { setup, screenshot, SCREENSHOTS } = require("../lib/harness.js");

let h; // the harness: base URL, browser context, page factory
let site; // what the tests discover about the bundled archive

/** Relative luminance of a CSS `rgb(…)`/`rgba(…)` colour, 0 (black) to 1 (white). */
function luminance(css) {
  const [r, g, b] = css.match(/[\d.]+/g).slice(0, 3).map(Number).map((c) => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

async function open(rel, options = {}) {
  const page = await h.newPage(options);
  const response = await page.goto(h.base + rel);
  return { page, response };
}

/** Every link below `selector`, as absolute URLs. */
async function hrefs(page, selector) {
  return page.$$eval(selector, (as) => as.map((a) => a.href));
}

/** Asserts that a URL answers 200 and that its #fragment names an element there. */
async function assertResolves(url, from) {
  const u = new URL(url);
  assert.equal(u.origin, new URL(h.base).origin, `${from}: ${url} leaves the site`);
  const res = await h.context.request.get(u.origin + u.pathname);
  assert.equal(res.status(), 200, `${from}: ${url} answers ${res.status()}`);
  if (u.hash) {
    const id = decodeURIComponent(u.hash.slice(1));
    const body = await res.text();
    assert.ok(body.includes(`id="${id}"`), `${from}: ${url}: no element with id ${id}`);
  }
}

/** One page of every kind the archive publishes, as [name, path below the base]. */
function pageTypes() {
  return [
    ["home", ""],
    ["documents list", "documents/"],
    ...site.documents.map((d, i) => [`document ${i + 1}`, d.url.slice(h.base.length)]),
    ...site.taxonomyIndexes.map((u) => [`taxonomy index ${new URL(u).pathname}`, u.slice(h.base.length)]),
    ["topic page", site.topic.url.slice(h.base.length)],
    ["entity page", site.entity.slice(h.base.length)],
    ["timeline", "timeline/"],
    ...site.years.map((u) => [`timeline year ${new URL(u).pathname}`, u.slice(h.base.length)]),
    ["correspondence", "correspondence/"],
    ["404", "no/such/page/"],
  ];
}

before(async () => {
  h = await setup();
  // Discover the archive from its own pages rather than hard-coding it.
  const { page } = await open("documents/");
  const documents = await page.$$eval("ol.document-list a.doc-title", (as) =>
    as.map((a) => ({ url: a.href, title: a.textContent.trim() })));
  await page.goto(h.base + "timeline/");
  const years = await hrefs(page, "nav.year-nav a");
  const taxonomies = await hrefs(page, ".site-header nav a");
  await page.goto(documents[0].url);
  const topic = await page.$eval("dl.document-meta ul.inline-terms a[href*='/topics/']", (a) => ({
    url: a.href,
    name: a.textContent.trim(),
  }));
  // An entity page: an organisation with its own description.
  await page.goto(h.base + "organisations/");
  let entity = null;
  for (const url of await hrefs(page, "main ul.term-list a")) {
    await page.goto(url);
    if (await page.$("section.entity")) {
      entity = url;
      break;
    }
  }
  await page.close();
  site = {
    documents,
    years,
    topic,
    entity,
    taxonomyIndexes: taxonomies.filter((u) => !/\/(documents|timeline|search)\/$/.test(u) && u !== h.base),
  };
  assert.ok(documents.length > 0, "the bundled archive lists documents");
  assert.ok(years.length > 0, "the timeline lists years");
  assert.ok(entity, "an organisation has an entity page");
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
});

after(async () => {
  if (h) {
    assert.deepEqual(h.problems, [], "no third-party request and no script error");
    await h.close();
  }
});

describe("navigation", () => {
  it("goes from the home page to a document and on to its topic", async () => {
    const { page, response } = await open("");
    assert.equal(response.status(), 200);
    const first = page.locator("main ol.document-list a.doc-title").first();
    const title = (await first.textContent()).trim();
    await Promise.all([page.waitForURL(/\/documents\/[^/]+\/$/), first.click()]);
    assert.equal((await page.textContent("h1#doc-title")).trim(), title);
    assert.ok(page.url().startsWith(h.base + "documents/"), page.url());
    const topic = page.locator("dl.document-meta ul.inline-terms a[href*='/topics/']").first();
    const name = (await topic.textContent()).trim();
    await Promise.all([page.waitForURL(/\/topics\/[^/]+\/$/), topic.click()]);
    assert.equal((await page.textContent("main h1")).trim(), name);
    const listed = await page.$$eval("main ol.document-list a.doc-title", (as) => as.map((a) => a.textContent.trim()));
    assert.ok(listed.includes(title), `${name} lists ${title}: ${listed}`);
    // The header marks the section the reader is in.
    assert.equal(await page.getAttribute(".site-header nav a[aria-current]", "href"), new URL(h.base).pathname + "topics/");
    await page.close();
  });

  it("works without JavaScript", async () => {
    const { page } = await open("", { javaScript: false });
    const first = page.locator("main ol.document-list a.doc-title").first();
    await Promise.all([page.waitForURL(/\/documents\/[^/]+\/$/), first.click()]);
    assert.ok(await page.isVisible("h1#doc-title"));
    assert.ok(await page.isVisible(".document-body p"));
    // The copy button needs script: it stays hidden, the download links stay.
    assert.ok(!(await page.isVisible(".copy-button")));
    assert.ok(await page.isVisible(".cite-actions a[download]"));
    await page.close();
    const timeline = await open("timeline/", { javaScript: false });
    assert.ok((await timeline.page.locator(".chart a.chart-bar").count()) > 0, "bars without script");
    assert.ok((await timeline.page.locator(".chart a.mark").count()) > 0, "marks without script");
    await timeline.page.close();
  });

  it("serves the 404 page for a missing address", async () => {
    const { page, response } = await open("no/such/page/");
    assert.equal(response.status(), 404);
    assert.equal((await page.textContent("main h1")).trim(), "Page not found");
    await page.click(`main a[href="${new URL(h.base).pathname}documents/"]`);
    assert.equal(page.url(), h.base + "documents/");
    await page.close();
  });
});

describe("timeline", () => {
  it("draws a bar per year and a mark per document and event, all linked", async () => {
    const { page } = await open("timeline/");
    const bars = await hrefs(page, ".chart a.chart-bar");
    assert.deepEqual([...new Set(bars)].sort(), [...site.years].sort(), "a bar links each year page");
    const marks = await page.locator(".chart a.mark").count();
    const entries = await page.locator("section.timeline-year li.timeline-entry").count();
    assert.equal(marks, entries, "one mark per listed entry");
    for (const url of new Set(await hrefs(page, ".chart a"))) await assertResolves(url, "/timeline/");
    // The chart is described for assistive technology and its marks are named.
    const caption = await page.getAttribute("figure.chart", "aria-labelledby");
    assert.ok((await page.textContent(`#${caption}`)).trim().length > 0);
    const names = await page.$$eval(".chart a", (as) => as.map((a) => a.textContent.trim()));
    assert.ok(names.every((n) => n.length > 0), "every chart link has text");
    await page.close();
  });

  it("takes a document mark to its document", async () => {
    const { page } = await open("timeline/");
    const mark = page.locator(".chart a.mark-document").first();
    const title = (await mark.textContent()).trim();
    await Promise.all([page.waitForURL(/\/documents\/[^/]+\/$/), mark.click()]);
    assert.equal((await page.textContent("h1#doc-title")).trim(), title);
    await page.close();
  });

  it("shows a mark's date and title on keyboard focus", async () => {
    const { page } = await open("timeline/");
    const mark = page.locator(".chart a.mark").first();
    const tip = mark.locator(".mark-tip");
    assert.ok((await tip.boundingBox()).width <= 1, "the tip is hidden at rest");
    await mark.focus();
    const box = await tip.boundingBox();
    assert.ok(box.width > 40 && box.height > 10, `the tip shows on focus: ${JSON.stringify(box)}`);
    await page.close();
  });

  it("links each year page's months, marks and neighbours", async () => {
    for (const year of site.years) {
      const { page } = await open(year.slice(h.base.length));
      const links = await hrefs(page, ".chart a, nav.pager a");
      assert.ok(links.length > 0, `${year}: chart links`);
      for (const url of new Set(links)) await assertResolves(url, year);
      // Month bars point at the month sections of this very page.
      for (const url of await hrefs(page, ".chart a.chart-bar")) {
        const id = new URL(url).hash.slice(1);
        assert.ok(await page.$(`section.timeline-month[id="${id}"]`), `${year}: #${id}`);
      }
      await page.close();
    }
  });

  it("gives topic and entity pages their own timeline, with the list behind it", async () => {
    for (const url of [site.topic.url, site.entity]) {
      const { page } = await open(url.slice(h.base.length));
      const bars = await hrefs(page, "figure.chart a.chart-bar");
      assert.ok(bars.length > 0, `${url}: bars`);
      for (const bar of bars) {
        const u = new URL(bar);
        assert.equal(u.origin + u.pathname, url, `${url}: a bar stays on the page`);
        const year = u.hash.slice(1);
        assert.ok(await page.$(`section.term-timeline h3[id="${year}"]`), `${url}: ${year} is in the list`);
      }
      // A mark per document and event of the list; document marks lead to the
      // documents, event marks to their month in the list.
      const listed = await hrefs(page, "section.term-timeline li.timeline-document > a");
      const marked = await hrefs(page, "figure.chart a.mark-document");
      assert.ok(marked.length > 0, `${url}: document marks`);
      assert.deepEqual([...marked].sort(), [...listed].sort(), `${url}: a mark per listed document`);
      const events = await page.locator("section.term-timeline li.timeline-event").count();
      assert.equal(await page.locator("figure.chart a.mark-event").count(), events, `${url}: a mark per listed event`);
      for (const mark of await hrefs(page, "figure.chart a.mark-event")) {
        const id = decodeURIComponent(new URL(mark).hash.slice(1));
        assert.ok(await page.$(`section.term-timeline section.timeline-month[id="${id}"] li.timeline-event`), `${url}: #${id}`);
      }
      await page.close();
    }
  });

  it("has no broken link on any timeline: every link answers 200", async () => {
    const pages = ["timeline/", ...site.years.map((u) => u.slice(h.base.length)), site.topic.url.slice(h.base.length), site.entity.slice(h.base.length)];
    const seen = new Set();
    let followed = 0;
    for (const rel of pages) {
      const { page } = await open(rel);
      const links = await hrefs(page, "figure.chart a, section.timeline-year a, section.timeline-month a, nav.year-nav a, nav.pager a, section.term-timeline a");
      assert.ok(links.length > 0, `${rel}: timeline links`);
      for (const url of links) {
        if (seen.has(url)) continue;
        seen.add(url);
        await assertResolves(url, rel);
        followed++;
      }
      await page.close();
    }
    assert.ok(followed >= site.years.length + site.documents.length, `followed ${followed} links`);
  });
});

describe("media", () => {
  it("follows a dark colour scheme", async () => {
    const doc = site.documents[0].url.slice(h.base.length);
    const light = await open(doc, { colorScheme: "light" });
    const dark = await open(doc, { colorScheme: "dark" });
    const colours = (page) => page.evaluate(() => {
      const s = getComputedStyle(document.body);
      return { bg: s.backgroundColor, fg: s.color };
    });
    const l = await colours(light.page);
    const d = await colours(dark.page);
    assert.ok(luminance(l.bg) > 0.8 && luminance(l.fg) < 0.1, `light: ${JSON.stringify(l)}`);
    assert.ok(luminance(d.bg) < 0.05 && luminance(d.fg) > 0.6, `dark: ${JSON.stringify(d)}`);
    await screenshot(dark.page, "document-1280-dark");
    await light.page.close();
    await dark.page.close();
  });

  it("prints the document with its reference, permanent URL, ¶ numbers and notes, without navigation", async () => {
    // The document with footnotes, so that printing them is checked.
    let url = null;
    for (const d of site.documents) {
      const { page } = await open(d.url.slice(h.base.length));
      const notes = await page.$(".document-body .footnotes li");
      await page.close();
      if (notes) {
        url = d.url;
        break;
      }
    }
    assert.ok(url, "a bundled document has footnotes");
    const { page } = await open(url.slice(h.base.length), { media: "print" });
    for (const hidden of [".site-header", ".site-footer", ".breadcrumb", ".cite-actions", ".toc-aside"]) {
      if (await page.$(hidden)) assert.ok(!(await page.isVisible(hidden)), `${hidden} is not printed`);
    }
    assert.ok(await page.isVisible(".print-source"), "the page names its source");
    assert.ok(await page.isVisible(".permalink"), "the permanent link is printed");
    assert.ok((await page.textContent(".permalink")).includes(url), "with the full permanent URL");
    assert.ok((await page.textContent(".print-source")).includes(url));
    assert.ok(await page.isVisible(".document-kicker .doc-ref"), "the reference is printed");
    const pin = await page.$eval(".document-body .pin", (a) => ({
      before: getComputedStyle(a, "::before").content,
      opacity: getComputedStyle(a).opacity,
      href: a.getAttribute("href"),
    }));
    assert.equal(pin.opacity, "1");
    assert.equal(pin.before, `"${pin.href}"`, "each paragraph prints its anchor");
    assert.ok(await page.isVisible(".footnotes li"), "notes are printed");
    const noteText = await page.textContent(".footnotes li");
    assert.ok(noteText.trim().length > 5, "with their text");
    // Every citable block prints its number: each pin is shown, with its anchor.
    const pins = await page.$$eval(".document-body .pin", (as) => as.map((a) => ({
      shown: getComputedStyle(a).opacity === "1" && getComputedStyle(a).display !== "none",
      printed: getComputedStyle(a, "::before").content === `"${a.getAttribute("href")}"`,
    })));
    assert.ok(pins.length > 3 && pins.every((p) => p.shown && p.printed), "every ¶ number prints");
    assert.match(await page.textContent(".document-kicker .doc-ref"), /\d/, "the reference has its number");
    // Nothing but the document: no navigation, search box or chart anywhere.
    const navs = await page.$$eval("nav, form, figure.chart, .skip-link", (els) => els.filter((e) => {
      const r = e.getBoundingClientRect();
      return getComputedStyle(e).display !== "none" && r.width > 0 && r.height > 0;
    }).length);
    assert.equal(navs, 0, "no navigation is printed");
    // A web link prints its address after its text; a bare URL, whose text is
    // its address (the renderer marks it `bare-url`), prints it once.
    const after = await page.evaluate(() => {
      const body = document.querySelector(".document-body");
      const link = (cls, text) => {
        const a = document.createElement("a");
        a.href = "https://example.org/release";
        if (cls) a.className = cls;
        a.textContent = text;
        body.append(a);
        return getComputedStyle(a, "::after").content;
      };
      return { bare: link("bare-url", "https://example.org/release"), named: link("", "the release") };
    });
    assert.equal(after.bare, "none", "a bare URL prints once");
    assert.match(after.named, /example\.org\/release/, "a named web link prints its address");
    await page.pdf({ path: path.join(SCREENSHOTS, "document-print.pdf"), format: "A4", printBackground: true });
    await page.close();
  });

  it("shows redactions as labelled black bars, counted in the header", async () => {
    let seen = 0;
    for (const { url } of site.documents) {
      for (const scheme of ["light", "dark"]) {
        const { page } = await open(url.slice(h.base.length), { colorScheme: scheme });
        const bars = await page.$$eval(".document-body span.redaction", (spans) => spans.map((s) => ({
          text: s.textContent.trim().toLowerCase(),
          bg: getComputedStyle(s).backgroundColor,
          width: s.getBoundingClientRect().width,
          ground: s.getAttribute("data-ground"),
          tabindex: s.getAttribute("tabindex"),
        })));
        const meta = await page.textContent("dl.document-meta");
        if (bars.length) {
          assert.match(meta, new RegExp(`${bars.length} redactions?`), `${url}: header count`);
        } else {
          assert.doesNotMatch(meta, /redaction/);
        }
        for (const bar of bars) {
          assert.ok(bar.text.startsWith("redacted"), `${url}: bar label ${bar.text}`);
          assert.ok(luminance(bar.bg) < 0.01, `${url} (${scheme}): bar colour ${bar.bg}`);
          assert.ok(bar.width > 30, `${url}: bar width ${bar.width}`);
          if (bar.ground) assert.equal(bar.tabindex, "0", "a bar with a ground takes focus");
        }
        seen += bars.length;
        await page.close();
      }
    }
    assert.ok(seen > 0, "the bundled archive has redactions");
  });
});

describe("redaction grounds", () => {
  it("shows a redaction's legal ground on hover and on keyboard focus", async () => {
    // The bundled archive gives no ground, so a real bar of a real page is given the
    // markup the build writes for `[redacted: Article 4(1)(b)]` (asserted by
    // tests/build.rs): what is checked here is what the stylesheet does with it.
    let rel = null;
    for (const d of site.documents) {
      const { page } = await open(d.url.slice(h.base.length));
      const has = await page.$(".document-body span.redaction");
      await page.close();
      if (has) {
        rel = d.url.slice(h.base.length);
        break;
      }
    }
    assert.ok(rel, "a bundled document has a redaction");
    const { page } = await open(rel);
    await page.evaluate(() => {
      const bar = document.querySelector(".document-body span.redaction");
      bar.id = "grounded";
      bar.setAttribute("tabindex", "0");
      bar.setAttribute("title", "Redacted: Article 4(1)(b)");
      bar.setAttribute("data-ground", "Article 4(1)(b)");
      const ground = document.createElement("span");
      ground.className = "redaction-ground";
      ground.textContent = " (Article 4(1)(b))";
      bar.append(ground);
    });
    const tip = () => page.$eval("#grounded", (e) => getComputedStyle(e, "::after").content);
    const groundBox = () => page.$eval("#grounded .redaction-ground", (e) => e.getBoundingClientRect().width);
    assert.equal(await tip(), "none", "no tip at rest");
    assert.ok((await groundBox()) <= 1, "the ground is visually hidden at rest");
    assert.equal((await page.textContent("#grounded")).trim().replace(/\s+/g, " "), "redacted (Article 4(1)(b))", "screen readers read the ground");
    await page.focus("#grounded");
    // Chromium reports the content as written: the label, then the ground attribute.
    const shows = /Withheld: .*(attr\(data-ground\)|Article 4\(1\)\(b\))/;
    assert.match(await tip(), shows, "the tip shows the ground on focus");
    const box = await page.evaluate(() => {
      const s = getComputedStyle(document.querySelector("#grounded"), "::after");
      return { display: s.display, position: s.position };
    });
    assert.equal(box.position, "absolute");
    await page.evaluate(() => document.activeElement.blur());
    assert.equal(await tip(), "none", "and hides on blur");
    await page.hover("#grounded");
    assert.match(await tip(), shows, "the tip shows the ground on hover");
    await page.close();
  });
});

describe("accessibility (axe-core)", () => {
  it("reports no serious or critical violation on any page type, light or dark", async (t) => {
    const failures = [];
    let checked = 0;
    for (const [name, rel] of pageTypes()) {
      for (const scheme of ["light", "dark"]) {
        const { page } = await open(rel, { colorScheme: scheme });
        await page.addScriptTag({ url: h.axeUrl });
        const violations = await page.evaluate(async () => {
          const r = await window.axe.run(document, { resultTypes: ["violations"], rules: { "target-size": { enabled: true } } });
          return r.violations.map((v) => ({
            id: v.id,
            impact: v.impact,
            help: v.help,
            nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
          }));
        });
        checked++;
        for (const v of violations) {
          const line = `${name} (${scheme}): [${v.impact}] ${v.id}: ${v.help} — ${v.nodes.join(", ")}`;
          if (v.impact === "serious" || v.impact === "critical") failures.push(line);
          else t.diagnostic(line);
        }
        await page.close();
      }
    }
    t.diagnostic(`axe-core checked ${checked} page renderings`);
    assert.deepEqual(failures, [], "serious or critical axe violations");
  });
});

describe("small screens", () => {
  it("never scrolls the page sideways at 320 px, on any page type", async () => {
    const wide = [];
    const pages = [...pageTypes(), ["search", "search/?q=europol"]];
    for (const [name, rel] of pages) {
      const { page } = await open(rel, { viewport: { width: 320, height: 640 } });
      await page.waitForLoadState("networkidle");
      const m = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        inner: window.innerWidth,
        // The widest element sticking out, to say what to fix.
        culprit: [...document.querySelectorAll("body *")]
          .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5 && !e.closest(".chart-scroll, .table-wrap, pre, .visually-hidden, .mark-tip, .redaction-ground"))
          .map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join(".")}`)[0] || "",
      }));
      assert.equal(m.inner, 320, `${name}: viewport`);
      if (m.scroll > m.inner) wide.push(`${name}: scrollWidth ${m.scroll} > ${m.inner} (${m.culprit})`);
      await page.close();
    }
    assert.deepEqual(wide, [], "pages wider than a 320 px screen");
  });

  it("lets the timeline chart scroll inside its frame at 320 px, with every mark reachable", async () => {
    const { page } = await open("timeline/", { viewport: { width: 320, height: 640 } });
    const frame = await page.$eval(".chart-scroll", (e) => ({ client: e.clientWidth, scroll: e.scrollWidth }));
    assert.ok(frame.client <= 320, `the chart frame fits: ${frame.client}`);
    const mark = page.locator(".chart a.mark").last();
    await mark.scrollIntoViewIfNeeded();
    const box = await mark.boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 320, `the last mark scrolls into view: ${JSON.stringify(box)}`);
    await page.close();
  });
});

describe("privacy", () => {
  it("requests nothing but the site itself (no CDN, fonts or analytics)", async () => {
    const requests = [];
    const pages = [...pageTypes(), ["search", "search/?q=europol"]];
    for (const [name, rel] of pages) {
      for (const colorScheme of ["light", "dark"]) {
        const page = await h.newPage({ colorScheme });
        page.on("request", (r) => requests.push({ name, url: r.url() }));
        await page.goto(h.base + rel);
        await page.waitForLoadState("networkidle");
        await page.close();
      }
    }
    const hosts = new Set(requests.map((r) => new URL(r.url).host));
    const elsewhere = requests.filter((r) => new URL(r.url).hostname !== "127.0.0.1");
    assert.deepEqual(elsewhere, [], "requests leaving 127.0.0.1");
    assert.deepEqual([...hosts], [new URL(h.base).host], "one host");
    // The check saw the assets, not only the pages: the stylesheet and the search index.
    assert.ok(requests.some((r) => r.url.endsWith("/static/style.css")), "the stylesheet was requested");
    assert.ok(requests.some((r) => r.name === "search" && /\/search\/.+\.json(\?|$)/.test(r.url)), "the search index was requested");
  });
});

describe("without JavaScript", () => {
  /** The words of the visible text of `main`, and its visible links. */
  async function reading(rel, javaScript) {
    const { page } = await open(rel, { javaScript });
    const r = await page.evaluate(() => ({
      words: document.querySelector("main").innerText.split(/\s+/).filter(Boolean),
      links: [...document.querySelectorAll("main a[href]")].filter((a) => a.getClientRects().length > 0).map((a) => a.href),
    }));
    await page.close();
    return r;
  }

  it("shows every page type in full: the same text and links as with script", async () => {
    const missing = [];
    for (const [name, rel] of pageTypes()) {
      const on = await reading(rel, true);
      const off = await reading(rel, false);
      assert.ok(off.words.length > 5, `${name}: text without script`);
      const left = new Map();
      for (const w of off.words) left.set(w, (left.get(w) || 0) + 1);
      const lost = [];
      for (const w of on.words) {
        if (left.get(w)) left.set(w, left.get(w) - 1);
        else lost.push(w);
      }
      // The copy button is the one thing script adds.
      const unexplained = lost.filter((w) => !["Copy", "citation"].includes(w));
      if (unexplained.length) missing.push(`${name}: words only with script: ${unexplained.slice(0, 10).join(" ")}`);
      const lostLinks = on.links.filter((l) => !off.links.includes(l));
      if (lostLinks.length) missing.push(`${name}: links only with script: ${lostLinks.slice(0, 5).join(" ")}`);
    }
    assert.deepEqual(missing, [], "content that needs script");
  });

  it("says on the search page that search needs script, and links elsewhere", async () => {
    const { page } = await open("search/", { javaScript: false });
    assert.ok(await page.isVisible(".search-note"), "the noscript note shows");
    assert.ok((await hrefs(page, ".search-note a")).length >= 2);
    await page.close();
  });
});

describe("screenshots", () => {
  it("saves the home, document, topic and timeline pages at 375 and 1280 px", async () => {
    const targets = [
      ["home", ""],
      ["document", site.documents[0].url.slice(h.base.length)],
      ["topic", site.topic.url.slice(h.base.length)],
      ["timeline", "timeline/"],
    ];
    for (const width of [375, 1280]) {
      for (const [name, rel] of targets) {
        const { page } = await open(rel, { viewport: { width, height: 900 } });
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `${name} at ${width} px scrolls sideways by ${overflow} px`);
        const file = await screenshot(page, `${name}-${width}`);
        assert.ok(fs.statSync(file).size > 10_000, `${file} is a real screenshot`);
        await page.close();
      }
    }
  });
});
