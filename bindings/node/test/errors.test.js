'use strict';
// A LuarunError says why a call was stopped and which StateOptions key is involved,
// from the C API's structured detail (never from the message text).
const test = require('node:test');
const assert = require('node:assert/strict');
const luarun = require('../luarun');

function thrown(options, code) {
  const state = new luarun.State(options);
  try {
    state.exec(code);
  } catch (error) {
    return error;
  } finally {
    state.close();
  }
  assert.fail(`${code} did not throw`);
}

test('limits name their stop and their option', () => {
  const timed = thrown({ timeLimitMs: 20 }, 'while true do end');
  assert.equal(timed.statusName, 'LUARUN_ERR_INTERRUPTED');
  assert.equal(timed.stop, 'timeLimit');
  assert.equal(timed.option, 'timeLimitMs');
  const counted = thrown({ instructionLimit: 100000 }, 'while true do end');
  assert.equal(counted.stop, 'instructionLimit');
  assert.equal(counted.option, 'instructionLimit');
});

test('a library the sandbox left out is named', () => {
  const missing = thrown(undefined, 'return os.time()');
  assert.equal(missing.stop, null);
  assert.equal(missing.option, 'libraries');
  assert.equal(missing.library, 'os');
  const plain = thrown(undefined, "error('plain')");
  assert.deepEqual([plain.stop, plain.option, plain.library], [null, null, null]);
});

test('the memory limit is named', () => {
  const full = thrown({ memoryLimit: 4 << 20 }, 'local t = {} for i = 1, 1e8 do t[i] = i end');
  assert.equal(full.statusName, 'LUARUN_ERR_MEMORY');
  assert.equal(full.option, 'memoryLimit');
});
