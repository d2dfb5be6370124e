/**
 * Builds the scale bench's store: a real data directory (scale-data-dir.ts: the broker's own
 * migrations, signing key, bootstrap human and admin token, dated at the start of the span), then
 * humans, agents and the audit history bulk-inserted with better-sqlite3 prepared statements in
 * large transactions, each chain linked and hashed by the broker's own `linkEvents` (PROTOCOL §9),
 * and the chain heads sealed with the broker's key. Bench setup, not the product path: during the load the journal and
 * fsync are off and the secondary indexes are dropped and then recreated from their migration SQL.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { STORE_FILE } from '../packages/broker/src/app.ts';
import { hashedContent, linkEvents, type ChainHead } from '../packages/broker/src/core/audit-chain.ts';
import { nodeChainHashing } from '../packages/broker/src/store/chain-hashing.ts';
import { bootstrap, flushToDisk, sealHeads, type Heads } from './scale-data-dir.ts';
import { agentCreatedAt, auditStream, CHAINS, ownerOf, type StreamPlan, type StreamSamples } from './scale-events.ts';
import { agentRows, humanRow } from './scale-rows.ts';

const DAY_MS = 86_400_000;
const SPAN_DAYS = 30;
const BATCH = 100_000;

export interface ScaleSizes {
  agents: number;
  events: number;
  /** Mandate ids and jtis kept for the lookups. */
  sampleSize: number;
}

export interface BuildFigures {
  seconds: number;
  phases: Record<'bootstrap' | 'directory' | 'events' | 'indexes' | 'seal' | 'flush', number>;
  agents: number;
  humans: number;
  events: number;
  chains: number;
  spanDays: number;
  /** Mean stored bytes per audit row (column values; SQLite adds a few bytes of record header). */
  avgEventRowBytes: number;
  dbBytes: number;
}

export interface BuiltStore {
  dbPath: string;
  plan: StreamPlan;
  samples: StreamSamples;
  figures: BuildFigures;
}

const seconds = (t0: number) => (performance.now() - t0) / 1000;

/** Humans per agent count: 1,000 for a million agents, at least 10. */
export const humansFor = (agents: number): number => Math.max(10, Math.min(1_000, Math.floor(agents / 1_000)));

export interface BuildControl {
  /** performance.now() time after which the event load gives up. */
  deadlineMs: number;
  /** Checked between batches (the event loop gets a turn there, so SIGINT is seen). */
  signal?: AbortSignal;
  log: (line: string) => void;
}

/**
 * Builds the store in `dataDir`.
 *
 * @example
 * const built = await buildScaleStore('/tmp/scale/data', { agents: 1e6, events: 1e7, sampleSize: 5_000 }, { deadlineMs: performance.now() + 3_600_000, log: console.error });
 */
export async function buildScaleStore(dataDir: string, sizes: ScaleSizes, control: BuildControl): Promise<BuiltStore> {
  const { log } = control;
  const spanEnd = Date.now();
  const plan: StreamPlan = { agents: sizes.agents, humans: humansFor(sizes.agents), events: sizes.events, spanStart: spanEnd - SPAN_DAYS * DAY_MS, spanEnd, sampleSize: sizes.sampleSize };
  const dbPath = join(dataDir, STORE_FILE);
  const samples: StreamSamples = { mandateIds: [], jtis: [] };
  const phases = { bootstrap: 0, directory: 0, events: 0, indexes: 0, seal: 0, flush: 0 };
  const t0 = performance.now();
  let t = t0;
  const lap = (phase: keyof typeof phases) => { phases[phase] = seconds(t); t = performance.now(); log(`  ${phase}: ${phases[phase].toFixed(1)} s`); };
  await bootstrap(dataDir, plan.spanStart);
  lap('bootstrap');
  const db = openForLoad(dbPath);
  let load: { heads: Heads; bytes: number };
  try {
    const indexes = dropSecondaryIndexes(db);
    await insertDirectory(db, plan, control);
    lap('directory');
    load = await insertEvents(db, plan, samples, control);
    lap('events');
    for (const sql of indexes) {
      control.signal?.throwIfAborted();
      db.exec(sql);
    }
    lap('indexes');
    db.pragma('journal_mode = WAL');
  } finally {
    db.close();
  }
  await sealHeads(dataDir, load.heads, plan.spanEnd);
  lap('seal');
  flushToDisk(dbPath);
  lap('flush');
  const dbBytes = statSync(dbPath).size;
  return {
    dbPath, plan, samples,
    figures: { seconds: seconds(t0), phases, agents: plan.agents, humans: plan.humans, events: plan.events, chains: CHAINS.length, spanDays: SPAN_DAYS, avgEventRowBytes: load.bytes / plan.events, dbBytes },
  };
}

function openForLoad(dbPath: string): Sqlite.Database {
  const db = new Sqlite(dbPath, { fileMustExist: true });
  // A throwaway bench database: no journal, no fsync, a large page cache and in-memory sorts.
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -524288');
  db.pragma('temp_store = MEMORY');
  return db;
}

/** Drops the indexes the migrations created on the bulk tables; returns their SQL to recreate them. */
function dropSecondaryIndexes(db: Sqlite.Database): string[] {
  const rows = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('audit_events', 'agents', 'agent_humans')").all() as { name: string; sql: string }[];
  for (const row of rows) db.exec(`DROP INDEX "${row.name}"`);
  return rows.map((row) => row.sql);
}

/** Lets the event loop run (signal handlers), then stops if the run was interrupted. */
async function breathe(control: BuildControl): Promise<void> {
  await new Promise(setImmediate);
  control.signal?.throwIfAborted();
}

/** Runs `body(i)` for i in [0, count) in transactions of BATCH. */
async function inBatches(db: Sqlite.Database, count: number, control: BuildControl, body: (i: number) => void): Promise<void> {
  for (let start = 0; start < count; start += BATCH) {
    db.transaction(() => {
      for (let i = start; i < Math.min(count, start + BATCH); i++) body(i);
    })();
    await breathe(control);
  }
}

async function insertDirectory(db: Sqlite.Database, plan: StreamPlan, control: BuildControl): Promise<void> {
  const human = db.prepare('INSERT INTO humans (id, name, email, status, created_at, disabled_at) VALUES (@id, @name, @email, @status, @created_at, @disabled_at)');
  const agent = db.prepare('INSERT INTO agents (id, name, kind, status, policy, jwk, jwk_thumbprint, review_due_at, created_at, last_seen_at) VALUES (@id, @name, @kind, @status, @policy, @jwk, @jwk_thumbprint, @review_due_at, @created_at, @last_seen_at)');
  const link = db.prepare('INSERT INTO agent_humans (agent_id, human_id, role, position) VALUES (@agent_id, @human_id, @role, @position)');
  // After the bootstrap human (created at spanStart): it stays the first listed human.
  await inBatches(db, plan.humans, control, (i) => human.run(humanRow(i, plan.spanStart + 1 + i)));
  await inBatches(db, plan.agents, control, (i) => {
    const rows = agentRows(i, ownerOf(plan, i), agentCreatedAt(plan, i));
    agent.run(rows.agent);
    for (const l of rows.links) link.run(l);
  });
}

async function insertEvents(db: Sqlite.Database, plan: StreamPlan, samples: StreamSamples, control: BuildControl) {
  const columns = ['chain', 'seq', 'time', 'type', 'actor', 'approver', 'mandate_id', 'jti', 'evidence_digest', 'request_id', 'data', 'prev_hash', 'hash'] as const;
  // Positional parameters: named ones cost ~40% more per row in better-sqlite3.
  const insert = db.prepare(`INSERT INTO audit_events (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
  const heads: Heads = new Map();
  for (const row of db.prepare('SELECT chain, seq, hash FROM audit_heads').all() as ChainHead[]) heads.set(row.chain, { ...row, time: plan.spanStart });
  const stream = auditStream(plan, samples);
  let done = 0;
  let bytes = 0;
  const t0 = performance.now();
  const batch = db.transaction(() => {
    for (let n = 0; n < BATCH; ) {
      const next = stream.next();
      if (next.done) return false;
      const { chain, time, inputs } = next.value;
      const records = linkEvents(chain, heads.get(chain) ?? null, inputs, time, nodeChainHashing);
      for (const record of records) {
        const { data, ...content } = hashedContent(record);
        const row: Record<string, unknown> = { ...content, data: JSON.stringify(data), hash: record.hash };
        const values = columns.map((column) => row[column]);
        insert.run(values);
        bytes += rowBytes(values);
      }
      const last = records[records.length - 1]!;
      heads.set(chain, { chain, seq: last.seq, hash: last.hash, time });
      n += records.length;
      done += records.length;
    }
    return true;
  });
  while (batch()) {
    if (done % 1_000_000 < BATCH) control.log(`  ${done.toLocaleString('en')} events, ${(done / seconds(t0)).toFixed(0)}/s`);
    if (performance.now() > control.deadlineMs) throw new Error(`event load passed its time limit after ${done} events`);
    await breathe(control);
  }
  return { heads, bytes };
}

const rowBytes = (values: unknown[]) =>
  values.reduce<number>((sum, v) => sum + (typeof v === 'string' ? Buffer.byteLength(v) : v === null ? 0 : 8), 0);
