import { GRANT_TYPE, TOKEN_TYPE, type AgentTask } from '../protocol/index.ts';
import { attestationHeaders, clientAuthentication, type AgentContext } from './context.ts';
import { parseTokenResponse, type TokenSet } from './tokens.ts';

export interface ExchangeInput {
  grant: string;
  /** A fresh attestation result for the DPoP key (the `actor_token`). */
  attestation: string;
  resource: string;
  /** A task narrower than (or equal to) the mandate's. */
  authorizationDetails?: AgentTask[];
}

/** PROTOCOL §5 / RFC 8693: mandate grant + fresh attestation → a DPoP-bound access token. */
export async function exchangeGrant(ctx: AgentContext, input: ExchangeInput): Promise<TokenSet> {
  const { token: url } = await ctx.endpoints();
  const body = await ctx.transport.callAs({
    url,
    dpop: true,
    build: async () => {
      const form: Record<string, string> = {
        grant_type: GRANT_TYPE.tokenExchange,
        subject_token: input.grant,
        subject_token_type: TOKEN_TYPE.refreshToken,
        actor_token: input.attestation,
        actor_token_type: TOKEN_TYPE.jwt,
        resource: input.resource,
        ...(await clientAuthentication(ctx)),
      };
      if (input.authorizationDetails) form.authorization_details = JSON.stringify(input.authorizationDetails);
      return { form };
    },
  });
  return parseTokenResponse(body, url, ctx.clock);
}

/** PROTOCOL §5: an autonomous agent's token (`client_credentials`), attestation in headers. */
export async function clientCredentials(ctx: AgentContext, input: { attestation: string; resource: string }): Promise<TokenSet> {
  const { token: url } = await ctx.endpoints();
  const body = await ctx.transport.callAs({
    url,
    dpop: true,
    build: async () => ({
      form: { grant_type: GRANT_TYPE.clientCredentials, resource: input.resource, ...(await clientAuthentication(ctx)) },
      headers: await attestationHeaders(ctx, input.attestation),
    }),
  });
  return parseTokenResponse(body, url, ctx.clock);
}

/** RFC 7009 §2.1: revoke one of the agent's own tokens (an access token or a mandate grant). */
export async function revokeToken(ctx: AgentContext, token: string, hint: 'access_token' | 'refresh_token'): Promise<void> {
  const { revocation: url } = await ctx.endpoints();
  await ctx.transport.callAs({
    url,
    dpop: false,
    emptyOk: true,
    build: async () => ({ form: { token, token_type_hint: hint, ...(await clientAuthentication(ctx)) } }),
  });
}
