/**
 * The peer cases: panva `oidc-provider` (bench/peer-oidc-provider.ts, its own process pinned to
 * CPU 0, NODE_ENV=production) minting `client_credentials` JWT access tokens (ES256) for a client
 * authenticating with `private_key_jwt` (ES256), with and without DPoP. The load is the same as the
 * attested mint's (bench/http-load.ts): closed loop, 50 in flight, a fresh client assertion (unique
 * jti) and, in the DPoP case, a fresh DPoP proof per request (no nonce). The first token of every
 * run is verified with jose `jwtVerify` against the peer's JWKS (and its `cnf.jkt` in the DPoP case).
 */
import { KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { CONCURRENCY, closedLoopHttp, signEs256, startPinned, stopChild, type HttpCaseResult } from './http-load.ts';
import type { Plan } from './measure.ts';

const AUDIENCE = 'https://api.example.com';
const CLIENT_ID = 'bench-client';
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export async function oidcProviderClientCredentials(plan: Plan, port: number, dpop: boolean): Promise<HttpCaseResult & { version: string }> {
  const client = await generateKeyPair('ES256', { extractable: true });
  const dpopPair = await generateKeyPair('ES256', { extractable: true });
  const clientKey = KeyObject.from(client.privateKey);
  const dpopKey = KeyObject.from(dpopPair.privateKey);
  const dpopJwk = await exportJWK(dpopPair.publicKey);
  const jkt = await calculateJwkThumbprint(dpopJwk);
  const script = new URL('./peer-oidc-provider.ts', import.meta.url).pathname;
  const child = await startPinned(['--import', 'tsx', script, String(port), dpop ? 'on' : 'off', JSON.stringify(await exportJWK(client.publicKey))], 'peer listening', { ...process.env, NODE_ENV: 'production' });
  const issuer = `http://127.0.0.1:${port}`;
  const tokenUrl = `${issuer}/token`;
  try {
    const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
    let counter = 0;
    const send = () => {
      const now = Math.floor(Date.now() / 1000);
      const jti = `${process.pid}-${dpop ? 'd' : 'c'}-${++counter}`;
      const assertion = signEs256({ typ: 'JWT' }, { iss: CLIENT_ID, sub: CLIENT_ID, aud: issuer, iat: now, exp: now + 30, jti }, clientKey);
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      if (dpop) headers.dpop = signEs256({ typ: 'dpop+jwt', jwk: dpopJwk }, { jti: `${jti}-dpop`, htm: 'POST', htu: tokenUrl, iat: now }, dpopKey);
      const body = new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion, scope: 'read', resource: AUDIENCE });
      return fetch(tokenUrl, { method: 'POST', headers, body });
    };
    const checkSample = async (text: string) => {
      const body = JSON.parse(text) as { access_token: string; token_type: string };
      const { payload } = await jwtVerify(body.access_token, jwks, { issuer, audience: AUDIENCE, typ: 'at+jwt', algorithms: ['ES256'] });
      if (payload.client_id !== CLIENT_ID) throw new Error(`peer token for ${String(payload.client_id)}`);
      const bound = (payload.cnf as { jkt?: string } | undefined)?.jkt;
      if (dpop ? body.token_type !== 'DPoP' || bound !== jkt : body.token_type !== 'Bearer' || bound !== undefined) {
        throw new Error(`peer token binding: token_type ${body.token_type}, cnf.jkt ${bound}`);
      }
    };
    const result = await closedLoopHttp({
      name: `oidc-provider client_credentials${dpop ? ' + DPoP' : ''}, JWT AT ES256 (${CONCURRENCY} in flight)`, unit: 'tokens/s', plan, pid: child.pid!, send, checkSample,
    });
    return { ...result, version: (await import('oidc-provider/package.json', { with: { type: 'json' } })).default.version };
  } finally {
    await stopChild(child);
  }
}
