import type { Kysely } from 'kysely';
import type { MandateStatus } from '../core/mandate.ts';
import type { MandatePatch } from '../ports/mandates.ts';
import type { Database, MandatesTable } from './schema.ts';

/** Only the fields present in the patch; `undefined` leaves a column alone, `null` clears it. */
export function toPatchRow(patch: MandatePatch): Partial<MandatesTable> {
  const row: Partial<MandatesTable> = {};
  if (patch.status !== undefined) row.status = patch.status;
  if (patch.approval !== undefined) row.approval = patch.approval === null ? null : JSON.stringify(patch.approval);
  if (patch.decidedAt !== undefined) row.decided_at = patch.decidedAt;
  if (patch.grantHash !== undefined) row.grant_hash = patch.grantHash;
  if (patch.endedAt !== undefined) row.ended_at = patch.endedAt;
  if (patch.endReason !== undefined) row.end_reason = patch.endReason;
  if (patch.dpopJkt !== undefined) row.dpop_jkt = patch.dpopJkt;
  if (patch.attestationId !== undefined) row.attestation_id = patch.attestationId;
  if (patch.attestationDigest !== undefined) row.attestation_digest = patch.attestationDigest;
  return row;
}

/**
 * The conditional transition of one mandate, for both engines: it applies only from `from`, so of
 * two concurrent transitions exactly one changes the row. `status = status` keeps the SET
 * non-empty, so an empty patch is a bare status check.
 */
export function transitionStatement(db: Kysely<Database>, id: string, from: readonly MandateStatus[], patch: MandatePatch) {
  return db.updateTable('mandates').set((eb) => ({ status: eb.ref('status'), ...toPatchRow(patch) })).where('id', '=', id).where('status', 'in', from);
}
