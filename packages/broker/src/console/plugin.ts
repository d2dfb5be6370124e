import { timingSafeEqual } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CATALOGUE, MandateError } from '../core/errors.ts';
import { hasRight } from '../core/model.ts';
import type { HttpDeps } from '../http/deps.ts';
import { toMandateError } from '../http/errors.ts';
import { registerConsoleAssets } from './assets.ts';
import { errorPage } from './pages/error.ts';
import { CONSOLE_PAGES } from './pages/index.ts';
import type { ConsolePage, ConsoleResult, PublicConsoleRequest } from './route.ts';
import { registerConsoleScripts } from './scripts.ts';
import type { ConsoleServices } from './services.ts';
import { loadSession } from './session-cookie.ts';

/**
 * CSP: scripts, styles, images and fetches only from this origin, no inline code, no framing, forms
 * only to this origin. With `SameSite=Strict` cookies, the synchronizer token and the Origin check,
 * this is the console's CSRF and XSS posture (docs/console.md).
 */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // Not `no-referrer`: with it, Chromium sends `Origin: null` on form posts, and the CSRF check needs the origin.
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

/** Registers `/console/*` on the broker's fastify app: cookies, security headers, pages, scripts, assets. */
export async function registerConsole(app: FastifyInstance, deps: HttpDeps, services: ConsoleServices): Promise<void> {
  await app.register(fastifyCookie);
  app.addHook('onSend', async (request, reply, payload) => {
    if (!request.url.startsWith('/console')) return payload;
    reply.headers(SECURITY_HEADERS);
    const cacheable = request.url.startsWith('/console/assets/') || request.url.startsWith('/console/scripts/');
    if (!cacheable || reply.statusCode >= 400) reply.header('cache-control', 'no-store');
    return payload;
  });
  registerConsoleAssets(app);
  registerConsoleScripts(app);
  for (const page of CONSOLE_PAGES) registerPage(app, deps, services, page);
}

function registerPage(app: FastifyInstance, deps: HttpDeps, services: ConsoleServices, page: ConsolePage): void {
  app.route({
    method: page.method,
    url: page.path,
    handler: async (request, reply) => {
      try {
        const req = await prepare(request, reply, deps, services, page);
        if (req === null) return reply.code(303).header('location', `/console/signin?next=${encodeURIComponent(request.url)}`).send();
        return send(reply, await page.handle(req));
      } catch (error) {
        return sendError(request, reply, deps, services, page, toMandateError(error));
      }
    },
  });
}

/** Session, CSRF and right checks, in that order; null means "send to sign-in". */
async function prepare(request: FastifyRequest, reply: FastifyReply, deps: HttpDeps, services: ConsoleServices, page: ConsolePage): Promise<PublicConsoleRequest | null> {
  const session = await loadSession(services, request);
  const body = request.body ?? {};
  const form = stringMembers(body);
  if (!page.public && !session) {
    if (page.method === 'GET') return null;
    throw new MandateError('ERR_CONSOLE_UNAUTHENTICATED', 'sign in to the console first');
  }
  if (page.method === 'POST') checkCsrf(request, services.origin, session?.csrf ?? null, form);
  if (page.right && session && !hasRight(session.rights, page.right))
    throw new MandateError('ERR_ADMIN_FORBIDDEN', `this needs the ${page.right} right, which your roles do not grant`, { right: page.right });
  return {
    deps, console: services, request, reply, requestId: request.id, session, body, form,
    params: stringMembers(request.params), query: stringMembers(request.query),
  };
}

/**
 * Every POST: `Origin` must be the console origin (browsers always send it on POST), and with a
 * session the synchronizer token must match, from the form (`_csrf`) or `X-CSRF-Token`.
 */
function checkCsrf(request: FastifyRequest, origin: string, expected: string | null, form: Record<string, string>): void {
  if (request.headers.origin !== origin) throw new MandateError('ERR_CONSOLE_CSRF', 'this request did not come from the console\'s own pages (Origin)');
  if (expected === null) return;
  const header = request.headers['x-csrf-token'];
  const presented = Buffer.from(typeof header === 'string' ? header : (form['_csrf'] ?? ''));
  const wanted = Buffer.from(expected);
  if (presented.length !== wanted.length || !timingSafeEqual(presented, wanted))
    throw new MandateError('ERR_CONSOLE_CSRF', 'the form is stale or was not made by the console: reload the page');
}

function stringMembers(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

function send(reply: FastifyReply, result: ConsoleResult): FastifyReply {
  if ('redirect' in result) return reply.code(303).header('location', result.redirect).send();
  if ('json' in result) return reply.code(result.status ?? 200).type('application/json; charset=utf-8').send(result.json);
  return reply.code(result.status ?? 200).type('text/html; charset=utf-8').send(result.html);
}

/** JSON for the scripts' calls, an HTML page otherwise; 5xx never carry internals. */
async function sendError(request: FastifyRequest, reply: FastifyReply, deps: HttpDeps, services: ConsoleServices, page: ConsolePage, error: MandateError): Promise<FastifyReply> {
  const entry = ERROR_CATALOGUE[error.code];
  const detail = entry.status >= 500 ? entry.title : error.message;
  if (entry.status >= 500) request.log.error({ err: error }, 'console request failed');
  if (page.body === 'json') return reply.code(entry.status).type('application/json; charset=utf-8').send({ code: error.code, title: entry.title, detail });
  const session = await loadSession(services, request).catch(() => null);
  return reply.code(entry.status).type('text/html; charset=utf-8').send(errorPage(session, entry.status, entry.title, detail, error.code));
}
