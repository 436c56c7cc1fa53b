// Runs searches through the client's query module against a built site on disk.
//
//   node tests/search/query.mjs SITE_DIR QUERIES_JSON
//
// QUERIES_JSON is a JSON array of URL query strings ("q=europol&topic=x"). Prints
// a JSON array, one entry per query: the document ids found (in rank order), each
// shown result's anchor and snippet, and what the query fetched (a fresh index per
// query, so nothing is cached): `search_bytes` for the search itself (manifest,
// facets, shards), `page_bytes` for that and the first page of results as the
// search page shows them (10 snippets); `bytes` also counts reading every hit's
// id, which only this script does.
import { readFile } from "node:fs/promises";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const core = await import(pathToFileURL(join(here, "../../themes/default/static/search-core.js")));

const [site, queriesJson, shownArg] = process.argv.slice(2);
const queries = JSON.parse(queriesJson);
const shown = Number(shownArg || 10);

const out = [];
for (const query of queries) {
  let bytes = 0;
  let files = 0;
  const load = async (path) => {
    const text = await readFile(join(site, "search", path), "utf8");
    bytes += Buffer.byteLength(text);
    files += 1;
    return JSON.parse(text);
  };
  const index = new core.SearchIndex(load);
  const started = performance.now();
  const res = await index.search(new URLSearchParams(query));
  const searched = performance.now() - started;
  const searchBytes = bytes;
  const searchFiles = files;
  const results = [];
  for (const hit of res.hits.slice(0, shown)) {
    const r = await index.result(hit, res.clauses);
    results.push({
      id: r.url.replace(/^documents\//, "").replace(/\/$/, ""),
      anchor: r.anchor,
      hits: r.snippet.filter((s) => s.hit).map((s) => s.text),
      snippet: r.snippet.map((s) => (s.hit ? `[${s.text}]` : s.text)).join(""),
    });
  }
  const pageBytes = bytes;
  const ids = [];
  for (const hit of res.hits) {
    // Ids of every hit: a part file names the document.
    const r = await index.file(`docs/${hit.doc}-0.json`);
    ids.push(r.url.replace(/^documents\//, "").replace(/\/$/, ""));
  }
  out.push({
    query,
    total: res.total,
    ids: results.length === res.hits.length ? results.map((r) => r.id) : ids,
    results,
    facets: Object.fromEntries(res.facets.map((f) => [f.param, Object.fromEntries(f.values.map((v) => [v.value, v.count]))])),
    years: res.years,
    search_bytes: searchBytes,
    search_files: searchFiles,
    page_bytes: pageBytes,
    bytes,
    files,
    ms: Math.round(searched * 10) / 10,
  });
}
console.log(JSON.stringify(out, null, 1));
