import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { CLIENT_ATTESTATION_POP_TYP } from '@mandate/sdk/protocol';
import { createMemoryReplayCache } from '../../src/attestors/memory-replay-cache.ts';
import { parseAdminCredential } from '../../src/core/admin-credential.ts';
import { parseAgentJwk } from '../../src/core/agent-key.ts';
import { MandateError } from '../../src/core/errors.ts';
import { parseMediaType } from '../../src/http/middleware/media-type.ts';
import { acceptedRequestId } from '../../src/http/request-id.ts';
import { verifyClientAttestationPop } from '../../src/proof/client-attestation-pop.ts';
import { parseAgentTask } from '../../src/services/agent-task.ts';
import { fuzz, type FuzzTarget } from './fuzz-harness.ts';
import { fieldMutations, jwsMutation, mutatedJws, mutateFields, mutateString, signingKey, stringMutations, type JwsMutation } from './fuzz-mutate.ts';

/**
 * The smaller parsers of untrusted input: `authorization_details` (RFC 9396), agent JWKs, the
 * client-attestation PoP, and three header parsers that answer null for what they refuse.
 */

const ISSUER = 'http://127.0.0.1:7420';
const AGENT_ID = 'agt_FUZZFUZZFUZZFUZZFUZZFU';
const keys = { ES256: signingKey('ES256'), EdDSA: signingKey('EdDSA') };
const isMandateError = (error: unknown) => error instanceof MandateError;

const TASK = { type: 'agent-task', purpose: 'Read the items', locations: ['https://api.example.com'], actions: ['read'], datatypes: ['items'], constraints: { notAfter: 4_000_000_000, maxUses: 3 } };
const AUDIENCE_RULES = { 'https://api.example.com': { actions: ['read', 'write'], datatypes: ['items'] } };

type SmallInput =
  | { parser: 'authorization_details'; text: string }
  | { parser: 'agent jwk'; value: unknown }
  | { parser: 'attestation pop'; mutation: JwsMutation }
  | { parser: 'media type'; text: string }
  | { parser: 'request id'; text: string }
  | { parser: 'admin credential'; text: string };

const smallInput: fc.Arbitrary<SmallInput> = fc.oneof(
  fc.oneof(fieldMutations.map((ms) => JSON.stringify([mutateFields(ms, TASK)])), stringMutations.map((edits) => mutateString(edits, JSON.stringify([TASK]))), fc.constantFrom('[]', '[{}]', '{}', 'null', `[${JSON.stringify(TASK)},${JSON.stringify(TASK)}]`, JSON.stringify([{ ...TASK, locations: ['__proto__'] }]), JSON.stringify([{ ...TASK, locations: ['constructor'] }])))
    .map((text) => ({ parser: 'authorization_details' as const, text })),
  fc.oneof(fieldMutations.map((ms) => mutateFields(ms, keys.ES256.publicJwk)), fieldMutations.map((ms) => mutateFields(ms, keys.EdDSA.publicJwk)), nastyValueArb()).map((value) => ({ parser: 'agent jwk' as const, value })),
  jwsMutation.map((mutation) => ({ parser: 'attestation pop' as const, mutation })),
  fc.oneof(fc.string({ maxLength: 60 }), stringMutations.map((edits) => mutateString(edits, 'application/x-www-form-urlencoded; charset=utf-8'))).map((text) => ({ parser: 'media type' as const, text })),
  fc.oneof(fc.string({ maxLength: 80 }), stringMutations.map((edits) => mutateString(edits, 'req_0123456789abcdefABCDEF'))).map((text) => ({ parser: 'request id' as const, text })),
  fc.oneof(fc.string({ maxLength: 80 }), stringMutations.map((edits) => mutateString(edits, `mat_${'A'.repeat(22)}.${'b'.repeat(43)}`))).map((text) => ({ parser: 'admin credential' as const, text })),
);

function nastyValueArb(): fc.Arbitrary<unknown> {
  return fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(null, 1, 'x', [], {}));
}

export function smallParsers(): FuzzTarget {
  const clock = { now: () => Date.now() };
  const replay = createMemoryReplayCache();
  const key = keys.ES256;
  return {
    name: 'parser small (authorization_details, agent jwk, attestation PoP, media type, request id, admin credential)',
    weight: 3,
    run: (options) =>
      fuzz('parser small', smallInput, async (input) => {
        switch (input.parser) {
          case 'authorization_details':
            return parseAgentTask(input.text, AUDIENCE_RULES, Math.floor(clock.now() / 1000));
          case 'agent jwk':
            return parseAgentJwk(input.value);
          case 'attestation pop': {
            const now = Math.floor(clock.now() / 1000);
            const payload = { iss: AGENT_ID, aud: ISSUER, iat: now, jti: randomBytes(12).toString('base64url') };
            const { token, tampered } = mutatedJws(input.mutation, { alg: 'ES256', typ: CLIENT_ATTESTATION_POP_TYP }, payload, key.privateKey);
            await verifyClientAttestationPop(token, { clientId: AGENT_ID, issuer: ISSUER, key: key.publicKey }, { replay, clock, iatWindowSeconds: 60 });
            return assert.ok(!tampered, `a tampered PoP verified: ${token}`);
          }
          // The three header parsers answer null for what they refuse: they must never throw.
          case 'media type':
            return parseMediaType(input.text);
          case 'request id':
            return acceptedRequestId(input.text);
          case 'admin credential':
            return parseAdminCredential(input.text);
        }
      }, isMandateError, options),
  };
}

