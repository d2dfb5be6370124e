import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { JWT_TYP } from '@mandate/sdk/protocol';
import { hashRecord, type AuditRecord } from '../core/audit-chain.ts';
import { signCompact } from '../keys/jws.ts';
import { nodeChainHashing } from '../store/chain-hashing.ts';
import { createAuditFixture, faultKeys, FIXTURE_ISSUER, type AuditFixture } from './audit-fixture.ts';
import { verificationKeysFromJwks, verificationKeysFromStore } from './verification-keys.ts';

/** Five events (seq 1–5), one record call each, then `tamper`, then verify. */
async function withFiveEvents(tamper: (fx: AuditFixture) => Promise<void> | void): Promise<string[]> {
  const fx = await createAuditFixture();
  try {
    await fx.recordEvents(5);
    await tamper(fx);
    const report = await fx.verify();
    assert.equal(report.ok, report.faults.length === 0);
    return faultKeys(report);
  } finally {
    await fx.close();
  }
}

const eventAt = async (fx: AuditFixture, seq: number) => (await fx.store.audit.read('main', seq, 1))[0]!;
const headClaims = (hash: string, seq = 5) => ({ iss: FIXTURE_ISSUER, chain: 'main', seq, hash, iat: 0, time: 0 });

/** What an attacker who can read the private key from the database does: rewrite an event and re-seal. */
async function rewriteLastEvent(fx: AuditFixture): Promise<string> {
  const { hash: _old, ...event } = await eventAt(fx, 5);
  const forged: Omit<AuditRecord, 'hash'> = { ...event, data: { n: 4, forged: true } };
  const hash = hashRecord(forged, nodeChainHashing);
  fx.sql('UPDATE audit_events SET data = ?, hash = ? WHERE seq = 5', JSON.stringify(forged.data), hash);
  return hash;
}

test('an untouched log verifies', async () => {
  assert.deepEqual(await withFiveEvents(() => {}), []);
});

test('an edited data column is a hash mismatch at that seq', async () => {
  assert.deepEqual(await withFiveEvents((fx) => fx.sql(`UPDATE audit_events SET data = '{"n":99}' WHERE seq = 3`)), ['ERR_AUDIT_HASH_MISMATCH@3']);
});

test('an edited type is a hash mismatch at that seq', async () => {
  assert.deepEqual(await withFiveEvents((fx) => fx.sql(`UPDATE audit_events SET type = 'token.revoked' WHERE seq = 2`)), ['ERR_AUDIT_HASH_MISMATCH@2']);
});

test('a deleted middle row is a seq gap and a broken link', async () => {
  assert.deepEqual(await withFiveEvents((fx) => fx.sql('DELETE FROM audit_events WHERE seq = 3')), ['ERR_AUDIT_SEQ_GAP@4', 'ERR_AUDIT_PREV_MISMATCH@4']);
});

test('swapped rows break the links and both hashes', async () => {
  const faults = await withFiveEvents((fx) => {
    fx.sql('UPDATE audit_events SET seq = -1 WHERE seq = 2');
    fx.sql('UPDATE audit_events SET seq = 2 WHERE seq = 4');
    fx.sql('UPDATE audit_events SET seq = 4 WHERE seq = -1');
  });
  assert.deepEqual(faults, [
    'ERR_AUDIT_PREV_MISMATCH@2', 'ERR_AUDIT_HASH_MISMATCH@2', 'ERR_AUDIT_PREV_MISMATCH@3',
    'ERR_AUDIT_PREV_MISMATCH@4', 'ERR_AUDIT_HASH_MISMATCH@4', 'ERR_AUDIT_PREV_MISMATCH@5',
  ]);
});

test('a truncated tail behind a restored earlier head is caught only by the external checkpoint', async () => {
  const fx = await createAuditFixture();
  try {
    await fx.recordEvents(5);
    const saved = (await fx.store.audit.head('main'))!;
    await fx.recordEvents(3);
    fx.sql('DELETE FROM audit_events WHERE seq > 5');
    fx.sql('UPDATE audit_heads SET seq = ?, hash = ?, jws = ? WHERE chain = ?', saved.seq, saved.hash, saved.jws, 'main');
    const report = await fx.verify();
    assert.deepEqual(faultKeys(report), ['ERR_AUDIT_TRUNCATED@8']);
    assert.deepEqual(report.chains, [{ chain: 'main', events: 5, lastSeq: 5, checkpointSeq: 8 }]);
    // The same database without the checkpoint file looks intact but for the missing file.
    rmSync(fx.checkpointFile);
    assert.deepEqual(faultKeys(await fx.verify()), ['ERR_AUDIT_CHECKPOINT_MISSING']);
  } finally {
    await fx.close();
  }
});

test('a truncated tail under the newer head: the head and the checkpoint both point past it', async () => {
  assert.deepEqual(await withFiveEvents((fx) => fx.sql('DELETE FROM audit_events WHERE seq > 3')), ['ERR_AUDIT_TRUNCATED@5', 'ERR_AUDIT_TRUNCATED@5']);
});

test('a chain deleted entirely is caught by its checkpoint', async () => {
  const faults = await withFiveEvents((fx) => {
    fx.sql('DELETE FROM audit_events');
    fx.sql('DELETE FROM audit_heads');
  });
  assert.deepEqual(faults, ['ERR_AUDIT_TRUNCATED@5']);
});

test('a deleted head row is a missing head', async () => {
  assert.deepEqual(await withFiveEvents((fx) => fx.sql('DELETE FROM audit_heads')), ['ERR_AUDIT_HEAD_MISSING@5']);
});

test('a head signed by another key is a signature fault', async () => {
  const faults = await withFiveEvents(async (fx) => {
    const head = (await fx.store.audit.head('main'))!;
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kid = fx.keys.signingKey().kid;
    fx.sql('UPDATE audit_heads SET jws = ?', signCompact({ typ: JWT_TYP.auditHead, kid }, headClaims(head.hash), privateKey));
  });
  assert.deepEqual(faults, ['ERR_AUDIT_HEAD_SIGNATURE@5']);
});

test('a head with another typ is rejected', async () => {
  const faults = await withFiveEvents(async (fx) => {
    const head = (await fx.store.audit.head('main'))!;
    fx.sql('UPDATE audit_heads SET jws = ?', fx.keys.sign({ typ: JWT_TYP.accessToken }, headClaims(head.hash)));
  });
  assert.deepEqual(faults, ['ERR_AUDIT_HEAD_TYP@5']);
});

test('a head row that differs from its signed content is a head mismatch', async () => {
  assert.deepEqual(await withFiveEvents((fx) => fx.sql('UPDATE audit_heads SET seq = 4')), ['ERR_AUDIT_HEAD_MISMATCH@4']);
});

test('a rewritten last event: the sealed head no longer matches it, nor does the checkpoint', async () => {
  assert.deepEqual(await withFiveEvents(async (fx) => void (await rewriteLastEvent(fx))), ['ERR_AUDIT_HEAD_MISMATCH@5', 'ERR_AUDIT_CHECKPOINT_MISMATCH@5']);
});

test('a rewritten last event re-sealed with the stolen key: only the checkpoint catches it', async () => {
  const faults = await withFiveEvents(async (fx) => {
    const hash = await rewriteLastEvent(fx);
    fx.sql('UPDATE audit_heads SET hash = ?, jws = ?', hash, fx.keys.sign({ typ: JWT_TYP.auditHead }, headClaims(hash)));
  });
  assert.deepEqual(faults, ['ERR_AUDIT_CHECKPOINT_MISMATCH@5']);
});

test('an event appended without a new seal is unsealed', async () => {
  const faults = await withFiveEvents(async (fx) => {
    const last = await eventAt(fx, 5);
    const extra: Omit<AuditRecord, 'hash'> = { ...last, seq: 6, prevHash: last.hash, data: {} };
    fx.sql(
      `INSERT INTO audit_events (chain, seq, time, type, actor, approver, mandate_id, jti, evidence_digest, request_id, data, prev_hash, hash)
       VALUES ('main', 6, ?, ?, ?, ?, ?, ?, NULL, ?, '{}', ?, ?)`,
      extra.time, extra.type, extra.actor, extra.approver, extra.mandateId, extra.jti, extra.requestId, extra.prevHash, hashRecord(extra, nodeChainHashing),
    );
  });
  assert.deepEqual(faults, ['ERR_AUDIT_UNSEALED@6']);
});

test('an edited checkpoint line does not verify', async () => {
  const faults = await withFiveEvents((fx) => {
    const lines = readFileSync(fx.checkpointFile, 'utf8').split('\n');
    const [h, p, s] = lines[4]!.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')) as Record<string, unknown>;
    lines[4] = [h, Buffer.from(JSON.stringify({ ...claims, seq: 4 })).toString('base64url'), s].join('.');
    writeFileSync(fx.checkpointFile, lines.join('\n'));
  });
  assert.deepEqual(faults, ['ERR_AUDIT_CHECKPOINT_INVALID']);
});

test('a checkpoint line with another typ is rejected', async () => {
  const faults = await withFiveEvents(async (fx) => {
    const { hash } = await eventAt(fx, 5);
    appendFileSync(fx.checkpointFile, `${fx.keys.sign({ typ: JWT_TYP.accessToken }, headClaims(hash))}\n`);
  });
  assert.deepEqual(faults, ['ERR_AUDIT_CHECKPOINT_TYP@5']);
});

test('a missing checkpoint file is a fault once events exist', async () => {
  assert.deepEqual(await withFiveEvents((fx) => rmSync(fx.checkpointFile)), ['ERR_AUDIT_CHECKPOINT_MISSING']);
});

test('an empty store without a checkpoint file verifies', async () => {
  const fx = await createAuditFixture();
  try {
    assert.deepEqual(await fx.verify(), { ok: true, chains: [], faults: [] });
  } finally {
    await fx.close();
  }
});

test('an undecodable row is reported, not thrown', async () => {
  assert.deepEqual(await withFiveEvents((fx) => fx.sql(`UPDATE audit_events SET data = 'not json' WHERE seq = 3`)), ['ERR_AUDIT_UNREADABLE@1']);
});

test('faults are found across page boundaries, and only once', async () => {
  const fx = await createAuditFixture();
  try {
    await fx.recordEvents(7);
    fx.sql(`UPDATE audit_events SET data = '{}' WHERE seq IN (3, 4)`);
    fx.sql('DELETE FROM audit_events WHERE seq = 6');
    const report = await fx.verify({ pageSize: 2 });
    assert.deepEqual(faultKeys(report), ['ERR_AUDIT_HASH_MISMATCH@3', 'ERR_AUDIT_HASH_MISMATCH@4', 'ERR_AUDIT_SEQ_GAP@7', 'ERR_AUDIT_PREV_MISMATCH@7']);
    assert.deepEqual(report.chains, [{ chain: 'main', events: 6, lastSeq: 7, checkpointSeq: 7 }]);
  } finally {
    await fx.close();
  }
});

test('trusted JWKS: a key swapped into the database fools the store keys but not the trusted set', async () => {
  const fx = await createAuditFixture();
  try {
    await fx.recordEvents(5);
    const trusted = verificationKeysFromJwks(fx.keys.publishedJwks());
    const hash = await rewriteLastEvent(fx);
    // The attacker rewrites the checkpoint file too, and re-seals everything with a key of their own.
    const attacker = await createAuditFixture();
    const [attackerKey] = await attacker.store.keys.list();
    await attacker.close();
    await fx.store.keys.insert(attackerKey!);
    const forged = signCompact({ typ: JWT_TYP.auditHead, kid: attackerKey!.kid }, headClaims(hash), attacker.keys.signingKey().key);
    fx.sql('UPDATE audit_heads SET hash = ?, jws = ?', hash, forged);
    writeFileSync(fx.checkpointFile, `${forged}\n`);

    assert.deepEqual(faultKeys(await fx.verify({ keys: await verificationKeysFromStore(fx.store.keys) })), []);
    assert.deepEqual(faultKeys(await fx.verify({ keys: trusted })), ['ERR_AUDIT_CHECKPOINT_INVALID', 'ERR_AUDIT_HEAD_SIGNATURE@5', 'ERR_AUDIT_CHECKPOINT_MISSING']);
  } finally {
    await fx.close();
  }
});
