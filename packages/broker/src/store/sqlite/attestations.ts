import type { Kysely, Selectable } from 'kysely';
import type { AttestationRecord, AttestationRepository, Verdict } from '../../ports/attestations.ts';
import type { AttestationsTable, Database } from '../schema.ts';

export function createSqliteAttestations(db: Kysely<Database>): AttestationRepository {
  const rows = () => db.selectFrom('attestations').selectAll();
  return {
    async insert(record) {
      await db.insertInto('attestations').values(toRow(record)).execute();
    },
    async get(id) {
      const row = await rows().where('id', '=', id).executeTakeFirst();
      return row ? fromRow(row) : null;
    },
    async listByAgent(agentId, limit) {
      const found = await rows().where('agent_id', '=', agentId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return found.map(fromRow);
    },
  };
}

function toRow(record: AttestationRecord): AttestationsTable {
  return {
    id: record.id,
    agent_id: record.agentId,
    jkt: record.jkt,
    policy: record.policy,
    verdict: record.verdict,
    results: JSON.stringify(record.results),
    failures: JSON.stringify(record.failures),
    satisfied_by: record.satisfiedBy,
    evidence_digest: record.evidenceDigest,
    created_at: record.createdAt,
    expires_at: record.expiresAt,
  };
}

function fromRow(row: Selectable<AttestationsTable>): AttestationRecord {
  return {
    id: row.id,
    agentId: row.agent_id,
    jkt: row.jkt,
    policy: row.policy,
    verdict: row.verdict as Verdict,
    results: JSON.parse(row.results) as AttestationRecord['results'],
    failures: JSON.parse(row.failures) as AttestationRecord['failures'],
    satisfiedBy: row.satisfied_by,
    evidenceDigest: row.evidence_digest,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}
