'use strict';
// Writes bindings/node/prototypes.js from include/luarun.h: the koffi prototype of every
// function the header declares, so ffi.js never retypes a C signature by hand.
// test/prototypes.test.js fails when the checked-in file is stale.
//
//   node bindings/node/tools/generate-prototypes.js      (or `npm run generate`)
//
// What koffi needs beyond the C text, and the rule that derives it from the header:
// - `enum luarun_status` -> `int`: a C enum is an int, and koffi has no enum types.
// - `struct luarun_value` -> `luarun_value`: koffi names types without the tag.
// - `typedef uint32_t luarun_type;` and the like -> `uint32_t`: koffi knows the base type.
// - a callback typedef (`typedef int (*luarun_print_callback)(...)`) -> `luarun_print_callback *`:
//   koffi.proto declares the function type, and a parameter is a pointer to it.
// - a non-const pointer parameter named `*_out` -> `_Out_` (koffi writes the result back
//   into the JS object or array), except one followed by a `*_cap` parameter: that is an
//   array the caller allocates (koffi would copy back one element), so a plain pointer.
// - any other non-const pointer to a struct with fields (not an opaque handle) -> `_Inout_`:
//   the function reads and updates it (luarun_value_free clears the value it frees).
const { frozenModule } = require('./generated-module');
const fs = require('node:fs');
const path = require('node:path');
const { HEADER } = require('./generate-constants');

/** The generated file. */
const OUTPUT = path.resolve(__dirname, '..', 'prototypes.js');

/** Drops comments and preprocessor lines, so only declarations remain. */
function declarationsOf(header) {
  return header.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '').replace(/^#.*$/gm, '');
}

/**
 * What the header's typedefs say about its type names.
 * @param {string} code the header without comments
 * @returns {{aliases: Map<string, string>, callbacks: Set<string>, opaque: Set<string>}}
 */
function readTypes(code) {
  const aliases = new Map([...code.matchAll(/^typedef (\w+) (\w+);$/gm)].map(([, base, alias]) => [alias, base]));
  const callbacks = new Set([...code.matchAll(/^typedef [\w\s*]+\(\*(\w+)\)/gm)].map(([, name]) => name));
  const opaque = new Set([...code.matchAll(/^typedef struct (\w+) \1;$/gm)].map(([, name]) => name));
  return { aliases, callbacks, opaque };
}

/**
 * A C type as koffi spells it: without `enum`/`struct` tags and typedef aliases.
 * @param {string} cType e.g. 'const struct luarun_value *'
 * @param {ReturnType<typeof readTypes>} types
 * @returns {string} e.g. 'const luarun_value *'
 */
function koffiType(cType, types) {
  const words = cType.replace(/\*/g, ' * ').trim().split(/\s+/);
  const out = [];
  for (let index = 0; index < words.length; index++) {
    const word = words[index];
    if (word === 'enum') { out.push('int'); index += 1; continue; }
    if (word === 'struct') continue;
    if (types.callbacks.has(word)) { out.push(word, '*'); continue; }
    out.push(types.aliases.get(word) || word);
  }
  return out.join(' ').replace(/ \*/g, ' *').replace(/\* \*/g, '**').replace(/\* (?=\*)/g, '*');
}

/** ' *' spacing as the header writes it: `const char *name`, `luarun_state **state_out`. */
function joinTypeAndName(type, name) {
  return type.endsWith('*') ? `${type}${name}` : `${type} ${name}`;
}

/**
 * One parameter's koffi text, with the direction annotation the rules above give it.
 * @param {{type: string, name: string}} param the C parameter
 * @param {{type: string, name: string}|undefined} next the parameter after it
 * @param {ReturnType<typeof readTypes>} types
 */
function koffiParam(param, next, types) {
  const type = koffiType(param.type, types);
  const pointer = param.type.includes('*') && !/^\s*const\b/.test(param.type);
  const pointee = param.type.replace(/\b(struct|const)\b|\*/g, '').trim();
  let direction = '';
  if (pointer && param.name.endsWith('_out')) {
    direction = next && next.name.endsWith('_cap') ? '' : '_Out_ ';
  } else if (pointer && /\bstruct\b/.test(param.type) && !types.opaque.has(pointee)) {
    direction = '_Inout_ ';
  }
  return `${direction}${joinTypeAndName(type, param.name)}`;
}

/**
 * Every function of a header as [name without `luarun_`, koffi prototype], in order.
 * @param {string} header the text of include/luarun.h
 * @returns {Array<[string, string]>}
 */
function readPrototypes(header) {
  const code = declarationsOf(header);
  const types = readTypes(code);
  const functions = [...code.matchAll(/^(?!typedef)([A-Za-z][\w\s*]*?)\b(luarun_\w+)\(([^)]*)\);/gm)];
  if (functions.length === 0) throw new Error('include/luarun.h declares no luarun_* function');
  return functions.map(([, returnType, name, paramText]) => {
    const params = paramText.trim() === 'void' ? [] : paramText.split(',').map((text) => {
      const match = text.trim().replace(/\s+/g, ' ').match(/^(.*?)\s*\b(\w+)$/);
      if (!match || !match[1]) throw new Error(`${name}: cannot read the parameter '${text.trim()}'`);
      return { type: match[1], name: match[2] };
    });
    const list = params.length === 0 ? 'void' : params.map((param, index) => koffiParam(param, params[index + 1], types)).join(', ');
    return [name.slice('luarun_'.length), `${joinTypeAndName(koffiType(returnType.trim(), types), name)}(${list})`];
  });
}

/**
 * The source of prototypes.js for a header.
 * @param {string} header the text of include/luarun.h
 * @returns {string}
 */
function generate(header) {
  return frozenModule({
    tool: 'generate-prototypes.js',
    test: 'prototypes.test.js',
    doc: 'The koffi prototype of every function of include/luarun.h, by name without `luarun_`.',
    entries: readPrototypes(header).map(([name, prototype]) => `${name}: '${prototype}'`),
  });
}

if (require.main === module) {
  fs.writeFileSync(OUTPUT, generate(fs.readFileSync(HEADER, 'utf8')));
  console.log(`wrote ${path.relative(process.cwd(), OUTPUT)}`);
}

module.exports = { OUTPUT, generate, readPrototypes };
