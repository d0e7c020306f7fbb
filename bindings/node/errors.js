'use strict';
// The error type of failed luarun calls, and the one place a status becomes a throw.
const { c } = require('./ffi');
const C = require('./constants');

/** The StateOptions key each LUARUN_OPTION_* stands for. */
const OPTION_KEYS = Object.freeze({
  [C.LUARUN_OPTION_LIBRARIES]: 'libraries',
  [C.LUARUN_OPTION_MEMORY_LIMIT]: 'memoryLimit',
  [C.LUARUN_OPTION_INSTRUCTION_LIMIT]: 'instructionLimit',
  [C.LUARUN_OPTION_TIME_LIMIT]: 'timeLimitMs',
});

/** The stop names (`error.stop`) by LUARUN_STOP_* number. */
const STOP_NAMES = Object.freeze({
  [C.LUARUN_STOP_INTERRUPT]: 'interrupt',
  [C.LUARUN_STOP_INSTRUCTION_LIMIT]: 'instructionLimit',
  [C.LUARUN_STOP_TIME_LIMIT]: 'timeLimit',
  [C.LUARUN_STOP_CLOSING]: 'closing',
});

/** Library names ('os') by LUARUN_LIB_* bit, from the generated constants. */
const LIBRARY_NAMES = Object.freeze(Object.fromEntries(
  Object.entries(C).filter(([name]) => /^LUARUN_LIB_[A-Z0-9]+$/.test(name))
    .map(([name, bit]) => [bit, name.slice('LUARUN_LIB_'.length).toLowerCase()])));

/**
 * A failed luarun call. `status` is the LUARUN_ERR_* number (see luarun.STATUS),
 * `statusName` its name ("LUARUN_ERR_SYNTAX"), `message` the library's message (Lua's
 * error text with its traceback where there is one).
 */
class LuarunError extends Error {
  /**
   * @param {number} status a luarun_status
   * @param {string} message what went wrong and, where it helps, what to do
   * @param {{cause?: *}} [options] passed to Error (the original error, if any)
   */
  constructor(status, message, options) {
    super(message, options);
    this.name = 'LuarunError';
    /** @type {number} the luarun_status number */
    this.status = status;
    /** @type {string} the status constant's name, e.g. "LUARUN_ERR_RUNTIME" */
    this.statusName = c.status_name(status);
    /** @type {string|null} why the call was stopped: 'interrupt', 'instructionLimit', 'timeLimit', 'closing' */
    this.stop = null;
    /** @type {string|null} the StateOptions key the error is about ('timeLimitMs', 'libraries'...) */
    this.option = null;
    /** @type {string|null} for option 'libraries': the library the code needed ('os') */
    this.library = null;
  }
}

/**
 * The LuarunError for a failed status from this thread's last error: its message and
 * the structured detail (stop reason, option, library) the C API reports with it.
 * @param {number} status what the C function returned
 * @returns {LuarunError}
 */
function lastError(status) {
  const error = new LuarunError(status, c.last_error());
  error.stop = STOP_NAMES[c.last_error_stop()] ?? null;
  const option = c.last_error_option();
  error.option = OPTION_KEYS[option] ?? null;
  if (option === C.LUARUN_OPTION_LIBRARIES) error.library = LIBRARY_NAMES[c.last_error_library()] ?? null;
  return error;
}

/**
 * Throws a LuarunError for a failed status, with this thread's luarun_last_error.
 * Call it right after the C call, on the thread that made it (the message is
 * per thread and the next luarun call may replace it).
 * @param {number} status what the C function returned
 * @throws {LuarunError} unless status is LUARUN_OK
 */
function check(status) {
  if (status !== C.LUARUN_OK) throw lastError(status);
}

module.exports = { LuarunError, check, lastError };
