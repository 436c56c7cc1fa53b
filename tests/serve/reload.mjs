// Runs `annals serve`'s live-reload script (src/serve/reload.js) against a
// scripted series of `__annals/events` answers and prints, as JSON, whether the
// page reloaded and at which answer. Used by tests/serve.rs; needs only node.
//
// node tests/serve/reload.mjs <page path> <answers as JSON> [version served at]
import { readFileSync } from "node:fs";
import vm from "node:vm";

const [, , pathname, answersJson, servedAt = null] = process.argv;
const answers = JSON.parse(answersJson);
const script = readFileSync(new URL("../../src/serve/reload.js", import.meta.url), "utf8");

let served = 0;
let reloadedAt = null;
let done;
const finished = new Promise((resolve) => (done = resolve));

const element = () => ({
  style: {},
  setAttribute() {},
  appendChild() {},
  remove() {},
});
const sandbox = {
  window: {
    location: {
      pathname,
      reload() {
        reloadedAt = served - 1;
        done();
      },
    },
    fetch: () => {
      if (served >= answers.length) {
        done();
        return new Promise(() => {});
      }
      const state = answers[served++];
      return Promise.resolve({ ok: true, json: () => Promise.resolve(state) });
    },
  },
  document: {
    currentScript: {
      getAttribute: (name) =>
        ({ "data-events": "/archive/__annals/events", "data-version": servedAt })[name] ?? null,
      src: "/archive/__annals/reload.js",
    },
    createElement: element,
    body: element(),
  },
  setTimeout,
};
sandbox.fetch = sandbox.window.fetch;
vm.createContext(sandbox);
vm.runInContext(script, sandbox);
await finished;
console.log(JSON.stringify({ reloadedAt, served }));
