import { createHash, timingSafeEqual } from 'node:crypto';
import { ADMIN_TOKEN_PREFIX, formatAdminCredential, isAdminTokenId, parseAdminCredential } from '../core/admin-credential.ts';
import type { AuditEventInput } from '../core/audit-chain.ts';
import { MandateError } from '../core/errors.ts';
import { formatId } from '../core/ids.ts';
import { ADMIN_RIGHTS, hasRight, type AdminRight, type AdminToken, type Human } from '../core/model.ts';
import type { AuditLog } from '../ports/audit-log.ts';
import type { Clock } from '../ports/clock.ts';
import type { Random } from '../ports/random.ts';
import type { Store } from '../ports/store.ts';
import type { ActionContext } from './action-context.ts';
import { makeHuman } from './directory.ts';

export interface AdminTokenDeps {
  store: Store;
  audit: AuditLog;
  clock: Clock;
  random: Random;
}

/** A token as callers see it: the secret hash never leaves the service. */
export type PublicAdminToken = Omit<AdminToken, 'secretHash'>;

export interface CreateAdminTokenInput {
  humanId: string;
  label: string;
  rights: readonly AdminRight[];
  expiresInMs?: number | null;
}

export interface TokenActionContext extends ActionContext {
  callerRights: readonly AdminRight[];
}

export interface IssuedAdminToken {
  token: PublicAdminToken;
  /** The credential to present, `mat_<id>.<secret>`; shown once, never stored or audited. */
  secret: string;
}

export interface AdminCaller {
  token: PublicAdminToken;
  human: Human;
}

export interface AdminTokenService {
  create(input: CreateAdminTokenInput, ctx: TokenActionContext): Promise<IssuedAdminToken>;
  /** The caller behind a presented credential, or null for anything not currently valid. */
  authenticate(presented: string): Promise<AdminCaller | null>;
  list(): Promise<PublicAdminToken[]>;
  revoke(id: string, ctx: ActionContext): Promise<PublicAdminToken>;
  /**
   * First start: a human named `name` and an `admin` token for them. Checks nothing else. `resume`
   * is the human of a first start that died before its token was stored (reused, not duplicated);
   * `keep` gets the secret after the audit commit and before the token is stored, so a stored
   * bootstrap token means `keep` finished (docs/crash-consistency.md).
   */
  bootstrap(name: string, options?: BootstrapOptions): Promise<IssuedAdminToken & { human: Human }>;
}

export interface BootstrapOptions {
  resume?: Human;
  keep?: (secret: string) => void;
}

export function createAdminTokenService(deps: AdminTokenDeps): AdminTokenService {
  const { store, audit, clock, random } = deps;

  const newToken = (humanId: string, label: string, rights: AdminRight[], expiresInMs: number | null) => {
    const credential = { id: ADMIN_TOKEN_PREFIX + random.base64url(16), secret: random.base64url(32) };
    const now = clock.now();
    const record: AdminToken = {
      id: credential.id, humanId, label, rights, secretHash: hashSecret(credential.secret),
      createdAt: now, expiresAt: expiresInMs === null ? null : now + expiresInMs, revokedAt: null,
    };
    return { record, secret: formatAdminCredential(credential) };
  };
  const mint = async (humanId: string, label: string, rights: AdminRight[], expiresInMs: number | null) => {
    const { record, secret } = newToken(humanId, label, rights, expiresInMs);
    await store.adminTokens.insert(record);
    return { token: withoutHash(record), secret };
  };

  return {
    async create(input, ctx) {
      const rights = checkGrant(input, ctx);
      await requireActiveHuman(store, input.humanId);
      const issued = await mint(input.humanId, input.label, rights, checkExpiry(input.expiresInMs));
      await audit.record(createdEvent(issued.token, ctx.actor, ctx.requestId));
      return issued;
    },
    async authenticate(presented) {
      const credential = parseAdminCredential(presented);
      const record = credential && (await store.adminTokens.get(credential.id));
      if (!credential || !record || !sameHash(record.secretHash, hashSecret(credential.secret))) return null;
      if (record.revokedAt !== null || (record.expiresAt !== null && record.expiresAt <= clock.now())) return null;
      const human = await store.humans.get(record.humanId);
      return human?.status === 'active' ? { token: withoutHash(record), human } : null;
    },
    list: async () => (await store.adminTokens.list()).map(withoutHash),
    async revoke(id, ctx) {
      const record = isAdminTokenId(id) ? await store.adminTokens.get(id) : null;
      if (!record) throw new MandateError('ERR_TOKEN_NOT_FOUND', `no admin token ${id}`);
      // `tokens:manage` covers the caller's own tokens; another human's credentials are an admin matter.
      if (record.humanId !== ctx.actor && ctx.callerRights && !ctx.callerRights.includes('admin'))
        throw new MandateError('ERR_ADMIN_FORBIDDEN', 'only an admin may revoke another human\'s token', { right: 'admin' });
      if (record.revokedAt !== null) return withoutHash(record);
      const now = clock.now();
      if (!(await store.adminTokens.revoke(id, now))) return withoutHash((await store.adminTokens.get(id)) ?? record);
      await audit.record({ type: 'admin_token.revoked', actor: ctx.actor, requestId: ctx.requestId, data: { token_id: id, human_id: record.humanId } });
      return { ...withoutHash(record), revokedAt: now };
    },
    // A kill may stop this anywhere: the token row comes last, after its audit commit and after
    // `keep` (the admin-token file), so "no bootstrap token stored" always means "run it again".
    async bootstrap(name, options = {}) {
      const human = options.resume ?? makeHuman({ name }, formatId('human', random.base64url(16)), clock.now());
      if (!options.resume) await store.humans.insert(human);
      const { record, secret } = newToken(human.id, 'bootstrap', ['admin'], null);
      const data = { human_id: human.id, name: human.name, bootstrap: true, ...(options.resume ? { resumed: true } : {}) };
      await audit.record({ type: 'human.added', actor: null, data }, createdEvent(withoutHash(record), null, null));
      options.keep?.(secret);
      await store.adminTokens.insert(record);
      return { token: withoutHash(record), secret, human };
    },
  };
}

/** Rights must be known, and each one held by the caller: a token never widens its creator's reach. */
function checkGrant(input: CreateAdminTokenInput, ctx: TokenActionContext): AdminRight[] {
  const rights = [...new Set(input.rights)];
  if (rights.length === 0 || rights.some((right) => !ADMIN_RIGHTS.includes(right)))
    throw new MandateError('ERR_REQUEST_INVALID_PARAMETER', `rights must be a non-empty list of: ${ADMIN_RIGHTS.join(', ')}`, { parameter: 'rights' });
  const missing = rights.filter((right) => !hasRight(ctx.callerRights, right));
  if (missing.length > 0)
    throw new MandateError('ERR_TOKEN_RIGHTS_EXCEEDED', `the caller does not hold: ${missing.join(', ')}`, { rights: missing });
  // A token names the human who acts with it (approvals included), so minting one for someone else is an admin act.
  if (input.humanId !== ctx.actor && !ctx.callerRights.includes('admin'))
    throw new MandateError('ERR_ADMIN_FORBIDDEN', 'only an admin may create a token for another human', { right: 'admin' });
  return rights;
}

function checkExpiry(expiresInMs: number | null | undefined): number | null {
  if (expiresInMs === undefined || expiresInMs === null) return null;
  if (!Number.isSafeInteger(expiresInMs) || expiresInMs <= 0)
    throw new MandateError('ERR_REQUEST_INVALID_PARAMETER', 'expiry must be a positive duration', { parameter: 'expires_in' });
  return expiresInMs;
}

async function requireActiveHuman(store: Store, id: string): Promise<void> {
  const human = await store.humans.get(id);
  if (!human) throw new MandateError('ERR_HUMAN_NOT_FOUND', `no human ${id}`);
  if (human.status !== 'active') throw new MandateError('ERR_HUMAN_DISABLED', `${id} is disabled`);
}

function createdEvent(token: PublicAdminToken, actor: string | null, requestId: string | null): AuditEventInput {
  const data = { token_id: token.id, human_id: token.humanId, label: token.label, rights: token.rights, expires_at: token.expiresAt };
  return { type: 'admin_token.created', actor, requestId, data };
}

const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('base64url');

function sameHash(stored: string, presented: string): boolean {
  const a = Buffer.from(stored);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

function withoutHash(record: AdminToken): PublicAdminToken {
  const { secretHash: _secretHash, ...token } = record;
  return token;
}
