'use strict';
// A small Node.js binding for luarun over its C API (see ffi.js for the declarations).
const { koffi, c, luarun_print_callback } = require('./ffi');

const LUARUN_OK = 0;
const KIND = { NIL: 0, BOOLEAN: 1, INTEGER: 2, NUMBER: 3, STRING: 4 };

/** A failed luarun call: `status` is the LUARUN_ERR_* number, `statusName` its name. */
class LuarunError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'LuarunError';
    this.status = status;
    this.statusName = c.status_name(status);
  }
}

function check(status) {
  // luarun_last_error is per thread: read it right after the failing call, on this thread.
  if (status !== LUARUN_OK) throw new LuarunError(status, c.last_error());
}

/** A borrowed C value for one argument; strings point into a Buffer the caller keeps. */
function toC(value, keepAlive) {
  if (value === null || value === undefined) return { kind: KIND.NIL };
  switch (typeof value) {
    case 'boolean': return { kind: KIND.BOOLEAN, boolean: value };
    case 'bigint': return { kind: KIND.INTEGER, integer: value, number: Number(value) };
    case 'number':
      return Number.isSafeInteger(value) ? { kind: KIND.INTEGER, integer: value, number: value }
                                         : { kind: KIND.NUMBER, number: value };
    case 'string': {
      const bytes = Buffer.from(value, 'utf8');
      keepAlive.push(bytes);
      return { kind: KIND.STRING, string: bytes, string_len: bytes.length };
    }
    default: throw new TypeError(`luarun: cannot pass a ${typeof value} to Lua`);
  }
}

/** Converts an owned C value to JS (strings decoded as UTF-8) and frees it. */
function fromC(value) {
  try {
    switch (value.kind) {
      case KIND.NIL: return null;
      case KIND.BOOLEAN: return value.boolean;
      case KIND.INTEGER: return value.integer;
      case KIND.NUMBER: return value.number;
      case KIND.STRING:
        if (value.string_len === 0) return '';
        return Buffer.from(koffi.view(value.string, value.string_len)).toString('utf8');
      default: throw new LuarunError(7, `luarun: this binding does not hand out ${c.type_name(value.kind)} values`);
    }
  } finally {
    c.value_free(value);
  }
}

/** A Lua state (safe defaults). Call close() when done. */
class State {
  constructor() {
    const out = [null];
    check(c.state_new(null, out));
    this.handle = out[0];
  }

  /** Runs Lua code. */
  exec(code) {
    check(c.exec(this.handle, code, Buffer.byteLength(code)));
  }

  /** The first value of a Lua expression: null, boolean, number, string. */
  eval(expression) {
    const out = {};
    check(c.eval(this.handle, expression, Buffer.byteLength(expression), out));
    return fromC(out);
  }

  /** Calls the global function `name`; returns its first result. */
  call(name, ...args) {
    const keepAlive = [];
    const cArgs = args.map((arg) => toC(arg, keepAlive));
    const results = [{}];
    const count = [0];
    check(c.call_global(this.handle, name, cArgs, cArgs.length, results, 1, count));
    return count[0] === 0 ? null : fromC(results[0]);
  }

  /** Stops the running call with LUARUN_ERR_INTERRUPTED (or the next one). */
  interrupt() {
    check(c.state_interrupt(this.handle));
  }

  /**
   * Routes Lua's print to `writer(line)`, called once per print with the line (tabs
   * between the arguments, no trailing newline) decoded as UTF-8; `null` restores
   * stdout. Whatever `writer` throws makes that print raise a Lua error.
   */
  setPrint(writer) {
    let registered = null;
    if (writer !== null && writer !== undefined) {
      if (typeof writer !== 'function') throw new TypeError('luarun: setPrint takes a function or null');
      registered = koffi.register((userData, text, len) => {
        try {
          const bytes = len === 0 ? Buffer.alloc(0) : Buffer.from(koffi.view(text, len));
          // The C line ends in a newline; JS writers (console.log) add their own.
          writer(bytes.subarray(0, Math.max(0, bytes.length - 1)).toString('utf8'));
          return 0;
        } catch (error) {
          return 2; // LUARUN_ERR_RUNTIME: that print raises a Lua error
        }
      }, koffi.pointer(luarun_print_callback));
    }
    try {
      check(c.state_set_print(this.handle, registered, null));
    } catch (error) {
      if (registered) koffi.unregister(registered);
      throw error;
    }
    this._releasePrint();
    this.printCallback = registered;
  }

  _releasePrint() {
    if (this.printCallback) koffi.unregister(this.printCallback);
    this.printCallback = null;
  }

  close() {
    c.state_free(this.handle);
    this.handle = null;
    this._releasePrint();
  }
}

/** Render engines and pixel formats (LUARUN_ENGINE_*, LUARUN_PIXELS_*). */
const ENGINE = { NATIVE: 0, LUA: 1 };
const PIXELS = { BITS: 0, COUNTS_U32: 1, RGB8: 2, COUNTS_U16: 3, COUNTS_U8: 4 };

/** luarun_mandelbrot_default's parameters with `overrides` (field names as in C). */
function mandelbrotParams(overrides = {}) {
  const params = {};
  c.mandelbrot_default(params);
  for (const [field, value] of Object.entries(overrides)) {
    if (!(field in params)) throw new TypeError(`luarun: no render parameter named '${field}'`);
    params[field] = value;
  }
  if (typeof params.lua_kernel === 'string') params.lua_kernel_len = Buffer.byteLength(params.lua_kernel);
  return params;
}

/** Bytes a render with these parameters writes (0 when they are invalid). */
function bufferSize(overrides = {}) {
  return c.mandelbrot_buffer_size(mandelbrotParams(overrides));
}

/**
 * Renders the Mandelbrot set into `buffer` (any Buffer or Uint8Array, written in place)
 * or into a new Buffer of the right size, and returns it. Blocks until done.
 */
function render(overrides = {}, buffer = undefined) {
  const params = mandelbrotParams(overrides);
  // Invalid parameters give size 0: the render call then says why.
  const pixels = buffer ?? Buffer.alloc(c.mandelbrot_buffer_size(params));
  check(c.mandelbrot_render(params, pixels, pixels.byteLength));
  return pixels;
}

module.exports = {
  State, LuarunError, ENGINE, PIXELS, render, bufferSize, mandelbrotParams,
  version: () => c.version(), abiVersion: () => c.abi_version(),
};
