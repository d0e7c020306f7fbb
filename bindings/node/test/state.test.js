'use strict';
// Specification of the Node.js binding's Lua states, through include/luarun.h alone.
const test = require('node:test');
const assert = require('node:assert/strict');
const luarun = require('../luarun');

// LUARUN_LIBRARY picks the flavor; LuaJIT is Lua 5.1 with its own number model.
const LUAJIT = luarun.luaVersion().startsWith('LuaJIT');

function withState(body, options = undefined) {
  const state = new luarun.State(options);
  try {
    return body(state);
  } finally {
    state.close();
  }
}

test('the library loads and reports its versions', () => {
  assert.equal(luarun.abiVersion(), 1);
  assert.match(luarun.version(), /^\d+\.\d+\.\d+/);
  assert.match(luarun.luaVersion(), /^(Lua 5\.4|LuaJIT)/);
});

test('eval returns numbers, booleans, nil and strings', () => withState((lua) => {
  lua.exec('x = 40 + 2');
  assert.equal(lua.eval('x'), 42);
  assert.equal(lua.eval('x / 8'), 5.25);
  assert.equal(lua.eval('x > 1'), true);
  assert.equal(lua.eval('nil'), null);
  assert.equal(lua.eval("'hello from ' .. _VERSION"), `hello from ${LUAJIT ? 'Lua 5.1' : 'Lua 5.4'}`);
  if (!LUAJIT) assert.equal(lua.eval('math.maxinteger'), 2n ** 63n - 1n); // beyond 2^53: a BigInt, exact
  assert.equal(lua.call('tostring', 2n ** 62n), LUAJIT ? '4.6116860184274e+18' : '4611686018427387904');
}));

test('several results come back as an Array, none as null', () => withState((lua) => {
  assert.deepEqual(lua.eval('1, 2'), [1, 2]);
  assert.deepEqual(lua.eval("1, nil, 'three'"), [1, null, 'three']);
  assert.equal(lua.eval('(function() end)()'), null);
  assert.deepEqual(lua.exec('return true, 2.5'), [true, 2.5]);
  assert.equal(lua.exec('y = 1'), null);
  lua.exec('function pair(a) return a, a * 2 end');
  assert.deepEqual(lua.call('pair', 21), [21, 42]);
  assert.throws(() => lua.eval('(table.unpack or unpack)((function() local t = {} for i = 1, 300 do t[i] = i end return t end)())'),
    { name: 'RangeError', message: /Lua returned 300 values; Node receives at most 256: return a table instead/ });
}));

test('tables come back as Map copies, nested tables as nested Maps', () => withState((lua) => {
  assert.deepEqual(lua.eval('{1, 2, 3}'), new Map([[1, 1], [2, 2], [3, 3]]));
  const mixed = lua.eval("{ name = 'x', list = { 10 }, [true] = 1.5, [2.5] = false }");
  assert.equal(mixed.get('name'), 'x');
  assert.deepEqual(mixed.get('list'), new Map([[1, 10]]));
  assert.equal(mixed.get(true), 1.5);
  assert.equal(mixed.get(2.5), false);
  assert.deepEqual(lua.eval('{}, {7}'), [new Map(), new Map([[1, 7]])]);
}));

test('values JavaScript cannot hold are refused, naming where they are', () => withState((lua) => {
  assert.throws(() => lua.eval('print'), { name: 'LuarunError', statusName: 'LUARUN_ERR_TYPE', message: /result 1 is a Lua function/ });
  assert.throws(() => lua.eval("1, { a = { coroutine.create(print) } }"),
    { statusName: 'LUARUN_ERR_TYPE', message: /result 2\["a"\]\[1\] is a Lua coroutine/ });
  lua.exec('loop = {} loop.self = loop');
  assert.throws(() => lua.eval('loop'), { statusName: 'LUARUN_ERR_TYPE', message: /more than 100 deep \(does a table contain itself\?\)/ });
  assert.throws(() => lua.eval("'\\255'"), { statusName: 'LUARUN_ERR_TYPE', message: /not valid UTF-8; create the State with \{ strings: 'buffer' \}/ });
  assert.equal(lua.eval('1 + 1'), 2); // the state is fine afterwards
}));

test("strings: 'buffer' hands out Lua strings as Buffers, bytes intact", () => withState((lua) => {
  assert.deepEqual(lua.eval("'\\255\\0a'"), Buffer.from([255, 0, 97]));
  const [[key, value]] = lua.eval("{ k = 'v' }");
  assert.deepEqual([key, value], [Buffer.from('k'), Buffer.from('v')]);
}, { strings: 'buffer' }));

test('strings keep NUL bytes and UTF-8 both ways', () => withState((lua) => {
  assert.equal(lua.eval("'a\\0b'"), 'a\0b');
  lua.exec('function echo(s) return s end');
  assert.equal(lua.call('echo', 'grüße\0ok'), 'grüße\0ok');
  assert.equal(lua.call('echo', ''), '');
  assert.equal(lua.call('echo', Buffer.from([0x68, 0x69])), 'hi'); // Buffers go in as bytes
}));

test('call converts JavaScript arguments, tables included', () => withState((lua) => {
  lua.exec('function describe(...) local t = {} for i = 1, select("#", ...) do ' +
           't[i] = math.type and math.type(select(i, ...)) or type(select(i, ...)) end return table.concat(t, ",") end');
  // LuaJIT has one number type (and no math.type): integers and floats are both numbers.
  const expected = LUAJIT ? 'number,number,boolean,string,nil,number,number,table,table'
    : 'integer,float,boolean,string,nil,integer,float,table,table';
  assert.equal(lua.call('describe', 1, 1.5, true, 'x', null, 7n, -0, [1], {}), expected);
  assert.equal(lua.call('describe'), '');
  lua.exec('function sum(t) local s = 0 for _, v in ipairs(t) do s = s + v end return s end');
  assert.equal(lua.call('sum', [1, 2, 3, 4]), 10);
  lua.exec('function holes(t) return t[1], t[2], t[3], t[4] end');
  assert.deepEqual(lua.call('holes', [, 1, , 2]), [null, 1, null, 2]); // holes are nil
  lua.exec('function get(t, k) return t[k] end');
  assert.equal(lua.call('get', { nested: { deep: 'yes' } }, 'nested').get('deep'), 'yes');
  assert.equal(lua.call('get', new Map([[2, 'two']]), 2), 'two');
  assert.equal(lua.call('get', [{ a: [5] }], 1).get('a').get(1), 5); // round trip
}));

test('arguments Lua cannot hold are refused before the call', () => withState((lua) => {
  lua.exec('calls = 0 function count() calls = calls + 1 end');
  const cycle = [];
  cycle.push(cycle);
  const refused = [
    [[() => 1], TypeError, /argument 1 is a function, which Lua cannot hold/],
    [[1, Symbol('s')], TypeError, /argument 2 is Symbol\(s\)/],
    [[new Date(0)], TypeError, /argument 1 is an object \(Date\); only Arrays, Maps and plain objects/],
    [[cycle], TypeError, /argument 1\[1\] contains itself/],
    [[2n ** 63n], RangeError, /argument 1 must be an integer in -9223372036854775808 \.\.= 9223372036854775807 \(int64_t\)/],
    [[new Map([[null, 1]])], TypeError, /a Lua table key cannot be nil or NaN/],
    [[{ a: { b: () => 1 } }], TypeError, /argument 1\["a"\]\["b"\] is a function/],
  ];
  for (const [args, ErrorType, message] of refused) assert.throws(() => lua.call('count', ...args), { name: ErrorType.name, message });
  assert.equal(lua.eval('calls'), 0);
}));

test('failures throw LuarunError with the status and Lua message', () => withState((lua) => {
  assert.throws(() => lua.exec('x = = 1'), { name: 'LuarunError', statusName: 'LUARUN_ERR_SYNTAX', status: luarun.STATUS.ERR_SYNTAX });
  assert.throws(() => lua.exec("error('boom')"), (e) => e.statusName === 'LUARUN_ERR_RUNTIME' && /boom/.test(e.message));
  assert.throws(() => lua.call('missing'), { statusName: 'LUARUN_ERR_TYPE' });
  assert.throws(() => lua.eval('os.exit()'), { statusName: 'LUARUN_ERR_RUNTIME' }); // no os by default
  assert.throws(() => lua.eval('1 +'), { message: /\[string "1 \+"\]:1:/ }); // named as luarun_eval names it
  assert.throws(() => lua.exec('error("x")', '@config.lua'), { message: /^config\.lua:1: x/ });
}));

test('names and code are checked', () => withState((lua) => {
  assert.throws(() => lua.call(42), { name: 'TypeError', message: /name must be a string, got 42/ });
  assert.throws(() => lua.call('print\0x'), { name: 'RangeError', message: /holds a NUL character/ });
  assert.throws(() => lua.exec(null), { name: 'TypeError', message: /code must be a string or a Buffer\/Uint8Array, got null/ });
  assert.throws(() => lua.eval({}), { name: 'TypeError', message: /expression must be a string/ });
  assert.throws(() => lua.exec('x = 1', 7), { name: 'TypeError', message: /name must be a string/ });
}));

test('an interrupt stops the next call and the state stays usable', () => {
  // A LuaJIT state without limits runs compiled loops, which cannot be interrupted.
  if (LUAJIT) withState((lua) => assert.throws(() => lua.interrupt(), { statusName: 'LUARUN_ERR_UNSUPPORTED' }));
  withState((lua) => {
    lua.interrupt();
    assert.throws(() => lua.exec('while true do end'), { statusName: 'LUARUN_ERR_INTERRUPTED' });
    assert.equal(lua.eval('1 + 1'), 2);
  }, LUAJIT ? { timeLimitMs: 60_000 } : undefined);
});

test('limits from the options stop runaway code and the state stays usable', () => {
  withState((lua) => {
    assert.throws(() => lua.exec('while true do end'), { statusName: 'LUARUN_ERR_INTERRUPTED', message: /instruction limit/ });
    assert.equal(lua.eval('1 + 1'), 2);
  }, { instructionLimit: 100_000 });
  withState((lua) => {
    assert.throws(() => lua.exec('while true do end'), { statusName: 'LUARUN_ERR_INTERRUPTED' });
  }, { timeLimitMs: 50n });
  withState((lua) => {
    assert.throws(() => lua.exec("local t = {} for i = 1, 1e8 do t[i] = ('x'):rep(64) .. i end"),
      { statusName: 'LUARUN_ERR_MEMORY', message: /memory limit of 4194304 bytes/ });
    assert.ok(lua.memoryUsed() > 0);
    assert.equal(lua.eval('2 + 2'), 4);
  }, { memoryLimit: 4 << 20 });
});

test('libraries and the other options reach the state', () => {
  withState((lua) => assert.equal(lua.eval('type(os)'), 'table'), { libraries: ['os'] });
  withState((lua) => assert.equal(lua.eval('type(string)'), 'nil'), { libraries: [] });
  withState((lua) => assert.deepEqual(lua.eval('type(io), type(math)'), ['table', 'table']), { libraries: luarun.LIB.io | luarun.LIB.math });
  withState((lua) => assert.equal(lua.eval('type(string.dump)'), 'function'), { allowBytecode: true });
});

test('State options are checked against their C types', () => {
  const refused = [
    [{ memoryLimit: -1 }, RangeError, /memoryLimit must be an integer in 0 \.\.= 18446744073709551615 \(uint64_t\); bytes the state may hold, 0 = unlimited, got -1/],
    [{ memoryLimit: 2n ** 64n }, RangeError, /memoryLimit/],
    [{ instructionLimit: '1000' }, TypeError, /instructionLimit .* got "1000" \(a string\)/],
    [{ timeLimitMs: Infinity }, RangeError, /timeLimitMs .* got Infinity/],
    [{ allowFinalizers: 1 }, TypeError, /allowFinalizers must be true or false, got 1/],
    [{ libraries: ['os', 'sockets'] }, RangeError, /unknown libraries\[1\] "sockets" \(a string\); choose one of 'coroutine', 'table'/],
    [{ libraries: 1 << 12 }, RangeError, /libraries has bits 0x1000 that name no library/],
    [{ strings: 'latin1' }, RangeError, /strings must be 'string' or 'buffer', got "latin1"/],
    [{ timeout: 1 }, TypeError, /no State option named 'timeout'; known: libraries, memoryLimit/],
    ['fast', TypeError, /State option must be an object, got "fast"/],
  ];
  for (const [options, ErrorType, message] of refused) {
    assert.throws(() => new luarun.State(options), { name: ErrorType.name, message });
  }
});

test('a closed State refuses calls with a message; close twice is fine', () => {
  const lua = new luarun.State();
  lua.close();
  lua.close();
  assert.equal(lua.closed, true);
  for (const use of [() => lua.eval('1'), () => lua.exec(''), () => lua.call('print'), () => lua.interrupt(), () => lua.memoryUsed()]) {
    assert.throws(use, { message: /this State is closed; create a new luarun\.State\(\)/ });
  }
});

test('conversions free every Lua value they take, on success and on error', () => withState((lua) => {
  lua.exec('function id(...) return ... end');
  const settle = () => { lua.exec('collectgarbage() collectgarbage()'); return lua.memoryUsed(); };
  const round = () => {
    lua.eval("{ 1, 'two', { three = 3 } }, 'x'");
    lua.call('id', [1, 2, { a: 'b' }], new Map([['k', [3]]]));
    assert.throws(() => lua.eval("{ 1, { print } }, {}, 'rest'"), { statusName: 'LUARUN_ERR_TYPE' });
    assert.throws(() => lua.call('id', [1, { f: () => 1 }]), TypeError);
  };
  round();
  const before = settle();
  for (let i = 0; i < 2000; i++) round();
  // A leaked handle keeps its table alive: 2000 rounds of them would be hundreds of KB.
  assert.ok(settle() - before < 32 * 1024, `Lua memory grew from ${before} to ${lua.memoryUsed()} bytes`);
}));

test('the memory limit can be read, set and lifted; gc runs its operations', () => withState((lua) => {
  assert.equal(lua.memoryLimit(), 0);
  lua.setMemoryLimit(lua.memoryUsed() + 200000);
  assert.throws(() => lua.exec('local t = {} for i = 1, 1e7 do t[i] = i end'), /memory/);
  lua.gc();
  lua.setMemoryLimit(0);
  assert.equal(lua.memoryLimit(), 0);
  lua.exec('local t = {} for i = 1, 1e6 do t[i] = i end');
  assert.throws(() => lua.setMemoryLimit(1), /holds now/);
  assert.throws(() => lua.setMemoryLimit(-1), RangeError);
  lua.gc('stop');
  lua.gc('restart');
  assert.throws(() => lua.gc('sweep'), /collect, stop, restart/);
  assert.throws(() => lua.gc(1), TypeError);
}));
