import { createHash } from 'node:crypto';
import type { ChainHashing } from '../core/audit-chain.ts';
import type { Config } from '../config/load.ts';
import type { KeyService } from '../keys/key-service.ts';
import type { AuditLog } from '../ports/audit-log.ts';
import type { Clock } from '../ports/clock.ts';
import type { Random } from '../ports/random.ts';
import type { Store } from '../ports/store.ts';
import type { Notifier } from './notifications.ts';

/** What `/attest` produced, as read back from a verified attestation result JWT. */
export interface AttestationSummary {
  /** `att_…`: the stored result. */
  id: string;
  /** Contraindicated results are never signed, so never presented (PROTOCOL §3). */
  verdict: 'affirming' | 'warning';
  /** Epoch seconds. */
  iat: number;
  exp: number;
  evidenceDigest: string;
  attestors: Record<string, { status: string }>;
}

/** Verifies an attestation result for `agentId` bound to `jkt`; throws ERR_ATTESTATION_* codes. */
export type AttestationResultVerifier = (jwt: string, expected: { agentId: string; jkt: string }) => Promise<AttestationSummary>;

/** The dependencies of the core-loop services (ask, decide, collect, mint, introspect, revoke). */
export interface LoopDeps {
  store: Store;
  audit: AuditLog;
  clock: Clock;
  random: Random;
  keys: KeyService;
  config: Config;
  hashing: ChainHashing;
  verifyAttestation: AttestationResultVerifier;
  /** Notifies humans (inbox, live console pages, webhooks): never store calls sprinkled around. */
  notifier: Pick<Notifier, 'notify'>;
  /** Called when a token's commit finds its agent, mandate or approver no longer live: copies held in memory (services/read-cache.ts) are dropped. */
  forgetReads?: () => void;
  /** Called when a mandate is used up here (a change the feed does not carry): the copy of the mandate of `grantHash` is dropped. */
  forgetMandate?: (grantHash: string) => void;
}

/** PROTOCOL §8 backstop: a mandate whose approver is disabled yields nothing, even if a cascade is pending. */
export async function approverIsActive(store: Store, approverId: string): Promise<boolean> {
  return (await store.humans.get(approverId))?.status === 'active';
}

export const sha256b64url = (text: string): string => createHash('sha256').update(text).digest('base64url');
