'use strict';
// Where the binding looks for libluarun, in order: LUARUN_LIBRARY, lib/ in the package,
// target/release of a checkout, an installed prefix, the dynamic loader's search path.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { candidates, loadLibrary } = require('../library');

const made = [];
test.after(() => { for (const dir of made) fs.rmSync(dir, { recursive: true, force: true }); });

/** A package directory outside any checkout, with or without a lib/libluarun.so file. */
function packageDir(withLibrary) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luarun-lib-'));
  made.push(dir);
  if (withLibrary) {
    fs.mkdirSync(path.join(dir, 'lib'));
    fs.writeFileSync(path.join(dir, 'lib', 'libluarun.so'), '');
  }
  return dir;
}

/** A loader that records what it was asked to open and opens nothing but `accept`. */
function recordingLoader(accept = () => false) {
  const opened = [];
  const load = (file) => {
    opened.push(file);
    if (!accept(file)) throw new Error(`cannot open ${file}`);
    return { file };
  };
  return { opened, load };
}

test('LUARUN_LIBRARY wins, and when it does not load that is the error (no silent fallback)', () => {
  const here = packageDir(true);
  const { opened, load } = recordingLoader((file) => file === '/opt/x/libluarun_luajit.so');
  assert.equal(loadLibrary(load, { env: { LUARUN_LIBRARY: '/opt/x/libluarun_luajit.so' }, here }).path,
    '/opt/x/libluarun_luajit.so');
  assert.deepEqual(opened, ['/opt/x/libluarun_luajit.so']);
  assert.throws(() => loadLibrary(load, { env: { LUARUN_LIBRARY: '/nowhere/libluarun.so' }, here }),
    /LUARUN_LIBRARY=\/nowhere\/libluarun\.so does not load: cannot open \/nowhere\/libluarun\.so; point it at libluarun\.so/);
  assert.equal(opened.length, 2);
});

test('a library shipped in lib/ comes before installed ones', () => {
  const here = packageDir(true);
  const { load } = recordingLoader(() => true);
  assert.equal(loadLibrary(load, { env: {}, here, platform: 'linux' }).path, path.join(here, 'lib', 'libluarun.so'));
});

test('without one, installed prefixes and then the loader\'s search path are tried', () => {
  const here = packageDir(false);
  const list = candidates({ env: { PREFIX: '/opt/luarun' }, here, platform: 'linux' }).map((c) => c.path);
  assert.deepEqual(list, [path.join(here, 'lib', 'libluarun.so'), '/opt/luarun/lib/libluarun.so',
                          '/usr/local/lib/libluarun.so', '/usr/lib/libluarun.so', 'libluarun.so']);
  const { opened, load } = recordingLoader((file) => file === 'libluarun.so');
  assert.equal(loadLibrary(load, { env: {}, here, platform: 'linux' }).path, 'libluarun.so');
  assert.ok(opened.includes('libluarun.so'));
});

test('a checkout\'s target/release is a candidate only inside a luarun source tree', () => {
  const inCheckout = candidates({ env: {}, platform: 'linux' }).map((c) => c.path);
  assert.ok(inCheckout.includes(path.resolve(__dirname, '..', '..', '..', 'target', 'release', 'libluarun.so')));
  const elsewhere = candidates({ env: {}, here: packageDir(false), platform: 'linux' }).map((c) => c.path);
  assert.ok(!elsewhere.some((file) => file.includes(`target${path.sep}release`)));
});

test('when nothing loads, the error lists every place tried and what to do', () => {
  const here = packageDir(false);
  const { load } = recordingLoader();
  assert.throws(() => loadLibrary(load, { env: {}, here, platform: 'linux' }), (error) => {
    assert.match(error.message, /^luarun: cannot find the luarun shared library\. Tried:\n {2}- LUARUN_LIBRARY \(not set\)\n/);
    assert.ok(error.message.includes(`${path.join(here, 'lib', 'libluarun.so')} (shipped in the package: no such file)`));
    for (const tried of ['/usr/local/lib/libluarun.so (installed', '/usr/lib/libluarun.so (installed',
                         "libluarun.so (the dynamic loader's search path: cannot open libluarun.so)"]) {
      assert.ok(error.message.includes(tried), tried);
    }
    assert.match(error.message, /Set LUARUN_LIBRARY to the library file, install it \(`make install PREFIX=\/usr\/local`\)/);
    return true;
  });
});
