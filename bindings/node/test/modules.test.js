'use strict';
// Lua modules from Node: preloaded sources in sandboxed states, module paths.
const test = require('node:test');
const assert = require('node:assert/strict');
const luarun = require('../luarun');

test('a preloaded module loads with require in a sandboxed state', () => {
  const lua = new luarun.State();
  try {
    lua.preload('greeting', "local name = ... return {hello = function() return 'hi from ' .. name end}");
    assert.equal(lua.eval("require('greeting').hello()"), 'hi from greeting');
    lua.preload('bytes', Buffer.from('return 42'));
    assert.equal(lua.eval("(require('bytes'))"), 42);
    // Compiled when required, as package.preload's loaders are.
    lua.preload('broken', 'return =');
    assert.throws(() => lua.eval("require('broken')"), /broken/);
    assert.throws(() => lua.preload(42, 'return 1'), TypeError);
  } finally {
    lua.close();
  }
});

test('module paths need the package library and say so', () => {
  const safe = new luarun.State();
  try {
    assert.throws(() => safe.setModulePath('/tmp/?.lua'),
      { statusName: 'LUARUN_ERR_INVALID_ARGUMENT', option: 'libraries', library: 'package' });
  } finally {
    safe.close();
  }
  const lua = new luarun.State({ libraries: ['coroutine', 'table', 'string', 'math', 'package'] });
  try {
    lua.setModulePath('/nonexistent/?.lua');
    assert.equal(lua.eval('package.path'), '/nonexistent/?.lua');
  } finally {
    lua.close();
  }
});
