import pg from 'pg';

/** SQLSTATE feature_not_supported, as PostgreSQL reports a prepared statement whose result columns changed under it (a migration). */
const STALE_PLAN_CODE = '0A000';
/** Where PostgreSQL raises it: the routine name is never translated, unlike the message (`lc_messages`). */
const STALE_PLAN_ROUTINE = 'RevalidateCachedQuery';
const STALE_PLAN_MESSAGE = 'cached plan must not change result type';

/** True for the error a named statement gets once its table's columns changed: run the statement (or its transaction) again and it goes unnamed. */
export function isStalePlan(error: unknown): boolean {
  const { code, routine, message } = (error ?? {}) as { code?: unknown; routine?: unknown; message?: unknown };
  return code === STALE_PLAN_CODE && (routine === STALE_PLAN_ROUTINE || (typeof message === 'string' && message.includes(STALE_PLAN_MESSAGE)));
}

/** Statement texts given a name at most, per process: beyond it, new texts run unnamed (each connection holds every named statement it ran). */
export const MAX_NAMED_STATEMENTS = 256;
/**
 * Statements with more parameters run unnamed: multi-row inserts, whose text changes with the row
 * count, would otherwise fill the bound with large plans. The hot ones (the mint batch, the audit
 * append) pass one array per column instead, so their text is fixed and named.
 */
export const MAX_NAMED_PARAMETERS = 32;

type Query = (text: unknown, values?: unknown, callback?: unknown) => unknown;

/**
 * Every parameterised statement the pool's clients run (all of Kysely's) becomes a named prepared
 * statement: PostgreSQL parses and plans it once per connection instead of on every execution
 * (about a third of its CPU per mint; bench/README.md). One name per distinct text, for at most
 * `max` texts per process; beyond that, and for statements without parameters (`begin`, `commit`)
 * or with more than `MAX_NAMED_PARAMETERS`, the unnamed statement as before.
 *
 * A migration that changes a table's columns makes each older replica's named `select *` of it fail
 * once with "cached plan must not change result type": that text runs unnamed from then on. Outside
 * a transaction the statement runs again at once, unnamed; inside one the transaction has failed,
 * and `retried` (retry.ts) runs it again where the caller uses it (once per stale text it meets).
 * Whether a statement is inside a transaction is read from the texts Kysely sends (`begin`,
 * `start transaction …`, `commit`, `rollback`; `rollback to` a savepoint stays inside).
 *
 * PostgreSQL keeps each named statement, with its plan, on every pooled connection that ran it:
 * up to `max` per connection. After five runs it may switch a statement to a generic plan; the
 * broker's statements filter on keys and indexed columns, where that plan is the one it would
 * choose for the values anyway.
 */
export function prepareStatements(pool: pg.Pool, max = MAX_NAMED_STATEMENTS): void {
  // text → name, or null: runs unnamed (its plan went stale once).
  const names = new Map<string, string | null>();
  let issued = 0;
  const fresh = () => `mandate_${issued++}`;
  const nameOf = (text: string): string | null => {
    const known = names.get(text);
    if (known !== undefined) return known;
    if (names.size >= max) return null;
    const name = fresh();
    names.set(text, name);
    return name;
  };
  pool.on('connect', (client: pg.PoolClient) => {
    const query = client.query.bind(client) as Query;
    let inTransaction = false;
    const track = (text: string) => {
      if (/^\s*(begin|start\s+transaction)\b/i.test(text)) inTransaction = true;
      else if (/^\s*(commit|end|rollback)\b(?!\s+to\b)/i.test(text)) inTransaction = false;
    };
    const named = async (text: string, values: unknown[], name: string): Promise<unknown> => {
      try {
        return await query({ name, text, values });
      } catch (error) {
        // An error raised here rather than by the server (a parameter pg cannot serialize) may
        // leave pg believing the statement is still prepared on this connection after closing it:
        // the text takes a fresh name, parsed again on its next use.
        if (!(error instanceof pg.DatabaseError) && names.get(text) === name) names.set(text, fresh());
        if (!isStalePlan(error)) throw error;
        names.set(text, null);
        if (inTransaction) throw error;
        return query(text, values);
      }
    };
    (client as { query: Query }).query = (text, values, callback) => {
      if (typeof text !== 'string' || callback !== undefined) return query(text, values, callback);
      track(text);
      const name = Array.isArray(values) && values.length > 0 && values.length <= MAX_NAMED_PARAMETERS ? nameOf(text) : null;
      return name === null ? query(text, values) : named(text, values as unknown[], name);
    };
  });
}
