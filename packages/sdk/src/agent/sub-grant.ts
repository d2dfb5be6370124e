import { GRANT_TYPE, MAY_ACT_SUB_PARAMETER, SUB_GRANT_TOKEN_TYPE, TOKEN_TYPE, type AgentTask } from '../protocol/index.ts';
import { ConfigurationError, ResponseFormatError } from '../errors.ts';
import type { ApprovedMandate } from './ciba.ts';
import { clientAuthentication, type AgentContext } from './context.ts';
import { parseTokenResponse } from './tokens.ts';

/**
 * What a parent agent passes on to a child (PROTOCOL §10): each member equal to or narrower than
 * the parent's token. Members left out keep the parent's value.
 *
 * @example
 * ```ts
 * const options: DelegateOptions = { child: 'agt_child…', actions: ['read'], maxUses: 3, notAfter: new Date(Date.now() + 600_000) };
 * ```
 */
export interface DelegateOptions {
  /** The registered child agent (`agt_…`) that alone may redeem the sub-grant (`may_act.sub`). */
  child: string;
  /** Which of the parent's audiences to delegate; required only when the parent holds several. */
  audience?: string;
  /** A subset of the parent's actions. */
  actions?: string[];
  /** No later than the parent's `notAfter`: a `Date` or epoch seconds. */
  notAfter?: Date | number;
  /** Access tokens the child may mint, carved out of the parent's remaining uses. */
  maxUses?: number;
}

/**
 * A one-time sub-grant, as the parent receives it and hands it to the child.
 *
 * @example
 * ```ts
 * const grant: SubGrant = await parent.delegate({ child: childId, actions: ['read'] });
 * await sendToChild(JSON.stringify(grant));
 * ```
 */
export interface SubGrant {
  /** The opaque sub-grant (`sgr_…`): only the named child can redeem it, once. */
  subGrant: string;
  /** The child agent it names. */
  child: string;
  /** The one audience it is for. */
  resource: string;
  expiresIn: number;
  /** Epoch milliseconds: redeem before this. */
  expiresAt: number;
  /** The narrowed `agent-task` the child will hold. */
  authorizationDetails: AgentTask[];
}

/** The parent's task with the members the options name replaced; never a `delegation` member. */
export function narrowedTask(parent: AgentTask, options: DelegateOptions): AgentTask | undefined {
  if (options.actions === undefined && options.notAfter === undefined && options.maxUses === undefined) return undefined;
  const { delegation: _approval, ...task } = parent;
  const notAfter = options.notAfter instanceof Date ? Math.floor(options.notAfter.getTime() / 1000) : (options.notAfter ?? task.constraints?.notAfter);
  if (!Number.isInteger(notAfter)) throw new ConfigurationError('notAfter must be a Date or integer epoch seconds');
  const maxUses = options.maxUses ?? task.constraints?.maxUses;
  return { ...task, ...(options.actions ? { actions: options.actions } : {}), constraints: { notAfter: notAfter!, ...(maxUses === undefined ? {} : { maxUses }) } };
}

/** RFC 8693 with PROTOCOL §10: the parent's own access token (proof by its DPoP key) → a sub-grant for `child`. */
export async function requestSubGrant(
  ctx: AgentContext,
  input: { accessToken: string; resource: string; child: string; authorizationDetails?: AgentTask[] },
): Promise<SubGrant> {
  const { token: url } = await ctx.endpoints();
  const body = await ctx.transport.callAs({
    url,
    dpop: true,
    build: async () => {
      const form: Record<string, string> = {
        grant_type: GRANT_TYPE.tokenExchange,
        subject_token: input.accessToken,
        subject_token_type: TOKEN_TYPE.accessToken,
        requested_token_type: SUB_GRANT_TOKEN_TYPE,
        [MAY_ACT_SUB_PARAMETER]: input.child,
        resource: input.resource,
        ...(await clientAuthentication(ctx)),
      };
      if (input.authorizationDetails) form.authorization_details = JSON.stringify(input.authorizationDetails);
      return { form };
    },
  });
  if (typeof body.access_token !== 'string' || body.issued_token_type !== SUB_GRANT_TOKEN_TYPE) throw new ResponseFormatError('the token response holds no sub-grant', url);
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : 0;
  const details = Array.isArray(body.authorization_details) ? (body.authorization_details as AgentTask[]) : [];
  return { subGrant: body.access_token, child: input.child, resource: input.resource, expiresIn, expiresAt: ctx.clock.now() + expiresIn * 1000, authorizationDetails: details };
}

/** The child's side: the sub-grant, its own fresh attestation → its first token and its own mandate grant. */
export async function redeemSubGrant(ctx: AgentContext, input: { subGrant: string; resource: string; attestation: string }): Promise<ApprovedMandate> {
  const { token: url } = await ctx.endpoints();
  const body = await ctx.transport.callAs({
    url,
    dpop: true,
    build: async () => ({
      form: {
        grant_type: GRANT_TYPE.tokenExchange,
        subject_token: input.subGrant,
        subject_token_type: SUB_GRANT_TOKEN_TYPE,
        actor_token: input.attestation,
        actor_token_type: TOKEN_TYPE.jwt,
        resource: input.resource,
        ...(await clientAuthentication(ctx)),
      },
    }),
  });
  const tokens = parseTokenResponse(body, url, ctx.clock);
  if (typeof body.refresh_token !== 'string' || body.refresh_token === '') throw new ResponseFormatError('token response has no mandate grant (refresh_token)', url);
  return { ...tokens, grant: body.refresh_token };
}
