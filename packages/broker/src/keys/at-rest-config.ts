import { ConfigError, type Config } from '../config/load.ts';
import { isMandateError } from '../core/errors.ts';
import type { Store } from '../ports/store.ts';
import { parseWrappingKey, type WrappingKey } from './at-rest.ts';
import { resealAtRest, sealKeyStore, sealSecretStore, type AtRestKeys, type ResealReport } from './at-rest-store.ts';

type Env = Record<string, string | undefined>;

/** The wrapping keys the config names, read from the environment; a bad one fails like bad config. */
export function readAtRestKeys(keys: Config['keys'], env: Env): AtRestKeys {
  return { current: wrappingKeyAt('encryptionKeyEnv', keys.encryptionKeyEnv, env), previous: wrappingKeyAt('previousEncryptionKeyEnv', keys.previousEncryptionKeyEnv, env) };
}

function wrappingKeyAt(member: string, name: string | undefined, env: Env): WrappingKey | null {
  if (name === undefined) return null;
  const value = env[name];
  const path = `keys.${member}`;
  if (value === undefined || value === '') throw new ConfigError([{ path, message: `the environment variable ${name} is not set` }]);
  const key = parseWrappingKey(value);
  // The message names the variable only: never a byte of what it holds.
  if (!key) throw new ConfigError([{ path, message: `${name} must hold 32 random bytes, base64url without padding (43 characters; e.g. openssl rand 32 | basenc --base64url | tr -d =)` }]);
  return key;
}

/**
 * Seals (or unseals) what the store holds to match the config, then puts the sealing wrappers in
 * front of `store.keys` and `store.secrets`, so everything after this reads and writes through
 * them. A value no configured key opens stops the start with a dotted path, and the store is closed.
 */
export async function protectAtRest(store: Store, config: Config, env: Env): Promise<ResealReport> {
  try {
    const keys = readAtRestKeys(config.keys, env);
    const report = await resealAtRest(store, keys);
    // The old plaintext (or the old wrapping key's values) must not linger in the engine's files.
    if (report.keys + report.secrets > 0 && store.scrubRewritten) report.residue = !(await store.scrubRewritten());
    store.keys = sealKeyStore(store.keys, keys);
    store.secrets = sealSecretStore(store.secrets, keys);
    return report;
  } catch (error) {
    await store.close().catch(() => undefined);
    if (isMandateError(error)) throw new ConfigError([{ path: 'keys.encryptionKeyEnv', message: `${error.message} (${error.code})` }]);
    throw error;
  }
}
