'use strict';
// The package's version is the crate's: the first `version = "..."` line of the root
// Cargo.toml. `npm run generate` (tools/sync-version.js) copies it here.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { CARGO_TOML, PACKAGE_JSON, PACKAGE_LOCK, cargoVersion } = require('../tools/sync-version');

const version = cargoVersion(fs.readFileSync(CARGO_TOML, 'utf8'));

test(`package.json has the version of Cargo.toml (${version}); run \`npm run generate\` when this fails`, () => {
  assert.equal(JSON.parse(fs.readFileSync(PACKAGE_JSON, 'utf8')).version, version);
  const lock = JSON.parse(fs.readFileSync(PACKAGE_LOCK, 'utf8'));
  assert.equal(lock.version, version, 'package-lock.json');
  assert.equal(lock.packages[''].version, version, 'package-lock.json packages[""]');
});

test('the version is read from the first `version = "..."` line only', () => {
  const manifest = '[workspace.package]\nversion = "2.3.4"\n\n[dependencies]\nversion = "9.9.9"\n';
  assert.equal(cargoVersion(manifest), '2.3.4');
  assert.equal(cargoVersion('[package]\nname = "x"\n  version = "1.0.0"\nversion = "1.2.3-rc.1"\n'), '1.2.3-rc.1');
  assert.throws(() => cargoVersion('[package]\nname = "x"\n'), /has no line `version = "..."`/);
});
