import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyService, type KeyService } from '../keys/key-service.ts';
import type { AuditLog } from '../ports/audit-log.ts';
import type { Clock } from '../ports/clock.ts';
import { nodeChainHashing } from '../store/chain-hashing.ts';
import { createSqliteStore, type SqliteStore } from '../store/sqlite/index.ts';
import { createAuditLog, type AuditLogOptions } from './audit-service.ts';
import { verifyAudit, type AuditReport, type VerifyAuditOptions } from './verify.ts';

/** Test support: a real SQLite store, a real key and an audit log on a temp data directory. */
export interface AuditFixture {
  dir: string;
  /** Laid out as `mandate serve` does: `<dir>/mandate.db`, `<dir>/audit-checkpoints.jsonl`. */
  checkpointFile: string;
  store: SqliteStore;
  keys: KeyService;
  clock: Clock;
  audit: AuditLog;
  /** `count` record calls of one `token.issued` event each. */
  recordEvents(count: number): Promise<void>;
  verify(overrides?: Partial<VerifyAuditOptions>): Promise<AuditReport>;
  /** Runs SQL on the raw connection, as an attacker with file access would. */
  sql(text: string, ...params: unknown[]): void;
  close(): Promise<void>;
}

export const FIXTURE_ISSUER = 'https://broker.test';

export async function createAuditFixture(overrides: Partial<AuditLogOptions> = {}): Promise<AuditFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-audit-'));
  const checkpointFile = join(dir, 'audit-checkpoints.jsonl');
  const store = await createSqliteStore({ path: join(dir, 'mandate.db') });
  let now = Date.UTC(2025, 0, 1);
  const clock: Clock = { now: () => (now += 1000) };
  const keys = createKeyService({ store: store.keys, clock, activationDelay: 0, overlap: 3_600_000 });
  await keys.ensureKey();
  const audit = createAuditLog({ sink: store.audit, keys, clock, chain: 'main', issuer: FIXTURE_ISSUER, checkpointFile, ...overrides });
  let recorded = 0;
  return {
    dir, checkpointFile, store, keys, clock, audit,
    async recordEvents(count) {
      for (let i = 0; i < count; i += 1, recorded += 1)
        await audit.record({ type: 'token.issued', actor: 'agt_1', approver: 'hum_1', mandateId: 'mdt_1', jti: `jti-${recorded}`, requestId: `req-${recorded}`, data: { n: recorded } });
    },
    verify: (more = {}) => verifyAudit({ sink: store.audit, keys, checkpointFile, hashing: nodeChainHashing, ...more }),
    sql: (text, ...params) => void store.raw.raw.prepare(text).run(...params),
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `code@seq` of each fault, for exact comparisons. */
export const faultKeys = (report: AuditReport): string[] => report.faults.map((f) => (f.seq === undefined ? f.code : `${f.code}@${f.seq}`));
