'use strict';
// Writes bindings/node/constants.js from include/luarun.h: every `#define LUARUN_*`
// number and every `luarun_status` enumerator, so the binding never spells a number by
// hand. test/constants.test.js fails when the checked-in file is stale.
//
//   node bindings/node/tools/generate-constants.js      (or `npm run generate`)
const { frozenModule } = require('./generated-module');
const fs = require('node:fs');
const path = require('node:path');

/** Where the header lives in the repository. */
const HEADER = path.resolve(__dirname, '..', '..', '..', 'include', 'luarun.h');
/** The generated file. */
const OUTPUT = path.resolve(__dirname, '..', 'constants.js');

/**
 * Evaluates a `#define` body made of integers, `<<`, `|` and parentheses, with names of
 * constants defined before it; anything else in it is an error (so a new kind of macro
 * is noticed here, not miscompiled).
 * @param {string} name the macro, for the error message
 * @param {string} body its replacement text
 * @param {Map<string, number>} known the constants read so far
 * @returns {number}
 */
function evaluate(name, body, known) {
  const expression = body.replace(/\bLUARUN_[A-Z0-9_]+\b/g, (ref) => {
    if (!known.has(ref)) throw new Error(`${name} refers to ${ref}, which is not defined before it`);
    return `(${known.get(ref)})`;
  });
  if (!/^[0-9\s()|<]+$/.test(expression)) {
    throw new Error(`${name}: cannot evaluate '${body}'; teach tools/generate-constants.js this form`);
  }
  return Function(`"use strict"; return (${expression});`)();
}

/**
 * The constants of a header, in the order they appear.
 * @param {string} header the text of include/luarun.h
 * @returns {Map<string, number>}
 */
function readConstants(header) {
  const known = new Map();
  const statusEnum = header.match(/typedef enum luarun_status \{([\s\S]*?)\} luarun_status;/);
  if (!statusEnum) throw new Error('include/luarun.h has no `typedef enum luarun_status`');
  for (const [, name, value] of statusEnum[1].matchAll(/\b(LUARUN_[A-Z0-9_]+)\s*=\s*(\d+)/g)) {
    known.set(name, Number(value));
  }
  for (const [, name, body] of header.matchAll(/^#define (LUARUN_[A-Z0-9_]+) (.+)$/gm)) {
    if (name === 'LUARUN_H') continue;
    known.set(name, evaluate(name, body.trim(), known));
  }
  return known;
}

/**
 * The source of constants.js for a header.
 * @param {string} header the text of include/luarun.h
 * @returns {string}
 */
function generate(header) {
  return frozenModule({
    tool: 'generate-constants.js',
    test: 'constants.test.js',
    doc: 'Every LUARUN_* constant of include/luarun.h (statuses, engines, formats, kinds, ...).',
    entries: [...readConstants(header)].map(([name, value]) => `${name}: ${value}`),
  });
}

if (require.main === module) {
  fs.writeFileSync(OUTPUT, generate(fs.readFileSync(HEADER, 'utf8')));
  console.log(`wrote ${path.relative(process.cwd(), OUTPUT)}`);
}

module.exports = { HEADER, OUTPUT, generate, readConstants };
