import { createHash } from 'node:crypto';
import { MandateError } from '../core/errors.ts';
import { rightsOfRoles, type ConsoleRole } from '../core/roles.ts';
import { hasRight, type AdminRight, type Human } from '../core/model.ts';
import type { AuditLog } from '../ports/audit-log.ts';
import type { Clock } from '../ports/clock.ts';
import type { ConsoleAuthMethod, Invite } from '../ports/console.ts';
import type { Random } from '../ports/random.ts';
import type { Store } from '../ports/store.ts';
import type { ActionContext } from './action-context.ts';
import type { Notifier } from './notifications.ts';

export interface ConsoleAuthDeps {
  store: Store;
  audit: AuditLog;
  clock: Clock;
  random: Random;
  origin: string;
  sessionTtl: number;
  inviteTtl: number;
  /** Outbox first, then live pages and webhooks (services/notifications.ts). */
  notifier: Pick<Notifier, 'notify'>;
}

/** A signed-in human as console pages see them. */
export interface ConsoleSession {
  human: Human;
  roles: ConsoleRole[];
  rights: AdminRight[];
  csrf: string;
  method: ConsoleAuthMethod;
  stepUpAt: number | null;
  /** SHA-256 of the cookie value; never the value itself. */
  idHash: string;
}

export interface IssuedInvite {
  /** The one-time enrolment link; shown once, stored only hashed. */
  url: string;
  humanId: string;
  expiresAt: number;
}

/** No rights given means a trusted in-process caller (CLI on the data directory, tests); the admin right covers all. */
const callerIsAdmin = (ctx: ActionContext): boolean => !ctx.callerRights || ctx.callerRights.includes('admin');

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url');

/** Invites, console sessions and roles. Secrets (invite tokens, session ids) are kept only hashed. */
export function createConsoleAuth(deps: ConsoleAuthDeps) {
  const { store, audit, clock, random } = deps;

  const activeHuman = async (id: string): Promise<Human> => {
    const human = await store.humans.get(id);
    if (!human) throw new MandateError('ERR_HUMAN_NOT_FOUND', `no human ${id}`);
    if (human.status !== 'active') throw new MandateError('ERR_HUMAN_DISABLED', `${id} is disabled`);
    return human;
  };

  /** Stored roles, plus `admin` for a holder of an unrevoked admin token with the admin right (the bootstrap human). */
  const rolesOf = async (humanId: string): Promise<ConsoleRole[]> => {
    const roles = new Set(await store.console.roles.get(humanId));
    const now = clock.now();
    const tokens = (await store.adminTokens.list()).filter((t) => t.humanId === humanId && t.revokedAt === null && (t.expiresAt === null || t.expiresAt > now));
    if (tokens.some((t) => t.rights.includes('admin'))) roles.add('admin');
    return [...roles].sort();
  };

  const holdsAdmin = async (humanId: string) => (await rolesOf(humanId)).includes('admin');

  /** An invite enrols a passkey that signs in as the human: a takeover of an admin, or of an enrolled human, is an admin act. */
  const checkMayInvite = async (humanId: string, ctx: ActionContext): Promise<void> => {
    if (callerIsAdmin(ctx)) return;
    if (await holdsAdmin(humanId)) throw new MandateError('ERR_ADMIN_FORBIDDEN', 'only an admin may invite a human who holds admin', { right: 'admin' });
    if ((await store.console.passkeys.listByHuman(humanId)).length > 0)
      throw new MandateError('ERR_ADMIN_FORBIDDEN', 'only an admin may invite a human who already has a passkey', { right: 'admin' });
  };

  /** A role never widens its granter's reach (as with tokens), and only an admin changes an admin's roles. */
  const checkMaySetRoles = async (humanId: string, roles: readonly ConsoleRole[], ctx: ActionContext): Promise<void> => {
    if (callerIsAdmin(ctx)) return;
    if (roles.includes('admin')) throw new MandateError('ERR_ADMIN_FORBIDDEN', 'only an admin may grant the admin role', { right: 'admin' });
    if (await holdsAdmin(humanId)) throw new MandateError('ERR_ADMIN_FORBIDDEN', 'only an admin may change the roles of a human who holds admin', { right: 'admin' });
    const missing = rightsOfRoles(roles).filter((right) => !hasRight(ctx.callerRights ?? [], right));
    if (missing.length > 0) throw new MandateError('ERR_ROLE_RIGHTS_EXCEEDED', `the roles grant rights the caller does not hold: ${missing.join(', ')}`);
  };

  return {
    rolesOf,
    activeHuman,

    /** Tells the human a passkey was added to their account, so an enrolment they did not make is visible (inbox, live pages, webhooks). */
    async passkeyRegistered(humanId: string, credentialId: string): Promise<void> {
      await deps.notifier.notify(humanId, 'passkey.registered', { human_id: humanId, credential_id: credentialId });
    },

    async setRoles(humanId: string, roles: readonly ConsoleRole[], ctx: ActionContext): Promise<ConsoleRole[]> {
      await activeHuman(humanId);
      await checkMaySetRoles(humanId, roles, ctx);
      await store.console.roles.set(humanId, roles);
      await audit.record({ type: 'human_roles.changed', actor: ctx.actor, requestId: ctx.requestId, data: { human_id: humanId, roles: [...new Set(roles)].sort() } });
      return rolesOf(humanId);
    },

    async createInvite(humanId: string, ctx: ActionContext): Promise<IssuedInvite> {
      await activeHuman(humanId);
      await checkMayInvite(humanId, ctx);
      const token = random.base64url(32);
      const now = clock.now();
      const invite: Invite = { tokenHash: sha256(token), humanId, createdBy: ctx.actor, createdAt: now, expiresAt: now + deps.inviteTtl, usedAt: null };
      await store.console.invites.insert(invite);
      await audit.record({ type: 'human.invited', actor: ctx.actor, requestId: ctx.requestId, data: { human_id: humanId, expires_at: invite.expiresAt } });
      return { url: `${deps.origin}/console/enroll/${token}`, humanId, expiresAt: invite.expiresAt };
    },

    /** The invite behind a presented token, if it can still be used; throws `ERR_INVITE_*` otherwise. */
    async checkInvite(token: string): Promise<{ invite: Invite; human: Human }> {
      const invite = /^[A-Za-z0-9_-]{43}$/.test(token) ? await store.console.invites.get(sha256(token)) : null;
      if (!invite) throw new MandateError('ERR_INVITE_UNKNOWN', 'this invite link is not known');
      if (invite.usedAt !== null) throw new MandateError('ERR_INVITE_USED', 'this invite link was already used');
      if (invite.expiresAt <= clock.now()) throw new MandateError('ERR_INVITE_EXPIRED', 'this invite link has expired: ask for a new one');
      return { invite, human: await activeHuman(invite.humanId) };
    },

    /** A new session; returns the cookie value (random, 256 bits), stored only hashed. */
    async startSession(humanId: string, method: ConsoleAuthMethod, requestId: string, stepUp: boolean): Promise<string> {
      await activeHuman(humanId);
      const value = random.base64url(32);
      const now = clock.now();
      await store.console.sessions.insert({
        idHash: sha256(value), humanId, csrf: random.base64url(32), method, createdAt: now, expiresAt: now + deps.sessionTtl, stepUpAt: stepUp ? now : null,
      });
      await audit.record({ type: 'console_session.started', actor: humanId, requestId, data: { human_id: humanId, method } });
      return value;
    },

    /** The session behind a cookie value, or null (unknown, expired, or its human disabled). */
    async loadSession(value: string | undefined): Promise<ConsoleSession | null> {
      if (!value || !/^[A-Za-z0-9_-]{43}$/.test(value)) return null;
      const record = await store.console.sessions.get(sha256(value), clock.now());
      const human = record && (await store.humans.get(record.humanId));
      if (!record || human?.status !== 'active') return null;
      const roles = await rolesOf(human.id);
      return { human, roles, rights: rightsOfRoles(roles), csrf: record.csrf, method: record.method, stepUpAt: record.stepUpAt, idHash: record.idHash };
    },

    endSession: (idHash: string) => store.console.sessions.delete(idHash),
    markStepUp: (idHash: string) => store.console.sessions.markStepUp(idHash, clock.now()),
  };
}

export type ConsoleAuth = ReturnType<typeof createConsoleAuth>;
