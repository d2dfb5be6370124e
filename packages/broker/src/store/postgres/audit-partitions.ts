import { sql, type Kysely } from 'kysely';

/** Months created ahead of the current one, so a month's events never land in the default partition. */
export const PARTITION_MONTHS_AHEAD = 3;

/** `audit_events_2026_11` holds [Date.UTC(2026, 10, 1), Date.UTC(2026, 11, 1)) in epoch ms. */
export function partitionFor(time: number): { name: string; from: number; to: number } {
  const date = new Date(time);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  return {
    name: `audit_events_${year}_${String(month + 1).padStart(2, '0')}`,
    from: Date.UTC(year, month, 1),
    to: Date.UTC(year, month + 1, 1),
  };
}

/** SQLSTATE 23514: the default partition already holds rows of that month; they stay there. */
const CHECK_VIOLATION = '23514';

/**
 * Creates the monthly partitions of the audit table from `now`'s month to `monthsAhead` months
 * later, skipping existing ones. Replicas may call it at once: an advisory lock serialises them.
 * A month whose events already sit in the default partition is skipped (they stay queryable
 * there; PostgreSQL refuses to create a partition that would strand them). Returns the names created.
 */
export async function ensureAuditPartitions(db: Kysely<any>, now: number, monthsAhead = PARTITION_MONTHS_AHEAD): Promise<string[]> {
  const created: string[] = [];
  const start = new Date(now);
  for (let i = 0; i <= monthsAhead; i++) {
    const part = partitionFor(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + i, 1));
    if (await createPartition(db, part)) created.push(part.name);
  }
  return created;
}

async function createPartition(db: Kysely<any>, part: ReturnType<typeof partitionFor>): Promise<boolean> {
  try {
    return await db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext('mandate.audit_partitions'))`.execute(trx);
      const exists = await sql<{ found: string | null }>`select to_regclass(${part.name})::text as found`.execute(trx);
      if (exists.rows[0]?.found) return false;
      // Identifiers cannot be bound parameters; the name and bounds are generated above, never input.
      await sql.raw(`create table ${part.name} partition of audit_events for values from (${part.from}) to (${part.to})`).execute(trx);
      return true;
    });
  } catch (error) {
    if ((error as { code?: string }).code === CHECK_VIOLATION) return false;
    throw error;
  }
}
