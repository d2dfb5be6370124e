import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, type ConfigIssue } from '../../src/config/load.ts';

/** Loads `config` from a file, as `mandate serve --config` does, and returns the issues it must fail with. */
export function configIssues(config: Record<string, unknown>): ConfigIssue[] {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-config-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  try {
    loadConfig({ flags: { config: join(dir, 'config.json') }, env: {} });
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.issues;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return assert.fail('expected a config error');
}
