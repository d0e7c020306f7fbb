'use strict';
// Mandelbrot renders from Node.js into caller memory, over luarun_mandelbrot_render.
// Options use the C field names; every one is checked here (checks.js) before koffi
// sees it, because koffi aborts the process on a value it cannot convert.
const { constants: { MAX_LENGTH } } = require('node:buffer');
const { c } = require('./ffi');
const C = require('./constants');
const checks = require('./checks');
const { constantsNamed, lowerCaseNames } = require('./names');
const { LuarunError, check } = require('./errors');

/** Render engines, LUARUN_ENGINE_* without the prefix: { NATIVE: 0, LUA: 1 }. */
const ENGINE = constantsNamed('LUARUN_ENGINE_');
/** Pixel formats, LUARUN_PIXELS_* without the prefix: { BITS: 0, COUNTS_U32: 1, RGB8: 2, ... }. */
const PIXELS = constantsNamed('LUARUN_PIXELS_');

/** Engine names the `engine` option takes: the C names in lower case ('native', 'lua'). */
const ENGINE_NAMES = lowerCaseNames(ENGINE);
/** Format names the `format` option takes: the C names in lower case ('bits', 'counts_u32', 'rgb8', ...). */
const FORMAT_NAMES = lowerCaseNames(PIXELS);

/** The options render, renderAsync and bufferSize take (C field names). */
const RENDER_OPTIONS = Object.freeze([
  'width', 'height', 'max_iter', 'x_min', 'x_max', 'y_min', 'y_max', 'threads', 'engine', 'format',
  'lua_kernel', 'x_offset', 'y_offset', 'image_width', 'image_height', 'progress',
]);

const U32_MAX = 2 ** 32 - 1;
const SIDE = { min: 1, max: C.LUARUN_MANDELBROT_MAX_SIDE };

// Progress callbacks running now. The C rule is that they must not render: a render
// started from one waits for the worker threads, one of which waits for the callback.
let progressDepth = 0;

/** Throws when called from a progress callback (which must not render). */
function refuseInsideProgress(what) {
  if (progressDepth > 0) {
    throw new Error(`luarun: ${what} was called from a progress callback, which must not render ` +
                    '(include/luarun.h); start the next render after the Promise settles');
  }
}

/**
 * luarun_mandelbrot_default's parameters with the checked `options` applied: the
 * struct koffi passes to C. `height` defaults to `width` (so `{ width: 200 }` is
 * 200 x 200), `width` to 1280. `progress` is left out: renderAsync installs it.
 * @param {object} [options] see {@link render}
 * @returns {object} the luarun_mandelbrot fields
 * @throws {TypeError|RangeError} an unknown option, a value that does not fit its C
 *   field, an unknown engine or format name, an option the engine does not take
 */
function mandelbrotParams(options = undefined) {
  return parseOptions(options).params;
}

/** The checked parameters and the progress function (or null) of render options. */
function parseOptions(options) {
  const given = checks.options('render option', options, RENDER_OPTIONS);
  const params = {};
  c.mandelbrot_default(params);
  const set = (field, convert) => { if (given[field] !== undefined) params[field] = convert(field, given[field]); };
  set('width', (name, value) => checks.integer(name, value, 'uint32_t', SIDE));
  params.height = params.width;
  set('height', (name, value) => checks.integer(name, value, 'uint32_t', SIDE));
  set('max_iter', (name, value) => checks.integer(name, value, 'uint32_t', { min: 1, max: U32_MAX }));
  for (const edge of ['x_min', 'x_max', 'y_min', 'y_max']) set(edge, checks.finite);
  set('threads', (name, value) => checks.integer(name, value, 'uint32_t', { hint: '0 = one per core' }));
  set('engine', (name, value) => checks.choice(name, value, ENGINE_NAMES, 'luarun.ENGINE'));
  set('format', (name, value) => checks.choice(name, value, FORMAT_NAMES, 'luarun.PIXELS'));
  set('x_offset', (name, value) => checks.integer(name, value, 'uint32_t'));
  set('y_offset', (name, value) => checks.integer(name, value, 'uint32_t'));
  set('image_width', (name, value) => checks.integer(name, value, 'uint32_t', { hint: '0 = width' }));
  set('image_height', (name, value) => checks.integer(name, value, 'uint32_t', { hint: '0 = height' }));
  if (given.lua_kernel !== undefined && given.lua_kernel !== null) {
    if (params.engine !== ENGINE.LUA) {
      throw new TypeError("luarun: lua_kernel applies only to engine: 'lua'; the native engine has no kernel " +
                          "(add engine: 'lua' or drop lua_kernel)");
    }
    const kernel = checks.bytes('lua_kernel', given.lua_kernel);
    params.lua_kernel = kernel;
    params.lua_kernel_len = kernel.length;
  }
  if (given.progress !== undefined && given.progress !== null && typeof given.progress !== 'function') {
    throw new TypeError(`luarun: progress must be a function (rowsDone, rowsTotal), got ${checks.describe(given.progress)}`);
  }
  return { params, progress: typeof given.progress === 'function' ? given.progress : null };
}

/** The size a render needs, or a LuarunError saying why the parameters are invalid. */
function requiredSize(params) {
  const size = [0];
  check(c.mandelbrot_buffer_size_checked(params, size));
  return Number(size[0]);
}

/** A zeroed Buffer of `size` bytes, or a RangeError when no Buffer can be that large. */
function allocate(size) {
  if (size > MAX_LENGTH) {
    throw new RangeError(`luarun: this render needs ${size} bytes, more than a Buffer holds (${MAX_LENGTH}); ` +
                         'render it in tiles (x_offset, y_offset, image_width, image_height) or smaller');
  }
  return Buffer.alloc(size);
}

/**
 * Bytes a render with these options writes.
 * @param {object} [options] as for {@link render}
 * @returns {number}
 * @throws {TypeError|RangeError} options that do not fit (see mandelbrotParams)
 * @throws {LuarunError} LUARUN_ERR_INVALID_ARGUMENT for values C refuses (an empty viewport, a tile outside its image)
 */
function bufferSize(options = undefined) {
  return requiredSize(mandelbrotParams(options));
}

/**
 * Renders the Mandelbrot set into `buffer` (any Buffer, TypedArray, DataView or
 * ArrayBuffer, written in place; extra bytes are left alone) or into a new Buffer of
 * the right size, and returns it. Blocks until done.
 * @param {object} [options] C field names: `width` (default 1280), `height` (default
 *   `width`), `max_iter` (50), `x_min`, `x_max`, `y_min`, `y_max` (-1.5, 0.5, -1, 1),
 *   `threads` (0 = one per core), `engine` ('native' or 'lua', or luarun.ENGINE.*),
 *   `format` ('bits', 'counts_u32', 'rgb8', 'counts_u16', 'counts_u8', or
 *   luarun.PIXELS.*), `lua_kernel` (engine 'lua' only), `x_offset`, `y_offset`,
 *   `image_width`, `image_height` (tiles). `progress` needs {@link renderAsync}.
 * @param {Buffer|ArrayBufferView|ArrayBuffer} [buffer]
 * @returns {Buffer|ArrayBufferView|ArrayBuffer} `buffer`, or the new Buffer
 * @throws {TypeError|RangeError} bad options (nothing is rendered)
 * @throws {LuarunError} LUARUN_ERR_INVALID_ARGUMENT, _BUFFER_TOO_SMALL (the message
 *   gives the size needed), and for the Lua engine _SYNTAX, _RUNTIME, _MEMORY
 */
function render(options = undefined, buffer = undefined) {
  refuseInsideProgress('render');
  const { params, progress } = parseOptions(options);
  if (progress) {
    throw new TypeError('luarun: progress needs luarun.renderAsync(): the library calls it from its worker ' +
                        'threads, and a synchronous render blocks the one JS thread it would have to run on');
  }
  const target = buffer === undefined ? allocate(requiredSize(params)) : buffer;
  const bytes = checks.writableBytes('buffer', target);
  check(c.mandelbrot_render(params, bytes, bytes.byteLength));
  return target;
}

/**
 * Adapts `progress(rowsDone, rowsTotal)` to luarun_progress_callback, whose C rule is
 * "return non-zero to cancel", as every binding does: a truthy answer cancels, a falsy
 * one (undefined, null, false, 0, '') continues. A Promise is refused rather than taken
 * as "cancel" (an async progress function could never continue); it, or a throw, stops
 * the render with that error.
 */
function progressAdapter(progress) {
  const outcome = { error: null, cancelledAt: null };
  const callback = (userData, rowsDone, rowsTotal) => {
    progressDepth += 1;
    try {
      const answer = progress(rowsDone, rowsTotal);
      if (answer !== null && typeof answer === 'object' && typeof answer.then === 'function') {
        outcome.error = new TypeError(`luarun: progress returned ${checks.describe(answer)}; progress runs ` +
                                      'synchronously and cannot await: return a truthy value to cancel, ' +
                                      'or nothing to continue');
        return 1;
      }
      if (!answer) return 0;
      outcome.cancelledAt = [rowsDone, rowsTotal];
    } catch (error) {
      outcome.error = error;
    } finally {
      progressDepth -= 1;
    }
    return 1;
  };
  return { callback, outcome };
}

/** Compiles a kernel in a throwaway state so its syntax errors keep their message. */
function checkKernelSyntax(kernel) {
  const state = [null];
  check(c.state_new(null, state));
  try {
    const chunk = {};
    check(c.load(state[0], kernel, kernel.length, '=mandelbrot kernel', chunk));
    c.value_free(chunk);
  } finally {
    c.state_free(state[0]);
  }
}

/**
 * {@link render} on a worker thread: returns a Promise of the buffer and lets the JS
 * thread run meanwhile, so `options.progress(rowsDone, rowsTotal)` can be called.
 * Progress follows the C rule (include/luarun.h, luarun_progress_callback: non-zero
 * cancels): return a truthy value (true, 1, 'stop') to cancel, nothing or a falsy value
 * (undefined, false, 0) to continue; what it throws (or a Promise, as a TypeError)
 * stops the render and rejects the Promise. Do not touch `buffer` until the Promise settles.
 * @param {object} [options] as for {@link render}, plus `progress`
 * @param {Buffer|ArrayBufferView|ArrayBuffer} [buffer]
 * @returns {Promise<Buffer|ArrayBufferView|ArrayBuffer>}
 * @throws {Error} synchronously only when called from a progress callback (which must
 *   not render); every other failure rejects, with the errors of {@link render} plus
 *   LUARUN_ERR_CANCELLED when progress cancelled (the buffer is then partly written)
 */
function renderAsync(options = undefined, buffer = undefined) {
  // Synchronous, so that the progress callback that called it sees the throw.
  refuseInsideProgress('renderAsync');
  return renderOnWorker(options, buffer);
}

/** renderAsync once it is known not to run inside a progress callback. */
async function renderOnWorker(options, buffer) {
  const { params, progress } = parseOptions(options);
  const size = requiredSize(params);
  const target = buffer === undefined ? allocate(size) : buffer;
  const bytes = checks.writableBytes('buffer', target);
  if (bytes.byteLength < size) {
    throw new LuarunError(C.LUARUN_ERR_BUFFER_TOO_SMALL,
      `luarun: buffer has ${bytes.byteLength} bytes, this render needs ${size}: pass a larger one or none`);
  }
  if (params.lua_kernel) checkKernelSyntax(params.lua_kernel);
  const adapter = progress ? progressAdapter(progress) : null;
  if (adapter) params.progress = adapter.callback;
  const status = await new Promise((resolve, reject) => {
    c.mandelbrot_render.async(params, bytes, bytes.byteLength, (error, result) => (error ? reject(error) : resolve(result)));
  });
  if (adapter && adapter.outcome.error) throw adapter.outcome.error;
  if (status === C.LUARUN_OK) return target;
  if (status === C.LUARUN_ERR_CANCELLED && adapter && adapter.outcome.cancelledAt) {
    const [done, total] = adapter.outcome.cancelledAt;
    throw new LuarunError(status, `luarun: progress cancelled the render at ${done} of ${total} rows ` +
                                  '(the buffer is partly written)');
  }
  // luarun_last_error is per thread and this render ran on a koffi worker thread.
  throw new LuarunError(status, `luarun: the render failed with ${c.status_name(status)}; its message stays on ` +
                                'the worker thread that rendered: run luarun.render() with the same options ' +
                                '(synchronous, without progress) to read it');
}

/**
 * Closes the Lua states the Lua engine keeps between renders (luarun_mandelbrot_release_pools):
 * call it at shutdown or after a burst of renders. Renders running meanwhile keep theirs.
 */
function releasePools() {
  c.mandelbrot_release_pools();
}

module.exports = {
  ENGINE, PIXELS, ENGINE_NAMES, FORMAT_NAMES, RENDER_OPTIONS, mandelbrotParams, bufferSize, render, renderAsync,
  releasePools,
};
