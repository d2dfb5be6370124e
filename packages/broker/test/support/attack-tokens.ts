import { createHmac, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compactVerify, createLocalJWKSet, EmbeddedJWK, jwtVerify, type JSONWebKeySet, type JWK } from 'jose';

/**
 * The JWS-level attack catalogue (RFC 8725, issue #11 item 1) as data: each attack turns a genuine
 * token's header and payload into a hostile compact JWS. Used against the broker's JWS entry points
 * (test/attack-catalogue*.test.ts) and the SDK verifier (packages/sdk/test/attack-catalogue.test.ts),
 * and each time also against jose with the same key and allow-list, so the two implementations'
 * decisions are compared. Only node:crypto and jose: no broker code, so the SDK tests can use it.
 */

/** The allow-list every Mandate verifier uses (PROTOCOL §6/§7). */
export const ALGS = ['ES256', 'EdDSA'];

export const b64 = (value: string | Buffer): string => Buffer.from(value).toString('base64url');
const segment = (value: unknown) => b64(JSON.stringify(value));

/** ES256 (r ‖ s) or Ed25519 signature over `input`, base64url. */
export function signInput(input: string, key: KeyObject): string {
  const data = Buffer.from(input, 'latin1');
  const signature = key.asymmetricKeyType === 'ed25519' ? sign(null, data, key) : sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
  return b64(signature);
}

/** A compact JWS over already-encoded segments, signed as written (so a lenient parser reaches the signature check). */
export function signSegments(headerSegment: string, payloadSegment: string, key: KeyObject): string {
  const input = `${headerSegment}.${payloadSegment}`;
  return `${input}.${signInput(input, key)}`;
}

/** A compact JWS of JSON header and payload. */
export function signJws(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
  return signSegments(segment(header), segment(payload), key);
}

/** RFC 4648 §4 padding added to a canonical segment (the form RFC 7515 §2 forbids). */
const padded = (value: string) => value + '='.repeat((4 - (value.length % 4)) % 4);

/**
 * A header segment that needs padding, padded: when the JSON's base64url length is a multiple of 4
 * there is nothing to pad, so insignificant JSON whitespace is added until there is.
 */
function paddedHeader(header: Record<string, unknown>): string {
  let text = JSON.stringify(header);
  while (b64(text).length % 4 === 0) text += ' ';
  return padded(b64(text));
}

const ED25519_ATTACKER = generateKeyPairSync('ed25519');

/** What a genuine token of one kind looks like, and the key that legitimately signs it. */
export interface AttackBase {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** The legitimate signer (the broker key, the agent key, the DPoP key). */
  signer: KeyObject;
  /** Its public half: the "public key bytes" of algorithm confusion. */
  publicKey: KeyObject;
  /** An attacker's own key pair (P-256) and public JWK. */
  attacker: { privateKey: KeyObject; publicJwk: JWK };
  /** Where `jku` / `x5u` point: a loopback server that counts requests (never to be fetched). */
  fetchTrap: string;
}

export interface JwsAttack {
  id: string;
  title: string;
  token: string;
}

/** A header written as text, so a member can appear twice (RFC 7515 §5.2 lets a parser refuse it). */
function headerText(header: Record<string, unknown>, extra: string): string {
  return b64(`${JSON.stringify(header).slice(0, -1)},${extra}}`);
}

/** Every JWS-level attack on one genuine token. Ids are stable: tables of expected errors key on them. */
export function jwsAttacks(base: AttackBase): JwsAttack[] {
  const { header, payload, signer, publicKey, attacker, fetchTrap } = base;
  const bodySegment = segment(payload);
  const pem = publicKey.export({ type: 'spki', format: 'pem' });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const hmac = (h: Record<string, unknown>, secret: string | Buffer) => {
    const input = `${segment(h)}.${bodySegment}`;
    return `${input}.${b64(createHmac('sha256', secret).update(input).digest())}`;
  };
  const byAttacker = (h: Record<string, unknown>) => signJws({ ...h, alg: 'ES256' }, payload, attacker.privateKey);
  const genuine = signJws(header, payload, signer);
  const [h, p, s] = genuine.split('.') as [string, string, string];
  const attacks: Array<[string, string, string]> = [
    ['alg-none', 'alg none, no signature', `${segment({ ...header, alg: 'none' })}.${bodySegment}.`],
    ['alg-none-mixed-case', 'alg "nOnE", no signature', `${segment({ ...header, alg: 'nOnE' })}.${bodySegment}.`],
    ['hs256-public-pem', 'HS256 with the public key PEM as the HMAC secret (algorithm confusion)', hmac({ ...header, alg: 'HS256' }, pem)],
    ['hs256-public-der', 'HS256 with the public key DER bytes as the HMAC secret', hmac({ ...header, alg: 'HS256' }, der)],
    ['unknown-kid', 'signed by an attacker key under a kid nobody published', byAttacker({ ...header, kid: 'attacker-kid' })],
    ['jku', 'jku to an attacker JWKS, attacker kid', byAttacker({ ...header, kid: 'attacker-kid', jku: `${fetchTrap}/jwks` })],
    ['jku-known-kid', 'jku to an attacker JWKS, the genuine kid', byAttacker({ ...header, jku: `${fetchTrap}/jwks` })],
    ['x5u', 'x5u to an attacker certificate URL', byAttacker({ ...header, kid: 'attacker-kid', x5u: `${fetchTrap}/cert.pem` })],
    ['embedded-jwk', 'the attacker public jwk embedded in the header', byAttacker({ ...header, jwk: attacker.publicJwk })],
    ['crit-unknown', 'crit naming an extension nobody understands, genuinely signed', signJws({ ...header, crit: ['urn:example:attack'], 'urn:example:attack': true }, payload, signer)],
    ['b64-false-crit', 'b64 false in crit (RFC 7797: payload read as raw bytes), genuinely signed', signJws({ ...header, b64: false, crit: ['b64'] }, payload, signer)],
    ['b64-false', 'b64 false outside crit, genuinely signed', signJws({ ...header, b64: false }, payload, signer)],
    ['padded-header', 'header segment with = padding, signed as written', signSegments(paddedHeader(header), p, signer)],
    ['padded-signature', 'signature segment with = padding', `${h}.${p}.${padded(s)}`],
    ['duplicate-alg-none-last', 'alg twice, none last, genuinely signed', signSegments(headerText(header, '"alg":"none"'), p, signer)],
    ['duplicate-alg-none-first', 'alg twice, none first then the real alg, genuinely signed', signSegments(b64(`{"alg":"none",${JSON.stringify(header).slice(1)}`), p, signer)],
    // RFC 8725 §3.1: the key decides the algorithm, never the header.
    ['alg-swap-eddsa', 'alg EdDSA under the genuine (P-256) kid, signed by an attacker Ed25519 key', signJws({ ...header, alg: 'EdDSA' }, payload, ED25519_ATTACKER.privateKey)],
    ['kid-injection', 'a kid written as a path and SQL, attacker-signed', byAttacker({ ...header, kid: "../../../../dev/null' OR '1'='1" })],
    ['signature-stripped', 'the genuine header and payload with an empty signature', `${h}.${p}.`],
    // CVE-2022-21449 ("psychic signatures"): r = s = 0 must never verify.
    ['psychic-signature', 'an ECDSA signature of 64 zero bytes', `${h}.${p}.${b64(Buffer.alloc(64))}`],
  ];
  return attacks.map(([id, title, token]) => ({ id, title, token }));
}

/** Which typ the genuine kind carries, swapped for another: typ confusion at the JWS level. */
export function typSwapped(base: AttackBase, typ: string | undefined): string {
  const { typ: _typ, ...rest } = base.header;
  return signJws(typ === undefined ? rest : { ...rest, typ }, base.payload, base.signer);
}

/** A loopback HTTP server that answers 404 and counts every request: jku/x5u must never reach it. */
export interface FetchTrap {
  url: string;
  hits(): number;
  close(): Promise<void>;
}

export async function startFetchTrap(): Promise<FetchTrap> {
  let hits = 0;
  const server: Server = createServer((_req, res) => {
    hits += 1;
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** jose's decision on a JWT: 'accepted' or its error code (jwtVerify with the allow-list and expectations). */
export async function joseJwtDecision(token: string, keys: JSONWebKeySet | KeyObject, options: { typ?: string; issuer?: string; audience?: string; currentDate?: Date } = {}): Promise<string> {
  const key = 'keys' in keys ? createLocalJWKSet(keys) : keys;
  try {
    await jwtVerify(token, key as Parameters<typeof jwtVerify>[1], { algorithms: ALGS, clockTolerance: 0, ...options });
    return 'accepted';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

/** jose's decision on a DPoP-style JWS whose key is its own embedded `jwk` (compactVerify + EmbeddedJWK). */
export async function joseEmbeddedDecision(token: string): Promise<string> {
  try {
    await compactVerify(token, EmbeddedJWK, { algorithms: ALGS });
    return 'accepted';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

/** A public KeyObject's JWK without private members. */
export function publicJwkOf(key: KeyObject): JWK {
  const { kty, crv, x, y } = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'jwk' }) as JWK;
  return y === undefined ? { kty, crv, x } : { kty, crv, x, y };
}
