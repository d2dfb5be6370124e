// Test fixtures made at test time with jose: an issuer key set, agent DPoP keys, tokens and proofs.
import { base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { createHash, randomUUID } from 'node:crypto';

export const ISSUER = 'http://localhost:7420';
export const AUDIENCE = 'https://api.example.com';
export const PUBLIC_URL = 'https://api.example.com';
export const AGENT = 'agt_test';
export const HUMAN = 'usr_alice';

export interface TestKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
  jkt: string;
  alg: 'ES256' | 'EdDSA';
}

export async function makeKey(alg: 'ES256' | 'EdDSA' = 'ES256', kid?: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const jkt = await calculateJwkThumbprint(publicJwk);
  if (kid) Object.assign(publicJwk, { kid, alg, use: 'sig' });
  return { privateKey, publicKey, publicJwk, jkt, alg };
}

export function ath(token: string): string {
  return base64url.encode(createHash('sha256').update(token).digest());
}

export function delegatedClaims(nowSeconds: number, jkt: string, overrides: Record<string, unknown> = {}): JWTPayload {
  return {
    iss: ISSUER,
    sub: HUMAN,
    aud: AUDIENCE,
    client_id: AGENT,
    act: { sub: AGENT, sub_profile: 'ai_agent' },
    authorization_details: [
      {
        type: 'agent-task',
        purpose: 'triage issues',
        locations: [AUDIENCE],
        actions: ['issues:read', 'issues:comment'],
        datatypes: ['issue'],
        identifier: 'acme/agent',
        constraints: { notAfter: nowSeconds + 3600 },
        delegation: { id: 'mdt_1', approved_by: HUMAN, approved_at: nowSeconds - 60, method: 'passkey', task_s256: 'x' },
      },
    ],
    cnf: { jkt },
    'urn:mandate:attestation': { status: 'affirming', iat: nowSeconds - 10, attestors: {}, ref: 'att_1', evidence_digest: 'sha256:00' },
    iat: nowSeconds,
    nbf: nowSeconds,
    exp: nowSeconds + 300,
    jti: randomUUID(),
    ...overrides,
  };
}

export async function signToken(key: TestKey, kid: string, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, typ: 'at+jwt', kid, ...header }).sign(key.privateKey);
}

export interface ProofInput {
  htm?: string;
  htu?: string;
  iat: number;
  token?: string;
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
  signWith?: CryptoKey;
}

export async function signProof(key: TestKey, input: ProofInput): Promise<string> {
  const payload: Record<string, unknown> = {
    jti: randomUUID(),
    htm: input.htm ?? 'GET',
    htu: input.htu ?? `${PUBLIC_URL}/items`,
    iat: input.iat,
    ...(input.token ? { ath: ath(input.token) } : {}),
    ...input.claims,
  };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, typ: 'dpop+jwt', jwk: key.publicJwk, ...input.header })
    .sign(input.signWith ?? key.privateKey);
}

/** Request parts with `Authorization: DPoP <token>` and a fresh proof for GET /items. */
export async function dpopRequest(key: TestKey, token: string, iat: number, proof: Partial<ProofInput> = {}) {
  return {
    method: proof.htm ?? 'GET',
    url: '/items',
    headers: { authorization: `DPoP ${token}`, dpop: await signProof(key, { iat, token, ...proof }) },
  };
}
