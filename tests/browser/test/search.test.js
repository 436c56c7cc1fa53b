// Search as a reader uses it, in a real Chromium: the bundled archive built with a
// sub-path base URL and served under /annals/ on 127.0.0.1. Types a query, narrows
// with a topic and a date range (the URL follows), reloads the URL, and follows a
// result to the paragraph where the match is.
//
// Run with tests/browser/run.sh, or alone: `node --test test/search.test.js`.
"use strict";

const { describe, it, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { setup, screenshot } = require("../lib/harness.js");

const COUNCIL = "council-st-9069-19-ext-1";
const BRIEFING = "dg-home-briefing-microsoft-2016-05-25";

let h;

before(async () => {
  h = await setup();
});

after(async () => {
  if (h) {
    assert.deepEqual(h.problems, [], "no third-party request and no script error");
    await h.close();
  }
});

/** The document ids of the results shown, in order. */
async function shownIds(page) {
  return page.$$eval(".search-results .search-result h2 a", (as) =>
    as.map((a) => new URL(a.href).pathname.replace(/^.*\/documents\/([^/]+)\/$/, "$1")));
}

/** Waits until the results shown are exactly `ids` (in any order) and the status
 *  line agrees, so a test never reads a list that is still being replaced. */
async function waitForResults(page, ids) {
  const want = [...ids].sort();
  await page.waitForFunction(
    (want) => {
      const got = [...document.querySelectorAll(".search-results .search-result h2 a")]
        .map((a) => new URL(a.href).pathname.replace(/^.*\/documents\/([^/]+)\/$/, "$1"))
        .sort();
      const status = document.querySelector(".search-status").textContent;
      const count = want.length === 0 ? /^No documents found/ : new RegExp(`^${want.length} documents? found`);
      return JSON.stringify(got) === JSON.stringify(want) && count.test(status);
    },
    want,
    { timeout: 10000 },
  );
  assert.deepEqual((await shownIds(page)).sort(), want);
}

/** The search page's query string, as an object of arrays. */
function params(page) {
  const url = new URL(page.url());
  assert.equal(url.pathname, new URL(h.base).pathname + "search/", "still on the search page under the sub-path");
  const out = {};
  for (const [k, v] of url.searchParams) (out[k] ||= []).push(v);
  return out;
}

describe("search page", () => {
  it("finds, narrows by topic and date, keeps the URL, and links to the paragraph", async () => {
    const page = await h.newPage();
    const fetched = [];
    page.on("request", (r) => {
      const u = new URL(r.url());
      if (u.pathname.endsWith(".json")) fetched.push(u.href);
    });
    await page.goto(h.base + "search/");
    const input = page.locator("#search-q");

    // Typed a key at a time, as a reader does: results follow the typing.
    await input.pressSequentially("technology", { delay: 20 });
    await waitForResults(page, [COUNCIL, BRIEFING]);
    await page.waitForFunction(() => new URL(location.href).searchParams.get("q") === "technology");
    assert.deepEqual(params(page), { q: ["technology"] });
    // The match is highlighted in the snippet.
    const marks = await page.$$eval(".search-results mark", (ms) => ms.map((m) => m.textContent.toLowerCase()));
    assert.ok(marks.length > 0 && marks.every((m) => m.startsWith("technolog")), `highlights: ${marks}`);
    // Every index file came from the site's sub-path.
    assert.ok(fetched.length > 0);
    for (const url of fetched) assert.ok(url.startsWith(h.base + "search/"), `fetched ${url}`);

    // A topic: only the 2019 note is filed under data protection.
    const topic = page.locator(".search-facet", { has: page.locator("legend", { hasText: /^Topic$/ }) });
    const dataProtection = topic.locator("label", { has: page.locator("span:text-is('data protection')") });
    // Eighteen topics: the first eight are shown, the rest behind "All 18".
    await topic.locator("button.search-facet-all").click();
    await dataProtection.locator("input[type=checkbox]").check();
    await waitForResults(page, [COUNCIL]);
    assert.deepEqual(params(page), { q: ["technology"], topic: ["data-protection"] });
    // The facets are made again with new counts; the box keeps the focus.
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.key), "topic=data-protection");

    // A date range: nothing in 2016 with that topic; the note in 2019.
    await page.fill("#search-from", "2016");
    await page.fill("#search-to", "2016");
    await waitForResults(page, []);
    assert.deepEqual(params(page), { q: ["technology"], from: ["2016"], to: ["2016"], topic: ["data-protection"] });
    await page.fill("#search-from", "2019-01");
    await page.fill("#search-to", "2019-12-31");
    await waitForResults(page, [COUNCIL]);
    const narrowed = page.url();
    assert.deepEqual(params(page), { q: ["technology"], from: ["2019-01"], to: ["2019-12-31"], topic: ["data-protection"] });

    // Without the topic, the date range alone keeps only the 2019 note too; with
    // 2016 alone, only the briefing.
    await dataProtection.locator("input[type=checkbox]").uncheck();
    await page.fill("#search-from", "2016");
    await page.fill("#search-to", "2016");
    await waitForResults(page, [BRIEFING]);
    assert.deepEqual(params(page), { q: ["technology"], from: ["2016"], to: ["2016"] });

    // The narrowed URL, opened again, shows the same search.
    await page.goto(narrowed);
    await waitForResults(page, [COUNCIL]);
    assert.equal(await input.inputValue(), "technology");
    assert.equal(await page.inputValue("#search-from"), "2019-01");
    assert.equal(await page.inputValue("#search-to"), "2019-12-31");
    assert.ok(await dataProtection.locator("input[type=checkbox]").isChecked());
    await page.reload();
    await waitForResults(page, [COUNCIL]);
    assert.equal(page.url(), narrowed);
    await screenshot(page, "search-1280");

    // A word deep in the note: the result links to its paragraph, and following it
    // scrolls there.
    await input.fill("");
    await input.pressSequentially("blockchain", { delay: 20 });
    // The same document as before: wait for the new snippet.
    await page.waitForFunction(() =>
      [...document.querySelectorAll(".search-results mark")].some((m) => /^blockchain$/i.test(m.textContent)));
    await waitForResults(page, [COUNCIL]);
    const link = page.locator(".search-results .search-result h2 a").first();
    const href = await link.getAttribute("href");
    const anchor = decodeURIComponent(new URL(href, page.url()).hash.slice(1));
    assert.match(anchor, /^p[0-9.]+$/, `links to a paragraph: ${href}`);
    assert.equal(
      (await page.textContent(".search-result-anchor")).trim(),
      `¶ ${anchor}`,
      "the result names its paragraph",
    );
    await Promise.all([page.waitForURL((u) => u.hash === `#${anchor}`), link.click()]);
    assert.equal(new URL(page.url()).pathname, new URL(h.base).pathname + `documents/${COUNCIL}/`);
    const target = await page.evaluate((id) => {
      const el = document.getElementById(id);
      if (!el) return null;
      const r = el.getBoundingClientRect();
      return { text: el.textContent, top: r.top, bottom: r.bottom, scrollY: window.scrollY, height: innerHeight };
    }, anchor);
    assert.ok(target, `#${anchor} exists on the document page`);
    assert.match(target.text, /blockchain/i, `the paragraph holds the match: #${anchor}: ${target.text.slice(0, 80)}`);
    assert.ok(target.scrollY > 0, "the page scrolled");
    assert.ok(target.top >= -1 && target.top < target.height, `#${anchor} is in view (top ${target.top})`);
    await page.close();
  });

  it("reads a query with a facet from the URL, and the header's box searches", async () => {
    const page = await h.newPage();
    await page.goto(h.base + "search/?q=%22innovation+lab%22&topic=data-protection");
    await waitForResults(page, [COUNCIL]);
    assert.equal(await page.inputValue("#search-q"), '"innovation lab"');
    await page.goto(h.base);
    const box = page.locator("header form[role=search] input[name=q]");
    await box.fill("microsoft");
    await Promise.all([page.waitForURL(/\/search\/\?q=microsoft$/), box.press("Enter")]);
    assert.ok(page.url().startsWith(h.base + "search/"), page.url());
    await waitForResults(page, [BRIEFING]);
    await page.close();
  });

  it("filters by the entities a document mentions and by its sender, as entity pages link them", async () => {
    const page = await h.newPage();
    await page.goto(h.base + "search/?mentions=microsoft");
    await waitForResults(page, [BRIEFING]);
    const legends = await page.$$eval(".search-facet legend", (ls) => ls.map((l) => l.textContent));
    assert.ok(legends.includes("Mentions"), `facets: ${legends}`);
    // Both mention DG HOME; only the Council's note was sent by the coordinator.
    await page.goto(h.base + "search/?mentions=dg-home");
    await waitForResults(page, [COUNCIL, BRIEFING]);
    await page.goto(h.base + "search/?mentions=dg-home&sender=eu-counter-terrorism-coordinator");
    await waitForResults(page, [COUNCIL]);
    await page.close();
  });

  it("shows withheld text as a bar, says when a date is not one, and puts results first on a phone", async () => {
    const page = await h.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(h.base + "search/?q=microsoft");
    await waitForResults(page, [BRIEFING]);
    // The briefing's snippet has a redaction: a bar, never run-on text.
    const bars = await page.$$eval(".search-snippet .redaction", (els) => els.map((e) => e.textContent));
    assert.ok(bars.length > 0 && bars.every((t) => t === "redacted"), `bars: ${bars}`);
    const snippet = await page.textContent(".search-snippet");
    assert.ok(!snippet.includes("[redacted]"), snippet);
    // On a phone the results come before the facets.
    const top = (sel) => page.$eval(sel, (e) => e.getBoundingClientRect().top);
    assert.ok((await top(".search-results")) < (await top(".search-facets")), "results first");
    // A hit in a footnote links to the note.
    await page.goto(h.base + "search/?q=%22made+in+china%22");
    await waitForResults(page, [COUNCIL]);
    assert.equal((await page.textContent(".search-result-anchor")).trim(), "note 1");
    const noteHref = await page.getAttribute(".search-results .search-result h2 a", "href");
    assert.ok(noteHref.endsWith("#fn-1"), noteHref);
    // A date that is not one is said so, not silently dropped.
    await page.fill("#search-from", "2019-13");
    await page.waitForFunction(() => /is not a date/.test(document.querySelector(".search-status").textContent));
    await page.close();
  });
});
