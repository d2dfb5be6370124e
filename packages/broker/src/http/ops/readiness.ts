import type { KeyService } from '../../keys/key-service.ts';
import type { Store } from '../../ports/store.ts';
import type { ServingState } from './serving.ts';

export type CheckName = 'store' | 'keys' | 'migrations' | 'shutdown';
export type CheckResult = 'ok' | 'fail' | 'not_checked';

export interface Readiness {
  ready: boolean;
  checks: Record<CheckName, CheckResult>;
  /** One sentence per failing check, for the problem's `detail` and the log. */
  failures: string[];
}

export interface ReadinessDeps {
  store: Pick<Store, 'ping' | 'migrationStatus' | 'changes'>;
  keys: Pick<KeyService, 'signingKey'>;
  serving: Pick<ServingState, 'draining'>;
  /** A store slower than this counts as unreachable. */
  timeoutMs: number;
}

/**
 * Ready = not draining, the store answers a cheap query, an active signing key is loaded, and
 * every migration this version knows is applied. Migrations applied by a newer version are
 * tolerated (expand-only schema changes let old and new replicas share a store during a roll).
 */
export async function checkReadiness(deps: ReadinessDeps): Promise<Readiness> {
  const failures: string[] = [];
  const checks: Record<CheckName, CheckResult> = { shutdown: 'ok', store: 'ok', keys: 'ok', migrations: 'ok' };
  const fail = (name: CheckName, why: string) => {
    checks[name] = 'fail';
    failures.push(`${name}: ${why}`);
  };
  if (deps.serving.draining) fail('shutdown', 'the process is shutting down');
  if (!(await withTimeout(pingStore(deps.store), deps.timeoutMs))) fail('store', 'the store does not answer');
  if (!hasSigningKey(deps.keys)) fail('keys', 'no active signing key is loaded');
  checks.migrations = checks.store === 'fail' ? 'not_checked' : await checkMigrations(deps, fail);
  return { ready: failures.length === 0, checks, failures };
}

async function pingStore(store: ReadinessDeps['store']): Promise<true> {
  // Adapters without ping: the change feed's newest cursor is a one-row indexed read.
  await (store.ping ? store.ping() : store.changes.latest());
  return true;
}

function hasSigningKey(keys: ReadinessDeps['keys']): boolean {
  try {
    keys.signingKey();
    return true;
  } catch {
    return false;
  }
}

async function checkMigrations(deps: ReadinessDeps, fail: (name: CheckName, why: string) => void): Promise<CheckResult> {
  if (!deps.store.migrationStatus) return 'not_checked';
  const status = await withTimeout(deps.store.migrationStatus(), deps.timeoutMs);
  if (status === null) fail('migrations', 'the migration list could not be read');
  else if (status.pending.length > 0) fail('migrations', `not applied: ${status.pending.join(', ')}`);
  return status !== null && status.pending.length === 0 ? 'ok' : 'fail';
}

/** The value, or null when `work` rejects or takes longer than `ms`. */
async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  try {
    return await Promise.race([work, timeout]);
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}
