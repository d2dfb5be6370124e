import { closeSync, fchmodSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from './app.ts';

export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * On the very first start (no admin token stored yet) creates the bootstrap human and an admin
 * token for them, written to `<dataDir>/admin-token` with mode 0600. Never runs again once that
 * token is stored, even if the file is deleted later: a lost token is replaced by `mandate token
 * create`, not by a restart. A first start killed half-way (a human stored, no token) runs again on
 * the next start and reuses that human; otherwise nobody could ever administer the broker
 * (docs/crash-consistency.md).
 */
export async function bootstrapFirstStart(app: App): Promise<boolean> {
  if ((await app.store.adminTokens.list()).length > 0) return false;
  // Without a token no one could have added a human: any human here is an interrupted bootstrap's.
  const [resume] = await app.store.humans.list();
  await app.adminTokens.bootstrap(app.config.bootstrap.adminName, { ...(resume ? { resume } : {}), keep: (secret) => writeTokenFile(app.config.dataDir, secret) });
  return true;
}

/** Replaces a file an interrupted first start may have left; durable before the token is stored. */
function writeTokenFile(dataDir: string, secret: string): void {
  const fd = openSync(join(dataDir, ADMIN_TOKEN_FILE), 'w', 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, `${secret}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
