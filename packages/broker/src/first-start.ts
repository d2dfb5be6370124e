import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from './app.ts';

export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * On the very first start (no human exists yet) creates the bootstrap human and an admin token
 * for them, written to `<dataDir>/admin-token` with mode 0600. Never runs again, even if that
 * file is deleted later: a lost token is replaced by `mandate token create`, not by a restart.
 */
export async function bootstrapFirstStart(app: App): Promise<boolean> {
  if ((await app.store.humans.list()).length > 0) return false;
  const { secret } = await app.adminTokens.bootstrap(app.config.bootstrap.adminName);
  writeFileSync(join(app.config.dataDir, ADMIN_TOKEN_FILE), `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return true;
}
