/**
 * Agent-side helpers for the `spiffe-jwt-svid` attestor: get a SPIFFE JWT-SVID to send as
 * evidence. The audience is the one `evidenceAudience(nonce, jkt)` derives (PROTOCOL §3); this
 * module does not derive it again.
 *
 * @module
 */
import { execFile } from 'node:child_process';
import { open } from 'node:fs/promises';
import { decodeJwt } from 'jose';
import { MandateSdkError } from '../errors.ts';

/**
 * A JWT-SVID could not be read or fetched, or what was found is not a JWT-SVID. The message never
 * carries the token.
 *
 * @example
 * ```ts
 * await readJwtSvid('/run/spiffe/jwt_svid.token').catch((error) => {
 *   if (error.code === EvidenceSourceError.code) console.error(error.message);
 * });
 * ```
 */
export class EvidenceSourceError extends MandateSdkError {
  static override code = 'ERR_SDK_EVIDENCE_SOURCE';
  override code = 'ERR_SDK_EVIDENCE_SOURCE';
}

/** The broker refuses longer evidence tokens. */
export const MAX_JWT_SVID_BYTES = 16_384;
/** JWT-SVID §5.1: JWS compact serialization, three non-empty base64url parts. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export interface ReadJwtSvidOptions {
  /** Largest file accepted, in bytes (default 16 KiB). */
  maxBytes?: number;
}

/**
 * Reads a JWT-SVID from a file, e.g. the `jwt_svid_file_name` that spiffe-helper keeps current.
 * Surrounding whitespace is trimmed. Such a file has the fixed audience set in the helper's
 * config, so the broker takes it only with `allowFixedAudience`, as `warning`; for a token bound
 * to the challenge, use {@link fetchJwtSvid}.
 *
 * @example
 * ```ts
 * const agent = createAgentClient({ ...options,
 *   evidence: async () => [{ attestor: 'spiffe-jwt-svid', evidence: await readJwtSvid('/run/spiffe/jwt_svid.token') }],
 * });
 * ```
 */
export async function readJwtSvid(path: string, options: ReadJwtSvidOptions = {}): Promise<string> {
  const maxBytes = options.maxBytes ?? MAX_JWT_SVID_BYTES;
  const file = await open(path, 'r').catch((error: Error) => {
    throw new EvidenceSourceError(`the JWT-SVID file ${path} could not be opened: ${error.message}`);
  });
  try {
    const { bytesRead, buffer } = await file.read(Buffer.alloc(maxBytes + 1), 0, maxBytes + 1, 0);
    if (bytesRead > maxBytes) throw new EvidenceSourceError(`the JWT-SVID file ${path} is larger than ${maxBytes} bytes`);
    return checkJwtSvid(buffer.subarray(0, bytesRead).toString('utf8').trim(), path);
  } finally {
    await file.close();
  }
}

export interface FetchJwtSvidOptions {
  /** The SPIRE agent binary (default `spire-agent` on the PATH). */
  command?: string;
  /** The Workload API socket (spire-agent's `-socketPath`); default the agent's own. */
  socketPath?: string;
  /** Default 10 s. */
  timeoutMs?: number;
}

/**
 * Fetches a JWT-SVID for `audience` from the SPIFFE Workload API through
 * `spire-agent api fetch jwt -output json` (no shell is involved). Pass the audience of the
 * evidence binding, so the broker affirms the token as bound to this challenge and DPoP key.
 *
 * @example
 * ```ts
 * const agent = createAgentClient({ ...options,
 *   evidence: async ({ audience }) => [{ attestor: 'spiffe-jwt-svid', evidence: await fetchJwtSvid(audience, { socketPath: '/run/spire/agent.sock' }) }],
 * });
 * ```
 */
export async function fetchJwtSvid(audience: string, options: FetchJwtSvidOptions = {}): Promise<string> {
  // spire-agent splits -audience at commas; a bound audience (base64url) never has one.
  if (typeof audience !== 'string' || audience === '' || audience.includes(',')) throw new EvidenceSourceError('audience must be one non-empty value without commas');
  const args = ['api', 'fetch', 'jwt', '-audience', audience, '-output', 'json', ...(options.socketPath ? ['-socketPath', options.socketPath] : [])];
  const stdout = await run(options.command ?? 'spire-agent', args, options.timeoutMs ?? 10_000);
  return checkJwtSvid(firstSvid(stdout), 'spire-agent');
}

function run(command: string, args: string[], timeout: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout, maxBuffer: 1_048_576, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new EvidenceSourceError(`${command} api fetch jwt failed: ${String(stderr || error.message).trim().slice(0, 200)}`));
      else resolve(stdout);
    });
  });
}

/** `-output json` prints `[FetchJWTSVIDResponse, bundles]`; the SVID is `svids[0].svid` of the first. */
function firstSvid(stdout: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new EvidenceSourceError('spire-agent did not print JSON');
  }
  const first = Array.isArray(parsed) ? (parsed[0] as { svids?: { svid?: unknown }[] } | undefined) : undefined;
  const svid = first?.svids?.[0]?.svid;
  if (typeof svid !== 'string') throw new EvidenceSourceError('spire-agent printed no JWT-SVID');
  return svid;
}

/** A compact JWS whose `sub` is a SPIFFE ID: catches a wrong file early, before a broker round trip. */
function checkJwtSvid(token: string, source: string): string {
  if (token.length > MAX_JWT_SVID_BYTES || !COMPACT_JWS.test(token)) throw new EvidenceSourceError(`${source} does not hold a JWT-SVID (JWS compact serialization)`);
  let sub: unknown;
  try {
    sub = decodeJwt(token).sub;
  } catch {
    throw new EvidenceSourceError(`${source} does not hold a JWT-SVID (undecodable claims)`);
  }
  if (typeof sub !== 'string' || !sub.startsWith('spiffe://')) throw new EvidenceSourceError(`${source} holds a JWT whose sub is not a SPIFFE ID`);
  return token;
}
