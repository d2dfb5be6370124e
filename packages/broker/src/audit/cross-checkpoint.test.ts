import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { JWT_TYP } from '@mandate/sdk/protocol';
import { hashRecord, type AuditRecord } from '../core/audit-chain.ts';
import { signCompact } from '../keys/jws.ts';
import type { AuditLog } from '../ports/audit-log.ts';
import { nodeChainHashing } from '../store/chain-hashing.ts';
import { createAuditFixture, faultKeys, FIXTURE_ISSUER, type AuditFixture } from './audit-fixture.ts';
import { createAuditLog } from './audit-service.ts';
import { createCrossCheckpointer, CROSS_CHECKPOINT_EVENT, CROSS_CHECKPOINT_TYP, type CrossCheckpointer } from './cross-checkpoint.ts';

/**
 * PROTOCOL §9 with two replicas on one store: chain `main` (replica A) and chain `b` (replica B),
 * both writing to the one checkpoint file as replicas on one host would. A pins B's head.
 */
interface Pair {
  fx: AuditFixture;
  b: AuditLog;
  crossA: CrossCheckpointer;
  crossB: CrossCheckpointer;
}

async function withPair(run: (pair: Pair) => Promise<void>): Promise<void> {
  const fx = await createAuditFixture();
  try {
    const b = createAuditLog({ sink: fx.store.audit, keys: fx.keys, clock: fx.clock, chain: 'b', issuer: FIXTURE_ISSUER, checkpointFile: fx.checkpointFile });
    const cross = (chain: string, audit: AuditLog) => createCrossCheckpointer({ sink: fx.store.audit, audit, keys: fx.keys, clock: fx.clock, chain, issuer: FIXTURE_ISSUER });
    await run({ fx, b, crossA: cross('main', fx.audit), crossB: cross('b', b) });
  } finally {
    await fx.close();
  }
}

const recordOnB = async (b: AuditLog, count: number) => {
  for (let i = 0; i < count; i++) await b.record({ type: 'token.issued', actor: 'agt_2', jti: `b-${i}`, data: { i } });
};

/** Keeps only the checkpoint lines of `chain` up to `seq` (and every other chain's): an attacker on the host. */
function dropCheckpointsAfter(fx: AuditFixture, chain: string, seq: number): void {
  const kept = readFileSync(fx.checkpointFile, 'utf8').split('\n').filter((line) => {
    if (!line) return false;
    const claims = JSON.parse(Buffer.from(line.split('.')[1]!, 'base64url').toString()) as { chain: string; seq: number };
    return claims.chain !== chain || claims.seq <= seq;
  });
  writeFileSync(fx.checkpointFile, kept.map((line) => `${line}\n`).join(''));
}

test('a clean pair verifies; each chain pins the other head, signed', async () => {
  await withPair(async ({ fx, b, crossA, crossB }) => {
    await fx.recordEvents(3);
    await recordOnB(b, 2);
    const pinned = await crossA.write();
    assert.equal(pinned?.type, CROSS_CHECKPOINT_EVENT);
    assert.equal(pinned?.chain, 'main');
    const bHead = (await fx.store.audit.head('b'))!;
    assert.deepEqual(pinned?.data.heads, [{ chain: 'b', seq: 2, hash: bHead.hash }]);
    const header = JSON.parse(Buffer.from(String(pinned?.data.jws).split('.')[0]!, 'base64url').toString()) as { typ: string };
    assert.equal(header.typ, CROSS_CHECKPOINT_TYP);
    assert.equal((await crossB.write())?.chain, 'b');
    const report = await fx.verify();
    assert.deepEqual(report.faults, []);
    assert.deepEqual(report.chains.map((c) => [c.chain, c.lastSeq]), [['b', 3], ['main', 4]]);
  });
});

test('nothing is written while no other head moved', async () => {
  await withPair(async ({ fx, b, crossA }) => {
    await recordOnB(b, 1);
    assert.ok(await crossA.write());
    assert.equal(await crossA.write(), null);
    await recordOnB(b, 1);
    assert.deepEqual(((await crossA.write())?.data.heads as Array<{ seq: number }>).map((h) => h.seq), [2]);
    assert.deepEqual((await fx.store.audit.read('main', 1, 10)).map((r) => r.type), [CROSS_CHECKPOINT_EVENT, CROSS_CHECKPOINT_EVENT]);
  });
});

test('a single chain (SQLite, one process) writes no cross-checkpoint and verifies as before', async () => {
  await withPair(async ({ fx, crossA }) => {
    await fx.recordEvents(3);
    assert.equal(await crossA.write(), null);
    assert.deepEqual(await fx.store.audit.chains(), ['main']);
    assert.deepEqual(faultKeys(await fx.verify()), []);
  });
});

test('chain B truncated behind a restored older head, its checkpoint lines gone: caught by A’s cross-checkpoint', async () => {
  await withPair(async ({ fx, b, crossA }) => {
    await recordOnB(b, 2);
    const saved = (await fx.store.audit.head('b'))!;
    await recordOnB(b, 3);
    await crossA.write();
    fx.sql('DELETE FROM audit_events WHERE chain = ? AND seq > 2', 'b');
    fx.sql('UPDATE audit_heads SET seq = ?, hash = ?, jws = ? WHERE chain = ?', saved.seq, saved.hash, saved.jws, 'b');
    dropCheckpointsAfter(fx, 'b', 2);
    const report = await fx.verify();
    assert.deepEqual(faultKeys(report), ['ERR_AUDIT_CROSS_CHECKPOINT_TRUNCATED@5']);
    assert.equal(report.faults[0]?.chain, 'b');
  });
});

test('chain B deleted entirely, with its checkpoint lines: caught by A’s cross-checkpoint', async () => {
  await withPair(async ({ fx, b, crossA }) => {
    await recordOnB(b, 2);
    await crossA.write();
    fx.sql('DELETE FROM audit_events WHERE chain = ?', 'b');
    fx.sql('DELETE FROM audit_heads WHERE chain = ?', 'b');
    dropCheckpointsAfter(fx, 'b', 0);
    assert.deepEqual(faultKeys(await fx.verify()), ['ERR_AUDIT_CROSS_CHECKPOINT_TRUNCATED@2']);
  });
});

test('an event of B rewritten and re-sealed with the stolen key, with a forged checkpoint line: caught by A’s cross-checkpoint', async () => {
  await withPair(async ({ fx, b, crossA }) => {
    await recordOnB(b, 2);
    await crossA.write();
    const { hash: _old, ...event } = (await fx.store.audit.read('b', 2, 1))[0]!;
    const forged: Omit<AuditRecord, 'hash'> = { ...event, data: { i: 1, forged: true } };
    const hash = hashRecord(forged, nodeChainHashing);
    fx.sql('UPDATE audit_events SET data = ?, hash = ? WHERE chain = ? AND seq = 2', JSON.stringify(forged.data), hash, 'b');
    const seal = fx.keys.sign({ typ: JWT_TYP.auditHead }, { iss: FIXTURE_ISSUER, chain: 'b', seq: 2, hash, iat: 0, time: 0 });
    fx.sql('UPDATE audit_heads SET hash = ?, jws = ? WHERE chain = ?', hash, seal, 'b');
    dropCheckpointsAfter(fx, 'b', 1);
    appendFileSync(fx.checkpointFile, `${seal}\n`);
    assert.deepEqual(faultKeys(await fx.verify()), ['ERR_AUDIT_CROSS_CHECKPOINT_MISMATCH@2']);
  });
});

test('a cross-checkpoint signed by an untrusted key is invalid and pins nothing', async () => {
  await withPair(async ({ fx, b }) => {
    await recordOnB(b, 1);
    const bHead = (await fx.store.audit.head('b'))!;
    const heads = [{ chain: 'b', seq: 1, hash: bHead.hash }];
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jws = signCompact({ typ: CROSS_CHECKPOINT_TYP, kid: fx.keys.signingKey().kid }, { iss: FIXTURE_ISSUER, chain: 'main', heads, iat: 0 }, privateKey);
    const [record] = await fx.audit.record({ type: CROSS_CHECKPOINT_EVENT, actor: null, data: { heads, jws } });
    assert.deepEqual(faultKeys(await fx.verify()), [`ERR_AUDIT_CROSS_CHECKPOINT_INVALID@${record!.seq}`]);
  });
});

test('a cross-checkpoint whose signed heads differ from the event’s is invalid', async () => {
  await withPair(async ({ fx, b }) => {
    await recordOnB(b, 2);
    const signedHeads = [{ chain: 'b', seq: 2, hash: (await fx.store.audit.head('b'))!.hash }];
    const jws = fx.keys.sign({ typ: CROSS_CHECKPOINT_TYP }, { iss: FIXTURE_ISSUER, chain: 'main', heads: signedHeads, iat: 0 });
    const shown = [{ chain: 'b', seq: 1, hash: (await fx.store.audit.read('b', 1, 1))[0]!.hash }];
    const [record] = await fx.audit.record({ type: CROSS_CHECKPOINT_EVENT, actor: null, data: { heads: shown, jws } });
    assert.deepEqual(faultKeys(await fx.verify()), [`ERR_AUDIT_CROSS_CHECKPOINT_INVALID@${record!.seq}`]);
  });
});

test('a cross-checkpoint JWS of another typ is invalid', async () => {
  await withPair(async ({ fx, b }) => {
    await recordOnB(b, 1);
    const heads = [{ chain: 'b', seq: 1, hash: (await fx.store.audit.head('b'))!.hash }];
    const jws = fx.keys.sign({ typ: JWT_TYP.auditHead }, { iss: FIXTURE_ISSUER, chain: 'main', heads, iat: 0 });
    const [record] = await fx.audit.record({ type: CROSS_CHECKPOINT_EVENT, actor: null, data: { heads, jws } });
    const report = await fx.verify();
    assert.deepEqual(faultKeys(report), [`ERR_AUDIT_CROSS_CHECKPOINT_INVALID@${record!.seq}`]);
    assert.match(report.faults[0]!.message, /typ audit-head\+jwt/);
  });
});

test('a signed cross-checkpoint with malformed heads is invalid', async () => {
  await withPair(async ({ fx }) => {
    const heads = [{ chain: 'b', seq: 0, hash: 'not-a-seq' }];
    const jws = fx.keys.sign({ typ: CROSS_CHECKPOINT_TYP }, { iss: FIXTURE_ISSUER, chain: 'main', heads, iat: 0 });
    const [record] = await fx.audit.record({ type: CROSS_CHECKPOINT_EVENT, actor: null, data: { heads, jws } });
    const report = await fx.verify();
    assert.deepEqual(faultKeys(report), [`ERR_AUDIT_CROSS_CHECKPOINT_INVALID@${record!.seq}`]);
    assert.match(report.faults[0]!.message, /malformed heads/);
  });
});
