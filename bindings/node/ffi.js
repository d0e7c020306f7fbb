'use strict';
// Loads libluarun (library.js says where it looks) and declares the C functions this
// binding uses. The prototypes are generated from include/luarun.h (prototypes.js);
// written here by hand are only the types koffi must be given: the structs, with the
// header's fields in order (test/constants.test.js compares them), and the callback
// types, whose `const char *` text koffi would read as a NUL-terminated string.
const koffi = require('koffi');
const PROTOTYPES = require('./prototypes');
const { loadLibrary } = require('./library');

/** The loaded library (koffi.load) and the file it came from. */
const { library: lib, path: libraryPath } = loadLibrary((file) => koffi.load(file));

// Handles: pointers koffi passes around without looking inside.
koffi.opaque('luarun_state');

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

/** The C functions this binding calls (names without `luarun_`, as in prototypes.js). */
const USED = Object.freeze([
  'abi_version', 'version', 'lua_version', 'last_error', 'last_error_stop', 'last_error_option',
  'last_error_library', 'status_name', 'type_name',
  'options_default', 'state_new', 'state_free', 'state_interrupt', 'state_memory_used', 'state_memory_limit',
  'state_set_memory_limit', 'state_gc', 'state_set_print', 'state_preload', 'state_set_module_path',
  'state_set_c_module_path', 'exec', 'exec_named', 'load', 'call', 'eval',
  'call_global', 'table_new', 'table_set', 'table_next', 'value_free',
  'mandelbrot_default', 'mandelbrot_buffer_size', 'mandelbrot_buffer_size_checked', 'mandelbrot_render', 'mandelbrot_release_pools',
]);

/**
 * The C functions, named without their `luarun_` prefix. Callers check every argument
 * first (checks.js): koffi aborts the process on a value it cannot convert.
 */
const c = Object.freeze(Object.fromEntries(USED.map((name) => [name, lib.func(PROTOTYPES[name])])));

module.exports = {
  koffi, lib, libraryPath, c, USED, luarun_value, luarun_options, luarun_mandelbrot, luarun_print_callback,
};
