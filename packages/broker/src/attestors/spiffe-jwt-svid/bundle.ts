import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { JWK } from 'jose';

/** A trust domain's SPIFFE bundle, reduced to what JWT-SVID validation needs. */
export interface SpiffeBundle {
  /** Keys by `kid`; one kid may name keys of several uses (Trust Domain and Bundle §4.2.2). */
  keysById: ReadonlyMap<string, readonly JWK[]>;
  /** `spiffe_sequence` (§4.1.1): increases with every change. */
  sequence?: number;
  /** `spiffe_refresh_hint` (§4.1.2) in ms. */
  refreshHintMs?: number;
}

/** Reads the bundle text from its source: a file or a bundle endpoint. */
export type BundleLoader = () => Promise<string>;

/** The bundle could not be read or is not a SPIFFE bundle: a fault of the trust source, not of the evidence. */
export class BundleUnavailableError extends Error {
  override readonly name = 'BundleUnavailableError';
}

export const MAX_BUNDLE_BYTES = 1_048_576;
const MAX_KEYS = 1024;
const FETCH_TIMEOUT_MS = 5000;

/**
 * Parses a SPIFFE bundle (an RFC 7517 JWK set, Trust Domain and Bundle §4). Keys without `kid`,
 * `use` or `kty` are dropped: they cannot be named by a JWT-SVID header.
 *
 * @example
 * const bundle = parseBundle(readFileSync('bundle.json', 'utf8'));
 * bundle.keysById.get('Xq3…')?.find((k) => k.use === 'jwt-svid');
 */
export function parseBundle(text: string): SpiffeBundle {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BundleUnavailableError('the bundle is not JSON');
  }
  const set = value as { keys?: unknown; spiffe_sequence?: unknown; spiffe_refresh_hint?: unknown } | null;
  if (typeof set !== 'object' || set === null || !Array.isArray(set.keys)) throw new BundleUnavailableError('the bundle is not a JWK set (no "keys" array)');
  if (set.keys.length > MAX_KEYS) throw new BundleUnavailableError(`the bundle holds more than ${MAX_KEYS} keys`);
  return { keysById: indexKeys(set.keys), ...optionalInteger('sequence', set.spiffe_sequence, 1), ...optionalInteger('refreshHintMs', set.spiffe_refresh_hint, 1000) };
}

function indexKeys(keys: readonly unknown[]): Map<string, JWK[]> {
  const byId = new Map<string, JWK[]>();
  for (const key of keys) {
    const jwk = key as JWK | null;
    if (typeof jwk !== 'object' || jwk === null || typeof jwk.kid !== 'string' || typeof jwk.use !== 'string' || typeof jwk.kty !== 'string') continue;
    byId.set(jwk.kid, [...(byId.get(jwk.kid) ?? []), jwk]);
  }
  return byId;
}

function optionalInteger(name: 'sequence' | 'refreshHintMs', value: unknown, scale: number): Record<string, number> {
  return Number.isSafeInteger(value) && (value as number) >= 0 ? { [name]: (value as number) * scale } : {};
}

/**
 * Reads a bundle file once, synchronously: at start-up, so a missing or broken file is a config error.
 *
 * @example
 * const initial = readBundleFileSync('/etc/mandate/prod.acme.internal.bundle.json');
 */
export function readBundleFileSync(path: string): SpiffeBundle {
  return parseBundle(readFileSync(path, 'utf8'));
}

/**
 * A loader re-reading a bundle file (e.g. kept current by `spire-server bundle show -format spiffe`).
 *
 * @example
 * const load = fileLoader('/etc/mandate/prod.acme.internal.bundle.json');
 */
export function fileLoader(path: string): BundleLoader {
  return async () => {
    const file = await open(path, 'r').catch((error: Error) => {
      throw new BundleUnavailableError(`${path} could not be read: ${error.message}`);
    });
    try {
      const { bytesRead, buffer } = await file.read(Buffer.alloc(MAX_BUNDLE_BYTES + 1), 0, MAX_BUNDLE_BYTES + 1, 0);
      if (bytesRead > MAX_BUNDLE_BYTES) throw new BundleUnavailableError(`${path} is larger than ${MAX_BUNDLE_BYTES} bytes`);
      return buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await file.close();
    }
  };
}

/**
 * A loader for a bundle endpoint, https_web profile (Trust Domain and Bundle §5.2.1): the TLS
 * server certificate is checked against the web PKI by `fetch`; no redirects are followed.
 *
 * @example
 * const load = endpointLoader('https://spire.acme.example/bundle');
 */
export function endpointLoader(url: string): BundleLoader {
  return async () => {
    try {
      const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } });
      if (response.status !== 200) throw new BundleUnavailableError(`${url} answered ${response.status}`);
      return await readLimited(response, url);
    } catch (error) {
      if (error instanceof BundleUnavailableError) throw error;
      throw new BundleUnavailableError(`${url} could not be fetched: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
}

async function readLimited(response: Response, url: string): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_BUNDLE_BYTES) throw new BundleUnavailableError(`${url} sent more than ${MAX_BUNDLE_BYTES} bytes`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.byteLength;
    if (size > MAX_BUNDLE_BYTES) throw new BundleUnavailableError(`${url} sent more than ${MAX_BUNDLE_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
