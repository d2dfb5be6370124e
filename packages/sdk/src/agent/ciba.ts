import { AGENT_TASK_TYPE, GRANT_TYPE, type AgentTask } from '../protocol/index.ts';
import { ConfigurationError, ResponseFormatError } from '../errors.ts';
import { attestationHeaders, clientAuthentication, type AgentContext } from './context.ts';
import { parseTokenResponse, type TokenSet } from './tokens.ts';

/**
 * The task an agent asks a human to approve (one `agent-task`, PROTOCOL §4).
 *
 * @example
 * ```ts
 * const task: TaskRequest = { purpose: 'Triage issues', audience: 'https://api.example.com', actions: ['issues:read'], notAfter: new Date('2026-01-01') };
 * ```
 */
export interface TaskRequest {
  purpose: string;
  /** The one resource server (a registered audience) the task is for. */
  audience: string;
  actions: string[];
  datatypes?: string[];
  identifier?: string;
  /** When the mandate ends: a `Date` or epoch seconds. */
  notAfter: Date | number;
  /** How many access tokens may be minted for the mandate (not a per-call budget). */
  maxUses?: number;
}

/**
 * What `AgentClient.ask` sends to `POST /bc-authorize`.
 *
 * @example
 * ```ts
 * await agent.ask({ loginHint: 'usr_alice', bindingMessage: 'Triage issues', task, requestedExpiry: 600 });
 * ```
 */
export interface AskOptions {
  /** The human who is asked (`usr_…`); must be on the agent's approver list. */
  loginHint: string;
  /** Short text shown to the approver beside the request. */
  bindingMessage: string;
  task: TaskRequest;
  /** Seconds the request may stay pending (capped by the broker). */
  requestedExpiry?: number;
}

/**
 * The broker's answer to `POST /bc-authorize`.
 *
 * @example
 * ```ts
 * const { authReqId, interval } = await agent.ask(options);
 * ```
 */
export interface BackchannelRequest {
  authReqId: string;
  expiresIn: number;
  /** Minimum seconds between polls. */
  interval: number;
}

/**
 * The first token of an approved mandate, and the mandate grant that renews it.
 *
 * @example
 * ```ts
 * const { grant, accessToken } = await agent.waitForApproval(authReqId);
 * await saveSecret('mandate-grant', grant);
 * ```
 */
export interface ApprovedMandate extends TokenSet {
  /** The mandate grant (`refresh_token`, `mgr_…`): keep it secret, it renews the mandate's tokens. */
  grant: string;
}

/** RFC 9396 `authorization_details` for one task, as a JSON string. */
export function taskDetails(task: TaskRequest): string {
  const notAfter = task.notAfter instanceof Date ? Math.floor(task.notAfter.getTime() / 1000) : task.notAfter;
  if (!Number.isInteger(notAfter)) throw new ConfigurationError('task.notAfter must be a Date or integer epoch seconds');
  if (typeof task.audience !== 'string' || task.audience === '') throw new ConfigurationError('task.audience is required');
  if (!Array.isArray(task.actions) || task.actions.length === 0) throw new ConfigurationError('task.actions must list at least one action');
  const detail: AgentTask = { type: AGENT_TASK_TYPE, purpose: task.purpose, locations: [task.audience], actions: task.actions, constraints: { notAfter } };
  if (task.datatypes) detail.datatypes = task.datatypes;
  if (task.identifier !== undefined) detail.identifier = task.identifier;
  if (task.maxUses !== undefined) detail.constraints = { notAfter, maxUses: task.maxUses };
  return JSON.stringify([detail]);
}

/** OpenID CIBA §7.1 `POST /bc-authorize`, with the DPoP key pinned by a proof header. */
export async function backchannelAuthorize(ctx: AgentContext, options: AskOptions, attestation: string): Promise<BackchannelRequest> {
  const { backchannelAuthentication: url } = await ctx.endpoints();
  const details = taskDetails(options.task);
  const body = await ctx.transport.callAs({
    url,
    dpop: true,
    build: async () => {
      const form: Record<string, string> = {
        ...(await clientAuthentication(ctx)),
        login_hint: options.loginHint,
        binding_message: options.bindingMessage,
        authorization_details: details,
        attestation,
      };
      if (options.requestedExpiry !== undefined) form.requested_expiry = String(options.requestedExpiry);
      return { form };
    },
  });
  if (typeof body.auth_req_id !== 'string' || body.auth_req_id === '') throw new ResponseFormatError('bc-authorize response has no auth_req_id', url);
  return {
    authReqId: body.auth_req_id,
    expiresIn: typeof body.expires_in === 'number' ? body.expires_in : 0,
    interval: typeof body.interval === 'number' && body.interval > 0 ? body.interval : 5,
  };
}

/** One CIBA poll (§10.1); `freshAttestation` travels in the `OAuth-Client-Attestation` headers. */
export async function pollToken(ctx: AgentContext, authReqId: string, freshAttestation: string | undefined): Promise<ApprovedMandate> {
  const { token: url } = await ctx.endpoints();
  const body = await ctx.transport.callAs({
    url,
    dpop: true,
    build: async () => ({
      form: { grant_type: GRANT_TYPE.ciba, auth_req_id: authReqId, ...(await clientAuthentication(ctx)) },
      ...(freshAttestation ? { headers: await attestationHeaders(ctx, freshAttestation) } : {}),
    }),
  });
  const tokens = parseTokenResponse(body, url, ctx.clock);
  if (typeof body.refresh_token !== 'string' || body.refresh_token === '') throw new ResponseFormatError('token response has no mandate grant (refresh_token)', url);
  return { ...tokens, grant: body.refresh_token };
}
