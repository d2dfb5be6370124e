import type { Kysely, Selectable } from 'kysely';
import type { MandateReview, ReviewDecision, ReviewRepository } from '../../ports/reviews.ts';
import type { Database, MandateReviewsTable } from '../schema.ts';

/** Access reviews; plain Kysely (no SQLite-only SQL), conditional writes for the races. */
export function createSqliteReviews(db: Kysely<Database>): ReviewRepository {
  return {
    async unscheduled(limit) {
      const rows = await db
        .selectFrom('mandates as m')
        .leftJoin('mandate_reviews as r', 'r.mandate_id', 'm.id')
        .select(['m.id', 'm.agent_id', 'm.decided_at', 'm.created_at'])
        .where('m.status', '=', 'active')
        .where('r.mandate_id', 'is', null)
        // Sub-agent hops live and die with their root (PROTOCOL §10): only human-approved mandates are reviewed.
        .where('m.parent_mandate_id', 'is', null)
        .orderBy('m.created_at')
        .orderBy('m.id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ mandateId: r.id, agentId: r.agent_id, since: Number(r.decided_at ?? r.created_at) }));
    },
    async schedule(mandateId, agentId, dueAt) {
      const result = await db
        .insertInto('mandate_reviews')
        .values({ mandate_id: mandateId, agent_id: agentId, due_at: dueAt, reminded_at: null, reviewed_at: null, reviewed_by: null, decision: null })
        .onConflict((oc) => oc.column('mandate_id').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
    },
    async get(mandateId) {
      const row = await db.selectFrom('mandate_reviews').selectAll().where('mandate_id', '=', mandateId).executeTakeFirst();
      return row ? fromRow(row) : null;
    },
    async list(filter, limit) {
      if (filter.agentIds && filter.agentIds.length === 0) return [];
      let query = db
        .selectFrom('mandate_reviews as r')
        .innerJoin('mandates as m', 'm.id', 'r.mandate_id')
        .selectAll('r')
        .where('m.status', '=', 'active');
      if (filter.dueBy !== undefined) query = query.where('r.due_at', '<=', filter.dueBy);
      if (filter.agentIds) query = query.where('r.agent_id', 'in', [...filter.agentIds]);
      return (await query.orderBy('r.due_at').orderBy('r.mandate_id').limit(limit).execute()).map(fromRow);
    },
    async markReminded(mandateId, at) {
      const result = await db.updateTable('mandate_reviews').set({ reminded_at: at }).where('mandate_id', '=', mandateId).where('reminded_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async record(mandateId, expectedDueAt, review) {
      const result = await db
        .updateTable('mandate_reviews')
        .set({ due_at: review.nextDueAt, reminded_at: null, reviewed_at: review.at, reviewed_by: review.by, decision: review.decision })
        .where('mandate_id', '=', mandateId)
        .where('due_at', '=', expectedDueAt)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}

function fromRow(row: Selectable<MandateReviewsTable>): MandateReview {
  const num = (v: number | null) => (v === null ? null : Number(v));
  return {
    mandateId: row.mandate_id, agentId: row.agent_id, dueAt: Number(row.due_at), remindedAt: num(row.reminded_at),
    reviewedAt: num(row.reviewed_at), reviewedBy: row.reviewed_by, decision: row.decision as ReviewDecision | null,
  };
}
