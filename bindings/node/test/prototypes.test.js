'use strict';
// The koffi prototypes in prototypes.js are generated from include/luarun.h and must be
// fresh; ffi.js binds every function it uses from them, and nothing else by hand.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { HEADER } = require('../tools/generate-constants');
const { OUTPUT, generate, readPrototypes } = require('../tools/generate-prototypes');
const PROTOTYPES = require('../prototypes');
const { c, USED } = require('../ffi');

const header = fs.readFileSync(HEADER, 'utf8');

test('prototypes.js is what tools/generate-prototypes.js makes of include/luarun.h (npm run generate)', () => {
  assert.equal(fs.readFileSync(OUTPUT, 'utf8'), generate(header));
});

test('a changed prototype in the header makes the checked-in file stale', () => {
  const changed = header.replace('size_t luarun_mandelbrot_buffer_size(const struct luarun_mandelbrot *params);',
    'size_t luarun_mandelbrot_buffer_size(const struct luarun_mandelbrot *params, uint32_t flags);');
  assert.notEqual(changed, header, 'the test edits a declaration the header has');
  assert.notEqual(generate(changed), fs.readFileSync(OUTPUT, 'utf8'));
  const added = `${header.replace('#endif  /* LUARUN_H */', '')}enum luarun_status luarun_new_thing(struct luarun_state *state, double *x_out);\n`;
  assert.equal(new Map(readPrototypes(added)).get('new_thing'), 'int luarun_new_thing(luarun_state *state, _Out_ double *x_out)');
});

test('every function of the header has a prototype, with the rules for koffi applied', () => {
  // Declarations start a line (doc comment lines start with ' *', parameters with spaces).
  const code = header.replace(/^\s*(\/\*\*|\*).*$/gm, '');
  const declared = [...code.matchAll(/^(?!typedef|#)\S.*?\b(luarun_\w+)\(/gm)].map(([, name]) => name);
  assert.deepEqual(Object.keys(PROTOTYPES).map((name) => `luarun_${name}`).sort(), declared.sort());
  assert.equal(PROTOTYPES.state_new, 'int luarun_state_new(const luarun_options *options, _Out_ luarun_state **state_out)');
  // An array the caller allocates (followed by its capacity) is a plain pointer, not _Out_.
  assert.match(PROTOTYPES.call, /, luarun_value \*results_out, size_t results_cap, _Out_ size_t \*nresults_out\)$/);
  assert.equal(PROTOTYPES.value_free, 'void luarun_value_free(_Inout_ luarun_value *value)');
  assert.equal(PROTOTYPES.state_gc, 'int luarun_state_gc(luarun_state *state, uint32_t operation)'); // typedef'd alias
  assert.match(PROTOTYPES.state_set_print, /luarun_print_callback \*print/); // a callback typedef is a pointer to the proto
});

test('ffi.js binds each function it uses from the generated prototypes', () => {
  for (const name of USED) {
    assert.ok(Object.hasOwn(PROTOTYPES, name), `${name} is not in include/luarun.h`);
    assert.equal(typeof c[name], 'function', name);
  }
  assert.deepEqual(Object.keys(c), [...USED]);
});
