import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, redactSecrets } from './logger.ts';

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
