import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { GRANT_TYPE } from '@mandate/sdk/protocol';
import { startTestApp, type TestApp } from './support/app-fixture.ts';

/**
 * docs/limits.md, request size and time limits, over real sockets: body (413), request line and
 * headers (431), slow headers and slow bodies (408, connection closed), idle keep-alive and idle
 * connections (closed). Timing assertions leave room for a loaded 2-core machine.
 */

interface Listening {
  t: TestApp;
  port: number;
}

async function listen(server: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<Listening> {
  const t = await startTestApp({ config: { server, ...extra } });
  await t.app.http.listen({ host: '127.0.0.1', port: 0 });
  return { t, port: (t.app.http.server.address() as { port: number }).port };
}

interface RawOutcome {
  /** Everything the server sent. */
  response: string;
  /** From connect until the server closed the connection. */
  closedAfterMs: number;
  /** Bytes we managed to send before the close. */
  sent: number;
}

/**
 * Opens a socket, sends `head`, then `trickle` one byte every `everyMs` until the server closes
 * the connection (or `giveUpMs` passes: then the test fails, the server did not cut us off).
 */
function rawExchange(port: number, head: string, trickle = '', everyMs = 100, giveUpMs = 8_000): Promise<RawOutcome> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket: Socket = connect(port, '127.0.0.1');
    let response = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${giveUpMs} ms; got ${JSON.stringify(response)}`));
    }, giveUpMs);
    socket.on('connect', () => {
      if (head) socket.write(head);
      sent += head.length;
      let i = 0;
      if (trickle) timer = setInterval(() => {
        if (i < trickle.length && !socket.destroyed) {
          socket.write(trickle[i++]!);
          sent++;
        }
      }, everyMs);
    });
    socket.on('data', (chunk) => void (response += chunk.toString('latin1')));
    socket.on('error', () => undefined); // a reset after the server's close is expected
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ response, closedAfterMs: performance.now() - started, sent });
    });
  });
}

const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);

/**
 * What Node's HTTP parser refuses never reaches a route: src/http/client-error.ts answers it with
 * the status and an RFC 6749 §5.2 body (not fastify's own `{"statusCode":…}`), no-store, and closes.
 */
function assertParserRefusal(response: string, status: 400 | 408 | 431, description: RegExp): void {
  assert.equal(statusOf(response), status, response);
  const [head = '', body = ''] = response.split('\r\n\r\n');
  assert.match(head, /\r\ncontent-type: application\/json; charset=utf-8(\r\n|$)/i, head);
  assert.match(head, /\r\ncache-control: no-store(\r\n|$)/i, head);
  assert.match(head, /\r\nconnection: close(\r\n|$)/i, head);
  assert.equal(Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1]), Buffer.byteLength(body), head);
  const parsed = JSON.parse(body) as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed), ['error', 'error_description']);
  assert.equal(parsed.error, 'invalid_request');
  assert.match(String(parsed.error_description), description);
}

describe('size limits', () => {
  let s: Listening;
  before(async () => {
    s = await listen({ bodyLimitBytes: 1024, maxHeaderBytes: 4096 });
  });
  after(() => s.t.close());

  test('a body over server.bodyLimitBytes is refused with 413 (ERR_REQUEST_BODY_TOO_LARGE)', async () => {
    const body = `grant_type=${encodeURIComponent(GRANT_TYPE.ciba)}&pad=${'x'.repeat(2000)}`;
    const response = await fetch(`http://127.0.0.1:${s.port}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    assert.equal(response.status, 413);
    assert.deepEqual(await response.json(), { error: 'invalid_request', error_description: 'the request body is larger than the server accepts' });
  });

  test('a chunked body (no Content-Length) over the limit is refused with 413 as it streams', async () => {
    const chunk = 'x'.repeat(600);
    const head = 'POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n';
    const chunks = `${(600).toString(16)}\r\n${chunk}\r\n`.repeat(4) + '0\r\n\r\n';
    const outcome = await rawExchange(s.port, head + chunks);
    assert.equal(statusOf(outcome.response), 413, outcome.response);
  });

  test('headers over server.maxHeaderBytes are refused with 431 and the connection closed', async () => {
    const outcome = await rawExchange(s.port, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ${'a'.repeat(5000)}\r\n\r\n`);
    assertParserRefusal(outcome.response, 431, /larger than the server accepts/);
  });

  test('a URL over server.maxHeaderBytes is refused with 431', async () => {
    const outcome = await rawExchange(s.port, `GET /healthz?${'q'.repeat(5000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    assertParserRefusal(outcome.response, 431, /larger than the server accepts/);
  });

  test('broken framing (a bad chunk size, two Content-Lengths) is refused with 400 in the OAuth error body', async () => {
    const badChunk = 'POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nx\r\n0\r\n\r\n';
    assertParserRefusal((await rawExchange(s.port, badChunk)).response, 400, /not well-formed HTTP/);
    const twoLengths = 'POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx';
    assertParserRefusal((await rawExchange(s.port, twoLengths)).response, 400, /not well-formed HTTP/);
  });

  test('headers within the limit are served', async () => {
    const response = await fetch(`http://127.0.0.1:${s.port}/healthz`, { headers: { 'x-pad': 'a'.repeat(3000) } });
    assert.equal(response.status, 200);
  });
});

describe('time limits', () => {
  let s: Listening;
  before(async () => {
    s = await listen({ headersTimeout: '500ms', requestTimeout: '1s', keepAliveTimeout: '300ms' });
  });
  after(() => s.t.close());

  test('a client trickling its body is cut off at server.requestTimeout with 408', async () => {
    const head = 'POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\n';
    const outcome = await rawExchange(s.port, head, 'x'.repeat(200), 100);
    assertParserRefusal(outcome.response, 408, /not received in time/);
    assert.ok(outcome.closedAfterMs >= 900 && outcome.closedAfterMs < 3_000, `closed after ${outcome.closedAfterMs} ms`);
    assert.ok(outcome.sent < head.length + 200, 'cut off before the body was complete');
    figures.slowBodyCutMs = Math.round(outcome.closedAfterMs);
  });

  test('a client trickling its headers is cut off at server.headersTimeout with 408', async () => {
    const outcome = await rawExchange(s.port, 'POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 100);
    assertParserRefusal(outcome.response, 408, /not received in time/);
    assert.ok(outcome.closedAfterMs >= 400 && outcome.closedAfterMs < 2_500, `closed after ${outcome.closedAfterMs} ms`);
    figures.slowHeadersCutMs = Math.round(outcome.closedAfterMs);
  });

  test('an idle keep-alive connection is closed after server.keepAliveTimeout', async () => {
    const outcome = await rawExchange(s.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
    assert.equal(statusOf(outcome.response), 200, outcome.response);
    // The hint tells clients the limit (whole seconds, rounded down); Node closes 1 s after it.
    assert.match(outcome.response, /keep-alive: timeout=0/i);
    assert.ok(outcome.closedAfterMs >= 250 && outcome.closedAfterMs < 2_500, `closed after ${outcome.closedAfterMs} ms`);
    figures.keepAliveCloseMs = Math.round(outcome.closedAfterMs);
  });
});

describe('idle connections', () => {
  let s: Listening;
  before(async () => {
    s = await listen({ headersTimeout: '5s', requestTimeout: '10s', connectionTimeout: '800ms' }, { notifications: { heartbeat: '200ms' } });
  });
  after(() => s.t.close());

  test('a connection that sends nothing is closed after server.connectionTimeout', async () => {
    const outcome = await rawExchange(s.port, '');
    assert.equal(outcome.response, '');
    assert.ok(outcome.closedAfterMs >= 700 && outcome.closedAfterMs < 3_000, `closed after ${outcome.closedAfterMs} ms`);
    figures.idleConnectionCloseMs = Math.round(outcome.closedAfterMs);
  });
});

/** Measured cut-off times, printed for docs/limits.md and the figures note. */
const figures: Record<string, number> = {};
after(() => console.log(`# request-limits figures: ${JSON.stringify(figures)}`));
