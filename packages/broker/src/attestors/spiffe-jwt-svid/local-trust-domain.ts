import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/**
 * Test and benchmark support: a SPIFFE trust domain with its own JWT authorities, publishing its
 * bundle as JSON (for a file) and, on request, on a bundle endpoint on 127.0.0.1, and minting
 * JWT-SVIDs shaped like SPIRE's. Everything is generated at run time; nothing is pasted.
 */
export interface LocalTrustDomain {
  trustDomain: string;
  /** The current bundle (SPIFFE JWK set). */
  bundle(): Record<string, unknown>;
  /** Starts the bundle endpoint (once) and returns its URL. */
  serve(): Promise<string>;
  /** How often the endpoint was fetched (proves caching). */
  readonly fetches: number;
  /** While true, the endpoint answers 500. */
  failing: boolean;
  /** Adds a new ES256 authority (new kid, next sequence) and signs with it from then on. */
  rotate(): Promise<void>;
  sign(claims?: Record<string, unknown>, options?: SvidOptions): Promise<string>;
  close(): Promise<void>;
}

export interface SvidOptions {
  alg?: 'ES256' | 'RS256';
  /** `null` leaves the header member out. */
  typ?: string | null;
  kid?: string | null;
  /** Sign with a fresh key under the published kid (a forgery). */
  foreignKey?: boolean;
  /** Sign with the key the bundle publishes for X.509-SVIDs. */
  x509Authority?: boolean;
}

interface Authority {
  kid: string;
  alg: 'ES256' | 'RS256';
  privateKey: CryptoKey;
  jwk: JWK;
}

/** The SPIFFE ID the local trust domain issues by default. */
export const AGENT_PATH = '/ns/agents/sa/triage';

export async function startLocalTrustDomain(trustDomain = 'prod.acme.internal', clock: () => number = Date.now): Promise<LocalTrustDomain> {
  const authorities = { ES256: await makeAuthority('ES256', 'jwt-svid'), RS256: await makeAuthority('RS256', 'jwt-svid'), x509: await makeAuthority('ES256', 'x509-svid') };
  const state = { sequence: 1, fetches: 0, failing: false, extra: [] as Authority[], server: null as Server | null, url: '' };
  const bundle = () => ({ keys: [authorities.ES256, authorities.RS256, authorities.x509, ...state.extra].map((a) => a.jwk), spiffe_sequence: state.sequence, spiffe_refresh_hint: 300 });
  return {
    trustDomain,
    bundle,
    serve: async () => (state.url ||= await listen(state, bundle)),
    get fetches() {
      return state.fetches;
    },
    get failing() {
      return state.failing;
    },
    set failing(value: boolean) {
      state.failing = value;
    },
    async rotate() {
      authorities.ES256 = await makeAuthority('ES256', 'jwt-svid');
      state.extra.push(authorities.ES256);
      state.sequence += 1;
    },
    async sign(claims = {}, options = {}) {
      const authority = options.x509Authority ? authorities.x509 : authorities[options.alg ?? 'ES256'];
      const privateKey = options.foreignKey ? (await makeAuthority(authority.alg, 'jwt-svid')).privateKey : authority.privateKey;
      const now = Math.floor(clock() / 1000);
      const payload: Record<string, unknown> = { sub: `spiffe://${trustDomain}${AGENT_PATH}`, iat: now, exp: now + 300, jti: randomUUID(), ...claims };
      for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
      const header = { alg: authority.alg, kid: options.kid === undefined ? authority.kid : options.kid, typ: options.typ === undefined ? 'JWT' : options.typ };
      return new SignJWT(payload).setProtectedHeader(withoutNulls(header)).sign(privateKey);
    },
    close: () => closeServer(state.server),
  };
}


async function makeAuthority(alg: 'ES256' | 'RS256', use: string): Promise<Authority> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const kid = randomBytes(16).toString('base64url');
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, use } };
}

function withoutNulls(header: Record<string, unknown>): { alg: string } {
  return Object.fromEntries(Object.entries(header).filter(([, value]) => value !== null)) as { alg: string };
}

async function listen(state: { fetches: number; failing: boolean; server: Server | null }, bundle: () => unknown): Promise<string> {
  const server = createServer((req, res) => {
    const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (state.failing) return send(500, { error: 'down' });
    if (req.url !== '/bundle') return send(404, { error: 'not found' });
    state.fetches += 1;
    return send(200, bundle());
  });
  state.server = server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/bundle`;
}

function closeServer(server: Server | null): Promise<void> {
  if (server === null) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
