// annals search: the query engine, without the DOM. Runs in browsers and under
// node (the integration tests load the built index from disk through `load`).
//
// It mirrors src/search/ in the Rust source: `tokens` and `fold` are the same steps
// as search::text, `decodeNumbers` reads search::encode, `fnv1a` and `wordHash` are
// search::index's. The index ships stems, so there is no stemmer here: a query word
// is folded and looked up in its term shard, which lists the stems it has.

export const FORMAT_VERSION = 2;

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DIGIT[ALPHABET.charCodeAt(i)] = i;

/** Numbers written by search::encode::push_number. */
export function decodeNumbers(text, from = 0, count = Infinity) {
  const out = [];
  let n = 0;
  let i = from;
  for (; i < text.length && out.length < count; i++) {
    const v = DIGIT[text.charCodeAt(i)];
    n = n * 32 + (v & 31);
    if (v < 32) {
      out.push(n);
      n = 0;
    }
  }
  out.end = i;
  return out;
}

/** Document numbers written by search::encode::ascending (first, then gaps less one). */
export function decodeAscending(text) {
  const raw = decodeNumbers(text);
  const out = new Int32Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = i === 0 ? raw[0] : out[i - 1] + raw[i] + 1;
  return out;
}

const encoder = new TextEncoder();

/** FNV-1a, 32 bits, over the UTF-8 bytes of a string. */
export function fnv1a(text) {
  let h = 0x811c9dc5;
  for (const b of encoder.encode(text)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A folded word's neighbour hash, 1-4095 (search::index::word_hash). */
export function wordHash(word) {
  return (fnv1a(word) % 4095) + 1;
}

const WORD = /[\p{Alphabetic}\p{N}\p{M}]+/gu;
const MARK = /\p{M}/gu;
const LETTERS = { "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i", "ς": "σ" };
const SPECIAL = /[ßæœøłđðþıς]/gu;
let maxWord = 64;

/** The words of a text with their offsets (search::text::tokens). */
export function tokens(text) {
  const out = [];
  for (const m of text.matchAll(WORD)) {
    let length = 0;
    for (const _ of m[0]) length++;
    if (length <= maxWord) out.push({ start: m.index, end: m.index + m[0].length, text: m[0] });
  }
  return out;
}

/** A word's search key (search::text::fold): NFKD, lower case, no marks, a few
 *  letters mapped, NFC. */
export function fold(word) {
  if (/^[\x00-\x7f]*$/.test(word)) return word.toLowerCase();
  return word
    .normalize("NFKD")
    .toLowerCase()
    .replace(MARK, "")
    .replace(SPECIAL, (c) => LETTERS[c])
    .normalize("NFC");
}

/** Compares strings by code point, as Rust compares them. */
export function compareKeys(a, b) {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const cx = x.value.codePointAt(0);
    const cy = y.value.codePointAt(0);
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

/** The term shard holding a key: the last one whose first key is not after it
 *  (search::index::term_shard). */
export function termShard(firstKeys, key) {
  let lo = 0;
  let hi = firstKeys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareKeys(firstKeys[mid], key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return Math.max(0, lo - 1);
}

/** `k` and the hex digits of a first key's first 32 UTF-8 bytes. */
function shardNameBase(key) {
  const bytes = new TextEncoder().encode(key).subarray(0, 32);
  let hex = "k";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/** The file name of term shard `n` (search::index::term_shard_name): named by
 *  its first key, with `-<i>` for the i-th shard in a row of the same name. */
export function termShardName(firstKeys, n) {
  const base = shardNameBase(firstKeys[n]);
  let repeats = 0;
  while (n - repeats - 1 >= 0 && shardNameBase(firstKeys[n - repeats - 1]) === base) repeats++;
  return repeats ? `${base}-${repeats}` : base;
}

/**
 * A query: `"quoted words"` are phrases, as is a run of words joined by
 * punctuation (`9069/19`, `EU-LISA`); other words must all occur; the last word
 * also matches as a prefix while it is being typed (no space after it).
 * Returns clauses: {kind: "word", word, prefix} or {kind: "phrase", words}.
 */
export function parseQuery(q) {
  const clauses = [];
  const text = q || "";
  const re = /"([^"]*)("|$)|[^\s"]+/g;
  let m;
  while ((m = re.exec(text))) {
    if (m[1] !== undefined) {
      const words = tokens(m[1]).map((t) => fold(t.text));
      if (words.length === 1) clauses.push({ kind: "word", word: words[0], prefix: false });
      else if (words.length > 1) clauses.push({ kind: "phrase", words });
      continue;
    }
    const words = tokens(m[0]).map((t) => fold(t.text));
    const atEnd = m.index + m[0].length === text.length;
    if (words.length === 1) {
      clauses.push({ kind: "word", word: words[0], prefix: atEnd && [...words[0]].length >= 2 });
    } else if (words.length > 1) {
      clauses.push({ kind: "phrase", words });
    }
  }
  return clauses;
}

/** Days since 1970-01-01. */
export function dayNumber(year, month, day) {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(0, 0, 0, 0);
  return Math.round(d.getTime() / 86400000);
}

/** A date parameter (`2016`, `2016-03`, `2016-03-05`) as a day number: the first
 *  day of the period, or its last when `end`. `null` if it is not a date. */
export function parseDateParam(value, end) {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec((value || "").trim());
  if (!m) return null;
  const y = Number(m[1]);
  const mo = m[2] ? Number(m[2]) : null;
  const d = m[3] ? Number(m[3]) : null;
  if ((mo !== null && (mo < 1 || mo > 12)) || (d !== null && (d < 1 || d > 31))) return null;
  if (d !== null) {
    // 2019-02-30 is no date (not 2 March).
    const day = dayNumber(y, mo, d);
    const back = new Date(day * 86400000);
    if (back.getUTCMonth() + 1 !== mo || back.getUTCDate() !== d) return null;
    return day;
  }
  if (mo !== null) return end ? dayNumber(y, mo + 1, 0) : dayNumber(y, mo, 1);
  return end ? dayNumber(y, 12, 31) : dayNumber(y, 1, 1);
}

function yearOfDay(day) {
  return new Date(day * 86400000).getUTCFullYear();
}

/** Postings as sent: [docs, weights, parts, near]. */
class Postings {
  constructor(raw) {
    this.docs = decodeAscending(raw[0]);
    this.weights = raw[1];
    this.partsRaw = raw[2];
    this.nearRaw = raw[3] || "";
  }
  get length() {
    return this.docs.length;
  }
  weight(i) {
    return DIGIT[this.weights.charCodeAt(i)];
  }
  get parts() {
    if (!this._parts) {
      this._parts = this.partsRaw ? decodeNumbers(this.partsRaw) : null;
    }
    return this._parts;
  }
  part(i) {
    return this.parts ? this.parts[i] : 0;
  }
  /** For a rare stem: per document, the set of (before, after) neighbour hashes. */
  get near() {
    if (this._near === undefined) {
      if (!this.nearRaw) this._near = null;
      else {
        const text = this.nearRaw;
        const out = [];
        let at = 0;
        for (let d = 0; d < this.docs.length; d++) {
          const head = decodeNumbers(text, at, 1);
          at = head.end;
          const pairs = [];
          for (let k = 0; k < head[0]; k++) {
            const v = (i) => DIGIT[text.charCodeAt(at + i)];
            pairs.push([v(0) * 64 + v(1), v(2) * 64 + v(3)]);
            at += 4;
          }
          out.push(pairs);
        }
        this._near = out;
      }
    }
    return this._near;
  }
}

/** Matches of one clause: doc -> {score, part}, and how to highlight it. */
class Matches {
  constructor() {
    this.docs = new Map();
    this.words = new Set();
    this.stems = new Set();
    this.prefixes = [];
    this.phrase = null;
  }
  add(doc, score, part) {
    const had = this.docs.get(doc);
    if (!had || had.score < score) this.docs.set(doc, { score, part });
  }
}

/**
 * The search index of a built site. `load(path, version)` returns a promise of the
 * parsed JSON file at `search/<path>`; `version` is the build hash to add to the
 * URL (undefined for the manifest).
 */
export class SearchIndex {
  constructor(load) {
    this.load = load;
    this.cache = new Map();
    this.manifestPromise = null;
    this.facetsPromise = null;
  }

  manifest() {
    if (!this.manifestPromise) {
      this.manifestPromise = this.load("manifest.json").then((m) => {
        if (!m || m.version !== FORMAT_VERSION) throw new Error("unknown search index format");
        maxWord = m.max_word || maxWord;
        return m;
      });
    }
    return this.manifestPromise;
  }

  async file(path) {
    if (!this.cache.has(path)) {
      const m = await this.manifest();
      const p = this.load(path, m.build);
      this.cache.set(path, p);
      p.catch(() => this.cache.delete(path));
    }
    return this.cache.get(path);
  }

  async termShardFor(key) {
    const m = await this.manifest();
    const n = termShard(m.terms, key);
    return this.file(`terms/${termShardName(m.terms, n)}.json`);
  }

  async postings(stem) {
    const shard = await this.termShardFor(stem);
    if (!shard.parsed) shard.parsed = new Map();
    if (shard.parsed.has(stem)) return shard.parsed.get(stem);
    const raw = Object.prototype.hasOwnProperty.call(shard.stems, stem) ? shard.stems[stem] : null;
    const p = raw ? new Postings(raw) : null;
    shard.parsed.set(stem, p);
    return p;
  }

  /** The stems of a folded word: those the index lists for it, and the word itself
   *  when it is a stem key. */
  async stemsOf(word) {
    const shard = await this.termShardFor(word);
    const out = [];
    if (Object.prototype.hasOwnProperty.call(shard.words, word)) out.push(...shard.words[word]);
    if (Object.prototype.hasOwnProperty.call(shard.stems, word) && !out.includes(word)) out.push(word);
    return out;
  }

  /** Stems of the words starting with `prefix`, if the prefix spans few shards. */
  async prefixStems(prefix) {
    const m = await this.manifest();
    const first = termShard(m.terms, prefix);
    let last = first;
    while (last + 1 < m.terms.length && m.terms[last + 1].startsWith(prefix)) last++;
    if (last - first + 1 > 3) return { stems: [], words: [] };
    const stems = new Set();
    const words = [];
    for (let n = first; n <= last; n++) {
      const shard = await this.file(`terms/${termShardName(m.terms, n)}.json`);
      for (const key of Object.keys(shard.stems)) if (key.startsWith(prefix)) stems.add(key);
      for (const [word, list] of Object.entries(shard.words)) {
        if (word.startsWith(prefix)) {
          words.push(word);
          for (const s of list) stems.add(s);
        }
      }
    }
    return { stems: [...stems], words };
  }

  idf(df, n) {
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }

  async wordMatches(clause, n) {
    const result = new Matches();
    result.words.add(clause.word);
    const exact = await this.stemsOf(clause.word);
    const weighted = exact.map((s) => [s, 1]);
    for (const s of exact) result.stems.add(s);
    if (clause.prefix) {
      result.prefixes.push(clause.word);
      const more = await this.prefixStems(clause.word);
      for (const s of more.stems) if (!exact.includes(s)) weighted.push([s, 0.6]);
      for (const w of more.words) result.words.add(w);
    }
    const lists = await Promise.all(weighted.map(([s]) => this.postings(s)));
    lists.forEach((p, k) => {
      if (!p) return;
      const idf = this.idf(p.length, n) * weighted[k][1];
      for (let i = 0; i < p.length; i++) result.add(p.docs[i], (idf * p.weight(i)) / 63, p.part(i));
    });
    return result;
  }

  async pairDocs(x, y, n) {
    const m = await this.manifest();
    const [sx, sy] = await Promise.all([this.stemsOf(x), this.stemsOf(y)]);
    const docs = new Map();
    const add = (doc, part) => {
      if (!docs.has(doc)) docs.set(doc, part);
    };
    const hx = wordHash(x);
    const hy = wordHash(y);
    for (const a of sx) {
      for (const b of sy) {
        const [pa, pb] = await Promise.all([this.postings(a), this.postings(b)]);
        if (!pa || !pb) continue;
        if (pa.near) {
          pa.near.forEach((pairs, i) => {
            if (pairs.some((p) => p[1] === hy)) add(pa.docs[i], pa.part(i));
          });
        } else if (pb.near) {
          pb.near.forEach((pairs, i) => {
            if (pairs.some((p) => p[0] === hx)) add(pb.docs[i], pb.part(i));
          });
        } else {
          const key = `${x} ${y}`;
          const shard = await this.file(`pairs/${fnv1a(key) % m.pairs}.json`);
          const raw = Object.prototype.hasOwnProperty.call(shard, key) ? shard[key] : null;
          if (raw) {
            const p = new Postings(raw);
            for (let i = 0; i < p.length; i++) add(p.docs[i], p.part(i));
          }
        }
      }
    }
    return docs;
  }

  async phraseMatches(clause, n) {
    const result = new Matches();
    result.phrase = clause.words;
    const words = clause.words;
    const pairs = await Promise.all(words.slice(1).map((y, i) => this.pairDocs(words[i], y, n)));
    const singles = await Promise.all(words.map((w) => this.wordMatches({ word: w, prefix: false }, n)));
    for (const s of singles) for (const w of s.words) result.words.add(w);
    let docs = pairs[0];
    for (const [doc, part] of docs) {
      if (!pairs.every((p) => p.has(doc))) continue;
      let score = 0;
      for (const s of singles) score += s.docs.has(doc) ? s.docs.get(doc).score : 0;
      result.add(doc, score, part);
    }
    return result;
  }

  async facets() {
    if (!this.facetsPromise) {
      this.facetsPromise = (async () => {
        const m = await this.manifest();
        const raw = await this.file("facets.json");
        const n = m.documents;
        const start = new Int32Array(n);
        const end = new Int32Array(n);
        const runs = decodeNumbers(raw.dates.runs);
        let day = raw.dates.base;
        let doc = 0;
        for (let i = 0; i + 2 < runs.length; i += 3) {
          day -= runs[i];
          const precision = runs[i + 1];
          const d = new Date(day * 86400000);
          const y = d.getUTCFullYear();
          const mo = d.getUTCMonth() + 1;
          const last = precision === 0 ? day : precision === 1 ? dayNumber(y, mo + 1, 0) : dayNumber(y, 12, 31);
          for (let k = 0; k < runs[i + 2] && doc < n; k++, doc++) {
            start[doc] = day;
            end[doc] = last;
          }
        }
        const facets = raw.facets.map((f) => ({
          param: f.param,
          label: f.label,
          values: f.values.map(([value, name, docs]) => ({ value, name, docs: decodeAscending(docs) })),
        }));
        return { start, end, facets };
      })();
    }
    return this.facetsPromise;
  }

  /**
   * Runs a search. `params` is a URLSearchParams (or anything with get/getAll):
   * q, from, to, sort, and one parameter per facet. Returns the ranked hits, the
   * facet counts (each facet counted as if its own selection were empty), and
   * counts by year (ignoring the date range).
   */
  async search(params) {
    const started = Date.now();
    const m = await this.manifest();
    const n = m.documents;
    const q = params.get("q") || "";
    const clauses = parseQuery(q);
    const facetData = await this.facets();
    const selected = facetData.facets.map((f) => new Set(params.getAll(f.param)));
    const anyFacet = selected.some((s) => s.size > 0);
    const from = parseDateParam(params.get("from"), false);
    const to = parseDateParam(params.get("to"), true);
    const empty = clauses.length === 0 && !anyFacet && from === null && to === null;
    if (empty) return { total: 0, hits: [], facets: [], years: [], clauses, empty: true, ms: Date.now() - started };

    // Documents matching the query text, with scores.
    let base = null;
    let matches = [];
    if (clauses.length) {
      matches = await Promise.all(
        clauses.map((c) => (c.kind === "word" ? this.wordMatches(c, n) : this.phraseMatches(c, n))),
      );
      matches.sort((a, b) => a.docs.size - b.docs.size);
      base = new Map();
      for (const [doc, hit] of matches[0].docs) {
        let score = 0;
        let ok = true;
        for (const mt of matches) {
          const h = mt.docs.get(doc);
          if (!h) {
            ok = false;
            break;
          }
          score += h.score;
        }
        if (ok) base.set(doc, { score, part: hit.part });
      }
    }
    const inText = (doc) => base === null || base.has(doc);
    const inDates = (doc) =>
      (from === null || facetData.end[doc] >= from) && (to === null || facetData.start[doc] <= to);

    // Facet masks and, per document, how many selected facets it fails.
    const masks = facetData.facets.map((f, i) => {
      if (!selected[i].size) return null;
      const mask = new Uint8Array(n);
      for (const v of f.values) if (selected[i].has(v.value)) for (const d of v.docs) mask[d] = 1;
      return mask;
    });
    const fails = new Uint8Array(n);
    for (const mask of masks) if (mask) for (let d = 0; d < n; d++) if (!mask[d]) fails[d]++;
    const candidates = base === null ? null : [...base.keys()];
    const each = (fn) => {
      if (candidates) for (const d of candidates) fn(d);
      else for (let d = 0; d < n; d++) fn(d);
    };

    const hits = [];
    const years = new Map();
    each((d) => {
      if (!inText(d)) return;
      if (fails[d] === 0) {
        const y = yearOfDay(facetData.start[d]);
        years.set(y, (years.get(y) || 0) + 1);
        if (inDates(d)) hits.push({ doc: d, score: base ? base.get(d).score : 0, part: base ? base.get(d).part : 0 });
      }
    });
    const facets = facetData.facets.map((f, i) => {
      const ok = new Uint8Array(n);
      each((d) => {
        if (inText(d) && inDates(d) && (fails[d] === 0 || (fails[d] === 1 && masks[i] && !masks[i][d]))) ok[d] = 1;
      });
      const values = f.values.map((v) => {
        let count = 0;
        for (const d of v.docs) count += ok[d];
        return { value: v.value, name: v.name, count, selected: selected[i].has(v.value) };
      });
      return { param: f.param, label: f.label, values: values.filter((v) => v.count > 0 || v.selected) };
    });
    const byDate = params.get("sort") === "date" || clauses.length === 0;
    hits.sort((a, b) => (byDate ? a.doc - b.doc : b.score - a.score || a.doc - b.doc));
    return {
      total: hits.length,
      hits,
      facets,
      years: [...years.entries()].sort((a, b) => b[0] - a[0]).map(([year, count]) => ({ year, count })),
      clauses: matches.length ? matches : [],
      empty: false,
      ms: Date.now() - started,
    };
  }

  /**
   * What a result shows: title, date, references, URL (site-relative), the anchor
   * of the block with the best match and a snippet as [{text, hit}] segments.
   */
  async result(hit, matches) {
    const part = await this.file(`docs/${hit.doc}-${hit.part}.json`);
    const best = bestBlock(part.blocks, matches || []);
    let snippet = [];
    let anchor = "";
    if (best) {
      anchor = best.anchor;
      snippet = best.segments;
    } else if (part.summary) {
      snippet = [{ text: part.summary, hit: false }];
    } else if (part.blocks.length) {
      snippet = window(part.blocks[0][1], []);
    }
    return {
      doc: hit.doc,
      url: part.url,
      title: part.title,
      date: part.date,
      iso: part.iso,
      refs: part.refs,
      type: part.type,
      anchor,
      snippet,
    };
  }
}

/** Which tokens of a text match the query: word ranges to highlight. */
export function highlights(text, matches) {
  const toks = tokens(text);
  const folded = toks.map((t) => fold(t.text));
  const ranges = [];
  const clausesHit = new Set();
  matches.forEach((mt, ci) => {
    if (mt.phrase) {
      const w = mt.phrase;
      for (let i = 0; i + w.length <= folded.length; i++) {
        let ok = true;
        for (let k = 0; k < w.length && ok; k++) ok = folded[i + k] === w[k];
        if (ok) {
          ranges.push([toks[i].start, toks[i + w.length - 1].end]);
          clausesHit.add(ci);
        }
      }
      return;
    }
    folded.forEach((f, i) => {
      const hit =
        mt.words.has(f) ||
        mt.stems.has(f) ||
        mt.prefixes.some((p) => f.startsWith(p)) ||
        [...mt.stems].some((s) => s.length >= 3 && f.startsWith(s));
      if (hit) {
        ranges.push([toks[i].start, toks[i].end]);
        clausesHit.add(ci);
      }
    });
  });
  ranges.sort((a, b) => a[0] - b[0]);
  return { ranges, clauses: clausesHit.size };
}

/** Cuts a text around its first highlight into segments. */
function window(text, ranges, around = 120) {
  const first = ranges.length ? ranges[0][0] : 0;
  let start = Math.max(0, first - around);
  let end = Math.min(text.length, (ranges.length ? ranges[0][1] : 0) + around * 2);
  if (start > 0) {
    const space = text.indexOf(" ", start);
    if (space !== -1 && space < first) start = space + 1;
  }
  if (end < text.length) {
    const space = text.lastIndexOf(" ", end);
    if (space > (ranges.length ? ranges[0][1] : 0)) end = space;
  }
  const segments = [];
  if (start > 0) segments.push({ text: "… ", hit: false });
  let at = start;
  for (const [a, b] of ranges) {
    if (b <= at || a >= end) continue;
    if (a > at) segments.push({ text: text.slice(at, a), hit: false });
    segments.push({ text: text.slice(Math.max(a, at), Math.min(b, end)), hit: true });
    at = Math.min(b, end);
  }
  if (at < end) segments.push({ text: text.slice(at, end), hit: false });
  if (end < text.length) segments.push({ text: " …", hit: false });
  return segments;
}

/** The block matching the most clauses (the first such), with its snippet. */
function bestBlock(blocks, matches) {
  let best = null;
  for (const [anchor, text] of blocks) {
    const h = highlights(text, matches);
    if (h.clauses > 0 && (!best || h.clauses > best.clauses)) best = { anchor, text, ...h };
  }
  if (!best) return null;
  return { anchor: best.anchor, segments: window(best.text, best.ranges) };
}

/** The URL parameters of a search, in a stable order, empty ones left out. */
export function searchParams(state, facetParams) {
  const p = new URLSearchParams();
  if (state.q) p.set("q", state.q);
  if (state.from) p.set("from", state.from);
  if (state.to) p.set("to", state.to);
  for (const param of facetParams) for (const v of state.facets[param] || []) p.append(param, v);
  if (state.sort && state.sort !== "relevance") p.set("sort", state.sort);
  return p;
}
