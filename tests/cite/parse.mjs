// Reads annals' citation exports with Citation.js and prints the CSL-JSON it
// understood, for tests/citations.rs to check. Takes pairs of arguments:
//
//   node parse.mjs KIND FILE [KIND FILE]...
//
// KIND is `csl` (CSL-JSON: cite.json, bibliography.json), `bib` (BibTeX: cite.bib,
// bibliography.bib) or `ris` (cite.ris). Prints a JSON array with, for each pair,
// {"items": [CSL-JSON items], "bibliography": "<formatted references>"}. Input
// Citation.js cannot read, or reads as another format, is an error (exit 1).
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { Cite, plugins } = require('@citation-js/core')
require('@citation-js/plugin-bibtex')
require('@citation-js/plugin-ris')
require('@citation-js/plugin-csl')

// Citation.js calls BibTeX with `date` and `language` fields BibLaTeX; both are read
// by the same parser.
const ACCEPTED = { csl: ['@csl/list+object'], bib: ['@biblatex/text', '@bibtex/text'], ris: ['@ris/file'] }

function parse (kind, file) {
  const accepted = ACCEPTED[kind]
  if (!accepted) {
    console.error(`unknown kind ${kind}: csl, bib or ris`)
    process.exit(2)
  }
  const text = readFileSync(file, 'utf8')
  const input = kind === 'csl' ? JSON.parse(text) : text
  // Parse strictly: a format Citation.js does not recognise must not pass as empty.
  const detected = plugins.input.type(input)
  if (!accepted.includes(detected)) {
    console.error(`Citation.js reads ${file} as ${detected}, not ${accepted.join(' or ')}`)
    process.exit(1)
  }
  const cite = new Cite(input, { forceType: detected })
  const items = cite.data.map(({ _graph, ...item }) => item)
  if (items.length === 0) {
    console.error(`Citation.js found no item in ${file}`)
    process.exit(1)
  }
  const bibliography = cite.format('bibliography', { format: 'text', template: 'apa', lang: 'en-US' })
  return { items, bibliography }
}

const args = process.argv.slice(2)
if (args.length === 0 || args.length % 2 !== 0) {
  console.error('usage: node parse.mjs KIND FILE [KIND FILE]...')
  process.exit(2)
}
const results = []
for (let i = 0; i < args.length; i += 2) {
  results.push(parse(args[i], args[i + 1]))
}
process.stdout.write(JSON.stringify(results, null, 1) + '\n')
