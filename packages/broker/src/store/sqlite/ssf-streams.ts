import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import type { OutboxEntry, SsfStream, SsfStreamRepository, StreamStatus } from '../../ports/ssf-streams.ts';
import type { Database, SsfOutboxTable, SsfStreamsTable } from '../schema.ts';

export function createSqliteSsfStreams(db: Kysely<Database>): SsfStreamRepository {
  const outboxRow = (streamId: string, eventId: string) =>
    db.updateTable('ssf_outbox').where('stream_id', '=', streamId).where('event_id', '=', eventId);
  return {
    async insert(stream) {
      await db.insertInto('ssf_streams').values(toRow(stream)).execute();
    },
    async get(id) {
      const row = await db.selectFrom('ssf_streams').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? fromRow(row) : null;
    },
    async listByAudience(audience) {
      const rows = await db.selectFrom('ssf_streams').selectAll().where('audience', '=', audience).orderBy('created_at').orderBy('id').execute();
      return rows.map(fromRow);
    },
    async listForSubjects(audience, subjectKeys) {
      const subjectsOf = (eb: ExpressionBuilder<Database, 'ssf_streams'>) =>
        eb.selectFrom('ssf_stream_subjects').select('ssf_stream_subjects.stream_id').whereRef('ssf_stream_subjects.stream_id', '=', 'ssf_streams.id');
      const rows = await db
        .selectFrom('ssf_streams')
        .selectAll('ssf_streams')
        .where('audience', '=', audience)
        .where((eb) => eb.or([
          eb.not(eb.exists(subjectsOf(eb))),
          ...(subjectKeys.length > 0 ? [eb.exists(subjectsOf(eb).where('ssf_stream_subjects.subject_key', 'in', [...subjectKeys]))] : []),
        ]))
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(fromRow);
    },
    async update(id, patch) {
      const set: Partial<SsfStreamsTable> = {};
      if (patch.endpointUrl !== undefined) set.endpoint_url = patch.endpointUrl;
      if (patch.eventsRequested !== undefined) set.events_requested = JSON.stringify(patch.eventsRequested);
      if (patch.status !== undefined) set.status = patch.status;
      if (patch.reason !== undefined) set.reason = patch.reason;
      if (patch.description !== undefined) set.description = patch.description;
      if (patch.updatedAt !== undefined) set.updated_at = patch.updatedAt;
      if (Object.keys(set).length > 0) await db.updateTable('ssf_streams').set(set).where('id', '=', id).execute();
      return this.get(id);
    },
    async delete(id) {
      // Its subjects and outbox go with it (ON DELETE CASCADE).
      const result = await db.deleteFrom('ssf_streams').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
    async subjects(streamId) {
      const rows = await db.selectFrom('ssf_stream_subjects').select('subject_key').where('stream_id', '=', streamId).orderBy('subject_key').execute();
      return rows.map((row) => row.subject_key);
    },
    async addSubject(streamId, key) {
      await db.insertInto('ssf_stream_subjects').values({ stream_id: streamId, subject_key: key }).onConflict((oc) => oc.columns(['stream_id', 'subject_key']).doNothing()).execute();
    },
    async removeSubject(streamId, key) {
      const result = await db.deleteFrom('ssf_stream_subjects').where('stream_id', '=', streamId).where('subject_key', '=', key).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
    async enqueue(entry) {
      const result = await db
        .insertInto('ssf_outbox')
        .values({ stream_id: entry.streamId, event_id: entry.eventId, payload: JSON.stringify(entry.payload), next_attempt_at: entry.nextAttemptAt, created_at: entry.createdAt })
        .onConflict((oc) => oc.columns(['stream_id', 'event_id']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
    },
    async due(now, limit) {
      const rows = await db
        .selectFrom('ssf_outbox')
        .selectAll()
        .where('delivered_at', 'is', null)
        .where('failed_at', 'is', null)
        .where('next_attempt_at', '<=', now)
        .orderBy('created_at')
        .orderBy('event_id')
        .limit(limit)
        .execute();
      return rows.map(outboxFromRow);
    },
    async lease(streamId, eventId, now, until) {
      const result = await outboxRow(streamId, eventId)
        .set({ next_attempt_at: until })
        .where('delivered_at', 'is', null)
        .where('failed_at', 'is', null)
        .where('next_attempt_at', '<=', now)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async markDelivered(streamId, eventId, at) {
      await outboxRow(streamId, eventId).set({ delivered_at: at, last_error: null }).execute();
    },
    async markFailed(streamId, eventId, error, nextAttemptAt, at) {
      await outboxRow(streamId, eventId)
        .set((eb) => ({ attempts: eb('attempts', '+', 1), last_error: error, ...(nextAttemptAt === null ? { failed_at: at } : { next_attempt_at: nextAttemptAt }) }))
        .execute();
    },
    async cursor(name) {
      const row = await db.selectFrom('ssf_cursors').select('cursor').where('name', '=', name).executeTakeFirst();
      return row?.cursor ?? 0;
    },
    async advanceCursor(name, to) {
      await db
        .insertInto('ssf_cursors')
        .values({ name, cursor: to })
        .onConflict((oc) => oc.column('name').doUpdateSet({ cursor: (eb) => eb.ref('excluded.cursor') }).where('ssf_cursors.cursor', '<', to))
        .execute();
    },
  };
}

function toRow(stream: SsfStream): SsfStreamsTable {
  return {
    id: stream.id, audience: stream.audience, endpoint_url: stream.endpointUrl, events_requested: JSON.stringify(stream.eventsRequested),
    status: stream.status, reason: stream.reason, description: stream.description, created_at: stream.createdAt, updated_at: stream.updatedAt,
  };
}

function fromRow(row: Selectable<SsfStreamsTable>): SsfStream {
  return {
    id: row.id, audience: row.audience, endpointUrl: row.endpoint_url, eventsRequested: JSON.parse(row.events_requested) as string[],
    status: row.status as StreamStatus, reason: row.reason, description: row.description, createdAt: row.created_at, updatedAt: row.updated_at,
  };
}

function outboxFromRow(row: Selectable<SsfOutboxTable>): OutboxEntry {
  return {
    streamId: row.stream_id, eventId: row.event_id, payload: JSON.parse(row.payload) as Record<string, unknown>,
    attempts: row.attempts, nextAttemptAt: row.next_attempt_at, createdAt: row.created_at,
  };
}
