import type { AttestationKeyRepository } from './attestation-keys.ts';
import type { AttestationRepository } from './attestations.ts';
import type { AuditSink } from './audit-sink.ts';
import type { ChangeFeed } from './change-feed.ts';
import type { AdminTokenRepository, AgentRepository, HumanRepository } from './directory.ts';
import type { FindingRepository, LifecycleFlagRepository } from './findings.ts';
import type { KeyStore } from './key-store.ts';
import type { CredentialRepository, MandateRepository } from './mandates.ts';
import type { NotificationSink } from './notification-sink.ts';
import type { ReviewRepository } from './reviews.ts';
import type { WebhookDeliveryRepository } from './webhook-deliveries.ts';
import type { ReplayCache } from './replay-cache.ts';
import type { SecretStore } from './secrets.ts';
import type { ConsoleRepositories } from './console.ts';
import type { SsfStreamRepository } from './ssf-streams.ts';
import type { StatusListRepository } from './status-lists.ts';
import type { UseCounters } from './use-counters.ts';
import type { MigrationStatus } from './store-health.ts';

/** Everything the broker keeps, behind one seam; an adapter per engine (SQLite now, PostgreSQL later). */
export interface Store {
  humans: HumanRepository;
  agents: AgentRepository;
  adminTokens: AdminTokenRepository;
  keys: KeyStore;
  replay: ReplayCache;
  counters: UseCounters;
  changes: ChangeFeed;
  audit: AuditSink;
  notifications: NotificationSink;
  /** Signed webhook deliveries of notifications and their attempt log (migration 0009). */
  webhookDeliveries: WebhookDeliveryRepository;
  /** Access reviews of active mandates (migration 0009). */
  reviews: ReviewRepository;
  mandates: MandateRepository;
  credentials: CredentialRepository;
  attestations: AttestationRepository;
  /** TPM attestation keys registered by credential activation (attestor tpm-quote). */
  attestationKeys: AttestationKeyRepository;
  secrets: SecretStore;
  /** Console humans: passkeys, invites, sessions, roles, OIDC links (migration 0008). */
  console: ConsoleRepositories;
  /** Borrowed human credentials reported by the scanner (fingerprints only). */
  findings: FindingRepository;
  /** Lifecycle flags (orphan, stale, review overdue) raised on agents. */
  lifecycleFlags: LifecycleFlagRepository;
  /** Token Status List slots (draft-ietf-oauth-status-list). */
  statusLists: StatusListRepository;
  /** OpenID SSF push streams and their outbox. */
  ssfStreams: SsfStreamRepository;
  /** Readiness: a cheap round trip to the engine; rejects when it is unreachable or closed. */
  ping?(): Promise<void>;
  /** Readiness: applied migrations compared with this version's list. */
  migrationStatus?(): Promise<MigrationStatus>;
  /**
   * Keys at rest: after values were rewritten in place, drops the old copies the engine keeps in its
   * files (SQLite: freelist pages, WAL frames). False when that could not finish now.
   */
  scrubRewritten?(): Promise<boolean>;
  close(): Promise<void>;
}
