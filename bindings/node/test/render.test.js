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

test('defaults are the C defaults, except that height follows width', () => {
  const params = luarun.mandelbrotParams();
  assert.equal(params.width, 1280);
  assert.equal(params.height, 1280);
  assert.equal(params.max_iter, 50);
  assert.equal(params.x_min, -1.5);
  assert.equal(params.engine, luarun.ENGINE.NATIVE);
  assert.equal(luarun.mandelbrotParams({ width: 200 }).height, 200);
  assert.equal(luarun.mandelbrotParams({ height: 300 }).width, 1280);
  assert.equal(luarun.bufferSize({ width: 200 }), 25 * 200);
  assert.equal(luarun.bufferSize({ width: 200, height: 3 }), 25 * 3);
});

for (const engine of ['native', 'lua']) {
  test(`{ width: 200 } from the ${engine} engine is the published 200 x 200 P4`, () => {
    const bits = luarun.render({ width: 200, engine, format: 'bits' });
    assert.ok(Buffer.isBuffer(bits));
    assert.equal(bits.length, 5000);
    assert.equal(pbmMd5(200, 200, bits), PBM_200_MD5);
  });
}

test('engines and formats take the lower-case C names or the constants', () => {
  assert.deepEqual(luarun.render({ width: 16, engine: luarun.ENGINE.LUA, format: luarun.PIXELS.RGB8 }),
    luarun.render({ width: 16, engine: 'lua', format: 'rgb8' }));
  const sizes = { bits: 2 * 16, counts_u32: 4 * 256, rgb8: 3 * 256, counts_u16: 2 * 256, counts_u8: 256 };
  for (const [format, size] of Object.entries(sizes)) assert.equal(luarun.bufferSize({ width: 16, format }), size, format);
  assert.throws(() => luarun.render({ format: 'rgb' }),
    { name: 'RangeError', message: /unknown format "rgb" \(a string\); choose one of 'bits', 'counts_u32', 'rgb8'/ });
  assert.throws(() => luarun.render({ engine: 2 }), { name: 'RangeError', message: /'native', 'lua' \(or a luarun.ENGINE value\)/ });
});

test('renders write into the caller\'s buffer in place', () => {
  const options = { width: 200, format: 'counts_u32', threads: 2 };
  const counts = new Uint32Array(200 * 200);
  assert.equal(luarun.render(options, counts), counts);
  assert.equal(counts[100 * 200 + 100], 50); // (-0.5, 0) is in the set: max_iter
  assert.equal(counts[0], 1); // (-1.5, -1) escapes after one step
  const view = new DataView(new ArrayBuffer(5000 + 8), 4, 5000);
  luarun.render({ width: 200 }, view);
  assert.equal(pbmMd5(200, 200, new Uint8Array(view.buffer, 4, 5000)), PBM_200_MD5);
});

test('every numeric option is checked against its C type before C sees it', () => {
  const cases = [
    [{ width: 0 }, RangeError, /width must be an integer in 1 \.\.= 1048576 \(uint32_t\), got 0/],
    [{ height: 2 ** 20 + 1 }, RangeError, /height must be an integer in 1 \.\.= 1048576/],
    [{ max_iter: 0 }, RangeError, /max_iter must be an integer in 1 \.\.= 4294967295/],
    [{ threads: -1 }, RangeError, /threads must be an integer in 0 \.\.= 4294967295 \(uint32_t\); 0 = one per core, got -1/],
    [{ x_offset: 1.5 }, RangeError, /x_offset .* got 1\.5/],
    [{ image_height: '8' }, TypeError, /image_height .* got "8" \(a string\)/],
    [{ x_max: NaN }, RangeError, /x_max must be a finite number, got NaN/],
    [{ y_min: 1n }, TypeError, /y_min must be a finite number, got 1n/],
    [{ colour: 1 }, TypeError, /no render option named 'colour'; known: width, height/],
    [{ struct_size: 4 }, TypeError, /no render option named 'struct_size'/],
    [{ lua_kernel_len: 4 }, TypeError, /no render option named 'lua_kernel_len'/],
  ];
  for (const [options, ErrorType, message] of cases) {
    assert.throws(() => luarun.render(options), { name: ErrorType.name, message }, Object.keys(options)[0]);
    assert.throws(() => luarun.bufferSize(options), { name: ErrorType.name }, Object.keys(options)[0]);
  }
  assert.throws(() => luarun.render([]), { name: 'TypeError', message: /render option must be an object, got an array/ });
  assert.equal(luarun.bufferSize({ width: 64n }), 8 * 64); // BigInts in range are fine
});

test('options of one engine are refused for the other', () => {
  assert.throws(() => luarun.render({ lua_kernel: 'function mandelbrot_row() end' }),
    { name: 'TypeError', message: /lua_kernel applies only to engine: 'lua'/ });
  assert.throws(() => luarun.render({ engine: 'native', lua_kernel: Buffer.from('x') }), TypeError);
});

test('failures C detects throw LuarunError naming what is wrong', () => {
  assert.throws(() => luarun.render({ width: 200 }, Buffer.alloc(100)),
    (e) => e.statusName === 'LUARUN_ERR_BUFFER_TOO_SMALL' && /5000/.test(e.message));
  assert.throws(() => luarun.render({ x_min: 1, x_max: 1 }),
    { name: 'LuarunError', statusName: 'LUARUN_ERR_INVALID_ARGUMENT', message: /empty or inverted/ });
  assert.throws(() => luarun.bufferSize({ x_min: 1, x_max: 0 }), { statusName: 'LUARUN_ERR_INVALID_ARGUMENT', message: /viewport/ });
  assert.throws(() => luarun.render({ engine: 'lua', width: 8, lua_kernel: 'not Lua' }), { statusName: 'LUARUN_ERR_SYNTAX' });
  assert.throws(() => luarun.render({ width: 8, threads: 5000 }), { statusName: 'LUARUN_ERR_INVALID_ARGUMENT', message: /threads is 5000/ });
  assert.throws(() => luarun.render({ width: 2 ** 20, format: 'counts_u32' }),
    { name: 'RangeError', message: /needs 4398046511104 bytes, more than a Buffer holds .*render it in tiles/ });
});

test('renderAsync resolves with the same pixels and reports progress up to the last row', async () => {
  const seen = [];
  const bits = await luarun.renderAsync({ width: 200, engine: 'lua', progress: (done, total) => { seen.push([done, total]); } });
  assert.equal(pbmMd5(200, 200, bits), PBM_200_MD5);
  assert.ok(seen.length > 0);
  assert.deepEqual(seen.at(-1), [200, 200]);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i][0] > seen[i - 1][0], 'rows_done increases');
  const counts = new Uint32Array(64 * 64);
  assert.equal(await luarun.renderAsync({ width: 64, format: 'counts_u32' }, counts), counts);
  assert.equal(counts[32 * 64 + 32], 50);
});

test('progress cancels as in C: a truthy answer stops, nothing or a falsy one continues', async () => {
  for (const answer of [undefined, null, false, 0, '', NaN]) {
    await luarun.renderAsync({ width: 64, progress: () => answer }); // runs to the end
  }
  for (const answer of [true, 1, -1, 'stop', {}]) {
    await assert.rejects(luarun.renderAsync({ width: 64, engine: 'lua', progress: () => answer }),
      { name: 'LuarunError', statusName: 'LUARUN_ERR_CANCELLED', message: /progress cancelled the render at \d+ of 64 rows/ });
  }
});

test('what progress throws, or a Promise it returns, rejects the render', async () => {
  const boom = new Error('stop here');
  await assert.rejects(luarun.renderAsync({ width: 64, progress: () => { throw boom; } }), (e) => e === boom);
  await assert.rejects(luarun.renderAsync({ width: 64, progress: async () => false }),
    { name: 'TypeError', message: /progress returned an object \(Promise\); progress runs synchronously and cannot await/ });
});

test('renderAsync rejects bad input instead of throwing, with the messages of render', async () => {
  await assert.rejects(luarun.renderAsync({ width: '10' }), { name: 'TypeError', message: /width must be an integer/ });
  await assert.rejects(luarun.renderAsync({ width: 200 }, Buffer.alloc(10)),
    { statusName: 'LUARUN_ERR_BUFFER_TOO_SMALL', message: /buffer has 10 bytes, this render needs 5000/ });
  await assert.rejects(luarun.renderAsync({ engine: 'lua', width: 8, lua_kernel: 'function (' }),
    { statusName: 'LUARUN_ERR_SYNTAX', message: /mandelbrot kernel:1:/ });
  await assert.rejects(luarun.renderAsync({ engine: 'lua', width: 8, lua_kernel: 'function mandelbrot_row() error("no") end' }),
    { statusName: 'LUARUN_ERR_RUNTIME', message: /run luarun\.render\(\) with the same options/ });
});

test('releasePools closes the kept Lua states; the next Lua render makes new ones', () => {
  luarun.render({ width: 16, engine: 'lua' });
  luarun.releasePools();
  assert.equal(pbmMd5(200, 200, luarun.render({ width: 200, engine: 'lua' })), PBM_200_MD5);
});

test('a lua_kernel given as a string or a Buffer is the kernel that runs', () => {
  const kernel = require('node:fs').readFileSync(require('node:path').resolve(__dirname, '..', '..', '..', 'crates', 'luarun-render', 'lua', 'mandelbrot.lua'));
  assert.equal(pbmMd5(200, 200, luarun.render({ width: 200, engine: 'lua', lua_kernel: kernel })), PBM_200_MD5);
  assert.equal(pbmMd5(200, 200, luarun.render({ width: 200, engine: 'lua', lua_kernel: kernel.toString() })), PBM_200_MD5);
  const inverted = `${kernel}\nfunction mandelbrot_row(...) error('custom kernel ran') end`;
  assert.throws(() => luarun.render({ width: 8, engine: 'lua', lua_kernel: inverted }), { message: /custom kernel ran/ });
});
