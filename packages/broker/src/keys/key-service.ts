import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { thumbprint } from '../proof/jwk-thumbprint.ts';
import { MandateError } from '../core/errors.ts';
import type { KeyRecord, PublicJwk } from '../core/model.ts';
import type { Clock } from '../ports/clock.ts';
import type { KeyStore } from '../ports/key-store.ts';
import { privateKeyFromJwk, publicKeyFromJwk, signCompact } from './jws.ts';

export interface KeyServiceOptions {
  store: KeyStore;
  clock: Clock;
  /** How long a new key is published before it signs (ms). */
  activationDelay: number;
  /** How long a replaced key stays published after its successor activates (ms). */
  overlap: number;
}

export interface SigningKey {
  kid: string;
  key: KeyObject;
}

/**
 * Broker signing keys. All records are held in memory (a handful of keys); `reload` refreshes
 * them after a rotation elsewhere. PROTOCOL §7: a new key is published before it signs, and a
 * replaced key stays published for at least the longest token lifetime.
 */
export interface KeyService {
  /** Creates the first key when the store has none. Returns true when it did. */
  ensureKey(): Promise<boolean>;
  reload(): Promise<void>;
  rotate(): Promise<KeyRecord>;
  /** The newest key whose activation time has come. */
  signingKey(): SigningKey;
  /** Public JWKs of every key not yet retired (RFC 7517 set). */
  publishedJwks(): { keys: PublicJwk[] };
  /** Public key by kid for any key ever created (audit heads outlive key retirement). */
  verificationKey(kid: string): KeyObject | null;
  sign(header: Record<string, unknown>, payload: Record<string, unknown>): string;
}

export function createKeyService(options: KeyServiceOptions): KeyService {
  let records: KeyRecord[] = [];
  const privateKeys = new Map<string, KeyObject>();
  const publicKeys = new Map<string, KeyObject>();

  const reload = async () => {
    records = await options.store.list();
  };
  const privateKeyOf = (record: KeyRecord) => cached(privateKeys, record.kid, () => privateKeyFromJwk(record.privateJwk));

  const signingKey = (): SigningKey => {
    const now = options.clock.now();
    const active = records.filter((r) => r.activatesAt <= now && (r.retiresAt === null || r.retiresAt > now));
    const newest = active.reduce<KeyRecord | undefined>((best, r) => (!best || r.activatesAt >= best.activatesAt ? r : best), undefined);
    if (!newest) throw new MandateError('ERR_KEYS_NO_SIGNING_KEY', 'no active signing key');
    return { kid: newest.kid, key: privateKeyOf(newest) };
  };

  return {
    async ensureKey() {
      await reload();
      if (records.length > 0) return false;
      await options.store.insert(generateKeyRecord(options.clock.now(), 0));
      await reload();
      return true;
    },
    reload,
    async rotate() {
      const record = generateKeyRecord(options.clock.now(), options.activationDelay);
      await options.store.insert(record);
      await options.store.scheduleRetirement(record.activatesAt + options.overlap, record.kid);
      await reload();
      return record;
    },
    signingKey,
    publishedJwks() {
      const now = options.clock.now();
      return { keys: records.filter((r) => r.retiresAt === null || r.retiresAt > now).map((r) => r.publicJwk) };
    },
    verificationKey(kid) {
      const record = records.find((r) => r.kid === kid);
      return record ? cached(publicKeys, kid, () => publicKeyFromJwk(record.publicJwk)) : null;
    },
    sign(header, payload) {
      const { kid, key } = signingKey();
      return signCompact({ ...header, kid }, payload, key);
    },
  };
}

function generateKeyRecord(now: number, activationDelay: number): KeyRecord {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' }) as { kty: string; crv: string; x: string; y: string; d: string };
  const kid = thumbprint(jwk);
  const publicJwk: PublicJwk = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid, alg: 'ES256', use: 'sig' };
  return { kid, alg: 'ES256', publicJwk, privateJwk: { ...publicJwk, d: jwk.d }, createdAt: now, activatesAt: now + activationDelay, retiresAt: null };
}

function cached<T>(map: Map<string, T>, key: string, make: () => T): T {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = make()));
  return value;
}
