import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { AuditEventInput } from '../core/audit-chain.ts';
import type { AuditFilter, AuditSink } from '../ports/audit-sink.ts';
import { createSqliteStore } from '../store/sqlite/index.ts';
import { queryAudit } from './audit-query.ts';

let dir: string;
let store: Awaited<ReturnType<typeof createSqliteStore>>;
const T0 = 1_800_000_000_000;

/** Ten events on the real SQLite store: a mandate's life, an agent's registration, another human's act. */
const EVENTS: [number, AuditEventInput][] = [
  [T0, { type: 'agent.registered', actor: 'usr_admin', data: { agent_id: 'agt_a' } }],
  [T0 + 1, { type: 'mandate.requested', actor: 'agt_a', approver: 'usr_alice', mandateId: 'mdt_1' }],
  [T0 + 2, { type: 'mandate.approved', actor: 'usr_alice', approver: 'usr_alice', mandateId: 'mdt_1' }],
  [T0 + 3, { type: 'token.issued', actor: 'agt_a', approver: 'usr_alice', mandateId: 'mdt_1', jti: 'j1' }],
  [T0 + 3, { type: 'token.issued', actor: 'agt_a', approver: 'usr_alice', mandateId: 'mdt_1', jti: 'j2' }],
  [T0 + 4, { type: 'token.revoked', actor: 'usr_bob', mandateId: 'mdt_1', jti: 'j1' }],
  [T0 + 5, { type: 'mandate.requested', actor: 'agt_b', approver: 'usr_bob', mandateId: 'mdt_2' }],
  [T0 + 6, { type: 'mandate.revoked', actor: 'usr_alice', approver: 'usr_alice', mandateId: 'mdt_1' }],
  [T0 + 7, { type: 'human.added', actor: 'usr_admin' }],
  [T0 + 8, { type: 'agent.suspended', actor: 'usr_bob', data: { agent_id: 'agt_b' } }],
];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mandate-audit-query-'));
  store = await createSqliteStore({ path: join(dir, 'mandate.db') });
  for (const [time, input] of EVENTS) await store.audit.append('main', [input], time, () => 'sealed');
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The same sink without `query`, so the fallback (window + filter in memory) runs. */
const withoutQuery = (): AuditSink => {
  const { query: _unused, ...rest } = store.audit;
  return rest;
};

async function allPages(sink: AuditSink, filter: AuditFilter, size: number): Promise<string[][]> {
  const pages: string[][] = [];
  let before: AuditFilter['before'] = undefined;
  do {
    const page = await queryAudit(sink, { ...filter, ...(before ? { before } : {}) }, size);
    pages.push(page.events.map((e) => `${e.seq}:${e.type}`));
    before = page.next ?? undefined;
  } while (before);
  return pages;
}

for (const [name, sink] of [['query', () => store.audit], ['fallback', withoutQuery]] as const) {
  test(`${name}: pages run newest first without gaps or repeats, also across equal times`, async () => {
    const pages = await allPages(sink(), {}, 3);
    assert.deepEqual(pages.map((p) => p.length), [3, 3, 3, 1]);
    assert.deepEqual(pages.flat().map((e) => Number(e.split(':')[0])), [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
  });

  test(`${name}: filters by type, mandate, human (actor or approver), agent (its calls and mandates) and time`, async () => {
    const types = async (filter: AuditFilter) => (await queryAudit(sink(), filter, 50)).events.map((e) => e.type);
    assert.deepEqual(await types({ type: 'token.issued' }), ['token.issued', 'token.issued']);
    assert.deepEqual(await types({ mandateId: 'mdt_2' }), ['mandate.requested']);
    assert.deepEqual(await types({ human: 'usr_bob' }), ['agent.suspended', 'mandate.requested', 'token.revoked']);
    assert.deepEqual(await types({ agent: { id: 'agt_a', mandateIds: ['mdt_1'] } }), ['mandate.revoked', 'token.revoked', 'token.issued', 'token.issued', 'mandate.approved', 'mandate.requested']);
    assert.deepEqual(await types({ agent: { id: 'agt_b', mandateIds: [] } }), ['mandate.requested']);
    assert.deepEqual(await types({ fromTime: T0 + 5, toTime: T0 + 7 }), ['mandate.revoked', 'mandate.requested']);
    assert.deepEqual(await types({ type: 'token.revoked', human: 'usr_alice' }), []);
  });
}
