import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, test } from 'node:test';
import { completeJws, findDuplicateMember, importPublicJwk, JwsError, MAX_JWS_LENGTH, parseJws, parseJwsHeader, verifyJwsSignature, type JwsFault } from './index.ts';

// Keys made at test time; tokens signed here with node:crypto so any header or payload text can be signed.
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed25519 = generateKeyPairSync('ed25519');
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });

const b64 = (text: string) => Buffer.from(text).toString('base64url');
const json = (value: unknown) => b64(JSON.stringify(value));
const HEADER = { alg: 'ES256', typ: 'JWT' };
const PAYLOAD = { sub: 'usr_alice', iat: 1 };

function signInput(input: string, key: KeyObject = p256.privateKey): string {
  const signature = key.asymmetricKeyType === 'ed25519' ? sign(null, Buffer.from(input), key) : sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/** A token over raw segments, signed with P-256 unless told. */
const token = (header = json(HEADER), payload = json(PAYLOAD), key?: KeyObject) => signInput(`${header}.${payload}`, key);

function refuses(run: () => unknown, code: JwsFault) {
  assert.throws(run, (error: unknown) => error instanceof JwsError && error.code === code);
}

describe('accepted', () => {
  test('an ES256 token parses and verifies; header and payload are the JSON objects', () => {
    const jws = parseJws(token());
    verifyJwsSignature(jws, p256.publicKey);
    assert.deepEqual(jws.header, HEADER);
    assert.deepEqual(jws.payload, PAYLOAD);
  });

  test('an EdDSA token verifies with a key imported from its public JWK', () => {
    const jws = parseJws(token(json({ alg: 'EdDSA' }), undefined, ed25519.privateKey));
    verifyJwsSignature(jws, importPublicJwk(ed25519.publicKey.export({ format: 'jwk' }) as Record<string, unknown>));
  });

  test('the two stages give what parseJws gives', () => {
    const text = token();
    assert.deepEqual(completeJws(parseJwsHeader(text)), parseJws(text));
  });
});

describe('one rejection per check', () => {
  test('two segments (ERR_JWS_FORMAT)', () => refuses(() => parseJws(`${json(HEADER)}.${json(PAYLOAD)}`), 'ERR_JWS_FORMAT'));
  test('four segments (ERR_JWS_FORMAT)', () => refuses(() => parseJws(`${token()}.e30`), 'ERR_JWS_FORMAT'));
  test('an empty header segment (ERR_JWS_FORMAT)', () => refuses(() => parseJws(`.${json(PAYLOAD)}.AAAA`), 'ERR_JWS_FORMAT'));
  test('a token longer than MAX_JWS_LENGTH (ERR_JWS_FORMAT)', () =>
    refuses(() => parseJws(token(undefined, json({ pad: 'x'.repeat(MAX_JWS_LENGTH) }))), 'ERR_JWS_FORMAT'));
  test('a padded header segment (ERR_JWS_HEADER)', () => refuses(() => parseJws(token(`${json({ alg: 'ES256' })}=`)), 'ERR_JWS_HEADER'));
  test('a header segment with non-zero trailing bits (ERR_JWS_HEADER)', () => {
    // 16 bytes → 22 characters: the last one carries 4 spare bits, which canonical base64url leaves 0.
    const segment = b64('{"alg":"ES256"} ');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const tweaked = segment.slice(0, -1) + alphabet[alphabet.indexOf(segment.at(-1)!) | 1];
    assert.deepEqual(Buffer.from(tweaked, 'base64url'), Buffer.from(segment, 'base64url'));
    refuses(() => parseJws(token(tweaked)), 'ERR_JWS_HEADER');
  });
  test('whitespace inside the header segment (ERR_JWS_HEADER)', () => refuses(() => parseJws(token(`${json(HEADER).slice(0, 4)} ${json(HEADER).slice(4)}`)), 'ERR_JWS_HEADER'));
  test('a header that is not UTF-8 (ERR_JWS_HEADER)', () =>
    refuses(() => parseJws(token(Buffer.concat([Buffer.from('{"alg":"ES256","x":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]).toString('base64url'))), 'ERR_JWS_HEADER'));
  test('a header with a byte-order mark (ERR_JWS_HEADER)', () => refuses(() => parseJws(token(b64(`\uFEFF${JSON.stringify(HEADER)}`))), 'ERR_JWS_HEADER'));
  test('a header that is not JSON (ERR_JWS_HEADER)', () => refuses(() => parseJws(token(b64('{alg:ES256}'))), 'ERR_JWS_HEADER'));
  test('a header that is a JSON array (ERR_JWS_HEADER)', () => refuses(() => parseJws(token(json([HEADER]))), 'ERR_JWS_HEADER'));
  test('a header naming alg twice (ERR_JWS_HEADER)', () => refuses(() => parseJws(token(b64('{"alg":"none","alg":"ES256"}'))), 'ERR_JWS_HEADER'));
  test('alg none (ERR_JWS_ALG)', () => refuses(() => parseJws(`${json({ alg: 'none' })}.${json(PAYLOAD)}.`), 'ERR_JWS_ALG'));
  test('alg HS256 (ERR_JWS_ALG)', () => refuses(() => parseJws(token(json({ alg: 'HS256' }))), 'ERR_JWS_ALG'));
  test('no alg (ERR_JWS_ALG)', () => refuses(() => parseJws(token(json({ typ: 'JWT' }))), 'ERR_JWS_ALG'));
  test('a P-384 key for ES256 (ERR_JWS_ALG)', () => refuses(() => verifyJwsSignature(parseJws(token()), p384.publicKey), 'ERR_JWS_ALG'));
  test('an Ed25519 key for ES256 (ERR_JWS_ALG)', () => refuses(() => verifyJwsSignature(parseJws(token()), ed25519.publicKey), 'ERR_JWS_ALG'));
  test('a crit header (ERR_JWS_CRIT)', () => refuses(() => parseJws(token(json({ ...HEADER, crit: ['exp'], exp: 1 }))), 'ERR_JWS_CRIT'));
  test('b64 false, even outside crit (ERR_JWS_CRIT)', () => refuses(() => parseJws(token(json({ ...HEADER, b64: false }))), 'ERR_JWS_CRIT'));
  test('an empty payload (ERR_JWS_PAYLOAD)', () => refuses(() => parseJws(token(undefined, '')), 'ERR_JWS_PAYLOAD'));
  test('a payload that is a JSON string (ERR_JWS_PAYLOAD)', () => refuses(() => parseJws(token(undefined, json('usr_alice'))), 'ERR_JWS_PAYLOAD'));
  test('a payload with a padded segment (ERR_JWS_PAYLOAD)', () => refuses(() => parseJws(token(undefined, `${json({ a: 1 })}==`)), 'ERR_JWS_PAYLOAD'));
  test('a payload naming a nested member twice (ERR_JWS_PAYLOAD)', () => refuses(() => parseJws(token(undefined, b64('{"act":{"sub":"a","sub":"b"}}'))), 'ERR_JWS_PAYLOAD'));
  test('a DER-encoded ES256 signature (ERR_JWS_SIGNATURE)', () => {
    const input = `${json(HEADER)}.${json(PAYLOAD)}`;
    const der = sign('sha256', Buffer.from(input), p256.privateKey).toString('base64url');
    refuses(() => parseJws(`${input}.${der}`), 'ERR_JWS_SIGNATURE');
  });
  test('a signature with padding (ERR_JWS_SIGNATURE)', () => refuses(() => parseJws(`${token()}=`), 'ERR_JWS_SIGNATURE'));
  test('a signature by another key (ERR_JWS_SIGNATURE)', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    refuses(() => verifyJwsSignature(parseJws(token(undefined, undefined, other.privateKey)), p256.publicKey), 'ERR_JWS_SIGNATURE');
  });
  test('a payload changed after signing (ERR_JWS_SIGNATURE)', () => {
    const [h, , s] = token().split('.');
    refuses(() => verifyJwsSignature(parseJws(`${h}.${json({ ...PAYLOAD, sub: 'usr_mallory' })}.${s}`), p256.publicKey), 'ERR_JWS_SIGNATURE');
  });
});

describe('findDuplicateMember', () => {
  test('names equal after unescaping are one name; strings holding quotes and brackets are skipped', () => {
    assert.equal(findDuplicateMember('{"a\\u0062":1,"ab":2}'), 'ab');
    assert.equal(findDuplicateMember('{"k":"\\"}{[,\\"k\\":","v":["k","k"],"w":{"k":1}}'), undefined);
    assert.equal(findDuplicateMember('[{"a":1},{"a":2}]'), undefined);
    assert.equal(findDuplicateMember('{"a":[1,{"b":1,"b":2}]}'), 'b');
  });
});
