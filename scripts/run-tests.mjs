#!/usr/bin/env node
// Runs every test file with node:test through tsx, one file after another (2-core machines).
//   node scripts/run-tests.mjs            the whole suite (`npm test`)
//   node scripts/run-tests.mjs --long     long fuzzing/soak runs (`npm run test:long`)
//   node scripts/run-tests.mjs <files…>   just those files
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const long = args.includes('--long');
const named = args.filter((a) => !a.startsWith('--'));

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

const pattern = long ? /\.long\.test\.ts$/ : /(?<!\.long)\.test\.ts$/;
const files = named.length > 0 ? named : [...walk(join(root, 'packages')), ...walk(join(root, 'bench'))]
  .filter((f) => pattern.test(f))
  .map((f) => relative(root, f))
  .sort();

if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

const result = spawnSync(
  process.execPath,
  // A file's whole run counts against --test-timeout: long files (the soak: 10 min + setup) get an hour.
  ['--import', 'tsx', '--test', '--test-concurrency=1', `--test-timeout=${files.some((f) => /\.long\.test\.ts$/.test(f)) ? 3_600_000 : 300_000}`, ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
