import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/load.ts';
import { assertBothOutcomes, runTargets } from './support/fuzz-harness.ts';
import { parserTargets } from './support/fuzz-parser-targets.ts';

// Seed-fixed share of the parser fuzzing for `npm test` (fuzz-parsers.long.test.ts: new seed, 20×).
const { targets, close } = parserTargets();
after(close);

test('3,000 generated and mutated inputs at every parser (fixed seed): only typed rejections, no hang', async () => {
  const tallies = await runTargets(targets, 3_000, 20261124);
  assert.ok(tallies.reduce((sum, t) => sum + t.tried, 0) >= 3_000);
  // Mutations keep some inputs valid and break others: both outcomes are reached at every target.
  for (const tally of tallies) assertBothOutcomes(tally);
});

// Found by the config fuzzing: a member with an empty name gave "config error at : unknown key".
test('a config key with an empty name is still named in the error (as "")', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-fuzz-empty-key-'));
  try {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ '': 1, audiences: { '': { actions: ['read'] } } }));
    assert.throws(() => loadConfig({ flags: { config: file }, env: {}, cwd: dir }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.issues.map((i) => i.path).sort(), ['""', 'audiences.""']);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Found by the config fuzzing: an issuer that is no URL crashed the cross-field check with
// "TypeError: Invalid URL" instead of the dotted-path error the URL check already gave.
test('an issuer that is not a URL fails with the issuer path, not a TypeError', () => {
  for (const issuer of ['X$JW~W', 'not a url', 'https://']) {
    assert.throws(() => loadConfig({ flags: { issuer }, env: {} }), (error: unknown) => {
      assert.ok(error instanceof ConfigError, `${issuer}: ${String(error)}`);
      assert.deepEqual(error.issues.map((i) => i.path), ['issuer']);
      return true;
    });
  }
});
