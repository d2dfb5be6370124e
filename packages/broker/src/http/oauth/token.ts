import { BROKER_PATH, GRANT_TYPE, SUB_GRANT_TOKEN_TYPE, TOKEN_TYPE } from '@mandate/sdk/protocol';
import { z } from 'zod';
import { MandateError } from '../../core/errors.ts';
import type { ClientAttestationHeaders } from '../../services/actor-attestation.ts';
import { limitClient } from '../rate-limit.ts';
import { defineRoute, respond, type RouteContext } from '../route-spec.ts';
import { authenticateClient, checkDpop, clientAuthFields, headerValues, NO_STORE } from './client-steps.ts';

const tokenBody = z.object({
  ...clientAuthFields,
  grant_type: z.string(),
  auth_req_id: z.string().optional(),
  subject_token: z.string().optional(),
  subject_token_type: z.string().optional(),
  actor_token: z.string().optional(),
  actor_token_type: z.string().optional(),
  requested_token_type: z.string().optional(),
  // PROTOCOL §10: the child agent a sub-grant is for; it becomes the sub-grant's `may_act.sub`.
  may_act_sub: z.string().optional(),
  resource: z.union([z.string(), z.array(z.string())]).optional(),
  authorization_details: z.string().optional(),
  scope: z.string().optional(),
});
type Token = RouteContext<{ body: typeof tokenBody }>;

const ATTESTATION_HEADER = 'oauth-client-attestation';
const ATTESTATION_POP_HEADER = 'oauth-client-attestation-pop';

/** RFC 6749 §5.2: an unknown grant is refused before anyone is authenticated. */
function checkGrantType(ctx: Token): void {
  const supported: string[] = [GRANT_TYPE.ciba, GRANT_TYPE.tokenExchange, GRANT_TYPE.clientCredentials];
  // PROTOCOL §5: `refresh_token` is not a grant in v1, renewal needs fresh evidence.
  if (!supported.includes(ctx.body.grant_type)) throw new MandateError('ERR_GRANT_TYPE_UNSUPPORTED', `grant_type ${ctx.body.grant_type} is not supported`);
}

/** The attestation headers as sent (at most one of each); the service verifies them. */
function attestationHeaders(ctx: Token): ClientAttestationHeaders {
  const one = (name: string) => {
    const [value, ...more] = headerValues(ctx.request, name);
    if (more.length > 0) throw new MandateError('ERR_REQUEST_DUPLICATE_PARAMETER', `one ${name} header at most`);
    return value;
  };
  return { attestation: one(ATTESTATION_HEADER), pop: one(ATTESTATION_POP_HEADER) };
}

async function collectCiba(ctx: Token): Promise<void> {
  // A redemption has effects before its token (activation, poll accounting): the ids go first.
  await ctx.held!.recordNow(ctx.deps.clock.now());
  const headers = attestationHeaders(ctx);
  const clientAttestation = headers.attestation === undefined && headers.pop === undefined ? undefined : headers;
  const { token, grant } = await ctx.deps.loop.collect({ agent: ctx.agent!, authReqId: ctx.body.auth_req_id, jkt: ctx.dpop!.jkt, jwk: ctx.dpop!.jwk, clientAttestation, requestId: ctx.requestId });
  respond(ctx, 200, { access_token: token.accessToken, token_type: 'DPoP', expires_in: token.expiresIn, refresh_token: grant, authorization_details: token.claims.authorization_details }, NO_STORE);
}

/**
 * RFC 8693: a mandate grant or a redeemed sub-grant yields an access token (a redemption also the
 * child's own mandate grant as `refresh_token`); a parent's access token yields a sub-grant,
 * answered as RFC 8693 §2.2.1 answers tokens that are not access tokens (`token_type: N_A`).
 */
async function exchange(ctx: Token): Promise<void> {
  const { body } = ctx;
  const exchanged = await ctx.deps.loop.mint({
    agent: ctx.agent!, subjectToken: body.subject_token, subjectTokenType: body.subject_token_type, actorToken: body.actor_token,
    actorTokenType: body.actor_token_type, resources: resources(body.resource), authorizationDetails: body.authorization_details, jkt: ctx.dpop!.jkt, requestId: ctx.requestId,
    requestedTokenType: body.requested_token_type, mayActSub: body.may_act_sub, held: ctx.held!,
  });
  if (exchanged.kind === 'sub_grant') {
    const { subGrant, expiresIn, task, mandate } = exchanged.subGrant;
    return respond(ctx, 200, {
      access_token: subGrant, issued_token_type: SUB_GRANT_TOKEN_TYPE, token_type: 'N_A', expires_in: expiresIn,
      authorization_details: [task], may_act: { sub: mandate.agentId },
    }, NO_STORE);
  }
  const { token, grant } = exchanged;
  respond(ctx, 200, {
    access_token: token.accessToken, issued_token_type: TOKEN_TYPE.accessToken, token_type: 'DPoP', expires_in: token.expiresIn,
    authorization_details: token.claims.authorization_details, ...(grant ? { refresh_token: grant } : {}),
  }, NO_STORE);
}

async function clientCredentials(ctx: Token): Promise<void> {
  const token = await ctx.deps.loop.mintAutonomous({
    agent: ctx.agent!, resources: resources(ctx.body.resource), clientAttestation: attestationHeaders(ctx), jkt: ctx.dpop!.jkt, jwk: ctx.dpop!.jwk, requestId: ctx.requestId, held: ctx.held!,
  });
  respond(ctx, 200, { access_token: token.accessToken, token_type: 'DPoP', expires_in: token.expiresIn, authorization_details: token.claims.authorization_details }, NO_STORE);
}

/** RFC 8707 §2: `resource` may repeat (the form parser makes an array); the services want exactly one. */
function resources(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

async function issueByGrant(ctx: Token): Promise<void> {
  if (ctx.body.grant_type === GRANT_TYPE.ciba) return collectCiba(ctx);
  if (ctx.body.grant_type === GRANT_TYPE.tokenExchange) return exchange(ctx);
  return clientCredentials(ctx);
}

export const tokenEndpointRoutes = [
  defineRoute({
    method: 'POST', path: BROKER_PATH.token, family: 'oauth', body: 'form', dpopNonce: true, holdSingleUseIds: true,
    summary: 'Token endpoint: CIBA, token exchange, client_credentials (DPoP-bound)', schema: { body: tokenBody },
    steps: [checkGrantType, authenticateClient, limitClient, checkDpop, issueByGrant],
  }),
];
