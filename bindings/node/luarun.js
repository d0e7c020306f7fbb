'use strict';
// The luarun Node.js binding: Lua states and Mandelbrot renders over include/luarun.h
// (ffi.js declares the C functions, constants.js is generated from the header).
const { c } = require('./ffi');
const C = require('./constants');
const { LuarunError } = require('./errors');
const { State, LIBRARIES } = require('./state');
const render = require('./render');

/** Status numbers by name without the LUARUN_ prefix: { OK: 0, ERR_SYNTAX: 1, ... }. */
const STATUS = Object.freeze(Object.fromEntries(Object.entries(C)
  .filter(([name]) => name === 'LUARUN_OK' || name.startsWith('LUARUN_ERR_'))
  .map(([name, value]) => [name.slice('LUARUN_'.length), value])));

/** Standard library bits for State's `libraries` option: { coroutine: 1, ..., debug: 256 }. */
const LIB = LIBRARIES;

module.exports = {
  State,
  LuarunError,
  STATUS,
  LIB,
  /** Render engines (LUARUN_ENGINE_*): { NATIVE, LUA }. */
  ENGINE: render.ENGINE,
  /** Pixel formats (LUARUN_PIXELS_*): { BITS, COUNTS_U32, RGB8, COUNTS_U16, COUNTS_U8 }. */
  PIXELS: render.PIXELS,
  render: render.render,
  renderAsync: render.renderAsync,
  bufferSize: render.bufferSize,
  mandelbrotParams: render.mandelbrotParams,
  releasePools: render.releasePools,
  /** @returns {string} the library's version, e.g. "0.1.0" */
  version: () => c.version(),
  /** @returns {string} the Lua inside the library: "Lua 5.4" or "LuaJIT 2.1.<release>" */
  luaVersion: () => c.lua_version(),
  /** @returns {number} the library's ABI version (include/luarun.h: LUARUN_ABI_VERSION) */
  abiVersion: () => c.abi_version(),
};
