import type { KeyRecord } from '../core/model.ts';
import type { KeyStore } from '../ports/key-store.ts';
import type { SecretStore } from '../ports/secrets.ts';
import { isSealed, open, seal, sealedWith, type WrappingKey } from './at-rest.ts';

/**
 * Sealing above the store port, so SQLite and PostgreSQL get the same bytes (docs/keys-at-rest.md).
 * `current` seals what is written; `current` and `previous` open what is read. A stored private
 * JWK keeps its public members and carries `sealed` instead of `d`.
 */
export interface AtRestKeys {
  current: WrappingKey | null;
  previous: WrappingKey | null;
}

type PrivateJwk = KeyRecord['privateJwk'];
type StoredJwk = Omit<PrivateJwk, 'd'> & { d?: string; sealed?: string };

const openers = (keys: AtRestKeys) => [keys.current, keys.previous].filter((k): k is WrappingKey => k !== null);

/** A value written before sealing was on (or by a replica without it) reads as it is. */
function openJwk(keys: AtRestKeys, kid: string, stored: StoredJwk): PrivateJwk {
  const { sealed, ...rest } = stored;
  if (typeof sealed !== 'string') return stored as PrivateJwk;
  return { ...rest, d: open(openers(keys), 'signing-key', kid, sealed) };
}

function sealJwk(wrapping: WrappingKey, kid: string, jwk: PrivateJwk): PrivateJwk {
  const { d, ...rest } = jwk;
  return { ...rest, sealed: seal(wrapping, 'signing-key', kid, d) } as StoredJwk as PrivateJwk;
}

export function sealKeyStore(inner: KeyStore, keys: AtRestKeys): KeyStore {
  const openRecord = (record: KeyRecord): KeyRecord => ({ ...record, privateJwk: openJwk(keys, record.kid, record.privateJwk) });
  return {
    ...inner,
    insert: (record) => inner.insert(keys.current ? { ...record, privateJwk: sealJwk(keys.current, record.kid, record.privateJwk) } : record),
    list: async () => (await inner.list()).map(openRecord),
    get: async (kid) => {
      const record = await inner.get(kid);
      return record && openRecord(record);
    },
  };
}

export function sealSecretStore(inner: SecretStore, keys: AtRestKeys): SecretStore {
  const read = (name: string, value: string) => (isSealed(value) ? open(openers(keys), 'secret', name, value) : value);
  return {
    ...inner,
    getOrCreate: async (name, fresh, at) => read(name, await inner.getOrCreate(name, keys.current ? seal(keys.current, 'secret', name, fresh) : fresh, at)),
    list: async () => (await inner.list()).map(({ name, value }) => ({ name, value: read(name, value) })),
  };
}

export interface ResealReport {
  keys: number;
  secrets: number;
  /** True when the store could not drop the old copies of what was rewritten (they go at a later checkpoint). */
  residue?: boolean;
}

/**
 * At start, before anything reads them: every stored value not yet in the wanted form (sealed with
 * `current`, or plaintext when it is null) is opened and rewritten, compare-and-set so replicas
 * starting together agree. Opening everything also proves the wrapping keys right before serving.
 */
export async function resealAtRest(raw: { keys: KeyStore; secrets: SecretStore }, keys: AtRestKeys): Promise<ResealReport> {
  const report: ResealReport = { keys: 0, secrets: 0 };
  const wanted = keys.current?.id ?? null;
  for (const record of await raw.keys.list()) {
    const stored = record.privateJwk as StoredJwk;
    const plain = openJwk(keys, record.kid, stored);
    if ((typeof stored.sealed === 'string' ? sealedWith(stored.sealed) : null) === wanted) continue;
    const next = keys.current ? sealJwk(keys.current, record.kid, plain) : plain;
    if (await raw.keys.replacePrivateJwk(record.kid, record.privateJwk, next)) report.keys += 1;
  }
  for (const { name, value } of await raw.secrets.list()) {
    const plain = isSealed(value) ? open(openers(keys), 'secret', name, value) : value;
    if (sealedWith(value) === wanted) continue;
    const next = keys.current ? seal(keys.current, 'secret', name, plain) : plain;
    if (await raw.secrets.replace(name, value, next)) report.secrets += 1;
  }
  return report;
}
