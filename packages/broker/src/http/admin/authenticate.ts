import { MandateError } from '../../core/errors.ts';
import { hasRight } from '../../core/model.ts';
import type { ActionContext } from '../../services/action-context.ts';
import type { RouteContext, RouteSchemas } from '../route-spec.ts';

/** RFC 6750 §2.1: `Bearer <token>`, scheme case-insensitive, exactly one token. */
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

/** Every admin route starts here: an admin token of a named, active human (PROTOCOL §2). */
export async function authenticateAdmin(ctx: RouteContext): Promise<void> {
  const header = ctx.request.headers.authorization;
  if (header === undefined)
    throw new MandateError('ERR_ADMIN_UNAUTHENTICATED', 'an admin token is required (Authorization: Bearer mat_…)', { reason: 'missing_token' });
  const match = BEARER.exec(header);
  const caller = match ? await ctx.deps.adminTokens.authenticate(match[1]!) : null;
  if (!caller) throw new MandateError('ERR_ADMIN_UNAUTHENTICATED', 'the admin token is malformed, unknown, expired or revoked', { reason: 'invalid_token' });
  ctx.caller = caller;
}

export function requireRight(ctx: RouteContext): void {
  const needed = ctx.spec.right ?? 'admin';
  if (!ctx.caller || !hasRight(ctx.caller.token.rights, needed))
    throw new MandateError('ERR_ADMIN_FORBIDDEN', `this call needs the ${needed} right`, { right: needed });
}

/** The acting human and request id, for services and their audit events. */
export function actionContext<S extends RouteSchemas>(ctx: RouteContext<S>): ActionContext {
  if (!ctx.caller) throw new MandateError('ERR_INTERNAL', 'admin step ran without a caller');
  return { actor: ctx.caller.human.id, requestId: ctx.requestId, callerRights: ctx.caller.token.rights };
}
