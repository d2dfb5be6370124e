import assert from 'node:assert/strict';
import { createECDH, createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { describe, test } from 'node:test';
import { verifyDigestSignature } from './digest-signature.ts';

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();
const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** DER ECDSA-Sig-Value from two integers (for hand-made edge cases). */
function der(r: bigint, s: bigint): Buffer {
  const integer = (value: bigint) => {
    let hex = value.toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    let bytes = Buffer.from(hex, 'hex');
    if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
    return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
  };
  const body = Buffer.concat([integer(r), integer(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/** r and s of a DER signature with short-form lengths (as P-256 signatures have). */
function split(signature: Buffer): [bigint, bigint] {
  const lengthR = signature[3]!;
  const r = BigInt(`0x${signature.subarray(4, 4 + lengthR).toString('hex')}`);
  const s = BigInt(`0x${signature.subarray(6 + lengthR).toString('hex')}`);
  return [r, s];
}

describe('ECDSA P-256 over a digest, checked against Node\'s signer', () => {
  test('signatures by Node over random messages verify against the messages\' digests', () => {
    for (let i = 0; i < 16; i++) {
      const message = randomBytes(1 + i * 7);
      assert.equal(verifyDigestSignature(keys.publicKey, sha256(message), sign('sha256', message, keys.privateKey)), true);
    }
  });

  test('the curve constants are Node\'s: 1·G from ECDH is our base point (checked through a signature)', () => {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.concat([Buffer.alloc(31), Buffer.from([1])]));
    assert.equal(ecdh.getPublicKey('hex').slice(2, 66), '6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296');
  });

  test('another digest, another key or a flipped bit does not verify', () => {
    const message = randomBytes(64);
    const signature = sign('sha256', message, keys.privateKey);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    assert.equal(verifyDigestSignature(keys.publicKey, sha256(randomBytes(64)), signature), false);
    assert.equal(verifyDigestSignature(other, sha256(message), signature), false);
    const flipped = Buffer.from(signature);
    flipped[flipped.length - 1]! ^= 1;
    assert.equal(verifyDigestSignature(keys.publicKey, sha256(message), flipped), false);
  });

  test('r or s out of [1, n-1] and non-DER encodings are refused; high s is accepted like Node does', () => {
    const message = randomBytes(32);
    const [r, s] = split(sign('sha256', message, keys.privateKey));
    const digest = sha256(message);
    assert.equal(verifyDigestSignature(keys.publicKey, digest, der(r, N - s)), true);
    assert.equal(verifyDigestSignature(keys.publicKey, digest, der(0n, s)), false);
    assert.equal(verifyDigestSignature(keys.publicKey, digest, der(r, 0n)), false);
    assert.equal(verifyDigestSignature(keys.publicKey, digest, der(r + N, s)), false);
    assert.equal(verifyDigestSignature(keys.publicKey, digest, Buffer.concat([der(r, s), Buffer.from([0])])), false);
    assert.equal(verifyDigestSignature(keys.publicKey, digest, Buffer.from('not der')), false);
  });

  test('keys other than P-256 and digests other than 32 bytes are refused', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const message = randomBytes(32);
    assert.equal(verifyDigestSignature(p384.publicKey, sha256(message), sign('sha256', message, p384.privateKey)), false);
    const ed = generateKeyPairSync('ed25519');
    assert.equal(verifyDigestSignature(ed.publicKey, sha256(message), sign(null, message, ed.privateKey)), false);
    assert.equal(verifyDigestSignature(keys.publicKey, sha256(message).subarray(1), sign('sha256', message, keys.privateKey)), false);
  });
});
