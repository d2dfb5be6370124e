import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from '../core/duration.ts';

const duration = (fallback: string, description: string) =>
  z.string().regex(DURATION_PATTERN, 'expected a duration such as 30s, 5m, 24h').default(fallback).transform(parseDuration).describe(description);

/** Tokens live at most 5 minutes (PROTOCOL §5): a longer bound would outlive every token it covers. */
const MAX_TTL_MS = 5 * 60_000;

const push = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Run the OpenID SSF transmitter that pushes CAEP session-revoked events to subscribed resource servers.'),
    pollInterval: duration('1s', 'The transmitter\'s fallback poll of the change feed (every replica polls): a revocation made in this process wakes it at once, one made on another replica through PostgreSQL NOTIFY; this bounds how late a push starts when a notification is lost. Due retries are also picked up at this pace.'),
    timeout: duration('5s', 'Timeout of one push (RFC 8935).'),
    retryBase: duration('1s', 'Delay before the first retry of a failed push; doubled at each further attempt.'),
    maxAttempts: z.number().int().min(1).max(20).default(8).describe('Attempts per SET before it is given up (kept in the outbox as failed).'),
    allowedHosts: z
      .array(z.string().min(1))
      .default([])
      .describe('Push endpoint host names (exact, case-insensitive) exempt from the address check; any other endpoint must be a public address (no private, loopback, link-local, multicast).'),
    allowLoopback: z.boolean().default(false).describe('Allow push endpoints on loopback addresses (127.0.0.0/8, ::1), over http too: for tests, benchmarks and development only.'),
    maxStreamsPerAudience: z.number().int().min(1).max(1000).default(10).describe('Most SSF streams one audience (resource server) may hold.'),
  })
  .prefault({})
  .describe('Push of revocations (OpenID SSF 1.0 transmitter, RFC 8935 push).');

/** `revocation.*`: the Token Status List bound and the SSF push transmitter (docs/revocation.md). */
export const revocationConfigSchema = z
  .strictObject({
    statusListTtl: duration('60s', "The status-list revocation bound: the list's ttl and HTTP max-age (whole seconds, 1s to 5m)."),
    statusListSize: z.number().int().min(1024).max(1_048_576).default(65_536).describe('Statuses per status list; a list that is nearly full spills into the next one.'),
    push,
  })
  .superRefine((config, ctx) => {
    // HTTP max-age and the list's ttl are whole seconds (draft-ietf-oauth-status-list §5.1).
    if (config.statusListTtl < 1000 || config.statusListTtl > MAX_TTL_MS || config.statusListTtl % 1000 !== 0)
      ctx.addIssue({ code: 'custom', path: ['statusListTtl'], message: 'must be whole seconds between 1s and 5m' });
  })
  .prefault({})
  .describe('Revocation status for resource servers: Token Status List and SSF push.');
