import { after, before, describe, test } from 'node:test';
import type { InjectOptions } from 'fastify';
import type { RouteSpec } from '../src/http/route-spec.ts';
import { ROUTES } from '../src/http/routes.ts';
import { startTestApp, type TestApp } from './support/app-fixture.ts';
import { assertFamilyError } from './support/wire-asserts.ts';

/**
 * Walks the one route table and sends every route the bad input that applies to it. Each answer
 * must be the family's standard error (OAuth JSON or problem+json), with the catalogue code on the
 * admin API, and never a 5xx.
 */
interface BadInput {
  name: string;
  request: Omit<InjectOptions, 'url' | 'method'> & { method?: InjectOptions['method']; query?: string };
  status: number;
  code: string;
}

const JSON_CT = { 'content-type': 'application/json' };
const big = () => JSON.stringify({ name: 'x'.repeat(70_000) });

const ANY_ROUTE: BadInput[] = [
  { name: 'repeated query parameter', request: { query: 'limit=1&limit=2' }, status: 400, code: 'ERR_REQUEST_DUPLICATE_PARAMETER' },
  { name: 'malformed query escape', request: { query: 'x=%zz' }, status: 400, code: 'ERR_REQUEST_INVALID_PARAMETER' },
  { name: 'non-UTF-8 query', request: { query: 'x=%ff' }, status: 400, code: 'ERR_REQUEST_INVALID_PARAMETER' },
  { name: 'unsupported method', request: { method: 'PUT' }, status: 405, code: 'ERR_REQUEST_METHOD_NOT_ALLOWED' },
];

const ADMIN_ONLY: BadInput[] = [
  { name: 'unknown query parameter', request: { query: 'bogus=1' }, status: 400, code: 'ERR_REQUEST_INVALID_PARAMETER' },
];

const ANY_BODY: BadInput[] = [
  { name: 'malformed JSON', request: { headers: JSON_CT, payload: '{"name":' }, status: 400, code: 'ERR_REQUEST_MALFORMED_BODY' },
  { name: 'empty JSON body', request: { headers: JSON_CT, payload: '' }, status: 400, code: 'ERR_REQUEST_MALFORMED_BODY' },
  { name: 'top-level JSON array', request: { headers: JSON_CT, payload: '[]' }, status: 400, code: 'ERR_REQUEST_MALFORMED_BODY' },
  { name: 'duplicate JSON member', request: { headers: JSON_CT, payload: '{"name":"a","name":"b"}' }, status: 400, code: 'ERR_REQUEST_DUPLICATE_PARAMETER' },
  { name: 'nested duplicate JSON member', request: { headers: JSON_CT, payload: '{"jwk":{"x":"a","x":"b"}}' }, status: 400, code: 'ERR_REQUEST_DUPLICATE_PARAMETER' },
  { name: '__proto__ member', request: { headers: JSON_CT, payload: '{"__proto__":{"x":1}}' }, status: 400, code: 'ERR_REQUEST_MALFORMED_BODY' },
  { name: 'JSON that is not UTF-8', request: { headers: JSON_CT, payload: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]) }, status: 400, code: 'ERR_REQUEST_MALFORMED_BODY' },
  { name: 'text/plain body', request: { headers: { 'content-type': 'text/plain' }, payload: 'hello' }, status: 415, code: 'ERR_REQUEST_CONTENT_TYPE' },
  { name: 'unparseable content type', request: { headers: { 'content-type': 'json' }, payload: '{}' }, status: 415, code: 'ERR_REQUEST_CONTENT_TYPE' },
  { name: 'charset other than UTF-8', request: { headers: { 'content-type': 'application/json; charset=iso-8859-1' }, payload: '{}' }, status: 415, code: 'ERR_REQUEST_CONTENT_TYPE' },
  { name: 'oversized body', request: { headers: JSON_CT, payload: big() }, status: 413, code: 'ERR_REQUEST_BODY_TOO_LARGE' },
];

const FORM_CT = { 'content-type': 'application/x-www-form-urlencoded' };

const FORM_BODY: BadInput[] = [
  { name: 'JSON body on a form route', request: { headers: JSON_CT, payload: '{}' }, status: 415, code: 'ERR_REQUEST_CONTENT_TYPE' },
  { name: 'malformed form escape', request: { headers: FORM_CT, payload: 'a=%zz' }, status: 400, code: 'ERR_REQUEST_MALFORMED_BODY' },
  { name: 'duplicate form parameter', request: { headers: FORM_CT, payload: 'a=1&a=2' }, status: 400, code: 'ERR_REQUEST_DUPLICATE_PARAMETER' },
  { name: 'form that is not UTF-8', request: { headers: FORM_CT, payload: 'a=%ff%fe' }, status: 400, code: 'ERR_REQUEST_MALFORMED_BODY' },
  { name: 'form with a charset other than UTF-8', request: { headers: { 'content-type': `${FORM_CT['content-type']}; charset=iso-8859-1` }, payload: 'a=1' }, status: 415, code: 'ERR_REQUEST_CONTENT_TYPE' },
];

/** Form routes with required parameters (`/challenge` takes none). */
const FORM_REQUIRED: BadInput[] = [
  { name: 'missing parameters', request: { headers: FORM_CT, payload: '' }, status: 400, code: 'ERR_REQUEST_MISSING_PARAMETER' },
];

const JSON_BODY: BadInput[] = [
  { name: 'form body on a JSON route', request: { headers: FORM_CT, payload: 'name=a' }, status: 415, code: 'ERR_REQUEST_CONTENT_TYPE' },
  { name: 'missing parameters', request: { headers: JSON_CT, payload: '{}' }, status: 400, code: 'ERR_REQUEST_MISSING_PARAMETER' },
  { name: 'no body at all', request: {}, status: 400, code: 'ERR_REQUEST_MISSING_PARAMETER' },
];

const NO_BODY: BadInput[] = [
  { name: 'a member on a route that takes no body', request: { headers: JSON_CT, payload: '{"a":1}' }, status: 400, code: 'ERR_REQUEST_INVALID_PARAMETER' },
];

/** Route-specific bad values, to show each schema answers ERR_REQUEST_INVALID_PARAMETER. */
const BAD_VALUES: Record<string, Record<string, unknown>> = {
  'POST /admin/v1/humans': { name: 7 },
  'POST /admin/v1/agents': { name: 'a', owners: [], policy: 'default', jwk: {}, kind: 'robot' },
  'POST /admin/v1/tokens': { label: 'x', rights: ['root'] },
};

function bodyCases(route: RouteSpec): BadInput[] {
  if (route.body === 'json') return JSON_BODY;
  if (route.body === 'none') return NO_BODY;
  return route.schema.body ? [...FORM_BODY, ...FORM_REQUIRED] : FORM_BODY;
}

function casesFor(route: RouteSpec): BadInput[] {
  const cases = [...ANY_ROUTE, ...(route.family === 'admin' ? ADMIN_ONLY : [])];
  if (route.method === 'POST') cases.push(...ANY_BODY, ...bodyCases(route));
  const bad = BAD_VALUES[`${route.method} ${route.path}`];
  if (bad) cases.push({ name: 'a bad value', request: { headers: JSON_CT, payload: JSON.stringify(bad) }, status: 400, code: 'ERR_REQUEST_INVALID_PARAMETER' });
  return cases;
}

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(() => t.close());

for (const route of ROUTES) {
  describe(`${route.method} ${route.path} (${route.family})`, () => {
    for (const bad of casesFor(route)) {
      test(`${bad.name} → ${bad.status}`, async () => {
        const { query, method, headers, ...rest } = bad.request;
        const path = route.path.replace(/:id/g, 'usr_AAAAAAAAAAAAAAAAAAAAAA');
        const auth = route.family === 'admin' ? { authorization: `Bearer ${t.adminSecret}` } : {};
        const response = await t.inject({
          method: method ?? route.method,
          url: query ? `${path}?${query}` : path,
          headers: { ...auth, ...(headers as Record<string, string>) },
          ...rest,
        });
        assertFamilyError(response, route.family, bad.status, route.family === 'admin' ? bad.code : undefined);
      });
    }
  });
}

test('every POST route of the table is walked with body cases', () => {
  const posts = ROUTES.filter((route) => route.method === 'POST');
  for (const route of posts) if (casesFor(route).length < ANY_BODY.length) throw new Error(`${route.path} not walked`);
});
