import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config/load.ts';
import { ecPublicJwk, json, startTestApp, type TestApp } from '../../test/support/app-fixture.ts';
import { runCli } from '../../test/support/cli-runner.ts';
import { startLifecycleJob } from './lifecycle-job.ts';
import { LIFECYCLE_ACTOR } from './lifecycle.ts';

/** Lifecycle flags end to end on the real app and store: raise once, act, clear; the admin API and the CLI. */

const DAY = 86_400_000;
let offset = 0;
let t: TestApp;
let url: string;
const ctx = { actor: '', requestId: 'req_AAAAAAAAAAAAAAAAAAAAAA', callerRights: ['admin'] as const };

before(async () => {
  t = await startTestApp({
    config: { lifecycle: { interval: '0s', staleAfter: '10d', actions: { orphan: 'suspend', stale: 'notify', reviewOverdue: 'notify' } } },
    overrides: { clock: { now: () => Date.now() + offset } },
  });
  ctx.actor = t.admin.id;
  await t.app.http.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.http.server.address() as { port: number };
  url = `http://127.0.0.1:${address.port}`;
});
after(() => t.close());

const human = (name: string) => t.app.directory.addHuman({ name, email: `${name}@example.com` }, { ...ctx, callerRights: [...ctx.callerRights] });
const agent = (name: string, owners: string[], reviewDueAt: number | null = null) =>
  t.app.directory.addAgent({ name, owners, policy: 'default', jwk: ecPublicJwk(), reviewDueAt }, ctx);
const apply = () => t.app.lifecycle.run({ apply: true }, { actor: LIFECYCLE_ACTOR, requestId: 'req_BBBBBBBBBBBBBBBBBBBBBB' });
const flagsOf = async (agentId: string) => (await t.app.store.lifecycleFlags.list()).filter((f) => f.agentId === agentId).map((f) => f.flag).sort();
const eventsFor = async (agentId: string, type: string) => (await t.app.store.audit.tail(200)).filter((e) => e.type === type && e.data.agent_id === agentId);
const inbox = async (recipient: string) => (await t.app.notifications.list(recipient, { limit: 1000 })).filter((n) => n.kind === 'lifecycle.flagged').reverse();

describe('flags', () => {
  test('a stale agent: a dry run reports without writing; apply raises once, audits, notifies the owner; seen again → cleared', async () => {
    const owner = await human('stale-owner');
    const bot = await agent('stale-bot', [owner.id]);
    offset += 11 * DAY;
    const dry = await t.app.lifecycle.run({ apply: false }, ctx);
    assert.deepEqual(dry.flagged.find((f) => f.agent.id === bot.id)?.flags.map((f) => [f.flag, f.action, f.raisedAt]), [['stale', 'notify', null]]);
    assert.deepEqual(await flagsOf(bot.id), []);
    const first = await apply();
    assert.ok(first.raised.some((r) => r.agentId === bot.id && r.flag === 'stale'));
    assert.deepEqual(await flagsOf(bot.id), ['stale']);
    const [raised] = await eventsFor(bot.id, 'lifecycle_flag.raised');
    assert.deepEqual([raised!.actor, raised!.data.flag, raised!.data.action], [LIFECYCLE_ACTOR, 'stale', 'notify']);
    assert.deepEqual((await inbox(owner.id)).map((n) => n.payload.flag), ['stale']);
    await apply();
    assert.equal((await eventsFor(bot.id, 'lifecycle_flag.raised')).length, 1, 'a raised flag acts once');
    assert.equal((await inbox(owner.id)).length, 1);
    await t.app.store.agents.touch(bot.id, Date.now() + offset);
    assert.ok((await apply()).cleared.some((c) => c.agentId === bot.id && c.flag === 'stale'));
    assert.deepEqual(await flagsOf(bot.id), []);
    assert.equal((await eventsFor(bot.id, 'lifecycle_flag.cleared')).length, 1);
  });

  test('an orphan (its only owner disabled) is suspended as configured, and the admins are told', async () => {
    const owner = await human('orphan-owner');
    const bot = await agent('orphan-bot', [owner.id]);
    await t.app.store.agents.touch(bot.id, Date.now() + offset);
    await t.app.directory.disableHuman(owner.id, { ...ctx, callerRights: ['admin'] });
    const run = await apply();
    assert.deepEqual(await flagsOf(bot.id), ['orphan']);
    assert.ok(run.suspended.includes(bot.id));
    assert.equal((await t.app.store.agents.get(bot.id))?.status, 'suspended');
    assert.equal((await eventsFor(bot.id, 'agent.suspended')).length, 1);
    assert.deepEqual((await inbox(t.admin.id)).filter((n) => n.payload.agent_id === bot.id).map((n) => [n.payload.flag, n.payload.action]), [['orphan', 'suspend']]);
  });

  test('an agent past its review date is flagged; retiring it clears its flags', async () => {
    const owner = await human('review-owner');
    const bot = await agent('review-bot', [owner.id], Date.now() + offset + DAY);
    await t.app.store.agents.touch(bot.id, Date.now() + offset);
    assert.deepEqual(await flagsOf(bot.id), []);
    offset += 2 * DAY;
    await apply();
    assert.deepEqual(await flagsOf(bot.id), ['review_overdue']);
    await t.app.directory.retireAgent(bot.id, ctx);
    await apply();
    assert.deepEqual(await flagsOf(bot.id), []);
  });
});

describe('admin API and CLI', () => {
  const cli = (...args: string[]) => runCli([...args, '--url', url], { MANDATE_ADMIN_TOKEN: t.adminSecret });

  test('GET /admin/v1/lifecycle is a dry run; POST /admin/v1/lifecycle/run applies with the caller as actor', async () => {
    const owner = await human('api-owner');
    const bot = await agent('api-bot', [owner.id]);
    offset += 11 * DAY;
    const report = json(await t.call('GET', '/admin/v1/lifecycle'));
    const listed = (report.flagged as Array<{ agent_id: string; flags: Array<{ flag: string; raised_at: string | null }> }>).find((f) => f.agent_id === bot.id);
    assert.deepEqual(listed?.flags.map((f) => [f.flag, f.raised_at]), [['stale', null]]);
    const applied = json(await t.call('POST', '/admin/v1/lifecycle/run'));
    assert.ok((applied.raised as Array<{ agent_id: string }>).some((r) => r.agent_id === bot.id));
    assert.equal((await eventsFor(bot.id, 'lifecycle_flag.raised'))[0]?.actor, t.admin.id);
  });

  test('mandate lifecycle prints the flags; inventory export prints CSV with owners and flags', async () => {
    const dry = await cli('lifecycle');
    assert.equal(dry.exitCode, 0, dry.err);
    assert.match(dry.out, /api-bot\s+active\s+stale\s+notify/);
    assert.match(dry.out, /dry run: nothing was changed/);
    const csv = await cli('inventory', 'export', '--format', 'csv');
    assert.equal(csv.exitCode, 0, csv.err);
    const lines = csv.out.split('\r\n');
    assert.equal(lines[0], 'id,name,kind,status,policy,owners,owner_names,owner_emails,active_owners,approvers,created_at,last_seen_at,review_due_at,flags');
    const row = lines.find((line) => line.includes(',api-bot,'));
    assert.match(row ?? '', /,api-owner,api-owner@example\.com,1,.*,stale$/);
    const asJson = JSON.parse((await cli('inventory', 'export', '--format', 'json')).out) as Array<{ name: string; flags: string[] }>;
    assert.deepEqual(asJson.find((a) => a.name === 'orphan-bot')?.flags, ['orphan', 'stale']);
  });

  test('GET /admin/v1/inventory/export?format=csv answers text/csv', async () => {
    const response = await t.call('GET', '/admin/v1/inventory/export?format=csv');
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/csv; charset=utf-8/);
    assert.ok(response.body.startsWith('id,name,kind,status,'));
  });
});

describe('audit export over the admin API and the CLI', () => {
  test('GET /admin/v1/audit/export pages with next_cursor until null; the pages join up to the whole log', async () => {
    const whole = json(await t.call('GET', '/admin/v1/audit/export?limit=1000')).events as Array<{ chain: string; seq: number }>;
    const paged: typeof whole = [];
    let cursor: string | null = null;
    do {
      const page: Record<string, unknown> = json(await t.call('GET', `/admin/v1/audit/export?format=jsonl&limit=7${cursor ? `&cursor=${cursor}` : ''}`));
      paged.push(...(page.events as typeof whole));
      cursor = page.next_cursor as string | null;
    } while (cursor !== null);
    assert.ok(whole.length > 7);
    assert.deepEqual(paged, whole);
  });

  test('from at or after to (ERR_REQUEST_INVALID_PARAMETER)', async () => {
    const body = json(await t.call('GET', '/admin/v1/audit/export?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z'));
    assert.deepEqual([body.status, body.code, body.parameter], [400, 'ERR_REQUEST_INVALID_PARAMETER', 'from']);
  });

  test('a cursor the endpoint did not return (ERR_REQUEST_INVALID_PARAMETER)', async () => {
    const body = json(await t.call('GET', '/admin/v1/audit/export?cursor=bm90LWEtY3Vyc29y'));
    assert.deepEqual([body.status, body.code, body.parameter], [400, 'ERR_REQUEST_INVALID_PARAMETER', 'cursor']);
  });

  test('mandate audit export --format ocsf prints one OCSF event per audit event, read-only on the data directory', async () => {
    const count = (json(await t.call('GET', '/admin/v1/audit/export?limit=1000')).events as unknown[]).length;
    // The app's clock runs days ahead of the real one here, hence an explicit --to.
    const run = await runCli(['audit', 'export', '--format', 'ocsf', '--to', '2100-01-01T00:00:00Z', '--data', `${t.dir}/data`]);
    assert.equal(run.exitCode, 0, run.err);
    const events = run.out.trim().split('\n').map((line) => JSON.parse(line) as { class_uid: number; metadata: { version: string } });
    assert.equal(events.length, count);
    assert.ok(events.every((e) => [3002, 3003, 3005, 6003].includes(e.class_uid) && e.metadata.version === '1.3.0'));
    const bad = await runCli(['audit', 'export', '--format', 'cef', '--data', `${t.dir}/data`]);
    assert.equal(bad.exitCode, 2);
  });
});

describe('the periodic job', () => {
  test('runs on its interval, never two runs at once, and stops', async () => {
    let runs = 0;
    let concurrent = 0;
    let overlap = false;
    const service = {
      run: async () => {
        runs++;
        overlap ||= ++concurrent > 1;
        await sleep(60);
        concurrent--;
        return null as never;
      },
    };
    const job = startLifecycleJob(service, 20, { base64url: () => 'AAAAAAAAAAAAAAAAAAAAAA' }, (error) => assert.fail(error));
    await sleep(250);
    job.stop();
    const seen = runs;
    await sleep(100);
    assert.ok(seen >= 2, `ran ${seen} times`);
    assert.equal(overlap, false);
    assert.equal(runs, seen, 'a stopped job ran again');
  });

  test('an interval of 0 turns it off', async () => {
    let runs = 0;
    const job = startLifecycleJob({ run: async () => (runs++, null as never) }, 0, { base64url: () => '' }, () => undefined);
    await sleep(50);
    job.stop();
    assert.equal(runs, 0);
  });

  test('a failing run is reported and the next tick runs again', async () => {
    const errors: string[] = [];
    const job = startLifecycleJob({ run: async () => { throw new Error('store down'); } }, 20, { base64url: () => 'AAAAAAAAAAAAAAAAAAAAAA' }, (e) => errors.push(e.message));
    await sleep(120);
    job.stop();
    assert.ok(errors.length >= 2 && errors.every((m) => m === 'store down'), JSON.stringify(errors));
  });
});

describe('configuration', () => {
  test('a bad lifecycle setting fails at start with its dotted path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mandate-lifecycle-config-'));
    try {
      for (const [lifecycle, path] of [[{ actions: { stale: 'delete' } }, 'lifecycle.actions.stale'], [{ staleAfter: 'a month' }, 'lifecycle.staleAfter'], [{ every: '1h' }, 'lifecycle.every']] as const) {
        const file = join(dir, 'config.json');
        writeFileSync(file, JSON.stringify({ lifecycle }));
        assert.throws(() => loadConfig({ flags: { config: file }, env: {} }), (error: unknown) => error instanceof ConfigError && error.issues.some((i) => i.path === path), path);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
