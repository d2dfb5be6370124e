import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { HttpDeps } from '../src/http/deps.ts';
import { registerRoute } from '../src/http/pipeline.ts';
import { frameworkErrors, installRequestHandling } from '../src/http/request-handling.ts';
import { defineRoute, respond, type RouteContext } from '../src/http/route-spec.ts';
import { cryptoRandom, systemClock } from '../src/system.ts';
import { startTestApp, type TestApp } from './support/app-fixture.ts';
import { assertFamilyError } from './support/wire-asserts.ts';

/**
 * No OAuth POST route exists yet, so this test-only Fastify instance mounts one form route through
 * the same parsers, pipeline and error mapping the broker uses, and walks the form cases.
 */
const body = z.object({ grant_type: z.enum(['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange']), scope: z.string().optional() });
const echo = (ctx: RouteContext<{ body: typeof body }>) => respond(ctx, 200, ctx.body, { 'cache-control': 'no-store' });
const FORM_ROUTE = defineRoute({
  method: 'POST', path: '/test/form', family: 'oauth', body: 'form', summary: 'test only', schema: { body }, steps: [echo],
});

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
let t: TestApp;
let server: FastifyInstance;

before(async () => {
  t = await startTestApp();
  const deps: HttpDeps = { ...t.app, clock: systemClock, random: cryptoRandom };
  server = Fastify({ bodyLimit: 1024, frameworkErrors, genReqId: () => `req_${cryptoRandom.base64url(16)}` });
  installRequestHandling(server, [FORM_ROUTE]);
  registerRoute(server, FORM_ROUTE, deps);
});
after(async () => {
  await server.close();
  await t.close();
});

const post = (payload: string | Buffer, headers: Record<string, string> = FORM) => server.inject({ method: 'POST', url: '/test/form', headers, payload });

describe('test-only OAuth form route: shared form parsing and error mapping', () => {
  test('a valid form is decoded; unknown parameters are ignored (RFC 6749 §3.1)', async () => {
    const response = await post('grant_type=client_credentials&scope=read+write&extra=%C3%A9');
    assert.equal(response.statusCode, 200);
    assert.deepEqual(JSON.parse(response.body), { grant_type: 'client_credentials', scope: 'read write' });
  });

  test('a form with charset=utf-8 is accepted', async () => {
    assert.equal((await post('grant_type=client_credentials', { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' })).statusCode, 200);
  });

  const cases: Array<[string, () => ReturnType<typeof post>, number, string]> = [
    ['malformed percent-encoding', () => post('grant_type=%zz'), 400, 'malformed percent-encoding'],
    ['truncated escape', () => post('grant_type=client_credentials%2'), 400, 'malformed percent-encoding'],
    ['escapes that are not UTF-8', () => post('grant_type=%C3%28'), 400, 'not UTF-8'],
    ['raw bytes that are not UTF-8', () => post(Buffer.from([0x67, 0x3d, 0xff])), 400, 'not valid UTF-8'],
    ['a repeated parameter', () => post('grant_type=client_credentials&grant_type=client_credentials'), 400, 'grant_type appears more than once'],
    ['a missing parameter', () => post('scope=x'), 400, 'grant_type is required'],
    ['an empty body', () => post(''), 400, 'grant_type is required'],
    ['a bad value', () => post('grant_type=password'), 400, 'invalid grant_type'],
    ['a JSON body', () => post('{"grant_type":"client_credentials"}', { 'content-type': 'application/json' }), 415, 'takes application/x-www-form-urlencoded'],
    ['another charset', () => post('grant_type=client_credentials', { 'content-type': 'application/x-www-form-urlencoded; charset=iso-8859-1' }), 415, 'UTF-8'],
    ['text/plain', () => post('grant_type=client_credentials', { 'content-type': 'text/plain' }), 415, 'unsupported content type'],
    ['an oversized body', () => post(`grant_type=${'a'.repeat(2000)}`), 413, 'larger than the server accepts'],
    ['a repeated query parameter', () => server.inject({ method: 'POST', url: '/test/form?a=1&a=2', headers: FORM, payload: 'grant_type=client_credentials' }), 400, 'a appears more than once'],
  ];
  for (const [name, send, status, description] of cases) {
    test(`${name} → ${status} invalid_request`, async () => {
      const response = await send();
      const wire = assertFamilyError(response, 'oauth', status);
      assert.equal(wire.error, 'invalid_request');
      assert.match(String(wire.error_description), new RegExp(description));
    });
  }

  test('GET on the form route → 405 with Allow', async () => {
    const response = await server.inject({ method: 'GET', url: '/test/form' });
    assertFamilyError(response, 'oauth', 405);
    assert.equal(response.headers.allow, 'POST');
  });
});
