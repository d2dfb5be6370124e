import { join } from 'node:path';
import type { Config } from '../config/load.ts';
import type { Store } from '../ports/store.ts';
import { createPostgresStore } from './postgres/index.ts';
import { createSqliteStore } from './sqlite/index.ts';

/** The embedded store's file in the data directory. */
export const STORE_FILE = 'mandate.db';

export interface OpenStoreOptions {
  /** Open without migrating and refuse writes (offline `audit verify`, `audit tail`). */
  readonly?: boolean;
}

/**
 * The store the config names: PostgreSQL when `store.url` is set (docs/deployment.md), else the
 * embedded SQLite file in the data directory (the default).
 *
 * @example
 * const store = await createStore(loadConfig({ env: process.env }));
 */
export async function createStore(config: Config, options: OpenStoreOptions = {}): Promise<Store> {
  const { url, poolSize, preparedStatements, synchronous, mmapSizeMb } = config.store;
  if (url !== undefined) return createPostgresStore({ url, poolSize, preparedStatements, readonly: options.readonly ?? false });
  return createSqliteStore({ path: join(config.dataDir, STORE_FILE), synchronous, mmapSizeMb, readonly: options.readonly ?? false });
}
