'use strict';
// Conversion between JavaScript values and luarun_value, both ways. Nothing is ever
// dropped silently: what cannot be represented on the other side is an error that
// says what to do instead.
//
// JavaScript -> Lua: null/undefined -> nil, booleans, numbers (safe integers as Lua
// integers, others as floats), BigInts (int64_t range) as integers, strings (UTF-8)
// and Buffers/TypedArrays (raw bytes) as Lua strings, Arrays as sequences (1..n),
// Maps and plain objects as tables (copied). Lua -> JavaScript: nil -> null, booleans,
// integers (a BigInt beyond 2^53), floats, strings (UTF-8, or Buffers when the State
// was made with `strings: 'buffer'`), tables as Map copies (raw contents, nested tables
// as nested Maps). Functions, userdata and coroutines are refused.
const { koffi, c } = require('./ffi');
const C = require('./constants');
const checks = require('./checks');
const { LuarunError, check } = require('./errors');

/** Tables nested deeper than this are refused (a table that contains itself would never end). */
const MAX_DEPTH = 100;

const KIND_NAMES = Object.freeze({
  [C.LUARUN_FUNCTION]: 'function', [C.LUARUN_USERDATA]: 'userdata', [C.LUARUN_THREAD]: 'coroutine',
});

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A luarun_value for `value`, borrowed for one C call. Strings point into Buffers kept
 * in `temps.keep`; tables are created in `state` and listed in `temps.free`, which the
 * caller frees with {@link freeTemps} once the call returned.
 * @param {object} state the koffi handle of the state tables are created in
 * @param {*} value
 * @param {string} where names the value in messages ("argument 2")
 * @param {{keep: Buffer[], free: object[]}} temps
 * @param {Set<object>} [ancestors] objects being converted around this one (cycle check)
 * @returns {object} a luarun_value for koffi
 * @throws {TypeError} a function, symbol, cyclic object or other value Lua cannot hold
 * @throws {RangeError} a BigInt outside int64_t
 */
function toLua(state, value, where, temps, ancestors = new Set()) {
  if (value === null || value === undefined) return { kind: C.LUARUN_NIL };
  switch (typeof value) {
    case 'boolean': return { kind: C.LUARUN_BOOLEAN, boolean: value };
    case 'bigint': {
      const integer = checks.integer(where, value, 'int64_t', { hint: 'Lua integers are 64-bit' });
      return { kind: C.LUARUN_INTEGER, integer, number: Number(integer) };
    }
    case 'number':
      // -0 stays a float: as a Lua integer it would lose its sign.
      return Number.isSafeInteger(value) && !Object.is(value, -0)
        ? { kind: C.LUARUN_INTEGER, integer: value, number: value }
        : { kind: C.LUARUN_NUMBER, number: value };
    case 'string': {
      const data = Buffer.from(value, 'utf8');
      temps.keep.push(data);
      return { kind: C.LUARUN_STRING, string: data, string_len: data.length };
    }
    case 'object':
      if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
        const data = checks.bytes(where, value);
        temps.keep.push(data);
        return { kind: C.LUARUN_STRING, string: data, string_len: data.length };
      }
      return tableToLua(state, value, where, temps, ancestors);
    default:
      throw new TypeError(`luarun: ${where} is ${checks.describe(value)}, which Lua cannot hold; ` +
                          'pass nil, a boolean, number, bigint, string, Buffer, Array, Map or plain object');
  }
}

/** A table key as it reads in a path: ["name"], [2], [true]. */
function keyText(key) {
  if (typeof key === 'string') return JSON.stringify(key.length > 40 ? `${key.slice(0, 37)}...` : key);
  if (typeof key === 'number' || typeof key === 'boolean') return String(key);
  if (typeof key === 'bigint') return `${key}n`;
  return checks.describe(key);
}

/** The entries of an Array (1-based), Map or plain object, or null for other objects. */
function entriesOf(value) {
  if (Array.isArray(value)) return Array.from(value, (item, index) => [index + 1, item]); // holes: nil
  if (value instanceof Map) return [...value.entries()];
  const prototype = Object.getPrototypeOf(value);
  if (prototype === Object.prototype || prototype === null) return Object.entries(value);
  return null;
}

function tableToLua(state, value, where, temps, ancestors) {
  const entries = entriesOf(value);
  if (entries === null) {
    throw new TypeError(`luarun: ${where} is ${checks.describe(value)}; only Arrays, Maps and plain objects ` +
                        'become Lua tables');
  }
  if (ancestors.has(value)) {
    throw new TypeError(`luarun: ${where} contains itself; Lua tables are copied from JavaScript, so pass data without cycles`);
  }
  ancestors.add(value);
  try {
    const table = {};
    const sequence = Array.isArray(value) ? entries.length : 0;
    check(c.table_new(state, sequence, entries.length - sequence, table));
    temps.free.push(table);
    for (const [key, item] of entries) {
      const keyName = `${where}[${keyText(key)}]`;
      if (key === null || key === undefined || Number.isNaN(key)) {
        throw new TypeError(`luarun: ${keyName}: a Lua table key cannot be nil or NaN`);
      }
      const cKey = toLua(state, key, `the key ${keyName}`, temps, ancestors);
      const cItem = toLua(state, item, keyName, temps, ancestors);
      check(c.table_set(table, cKey, cItem));
    }
    return table;
  } finally {
    ancestors.delete(value);
  }
}

/**
 * Releases what {@link toLua} created for one call.
 * @param {{keep: Buffer[], free: object[]}} temps
 */
function freeTemps(temps) {
  for (const value of temps.free) c.value_free(value);
  temps.free.length = 0;
  temps.keep.length = 0;
}

/**
 * Converts a luarun_value that luarun wrote to JavaScript, without freeing it.
 * @param {object} value a decoded luarun_value
 * @param {{strings: 'string'|'buffer'}} settings the State's conversion settings
 * @param {string} where names the value in messages ("result 1")
 * @param {number} [depth] how many tables enclose it
 * @returns {*}
 * @throws {LuarunError} LUARUN_ERR_TYPE for functions, userdata, coroutines, strings
 *   that are not UTF-8 (with `strings: 'string'`) and tables nested too deep
 */
function fromLua(value, settings, where, depth = 0) {
  switch (value.kind) {
    case C.LUARUN_NIL: return null;
    case C.LUARUN_BOOLEAN: return value.boolean;
    case C.LUARUN_INTEGER: return value.integer;
    case C.LUARUN_NUMBER: return value.number;
    case C.LUARUN_STRING: return stringFromLua(value, settings, where);
    case C.LUARUN_TABLE: return tableFromLua(value, settings, where, depth);
    default: {
      const kind = KIND_NAMES[value.kind] || c.type_name(value.kind);
      throw new LuarunError(C.LUARUN_ERR_TYPE,
        `luarun: ${where} is a Lua ${kind}, which the Node binding does not hand out; ` +
        'return plain data (nil, booleans, numbers, strings, tables) instead');
    }
  }
}

function stringFromLua(value, settings, where) {
  const view = value.string_len === 0 ? Buffer.alloc(0) : Buffer.from(koffi.view(value.string, value.string_len));
  if (settings.strings === 'buffer') return Buffer.from(view); // a copy: the Lua string is freed
  try {
    return utf8.decode(view);
  } catch {
    throw new LuarunError(C.LUARUN_ERR_TYPE,
      `luarun: ${where} is a Lua string of ${view.length} bytes that is not valid UTF-8; ` +
      "create the State with { strings: 'buffer' } to receive Lua strings as Buffers");
  }
}

function tableFromLua(table, settings, where, depth) {
  if (depth >= MAX_DEPTH) {
    throw new LuarunError(C.LUARUN_ERR_TYPE,
      `luarun: a result nests tables more than ${MAX_DEPTH} deep (does a table contain itself?); ` +
      'tables are copied into Maps, so return data without cycles');
  }
  const map = new Map();
  let key = { kind: C.LUARUN_NIL };
  try {
    for (;;) {
      const next = {};
      const item = {};
      check(c.table_next(table, key, next, item));
      c.value_free(key);
      key = next;
      if (next.kind === C.LUARUN_NIL) {
        c.value_free(item);
        return map;
      }
      let jsKey;
      try {
        jsKey = fromLua(next, settings, `a key in ${where}`, depth + 1);
      } catch (error) {
        c.value_free(item);
        throw error;
      }
      map.set(jsKey, takeLua(item, settings, `${where}[${keyText(jsKey)}]`, depth + 1));
    }
  } finally {
    c.value_free(key);
  }
}

/**
 * {@link fromLua}, then frees the value (also when the conversion fails).
 * @param {object} value an owned luarun_value
 * @param {{strings: 'string'|'buffer'}} settings
 * @param {string} where
 * @param {number} [depth]
 * @returns {*}
 */
function takeLua(value, settings, where, depth = 0) {
  try {
    return fromLua(value, settings, where, depth);
  } finally {
    c.value_free(value);
  }
}

module.exports = { MAX_DEPTH, toLua, freeTemps, fromLua, takeLua };
