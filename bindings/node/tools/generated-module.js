'use strict';
// The shape every generated file of this binding shares: a banner naming its generator
// and its freshness test, then one frozen object.

/**
 * The source of a generated module exporting one frozen object.
 * @param {{tool: string, test: string, doc: string, entries: string[]}} parts the
 *   generator's file name, the test that checks freshness, the object's doc comment and
 *   its `key: value` lines (without indentation or commas)
 * @returns {string}
 */
function frozenModule({ tool, test, doc, entries }) {
  return [
    "'use strict';",
    `// Generated from include/luarun.h by tools/${tool}; do not edit by hand.`,
    `// test/${test} fails when this file is stale: run \`npm run generate\`.`,
    '',
    `/** ${doc} */`,
    'module.exports = Object.freeze({',
    ...entries.map((entry) => `  ${entry},`),
    '});',
    '',
  ].join('\n');
}

module.exports = { frozenModule };
