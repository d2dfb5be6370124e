import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, redactSecrets, redactUrl, serializeRequest } from './logger.ts';

test('members named like credentials are redacted at any depth', () => {
  const out = redactSecrets({ body: { client_assertion: 'eyJ', refresh_token: 'r', list: [{ secret: 's', ok: 1 }] }, accessToken: 'a', msg: 'm' }, 0);
  assert.deepEqual(out, { body: { client_assertion: '[redacted]', refresh_token: '[redacted]', list: [{ secret: '[redacted]', ok: 1 }] }, accessToken: '[redacted]', msg: 'm' });
});

test('objects that are not plain are left to their serializers', () => {
  const error = new Error('x');
  assert.equal((redactSecrets({ err: error }, 0) as { err: Error }).err, error);
});

test('the server logger redacts credential headers and credential-named members', () => {
  const lines: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
  logger.info({ req: { headers: { authorization: 'Bearer mat_x.y', cookie: 'sid=z', dpop: 'eyJd' } } }, 'incoming');
  logger.info({ body: { client_assertion: 'eyJa', admin_token: 'mat_q' } }, 'parsed');
  const text = lines.join('');
  assert.doesNotMatch(text, /mat_x|sid=z|eyJd|eyJa|mat_q/);
  assert.equal(text.match(/\[redacted\]/g)?.length, 5);
});

test('secrets in request URLs are cut out: invite tokens in the path, credential-like query values', () => {
  assert.equal(redactUrl('/console/enroll/inv_secret123'), '/console/enroll/[redacted]');
  assert.equal(redactUrl('/console/oidc/callback?code=abc&state=def&iss=x'), '/console/oidc/callback?code=[redacted]&state=[redacted]&iss=x');
  assert.equal(redactUrl('/admin/v1/mandates?status=pending&access%5Ftoken=t'), '/admin/v1/mandates?status=pending&access%5Ftoken=[redacted]');
  assert.equal(redactUrl('/token'), '/token');
});

test('the request serializer logs fastify\'s fields with the URL redacted', () => {
  const fastifyRequest = { raw: {}, method: 'GET', url: '/console/enroll/s3cret?x=1', host: 'localhost', ip: '127.0.0.1', socket: { remotePort: 5 } };
  assert.deepEqual(serializeRequest(fastifyRequest), { method: 'GET', url: '/console/enroll/[redacted]?x=1', host: 'localhost', remoteAddress: '127.0.0.1', remotePort: 5 });
  const lines: string[] = [];
  createLogger('info', { write: (line: string) => void lines.push(line) }).info({ req: fastifyRequest }, 'incoming request');
  assert.doesNotMatch(lines.join(''), /s3cret/);
});
