'use strict';
// Finds and loads the luarun shared library. The first hit wins:
//   1. $LUARUN_LIBRARY, the path of a library file (either flavor). When it is set and
//      does not load, that is the error: nothing else is tried behind the caller's back.
//   2. lib/ next to this file: a library shipped inside the npm package.
//   3. target/release of the source tree this file sits in (a checkout after `make build`).
//   4. An installed prefix: $PREFIX/lib when PREFIX is set, /usr/local/lib, /usr/lib, then
//      the bare name through the dynamic loader (LD_LIBRARY_PATH, the ldconfig cache).
// The shipped library comes before installed ones because it is the one built with this
// JavaScript (as the Python package prefers the library inside it).
const path = require('node:path');
const fs = require('node:fs');

/** The library's file name on each platform. */
const LIBRARY_NAMES = Object.freeze({ linux: 'libluarun.so', darwin: 'libluarun.dylib', win32: 'luarun.dll' });

/**
 * The places to look, in order, each { path, why } (why: where the candidate comes from).
 * A path without a directory is a name for the dynamic loader.
 * @param {{env?: NodeJS.ProcessEnv, platform?: string, here?: string}} [where]
 * @returns {Array<{path: string, why: string}>}
 */
function candidates({ env = process.env, platform = process.platform, here = __dirname } = {}) {
  const name = LIBRARY_NAMES[platform] || LIBRARY_NAMES.linux;
  const list = [{ path: path.join(here, 'lib', name), why: 'shipped in the package' }];
  // Only inside a luarun checkout: a user's own project may have a target/release too.
  const root = path.resolve(here, '..', '..');
  if (fs.existsSync(path.join(root, 'include', 'luarun.h'))) {
    const target = env.CARGO_TARGET_DIR ? path.resolve(root, env.CARGO_TARGET_DIR) : path.join(root, 'target');
    list.push({ path: path.join(target, 'release', name), why: 'built in this checkout' });
  }
  const prefixes = [...(env.PREFIX ? [env.PREFIX] : []), '/usr/local', '/usr'];
  for (const prefix of prefixes) list.push({ path: path.join(prefix, 'lib', name), why: 'installed' });
  list.push({ path: name, why: 'the dynamic loader\'s search path' });
  return list;
}

/**
 * Loads the library: the first candidate that exists and loads.
 * @param {(file: string) => object} load opens a library (koffi.load)
 * @param {{env?: NodeJS.ProcessEnv, platform?: string, here?: string}} [where]
 * @returns {{library: object, path: string}}
 * @throws {Error} nothing loads; the message lists every place tried and why it failed
 */
function loadLibrary(load, where = {}) {
  const env = where.env || process.env;
  if (env.LUARUN_LIBRARY) {
    try {
      return { library: load(env.LUARUN_LIBRARY), path: env.LUARUN_LIBRARY };
    } catch (error) {
      throw new Error(`luarun: LUARUN_LIBRARY=${env.LUARUN_LIBRARY} does not load: ${error.message}; ` +
                      'point it at libluarun.so (or libluarun_luajit.so), or unset it to search', { cause: error });
    }
  }
  const tried = ['LUARUN_LIBRARY (not set)'];
  for (const candidate of candidates({ ...where, env })) {
    const isName = !candidate.path.includes(path.sep);
    if (!isName && !fs.existsSync(candidate.path)) {
      tried.push(`${candidate.path} (${candidate.why}: no such file)`);
      continue;
    }
    try {
      return { library: load(candidate.path), path: candidate.path };
    } catch (error) {
      tried.push(`${candidate.path} (${candidate.why}: ${error.message.split('\n')[0]})`);
    }
  }
  throw new Error(`luarun: cannot find the luarun shared library. Tried:\n  - ${tried.join('\n  - ')}\n` +
                  'Set LUARUN_LIBRARY to the library file, install it (`make install PREFIX=/usr/local`), ' +
                  'put it in the package\'s lib/ folder, or build it in the checkout (`make build`).');
}

module.exports = { LIBRARY_NAMES, candidates, loadLibrary };
