import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Agent, AdminRight } from '../core/model.ts';
import type { VerifiedDpop } from '../proof/dpop.ts';
import type { HeldIds } from '../proof/single-use.ts';
import type { AdminCaller } from '../services/admin-tokens.ts';
import type { HttpDeps } from './deps.ts';
import type { Family } from './errors.ts';

/** How a route takes its body: `none` accepts no body or an empty JSON object. */
export type BodyKind = 'form' | 'json' | 'none';

/**
 * Schemas for the parts of a request. Admin routes should use strict objects (unknown members
 * are errors); OAuth routes ignore unknown parameters (RFC 6749 §3.1), so use plain objects.
 */
export interface RouteSchemas {
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
}

type Parsed<T> = T extends z.ZodType ? z.output<T> : Record<string, never>;

export interface Outcome {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** What the steps of one request share, in the order they fill it in. */
export interface RouteContext<S extends RouteSchemas = RouteSchemas> {
  readonly deps: HttpDeps;
  readonly spec: RouteSpec;
  readonly request: FastifyRequest;
  /** `req_…`, also sent back as `X-Request-Id` and used in audit events. */
  readonly requestId: string;
  /** Set by `authenticateAdmin`. */
  caller: AdminCaller | null;
  /** Set by `authenticateClient` (an agent, `private_key_jwt`). */
  agent: Agent | null;
  /** Set by `checkDpop`. */
  dpop: VerifiedDpop | null;
  /** On routes with `holdSingleUseIds`: the ids the request presented, left for its commit. */
  held: HeldIds | null;
  params: Parsed<S['params']>;
  query: Parsed<S['query']>;
  body: Parsed<S['body']>;
  /** Set by the last step. */
  outcome: Outcome | null;
}

/** One named step of an endpoint (node-oidc-provider style): it checks, loads or responds. */
export type Step<S extends RouteSchemas = RouteSchemas> = (ctx: RouteContext<S>) => void | Promise<void>;

export interface RouteSpec<S extends RouteSchemas = RouteSchemas> {
  /** PATCH and DELETE only where a standard requires them (OpenID SSF stream management). */
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Fastify syntax (`/admin/v1/humans/:id`). */
  path: string;
  family: Family;
  body: BodyKind;
  /** Required on every admin route. */
  right?: AdminRight;
  /** PROTOCOL §6: every response carries a fresh `DPoP-Nonce`. */
  dpopNonce?: boolean;
  /**
   * The single-use ids the request presents (client assertion, DPoP proof) are held back for the
   * commit of the token they authorise (proof/single-use.ts); the pipeline records what is left,
   * before answering.
   */
  holdSingleUseIds?: boolean;
  summary: string;
  schema: S;
  /** The endpoint's own steps, after the shared ones (see `stepsOf`). */
  steps: readonly Step<S>[];
}

/** Types the steps against the schemas, then erases them for the one route table. */
export function defineRoute<S extends RouteSchemas>(spec: RouteSpec<S>): RouteSpec {
  return spec as unknown as RouteSpec;
}

export function respond<S extends RouteSchemas>(ctx: RouteContext<S>, status: number, body: unknown, headers?: Record<string, string>): void {
  ctx.outcome = { status, body, ...(headers ? { headers } : {}) };
}
