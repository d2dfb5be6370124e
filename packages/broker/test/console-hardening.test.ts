import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AuditEventInput } from '../src/core/audit-chain.ts';
import { sha256 } from '../src/services/console-auth.ts';
import { startTestApp, type TestApp } from './support/app-fixture.ts';
import { unusedPort } from './support/cli-runner.ts';
import { createPendingMandate, MANDATE_TEST_CONFIG } from './support/mandate-fixture.ts';

/**
 * Console findings of the security review that need a running broker but no browser: the live
 * event stream ends with its session, and the suspended-mandate sweep dates a suspension by the
 * newest `mandate.suspended` event even on a mandate with more events than one audit page.
 */
const REQ = 'req_HHHHHHHHHHHHHHHHHHHHHH';
const DAY = 86_400_000;

let t: TestApp;
let base: string;
let offset = 0;

before(async () => {
  const port = await unusedPort();
  base = `http://127.0.0.1:${port}`;
  t = await startTestApp({
    flags: { port: String(port), issuer: base },
    config: { ...MANDATE_TEST_CONFIG, console: { origin: base }, notifications: { heartbeat: '200ms' } },
    overrides: { clock: { now: () => Date.now() + offset } },
  });
  await t.app.http.listen({ port, host: '127.0.0.1' });
});
after(() => t?.close());

async function humanWithSession(name: string): Promise<{ id: string; cookie: string; idHash: string }> {
  const { id } = await t.app.directory.addHuman({ name }, { actor: t.admin.id, requestId: REQ });
  const value = await t.app.console.auth.startSession(id, 'passkey', REQ, false);
  return { id, cookie: `__Host-mandate_session=${value}`, idHash: sha256(value) };
}

/** Opens GET /console/events and reads its first event; `ended(ms)` is true once the server has closed the stream within `ms`. */
async function openStream(cookie: string): Promise<{ ended(ms: number): Promise<boolean> }> {
  const response = await fetch(`${base}/console/events`, { headers: { cookie } });
  assert.equal(response.status, 200);
  const reader = response.body!.getReader();
  assert.match(new TextDecoder().decode((await reader.read()).value), /event: unread/);
  let closed = false;
  const drained = (async () => {
    while (!(await reader.read()).done);
    closed = true;
  })();
  return {
    async ended(ms) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([drained, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
      clearTimeout(timer);
      return closed;
    },
  };
}

test('the live event stream ends at the next heartbeat after sign-out, and after the human is disabled', async () => {
  const signedOut = await humanWithSession('sally');
  const stream = await openStream(signedOut.cookie);
  assert.equal(await stream.ended(600), false, 'open while the session lives (heartbeats flow)');
  await t.app.console.auth.endSession(signedOut.idHash);
  assert.equal(await stream.ended(3000), true, 'closed after sign-out');

  const disabled = await humanWithSession('dirk');
  const other = await openStream(disabled.cookie);
  await t.app.directory.disableHuman(disabled.id, { actor: t.admin.id, requestId: REQ });
  assert.equal(await other.ended(3000), true, 'closed after disable');
});

test('the sweep dates a suspension by the newest mandate.suspended event, past 1000 older events of the mandate', async () => {
  const approver = (await t.app.directory.addHuman({ name: 'Sam Sweep' }, { actor: t.admin.id, requestId: REQ })).id;
  const id = await createPendingMandate(t.app, approver, { notAfterSeconds: 3650 * 86_400 });
  await t.app.loop.decisions.approve(id, { method: 'admin_token', proof: {} }, { actor: approver, requestId: REQ });
  assert.ok(await t.app.store.mandates.transition(id, ['approved'], { status: 'suspended', endReason: 'agent_suspended' }));
  const event = (type: AuditEventInput['type']): AuditEventInput => ({ type, actor: null, approver, mandateId: id, requestId: REQ, data: {} });
  await t.app.audit.record(event('mandate.suspended'));
  // A busy mandate: more events than the sweep's old oldest-first page of 1000.
  await t.app.audit.record(...Array.from({ length: 1000 }, () => event('mandate.reviewed')));
  offset += 6 * DAY;
  await t.app.audit.record(event('mandate.resumed'), event('mandate.suspended'));
  offset += DAY + 60_000; // 7 days after the first suspension, 1 day after the second
  assert.equal(await t.app.console.resume.sweep(REQ), 0, 'the second suspension is only a day old');
  assert.equal((await t.app.loop.decisions.get(id)).status, 'suspended');
  offset += 6 * DAY;
  assert.equal(await t.app.console.resume.sweep(REQ), 1);
  const mandate = await t.app.loop.decisions.get(id);
  assert.deepEqual([mandate.status, mandate.endReason], ['revoked', 'suspension_expired']);
});
