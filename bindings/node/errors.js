'use strict';
// The error type of failed luarun calls, and the one place a status becomes a throw.
const { c } = require('./ffi');
const C = require('./constants');

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
  }
}

/**
 * Throws a LuarunError for a failed status, with this thread's luarun_last_error.
 * Call it right after the C call, on the thread that made it (the message is
 * per thread and the next luarun call may replace it).
 * @param {number} status what the C function returned
 * @throws {LuarunError} unless status is LUARUN_OK
 */
function check(status) {
  if (status !== C.LUARUN_OK) throw new LuarunError(status, c.last_error());
}

module.exports = { LuarunError, check };
