import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createAuditFixture, type AuditFixture } from '../audit/audit-fixture.ts';
import { MandateError } from '../core/errors.ts';
import type { RevocationWrite } from '../ports/change-feed.ts';
import { aCredential, aHuman, anAgent } from '../store/conformance/records.ts';
import { commitRevocation } from './revocation-commit.ts';

/** A real SQLite store, key and audit log: one token of agt_1 to revoke. */
async function withToken(fx: AuditFixture): Promise<RevocationWrite> {
  await fx.store.humans.insert(aHuman(1));
  await fx.store.agents.insert(anAgent(1, ['usr_1']));
  await fx.store.credentials.insert(aCredential('jti-1', 'agt_1', null));
  return { credentials: { jti: 'jti-1' }, change: { topic: 'token.revoked', key: 'jti-1', at: 1_700_000_000_000 } };
}
const event = () => [{ type: 'token.revoked' as const, actor: 'usr_1', jti: 'jti-1', data: { by: 'human' } }];

test('a revocation commits with its audit event and change row; the head is sealed and checkpointed, and the chain verifies', async () => {
  const fx = await createAuditFixture();
  try {
    const outcome = await commitRevocation({ store: fx.store, audit: fx.audit }, await withToken(fx), event);
    assert.deepEqual(outcome, { applied: true, credentialsRevoked: 1, cursor: outcome.cursor });
    assert.equal((await fx.store.credentials.get('jti-1'))?.revokedAt, 1_700_000_000_000);
    assert.deepEqual((await fx.store.changes.since(0, 10)).map((c) => [c.topic, c.key]), [['token.revoked', 'jti-1']]);
    assert.deepEqual((await fx.store.audit.byJti('jti-1')).map((e) => [e.seq, e.type]), [[1, 'token.revoked']]);
    const lines = readFileSync(fx.checkpointFile, 'utf8').split('\n').filter(Boolean);
    assert.deepEqual(lines, [(await fx.store.audit.head('main'))!.jws], 'the sealed head went to the checkpoint file');
    assert.deepEqual(await fx.verify(), { ok: true, chains: [{ chain: 'main', events: 1, lastSeq: 1, checkpointSeq: 1 }], faults: [] });
  } finally {
    await fx.close();
  }
});

test('when the audit commit fails (the signer is down), nothing is revoked or published: ERR_AUDIT_UNAVAILABLE, and a retry succeeds', async () => {
  let signerDown = true;
  const fx = await createAuditFixture();
  const sign: typeof fx.keys.sign = (...args) => {
    if (signerDown) throw new Error('signer down');
    return fx.keys.sign(...args);
  };
  const failing = await createAuditFixture({ keys: { sign } });
  try {
    const write = await withToken(failing);
    await assert.rejects(commitRevocation({ store: failing.store, audit: failing.audit }, write, event), (error: unknown) => {
      assert.ok(error instanceof MandateError);
      assert.equal(error.code, 'ERR_AUDIT_UNAVAILABLE');
      return true;
    });
    assert.equal((await failing.store.credentials.get('jti-1'))?.revokedAt, null, 'the token is not revoked (its status-list bit stays 0)');
    assert.deepEqual(await failing.store.changes.since(0, 10), [], 'no change row: no replica or push hears of it');
    assert.equal(await failing.store.audit.head('main'), null);
    signerDown = false;
    assert.equal((await commitRevocation({ store: failing.store, audit: failing.audit }, write, event)).applied, true);
  } finally {
    await Promise.all([fx.close(), failing.close()]);
  }
});
