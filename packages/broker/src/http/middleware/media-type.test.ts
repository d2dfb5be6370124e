import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hasUtf8Charset, parseMediaType } from './media-type.ts';

test('parses essence and parameters case-insensitively', () => {
  assert.deepEqual(parseMediaType('Application/JSON; Charset="UTF-8"'), { essence: 'application/json', params: { charset: 'UTF-8' } });
});

test('accepts utf-8 or no charset, refuses any other', () => {
  assert.equal(hasUtf8Charset(parseMediaType('application/json')!), true);
  assert.equal(hasUtf8Charset(parseMediaType('application/json; charset=utf-8')!), true);
  assert.equal(hasUtf8Charset(parseMediaType('application/json; charset=iso-8859-1')!), false);
  assert.equal(hasUtf8Charset(parseMediaType('application/x-www-form-urlencoded; charset=utf-16')!), false);
});

for (const bad of [undefined, '', 'json', 'a/b/c', 'text /plain', '/json']) {
  test(`refuses ${JSON.stringify(bad)} as a media type`, () => assert.equal(parseMediaType(bad), null));
}
