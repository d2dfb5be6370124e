import type { AttestationKeyRepository } from './attestation-keys.ts';
import type { AttestationRepository } from './attestations.ts';
import type { AuditSink } from './audit-sink.ts';
import type { ChangeFeed } from './change-feed.ts';
import type { AdminTokenRepository, AgentRepository, HumanRepository } from './directory.ts';
import type { KeyStore } from './key-store.ts';
import type { CredentialRepository, MandateRepository } from './mandates.ts';
import type { NotificationSink } from './notification-sink.ts';
import type { ReplayCache } from './replay-cache.ts';
import type { SecretStore } from './secrets.ts';
import type { UseCounters } from './use-counters.ts';

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
  mandates: MandateRepository;
  credentials: CredentialRepository;
  attestations: AttestationRepository;
  /** TPM attestation keys registered by credential activation (attestor tpm-quote). */
  attestationKeys: AttestationKeyRepository;
  secrets: SecretStore;
  close(): Promise<void>;
}
