import { closeSync, constants, fchmodSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
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

/**
 * Durable before the token row commits, power loss included (docs/crash-consistency.md): the secret
 * goes to a fresh temp file, fsynced, renamed over `admin-token`, then the directory is fsynced,
 * because fsync(2) of a file does not make its directory entry durable. O_EXCL|O_NOFOLLOW never
 * opens an existing file or a planted link, and rename(2) replaces a link at `admin-token` itself,
 * never its target. Replaces a file an interrupted first start may have left.
 */
function writeTokenFile(dataDir: string, secret: string): void {
  const final = join(dataDir, ADMIN_TOKEN_FILE);
  const temp = `${final}.tmp`;
  rmSync(temp, { force: true }); // a kill's leftover (or a link): unlinked, never followed
  writeNewFile(temp, `${secret}\n`);
  try {
    renameSync(temp, final);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  syncDirectory(dataDir);
}

const NEW_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

function writeNewFile(path: string, text: string): void {
  const fd = openSync(path, NEW_FILE, 0o600);
  try {
    fchmodSync(fd, 0o600); // whatever the umask
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
