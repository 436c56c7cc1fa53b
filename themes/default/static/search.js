// annals search page: the DOM around search-core.js. Reads the query, facets and
// date range from the URL, keeps the URL current as the reader types
// (history.replaceState), and shows results, facet counts and years. Every piece
// of archive text is put in the page with textContent, never as HTML.
import { SearchIndex, searchParams, parseDateParam } from "./search-core.js";

const PAGE = 10;
const FACETS_SHOWN = 8;

const root = document.getElementById("search");
if (root) start(root);

function start(root) {
  const indexBase = root.getAttribute("data-search-index");
  const siteBase = root.getAttribute("data-site-base");
  const form = root.querySelector("form");
  const input = root.querySelector("#search-q");
  const fromInput = root.querySelector("#search-from");
  const toInput = root.querySelector("#search-to");
  const status = root.querySelector(".search-status");
  const facetsBox = root.querySelector(".search-facets");
  const list = root.querySelector(".search-results");
  const more = root.querySelector(".search-more");

  const index = new SearchIndex((path, version) => {
    const url = indexBase + path + (version ? `?v=${encodeURIComponent(version)}` : "");
    return fetch(url, version ? {} : { cache: "no-cache" }).then((r) => {
      if (!r.ok) throw new Error(`${r.status} ${url}`);
      return r.json();
    });
  });

  const url = new URL(window.location.href);
  const state = {
    q: url.searchParams.get("q") || "",
    from: url.searchParams.get("from") || "",
    to: url.searchParams.get("to") || "",
    sort: url.searchParams.get("sort") || "",
    facets: {},
  };
  input.value = state.q;
  fromInput.value = state.from;
  toInput.value = state.to;

  let facetParams = [];
  let current = null;
  let shown = 0;
  let generation = 0;
  let timer = 0;

  index
    .facets()
    .then((data) => {
      facetParams = data.facets.map((f) => f.param);
      for (const p of facetParams) state.facets[p] = url.searchParams.getAll(p);
      run();
    })
    .catch(fail);

  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(run, 120);
  };
  input.addEventListener("input", () => {
    state.q = input.value;
    schedule();
  });
  for (const [el, key] of [[fromInput, "from"], [toInput, "to"]]) {
    el.addEventListener("input", () => {
      state[key] = el.value.trim();
      schedule();
    });
  }
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    state.q = input.value;
    run();
  });
  more.addEventListener("click", () => showMore());

  function params() {
    return searchParams(state, facetParams);
  }

  function keepUrl() {
    const p = params().toString();
    const next = window.location.pathname + (p ? `?${p}` : "") + window.location.hash;
    if (next !== window.location.pathname + window.location.search + window.location.hash) {
      history.replaceState(null, "", next);
    }
  }

  async function run() {
    const mine = ++generation;
    keepUrl();
    let res;
    try {
      res = await index.search(params());
    } catch (e) {
      fail(e);
      return;
    }
    if (mine !== generation) return;
    current = res;
    shown = 0;
    list.replaceChildren();
    renderFacets(res);
    const notes = dateNotes();
    if (res.empty) {
      status.textContent = notes;
      more.hidden = true;
      return;
    }
    const found =
      res.total === 0 ? "No documents found." : `${res.total} document${res.total === 1 ? "" : "s"} found.`;
    status.textContent = notes ? `${found} ${notes}` : found;
    await showMore(mine);
  }

  async function showMore(mine = generation) {
    const res = current;
    if (!res) return;
    const batch = res.hits.slice(shown, shown + PAGE);
    shown += batch.length;
    more.hidden = shown >= res.hits.length;
    const items = await Promise.all(batch.map((hit) => index.result(hit, res.clauses).catch(() => null)));
    if (mine !== generation) return;
    for (const r of items) if (r) list.append(resultItem(r));
  }

  function resultItem(r) {
    const li = document.createElement("li");
    li.className = "search-result";
    const h = document.createElement("h2");
    const a = document.createElement("a");
    a.href = siteBase + r.url + (r.anchor ? `#${encodeURIComponent(r.anchor)}` : "");
    a.textContent = r.title;
    h.append(a);
    li.append(h);
    const meta = document.createElement("p");
    meta.className = "search-result-meta";
    const time = document.createElement("time");
    time.dateTime = r.iso;
    time.textContent = r.date;
    meta.append(time);
    for (const text of [r.type, ...(r.refs || [])]) {
      if (!text) continue;
      const span = document.createElement("span");
      span.textContent = text;
      meta.append(" · ", span);
    }
    if (r.anchor) {
      const pin = document.createElement("span");
      pin.className = "search-result-anchor";
      const note = /^fn-(\d+)$/.exec(r.anchor);
      pin.textContent = note ? `note ${note[1]}` : `¶ ${r.anchor}`;
      meta.append(" · ", pin);
    }
    li.append(meta);
    if (r.snippet.length) {
      const p = document.createElement("p");
      p.className = "search-snippet";
      for (const seg of r.snippet) {
        if (seg.hit) {
          const mark = document.createElement("mark");
          mark.textContent = seg.text;
          p.append(mark);
        } else {
          appendSnippetText(p, seg.text);
        }
      }
      li.append(p);
    }
    return li;
  }

  // A redaction stands in snippets as "[redacted]" (never its text): shown as
  // the same labelled bar as on the document's page.
  function appendSnippetText(p, text) {
    const parts = text.split("[redacted]");
    parts.forEach((part, i) => {
      if (i > 0) {
        const bar = document.createElement("span");
        bar.className = "redaction";
        bar.title = "Redacted";
        const label = document.createElement("span");
        label.className = "redaction-label";
        label.textContent = "redacted";
        bar.append(label);
        p.append(bar);
      }
      if (part) p.append(document.createTextNode(part));
    });
  }

  // A date the search cannot read is not applied: say so, rather than show
  // every document as if it were.
  function dateNotes() {
    const notes = [];
    for (const [el, key, end] of [[fromInput, "from", false], [toInput, "to", true]]) {
      const value = state[key];
      const bad = Boolean(value) && parseDateParam(value, end) === null;
      el.setCustomValidity(bad ? "Use YYYY, YYYY-MM or YYYY-MM-DD" : "");
      if (bad) notes.push(`“${value}” is not a date (use YYYY, YYYY-MM or YYYY-MM-DD), so it is not applied.`);
    }
    const from = parseDateParam(state.from, false);
    const to = parseDateParam(state.to, true);
    if (from !== null && to !== null && from > to) notes.push("The “from” date is after the “to” date.");
    return notes.join(" ");
  }

  function renderFacets(res) {
    // The controls are made again with the new counts: the one that had the
    // focus gets it back, so a keyboard user keeps their place.
    const active = document.activeElement;
    const focused = active && facetsBox.contains(active) ? active.dataset.key : undefined;
    facetsBox.replaceChildren();
    if (res.empty) return;
    if (res.years.length) facetsBox.append(yearsBox(res.years));
    const names = languageNames();
    for (const facet of res.facets) {
      if (!facet.values.length) continue;
      const box = document.createElement("fieldset");
      box.className = "search-facet";
      const legend = document.createElement("legend");
      legend.textContent = facet.label;
      box.append(legend);
      const values = [...facet.values].sort((a, b) => b.selected - a.selected || b.count - a.count || a.name.localeCompare(b.name));
      const ul = document.createElement("ul");
      values.forEach((v, i) => {
        const li = document.createElement("li");
        if (i >= FACETS_SHOWN && !v.selected) li.hidden = true;
        const label = document.createElement("label");
        const box = document.createElement("input");
        box.type = "checkbox";
        box.checked = v.selected;
        box.dataset.key = `${facet.param}=${v.value}`;
        box.addEventListener("change", () => {
          const list = new Set(state.facets[facet.param] || []);
          if (box.checked) list.add(v.value);
          else list.delete(v.value);
          state.facets[facet.param] = [...list];
          run();
        });
        const name = document.createElement("span");
        name.textContent = facet.param === "lang" ? names(v.name) : v.name;
        const count = document.createElement("span");
        count.className = "search-count";
        count.textContent = String(v.count);
        label.append(box, " ", name, " ", count);
        li.append(label);
        ul.append(li);
      });
      box.append(ul);
      if (values.length > FACETS_SHOWN) {
        const all = document.createElement("button");
        all.type = "button";
        all.className = "search-facet-all";
        all.textContent = `All ${values.length}`;
        all.addEventListener("click", () => {
          for (const li of ul.children) li.hidden = false;
          all.remove();
        });
        box.append(all);
      }
      facetsBox.append(box);
    }
    if (focused !== undefined) {
      const again = [...facetsBox.querySelectorAll("[data-key]")].find((el) => el.dataset.key === focused);
      if (again) again.focus();
    }
  }

  function yearsBox(years) {
    const box = document.createElement("fieldset");
    box.className = "search-facet search-years";
    const legend = document.createElement("legend");
    legend.textContent = "Year";
    box.append(legend);
    const ul = document.createElement("ul");
    const max = Math.max(...years.map((y) => y.count));
    for (const y of years) {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.key = `year=${y.year}`;
      const selected = state.from === String(y.year) && state.to === String(y.year);
      b.setAttribute("aria-pressed", String(selected));
      const label = document.createElement("span");
      label.textContent = String(y.year);
      const bar = document.createElement("span");
      bar.className = "search-bar";
      bar.style.setProperty("--share", String(y.count / max));
      const count = document.createElement("span");
      count.className = "search-count";
      count.textContent = String(y.count);
      b.append(label, bar, count);
      b.addEventListener("click", () => {
        state.from = state.to = selected ? "" : String(y.year);
        fromInput.value = state.from;
        toInput.value = state.to;
        run();
      });
      li.append(b);
      ul.append(li);
    }
    box.append(ul);
    return box;
  }

  function fail(e) {
    status.textContent = "Search is unavailable: the index could not be loaded.";
    console.error(e);
  }
}

function languageNames() {
  let display = null;
  try {
    display = new Intl.DisplayNames([navigator.language || "en"], { type: "language" });
  } catch {
    display = null;
  }
  return (tag) => {
    try {
      return (display && display.of(tag)) || tag;
    } catch {
      return tag;
    }
  };
}
