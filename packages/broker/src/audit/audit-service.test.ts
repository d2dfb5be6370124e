import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { JWT_TYP } from '@mandate/sdk/protocol';
import { MandateError } from '../core/errors.ts';
import { verifyCompact } from '../keys/jws.ts';
import type { AuditRecord } from '../core/audit-chain.ts';
import type { AuditSink } from '../ports/audit-sink.ts';
import { createAuditFixture, FIXTURE_ISSUER } from './audit-fixture.ts';
import { createAuditLog } from './audit-service.ts';

const checkpointLines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);

test('record chains events, seals the head and appends one checkpoint per call', async () => {
  const fx = await createAuditFixture();
  try {
    await fx.recordEvents(2);
    const batch = await fx.audit.record({ type: 'mandate.approved', actor: 'hum_1' }, { type: 'token.issued', actor: 'agt_1', jti: 'j' });
    assert.deepEqual(batch.map((r) => r.seq), [3, 4]);
    assert.equal(batch[1]!.prevHash, batch[0]!.hash);

    const head = await fx.store.audit.head('main');
    assert.deepEqual({ seq: head?.seq, hash: head?.hash }, { seq: 4, hash: batch[1]!.hash });
    const sealed = verifyCompact(head!.jws, (kid) => fx.keys.verificationKey(kid));
    assert.equal(sealed?.header.typ, JWT_TYP.auditHead);
    assert.deepEqual(sealed?.payload, { iss: FIXTURE_ISSUER, chain: 'main', seq: 4, hash: batch[1]!.hash, iat: Math.floor(batch[1]!.time / 1000), time: batch[1]!.time });

    const lines = checkpointLines(fx.checkpointFile);
    assert.equal(lines.length, 3);
    assert.equal(lines[2], head!.jws);
    assert.equal(statSync(fx.checkpointFile).mode & 0o777, 0o600);
    assert.deepEqual(await fx.verify(), { ok: true, chains: [{ chain: 'main', events: 4, lastSeq: 4, checkpointSeq: 4 }], faults: [] });
  } finally {
    await fx.close();
  }
});

test('record with no events writes nothing', async () => {
  const fx = await createAuditFixture();
  try {
    assert.deepEqual(await fx.audit.record(), []);
    assert.equal(await fx.store.audit.head('main'), null);
    assert.throws(() => readFileSync(fx.checkpointFile), { code: 'ENOENT' });
  } finally {
    await fx.close();
  }
});

test('a failed checkpoint write keeps the committed record and is reported to onCheckpointError', async () => {
  const errors: Error[] = [];
  const fx = await createAuditFixture();
  try {
    await fx.recordEvents(2);
    const broken = createAuditLog({
      sink: fx.store.audit, keys: fx.keys, clock: fx.clock, chain: 'main', issuer: FIXTURE_ISSUER,
      checkpointFile: join(fx.dir, 'no-such-dir', 'checkpoints.jsonl'),
      onCheckpointError: (error) => errors.push(error),
    });
    const [record] = await broken.record({ type: 'agent.registered', actor: 'hum_1' });
    assert.equal(record?.seq, 3);
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as NodeJS.ErrnoException).code, 'ENOENT');
    // The store stays authoritative; the external checkpoint merely lags.
    assert.deepEqual(await fx.verify(), { ok: true, chains: [{ chain: 'main', events: 3, lastSeq: 3, checkpointSeq: 2 }], faults: [] });
  } finally {
    await fx.close();
  }
});

test('a failed store commit is ERR_AUDIT_UNAVAILABLE (503) with the cause kept, and no checkpoint is written', async () => {
  const fx = await createAuditFixture();
  try {
    const cause = new Error('disk full');
    const failingSink: AuditSink = { ...fx.store.audit, append: async () => Promise.reject(cause) };
    const audit = createAuditLog({ sink: failingSink, keys: fx.keys, clock: fx.clock, chain: 'main', issuer: FIXTURE_ISSUER, checkpointFile: fx.checkpointFile });
    await assert.rejects(audit.record({ type: 'token.issued', actor: 'agt_1' }), (error: unknown) => {
      assert.ok(error instanceof MandateError);
      assert.equal(error.code, 'ERR_AUDIT_UNAVAILABLE');
      assert.equal(error.status, 503);
      assert.equal(error.message, 'the audit log could not commit the event');
      assert.equal(error.cause, cause);
      return true;
    });
    assert.throws(() => readFileSync(fx.checkpointFile), { code: 'ENOENT' });
  } finally {
    await fx.close();
  }
});

test('record resolves only after the store commit, and writes the checkpoint after it', async () => {
  const fx = await createAuditFixture();
  try {
    let commit!: () => void;
    const committed = new Promise<void>((resolve) => (commit = resolve));
    const slowSink: AuditSink = {
      ...fx.store.audit,
      append: async (...args) => {
        await committed;
        return fx.store.audit.append(...args);
      },
    };
    const audit = createAuditLog({ sink: slowSink, keys: fx.keys, clock: fx.clock, chain: 'main', issuer: FIXTURE_ISSUER, checkpointFile: fx.checkpointFile });
    let resolved = false;
    const pending = audit.record({ type: 'token.issued', actor: 'agt_1' }).then(() => (resolved = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(resolved, false);
    assert.throws(() => readFileSync(fx.checkpointFile), { code: 'ENOENT' });
    commit();
    await pending;
    assert.equal(checkpointLines(fx.checkpointFile).length, 1);
  } finally {
    await fx.close();
  }
});

describe('group commit', () => {
  /** A sink that counts appends and holds each one until released. */
  function gatedSink(fx: Awaited<ReturnType<typeof createAuditFixture>>, fail?: Error) {
    const calls: number[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const sink: AuditSink = {
      ...fx.store.audit,
      append: async (chain, inputs, time, seal) => {
        calls.push(inputs.length);
        await gate;
        if (fail) throw fail;
        return fx.store.audit.append(chain, inputs, time, seal);
      },
    };
    return { sink, calls, open };
  }

  test('records made in one turn commit in one append, each caller gets its own records in call order', async () => {
    const fx = await createAuditFixture();
    try {
      const { sink, calls, open } = gatedSink(fx);
      const audit = createAuditLog({ sink, keys: fx.keys, clock: fx.clock, chain: 'main', issuer: FIXTURE_ISSUER, checkpointFile: fx.checkpointFile });
      const settled: number[] = [];
      const pending = [1, 2, 3].map((n) =>
        audit.record(...Array.from({ length: n }, (_, i) => ({ type: 'token.issued' as const, actor: `agt_${n}`, jti: `j${n}-${i}` }))).then((records) => {
          settled.push(n);
          return records;
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(calls, [6], 'one append with the six events of three callers');
      assert.deepEqual(settled, [], 'no caller resolves before the commit');
      open();
      const results = await Promise.all(pending);
      assert.deepEqual(results.map((records) => records.map((r) => r.jti)), [['j1-0'], ['j2-0', 'j2-1'], ['j3-0', 'j3-1', 'j3-2']]);
      assert.deepEqual(results.flat().map((r) => r.seq), [1, 2, 3, 4, 5, 6]);
      assert.equal(checkpointLines(fx.checkpointFile).length, 1, 'one sealed head per batch');
      assert.equal((await fx.verify()).ok, true);
    } finally {
      await fx.close();
    }
  });

  test('a turn with more events than one append takes is split into appends of at most 500, in order', async () => {
    const fx = await createAuditFixture();
    try {
      const { sink, calls, open } = gatedSink(fx);
      open();
      const audit = createAuditLog({ sink, keys: fx.keys, clock: fx.clock, chain: 'main', issuer: FIXTURE_ISSUER, checkpointFile: fx.checkpointFile });
      const many = (tag: string, n: number) => Array.from({ length: n }, (_, i) => ({ type: 'token.issued' as const, actor: 'agt_1', jti: `${tag}-${i}` }));
      const results = await Promise.all([audit.record(...many('a', 300)), audit.record(...many('b', 300)), audit.record(...many('c', 100))]);
      assert.deepEqual(calls, [300, 400]);
      assert.deepEqual(results.map((r) => [r[0]!.seq, r.at(-1)!.seq]), [[1, 300], [301, 600], [601, 700]]);
      assert.equal((await fx.verify()).ok, true);
    } finally {
      await fx.close();
    }
  });

  test('a failed commit fails every caller of the batch, stores none of it, and the next batch commits (ERR_AUDIT_UNAVAILABLE)', async () => {
    const fx = await createAuditFixture();
    try {
      const { sink, open } = gatedSink(fx, new Error('disk full'));
      const audit = createAuditLog({ sink, keys: fx.keys, clock: fx.clock, chain: 'main', issuer: FIXTURE_ISSUER, checkpointFile: fx.checkpointFile });
      const batch = [audit.record({ type: 'token.issued', actor: 'agt_1' }), audit.record({ type: 'token.issued', actor: 'agt_2' })];
      open();
      const outcomes = await Promise.allSettled(batch);
      assert.deepEqual(outcomes.map((o) => o.status === 'rejected' && (o.reason as MandateError).code), ['ERR_AUDIT_UNAVAILABLE', 'ERR_AUDIT_UNAVAILABLE']);
      assert.equal(await fx.store.audit.head('main'), null);
      const healthy = createAuditLog({ sink: fx.store.audit, keys: fx.keys, clock: fx.clock, chain: 'main', issuer: FIXTURE_ISSUER, checkpointFile: fx.checkpointFile });
      assert.equal((await healthy.record({ type: 'token.issued', actor: 'agt_3' }))[0]?.seq, 1);
    } finally {
      await fx.close();
    }
  });
});

test('within writes the checkpoint only when its seal covers exactly its own last committed event', async () => {
  const fx = await createAuditFixture();
  try {
    const record = (seq: number, hash: string) => ({ seq, hash }) as AuditRecord;
    const within = fx.audit.within!;
    // Sealed its own last event: the checkpoint is written.
    await within(async ({ seal }) => (seal({ chain: 'main', seq: 1, hash: 'h1' }, 1), { records: [record(1, 'h1')] }));
    // A seal from a rolled-back attempt (another seq, or the same seq with another hash): void.
    await within(async ({ seal }) => (seal({ chain: 'main', seq: 3, hash: 'h3-first-attempt' }, 1), { records: [record(2, 'h2')] }));
    await within(async ({ seal }) => (seal({ chain: 'main', seq: 2, hash: 'h2-first-attempt' }, 1), { records: [record(2, 'h2')] }));
    // Sealed, but nothing committed (a refused mint): nothing written.
    await within(async ({ seal }) => (seal({ chain: 'main', seq: 2, hash: 'h2' }, 1), { records: [] }));
    // Another caller of the group commit sealed the batch: nothing written by this one.
    await within(async () => ({ records: [record(3, 'h3')] }));
    assert.equal(checkpointLines(fx.checkpointFile).length, 1);
  } finally {
    await fx.close();
  }
});
