'use strict';
// index.d.ts declares the whole public API: test/types/usage.ts uses all of it and must
// type-check (`tsc --noEmit -p test/types`, typescript pinned in package.json), and the
// name unions in it are the names the runtime takes, which come from include/luarun.h.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const luarun = require('../luarun');
const { ENGINE_NAMES, FORMAT_NAMES } = require('../render');
const { GC_OPERATIONS } = require('../state');

const PACKAGE_DIR = path.resolve(__dirname, '..');
const DECLARATIONS = fs.readFileSync(path.join(PACKAGE_DIR, 'index.d.ts'), 'utf8');

function typescriptInstalled() {
  try {
    require.resolve('typescript/bin/tsc', { paths: [PACKAGE_DIR] });
    return true;
  } catch {
    return false;
  }
}

test('test/types/usage.ts type-checks against index.d.ts (tsc --noEmit)', {
  skip: typescriptInstalled() ? false : 'typescript is not installed: run `npm ci` in bindings/node',
}, () => {
  const tsc = spawnSync('npx', ['--no-install', 'tsc', '--noEmit', '-p', path.join('test', 'types')],
    { cwd: PACKAGE_DIR, encoding: 'utf8', timeout: 300_000 });
  assert.equal(tsc.status, 0, `tsc failed:\n${tsc.stdout}${tsc.stderr}`);
});

/** The string literals of `export type name = 'a' | 'b';` in index.d.ts. */
function union(name) {
  const body = DECLARATIONS.match(new RegExp(`export type ${name} =([^;]*);`));
  assert.ok(body, `index.d.ts declares ${name}`);
  return [...body[1].matchAll(/'([^']*)'/g)].map(([, literal]) => literal).sort();
}

test('the name unions of index.d.ts are the names the binding takes', () => {
  assert.deepEqual(union('StatusName'), Object.keys(luarun.STATUS).sort());
  assert.deepEqual(union('LibraryName'), Object.keys(luarun.LIB).sort());
  assert.deepEqual(union('EngineName'), Object.keys(ENGINE_NAMES).sort());
  assert.deepEqual(union('FormatName'), Object.keys(FORMAT_NAMES).sort());
  assert.deepEqual(union('GcOperation'), Object.keys(GC_OPERATIONS).sort());
});

test('index.d.ts declares every export of luarun.js', () => {
  for (const name of Object.keys(luarun)) {
    assert.match(DECLARATIONS, new RegExp(`export declare (class|const|function) ${name}\\b`), name);
  }
  assert.equal(require('../package.json').types, 'index.d.ts');
});
