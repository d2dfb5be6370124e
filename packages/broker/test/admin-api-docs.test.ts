import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ROUTES } from '../src/http/routes.ts';

const doc = readFileSync(new URL('../../../docs/admin-api.md', import.meta.url), 'utf8');

test('docs/admin-api.md lists every admin route with its right', () => {
  for (const route of ROUTES.filter((r) => r.family === 'admin')) {
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    const row = doc.split('\n').find((line) => line.startsWith(`| \`${route.method} ${path}`));
    assert.ok(row, `${route.method} ${path} is not documented`);
    assert.ok(row.includes(`\`${route.right}\``), `${route.method} ${path}: right ${route.right} not documented`);
  }
});
