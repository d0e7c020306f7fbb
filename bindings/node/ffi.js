'use strict';
// Loads libluarun and declares the C functions this binding uses, in one place, from
// the shapes in include/luarun.h. Nothing here but declarations.
const path = require('node:path');
const fs = require('node:fs');
const koffi = require('koffi');

const LIBRARY_NAMES = { linux: 'libluarun.so', darwin: 'libluarun.dylib', win32: 'luarun.dll' };

/**
 * Finds the shared library: $LUARUN_LIBRARY, else the repository's target/release.
 * @returns {string} its path
 * @throws {Error} when neither is there (the message says how to build or point to it)
 */
function findLibrary() {
  if (process.env.LUARUN_LIBRARY) return process.env.LUARUN_LIBRARY;
  const name = LIBRARY_NAMES[process.platform] || 'libluarun.so';
  const built = path.resolve(__dirname, '..', '..', 'target', 'release', name);
  if (fs.existsSync(built)) return built;
  throw new Error(`${name} not found: run \`make build\` or set LUARUN_LIBRARY to its path`);
}

/** The loaded library (koffi.load). */
const lib = koffi.load(findLibrary());

const luarun_state = koffi.opaque('luarun_state');

// `string` is declared as a plain pointer, not `const char *`: koffi would read a
// `const char *` field as a NUL-terminated string, and Lua strings may hold NUL bytes.
/** `luarun_value`, field for field. */
const luarun_value = koffi.struct('luarun_value', {
  kind: 'uint32_t',
  boolean: 'bool',
  integer: 'int64_t',
  number: 'double',
  string: 'const void *',
  string_len: 'size_t',
  handle: 'void *',
});

// Declared whole, exactly as in the header (luarun_options_default writes all of it).
/** `luarun_options`. */
const luarun_options = koffi.struct('luarun_options', {
  struct_size: 'uint32_t',
  libraries: 'uint32_t',
  memory_limit: 'uint64_t',
  instruction_limit: 'uint64_t',
  time_limit_ms: 'uint64_t',
  allow_bytecode: 'bool',
  allow_finalizers: 'bool',
});
// `text` is a plain pointer: the line may hold NUL bytes (read it with koffi.view).
const luarun_print_callback = koffi.proto(
  'int luarun_print_callback(void *user_data, const void *text, size_t len)');

const luarun_progress_callback = koffi.proto(
  'int luarun_progress_callback(void *user_data, uint32_t rows_done, uint32_t rows_total)');

// Declared whole, exactly as in the header: luarun_mandelbrot_default writes
// sizeof(luarun_mandelbrot) bytes, so a shorter declaration would be overrun.
/** `luarun_mandelbrot`. */
const luarun_mandelbrot = koffi.struct('luarun_mandelbrot', {
  struct_size: 'uint32_t',
  width: 'uint32_t',
  height: 'uint32_t',
  max_iter: 'uint32_t',
  x_min: 'double',
  x_max: 'double',
  y_min: 'double',
  y_max: 'double',
  threads: 'uint32_t',
  engine: 'uint32_t',
  format: 'uint32_t',
  progress: koffi.pointer(luarun_progress_callback),
  progress_user_data: 'void *',
  lua_kernel: 'const char *',
  lua_kernel_len: 'size_t',
  x_offset: 'uint32_t',
  y_offset: 'uint32_t',
  image_width: 'uint32_t',
  image_height: 'uint32_t',
});

/**
 * The C functions, named without their `luarun_` prefix. Callers check every argument
 * first (checks.js): koffi aborts the process on a value it cannot convert.
 */
const c = {
  abi_version: lib.func('uint32_t luarun_abi_version(void)'),
  version: lib.func('const char *luarun_version(void)'),
  lua_version: lib.func('const char *luarun_lua_version(void)'),
  last_error: lib.func('const char *luarun_last_error(void)'),
  status_name: lib.func('const char *luarun_status_name(int status)'),
  type_name: lib.func('const char *luarun_type_name(uint32_t kind)'),
  options_default: lib.func('void luarun_options_default(_Out_ luarun_options *options_out)'),
  state_new: lib.func('int luarun_state_new(const luarun_options *options, _Out_ luarun_state **state_out)'),
  state_free: lib.func('void luarun_state_free(luarun_state *state)'),
  state_interrupt: lib.func('int luarun_state_interrupt(luarun_state *state)'),
  state_memory_used: lib.func('int luarun_state_memory_used(luarun_state *state, _Out_ size_t *bytes_out)'),
  state_memory_limit: lib.func('int luarun_state_memory_limit(luarun_state *state, _Out_ uint64_t *bytes_out)'),
  state_set_memory_limit: lib.func('int luarun_state_set_memory_limit(luarun_state *state, uint64_t bytes)'),
  state_gc: lib.func('int luarun_state_gc(luarun_state *state, uint32_t operation)'),
  state_set_print: lib.func('int luarun_state_set_print(luarun_state *state, luarun_print_callback *print, void *user_data)'),
  exec: lib.func('int luarun_exec(luarun_state *state, const char *code, size_t len)'),
  exec_named: lib.func('int luarun_exec_named(luarun_state *state, const char *code, size_t len, const char *name)'),
  load: lib.func('int luarun_load(luarun_state *state, const char *code, size_t len, const char *name, ' +
                 '_Out_ luarun_value *function_out)'),
  // results_out is a plain pointer: State keeps one koffi.alloc'ed array for results.
  call: lib.func('int luarun_call(const luarun_value *function, const luarun_value *args, size_t nargs, ' +
                 'luarun_value *results_out, size_t results_cap, _Out_ size_t *nresults_out)'),
  eval: lib.func('int luarun_eval(luarun_state *state, const char *expr, size_t len, _Out_ luarun_value *result_out)'),
  call_global: lib.func('int luarun_call_global(luarun_state *state, const char *name, const luarun_value *args, ' +
                        'size_t nargs, luarun_value *results_out, size_t results_cap, _Out_ size_t *nresults_out)'),
  table_new: lib.func('int luarun_table_new(luarun_state *state, size_t array_size, size_t hash_size, ' +
                      '_Out_ luarun_value *table_out)'),
  table_set: lib.func('int luarun_table_set(const luarun_value *table, const luarun_value *key, ' +
                      'const luarun_value *value)'),
  table_next: lib.func('int luarun_table_next(const luarun_value *table, const luarun_value *key, ' +
                       '_Out_ luarun_value *next_key_out, _Out_ luarun_value *value_out)'),
  value_free: lib.func('void luarun_value_free(_Inout_ luarun_value *value)'),
  mandelbrot_default: lib.func('void luarun_mandelbrot_default(_Out_ luarun_mandelbrot *params_out)'),
  mandelbrot_buffer_size: lib.func('size_t luarun_mandelbrot_buffer_size(const luarun_mandelbrot *params)'),
  // `buf` is a plain pointer: a Buffer passed here is written in place, not copied.
  mandelbrot_render: lib.func('int luarun_mandelbrot_render(const luarun_mandelbrot *params, void *buf, size_t buf_len)'),
  mandelbrot_release_pools: lib.func('void luarun_mandelbrot_release_pools(void)'),
};

module.exports = { koffi, lib, c, luarun_value, luarun_options, luarun_mandelbrot, luarun_print_callback, findLibrary };
