import { z } from 'zod';
import { ATTESTOR_IDS, attestorsConfigSchema } from '../attestors/registry.ts';
import { DURATION_PATTERN, parseDuration } from '../core/duration.ts';
import { consoleConfigSchema, mandatesConfigSchema } from '../console/config.ts';
import { notificationsConfigSchema, reviewsConfigSchema } from '../notifications/config.ts';
import { revocationConfigSchema } from './revocation.ts';
import { metricsConfigSchema } from './operations.ts';
import { isTrustedProxyEntry } from './trusted-proxies.ts';

/**
 * The one config schema: every key has a default and a description; unknown keys are errors.
 * `mandate config describe` prints it; `mandate config validate <file>` checks a file against it.
 */
const duration = (fallback: string, description: string) =>
  z
    .string()
    .regex(DURATION_PATTERN, 'expected a duration such as 30s, 5m, 24h')
    .default(fallback)
    .transform(parseDuration)
    .describe(description);

const server = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1').describe('Address to bind. Non-loopback requires an https issuer.'),
    port: z.number().int().min(0).max(65535).default(7420).describe('TCP port (0 picks a free one).'),
    bodyLimitBytes: z.number().int().min(1024).max(10_485_760).default(65_536).describe('Largest request body accepted; larger → 413.'),
    shutdownGrace: duration('10s', 'On SIGTERM/SIGINT, how long in-flight requests may take to finish before their connections are closed.'),
    trustedProxies: z
      .array(z.string().refine(isTrustedProxyEntry, 'expected an IP address, a CIDR (10.0.0.0/8, fd00::/8) or loopback, linklocal, uniquelocal'))
      .default([])
      .describe('Reverse proxies whose X-Forwarded-For is believed (docs/limits.md). Empty: the socket address is the client, X-Forwarded-For is ignored.'),
    maxHeaderBytes: z.number().int().min(4096).max(65_536).default(16_384).describe('Largest request line plus headers (so also the URL) accepted; larger → 431.'),
    headersTimeout: duration('10s', 'Longest time a client may take to send the request line and headers; then the connection is closed (408).'),
    requestTimeout: duration('30s', 'Longest time a client may take to send a whole request, body included (a slow-body client is cut off, 408); at least headersTimeout.'),
    connectionTimeout: duration('60s', 'A connection with no traffic either way for this long is closed (0s: never). Keep it above notifications.heartbeat.'),
    keepAliveTimeout: duration('5s', 'How long an idle keep-alive connection stays open after a response. Behind a proxy that reuses connections, set it above the proxy\'s idle timeout.'),
  })
  .prefault({})
  .describe('HTTP listener.');

const rateLimit = (rate: number, burst: number, what: string) =>
  z
    .strictObject({
      rate: z.number().positive().max(100_000).default(rate).describe(`Sustained ${what} per second (fractions allowed: 0.5 is one every 2 s).`),
      burst: z.number().int().min(1).max(100_000).default(burst).describe(`${what[0]!.toUpperCase()}${what.slice(1)} allowed at once after a quiet period.`),
    })
    .prefault({});

const limits = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Rate limits on every endpoint that authenticates a client (/token, /attest, /bc-authorize, /revoke, /attest/tpm/*; 429 with Retry-After). Per replica, in memory.'),
    perClient: rateLimit(10, 20, 'requests of one authenticated client').describe('Every request of an authenticated client, counted after client authentication succeeds (one budget across the three endpoints).'),
    perIpFailures: rateLimit(1, 30, 'failed requests for one client from one address').describe('Failures per (client address, client id the request claims): bad client authentication, DPoP proof, attestation PoP or evidence signature; once spent, that pair gets 429 before any signature is checked. Other clients at the same address keep theirs. IPv6 counts by /64.'),
    perAddressFailures: rateLimit(10, 300, 'failed requests from one address').describe('Failures from one client address, whatever client they claim (stops a flood of made-up client ids); once spent, the address gets 429 before its body is read. IPv6 counts by /64.'),
    perIpv6NetworkFailures: rateLimit(100, 3000, 'failed requests from one IPv6 /48').describe('Failures from one IPv6 /48 (a site\'s allocation, RFC 6177), whatever /64 they come from; once spent, the /48 gets 429 before its body is read.'),
    maxKeys: z.number().int().min(100).max(10_000_000).default(100_000).describe('Most clients and addresses each limiter remembers; beyond it the least recently seen is forgotten (memory stays bounded under a flood of addresses).'),
  })
  .prefault({})
  .describe('Rate limits (docs/limits.md).');

const store = z
  .strictObject({
    synchronous: z.enum(['FULL', 'NORMAL']).default('FULL').describe('SQLite durability: FULL makes every commit durable (required for the audit guarantee).'),
    mmapSizeMb: z
      .number().int().min(0).max(2047).default(0)
      .describe('SQLite only: read up to this many MiB of the database file through a memory map instead of a system call per page (docs/deployment.md "Large stores"). Faster lookups in a store much larger than SQLite\'s page cache (at most 2047: the bundled SQLite maps at most 0x7fff0000 bytes); an I/O error while reading the file then stops the process (SIGBUS) instead of failing one request. 0: off.'),
    url: z
      .url({ protocol: /^postgres(ql)?$/, hostname: /./, error: 'expected a postgres:// URL (postgres://user:password@host:5432/database)' })
      .optional()
      .describe('PostgreSQL instead of the embedded SQLite: a postgres:// URL (docs/deployment.md). Replicas share it. Contains a password: prefer env MANDATE_STORE_URL.'),
    poolSize: z.number().int().min(1).max(200).default(10).describe('PostgreSQL only: most connections this replica opens (plus one for LISTEN and one holding its audit chain\'s lock).'),
    preparedStatements: z.boolean().default(true).describe('PostgreSQL only: run each parameterised statement as a named prepared statement, parsed and planned once per connection (docs/deployment.md). Turn off behind a pooler that may hand one server connection to different clients between transactions (PgBouncer in transaction mode without max_prepared_statements).'),
    pollInterval: duration('5s', 'How often a replica polls the change feed for revocations and key rotations besides LISTEN/NOTIFY: the bound on how late one arrives when notifications are lost. Keep it below keys.activationDelay.'),
  })
  .prefault({})
  .describe('The store: embedded SQLite in the data directory (default), or PostgreSQL with store.url.');

const keys = z
  .strictObject({
    activationDelay: duration('90s', 'After `keys rotate`, how long a new key is published before it signs (longer than the 60 s JWKS cache lifetime).'),
    overlap: duration('1h', 'How long a replaced key stays published after its successor activates (≥ tokens.accessTokenTtl).'),
    encryptionKeyEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]{0,127}$/, 'expected an environment variable name')
      .optional()
      .describe('Name of the environment variable holding a base64url 32-byte key: private signing keys and shared secrets are sealed with it (AES-256-GCM) before they reach the store (docs/keys-at-rest.md). Unset: stored in plaintext.'),
    previousEncryptionKeyEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]{0,127}$/, 'expected an environment variable name')
      .optional()
      .describe('Name of the environment variable holding the wrapping key being replaced: values sealed with it are opened and resealed with keys.encryptionKeyEnv (or stored in plaintext when that is unset) at start.'),
  })
  .prefault({})
  .describe('Signing keys (ES256).');

const tokens = z
  .strictObject({
    accessTokenTtl: duration('5m', 'Access token lifetime; at most 5m.'),
  })
  .prefault({})
  .describe('Issued tokens.');

const ciba = z
  .strictObject({
    defaultExpiry: duration('10m', 'How long a mandate request waits for approval when the agent names no requested_expiry.'),
    maxRequestedExpiry: duration('24h', 'Cap on requested_expiry (OpenID CIBA §7.1).'),
    interval: z.number().int().min(1).max(60).default(5).describe('Minimum seconds between polls of one request.'),
    maxPendingPerAgent: z.number().int().min(1).max(1000).default(10).describe('Pending requests one agent may have at once.'),
    bindingMessageMaxLength: z.number().int().min(8).max(256).default(128).describe('Longest binding_message accepted.'),
  })
  .prefault({})
  .describe('Asking for mandates (OpenID CIBA, poll mode).');

const dpop = z
  .strictObject({
    requireNonce: z.boolean().default(false).describe('Require a server nonce (DPoP-Nonce) in every proof at the token endpoint.'),
    iatWindow: duration('60s', 'How far a proof\'s iat may lie from the server clock, either way.'),
    nonceLifetime: duration('5m', 'Length of a nonce time slot; the current and the previous slot are accepted.'),
  })
  .prefault({})
  .describe('DPoP (RFC 9449).');

const delegation = z
  .strictObject({
    maxDepth: z.number().int().min(0).max(8).default(2).describe('Most sub-agent hops below a human-approved mandate (0 turns sub-grants off).'),
    subGrantTtl: duration('5m', 'How long a sub-grant waits for its child agent to redeem it.'),
  })
  .prefault({})
  .describe('Sub-agent hops: an agent passes a narrower part of its mandate to a registered child agent.');

const lifecycleAction = (description: string) => z.enum(['notify', 'suspend']).default('notify').describe(description);

const lifecycle = z
  .strictObject({
    interval: duration('1h', 'How often `serve` runs the lifecycle check (orphans, stale agents, overdue reviews); 0s turns the job off.'),
    staleAfter: duration('30d', 'An agent not seen (no client authentication) for longer than this is flagged stale.'),
    actions: z
      .strictObject({
        orphan: lifecycleAction('On an agent without an active owner: notify the admins, or also suspend it.'),
        stale: lifecycleAction('On a stale agent: notify its owners, or also suspend it.'),
        reviewOverdue: lifecycleAction('On an agent past its review date: notify its owners, or also suspend it.'),
      })
      .prefault({})
      .describe('What a newly raised flag does. Each flag acts once, when raised, and is audited.'),
  })
  .prefault({})
  .describe('Non-human identity lifecycle (docs/lifecycle.md).');

const audit = z
  .strictObject({
    chain: z.string().regex(/^[a-z0-9-]{1,32}$/).default('main').describe('Name of this process\'s audit chain. On PostgreSQL one per replica: a second live replica with the same name refuses to start.'),
    checkpointFile: z.string().min(1).optional().describe('External checkpoint file (default <dataDir>/audit-checkpoints.jsonl).'),
    crossCheckpointInterval: duration('60s', 'How often this replica pins the heads of the other replicas\' chains in its own (signed cross-checkpoint, docs/audit.md); only when other chains exist.'),
  })
  .prefault({})
  .describe('Tamper-evident audit log.');

const audience = z
  .strictObject({
    actions: z.array(z.string().min(1)).min(1).describe('Actions a mandate for this audience may request.'),
    datatypes: z.array(z.string().min(1)).default([]).describe('Datatypes a mandate may name.'),
    introspectionSecretSha256: z
      .string()
      .regex(/^[A-Za-z0-9_-]{43}$/, 'expected base64url SHA-256 (43 characters)')
      .optional()
      .describe('SHA-256 (base64url) of the secret this audience uses at /introspect.'),
    autonomous: z
      .strictObject({
        agents: z.array(z.string().regex(/^agt_[A-Za-z0-9_-]{22}$/, 'expected an agent id')).min(1).describe('Agents allowed to mint autonomous (client_credentials) tokens here.'),
        actions: z.array(z.string().min(1)).min(1).describe('Actions such a token carries.'),
      })
      .optional()
      .describe('Opt-in for autonomous agents: tokens without a human subject.'),
  })
  .describe('A registered resource server.');

const requirement = z.strictObject({
  attestor: z.enum(ATTESTOR_IDS as [string, ...string[]]).describe('Attestor id.'),
  claims: z.record(z.string(), z.union([z.string(), z.array(z.string()).min(1)])).default({}).describe('Claim constraints: equal, or one of a list.'),
  minStatus: z.enum(['affirming', 'warning']).default('affirming').describe('Weakest status accepted from this attestor (code-digest alone is only warning).'),
});

/** `attestor.claim`, e.g. `oidc-token.repository_id`. */
const claimRef = z.string().regex(/^[a-z0-9-]+\.[A-Za-z0-9_:.-]{1,64}$/, 'expected <attestor>.<claim>');

const policy = z
  .strictObject({
    freshness: duration('10m', 'How long an attestation result stays fresh.'),
    agents: z.array(z.string().regex(/^agt_[A-Za-z0-9_-]{22}$/, 'expected an agent id')).min(1).optional().describe('Only these agents may use the policy.'),
    anyOf: z.array(z.strictObject({ allOf: z.array(requirement).min(1) })).min(1).describe('Alternatives; each lists attestors that must all affirm.'),
    equal: z
      .array(z.tuple([claimRef, claimRef]))
      .default([])
      .describe('Claims of two attestors that must be equal, e.g. ["tpm-quote.digest", "code-digest.digest"].'),
  })
  .describe('An attestation policy.');

const audienceMap = z.record(z.url({ protocol: /^https?$/ }), audience).default({}).describe('Resource servers by audience URI.');
const policyMap = z.record(z.string().regex(/^[a-z0-9-]{1,64}$/), policy).default({}).describe('Attestation policies by name.');

const baseSchema = z
  .strictObject({
    issuer: z.url({ protocol: /^https?$/ }).optional().describe('Issuer URL (default http://localhost:<port>).'),
    dataDir: z.string().min(1).default('./.mandate').describe('Data directory: store, keys, admin token, checkpoints.'),
    log: z
      .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Log level.') })
      .prefault({})
      .describe('Logging.'),
    server,
    limits,
    store,
    keys,
    tokens,
    audit,
    ciba,
    dpop,
    delegation,
    lifecycle,
    revocation: revocationConfigSchema,
    console: consoleConfigSchema,
    mandates: mandatesConfigSchema,
    notifications: notificationsConfigSchema,
    reviews: reviewsConfigSchema,
    metrics: metricsConfigSchema,
    audiences: audienceMap,
    attestation: z.strictObject({ attestors: attestorsConfigSchema, policies: policyMap }).prefault({}).describe('Attestation.'),
    bootstrap: z
      .strictObject({ adminName: z.string().min(1).max(200).default('admin').describe('Name of the human created at first start, who owns the first admin token.') })
      .prefault({})
      .describe('First start.'),
  });

export const configSchema = baseSchema.superRefine(checkCrossFields);

const MAX_ACCESS_TOKEN_TTL_MS = 5 * 60_000;
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function checkCrossFields(config: z.output<typeof baseSchema>, ctx: z.RefinementCtx): void {
  if (config.tokens.accessTokenTtl > MAX_ACCESS_TOKEN_TTL_MS)
    ctx.addIssue({ code: 'custom', path: ['tokens', 'accessTokenTtl'], message: 'must be at most 5m' });
  if (config.keys.overlap < config.tokens.accessTokenTtl)
    ctx.addIssue({ code: 'custom', path: ['keys', 'overlap'], message: 'must be at least tokens.accessTokenTtl' });
  checkServerTimeouts(config, ctx);
  if (config.keys.encryptionKeyEnv !== undefined && config.keys.encryptionKeyEnv === config.keys.previousEncryptionKeyEnv)
    ctx.addIssue({ code: 'custom', path: ['keys', 'previousEncryptionKeyEnv'], message: 'must name another variable than keys.encryptionKeyEnv' });
  if (config.issuer) checkIssuer(config.issuer, ctx);
  // PROTOCOL §1: binding beyond loopback requires an explicit https issuer.
  if (!LOOPBACK.has(config.server.host) && !config.issuer?.startsWith('https://'))
    ctx.addIssue({ code: 'custom', path: ['server', 'host'], message: 'a non-loopback host requires an https issuer' });
  checkEqualities(config.attestation.policies, ctx);
}

/** Node refuses headersTimeout > requestTimeout; a 0 would turn a timeout off (docs/limits.md). */
function checkServerTimeouts({ server, notifications }: z.output<typeof baseSchema>, ctx: z.RefinementCtx): void {
  for (const key of ['headersTimeout', 'requestTimeout', 'keepAliveTimeout'] as const)
    if (server[key] <= 0) ctx.addIssue({ code: 'custom', path: ['server', key], message: 'must be longer than 0s' });
  if (server.headersTimeout > server.requestTimeout)
    ctx.addIssue({ code: 'custom', path: ['server', 'headersTimeout'], message: 'must be at most server.requestTimeout' });
  // An idle console event stream is kept open by its heartbeat; a shorter idle timeout would cut it.
  if (server.connectionTimeout > 0 && server.connectionTimeout <= notifications.heartbeat)
    ctx.addIssue({ code: 'custom', path: ['server', 'connectionTimeout'], message: 'must be 0s or longer than notifications.heartbeat' });
}

/** Each side of an equality names a known attestor, and the two sides name different attestors. */
function checkEqualities(policies: z.output<typeof policyMap>, ctx: z.RefinementCtx): void {
  for (const [name, { equal }] of Object.entries(policies)) {
    equal.forEach((pair, i) => {
      const [left, right] = pair.map((ref) => ref.slice(0, ref.indexOf('.')));
      pair.forEach((ref, side) => {
        if (!ATTESTOR_IDS.includes(ref.slice(0, ref.indexOf('.'))))
          ctx.addIssue({ code: 'custom', path: ['attestation', 'policies', name, 'equal', i, side], message: `unknown attestor; expected one of ${ATTESTOR_IDS.join(', ')}` });
      });
      if (left === right) ctx.addIssue({ code: 'custom', path: ['attestation', 'policies', name, 'equal', i], message: 'an equality must compare two different attestors' });
    });
  }
}

function checkIssuer(issuer: string, ctx: z.RefinementCtx): void {
  // zod runs this refinement even when the URL check failed (already reported at `issuer`).
  if (!URL.canParse(issuer)) return;
  const url = new URL(issuer);
  // RFC 8414 §2: no query or fragment; a trailing slash would make `iss` comparisons ambiguous.
  if (url.search || url.hash || issuer.endsWith('/') || issuer.includes('?') || issuer.includes('#'))
    ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'must have no query, fragment or trailing slash' });
}

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
