import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MandateError } from '../core/errors.ts';
import { errorToWire, toMandateError } from './errors.ts';

const REQ = 'req_AAAAAAAAAAAAAAAAAAAAAA';

test('OAuth family: RFC 6749 body with no-store and no-cache', () => {
  const wire = errorToWire(new MandateError('ERR_REQUEST_MISSING_PARAMETER', 'grant_type is required', { parameter: 'grant_type' }), 'oauth', REQ);
  assert.equal(wire.status, 400);
  assert.deepEqual(wire.body, { error: 'invalid_request', error_description: 'grant_type is required' });
  assert.equal(wire.headers['cache-control'], 'no-store');
  assert.equal(wire.headers.pragma, 'no-cache');
  assert.equal(wire.headers['www-authenticate'], undefined);
});

test('OAuth family: 401 invalid_client carries WWW-Authenticate', () => {
  const wire = errorToWire(new MandateError('ERR_ADMIN_UNAUTHENTICATED', 'bad client'), 'oauth', REQ);
  assert.equal(wire.body.error, 'invalid_client');
  assert.match(wire.headers['www-authenticate']!, /error="invalid_client"/);
});

test('OAuth family: error_description keeps to the RFC 6749 character set', () => {
  const wire = errorToWire(new MandateError('ERR_REQUEST_INVALID_PARAMETER', 'bad "x" \\ usr_… é'), 'oauth', REQ);
  assert.equal(wire.body.error_description, "bad 'x' / usr_... ?");
});

test('admin family: RFC 9457 problem with code, instance and safe details', () => {
  const wire = errorToWire(new MandateError('ERR_AGENT_HUMAN_UNKNOWN', 'usr_x is not a known human', { human_id: 'usr_x', status: 999 }), 'admin', REQ);
  assert.equal(wire.headers['content-type'], 'application/problem+json; charset=utf-8');
  assert.deepEqual(wire.body, {
    human_id: 'usr_x', type: 'about:blank', title: 'Owner or approver is not a known human', status: 400,
    detail: 'usr_x is not a known human', code: 'ERR_AGENT_HUMAN_UNKNOWN', instance: REQ,
  });
});

test('admin family: 401 says Bearer, with invalid_token when a token was presented', () => {
  assert.equal(errorToWire(new MandateError('ERR_ADMIN_UNAUTHENTICATED', 'x'), 'admin', REQ).headers['www-authenticate'], 'Bearer realm="mandate-admin"');
  const bad = errorToWire(new MandateError('ERR_ADMIN_UNAUTHENTICATED', 'x', { reason: 'invalid_token' }), 'admin', REQ);
  assert.equal(bad.headers['www-authenticate'], 'Bearer realm="mandate-admin", error="invalid_token"');
  assert.match(errorToWire(new MandateError('ERR_ADMIN_FORBIDDEN', 'x'), 'admin', REQ).headers['www-authenticate']!, /insufficient_scope/);
});

test('405 lists the allowed methods', () => {
  const wire = errorToWire(new MandateError('ERR_REQUEST_METHOD_NOT_ALLOWED', 'no', { allowed: ['GET', 'HEAD'] }), 'oauth', REQ);
  assert.equal(wire.headers.allow, 'GET, HEAD');
});

test('an unknown error becomes a 500 that carries no internals', () => {
  const error = toMandateError(new Error('SQLITE_CORRUPT: /var/lib/mandate/mandate.db'));
  for (const family of ['oauth', 'admin'] as const) {
    const wire = errorToWire(error, family, REQ);
    assert.equal(wire.status, 500);
    assert.doesNotMatch(JSON.stringify(wire.body), /SQLITE|mandate\.db/);
  }
});

test('an internal MandateError shows only its title', () => {
  const wire = errorToWire(new MandateError('ERR_INTERNAL', 'step x failed at /src/file.ts'), 'admin', REQ);
  assert.equal(wire.body.detail, 'Internal error');
});

for (const [code, expected, status] of [
  ['FST_ERR_CTP_BODY_TOO_LARGE', 'ERR_REQUEST_BODY_TOO_LARGE', 413],
  ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 'ERR_REQUEST_CONTENT_TYPE', 415],
  ['FST_ERR_CTP_EMPTY_JSON_BODY', 'ERR_REQUEST_MALFORMED_BODY', 400],
  ['FST_ERR_CTP_INVALID_JSON_BODY', 'ERR_REQUEST_MALFORMED_BODY', 400],
  ['FST_ERR_CTP_INVALID_CONTENT_LENGTH', 'ERR_REQUEST_MALFORMED_BODY', 400],
  ['FST_ERR_BAD_URL', 'ERR_REQUEST_INVALID_PARAMETER', 400],
  ['FST_ERR_MAX_PARAM_LENGTH', 'ERR_REQUEST_NOT_FOUND', 404],
] as const) {
  test(`fastify's ${code} maps to ${expected}`, () => {
    const mapped = toMandateError(Object.assign(new Error('framework text'), { code, statusCode: 500 }));
    assert.equal(mapped.code, expected);
    assert.equal(mapped.status, status);
  });
}

test('a JSON SyntaxError and any other 4xx map onto request errors, never 5xx', () => {
  assert.equal(toMandateError(new SyntaxError('Unexpected token')).code, 'ERR_REQUEST_MALFORMED_BODY');
  assert.equal(toMandateError(Object.assign(new Error('x'), { statusCode: 415 })).code, 'ERR_REQUEST_CONTENT_TYPE');
  assert.equal(toMandateError(Object.assign(new Error('x'), { statusCode: 431 })).status, 400);
});
