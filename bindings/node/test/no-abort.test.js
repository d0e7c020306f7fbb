'use strict';
// Inputs that used to kill or hang the whole process: koffi aborts with SIGABRT and no
// message on a value it cannot convert, a non-string name crashed, and a progress
// callback on a synchronous render (or a render started from a progress callback)
// deadlocked. Each runs in a child `node`, so a regression fails this test with the
// child's signal instead of killing the test runner; the child must exit normally and
// report the error the binding threw.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const LUARUN = path.resolve(__dirname, '..', 'luarun.js');

/** Runs (and awaits) `expression` in a child node process, which prints what it threw as JSON. */
function throwInChild(expression) {
  const program = `
    const luarun = require(${JSON.stringify(LUARUN)});
    const { render, bufferSize } = luarun;
    const state = new luarun.State();
    (async () => {
      try {
        const result = await (${expression});
        console.log(JSON.stringify({ threw: false, result: String(result) }));
      } catch (error) {
        console.log(JSON.stringify({ threw: true, name: error.name, statusName: error.statusName, message: error.message }));
      }
    })();`;
  // The timeout only ends a child that hangs (a deadlock) instead of the whole run.
  const child = spawnSync(process.execPath, ['-e', program], { encoding: 'utf8', timeout: 120_000 });
  return child;
}

const CASES = [
  ["render({ width: '10' })", TypeError, /width must be an integer in 1 \.\.= 1048576 \(uint32_t\), got "10" \(a string\)/],
  ["bufferSize({ width: '10' })", TypeError, /width must be an integer .* got "10"/],
  ["render({ width: 10, engine: 'lua', lua_kernel: 7 })", TypeError, /lua_kernel must be a string or a Buffer/],
  ["render({ format: 'rgb' })", RangeError, /unknown format "rgb" .*choose one of 'bits', 'counts_u32', 'rgb8', 'counts_u16', 'counts_u8'/],
  ["render({ engine: 'luajit' })", RangeError, /unknown engine "luajit" .*'native', 'lua'/],
  ['render({ width: -1 })', RangeError, /width must be an integer in 1 \.\.= 1048576 \(uint32_t\), got -1/],
  ['render({ width: 10.5 })', RangeError, /width must be an integer .* got 10\.5/],
  ['render({ width: 2 ** 32 })', RangeError, /got 4294967296/],
  ['render({ width: 2 ** 40 })', RangeError, /width must be an integer in 1 \.\.= 1048576 \(uint32_t\), got 1099511627776/],
  ['render({ width: NaN })', RangeError, /width must be an integer .* got NaN/],
  ["render({ height: '10' })", TypeError, /height must be an integer .* got "10" \(a string\)/],
  ['bufferSize({ width: -1 })', RangeError, /width must be an integer in 1 \.\.= 1048576 \(uint32_t\), got -1/],
  ['bufferSize({ width: 10.5 })', RangeError, /width must be an integer .* got 10\.5/],
  ['bufferSize({ width: 2 ** 40 })', RangeError, /got 1099511627776/],
  ['bufferSize({ width: NaN })', RangeError, /got NaN/],
  ["bufferSize({ format: 'rgb' })", RangeError, /unknown format "rgb"/],
  ["bufferSize({ engine: 'LUA' })", RangeError, /unknown engine "LUA"/],
  ['luarun.renderAsync({ width: NaN })', RangeError, /width must be an integer .* got NaN/],
  ['render(null)', TypeError, /render option must be an object, got null/],
  ['luarun.mandelbrotParams({ width: 10n ** 30n })', RangeError, /width must be an integer in 1 \.\.= 1048576/],
  ['render({ max_iter: true })', TypeError, /max_iter must be an integer .* got true \(a boolean\)/],
  ['render({ threads: NaN })', RangeError, /threads must be an integer .* got NaN/],
  ["render({ x_min: '0' })", TypeError, /x_min must be a finite number, got "0"/],
  ['render({ y_max: Infinity })', RangeError, /y_max must be a finite number, got Infinity/],
  ['render({ image_width: 5n ** 20n })', RangeError, /image_width must be an integer in 0 \.\.= 4294967295/],
  ["render({ lua_kernel: 'x' })", TypeError, /lua_kernel applies only to engine: 'lua'/],
  ['render({ width: 64, progress: () => 0 })', TypeError, /progress needs luarun\.renderAsync\(\)/],
  ['render({ progress: 5 })', TypeError, /progress must be a function/],
  ["render({ progress_user_data: 1 })", TypeError, /no render option named 'progress_user_data'/],
  ['render({ width: 8 }, 42)', TypeError, /buffer must be a Buffer, TypedArray, DataView or ArrayBuffer, got 42/],
  ['state.call(5)', TypeError, /name must be a string, got 5/],
  ["state.call('print\\0x')", RangeError, /holds a NUL character/],
  ['state.exec(5)', TypeError, /code must be a string or a Buffer/],
  ['state.eval(42)', TypeError, /expression must be a string or a Buffer/],
  ["state.setMemoryLimit('1')", TypeError, /bytes must be an integer in 0 \.\.= 18446744073709551615 \(uint64_t\)/],
  ['state.setMemoryLimit(-1)', RangeError, /bytes must be an integer/],
  ['state.gc({})', TypeError, /gc operation must be one of collect, stop, restart/],
  ['state.setPrint(5)', TypeError, /setPrint takes a function or null/],
  ['new luarun.State(null)', TypeError, /State option must be an object, got null/],
  ["state.call('print', 2n ** 64n)", RangeError, /argument 1 must be an integer in -9223372036854775808 \.\.= 9223372036854775807/],
  ["state.call('print', () => 1)", TypeError, /argument 1 is a function, which Lua cannot hold/],
  ["new luarun.State({ memoryLimit: '1MB' })", TypeError, /memoryLimit must be an integer in 0 \.\.= 18446744073709551615 \(uint64_t\)/],
  ['new luarun.State({ timeLimitMs: -5 })', RangeError, /timeLimitMs must be an integer in 0 \.\./],
  ['new luarun.State({ instructionLimit: 1.5 })', RangeError, /instructionLimit must be an integer/],
  ["new luarun.State({ allowBytecode: 'yes' })", TypeError, /allowBytecode must be true or false/],
  ["new luarun.State({ libraries: 'os' })", TypeError, /libraries must be an integer .*an array of names/],
  ["luarun.renderAsync({ width: 64, engine: 'lua', threads: 1, progress: () => render({ width: 8, threads: 1 }) })",
    Error, /render was called from a progress callback, which must not render/],
  ["luarun.renderAsync({ width: 64, threads: 1, progress: () => luarun.renderAsync({ width: 8 }) })",
    Error, /renderAsync was called from a progress callback/],
];

for (const [expression, ErrorType, message] of CASES) {
  test(`${expression} throws ${ErrorType.name} in a process that keeps running`, () => {
    const child = throwInChild(expression);
    assert.equal(child.signal, null, `the child died of ${child.signal}: ${child.stderr}`);
    assert.equal(child.status, 0, child.stderr);
    const outcome = JSON.parse(child.stdout);
    assert.equal(outcome.threw, true, `no error; the result was ${outcome.result}`);
    assert.equal(outcome.name, ErrorType.name, outcome.message);
    assert.match(outcome.message, message);
  });
}

const RESULTS = [
  // A table is one value (a Map copy), several results are an Array, as Python's tuple.
  ["JSON.stringify([...state.eval('{1, 2, 3}')])", '[[1,1],[2,2],[3,3]]'],
  ["JSON.stringify(state.eval('1, 2'))", '[1,2]'],
  ["state.eval('{1, 2, 3}') instanceof Map && state.eval('{1, 2, 3}').size", '3'],
  ["JSON.stringify(state.eval('nil'))", 'null'],
];

for (const [expression, expected] of RESULTS) {
  test(`${expression} is ${expected}`, () => {
    const child = throwInChild(expression);
    assert.equal(child.signal, null, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout), { threw: false, result: expected });
  });
}

test('a render the old binding aborted on now renders: { width: 10, engine: "lua" } is 10 x 10', () => {
  const child = throwInChild("render({ width: 10, engine: 'lua' }).length");
  assert.equal(child.signal, null, child.stderr);
  assert.deepEqual(JSON.parse(child.stdout), { threw: false, result: '20' }); // 2 bytes per row, 10 rows
});
