import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { RouteContext } from '../route-spec.ts';

interface ClientAuthBody {
  client_id?: string | undefined;
  client_assertion_type?: string | undefined;
  client_assertion?: string | undefined;
}

/** Client authentication parameters: optional here, so their absence is a 401 `invalid_client`. */
export const clientAuthFields = {
  client_id: z.string().optional(),
  client_assertion_type: z.string().optional(),
  client_assertion: z.string().optional(),
};

/** PROTOCOL §2: the agent authenticates with `private_key_jwt` on every agent endpoint. */
export async function authenticateClient(ctx: RouteContext): Promise<void> {
  const body = ctx.body as ClientAuthBody;
  ctx.agent = await ctx.deps.loop.authenticateClient({
    client_id: body.client_id, client_assertion_type: body.client_assertion_type, client_assertion: body.client_assertion,
  }, ctx.held ?? undefined);
}

/** RFC 9449 §4.3 against the URL the issuer names for this route (never `Host`). */
export async function checkDpop(ctx: RouteContext): Promise<void> {
  ctx.dpop = await ctx.deps.loop.verifyDpop({
    headerValues: headerValues(ctx.request, 'dpop'),
    method: ctx.spec.method,
    url: ctx.deps.config.issuer + ctx.spec.path,
    ...(ctx.held ? { held: ctx.held } : {}),
  });
}

/** Like `checkDpop`, but a request without a proof passes (it may pin a key by `dpop_jkt`). */
export async function checkOptionalDpop(ctx: RouteContext): Promise<void> {
  if (headerValues(ctx.request, 'dpop').length > 0) await checkDpop(ctx);
}

/** Every value of a header as sent, so a repeated header is seen as such (not comma-joined). */
export function headerValues(request: FastifyRequest, name: string): string[] {
  const raw = request.raw.rawHeaders;
  const values: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) values.push(raw[i + 1]!);
  return values;
}

/** OAuth responses carrying tokens must not be cached (RFC 6749 §5.1). */
export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };
