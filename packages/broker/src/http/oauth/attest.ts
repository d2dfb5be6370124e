import { BROKER_PATH } from '@mandate/sdk/protocol';
import { z } from 'zod';
import { limitClient } from '../rate-limit.ts';
import { defineRoute, respond, type RouteContext } from '../route-spec.ts';
import { authenticateClient, clientAuthFields, checkDpop, NO_STORE } from './client-steps.ts';

const attestBody = z.object({
  ...clientAuthFields,
  nonce: z.string().min(1).max(200),
  evidence: z.array(z.object({ attestor: z.string().min(1).max(64), evidence: z.unknown() })).min(1).max(8),
});
type Attest = RouteContext<{ body: typeof attestBody }>;

/** PROTOCOL §3: a single-use nonce for `/attest`; issuing it stores nothing. */
function issueChallenge(ctx: RouteContext): void {
  respond(ctx, 200, ctx.deps.loop.challenges.issueChallenge(), NO_STORE);
}

async function attest(ctx: Attest): Promise<void> {
  const result = await ctx.deps.loop.attest({
    agent: ctx.agent!, jkt: ctx.dpop!.jkt, nonce: ctx.body.nonce, evidence: ctx.body.evidence as never, requestId: ctx.requestId,
  });
  const attestors = Object.fromEntries(result.record.results.map((r) => [r.attestor, { status: r.status }]));
  respond(ctx, 200, { attestation: result.token, id: result.record.id, expires_in: result.expiresIn, verdict: result.record.verdict, attestors }, NO_STORE);
}

export const attestRoutes = [
  defineRoute({
    method: 'POST', path: BROKER_PATH.challenge, family: 'oauth', body: 'form',
    summary: 'A single-use nonce for /attest (PROTOCOL §3)', schema: {}, steps: [issueChallenge],
  }),
  defineRoute({
    method: 'POST', path: BROKER_PATH.attest, family: 'oauth', body: 'json', dpopNonce: true,
    summary: 'Verify evidence and return an attestation result bound to the DPoP key', schema: { body: attestBody },
    steps: [authenticateClient, limitClient, checkDpop, attest],
  }),
];
