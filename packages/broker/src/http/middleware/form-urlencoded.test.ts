import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MandateError } from '../../core/errors.ts';
import { parseUrlEncoded } from './form-urlencoded.ts';

const parse = (text: string) => ({ ...parseUrlEncoded(text, 'ERR_REQUEST_MALFORMED_BODY') });

function rejects(text: string, code: string, message: RegExp): void {
  assert.throws(() => parseUrlEncoded(text, 'ERR_REQUEST_MALFORMED_BODY'), (error: unknown) => {
    assert.ok(error instanceof MandateError);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

test('decodes names and values, + as space, UTF-8 escapes', () => {
  assert.deepEqual(parse('grant_type=a%3Ab&scope=x+y&name=%C3%A9t%C3%A9&empty=&flag'), {
    grant_type: 'a:b', scope: 'x y', name: 'été', empty: '', flag: '',
  });
});

test('skips empty pieces between separators', () => assert.deepEqual(parse('&a=1&&b=2&'), { a: '1', b: '2' }));
test('keeps __proto__ as an ordinary own name', () => {
  const parsed = parseUrlEncoded('__proto__=x', 'ERR_REQUEST_MALFORMED_BODY');
  assert.equal(Object.getPrototypeOf(parsed), null);
  assert.equal(parsed.__proto__, 'x');
});

test('rejects a repeated parameter (RFC 6749 §3.1)', () => rejects('a=1&b=2&a=1', 'ERR_REQUEST_DUPLICATE_PARAMETER', /parameter a appears more than once/));
test('rejects a repeated parameter spelled differently', () => rejects('a=1&%61=2', 'ERR_REQUEST_DUPLICATE_PARAMETER', /parameter a/));
test('a parameter named repeatable becomes an array when repeated (RFC 8707 resource)', () => {
  assert.deepEqual({ ...parseUrlEncoded('resource=a&x=1&resource=b&resource=c', 'ERR_REQUEST_MALFORMED_BODY', new Set(['resource'])) }, { resource: ['a', 'b', 'c'], x: '1' });
  assert.deepEqual({ ...parseUrlEncoded('resource=a', 'ERR_REQUEST_MALFORMED_BODY', new Set(['resource'])) }, { resource: 'a' });
});
test('rejects a truncated escape', () => rejects('a=%4', 'ERR_REQUEST_MALFORMED_BODY', /malformed percent-encoding/));
test('rejects a non-hex escape', () => rejects('a=%zz', 'ERR_REQUEST_MALFORMED_BODY', /malformed percent-encoding/));
test('rejects a lone %', () => rejects('a%=1', 'ERR_REQUEST_MALFORMED_BODY', /malformed percent-encoding/));
test('rejects escapes that are not UTF-8', () => rejects('a=%FF%FE', 'ERR_REQUEST_MALFORMED_BODY', /not UTF-8/));
test('rejects an encoded lone surrogate', () => rejects('a=%ED%A0%80', 'ERR_REQUEST_MALFORMED_BODY', /not UTF-8/));
test('rejects an empty name', () => rejects('=1', 'ERR_REQUEST_MALFORMED_BODY', /empty name/));
test('query strings report malformed input with their own code', () => {
  assert.throws(() => parseUrlEncoded('a=%', 'ERR_REQUEST_INVALID_PARAMETER'), { code: 'ERR_REQUEST_INVALID_PARAMETER' });
});

test('a value with no escape and no + comes back as it is; every other value as decodeURIComponent decodes it', () => {
  const chars = fc.constantFrom('a', 'Z', '0', '-', '_', '.', '~', '+', '%', '4', '1', 'C', '3', 'é', ' ', '=');
  fc.assert(fc.property(fc.string({ unit: chars, maxLength: 24 }), (value) => {
    const text = `v=${value.replaceAll('=', '%3D')}`;
    const raw = text.slice(2);
    let expected: string | undefined;
    try {
      expected = /%(?![0-9A-Fa-f]{2})/.test(raw) ? undefined : decodeURIComponent(raw.replace(/\+/g, ' '));
    } catch {
      expected = undefined;
    }
    if (expected === undefined) assert.throws(() => parse(text), { code: 'ERR_REQUEST_MALFORMED_BODY' });
    else assert.deepEqual(parse(text), { v: expected });
  }), { numRuns: 2000 });
});
