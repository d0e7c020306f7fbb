'use strict';
// Specification of State.setPrint: Lua's print routed to a JS function.
const test = require('node:test');
const assert = require('node:assert/strict');
const luarun = require('../luarun');

test('print goes to the writer, one call per line, without the newline', () => {
  const lua = new luarun.State();
  try {
    const lines = [];
    lua.setPrint((line) => lines.push(line));
    lua.exec("print('hello', 42) print() print('caf\\xc3\\xa9', nil)");
    assert.deepEqual(lines, ['hello\t42', '', 'café\tnil']);
    // A printed table shows what tostring shows: no real address.
    lua.exec('t = {} print(t)');
    assert.equal(lines[3], lua.eval('tostring(t)'));
    assert.match(lines[3], /^table: 0x[0-9a-f]{16}$/);
    // null restores stdout: the writer is not called again.
    lua.setPrint(null);
    lua.exec("print('print.test.js: this line goes to stdout')");
    assert.equal(lines.length, 4);
  } finally {
    lua.close();
  }
});

test('a throwing writer makes print raise a Lua error', () => {
  const lua = new luarun.State();
  try {
    lua.setPrint(() => { throw new Error('no room'); });
    assert.throws(() => lua.exec("print('x')"), luarun.LuarunError);
    assert.equal(lua.eval("pcall(print, 'x') == false"), true);
    assert.throws(() => lua.setPrint(42), TypeError);
  } finally {
    lua.close();
  }
});
