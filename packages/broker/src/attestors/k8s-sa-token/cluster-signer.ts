import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JSONWebKeySet } from 'jose';

/**
 * Test and benchmark support: a cluster's service-account token signer with keys generated at run
 * time, minting tokens shaped as kube-apiserver ≥ 1.30 issues them for a TokenRequest bound to a
 * pod. Nothing is pasted.
 */
export interface ClusterSigner {
  issuer: string;
  /** The public keys, as `/openid/v1/jwks` serves them. */
  jwks: JSONWebKeySet;
  sign(options?: TokenOptions): Promise<string>;
}

export interface TokenOptions {
  /** `aud`, a list as the API server writes it; default the API server's own audience (the issuer). */
  audience?: string | string[];
  /** Top-level claims to add or replace; `undefined` removes one. */
  claims?: Record<string, unknown>;
  /** Members of the `kubernetes.io` block to add or replace; `undefined` removes one. */
  kubernetes?: Record<string, unknown>;
  alg?: 'RS256' | 'ES256';
  /** The API server sets none. */
  typ?: string;
  /** Sign with a key the JWKS does not hold, under the published kid. */
  foreignKey?: boolean;
  /** Default 600 s, the TokenRequest minimum. */
  lifetimeSeconds?: number;
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
}

/** A pod `agents/planner-7d9f8c6b5-x2kqz` on node `worker-1`, service account `planner`. */
export const WORKLOAD = {
  namespace: 'agents',
  serviceaccount: { name: 'planner', uid: randomUUID() },
  pod: { name: 'planner-7d9f8c6b5-x2kqz', uid: randomUUID() },
  node: { name: 'worker-1', uid: randomUUID() },
} as const;

/**
 * @example
 * const cluster = await createClusterSigner('https://kubernetes.default.svc.cluster.local', () => Date.now());
 * const token = await cluster.sign({ audience: binding.expectedAudience });
 */
export async function createClusterSigner(issuer: string, clock: () => number = Date.now): Promise<ClusterSigner> {
  const keys = { RS256: await makeKey('RS256'), ES256: await makeKey('ES256') };
  const jwks = { keys: await Promise.all(Object.entries(keys).map(([alg, key]) => publicJwk(alg, key))) };
  return {
    issuer,
    jwks,
    async sign(options = {}) {
      const alg = options.alg ?? 'RS256';
      const key = options.foreignKey ? { kid: keys[alg].kid, privateKey: (await makeKey(alg)).privateKey } : keys[alg];
      const payload = tokenClaims(issuer, Math.floor(clock() / 1000), options);
      const header = options.typ === undefined ? { alg, kid: key.kid } : { alg, kid: key.kid, typ: options.typ };
      return new SignJWT(payload).setProtectedHeader(header).sign(key.privateKey);
    },
  };
}

function tokenClaims(issuer: string, now: number, options: TokenOptions): Record<string, unknown> {
  const kubernetes = withoutUndefined({ ...structuredClone(WORKLOAD), ...options.kubernetes });
  const audience = options.audience ?? issuer;
  const lifetime = options.lifetimeSeconds ?? 600;
  return withoutUndefined({
    aud: Array.isArray(audience) ? audience : [audience],
    exp: now + lifetime,
    iat: now,
    iss: issuer,
    jti: randomUUID(),
    'kubernetes.io': kubernetes,
    nbf: now,
    sub: `system:serviceaccount:${String(kubernetes.namespace)}:${String((kubernetes.serviceaccount as { name?: unknown } | undefined)?.name)}`,
    ...options.claims,
  });
}

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

/** kube-apiserver names a key by base64url(SHA-256(DER of the public key)). */
async function makeKey(alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const spki = Buffer.from(await globalThis.crypto.subtle.exportKey('spki', publicKey));
  return { kid: createHash('sha256').update(spki).digest('base64url'), privateKey };
}

async function publicJwk(alg: string, key: SigningKey) {
  const { kty, n, e, crv, x, y } = await exportJWK(key.privateKey);
  return withoutUndefined({ use: 'sig', kty, kid: key.kid, alg, n, e, crv, x, y });
}
