import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleSession } from '../services/console-auth.ts';
import type { ConsoleServices } from './services.ts';

/**
 * `__Host-` prefix: the browser accepts the cookie only with `Secure`, `Path=/` and no `Domain`, so
 * no subdomain can plant or overwrite it. `Secure` cookies work on http://localhost (a secure context).
 */
export const SESSION_COOKIE = '__Host-mandate_session';
/** The OIDC state (signed), only between the redirect to the IdP and its callback. */
export const OIDC_COOKIE = '__Host-mandate_oidc';

const BASE = { path: '/', httpOnly: true, secure: true } as const;

/** The signed-in session behind the request's cookie, or null (for raw routes such as SSE). */
export async function loadSession(services: Pick<ConsoleServices, 'auth'>, request: FastifyRequest): Promise<ConsoleSession | null> {
  return services.auth.loadSession(request.cookies?.[SESSION_COOKIE]);
}

export function setSessionCookie(reply: FastifyReply, value: string, maxAgeMs: number): void {
  // SameSite=Strict: no cross-site request carries the session, so cross-site POSTs arrive signed out.
  reply.setCookie(SESSION_COOKIE, value, { ...BASE, sameSite: 'strict', maxAge: Math.floor(maxAgeMs / 1000) });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { ...BASE, sameSite: 'strict' });
}

/** Lax, not Strict: it must come back on the IdP's top-level redirect to the callback. */
export function setOidcCookie(reply: FastifyReply, value: string): void {
  reply.setCookie(OIDC_COOKIE, value, { ...BASE, sameSite: 'lax', maxAge: 600 });
}

export function clearOidcCookie(reply: FastifyReply): void {
  reply.clearCookie(OIDC_COOKIE, { ...BASE, sameSite: 'lax' });
}
