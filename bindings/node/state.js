'use strict';
// Lua states from Node.js: luarun.State, over luarun_state_new / luarun_load /
// luarun_call / luarun_call_global. Every argument is checked before it reaches koffi
// (checks.js); values are converted by values.js.
const { koffi, c, luarun_value, luarun_options, luarun_print_callback } = require('./ffi');
const C = require('./constants');
const checks = require('./checks');
const { constantsNamed, lowerCaseNames } = require('./names');
const { check } = require('./errors');
const { toLua, freeTemps, takeLua } = require('./values');

/** Most results one eval, exec or call hands back (as the Python package); more is an error. */
const RESULTS_CAP = 256;
/** gc() operation names and their LUARUN_GC_* numbers. */
const GC_OPERATIONS = lowerCaseNames(constantsNamed('LUARUN_GC_'));

/** Standard library names for the `libraries` option (LUARUN_LIB_* in lower case) and their bits. */
const LIBRARIES = lowerCaseNames(constantsNamed('LUARUN_LIB_'));

const STATE_OPTIONS = Object.freeze([
  'libraries', 'memoryLimit', 'instructionLimit', 'timeLimitMs', 'allowBytecode', 'allowFinalizers', 'strings',
]);

// A State that is garbage collected without close() still frees its C resources.
const finalizer = new FinalizationRegistry(({ handle, results, print }) => {
  c.state_free(handle);
  koffi.free(results);
  releasePrint(print);
});

/** Unregisters the koffi callback a State's print writer holds, if any. */
function releasePrint(print) {
  if (print.callback) koffi.unregister(print.callback);
  print.callback = null;
}

/** The `libraries` option as LUARUN_LIB_* bits: an array of names or a number of bits. */
function libraryBits(value) {
  if (Array.isArray(value)) {
    let bits = 0;
    value.forEach((name, index) => { bits |= checks.choice(`libraries[${index}]`, name, LIBRARIES, 'luarun.LIB'); });
    return bits;
  }
  const bits = checks.integer('libraries', value, 'uint32_t', {
    hint: "an array of names such as ['math', 'os'], or luarun.LIB bits ORed together",
  });
  if ((bits & ~C.LUARUN_LIBS_ALL) !== 0) {
    throw new RangeError(`luarun: libraries has bits 0x${(bits & ~C.LUARUN_LIBS_ALL).toString(16)} that name no ` +
                         `library; use luarun.LIB bits (all of them: ${C.LUARUN_LIBS_ALL})`);
  }
  return bits;
}

/** luarun_options_default with the checked State options applied. */
function stateOptions(given) {
  const settings = checks.options('State option', given, STATE_OPTIONS);
  const options = {};
  c.options_default(options);
  if (settings.libraries !== undefined) options.libraries = libraryBits(settings.libraries);
  const limits = [['memoryLimit', 'memory_limit', 'bytes the state may hold'],
                  ['instructionLimit', 'instruction_limit', 'instructions per call'],
                  ['timeLimitMs', 'time_limit_ms', 'milliseconds per call']];
  for (const [name, field, unit] of limits) {
    if (settings[name] !== undefined) {
      options[field] = checks.integer(name, settings[name], 'uint64_t', { hint: `${unit}, 0 = unlimited` });
    }
  }
  if (settings.allowBytecode !== undefined) options.allow_bytecode = checks.boolean('allowBytecode', settings.allowBytecode);
  if (settings.allowFinalizers !== undefined) {
    options.allow_finalizers = checks.boolean('allowFinalizers', settings.allowFinalizers);
  }
  const strings = settings.strings === undefined ? 'string' : settings.strings;
  if (strings !== 'string' && strings !== 'buffer') {
    const Error = typeof strings === 'string' ? RangeError : TypeError;
    throw new Error(`luarun: strings must be 'string' or 'buffer', got ${checks.describe(strings)}`);
  }
  return { options, strings };
}

/**
 * The chunk name luarun gives code it names itself (the first line, at most 40 bytes,
 * printable), so `eval` errors read as they do from luarun_eval.
 * @param {Buffer} code
 * @returns {string}
 */
function chunkName(code) {
  const end = code.indexOf(0x0a);
  const firstLine = end < 0 ? code : code.subarray(0, end);
  const shown = firstLine.subarray(0, 40);
  const ellipsis = shown.length < code.length ? '...' : '';
  // eslint-disable-next-line no-control-regex
  const printable = shown.toString('utf8').replace(/"/g, "'").replace(/\p{Cc}/gu, '?');
  return `=[string "${printable}${ellipsis}"]`;
}

/**
 * A Lua state: safe libraries only unless `libraries` asks for more, limits per call.
 * Call close() when done (a State that is garbage collected is closed then).
 *
 * Results of `exec`, `eval` and `call`: none -> null, one -> the value, several -> an
 * Array of them (so an Array is always several results; a Lua table is a Map).
 */
class State {
  #handle;
  #results;
  #strings;
  /** The registered print callback, in a box the finalizer shares. */
  #print = { callback: null };

  /**
   * @param {object} [options]
   * @param {string[]|number} [options.libraries] standard libraries beyond base: names
   *   from luarun.LIB ('coroutine', 'table', 'string', 'math', 'utf8', 'os', 'io',
   *   'package', 'debug') or LUARUN_LIB_* bits; default the safe set
   * @param {number|bigint} [options.memoryLimit] most bytes the state may hold, 0 = unlimited
   * @param {number|bigint} [options.instructionLimit] Lua instructions per call, 0 = unlimited
   * @param {number|bigint} [options.timeLimitMs] wall time per call in ms, 0 = unlimited
   * @param {boolean} [options.allowBytecode] load precompiled chunks (default false)
   * @param {boolean} [options.allowFinalizers] allow `__gc` metamethods (default false)
   * @param {'string'|'buffer'} [options.strings] Lua strings come back as UTF-8 strings
   *   (default; a string that is not UTF-8 is an error) or as Buffers
   * @throws {TypeError|RangeError} an unknown option or a value that does not fit
   * @throws {LuarunError} the library refused to create the state
   */
  constructor(options = undefined) {
    const { options: cOptions, strings } = stateOptions(options);
    const out = [null];
    check(c.state_new(cOptions, out));
    this.#handle = out[0];
    this.#results = koffi.alloc(luarun_value, RESULTS_CAP);
    this.#strings = strings;
    finalizer.register(this, { handle: this.#handle, results: this.#results, print: this.#print }, this);
  }

  /** @returns {boolean} whether close() was called */
  get closed() {
    return this.#handle === null;
  }

  #live() {
    if (this.#handle === null) throw new Error('luarun: this State is closed; create a new luarun.State()');
    return this.#handle;
  }

  /**
   * Runs a chunk of Lua code and returns what it returns (null, a value or an Array).
   * @param {string|Buffer|Uint8Array} code Lua source (strings are UTF-8)
   * @param {string} [name] chunk name for messages: "@file.lua", "=name" or any text
   * @returns {*}
   * @throws {LuarunError} LUARUN_ERR_SYNTAX, _RUNTIME, _MEMORY, _INTERRUPTED, _TYPE
   */
  exec(code, name = undefined) {
    const data = checks.bytes('code', code);
    return this.#run(data, name === undefined ? null : checks.cName('name', name));
  }

  /**
   * Evaluates a Lua expression ("1 + 2", "t.x", "f(3)", "1, 2") and returns its value:
   * null for nil or no value, the value, or an Array for several values.
   * @param {string|Buffer|Uint8Array} expression
   * @param {string} [name] chunk name for messages (default: the expression's first line)
   * @returns {*}
   * @throws {LuarunError} as exec
   */
  eval(expression, name = undefined) {
    const data = checks.bytes('expression', expression);
    const chunk = name === undefined ? chunkName(data) : checks.cName('name', name);
    return this.#run(Buffer.concat([Buffer.from('return '), data]), chunk);
  }

  #run(code, name) {
    const handle = this.#live();
    const chunk = {};
    check(c.load(handle, code, code.length, name, chunk));
    const count = [0];
    try {
      check(c.call(chunk, [], 0, this.#results, RESULTS_CAP, count));
    } finally {
      c.value_free(chunk);
    }
    return this.#takeResults(Number(count[0]));
  }

  /**
   * Calls the global function `name` with `args` (converted as described in values.js:
   * Arrays, Maps and plain objects become tables) and returns its results.
   * @param {string} name a global holding a function
   * @param {...*} args
   * @returns {*} null, the result, or an Array of the results
   * @throws {TypeError|RangeError} an argument Lua cannot hold, a bad name
   * @throws {LuarunError} LUARUN_ERR_TYPE when the global is not a function; Lua errors
   */
  call(name, ...args) {
    const handle = this.#live();
    checks.cName('name', name);
    const temps = { keep: [], free: [] };
    const count = [0];
    try {
      const cArgs = args.map((arg, index) => toLua(handle, arg, `argument ${index + 1}`, temps));
      check(c.call_global(handle, name, cArgs, cArgs.length, this.#results, RESULTS_CAP, count));
    } finally {
      freeTemps(temps);
    }
    return this.#takeResults(Number(count[0]));
  }

  #takeResults(count) {
    const written = Math.min(count, RESULTS_CAP);
    const values = written === 0 ? [] : koffi.decode(this.#results, luarun_value, written);
    if (count > RESULTS_CAP) {
      for (const value of values) c.value_free(value);
      throw new RangeError(`luarun: Lua returned ${count} values; Node receives at most ${RESULTS_CAP}: ` +
                           'return a table instead');
    }
    const results = [];
    try {
      values.forEach((value, index) => results.push(takeLua(value, { strings: this.#strings }, `result ${index + 1}`)));
    } finally {
      for (const value of values.slice(results.length + 1)) c.value_free(value);
    }
    if (count === 0) return null;
    return count === 1 ? results[0] : results;
  }

  /**
   * Stops the running call (or the next one) with LUARUN_ERR_INTERRUPTED. Node runs Lua
   * on its one JS thread, so from JS this is the next call; use timeLimitMs to bound one.
   * @throws {LuarunError} LUARUN_ERR_UNSUPPORTED on a LuaJIT state without limits
   */
  interrupt() {
    check(c.state_interrupt(this.#live()));
  }

  /**
   * @returns {number} bytes the state's Lua heap holds
   */
  memoryUsed() {
    const out = [0];
    check(c.state_memory_used(this.#live(), out));
    return Number(out[0]);
  }

  /**
   * @returns {number|bigint} the memory limit in bytes, 0 = none
   */
  memoryLimit() {
    const out = [0];
    check(c.state_memory_limit(this.#live(), out));
    return out[0];
  }

  /**
   * Sets the memory limit; 0 lifts it. A limit below memoryUsed() throws.
   * @param {number|bigint} bytes
   */
  setMemoryLimit(bytes) {
    const checked = checks.integer('bytes', bytes, 'uint64_t', { hint: '0 = no limit' });
    check(c.state_set_memory_limit(this.#live(), checked));
  }

  /**
   * Registers `source` as the Lua module `name`: `require(name)` then compiles it as text
   * under the call's limits and runs it (luarun_state_preload). Works in every state,
   * sandboxed ones included: without the package library `require` sees only
   * preloaded modules.
   * @param {string} name module name
   * @param {string|Buffer|Uint8Array} source Lua source
   */
  preload(name, source) {
    const module = checks.cName('name', name);
    const data = checks.bytes('source', source);
    check(c.state_preload(this.#live(), module, data, data.length));
  }

  /**
   * Sets package.path, where require looks for Lua modules ("/opt/rocks/share/lua/5.4/?.lua;...").
   * Needs a state with the package library (libraries including 'package').
   * @param {string} path `;`-separated templates, `?` for the module name
   */
  setModulePath(path) {
    check(c.state_set_module_path(this.#live(), checks.cName('path', path)));
  }

  /**
   * Sets package.cpath and lets require load C modules from it. Native code runs with
   * the process's full power, outside every guarantee of the sandbox; one process loads
   * C modules for one Lua flavor only (LuarunError LUARUN_ERR_UNSUPPORTED otherwise).
   * @param {string} cpath `;`-separated templates, `?` for the module name
   */
  setCModulePath(cpath) {
    check(c.state_set_c_module_path(this.#live(), checks.cName('cpath', cpath)));
  }

  /**
   * Runs a garbage-collector operation.
   * @param {'collect'|'stop'|'restart'} [operation='collect']
   */
  gc(operation = 'collect') {
    const code = GC_OPERATIONS[operation];
    if (typeof operation !== 'string' || code === undefined) {
      const Error = typeof operation === 'string' ? RangeError : TypeError;
      throw new Error(`luarun: gc operation must be one of ${Object.keys(GC_OPERATIONS).join(', ')}, got ${String(operation)}`);
    }
    check(c.state_gc(this.#live(), code));
  }

  /**
   * Routes Lua's print to `writer(line)`, called once per print with the line (tabs
   * between the arguments, no trailing newline) decoded as UTF-8; `null` restores
   * stdout. Whatever `writer` throws makes that print raise a Lua error.
   * @param {((line: string) => void)|null} writer
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
          return C.LUARUN_OK;
        } catch (error) {
          return C.LUARUN_ERR_RUNTIME; // that print raises a Lua error
        }
      }, koffi.pointer(luarun_print_callback));
    }
    try {
      check(c.state_set_print(this.#live(), registered, null));
    } catch (error) {
      if (registered) koffi.unregister(registered);
      throw error;
    }
    releasePrint(this.#print);
    this.#print.callback = registered;
  }

  /** Frees the state. Calling it again does nothing; other methods then throw. */
  close() {
    if (this.#handle === null) return;
    finalizer.unregister(this);
    c.state_free(this.#handle);
    koffi.free(this.#results);
    releasePrint(this.#print);
    this.#handle = null;
    this.#results = null;
  }
}

module.exports = { State, LIBRARIES, GC_OPERATIONS, RESULTS_CAP, chunkName };
