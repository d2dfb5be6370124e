/**
 * The broker's own parts of the scale bench's data directory: first start (migrations, signing
 * key, bootstrap human, admin token), sealing the chain heads after the bulk load, and flushing.
 */
import { appendFileSync, closeSync, fsyncSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { createApp, STORE_FILE } from '../packages/broker/src/app.ts';
import { sealHead } from '../packages/broker/src/audit/audit-service.ts';
import { loadConfig } from '../packages/broker/src/config/load.ts';
import type { ChainHead } from '../packages/broker/src/core/audit-chain.ts';
import { bootstrapFirstStart } from '../packages/broker/src/first-start.ts';

/** Each chain's last event, with its time (the seal's `time`). */
export type Heads = Map<string, ChainHead & { time: number }>;

const configFor = (dataDir: string) => loadConfig({ flags: { data: dataDir, logLevel: 'silent' }, env: {} });

/** First start as `mandate serve` does it, with the clock at the start of the span. */
export async function bootstrap(dataDir: string, at: number): Promise<void> {
  const app = await createApp(configFor(dataDir), { clock: { now: () => at } });
  try {
    if (!(await bootstrapFirstStart(app))) throw new Error(`${dataDir} already holds a store`);
  } finally {
    await app.close();
  }
}

/** Seals every chain's final head with the broker's key, as a commit would (PROTOCOL §9), and checkpoints it. */
export async function sealHeads(dataDir: string, heads: Heads, at: number): Promise<void> {
  const app = await createApp(configFor(dataDir), { clock: { now: () => at } });
  const db = new Sqlite(join(dataDir, STORE_FILE), { fileMustExist: true });
  try {
    const upsert = db.prepare('INSERT INTO audit_heads (chain, seq, hash, jws) VALUES (?, ?, ?, ?) ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, jws = excluded.jws');
    for (const { chain, seq, hash, time } of heads.values()) {
      const jws = sealHead({ keys: app.keys, issuer: app.config.issuer }, { chain, seq, hash }, time);
      upsert.run(chain, seq, hash, jws);
      appendFileSync(app.config.audit.checkpointFile, `${jws}\n`, { mode: 0o600 });
    }
  } finally {
    db.close();
    await app.close();
  }
}

/**
 * The load ran without fsync, leaving gigabytes of dirty pages to the kernel; measured while they
 * are written back, every fsync of the broker (synchronous=FULL) would queue behind them. Setup
 * ends with the file on disk (its pages stay cached: the store is warm, as a running broker's is).
 */
export function flushToDisk(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
