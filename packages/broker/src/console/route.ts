import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminRight } from '../core/model.ts';
import type { HttpDeps } from '../http/deps.ts';
import type { ConsoleSession } from '../services/console-auth.ts';
import type { ConsoleServices } from './services.ts';

export type { ConsoleSession } from '../services/console-auth.ts';

/** What a console page returns; the plugin adds the security headers. */
export type ConsoleResult =
  | { html: string; status?: number }
  | { redirect: string }
  | { json: unknown; status?: number };

export interface ConsoleRequestBase {
  deps: HttpDeps;
  console: ConsoleServices;
  request: FastifyRequest;
  /** For cookies only; the page's result is sent by the plugin. */
  reply: FastifyReply;
  requestId: string;
  params: Record<string, string>;
  query: Record<string, string>;
  /** The urlencoded form body of a POST (`_csrf` already checked), or the JSON body's string members. */
  form: Record<string, string>;
  /** The raw parsed body (JSON routes of the WebAuthn scripts). */
  body: unknown;
}

export interface ConsoleRequest extends ConsoleRequestBase {
  session: ConsoleSession;
}

export interface PublicConsoleRequest extends ConsoleRequestBase {
  session: ConsoleSession | null;
}

export interface ConsolePage {
  method: 'GET' | 'POST';
  /** Fastify syntax under /console (`/console/agents/:id`). */
  path: string;
  /** Without a session: GET → 303 to sign-in, POST → 401. */
  public: boolean;
  /** Checked against the session's role rights (403 page when missing). */
  right?: AdminRight;
  /** POST bodies: `form` (default) or `json` (scripts). */
  body?: 'form' | 'json';
  handle(req: PublicConsoleRequest): Promise<ConsoleResult>;
}

/** A page for signed-in humans: `req.session` is never null. */
export function definePage(page: { method: 'GET' | 'POST'; path: string; right?: AdminRight; body?: 'form' | 'json'; handle(req: ConsoleRequest): Promise<ConsoleResult> }): ConsolePage {
  return { ...page, public: false, handle: (req) => page.handle(req as ConsoleRequest) };
}

/** A page anyone may reach (sign-in, enrolment); `req.session` may be null. */
export function definePublicPage(page: { method: 'GET' | 'POST'; path: string; body?: 'form' | 'json'; handle(req: PublicConsoleRequest): Promise<ConsoleResult> }): ConsolePage {
  return { ...page, public: true };
}
