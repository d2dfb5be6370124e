import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createMemoryReplayCache } from '../src/attestors/memory-replay-cache.ts';
import * as oidcToken from '../src/attestors/oidc-token/index.ts';
import { startLocalIssuer } from '../src/attestors/oidc-token/local-issuer.ts';
import { MandateError } from '../src/core/errors.ts';
import { evidenceTargets } from './support/fuzz-evidence-targets.ts';
import { assertBothOutcomes, runTargets, type FuzzTarget } from './support/fuzz-harness.ts';

// Seed-fixed share of the evidence fuzzing for `npm test` (fuzz-evidence.long.test.ts: new seed, larger).
let targets: FuzzTarget[];
let close: () => Promise<void>;
before(async () => {
  ({ targets, close } = await evidenceTargets());
});
after(() => close());

test('1,500 mutated evidence items at every attestor and TPM structure reader (fixed seed): only typed rejections, no hang', async () => {
  const tallies = await runTargets(targets, 1_500, 20261125);
  assert.ok(tallies.reduce((sum, t) => sum + t.tried, 0) >= 1_500);
  for (const tally of tallies) assertBothOutcomes(tally);
});

// Found by the evidence fuzzing: jose reads the signature segment leniently (a CR inside it still
// verifies), and oidc-token keyed the replay of a token without `jti` on the digest of the whole
// text, so the same token respelled passed the replay check a second time.
test('oidc-token: a token without jti respelled in its signature segment is still a replay', async () => {
  const issuer = await startLocalIssuer();
  try {
    const config = oidcToken.configSchema.parse({ issuers: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri, allowFixedAudience: 'fixed-audience' }] });
    const attestor = oidcToken.create(config, { replay: createMemoryReplayCache(), clock: { now: () => Date.now() } });
    const binding = { nonce: 'n'.repeat(54), jkt: 'k'.repeat(43), agentId: 'agt_AAAAAAAAAAAAAAAAAAAAAA', now: Date.now(), expectedAudience: 'mandate:x' };
    const token = await issuer.sign({ aud: 'fixed-audience', jti: undefined });
    assert.equal((await attestor.verify(token, binding)).status, 'warning');
    const at = token.lastIndexOf('.') + 10;
    const respelled = `${token.slice(0, at)}\r${token.slice(at)}`;
    await assert.rejects(attestor.verify(respelled, binding), (error: unknown) => error instanceof MandateError && error.code === 'ERR_OIDC_TOKEN_REPLAYED');
  } finally {
    await issuer.close();
  }
});
