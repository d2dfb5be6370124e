import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MandateError } from '../../core/errors.ts';
import { MAX_JSON_DEPTH, parseStrictJson } from './strict-json.ts';

function rejects(text: string, code: string, message: RegExp): void {
  assert.throws(() => parseStrictJson(text), (error: unknown) => {
    assert.ok(error instanceof MandateError);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

test('parses an object with nested members, strings holding braces, quotes and escapes', () => {
  const text = '{"a":"}{,\\"b\\":","b":[{"a":1},{"a":2}],"c":{"a":{"b":"\\\\"}}}';
  assert.deepEqual(parseStrictJson(text), JSON.parse(text));
});

test('the same name in sibling objects is not a duplicate', () => {
  assert.deepEqual(parseStrictJson('{"x":{"a":1},"y":{"a":2}}'), { x: { a: 1 }, y: { a: 2 } });
});

test('rejects an empty body', () => rejects('  ', 'ERR_REQUEST_MALFORMED_BODY', /empty/));
test('rejects invalid JSON', () => rejects('{"a":', 'ERR_REQUEST_MALFORMED_BODY', /not valid JSON/));
test('rejects a top-level array', () => rejects('[{"a":1}]', 'ERR_REQUEST_MALFORMED_BODY', /must be an object/));
test('rejects a top-level string', () => rejects('"a"', 'ERR_REQUEST_MALFORMED_BODY', /must be an object/));
test('rejects a top-level null', () => rejects('null', 'ERR_REQUEST_MALFORMED_BODY', /must be an object/));
test('rejects a duplicate top-level member', () => rejects('{"a":1,"b":2,"a":3}', 'ERR_REQUEST_DUPLICATE_PARAMETER', /member a appears more than once/));
test('rejects a duplicate nested member', () => rejects('{"x":[{"k":1,"k":1}]}', 'ERR_REQUEST_DUPLICATE_PARAMETER', /member k/));
test('rejects duplicates spelled with different escapes', () => rejects('{"a":1,"\\u0061":2}', 'ERR_REQUEST_DUPLICATE_PARAMETER', /member a/));
test('rejects __proto__', () => rejects('{"__proto__":{"admin":true}}', 'ERR_REQUEST_MALFORMED_BODY', /__proto__ is not allowed/));
test('rejects a nested constructor', () => rejects('{"a":{"constructor":{"prototype":{}}}}', 'ERR_REQUEST_MALFORMED_BODY', /constructor is not allowed/));
test('rejects nesting deeper than the limit', () =>
  rejects(`{"a":${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}}`, 'ERR_REQUEST_MALFORMED_BODY', /nests deeper/));
test('a value equal to a member name is not a duplicate', () => {
  assert.deepEqual(parseStrictJson('{"a":"a","b":["a","a"]}'), { a: 'a', b: ['a', 'a'] });
});
