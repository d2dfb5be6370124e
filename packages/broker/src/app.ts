import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createAuditLog } from './audit/audit-service.ts';
import type { Config } from './config/load.ts';
import { createHttpServer } from './http/server.ts';
import { createKeyService, type KeyService } from './keys/key-service.ts';
import type { AuditLog } from './ports/audit-log.ts';
import type { Clock } from './ports/clock.ts';
import type { Random } from './ports/random.ts';
import type { Store } from './ports/store.ts';
import { createAdminTokenService, type AdminTokenService } from './services/admin-tokens.ts';
import { createDirectoryService, type DirectoryService } from './services/directory.ts';
import { createSqliteStore } from './store/sqlite/index.ts';
import { cryptoRandom, systemClock } from './system.ts';

/** The one composition root: the only module that knows every concrete class. */
export interface App {
  config: Config;
  store: Store;
  keys: KeyService;
  audit: AuditLog;
  directory: DirectoryService;
  adminTokens: AdminTokenService;
  http: FastifyInstance;
  close(): Promise<void>;
}

export interface AppOverrides {
  clock?: Clock;
  random?: Random;
}

export const STORE_FILE = 'mandate.db';

export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const clock = overrides.clock ?? systemClock;
  const random = overrides.random ?? cryptoRandom;
  prepareDataDir(config.dataDir);
  const store = await createSqliteStore({ path: join(config.dataDir, STORE_FILE), synchronous: config.store.synchronous });
  const keys = createKeyService({ store: store.keys, clock, activationDelay: config.keys.activationDelay, overlap: config.keys.overlap });
  await keys.ensureKey();
  const audit = createAuditLog({ sink: store.audit, keys, clock, chain: config.audit.chain, issuer: config.issuer, checkpointFile: config.audit.checkpointFile });
  const directory = createDirectoryService({ store, audit, clock, random, policies: config.attestation.policies });
  const adminTokens = createAdminTokenService({ store, audit, clock, random });
  const http = await createHttpServer({ config, store, keys, audit, directory, adminTokens, clock, random });
  return {
    config, store, keys, audit, directory, adminTokens, http,
    async close() {
      await http.close();
      await store.close();
    },
  };
}

/** The data directory holds keys and the admin token: owner-only (0700, files 0600). */
function prepareDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}
