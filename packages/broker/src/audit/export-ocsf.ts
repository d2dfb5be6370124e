import { readFileSync } from 'node:fs';
import type { AuditRecord } from '../core/audit-chain.ts';

/**
 * Audit events as OCSF 1.3.0 events (schema.ocsf.io/1.3.0): Authentication (3002), Authorize
 * Session (3003), User Access Management (3005) and API Activity (6003). The mapping table is
 * documented in docs/lifecycle.md; the required attributes are checked in tests against
 * test/data/ocsf-1.3.0-classes.schema.json. Every Mandate-specific fact travels in `unmapped`, with
 * the chain position and hashes, so nothing of the original event is lost.
 */
export const OCSF_VERSION = '1.3.0';

type ClassUid = 3002 | 3003 | 3005 | 6003;

const CLASSES: Record<ClassUid, { name: string; category: number; categoryName: string; activities: Record<number, string> }> = {
  3002: { name: 'Authentication', category: 3, categoryName: 'Identity & Access Management', activities: { 1: 'Logon', 99: 'Other' } },
  3003: { name: 'Authorize Session', category: 3, categoryName: 'Identity & Access Management', activities: { 1: 'Assign Privileges', 99: 'Other' } },
  3005: { name: 'User Access Management', category: 3, categoryName: 'Identity & Access Management', activities: { 1: 'Assign Privileges', 2: 'Revoke Privileges', 99: 'Other' } },
  6003: { name: 'API Activity', category: 6, categoryName: 'Application Activity', activities: { 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 99: 'Other' } },
};

interface Mapping {
  cls: ClassUid;
  activity: number;
  failure?: boolean;
  /** OCSF severity_id: 1 Informational (default), 2 Low, 3 Medium. */
  severity?: 1 | 2 | 3;
}

const at = (cls: ClassUid, activity: number, extra: Omit<Mapping, 'cls' | 'activity'> = {}): Mapping => ({ cls, activity, ...extra });

/** Event type → OCSF class and activity. Types not listed (added later) become API Activity "Other". */
export const OCSF_MAPPING: Readonly<Record<string, Mapping>> = {
  'attestation.verified': at(3002, 1),
  'attestation.rejected': at(3002, 1, { failure: true, severity: 2 }),
  'console_session.started': at(3002, 1),
  'token.issued': at(3003, 1),
  'mandate.delegated': at(3003, 1),
  'mandate.approved': at(3005, 1),
  'mandate.activated': at(3005, 1),
  'mandate.resumed': at(3005, 1),
  'mandate.denied': at(3005, 1, { failure: true }),
  'delegation.rejected': at(3005, 1, { failure: true, severity: 2 }),
  'mandate.revoked': at(3005, 2),
  'mandate.suspended': at(3005, 2, { severity: 2 }),
  'mandate.exhausted': at(3005, 2),
  'token.revoked': at(3005, 2),
  'mandate.requested': at(6003, 1),
  'human.added': at(6003, 1),
  'human.invited': at(6003, 1),
  'agent.registered': at(6003, 1),
  'admin_token.created': at(6003, 1),
  'key.created': at(6003, 1),
  'passkey.registered': at(6003, 1),
  'attestation_key.registered': at(6003, 1),
  'attestation_key.rejected': at(6003, 1, { failure: true, severity: 2 }),
  'finding.recorded': at(6003, 1, { severity: 3 }),
  'human.disabled': at(6003, 3),
  'human_roles.changed': at(6003, 3),
  'agent.suspended': at(6003, 3, { severity: 2 }),
  'agent.retired': at(6003, 3),
  'agent.orphaned': at(6003, 3, { severity: 3 }),
  'key.rotated': at(6003, 3),
  'finding.converted': at(6003, 3),
  'finding.dismissed': at(6003, 3),
  'lifecycle_flag.raised': at(6003, 3, { severity: 3 }),
  'admin_token.revoked': at(6003, 4),
  'lifecycle_flag.cleared': at(6003, 4),
};

export interface OcsfContext {
  productVersion: string;
  /** The agent of each mandate named by the events (User Access Management names the agent as `user`). */
  agentOfMandate: ReadonlyMap<string, string>;
}

export function mappingOf(type: string): Mapping {
  return OCSF_MAPPING[type] ?? at(6003, 99);
}

export function toOcsf(record: AuditRecord, ctx: OcsfContext): Record<string, unknown> {
  const mapping = mappingOf(record.type);
  const cls = CLASSES[mapping.cls];
  const severity = mapping.severity ?? 1;
  return {
    class_uid: mapping.cls,
    class_name: cls.name,
    category_uid: cls.category,
    category_name: cls.categoryName,
    activity_id: mapping.activity,
    activity_name: cls.activities[mapping.activity],
    type_uid: mapping.cls * 100 + mapping.activity,
    type_name: `${cls.name}: ${cls.activities[mapping.activity]}`,
    time: record.time,
    severity_id: severity,
    severity: ['Unknown', 'Informational', 'Low', 'Medium'][severity],
    status_id: mapping.failure ? 2 : 1,
    status: mapping.failure ? 'Failure' : 'Success',
    message: record.type,
    metadata: metadata(record, ctx),
    ...classAttributes(record, mapping, ctx),
    unmapped: unmapped(record),
  };
}

function metadata(record: AuditRecord, ctx: OcsfContext): Record<string, unknown> {
  return {
    version: OCSF_VERSION,
    product: { name: 'Mandate', vendor_name: 'Mandate', version: ctx.productVersion },
    uid: `${record.chain}:${record.seq}`,
    log_name: 'audit',
    event_code: record.type,
    ...(record.requestId ? { correlation_uid: record.requestId } : {}),
  };
}

/** OCSF `user` for a Mandate principal: humans are users, agents "Other" with their kind, `system:` actors System. */
export function principal(id: string): Record<string, unknown> {
  if (id.startsWith('usr_')) return { uid: id, type_id: 1, type: 'User' };
  if (id.startsWith('system:')) return { uid: id, type_id: 3, type: 'System' };
  return { uid: id, type_id: 99, type: id.startsWith('agt_') ? 'AI Agent' : 'Other' };
}

function actorOf(record: AuditRecord): Record<string, unknown> {
  return record.actor ? { user: principal(record.actor) } : { app_name: 'mandate' };
}

function classAttributes(record: AuditRecord, mapping: Mapping, ctx: OcsfContext): Record<string, unknown> {
  const data = record.data;
  const agent = (typeof data.agent_id === 'string' ? data.agent_id : null) ?? (record.mandateId ? ctx.agentOfMandate.get(record.mandateId) : undefined) ?? record.actor;
  const subject = principal(agent ?? record.approver ?? 'unknown');
  const privileges = Array.isArray(data.actions) ? data.actions.map(String) : [record.type];
  switch (mapping.cls) {
    case 3002:
      return { user: subject, actor: actorOf(record), service: { name: 'mandate' }, auth_protocol_id: 99, auth_protocol: 'Multi-attestation' };
    case 3003:
      return { user: subject, session: { uid: record.jti ?? record.mandateId ?? `${record.chain}:${record.seq}` }, privileges: [typeof data.audience === 'string' ? data.audience : 'mandate'] };
    case 3005:
      return { user: subject, actor: actorOf(record), privileges, ...(record.mandateId ? { resource: { uid: record.mandateId, type: 'mandate' } } : {}) };
    default:
      return {
        actor: actorOf(record),
        api: { operation: record.type, service: { name: 'mandate' }, ...(record.requestId ? { request: { uid: record.requestId } } : {}) },
        // The audit log records no network addresses: the endpoint is named by its service.
        src_endpoint: { name: 'mandate', svc_name: 'mandate' },
        resources: resourcesOf(record),
      };
  }
}

const RESOURCE_IDS = ['agent_id', 'human_id', 'finding_id', 'token_id', 'kid'] as const;

function resourcesOf(record: AuditRecord): Array<Record<string, string>> {
  const found = RESOURCE_IDS.filter((key) => typeof record.data[key] === 'string').map((key) => ({ uid: record.data[key] as string, type: key.replace(/_id$/, '') }));
  return record.mandateId ? [...found, { uid: record.mandateId, type: 'mandate' }] : found;
}

function unmapped(record: AuditRecord): Record<string, unknown> {
  return {
    mandate: {
      chain: record.chain, seq: record.seq, type: record.type, actor: record.actor, approver: record.approver, mandate_id: record.mandateId,
      jti: record.jti, evidence_digest: record.evidenceDigest, request_id: record.requestId, data: record.data, prev_hash: record.prevHash, hash: record.hash,
    },
  };
}

let version: string | undefined;
/** The broker's own version (package.json), reported as `metadata.product.version`. */
export function brokerVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}

/** The mandates' agents for a page of events: one lookup per distinct mandate. */
export async function agentsOfMandates(records: readonly AuditRecord[], lookup: (id: string) => Promise<{ agentId: string } | null>): Promise<Map<string, string>> {
  const ids = [...new Set(records.map((r) => r.mandateId).filter((id): id is string => id !== null))];
  const map = new Map<string, string>();
  for (const id of ids) {
    const mandate = await lookup(id);
    if (mandate) map.set(id, mandate.agentId);
  }
  return map;
}
