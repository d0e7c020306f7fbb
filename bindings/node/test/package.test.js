'use strict';
// bindings/node is an npm package: `npm pack` makes a tarball that installs into an
// empty project, where `require('luarun')` finds the library (LUARUN_LIBRARY, or a copy
// in the package's lib/ folder) and works, and the TypeScript declarations resolve.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { libraryPath } = require('../ffi');

const PACKAGE_DIR = path.resolve(__dirname, '..');
const PACKAGE = require('../package.json');
/** The library these tests run against, as the installed package is told or given it. */
const LIBRARY = process.env.LUARUN_LIBRARY || libraryPath;

function run(command, args, options) {
  return spawnSync(command, args, { encoding: 'utf8', timeout: 300_000, ...options });
}

const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'luarun-npm-'));
test.after(() => fs.rmSync(temp, { recursive: true, force: true }));

test('npm pack ships the modules, the declarations and the README, not the tests or tools', () => {
  const pack = run('npm', ['pack', '--dry-run', '--json'], { cwd: PACKAGE_DIR });
  assert.equal(pack.status, 0, pack.stderr);
  const files = JSON.parse(pack.stdout)[0].files.map((file) => file.path).sort();
  for (const name of ['luarun.js', 'ffi.js', 'library.js', 'prototypes.js', 'constants.js', 'index.d.ts',
                      'README.md', 'package.json']) {
    assert.ok(files.includes(name), `${name} is in the tarball (${files.join(', ')})`);
  }
  assert.deepEqual(files.filter((file) => /^(test|tools|node_modules)\//.test(file)), []);
  // Every module luarun.js requires is in it (a new file missing from `files` fails here).
  for (const file of fs.readdirSync(PACKAGE_DIR).filter((name) => name.endsWith('.js'))) {
    assert.ok(files.includes(file), `${file} is in the tarball`);
  }
});

test('the packed tarball installs into an empty project, and require("luarun") works there', async (t) => {
  const pack = run('npm', ['pack', '--pack-destination', temp, '--json'], { cwd: PACKAGE_DIR });
  assert.equal(pack.status, 0, pack.stderr);
  const tarball = path.join(temp, JSON.parse(pack.stdout)[0].filename);
  assert.equal(path.basename(tarball), `luarun-${PACKAGE.version}.tgz`);

  const project = path.join(temp, 'project');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'uses-luarun', version: '1.0.0', private: true }));
  // The registry first (koffi from npm's cache when it has it); offline, the cache alone.
  let install = null;
  for (const mode of ['--prefer-offline', '--offline']) {
    install = run('npm', ['install', tarball, mode, '--no-audit', '--no-fund', '--loglevel=error'], { cwd: project });
    if (install.status === 0) break;
  }
  if (install.status !== 0) {
    t.skip(`npm install of the tarball failed (no registry and koffi ${PACKAGE.dependencies.koffi} not in npm's cache): ` +
           install.stderr.trim().split('\n').slice(-3).join(' | '));
    return;
  }
  const installed = path.join(project, 'node_modules', 'luarun');
  assert.equal(JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')).version, PACKAGE.version);

  const program = `
    const luarun = require('luarun');
    const lua = new luarun.State();
    const out = { sum: lua.eval('40 + 2'), list: [...lua.eval('{ 1, 2, 3 }').values()], two: lua.eval("1, 'b'"),
                  bits: luarun.render({ width: 200 }).length, from: require('luarun/ffi').libraryPath };
    lua.close();
    console.log(JSON.stringify(out));`;
  const withEnv = run(process.execPath, ['-e', program], { cwd: project, env: { ...process.env, LUARUN_LIBRARY: LIBRARY } });
  assert.equal(withEnv.status, 0, withEnv.stderr);
  assert.deepEqual(JSON.parse(withEnv.stdout), { sum: 42, list: [1, 2, 3], two: [1, 'b'], bits: 5000, from: LIBRARY });

  const env = { ...process.env };
  delete env.LUARUN_LIBRARY;
  const systemWide = ['/usr/local/lib', '/usr/lib'].some((dir) => fs.existsSync(path.join(dir, 'libluarun.so')));
  if (!systemWide) {
    const missing = run(process.execPath, ['-e', "require('luarun')"], { cwd: project, env });
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /cannot find the luarun shared library\. Tried:\n {2}- LUARUN_LIBRARY \(not set\)\n {2}- .*lib\/libluarun\.so \(shipped in the package: no such file\)/);
  }
  // A library copied into the package's lib/ folder is found without LUARUN_LIBRARY.
  fs.mkdirSync(path.join(installed, 'lib'));
  fs.copyFileSync(LIBRARY, path.join(installed, 'lib', 'libluarun.so'));
  const shipped = run(process.execPath, ['-e', program], { cwd: project, env });
  assert.equal(shipped.status, 0, shipped.stderr);
  assert.equal(JSON.parse(shipped.stdout).from, path.join(fs.realpathSync(installed), 'lib', 'libluarun.so'));

  let tsc = null;
  try {
    tsc = require.resolve('typescript/bin/tsc', { paths: [PACKAGE_DIR] });
  } catch {
    t.diagnostic('typescript is not installed (npm ci in bindings/node): the installed declarations were not checked');
    return;
  }
  fs.writeFileSync(path.join(project, 'check.ts'),
    "import { State, render } from 'luarun';\nconst n: number = new State().eval<number>('1');\nconst b: Buffer = render({ width: 8 });\nvoid [n, b];\n");
  const types = run(process.execPath, [tsc, '--noEmit', '--strict', '--types', 'node', '--typeRoots',
                                        path.join(PACKAGE_DIR, 'node_modules', '@types'), 'check.ts'], { cwd: project });
  assert.equal(types.status, 0, `${types.stdout}${types.stderr}`);
});
