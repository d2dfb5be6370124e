import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { parseAgentJwk } from './agent-key.ts';
import { MandateError } from './errors.ts';

const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as Record<string, string>;
const ed = () => generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) as Record<string, string>;
const publicOf = ({ d: _d, ...rest }: Record<string, string>): Record<string, string> => rest;

function rejects(value: unknown, reason: string, message: RegExp): void {
  assert.throws(() => parseAgentJwk(value), (error: unknown) => {
    assert.ok(error instanceof MandateError);
    assert.equal(error.code, 'ERR_AGENT_JWK_INVALID');
    assert.equal(error.details.reason, reason);
    assert.match(error.message, message);
    return true;
  });
}

test('accepts a P-256 public key and keeps only its public members', () => {
  const base = publicOf(ec());
  const parsed = parseAgentJwk({ ...base, kid: 'k1', alg: 'ES256', use: 'sig', x5c: ['ignored'] });
  assert.deepEqual(Object.keys(parsed).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
  assert.equal(parsed.x, base.x);
});

test('accepts an Ed25519 public key', () => {
  const jwk = publicOf(ed());
  assert.deepEqual(parseAgentJwk({ ...jwk, alg: 'EdDSA' }), { ...jwk, alg: 'EdDSA' });
});

test('rejects a value that is not an object', () => rejects(['EC'], 'shape', /must be a JSON object/));

for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) {
  test(`rejects a key carrying the private member ${member}`, () =>
    rejects({ ...publicOf(ec()), [member]: 'AAAA' }, 'private', new RegExp(`member "${member}" is not allowed`)));
}

test('rejects the private EC key as exported', () => rejects(ec(), 'private', /"d"/));
test('rejects the private Ed25519 key as exported', () => rejects(ed(), 'private', /"d"/));
test('rejects kty RSA', () => rejects({ kty: 'RSA', n: 'x', e: 'AQAB' }, 'kty', /kty must be EC/));
test('rejects kty oct', () => rejects({ kty: 'oct' }, 'kty', /kty must be EC/));
test('rejects an EC key on another curve', () => rejects({ ...publicOf(ec()), crv: 'P-384' }, 'crv', /crv must be P-256/));
test('rejects an OKP key on X25519', () => rejects({ ...publicOf(ed()), crv: 'X25519' }, 'crv', /crv must be Ed25519/));
test('rejects a missing y', () => rejects({ ...publicOf(ec()), y: undefined }, 'y', /y is required/));
test('rejects a missing x', () => rejects({ kty: 'OKP', crv: 'Ed25519' }, 'x', /x is required/));
test('rejects padding', () => rejects({ ...publicOf(ec()), x: `${publicOf(ec()).x}=` }, 'x', /32 bytes in base64url/));
test('rejects standard base64 characters', () => rejects({ ...publicOf(ec()), x: `+/${publicOf(ec()).x!.slice(2)}` }, 'x', /base64url/));
test('rejects a short coordinate', () => rejects({ ...publicOf(ec()), y: 'AAAA' }, 'y', /32 bytes/));
test('rejects a non-canonical last character', () => rejects({ ...publicOf(ed()), x: `${publicOf(ed()).x!.slice(0, 42)}B` }, 'x', /32 bytes/));
test('rejects y on an OKP key', () => rejects({ ...publicOf(ed()), y: publicOf(ec()).y }, 'y', /no y member/));
test('rejects an alg that does not match the key', () => rejects({ ...publicOf(ec()), alg: 'RS256' }, 'alg', /alg must be ES256/));
test('rejects use enc', () => rejects({ ...publicOf(ec()), use: 'enc' }, 'use', /use must be sig/));
test('rejects a non-string kid', () => rejects({ ...publicOf(ec()), kid: 7 }, 'kid', /kid must be a string/));
