import { randomBytes } from 'node:crypto';
import type { App } from '../../src/app.ts';
import { ecPublicJwk } from './app-fixture.ts';

/**
 * Test support: real pending mandates made through the services (attest → ask), without HTTP or
 * agent keys, for tests about what happens to a mandate afterwards (admin API rights, decisions).
 */

export const MANDATE_AUDIENCE = 'https://api.example.com';

/** A config under which `createPendingMandate` works: code-digest evidence, one audience. */
export const MANDATE_TEST_CONFIG = {
  audiences: { [MANDATE_AUDIENCE]: { actions: ['read', 'write'] } },
  attestation: { attestors: { 'code-digest': {} }, policies: { default: { anyOf: [{ allOf: [{ attestor: 'code-digest', minStatus: 'warning' }] }] } } },
};

const REQUEST_ID = 'req_AAAAAAAAAAAAAAAAAAAAAA';
let agents = 0;

/** Registers a fresh agent whose approver is `approverId`, attests it and asks; returns the pending mandate id. */
export async function createPendingMandate(app: App, approverId: string, options: { requestedExpiry?: string; notAfterSeconds?: number } = {}): Promise<string> {
  const ctx = { actor: approverId, requestId: REQUEST_ID };
  const agent = await app.directory.addAgent({ name: `mandate-fixture-${++agents}-${randomBytes(3).toString('hex')}`, owners: [approverId], policy: 'default', jwk: ecPublicJwk() }, ctx);
  const jkt = randomBytes(32).toString('base64url');
  const { nonce } = app.loop.challenges.issueChallenge();
  const evidence = [{ attestor: 'code-digest', evidence: { digest: `sha256:${randomBytes(32).toString('hex')}` } }];
  const attested = await app.loop.attest({ agent, jkt, nonce, evidence, requestId: REQUEST_ID });
  const task = { type: 'agent-task', purpose: 'Read the items', locations: [MANDATE_AUDIENCE], actions: ['read'], constraints: { notAfter: Math.floor(Date.now() / 1000) + (options.notAfterSeconds ?? 3600) } };
  const asked = await app.loop.ask({
    agent, loginHint: approverId, bindingMessage: 'Read the items', authorizationDetails: JSON.stringify([task]),
    requestedExpiry: options.requestedExpiry, proofJkt: jkt, dpopJkt: undefined, attestation: attested.token, requestId: REQUEST_ID,
  });
  return asked.mandate.id;
}
