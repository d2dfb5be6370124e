import type { ConsoleRole } from '../core/roles.ts';

/** A WebAuthn credential of a human (public part only). */
export interface Passkey {
  /** base64url credential id. */
  credentialId: string;
  humanId: string;
  /** COSE public key, base64url. */
  publicKey: string;
  /** Last signature counter seen (0 for authenticators that do not count). */
  counter: number;
  transports: string[];
  createdAt: number;
  lastUsedAt: number | null;
}

export interface Invite {
  /** SHA-256 of the one-time token, base64url; the token itself is never stored. */
  tokenHash: string;
  humanId: string;
  createdBy: string | null;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export type ConsoleAuthMethod = 'passkey' | 'oidc';

export interface ConsoleSessionRecord {
  /** SHA-256 of the session id in the cookie, base64url. */
  idHash: string;
  humanId: string;
  /** Synchronizer CSRF token for this session. */
  csrf: string;
  method: ConsoleAuthMethod;
  createdAt: number;
  expiresAt: number;
  /** Last fresh passkey assertion in this session (sign-in or step-up). */
  stepUpAt: number | null;
}

export interface PasskeyRepository {
  insert(passkey: Passkey): Promise<void>;
  get(credentialId: string): Promise<Passkey | null>;
  listByHuman(humanId: string): Promise<Passkey[]>;
  /**
   * Records a use: only while the stored counter is still `expected` (one conditional write, so two
   * concurrent assertions with one counter cannot both pass); false otherwise.
   */
  recordUse(credentialId: string, expected: number, counter: number, at: number): Promise<boolean>;
}

export interface InviteRepository {
  insert(invite: Invite): Promise<void>;
  get(tokenHash: string): Promise<Invite | null>;
  /** Marks it used if unused and unexpired at `at`; exactly one concurrent caller gets true. */
  consume(tokenHash: string, at: number): Promise<boolean>;
}

export interface ConsoleSessionRepository {
  insert(session: ConsoleSessionRecord): Promise<void>;
  /** The session, or null when unknown or expired at `now`. */
  get(idHash: string, now: number): Promise<ConsoleSessionRecord | null>;
  markStepUp(idHash: string, at: number): Promise<void>;
  delete(idHash: string): Promise<void>;
  /** Ends every session of a human (disable); returns how many. */
  deleteByHuman(humanId: string): Promise<number>;
}

export interface RoleRepository {
  get(humanId: string): Promise<ConsoleRole[]>;
  /** Replaces the human's roles. */
  set(humanId: string, roles: readonly ConsoleRole[]): Promise<void>;
}

export interface OidcLinkRepository {
  /** The human linked to `subject` at `issuer`, or null. */
  find(issuer: string, subject: string): Promise<string | null>;
  /** Links once; a second link of the same subject keeps the first (returns its human). */
  link(issuer: string, subject: string, humanId: string, at: number): Promise<string>;
}

/** What the console keeps (migration 0008). */
export interface ConsoleRepositories {
  passkeys: PasskeyRepository;
  invites: InviteRepository;
  sessions: ConsoleSessionRepository;
  roles: RoleRepository;
  oidcLinks: OidcLinkRepository;
}
