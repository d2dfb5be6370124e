import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nodeChainHashing } from './chain-hashing.ts';

test('canonicalize sorts members and drops insignificant whitespace (RFC 8785)', () => {
  assert.equal(nodeChainHashing.canonicalize({ b: [1, { d: 2, c: null }], a: 'x' }), '{"a":"x","b":[1,{"c":null,"d":2}]}');
});

test('canonicalize refuses a value with no JSON form', () => {
  assert.throws(() => nodeChainHashing.canonicalize(undefined), { name: 'TypeError', message: 'value has no JSON canonical form' });
});

test('sha256Hex is lowercase hex of the UTF-8 bytes (FIPS 180-2 "abc" vector)', () => {
  assert.equal(nodeChainHashing.sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});
