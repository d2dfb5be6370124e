import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { GENESIS_HASH, type AuditEventType, type AuditRecord } from '../core/audit-chain.ts';
import { toCsv } from '../core/csv.ts';
import { MandateError } from '../core/errors.ts';
import { createAuditFixture, type AuditFixture } from './audit-fixture.ts';
import { createAuditLog } from './audit-service.ts';
import { decodeCursor, readAll, readExportPage, toJsonLine } from './export-jsonl.ts';
import { OCSF_MAPPING, OCSF_VERSION, toOcsf } from './export-ocsf.ts';

/** Audit export: time-range paging with a cursor, JSON lines, and OCSF 1.3.0 validated against the pinned classes' schema. */

const schema = JSON.parse(readFileSync(new URL('../../test/data/ocsf-1.3.0-classes.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const validate = new Ajv({ strict: true, strictRequired: false, allErrors: true }).compile(schema);
const key = (r: AuditRecord) => `${r.chain}:${r.seq}`;

describe('paging (JSON lines)', () => {
  let fx: AuditFixture;
  let all: AuditRecord[];
  before(async () => {
    fx = await createAuditFixture();
    const other = createAuditLog({ sink: fx.store.audit, keys: fx.keys, clock: fx.clock, chain: 'replica-2', issuer: 'https://broker.test', checkpointFile: fx.checkpointFile });
    // Several events per commit share one millisecond: the cursor must page inside a millisecond.
    for (let i = 0; i < 6; i++) {
      const batch = Array.from({ length: 1 + (i % 3) }, (_, n) => ({ type: 'human.added' as const, actor: 'usr_1', data: { i, n } }));
      await fx.audit.record(...batch);
      await other.record(...batch);
    }
    all = await fx.store.audit.window(0, Number.MAX_SAFE_INTEGER, 1000);
  });
  after(() => fx.close());

  test('pages of 4 return every event of the range exactly once, in (time, chain, seq) order, then a null cursor', async () => {
    const seen: AuditRecord[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<typeof readExportPage>> = await readExportPage(fx.store.audit, { from: 0, to: Number.MAX_SAFE_INTEGER, cursor, limit: 4 });
      assert.ok(page.records.length <= 4);
      seen.push(...page.records);
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null);
    assert.equal(all.length, 24);
    assert.deepEqual(seen.map(key), all.map(key));
    assert.equal(pages, 6);
  });

  test('from is inclusive, to exclusive', async () => {
    const times = [...new Set(all.map((r) => r.time))];
    const inRange = [];
    for await (const r of readAll(fx.store.audit, times[1]!, times[3]!, 2)) inRange.push(r);
    assert.deepEqual(inRange.map(key), all.filter((r) => r.time >= times[1]! && r.time < times[3]!).map(key));
  });

  test('a JSON line is the hashed members plus the hash', () => {
    const line = toJsonLine(all[0]!);
    assert.deepEqual(Object.keys(line), ['chain', 'seq', 'time', 'type', 'actor', 'approver', 'mandate_id', 'jti', 'evidence_digest', 'request_id', 'data', 'prev_hash', 'hash']);
    assert.equal(line.prev_hash, GENESIS_HASH);
  });

  test('a cursor this code did not make (ERR_REQUEST_INVALID_PARAMETER)', () => {
    for (const bad of ['not-base64-json', Buffer.from('[1,"main"]').toString('base64url'), Buffer.from('{"a":1}').toString('base64url')])
      assert.throws(() => decodeCursor(bad), (error: unknown) => error instanceof MandateError && error.code === 'ERR_REQUEST_INVALID_PARAMETER' && error.details.parameter === 'cursor');
  });
});

describe('OCSF 1.3.0', () => {
  const record = (type: string, overrides: Partial<AuditRecord> = {}): AuditRecord => ({
    chain: 'main', seq: 7, time: 1_767_225_600_000, type: type as AuditEventType, actor: 'usr_AAAAAAAAAAAAAAAAAAAAAA', approver: null,
    mandateId: 'mdt_AAAAAAAAAAAAAAAAAAAAAA', jti: 'jti-1', evidenceDigest: null, requestId: 'req_AAAAAAAAAAAAAAAAAAAAAA',
    data: { agent_id: 'agt_AAAAAAAAAAAAAAAAAAAAAA', actions: ['read'], audience: 'https://api.example.com' }, prevHash: GENESIS_HASH, hash: 'ab'.repeat(32), ...overrides,
  });
  const ctx = { productVersion: '0.1.0', agentOfMandate: new Map([['mdt_AAAAAAAAAAAAAAAAAAAAAA', 'agt_BBBBBBBBBBBBBBBBBBBBBB']]) };

  test('every mapped event type becomes a valid event of its class and activity', () => {
    for (const [type, mapping] of Object.entries(OCSF_MAPPING)) {
      const event = toOcsf(record(type), ctx);
      assert.ok(validate(event), `${type}: ${JSON.stringify(validate.errors)}`);
      assert.deepEqual([event.class_uid, event.activity_id, event.type_uid], [mapping.cls, mapping.activity, mapping.cls * 100 + mapping.activity], type);
      assert.equal((event.metadata as { version: string }).version, OCSF_VERSION);
    }
    assert.deepEqual(new Set(Object.values(OCSF_MAPPING).map((m) => m.cls)), new Set([3002, 3003, 3005, 6003]));
  });

  test('without optional facts (no actor, no mandate, no request id) the events stay valid', () => {
    for (const type of Object.keys(OCSF_MAPPING)) {
      const event = toOcsf(record(type, { actor: null, mandateId: null, requestId: null, jti: null, data: {} }), { ...ctx, agentOfMandate: new Map() });
      assert.ok(validate(event), `${type}: ${JSON.stringify(validate.errors)}`);
    }
  });

  test('a type added later maps to API Activity "Other" and stays valid', () => {
    const event = toOcsf(record('widget.frobbed'), ctx);
    assert.deepEqual([event.class_uid, event.activity_id, event.type_uid], [6003, 99, 600399]);
    assert.ok(validate(event), JSON.stringify(validate.errors));
  });

  test('who is who: the agent is the user of a mandate event, the deciding human its actor; nothing is lost', () => {
    const approved = toOcsf(record('mandate.approved', { data: { method: 'admin_token' } }), ctx) as Record<string, any>;
    assert.deepEqual(approved.user, { uid: 'agt_BBBBBBBBBBBBBBBBBBBBBB', type_id: 99, type: 'AI Agent' });
    assert.deepEqual(approved.actor.user, { uid: 'usr_AAAAAAAAAAAAAAAAAAAAAA', type_id: 1, type: 'User' });
    assert.deepEqual(approved.unmapped.mandate.hash, 'ab'.repeat(32));
    assert.deepEqual(approved.unmapped.mandate.data, { method: 'admin_token' });
    const rejected = toOcsf(record('attestation.rejected'), ctx) as Record<string, any>;
    assert.deepEqual([rejected.status_id, rejected.status, rejected.severity_id], [2, 'Failure', 2]);
  });

  test('the schema itself refuses events that lack a required attribute or have a wrong type', () => {
    const good = toOcsf(record('token.issued'), ctx);
    const without = (name: string) => Object.fromEntries(Object.entries(good).filter(([k]) => k !== name));
    for (const name of ['user', 'metadata', 'time', 'severity_id', 'type_uid']) assert.equal(validate(without(name)), false, `missing ${name} was accepted`);
    assert.equal(validate({ ...good, time: '2026-01-01' }), false);
    assert.equal(validate({ ...good, metadata: { version: OCSF_VERSION, product: { name: 'Mandate' } } }), false, 'product without vendor_name');
    assert.equal(validate({ ...good, class_uid: 3002, type_uid: 300399 }), false, 'type_uid of another class');
    const api = toOcsf(record('agent.registered'), ctx);
    assert.equal(validate(Object.fromEntries(Object.entries(api).filter(([k]) => k !== 'src_endpoint'))), false);
    assert.equal(validate({ ...api, api: { service: { name: 'mandate' } } }), false, 'api without operation');
  });
});

describe('CSV (RFC 4180)', () => {
  test('quotes what needs quoting, joins lists, neutralises formulas', () => {
    const csv = toCsv(['a', 'b', 'c'], [{ a: 'plain', b: 'with, comma', c: ['x', 'y'] }, { a: 'say "hi"', b: '=HYPERLINK("x")', c: null }]);
    assert.equal(csv, 'a,b,c\r\nplain,"with, comma",x y\r\n"say ""hi""","\'=HYPERLINK(""x"")",\r\n');
  });
});
