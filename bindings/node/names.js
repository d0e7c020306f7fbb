'use strict';
// Tables of the header's constants by prefix, so a name such as 'rgb8' or 'os' is never
// written next to a number by hand: both come from constants.js (generated).
const C = require('./constants');

/**
 * The constants whose names start with `prefix`, without it.
 * @param {string} prefix e.g. 'LUARUN_ENGINE_'
 * @returns {Readonly<Record<string, number>>} e.g. { NATIVE: 0, LUA: 1 }
 */
function constantsNamed(prefix) {
  return Object.freeze(Object.fromEntries(Object.entries(C)
    .filter(([name]) => name.startsWith(prefix))
    .map(([name, value]) => [name.slice(prefix.length), value])));
}

/**
 * A table with its names in lower case, as options take them ('native', 'counts_u32').
 * @param {Readonly<Record<string, number>>} table
 * @returns {Readonly<Record<string, number>>}
 */
function lowerCaseNames(table) {
  return Object.freeze(Object.fromEntries(Object.entries(table).map(([name, value]) => [name.toLowerCase(), value])));
}

module.exports = { constantsNamed, lowerCaseNames };
