import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JSONWebKeySet } from 'jose';

/**
 * Test support: a real OpenID issuer on 127.0.0.1 with its own keys, serving discovery metadata
 * and a JWKS, minting tokens shaped like GitHub Actions ID tokens. Everything is generated at run
 * time; nothing is pasted.
 */
export interface LocalIssuer {
  issuer: string;
  jwksUri: string;
  jwks: JSONWebKeySet;
  /** How often each document was fetched (proves caching). */
  fetches: { discovery: number; jwks: number };
  /** While true, every request is answered 500. */
  failing: boolean;
  sign(claims?: Record<string, unknown>, options?: SignOptions): Promise<string>;
  close(): Promise<void>;
}

export interface SignOptions {
  alg?: 'RS256' | 'ES256';
  typ?: string;
  /** Sign with a key the JWKS does not hold (under the published kid). */
  foreignKey?: boolean;
}

interface IssuerKey {
  kid: string;
  privateKey: CryptoKey;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** Claims as GitHub Actions issues them for a push to main calling a reusable workflow pinned by sha. */
export function githubActionsClaims(issuer: string, nowSeconds: number): Record<string, unknown> {
  const sha = hex(20);
  return {
    jti: randomUUID(),
    sub: 'repo:acme/agent:ref:refs/heads/main',
    ref: 'refs/heads/main',
    sha,
    repository: 'acme/agent',
    repository_owner: 'acme',
    repository_owner_id: '4242001',
    repository_id: '731337001',
    repository_visibility: 'private',
    run_id: '9876543210',
    run_number: '17',
    run_attempt: '1',
    actor: 'octocat',
    actor_id: '583231',
    workflow: 'deploy-agent',
    event_name: 'push',
    ref_type: 'branch',
    workflow_ref: 'acme/agent/.github/workflows/deploy.yml@refs/heads/main',
    workflow_sha: sha,
    job_workflow_ref: `acme/workflows/.github/workflows/agent.yml@${hex(20)}`,
    runner_environment: 'github-hosted',
    iss: issuer,
    nbf: nowSeconds - 5,
    iat: nowSeconds,
    exp: nowSeconds + 300,
  };
}

export async function startLocalIssuer(clock: () => number = Date.now): Promise<LocalIssuer> {
  const keys = { RS256: await makeKey('RS256'), ES256: await makeKey('ES256') };
  const jwks: JSONWebKeySet = { keys: await Promise.all(Object.entries(keys).map(([alg, k]) => publicJwk(alg, k))) };
  const state = { failing: false, fetches: { discovery: 0, jwks: 0 } };
  let base = '';
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (state.failing) return send(500, { error: 'down' });
    if (req.url === '/.well-known/openid-configuration') {
      state.fetches.discovery += 1;
      return send(200, { issuer: base, jwks_uri: `${base}/jwks`, id_token_signing_alg_values_supported: ['RS256', 'ES256'] });
    }
    if (req.url === '/jwks') {
      state.fetches.jwks += 1;
      return send(200, jwks);
    }
    return send(404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer: base,
    jwksUri: `${base}/jwks`,
    jwks,
    fetches: state.fetches,
    get failing() {
      return state.failing;
    },
    set failing(value: boolean) {
      state.failing = value;
    },
    async sign(claims = {}, options = {}) {
      const alg = options.alg ?? 'RS256';
      const key = options.foreignKey ? { kid: keys[alg].kid, privateKey: (await makeKey(alg)).privateKey } : keys[alg];
      const payload = { ...githubActionsClaims(base, Math.floor(clock() / 1000)), ...claims };
      for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
      return new SignJWT(payload).setProtectedHeader({ alg, kid: key.kid, typ: options.typ ?? 'JWT' }).sign(key.privateKey);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function makeKey(alg: 'RS256' | 'ES256'): Promise<IssuerKey> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return { kid: `${alg.toLowerCase()}-${hex(4)}`, privateKey };
}

async function publicJwk(alg: string, key: IssuerKey) {
  const { d, p, q, dp, dq, qi, ...publicMembers } = await exportJWK(key.privateKey);
  void [d, p, q, dp, dq, qi];
  return { ...publicMembers, kid: key.kid, alg, use: 'sig' };
}
