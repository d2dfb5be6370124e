import type { Kysely, Selectable } from 'kysely';
import type { AttestationKeyRecord, AttestationKeyRepository } from '../../ports/attestation-keys.ts';
import type { AttestationKeysTable, Database } from '../schema.ts';

/**
 * Registered TPM attestation keys on SQLite.
 *
 * @example
 * const keys = createSqliteAttestationKeys(handle.db);
 * await keys.add({ agentId, akName, akPublic, ekCertificateDigest, createdAt: Date.now() });
 */
export function createSqliteAttestationKeys(db: Kysely<Database>): AttestationKeyRepository {
  return {
    async add(record) {
      await db.insertInto('attestation_keys').values(toRow(record)).execute();
    },
    async listForAgent(agentId) {
      const rows = await db.selectFrom('attestation_keys').selectAll().where('agent_id', '=', agentId).orderBy('created_at').orderBy('ak_name').execute();
      return rows.map(fromRow);
    },
    async remove(agentId, akName) {
      const result = await db.deleteFrom('attestation_keys').where('agent_id', '=', agentId).where('ak_name', '=', akName).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}

function toRow(record: AttestationKeyRecord): AttestationKeysTable {
  return {
    agent_id: record.agentId,
    ak_name: record.akName,
    ak_public: record.akPublic,
    ek_certificate_digest: record.ekCertificateDigest,
    created_at: record.createdAt,
  };
}

function fromRow(row: Selectable<AttestationKeysTable>): AttestationKeyRecord {
  return {
    agentId: row.agent_id,
    akName: row.ak_name,
    akPublic: row.ak_public,
    ekCertificateDigest: row.ek_certificate_digest,
    createdAt: row.created_at,
  };
}
