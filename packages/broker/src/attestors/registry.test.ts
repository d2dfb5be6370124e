import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { ATTESTOR_IDS, attestorsConfigSchema, createAttestors } from './registry.ts';

const here = new URL('.', import.meta.url);
const folders = readdirSync(here, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
const deps = { replay: { checkAndInsert: async () => true, seen: async () => false, purgeExpired: async () => 0 }, clock: { now: () => 0 } };

test('the registry lists every attestor folder, each under its folder name (id = folder = config key)', () => {
  assert.deepEqual([...ATTESTOR_IDS].sort(), [...folders].sort());
});

test('every attestor folder has the same shape: index.ts, verify.ts, README.md, tests', () => {
  for (const folder of folders)
    for (const file of ['index.ts', 'verify.ts', 'README.md', 'verify.test.ts']) assert.ok(existsSync(new URL(`${folder}/${file}`, here)), `${folder}/${file} is missing`);
});

test('only the attestors present in the config are built', () => {
  assert.deepEqual([...createAttestors(attestorsConfigSchema.parse({ 'code-digest': {} }), deps).keys()], ['code-digest']);
  assert.equal(createAttestors(attestorsConfigSchema.parse(undefined), deps).size, 0);
});
