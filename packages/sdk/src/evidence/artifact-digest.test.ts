import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigurationError } from '../errors.ts';
import { digestArtifact } from './artifact-digest.ts';

const dir = mkdtempSync(join(tmpdir(), 'mandate-artifact-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a file larger than one stream chunk is digested whole, as sha256:<lowercase hex>', async () => {
  const bytes = randomBytes(200_000);
  const path = join(dir, 'agent.bin');
  writeFileSync(path, bytes);
  assert.equal(await digestArtifact(path), `sha256:${createHash('sha256').update(bytes).digest('hex')}`);
});

test('an empty file has the digest of no bytes', async () => {
  const path = join(dir, 'empty');
  writeFileSync(path, '');
  assert.equal(await digestArtifact(path), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

test('a missing file or no path is a ConfigurationError naming the path', async () => {
  await assert.rejects(digestArtifact(join(dir, 'absent')), (e: Error) => e instanceof ConfigurationError && e.message.includes('absent'));
  await assert.rejects(digestArtifact(''), ConfigurationError);
});
