import assert from 'node:assert/strict';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Attestor } from '../src/ports/attestor.ts';
import { ConfigError } from '../src/config/load.ts';
import { json, startTestApp, type TestApp } from './support/app-fixture.ts';
import { unusedPort } from './support/cli-runner.ts';
import { createPendingMandate, MANDATE_TEST_CONFIG } from './support/mandate-fixture.ts';
import { assertFamilyError } from './support/wire-asserts.ts';

/**
 * Notifications (docs/notifications.md) end to end: a mandate request reaches the approver's open
 * console page over a real server-sent-events connection, contraindicated evidence reaches the
 * owners, and signed webhooks are verified, retried with backoff and logged, against a local
 * receiver on 127.0.0.1. Time is the app's injected clock, so retries an hour apart take no time.
 */
const REQ = 'req_AAAAAAAAAAAAAAAAAAAAAA';
const SECRET = randomBytes(32).toString('base64url');
const BAD_DIGEST = `sha256:${'bad0'.repeat(16)}`;
const MINUTE = 60_000;

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver computed: the HMAC over t + "." + body matched v1. */
  signatureValid: boolean;
  timestamp: number;
}

/** A chat-integration stand-in: verifies the signature, answers 503 while `failures` > 0, then 204. */
function startReceiver(): Promise<{ server: Server; url: string; received: Received[]; failures: { left: number } }> {
  const received: Received[] = [];
  const failures = { left: 0 };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(request.headers['mandate-signature']));
      const expected = match ? createHmac('sha256', SECRET).update(`${match[1]}.${body}`).digest() : Buffer.alloc(32);
      const signatureValid = match !== null && timingSafeEqual(expected, Buffer.from(match[2]!, 'hex'));
      received.push({ headers: request.headers, body, signatureValid, timestamp: Number(match?.[1] ?? 0) });
      const fail = failures.left > 0;
      if (fail) failures.left -= 1;
      response.writeHead(signatureValid && !fail ? 204 : 503).end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/mandate`, received, failures })));
}

/** The test-only bad digest: code-digest reports it contraindicated (as in the loop fixture). */
function contraindicating(built: ReadonlyMap<string, Attestor>): ReadonlyMap<string, Attestor> {
  const codeDigest = built.get('code-digest')!;
  const verify: Attestor['verify'] = async (evidence, binding) => {
    const result = await codeDigest.verify(evidence, binding);
    return result.claims.digest === BAD_DIGEST ? { ...result, status: 'contraindicated' } : result;
  };
  return new Map([...built, ['code-digest', { ...codeDigest, verify }]]);
}

/** An open `GET /console/events` stream over real HTTP, parsed into events as they arrive. */
async function openEvents(base: string, cookie: string) {
  const controller = new AbortController();
  const response = await fetch(`${base}/console/events`, { headers: { cookie: `__Host-mandate_session=${cookie}`, accept: 'text/event-stream' }, signal: controller.signal });
  const events: Array<{ event: string; data: Record<string, unknown> }> = [];
  const waiters: Array<() => void> = [];
  let buffer = '';
  void (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const field = (name: string) => block.split('\n').find((line) => line.startsWith(`${name}: `))?.slice(name.length + 2);
          const data = field('data');
          if (data !== undefined) events.push({ event: field('event') ?? 'message', data: JSON.parse(data) as Record<string, unknown> });
          waiters.splice(0).forEach((wake) => wake());
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return {
    response, events,
    async next(event: string, where: (data: Record<string, unknown>) => boolean = () => true, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = events.find((e) => e.event === event && where(e.data));
        if (found) return found.data;
        if (Date.now() > deadline) throw new Error(`no ${event} event; got ${JSON.stringify(events)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
    close: () => controller.abort(),
  };
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

let t: TestApp;
let base: string;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let offset = 0;

before(async () => {
  receiver = await startReceiver();
  const port = await unusedPort();
  base = `http://127.0.0.1:${port}`;
  t = await startTestApp({
    flags: { port: String(port), issuer: base },
    config: {
      ...MANDATE_TEST_CONFIG,
      console: { origin: base },
      notifications: { webhooks: [{ name: 'chat', url: receiver.url, secretEnv: 'CHAT_WEBHOOK_SECRET', kinds: ['mandate.requested', 'attestation.contraindicated'] }], maxAttempts: 4, initialBackoff: '1m' },
    },
    overrides: { clock: { now: () => Date.now() + offset }, env: { CHAT_WEBHOOK_SECRET: SECRET }, attestors: contraindicating },
  });
  await t.app.http.listen({ port, host: '127.0.0.1' });
});
after(async () => {
  await t.close();
  await new Promise((resolve) => receiver.server.close(resolve));
});

describe('live console updates (server-sent events)', () => {
  test('a mandate request reaches the approver\'s open page: the unread count, then the notification', async () => {
    const cookie = await t.app.console.auth.startSession(t.admin.id, 'passkey', REQ, false);
    const stream = await openEvents(base, cookie);
    try {
      assert.equal(stream.response.status, 200);
      assert.match(String(stream.response.headers.get('content-type')), /^text\/event-stream/);
      assert.equal(stream.response.headers.get('cache-control'), 'no-store');
      const first = await stream.next('unread');
      const mandateId = await createPendingMandate(t.app, t.admin.id);
      const pushed = await stream.next('notification', (d) => (d.data as { mandate_id?: string }).mandate_id === mandateId);
      assert.equal(pushed.kind, 'mandate.requested');
      assert.equal(pushed.unread, (first.unread as number) + 1);
      assert.match(String(pushed.text), /asks for a mandate/);
      // Reading it in the inbox updates every open page's badge.
      assert.equal(await t.app.notifications.markRead(t.admin.id, [pushed.id as number]), 1);
      assert.deepEqual(await stream.next('unread', (d) => d.unread === first.unread), { unread: first.unread });
    } finally {
      stream.close();
    }
  });
  test('only the signed-in human\'s own notifications reach the stream', async () => {
    const other = await t.app.directory.addHuman({ name: 'otto' }, { actor: t.admin.id, requestId: REQ });
    const stream = await openEvents(base, await t.app.console.auth.startSession(other.id, 'passkey', REQ, false));
    try {
      assert.deepEqual(await stream.next('unread'), { unread: 0 });
      const mandateId = await createPendingMandate(t.app, t.admin.id);
      const mine = await t.app.notifications.notify(other.id, 'review.due', { mandate_id: 'mdt_x', agent_id: 'agt_x' });
      await stream.next('notification', (d) => d.id === mine);
      assert.ok(!stream.events.some((e) => JSON.stringify(e.data).includes(mandateId)));
    } finally {
      stream.close();
    }
  });
  test('without a console session: 401 (ERR_CONSOLE_UNAUTHENTICATED), no stream', async () => {
    const response = await fetch(`${base}/console/events`);
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { code: string }).code, 'ERR_CONSOLE_UNAUTHENTICATED');
    const forged = await fetch(`${base}/console/events`, { headers: { cookie: '__Host-mandate_session=forged' } });
    assert.equal(forged.status, 401);
    await forged.body?.cancel();
  });
});

describe('owners are told about contraindicated evidence', () => {
  test('each owner gets attestation.contraindicated in the inbox and on the webhook', async () => {
    const bob = await t.app.directory.addHuman({ name: 'bob' }, { actor: t.admin.id, requestId: REQ });
    const { publicKey } = await import('node:crypto').then((c) => c.generateKeyPairSync('ec', { namedCurve: 'P-256' }));
    const agent = await t.app.directory.addAgent({ name: 'suspicious', owners: [t.admin.id, bob.id], policy: 'default', jwk: publicKey.export({ format: 'jwk' }) as never }, { actor: t.admin.id, requestId: REQ });
    const { nonce } = t.app.loop.challenges.issueChallenge();
    await assert.rejects(t.app.loop.attest({ agent, jkt: randomBytes(32).toString('base64url'), nonce, evidence: [{ attestor: 'code-digest', evidence: { digest: BAD_DIGEST } }], requestId: REQ }));
    for (const owner of [t.admin.id, bob.id]) {
      const got = (await t.app.notifications.list(owner, { limit: 50 })).filter((n) => n.kind === 'attestation.contraindicated' && n.payload.agent_id === agent.id);
      assert.equal(got.length, 1, owner);
    }
    await until(() => receiver.received.some((r) => r.body.includes(agent.id)), 'the webhook');
  });
});

describe('signed webhooks', () => {
  test('the body is signed (Mandate-Signature t=…,v1=HMAC-SHA256), carries the delivery id, and a 2xx delivers it', async () => {
    const mandateId = await createPendingMandate(t.app, t.admin.id);
    await until(() => receiver.received.some((r) => r.body.includes(mandateId)), 'a delivery');
    const got = receiver.received.find((r) => r.body.includes(mandateId))!;
    assert.ok(got.signatureValid);
    assert.ok(Math.abs(got.timestamp - (Date.now() + offset) / 1000) < 60);
    assert.equal(got.headers['content-type'], 'application/json');
    assert.equal(got.headers['mandate-event'], 'mandate.requested');
    const body = JSON.parse(got.body) as Record<string, unknown>;
    assert.equal(body.delivery_id, got.headers['mandate-delivery']);
    assert.deepEqual([body.kind, body.recipient, (body.data as { mandate_id: string }).mandate_id], ['mandate.requested', t.admin.id, mandateId]);
    await until(async () => json(await t.call('GET', `/admin/v1/notifications/deliveries/${body.delivery_id}`)).status === 'delivered', 'the delivered state');
  });
  test('failures are retried with exponential backoff and jitter, each attempt logged, until a 2xx', async () => {
    receiver.failures.left = 2;
    const mandateId = await createPendingMandate(t.app, t.admin.id);
    await until(() => receiver.received.some((r) => r.body.includes(mandateId)), 'the first attempt');
    const deliveryId = String(receiver.received.find((r) => r.body.includes(mandateId))!.headers['mandate-delivery']);
    const show = async () => json(await t.call('GET', `/admin/v1/notifications/deliveries/${deliveryId}`)) as { status: string; attempts: Array<Record<string, unknown>>; next_attempt_at: string | null };
    await until(async () => (await show()).attempts.length === 1, 'the first attempt logged');
    assert.equal(await t.app.notifications.deliverDue(), 0, 'not due before its backoff');
    for (const minutes of [1, 2]) {
      const shown = await show();
      const wait = Date.parse(shown.next_attempt_at!) - Date.parse(shown.attempts.at(-1)!.at as string);
      assert.ok(wait >= 0.8 * minutes * MINUTE && wait <= 1.2 * minutes * MINUTE, `backoff ${wait} ms after attempt ${shown.attempts.length}`);
      offset += 1.2 * minutes * MINUTE + 1000;
      assert.equal(await t.app.notifications.deliverDue(), 1);
    }
    const done = await show();
    assert.equal(done.status, 'delivered');
    assert.deepEqual(done.attempts.map((a) => [a.attempt, a.status_code, a.error_class]), [[1, 503, 'http_503'], [2, 503, 'http_503'], [3, 204, null]]);
    assert.equal(done.next_attempt_at, null);
    assert.ok(receiver.received.filter((r) => r.body.includes(mandateId)).every((r) => r.signatureValid));
  });
  test('after maxAttempts the delivery is given up (failed) and listed so', async () => {
    receiver.failures.left = 100;
    const id = await t.app.notifications.notify(t.admin.id, 'mandate.requested', { mandate_id: 'mdt_gone', agent_id: 'agt_gone' });
    for (let i = 0; i < 6; i++) {
      offset += 2 * 60 * MINUTE;
      await t.app.notifications.deliverDue();
    }
    receiver.failures.left = 0;
    const failed = json(await t.call('GET', '/admin/v1/notifications/deliveries?status=failed')).deliveries as Array<Record<string, unknown>>;
    const mine = failed.find((d) => d.notification_id === id)!;
    assert.deepEqual([mine.status, mine.attempts, mine.next_attempt_at, mine.last_error], ['failed', 4, null, 'http_503']);
  });
  test('an unreachable receiver is logged as a connection error', async () => {
    const port = await unusedPort();
    const other = await startTestApp({
      config: { notifications: { webhooks: [{ url: `http://127.0.0.1:${port}/x`, secretEnv: 'HOOK' }] } },
      overrides: { env: { HOOK: SECRET } },
    });
    try {
      const id = await other.app.notifications.notify(other.admin.id, 'review.due', { mandate_id: 'mdt_1', agent_id: 'agt_1' });
      await other.app.notifications.deliverDue();
      const [delivery] = json(await other.call('GET', '/admin/v1/notifications/deliveries')).deliveries as Array<Record<string, unknown>>;
      assert.deepEqual([delivery!.notification_id, delivery!.webhook, delivery!.last_error, delivery!.last_status_code], [id, 'webhook-1', 'connection', null]);
    } finally {
      await other.close();
    }
  });
  test('the secret never reaches the store or the delivery log', async () => {
    const files = readdirSync(join(t.dir, 'data')).filter((name) => name.startsWith('mandate.db'));
    for (const name of files) assert.ok(!readFileSync(join(t.dir, 'data', name)).includes(SECRET), name);
    const log = await t.call('GET', '/admin/v1/notifications/deliveries');
    assert.ok(!log.body.includes(SECRET));
  });
  test('an unknown delivery (ERR_DELIVERY_NOT_FOUND)', async () => {
    assertFamilyError(await t.call('GET', '/admin/v1/notifications/deliveries/whd_nope'), 'admin', 404, 'ERR_DELIVERY_NOT_FOUND');
  });
  test('a webhook whose secret variable is unset fails at start with its dotted path', async () => {
    await assert.rejects(
      startTestApp({ config: { notifications: { webhooks: [{ url: 'https://chat.example.com/hook', secretEnv: 'UNSET_WEBHOOK_SECRET' }] } }, overrides: { env: {} } }),
      (error: unknown) => error instanceof ConfigError && error.issues[0]!.path === 'notifications.webhooks.0.secretEnv',
    );
  });
});
