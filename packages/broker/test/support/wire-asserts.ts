import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { Family } from '../../src/http/errors.ts';

/**
 * The standard error body of each family: RFC 6749 JSON with no-store/no-cache on OAuth routes,
 * RFC 9457 problem+json with the catalogue code on the admin API. Never a 5xx.
 */
export function assertFamilyError(response: LightMyRequestResponse, family: Family, status: number, code?: string): Record<string, unknown> {
  const where = `${response.statusCode} ${response.body}`;
  assert.ok(response.statusCode < 500, `5xx for bad input: ${where}`);
  assert.equal(response.statusCode, status, where);
  assert.match(String(response.headers['x-request-id']), /^req_[A-Za-z0-9_-]{22}$/);
  const body = JSON.parse(response.body) as Record<string, unknown>;
  if (family === 'oauth') {
    assert.match(String(response.headers['content-type']), /^application\/json/);
    assert.equal(response.headers['cache-control'], 'no-store');
    assert.equal(response.headers.pragma, 'no-cache');
    assert.equal(typeof body.error, 'string', where);
    assert.equal(typeof body.error_description, 'string', where);
    assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description']);
  } else {
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    assert.equal(body.type, 'about:blank');
    assert.equal(body.status, status);
    assert.equal(typeof body.title, 'string');
    assert.equal(typeof body.detail, 'string');
    assert.equal(body.instance, response.headers['x-request-id']);
    if (code) assert.equal(body.code, code, where);
  }
  return body;
}
