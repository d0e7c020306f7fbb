'use strict';
// The binding spells no number and no struct by hand that the header does not check:
// constants.js is generated from include/luarun.h (and must be fresh), and the koffi
// struct declarations in ffi.js list the header's fields in order, with matching types.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { HEADER, OUTPUT, generate, readConstants } = require('../tools/generate-constants');
const { koffi, luarun_value, luarun_options, luarun_mandelbrot } = require('../ffi');
const luarun = require('../luarun');

const header = fs.readFileSync(HEADER, 'utf8');

test('constants.js is what tools/generate-constants.js makes of include/luarun.h (npm run generate)', () => {
  assert.equal(fs.readFileSync(OUTPUT, 'utf8'), generate(header));
});

test('the generator reads every status, including ones appended later', () => {
  const constants = readConstants(header.replace('LUARUN_ERR_PANIC = 10,', 'LUARUN_ERR_PANIC = 10,\n  LUARUN_ERR_NEW = 11,'));
  assert.equal(constants.get('LUARUN_ERR_NEW'), 11);
  assert.equal(constants.get('LUARUN_LIBS_SAFE'), 31); // (((1 | 1<<1) | 1<<2) | 1<<3) | 1<<4
  assert.throws(() => readConstants('typedef enum luarun_status { LUARUN_OK = 0, } luarun_status;\n#define LUARUN_X foo(1)'),
    /LUARUN_X: cannot evaluate/);
});

test('exported constant tables agree with the header', () => {
  const constants = readConstants(header);
  assert.equal(luarun.STATUS.ERR_TYPE, constants.get('LUARUN_ERR_TYPE'));
  assert.equal(Object.keys(luarun.STATUS).length, [...constants.keys()].filter((n) => /^LUARUN_(OK|ERR_)/.test(n)).length);
  assert.deepEqual(luarun.ENGINE, { NATIVE: constants.get('LUARUN_ENGINE_NATIVE'), LUA: constants.get('LUARUN_ENGINE_LUA') });
  assert.equal(luarun.PIXELS.RGB8, constants.get('LUARUN_PIXELS_RGB8'));
  assert.equal(luarun.LIB.debug, constants.get('LUARUN_LIB_DEBUG'));
  assert.equal(luarun.abiVersion(), constants.get('LUARUN_ABI_VERSION'));
  for (const [name, value] of Object.entries(luarun.STATUS)) {
    assert.equal(new luarun.LuarunError(value, 'x').statusName, `LUARUN_${name}`);
  }
});

/** The fields of `typedef struct name { ... } name;` as [type, field] pairs, in order. */
function headerFields(name) {
  const body = header.match(new RegExp(`typedef struct ${name} \\{([\\s\\S]*?)\\} ${name};`))[1];
  const code = body.replace(/\/\*[\s\S]*?\*\//g, '');
  return [...code.matchAll(/^\s*([^;]*?)\s*\b(\w+);$/gm)].map(([, type, field]) => [type, field]);
}

/** What koffi type name a header type must be declared as ('pointer' for any pointer). */
function expectedKoffiType(cType) {
  const aliases = Object.fromEntries([...header.matchAll(/^typedef (\w+) (\w+);$/gm)].map(([, base, alias]) => [alias, base]));
  const callbacks = new Set([...header.matchAll(/^typedef \w+ \(\*(\w+)\)/gm)].map(([, alias]) => alias));
  if (cType.includes('*') || callbacks.has(cType)) return 'pointer';
  return aliases[cType] || cType;
}

for (const [name, type] of [['luarun_value', luarun_value], ['luarun_options', luarun_options],
                            ['luarun_mandelbrot', luarun_mandelbrot]]) {
  test(`ffi.js declares ${name} as the header does`, () => {
    const members = Object.values(koffi.type(type).members);
    const fields = headerFields(name);
    assert.deepEqual(members.map((member) => member.name), fields.map(([, field]) => field));
    members.forEach((member, index) => {
      const declared = koffi.type(member.type);
      const actual = ['Pointer', 'Callback', 'String'].includes(declared.primitive) ? 'pointer' : declared.name;
      assert.equal(actual, expectedKoffiType(fields[index][0]), `${name}.${member.name}`);
    });
  });
}
