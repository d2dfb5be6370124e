/** Table shapes as Kysely sees them (snake_case, times in epoch ms, JSON as text). */
import type { Generated } from 'kysely';

export interface HumansTable {
  id: string;
  name: string;
  email: string | null;
  status: string;
  created_at: number;
  disabled_at: number | null;
}

export interface AgentsTable {
  id: string;
  name: string;
  kind: string;
  status: string;
  policy: string;
  jwk: string;
  jwk_thumbprint: string;
  review_due_at: number | null;
  created_at: number;
  last_seen_at: number | null;
}

/** Owners and approvers of an agent, one row per (agent, human, role). */
export interface AgentHumansTable {
  agent_id: string;
  human_id: string;
  role: 'owner' | 'approver';
  position: number;
}

export interface AdminTokensTable {
  id: string;
  human_id: string;
  label: string;
  rights: string;
  secret_hash: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  private_jwk: string;
  created_at: number;
  activates_at: number;
  retires_at: number | null;
}

export interface ReplayCacheTable {
  namespace: string;
  id: string;
  expires_at: number;
}

export interface UseCountersTable {
  key: string;
  total: number;
  remaining: number;
}

export interface ChangesTable {
  cursor: Generated<number>;
  topic: string;
  key: string;
  at: number;
}

export interface AuditEventsTable {
  chain: string;
  seq: number;
  time: number;
  type: string;
  actor: string | null;
  approver: string | null;
  mandate_id: string | null;
  jti: string | null;
  evidence_digest: string | null;
  request_id: string | null;
  data: string;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadsTable {
  chain: string;
  seq: number;
  hash: string;
  jws: string;
}

export interface NotificationsTable {
  id: Generated<number>;
  recipient: string;
  kind: string;
  payload: string;
  created_at: number;
  delivered_at: number | null;
}

/** A mandate; `task` and `approval` are JSON text. */
export interface MandatesTable {
  id: string;
  agent_id: string;
  approver_id: string;
  status: string;
  task: string;
  binding_message: string | null;
  task_document: string;
  task_s256: string;
  attestation_id: string;
  attestation_digest: string;
  dpop_jkt: string;
  auth_req_id_hash: string;
  request_expires_at: number;
  interval: number;
  last_polled_at: number | null;
  approval: string | null;
  decided_at: number | null;
  grant_hash: string | null;
  created_at: number;
  ended_at: number | null;
  end_reason: string | null;
  /** Sub-agent hops (migration 0007): the mandate this one was delegated from, and its depth. */
  parent_mandate_id: string | null;
  depth: number;
  sub_grant_hash: string | null;
}

export interface CredentialsTable {
  jti: string;
  mandate_id: string | null;
  agent_id: string;
  subject: string;
  audience: string;
  jkt: string;
  issued_at: number;
  expires_at: number;
  revoked_at: number | null;
}

/** Attestation outcomes; `results` and `failures` are JSON text. */
export interface AttestationsTable {
  id: string;
  agent_id: string;
  jkt: string;
  policy: string;
  verdict: string;
  results: string;
  failures: string;
  satisfied_by: number | null;
  evidence_digest: string;
  created_at: number;
  expires_at: number;
}

export interface Database {
  humans: HumansTable;
  agents: AgentsTable;
  agent_humans: AgentHumansTable;
  admin_tokens: AdminTokensTable;
  signing_keys: SigningKeysTable;
  replay_cache: ReplayCacheTable;
  use_counters: UseCountersTable;
  changes: ChangesTable;
  audit_events: AuditEventsTable;
  audit_heads: AuditHeadsTable;
  notifications: NotificationsTable;
  attestations: AttestationsTable;
  mandates: MandatesTable;
  credentials: CredentialsTable;
  broker_secrets: BrokerSecretsTable;
  attestation_keys: AttestationKeysTable;
}

/** A TPM attestation key registered by credential activation (migration 0006). */
export interface AttestationKeysTable {
  agent_id: string;
  ak_name: string;
  ak_public: string;
  ek_certificate_digest: string;
  created_at: number;
}

export interface BrokerSecretsTable {
  name: string;
  value: string;
  created_at: number;
}
