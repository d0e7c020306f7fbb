'use strict';
// Sets the version of package.json and package-lock.json to the crate's: the first line
// `version = "..."` of the repository's root Cargo.toml is the one place it is written.
// test/version.test.js fails when they disagree.
//
//   node bindings/node/tools/sync-version.js      (or `npm run generate`)
const fs = require('node:fs');
const path = require('node:path');

const PACKAGE_DIR = path.resolve(__dirname, '..');
/** The repository's root manifest. */
const CARGO_TOML = path.resolve(PACKAGE_DIR, '..', '..', 'Cargo.toml');
/** The files whose version follows it. */
const PACKAGE_JSON = path.join(PACKAGE_DIR, 'package.json');
const PACKAGE_LOCK = path.join(PACKAGE_DIR, 'package-lock.json');

/**
 * The version a Cargo.toml gives: its first line `version = "..."`.
 * @param {string} manifest the text of Cargo.toml
 * @returns {string}
 */
function cargoVersion(manifest) {
  const match = manifest.match(/^version = "([^"]+)"/m);
  if (!match) throw new Error(`${CARGO_TOML} has no line \`version = "..."\``);
  return match[1];
}

/** Writes `version` into package.json and both places package-lock.json keeps it. */
function writeVersion(version) {
  const pkg = JSON.parse(fs.readFileSync(PACKAGE_JSON, 'utf8'));
  pkg.version = version;
  fs.writeFileSync(PACKAGE_JSON, `${JSON.stringify(pkg, null, 2)}\n`);
  const lock = JSON.parse(fs.readFileSync(PACKAGE_LOCK, 'utf8'));
  lock.version = version;
  lock.packages[''].version = version;
  fs.writeFileSync(PACKAGE_LOCK, `${JSON.stringify(lock, null, 2)}\n`);
}

if (require.main === module) {
  const version = cargoVersion(fs.readFileSync(CARGO_TOML, 'utf8'));
  writeVersion(version);
  console.log(`package.json and package-lock.json: version ${version} (from ${path.relative(process.cwd(), CARGO_TOML)})`);
}

module.exports = { CARGO_TOML, PACKAGE_JSON, PACKAGE_LOCK, cargoVersion, writeVersion };
