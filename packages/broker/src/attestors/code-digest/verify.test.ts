import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import type { EvidenceBinding } from '../../ports/attestor.ts';
import { create } from './index.ts';

const attestor = create({});
const binding: EvidenceBinding = { nonce: 'n', jkt: 'k', agentId: 'agt_AAAAAAAAAAAAAAAAAAAAAA', now: 0, expectedAudience: 'mandate:x' };
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const artifact = sha256('the agent binary');

const rejects = (evidence: unknown, reason: string) =>
  assert.rejects(attestor.verify(evidence, binding), (e: { code?: string; details?: { reason?: string } }) => {
    assert.equal(e.code, 'ERR_CODE_DIGEST_MALFORMED');
    assert.equal(e.details?.reason, reason);
    return true;
  });

describe('code-digest', () => {
  test('a well-formed digest is only a warning: a claim, not a measurement (PROTOCOL §3)', async () => {
    const result = await attestor.verify({ digest: `sha256:${artifact}` }, binding);
    assert.equal(result.status, 'warning');
    assert.deepEqual(result.claims, { digest: `sha256:${artifact}` });
    assert.deepEqual(result.measured, []);
    assert.deepEqual(result.affirmableBy, ['digest']);
    assert.equal(result.evidenceDigest, sha256(`{"digest":"sha256:${artifact}"}`));
  });

  test('upper-case hex is emitted lower-case, so equalities compare one spelling', async () => {
    const result = await attestor.verify({ digest: `sha256:${artifact.toUpperCase()}` }, binding);
    assert.equal(result.claims.digest, `sha256:${artifact}`);
  });

  test('evidence that is not an object → ERR_CODE_DIGEST_MALFORMED (shape)', () => rejects(`sha256:${artifact}`, 'shape'));
  test('extra members → ERR_CODE_DIGEST_MALFORMED (members)', () => rejects({ digest: `sha256:${artifact}`, path: '/bin/agent' }, 'members'));
  test('digest not a string → ERR_CODE_DIGEST_MALFORMED (type)', () => rejects({ digest: 42 }, 'type'));
  test('another algorithm → ERR_CODE_DIGEST_MALFORMED (algorithm)', () => rejects({ digest: `sha1:${artifact.slice(0, 40)}` }, 'algorithm'));
  test('wrong length or not hex → ERR_CODE_DIGEST_MALFORMED (value)', () => rejects({ digest: `sha256:${artifact.slice(1)}z` }, 'value'));
});
