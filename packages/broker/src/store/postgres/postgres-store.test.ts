import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { Kysely, PostgresDialect, sql, type RawBuilder } from 'kysely';
import pg from 'pg';
import { databaseFactory, emptyDatabase, startPostgres } from '../../../test/support/postgres.ts';
import type { Change } from '../../ports/change-feed.ts';
import type { MakeFixture, StoreFixture } from '../conformance/fixture.ts';
import { aCredential, aHuman, aMandate, anAgent } from '../conformance/records.ts';
import { ensureAuditPartitions, partitionFor } from './audit-partitions.ts';
import { createGroupCommit } from './group-commit.ts';
import { createPostgresStore, type PostgresStore } from './index.ts';
import { isStalePlan, MAX_NAMED_PARAMETERS, prepareStatements } from './prepared.ts';
import { retried } from './retry.ts';
import { recordedOf } from './replay-cache.ts';
import type { Database } from '../schema.ts';

// One throwaway cluster for the file; if it cannot start, this throws and the file FAILS (no skip).
const cluster = await startPostgres();
const freshDatabase = databaseFactory(cluster);

/**
 * Two stores, i.e. two pools, on one database for the whole file; before each test every table
 * is emptied (`emptyDatabase`), which is a fresh database to the suites at a fraction
 * of the cost of `CREATE DATABASE` per test.
 */
const shared = await freshDatabase();
const sharedStores = await Promise.all([createPostgresStore({ url: shared.url, poolSize: 4 }), createPostgresStore({ url: shared.url, poolSize: 4 })]);
const makePostgresFixture: MakeFixture = async (): Promise<StoreFixture> => {
  const [a, b] = sharedStores;
  await emptyDatabase(a.raw.db);
  return { a, b, cleanup: async () => undefined };
};

/**
 * Every conformance suite, found by listing the folder, so a suite added for SQLite runs here
 * too without anyone remembering to add it (each `*.suite.ts` exports `<name>Suite(makeFixture)`).
 */
const conformanceDir = new URL('../conformance/', import.meta.url);
const suiteFiles = readdirSync(conformanceDir).filter((f) => f.endsWith('.suite.ts')).sort();
const suiteNames: string[] = [];
// Imported first, registered after: node:test starts running tests as they are registered, and a
// registration between awaits could let the file's `after` (cluster stop) fire in the gap.
const suiteModules = await Promise.all(suiteFiles.map(async (file) => (await import(new URL(file, conformanceDir).href)) as Record<string, unknown>));
for (const module of suiteModules) {
  for (const [name, value] of Object.entries(module)) {
    if (!name.endsWith('Suite') || typeof value !== 'function') continue;
    suiteNames.push(name);
    (value as (make: MakeFixture) => void)(makePostgresFixture);
  }
}

after(async () => {
  await Promise.all(sharedStores.map((store) => store.close()));
  await cluster.stop();
});

test('every suite the SQLite store runs also runs on PostgreSQL', () => {
  const sqliteTest = readFileSync(new URL('../sqlite/sqlite-store.test.ts', import.meta.url), 'utf8');
  const sqliteSuites = [...sqliteTest.matchAll(/^(\w+Suite)\(/gm)].map((m) => m[1]!);
  assert.ok(sqliteSuites.length >= 10, 'the SQLite suite list was found');
  assert.deepEqual(sqliteSuites.filter((name) => !suiteNames.includes(name)), []);
});

describe('PostgreSQL specifics', () => {
  const withStore = async (work: (store: PostgresStore, url: string) => Promise<void>) => {
    const database = await freshDatabase();
    const store = await createPostgresStore({ url: database.url, poolSize: 2 });
    try {
      await work(store, database.url);
    } finally {
      await store.close();
      await database.drop();
    }
  };

  test('every migration, shared or PostgreSQL\'s own, is applied', async () => {
    await withStore(async (store) => {
      assert.deepEqual(await store.migrationStatus?.(), { pending: [], unknown: [] });
      await store.ping?.();
    });
  });

  test('audit events land in their month\'s partition; times outside the created months in the default one', async () => {
    await withStore(async (store) => {
      const now = Date.now();
      const seal = () => 'sealed';
      await store.audit.append('main', [{ type: 'human.added', actor: 'usr_1' }], now, seal);
      await store.audit.append('main', [{ type: 'human.added', actor: 'usr_2' }], 1000, seal);
      const rows = await sql<{ seq: number; part: string }>`select seq, tableoid::regclass::text as part from audit_events order by seq`.execute(store.raw.db);
      assert.deepEqual(rows.rows, [{ seq: 1, part: partitionFor(now).name }, { seq: 2, part: 'audit_events_default' }]);
      assert.equal((await store.audit.read('main', 1, 10)).length, 2);
    });
  });

  test('partitions are created ahead, once; a month already holding default-partition rows is skipped', async () => {
    await withStore(async (store) => {
      const db = store.raw.db;
      const future = Date.UTC(2031, 4, 10);
      await store.audit.append('main', [{ type: 'human.added', actor: 'usr_1' }], Date.UTC(2031, 5, 2), () => 'sealed');
      const created = await ensureAuditPartitions(db, future, 2);
      assert.deepEqual(created, ['audit_events_2031_05', 'audit_events_2031_07'], 'June holds a default-partition row: skipped');
      assert.deepEqual(await ensureAuditPartitions(db, future, 2), [], 'idempotent');
      assert.equal((await store.audit.window(Date.UTC(2031, 5, 1), Date.UTC(2031, 6, 1), 10)).length, 1);
    });
  });

  test('a subscriber on another store receives a published change through LISTEN/NOTIFY, long before the polling interval', async () => {
    const database = await freshDatabase();
    const a = await createPostgresStore({ url: database.url, poolSize: 2 });
    const b = await createPostgresStore({ url: database.url, poolSize: 2 });
    const received: Change[] = [];
    let arrived: () => void = () => undefined;
    const subscription = b.changes.subscribe!((change) => {
      received.push(change);
      if (received.length === 3) arrived();
    }, { pollIntervalMs: 60_000 });
    try {
      await waitFor(async () => (await listeners(a)) === 1);
      const done = new Promise<void>((resolve) => (arrived = resolve));
      const started = performance.now();
      for (const key of ['k1', 'k2', 'k3']) await a.changes.publish('key.rotated', key, 1);
      await done;
      const elapsed = performance.now() - started;
      assert.deepEqual(received.map((c) => c.key), ['k1', 'k2', 'k3']);
      assert.ok(elapsed < 2_000, `arrived after ${elapsed.toFixed(0)} ms`);
    } finally {
      await subscription.close();
      await Promise.all([a.close(), b.close()]);
      await database.drop();
    }
  });

  test('when the LISTEN connection is killed, polling still delivers within its interval and the listener reconnects', async () => {
    const database = await freshDatabase();
    const a = await createPostgresStore({ url: database.url, poolSize: 2 });
    const b = await createPostgresStore({ url: database.url, poolSize: 2 });
    const received: string[] = [];
    const errors: string[] = [];
    const subscription = b.changes.subscribe!((change) => void received.push(change.key), { pollIntervalMs: 300, onError: (e) => void errors.push(e.message) });
    try {
      await waitFor(async () => (await listeners(a)) === 1);
      await sql`select pg_terminate_backend(pid) from pg_stat_activity where query ilike 'listen %' and datname = current_database()`.execute(a.raw.db);
      await a.changes.publish('token.revoked', 'while-down', 1);
      await waitFor(async () => received.includes('while-down'), 3_000);
      await waitFor(async () => (await listeners(a)) === 1, 10_000);
      assert.ok(errors.length >= 1, 'the disconnect was reported');
      await a.changes.publish('token.revoked', 'after-reconnect', 2);
      await waitFor(async () => received.includes('after-reconnect'), 3_000);
      assert.deepEqual(received, ['while-down', 'after-reconnect']);
    } finally {
      await subscription.close();
      await Promise.all([a.close(), b.close()]);
      await database.drop();
    }
  });

  test('subscribers of one store share its one LISTEN connection; its own commits wake them in-process; after a reconnect each re-reads from its cursor', async () => {
    const database = await freshDatabase();
    const a = await createPostgresStore({ url: database.url, poolSize: 2 });
    const b = await createPostgresStore({ url: database.url, poolSize: 2 });
    // Key sync, metrics and the SSF transmitter, as in app.ts: a 60 s poll, so only a wake-up explains a fast arrival.
    const got: string[][] = [[], [], []];
    const subscriptions = got.map((list) => b.changes.subscribe!((change) => void list.push(change.key), { pollIntervalMs: 60_000, onError: () => undefined }));
    const everyone = (key: string) => async () => got.every((list) => list.includes(key));
    try {
      await waitFor(async () => (await listeners(a)) === 1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(await listeners(a), 1, 'one LISTEN connection for three subscribers');
      await sql`select pg_terminate_backend(pid) from pg_stat_activity where query ilike 'listen %' and datname = current_database()`.execute(a.raw.db);
      await waitFor(async () => (await listeners(a)) === 0);
      await b.changes.publish('token.revoked', 'own', 1);
      await waitFor(everyone('own'), 2_000);
      assert.equal(await listeners(a), 0, 'delivered while the listener was down: woken in-process by the commit');
      await a.changes.publish('token.revoked', 'while-down', 2);
      await waitFor(everyone('while-down'), 10_000);
      await waitFor(async () => (await listeners(a)) === 1);
      await a.changes.publish('token.revoked', 'after', 3);
      await waitFor(everyone('after'), 3_000);
      assert.deepEqual(got, Array.from({ length: 3 }, () => ['own', 'while-down', 'after']));
      await Promise.all(subscriptions.slice(0, 2).map((s) => s.close()));
      assert.equal(await listeners(a), 1, 'kept while a subscriber is left');
      await subscriptions[2]!.close();
      await waitFor(async () => (await listeners(a)) === 0);
    } finally {
      await Promise.all(subscriptions.map((s) => s.close()));
      await Promise.all([a.close(), b.close()]);
      await database.drop();
    }
  });

  test('group commit: hot-path statements of one turn share one transaction; none resolves before its commit', async () => {
    await withStore(async (store) => {
      const batch = createGroupCommit(store.raw.db);
      const xact = (order: string) => batch({ order, run: async (trx) => (await sql<{ x: string }>`select pg_current_xact_id()::text as x`.execute(trx)).rows[0]!.x });
      const ids = await Promise.all(['b', 'a', 'c'].map(xact));
      assert.equal(new Set(ids).size, 1, 'one transaction');
      await store.counters.create('gc', 100);
      const [left, fresh] = await Promise.all([store.counters.take('gc'), store.replay.checkAndInsert('dpop', 'gc-1', 2, 1)]);
      assert.deepEqual([left, fresh], [99, true]);
      const taken = await Promise.all(Array.from({ length: 50 }, () => store.counters.take('gc')));
      assert.deepEqual(taken.sort((x, y) => x! - y!), Array.from({ length: 50 }, (_, i) => 49 + i));
    });
  });

  test('coalesced point reads: the reads of one turn each get their own row, unknown ones nothing', async () => {
    await withStore(async (store) => {
      for (const n of [1, 2]) await store.humans.insert(aHuman(n));
      await store.agents.insert(anAgent(1, ['usr_1', 'usr_2'], { approvers: ['usr_2'] }));
      await store.agents.insert(anAgent(2, []));
      await store.mandates.insert(aMandate(1, 'agt_1', 'usr_1', { grantHash: 'g1' }));
      await store.mandates.insert(aMandate(2, 'agt_2', 'usr_2', { grantHash: 'g2' }));
      await store.replay.checkAndInsert('client-assertion', 'agt_1:j1', 2_000, 1_000);
      await store.replay.checkAndInsert('dpop', 'agt_1:j1', 5_000, 1_000);
      const [agents, mandates, humans, seen] = await Promise.all([
        Promise.all(['agt_1', 'agt_2', 'agt_404', 'agt_1'].map((id) => store.agents.get(id))),
        Promise.all(['g2', 'g1', 'g404'].map((hash) => store.mandates.getByGrantHash(hash))),
        Promise.all(['usr_2', 'usr_404', 'usr_1'].map((id) => store.humans.get(id))),
        Promise.all([
          store.replay.seen('client-assertion', 'agt_1:j1', 1_500), store.replay.seen('client-assertion', 'agt_1:j1', 2_000),
          store.replay.seen('dpop', 'agt_1:j1', 2_000), store.replay.seen('dpop', 'agt_1:j2', 1_000),
        ]),
      ]);
      assert.deepEqual(agents, [anAgent(1, ['usr_1', 'usr_2'], { approvers: ['usr_2'] }), anAgent(2, []), null, anAgent(1, ['usr_1', 'usr_2'], { approvers: ['usr_2'] })]);
      assert.deepEqual(mandates.map((m) => m?.id ?? null), ['mdt_2', 'mdt_1', null]);
      assert.deepEqual(humans, [aHuman(2), null, aHuman(1)]);
      assert.deepEqual(seen, [true, false, true, false], 'read beside the coalesced ones, `seen` judges expiry at each caller\'s time');
    });
  });

  test('the coalesced replay read looks each id up by primary key, even in a generic plan made before the table was first analysed', async () => {
    await withStore(async (store) => {
      // 500 rows, never analysed: `id = any($1) and namespace = $2` gets a bitmap scan of the namespace with the ids as a filter here.
      await sql`insert into replay_cache select case when g % 2 = 0 then 'dpop' else 'client-assertion' end, 'agt_1:' || g, 1000 + g from generate_series(1, 500) as g`.execute(store.raw.db);
      const { sql: text } = recordedOf('dpop', ['a', 'b']).compile(store.raw.db);
      const plan = await store.raw.db.connection().execute(async (conn) => {
        await sql`set plan_cache_mode = force_generic_plan`.execute(conn);
        await sql.raw(`prepare seen_plan(text[], text) as ${text}`).execute(conn);
        const { rows } = await sql.raw<{ 'QUERY PLAN': string }>(`explain execute seen_plan('{a,b}', 'dpop')`).execute(conn);
        await sql`deallocate seen_plan`.execute(conn);
        await sql`reset plan_cache_mode`.execute(conn);
        return rows.map((row) => row['QUERY PLAN']).join('\n');
      });
      assert.match(plan, /Index Scan using replay_cache_pk on replay_cache\s.*\n\s*Index Cond: \(\(namespace = \$2\) AND \(id = /, plan);
      assert.doesNotMatch(plan, /Filter|Seq Scan|Bitmap/, plan);
    });
  });

  /** Holds the row locks `statement` takes, in an open transaction on `db`, until `release()`; resolves once they are held. */
  const holdLocks = async (db: Kysely<Database>, statement: RawBuilder<unknown>) => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    const done = db.transaction().execute(async (trx) => {
      await statement.execute(trx);
      locked();
      await held;
    });
    await Promise.race([lockTaken, done]);
    return async () => {
      release();
      await done;
    };
  };
  /** `commitIssue` of one token of agent `n` under mandate `n` (both active), as the token route calls it. */
  const minter = (store: PostgresStore, at: number) => (n: number, jti: string, idx: number) =>
    store.credentials.commitIssue!(
      { credential: aCredential(jti, `agt_${n}`, `mdt_${n}`, { issuedAt: at, expiresAt: at + 60_000 }), live: ['active'], approverId: null, slot: { listId: '1', idx, jti, reusableAt: at + 120_000 }, singleUse: [], now: at },
      { chain: 'main', time: at, seal: () => 'sealed' },
      [{ type: 'token.issued', actor: `agt_${n}`, jti }],
    );

  test('issue commit: one batch at a time; the mints that arrive while one commits share the next transaction', async () => {
    await withStore(async (store) => {
      const at = 1_700_000_900_000;
      await store.humans.insert(aHuman(1));
      await store.agents.insert(anAgent(1, ['usr_1']));
      await store.statusLists.ensureList('1', 1024, at);
      await store.mandates.insert(aMandate(1, 'agt_1', 'usr_1', { status: 'active' }));
      const mintOne = minter(store, at);
      const mint = (jti: string, idx: number) => mintOne(1, jti, idx);
      await mint('first', 0); // the chain's head row exists from here on
      // Another transaction holds the head: the next batch waits on it, and the mints that arrive
      // meanwhile, each in a turn of its own, queue behind that batch rather than start their own.
      const release = await holdLocks(store.raw.db, sql`select seq from audit_heads where chain = 'main' for update`);
      const turn = () => new Promise((resolve) => setImmediate(resolve));
      const waiting = [mint('a', 1)];
      for (const [i, jti] of ['b', 'c', 'd'].entries()) {
        await turn();
        await turn();
        waiting.push(mint(jti, i + 2));
      }
      await release();
      assert.deepEqual((await Promise.all(waiting)).map((c) => c.outcome), ['issued', 'issued', 'issued', 'issued']);
      const { rows } = await sql<{ jti: string; x: string }>`select jti, xmin::text as x from credentials where jti in ('a', 'b', 'c', 'd') order by jti`.execute(store.raw.db);
      const xact = Object.fromEntries(rows.map((r) => [r.jti, r.x]));
      assert.notEqual(xact.a, xact.b, 'the first batch committed alone');
      assert.deepEqual([xact.c, xact.d], [xact.b, xact.b], 'b, c and d: one transaction');
    });
  });

  /**
   * Agents 1 and 2, each with an active mandate; after `before`, an open transaction takes the
   * locks of `hold`, and agent 1's mint (status-list index `stuckIdx`) waits on them. Agent 2's mint
   * (index `nextIdx`), asked 50 ms later, must commit beside it within 10 s; once the locks go,
   * agent 1's mint ends with `stuckOutcome`.
   */
  const besideAStuckBatch = async (scenario: { before?: (mint: ReturnType<typeof minter>) => Promise<void>; hold: RawBuilder<unknown>; stuckIdx: number; nextIdx: number; stuckOutcome: string }) => {
    await withStore(async (_store, url) => {
      const store = await createPostgresStore({ url, poolSize: 4 });
      try {
        const at = 1_700_000_900_000;
        await store.humans.insert(aHuman(1));
        await store.statusLists.ensureList('1', 1024, at);
        for (const n of [1, 2]) {
          await store.agents.insert(anAgent(n, ['usr_1']));
          await store.mandates.insert(aMandate(n, `agt_${n}`, 'usr_1', { status: 'active' }));
        }
        const mint = minter(store, at);
        await scenario.before?.(mint);
        const release = await holdLocks(store.raw.db, scenario.hold);
        let stuckDone = false;
        const stuck = mint(1, 'stuck', scenario.stuckIdx).finally(() => (stuckDone = true));
        try {
          await new Promise((resolve) => setTimeout(resolve, 50));
          const next = await Promise.race([mint(2, 'next', scenario.nextIdx), new Promise((resolve) => setTimeout(resolve, 10_000, 'still waiting'))]);
          assert.equal((next as { outcome?: string }).outcome, 'issued', 'the next batch committed beside the stuck one');
          assert.equal(stuckDone, false, 'the first batch still waits on the lock');
        } finally {
          await release();
        }
        assert.equal((await stuck).outcome, scenario.stuckOutcome);
      } finally {
        await store.close();
      }
    });
  };

  test('issue commit: a batch stuck on a row lock another transaction holds lets the next batch start after a second', async () => {
    // An administrator's open transaction holds agent 1's row: a batch with agent 1's mint waits on it.
    await besideAStuckBatch({ hold: sql`select id from agents where id = 'agt_1' for update`, stuckIdx: 1, nextIdx: 2, stuckOutcome: 'issued' });
  });

  test('issue commit: a batch waiting on a status-list slot another transaction holds has not locked the chain head yet: the next batch commits beside it', async () => {
    await besideAStuckBatch({
      // The chain's head row exists, and slot 3 is held by a live token.
      before: async (mint) => assert.equal((await mint(2, 'first', 3)).outcome, 'issued'),
      hold: sql`select idx from status_list_slots where list_id = '1' and idx = 3 for update`,
      stuckIdx: 3,
      nextIdx: 4,
      stuckOutcome: 'slot_taken',
    });
  });

  /** A one-connection Kysely on `url` with `prepareStatements`, as open.ts wires it, so every statement meets the same connection's prepared ones. */
  const oneConnection = (url: string, max?: number) => {
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    prepareStatements(pool, max);
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  };
  const preparedOn = async (db: Kysely<Database>) =>
    (await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements order by name`.execute(db)).rows;

  test('prepared statements: a parameterised statement is parsed once per connection and named after its text; statements without parameters stay unnamed', async () => {
    await withStore(async (store, url) => {
      await store.humans.insert(aHuman(1));
      const db = oneConnection(url);
      try {
        for (let i = 0; i < 3; i++) assert.equal((await db.selectFrom('humans').selectAll().where('id', '=', 'usr_1').execute()).length, 1);
        await db.transaction().execute((trx) => trx.selectFrom('humans').select('id').where('id', '=', 'usr_1').execute());
        const prepared = await preparedOn(db);
        assert.deepEqual(prepared.map((p) => p.statement), ['select * from "humans" where "id" = $1', 'select "id" from "humans" where "id" = $1']);
        assert.deepEqual(prepared.map((p) => p.name), ['mandate_0', 'mandate_1']);
      } finally {
        await db.destroy();
      }
    });
  });

  test('prepared statements: on by default, off with store.preparedStatements false', async () => {
    await withStore(async (_store, url) => {
      for (const preparedStatements of [undefined, false]) {
        const store = await createPostgresStore({ url, poolSize: 1, ...(preparedStatements === undefined ? {} : { preparedStatements }) });
        try {
          assert.equal(await store.humans.get('usr_1'), null);
          const prepared = await preparedOn(store.raw.db);
          assert.equal(prepared.some((p) => p.statement.startsWith('select * from "humans"')), preparedStatements === undefined, `preparedStatements: ${preparedStatements}`);
          if (preparedStatements === false) assert.deepEqual(prepared, []);
        } finally {
          await store.close();
        }
      }
    });
  });

  test('prepared statements: beyond the bound, new texts run unnamed, and so do statements with many parameters', async () => {
    await withStore(async (_store, url) => {
      const db = oneConnection(url, 2);
      try {
        const many = Array.from({ length: MAX_NAMED_PARAMETERS + 1 }, (_, i) => i);
        await sql`select ${sql.join(many.map((n) => sql`${n}::int`), sql` + `)} as many`.execute(db);
        for (const n of [1, 2, 3, 1]) await sql`select ${n}::int + ${n}::int as x${sql.raw(String(n))}`.execute(db);
        assert.deepEqual((await preparedOn(db)).map((p) => p.statement), ['select $1::int + $2::int as x1', 'select $1::int + $2::int as x2']);
      } finally {
        await db.destroy();
      }
    });
  });

  test('prepared statements: after a migration changes a table\'s columns, a named select * of it runs again unnamed, alone or in a retried transaction', async () => {
    await withStore(async (store, url) => {
      await store.humans.insert(aHuman(1));
      const db = oneConnection(url);
      // Three texts, each named on the connection before the column is added.
      const alone = (on: Kysely<Database>) => on.selectFrom('humans').selectAll().where('id', '=', 'usr_1').executeTakeFirstOrThrow();
      const unretried = (on: Kysely<Database>) => on.selectFrom('humans').selectAll().where('id', '=', 'usr_1').limit(1).executeTakeFirstOrThrow();
      const inRetried = (on: Kysely<Database>) => on.selectFrom('humans').selectAll().where('id', '=', 'usr_1').orderBy('id').executeTakeFirstOrThrow();
      const extra = (row: object) => (row as Record<string, unknown>).extra;
      try {
        for (const read of [alone, unretried, inRetried]) await read(db);
        assert.equal((await preparedOn(db)).length, 3);
        await sql`alter table humans add column extra text default 'added'`.execute(store.raw.db);
        assert.equal(extra(await alone(db)), 'added', 'outside a transaction: run again at once, unnamed');
        await assert.rejects(db.transaction().execute(unretried), (error) => isStalePlan(error), 'inside one: the transaction fails');
        assert.equal(extra(await retried(() => db.transaction().execute(inRetried))), 'added', 'retried runs it again, unnamed');
        assert.equal(extra(await db.transaction().execute(unretried)), 'added', 'from then on unnamed');
      } finally {
        await db.destroy();
      }
    });
  });

  test('prepared statements: a parameter that cannot be serialized fails its query only; the text then runs unnamed', async () => {
    await withStore(async (_store, url) => {
      const db = oneConnection(url);
      const echo = (value: unknown) => sql<{ x: string }>`select ${value}::text as x`.execute(db);
      try {
        assert.equal((await echo('one')).rows[0]!.x, 'one');
        const circular: Record<string, unknown> = {};
        circular.self = circular;
        await assert.rejects(echo(circular), TypeError);
        assert.equal((await echo('two')).rows[0]!.x, 'two', 'the connection and the statement text still work');
      } finally {
        await db.destroy();
      }
    });
  });

  test('group commit: a failing statement fails every caller of its batch, and none of the batch is stored', async () => {
    await withStore(async (store) => {
      const batch = createGroupCommit(store.raw.db);
      const insert = (id: string) => batch({ order: id, run: (trx) => trx.insertInto('replay_cache').values({ namespace: 'gc', id, expires_at: 10 }).execute() });
      const failing = batch({ order: 'b', run: async (trx) => void (await sql`select 1 / 0`.execute(trx)) });
      const outcomes = await Promise.allSettled([insert('a'), failing, insert('c')]);
      assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected', 'rejected']);
      assert.match(String((outcomes[0] as PromiseRejectedResult).reason), /division by zero/);
      assert.deepEqual(await store.raw.db.selectFrom('replay_cache').select('id').where('namespace', '=', 'gc').execute(), []);
      assert.equal(await store.replay.checkAndInsert('gc', 'a', 10, 0), true, 'the next batch works');
    });
  });

  test('closing and reopening the subscription while the LISTEN connection is still connecting leaves one live listener, unharmed by the old one', async () => {
    // Review finding 9: a stale client's 'end' or 'error' must not tear down the current one (nor crash the process).
    const database = await freshDatabase();
    const a = await createPostgresStore({ url: database.url, poolSize: 2 });
    const b = await createPostgresStore({ url: database.url, poolSize: 2 });
    const errors: string[] = [];
    const received: string[] = [];
    const options = { pollIntervalMs: 60_000, onError: (e: Error) => void errors.push(e.message) };
    let subscription = b.changes.subscribe!((change) => void received.push(change.key), options);
    try {
      for (let i = 0; i < 20; i++) {
        await subscription.close();
        subscription = b.changes.subscribe!((change) => void received.push(change.key), options);
        if (i % 4 === 3) await new Promise((resolve) => setTimeout(resolve, i)); // some connects get further than others
      }
      await waitFor(async () => (await listeners(a)) === 1);
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // the old clients' ends arrive meanwhile
      assert.equal(await listeners(a), 1, 'the current listener is still there');
      await a.changes.publish('token.revoked', 'pushed', 1);
      await waitFor(async () => received.includes('pushed'), 2_000);
      assert.deepEqual(errors, []);
    } finally {
      await subscription.close();
      await Promise.all([a.close(), b.close()]);
      await database.drop();
    }
  });

  test('revocations by mandate and by agent whose scans meet the shared tokens in opposite orders never deadlock (40 rounds)', async () => {
    // Review finding 6. Store a scans sequentially (physical order), store b through the agent
    // index (the order rows were inserted in): a HOT update moves a mandate's first tokens behind
    // the others physically, so without one lock order a locks c2→c1 while b locks c1→c2 (40P01).
    const database = await freshDatabase();
    const withSettings = (settings: string) => `${database.url}?options=${encodeURIComponent(settings)}`;
    const a = await createPostgresStore({ url: withSettings('-c enable_indexscan=off -c enable_bitmapscan=off'), poolSize: 4 });
    const b = await createPostgresStore({ url: withSettings('-c enable_seqscan=off'), poolSize: 4 });
    try {
      assert.deepEqual(await revocationRaces(a, b, 40), []);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await database.drop();
    }
  });

  test('a bad URL or an unreachable server fails the open', async () => {
    await assert.rejects(createPostgresStore({ url: cluster.urlFor('no_such_database') }), /no_such_database/);
    await assert.rejects(createPostgresStore({ url: `postgres://postgres@127.0.0.1:1/x` }), /ECONNREFUSED/);
  });
});

async function listeners(store: PostgresStore): Promise<number> {
  const rows = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where query ilike 'listen %' and datname = current_database()`.execute(store.raw.db);
  return rows.rows[0]?.n ?? 0;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Each round: 4 agents, each with a mandate of 30 tokens (the first half moved behind the rest physically); `a` revokes the mandates while `b` revokes the agents' tokens. Returns the failures. */
async function revocationRaces(a: PostgresStore, b: PostgresStore, rounds: number): Promise<string[]> {
  const at = 1_700_000_900_000;
  const append = { chain: 'main', time: at, seal: () => 'sealed' };
  const failures: string[] = [];
  await a.humans.insert(aHuman(1));
  for (let round = 1; round <= rounds; round++) {
    const ns = [1, 2, 3, 4].map((i) => 10 * round + i);
    for (const n of ns) {
      await a.agents.insert(anAgent(n, ['usr_1']));
      await a.mandates.insert(aMandate(n, `agt_${n}`, 'usr_1', { status: 'active' }));
      await a.raw.db.insertInto('credentials').values(Array.from({ length: 30 }, (_, k) => aCredential(`jti-${n}-${k + 10}`, `agt_${n}`, `mdt_${n}`))
        .map((c) => ({ jti: c.jti, mandate_id: c.mandateId, agent_id: c.agentId, subject: c.subject, audience: c.audience, jkt: c.jkt, issued_at: c.issuedAt, expires_at: c.expiresAt, revoked_at: null }))).execute();
      await sql`update credentials set audience = 'moved' where mandate_id = ${`mdt_${n}`} and jti < ${`jti-${n}-25`}`.execute(a.raw.db);
    }
    const writes = ns.flatMap((n) => [
      a.changes.commitRevocation!({
        mandate: { id: `mdt_${n}`, from: ['active'], patch: { status: 'revoked', endedAt: at, endReason: 'test' } },
        credentials: { mandateId: `mdt_${n}` }, change: { topic: 'mandate.revoked', key: `mdt_${n}`, at },
      }, append, () => [{ type: 'mandate.revoked', actor: 'usr_1', mandateId: `mdt_${n}` }]),
      b.changes.commitRevocation!({ credentials: { agentId: `agt_${n}` }, change: { topic: 'agent.suspended', key: `agt_${n}`, at } }, append, () => []),
    ]);
    for (const outcome of await Promise.allSettled(writes)) if (outcome.status === 'rejected') failures.push(`round ${round}: ${String((outcome.reason as Error).message)}`);
    const live = await sql<{ n: number }>`select count(*)::int as n from credentials where revoked_at is null`.execute(a.raw.db);
    if (live.rows[0]!.n !== 0) failures.push(`round ${round}: ${live.rows[0]!.n} tokens left live`);
  }
  return failures;
}
