import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { configMarkdownTable, describeConfig } from './describe.ts';

test('every config key has a description', () => {
  const keys = describeConfig();
  assert.ok(keys.length >= 15);
  for (const key of keys) assert.ok(key.description.length > 0, `${key.path} has no description`);
});

test('docs/configuration.md lists the current schema (npm run docs:config regenerates it)', () => {
  const doc = readFileSync(new URL('../../../../docs/configuration.md', import.meta.url), 'utf8');
  assert.ok(doc.includes(configMarkdownTable()), 'docs/configuration.md is out of date: run npm run docs:config');
});
