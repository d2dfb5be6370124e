import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAdminCredential, isAdminTokenId, parseAdminCredential } from './admin-credential.ts';

const id = `mat_${'A'.repeat(22)}`;
const secret = 'b'.repeat(43);

test('a formatted credential parses back', () => {
  assert.deepEqual(parseAdminCredential(formatAdminCredential({ id, secret })), { id, secret });
  assert.equal(isAdminTokenId(id), true);
});

for (const [name, presented] of [
  ['no prefix', `${'A'.repeat(22)}.${secret}`],
  ['a short id', `mat_${'A'.repeat(21)}.${secret}`],
  ['a short secret', `${id}.${'b'.repeat(42)}`],
  ['a long secret', `${id}.${'b'.repeat(44)}`],
  ['no separator', `${id}${secret}`],
  ['padding', `${id}.${'b'.repeat(42)}=`],
  ['surrounding space', ` ${id}.${secret}`],
  ['a human id', `usr_${'A'.repeat(22)}.${secret}`],
] as const) {
  test(`rejects a credential with ${name}`, () => assert.equal(parseAdminCredential(presented), null));
}
