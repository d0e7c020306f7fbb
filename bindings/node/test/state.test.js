'use strict';
// Specification of the Node.js binding's Lua states, through include/luarun.h alone.
const test = require('node:test');
const assert = require('node:assert/strict');
const luarun = require('../luarun');

function withState(body) {
  const state = new luarun.State();
  try {
    return body(state);
  } finally {
    state.close();
  }
}

test('the library loads and reports its ABI version', () => {
  assert.equal(luarun.abiVersion(), 1);
  assert.match(luarun.version(), /^\d+\.\d+\.\d+/);
});

test('eval returns numbers, booleans, nil and strings', () => withState((lua) => {
  lua.exec('x = 40 + 2');
  assert.equal(lua.eval('x'), 42);
  assert.equal(lua.eval('x / 8'), 5.25);
  assert.equal(lua.eval('x > 1'), true);
  assert.equal(lua.eval('nil'), null);
  assert.equal(lua.eval("'hello from ' .. _VERSION"), 'hello from Lua 5.4');
}));

test('strings keep NUL bytes and UTF-8 both ways', () => withState((lua) => {
  assert.equal(lua.eval("'a\\0b'"), 'a\0b');
  lua.exec('function echo(s) return s end');
  assert.equal(lua.call('echo', 'grüße\0ok'), 'grüße\0ok');
  assert.equal(lua.call('echo', ''), '');
}));

test('call converts JavaScript arguments', () => withState((lua) => {
  lua.exec('function describe(...) local t = {} for i = 1, select("#", ...) do ' +
           't[i] = math.type(select(i, ...)) or type(select(i, ...)) end return table.concat(t, ",") end');
  assert.equal(lua.call('describe', 1, 1.5, true, 'x', null, 7n), 'integer,float,boolean,string,nil,integer');
  assert.equal(lua.call('describe'), '');
}));

test('failures throw LuarunError with the status and Lua message', () => withState((lua) => {
  assert.throws(() => lua.exec('x = = 1'), { name: 'LuarunError', statusName: 'LUARUN_ERR_SYNTAX', status: 1 });
  assert.throws(() => lua.exec("error('boom')"), (e) => e.statusName === 'LUARUN_ERR_RUNTIME' && /boom/.test(e.message));
  assert.throws(() => lua.call('missing'), { statusName: 'LUARUN_ERR_TYPE' });
  assert.throws(() => lua.eval('os.exit()'), { statusName: 'LUARUN_ERR_RUNTIME' }); // no os by default
}));

test('an interrupt stops the next call and the state stays usable', () => withState((lua) => {
  lua.interrupt();
  assert.throws(() => lua.exec('while true do end'), { statusName: 'LUARUN_ERR_INTERRUPTED' });
  assert.equal(lua.eval('1 + 1'), 2);
}));
