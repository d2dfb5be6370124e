import assert from 'node:assert/strict';
import { connect } from 'node:net';

/**
 * The wire side of the socket fuzz (fuzz-http.ts): requests sent with fetch or as raw bytes through
 * node:net, and the oracle on what comes back — never a 5xx, a 4xx in the family's standard body
 * (RFC 6749 JSON for OAuth, RFC 9457 problem+json for the admin API), an answer or a close in time.
 */

/** The request as parts, so one part can be changed. */
export interface WireRequest {
  family: 'oauth' | 'admin' | 'other';
  method: string;
  path: string;
  headers: Record<string, string>;
  form?: Record<string, string>;
  json?: unknown;
}

/** Header values fetch refuses to send (it throws before any byte leaves): sent raw instead. */
export const FETCHABLE_HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** A 4xx answered in the family's standard body (counted as rejected). */
export class HttpRejection extends Error {
  override readonly name = 'HttpRejection';
}

export function checkAnswer(family: WireRequest['family'], status: number, contentType: string, text: string, where: string): void {
  assert.ok(status < 500, `${where}: ${status} ${text.slice(0, 300)}`);
  if (status < 400) return;
  if (family === 'oauth') {
    assert.match(contentType, /^application\/json/, `${where}: ${status} ${contentType}`);
    const body = JSON.parse(text) as Record<string, unknown>;
    assert.equal(typeof body.error, 'string', `${where}: ${text}`);
  } else if (family === 'admin') {
    assert.match(contentType, /^application\/problem\+json/, `${where}: ${status} ${contentType}`);
    const body = JSON.parse(text) as Record<string, unknown>;
    assert.equal(body.status, status, `${where}: ${text}`);
    assert.equal(typeof body.title, 'string', `${where}: ${text}`);
  } else {
    // Outside both families (console pages, a request line no route could own): any 4xx, typed.
    assert.match(contentType, /^(application\/(problem\+)?json|text\/html)/, `${where}: ${status} ${contentType}`);
  }
  throw new HttpRejection(`${status}`);
}

export async function viaFetch(base: string, request: WireRequest, body: string | undefined): Promise<void> {
  const { host: _host, ...headers } = request.headers;
  const response = await fetch(base + request.path, { method: request.method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(4_900) });
  const text = await response.text();
  if (isParserAnswer(response.status, text)) {
    assertParserHeaders(response.status, (name) => response.headers.get(name));
    PARSER_REJECTIONS.count += 1;
    throw new HttpRejection(`${response.status} (http parser)`);
  }
  checkAnswer(request.family, response.status, response.headers.get('content-type') ?? '', text, `${request.method} ${request.path}`);
}

export function rawText(base: string, request: WireRequest, body: string | undefined, framing?: string): Buffer {
  const url = new URL(base);
  const headers: Array<[string, string]> = [['host', url.host], ['connection', 'close'], ...Object.entries(request.headers)];
  const payload = Buffer.from(body ?? '', 'utf8');
  if (framing === 'chunked-bad') headers.push(['transfer-encoding', 'chunked']);
  else if (framing === 'length-short') headers.push(['content-length', String(Math.max(0, payload.length - 5))]);
  else if (framing === 'length-long') headers.push(['content-length', String(payload.length + 50)]);
  else if (framing === 'length-twice') headers.push(['content-length', String(payload.length)], ['content-length', String(payload.length + 1)]);
  else if (framing === 'te-and-length') headers.push(['transfer-encoding', 'chunked'], ['content-length', String(payload.length)]);
  else headers.push(['content-length', String(payload.length)]);
  const version = framing === 'http10' ? 'HTTP/1.0' : 'HTTP/1.1';
  const eol = framing === 'bare-lf' ? '\n' : '\r\n';
  const lines = [`${request.method} ${request.path} ${version}`, ...headers.filter(([name]) => !(framing === 'no-host' && name === 'host')).map(([n, v]) => `${n}: ${v}`)];
  const chunked = framing === 'chunked-bad' ? Buffer.from(`zz${eol}${payload.toString('utf8')}${eol}0${eol}${eol}`) : payload;
  return Buffer.concat([Buffer.from(lines.join(eol) + eol + eol, 'latin1'), chunked]);
}

/**
 * Sends bytes on a fresh connection, half-closes, and reads until the server closes. A response
 * must be a 4xx/2xx/3xx status line; no response at all is allowed only as a close (Node's parser
 * refusing bytes it cannot frame). Either must happen within the hang limit.
 */
export async function viaSocket(base: string, family: WireRequest['family'], bytes: Buffer): Promise<void> {
  const url = new URL(base);
  const received = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    socket.setTimeout(4_900, () => {
      socket.destroy();
      reject(new Error(`no answer and no close within 4.9 s for ${bytes.subarray(0, 120).toString('latin1')}`));
    });
    socket.on('connect', () => socket.end(bytes));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined); // a reset after a refused request is fine; the close follows
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
  if (received.length === 0) return;
  // Mutated bytes can frame two requests on one connection (a cut Content-Length, a broken
  // `Connection: close`): every response must pass; the first one decides the outcome.
  const answers = splitResponses(received.toString('latin1'));
  for (const later of answers.slice(1)) {
    try {
      judge(later, 'other');
    } catch (error) {
      if (!(error instanceof HttpRejection)) throw error;
    }
  }
  judge(answers[0]!, family);
}

interface RawAnswer {
  code: number;
  head: string;
  body: string;
}

function judge({ code, head, body }: RawAnswer, family: WireRequest['family']): void {
  const contentType = /\r\ncontent-type: ([^\r]*)/i.exec(head)?.[1] ?? '';
  // Bytes Node's HTTP parser cannot frame never reach a route: the broker's clientErrorHandler
  // (src/http/client-error.ts) answers 400 / 408 / 431 in the RFC 6749 body and closes (counted
  // apart: see PARSER_REJECTIONS). Node itself refuses an HTTP/1.1 request without Host: a bare
  // 400 with no body.
  if (isParserAnswer(code, body)) assertParserHeaders(code, (name) => new RegExp(`\r\n${name}: ([^\r]*)`, 'i').exec(head)?.[1] ?? null);
  if (isParserAnswer(code, body) || (code === 400 && body === '' && !contentType)) {
    PARSER_REJECTIONS.count += 1;
    throw new HttpRejection(`${code} (http parser)`);
  }
  checkAnswer(family, code, contentType, Buffer.from(body, 'latin1').toString('utf8'), `raw ${head.slice(0, 60)}`);
}

function splitResponses(text: string): RawAnswer[] {
  const answers: RawAnswer[] = [];
  let rest = text;
  while (rest.length > 0) {
    const status = /^HTTP\/1\.[01] (\d{3}) /.exec(rest);
    assert.ok(status, `not an HTTP response: ${rest.slice(0, 200)}`);
    const split = rest.indexOf('\r\n\r\n');
    const head = split < 0 ? rest : rest.slice(0, split);
    const after = split < 0 ? '' : rest.slice(split + 4);
    const length = /\r\ncontent-length: (\d+)/i.exec(head);
    if (/\r\ntransfer-encoding: chunked/i.test(head)) {
      const { body, consumed } = dechunk(after);
      answers.push({ code: Number(status[1]), head, body });
      rest = after.slice(consumed);
    } else {
      const size = length ? Number(length[1]) : after.length;
      answers.push({ code: Number(status[1]), head, body: after.slice(0, size) });
      rest = after.slice(size);
    }
  }
  return answers;
}

/** Answers of fastify's clientError handler (framing errors, header overflow, timeouts) in this run. */
export const PARSER_REJECTIONS = { count: 0 };

/** The exact bodies of the parser refusals (src/http/client-error.ts): 400 framing, 408 time, 431 size. */
const PARSER_DESCRIPTIONS: Record<number, string> = {
  400: 'the request is not well-formed HTTP/1.1',
  408: 'the request was not received in time',
  431: 'the request line and headers are larger than the server accepts',
};

function isParserAnswer(code: number, body: string): boolean {
  if (![400, 408, 431].includes(code)) return false;
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return false;
  }
  // fastify's default clientError body would still pass the OAuth oracle (`error` is a string): refuse it.
  assert.ok(!('statusCode' in parsed), `a parser refusal in fastify's default body, not the RFC 6749 one: ${code} ${body}`);
  return parsed.error === 'invalid_request' && parsed.error_description === PARSER_DESCRIPTIONS[code] && Object.keys(parsed).length === 2;
}

function assertParserHeaders(code: number, header: (name: string) => string | null): void {
  assert.equal(header('content-type'), 'application/json; charset=utf-8', `parser refusal ${code}`);
  assert.equal(header('cache-control'), 'no-store', `parser refusal ${code}`);
  assert.equal(header('connection'), 'close', `parser refusal ${code}`);
}

function dechunk(text: string): { body: string; consumed: number } {
  let body = '';
  let at = 0;
  for (;;) {
    const eol = text.indexOf('\r\n', at);
    const size = eol < 0 ? 0 : parseInt(text.slice(at, eol), 16);
    if (!(size > 0)) return { body, consumed: eol < 0 ? text.length : Math.min(text.length, eol + 4) };
    body += text.slice(eol + 2, eol + 2 + size);
    at = eol + 4 + size;
  }
}

/**
 * The family that answers bytes whose request line a mutation may have changed: the route's own
 * when the path still names one, else the broker's rule for unmatched paths (`/admin` → admin,
 * the console's pages → its own HTML, anything else → OAuth JSON; src/http/errors.ts familyOf).
 */
export function familyOfRaw(bytes: Buffer, family: WireRequest['family']): WireRequest['family'] {
  const line = bytes.toString('latin1').split(/\r?\n/, 1)[0] ?? '';
  const target = line.split(' ')[1] ?? '';
  if (!target.startsWith('/')) return 'other';
  if (target === '/admin' || target.startsWith('/admin/') || target.startsWith('/admin?')) return 'admin';
  if (target.startsWith('/console') || target === '/' || target.startsWith('/.well-known') || target.startsWith('/jwks')) return 'other';
  return family === 'admin' ? 'oauth' : family;
}

