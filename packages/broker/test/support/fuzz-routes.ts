import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ROUTES } from '../../src/http/routes.ts';
import type { TestApp } from './app-fixture.ts';

const CONTENT_TYPES = ['application/json', 'application/x-www-form-urlencoded', 'application/json; charset=utf-8', 'text/plain', 'multipart/form-data; boundary=x', ''];

/** Bodies that look like what the parsers expect, and bodies that do not. */
const body = fc.oneof(
  fc.json(),
  fc.string(),
  fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 40 })).map((d) => new URLSearchParams(d).toString()),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  fc.constantFrom('a=%zz', 'a=1&a=2', '{"a":1,"a":2}', '{"__proto__":{}}', '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]', 'grant_type=refresh_token'),
);

const request = fc.record({
  route: fc.constantFrom(...ROUTES),
  contentType: fc.constantFrom(...CONTENT_TYPES),
  body,
  query: fc.oneof(fc.constant(''), fc.string({ maxLength: 30 })),
  auth: fc.boolean(),
  dpop: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 60 })),
});

/**
 * Sends `runs` generated requests at every route of the table: whatever the input, the answer is
 * a 2xx or a 4xx with the family's standard body, never a 5xx, and the server keeps answering.
 */
export async function fuzzRoutes(t: TestApp, runs: number, seed: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      const path = r.route.path.replace(/:id/g, 'usr_AAAAAAAAAAAAAAAAAAAAAA');
      const headers: Record<string, string> = {};
      if (r.contentType) headers['content-type'] = r.contentType;
      if (r.auth && r.route.family === 'admin') headers.authorization = `Bearer ${t.adminSecret}`;
      if (r.dpop !== undefined) headers.dpop = r.dpop;
      const response = await t.inject({ method: r.route.method, url: r.query ? `${path}?${encodeURIComponent(r.query)}` : path, headers, ...(r.route.method === 'POST' ? { payload: r.body } : {}) });
      assert.ok(response.statusCode < 500, `${r.route.method} ${r.route.path} answered ${response.statusCode}: ${response.body}`);
      if (response.statusCode >= 400) {
        const type = String(response.headers['content-type']);
        assert.match(type, r.route.family === 'admin' ? /^application\/problem\+json/ : /^application\/json/);
      }
    }),
    { numRuns: runs, seed, endOnFailure: true },
  );
}
