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

  it("gives topic and entity pages a strip by year, linked to the year pages", async () => {
    for (const url of [site.topic.url, site.entity]) {
      const { page } = await open(url.slice(h.base.length));
      const links = await hrefs(page, "figure.chart a.chart-bar");
      assert.ok(links.length > 0, `${url}: strip links`);
      for (const link of links) {
        assert.ok(site.years.includes(link), `${url}: ${link} is a year page`);
      }
      await page.close();
    }
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
    const url = site.documents[0].url;
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
    if (await page.$(".footnotes")) assert.ok(await page.isVisible(".footnotes li"), "notes are printed");
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

describe("accessibility (axe-core)", () => {
  const pages = () => [
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

  it("reports no serious or critical violation on any page type, light or dark", async (t) => {
    const failures = [];
    let checked = 0;
    for (const [name, rel] of pages()) {
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
