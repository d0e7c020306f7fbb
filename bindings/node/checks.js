'use strict';
// Checked arguments: every value the binding hands to koffi goes through here first.
// koffi aborts the whole process on a value it cannot convert (a string for a
// uint32_t field) and silently wraps or truncates numbers (-1 as 4294967295, 10.5 as
// 10), so nothing reaches it unchecked. Wrong JS types are TypeErrors; values of the
// right type outside what the C parameter takes are RangeErrors; both name the
// parameter, the value and what is allowed.

/** The C integer types the binding passes, with their ranges as BigInts. */
const INTEGER_TYPES = Object.freeze({
  uint32_t: [0n, 2n ** 32n - 1n],
  int64_t: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64_t: [0n, 2n ** 64n - 1n],
  size_t: [0n, 2n ** 64n - 1n],
});

/**
 * `value` as the reader would type it: strings quoted, BigInts with `n`, and its type.
 * @param {*} value
 * @returns {string}
 */
function describe(value) {
  if (typeof value === 'string') return `${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)} (a string)`;
  if (typeof value === 'bigint') return `${value}n (a bigint)`;
  if (typeof value === 'number') return String(Object.is(value, -0) ? '-0' : value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return `an object (${value.constructor ? value.constructor.name : 'no prototype'})`;
  return `${String(value)} (a ${typeof value})`;
}

/**
 * Checks an integer for a C parameter of `type`, within `min ..= max` (default: the
 * type's whole range). Accepts integral numbers and BigInts.
 * @param {string} name the parameter, as the caller wrote it
 * @param {*} value
 * @param {keyof INTEGER_TYPES} type the C type
 * @param {{min?: number|bigint, max?: number|bigint, hint?: string}} [range]
 * @returns {number|bigint} a number when it is a safe integer, else a BigInt
 * @throws {TypeError} not a number or BigInt
 * @throws {RangeError} NaN, infinite, fractional or out of range
 */
function integer(name, value, type, range = {}) {
  const [typeMin, typeMax] = INTEGER_TYPES[type];
  const min = range.min === undefined ? typeMin : BigInt(range.min);
  const max = range.max === undefined ? typeMax : BigInt(range.max);
  const allowed = `an integer in ${min} ..= ${max} (${type})${range.hint ? `; ${range.hint}` : ''}`;
  if (typeof value !== 'number' && typeof value !== 'bigint') {
    throw new TypeError(`luarun: ${name} must be ${allowed}, got ${describe(value)}`);
  }
  if (typeof value === 'number' && !Number.isInteger(value)) {
    throw new RangeError(`luarun: ${name} must be ${allowed}, got ${describe(value)}`);
  }
  const big = BigInt(value);
  if (big < min || big > max) {
    throw new RangeError(`luarun: ${name} must be ${allowed}, got ${describe(value)}`);
  }
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

/**
 * Checks a number for a C `double` that must be finite.
 * @param {string} name
 * @param {*} value
 * @returns {number}
 * @throws {TypeError} not a number
 * @throws {RangeError} NaN or infinite
 */
function finite(name, value) {
  if (typeof value !== 'number') {
    throw new TypeError(`luarun: ${name} must be a finite number, got ${describe(value)}`);
  }
  if (!Number.isFinite(value)) {
    throw new RangeError(`luarun: ${name} must be a finite number, got ${describe(value)}`);
  }
  return value;
}

/**
 * Checks a boolean for a C `bool`.
 * @param {string} name
 * @param {*} value
 * @returns {boolean}
 * @throws {TypeError} anything but true or false
 */
function boolean(name, value) {
  if (typeof value !== 'boolean') {
    throw new TypeError(`luarun: ${name} must be true or false, got ${describe(value)}`);
  }
  return value;
}

/**
 * One of a fixed set of names (or the C number behind one of them).
 * @param {string} name the parameter
 * @param {*} value a name from `choices`, or one of its numbers
 * @param {Record<string, number>} choices names to C constants
 * @param {string} constants where the numbers live, for the message ("luarun.ENGINE")
 * @returns {number} the C constant
 * @throws {TypeError} neither a string nor a number
 * @throws {RangeError} not one of the choices
 */
function choice(name, value, choices, constants) {
  const names = Object.keys(choices).map((choiceName) => `'${choiceName}'`).join(', ');
  const allowed = `one of ${names} (or a ${constants} value)`;
  if (typeof value === 'string' && Object.hasOwn(choices, value)) return choices[value];
  if (typeof value === 'number' && Object.values(choices).includes(value)) return value;
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new TypeError(`luarun: ${name} must be ${allowed}, got ${describe(value)}`);
  }
  throw new RangeError(`luarun: unknown ${name} ${describe(value)}; choose ${allowed}`);
}

/**
 * A NUL-terminated C name (a global, a chunk name): a string without NUL characters,
 * which would otherwise cut the name short and silently name something else.
 * @param {string} name
 * @param {*} value
 * @returns {string}
 * @throws {TypeError} not a string
 * @throws {RangeError} holds a NUL character
 */
function cName(name, value) {
  if (typeof value !== 'string') throw new TypeError(`luarun: ${name} must be a string, got ${describe(value)}`);
  if (value.includes('\0')) {
    throw new RangeError(`luarun: ${name} ${describe(value)} holds a NUL character, which C names cannot`);
  }
  return value;
}

/**
 * Bytes for a (pointer, length) parameter: a string (encoded as UTF-8) or any
 * Buffer, TypedArray, DataView or ArrayBuffer (its memory, not copied).
 * @param {string} name
 * @param {*} value
 * @returns {Buffer}
 * @throws {TypeError} anything else
 */
function bytes(name, value) {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  throw new TypeError(`luarun: ${name} must be a string or a Buffer/Uint8Array, got ${describe(value)}`);
}

/**
 * Memory the library writes into: a Buffer, TypedArray, DataView or ArrayBuffer,
 * as a Uint8Array over the same bytes (no copy).
 * @param {string} name
 * @param {*} value
 * @returns {Uint8Array}
 * @throws {TypeError} anything else
 */
function writableBytes(name, value) {
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new TypeError(`luarun: ${name} must be a Buffer, TypedArray, DataView or ArrayBuffer, got ${describe(value)}`);
}

/**
 * An options object with only the keys in `allowed` (undefined: no options).
 * @param {string} name what the options are for ("render options")
 * @param {*} value
 * @param {readonly string[]} allowed
 * @returns {object}
 * @throws {TypeError} not a plain object, or an unknown key (the message lists the known ones)
 */
function options(name, value, allowed) {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value) || ArrayBuffer.isView(value)) {
    throw new TypeError(`luarun: ${name} must be an object, got ${describe(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new TypeError(`luarun: no ${name} named '${key}'; known: ${allowed.join(', ')}`);
    }
  }
  return value;
}

module.exports = { INTEGER_TYPES, describe, integer, finite, boolean, choice, cName, bytes, writableBytes, options };
