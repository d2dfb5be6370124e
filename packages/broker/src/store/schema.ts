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
  /** Migration 0009: when the recipient marked it read in the console inbox. */
  read_at: number | null;
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
  passkeys: PasskeysTable;
  human_invites: HumanInvitesTable;
  console_sessions: ConsoleSessionsTable;
  human_roles: HumanRolesTable;
  human_oidc_links: HumanOidcLinksTable;
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
  mandate_reviews: MandateReviewsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  findings: FindingsTable;
  agent_flags: AgentFlagsTable;
  status_lists: StatusListsTable;
  status_list_slots: StatusListSlotsTable;
  ssf_streams: SsfStreamsTable;
  ssf_stream_subjects: SsfStreamSubjectsTable;
  ssf_outbox: SsfOutboxTable;
  ssf_cursors: SsfCursorsTable;
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

/** Token Status Lists (migration 0011). */
export interface StatusListsTable {
  id: string;
  size: number;
  created_at: number;
}

export interface StatusListSlotsTable {
  list_id: string;
  idx: number;
  jti: string;
  reusable_at: number;
}

/** OpenID SSF push streams and their outbox (migration 0011). */
export interface SsfStreamsTable {
  id: string;
  audience: string;
  endpoint_url: string;
  events_requested: string;
  status: string;
  reason: string | null;
  description: string | null;
  created_at: number;
  updated_at: number;
}

export interface SsfStreamSubjectsTable {
  stream_id: string;
  subject_key: string;
}

export interface SsfOutboxTable {
  stream_id: string;
  event_id: string;
  payload: string;
  attempts: Generated<number>;
  next_attempt_at: number;
  delivered_at: number | null;
  failed_at: number | null;
  last_error: string | null;
  created_at: number;
}

export interface SsfCursorsTable {
  name: string;
  cursor: number;
}

/** Borrowed human credentials found by the scanner (migration 0010); `conversion` is JSON text. */
export interface FindingsTable {
  id: string;
  kind: string;
  service: string;
  file: string;
  line: number;
  fingerprint: string;
  owner_guess: string | null;
  reason: string;
  status: string;
  created_at: number;
  recorded_by: string;
  decided_at: number | null;
  decided_by: string | null;
  dismiss_reason: string | null;
  conversion: string | null;
}

/** Lifecycle flags currently raised on agents (migration 0010). */
export interface AgentFlagsTable {
  agent_id: string;
  flag: string;
  raised_at: number;
  action: string;
}

/** Console tables (migration 0008); secrets are stored hashed. */
export interface PasskeysTable {
  credential_id: string;
  human_id: string;
  public_key: string;
  counter: number;
  transports: string;
  created_at: number;
  last_used_at: number | null;
}

export interface HumanInvitesTable {
  token_hash: string;
  human_id: string;
  created_by: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface ConsoleSessionsTable {
  id_hash: string;
  human_id: string;
  csrf: string;
  method: string;
  created_at: number;
  expires_at: number;
  step_up_at: number | null;
}

export interface HumanRolesTable {
  human_id: string;
  role: string;
}

export interface HumanOidcLinksTable {
  issuer: string;
  subject: string;
  human_id: string;
  created_at: number;
}

/** Access reviews of active mandates (migration 0009). */
export interface MandateReviewsTable {
  mandate_id: string;
  agent_id: string;
  due_at: number;
  reminded_at: number | null;
  reviewed_at: number | null;
  reviewed_by: string | null;
  decision: string | null;
}

/** Signed webhook deliveries and their attempts (migration 0009). */
export interface WebhookDeliveriesTable {
  id: string;
  webhook: string;
  notification_id: number;
  kind: string;
  body: string;
  status: string;
  attempts: number;
  next_attempt_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}

export interface WebhookAttemptsTable {
  delivery_id: string;
  attempt: number;
  at: number;
  status_code: number | null;
  error_class: string | null;
  duration_ms: number;
  next_attempt_at: number | null;
}
