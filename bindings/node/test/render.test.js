'use strict';
// Specification of Mandelbrot renders from Node.js into Buffers, through include/luarun.h.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const luarun = require('../luarun');

const PBM_200_MD5 = 'cc65e64bd553ed18896de1dfe7fae3e5'; // the Benchmarks Game output, N=200

function pbmMd5(width, height, bits) {
  return crypto.createHash('md5').update(`P4\n${width} ${height}\n`).update(bits).digest('hex');
}

test('defaults are the C defaults', () => {
  const params = luarun.mandelbrotParams();
  assert.equal(params.width, 1280);
  assert.equal(params.max_iter, 50);
  assert.equal(params.x_min, -1.5);
  assert.equal(params.engine, luarun.ENGINE.NATIVE);
  assert.equal(luarun.bufferSize({ width: 200, height: 200 }), 25 * 200);
});

for (const [name, engine] of Object.entries(luarun.ENGINE)) {
  test(`200x200 bits from the ${name} engine match the published P4 md5`, () => {
    const bits = luarun.render({ width: 200, height: 200, engine, format: luarun.PIXELS.BITS });
    assert.ok(Buffer.isBuffer(bits));
    assert.equal(bits.length, 5000);
    assert.equal(pbmMd5(200, 200, bits), PBM_200_MD5);
  });
}

test('renders write into the caller\'s buffer in place', () => {
  const params = { width: 200, height: 200, format: luarun.PIXELS.COUNTS_U32, threads: 2 };
  const counts = new Uint32Array(200 * 200);
  assert.equal(luarun.render(params, counts), counts);
  assert.equal(counts[100 * 200 + 100], 50); // (-0.5, 0) is in the set: max_iter
  assert.equal(counts[0], 1); // (-1.5, -1) escapes after one step
});

test('failures throw LuarunError naming what is wrong', () => {
  assert.throws(() => luarun.render({ width: 200, height: 200 }, Buffer.alloc(100)),
    (e) => e.statusName === 'LUARUN_ERR_BUFFER_TOO_SMALL' && /5000/.test(e.message));
  assert.throws(() => luarun.render({ width: 0 }), { statusName: 'LUARUN_ERR_INVALID_ARGUMENT' });
  assert.throws(() => luarun.render({ engine: luarun.ENGINE.LUA, width: 8, height: 8, lua_kernel: 'not Lua' }),
    { statusName: 'LUARUN_ERR_SYNTAX' });
  assert.throws(() => luarun.render({ colour: 1 }), TypeError);
});
