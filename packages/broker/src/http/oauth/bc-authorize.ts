import { BROKER_PATH } from '@mandate/sdk/protocol';
import { z } from 'zod';
import { limitClient } from '../rate-limit.ts';
import { defineRoute, respond, type RouteContext } from '../route-spec.ts';
import { authenticateClient, clientAuthFields, checkOptionalDpop, NO_STORE } from './client-steps.ts';

const askBody = z.object({
  ...clientAuthFields,
  login_hint: z.string(),
  binding_message: z.string().optional(),
  // Optional here, so that their absence gets the service's own answer (PROTOCOL §4).
  authorization_details: z.string().optional(),
  requested_expiry: z.string().optional(),
  dpop_jkt: z.string().optional(),
  attestation: z.string().optional(),
  scope: z.string().optional(),
});
type Ask = RouteContext<{ body: typeof askBody }>;

/** OpenID CIBA §7 with PROTOCOL §4: a human is asked to approve one task. `scope` is ignored. */
async function askForMandate(ctx: Ask): Promise<void> {
  const { body } = ctx;
  const result = await ctx.deps.loop.ask({
    agent: ctx.agent!, loginHint: body.login_hint, bindingMessage: body.binding_message, authorizationDetails: body.authorization_details,
    requestedExpiry: body.requested_expiry, proofJkt: ctx.dpop?.jkt, dpopJkt: body.dpop_jkt, attestation: body.attestation, requestId: ctx.requestId,
  });
  respond(ctx, 200, { auth_req_id: result.authReqId, expires_in: result.expiresIn, interval: result.interval }, NO_STORE);
}

export const backchannelRoutes = [
  defineRoute({
    method: 'POST', path: BROKER_PATH.backchannelAuthorize, family: 'oauth', body: 'form', dpopNonce: true,
    summary: 'Ask a human to approve a task (OpenID CIBA, poll mode)', schema: { body: askBody },
    steps: [authenticateClient, limitClient, checkOptionalDpop, askForMandate],
  }),
];
