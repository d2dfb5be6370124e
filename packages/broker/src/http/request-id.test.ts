import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { acceptedRequestId, createRequestIdGenerator } from './request-id.ts';

const GOOD = 'req_AAAAAAAAAAAAAAAAAAAAAA';
const random = { base64url: () => 'BBBBBBBBBBBBBBBBBBBBBB' } as never;
const raw = (headers: Record<string, string | string[]>) => ({ headers }) as unknown as IncomingMessage;

test('a well-formed incoming request id is kept', () => {
  assert.equal(createRequestIdGenerator(random)(raw({ 'x-request-id': GOOD })), GOOD);
});

test('anything else gets a fresh random request id', () => {
  const generate = createRequestIdGenerator(random);
  for (const value of ['', 'abc', `${GOOD}x`, 'agt_AAAAAAAAAAAAAAAAAAAAAA', 'req_AAAAAAAAAAAAAAAAAAAA\nAA', 'req_AAAAAAAAAAAAAAAAAAAA"A'])
    assert.equal(generate(raw({ 'x-request-id': value })), 'req_BBBBBBBBBBBBBBBBBBBBBB', value);
  assert.equal(generate(raw({})), 'req_BBBBBBBBBBBBBBBBBBBBBB');
});

test('a repeated header is not accepted', () => {
  assert.equal(acceptedRequestId([GOOD, GOOD]), null);
});
